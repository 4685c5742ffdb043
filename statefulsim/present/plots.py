"""Plots of a run, drawn with matplotlib (docs/cli.md, "Plots").

Like the reports, everything here only *reads* a trace (or a :class:`~statefulsim.analysis.result.RunData`),
so a run that just happened and a trace read back from a file give the same pictures.

* :func:`timeline_figure`: a Gantt chart, one row per pod name, its incarnations as coloured
  spans of their states, restarts, revision changes, DNS visibility and scenario actions.
* :func:`replicas_figure`: ready and available replicas against the desired count, with the time
  below a quorum shaded.
* :func:`run_figure` / :func:`plot_run`: both in one figure (one file); :func:`save` writes any
  figure as PNG, SVG or PDF, chosen by the file's suffix.

The data behind the pictures come from small pure functions that are useful on their own:
:func:`pod_rows` (the spans of the Gantt chart), :func:`replica_steps`, :func:`below_quorum` and
:func:`time_below`.

Backend: every figure is a plain :class:`matplotlib.figure.Figure` drawn on the non-interactive
Agg canvas, which this module selects for each figure it creates, before anything is drawn.
``matplotlib.pyplot`` is never imported, so no display is needed (CI, servers), no global figure
list grows, and the process-wide backend an application or a notebook has chosen is left alone.
In Jupyter, a returned figure shows as an image once inline display is on (``%matplotlib inline``,
or :func:`statefulsim.notebook.inline_figures`, which ``show_run`` calls).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator, NullLocator

from statefulsim.analysis import metrics
from statefulsim.analysis.metrics import POD_EVENTS, ReplicaSteps
from statefulsim.analysis.result import trace_of
from statefulsim.durations import format_duration
from statefulsim.errors import StatefulSimError
from statefulsim.sim.actions import action_touches
from statefulsim.sim.api.printers import is_failing
from statefulsim.sim.trace import Trace

if TYPE_CHECKING:
    from statefulsim.analysis.result import RunData

__all__ = [
    "FORMATS", "STATE_COLORS", "STATES", "ActionMark", "DnsSpan", "Incarnation", "PlotError", "PodRow",
    "ReplicaSteps", "Span", "action_label", "action_marks", "below_quorum", "check_format", "plot_run",
    "plot_trace_file", "pod_rows", "replica_steps", "replicas_figure", "run_figure", "save", "statefulsets",
    "time_below", "timeline_figure",
]


class PlotError(StatefulSimError):
    """A plot could not be written: an unknown file suffix, or the file cannot be written."""


#: File suffixes :func:`save` understands, and the matplotlib format each one selects.
FORMATS: dict[str, str] = {".png": "png", ".svg": "svg", ".pdf": "pdf"}

#: Pod states of the Gantt chart, in legend order.
STATES: tuple[str, ...] = ("Pending", "ContainerCreating", "Failing", "Running", "Ready", "Terminating", "Ended")

_STATE_LABELS: dict[str, str] = {
    "Pending": "Pending (not scheduled)",
    "ContainerCreating": "ContainerCreating (scheduled)",
    "Failing": "ErrImagePull, ImagePullBackOff, CrashLoopBackOff, Error",
    "Running": "Running, not Ready",
    "Ready": "Ready",
    "Terminating": "Terminating",
    "Ended": "Failed / Succeeded",
}

#: Colours of the states (colour-blind friendly, distinguishable in greyscale by lightness).
STATE_COLORS: dict[str, str] = {
    "Pending": "#cfcfcf",
    "ContainerCreating": "#f6c85f",
    "Failing": "#b2182b",
    "Running": "#f28e2b",
    "Ready": "#4daf4a",
    "Terminating": "#9e6bb5",
    "Ended": "#5a5a5a",
}

_DNS_YES = "#1f77b4"      # DNS lookups of the pod's name return an address
_DNS_NO = "#e8a0a0"       # DNS lookups of the pod's name return no address
_ENDPOINT = "#6fb7d6"     # the pod is a ready endpoint of a Service (what DNS publishes)
_ACTION = "#c2185b"
_QUORUM = "#d62728"
_HATCHES = ("", "////", "\\\\\\\\", "xxxx", "....", "++++", "oo")


# ---------------------------------------------------------------------------- data


def _end_of(source: Trace | RunData, until: float | None) -> float:
    """The right edge of the plots: ``until``, else the run's end, else the last record's time."""
    trace = trace_of(source)
    last = trace[len(trace) - 1].t if len(trace) else 0.0
    if until is None and not isinstance(source, Trace):
        until = source.until
    return max(last, until) if until is not None and math.isfinite(until) else last


@dataclass(frozen=True)
class Span:
    """``[start, end)`` during which a pod incarnation was in ``state`` (one of :data:`STATES`)."""

    start: float
    end: float
    state: str


@dataclass
class Incarnation:
    """One pod object (one uid) on its row: its state spans, restarts and revision."""

    uid: str | None
    revision: str | None
    start: float
    end: float
    deleted: bool
    spans: list[Span] = field(default_factory=list)
    restarts: list[float] = field(default_factory=list)
    revision_changed: bool = False  # its revision differs from the previous incarnation's


@dataclass(frozen=True)
class DnsSpan:
    """``[start, end]`` during which the pod's name was visible (``visible``) or not.

    ``source`` is ``"lookups"`` (``DNSAnswer`` records of names ``<pod>.…``) or ``"endpoints"``
    (the pod in a Service's ready EndpointSlice, used for pods nobody looked up)."""

    start: float
    end: float
    visible: bool
    source: str


@dataclass
class PodRow:
    """One row of the Gantt chart: every incarnation of one pod name."""

    pod: str
    statefulset: str | None
    ordinal: int | None
    incarnations: list[Incarnation] = field(default_factory=list)
    dns: list[DnsSpan] = field(default_factory=list)

    @property
    def dns_source(self) -> str | None:
        return self.dns[0].source if self.dns else None


@dataclass
class _Life:
    row: str
    inc: Incarnation
    scheduled: bool = False
    running: bool = False
    ready: bool = False
    terminating: bool = False
    ended: bool = False
    failing: bool = False  # its kubectl STATUS (PodStatus) says a container cannot run
    state: str = "Pending"
    since: float = 0.0

    def compute(self) -> str:
        if self.terminating:
            return "Terminating"
        if self.ended:
            return "Ended"
        if self.ready:
            return "Ready"
        if self.failing:
            return "Failing"
        if self.running:
            return "Running"
        return "ContainerCreating" if self.scheduled else "Pending"

    def move(self, t: float) -> None:
        new = self.compute()
        if new != self.state:
            if t > self.since:
                self.inc.spans.append(Span(self.since, t, self.state))
            self.state, self.since = new, t


def _pod_lives(trace: Trace, end: float) -> tuple[dict[str, PodRow], dict[str, list[_Life]]]:
    rows: dict[str, PodRow] = {}
    lives: dict[str, _Life] = {}
    by_row: dict[str, list[_Life]] = {}
    for r in trace:
        if r.event not in POD_EVENTS and r.event != "PodStatus":
            continue
        pod = r.get("pod")
        if not isinstance(pod, str):
            continue
        key = f"{pod}\0{r.get('uid') or ''}"  # a uid names one pod; a hostile trace may reuse it
        life = lives.get(key)
        if life is None or (r.event == "PodCreated" and life.inc.deleted):
            row = rows.get(pod)
            if row is None:
                row = rows[pod] = PodRow(pod, None, None)
            inc = Incarnation(r.get("uid"), None, r.t, end, False)
            life = lives[key] = _Life(pod, inc, since=r.t)
            row.incarnations.append(inc)
            by_row.setdefault(pod, []).append(life)
        row = rows[pod]
        ev, t, inc = r.event, r.t, life.inc
        if ev == "PodCreated":
            inc.revision = r.get("revision")
            sts, ordinal = r.get("statefulset"), r.get("ordinal")
            if isinstance(sts, str):
                row.statefulset = sts
            if isinstance(ordinal, int) and not isinstance(ordinal, bool) and ordinal >= 0:
                row.ordinal = ordinal
        elif ev == "PodScheduled":
            life.scheduled = True
        elif ev == "PodRunning":
            life.scheduled = life.running = True
        elif ev == "PodReady":
            life.scheduled = life.running = life.ready = True
        elif ev == "PodNotReady":
            life.ready = False
        elif ev == "PodTerminating":
            life.terminating = True
        elif ev in ("PodFailed", "PodSucceeded"):
            life.ended = True
            life.ready = False
        elif ev == "PodStatus":
            life.failing = is_failing(str(r.get("status", "")))
        elif ev == "ContainerRestarted":
            inc.restarts.append(t)
        elif ev == "PodDeleted":
            if t > life.since:
                inc.spans.append(Span(life.since, t, life.state))
            inc.end, inc.deleted = t, True
            life.since = math.inf
            continue
        if not inc.deleted:
            life.move(t)
    for life in lives.values():
        if not life.inc.deleted and end > life.since:
            life.inc.spans.append(Span(life.since, end, life.state))
    return rows, by_row


def _dns_runs(points: Sequence[tuple[float, bool]], source: str) -> list[DnsSpan]:
    """Runs of equal observations as spans: each run lasts until the next run's first observation;
    the last run ends at its last observation."""
    spans: list[DnsSpan] = []
    i = 0
    while i < len(points):
        j = i
        while j + 1 < len(points) and points[j + 1][1] == points[i][1]:
            j += 1
        end = points[j + 1][0] if j + 1 < len(points) else points[j][0]
        spans.append(DnsSpan(points[i][0], end, points[i][1], source))
        i = j + 1
    return spans


def _dns(trace: Trace, rows: Mapping[str, PodRow], end: float) -> None:
    answers: dict[str, list[tuple[float, bool]]] = {}
    ready_in: dict[str, set[str]] = {}  # service -> pods with a ready endpoint
    endpoint: dict[str, list[tuple[float, bool]]] = {}
    for r in trace:
        if r.event == "DNSAnswer":
            name = r.get("name")
            if not isinstance(name, str) or "." not in name:
                continue
            pod = name.split(".", 1)[0]
            if pod in rows:
                answers.setdefault(pod, []).append((r.t, bool(r.get("answers"))))
        elif r.event == "EndpointSliceUpdated":
            ready = r.get("ready")
            ready_in[str(r.get("service"))] = {p for p in ready if isinstance(p, str)} if isinstance(ready, list) else set()
            visible = set().union(*ready_in.values())
            for pod in rows:
                was = endpoint.get(pod)
                now = pod in visible
                if (was[-1][1] if was else False) != now:
                    endpoint.setdefault(pod, []).append((r.t, now))
    for pod, row in rows.items():
        if pod in answers:
            row.dns = _dns_runs(answers[pod], "lookups")
        elif pod in endpoint:
            points = endpoint[pod]
            row.dns = [DnsSpan(t, points[i + 1][0] if i + 1 < len(points) else end, True, "endpoints")
                       for i, (t, on) in enumerate(points) if on]


def pod_rows(source: Trace | RunData, *, until: float | None = None) -> list[PodRow]:
    """The rows of the Gantt chart, ordered by StatefulSet, then ordinal, then name.

    Each incarnation (uid) is cut into :class:`Span` s of its state:

    * ``Pending``: from ``PodCreated`` to ``PodScheduled``;
    * ``ContainerCreating``: from ``PodScheduled`` to ``PodRunning``;
    * ``Failing``: not Ready while kubectl's STATUS (``PodStatus``) says a container cannot run:
      ``ErrImagePull``, ``ImagePullBackOff``, ``CrashLoopBackOff``, ``Error``, ... (so a pull
      back-off is not drawn as ContainerCreating, nor a crash loop as Running);
    * ``Running``: Running but not Ready (from ``PodRunning``, and after a ``PodNotReady``);
    * ``Ready``: from ``PodReady`` to ``PodNotReady``;
    * ``Terminating``: from ``PodTerminating`` to ``PodDeleted`` (whether or not still Ready);
    * ``Ended``: after ``PodFailed`` / ``PodSucceeded`` (when not terminating) until ``PodDeleted``.

    A pod not deleted by the end lasts until ``until`` (default: the run's end for a RunData,
    the last record's time for a trace). DNS visibility: see :class:`DnsSpan`.
    """
    trace = trace_of(source)
    end = _end_of(source, until)
    rows, by_row = _pod_lives(trace, end)
    for lives in by_row.values():
        prev: str | None = None
        for i, life in enumerate(lives):
            life.inc.revision_changed = i > 0 and life.inc.revision != prev
            prev = life.inc.revision
    _dns(trace, rows, end)

    def order(row: PodRow) -> tuple[int, str, float, str]:
        ordinal = float(row.ordinal) if row.ordinal is not None else math.inf
        return (0 if row.statefulset else 1, row.statefulset or "", ordinal, row.pod)

    return sorted(rows.values(), key=order)


def statefulsets(source: Trace | RunData) -> list[str]:
    """StatefulSet names in order of appearance (:func:`statefulsim.analysis.metrics.statefulsets`)."""
    return metrics.statefulsets(trace_of(source))


def replica_steps(source: Trace | RunData, statefulset: str, *, until: float | None = None) -> ReplicaSteps:
    """Desired, ready, available and existing replicas of one StatefulSet over time, up to the
    plots' right edge (:func:`statefulsim.analysis.metrics.replica_steps`)."""
    return metrics.replica_steps(trace_of(source), statefulset, end=_end_of(source, until))


def below_quorum(source: Trace | RunData, statefulset: str, quorum: int,
                 until: float | None = None) -> list[tuple[float, float]]:
    """The intervals, up to ``until`` (default: the plots' right edge), with fewer than ``quorum``
    Ready replicas (:func:`statefulsim.analysis.metrics.below_quorum`)."""
    return metrics.below_quorum(trace_of(source), statefulset, quorum, _end_of(source, until) if until is None else until)


def time_below(source: Trace | RunData, statefulset: str, quorum: int, until: float | None = None) -> float:
    """Total seconds :func:`below_quorum`."""
    return sum(b - a for a, b in below_quorum(source, statefulset, quorum, until))


@dataclass(frozen=True)
class ActionMark:
    """Scenario actions fired at (about) the same time, drawn as one numbered vertical line."""

    number: int
    t: float
    labels: tuple[str, ...]


def _short(value: Any, limit: int = 28) -> str:
    text = value if isinstance(value, str) else _compact(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _compact(value: Any) -> str:
    from statefulsim.sim.api.patch import flow

    return flow(value, quote=False)


def _leaves(patch: Mapping[str, Any], path: tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    """``{a: {b: {c: 1}}}`` → ``[("b.c", 1)]``: each leaf with the last two keys of its path."""
    out: list[tuple[str, Any]] = []
    for k, v in patch.items():
        here = path + (str(k),)
        if isinstance(v, Mapping) and v:
            out += _leaves(v, here)
        else:
            out.append((".".join(here[-2:]), v))
    return out


def action_label(fields: Mapping[str, Any]) -> str:
    """A short label for an ``Action`` record: ``scale web → 3``, ``setImage web nginx-slim:0.26``."""
    verb = str(fields.get("action"))
    sts = fields.get("statefulset")
    if verb == "scale":
        return f"scale {sts} → {fields.get('replicas')}"
    if verb == "setImage":
        image = str(fields.get("image", ""))
        return f"setImage {sts} {image.rsplit('/', 1)[-1]}"
    if verb == "patch":
        from statefulsim.analysis.replay import spec_part

        patch = fields.get("patch")
        spec = spec_part(patch, fields.get("type"))
        if spec is None:  # JSON patch: each operation
            ops = patch if isinstance(patch, list) else [patch]
            leaves = [("", " ".join(str(op.get(k)) for k in ("op", "path") if k in op) if isinstance(op, Mapping) else op)
                      for op in ops]
        else:
            assert isinstance(patch, Mapping)
            rest = {k: v for k, v in patch.items() if k != "spec"} if spec is not patch else {}
            leaves = _leaves(spec) + _leaves(rest)
        return f"patch {sts} " + ", ".join(f"{k}={_compact(v)}" if k else _compact(v) for k, v in leaves)
    if verb == "dnsQuery":
        return f"dnsQuery {fields.get('name')} from {fields.get('from')}"
    if verb == "deleteStatefulSet":
        return f"deleteStatefulSet {sts} ({fields.get('cascade')})"
    if verb == "delete":
        return f"delete {fields.get('kind')} {fields.get('name')}"
    if verb == "apply":
        objs = fields.get("objects")
        return "apply " + (", ".join(map(str, objs)) if isinstance(objs, list) else str(objs))
    touched = action_touches(fields)  # the verb's own ``touches``: a plug-in verb names its objects
    return f"{verb} {', '.join(touched)}" if touched else verb


def action_marks(source: Trace | RunData, *, merge_within: float = 0.0) -> list[ActionMark]:
    """The trace's ``Action`` records, numbered; actions less than ``merge_within`` seconds after the
    first of a group share its line."""
    groups: list[tuple[float, list[str]]] = []
    for r in trace_of(source):
        if r.event != "Action":
            continue
        if groups and r.t - groups[-1][0] <= merge_within:
            groups[-1][1].append(action_label(r.fields))
        else:
            groups.append((r.t, [action_label(r.fields)]))
    return [ActionMark(i + 1, t, _merge_labels(labels)) for i, (t, labels) in enumerate(groups)]


def _merge_labels(labels: Sequence[str]) -> tuple[str, ...]:
    """``breakReadiness web-0``, ``breakReadiness web-1`` → ``breakReadiness web-0, web-1``."""
    merged: list[str] = []
    for label in labels:
        verb, _, rest = label.partition(" ")
        if merged and rest and " " not in rest and merged[-1].partition(" ")[0] == verb \
                and " " not in merged[-1].partition(" ")[2].replace(", ", ","):
            merged[-1] += f", {rest}"
        else:
            merged.append(label)
    return tuple(merged)


# ---------------------------------------------------------------------------- drawing helpers


def _clock(seconds: float, hours: bool) -> str:
    sign = "-" if seconds < 0 else ""
    total = int(round(abs(seconds)))
    m, s = divmod(total, 60)
    if hours:
        h, m = divmod(m, 60)
        return f"{sign}{h}:{m:02d}:{s:02d}"
    return f"{sign}{m:02d}:{s:02d}"


_STEPS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


#: Inches a tick label takes per character at the default 10 pt, and the least gap between two.
_TICK_CHAR, _TICK_GAP = 0.085, 0.2


def _max_ticks(ax: Axes, hours: bool) -> int:
    """How many time labels fit side by side on ``ax`` without touching: at most 12, fewer on a
    narrow panel (a figure drawn at ``width=9`` for a side-by-side comparison)."""
    fig = ax.get_figure(root=True)
    assert isinstance(fig, Figure)
    inches = ax.get_position().width * fig.get_figwidth()
    label = _TICK_CHAR * (7 if hours else 5) + _TICK_GAP
    return max(2, min(12, int(inches / label)))


def _time_axis(ax: Axes, end: float, *, labels: bool) -> None:
    """Seconds on the x axis, labelled ``mm:ss`` (``h:mm:ss`` from one hour on), at round steps,
    as many as fit without the labels touching; tick labels only with ``labels`` (the bottom panel)."""
    span = max(end, 1.0)
    hours = end >= 3600
    most = _max_ticks(ax, hours)
    step = next((s for s in _STEPS if span / s <= most), _STEPS[-1])
    ax.set_xlim(-span * 0.01, span * 1.01)
    if labels:
        ax.xaxis.set_major_locator(MultipleLocator(step))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _clock(x, hours)))
        ax.set_xlabel("time since the start (h:mm:ss)" if hours else "time since the start (mm:ss)")
        ax.grid(axis="x", color="#e6e6e6", linewidth=0.8)
    else:
        # the same grid without tick objects (drawing ticks is most of a panel's cost)
        ax.xaxis.set_major_locator(NullLocator())
        ax.vlines([step * i for i in range(int(span * 1.01 // step) + 1)], 0, 1, transform=ax.get_xaxis_transform(),
                  colors="#e6e6e6", linewidth=0.8, zorder=0.4)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _merge_distance(end: float) -> float:
    return max(end, 1.0) * 0.004


def _levels(marks: Sequence[ActionMark], end: float) -> list[int]:
    """The height level of each action's number above the plot: numbers closer than 2.5 % of the
    time axis to the previous one on a level go one level up."""
    span = max(end, 1.0)
    last: list[float] = []
    out: list[int] = []
    for mark in marks:
        level = 0
        while level < len(last) and mark.t - last[level] < span * 0.025:
            level += 1
        if level == len(last):
            last.append(mark.t)
        else:
            last[level] = mark.t
        out.append(level)
    return out


def _draw_actions(ax: Axes, marks: Sequence[ActionMark], end: float, *, numbers: bool) -> None:
    """Vertical lines; with ``numbers``, their numbers above the axes."""
    for mark in marks:
        ax.axvline(mark.t, color=_ACTION, linewidth=1.1, linestyle=(0, (4, 2)), alpha=0.85, zorder=1.5)
    if not numbers:
        return
    for mark, level in zip(marks, _levels(marks, end)):
        ax.annotate(str(mark.number), xy=(mark.t, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(0, 3 + 13 * level), textcoords="offset points", ha="center", va="bottom",
                    fontsize=7.5, color="white", fontweight="bold", annotation_clip=False,
                    bbox={"boxstyle": "circle,pad=0.25", "facecolor": _ACTION, "edgecolor": "none"})


_KEY_ROWS = 6  # more actions than this are listed in two columns
_KEY_LINE = 8 * 1.35 / 72  # inches per line of the list of actions


def _key_lines(marks: Sequence[ActionMark], hours: bool) -> list[list[str]]:
    lines = [f"{m.number}.  {_clock(m.t, hours)}  " + "; ".join(m.labels) for m in marks]
    columns = 2 if len(lines) > _KEY_ROWS else 1
    per = math.ceil(len(lines) / columns) if lines else 0
    return [[_short(x, 120 if columns == 1 else 62) for x in lines[c * per:(c + 1) * per]] for c in range(columns)]


def _key_height(marks: Sequence[ActionMark]) -> float:
    if not marks:
        return 0.0
    return 0.26 + _KEY_LINE * max(len(c) for c in _key_lines(marks, False))


def _action_key(ax: Axes, marks: Sequence[ActionMark], hours: bool) -> None:
    """The list of numbered actions, in one or two columns, on an axes of its own."""
    ax.set_axis_off()
    ax.text(0.0, 1.0, "Scenario actions (dashed lines):", transform=ax.transAxes, ha="left", va="top",
            fontsize=8.5, fontweight="bold", color=_ACTION)
    for c, chunk in enumerate(_key_lines(marks, hours)):
        ax.annotate("\n".join(chunk), xy=(0.5 * c, 1.0), xycoords="axes fraction", xytext=(0, -15),
                    textcoords="offset points", ha="left", va="top", fontsize=8, family="monospace",
                    linespacing=1.35)


@dataclass
class _Panel:
    kind: str  # "timeline", "replicas" or "key"
    height: float  # inches
    statefulset: str | None = None


_LEGEND_ENTRY = 0.178  # inches per legend entry at font size 8
_GAP = 0.2             # inches between panels
_XLABELS = 0.52        # inches under the last panel: tick labels and axis label


def _layout(panels: Sequence[_Panel], *, width: float, left: float, right: float, levels: int,
            title: bool) -> tuple[Figure, list[Axes]]:
    """A figure with one axes per panel, stacked, laid out in inches (no layout engine: faster,
    and the same picture every time): the left margin holds the y labels, the right one the
    legends, the top one the title and the numbers of the actions."""
    top = (0.4 if title else 0.12) + 0.19 * levels
    plots = [p for p in panels if p.kind != "key"]
    key = sum(p.height for p in panels if p.kind == "key")
    height = top + sum(p.height for p in plots) + _GAP * (len(plots) - 1) + _XLABELS + key + 0.1
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)  # the non-interactive Agg canvas (see the module docstring)
    axes: list[Axes] = []
    y = height - top
    plot_width = max(width - left - right, 1.0)
    for p in panels:
        if p.kind == "key":
            y += _GAP - _XLABELS
        y -= p.height
        axes.append(fig.add_axes((left / width, y / height, plot_width / width, p.height / height)))
        y -= _GAP
    return fig, axes


def _title(fig: Figure, text: str) -> None:
    fig.text(0.1 / fig.get_figwidth(), 1 - 0.1 / fig.get_figheight(), text, ha="left", va="top", fontsize=11)


def _left_margin(names: Iterable[str]) -> float:
    """Inches for the longest pod name (10 pt tick labels) or the replicas' y label."""
    return max([0.95] + [0.3 + 0.085 * len(n) for n in names])


def _right_margin(labels: Iterable[str]) -> float:
    """Inches for the widest legend entry (8 pt)."""
    return max([2.2] + [0.75 + 0.066 * len(text) for text in labels])


def _legend(ax: Axes, handles: Sequence[Any]) -> None:
    if handles:
        ax.legend(handles=list(handles), loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
                  borderaxespad=0.0, handlelength=1.8)


# ---------------------------------------------------------------------------- the Gantt chart


_ROW = 0.36      # inches per row
_MANY = 60       # with more rows than this, rows get thinner (the chart stays under ~24 inches),
                 # only some pod names are written and revision hashes are not
_BAR = 0.56      # height of the state bar of a row (in rows)
_DNS_H = 0.14    # height of the DNS bar below it


def _revisions(source: Trace | RunData) -> dict[str, dict[str, int]]:
    """StatefulSet → revision → its index in order of appearance (``RevisionCreated``, ``PodCreated``)."""
    out: dict[str, dict[str, int]] = {}
    for r in trace_of(source):
        if r.event in ("RevisionCreated", "PodCreated"):
            rev, sts = r.get("revision"), r.get("statefulset")
            if isinstance(rev, str):
                revs = out.setdefault(str(sts), {})
                revs.setdefault(rev, len(revs))
    return out


@dataclass
class _Timeline:
    """What the Gantt chart draws, computed before the figure so the layout can be sized."""

    source: Trace | RunData
    end: float
    rows: list[PodRow]
    marks: list[ActionMark]
    quorum: int | None
    revisions: dict[str, dict[str, int]]
    handles: list[Any]

    @property
    def multi_revision(self) -> bool:
        return any(len(v) > 1 for v in self.revisions.values())

    def hatch(self, row: PodRow, inc: Incarnation) -> str:
        if not self.multi_revision:
            return ""
        index = self.revisions.get(str(row.statefulset), {}).get(inc.revision or "", 0)
        return _HATCHES[index % len(_HATCHES)]

    @property
    def height(self) -> float:
        return max(1.6, 0.5 + self.row_height * len(self.rows), 0.15 + _LEGEND_ENTRY * len(self.handles))

    @property
    def row_height(self) -> float:
        return _ROW if len(self.rows) <= _MANY else _ROW * _MANY / len(self.rows)


def _timeline(source: Trace | RunData, end: float, quorum: int | None, marks: list[ActionMark]) -> _Timeline:
    rows = pod_rows(source, until=end)
    revisions = _revisions(source)
    tl = _Timeline(source, end, rows, marks, quorum, revisions, [])
    states = {span.state for row in rows for inc in row.incarnations for span in inc.spans}
    dns = {(d.source, d.visible) for row in rows for d in row.dns}
    h = tl.handles
    h += [Patch(facecolor=STATE_COLORS[s], edgecolor="#333333", linewidth=0.5, label=_STATE_LABELS[s])
          for s in STATES if s in states]
    if any(inc.restarts for row in rows for inc in row.incarnations):
        h.append(Line2D([], [], linestyle="none", marker="x", markersize=6, markeredgewidth=1.4, color="#b30000",
                        label="container restarted"))
    if any(inc.revision_changed for row in rows for inc in row.incarnations):
        h.append(Line2D([], [], linestyle="none", marker="v", markersize=6, color="black",
                        label="revision changed (new hash)"))
    if tl.multi_revision:
        for revs in revisions.values():
            if len(revs) > 1:
                h += [Patch(facecolor="white", edgecolor="#333333", hatch=_HATCHES[i % len(_HATCHES)], linewidth=0.5,
                            label=f"revision {rev}") for rev, i in revs.items()]
    if ("lookups", True) in dns:
        h.append(Patch(facecolor=_DNS_YES, label="DNS: name resolves (lookups)"))
    if ("lookups", False) in dns:
        h.append(Patch(facecolor=_DNS_NO, label="DNS: no address (lookups)"))
    if any(src == "endpoints" for src, _ in dns):
        h.append(Patch(facecolor=_ENDPOINT, label="ready endpoint (published in DNS)"))
    if quorum is not None:
        h.append(Patch(facecolor=_QUORUM, alpha=0.15, label=f"ready replicas < {quorum}"))
    if marks:
        h.append(Line2D([], [], color=_ACTION, linestyle=(0, (4, 2)), label="scenario action"))
    return tl


def _rect(x0: float, x1: float, y0: float, height: float) -> list[tuple[float, float]]:
    return [(x0, y0), (x0, y0 + height), (x1, y0 + height), (x1, y0)]


def _draw_timeline(ax: Axes, tl: _Timeline) -> None:
    rows, end = tl.rows, tl.end
    bars: dict[tuple[str, str], list[list[tuple[float, float]]]] = {}  # (colour, hatch) -> rectangles
    outlines: list[list[tuple[float, float]]] = []
    dns: dict[str, list[list[tuple[float, float]]]] = {}
    restarts: tuple[list[float], list[float]] = ([], [])
    changes: tuple[list[float], list[float]] = ([], [])
    min_width = max(end, 1.0) * 0.002
    for y, row in enumerate(rows):
        top = y - _BAR / 2
        for inc in row.incarnations:
            hatch = tl.hatch(row, inc)
            for span in inc.spans:
                bars.setdefault((STATE_COLORS[span.state], hatch), []).append(_rect(span.start, span.end, top, _BAR))
            outlines.append(_rect(inc.start, inc.end, top, _BAR))
            restarts[0].extend(inc.restarts)
            restarts[1].extend([y] * len(inc.restarts))
            if inc.revision_changed:
                changes[0].append(inc.start)
                changes[1].append(top)
                if len(rows) <= _MANY:
                    short = (inc.revision or "none").rsplit("-", 1)[-1][:6]
                    ax.annotate(short, xy=(inc.start, top), xytext=(4, 1), textcoords="offset points", ha="left",
                                va="bottom", fontsize=6.5, color="black", zorder=5)
        for d in row.dns:
            color = _ENDPOINT if d.source == "endpoints" else _DNS_YES if d.visible else _DNS_NO
            dns.setdefault(color, []).append(_rect(d.start, max(d.end, d.start + min_width), y + _BAR / 2 + 0.04,
                                                   _DNS_H))
    for (color, hatch), rects in bars.items():
        ax.add_collection(PolyCollection(rects, facecolors=color, edgecolors="none", hatch=hatch or None,
                                         linewidths=0, zorder=2))
    for color, rects in dns.items():
        ax.add_collection(PolyCollection(rects, facecolors=color, edgecolors="none", linewidths=0, zorder=2))
    # a thin outline per incarnation, so back-to-back incarnations stay apart
    ax.add_collection(PolyCollection(outlines, facecolors="none", edgecolors="#333333",
                                     linewidths=0.6 if len(rows) <= _MANY else 0.15, zorder=3))
    if restarts[0]:
        ax.plot(*restarts, linestyle="none", marker="x", markersize=5, markeredgewidth=1.4, color="#b30000", zorder=4)
    if changes[0]:
        ax.plot(*changes, linestyle="none", marker="v", markersize=6, color="black", zorder=5, clip_on=False)

    if tl.quorum is not None:
        for sts in sorted({row.statefulset for row in rows if row.statefulset}):
            ys = [y for y, row in enumerate(rows) if row.statefulset == sts]
            for a, b in below_quorum(tl.source, sts, tl.quorum, end):
                ax.fill_between([a, b], min(ys) - 0.5, max(ys) + 0.5, color=_QUORUM, alpha=0.07, linewidth=0,
                                zorder=0.5)
    previous: str | None = None
    for y, row in enumerate(rows):
        if y and row.statefulset != previous:
            ax.axhline(y - 0.5, color="#888888", linewidth=0.8)
        previous = row.statefulset
    _draw_actions(ax, tl.marks, end, numbers=True)

    n = len(rows)
    every = math.ceil(n / _MANY) if n > _MANY else 1
    ax.set_yticks(range(0, n, every), [row.pod for row in rows[::every]])
    # rows stay at most 1.7 times as thick when the legend makes the panel taller than the rows need
    ax.set_ylim(max(n, (tl.height - 0.15) / (1.7 * tl.row_height)) - 0.5, -0.6)
    ax.tick_params(axis="y", length=0)
    if not rows:
        ax.text(0.5, 0.5, "no pods in the trace", transform=ax.transAxes, ha="center", va="center", color="grey")
    _legend(ax, tl.handles)


def timeline_figure(source: Trace | RunData, *, title: str | None = None, quorum: int | None = None,
                    until: float | None = None, width: float = 12.0) -> Figure:
    """A Gantt chart of every pod name (rows ordered by StatefulSet, then ordinal).

    Each incarnation of a pod is drawn on its name's row as coloured spans of its states (see
    :func:`pod_rows`), outlined so back-to-back incarnations stay apart.  Marked on top: container
    restarts (``×``), an incarnation whose revision differs from the previous one on its row (``▼``
    and the first characters of the new hash; with several revisions the bars are hatched per
    revision, as the legend shows), scenario actions (numbered dashed lines, listed below the chart)
    and, with ``quorum``, the time the pod's StatefulSet had fewer Ready replicas (shaded).

    The thin bar under a row is the DNS visibility of the pod's name.  When the trace has
    ``DNSAnswer`` records for names starting with ``<pod>.``, it shows what those lookups got (an
    address, or none); for pods nobody looked up it shows when the pod was a ready endpoint of a
    Service (``EndpointSliceUpdated``), which is when DNS publishes its name.
    """
    end = _end_of(source, until)
    marks = action_marks(source, merge_within=_merge_distance(end))
    tl = _timeline(source, end, quorum, marks)
    panels = [_Panel("timeline", tl.height)] + ([_Panel("key", _key_height(marks))] if marks else [])
    fig, axes = _layout(panels, width=width, left=_left_margin(r.pod for r in tl.rows),
                        right=_right_margin(h.get_label() for h in tl.handles),
                        levels=max(_levels(marks, end), default=-1) + 1, title=True)
    _draw_timeline(axes[0], tl)
    _time_axis(axes[0], end, labels=True)
    if marks:
        _action_key(axes[1], marks, end >= 3600)
    _title(fig, title if title is not None else _default_title(source, "pods"))
    return fig


# ---------------------------------------------------------------------------- replicas


_REPLICAS_H = 1.9


def _replica_labels(quorum: int | None) -> list[str]:
    labels = ["desired (spec.replicas)", "ready", "available"]
    if quorum is not None:
        labels += [f"ready < {quorum}: 59m59s in total", f"quorum ({quorum})"]
    return labels


def _draw_replicas(ax: Axes, source: Trace | RunData, sts: str, end: float, quorum: int | None,
                   marks: Sequence[ActionMark], *, numbers: bool) -> None:
    steps = replica_steps(source, sts, until=end)
    nan = float("nan")
    if steps.t:
        xs = steps.t + [end] if end > steps.t[-1] else list(steps.t)

        def ys(values: list[int | None]) -> list[float]:
            out = [float(v) if v is not None else nan for v in values]
            return out + [out[-1]] if len(xs) > len(out) else out

        ax.step(xs, ys(steps.desired), where="post", color="black", linewidth=1.4, linestyle=(0, (1.5, 1.5)),
                label="desired (spec.replicas)", zorder=4)
        ax.step(xs, ys(steps.ready), where="post", color=STATE_COLORS["Ready"], linewidth=3.2, alpha=0.9,
                label="ready", zorder=3)
        ax.step(xs, ys(steps.available), where="post", color="#1f4e9c", linewidth=1.3, linestyle="--",
                label="available", zorder=5)
    top = max([v for v in steps.desired + steps.ready + steps.pods if v is not None] + [quorum or 0, 1])
    if quorum is not None:
        spans = below_quorum(source, sts, quorum, end)
        total = sum(b - a for a, b in spans)
        for i, (a, b) in enumerate(spans):
            ax.axvspan(a, b, color=_QUORUM, alpha=0.13, linewidth=0, zorder=0.5,
                       label=f"ready < {quorum}: {format_duration(total)} in total" if i == 0 else None)
        if not spans:
            ax.plot([], [], color="none", label=f"ready < {quorum}: never")
        ax.axhline(quorum, color=_QUORUM, linewidth=0.9, linestyle=":", zorder=2, label=f"quorum ({quorum})")
    _draw_actions(ax, marks, end, numbers=numbers)
    ax.set_ylim(-0.3, top + 0.6)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    ax.set_ylabel(f"{sts}\nreplicas", fontsize=9)
    ax.grid(axis="y", color="#eeeeee", linewidth=0.8)
    if not steps.t:
        ax.text(0.5, 0.5, f"no records of StatefulSet {sts}", transform=ax.transAxes, ha="center", va="center",
                color="grey")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False, borderaxespad=0.0)


def replicas_figure(source: Trace | RunData, *, statefulset: str | None = None, quorum: int | None = None,
                    until: float | None = None, title: str | None = None, width: float = 12.0) -> Figure:
    """Ready and available replicas (``StatefulSetStatus``) as steps over time, against the desired
    count (``StatefulSetCreated`` / ``StatefulSetUpdated``), one panel per StatefulSet (or only
    ``statefulset``).  With ``quorum``, the time with fewer Ready replicas than ``quorum`` is shaded
    and its total is in the legend (:func:`time_below`)."""
    end = _end_of(source, until)
    names = [statefulset] if statefulset is not None else statefulsets(source)
    marks = action_marks(source, merge_within=_merge_distance(end))
    panels = [_Panel("replicas", _REPLICAS_H, n) for n in names] or [_Panel("replicas", _REPLICAS_H, None)]
    if marks:
        panels.append(_Panel("key", _key_height(marks)))
    fig, axes = _layout(panels, width=width, left=_left_margin([]), right=_right_margin(_replica_labels(quorum)),
                        levels=max(_levels(marks, end), default=-1) + 1, title=True)
    plots = [ax for ax, p in zip(axes, panels) if p.kind == "replicas"]
    for i, (ax, p) in enumerate(zip(plots, panels)):
        if p.statefulset is None:
            ax.text(0.5, 0.5, "no StatefulSet in the trace", transform=ax.transAxes, ha="center", va="center",
                    color="grey")
            ax.set_yticks([])
        else:
            _draw_replicas(ax, source, p.statefulset, end, quorum, marks, numbers=i == 0)
        _time_axis(ax, end, labels=i == len(plots) - 1)
    if marks:
        _action_key(axes[-1], marks, end >= 3600)
    _title(fig, title if title is not None else _default_title(source, "replicas"))
    return fig


# ---------------------------------------------------------------------------- both, and files


def _default_title(source: Trace | RunData, what: str) -> str:
    if isinstance(source, Trace):
        return {"pods": "Pods over time", "replicas": "Replicas over time", "run": "Pods and replicas over time"}[what]
    sc = source.scenario
    head = sc.name + (f" — {sc.description}" if sc.description else "")
    return f"{head}  (seed {source.seed})"


def run_figure(source: Trace | RunData, *, quorum: int | None = None, title: str | None = None,
               until: float | None = None, width: float = 12.0) -> Figure:
    """The Gantt chart (:func:`timeline_figure`) on top and, below it on the same time axis, the
    replicas of every StatefulSet (:func:`replicas_figure`, one panel each), then the list of
    scenario actions: what ``run --plot`` and ``plot`` write."""
    end = _end_of(source, until)
    marks = action_marks(source, merge_within=_merge_distance(end))
    tl = _timeline(source, end, quorum, marks)
    names = statefulsets(source)
    panels = [_Panel("timeline", tl.height)] + [_Panel("replicas", _REPLICAS_H, n) for n in names]
    if marks:
        panels.append(_Panel("key", _key_height(marks)))
    labels = [h.get_label() for h in tl.handles] + (_replica_labels(quorum) if names else [])
    fig, axes = _layout(panels, width=width, left=_left_margin(r.pod for r in tl.rows), right=_right_margin(labels),
                        levels=max(_levels(marks, end), default=-1) + 1, title=True)
    _draw_timeline(axes[0], tl)
    plots = [ax for ax, p in zip(axes, panels) if p.kind != "key"]
    for ax, p in zip(axes[1:], panels[1:]):
        if p.kind == "replicas" and p.statefulset is not None:
            _draw_replicas(ax, source, p.statefulset, end, quorum, marks, numbers=False)
    for i, ax in enumerate(plots):
        _time_axis(ax, end, labels=i == len(plots) - 1)
    if marks:
        _action_key(axes[-1], marks, end >= 3600)
    _title(fig, title if title is not None else _default_title(source, "run"))
    fig.align_ylabels(plots)
    return fig


def check_format(path: str | os.PathLike[str]) -> str:
    """The matplotlib format for ``path``'s suffix; raises :class:`PlotError` for other suffixes."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    fmt = FORMATS.get(suffix)
    if fmt is None:
        found = f'"{suffix}"' if suffix else "no suffix"
        raise PlotError(f"{os.fspath(path)}: cannot tell the plot format from {found}; "
                        f"use one of {', '.join(FORMATS)}")
    return fmt


def save(fig: Figure, path: str | os.PathLike[str], *, dpi: float | None = None) -> None:
    """Write ``fig`` to ``path`` as PNG, SVG or PDF, chosen by the suffix (:data:`FORMATS`).

    ``dpi`` applies to PNG (default 110).  The same figure always gives the same bytes (no dates,
    no random SVG ids).  Raises :class:`PlotError` for an unknown suffix or a
    file that cannot be written."""
    from statefulsim.io.files import atomic_write

    fmt = check_format(path)

    def write(fh: IO[bytes]) -> None:
        with rc_context({"svg.hashsalt": "statefulsim"}):  # SVG ids from content, not random
            fig.savefig(fh, format=fmt, dpi=dpi if dpi is not None else 110, metadata=_metadata(fmt),
                        facecolor="white")

    try:
        atomic_write(path, write)  # a kill while drawing leaves the old plot, not half a file
    except OSError as e:
        raise PlotError(f"{os.fspath(path)}: cannot write the plot: {e.strerror or e}") from None


def _metadata(fmt: str) -> dict[str, Any]:
    # no creation date, so the same run writes the same SVG / PDF
    if fmt == "svg":
        return {"Date": None}
    if fmt == "pdf":
        return {"CreationDate": None}
    return {}


def plot_run(source: Trace | RunData, path: str | os.PathLike[str], quorum: int | None = None, *,
             title: str | None = None, until: float | None = None, dpi: float | None = None) -> Figure:
    """Write :func:`run_figure` (the Gantt chart and the replicas in one figure) to ``path`` and
    return the figure.  The suffix picks the format (``.png``, ``.svg``, ``.pdf``)."""
    check_format(path)
    fig = run_figure(source, quorum=quorum, title=title, until=until)
    save(fig, path, dpi=dpi)
    return fig


def plot_trace_file(trace_file: str | os.PathLike[str], output: str | os.PathLike[str] | None = None,
                    quorum: int | None = None, *, dpi: float | None = None) -> str:
    """Read a trace saved with ``run --trace`` and write :func:`run_figure` to ``output`` (default:
    the trace's path with the suffix ``.png``); returns the path written.  Raises
    :class:`~statefulsim.errors.TraceFormatError` for a bad trace and :class:`PlotError` for a bad
    output path, before drawing anything."""
    from statefulsim.io.trace_io import read_jsonl

    name = os.fspath(trace_file)
    out = os.fspath(output) if output is not None else os.path.splitext(name)[0] + ".png"
    check_format(out)
    if os.path.abspath(out) == os.path.abspath(name):
        raise PlotError(f"{out}: the plot would overwrite the trace; choose another file with -o")
    trace = read_jsonl(name)
    plot_run(trace, out, quorum, title=f"{os.path.basename(name)}: pods and replicas over time", dpi=dpi)
    return out
