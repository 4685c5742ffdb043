"""Turns object changes into trace records: the trace is what ``kubectl get -w`` would show,
plus the controller's own records.  Trace event names and fields are a contract (docs/trace.md).
"""

from __future__ import annotations

from statefulsim.sim.api.objects import FAILED, RUNNING, SUCCEEDED, Node, Pod, PodDisruptionBudget, StatefulSet
from statefulsim.sim.api.store import ADDED, DELETED, ObjectStore, WatchEvent
from statefulsim.sim.controllers.statefulset.predicates import parent_name_and_ordinal, pod_revision
from statefulsim.sim.env import SimEnv


class TraceObserver:
    def __init__(self, env: SimEnv, store: ObjectStore) -> None:
        self.env = env
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

    def _pod(self, ev: WatchEvent) -> None:
        emit = self.env.emit
        pod = ev.obj
        assert isinstance(pod, Pod)
        name, uid = pod.metadata.name, pod.metadata.uid
        if ev.type == ADDED:
            ref = pod.metadata.controller_ref()
            _, ordinal = parent_name_and_ordinal(name)
            emit("PodCreated", pod=name, uid=uid, ordinal=ordinal,
                 statefulset=ref.name if ref is not None and ref.kind == "StatefulSet" else None,
                 revision=pod_revision(pod) or None)
            return
        if ev.type == DELETED:
            emit("PodDeleted", pod=name, uid=uid)
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
        before = {c.name: c.restart_count for c in old.status.container_statuses}
        for c in pod.status.container_statuses:
            if c.restart_count > before.get(c.name, 0):
                emit("ContainerRestarted", pod=name, uid=uid, container=c.name, restartCount=c.restart_count)

    def _statefulset(self, ev: WatchEvent) -> None:
        sts = ev.obj
        assert isinstance(sts, StatefulSet)
        if ev.type == ADDED:
            self.env.emit("StatefulSetCreated", statefulset=sts.name, replicas=sts.spec.replicas,
                          podManagementPolicy=sts.spec.pod_management_policy)
            return
        if ev.type == DELETED:
            self.env.emit("StatefulSetDeleted", statefulset=sts.name)
            return
        old = ev.old
        assert isinstance(old, StatefulSet)
        if sts.metadata.generation != old.metadata.generation:
            self.env.emit("StatefulSetUpdated", statefulset=sts.name, generation=sts.metadata.generation,
                          replicas=sts.spec.replicas)
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
