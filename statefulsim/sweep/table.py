"""A sweep's summary as CSV and as a rich table."""

from __future__ import annotations

import csv
import io
import os
from typing import TYPE_CHECKING

from statefulsim.io.paths import parse_path
from statefulsim.sweep.grid import SweepError, value_text
from statefulsim.sweep.statistics import CONFIDENCE, PERCENTILES, SweepResult

if TYPE_CHECKING:
    from rich.console import Console


def _num(v: float | None) -> str:
    return "" if v is None else repr(v)


def csv_text(result: SweepResult, confidence: float = CONFIDENCE) -> str:
    """The summary as CSV: one row per grid point × metric; the grid paths are the first columns."""
    axes = list(result.points[0].point) if result.points else []
    header = axes + ["metric", "runs", "n", "mean"]
    for q in PERCENTILES:
        header += [f"p{q}", f"p{q}_lo", f"p{q}_hi"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for s in result.summaries(confidence):
        row = [value_text(s.point[a]) for a in axes] + [s.metric, str(s.runs), str(s.n), _num(s.mean)]
        for q in PERCENTILES:
            row += [_num(x) for x in s.percentiles[q]]
        w.writerow(row)
    return buf.getvalue()


def write_csv(result: SweepResult, path: str | os.PathLike[str]) -> None:
    """Write :func:`csv_text` to ``path`` atomically (a write cut short leaves the old file)."""
    from statefulsim.io.files import atomic_write_text

    try:
        atomic_write_text(path, csv_text(result))
    except OSError as e:
        raise SweepError(f"{os.fspath(path)}: cannot write the CSV file: {e.strerror or e}") from None


def _sec(v: float | None) -> str:
    return "–" if v is None else (f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}")


_SHORT = {"time_to_ready": "all ready", "rollout_duration": "rollout", "time_below_quorum": "below quorum"}


def render_table(result: SweepResult, console: Console, *, quorum: int | None = None) -> None:
    """The summary as a rich table: per grid point and metric, n and p50/p90/p99 in seconds with
    their 95 % confidence interval (– where the sample is too small for a bound)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    axes = list(result.points[0].point) if result.points else []
    shown = {m for m in result.metric_names() if any(result.values(p.index, m) for p in result.points)}
    shown.add("stuck")
    if quorum is None:
        shown.discard("time_below_quorum")
    caption = "; ".join(f"{parse_path(a)[-1][1]} = {a}" for a in axes if parse_path(a)[-1][1] != a)
    table = Table(title=f"{len(result.seeds)} seeds × {len(result.points)} grid point"
                        f"{'' if len(result.points) == 1 else 's'}; n: runs with a value; seconds: pXX [95% CI]",
                  title_justify="left",
                  caption=Text(caption) if caption else None, caption_justify="left", box=box.SIMPLE_HEAD)
    for a in axes:
        width = max(len(value_text(p.point[a])) for p in result.points)
        table.add_column(Text(parse_path(a)[-1][1]), min_width=width, overflow="fold")
    table.add_column("metric", min_width=12, overflow="fold")
    table.add_column("n", justify="right", no_wrap=True)
    for q in PERCENTILES:
        table.add_column(f"p{q}", justify="right", no_wrap=True)
    last = -1
    for s in result.summaries():
        if s.metric not in shown:
            continue
        first = s.point_index != last
        if first and last != -1:
            table.add_section()
        last = s.point_index
        cells = [Text(value_text(s.point[a]) if first else "") for a in axes]
        if s.metric == "stuck":
            stuck = int(round((s.mean or 0.0) * s.n))
            table.add_row(*cells, "stuck", str(s.n), f"{stuck} of {s.n} runs", "", "")
            continue
        stats = [f"{_sec(est)} [{_sec(lo)},{_sec(hi)}]" if est is not None else "–"
                 for est, lo, hi in (s.percentiles[q] for q in PERCENTILES)]
        table.add_row(*cells, Text(_SHORT.get(s.metric, s.metric.replace("dns_delay", "dns"))), str(s.n), *stats)
    console.print(table)
