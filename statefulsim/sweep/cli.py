"""What ``statefulsim sweep`` does, kept here so the command in statefulsim.cli stays thin."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Sequence

from statefulsim.sweep.driver import run_sweep
from statefulsim.sweep.figures import check_plot_kind, plot_sweep
from statefulsim.sweep.grid import parse_axis
from statefulsim.sweep.statistics import SweepResult
from statefulsim.sweep.table import render_table, write_csv

if TYPE_CHECKING:
    from rich.console import Console


def default_state_path(out: str | None) -> str | None:
    """``results.csv`` → ``results.jsonl`` (None without a CSV)."""
    if out is None:
        return None
    return os.path.splitext(out)[0] + ".jsonl"


class SweepCli:
    """What ``statefulsim sweep`` does, kept here so the command in cli.py stays thin."""

    def __init__(self, console: Console, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet

    def run(self, scenario: str, *, runs: int, seed_start: int, sets: Sequence[str], workers: int | None,
            quorum: int | None, statefulset: str | None, out: str | None, state: str | None,
            plot: str | None, executor: str = "local", scheduler: str | None = None,
            connect_timeout: float = 10.0, batch: int | None = None, plot_kind: str = "box",
            plugins: Sequence[str] = (), allow_large: bool = False) -> SweepResult:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
        from rich.text import Text

        if plot is not None:
            from statefulsim.present.plots import check_format

            check_format(plot)  # an unknown suffix fails before the runs
            check_plot_kind(plot_kind)
        axes = [parse_axis(s) for s in sets]
        state = state if state is not None else default_state_path(out)
        progress = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                            console=self.console, disable=self.quiet or not self.console.is_terminal,
                            transient=True)
        task = progress.add_task("sweep", total=None)

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        where: list[str] = []

        def notice(text: str) -> None:
            where.append(text)
            if not self.quiet and executor != "local":  # starting or reaching a cluster takes a while: say so
                progress.console.print(Text(f"sweep: runs {text}", style="dim"))

        with progress:
            result = run_sweep(scenario, runs=runs, seed_start=seed_start, axes=axes, quorum=quorum,
                               statefulset=statefulset, workers=workers, state=state, progress=report,
                               executor=executor, scheduler=scheduler, connect_timeout=connect_timeout,
                               batch=batch, notice=notice, plugins=plugins, allow_large=allow_large)
        if out is not None:
            write_csv(result, out)
        if plot is not None:
            plot_sweep(result, plot, quorum=quorum, kind=plot_kind)
        if not self.quiet:
            render_table(result, self.console, quorum=quorum)
            reused = len(result.runs) - result.executed
            notes = [f"{result.executed} runs done" + (f" {where[0]}" if where else "")
                     + (f", {reused} reused from {state}" if reused else "")]
            if out is not None:
                notes.append(f"csv: {out}")
            if state is not None:
                notes.append(f"state: {state}")
            if plot is not None:
                notes.append(f"plot: {plot}")
            self.console.print(Text("; ".join(notes), style="dim"))
        return result
