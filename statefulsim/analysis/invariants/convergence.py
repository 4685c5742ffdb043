"""``convergence``: every StatefulSet reaches its desired state by the end, or the stuck reason is
reported."""

from __future__ import annotations

from statefulsim.analysis.invariants.registry import Violation
from statefulsim.analysis.invariants.updates import _update_deletions
from statefulsim.analysis.invariants.walk import _pod_ref, _set_ref
from statefulsim.analysis.replay import Replay
from statefulsim.analysis.replay import int_field as _int
from statefulsim.sim.trace import TraceSource, as_trace


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
