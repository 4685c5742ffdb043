"""Reading a trace for the checks: the replay state before each record, what an imported recording
shows and from when, the controller's pod deletions."""

from __future__ import annotations

import re
from typing import Any, Iterator

from statefulsim.analysis.replay import PodState, Replay, SetState
from statefulsim.sim.trace import Trace, TraceRecord

_IN_SET = re.compile(r"\bin StatefulSet (\S+)")


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
