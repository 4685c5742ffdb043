"""Printing invariant violations (``statefulsim run --check``)."""

from __future__ import annotations

from typing import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from statefulsim.analysis.invariants import Violation
from statefulsim.durations import format_clock


def violations_table(violations: Sequence[Violation], checked: Sequence[str]) -> Table:
    """A small table: time, invariant, objects, explanation."""
    title = (f"Invariants ({len(checked)} checked, "
             f"{len(violations)} violation{'' if len(violations) == 1 else 's'})")
    table = Table(title=title, title_justify="left", title_style="bold", box=None, padding=(0, 1),
                  pad_edge=False, header_style="bold dim")
    table.add_column("time", no_wrap=True, style="dim")
    table.add_column("invariant", no_wrap=True, style="red")
    table.add_column("objects")
    table.add_column("what is wrong", ratio=1)
    for v in violations:
        table.add_row(format_clock(v.t), v.invariant, ", ".join(v.objects), v.message)
    return table


def render_violations(console: Console, violations: Sequence[Violation], checked: Sequence[str], *,
                      quiet: bool = False) -> None:
    """The table when something is violated; one dim line listing what held otherwise."""
    if violations:
        console.print()
        console.print(violations_table(violations, checked))
    elif not quiet:
        names = ", ".join(checked) if checked else "none applied"
        console.print(Text(f"invariants: all {len(checked)} held ({names})", style="dim"))
