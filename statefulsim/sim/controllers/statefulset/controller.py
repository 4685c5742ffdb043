"""The StatefulSet controller: informers, event → enqueue mapping, work queue, pod adoption and
``sync`` (upstream ``stateful_set.go``); the sync algorithm is :mod:`.control`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable

from statefulsim.sim.api.informer import SharedInformerFactory
from statefulsim.sim.api.objects import Pod, StatefulSet
from statefulsim.sim.api.store import DELETED, ApiClient, ApiError, ObjectStore, WatchEvent
from statefulsim.sim.controllers.statefulset.claims import StatefulSetClaims
from statefulsim.sim.controllers.statefulset.control import StatefulSetControl, Waiting
from statefulsim.sim.controllers.statefulset.pod_control import ClaimControl, PodControl
from statefulsim.sim.controllers.statefulset.revisions import TemplateCache
from statefulsim.sim.controllers.statefulset.status_updater import StatusUpdater
from statefulsim.sim.controllers.statefulset.utils import (
    controller_ref_for,
    is_member_of,
    is_terminating,
)
from statefulsim.sim.controllers.statefulset.view import OwnedPodIndex
from statefulsim.sim.controllers.workqueue import WorkQueue
from statefulsim.sim.delays import DelayModel
from statefulsim.sim.env import SimEnv
from statefulsim.sim.process import Gen
from statefulsim.sim.versions import FeatureGates


@dataclass(frozen=True)
class ControllerSettings:
    """kube-controller-manager settings that shape the controller's timing."""

    workers: int = 5  # --concurrent-statefulset-syncs
    api_qps: float = 20.0  # --kube-api-qps
    api_burst: int = 30  # --kube-api-burst
    #: Build each sync's view from indexes kept up to date by events (same answers as walking
    #: every pod, as upstream does; False walks every pod, for differential tests).
    indexed_sync: bool = True
    #: --min-resync-period: the informers replay every StatefulSet to the update handler every
    #: ``min_resync_period × U[1, 2)`` (12-24 h), which enqueues every set.
    min_resync_period: float = 12 * 3600.0


def _owner_index(pod: Pod) -> Iterable[str]:
    ref = pod.metadata.controller_ref()
    return (ref.uid,) if ref is not None else ()


def _orphan_index(pod: Pod) -> Iterable[str]:
    return (pod.metadata.namespace,) if pod.metadata.controller_ref() is None else ()


def _key(obj: Any) -> str:
    return f"{obj.metadata.namespace}/{obj.metadata.name}"


class StatefulSetController:
    def __init__(self, env: SimEnv, store: ObjectStore, gates: FeatureGates, *, api_latency: DelayModel,
                 watch_latency: DelayModel, settings: ControllerSettings = ControllerSettings(),
                 claims: ClaimControl | None = None, informers: SharedInformerFactory | None = None) -> None:
        self.env = env
        self.store = store
        self.gates = gates
        self.client = ApiClient(env, store, "statefulset-controller", api_latency, settings.api_qps, settings.api_burst)
        factory = informers or SharedInformerFactory(store, watch_latency, "watch/statefulset-controller")
        self.sets = factory.informer("StatefulSet")
        self.pods = factory.informer("Pod",
                             indexes={"owner": _owner_index, "orphan": _orphan_index})
        self.revisions = factory.informer("ControllerRevision",
                                  indexes={"owner": _owner_index})
        self.claims = factory.informer("PersistentVolumeClaim")
        self.pod_control = PodControl(env, self.client, claims or StatefulSetClaims(env, self.client, self.claims))
        self.templates = TemplateCache()
        self.index = OwnedPodIndex()
        self.control = StatefulSetControl(
            env, self.pod_control, gates, self.templates, client=self.client, store=store,
            revisions=self.revisions, status_updater=StatusUpdater(self.client, self.sets), index=self.index,
            indexed_sync=settings.indexed_sync)
        self.queue = WorkQueue(env, "statefulset", self.sync, workers=settings.workers)
        self.settings = settings
        self.events_seen = 0
        # Owned pods whose labels no longer match their set's selector, per set UID.
        self._nonmatching: dict[str, set[tuple[str, str]]] = {}
        for pod in self.pods.list():
            self._track(pod, deleted=False)
        self.sets.add_handler(self._on_set)
        self.pods.add_handler(self._on_pod)
        env.process(self._resync())

    def _resync(self) -> Gen:
        """Informer resync (reference §2): one period for the controller manager's informer
        factory, drawn once; each resync enqueues every StatefulSet (pod resyncs are dropped).
        This is what eventually unsticks a set nothing else requeues (e.g. a stale-claim wait)."""
        period = self.settings.min_resync_period * (1.0 + self.env.rng("resync/kube-controller-manager").random())
        while True:
            yield self.env.timeout(period)
            for sts in sorted(self.sets.list(), key=lambda s: (s.metadata.namespace, s.metadata.name)):
                self._on_set(WatchEvent("MODIFIED", sts, sts))

    # ---------------------------------------------------------------- event handlers
    def _on_set(self, ev: WatchEvent) -> None:
        self.events_seen += 1
        self.queue.add(_key(ev.obj))

    def _owner_of(self, pod: Pod) -> StatefulSet | None:
        ref = pod.metadata.controller_ref()
        if ref is None or ref.kind != "StatefulSet":
            return None
        sts = self.sets.get(pod.metadata.namespace, ref.name)
        if sts is None or sts.metadata.uid != ref.uid:
            return None
        return sts  # type: ignore[no-any-return]

    def _matching_sets(self, pod: Pod) -> list[StatefulSet]:
        return [s for s in self.sets.list(pod.metadata.namespace) if s.spec.selector.matches(pod.metadata.labels)]

    def _track(self, pod: Pod, deleted: bool) -> None:
        """Keep the owned-pod index and the non-matching set in step with the cache."""
        key = (pod.metadata.namespace, pod.metadata.name)
        for members in self._nonmatching.values():
            members.discard(key)
        if deleted:
            self.index.remove(pod)
            return
        self.index.put(pod)
        owner = self._owner_of(pod)
        if owner is not None and not owner.spec.selector.matches(pod.metadata.labels):
            self._nonmatching.setdefault(owner.metadata.uid, set()).add(key)

    def _on_pod(self, ev: WatchEvent) -> None:
        pod = ev.obj
        assert isinstance(pod, Pod)
        self._track(pod, deleted=ev.type == DELETED)
        self.events_seen += 1
        if ev.type == DELETED:
            owner = self._owner_of(pod)
            if owner is not None:
                self.queue.add(_key(owner))
            return
        old = ev.old
        if isinstance(old, Pod):
            old_ref = old.metadata.controller_ref()
            new_ref = pod.metadata.controller_ref()
            if old_ref != new_ref and old_ref is not None:
                old_owner = self._owner_of(old)
                if old_owner is not None:
                    self.queue.add(_key(old_owner))
            owner = self._owner_of(pod)
            if owner is not None:
                key = _key(owner)
                self.queue.add(key)
                mrs = owner.spec.min_ready_seconds
                if mrs > 0 and not old.is_ready() and pod.is_ready():
                    self.queue.add_after(key, mrs + 1.0)
                return
            if new_ref is None and (old.metadata.labels != pod.metadata.labels or old_ref != new_ref):
                for s in self._matching_sets(pod):
                    self.queue.add(_key(s))
            return
        owner = self._owner_of(pod)
        if owner is not None:
            self.queue.add(_key(owner))
        elif pod.metadata.controller_ref() is None:
            for s in self._matching_sets(pod):
                self.queue.add(_key(s))

    # ---------------------------------------------------------------- sync
    @property
    def waiting(self) -> dict[str, Waiting | None]:
        """Why each set ("namespace/name") waits after its last sync (None: it does not)."""
        return self.control.waiting

    def sync(self, key: str) -> Gen:
        """``sync``: claim the set's pods and run :meth:`StatefulSetControl.update`.  Returns True
        on success, False to requeue with backoff."""
        ns, name = key.split("/", 1)
        sts: StatefulSet | None = self.sets.get(ns, name)
        if sts is None:
            return True
        if self.gates.stale_controller_consistency and self.pod_control.written.get(key, 0) > self.pods.max_rv:
            return False  # our own writes are not in the cache yet: requeue through the rate limiter
        plan = self.control.plan(sts)
        pods: list[Pod] | None = None
        if not (self.control.can_use_index(sts, plan) and not self._claim_needed(sts)):
            pods = yield from self._claim_pods(sts)
        ok, status = yield from self.control.update(sts, plan, pods)
        if ok and sts.spec.min_ready_seconds > 0 and status.available_replicas != sts.spec.replicas:
            self.queue.add_after(key, sts.spec.min_ready_seconds)
        return ok

    def _claim_needed(self, sts: StatefulSet) -> bool:
        """Whether the ControllerRefManager would adopt or release a pod in this sync."""
        if self._nonmatching.get(sts.metadata.uid):
            return True
        if sts.metadata.deletion_timestamp is None:
            for pod in self.pods.by_index("orphan", sts.metadata.namespace):
                if sts.spec.selector.matches(pod.metadata.labels) and is_member_of(sts, pod) and not is_terminating(pod):
                    return True
        return False

    def _claim_pods(self, sts: StatefulSet) -> Gen:
        """ControllerRefManager: adopt matching orphans, release owned pods that stopped matching."""
        pods: list[Pod] = []
        for pod in self.pods.by_index("owner", sts.metadata.uid):
            if sts.spec.selector.matches(pod.metadata.labels):
                pods.append(pod)
            elif not is_terminating(pod):
                refs = tuple(r for r in pod.metadata.owner_references if r.uid != sts.metadata.uid)
                try:
                    yield from self.client.update(replace(pod, metadata=replace(pod.metadata, owner_references=refs)))
                except ApiError:
                    pass
        if sts.metadata.deletion_timestamp is None:
            for pod in self.pods.by_index("orphan", sts.metadata.namespace):
                if not sts.spec.selector.matches(pod.metadata.labels) or not is_member_of(sts, pod):
                    continue
                if is_terminating(pod):
                    continue
                refs = pod.metadata.owner_references + (controller_ref_for(sts),)
                try:
                    adopted = yield from self.client.update(replace(pod, metadata=replace(pod.metadata, owner_references=refs)))
                except ApiError:
                    continue
                self.pod_control._note(sts, adopted)
                pods.append(adopted)
        return pods
