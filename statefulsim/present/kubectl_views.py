"""kubectl's views of a run: ``get pods -w``, ``get events --watch``, ``rollout status``.

Each view reads a trace (a run's or a saved one) and returns the lines kubectl would have printed
had it been watching the simulated cluster from the start, so they can be put next to a
tutorial's or a terminal's output.  What each view follows, and where it cannot be exact, is in
docs/views.md.  Views are registered in :data:`VIEWS` under the name ``--view`` takes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from statefulsim.analysis.metrics import kubectl_rollout_status
from statefulsim.analysis.replay import int_field
from statefulsim.durations import format_clock
from statefulsim.io.kubectl_tables import (
    POD_COLUMNS,
    LabelSelector,
    PodWatchRow,
    TabWriter,
    involved_object,
    parse_selector,
    pod_watch_rows,
    pods_watch_lines,
)
from statefulsim.registry import Registry
from statefulsim.sim.trace import Trace, TraceRecord

__all__ = ["POD_COLUMNS", "VIEWS", "EventRow", "LabelSelector", "PodWatchRow", "TabWriter", "View", "ViewOptions", "event_rows",
           "events_watch_lines", "involved_object", "parse_selector", "pod_watch_rows", "pods_watch_lines",
           "rollout_status_line", "rollout_status_lines"]


# --- kubectl get events --watch ----------------------------------------------------------------

#: Reasons kubectl shows as TYPE Warning when a record does not say (docs/views.md).
WARNING_REASONS = frozenset({
    "FailedCreate", "FailedDelete", "FailedUpdate", "RecreatingFailedPod", "FailedScheduling", "FailedAttachVolume",
    "FailedMount", "Failed", "Unhealthy", "ErrImageNeverPull", "InspectFailed", "Evicted", "FailedPostStartHook",
    "FailedPreStopHook", "FailedKillPod", "ProvisioningFailed", "EvictionBlocked"})

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
