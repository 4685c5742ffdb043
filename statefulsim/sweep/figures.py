"""A sweep's plots: a box per grid point, or empirical CDFs (Agg canvas, no pyplot)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Mapping

from statefulsim.io.paths import parse_path
from statefulsim.sweep.grid import SweepError, value_text
from statefulsim.sweep.statistics import PERCENTILES, SweepResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure


#: The kinds of sweep plot (``--plot-kind``).
PLOT_KINDS: tuple[str, ...] = ("box", "ecdf")


def check_plot_kind(kind: str) -> None:
    if kind not in PLOT_KINDS:
        raise SweepError(f"unknown plot kind {kind!r}; known: {', '.join(PLOT_KINDS)}")


def _plotted_metrics(result: SweepResult, quorum: int | None) -> list[str]:
    """The metrics worth a panel: not ``stuck``, below-quorum only with a quorum, some value somewhere."""
    metrics = [m for m in result.metric_names() if m != "stuck" and (m != "time_below_quorum" or quorum is not None)]
    return [m for m in metrics if any(result.values(p.index, m) for p in result.points)] or ["time_to_ready"]


def sweep_figure(result: SweepResult, *, quorum: int | None = None, kind: str = "box") -> Figure:
    """One panel per metric on an Agg canvas (no pyplot): ``kind="box"`` a box per grid point
    (whiskers p1–p99), ``kind="ecdf"`` an empirical CDF per grid point (:func:`ecdf_figure`)."""
    check_plot_kind(kind)
    if kind == "ecdf":
        return ecdf_figure(result, quorum=quorum)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    metrics = _plotted_metrics(result, quorum)
    fig = Figure(figsize=(max(6.0, 1.2 * len(result.points) + 3.0), 2.6 * len(metrics) + 0.6))
    FigureCanvasAgg(fig)
    labels = ["\n".join(value_text(v) for v in p.point.values()) or "(base)" for p in result.points]
    for i, m in enumerate(metrics):
        ax = fig.add_subplot(len(metrics), 1, i + 1)
        data = [result.values(p.index, m) for p in result.points]
        positions = [j + 1 for j, d in enumerate(data) if d]
        if positions:
            ax.boxplot([d for d in data if d], positions=positions, widths=0.5, whis=(1, 99))
        ax.set_xticks(range(1, len(labels) + 1))
        ax.set_xticklabels(labels if i == len(metrics) - 1 else [""] * len(labels), fontsize=8)
        ax.set_xlim(0.5, len(labels) + 0.5)
        ax.set_ylabel("seconds")
        if i == len(metrics) - 1 and result.points and result.points[0].point:
            ax.set_xlabel("\n".join(result.points[0].point), fontsize=8)
        ax.set_title(m, fontsize=10, loc="left")
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{len(result.seeds)} seeds per grid point (whiskers: p1–p99)", fontsize=10)
    fig.tight_layout()
    return fig


#: How the ECDF legend names a run without a value, per metric.
_NEVER = {"time_to_ready": "never all ready", "rollout_duration": "rollout never finished",
          "time_below_quorum": "no value"}


def _short_label(point: Mapping[str, Any], constant: set[str]) -> str:
    """``appReady=5s podManagementPolicy=Parallel``: the last key of each path, without the axes in
    ``constant`` (one value only); ``(base)`` when nothing is left."""
    parts = [f"{parse_path(k)[-1][1]}={value_text(v)}" for k, v in point.items() if k not in constant]
    return " ".join(parts) or "(base)"


def ecdf_figure(result: SweepResult, *, quorum: int | None = None) -> Figure:
    """An empirical CDF per metric and grid point, on an Agg canvas (no pyplot).

    y is the fraction of *all* runs of the grid point with a value ≤ x, so a curve that levels
    off below 1 shows the runs that never got there (no value: never all ready, rollout never
    finished, name never resolved); the legend says how many, also for a grid point without any
    value.  A grid point has the same colour in every panel; dotted lines mark p50, p90, p99."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    metrics = _plotted_metrics(result, quorum)
    axes = list(result.points[0].point) if result.points else []
    constant = {a for a in axes if len({value_text(p.point[a]) for p in result.points}) == 1}
    fig = Figure(figsize=(12.0, 3.2 * len(metrics) + 0.8), layout="constrained")  # room for outside legends
    FigureCanvasAgg(fig)
    runs_at = {p.index: sum(1 for r in result.runs if r.point_index == p.index) for p in result.points}
    for i, m in enumerate(metrics):
        ax = fig.add_subplot(len(metrics), 1, i + 1)
        values = {p.index: sorted(result.values(p.index, m)) for p in result.points}
        right = max((v[-1] for v in values.values() if v), default=0.0)
        never = _NEVER.get(m, "never resolved" if m.startswith("dns_delay") else "no value")
        for p in result.points:
            vals, total = values[p.index], runs_at[p.index]
            missing = total - len(vals)
            label = _short_label(p.point, constant) + (f" ({missing} of {total} runs: {never})" if missing
                                                       else f" ({total} runs)")
            colour = f"C{p.index % 10}"
            if not vals:  # nothing to draw, but the legend says so
                ax.plot([], [], color=colour, label=label, linewidth=1.4)
                continue
            # from 0 at the first value, a step at every value, flat up to the largest value of the panel
            xs = [vals[0]] + vals
            ys = [0.0] + [k / total for k in range(1, len(vals) + 1)]
            if right > vals[-1]:
                xs.append(right)
                ys.append(ys[-1])
            ax.step(xs, ys, where="post", color=colour, label=label, linewidth=1.4)
        for q in PERCENTILES:
            ax.axhline(q / 100.0, color="grey", linestyle=":", linewidth=0.8)
        marks = ax.secondary_yaxis("right")
        marks.set_yticks([q / 100.0 for q in PERCENTILES], [f"p{q}" for q in PERCENTILES], fontsize=7, color="grey")
        ax.set_ylim(0.0, 1.02)
        ax.set_xlabel("seconds", fontsize=8)
        ax.set_ylabel("fraction of runs ≤ x", fontsize=8)
        ax.set_title(m, fontsize=10, loc="left")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.05, 1.0), borderaxespad=0.0,
                  title="grid point" if set(axes) - constant else None, title_fontsize=7)
    fixed = "; ".join(f"{a}={value_text(result.points[0].point[a])}" for a in axes if a in constant)
    fig.suptitle(f"Empirical CDF, {len(result.seeds)} seeds per grid point"
                 + (f" ({fixed})" if fixed else "") + "; a curve levelling off below 1: runs without a value",
                 fontsize=10)
    return fig


def plot_sweep(result: SweepResult, path: str | os.PathLike[str], *, quorum: int | None = None,
               kind: str = "box") -> Figure:
    """Write :func:`sweep_figure` of ``kind`` to ``path`` (``.png``, ``.svg`` or ``.pdf``) and return it."""
    from statefulsim.present.plots import check_format, save

    check_format(path)
    fig = sweep_figure(result, quorum=quorum, kind=kind)
    save(fig, path)
    return fig
