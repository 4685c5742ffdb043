"""Pod garbage collection (upstream ``pkg/controller/podgc/gc_controller.go``).

Every ``gcCheckPeriod`` (20 s) it force-deletes (phase Failed first, then a grace-0 delete):

* terminating pods on a node that is not Ready and has the ``node.kubernetes.io/out-of-service``
  taint (``gcTerminating``);
* pods bound to a node that no longer exists (``gcOrphaned``): a missing node is quarantined for
  40 s (``quarantineTime``), then confirmed with a GET; its pods get ``DisruptionTarget``
  (``DeletionByPodGC``) and are deleted;
* terminating pods that were never scheduled (``gcUnscheduledTerminating``).

Terminated pods above ``--terminated-pod-gc-threshold`` (12500) are not collected here: no
simulated run comes near that many.
"""

from __future__ import annotations

import simpy

from statefulsim.sim.api.eviction import mark_disruption_target
from statefulsim.sim.api.objects import FAILED, SUCCEEDED, TAINT_OUT_OF_SERVICE, Pod, evolve
from statefulsim.sim.api.store import ApiClient, ApiError
from statefulsim.sim.controllers.informers import SharedInformers
from statefulsim.sim.env import SimEnv
from statefulsim.sim.process import Gen

GC_CHECK_PERIOD = 20.0
QUARANTINE_TIME = 40.0


class PodGCController:
    def __init__(self, env: SimEnv, informers: SharedInformers, client: ApiClient) -> None:
        self.env = env
        self.informers = informers
        self.client = client
        #: Missing node name -> when its quarantine ends (the delaying queue keeps the earliest).
        self.quarantine: dict[str, float] = {}
        self.deleted = 0
        env.process(self._loop())

    def _loop(self) -> Gen:
        while True:
            yield from self._gc()
            yield self.env.timeout(GC_CHECK_PERIOD)

    def _gc(self) -> Gen:
        # Upstream lists every pod; only terminating pods and pods on missing nodes can be
        # collected, so the pass reads those from the informer's indexes (same answers, in the
        # same order: by namespace and name, as of the start of the pass).
        terminating = self.informers.terminating_pods()
        nodes = {n.name: n for n in self.informers.nodes.list()}
        missing = [name for name in self.informers.node_names_with_pods() if name not in nodes]
        on_missing = {name: self.informers.pods_on(name) for name in missing}
        doomed: list[tuple[Pod, bool]] = []
        # gcTerminating
        for pod in terminating:
            if not pod.spec.node_name:
                continue
            node = nodes.get(pod.spec.node_name)
            if node is None:
                continue
            if not node.status.ready and any(t.key == TAINT_OUT_OF_SERVICE for t in node.spec.taints):
                doomed.append((pod, False))
        procs = [self.env.process(self._mark_failed_and_delete(p, orphan)) for p, orphan in doomed]
        if procs:
            yield simpy.AllOf(self.env.sim, procs)
        # gcOrphaned
        now = self.env.now
        for name in missing:
            if name not in self.quarantine:
                self.quarantine[name] = now + QUARANTINE_TIME
        gone: set[str] = set()
        for name in sorted(self.quarantine):
            if self.quarantine[name] > now + 1e-9:
                continue
            del self.quarantine[name]
            if name in nodes:
                continue
            try:
                yield from self.client.get("Node", "", name)
            except ApiError as e:
                if e.reason == "NotFound":
                    gone.add(name)
        orphans = sorted((p for name in gone for p in on_missing.get(name, ())),
                         key=lambda p: (p.metadata.namespace, p.metadata.name))
        for pod in orphans:
            yield from self._mark_failed_and_delete(pod, True)
        # gcUnscheduledTerminating
        for pod in terminating:
            if not pod.spec.node_name:
                yield from self._mark_failed_and_delete(pod, False)

    def _mark_failed_and_delete(self, pod: Pod, orphan: bool) -> Gen:
        """``markFailedAndDeletePod``: phase Failed (unless terminal), then DELETE with grace 0."""
        ns, name, uid = pod.metadata.namespace, pod.metadata.name, pod.metadata.uid
        now = self.env.now

        def failed(cur: Pod) -> Pod:
            if cur.metadata.uid != uid or cur.status.phase in (FAILED, SUCCEEDED):
                return cur
            new = evolve(cur, status=evolve(cur.status, phase=FAILED))
            if orphan:
                new = mark_disruption_target(new, now, "DeletionByPodGC", "PodGC: node no longer exists")
            return new

        try:
            if pod.status.phase not in (FAILED, SUCCEEDED):
                yield from self.client.patch("Pod", ns, name, failed, status=True)
            yield from self.client.delete("Pod", ns, name, grace_period_seconds=0, uid=uid)
            self.deleted += 1
        except ApiError:
            pass
