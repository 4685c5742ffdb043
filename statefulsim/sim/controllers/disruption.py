"""The disruption controller (upstream ``pkg/controller/disruption/disruption.go``): keeps each
PodDisruptionBudget's status up to date, which is what the eviction API checks.

* ``expectedPods``: for ``maxUnavailable`` and percentage ``minAvailable``, the sum of
  ``spec.replicas`` of the controllers of the selected pods (here: StatefulSets); for an integer
  ``minAvailable``, the number of selected pods.
* ``desiredHealthy``: ``minAvailable`` (percentages of expectedPods rounded up), or
  ``expectedPods - maxUnavailable`` (percentages rounded up), at least 0.
* ``currentHealthy``: selected pods that are Ready, not terminating and not in
  ``disruptedPods`` (evictions the API approved in the last 2 minutes).
* ``disruptionsAllowed = max(0, currentHealthy - desiredHealthy)``, 0 while no pod is expected.

A pod whose controller cannot be found makes the sync fail, and the fail-safe sets
``disruptionsAllowed`` to 0, as upstream does.  The budget is recomputed on every change of a pod
it selects, of the budget itself, and when an entry of ``disruptedPods`` expires.
"""

from __future__ import annotations

import math
from typing import Any

from statefulsim.sim.api.objects import Pod, PodDisruptionBudget, PodDisruptionBudgetStatus, StatefulSet, evolve
from statefulsim.sim.api.store import ApiClient, ApiError, ObjectStore, WatchEvent
from statefulsim.sim.controllers.informers import SharedInformers
from statefulsim.sim.controllers.workqueue import WorkQueue
from statefulsim.sim.delays import DelayModel
from statefulsim.sim.env import SimEnv
from statefulsim.sim.process import Gen

DELETION_TIMEOUT = 120.0  # DeletionTimeout: an approved eviction not seen as a deletion expires


class SyncError(Exception):
    pass


def scaled_value(value: int | str, total: int, round_up: bool = True) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``."""
    if isinstance(value, int):
        return value
    percent = int(value.rstrip("%"))
    exact = percent * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def _key(pdb: Any) -> str:
    return f"{pdb.metadata.namespace}/{pdb.metadata.name}"


class DisruptionController:
    def __init__(self, env: SimEnv, store: ObjectStore, informers: SharedInformers, client: ApiClient,
                 watch_latency: DelayModel) -> None:
        self.env = env
        self.client = client
        self.pods = informers.pods
        self.pdbs = informers.factory.informer("PodDisruptionBudget")
        self.sets = informers.factory.informer("StatefulSet")
        self.queue = WorkQueue(env, "disruption", self.sync, workers=1)
        self.pdbs.add_handler(self._on_pdb)
        self.pods.add_handler(self._on_pod)
        for pdb in sorted(self.pdbs.list(), key=_key):
            self.queue.add(_key(pdb))

    def _on_pdb(self, ev: WatchEvent) -> None:
        self.queue.add(_key(ev.obj))

    def _on_pod(self, ev: WatchEvent) -> None:
        """``getPdbForPod``: the first budget (by name) that selects the pod."""
        pod = ev.obj
        assert isinstance(pod, Pod)
        for pdb in sorted(self.pdbs.list(pod.metadata.namespace), key=_key):
            if pdb.spec.matches(pod.metadata.labels):
                self.queue.add(_key(pdb))
                return

    # ---------------------------------------------------------------- sync
    def sync(self, key: str) -> Gen:
        ns, name = key.split("/", 1)
        pdb: PodDisruptionBudget | None = self.pdbs.get(ns, name)
        if pdb is None:
            return True
        pods = [p for p in self.pods.list(ns) if pdb.spec.matches(p.metadata.labels)]
        now = self.env.now
        try:
            expected, desired = self.expected_pod_count(pdb, pods)
        except SyncError:
            # failSafe: at least make sure no eviction is approved.
            status = evolve(pdb.status, disruptions_allowed=0)
            return (yield from self._write(pdb, status))
        disrupted, recheck = self._disrupted_pods(pdb, pods, now)
        healthy = sum(1 for p in pods if p.metadata.deletion_timestamp is None and p.is_ready()
                      and not (p.metadata.name in disrupted and disrupted[p.metadata.name] + DELETION_TIMEOUT > now))
        allowed = healthy - desired
        if expected <= 0 or allowed <= 0:
            allowed = 0
        status = PodDisruptionBudgetStatus(observed_generation=pdb.metadata.generation, disrupted_pods=disrupted,
                                           disruptions_allowed=allowed, current_healthy=healthy,
                                           desired_healthy=desired, expected_pods=expected)
        ok = yield from self._write(pdb, status)
        if ok and recheck is not None:
            self.queue.add_after(key, recheck - now)
        return ok

    def _write(self, pdb: PodDisruptionBudget, status: PodDisruptionBudgetStatus) -> Gen:
        if status == pdb.status:
            return True
        try:
            # UpdateStatus with the cached resourceVersion: a Conflict (the eviction API wrote the
            # status meanwhile) requeues the budget through the rate limiter.
            yield from self.client.update_status(evolve(pdb, status=status), check_version=True)
        except ApiError:
            return False
        return True

    def expected_pod_count(self, pdb: PodDisruptionBudget, pods: list[Pod]) -> tuple[int, int]:
        """``getExpectedPodCount``: (expectedPods, desiredHealthy)."""
        spec = pdb.spec
        if spec.max_unavailable is not None:
            expected = self._expected_scale(pods)
            desired = max(0, expected - scaled_value(spec.max_unavailable, expected))
            return expected, desired
        if spec.min_available is not None:
            if isinstance(spec.min_available, int):
                return len(pods), spec.min_available
            expected = self._expected_scale(pods)
            return expected, scaled_value(spec.min_available, expected)
        return 0, 0

    def _expected_scale(self, pods: list[Pod]) -> int:
        """``getExpectedScale``: the summed scale of the pods' controllers (unmanaged pods skipped)."""
        scale: dict[str, int] = {}
        for pod in pods:
            ref = pod.metadata.controller_ref()
            if ref is None or ref.uid in scale:
                continue
            sts: StatefulSet | None = self.sets.get(pod.metadata.namespace, ref.name) if ref.kind == "StatefulSet" else None
            if sts is None or sts.metadata.uid != ref.uid:
                raise SyncError(f'found no controllers for pod "{pod.metadata.name}"')
            scale[ref.uid] = sts.spec.replicas
        return sum(scale.values())

    @staticmethod
    def _disrupted_pods(pdb: PodDisruptionBudget, pods: list[Pod], now: float) -> tuple[dict[str, float], float | None]:
        """``buildDisruptedPodMap``: entries of live, not yet deleted pods that have not expired."""
        result: dict[str, float] = {}
        recheck: float | None = None
        for pod in pods:
            if pod.metadata.deletion_timestamp is not None:
                continue
            when = pdb.status.disrupted_pods.get(pod.metadata.name)
            if when is None:
                continue
            expires = when + DELETION_TIMEOUT
            if expires < now:
                continue
            recheck = expires if recheck is None else min(recheck, expires)
            result[pod.metadata.name] = when
        return result, recheck
