"""Writing to the terminal: the Rich console, the progress line of a long run, plurals."""

from __future__ import annotations

import os
import sys
from typing import Callable

import click
from rich.console import Console

from statefulsim.durations import format_clock


class Progress:
    """A one-line "simulated HH:MM:SS of HH:MM:SS" on standard error for a run that takes more
    than a few seconds, when standard error is a terminal (never in a pipe, a log or a test)."""

    AFTER = 3.0  # seconds of wall time before the first line

    def __init__(self) -> None:
        import time

        self._clock: Callable[[], float] = time.monotonic
        self._start = self._clock()
        self._width = 0
        self._last = 0.0

    def __call__(self, now: float, until: float) -> None:
        wall = self._clock()
        if wall - self._start < self.AFTER or wall - self._last < 0.25:
            return
        self._last = wall
        percent = 100.0 * now / until if until > 0 else 100.0
        line = (f"simulated {format_clock(now)} of {format_clock(until)} ({percent:.0f}%), "
                f"{wall - self._start:.0f}s so far")
        click.echo("\r" + line.ljust(self._width), nl=False, err=True)
        self._width = len(line)

    def done(self) -> None:
        """Clear the line (the report follows on standard output)."""
        if self._width:
            click.echo("\r" + " " * self._width + "\r", nl=False, err=True)


def terminal_progress() -> Progress | None:
    return Progress() if sys.stderr.isatty() else None


def make_console(stderr: bool = False) -> Console:
    """Rich console on stdout (or stderr): the terminal's width, or 100 columns when the output is
    not a terminal.  Control characters in what it prints (names from input files) are escaped."""
    from statefulsim.present.printable import SanitizingHook

    console = Console(highlight=False, stderr=stderr)
    console.push_render_hook(SanitizingHook())
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 100
    return console
