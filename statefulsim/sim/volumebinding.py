"""Volumes seen from the scheduler: the VolumeBinding plugin (reference pods §5.3–§5.7).  The
kubelet's side is statefulsim/sim/kubelet/volumemanager.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from statefulsim.sim.api.informer import Informer
from statefulsim.sim.api.objects import Node, Pod
from statefulsim.sim.api.storage import (
    BOUND,
    SELECTED_NODE_ANNOTATION,
    WAIT_FOR_FIRST_CONSUMER,
    PersistentVolume,
    PersistentVolumeClaim,
)
from statefulsim.sim.api.store import ApiClient, ApiError, ObjectStore
from statefulsim.sim.controllers.attachdetach import pod_claims
from statefulsim.sim.controllers.volume import NO_PROVISIONER, class_of, static_candidates
from statefulsim.sim.delays import DelayModel
from statefulsim.sim.env import SimEnv
from statefulsim.sim.process import Gen

BIND_POLL_SECONDS = 1.0
BIND_TIMEOUT_SECONDS = 600.0  # VolumeBindingArgs.bindTimeoutSeconds


NO_VOLUME = "node(s) didn't find available persistent volumes to bind"


def _first_of(checks: list[Callable[[Node], str | None]], then: str | None) -> Callable[[Node], str | None]:
    """A node's first failed check, else ``then``."""
    def run(node: Node) -> str | None:
        for check in checks:
            why = check(node)
            if why is not None:
                return why
        return then
    return run


def _affinity_check(pv: PersistentVolume) -> Callable[[Node], str | None]:
    def check(node: Node) -> str | None:
        return None if pv.fits_node(node.metadata.labels) else "node(s) had volume node affinity conflict"
    return check


def _unbound_check(selected: str | None, static: tuple[PersistentVolume | None, list[PersistentVolume]] | None
                   ) -> Callable[[Node], str | None]:
    """A WaitForFirstConsumer claim: the node it was given, if any; without a provisioner, a
    volume for it (``static``: one already chosen for the claim, else the available volumes
    that fit it, smallest first, of which one must fit the node)."""
    def check(node: Node) -> str | None:
        if selected and selected != node.metadata.name:
            return NO_VOLUME
        if static is not None and static[0] is None:
            labels = dict(node.metadata.labels)
            if not any(v.fits_node(labels) for v in static[1]):
                return NO_VOLUME
        return None
    return check


class SchedulerVolumeBinder:
    """Filter: which nodes a pod's claims allow.  PreBind: annotate WaitForFirstConsumer claims
    with the chosen node and wait (1 s polls, 600 s at most) until every claim is Bound."""

    def __init__(self, env: SimEnv, store: ObjectStore, client: ApiClient, watch_latency: DelayModel) -> None:
        self.env = env
        self.store = store
        self.client = client
        self.claims = Informer(store, "PersistentVolumeClaim", watch_latency, "watch/scheduler")
        self.volumes = Informer(store, "PersistentVolume", watch_latency, "watch/scheduler")
        self.classes = Informer(store, "StorageClass", watch_latency, "watch/scheduler")
        self.on_change: Callable[[], None] | None = None
        for inf in (self.claims, self.volumes, self.classes):
            inf.add_handler(self._changed)

    def _changed(self, _ev: Any) -> None:
        if self.on_change is not None:
            self.on_change()  # volume changes are cluster events that retry unschedulable pods

    def filter(self, pod: Pod, node: Node) -> str | None:
        """Why ``pod``'s claims rule ``node`` out, or None (see :meth:`filter_for`)."""
        check = self.filter_for(pod)
        return None if check is None else check(node)

    def filter_for(self, pod: Pod) -> Callable[[Node], str | None] | None:
        """The volume filter for ``pod``, as a function of the node: what does not depend on the
        node (claims, classes, the volumes that could bind) is worked out once per scheduling
        attempt, not once per node.  Claims are checked in order; the first reason wins."""
        names = pod_claims(pod)
        if not names:
            return None
        checks: list[Callable[[Node], str | None]] = []
        ns = pod.metadata.namespace
        for name in names:
            claim: PersistentVolumeClaim | None = self.claims.get(ns, name)
            if claim is None:
                return _first_of(checks, f'persistentvolumeclaim "{name}" not found')
            if claim.metadata.deletion_timestamp is not None:
                return _first_of(checks, f'persistentvolumeclaim "{name}" is being deleted')
            if claim.phase == BOUND:
                pv: PersistentVolume | None = self.volumes.get("", claim.volume_name)
                if pv is not None:
                    checks.append(_affinity_check(pv))
                continue
            klass = class_of(claim, self.classes.list())
            if klass is None or klass.volume_binding_mode != WAIT_FOR_FIRST_CONSUMER:
                return _first_of(checks, "pod has unbound immediate PersistentVolumeClaims")
            selected = claim.metadata.annotations.get(SELECTED_NODE_ANNOTATION)
            # Without a provisioner the claim needs an available volume that fits the node.
            static = static_candidates(claim, klass.metadata.name, self.volumes.list()) \
                if klass.provisioner == NO_PROVISIONER else None
            checks.append(_unbound_check(selected, static))
        return _first_of(checks, None) if checks else None

    def prebind(self, pod: Pod, node: Node) -> Gen:
        ns = pod.metadata.namespace
        names = pod_claims(pod)
        for name in names:
            claim = self.store.get("PersistentVolumeClaim", ns, name)
            if claim is None or claim.phase == BOUND:
                continue
            if claim.metadata.annotations.get(SELECTED_NODE_ANNOTATION) != node.metadata.name:
                annotations = dict(claim.metadata.annotations)
                annotations[SELECTED_NODE_ANNOTATION] = node.metadata.name
                try:
                    yield from self.client.update(replace(claim, metadata=replace(claim.metadata, annotations=annotations)))
                except ApiError:
                    return False
        deadline = self.env.now + BIND_TIMEOUT_SECONDS
        while True:
            current = [self.store.get("PersistentVolumeClaim", ns, n) for n in names]
            if any(c is None for c in current):
                return False
            if all(c.phase == BOUND for c in current):
                return True
            if self.env.now >= deadline:
                return False
            yield self.env.timeout(BIND_POLL_SECONDS)
