"""Turns object changes into trace records: the trace is what ``kubectl get -w`` would show,
plus the controller's own records.  Trace event names and fields are a contract (docs/trace.md).
"""

from __future__ import annotations

from typing import Any

from statefulsim.sim.api.discovery import EndpointSlice
from statefulsim.sim.api.objects import FAILED, RUNNING, SUCCEEDED, Node, Pod, PodDisruptionBudget, StatefulSet
from statefulsim.sim.api.printers import NEWEST_RULES, PrinterRules, pod_row
from statefulsim.sim.api.storage import BOUND, RELEASED, PersistentVolume, PersistentVolumeClaim
from statefulsim.sim.api.store import ADDED, DELETED, ObjectStore, WatchEvent
from statefulsim.sim.controllers.statefulset.utils import parent_name_and_ordinal, pod_revision
from statefulsim.sim.env import SimEnv


def _spec_facts(sts: StatefulSet) -> dict[str, Any]:
    """The spec fields trace checkers need (appended after the original fields)."""
    strategy = sts.spec.update_strategy
    ru = strategy.rolling_update
    return {
        "updateStrategy": strategy.type,
        "partition": ru.partition if ru is not None else None,
        "maxUnavailable": ru.max_unavailable if ru is not None else None,
        "ordinalsStart": sts.spec.start_ordinal,
        "minReadySeconds": sts.spec.min_ready_seconds,
        "serviceName": sts.spec.service_name,
        "volumeClaimTemplates": [str(t.get("metadata", {}).get("name", "")) for t in sts.spec.volume_claim_templates],
    }


class TraceObserver:
    def __init__(self, env: SimEnv, store: ObjectStore, printer: PrinterRules = NEWEST_RULES) -> None:
        self.env = env
        self.printer = printer  # the simulated API server's pod printer (PodStatus rows)
        self._claim_user: dict[tuple[str, str], str] = {}  # (namespace, claim) -> pod using it
        self._rows: dict[str, tuple[str, str, int]] = {}  # pod uid -> its last PodStatus row
        store.observe(self.on_change)

    def on_change(self, ev: WatchEvent) -> None:
        if isinstance(ev.obj, Pod):
            self._pod(ev)
        elif isinstance(ev.obj, StatefulSet):
            self._statefulset(ev)
        elif isinstance(ev.obj, Node):
            self._node(ev)
        elif isinstance(ev.obj, PodDisruptionBudget):
            self._pdb(ev)
        elif isinstance(ev.obj, PersistentVolumeClaim):
            self._claim(ev)
        elif isinstance(ev.obj, PersistentVolume):
            self._volume(ev)
        elif isinstance(ev.obj, EndpointSlice):
            self._slice(ev)

    def _claim(self, ev: WatchEvent) -> None:
        c = ev.obj
        assert isinstance(c, PersistentVolumeClaim)
        pod = self._claim_user.get((c.metadata.namespace, c.metadata.name))
        if ev.type == ADDED:
            self.env.emit("PVCCreated", pvc=c.metadata.name, pod=pod, storageClass=c.storage_class_name)
        elif ev.type == DELETED:
            self.env.emit("PVCDeleted", pvc=c.metadata.name, pod=pod)
        else:
            old = ev.old
            assert isinstance(old, PersistentVolumeClaim)
            if c.phase == BOUND and old.phase != BOUND:
                self.env.emit("PVCBound", pvc=c.metadata.name, pv=c.volume_name, pod=pod)
            if c.metadata.deletion_timestamp is not None and old.metadata.deletion_timestamp is None:
                self.env.emit("PVCTerminating", pvc=c.metadata.name, pod=pod)

    def _volume(self, ev: WatchEvent) -> None:
        v = ev.obj
        assert isinstance(v, PersistentVolume)
        node = next(iter(v.node_affinity.get("kubernetes.io/hostname", ())), None)
        if ev.type == ADDED:
            self.env.emit("PVCreated", pv=v.metadata.name, storageClass=v.storage_class_name, node=node,
                          pvc=v.claim_ref.name if v.claim_ref is not None else None)
        elif ev.type == DELETED:
            self.env.emit("PVDeleted", pv=v.metadata.name, pvc=v.claim_ref.name if v.claim_ref is not None else None)
        elif isinstance(ev.old, PersistentVolume) and v.phase != ev.old.phase and v.phase == RELEASED:
            self.env.emit("PVReleased", pv=v.metadata.name, pvc=v.claim_ref.name if v.claim_ref is not None else None)

    def _slice(self, ev: WatchEvent) -> None:
        sl = ev.obj
        assert isinstance(sl, EndpointSlice)
        if ev.type == DELETED:
            self.env.emit("EndpointSliceUpdated", service=sl.service, ready=[], notReady=[], terminating=[])
            return
        old = ev.old if isinstance(ev.old, EndpointSlice) else None
        if old is not None and old.endpoints == sl.endpoints:
            return
        self.env.emit("EndpointSliceUpdated", service=sl.service,
                      ready=[e.pod for e in sl.endpoints if e.ready],
                      notReady=[e.pod for e in sl.endpoints if not e.ready],
                      terminating=[e.pod for e in sl.endpoints if e.terminating])

    def _pod(self, ev: WatchEvent) -> None:
        emit = self.env.emit
        pod = ev.obj
        assert isinstance(pod, Pod)
        name, uid = pod.metadata.name, pod.metadata.uid
        for v in pod.spec.volumes:
            if v.claim_name:
                key = (pod.metadata.namespace, v.claim_name)
                if ev.type == DELETED:
                    if self._claim_user.get(key) == name:
                        del self._claim_user[key]
                else:
                    self._claim_user[key] = name
        if ev.type == ADDED:
            ref = pod.metadata.controller_ref()
            _, ordinal = parent_name_and_ordinal(name)
            emit("PodCreated", pod=name, uid=uid, ordinal=ordinal,
                 statefulset=ref.name if ref is not None and ref.kind == "StatefulSet" else None,
                 revision=pod_revision(pod) or None)
            self._pod_status(pod)
            return
        if ev.type == DELETED:
            emit("PodDeleted", pod=name, uid=uid)
            self._rows.pop(uid, None)
            return
        old = ev.old
        assert isinstance(old, Pod)
        if pod.spec.node_name and not old.spec.node_name:
            emit("PodScheduled", pod=name, uid=uid, node=pod.spec.node_name)
        if pod.metadata.deletion_timestamp is not None and old.metadata.deletion_timestamp is None:
            emit("PodTerminating", pod=name, uid=uid, gracePeriodSeconds=pod.metadata.deletion_grace_period_seconds)
        target = pod.status.condition("DisruptionTarget")
        if target is not None and target.status:
            earlier = old.status.condition("DisruptionTarget")
            if earlier is None or not earlier.status:
                emit("PodEvicted", pod=name, uid=uid, reason=target.reason)
        if pod.status.pod_ip and pod.status.pod_ip != old.status.pod_ip:
            emit("PodIP", pod=name, uid=uid, ip=pod.status.pod_ip)
        if pod.status.phase != old.status.phase:
            if pod.status.phase == RUNNING:
                emit("PodRunning", pod=name, uid=uid, node=pod.spec.node_name)
            elif pod.status.phase == FAILED:
                emit("PodFailed", pod=name, uid=uid, reason=pod.status.reason or None)
            elif pod.status.phase == SUCCEEDED:
                emit("PodSucceeded", pod=name, uid=uid)
        was, now = old.is_ready(), pod.is_ready()
        if now and not was:
            emit("PodReady", pod=name, uid=uid)
        elif was and not now:
            emit("PodNotReady", pod=name, uid=uid)
        if pod.status.container_statuses is not old.status.container_statuses:  # else no restart
            before = {c.name: c.restart_count for c in old.status.container_statuses}
            for c in pod.status.container_statuses:
                if c.restart_count > before.get(c.name, 0):
                    emit("ContainerRestarted", pod=name, uid=uid, container=c.name, restartCount=c.restart_count)
        if pod.status is not old.status or pod.metadata.deletion_timestamp != old.metadata.deletion_timestamp:
            self._pod_status(pod)

    def _pod_status(self, pod: Pod) -> None:
        """``PodStatus`` when the row ``kubectl get pods -w`` prints for the pod changed."""
        r = pod_row(pod, self.printer)
        row = (r.ready, r.status, r.restarts)
        uid = pod.metadata.uid
        if self._rows.get(uid) != row:
            self._rows[uid] = row
            self.env.emit("PodStatus", pod=pod.metadata.name, uid=uid, ready=r.ready, status=r.status,
                          restarts=r.restarts)

    def _statefulset(self, ev: WatchEvent) -> None:
        sts = ev.obj
        assert isinstance(sts, StatefulSet)
        if ev.type == ADDED:
            self.env.emit("StatefulSetCreated", statefulset=sts.name, replicas=sts.spec.replicas,
                          podManagementPolicy=sts.spec.pod_management_policy, **_spec_facts(sts))
            return
        if ev.type == DELETED:
            self.env.emit("StatefulSetDeleted", statefulset=sts.name)
            return
        old = ev.old
        assert isinstance(old, StatefulSet)
        if sts.metadata.generation != old.metadata.generation:
            self.env.emit("StatefulSetUpdated", statefulset=sts.name, generation=sts.metadata.generation,
                          replicas=sts.spec.replicas, **_spec_facts(sts))
        if sts.status != old.status:
            s = sts.status
            self.env.emit("StatefulSetStatus", statefulset=sts.name, replicas=s.replicas,
                          readyReplicas=s.ready_replicas, availableReplicas=s.available_replicas,
                          currentReplicas=s.current_replicas, updatedReplicas=s.updated_replicas,
                          currentRevision=s.current_revision, updateRevision=s.update_revision,
                          observedGeneration=s.observed_generation)

    def _node(self, ev: WatchEvent) -> None:
        node = ev.obj
        assert isinstance(node, Node)
        emit = self.env.emit
        name = node.metadata.name
        if ev.type == ADDED:
            return
        if ev.type == DELETED:
            emit("NodeDeleted", node=name)
            return
        old = ev.old
        assert isinstance(old, Node)
        if node.status.ready_status != old.status.ready_status:
            if node.status.ready:
                emit("NodeReady", node=name)
            elif old.status.ready:
                emit("NodeNotReady", node=name, status=node.status.ready_status, reason=node.status.ready_reason or None)
        if node.spec.unschedulable and not old.spec.unschedulable:
            emit("NodeCordoned", node=name)
        elif old.spec.unschedulable and not node.spec.unschedulable:
            emit("NodeUncordoned", node=name)
        if node.spec.taints != old.spec.taints:
            for t in old.spec.taints:
                if not any(t.same(n) for n in node.spec.taints):
                    emit("NodeUntainted", node=name, key=t.key, effect=t.effect)
            for t in node.spec.taints:
                if not any(t.same(o) for o in old.spec.taints):
                    emit("NodeTainted", node=name, key=t.key, effect=t.effect, value=t.value or None)

    def _pdb(self, ev: WatchEvent) -> None:
        pdb = ev.obj
        assert isinstance(pdb, PodDisruptionBudget)
        if ev.type != DELETED and ev.old is not None:
            old = ev.old
            assert isinstance(old, PodDisruptionBudget)
            s, o = pdb.status, old.status
            if (s.current_healthy, s.desired_healthy, s.expected_pods, s.disruptions_allowed) != (
                    o.current_healthy, o.desired_healthy, o.expected_pods, o.disruptions_allowed):
                self.env.emit("DisruptionBudgetStatus", pdb=pdb.metadata.name, currentHealthy=s.current_healthy,
                              desiredHealthy=s.desired_healthy, expectedPods=s.expected_pods,
                              disruptionsAllowed=s.disruptions_allowed)
