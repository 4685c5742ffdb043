"""Status computation (upstream ``computeReplicaStatus``, ``completeRollingUpdate``,
``inconsistentStatus``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from statefulsim.sim.api.objects import REVISION_LABEL, ROLLING_UPDATE, Pod, StatefulSet, StatefulSetStatus
from statefulsim.sim.controllers.statefulset.predicates import is_running_and_available, is_running_and_ready


def compute_replica_status(pods: Iterable[Pod], min_ready_seconds: float, now: float,
                           base: StatefulSetStatus) -> StatefulSetStatus:
    """Count replicas/ready/available/current/updated over ``pods`` into a copy of ``base``."""
    replicas = ready = available = current = updated = 0
    cur_rev, upd_rev = base.current_revision, base.update_revision
    for pod in pods:
        if not pod.status.phase:  # not created
            continue
        replicas += 1
        if is_running_and_ready(pod):
            ready += 1
            if is_running_and_available(pod, min_ready_seconds, now):
                available += 1
        if pod.metadata.deletion_timestamp is None:
            rev = pod.metadata.labels.get(REVISION_LABEL, "")
            if rev == cur_rev:
                current += 1
            if rev == upd_rev:
                updated += 1
    return replace(base, replicas=replicas, ready_replicas=ready, available_replicas=available,
                   current_replicas=current, updated_replicas=updated)


def complete_rolling_update(sts: StatefulSet, status: StatefulSetStatus) -> StatefulSetStatus:
    """Advance currentRevision once every replica is updated and ready (RollingUpdate only)."""
    n = sts.spec.replicas
    if (sts.spec.update_strategy.type == ROLLING_UPDATE and status.updated_replicas == n
            and status.ready_replicas == n and status.replicas == n):
        return replace(status, current_replicas=status.updated_replicas, current_revision=status.update_revision)
    return status


def inconsistent_status(sts: StatefulSet, status: StatefulSetStatus) -> bool:
    """Whether the computed status must be written (collisionCount is not compared)."""
    old = sts.status
    return (
        status.observed_generation > old.observed_generation
        or status.replicas != old.replicas
        or status.current_replicas != old.current_replicas
        or status.ready_replicas != old.ready_replicas
        or status.updated_replicas != old.updated_replicas
        or status.available_replicas != old.available_replicas
        or status.current_revision != old.current_revision
        or status.update_revision != old.update_revision
    )
