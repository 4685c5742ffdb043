"""Invariants: named, documented ordering and identity guarantees of StatefulSets, checked on a trace.

Every invariant is a pure function of a :class:`~statefulsim.sim.trace.Trace` (the simulator's own,
or one read from a file) that returns :class:`Violation` records: when, which objects, and a
one-line explanation.  Nothing here looks at simulator internals; what a check cannot see in the
trace is approximated, and every approximation is listed in ``docs/invariants.md``.

    from statefulsim.analysis.invariants import check
    for v in check(result.trace):
        print(v)

Add checks with :func:`register_invariant`.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from statefulsim.analysis.replay import PodState, Replay, SetSpec, SetState
from statefulsim.analysis.replay import int_field as _int
from statefulsim.durations import format_clock
from statefulsim.registry import Registry
from statefulsim.sim.api.objects import ORDERED_READY
from statefulsim.sim.trace import Trace, TraceRecord, TraceSource, as_trace

#: How long the endpoint pipeline (EndpointSlice controller, API and watch latencies up to the
#: CoreDNS informers) may lag a pod's own Ready/NotReady records, in seconds.
DNS_PROPAGATION = 5.0
#: Extra time a second cache layer can add by raising a nearly expired answer's TTL to its
#: minimum (CoreDNS ``cache`` and NodeLocal DNSCache both default to a 5 s minimum TTL), plus 1 s
#: for CoreDNS counting down in whole seconds.
DNS_CACHE_SLACK = 5.0 + 1.0

_IN_SET = re.compile(r"\bin StatefulSet (\S+)")
_CLAIM_EVENT = re.compile(r"^create Claim (\S+) Pod (\S+) in StatefulSet (\S+)")


# ---------------------------------------------------------------------------------------------
# Public types and registry


@dataclass(frozen=True)
class _Finding:
    invariant: str
    t: float
    objects: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return f"{format_clock(self.t)} {self.invariant}: {self.message}"


@dataclass(frozen=True)
class Violation(_Finding):
    """One broken guarantee: which invariant, when (simulated seconds), the objects involved
    (``kind/name`` strings such as ``pod/web-1``) and a one-line explanation."""


@dataclass(frozen=True)
class Unjudged(_Finding):
    """Something an invariant could not decide because the trace does not show it: an imported
    recording that starts while the pods already exist (``PodFirstSeen``).  ``t`` is the moment
    the check is about; ``message`` says what is unknown."""


CheckFn = Callable[[Trace], list[Violation]]
GapsFn = Callable[[Trace], list[Unjudged]]


@dataclass(frozen=True)
class Invariant:
    """A registered check: ``check(trace)`` returns the violations, ``applies(trace)`` says
    whether the trace has anything the check is about (``check`` then runs it by default);
    ``gaps(trace)``, when given, returns what it could not judge."""

    name: str
    summary: str
    check: CheckFn
    applies: Callable[[Trace], bool]
    gaps: GapsFn | None = None


_REGISTRY: Registry[Invariant] = Registry("invariant")


def register_invariant(name: str, summary: str, check_fn: CheckFn,
                       applies: Callable[[Trace], bool] | None = None, gaps: GapsFn | None = None, *,
                       builtin: bool = False) -> Invariant:
    """Add (or replace) an invariant.  ``applies`` defaults to "always"; ``gaps`` to none.  The
    built-in ones (``builtin=True``, this module's) cannot be replaced or removed."""
    inv = Invariant(name, summary, check_fn, applies or (lambda trace: True), gaps)
    _REGISTRY.register(name, inv, replace=True, builtin=builtin)
    return inv


def unregister_invariant(name: str) -> None:
    """Remove a registered invariant (not a built-in one); an unknown name is ignored."""
    _REGISTRY.unregister(name)


def invariant_names() -> list[str]:
    """The names of every registered invariant, in registration order."""
    return _REGISTRY.names()


def get_invariant(name: str) -> Invariant:
    if name in _REGISTRY:
        return _REGISTRY.get(name)
    else:
        raise ValueError(f"unknown invariant {name!r}; known: {', '.join(_REGISTRY)}") from None


def applicable(trace: TraceSource) -> list[str]:
    """The invariants that have something to check in ``trace``."""
    trace = as_trace(trace)
    return [name for name, inv in _REGISTRY.items() if inv.applies(trace)]


def check(trace: TraceSource, names: Iterable[str] | None = None) -> list[Violation]:
    """Run the named invariants (default: every one that applies to ``trace``) and return all
    violations, ordered by time then invariant name."""
    trace = as_trace(trace)
    chosen = applicable(trace) if names is None else [get_invariant(n).name for n in names]
    out: list[Violation] = []
    for name in chosen:
        out.extend(_REGISTRY.get(name).check(trace))
    out.sort(key=lambda v: (v.t, chosen.index(v.invariant) if v.invariant in chosen else 0))
    return out


def not_judged(trace: TraceSource, names: Iterable[str] | None = None) -> list[Unjudged]:
    """What the named invariants (default: every one that applies) could not judge on ``trace``,
    ordered by time.  Empty for a simulator trace: it starts at t=0 and shows everything."""
    trace = as_trace(trace)
    chosen = applicable(trace) if names is None else [get_invariant(n).name for n in names]
    out: list[Unjudged] = []
    for name in chosen:
        gaps = _REGISTRY.get(name).gaps
        if gaps is not None:
            out.extend(gaps(trace))
    out.sort(key=lambda u: (u.t, chosen.index(u.invariant)))
    return out


def _pod_ref(name: str) -> str:
    return f"pod/{name}"


def _set_ref(name: str) -> str:
    return f"statefulset/{name}"


def _walk(trace: Trace) -> Iterator[tuple[int, TraceRecord, Replay]]:
    """Yield every record with the state *before* it, then apply it."""
    state = Replay()
    for i, r in enumerate(trace):
        yield i, r, state
        state.apply(r)


class _Observed:
    """What a trace shows, and from when.  A simulator trace shows everything from t=0.  An
    imported recording that starts late marks each pod it first saw after its creation with
    ``PodFirstSeen``: that pod's state before then is an estimate, and no pod's absence is shown
    before the recording's first look at the set (its earliest pod's first sighting)."""

    def __init__(self, trace: Trace) -> None:
        self.first_seen: dict[str, float] = {}
        self.set_start: dict[str, float] = {}
        for r in trace:
            if r.event == "PodFirstSeen":
                self.first_seen.setdefault(str(r.fields.get("uid")), r.t)
        self.lenient = bool(self.first_seen)
        if self.lenient:
            for r in trace.of("PodCreated"):
                set_name = r.fields.get("statefulset")
                if isinstance(set_name, str):
                    seen = self.first_seen.get(str(r.fields.get("uid")), r.t)
                    self.set_start[set_name] = min(seen, self.set_start.get(set_name, seen))

    def known(self, pod: PodState, t: float) -> bool:
        """Whether the trace shows ``pod``'s state at ``t``."""
        return self.first_seen.get(pod.uid, t) <= t

    def absence_known(self, statefulset: str, t: float) -> bool:
        """Whether a pod of ``statefulset`` missing from the trace at ``t`` did not exist."""
        return t >= self.set_start.get(statefulset, t)


def _controller_delete(r: TraceRecord) -> tuple[str, str] | None:
    """(pod, statefulset) of a StatefulSet controller ``SuccessfulDelete`` event of a pod."""
    if r.event != "KubeEvent" or r.fields.get("reason") != "SuccessfulDelete":
        return None
    kind, _, name = str(r.fields.get("object", "")).partition("/")
    if kind != "pod" or not name:
        return None
    m = _IN_SET.search(str(r.fields.get("message", "")))
    return (name, m.group(1)) if m else None


def _deleted_pod(state: Replay, name: str, t: float) -> PodState | None:
    """The incarnation a deletion event at ``t`` is about (it can already be gone at ``t``)."""
    pod = state.pod(name)
    if pod is not None:
        return pod
    gone = state.last_deleted.get(name)
    return gone if gone is not None and gone.deleted == t else None


def _controller_deletions(trace: Trace) -> Iterator[tuple[int, TraceRecord, Replay, SetState, PodState]]:
    """Each controller deletion of a pod with an ordinal, with the replay state at that record,
    the set and the pod incarnation it is about."""
    for i, r, state in _walk(trace):
        hit = _controller_delete(r)
        if hit is None:
            continue
        name, set_name = hit
        st = state.sets.get(set_name)
        pod = _deleted_pod(state, name, r.t)
        if st is not None and pod is not None and pod.ordinal >= 0:
            yield i, r, state, st, pod


def _has(trace: Trace, event: str, **match: Any) -> bool:
    return trace.first(event, **match) is not None


def _has_policy(trace: Trace, policy: str) -> bool:
    return _has(trace, "StatefulSetCreated", podManagementPolicy=policy)


# ---------------------------------------------------------------------------------------------
# ordered-creation


def check_ordered_creation(trace: TraceSource) -> list[Violation]:
    """OrderedReady: pod N (N above the start ordinal) is created only while every pod
    start..N-1 exists and is Running and Ready."""
    trace = as_trace(trace)
    return _ordered_creation(trace)[0]


def _ordered_creation(trace: Trace) -> tuple[list[Violation], list[Unjudged]]:
    """The violations, and the creations whose predecessors the trace does not show then."""
    seen = _Observed(trace)
    out: list[Violation] = []
    gaps: list[Unjudged] = []
    for _, r, state in _walk(trace):
        if r.event != "PodCreated":
            continue
        set_name = r.fields.get("statefulset")
        st = state.sets.get(set_name) if isinstance(set_name, str) else None
        if st is None or st.deleted is not None or st.policy != ORDERED_READY:
            continue
        n = _int(r.fields.get("ordinal"), -1)
        if n < 0 or any(c.start is None for c in st.candidates):
            continue  # the first pod the set creates tells the start; nothing to check it against
        failures: list[list[tuple[str, PodState | None]]] = []
        unsure: list[tuple[str, PodState | None]] = []  # of a spec that may have held
        for spec in st.candidates:
            assert spec.start is not None
            bad = []
            unknown = []
            for k in range(spec.start, n):
                pred = state.pod(f"{st.name}-{k}")
                if seen.lenient and (not seen.known(pred, r.t) if pred is not None
                                     else not seen.absence_known(st.name, r.t)):
                    unknown.append((f"{st.name}-{k}", pred))
                elif pred is None or not pred.running_and_ready:
                    bad.append((f"{st.name}-{k}", pred))
            if not bad and not unknown:
                break
            if bad:
                failures.append(bad)
            elif not unsure:
                unsure = unknown
        else:
            pod = r.fields["pod"]
            if unsure:
                they = "it was" if len(unsure) == 1 else "they were"
                gaps.append(Unjudged("ordered-creation", r.t, (_pod_ref(pod),) + tuple(_pod_ref(u[0]) for u in unsure),
                                     f"{pod} was created before the recording shows {_unseen(unsure, seen, st.name)}: "
                                     f"whether {they} Running and Ready then is unknown"))
                continue
            bad = min(failures, key=len)
            name, pred = bad[0]
            what = "did not exist" if pred is None else f"was {pred.state()}"
            more = f" (and {len(bad) - 1} more predecessors)" if len(bad) > 1 else ""
            out.append(Violation("ordered-creation", r.t, (_pod_ref(pod),) + tuple(_pod_ref(b[0]) for b in bad),
                                 f"{pod} was created while its predecessor {name} {what}{more}; "
                                 f"OrderedReady creates a pod only after every lower ordinal is Running and Ready"))
    return out, gaps


def _unseen(pods: Sequence[tuple[str, PodState | None]], seen: _Observed, statefulset: str) -> str:
    """``web-0 (first seen at ...) and web-1 (no pod of web is seen before ...)``."""
    parts = []
    for name, pod in pods:
        if pod is not None:
            parts.append(f"{name} (first seen at {format_clock(seen.first_seen[pod.uid])})")
        else:
            parts.append(f"{name} (no pod of {statefulset} is seen before {format_clock(seen.set_start[statefulset])})")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


# ---------------------------------------------------------------------------------------------
# ordered-termination


def check_ordered_termination(trace: TraceSource) -> list[Violation]:
    """OrderedReady: the controller deletes a condemned pod (out of the ordinal range) only when
    every higher condemned pod is gone."""
    trace = as_trace(trace)
    return _ordered_termination(trace)[0]


def _ordered_termination(trace: Trace) -> tuple[list[Violation], list[Unjudged]]:
    """The violations, and the deletions the trace cannot tell from a repeated one."""
    seen = _Observed(trace)
    out: list[Violation] = []
    gaps: list[Unjudged] = []
    for _, r, state, st, pod in _controller_deletions(trace):
        if st.policy != ORDERED_READY:
            continue
        repeat_unknown = False
        if pod.terminating and pod.changed < r.t:
            if not seen.lenient or seen.known(pod, r.t):
                continue  # deleted again (a stale cache): the first deletion was the one that counted
            repeat_unknown = True  # first seen terminating: whether it already was then is unknown
        fallback = state.fallback_start(st)
        blockers_per_spec: list[list[PodState]] = []
        for spec in st.candidates:
            if spec.in_range(pod.ordinal, fallback):
                blockers_per_spec = []
                break  # not condemned under this spec: a replacement, not a scale-down
            blockers = sorted((p for p in state.set_pods(st.name)
                               if p.ordinal > pod.ordinal and p is not pod and not spec.in_range(p.ordinal, fallback)),
                              key=lambda p: p.ordinal)
            if not blockers:
                blockers_per_spec = []
                break
            blockers_per_spec.append(blockers)
        if blockers_per_spec:
            blockers = min(blockers_per_spec, key=len)
            first = blockers[-1]
            objects = (_pod_ref(pod.name),) + tuple(_pod_ref(p.name) for p in blockers)
            if repeat_unknown:
                gaps.append(Unjudged("ordered-termination", r.t, objects,
                                     f"the controller deleted condemned {pod.name} while the higher condemned "
                                     f"{first.name} still existed, but the recording first shows {pod.name} at "
                                     f"{format_clock(seen.first_seen[pod.uid])}, already terminating: whether "
                                     f"this was its first deletion is unknown"))
                continue
            first_state = first.state() if not seen.lenient or seen.known(first, r.t) else \
                f"first seen at {format_clock(seen.first_seen[first.uid])}"
            out.append(Violation("ordered-termination", r.t, objects,
                                 f"the controller deleted condemned {pod.name} while the higher condemned {first.name} "
                                 f"still existed ({first_state}); OrderedReady removes pods highest ordinal "
                                 f"first, each only after the higher ones are gone"))
    return out, gaps


# ---------------------------------------------------------------------------------------------
# at-most-one-identity


def check_at_most_one_identity(trace: TraceSource) -> list[Violation]:
    """Never two live pods (created, not yet deleted) with the same name."""
    trace = as_trace(trace)
    out: list[Violation] = []
    for _, r, state in _walk(trace):
        if r.event != "PodCreated":
            continue
        old = state.pod(r.fields["pod"])
        if old is not None and old.uid != r.fields.get("uid"):
            out.append(Violation("at-most-one-identity", r.t, (_pod_ref(old.name),),
                                 f"{old.name} was created again (uid {str(r.fields.get('uid'))[:8]}) while the "
                                 f"incarnation {old.uid[:8]} created at {format_clock(old.created)} still existed "
                                 f"({old.state()})"))
    return out


# ---------------------------------------------------------------------------------------------
# Storage: claim-before-pod, stable-storage


def _claim_templates(trace: Trace) -> dict[tuple[str, int], set[str]]:
    """(set, incarnation) -> volumeClaimTemplate names, learned from claims tied to a pod of the
    set: a claim ``<template>-<pod>`` that the controller created for that pod (KubeEvent), that
    the pod mounted (VolumesMounted), or whose ``pod`` field names the pod (PVCCreated/PVCBound)."""
    out: dict[tuple[str, int], set[str]] = {}
    incarnations: dict[str, int] = {}
    pod_set: dict[str, tuple[str, int]] = {}  # uid -> (set, incarnation)
    latest: dict[str, tuple[str, int]] = {}  # pod name -> (set, incarnation) of its latest incarnation

    def learn(key: tuple[str, int] | None, claim: str, pod: str) -> None:
        if key is None or not claim.endswith("-" + pod) or len(claim) <= len(pod) + 1:
            return
        out.setdefault(key, set()).add(claim[: -len(pod) - 1])

    for r in trace:
        f = r.fields
        if r.event == "StatefulSetCreated":
            incarnations[f["statefulset"]] = incarnations.get(f["statefulset"], 0) + 1
        elif r.event == "PodCreated" and f.get("statefulset"):
            key = (f["statefulset"], incarnations.get(f["statefulset"], 0))
            pod_set[f["uid"]] = key
            latest[f["pod"]] = key
        elif r.event == "KubeEvent" and f.get("reason") == "SuccessfulCreate":
            m = _CLAIM_EVENT.match(str(f.get("message", "")))
            if m:
                learn((m.group(3), incarnations.get(m.group(3), 0)), m.group(1), m.group(2))
        elif r.event == "VolumesMounted":
            for claim in f.get("claims") or ():
                learn(pod_set.get(f.get("uid", "")), str(claim), f["pod"])
        elif r.event in ("PVCCreated", "PVCBound") and f.get("pod"):
            learn(latest.get(f["pod"]), str(f["pvc"]), f["pod"])
    return out


def _applies_storage(trace: Trace) -> bool:
    return _has(trace, "PVCCreated") or _has(trace, "VolumesMounted")


def check_claim_before_pod(trace: TraceSource) -> list[Violation]:
    """A pod of a set with volumeClaimTemplates is created only after every claim
    ``<template>-<pod>`` exists."""
    trace = as_trace(trace)
    templates = _claim_templates(trace)
    created: dict[str, list[float]] = {}
    for r in trace.of("PVCCreated"):
        created.setdefault(str(r.fields["pvc"]), []).append(r.t)
    out: list[Violation] = []
    for _, r, state in _walk(trace):
        if r.event != "PodCreated" or not r.fields.get("statefulset"):
            continue
        set_name = r.fields["statefulset"]
        st = state.sets.get(set_name)
        key = (set_name, st.incarnation if st is not None else 0)
        pod = r.fields["pod"]
        for tmpl in sorted(templates.get(key, ())):
            claim = f"{tmpl}-{pod}"
            if claim in state.claims:
                continue
            later = [c for c in created.get(claim, []) if c >= r.t]
            hist = state.claim_history.get(claim, [])
            if later:
                when = f"it was created only at {format_clock(later[0])}"
            elif hist:
                when = f"it was deleted at {format_clock(hist[-1][1] or 0)}"
            else:
                when = "it was never created"
            out.append(Violation("claim-before-pod", r.t, (_pod_ref(pod), f"pvc/{claim}"),
                                 f"{pod} was created before its claim {claim} existed ({when}); the controller "
                                 f"creates a pod's claims first"))
    return out


def check_stable_storage(trace: TraceSource) -> list[Violation]:
    """Every incarnation of a pod uses the claims ``<template>-<pod>`` of its own ordinal, and
    the same claims as the previous incarnations."""
    trace = as_trace(trace)
    templates = _claim_templates(trace)
    incarnations: dict[str, int] = {}
    pod_key: dict[str, tuple[str, int]] = {}  # uid -> (set, incarnation)
    pod_sets: dict[str, str] = {}  # pod name -> set
    mounted: dict[str, tuple[frozenset[str], str, float]] = {}  # pod name -> (claims, uid, t) first seen
    out: list[Violation] = []
    for r in trace:
        f = r.fields
        if r.event == "StatefulSetCreated":
            incarnations[f["statefulset"]] = incarnations.get(f["statefulset"], 0) + 1
        elif r.event == "PodCreated" and f.get("statefulset"):
            pod_key[f["uid"]] = (f["statefulset"], incarnations.get(f["statefulset"], 0))
            pod_sets[f["pod"]] = f["statefulset"]
        elif r.event == "VolumesMounted":
            pod, uid = f["pod"], f.get("uid", "")
            claims = frozenset(str(c) for c in (f.get("claims") or ()))
            key = pod_key.get(uid)
            if key is not None:
                tmpls = templates.get(key, set())
                missing = sorted(f"{t}-{pod}" for t in tmpls if f"{t}-{pod}" not in claims)
                foreign = sorted(c for c in claims for t in tmpls
                                 if c.startswith(f"{t}-{key[0]}-") and c != f"{t}-{pod}")
                if missing or foreign:
                    what = []
                    if missing:
                        what.append(f"without {', '.join(missing)}")
                    if foreign:
                        what.append(f"with another ordinal's {', '.join(foreign)}")
                    out.append(Violation("stable-storage", r.t, (_pod_ref(pod),) + tuple(f"pvc/{c}" for c in missing + foreign),
                                         f"{pod} (uid {uid[:8]}) mounted its volumes {' and '.join(what)}; a pod always "
                                         f"mounts <template>-{pod}"))
            first = mounted.get(pod)
            if first is None:
                mounted[pod] = (claims, uid, r.t)
            elif first[1] != uid and first[0] != claims:
                out.append(Violation("stable-storage", r.t, (_pod_ref(pod),) + tuple(f"pvc/{c}" for c in sorted(claims ^ first[0])),
                                     f"{pod} (uid {uid[:8]}) mounted {', '.join(sorted(claims)) or 'no claims'}, but its "
                                     f"incarnation {first[1][:8]} mounted {', '.join(sorted(first[0])) or 'no claims'} at "
                                     f"{format_clock(first[2])}; every incarnation must use the same claims"))
        elif r.event in ("PVCCreated", "PVCBound") and f.get("pod"):
            pod, claim = str(f["pod"]), str(f["pvc"])
            set_name = pod_sets.get(pod)
            if set_name is None:
                continue
            for (s, _), tmpls in templates.items():
                for t in tmpls:
                    prefix = f"{t}-{s}-"
                    owner = claim[len(t) + 1:]
                    if claim.startswith(prefix) and claim[len(prefix):].isdigit() and owner != pod:
                        out.append(Violation("stable-storage", r.t, (f"pvc/{claim}", _pod_ref(pod)),
                                             f"claim {claim} belongs to {owner} but {r.event} says pod {pod} uses it"))
    return out


# ---------------------------------------------------------------------------------------------
# reverse-ordinal-update, partition-respected


@dataclass(frozen=True)
class _UpdateDelete:
    t: float
    pod: PodState
    st_name: str
    policy: str
    target: str | None  # the update revision the deletion rolls towards
    specs: tuple[SetSpec, ...]
    fallback_start: int
    higher_old: tuple[PodState, ...]  # higher in-range pods not at the target, not terminating
    status: Mapping[str, Any] | None


def _next_update_revisions(trace: Trace) -> dict[str, tuple[list[int], list[tuple[str | None, int]]]]:
    """set -> (record indexes of its statuses, (updateRevision, observedGeneration) of each)."""
    idx: dict[str, tuple[list[int], list[tuple[str | None, int]]]] = {}
    for i, r in enumerate(trace):
        if r.event == "StatefulSetStatus":
            positions, revs = idx.setdefault(r.fields["statefulset"], ([], []))
            positions.append(i)
            revs.append((r.fields.get("updateRevision"), _int(r.fields.get("observedGeneration"), 0)))
    return idx


def _update_deletions(trace: Trace) -> Iterator[_UpdateDelete]:
    """Controller deletions of in-range, non-failed pods: the rolling update's replacements.
    The revision they roll towards is the ``updateRevision`` of the set's next status (written by
    the same sync), unless that status is for a newer generation than the set had at the
    deletion; then the latest one known before it.  A repeated deletion of a pod that is already
    terminating (the controller's cache had not seen the first one yet) is not a new replacement."""
    nexts = _next_update_revisions(trace)
    for i, r, state, st, pod in _controller_deletions(trace):
        if pod.phase in ("Failed", "Succeeded"):
            continue
        if pod.terminating and pod.changed < r.t:
            continue  # deleted again: the first deletion was the replacement
        fallback = state.fallback_start(st)
        if not all(spec.in_range(pod.ordinal, fallback) for spec in st.candidates):
            continue  # condemned (scale-down or start change): ordered-termination's business
        positions, revs = nexts.get(st.name, ([], []))
        j = bisect.bisect_right(positions, i)
        target = st.update_revision
        if j < len(revs) and revs[j][1] <= st.generation:
            target = revs[j][0]
        if target is not None and pod.revision == target:
            continue  # not an update (nothing to roll towards)
        higher = tuple(sorted((p for p in state.set_pods(st.name)
                               if p.ordinal > pod.ordinal and p is not pod and not p.terminating
                               and p.revision != target and all(s.in_range(p.ordinal, fallback) for s in st.candidates)),
                              key=lambda p: -p.ordinal))
        yield _UpdateDelete(r.t, pod, st.name, st.policy, target, tuple(st.candidates), fallback, higher, st.status)


def check_reverse_ordinal_update(trace: TraceSource) -> list[Violation]:
    """A rolling update replaces pods from the highest ordinal down: when the controller deletes
    pod k for an update, every higher pod in range already runs the update revision (or is being
    deleted).  Parallel sets may replace an unavailable old pod first (maxUnavailable two-phase)."""
    trace = as_trace(trace)
    out: list[Violation] = []
    for d in _update_deletions(trace):
        if not d.higher_old:
            continue
        if d.policy != ORDERED_READY:
            status = d.status or {}
            some_unavailable = _int(status.get("availableReplicas"), 0) < _int(status.get("readyReplicas"), 0)
            if not d.pod.running_and_ready or some_unavailable:
                continue
        top = d.higher_old[0]
        out.append(Violation("reverse-ordinal-update", d.t, (_pod_ref(d.pod.name),) + tuple(_pod_ref(p.name) for p in d.higher_old),
                             f"the controller replaced {d.pod.name} for the update to {d.target} while the higher "
                             f"{top.name} still ran revision {top.revision}; rolling updates go from the highest "
                             f"ordinal down"))
    return out


def check_partition_respected(trace: TraceSource) -> list[Violation]:
    """Pods whose index (ordinal - start) is below the partition are never replaced by the
    controller for an update, and are (re)created at the current revision during a rollout."""
    trace = as_trace(trace)
    out: list[Violation] = []
    for d in _update_deletions(trace):
        ok = False
        partition = 0
        for spec in d.specs:
            start = spec.start if spec.start is not None else d.fallback_start
            if spec.partition is None or d.pod.ordinal - start >= spec.partition:
                ok = True
                break
            partition = spec.partition
        if not ok:
            out.append(Violation("partition-respected", d.t, (_pod_ref(d.pod.name),),
                                 f"the controller replaced {d.pod.name} for the update to {d.target} although it is "
                                 f"below the partition ({partition}); only pods at or above the partition are updated"))
    for _, r, state in _walk(trace):
        if r.event != "PodCreated" or not r.fields.get("statefulset"):
            continue
        st = state.sets.get(r.fields["statefulset"])
        if st is None or st.deleted is not None or st.current_revision is None:
            continue
        update = st.update_revision
        if update is None or update == st.current_revision:
            continue
        n = _int(r.fields.get("ordinal"), -1)
        below = []
        for spec in st.candidates:
            start = spec.start if spec.start is not None else state.fallback_start(st)
            below.append(spec.partition is not None and n - start < spec.partition)
        if all(below) and r.fields.get("revision") != st.current_revision:
            out.append(Violation("partition-respected", r.t, (_pod_ref(r.fields["pod"]),),
                                 f"{r.fields['pod']} is below the partition but was created at revision "
                                 f"{r.fields.get('revision')} instead of the current revision {st.current_revision}"))
    return out


# ---------------------------------------------------------------------------------------------
# dns-ready-only


@dataclass
class _Serving:
    """When each pod name (and each incarnation) was Ready and not terminating."""

    by_uid: dict[str, list[list[float | None]]] = field(default_factory=dict)
    by_name: dict[str, list[list[float | None]]] = field(default_factory=dict)
    ips: dict[str, tuple[list[float], list[tuple[str, str]]]] = field(default_factory=dict)

    @staticmethod
    def _open(spans: list[list[float | None]], t: float) -> None:
        if not spans or spans[-1][1] is not None:
            spans.append([t, None])

    @staticmethod
    def _close(spans: list[list[float | None]], t: float) -> None:
        if spans and spans[-1][1] is None:
            spans[-1][1] = t

    def start(self, name: str, uid: str, t: float) -> None:
        self._open(self.by_uid.setdefault(uid, []), t)
        self._open(self.by_name.setdefault(name, []), t)

    def stop(self, name: str, uid: str, t: float, others_serving: bool) -> None:
        self._close(self.by_uid.setdefault(uid, []), t)
        if not others_serving:
            self._close(self.by_name.setdefault(name, []), t)

    @staticmethod
    def overlaps(spans: list[list[float | None]], lo: float, hi: float) -> bool:
        for s, e in spans:
            assert s is not None
            if s <= hi and (e is None or e >= lo):
                return True
        return False

    @staticmethod
    def last_end(spans: list[list[float | None]], before: float) -> float | None:
        ends = [e for s, e in spans if s is not None and s <= before and e is not None and e <= before]
        return max(ends) if ends else None

    def owner(self, ip: str, t: float) -> tuple[str, str] | None:
        times, owners = self.ips.get(ip, ([], []))
        j = bisect.bisect_right(times, t)
        return owners[j - 1] if j else None


def _serving(trace: Trace) -> _Serving:
    sv = _Serving()
    ready: dict[str, bool] = {}
    term: dict[str, bool] = {}
    names: dict[str, str] = {}
    for r in trace:
        f = r.fields
        uid = f.get("uid")
        if not isinstance(uid, str):
            continue
        if r.event == "PodCreated":
            names[uid] = f["pod"]
            ready[uid] = term[uid] = False
            continue
        if r.event == "PodIP":
            times, owners = sv.ips.setdefault(str(f.get("ip")), ([], []))
            times.append(r.t)
            owners.append((f["pod"], uid))
            continue
        if uid not in names:
            continue
        was = ready[uid] and not term[uid]
        if r.event == "PodReady":
            ready[uid] = True
        elif r.event in ("PodNotReady", "PodFailed", "PodSucceeded", "PodDeleted"):
            ready[uid] = False
        elif r.event == "PodTerminating":
            term[uid] = True
        else:
            continue
        now = ready[uid] and not term[uid]
        name = names[uid]
        if now and not was:
            sv.start(name, uid, r.t)
        elif was and not now:
            others = any(ready[u] and not term[u] for u, n in names.items() if n == name and u != uid)
            sv.stop(name, uid, r.t, others)
    return sv


def _slice_lag(trace: Trace) -> float:
    """The longest time this trace shows between a pod leaving Ready (NotReady, terminating,
    deleted) and the next EndpointSliceUpdated that no longer lists it as ready: how slow the
    endpoint pipeline is in this run (the CoreDNS informers' own watch lag is not recorded)."""
    pending: dict[str, float] = {}  # pod name -> when it stopped being Ready
    lag = 0.0
    for r in trace:
        if r.event in ("PodNotReady", "PodTerminating", "PodDeleted"):
            pending.setdefault(str(r.fields.get("pod")), r.t)
        elif r.event in ("PodReady", "PodCreated"):
            pending.pop(str(r.fields.get("pod")), None)
        elif r.event == "EndpointSliceUpdated" and pending:
            listed = {str(p) for p in (r.fields.get("ready") or ())}
            for pod in [p for p in pending if p not in listed]:
                lag = max(lag, r.t - pending.pop(pod))
    return lag


def _publish_not_ready(trace: Trace, sv: _Serving, allowance: float) -> set[str]:
    """Services whose EndpointSlice lists a pod as ready while it has not been Ready for a while:
    ``publishNotReadyAddresses: true`` (not itself in the trace)."""
    out: set[str] = set()
    for r in trace.of("EndpointSliceUpdated"):
        for pod in r.fields.get("ready") or ():
            if not sv.overlaps(sv.by_name.get(str(pod), []), r.t - allowance, r.t):
                out.add(str(r.fields.get("service")))
    return out


def _dns_targets(r: TraceRecord, services: set[str]) -> list[tuple[str, str | None, str]]:
    """(service, pod name or None, address) for every address a positive answer hands out."""
    f = r.fields
    out: list[tuple[str, str | None, str]] = []
    labels = str(f.get("fqdn") or f.get("name") or "").rstrip(".").split(".")
    if f.get("qtype") == "SRV":
        for rec in f.get("answers") or ():
            parts = str(rec).split()
            if len(parts) == 4:
                tl = parts[3].rstrip(".").split(".")
                if len(tl) >= 2 and tl[1] in services:
                    out.append((tl[1], tl[0], ""))
        return out
    if len(labels) >= 4 and labels[3] == "svc" and labels[1] in services:
        service, pod = labels[1], labels[0]
    elif len(labels) >= 3 and labels[2] == "svc" and labels[0] in services:
        service, pod = labels[0], None
    else:
        return out
    for ip in f.get("answers") or ():
        out.append((service, pod, str(ip)))
    return out


def check_dns_ready_only(trace: TraceSource) -> list[Violation]:
    """A DNS answer hands out a pod's address (per-pod name, Service name or SRV target) only while
    the pod is Ready and not terminating, or within the answer's cache lifetime after it stopped
    being so, unless the Service publishes not-ready addresses."""
    trace = as_trace(trace)
    answers = [r for r in trace.of("DNSAnswer")
               if r.fields.get("rcode") == "NOERROR" and r.fields.get("answers")
               and r.fields.get("server") not in ("hosts", "client-cache")]
    if not answers:
        return []
    sv = _serving(trace)
    services = {str(r.fields.get("service")) for r in trace.of("EndpointSliceUpdated")}
    propagation = DNS_PROPAGATION + 2 * _slice_lag(trace)
    exempt = _publish_not_ready(trace, sv, propagation)
    ttls = [float(r.fields["ttl"]) for r in answers if isinstance(r.fields.get("ttl"), (int, float))]
    max_ttl = max(ttls) if ttls else 0.0
    out: list[Violation] = []
    for r in answers:
        ttl = r.fields.get("ttl")
        stale = 0.0
        if r.fields.get("cached"):
            left = float(ttl) if isinstance(ttl, (int, float)) else 0.0
            stale = max(0.0, max_ttl - left) + DNS_CACHE_SLACK
        lo = r.t - stale - propagation
        for service, name, ip in _dns_targets(r, services):
            if service in exempt:
                continue
            owner = sv.owner(ip, r.t) if ip else None
            if owner is not None:
                pod, spans = owner[0], sv.by_uid.get(owner[1], [])
            elif name is not None:
                pod, spans = name, sv.by_name.get(name, [])
            else:
                continue
            if sv.overlaps(spans, lo, r.t):
                continue
            end = sv.last_end(spans, r.t)
            why = "had never been Ready" if end is None else f"had not been Ready since {format_clock(end)}"
            addr = f" {ip}" if ip else ""
            out.append(Violation("dns-ready-only", r.t, (_pod_ref(pod), f"service/{service}"),
                                 f"{r.fields.get('server')} answered {r.fields.get('fqdn')} ({r.fields.get('qtype')}) with "
                                 f"{pod}{addr} for {r.fields.get('client')}, but {pod} {why} "
                                 f"(allowed staleness {stale + propagation:.1f}s)"))
    return out


# ---------------------------------------------------------------------------------------------
# convergence


def check_convergence(trace: TraceSource) -> list[Violation]:
    """At the end of the run every StatefulSet (not deleted) has its desired replicas, all Ready,
    a status for its latest generation and, once a rolling update reached the partition, the
    current revision equal to the update revision.  Otherwise the violation gives the reason the
    controller reports for being stuck, if any."""
    trace = as_trace(trace)
    from statefulsim.analysis.stuck import stuck_statefulsets

    if not len(trace):
        return []
    end = trace[len(trace) - 1].t
    state = Replay()
    reached_bottom: dict[str, set[str]] = {}  # set -> update revisions a rollout reached the partition for
    for d in _update_deletions(trace):
        spec = d.specs[-1]
        start = spec.start if spec.start is not None else d.fallback_start
        partition = spec.partition or 0
        if d.target is not None and d.pod.ordinal - start <= partition:
            reached_bottom.setdefault(d.st_name, set()).add(d.target)
    for r in trace:
        state.apply(r)
    stuck = {s.statefulset: s for s in stuck_statefulsets(trace)}
    out: list[Violation] = []
    for st in state.sets.values():
        if st.deleted is not None:
            continue
        desired = st.spec.replicas
        s = st.status
        problems: list[str] = []
        if s is None:
            problems.append("no status was ever written")
        else:
            observed = s.get("observedGeneration")
            if isinstance(observed, int) and observed < st.generation:
                problems.append(f"the status is for generation {observed}, not {st.generation}")
            ready, replicas = _int(s.get("readyReplicas"), 0), _int(s.get("replicas"), 0)
            if replicas != desired or ready != desired:
                problems.append(f"{ready} of {desired} desired replicas Ready ({replicas} exist)")
            current, update = s.get("currentRevision"), s.get("updateRevision")
            known_partition = st.spec.partition
            if current != update:
                updated = _int(s.get("updatedReplicas"), 0)
                if known_partition is not None and known_partition > 0:
                    want = max(0, desired - known_partition)
                    if updated < want:
                        problems.append(f"{updated} of {want} pods at or above the partition run the update "
                                        f"revision {update}")
                elif known_partition == 0 or update in reached_bottom.get(st.name, set()):
                    problems.append(f"the rolling update is unfinished: currentRevision {current}, "
                                    f"updateRevision {update} ({updated} of {desired} updated)")
        if not problems:
            continue
        why = stuck.get(st.name)
        objects = [_set_ref(st.name)]
        if why is not None:
            objects.append(_pod_ref(why.pod))
            reason = why.message()
        else:
            reason = "the controller reports no reason (it is not waiting)"
        out.append(Violation("convergence", end, tuple(objects),
                             f"{st.name} did not reach its desired state by the end of the run: "
                             f"{'; '.join(problems)}; {reason}"))
    return out


# ---------------------------------------------------------------------------------------------
# Registration


def _applies_ordered(trace: Trace) -> bool:
    return _has_policy(trace, ORDERED_READY)


def _applies_sets(trace: Trace) -> bool:
    return _has(trace, "StatefulSetCreated")


_register_builtin = functools.partial(register_invariant, builtin=True)
_register_builtin("ordered-creation", "OrderedReady: pod N is created only when pods start..N-1 exist and are "
                   "Running and Ready", check_ordered_creation, _applies_ordered,
                   gaps=lambda trace: _ordered_creation(trace)[1])
_register_builtin("ordered-termination", "OrderedReady: a condemned pod is deleted only when all higher condemned "
                   "ordinals are gone", check_ordered_termination, _applies_ordered,
                   gaps=lambda trace: _ordered_termination(trace)[1])
_register_builtin("at-most-one-identity", "never two live pods with the same name", check_at_most_one_identity,
                   lambda trace: _has(trace, "PodCreated"))
_register_builtin("claim-before-pod", "a pod is created only after its claims <template>-<pod> exist",
                   check_claim_before_pod, _applies_storage)
_register_builtin("stable-storage", "every incarnation of a pod mounts the same claims <template>-<pod>",
                   check_stable_storage, _applies_storage)
_register_builtin("reverse-ordinal-update", "rolling updates replace pods from the highest ordinal down",
                   check_reverse_ordinal_update, _applies_sets)
_register_builtin("partition-respected", "pods below the partition are not replaced for an update",
                   check_partition_respected, _applies_sets)
_register_builtin("dns-ready-only", "DNS hands out a pod's address only while it is Ready (or within the TTL after)",
                   check_dns_ready_only, lambda trace: _has(trace, "DNSAnswer"))
_register_builtin("convergence", "every StatefulSet reaches its desired state by the end, or the stuck reason "
                   "is reported", check_convergence, _applies_sets)


def describe(names: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """(name, one-line summary) of the registered invariants."""
    return [(n, _REGISTRY.get(n).summary) for n in (names if names is not None else _REGISTRY)]
