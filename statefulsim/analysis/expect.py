"""Expectations: assertions about a run, checked against its trace after the run.

Each kind has a ``parse`` (plain mapping in, problems recorded with key paths) and a ``check``
(trace in, :class:`ExpectationResult` out).  Add kinds with :func:`register_expectation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Protocol, Sequence

from statefulsim.analysis.metrics import is_rolled_out, rollout_status_line, rollouts
from statefulsim.analysis.replay import Replay, SetState
from statefulsim.durations import DurationError, format_clock, format_duration, parse_duration
from statefulsim.problems import Path, Problems, get_duration, get_int, get_list, get_mapping, get_str
from statefulsim.registry import Registry
from statefulsim.sim.trace import Trace, TraceRecord, TraceSource, as_trace


@dataclass(frozen=True)
class ExpectationResult:
    ok: bool
    description: str
    detail: str


class Expectation(Protocol):
    kind: ClassVar[str]

    def check(self, trace: Trace) -> ExpectationResult: ...

    def statefulsets(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class EventMatch:
    """``{event: PodReady, pod: web-0}``: records of that event whose fields equal the rest."""

    event: str
    fields: tuple[tuple[str, Any], ...]
    nth: int = 1  # which occurrence counts (``nth: 2`` = the second matching record)

    @classmethod
    def parse(cls, m: Any, path: Path, problems: Problems) -> EventMatch:
        if not isinstance(m, Mapping):
            problems.expected(path, "a mapping such as {event: PodReady, pod: web-0}", m)
            return cls("", ())
        event = get_str(m, "event", path, problems, required=True)
        nth = get_int(m, "nth", path, problems, 1, minimum=1)
        rest = tuple((str(k), v) for k, v in m.items() if k not in ("event", "nth"))
        return cls(event, rest, nth)

    def matches(self, r: TraceRecord) -> bool:
        return r.event == self.event and all(r.fields.get(k) == v for k, v in self.fields)

    def first(self, trace: Trace) -> TraceRecord | None:
        """The ``nth`` matching record (the first one by default)."""
        seen = 0
        for r in trace:
            if self.matches(r):
                seen += 1
                if seen == self.nth:
                    return r
        return None

    def __str__(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in self.fields)
        base = f"{self.event}({inner})" if inner else self.event
        return base if self.nth == 1 else f"{base}#{self.nth}"


def _when(r: TraceRecord | None) -> str:
    return "never" if r is None else f"at {format_clock(r.t)}"


def parse_count(m: Mapping[str, Any], path: Path, problems: Problems) -> tuple[str, int, bool]:
    """``{statefulset, atLeast: N}`` or ``{statefulset, equals: N}``: (set, N, exact)."""
    if ("atLeast" in m) == ("equals" in m):
        problems.add(path, "give exactly one of atLeast or equals")
    exact = "equals" in m
    count = get_int(m, "equals" if exact else "atLeast", path, problems, 0, minimum=0)
    return get_str(m, "statefulset", path, problems, required=True), count, exact


@dataclass(frozen=True)
class ReadyReplicas:
    """The set's status reports at least (or exactly) N ready replicas no later than ``by``."""

    statefulset: str
    count: int
    by: float
    exact: bool
    kind: ClassVar[str] = "readyReplicas"

    @classmethod
    def parse(cls, m: Mapping[str, Any], path: Path, problems: Problems) -> ReadyReplicas:
        problems.unknown_keys(m, ("statefulset", "atLeast", "equals", "by"), path)
        statefulset, count, exact = parse_count(m, path, problems)
        by = get_duration(m, "by", path, problems, float("inf"))
        return cls(statefulset, count, by, exact)

    def statefulsets(self) -> Sequence[str]:
        return (self.statefulset,)

    def check(self, trace: Trace) -> ExpectationResult:
        op = "=" if self.exact else ">="
        desc = f"{self.statefulset} {self.kind} {op} {self.count} by {format_clock(self.by)}"
        best = None
        for r in trace.of("StatefulSetStatus", statefulset=self.statefulset):
            n = r.fields[self.kind]
            hit = n == self.count if self.exact else n >= self.count
            if hit and best is None:
                best = r
        if best is not None and best.t <= self.by:
            return ExpectationResult(True, desc, f"reached at {format_clock(best.t)}")
        last = [r.fields[self.kind] for r in trace.of("StatefulSetStatus", statefulset=self.statefulset)]
        if best is not None:
            seen = f"reached only at {format_clock(best.t)}"
        else:
            seen = f"never reached (last {self.kind}: {last[-1] if last else 'no status'})"
        return ExpectationResult(False, desc, seen)


@dataclass(frozen=True)
class AvailableReplicas(ReadyReplicas):
    """Like readyReplicas, for availableReplicas (Ready for longer than minReadySeconds)."""

    kind: ClassVar[str] = "availableReplicas"


def live_pods(trace: TraceSource, at: float, statefulset: str | None = None) -> list[str]:
    """Names of the pods that exist (created, not yet deleted) at time ``at``, by ordinal."""
    trace = as_trace(trace)
    alive: dict[str, tuple[str, int]] = {}
    for r in trace:
        if r.t > at:
            break
        if r.event == "PodCreated" and (statefulset is None or r.fields.get("statefulset") == statefulset):
            alive[r.fields["uid"]] = (r.fields["pod"], r.fields.get("ordinal", -1))
        elif r.event == "PodDeleted":
            alive.pop(r.fields["uid"], None)
    return [name for name, _ in sorted(alive.values(), key=lambda x: (x[1], x[0]))]


@dataclass(frozen=True)
class Pods:
    """Exactly these pods of the set exist at time ``at``."""

    statefulset: str
    at: float
    names: tuple[str, ...]
    kind: ClassVar[str] = "pods"

    @classmethod
    def parse(cls, m: Mapping[str, Any], path: Path, problems: Problems) -> Pods:
        problems.unknown_keys(m, ("statefulset", "at", "names"), path)
        at = get_duration(m, "at", path, problems, required=True)
        names = get_list(m, "names", path, problems, required=True)
        for i, n in enumerate(names):
            if not isinstance(n, str):
                problems.expected(path + ("names", i), "a pod name", n)
        return cls(get_str(m, "statefulset", path, problems, required=True), at, tuple(str(n) for n in names))

    def statefulsets(self) -> Sequence[str]:
        return (self.statefulset,)

    def check(self, trace: Trace) -> ExpectationResult:
        found = live_pods(trace, self.at, self.statefulset)
        desc = f"{self.statefulset} pods at {format_clock(self.at)} are {', '.join(self.names) or 'none'}"
        return ExpectationResult(sorted(found) == sorted(self.names), desc, f"found {', '.join(found) or 'none'}")


@dataclass(frozen=True)
class Before:
    """The first ``first`` event happens before the first ``then`` event (both must happen)."""

    first: EventMatch
    then: EventMatch
    kind: ClassVar[str] = "before"

    @classmethod
    def parse(cls, m: Mapping[str, Any], path: Path, problems: Problems) -> Before:
        problems.unknown_keys(m, ("first", "then"), path)
        for key in ("first", "then"):
            if key not in m:
                problems.add(path + (key,), "required key is missing")
        return cls(EventMatch.parse(m.get("first"), path + ("first",), problems),
                   EventMatch.parse(m.get("then"), path + ("then",), problems))

    def statefulsets(self) -> Sequence[str]:
        return ()

    def check(self, trace: Trace) -> ExpectationResult:
        a, b = self.first.first(trace), self.then.first(trace)
        desc = f"{self.first} before {self.then}"
        detail = f"{self.first} {_when(a)}, {self.then} {_when(b)}"
        ok = a is not None and b is not None and (a.t, trace.records.index(a)) < (b.t, trace.records.index(b))
        return ExpectationResult(ok, desc, detail)


@dataclass(frozen=True)
class Order:
    """The first occurrences of ``event`` for each pod happen in the given order."""

    event: str
    pods: tuple[str, ...]
    kind: ClassVar[str] = "order"

    @classmethod
    def parse(cls, m: Mapping[str, Any], path: Path, problems: Problems) -> Order:
        problems.unknown_keys(m, ("event", "pods"), path)
        pods = get_list(m, "pods", path, problems, required=True)
        for i, p in enumerate(pods):
            if not isinstance(p, str):
                problems.expected(path + ("pods", i), "a pod name", p)
        if len(pods) < 2:
            problems.add(path + ("pods",), "list at least two pods")
        return cls(get_str(m, "event", path, problems, required=True), tuple(str(p) for p in pods))

    def statefulsets(self) -> Sequence[str]:
        return ()

    def check(self, trace: Trace) -> ExpectationResult:
        firsts: list[float] = []
        missing = []
        for pod in self.pods:
            r = trace.first(self.event, pod=pod)
            if r is None:
                missing.append(pod)
            else:
                firsts.append(r.t)
        desc = f"{self.event} in order {', '.join(self.pods)}"
        if missing:
            return ExpectationResult(False, desc, f"never happened for {', '.join(missing)}")
        ok = all(a <= b for a, b in zip(firsts, firsts[1:]))
        detail = ", ".join(f"{p} at {format_clock(t)}" for p, t in zip(self.pods, firsts))
        return ExpectationResult(ok, desc, detail)


@dataclass(frozen=True)
class Never:
    """No record matches ``event`` (optionally within ``[from, until]``)."""

    match: EventMatch
    start: float
    end: float
    kind: ClassVar[str] = "never"

    @classmethod
    def parse(cls, m: Mapping[str, Any], path: Path, problems: Problems) -> Never:
        fields = dict(m)
        start, end = 0.0, float("inf")
        for key in ("from", "until"):
            if key in fields:
                try:
                    value = parse_duration(fields.pop(key))
                except DurationError as e:
                    problems.add(path + (key,), str(e))
                    continue
                if key == "from":
                    start = value
                else:
                    end = value
        return cls(EventMatch.parse(fields, path, problems), start, end)

    def statefulsets(self) -> Sequence[str]:
        return ()

    def check(self, trace: Trace) -> ExpectationResult:
        hits = [r for r in trace if self.match.matches(r) and self.start <= r.t <= self.end]
        desc = f"never {self.match}"
        if len(hits) >= self.match.nth:
            return ExpectationResult(False, desc, f"happened at {format_clock(hits[self.match.nth - 1].t)}")
        return ExpectationResult(True, desc, "did not happen")


@dataclass(frozen=True)
class DnsDelay:
    """From a pod's first Ready to the first DNS answer with an address for ``name``:
    ``atMost`` and/or ``atLeast`` seconds."""

    name: str
    pod: str
    at_most: float
    at_least: float
    kind: ClassVar[str] = "dnsDelay"

    @classmethod
    def parse(cls, m: Mapping[str, Any], path: Path, problems: Problems) -> DnsDelay:
        problems.unknown_keys(m, ("name", "pod", "atMost", "atLeast"), path)
        if "atMost" not in m and "atLeast" not in m:
            problems.add(path, "give atMost, atLeast or both")
        return cls(get_str(m, "name", path, problems, required=True), get_str(m, "pod", path, problems, required=True),
                   get_duration(m, "atMost", path, problems, float("inf")),
                   get_duration(m, "atLeast", path, problems, 0.0))

    def statefulsets(self) -> Sequence[str]:
        return ()

    def check(self, trace: Trace) -> ExpectationResult:
        from statefulsim.analysis.dns import dns_visibility

        v = dns_visibility(trace, self.name, self.pod)
        bounds = []
        if self.at_least > 0:
            bounds.append(f">= {self.at_least:g}s")
        if self.at_most != float("inf"):
            bounds.append(f"<= {self.at_most:g}s")
        desc = f"{self.name} resolves {' and '.join(bounds)} after {self.pod} is Ready"
        if v.delay is None:
            what = "never Ready" if v.ready_at is None else "never resolved"
            return ExpectationResult(False, desc, f"{self.pod} {what}")
        ok = self.at_least <= v.delay <= self.at_most
        return ExpectationResult(ok, desc, f"Ready at {format_clock(v.ready_at or 0)}, first address at "
                                           f"{format_clock(v.first_answer_at or 0)} ({v.delay:.1f}s later, "
                                           f"after {v.negative_answers_before} negative answers)")


def _replayed_until(trace: Trace, statefulset: str, by: float) -> tuple[SetState | None, float | None, str | None]:
    """The set as the replay shows it after the records up to ``by``, when the rollout status rule
    last became true (None: it does not hold then), and its ``updateStrategy``."""
    replay = Replay()
    since: float | None = None
    strategy: str | None = None
    for r in trace:
        if r.t > by:
            break
        replay.apply(r)
        if r.get("statefulset") != statefulset:
            continue
        if r.event in ("StatefulSetCreated", "StatefulSetUpdated") and isinstance(r.get("updateStrategy"), str):
            strategy = r.get("updateStrategy")
        st = replay.sets.get(statefulset)
        done = st is not None and st.deleted is None and is_rolled_out(st)
        since = (since if since is not None else r.t) if done else None
    return replay.sets.get(statefulset), since, strategy


@dataclass(frozen=True)
class _OfOneSet:
    """An expectation about one StatefulSet (the loader checks that it exists)."""

    statefulset: str

    def statefulsets(self) -> Sequence[str]:
        return (self.statefulset,)


@dataclass(frozen=True)
class RolloutComplete(_OfOneSet):
    """At ``by`` (default: the end of the run) ``kubectl rollout status`` would say the rollout is
    complete: :func:`~statefulsim.analysis.metrics.is_rolled_out` on the set as the trace shows it
    then.  Fails with kubectl's error for an ``OnDelete`` set."""

    by: float
    kind: ClassVar[str] = "rolloutComplete"

    @classmethod
    def parse(cls, m: Mapping[str, Any], path: Path, problems: Problems) -> RolloutComplete:
        problems.unknown_keys(m, ("statefulset", "by"), path)
        return cls(get_str(m, "statefulset", path, problems, required=True),
                   get_duration(m, "by", path, problems, float("inf")))

    def check(self, trace: Trace) -> ExpectationResult:
        by = "the end" if self.by == float("inf") else format_clock(self.by)
        desc = f"{self.statefulset} rollout complete at {by}"
        st, since, strategy = _replayed_until(trace, self.statefulset, self.by)
        if strategy == "OnDelete":
            return ExpectationResult(False, desc, "rollout status is only available for RollingUpdate strategy type")
        if st is None or st.deleted is not None:
            return ExpectationResult(False, desc, "the StatefulSet does not exist")
        if since is None:
            return ExpectationResult(False, desc, f"not complete: {rollout_status_line(st)}")
        return ExpectationResult(True, desc, f"complete since {format_clock(since)}: {rollout_status_line(st)}")


@dataclass(frozen=True)
class RolloutDuration(_OfOneSet):
    """Every rollout of the set (a template change, :func:`~statefulsim.analysis.metrics.rollouts`)
    finishes, every updated pod available, within ``atMost`` of the template change.  A rollout
    superseded by the next template change before it finished is shown but not judged."""

    at_most: float
    kind: ClassVar[str] = "rolloutDuration"

    @classmethod
    def parse(cls, m: Mapping[str, Any], path: Path, problems: Problems) -> RolloutDuration:
        problems.unknown_keys(m, ("statefulset", "atMost"), path)
        return cls(get_str(m, "statefulset", path, problems, required=True),
                   get_duration(m, "atMost", path, problems, required=True))

    def check(self, trace: Trace) -> ExpectationResult:
        desc = f"{self.statefulset} rollouts take at most {format_duration(self.at_most)}"
        found = rollouts(trace, self.statefulset)
        if not found:
            return ExpectationResult(False, desc, "no template change in the trace")
        parts, ok = [], True
        for r in found:
            head = f"{r.revision} from {format_clock(r.started)}: "
            if r.superseded:
                parts.append(head + "superseded")
            elif r.seconds is None:
                ok = False
                parts.append(head + "not finished")
            else:
                ok = ok and r.seconds <= self.at_most
                parts.append(head + f"{r.seconds:.1f}s")
        return ExpectationResult(ok, desc, "; ".join(parts))


#: Expectation kinds by name (the key of an ``expect:`` item); the built-ins cannot be replaced.
EXPECTATIONS: Registry[Any] = Registry("expectation")
for _cls in (ReadyReplicas, AvailableReplicas, Pods, Before, Order, Never, DnsDelay, RolloutComplete, RolloutDuration):
    EXPECTATIONS.register(_cls.kind, _cls, builtin=True)


def register_expectation(cls: Any) -> None:
    """Add an expectation kind: ``cls.kind`` names it, ``cls.parse`` reads it, ``check(trace)``
    judges it.  Registering a plug-in kind again replaces it; a built-in kind raises ``ValueError``."""
    EXPECTATIONS.register(cls.kind, cls, replace=True)


def parse_expectations(items: list[Any], path: Path, problems: Problems) -> list[Any]:
    out: list[Any] = []
    for i, item in enumerate(items):
        ipath = path + (i,)
        if not isinstance(item, Mapping) or len(item) != 1:
            problems.expected(ipath, f"a mapping with one of {', '.join(EXPECTATIONS)}", item)
            continue
        (kind, body), = item.items()
        if kind not in EXPECTATIONS:
            problems.unknown_keys(item, EXPECTATIONS, ipath, plugin="expectation")
            continue
        cls = EXPECTATIONS.get(kind)
        m = get_mapping(item, kind, ipath, problems, required=True)
        out.append(cls.parse(m, ipath + (kind,), problems))
    return out


def check_all(expectations: Sequence[Any], trace: Trace) -> list[ExpectationResult]:
    return [e.check(trace) for e in expectations]
