"""Never print a control character raw: names and messages from input files are data.

A StatefulSet named ``mysql\\x1b[2J`` would clear the terminal, a ``\\r`` rewrite the line, a
right-to-left override reorder it.  :func:`printable` escapes them (``\\x1b``, ``\\u202e``);
:class:`SanitizingHook` does it for everything a rich console prints, after layout, so rich's
own styling codes are untouched.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from rich.console import RenderHook
from rich.segment import Segment

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, ConsoleRenderable

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional formatting characters.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_OR_NEWLINE = re.compile(_CONTROL.pattern[:-1] + "\n\t]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return {9: "\\t", 10: "\\n", 13: "\\r"}.get(code) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str, *, newlines: bool = False) -> str:
    """``text`` with control characters escaped; newlines and tabs too unless ``newlines``."""
    pattern = _CONTROL if newlines else _CONTROL_OR_NEWLINE
    return pattern.sub(_escape, text) if pattern.search(text) else text


class _Sanitized:
    """A renderable whose text segments have their control characters escaped."""

    def __init__(self, renderable: ConsoleRenderable) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        for segment in console.render(self.renderable, options):
            if segment.control or not _CONTROL.search(segment.text):
                yield segment
            else:
                yield Segment(printable(segment.text, newlines=True), segment.style)


class SanitizingHook(RenderHook):
    """``console.push_render_hook(SanitizingHook())``: every print goes through :func:`printable`."""

    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        return [_Sanitized(r) for r in renderables]


__all__ = ["SanitizingHook", "printable"]
