"""kubectl's table text, shared by the views (``--view pods``) and the recordings written for
calibrate (:mod:`statefulsim.io.kubectl_export`): the tab writer, the rows of ``kubectl get pods
-w`` from a trace, and the OBJECT of an event.  One implementation, below both users in the
layers (docs/views.md says what each row follows)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from statefulsim.durations import human_duration
from statefulsim.sim.trace import TraceRecord

__all__ = ["POD_COLUMNS", "LabelSelector", "PodWatchRow", "TabWriter", "involved_object", "parse_selector",
           "pod_watch_rows", "pods_watch_lines"]


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


_IN_SET = re.compile(r" in StatefulSet (\S+?)(?: successful| failed| success|$)")
_RECREATING = re.compile(r"^StatefulSet [^/\s]+/(\S+) is recreating")


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
