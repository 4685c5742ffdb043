"""Taint-based eviction (upstream ``pkg/controller/tainteviction``, the "taint manager").

For a pod on a node with ``NoExecute`` taints: if some taint is not tolerated the pod is deleted
at once; if all are tolerated, it is deleted when the shortest ``tolerationSeconds`` of the
tolerations used has passed since the controller saw the taint (no ``tolerationSeconds``:
never).  Every pod tolerates ``not-ready`` and ``unreachable`` for 300 s unless it says
otherwise (DefaultTolerationSeconds admission), so a pod on a failed node is deleted 300 s
after the ``unreachable:NoExecute`` taint appears.  The delete is graceful (the pod's own
grace period): with no kubelet to confirm it the pod stays Terminating.  Scheduled deletions
are cancelled when the taints go away.  Work is keyed by pod name, as upstream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from statefulsim.sim.api.eviction import mark_disruption_target
from statefulsim.sim.api.objects import NO_EXECUTE, Node, Pod, Taint, Toleration
from statefulsim.sim.api.store import DELETED, ApiClient, ApiError, WatchEvent
from statefulsim.sim.controllers.informers import SharedInformers
from statefulsim.sim.env import SimEnv
from statefulsim.sim.events import EventRecorder
from statefulsim.sim.process import Gen

RETRIES = 5
RETRY_SLEEP = 0.010


def no_execute_taints(node: Node | None) -> tuple[Taint, ...]:
    if node is None:
        return ()
    return tuple(t for t in node.spec.taints if t.effect == NO_EXECUTE)


def matching_tolerations(taints: tuple[Taint, ...], tolerations: tuple[Toleration, ...]) -> tuple[bool, list[Toleration]]:
    """``GetMatchingTolerations``: whether every taint is tolerated, and the first toleration of each."""
    used: list[Toleration] = []
    for taint in taints:
        match = next((t for t in tolerations if t.tolerates(taint)), None)
        if match is None:
            return False, []
        used.append(match)
    return True, used


def min_toleration_seconds(tolerations: list[Toleration]) -> float:
    """``getMinTolerationTime``: 0 without tolerations, -1 when every one tolerates forever."""
    if not tolerations:
        return 0.0
    least = math.inf
    for t in tolerations:
        if t.toleration_seconds is not None:
            if t.toleration_seconds <= 0:
                return 0.0
            least = min(least, t.toleration_seconds)
    return -1.0 if math.isinf(least) else least


@dataclass
class _Work:
    created: float
    fire_at: float
    done: bool = False
    cancelled: bool = False


class TaintEvictionController:
    def __init__(self, env: SimEnv, informers: SharedInformers, client: ApiClient) -> None:
        self.env = env
        self.recorder = EventRecorder(env, "taint-eviction-controller")
        self.informers = informers
        self.client = client
        self.tainted: dict[str, tuple[Taint, ...]] = {}
        self.work: dict[tuple[str, str], _Work] = {}
        self.evictions = 0
        informers.nodes.add_handler(self._on_node)
        informers.pods.add_handler(self._on_pod)
        for node in sorted(informers.nodes.list(), key=lambda n: n.name):
            if no_execute_taints(node):
                self._handle_node(node.name)

    # ---------------------------------------------------------------- events
    def _on_node(self, ev: WatchEvent) -> None:
        old = ev.old if isinstance(ev.old, Node) else None
        new = ev.obj if ev.type != DELETED else None
        assert new is None or isinstance(new, Node)
        if old is not None and new is not None and no_execute_taints(old) == no_execute_taints(new):
            return
        self._handle_node(ev.obj.metadata.name)

    def _on_pod(self, ev: WatchEvent) -> None:
        pod = ev.obj
        assert isinstance(pod, Pod)
        old = ev.old if isinstance(ev.old, Pod) else None
        if (ev.type != DELETED and old is not None and old.spec.tolerations == pod.spec.tolerations
                and old.spec.node_name == pod.spec.node_name):
            return
        self._handle_pod(pod.metadata.namespace, pod.metadata.name, pod.spec.node_name)

    def _handle_pod(self, namespace: str, name: str, node_name: str) -> None:
        pod = self.informers.pods.get(namespace, name)
        if pod is None:
            self._cancel((namespace, name))
            return
        if pod.spec.node_name != node_name or not node_name:
            return
        taints = self.tainted.get(node_name)
        if taints is None:
            return
        self._process(pod, taints, self.env.now)

    def _handle_node(self, name: str) -> None:
        node = self.informers.nodes.get("", name)
        taints = no_execute_taints(node)
        if node is None or not taints:
            self.tainted.pop(name, None)
        else:
            self.tainted[name] = taints
        if node is None:
            return
        pods = self.informers.pods_on(name)
        now = self.env.now
        for pod in pods:
            if not taints:
                self._cancel((pod.metadata.namespace, pod.metadata.name))
            else:
                self._process(pod, taints, now)

    # ---------------------------------------------------------------- processPodOnNode
    def _process(self, pod: Pod, taints: tuple[Taint, ...], now: float) -> None:
        key = (pod.metadata.namespace, pod.metadata.name)
        if not taints:
            self._cancel(key)
        ok, used = matching_tolerations(taints, pod.spec.tolerations)
        if not ok:
            self._cancel(key)
            self._add(key, now, now)
            return
        least = min_toleration_seconds(used)
        if least < 0:
            self._cancel(key)
            return
        start, trigger = now, now + least
        existing = self.work.get(key)
        if existing is not None and not existing.done:
            start = existing.created
            if start + least < trigger:
                return
            self._cancel(key)
        self._add(key, start, trigger)

    def _cancel(self, key: tuple[str, str]) -> None:
        w = self.work.pop(key, None)
        if w is not None:
            w.cancelled = True
            if not w.done:
                ns, name = key
                self.recorder.normal("TaintManagerEviction", f"pod/{name}", f"Cancelling deletion of Pod {ns}/{name}")

    def _add(self, key: tuple[str, str], created: float, fire_at: float) -> None:
        if key in self.work:
            return  # already scheduled, or done (kept so the pod is not deleted twice)
        w = self.work[key] = _Work(created, fire_at)
        timer = self.env.timeout(max(0.0, fire_at - self.env.now))
        timer.callbacks.append(lambda _e: self._fire(key, w))

    def _fire(self, key: tuple[str, str], w: _Work) -> None:
        if w.cancelled or self.work.get(key) is not w:
            return
        self.env.process(self._delete(key, w))

    def _delete(self, key: tuple[str, str], w: _Work) -> Gen:
        """``deletePodHandler``: GET the pod, add DisruptionTarget, DELETE (up to 5 tries)."""
        ns, name = key
        ok = False
        for attempt in range(RETRIES):
            try:
                pod = yield from self.client.get("Pod", ns, name)
                now = self.env.now
                self.recorder.normal("TaintManagerEviction", f"pod/{name}", f"Marking for deletion Pod {ns}/{name}",
                                     pod.metadata.uid)
                yield from self.client.patch("Pod", ns, name, lambda p: mark_disruption_target(
                    p, now, "DeletionByTaintManager", "Taint manager: deleting due to NoExecute taint")
                    if p.metadata.uid == pod.metadata.uid else p, status=True)
                yield from self.client.delete("Pod", ns, name)
                self.evictions += 1
                ok = True
                break
            except ApiError:
                if attempt + 1 < RETRIES:
                    yield self.env.timeout(RETRY_SLEEP)
        if self.work.get(key) is w:
            if ok:
                w.done = True  # kept, so later events do not delete the pod again
            else:
                del self.work[key]
