"""OrderedReady's two guarantees: ``ordered-creation`` and ``ordered-termination``."""

from __future__ import annotations

from typing import Sequence

from statefulsim.analysis.invariants.registry import Unjudged, Violation
from statefulsim.analysis.invariants.walk import _controller_deletions, _Observed, _pod_ref, _walk
from statefulsim.analysis.replay import PodState
from statefulsim.analysis.replay import int_field as _int
from statefulsim.durations import format_clock
from statefulsim.sim.api.objects import ORDERED_READY
from statefulsim.sim.trace import Trace, TraceSource, as_trace


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




def _ordered_creation_gaps(trace: Trace) -> list[Unjudged]:
    """The creations whose predecessors the trace does not show at the time."""
    return _ordered_creation(trace)[1]


def _ordered_termination_gaps(trace: Trace) -> list[Unjudged]:
    """The deletions the trace cannot tell from a repeated one."""
    return _ordered_termination(trace)[1]
