"""kubectl's views of a run: ``get pods -w``, ``get events --watch``, ``rollout status``.

Each view reads a trace (a run's or a saved one) and returns the lines kubectl would have printed
had it been watching the simulated cluster from the start, so they can be put next to a
tutorial's or a terminal's output.  What each view follows, and where it cannot be exact, is in
docs/views.md.  Views are registered in :data:`VIEWS` under the name ``--view`` takes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from statefulsim.analysis.metrics import kubectl_rollout_status
from statefulsim.analysis.replay import int_field
from statefulsim.durations import format_clock, human_duration
from statefulsim.registry import Registry
from statefulsim.sim.trace import Trace, TraceRecord

__all__ = ["VIEWS", "EventRow", "LabelSelector", "PodWatchRow", "TabWriter", "View", "ViewOptions", "event_rows",
           "events_watch_lines", "involved_object", "parse_selector", "pod_watch_rows", "pods_watch_lines",
           "rollout_status_line", "rollout_status_lines"]


class TabWriter:
    """kubectl's table layout (cli-runtime ``GetNewTabWriter``): every cell but a row's last is
    padded to its column's width, the widest cell plus 3 and at least 6; widths are remembered
    across flushes and only grow, so a watch's later rows line up with the earlier ones unless a
    wider cell arrives."""

    def __init__(self, minwidth: int = 6, padding: int = 3) -> None:
        self.minwidth = minwidth
        self.padding = padding
        self._widths: list[int] = []

    def flush(self, rows: Sequence[Sequence[str]]) -> list[str]:
        """The lines of one flush (one watch event, or the header with the first rows)."""
        for row in rows:
            for i, cell in enumerate(row[:-1]):
                width = max(self.minwidth, len(cell) + self.padding)
                if i == len(self._widths):
                    self._widths.append(width)
                elif width > self._widths[i]:
                    self._widths[i] = width
        return ["".join(cell.ljust(self._widths[i]) for i, cell in enumerate(row[:-1])) + (row[-1] if row else "")
                for row in rows]


# --- label selectors (the -l flag) -------------------------------------------------------------

_REQUIREMENT = re.compile(r"^\s*(!?)([A-Za-z0-9./_-]+)\s*(?:(==|=|!=)\s*([A-Za-z0-9._-]*))?\s*$")


@dataclass(frozen=True)
class LabelSelector:
    """A ``-l`` equality-based selector: ``key=value``, ``key==value``, ``key!=value``, ``key``
    (the label exists) and ``!key`` (it does not), comma-separated, all must hold."""

    requirements: tuple[tuple[str, str, str], ...]  # (key, op, value); op in = != exists !exists

    def matches(self, labels: Mapping[str, str]) -> bool:
        for key, op, value in self.requirements:
            if op == "=" and labels.get(key) != value:
                return False
            if op == "!=" and labels.get(key) == value:
                return False
            if op == "exists" and key not in labels:
                return False
            if op == "!exists" and key in labels:
                return False
        return True

    def __str__(self) -> str:
        parts = []
        for key, op, value in self.requirements:
            parts.append(key if op == "exists" else f"!{key}" if op == "!exists" else f"{key}{op}{value}")
        return ",".join(parts)


def parse_selector(text: str) -> LabelSelector:
    """Parse a ``-l`` selector; raises ValueError saying which requirement is not understood."""
    requirements = []
    for part in text.split(","):
        m = _REQUIREMENT.match(part)
        if m is None or (m.group(1) and m.group(3)):
            raise ValueError(f"cannot read the selector requirement {part.strip()!r}: expected key=value, "
                             "key!=value, key or !key (set-based selectors such as 'in (...)' are not supported)")
        bang, key, op, value = m.groups()
        if op is None:
            requirements.append((key, "!exists" if bang else "exists", ""))
        else:
            requirements.append((key, "=" if op in ("=", "==") else "!=", value or ""))
    return LabelSelector(tuple(requirements))


# --- kubectl get pods -w -----------------------------------------------------------------------

@dataclass(frozen=True)
class PodWatchRow:
    """One row of ``kubectl get pods -w``: the watch event type and the five columns."""

    t: float
    event: str  # ADDED | MODIFIED | DELETED
    name: str
    ready: str
    status: str
    restarts: str
    age: str

    def cells(self, watch_events: bool = False) -> tuple[str, ...]:
        row = (self.name, self.ready, self.status, self.restarts, self.age)
        return ((self.event.ljust(8),) + row) if watch_events else row


@dataclass
class _PodState:
    name: str
    created: float
    labels: dict[str, str]
    owner: str | None = None
    last_exit: float | None = None
    shown: PodWatchRow | None = None


def _restarts(value: object, now: float, last_exit: float | None) -> str:
    """The RESTARTS cell: ``N``, or ``N (<age> ago)`` once a container restarted."""
    if isinstance(value, str):
        return value
    count = int(value) if isinstance(value, (int, float)) else 0
    if count and last_exit is not None:
        return f"{count} ({human_duration(now - math.floor(last_exit))} ago)"
    return str(count)


def pod_watch_rows(trace: Iterable[TraceRecord], *, statefulset: str | None = None,
                   selector: LabelSelector | None = None,
                   template_labels: Mapping[str, Mapping[str, str]] | None = None) -> Iterator[PodWatchRow]:
    """The rows ``kubectl get pods -w`` prints, one per ``PodStatus`` record (the row changed)
    and one for each pod's deletion, in trace order.  ``template_labels`` (set name -> labels)
    adds the pod template's labels to the ones the controller sets, for ``selector``."""
    pods: dict[str, _PodState] = {}
    for r in trace:
        uid = r.fields.get("uid")
        if not isinstance(uid, str):
            continue
        if r.event == "PodCreated":
            owner = r.fields.get("statefulset")
            labels = dict((template_labels or {}).get(str(owner), {}))
            labels["statefulset.kubernetes.io/pod-name"] = str(r.fields["pod"])
            labels["apps.kubernetes.io/pod-index"] = str(r.fields.get("ordinal"))
            if r.fields.get("revision"):
                labels["controller-revision-hash"] = str(r.fields["revision"])
            pods[uid] = _PodState(str(r.fields["pod"]), r.t, labels, str(owner) if owner is not None else None)
            continue
        state = pods.get(uid)
        if r.event == "PodStatus":
            if state is None:  # a trace cut from a longer one: the pod existed before it
                state = pods[uid] = _PodState(str(r.fields["pod"]), r.t, {
                    "statefulset.kubernetes.io/pod-name": str(r.fields["pod"])})
            if statefulset is not None and state.owner != statefulset:
                continue
            if selector is not None and not selector.matches(state.labels):
                continue
            age = human_duration(r.t - math.floor(state.created))
            row = PodWatchRow(r.t, "MODIFIED" if state.shown else "ADDED", state.name, str(r.fields["ready"]),
                              str(r.fields["status"]), _restarts(r.fields["restarts"], r.t, state.last_exit), age)
            state.shown = row
            yield row
        elif state is None:
            continue
        elif r.event == "ContainerExited":
            state.last_exit = r.t
        elif r.event == "PodDeleted" and state.shown is not None:
            last = state.shown
            yield PodWatchRow(r.t, "DELETED", last.name, last.ready, last.status,
                              last.restarts, human_duration(r.t - math.floor(state.created)))
            del pods[uid]


POD_COLUMNS = ("NAME", "READY", "STATUS", "RESTARTS", "AGE")


def pods_watch_lines(rows: Iterable[PodWatchRow], *, watch_events: bool = False) -> list[str]:
    """``kubectl get pods -w`` text: the header with the first row, then a row per event."""
    writer = TabWriter()
    lines: list[str] = []
    for row in rows:
        flush: list[tuple[str, ...]] = []
        if not lines:
            flush.append((("EVENT",) if watch_events else ()) + POD_COLUMNS)
        flush.append(row.cells(watch_events))
        lines.extend(writer.flush(flush))
    return lines


# --- kubectl get events --watch ----------------------------------------------------------------

#: Reasons kubectl shows as TYPE Warning when a record does not say (docs/views.md).
WARNING_REASONS = frozenset({
    "FailedCreate", "FailedDelete", "FailedUpdate", "RecreatingFailedPod", "FailedScheduling", "FailedAttachVolume",
    "FailedMount", "Failed", "Unhealthy", "ErrImageNeverPull", "InspectFailed", "Evicted", "FailedPostStartHook",
    "FailedPreStopHook", "FailedKillPod", "ProvisioningFailed", "EvictionBlocked"})

_IN_SET = re.compile(r" in StatefulSet (\S+?)(?: successful| failed| success|$)")
_RECREATING = re.compile(r"^StatefulSet [^/\s]+/(\S+) is recreating")


@dataclass(frozen=True)
class EventRow:
    """One row of ``kubectl get events --watch``."""

    t: float
    type: str
    reason: str
    object: str
    message: str
    count: int

    def cells(self) -> tuple[str, ...]:
        return ("0s", self.type, self.reason, self.object, self.message)


def involved_object(fields: Mapping[str, object]) -> str:
    """kubectl's OBJECT cell for a ``KubeEvent`` record.  The StatefulSet controller's events
    are about a pod or a claim but recorded on the set (``recordPodEvent``/``recordClaimEvent``),
    so their OBJECT is ``statefulset/<name>``; other records name their object themselves."""
    obj = str(fields.get("object", ""))
    if fields.get("component") == "statefulset-controller":
        message = str(fields.get("message", ""))
        m = _IN_SET.search(message) or _RECREATING.search(message)
        if m is not None:
            return f"statefulset/{m.group(1)}"
    return obj


def event_rows(trace: Iterable[TraceRecord], *, statefulset: str | None = None) -> Iterator[EventRow]:
    """The ``KubeEvent`` records as kubectl's rows; ``statefulset`` keeps the set's own events and
    those of its pods (``<set>-<ordinal>``) and claims (``<template>-<set>-<ordinal>``)."""
    pod_name = re.compile(rf"^(?:pod|persistentvolumeclaim)/(?:.+-)?{re.escape(statefulset)}-\d+$") if statefulset else None
    for r in trace:
        if r.event != "KubeEvent":
            continue
        obj = involved_object(r.fields)
        if statefulset is not None and pod_name is not None:
            if obj != f"statefulset/{statefulset}" and not pod_name.match(obj):
                continue
        reason = str(r.fields["reason"])
        type_ = r.fields.get("type")
        if not isinstance(type_, str):
            type_ = "Warning" if reason in WARNING_REASONS else "Normal"
        count = r.fields.get("count")
        yield EventRow(r.t, type_, reason, obj, str(r.fields["message"]).strip(),
                       count if isinstance(count, int) else 1)


EVENT_COLUMNS = ("LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE")


def events_watch_lines(rows: Iterable[EventRow]) -> list[str]:
    """``kubectl get events --watch`` text.  Every row is a watch event of an Event the API server
    has just written, so its LAST SEEN is ``0s``."""
    writer = TabWriter()
    lines: list[str] = []
    for row in rows:
        lines.extend(writer.flush(([EVENT_COLUMNS] if not lines else []) + [row.cells()]))
    return lines


# --- kubectl rollout status --------------------------------------------------------------------

@dataclass
class _SetState:
    name: str
    replicas: int = 0
    generation: int = 1
    update_strategy: str = "RollingUpdate"
    partition: int | None = 0
    status: Mapping[str, object] = field(default_factory=dict)


def rollout_status_line(s: _SetState) -> tuple[str, bool]:
    """kubectl's ``StatefulSetStatusViewer.Status`` for the set as the view saw it
    (:func:`statefulsim.analysis.metrics.kubectl_rollout_status`)."""
    return kubectl_rollout_status(s.replicas, s.generation, s.partition, s.status, s.update_strategy)


def rollout_status_lines(trace: Iterable[TraceRecord], *, statefulset: str | None = None) -> list[str]:
    """What ``kubectl rollout status statefulset/NAME`` prints, started when the set is created
    and again after each change of its spec (each one a ``$ kubectl rollout status ...`` line
    with the simulated time), until the rollout is done, the set is deleted or the trace ends."""
    sets: dict[str, _SetState] = {}
    watching: set[str] = set()
    lines: list[str] = []
    for r in trace:
        name = r.fields.get("statefulset")
        if not isinstance(name, str) or (statefulset is not None and name != statefulset):
            continue
        if r.event in ("StatefulSetCreated", "StatefulSetUpdated"):
            s = sets.setdefault(name, _SetState(name))
            s.replicas = int_field(r.fields.get("replicas"), 0)
            s.generation = int_field(r.fields.get("generation"), 1) or 1
            s.update_strategy = str(r.fields.get("updateStrategy", "RollingUpdate"))
            part = r.fields.get("partition")
            s.partition = int_field(part, 0) if part is not None else None
            if r.event == "StatefulSetCreated":
                s.status = {}
            if name not in watching:
                watching.add(name)
                lines.append(f"$ kubectl rollout status statefulset/{name}    # at {format_clock(r.t)}")
        elif r.event == "StatefulSetStatus" and name in sets:
            sets[name].status = r.fields
        elif r.event == "StatefulSetDeleted" and name in watching:
            lines.append("error: object has been deleted")
            watching.discard(name)
            continue
        else:
            continue
        if name in watching:
            line, done = rollout_status_line(sets[name])
            lines.append(line)
            if done:
                watching.discard(name)
    return lines


# --- the registry --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ViewOptions:
    """What the ``--view`` flags choose: a set, a ``-l`` selector, the ``EVENT`` column."""

    statefulset: str | None = None
    selector: LabelSelector | None = None
    watch_events: bool = False
    template_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


class View(Protocol):
    """A kubectl view: the text lines it prints for a trace."""

    @property
    def help(self) -> str: ...

    def lines(self, trace: Trace, options: ViewOptions) -> list[str]: ...


@dataclass(frozen=True)
class _PodsView:
    help: str = "kubectl get pods -w"

    def lines(self, trace: Trace, options: ViewOptions) -> list[str]:
        return pods_watch_lines(pod_watch_rows(trace, statefulset=options.statefulset, selector=options.selector,
                                               template_labels=options.template_labels),
                                watch_events=options.watch_events)


@dataclass(frozen=True)
class _EventsView:
    help: str = "kubectl get events --watch"

    def lines(self, trace: Trace, options: ViewOptions) -> list[str]:
        return events_watch_lines(event_rows(trace, statefulset=options.statefulset))


@dataclass(frozen=True)
class _RolloutView:
    help: str = "kubectl rollout status statefulset/NAME"

    def lines(self, trace: Trace, options: ViewOptions) -> list[str]:
        return rollout_status_lines(trace, statefulset=options.statefulset)


VIEWS: Registry[View] = Registry("view")
VIEWS.register("pods", _PodsView(), builtin=True)
VIEWS.register("events", _EventsView(), builtin=True)
VIEWS.register("rollout", _RolloutView(), builtin=True)
