"""Volume binding and provisioning: the PV controller and a CSI-like external provisioner
(reference pods §5.1–§5.4, §5.8).

* ``Immediate`` classes: a claim is bound as soon as it exists (to a matching static volume,
  else to a freshly provisioned one);
* ``WaitForFirstConsumer``: nothing happens until the scheduler writes the selected-node
  annotation on the claim; then a matching static volume on that node is bound, or one is
  provisioned for that node.
* Provisioning takes ``provisioning`` (timing, per class via overrides); local provisioners
  (``kubernetes.io/no-provisioner`` cannot provision; ``rancher.io/local-path`` and
  ``*local*`` ones pin the volume to the node) get node affinity.
* A deleted claim releases its volume; ``reclaimPolicy: Delete`` deletes the volume.
"""

from __future__ import annotations

from dataclasses import replace

from statefulsim.sim.api.informer import IndexFn, SharedInformerFactory
from statefulsim.sim.api.objects import HOSTNAME_LABEL, ObjectMeta
from statefulsim.sim.api.storage import (
    AVAILABLE,
    BOUND,
    RELEASED,
    SELECTED_NODE_ANNOTATION,
    WAIT_FOR_FIRST_CONSUMER,
    ClaimRef,
    PersistentVolume,
    PersistentVolumeClaim,
    StorageClass,
    pick_default_class,
)
from statefulsim.sim.api.store import DELETED, ApiClient, ApiError, ObjectStore, WatchEvent
from statefulsim.sim.controllers.workqueue import WorkQueue
from statefulsim.sim.delays import DelayModel
from statefulsim.sim.env import SimEnv
from statefulsim.sim.process import Gen
from statefulsim.sim.timing import Timing

NO_PROVISIONER = "kubernetes.io/no-provisioner"


def default_class(classes: list[StorageClass]) -> StorageClass | None:
    return pick_default_class(classes)


def class_of(claim: PersistentVolumeClaim, classes: list[StorageClass]) -> StorageClass | None:
    """The claim's class: named, or the default class when the claim names none."""
    if claim.storage_class_name is None:
        return default_class(classes)
    for c in classes:
        if c.metadata.name == claim.storage_class_name:
            return c
    return None


def is_local_provisioner(provisioner: str) -> bool:
    return "local" in provisioner


def static_candidates(claim: PersistentVolumeClaim, klass: str, volumes: list[PersistentVolume]
                      ) -> tuple[PersistentVolume | None, list[PersistentVolume]]:
    """The node-independent part of :func:`matching_volume`: the volume the claim names or that
    is pre-bound to it (then the list is empty), else None and the Available volumes of the class
    that fit the claim, smallest first."""
    if claim.volume_name:
        for v in volumes:
            if v.metadata.name == claim.volume_name and (v.claim_ref is None or v.claim_ref.uid == claim.metadata.uid):
                return v, []
        return None, []
    for v in volumes:  # a volume pre-bound to this claim (e.g. just provisioned for it)
        ref = v.claim_ref
        if ref is not None and ref.namespace == claim.metadata.namespace and ref.name == claim.metadata.name \
                and ref.uid in ("", claim.metadata.uid):
            return v, []
    fits = [v for v in volumes
            if v.phase == AVAILABLE and v.claim_ref is None and v.storage_class_name == klass
            and v.capacity_bytes >= claim.request_bytes and set(claim.access_modes) <= set(v.access_modes)]
    fits.sort(key=lambda v: (v.capacity_bytes, v.metadata.name))
    return None, fits


def matching_volume(claim: PersistentVolumeClaim, klass: str, volumes: list[PersistentVolume],
                    node_labels: dict[str, str] | None) -> PersistentVolume | None:
    """The smallest Available volume of the class that fits the claim (and the node, if given)."""
    chosen, fits = static_candidates(claim, klass, volumes)
    if chosen is not None or claim.volume_name:
        return chosen
    return next((v for v in fits if node_labels is None or v.fits_node(node_labels)), None)


def _claim_ref_index(v: PersistentVolume) -> tuple[str, ...]:
    """A volume filed under ``ns/name`` of the claim it is (pre-)bound to."""
    ref = v.claim_ref
    return (f"{ref.namespace}/{ref.name}",) if ref is not None else ()


def _available_index(v: PersistentVolume) -> tuple[str, ...]:
    """An Available, unclaimed volume filed under its class (what ``static_candidates`` fits)."""
    return (v.storage_class_name,) if v.phase == AVAILABLE and v.claim_ref is None else ()


#: The PV informer's indexes for :meth:`VolumeController.matching_volume`.
VOLUME_INDEXES: dict[str, IndexFn] = {"volume/claimRef": _claim_ref_index, "volume/availableClass": _available_index}


class VolumeController:
    """PV controller + provisioner: binds claims to volumes, provisions, releases."""

    def __init__(self, env: SimEnv, store: ObjectStore, timing: Timing, *, api_latency: DelayModel,
                 watch_latency: DelayModel, informers: SharedInformerFactory | None = None) -> None:
        self.env = env
        self.store = store
        self.timing = timing
        self.client = ApiClient(env, store, "persistentvolume-controller", api_latency, 20.0, 30)
        factory = informers or SharedInformerFactory(store, watch_latency, "watch/pv-controller")
        self.claims = factory.informer("PersistentVolumeClaim")
        self.volumes = factory.informer("PersistentVolume", indexes=VOLUME_INDEXES)
        self.classes = factory.informer("StorageClass")
        self.nodes = factory.informer("Node")
        self.queue = WorkQueue(env, "volume", self.sync, workers=5, base_delay=1.0)
        self._provisioning: set[str] = set()
        # The claims not Bound, in the claims informer's cache order: informer key -> queue key.
        # Kept by _on_claim; rebuilt from the cache when a claim already cached stops being Bound.
        self._pending: dict[tuple[str, str], str] = {}
        self._pending_stale = True
        #: how often _requeue_pending used (and rebuilt) the pending claims, for tests
        self.pending_uses = self.pending_rebuilds = 0
        #: matching_volume answers found through the volume indexes (not a scan of every volume)
        self.indexed_matches = 0
        self.claims.add_handler(self._on_claim)
        self.volumes.add_handler(self._on_volume)
        self.classes.add_handler(lambda ev: self._requeue_pending())

    def _on_claim(self, ev: WatchEvent) -> None:
        c = ev.obj
        assert isinstance(c, PersistentVolumeClaim)
        self._track_pending(ev)
        if ev.type == DELETED:
            if c.volume_name:
                self.queue.add(f"volume/{c.volume_name}")  # released: reclaim it
            return
        self.queue.add(f"claim/{c.metadata.namespace}/{c.metadata.name}")

    def _on_volume(self, ev: WatchEvent) -> None:
        self.queue.add(f"volume/{ev.obj.metadata.name}")
        if ev.type != DELETED:
            self._requeue_pending()

    def _track_pending(self, ev: WatchEvent) -> None:
        """Keep :attr:`_pending` equal to the not-Bound claims of the cache, in its order."""
        if self._pending_stale:
            return
        c = ev.obj
        assert isinstance(c, PersistentVolumeClaim)
        key = (c.metadata.namespace, c.metadata.name)
        if ev.type == DELETED or c.phase == BOUND:
            self._pending.pop(key, None)
        elif key not in self._pending:
            cache = self.claims.cache
            if cache and next(reversed(cache)) == key:  # just added: last in the cache's order
                self._pending[key] = f"claim/{c.metadata.namespace}/{c.metadata.name}"
            else:
                self._pending_stale = True

    def pending_claims(self) -> list[str]:
        """The queue keys of the claims not Bound, in the claims informer's order (as a scan of
        ``claims.list()`` gives them)."""
        self.pending_uses += 1
        if self._pending_stale:
            self.pending_rebuilds += 1
            self._pending = {(c.metadata.namespace, c.metadata.name): f"claim/{c.metadata.namespace}/{c.metadata.name}"
                             for c in self.claims.list() if c.phase != BOUND}
            self._pending_stale = False
        return list(self._pending.values())

    def _requeue_pending(self) -> None:
        add = self.queue.add
        for key in self.pending_claims():
            add(key)

    def sync(self, key: str) -> Gen:
        kind, _, rest = key.partition("/")
        if kind == "claim":
            ns, name = rest.split("/", 1)
            return (yield from self._sync_claim(ns, name))
        return (yield from self._sync_volume(rest))

    # ------------------------------------------------------------------ claims
    def _sync_claim(self, ns: str, name: str) -> Gen:
        claim: PersistentVolumeClaim | None = self.store.get("PersistentVolumeClaim", ns, name)
        if claim is None or claim.phase == BOUND or claim.metadata.deletion_timestamp is not None:
            return True
        klass = class_of(claim, self.classes.list())
        class_name = klass.metadata.name if klass is not None else (claim.storage_class_name or "")
        node_labels: dict[str, str] | None = None
        if klass is not None and klass.volume_binding_mode == WAIT_FOR_FIRST_CONSUMER:
            selected = claim.metadata.annotations.get(SELECTED_NODE_ANNOTATION)
            if not selected:
                return True  # waiting for the first consumer to be scheduled
            node = self.nodes.get("", selected)
            node_labels = dict(node.metadata.labels) if node is not None else {HOSTNAME_LABEL: selected}
        volume = self.matching_volume(claim, class_name, node_labels)
        if volume is not None:
            return (yield from self._bind(claim, volume))
        if klass is None or klass.provisioner == NO_PROVISIONER:
            return True  # stays Pending until a matching volume appears
        provisioned = self.store.get("PersistentVolume", "", f"pvc-{claim.metadata.uid}")
        if provisioned is not None:  # the provisioner looks its own volume up by name first
            return (yield from self._bind(claim, provisioned))
        key = f"{ns}/{name}"
        if key in self._provisioning:
            return True
        self._provisioning.add(key)
        self.env.process(self._provision(claim, klass, node_labels))
        return True

    def matching_volume(self, claim: PersistentVolumeClaim, klass: str,
                        node_labels: dict[str, str] | None) -> PersistentVolume | None:
        """:func:`matching_volume` over the informer's volumes, through its indexes: the named
        volume by name, the volume pre-bound to the claim by its claim reference, the candidates
        by class (with several pre-bound volumes, the scan decides which comes first)."""
        if claim.volume_name:
            named = self.volumes.get("", claim.volume_name)
            narrowed: list[PersistentVolume] = [named] if named is not None else []
        else:
            ns, name, uid = claim.metadata.namespace, claim.metadata.name, claim.metadata.uid
            narrowed = [v for v in self.volumes.by_index("volume/claimRef", f"{ns}/{name}")
                        if v.claim_ref is not None and v.claim_ref.namespace == ns and v.claim_ref.name == name
                        and v.claim_ref.uid in ("", uid)]
            if len(narrowed) > 1:
                return matching_volume(claim, klass, self.volumes.list(), node_labels)
            if not narrowed:
                narrowed = self.volumes.by_index("volume/availableClass", klass)
        self.indexed_matches += 1
        return matching_volume(claim, klass, narrowed, node_labels)

    def _provision(self, claim: PersistentVolumeClaim, klass: StorageClass, node_labels: dict[str, str] | None) -> Gen:
        """The external provisioner's CreateVolume, then the new PV (bound to the claim)."""
        key = f"{claim.metadata.namespace}/{claim.metadata.name}"
        model = self.timing.for_volume("provisioning", storage_class=klass.metadata.name,
                                       provisioner=klass.provisioner)
        self.env.emit("VolumeProvisioning", pvc=claim.metadata.name, storageClass=klass.metadata.name,
                      node=(node_labels or {}).get(HOSTNAME_LABEL))
        yield self.env.timeout(self.env.sample(model, "volume/provisioning"))
        affinity: dict[str, tuple[str, ...]] = {}
        if node_labels is not None and is_local_provisioner(klass.provisioner):
            affinity = {HOSTNAME_LABEL: (node_labels.get(HOSTNAME_LABEL, ""),)}
        pv = PersistentVolume(
            metadata=ObjectMeta(name=f"pvc-{claim.metadata.uid}", namespace="",
                                annotations={"pv.kubernetes.io/provisioned-by": klass.provisioner}),
            storage_class_name=klass.metadata.name, capacity_bytes=claim.request_bytes,
            access_modes=claim.access_modes, reclaim_policy=klass.reclaim_policy,
            claim_ref=ClaimRef(claim.metadata.namespace, claim.metadata.name, claim.metadata.uid),
            node_affinity=affinity, local=bool(affinity))
        try:
            yield from self.client.create(pv)
        except ApiError:
            pass
        self._provisioning.discard(key)
        self.queue.add(f"claim/{key}")

    def _bind(self, claim: PersistentVolumeClaim, volume: PersistentVolume) -> Gen:
        try:
            cur_pv = self.store.get("PersistentVolume", "", volume.metadata.name)
            if cur_pv is None:
                return True
            if cur_pv.claim_ref is None or cur_pv.phase != BOUND:
                yield from self.client.update(replace(
                    cur_pv, claim_ref=ClaimRef(claim.metadata.namespace, claim.metadata.name, claim.metadata.uid),
                    phase=BOUND))
            cur = self.store.get("PersistentVolumeClaim", claim.metadata.namespace, claim.metadata.name)
            if cur is None or cur.metadata.uid != claim.metadata.uid:
                return True
            yield from self.client.update(replace(cur, volume_name=volume.metadata.name, phase=BOUND))
        except ApiError:
            return False
        return True

    # ------------------------------------------------------------------ volumes
    def _sync_volume(self, name: str) -> Gen:
        pv: PersistentVolume | None = self.store.get("PersistentVolume", "", name)
        if pv is None or pv.claim_ref is None:
            return True
        claim = self.store.get("PersistentVolumeClaim", pv.claim_ref.namespace, pv.claim_ref.name)
        if claim is not None and claim.metadata.uid == pv.claim_ref.uid:
            return True
        if pv.phase == BOUND or pv.phase == AVAILABLE:
            try:
                if pv.reclaim_policy == "Delete":
                    yield from self.client.delete("PersistentVolume", "", name)
                else:
                    yield from self.client.update(replace(pv, phase=RELEASED))
            except ApiError:
                return False
        return True
