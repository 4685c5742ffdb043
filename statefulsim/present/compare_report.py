"""The body of ``statefulsim compare RECORDING... --scenario S [--runs N]`` (docs/calibrate.md)."""

from __future__ import annotations

from typing import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from statefulsim.calibrate.compare import Comparison, compare, observed_milestones, simulated_milestones
from statefulsim.io.importers import _read
from statefulsim.io.snapshots import read_recordings


def _s(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def compare_files(files: Sequence[str], scenario_path: str, runs: int, statefulset: str | None = None,
                  notes: list[str] | None = None) -> Comparison:
    """Read the recordings, run the scenario ``runs`` times (seeds from the scenario's on), compare."""
    from statefulsim.io.scenario import load_scenario
    from statefulsim.runner import run

    obs = read_recordings([(f, _read(f)) for f in files], statefulset)
    if notes is not None:
        notes.extend(obs.notes)
    scenario = load_scenario(scenario_path)
    sims = [simulated_milestones(run(scenario, seed=scenario.seed + i).trace) for i in range(runs)]
    resolution = max((p.resolution for p in obs.pods), default=1.0)
    return compare(observed_milestones(obs.pods), sims, resolution)


def plot_comparison(result: Comparison, path: str) -> None:
    """One row per pod and milestone: the simulated p5..p95 as a bar, p50 as a tick, the
    observation as a dot (red when outside); written atomically (statefulsim.present.plots.save)."""
    from matplotlib.figure import Figure

    from statefulsim.present.plots import save

    rows = list(result.rows)
    fig = Figure(figsize=(8, 1.2 + 0.28 * max(len(rows), 1)))
    ax = fig.add_subplot()
    for i, r in enumerate(rows):
        y = len(rows) - 1 - i
        if r.p5 is not None and r.p95 is not None and r.p50 is not None:
            ax.plot([r.p5, r.p95], [y, y], color="#9bb7d4", linewidth=6, solid_capstyle="butt")
            ax.plot([r.p50], [y], marker="|", color="#1f4e79", markersize=12)
        ax.plot([r.observed], [y], marker="o", color="#2e7d32" if r.inside else "#c62828")
    ax.set_yticks(range(len(rows)), [f"{r.pod} {r.milestone}" for r in reversed(rows)], fontsize=8)
    ax.set_xlabel("seconds since the first pod creation")
    ax.set_title(result.verdict.split(":")[0] + ": observed (dots) vs simulated p5..p95 (bars), p50 (ticks)",
                 fontsize=9)
    fig.tight_layout()
    save(fig, path)


def compare_cli(console: Console, files: Sequence[str], scenario: str, runs: int,
                statefulset: str | None, plot: str | None = None) -> Comparison:
    """Print the table, the orderings and the verdict line (and draw the plot to ``plot``)."""
    notes: list[str] = []
    result = compare_files(files, scenario, runs, statefulset, notes)
    for note in notes:
        console.print(Text(f"note: {note}", style="dim"), soft_wrap=True)
    table = Table("pod", "milestone", "observed s", "sim p5", "p50", "p95", "percentile", "runs")
    for r in result.rows:
        style = None if r.inside else "yellow"
        table.add_row(r.pod, r.milestone, _s(r.observed), _s(r.p5), _s(r.p50), _s(r.p95),
                      "-" if r.percentile is None else f"{r.percentile:.0f}%", str(r.runs), style=style)
    console.print(table)
    for o in result.orderings:
        line = f"{o.first[0]} {o.first[1]} before {o.then[0]} {o.then[1]}: in {o.runs} of {o.of} runs"
        console.print(Text(line, style="" if o.runs else "red"), soft_wrap=True)
    console.print(Text(result.verdict, style="bold green" if result.ok else "bold red"), soft_wrap=True)
    if plot is not None:
        plot_comparison(result, plot)
        console.print(Text(f"wrote {plot}"))
    return result
