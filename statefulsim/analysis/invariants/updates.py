"""Rolling updates: ``reverse-ordinal-update`` and ``partition-respected``."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from statefulsim.analysis.invariants.registry import Violation
from statefulsim.analysis.invariants.walk import _controller_deletions, _pod_ref, _walk
from statefulsim.analysis.replay import PodState, SetSpec
from statefulsim.analysis.replay import int_field as _int
from statefulsim.sim.api.objects import ORDERED_READY
from statefulsim.sim.trace import Trace, TraceSource, as_trace


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
        higher = tuple(_pod_ref(p.name) for p in d.higher_old)
        out.append(Violation("reverse-ordinal-update", d.t, (_pod_ref(d.pod.name),) + higher,
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
