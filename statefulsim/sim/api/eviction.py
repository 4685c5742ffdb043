"""The pod eviction subresource (``POST pods/NAME/eviction``), as the API server runs it.

Upstream: ``pkg/registry/core/pod/storage/eviction.go``.  A pod that is Pending, terminal or
already terminating is deleted without looking at budgets.  Otherwise the one
PodDisruptionBudget whose selector matches the pod is checked against its **status** (written by
the disruption controller): an unready pod may go while the budget is healthy
(``currentHealthy >= desiredHealthy > 0``, or ``unhealthyPodEvictionPolicy: AlwaysAllow``);
otherwise the budget must allow a disruption, which the handler takes by decrementing
``disruptionsAllowed`` and recording the pod in ``disruptedPods``.  The pod then gets the
``DisruptionTarget`` condition and a graceful delete.  Refusals are HTTP 429 (the caller may
retry) or 500 (more than one budget).
"""

from __future__ import annotations

from dataclasses import dataclass

from statefulsim.sim.api.objects import (
    ALWAYS_ALLOW,
    FAILED,
    PENDING,
    SUCCEEDED,
    Pod,
    PodDisruptionBudget,
    evolve,
)
from statefulsim.sim.api.store import ApiError, ObjectStore

TOO_MANY_REQUESTS = "Cannot evict pod as it would violate the pod's disruption budget."
MULTIPLE_BUDGETS = "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
DISRUPTION_TARGET = "DisruptionTarget"


@dataclass(frozen=True)
class EvictionResult:
    """The response: ``code`` 201 (evicted), 429 (budget refuses; retry) or 500."""

    code: int
    message: str = ""
    cause: str = ""
    pdb: str | None = None

    @property
    def ok(self) -> bool:
        return self.code < 300


def matching_budgets(store: ObjectStore, pod: Pod) -> list[PodDisruptionBudget]:
    """The budgets in the pod's namespace whose selector matches it (by name, for determinism)."""
    pdbs = [b for b in store.list("PodDisruptionBudget", pod.metadata.namespace) if b.spec.matches(pod.metadata.labels)]
    return sorted(pdbs, key=lambda b: b.metadata.name)


def mark_disruption_target(pod: Pod, now: float, reason: str, message: str) -> Pod:
    """``UpdatePodCondition`` with ``DisruptionTarget=True`` (a no-op when already so)."""
    return evolve(pod, status=pod.status.with_condition(DISRUPTION_TARGET, True, now, reason, message))


def _can_ignore_budget(pod: Pod) -> bool:
    return pod.status.phase in (SUCCEEDED, FAILED, PENDING) or pod.metadata.deletion_timestamp is not None


def _delete(store: ObjectStore, pod: Pod, grace: float | None) -> None:
    """``addConditionAndDeletePod``: the DisruptionTarget condition, then a (graceful) delete."""
    cur = store.get("Pod", pod.metadata.namespace, pod.metadata.name)
    if cur is None or cur.metadata.uid != pod.metadata.uid:
        raise ApiError("Conflict", f'the UID in the precondition ({pod.metadata.uid}) does not match the UID in record')
    updated = mark_disruption_target(cur, store.env.now, "EvictionByEvictionAPI", "Eviction API: evicting")
    if updated is not cur:
        store.update_status(updated, check_version=False)
    store.delete("Pod", pod.metadata.namespace, pod.metadata.name, grace_period_seconds=grace, uid=pod.metadata.uid)


def evict(store: ObjectStore, namespace: str, name: str, grace_period_seconds: float | None = None) -> EvictionResult:
    """Run one eviction request now.  Raises ``ApiError`` NotFound when the pod does not exist."""
    env = store.env
    pod = store.get("Pod", namespace, name)
    if pod is None:
        raise ApiError("NotFound", f'pods "{name}" not found')
    if _can_ignore_budget(pod):
        _delete(store, pod, grace_period_seconds)
        return EvictionResult(201)
    pdbs = matching_budgets(store, pod)
    if len(pdbs) > 1:
        result = EvictionResult(500, MULTIPLE_BUDGETS, "", ", ".join(b.metadata.name for b in pdbs))
        env.emit("EvictionBlocked", pod=name, uid=pod.metadata.uid, pdb=result.pdb, message=result.message, cause="")
        return result
    if not pdbs:
        _delete(store, pod, grace_period_seconds)
        return EvictionResult(201)
    pdb = pdbs[0]
    st = pdb.status
    if not pod.is_ready():
        if pdb.spec.unhealthy_pod_eviction_policy == ALWAYS_ALLOW or (
                st.current_healthy >= st.desired_healthy and st.desired_healthy > 0):
            # An unready pod does not count as healthy: deleting it disrupts nothing.
            _delete(store, pod, grace_period_seconds)
            return EvictionResult(201, pdb=pdb.metadata.name)
    # checkAndDecrement
    cause = ""
    if st.observed_generation < pdb.metadata.generation:
        cause = f"The disruption budget {pdb.metadata.name} is still being processed by the server."
    elif st.disruptions_allowed <= 0:
        cause = (f"The disruption budget {pdb.metadata.name} needs {st.desired_healthy} healthy pods "
                 f"and has {st.current_healthy} currently")
    if cause:
        env.emit("EvictionBlocked", pod=name, uid=pod.metadata.uid, pdb=pdb.metadata.name, message=TOO_MANY_REQUESTS,
                 cause=cause)
        return EvictionResult(429, TOO_MANY_REQUESTS, cause, pdb.metadata.name)
    disrupted = dict(st.disrupted_pods)
    disrupted[name] = env.now
    store.update_status(evolve(pdb, status=evolve(st, disruptions_allowed=st.disruptions_allowed - 1,
                                                  disrupted_pods=disrupted)), check_version=False)
    _delete(store, pod, grace_period_seconds)
    return EvictionResult(201, pdb=pdb.metadata.name)
