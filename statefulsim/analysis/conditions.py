"""The conditions of ``when:`` actions, in the expectations' vocabulary, judged record by record.

``{readyReplicas: {statefulset, equals|atLeast}}`` and ``availableReplicas`` (the set's last
``StatefulSetStatus``), ``{rolloutComplete: {statefulset}}`` (``kubectl rollout status``'s rule,
:func:`~statefulsim.analysis.metrics.is_rolled_out`, on the replayed set) and an event match
``{event: PodReady, pod: web-2}`` (a matching record appended after the action was armed; ``nth``
counts those).  Each implements :class:`statefulsim.sim.triggers.Condition`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

from statefulsim.analysis.expect import EventMatch, parse_count
from statefulsim.analysis.metrics import is_rolled_out
from statefulsim.analysis.replay import Replay
from statefulsim.problems import Path, Problems, get_mapping, get_str
from statefulsim.sim.trace import TraceRecord

__all__ = ["CONDITION_KINDS", "EventCondition", "ReplicasCondition", "RolloutCompleteCondition", "parse_condition"]


@dataclass
class _ReplicasWatch:
    condition: ReplicasCondition
    holds: bool = False

    def feed(self, record: TraceRecord) -> bool:
        c = self.condition
        if record.event == "StatefulSetStatus" and record.get("statefulset") == c.statefulset:
            n = record.get(c.kind)
            self.holds = isinstance(n, int) and (n == c.count if c.exact else n >= c.count)
        elif record.event == "StatefulSetDeleted" and record.get("statefulset") == c.statefulset:
            self.holds = False
        return self.holds


@dataclass(frozen=True)
class ReplicasCondition:
    """The set's last status reports exactly (``equals``) or at least (``atLeast``) N replicas
    of ``kind`` (``readyReplicas`` or ``availableReplicas``)."""

    kind: str
    statefulset: str
    count: int
    exact: bool

    def watch(self, history: Sequence[TraceRecord]) -> _ReplicasWatch:
        w = _ReplicasWatch(self)
        for r in history:
            w.feed(r)
        return w

    def as_fields(self) -> dict[str, Any]:
        return {self.kind: {"statefulset": self.statefulset, "equals" if self.exact else "atLeast": self.count}}

    def statefulsets(self) -> tuple[str, ...]:
        return (self.statefulset,)


@dataclass
class _RolloutWatch:
    statefulset: str
    replay: Replay
    holds: bool = False

    def feed(self, record: TraceRecord) -> bool:
        self.replay.apply(record)
        st = self.replay.sets.get(self.statefulset)
        self.holds = st is not None and st.deleted is None and is_rolled_out(st)
        return self.holds


@dataclass(frozen=True)
class RolloutCompleteCondition:
    """``kubectl rollout status`` would return: the set's status has observed its generation and
    every replica (above the partition) is Ready at the update revision."""

    statefulset: str
    kind: ClassVar[str] = "rolloutComplete"

    def watch(self, history: Sequence[TraceRecord]) -> _RolloutWatch:
        w = _RolloutWatch(self.statefulset, Replay())
        for r in history:
            w.feed(r)
        return w

    def as_fields(self) -> dict[str, Any]:
        return {self.kind: {"statefulset": self.statefulset}}

    def statefulsets(self) -> tuple[str, ...]:
        return (self.statefulset,)


@dataclass
class _EventWatch:
    match: EventMatch
    seen: int = 0
    holds: bool = False

    def feed(self, record: TraceRecord) -> bool:
        if not self.holds and self.match.matches(record):
            self.seen += 1
            self.holds = self.seen >= self.match.nth
        return self.holds


@dataclass(frozen=True)
class EventCondition:
    """A record matching ``{event: NAME, field: value, ...}`` is appended after the action is
    armed (the ``nth`` such record, default the first)."""

    match: EventMatch

    def watch(self, history: Sequence[TraceRecord]) -> _EventWatch:
        return _EventWatch(self.match)

    def as_fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event": self.match.event, **dict(self.match.fields)}
        if self.match.nth != 1:
            out["nth"] = self.match.nth
        return out

    def statefulsets(self) -> tuple[str, ...]:
        return ()


#: The condition kinds besides an event match (``{event: ...}``).
CONDITION_KINDS = ("readyReplicas", "availableReplicas", "rolloutComplete")


def parse_condition(raw: Any, path: Path, problems: Problems) -> Any:
    """A ``when:`` condition at ``path``; None after recording its problems."""
    if isinstance(raw, Mapping) and "event" in raw:
        match = EventMatch.parse(raw, path, problems)
        return EventCondition(match) if match.event else None
    if not isinstance(raw, Mapping) or len(raw) != 1:
        problems.expected(path, "one condition: {readyReplicas: {statefulset: web, atLeast: 3}}, "
                                "{availableReplicas: {...}}, {rolloutComplete: {statefulset: web}} "
                                "or an event match such as {event: PodReady, pod: web-2}", raw)
        return None
    (kind, _), = raw.items()
    if kind not in CONDITION_KINDS:
        problems.unknown_keys(raw, CONDITION_KINDS + ("event",), path)
        return None
    m = get_mapping(raw, kind, path, problems, required=True)
    kpath = path + (kind,)
    if kind == RolloutCompleteCondition.kind:
        problems.unknown_keys(m, ("statefulset",), kpath)
        return RolloutCompleteCondition(get_str(m, "statefulset", kpath, problems, required=True))
    problems.unknown_keys(m, ("statefulset", "atLeast", "equals"), kpath)
    statefulset, count, exact = parse_count(m, kpath, problems)
    return ReplicasCondition(str(kind), statefulset, count, exact)
