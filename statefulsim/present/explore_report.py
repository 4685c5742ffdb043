"""The output of ``statefulsim explore``: the findings as text and the replayable scenario files.

``render_explore`` prints invariant violations (each with the choices of its runs), deadlocks
(the state, why the set is stuck, the shortest path from the initial state, the replay file) and
the counts; ``write_replays`` writes, for each deadlock and each run with a violation, the
scenario with that run's choices applied.  See docs/explore.md, "Reading the report".
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from statefulsim.durations import format_clock
from statefulsim.explore import DEFAULT_MAX_RUNS, ExploreError, ExploreResult, explore, size_text

if TYPE_CHECKING:
    from rich.console import Console

    from statefulsim.analysis.invariants import Violation

#: At most this many distinct violations are printed (the rest are counted).
MAX_VIOLATIONS_SHOWN = 20


@dataclass
class Replays:
    """Files written by :func:`write_replays`: per deadlock number (1-based) and per run index."""

    deadlocks: dict[int, str] = field(default_factory=dict)
    runs: dict[int, str] = field(default_factory=dict)


def _header(result: ExploreResult, index: int, found: str) -> str:
    v = result.variants[index]
    lines = [f"Replay of run {index + 1} of {result.runs} of `statefulsim explore {result.scenario}`",
             f"choices: {v.label}", f"found: {found}", "run it with: statefulsim run THIS-FILE --check"]
    return "".join(f"# {line}\n" for line in lines)


def write_replays(result: ExploreResult, out_dir: str | os.PathLike[str]) -> Replays:
    """Write ``deadlock-K.yaml`` (the first run that ended in deadlock K) and ``violation-run-N.yaml``
    (run N, 1-based, had a violation) into ``out_dir`` (created if missing).  Each is a complete
    scenario: ``statefulsim run`` replays that run exactly.  Raises :class:`ExploreError`."""
    out = os.fspath(out_dir)
    replays = Replays()
    try:
        os.makedirs(out, exist_ok=True)
        for k, d in enumerate(result.deadlocks, 1):
            path = os.path.join(out, f"deadlock-{k}.yaml")
            found = f"deadlock {k}: " + ("; ".join(d.stuck) or "no converged state is reachable")
            _write(path, _header(result, d.example, found) + result.variants[d.example].text)
            replays.deadlocks[k] = path
        for run in sorted({f.run for f in result.violations}):
            path = os.path.join(out, f"violation-run-{run + 1}.yaml")
            found = "; ".join(sorted({f.violation.invariant for f in result.violations if f.run == run}))
            _write(path, _header(result, run, f"invariant violations: {found}") + result.variants[run].text)
            replays.runs[run] = path
    except OSError as e:
        raise ExploreError(f"{out}: cannot write the replay files: {e.strerror or e}") from None
    return replays


def _write(path: str, text: str) -> None:
    from statefulsim.io.files import atomic_write_text

    atomic_write_text(path, text)


def _runs_text(runs: list[int]) -> str:
    shown = ", ".join(str(r + 1) for r in runs[:12])
    return shown + (f", … ({len(runs)} in all)" if len(runs) > 12 else "")


def render_explore(result: ExploreResult, console: Console, replays: Replays | None = None,
                   *, quiet: bool = False) -> None:
    """Print the findings and the counts (``quiet``: only the findings' first lines and the counts)."""
    from rich.text import Text

    dims = size_text(result.spec.choices)
    if not quiet:
        console.print(Text(f"explore: {result.scenario}: {result.runs} run{'' if result.runs == 1 else 's'}"
                           + (f" = {dims}" if dims else " (no explore section: the scenario as written)"),
                           style="bold"))
    _render_violations(result, console, replays, quiet)
    _render_deadlocks(result, console, replays, quiet)
    console.print(Text(result.summary()))


def _render_violations(result: ExploreResult, console: Console, replays: Replays | None, quiet: bool) -> None:
    from rich.text import Text

    if not result.violations:
        if not quiet:
            console.print(Text("invariant violations: none"))
        return
    groups: dict[tuple[str, tuple[str, ...], str], tuple[Violation, list[int]]] = {}  # -> (first, runs)
    for f in result.violations:
        v = f.violation
        groups.setdefault((v.invariant, v.objects, v.message), (v, []))[1].append(f.run)
    runs = sorted({f.run for f in result.violations})
    console.print(Text(f"invariant violations: {len(result.violations)} in {len(runs)} run"
                       f"{'' if len(runs) == 1 else 's'} ({len(groups)} distinct)", style="bold red"))
    for n, ((name, _objects, message), (first, idx)) in enumerate(groups.items()):
        if n == MAX_VIOLATIONS_SHOWN:
            console.print(Text(f"  … and {len(groups) - n} more distinct violations"))
            break
        console.print(Text(f"  ✘ {name} at {format_clock(first.t)}: {message}", style="red"))
        if quiet:
            continue
        console.print(Text(f"    runs {_runs_text(sorted(set(idx)))}; e.g. run {idx[0] + 1}: "
                           f"{result.variants[idx[0]].label}"))
        if replays is not None and idx[0] in replays.runs:
            console.print(Text(f"    replay: statefulsim run {replays.runs[idx[0]]}"))


def _render_deadlocks(result: ExploreResult, console: Console, replays: Replays | None, quiet: bool) -> None:
    from rich.text import Text

    if not result.deadlocks:
        if not quiet:
            console.print(Text("deadlocks: none (every run converged, or ended where other runs went on to converge)"))
        return
    console.print(Text(f"deadlocks: {len(result.deadlocks)} state{'' if len(result.deadlocks) == 1 else 's'} "
                       "from which no run reaches the desired state without another action", style="bold red"))
    for k, d in enumerate(result.deadlocks, 1):
        console.print(Text(f"  ✘ deadlock {k}: {len(d.runs)} of {result.runs} runs end here; e.g. run "
                           f"{d.example + 1}: {result.variants[d.example].label}", style="red"))
        for why in d.stuck:
            console.print(Text(f"    {why}"))
        if not d.stuck:
            console.print(Text("    the controller was not waiting at the end: the run may have ended too early "
                               "(raise until)"))
        if quiet:
            continue
        console.print(Text(f"    runs: {_runs_text(d.runs)}"))
        console.print(Text("    state:"))
        for line in d.state.describe():
            console.print(Text(f"      {line}"))
        console.print(Text(f"    shortest path from the initial state ({len(d.path)} transitions):"))
        for i, label in enumerate(d.path, 1):
            console.print(Text(f"      {i:3d}. {label}"))
        if replays is not None and k in replays.deadlocks:
            console.print(Text(f"    replay: statefulsim run {replays.deadlocks[k]}"))
        else:
            console.print(Text("    replay: give --out DIR to write this run's scenario"))


def explore_cli(console: Console, scenario: str, *, max_runs: int = DEFAULT_MAX_RUNS, out: str | None = None,
                workers: int = 1, quiet: bool = False, plugins: Sequence[str] = (),
                allow_large: bool = False) -> ExploreResult:
    """What ``statefulsim explore`` does (kept here so the command in cli.py stays thin): run,
    write the replay files into ``out``, print the report; the caller maps ``result.ok`` to the
    exit code."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(TextColumn("explore"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=console, disable=quiet or not console.is_terminal, transient=True)
    task = progress.add_task("explore", total=None)

    def report(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    with progress:
        result = explore(scenario, max_runs=max_runs, workers=workers, progress=report, plugins=plugins,
                         allow_large=allow_large)
    replays = write_replays(result, out) if out is not None and not result.ok else None
    render_explore(result, console, replays, quiet=quiet)
    return result


__all__ = ["MAX_VIOLATIONS_SHOWN", "Replays", "explore_cli", "render_explore", "write_replays"]
