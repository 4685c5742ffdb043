"""The kubelet's volume manager (upstream ``pkg/kubelet/volumemanager/``), one per node.

``wait_for_attach_and_mount(pod)`` (``WaitForAttachAndMount``, at most 2 min 3 s a call, then the pod
worker syncs again after 10-15 s; before 1.28 with a ``FailedMount`` event): every claim of the pod Bound
(polled every 300 ms), then for each attachable volume the ``VerifyControllerAttachedVolume``
operation, which succeeds only once the node has reported the volume in use
(``node.status.volumesInUse``, at the kubelet's next node-status tick) *and* the attach/detach
controller lists it as attached; each failed try doubles the operation's back-off (0.5 s, x2,
at most 2 min 2 s), so a finished attach is noticed at the next permitted retry.  Then the mount
(``volumeMount``: NodeStage + NodePublish) and the ``VolumesMounted`` record.

``unmount_volumes(pod)``: when the pod's containers are gone (before the kubelet deletes the pod
object) or the pod object is gone: ``volumeUnmount`` (NodeUnpublish + NodeUnstage), a
``VolumeUnmounted`` record per volume, and the volume leaves ``volumesInUse`` at the next tick.
A failed node does neither: its last report stays as it was until it is back.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import simpy

from statefulsim.sim.api.objects import Pod
from statefulsim.sim.api.storage import BOUND, PersistentVolume
from statefulsim.sim.controllers.attachdetach import AttachDetachController, NodeVolumeStatus, pod_claims
from statefulsim.sim.process import Gen

if TYPE_CHECKING:
    from statefulsim.sim.kubelet.kubelet import Kubelet

#: ``podAttachAndMountRetryInterval``: the claim poll.
RETRY_INTERVAL_SECONDS = 0.3
#: The node status is posted every ``nodeStatusUpdateFrequency`` (10 s).
NODE_STATUS_SECONDS = 10.0
#: ``podAttachAndMountTimeout``: one ``WaitForAttachAndMount`` call.
ATTACH_AND_MOUNT_TIMEOUT_SECONDS = 123.0
#: ``exponentialbackoff``: the first retry after 500 ms, doubling, at most 2 min 2 s.
BACKOFF_INITIAL_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 122.0


def next_retry(start: float, ready: float) -> float:
    """The first try of an operation retried with exponential back-off from ``start`` (tries
    at start, +0.5 s, +1.5 s, +3.5 s, ... gaps at most 122 s) that is not before ``ready``."""
    at, gap = start, BACKOFF_INITIAL_SECONDS
    while at < ready - 1e-9:
        at += gap
        gap = min(gap * 2, BACKOFF_MAX_SECONDS)
    return at


class KubeletVolumeManager:
    """One node's volume manager; see the module docstring."""

    def __init__(self, kubelet: Kubelet, controller: AttachDetachController, status: NodeVolumeStatus,
                 timeout_events: bool = False) -> None:
        self.kubelet = kubelet
        #: Before 1.28 a timed-out wait records ``FailedMount`` (kubernetes#117412 removed it).
        self.timeout_events = timeout_events
        self.env = kubelet.env
        self.store = kubelet.store
        self.node = kubelet.node
        self.controller = controller
        self.status = status
        self.users: dict[str, set[str]] = {}  # pv -> pod uids that want it (kubelet DSW)
        self.mounted: dict[str, set[str]] = {}  # pv -> pod uids it is mounted for (kubelet ASW)
        self._gone: set[str] = set()
        self._unmounted: dict[str, simpy.Event] = {}  # uid -> fires when its unmount is done
        self._reporting = False

    # ---------------------------------------------------------------- volumesInUse
    def in_use(self) -> frozenset[str]:
        """``GetVolumesInUse``: attachable volumes in the kubelet's DSW or ASW."""
        return frozenset(pv for table in (self.users, self.mounted) for pv, uids in table.items() if uids)

    def _changed(self) -> None:
        if not self._reporting:
            self._reporting = True
            self.env.process(self._report())

    def _report(self) -> Gen:
        """Post ``volumesInUse`` at the next node-status tick (the Lease grid), while it differs."""
        try:
            while self.in_use() != self.status.in_use(self.node):
                yield from self.kubelet.until_up()
                origin = self.kubelet.lease_origin
                now = self.env.now
                tick = origin + NODE_STATUS_SECONDS * math.ceil((now - origin) / NODE_STATUS_SECONDS - 1e-9)
                yield self.env.timeout(tick - now)
                if self.kubelet.up:
                    self.status.post(self.node, self.in_use())
        finally:
            self._reporting = False

    def _delay(self, key: str, pv: PersistentVolume | None, stream: str) -> float:
        """A draw of volume delay ``key`` for the class and provisioner of ``pv`` (one per pod)."""
        klass, driver = self.controller.class_and_driver(pv)
        return self.env.sample(self.kubelet.timing.for_volume(key, storage_class=klass, provisioner=driver), stream)

    # ---------------------------------------------------------------- mount
    def _volumes(self, pod: Pod) -> Gen:
        """The pod's claims' volumes once every claim is Bound (None: the pod went away)."""
        names = pod_claims(pod)
        ns = pod.metadata.namespace
        while True:
            claims = [self.store.get("PersistentVolumeClaim", ns, n) for n in names]
            if all(c is not None and c.phase == BOUND for c in claims):
                break
            yield self.env.timeout(RETRY_INTERVAL_SECONDS)
            if pod.metadata.uid in self._gone:
                return None
        vols = [self.store.get("PersistentVolume", "", c.volume_name) for c in claims if c is not None]
        return [v for v in vols if v is not None]

    def wait_for_attach_and_mount(self, pod: Pod) -> Gen:
        """The pod worker's side: one ``WaitForAttachAndMount`` call waits at most 2 min 3 s; then
        the sync fails (before 1.28 with a ``FailedMount`` event) and the pod is synced again
        after ``wait.Jitter(10 s, 0.5)``, while attach and mount go on in the background."""
        names = pod_claims(pod)
        if not names:
            return None
        uid = pod.metadata.uid
        done = self.env.event()
        self.env.process(self._attach_and_mount(pod, done))
        while not done.triggered:
            yield simpy.AnyOf(self.env.sim, [done, self.env.timeout(ATTACH_AND_MOUNT_TIMEOUT_SECONDS)])
            if done.triggered or uid in self._gone:
                return None
            if self.timeout_events:
                self.kubelet.recorder.warning("FailedMount", f"pod/{pod.metadata.name}", self._timeout_message(pod), uid)
            jitter = self.kubelet.timing.pod_worker_jitter
            yield self.env.timeout(self.env.rng("kubelet/volumeWait").uniform(10.0, 15.0) if jitter else 10.0)
            if uid in self._gone:
                return None
        return None

    def _timeout_message(self, pod: Pod) -> str:
        """``Unable to attach or mount volumes: ...`` with the pod-spec names of what is missing."""
        uid = pod.metadata.uid
        ns = pod.metadata.namespace
        unmounted, unattached = [], []
        for v in pod.spec.volumes:
            if not v.claim_name:
                continue
            claim = self.store.get("PersistentVolumeClaim", ns, v.claim_name)
            pv = claim.volume_name if claim is not None else ""
            if uid not in self.mounted.get(pv, set()):
                unmounted.append(v.name)
                if not self.controller.is_attached(pv, self.node):
                    unattached.append(v.name)
        return (f"Unable to attach or mount volumes: unmounted volumes=[{' '.join(unmounted)}], "
                f"unattached volumes=[{' '.join(unattached)}], failed to process volumes=[]: "
                "timed out waiting for the condition")

    def _attach_and_mount(self, pod: Pod, done: simpy.Event) -> Gen:
        """The volume manager's side: attach (seen through the verify back-off), then mount."""
        names = pod_claims(pod)
        uid = pod.metadata.uid
        vols: list[PersistentVolume] | None = yield from self._volumes(pod)
        if vols is None:
            return None
        attachable = sorted((v for v in vols if self.controller.attachable(v)), key=lambda v: v.metadata.name)
        for v in attachable:
            self.users.setdefault(v.metadata.name, set()).add(uid)
        if attachable:
            self._changed()
        start = self.env.now
        for v in attachable:
            name = v.metadata.name
            while not (self.controller.is_attached(name, self.node) and name in self.status.in_use(self.node)):
                yield simpy.AnyOf(self.env.sim, [self.controller.when_attached(name, self.node),
                                                 self.status.changed(self.node)])
                if uid in self._gone:
                    return None
        at = next_retry(start, self.env.now)
        if at > self.env.now:
            yield self.env.timeout(at - self.env.now)
        yield self.env.timeout(self._delay("volumeMount", vols[0] if vols else None, "volume/mount"))
        if uid in self._gone:
            return None
        for v in attachable:
            self.mounted.setdefault(v.metadata.name, set()).add(uid)
        self.env.emit("VolumesMounted", pod=pod.metadata.name, uid=uid, claims=names)
        done.succeed()
        return None

    # ---------------------------------------------------------------- unmount
    def unmount_volumes(self, pod: Pod) -> Gen:
        uid = pod.metadata.uid
        if not pod_claims(pod):
            return None
        if uid in self._gone:  # being unmounted already: wait until that is done
            done = self._unmounted.get(uid)
            if done is not None and not done.triggered:
                yield done
            return None
        self._gone.add(uid)
        self._unmounted[uid] = self.env.event()
        yield from self._unmount(pod)
        self._unmounted.pop(uid).succeed()
        return None

    def _unmount(self, pod: Pod) -> Gen:
        uid = pod.metadata.uid
        wanted = sorted(pv for pv, uids in self.users.items() if uid in uids)
        mounted = sorted(pv for pv, uids in self.mounted.items() if uid in uids)
        for pv in wanted:
            self.users[pv].discard(uid)
        if mounted:
            first = self.store.get("PersistentVolume", "", mounted[0])
            yield self.env.timeout(self._delay("volumeUnmount", first, "volume/unmount"))
            for pv in mounted:
                self.mounted[pv].discard(uid)
                self.env.emit("VolumeUnmounted", pod=pod.metadata.name, uid=uid, pv=pv, node=self.node)
        if wanted or mounted:
            self._changed()
