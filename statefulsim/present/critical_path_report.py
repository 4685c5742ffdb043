"""Printing a critical path (``statefulsim critical-path``, ``run --critical-path``) as plain text."""

from __future__ import annotations

from statefulsim.analysis.happens_before import CriticalPath, milestone_label
from statefulsim.durations import format_clock


def critical_path_text(path: CriticalPath) -> str:
    """The path as a plain-text table (one row per step: when the step ended, its wait, its kind,
    from which milestone to which), then the time per wait kind, which adds up to the total."""
    lines = [f"Critical path to {milestone_label(path.target)}: {path.total:.3f} s, "
             f"{format_clock(path.begin)} to {format_clock(path.end)}"]
    kind_width = max([len("kind")] + [len(s.kind) for s in path.steps])
    lines.append(f"  {'at':<12}  {'wait':>9}  {'kind':<{kind_width}}  step")
    lines.append(f"  {format_clock(path.begin):<12}  {'':>9}  {'':<{kind_width}}  {milestone_label(path.start)}")
    for s in path.steps:
        lines.append(f"  {format_clock(s.end):<12}  {s.duration:>8.3f}s  {s.kind:<{kind_width}}  "
                     f"→ {milestone_label(s.target)}")
    summary = path.by_kind()
    lines.append("")
    lines.append("Time by wait kind:")
    width = max([len("total")] + [len(w.kind) for w in summary])
    for w in summary:
        share = 100 * w.total / path.total if path.total > 0 else 0.0
        lines.append(f"  {w.kind:<{width}}  {w.count:>3}×  {w.total:>9.3f}s  {share:5.1f} %")
    lines.append(f"  {'total':<{width}}  {len(path.steps):>3}   {path.total:>9.3f}s")
    return "\n".join(lines)
