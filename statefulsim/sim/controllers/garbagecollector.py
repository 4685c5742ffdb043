"""The garbage collector (owner references) and the PVC-protection controller.

* When an owner is gone, each dependent whose owners are all gone is deleted (background
  propagation); pods are deleted gracefully, so a StatefulSet's pods terminate concurrently.
* ``propagationPolicy: Orphan``: the owner carries the ``orphan`` finalizer; the collector removes
  the owner's references from its dependents, then the finalizer.
* ``propagationPolicy: Foreground``: the owner carries ``foregroundDeletion``; dependents are
  deleted first, then the finalizer is removed.
* PVC protection: a claim being deleted keeps ``kubernetes.io/pvc-protection`` until no pod that
  is not terminated uses it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from statefulsim.sim.api.informer import Informer, SharedInformerFactory
from statefulsim.sim.api.objects import Pod
from statefulsim.sim.api.storage import PVC_PROTECTION, PersistentVolumeClaim
from statefulsim.sim.api.store import DELETED, ApiClient, ApiError, ObjectStore, WatchEvent
from statefulsim.sim.controllers.workqueue import WorkQueue
from statefulsim.sim.delays import DelayModel
from statefulsim.sim.env import SimEnv
from statefulsim.sim.process import Gen

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"
OWNER_KINDS = ("StatefulSet", "Pod", "Service")
DEPENDENT_KINDS = ("Pod", "PersistentVolumeClaim", "ControllerRevision", "EndpointSlice")


class GarbageCollector:
    def __init__(self, env: SimEnv, store: ObjectStore, *, api_latency: DelayModel, watch_latency: DelayModel,
                 informers: SharedInformerFactory | None = None) -> None:
        self.env = env
        self.store = store
        self.client = ApiClient(env, store, "generic-garbage-collector", api_latency, 20.0, 30)
        factory = informers or SharedInformerFactory(store, watch_latency, "watch/garbage-collector")
        self.informers: dict[str, Informer] = {}
        self._owners: dict[str, tuple[str, str, str]] = {}  # uid -> (kind, namespace, name) of live owners
        self._dependents: dict[str, set[tuple[str, str, str]]] = {}  # owner uid -> dependents
        for kind in sorted(set(OWNER_KINDS) | set(DEPENDENT_KINDS)):
            inf = factory.informer(kind)
            inf.add_handler(self._on_change)
            self.informers[kind] = inf
            for obj in inf.list():
                self._index(WatchEvent("ADDED", obj))
        self.queue = WorkQueue(env, "garbagecollector", self.sync, workers=20, base_delay=0.005)

    def _key(self, obj: Any) -> tuple[str, str, str]:
        return (obj.kind, obj.metadata.namespace, obj.metadata.name)

    def _index(self, ev: WatchEvent) -> None:
        obj = ev.obj
        key = self._key(obj)
        if obj.kind in OWNER_KINDS:
            if ev.type == DELETED:
                self._owners.pop(obj.metadata.uid, None)
            else:
                self._owners[obj.metadata.uid] = key
        if obj.kind in DEPENDENT_KINDS:
            old = ev.old
            if isinstance(old, type(obj)):
                if ev.type != DELETED and old.metadata.owner_references == obj.metadata.owner_references:
                    return  # the usual write (status): the same owners, nothing to re-file
                for r in old.metadata.owner_references:
                    deps = self._dependents.get(r.uid)
                    if deps is not None:
                        deps.discard(key)
            if ev.type != DELETED:
                for r in obj.metadata.owner_references:
                    self._dependents.setdefault(r.uid, set()).add(key)

    def _on_change(self, ev: WatchEvent) -> None:
        self._index(ev)
        obj = ev.obj
        if obj.kind in OWNER_KINDS:
            # processTransitions: an owner being deleted in the foreground has its dependents
            # queued for deletion at once; one being deleted with the orphan finalizer only
            # queues itself (its dependents are released, not deleted); the others' dependents
            # are looked at once the owner is gone.
            deleting = ev.type != DELETED and obj.metadata.deletion_timestamp is not None
            if ev.type == DELETED or (deleting and FOREGROUND in obj.metadata.finalizers):
                for dep in sorted(self._dependents.get(obj.metadata.uid, ())):
                    self.queue.add("dep/" + "/".join(dep))
            if deleting:
                self.queue.add("owner/" + "/".join(self._key(obj)))
        if obj.kind in DEPENDENT_KINDS and ev.type != DELETED and obj.metadata.owner_references:
            if any(r.uid not in self._owners for r in obj.metadata.owner_references):
                self.queue.add("dep/" + "/".join(self._key(obj)))
        if ev.type == DELETED:
            # A dependent that went away may unblock a foreground owner.
            for r in obj.metadata.owner_references:
                owner = self._owners.get(r.uid)
                if owner is not None:
                    self.queue.add("owner/" + "/".join(owner))

    def sync(self, key: str) -> Gen:
        what, kind, ns, name = key.split("/", 3)
        obj = self.store.get(kind, ns, name)
        if obj is None:
            return True
        try:
            if what == "dep":
                yield from self._sync_dependent(obj)
            else:
                yield from self._sync_owner(obj)
        except ApiError as e:
            return e.reason == "NotFound"
        return True

    def _owner_alive(self, ref: Any, namespace: str) -> Any:
        """The owner if it still exists: a live GET, as ``isDangling`` does (the informer cache may
        simply not have seen the owner yet)."""
        obj = self.store.get(ref.kind, namespace, ref.name)
        return obj if obj is not None and obj.metadata.uid == ref.uid else None

    def _sync_dependent(self, item: Any) -> Gen:
        """``attemptToDeleteItem``: decide on the dependent as the API server has it after a live
        GET, never on an earlier read (the orphan finalizer may have removed its owner references
        in between), and delete it with a UID precondition."""
        if not item.metadata.owner_references or item.metadata.deletion_timestamp is not None:
            return
        obj = yield from self.client.get(item.kind, item.metadata.namespace, item.metadata.name)
        refs = obj.metadata.owner_references
        if obj.metadata.uid != item.metadata.uid or not refs or obj.metadata.deletion_timestamp is not None:
            return
        yield from self.client._request()  # the GET of the owners
        owners = [self._owner_alive(r, obj.metadata.namespace) for r in refs]
        # classifyReferences: an existing owner is "solid" unless it is being deleted in the
        # foreground; only a missing owner (404 or another UID) is "dangling".
        solid = [o for o in owners if o is not None
                 and not (o.metadata.deletion_timestamp is not None and FOREGROUND in o.metadata.finalizers)]
        if solid:
            return
        yield from self.client.delete(obj.kind, obj.metadata.namespace, obj.metadata.name, uid=obj.metadata.uid)
        self.env.emit("GarbageCollected", kind=obj.kind, name=obj.metadata.name,
                      owner=next((r.name for r in refs), None))

    def _sync_owner(self, owner: Any) -> Gen:
        fins = owner.metadata.finalizers
        if ORPHAN not in fins and FOREGROUND not in fins:
            return  # nothing to finish (most syncs: a dependent of a live owner went away)
        deps = sorted(self._dependents.get(owner.metadata.uid, ()))
        if ORPHAN in fins:
            for kind, ns, name in deps:
                dep = self.store.get(kind, ns, name)
                if dep is None:
                    continue
                keep = tuple(r for r in dep.metadata.owner_references if r.uid != owner.metadata.uid)
                yield from self.client.update(replace(dep, metadata=replace(dep.metadata, owner_references=keep)))
            yield from self._remove_finalizer(owner, ORPHAN)
        elif FOREGROUND in fins:
            # processDeletingDependentsItem: wait only for dependents whose reference to this
            # owner blocks its deletion, and (re)queue those for deletion: one created after
            # the foreground deletion began (a StatefulSet syncing while terminating recreates
            # its ControllerRevision) is queued by nothing else.
            blocking = []
            for kind, ns, name in deps:
                dep = self.store.get(kind, ns, name)
                if dep is not None and any(r.uid == owner.metadata.uid and r.block_owner_deletion
                                           for r in dep.metadata.owner_references):
                    blocking.append(dep)
            if not blocking:
                yield from self._remove_finalizer(owner, FOREGROUND)
                return
            for dep in blocking:
                if not (dep.metadata.deletion_timestamp is not None and FOREGROUND in dep.metadata.finalizers):
                    self.queue.add("dep/" + "/".join(self._key(dep)))

    def _remove_finalizer(self, owner: Any, finalizer: str) -> Gen:
        yield from self.client._request()
        self.store.remove_finalizer(owner, finalizer)


def _claim_index(pod: Any) -> tuple[str, ...]:
    return tuple(f"{pod.metadata.namespace}/{v.claim_name}" for v in pod.spec.volumes if v.claim_name)


class PvcProtection:
    """Removes ``kubernetes.io/pvc-protection`` from a claim being deleted once no pod uses it."""

    def __init__(self, env: SimEnv, store: ObjectStore, *, api_latency: DelayModel, watch_latency: DelayModel,
                 informers: SharedInformerFactory | None = None) -> None:
        self.env = env
        self.store = store
        self.client = ApiClient(env, store, "pvc-protection-controller", api_latency, 20.0, 30)
        factory = informers or SharedInformerFactory(store, watch_latency, "watch/pvc-protection")
        self.claims = factory.informer("PersistentVolumeClaim")
        self.pods = factory.informer("Pod", indexes={"claim": _claim_index})
        self.queue = WorkQueue(env, "pvcprotection", self.sync, workers=1, base_delay=0.005)
        self.claims.add_handler(self._on_claim)
        self.pods.add_handler(self._on_pod)

    def _on_claim(self, ev: WatchEvent) -> None:
        c = ev.obj
        if ev.type != DELETED and c.metadata.deletion_timestamp is not None:
            self.queue.add(f"{c.metadata.namespace}/{c.metadata.name}")

    def _on_pod(self, ev: WatchEvent) -> None:
        pod = ev.obj
        assert isinstance(pod, Pod)
        if ev.type == DELETED:
            for v in pod.spec.volumes:
                if v.claim_name:
                    self.queue.add(f"{pod.metadata.namespace}/{v.claim_name}")

    def in_use(self, ns: str, name: str) -> bool:
        """Used by a scheduled pod object (``podUsesPVC``: an unscheduled pod does not hold the
        claim, since the kubelet will not start a pod whose claim is being deleted; a finished pod
        holds it until the pod object is deleted)."""
        return any(p.spec.node_name for p in self.pods.by_index("claim", f"{ns}/{name}"))

    def sync(self, key: str) -> Gen:
        ns, name = key.split("/", 1)
        claim: PersistentVolumeClaim | None = self.store.get("PersistentVolumeClaim", ns, name)
        if claim is None or claim.metadata.deletion_timestamp is None or PVC_PROTECTION not in claim.metadata.finalizers:
            return True
        if self.in_use(ns, name):
            return True
        yield from self.client._request()
        try:
            self.store.remove_finalizer(claim, PVC_PROTECTION)
        except ApiError:
            return False
        return True
