"""The attach/detach controller (upstream ``pkg/controller/volume/attachdetach/``).

Desired state of world (DSW): ``(volume, node)`` pairs for every pod bound to a node, not
terminated (``IsPodTerminated``: phase Failed/Succeeded, or a deletionTimestamp and no running
container), whose claim is Bound to an *attachable* volume (not local/hostPath, not a CSI driver
with ``attachRequired: false``).  Actual state of world (ASW): one :class:`VolumeAttachment` per
attached ``(volume, node)``.

The reconciler runs on a 100 ms grid (``ReconcilerLoopPeriod``) when something changed, detaches
before it attaches, and for each attachment no longer desired:

* waits while the node reports the volume in use (``node.status.volumesInUse``, posted by the
  kubelet at its node-status ticks; frozen while the node is down or gone), unless
* the node has the ``node.kubernetes.io/out-of-service`` taint: force detach at once, or
* 6 min (``maxWaitForUnmountDuration``) have passed since the pair left the DSW and the node is
  not Ready (or its object is gone): force detach.

A ReadWriteOnce/ReadWriteOncePod volume attached to another node is not attached: the pods get
one ``FailedAttachVolume`` Multi-Attach event per DSW entry.  An operation pending on such a
volume makes the reconciler skip it silently.  Attach and detach take ``volumeAttach`` and
``volumeDetach`` (timing, per StorageClass/provisioner).

``volumesInUse`` and ``volumesAttached`` are kept here (:class:`NodeVolumeStatus`, and the ASW)
rather than in the Node objects: the kubelet and this controller read them directly.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Callable

import simpy

from statefulsim.sim.api.informer import Informer
from statefulsim.sim.api.objects import FAILED, SUCCEEDED, TAINT_OUT_OF_SERVICE, Node, Pod
from statefulsim.sim.api.storage import BOUND, PersistentVolume, PersistentVolumeClaim
from statefulsim.sim.api.store import DELETED, WatchEvent
from statefulsim.sim.controllers.informers import SharedInformers
from statefulsim.sim.controllers.volume import is_local_provisioner
from statefulsim.sim.env import SimEnv
from statefulsim.sim.events import EventRecorder
from statefulsim.sim.process import Gen
from statefulsim.sim.timing import Timing

COMPONENT = "attachdetach-controller"
#: ``ReconcilerLoopPeriod``.
RECONCILER_LOOP_SECONDS = 0.1
#: ``ReconcilerMaxWaitForUnmountDuration`` (hard-coded upstream).
MAX_WAIT_FOR_UNMOUNT_SECONDS = 360.0
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
#: CSI drivers whose CSIDriver object says ``attachRequired: false`` (no VolumeAttachment).
NO_ATTACH_DRIVERS = frozenset({"efs.csi.aws.com", "nfs.csi.k8s.io", "file.csi.azure.com",
                               "filestore.csi.storage.gke.io"})
MULTI_ATTACH_EXCLUSIVE = "Volume is already exclusively attached to one node and can't be attached to another"


def pod_claims(pod: Pod) -> list[str]:
    """The claim names of a pod's persistentVolumeClaim volumes, in spec order."""
    return [v.claim_name for v in pod.spec.volumes if v.claim_name]


def is_terminated(pod: Pod) -> bool:
    """``IsPodTerminated``: Failed/Succeeded, or deleted with no container running (as reported)."""
    if pod.status.phase in (FAILED, SUCCEEDED):
        return True
    statuses = pod.status.container_statuses + pod.status.init_container_statuses
    return pod.metadata.deletion_timestamp is not None and not any(s.state == "running" for s in statuses)


def multi_attach_allowed(pv: PersistentVolume) -> bool:
    """``IsMultiAttachAllowed``: ReadWriteMany/ReadOnlyMany volumes, or no access modes."""
    return not pv.access_modes or bool({"ReadWriteMany", "ReadOnlyMany"} & set(pv.access_modes))


def _claim(pv: PersistentVolume | None) -> str | None:
    return pv.claim_ref.name if pv is not None and pv.claim_ref is not None else None


def attachment_name(pv: str, driver: str, node: str) -> str:
    """``csi-`` and the SHA-256 of volume handle, driver and node (``getAttachmentName``)."""
    return "csi-" + hashlib.sha256(f"{pv}{driver}{node}".encode()).hexdigest()


@dataclass
class VolumeAttachment:
    """One attached (or detaching) volume on one node: the ASW entry and its VolumeAttachment."""

    name: str
    pv: str
    node: str
    attacher: str
    #: Reported in ``node.status.volumesAttached`` (cleared when a detach starts).
    attached: bool = True
    #: When the pair left the DSW (``SetDetachRequestTime``); None while desired.
    detach_requested: float | None = None
    timer_at: float | None = None


@dataclass
class _Desired:
    """A DSW entry: the pods scheduled to one node that use one volume."""

    pods: dict[str, Pod] = field(default_factory=dict)
    multi_attach_reported: bool = False


class NodeVolumeStatus:
    """``node.status.volumesInUse`` as each kubelet last posted it."""

    def __init__(self, env: SimEnv) -> None:
        self.env = env
        self._in_use: dict[str, frozenset[str]] = {}
        self._waiters: dict[str, list[simpy.Event]] = {}
        self.listeners: list[Callable[[str], None]] = []

    def in_use(self, node: str) -> frozenset[str]:
        return self._in_use.get(node, frozenset())

    def post(self, node: str, volumes: frozenset[str]) -> None:
        """The kubelet's node-status write (only when the set changed)."""
        if volumes == self.in_use(node):
            return
        self._in_use[node] = volumes
        for ev in self._waiters.pop(node, []):
            ev.succeed()
        for listener in self.listeners:
            listener(node)

    def changed(self, node: str) -> simpy.Event:
        """An event that fires at the node's next post."""
        ev = self.env.event()
        self._waiters.setdefault(node, []).append(ev)
        return ev


class AttachDetachController:
    """Attaches and detaches volumes; see the module docstring."""

    def __init__(self, env: SimEnv, timing: Timing, informers: SharedInformers, claims: Informer,
                 volumes: Informer, classes: Informer, status: NodeVolumeStatus) -> None:
        self.env = env
        self.timing = timing
        self.pods = informers.pods
        self.nodes = informers.nodes
        self.claims = claims
        self.volumes = volumes
        self.classes = classes
        self.status = status
        self.desired: dict[str, dict[str, _Desired]] = {}  # pv -> node -> entry
        self.attachments: dict[str, dict[str, VolumeAttachment]] = {}  # pv -> node -> attachment
        self._entries: dict[str, set[tuple[str, str]]] = {}  # pod uid -> (pv, node)
        self._pod_by_uid: dict[str, Pod] = {}
        self._claim_users: dict[tuple[str, str], set[str]] = {}  # (ns, claim) -> pod uids
        self._busy: set[str] = set()  # operation keys in flight
        self._dirty: set[str] = set()
        #: node -> the PVs with an attachment on it (the reverse of :attr:`attachments`)
        self._pvs_on_node: dict[str, set[str]] = {}
        self._scheduled = False
        self._attach_waiters: dict[tuple[str, str], list[simpy.Event]] = {}
        self.forced_detaches: dict[str, int] = {"timeout": 0, "out-of-service": 0}
        self.recorder = EventRecorder(env, COMPONENT)
        self.pods.add_handler(self._on_pod)
        self.nodes.add_handler(self._on_node)
        claims.add_handler(self._on_claim)
        volumes.add_handler(self._on_volume)
        status.listeners.append(self._on_status)

    # ---------------------------------------------------------------- queries (the kubelet's)
    def is_attached(self, pv: str, node: str) -> bool:
        """Listed in ``node.status.volumesAttached``."""
        va = self.attachments.get(pv, {}).get(node)
        return va is not None and va.attached

    def when_attached(self, pv: str, node: str) -> simpy.Event:
        """An event that fires when ``pv`` is next attached to ``node``."""
        ev = self.env.event()
        self._attach_waiters.setdefault((pv, node), []).append(ev)
        return ev

    # ---------------------------------------------------------------- volumes
    def provisioner(self, pv: PersistentVolume) -> str:
        """The CSI driver of a volume: who provisioned it, else its class's provisioner."""
        by = pv.metadata.annotations.get(PROVISIONED_BY)
        if by:
            return by
        for c in self.classes.list():
            if c.metadata.name == pv.storage_class_name:
                return str(c.provisioner)
        return ""

    def attachable(self, pv: PersistentVolume) -> bool:
        driver = self.provisioner(pv)
        return not pv.local and driver not in NO_ATTACH_DRIVERS and not is_local_provisioner(driver)

    # ---------------------------------------------------------------- DSW
    def _pod_volumes(self, pod: Pod) -> set[tuple[str, str]]:
        node = pod.spec.node_name
        if not node or is_terminated(pod):
            return set()
        out: set[tuple[str, str]] = set()
        for name in pod_claims(pod):
            claim: PersistentVolumeClaim | None = self.claims.get(pod.metadata.namespace, name)
            if claim is None or claim.phase != BOUND or not claim.volume_name:
                continue
            pv: PersistentVolume | None = self.volumes.get("", claim.volume_name)
            if pv is not None and self.attachable(pv):
                out.add((pv.metadata.name, node))
        return out

    def _on_pod(self, ev: WatchEvent) -> None:
        pod = ev.obj
        assert isinstance(pod, Pod)
        names = pod_claims(pod)
        uid = pod.metadata.uid
        if not names and uid not in self._entries:
            return
        ns = pod.metadata.namespace
        if ev.type == DELETED:
            self._pod_by_uid.pop(uid, None)
            for n in names:
                self._claim_users.get((ns, n), set()).discard(uid)
            self._set_entries(pod, set())
            return
        self._pod_by_uid[uid] = pod
        for n in names:
            self._claim_users.setdefault((ns, n), set()).add(uid)
        self._set_entries(pod, self._pod_volumes(pod))

    def _set_entries(self, pod: Pod, new: set[tuple[str, str]]) -> None:
        uid = pod.metadata.uid
        old = self._entries.get(uid, set())
        for pv, node in old - new:
            entry = self.desired.get(pv, {}).get(node)
            if entry is not None:
                entry.pods.pop(uid, None)
                if not entry.pods:  # the entry (and its Multi-Attach flag) dies with its last pod
                    del self.desired[pv][node]
                    if not self.desired[pv]:
                        del self.desired[pv]
            self._dirty.add(pv)
        for pv, node in new:
            self.desired.setdefault(pv, {}).setdefault(node, _Desired()).pods[uid] = pod
            if (pv, node) not in old:
                self._dirty.add(pv)
        if new:
            self._entries[uid] = new
        else:
            self._entries.pop(uid, None)
        self._wake()

    def _repod(self, ns: str, claim: str) -> None:
        for uid in sorted(self._claim_users.get((ns, claim), ())):
            pod = self._pod_by_uid.get(uid)
            if pod is not None:
                self._set_entries(pod, self._pod_volumes(pod))

    def _on_claim(self, ev: WatchEvent) -> None:
        c = ev.obj
        self._repod(c.metadata.namespace, c.metadata.name)

    def _on_volume(self, ev: WatchEvent) -> None:
        pv = ev.obj
        assert isinstance(pv, PersistentVolume)
        if pv.claim_ref is not None:
            self._repod(pv.claim_ref.namespace, pv.claim_ref.name)

    def _on_node(self, ev: WatchEvent) -> None:
        self._touch_node(ev.obj.metadata.name)

    def _on_status(self, node: str) -> None:
        self._touch_node(node)

    def _touch_node(self, node: str) -> None:
        touched = self._pvs_on_node.get(node)
        if touched:
            self._dirty.update(touched)
            self._wake()

    # ---------------------------------------------------------------- reconciler
    def _wake(self) -> None:
        if self._dirty and not self._scheduled:
            self._scheduled = True
            self.env.process(self._tick())

    def _tick(self) -> Gen:
        now = self.env.now
        at = (math.floor(now / RECONCILER_LOOP_SECONDS + 1e-9) + 1) * RECONCILER_LOOP_SECONDS
        yield self.env.timeout(at - now)
        self._scheduled = False
        dirty = sorted(self._dirty)
        self._dirty.clear()
        for pv in dirty:  # detaches before attaches
            for node in sorted(self.attachments.get(pv, {})):
                if node not in self.desired.get(pv, {}):
                    self._maybe_detach(self.attachments[pv][node])
        for pv in dirty:
            for node in sorted(self.desired.get(pv, {})):
                self._maybe_attach(pv, node)

    def _op_key(self, pv: PersistentVolume | None, name: str, node: str) -> str:
        return name if pv is None or not multi_attach_allowed(pv) else f"{name}@{node}"

    def _node_state(self, node: str) -> tuple[bool, bool]:
        """(Ready, out-of-service taint) of a node; a node that is gone is not healthy."""
        obj: Node | None = self.nodes.get("", node)
        if obj is None:
            return False, False
        return obj.status.ready, any(t.key == TAINT_OUT_OF_SERVICE for t in obj.spec.taints)

    def _maybe_detach(self, va: VolumeAttachment) -> None:
        pv = self.volumes.get("", va.pv)
        key = self._op_key(pv, va.pv, va.node)
        if key in self._busy or not va.attached:
            return
        now = self.env.now
        if va.detach_requested is None:
            va.detach_requested = now
        elapsed = now - va.detach_requested
        healthy, oos = self._node_state(va.node)
        timeout = elapsed >= MAX_WAIT_FOR_UNMOUNT_SECONDS - 1e-9
        force = not healthy and timeout
        mounted = va.pv in self.status.in_use(va.node)
        if mounted and not force and not oos:
            due = va.detach_requested + MAX_WAIT_FOR_UNMOUNT_SECONDS
            if va.timer_at != due:
                va.timer_at = due
                self.env.process(self._timer(va, due))
            return
        reason = None if not mounted else "out-of-service" if oos else "timeout"
        if reason is not None:
            self.forced_detaches[reason] += 1
        va.attached = False  # RemoveVolumeFromReportAsAttached, before the detach starts
        self._busy.add(key)
        self.env.process(self._detach(va, pv, key, reason))

    def _timer(self, va: VolumeAttachment, due: float) -> Gen:
        yield self.env.timeout(due - self.env.now)
        if va.timer_at == due and va.detach_requested is not None:
            self._dirty.add(va.pv)
            self._wake()

    def _detach(self, va: VolumeAttachment, pv: PersistentVolume | None, key: str, reason: str | None) -> Gen:
        klass, driver = self.class_and_driver(pv)
        model = self.timing.for_volume("volumeDetach", storage_class=klass, provisioner=driver)
        seconds = self.env.sample(model, "volume/detach")
        yield self.env.timeout(seconds)
        self._busy.discard(key)
        by_node = self.attachments.get(va.pv, {})
        if by_node.get(va.node) is va:
            del by_node[va.node]
            if not by_node:
                del self.attachments[va.pv]
            on_node = self._pvs_on_node[va.node]
            on_node.discard(va.pv)
            if not on_node:
                del self._pvs_on_node[va.node]
        self.env.emit("VolumeDetached", pv=va.pv, pvc=_claim(pv), node=va.node, attachment=va.name, seconds=seconds,
                      force=reason)
        self._dirty.add(va.pv)
        self._wake()

    def class_and_driver(self, pv: PersistentVolume | None) -> tuple[str, str]:
        """The StorageClass name and CSI driver whose delays apply to ``pv``."""
        if pv is None:
            return "", ""
        return pv.storage_class_name, self.provisioner(pv)

    def _maybe_attach(self, name: str, node: str) -> None:
        entry = self.desired[name][node]
        pv: PersistentVolume | None = self.volumes.get("", name)
        key = self._op_key(pv, name, node)
        if key in self._busy:
            return
        by_node = self.attachments.get(name, {})
        va = by_node.get(node)
        if va is not None:
            if va.attached:
                va.detach_requested = None  # ResetDetachRequestTime
                va.timer_at = None
            return
        if pv is None:
            return
        if not multi_attach_allowed(pv) and by_node:  # attached (or detaching) elsewhere
            if not entry.multi_attach_reported:
                entry.multi_attach_reported = True
                self._report_multi_attach(name, node, entry)
            return
        self._busy.add(key)
        self.env.process(self._attach(pv, node, key))

    def _report_multi_attach(self, name: str, node: str, entry: _Desired) -> None:
        """``reportMultiAttachError``: one Warning per pod of the entry."""
        others = sorted({p.metadata.name for n, e in self.desired.get(name, {}).items() if n != node
                         for p in e.pods.values()})
        detail = f"Volume is already used by pod(s) {', '.join(others)}" if others else MULTI_ATTACH_EXCLUSIVE
        for uid in sorted(entry.pods, key=lambda u: entry.pods[u].metadata.name):
            self.recorder.warning("FailedAttachVolume", f"pod/{entry.pods[uid].metadata.name}",
                                  f'Multi-Attach error for volume "{name}" {detail}', uid)

    def _attach(self, pv: PersistentVolume, node: str, key: str) -> Gen:
        name = pv.metadata.name
        klass, driver = self.class_and_driver(pv)
        model = self.timing.for_volume("volumeAttach", storage_class=klass, provisioner=driver)
        seconds = self.env.sample(model, "volume/attach")
        yield self.env.timeout(seconds)
        self._busy.discard(key)
        va = VolumeAttachment(attachment_name(name, driver, node), name, node, driver)
        self.attachments.setdefault(name, {})[node] = va
        self._pvs_on_node.setdefault(node, set()).add(name)
        self.env.emit("VolumeAttached", pv=name, pvc=_claim(pv), node=node, attachment=va.name, seconds=seconds)
        entry = self.desired.get(name, {}).get(node)
        if entry is None:
            va.detach_requested = self.env.now  # no longer wanted: detach on the next pass
        else:
            for uid in sorted(entry.pods, key=lambda u: entry.pods[u].metadata.name):
                self.recorder.normal("SuccessfulAttachVolume", f"pod/{entry.pods[uid].metadata.name}",
                                     f'AttachVolume.Attach succeeded for volume "{name}" ', uid)
        for ev in self._attach_waiters.pop((name, node), []):
            ev.succeed()
        self._dirty.add(name)
        self._wake()
