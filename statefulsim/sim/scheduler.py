"""The scheduler: binds pending pods to nodes.

Filters: node Ready and schedulable, pod count below ``maxPods``, CPU/memory requests within
allocatable, ``nodeSelector``, required pod anti-affinity (both directions).  Scores by least
allocated; ties are broken with the run's RNG.  Pods that fit nowhere stay Pending
(``PodScheduled=False``, reason ``Unschedulable``) and are retried when a pod is deleted or a
node changes, with the per-pod backoff (1 s doubling to 10 s), and at the latest after 5 min.

Reference: pods-probes-dns-volumes.md §6.1–§6.2.
"""

from __future__ import annotations

import bisect
import heapq
from dataclasses import replace
from typing import Callable, Iterable, Protocol

import simpy

from statefulsim.sim.api.informer import Informer
from statefulsim.sim.api.objects import FAILED, SUCCEEDED, Node, Pod, PodAffinityTerm, ResourceRequests
from statefulsim.sim.api.store import DELETED, ApiClient, ApiError, ObjectStore, WatchEvent
from statefulsim.sim.delays import DelayModel
from statefulsim.sim.env import SimEnv
from statefulsim.sim.events import EventRecorder
from statefulsim.sim.process import Gen

INITIAL_BACKOFF = 1.0
MAX_BACKOFF = 10.0
MAX_UNSCHEDULABLE_SECONDS = 300.0


class VolumeBinder(Protocol):
    """Scheduling's view of volumes: which nodes a pod's claims allow, and binding before bind."""

    def filter_for(self, pod: Pod) -> Callable[[Node], str | None] | None:
        """For one scheduling attempt of ``pod``: node -> why its claims rule the node out, or
        None; or no function at all when no node can be ruled out."""
        ...

    def prebind(self, pod: Pod, node: Node) -> Gen: ...


_NO_USAGE = (0, 0, 0)  # cpu millis, memory bytes, pods


class NoVolumeBinding:
    def filter_for(self, pod: Pod) -> Callable[[Node], str | None] | None:
        return None

    def prebind(self, pod: Pod, node: Node) -> Gen:
        return True
        yield  # pragma: no cover


def _node_index(pod: Pod) -> Iterable[str]:
    return (pod.spec.node_name,) if pod.spec.node_name else ()


def _anti_index(pod: Pod) -> Iterable[str]:
    return ("1",) if pod.spec.required_anti_affinity and pod.spec.node_name else ()


def _is_live(pod: Pod) -> bool:
    return pod.status.phase not in (FAILED, SUCCEEDED)


class NodeClasses:
    """The nodes grouped by all that the filter and the score read from a node for a pod without
    a node selector, anti-affinity or claims: its status, its spec and its usage.  Nodes of one
    class give the same answers, so such a pod's attempt asks once per class instead of once per
    node; with many alike nodes that is a handful of questions instead of hundreds."""

    def __init__(self, nodes: list[Node], usage: dict[str, tuple[int, int, int]]) -> None:
        self._usage = usage
        self._key_of: dict[str, tuple[object, ...]] = {}
        self._members: dict[tuple[object, ...], list[Node]] = {}  # each sorted by name
        self._node: dict[str, Node] = {}
        for node in nodes:
            self._add(node)

    def _add(self, node: Node) -> None:
        name = node.metadata.name
        key = (node.status, node.spec, self._usage.get(name, _NO_USAGE))
        self._key_of[name] = key
        self._node[name] = node
        bisect.insort(self._members.setdefault(key, []), node, key=_node_name)

    def usage_changed(self, name: str) -> None:
        """Move node ``name`` to the class of its new usage."""
        key = self._key_of.get(name)
        if key is None:
            return  # a pod counted on a node the scheduler does not know
        members = self._members[key]
        del members[bisect.bisect_left(members, name, key=_node_name)]
        if not members:
            del self._members[key]
        self._add(self._node[name])

    def classes(self) -> Iterable[list[Node]]:
        return self._members.values()


def _node_name(node: Node) -> str:
    return node.metadata.name


class Scheduler:
    def __init__(self, env: SimEnv, store: ObjectStore, client: ApiClient, attempt: DelayModel,
                 watch_latency: DelayModel, volumes: VolumeBinder | None = None, *,
                 pop_from_backoff: bool = True) -> None:
        self.env = env
        self.recorder = EventRecorder(env, "default-scheduler")
        self.pop_from_backoff = pop_from_backoff
        self._backoff: dict[str, float] = {}  # uid -> when its back-off ends
        self.store = store
        self.client = client
        self.attempt = attempt
        self.volumes: VolumeBinder = volumes or NoVolumeBinding()
        self.pods = Informer(store, "Pod", watch_latency, "watch/scheduler", indexes={"node": _node_index, "anti": _anti_index})
        self.nodes = Informer(store, "Node", watch_latency, "watch/scheduler")
        # activeQ: ordered by the pod's queue timestamp (when it was added, or its last failed
        # attempt for a retried pod), as the scheduling queue's default ordering does.
        self._active: list[tuple[float, int, str]] = []
        self._seq = 0
        self._queued: set[str] = set()
        self._last_attempt: dict[str, float] = {}
        self._unschedulable: dict[str, float] = {}  # uid -> time it became unschedulable
        self._attempts: dict[str, int] = {}
        self._assumed: dict[str, tuple[str, Pod]] = {}  # uid -> (node, pod) bound but not yet seen
        self._assumed_anti = 0  # how many of them have required anti-affinity terms
        self._wakeup: simpy.Event | None = None
        self.pods.add_handler(self._on_pod)
        self.nodes.add_handler(self._on_node)
        self._sorted_nodes: list[Node] | None = None  # the node cache by name, until a node event
        self._classes: NodeClasses | None = None  # built from _sorted_nodes, kept up to date with usage
        #: Ask once per class of alike nodes where that gives the same answers (see NodeClasses).
        self.node_classes = True
        #: Scheduling attempts that asked once per node class / once per node (differential tests
        #: check the class path ran).
        self.class_attempts = 0
        self.node_attempts = 0
        self._by_uid: dict[str, Pod] = {}
        # Requests and pod counts per node, kept up to date from events (not recomputed per attempt).
        self._counted: dict[str, tuple[str, ResourceRequests]] = {}
        self._usage: dict[str, tuple[int, int, int]] = {}
        for p in self.pods.list():
            if p.spec.node_name and _is_live(p):
                self._count(p.metadata.uid, p.spec.node_name, p.spec.effective_requests)
        env.process(self._loop())
        env.process(self._flush_loop())

    # ---------------------------------------------------------------- queue
    def _enqueue(self, pod: Pod) -> None:
        uid = pod.metadata.uid
        self._by_uid[uid] = pod
        if uid in self._queued:
            return
        self._queued.add(uid)
        self._seq += 1
        heapq.heappush(self._active, (self._last_attempt.get(uid, self.env.now), self._seq, uid))
        if self._wakeup is not None and not self._wakeup.triggered:
            self._wakeup.succeed()

    def _needs_scheduling(self, pod: Pod) -> bool:
        return not pod.spec.node_name and pod.metadata.deletion_timestamp is None and _is_live(pod)

    def _count(self, uid: str, node: str, req: ResourceRequests) -> None:
        if uid in self._counted:
            return
        self._counted[uid] = (node, req)
        cpu, mem, n = self._usage.get(node, (0, 0, 0))
        self._usage[node] = (cpu + req.cpu_millis, mem + req.memory_bytes, n + 1)
        if self._classes is not None:
            self._classes.usage_changed(node)

    def _uncount(self, uid: str) -> None:
        entry = self._counted.pop(uid, None)
        if entry is None:
            return
        node, req = entry
        cpu, mem, n = self._usage[node]
        self._usage[node] = (cpu - req.cpu_millis, mem - req.memory_bytes, n - 1)
        if self._classes is not None:
            self._classes.usage_changed(node)

    def _on_pod(self, ev: WatchEvent) -> None:
        pod = ev.obj
        assert isinstance(pod, Pod)
        uid = pod.metadata.uid
        if ev.type == DELETED or not _is_live(pod):
            self._uncount(uid)
        elif pod.spec.node_name:
            self._count(uid, pod.spec.node_name, pod.spec.effective_requests)
        if ev.type == DELETED or not self._needs_scheduling(pod):
            self._by_uid.pop(uid, None)
            self._unschedulable.pop(uid, None)
            if pod.spec.node_name:
                self._unassume(uid)
            if ev.type == DELETED:
                self.recorder.forget(f"pod/{pod.metadata.name}", uid)
                self._retry_unschedulable()
            return
        self._by_uid[uid] = pod
        if uid not in self._unschedulable:
            self._enqueue(pod)

    def _on_node(self, ev: WatchEvent) -> None:
        self._sorted_nodes = None
        self._classes = None
        self._retry_unschedulable()

    def retry_unschedulable(self) -> None:
        """A cluster event that may make unschedulable pods fit (volumes bound, ...)."""
        self._retry_unschedulable()

    def _retry_unschedulable(self) -> None:
        for uid in list(self._unschedulable):
            pod = self._by_uid.get(uid)
            if pod is None:
                self._unschedulable.pop(uid, None)
                continue
            n = self._attempts.get(uid, 1)
            backoff = min(INITIAL_BACKOFF * 2 ** (n - 1), MAX_BACKOFF)
            # The back-off runs from the last attempt: a pod that failed long ago goes straight
            # back to the active queue.
            ready_at = self._last_attempt.get(uid, self.env.now) + backoff
            self._unschedulable.pop(uid)
            self._requeue_after(uid, max(0.0, ready_at - self.env.now))

    def _requeue_after(self, uid: str, delay: float) -> None:
        """Into the back-off queue until ``delay`` has passed (then the active queue)."""
        ready_at = self.env.now + delay
        self._backoff[uid] = ready_at
        if self._wakeup is not None and not self._wakeup.triggered:
            self._wakeup.succeed()  # an idle scheduler may take it from the back-off queue

        def fire(_e: simpy.Event) -> None:
            if self._backoff.get(uid) != ready_at:
                return
            del self._backoff[uid]
            pod = self._by_uid.get(uid)
            if pod is not None and uid not in self._unschedulable:
                self._enqueue(pod)

        self.env.timeout(delay).callbacks.append(fire)

    def _pop_from_backoff(self) -> bool:
        """SchedulerPopFromBackoffQ (1.33+): an idle scheduler takes the pod whose back-off ends first."""
        if not self.pop_from_backoff or not self._backoff:
            return False
        uid = min(self._backoff, key=lambda u: (self._backoff[u], u))
        del self._backoff[uid]
        pod = self._by_uid.get(uid)
        if pod is not None and uid not in self._unschedulable:
            self._enqueue(pod)
        return True

    def _flush_loop(self) -> Gen:
        while True:
            yield self.env.timeout(30.0)
            now = self.env.now
            for uid, since in list(self._unschedulable.items()):
                if now - since >= MAX_UNSCHEDULABLE_SECONDS:
                    self._unschedulable.pop(uid)
                    pod = self._by_uid.get(uid)
                    if pod is not None:
                        self._enqueue(pod)

    def _loop(self) -> Gen:
        while True:
            while not self._active:
                if self._pop_from_backoff():
                    continue
                self._wakeup = self.env.event()
                yield self._wakeup
                self._wakeup = None
            _, _, uid = heapq.heappop(self._active)
            self._queued.discard(uid)
            pod = self._by_uid.get(uid)
            if pod is None:
                continue
            cur = self.pods.get(pod.metadata.namespace, pod.metadata.name)
            if cur is None or cur.metadata.uid != uid or not self._needs_scheduling(cur):
                continue
            yield self.env.timeout(self.env.sample(self.attempt, "scheduler"))
            yield from self._schedule_one(cur)

    # ---------------------------------------------------------------- one attempt
    def _pods_on(self, node: str) -> list[Pod]:
        pods = {p.metadata.uid: p for p in self.pods.by_index("node", node) if _is_live(p)}
        for uid, (n, p) in self._assumed.items():
            if n == node and uid not in pods:
                pods[uid] = p
        return list(pods.values())

    def _fits(self, pod: Pod, node: Node, req: ResourceRequests) -> str | None:
        """None when ``pod`` (requesting ``req``) fits ``node``, else the reason it does not."""
        status, spec = node.status, node.spec
        if status.ready_status != "True":
            # The node controller taints such a node at once; until the taint is there, the
            # condition says the same thing.
            key = "node.kubernetes.io/unreachable" if status.ready_status == "Unknown" else "node.kubernetes.io/not-ready"
            return f"node(s) had untolerated taint {{{key}: }}"
        if spec.unschedulable:
            return "node(s) were unschedulable"
        if spec.taints:
            for taint in spec.taints:
                if taint.effect in ("NoSchedule", "NoExecute") and not any(t.tolerates(taint) for t in pod.spec.tolerations):
                    return f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}"
        selector = pod.spec.node_selector
        if selector:
            labels = node.metadata.labels
            for k, v in selector.items():
                if labels.get(k) != v:
                    return "node(s) didn't match Pod's node affinity/selector"
        cpu, mem, count = self._usage.get(node.metadata.name, _NO_USAGE)
        if count >= status.max_pods:
            return "Too many pods"
        alloc = status.allocatable
        if cpu + req.cpu_millis > alloc.cpu_millis:
            return "Insufficient cpu"
        if mem + req.memory_bytes > alloc.memory_bytes:
            return "Insufficient memory"
        return None

    def _anti_affinity_conflict(self, pod: Pod, node: Node, nodes: list[Node]) -> bool:
        terms = pod.spec.required_anti_affinity
        # Incoming pod's terms against existing pods in the same topology domain.
        for term in terms:
            for other in self._pods_in_domain(node, term.topology_key, nodes):
                if other.metadata.uid != pod.metadata.uid and self._term_matches(term, pod, other):
                    return True
        # Existing pods' terms against the incoming pod (symmetry).
        by_name = {n.name: n for n in nodes}
        others = [p for p in self.pods.by_index("anti", "1") if _is_live(p)]
        others += [p for n, p in self._assumed.values() if p.spec.required_anti_affinity]
        for other in others:
            other_node = by_name.get(other.spec.node_name or self._assumed.get(other.metadata.uid, ("", other))[0])
            if other_node is None:
                continue
            for term in other.spec.required_anti_affinity:
                value = node.metadata.labels.get(term.topology_key)
                if (value is not None and other_node.metadata.labels.get(term.topology_key) == value
                        and self._term_matches(term, other, pod)):
                    return True
        return False

    def _pods_in_domain(self, node: Node, key: str, nodes: list[Node]) -> list[Pod]:
        value = node.metadata.labels.get(key)
        if value is None:
            return []
        out: list[Pod] = []
        for n in nodes:
            if n.metadata.labels.get(key) == value:
                out.extend(self._pods_on(n.name))
        return out

    @staticmethod
    def _term_matches(term: PodAffinityTerm, owner: Pod, other: Pod) -> bool:
        namespaces = term.namespaces or (owner.metadata.namespace,)
        return other.metadata.namespace in namespaces and term.label_selector.matches(other.metadata.labels)

    def _schedule_one(self, pod: Pod) -> Gen:
        nodes = self._sorted_nodes
        if nodes is None:
            nodes = self._sorted_nodes = sorted(self.nodes.list(), key=lambda n: n.name)
        feasible: list[tuple[float, Node]] = []
        reasons: dict[str, int] = {}
        check_anti = bool(pod.spec.required_anti_affinity) or self._has_anti_affinity_pods()
        req = pod.spec.effective_requests
        volume_filter = self.volumes.filter_for(pod)
        fits, score = self._fits, self._score
        if self.node_classes and not check_anti and volume_filter is None and not pod.spec.node_selector:
            self.class_attempts += 1
            if self._classes is None:
                self._classes = NodeClasses(nodes, self._usage)
            best_score: float | None = None
            best_classes: list[list[Node]] = []
            for members in self._classes.classes():
                why = fits(pod, members[0], req)
                if why is not None:
                    reasons[why] = reasons.get(why, 0) + len(members)
                    continue
                s = score(req, members[0])
                if best_score is None or s > best_score:
                    best_score, best_classes = s, [members]
                elif s == best_score:
                    best_classes.append(members)
            if best_score is not None:
                # the feasible nodes of the best score, in name order as the per-node walk has them
                top = best_classes[0] if len(best_classes) == 1 else \
                    sorted((n for m in best_classes for n in m), key=_node_name)
                feasible = [(best_score, n) for n in top]
        else:
            self.node_attempts += 1
            for node in nodes:
                why = fits(pod, node, req)
                if why is None and check_anti:
                    if self._anti_affinity_conflict(pod, node, nodes):
                        why = "node(s) didn't match pod anti-affinity rules"
                if why is None and volume_filter is not None:
                    why = volume_filter(node)
                if why is not None:
                    reasons[why] = reasons.get(why, 0) + 1
                    continue
                feasible.append((score(req, node), node))
        uid = pod.metadata.uid
        if not feasible:
            self._attempts[uid] = self._attempts.get(uid, 0) + 1
            self._last_attempt[uid] = self.env.now
            detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
            message = f"0/{len(nodes)} nodes are available: {detail}." if nodes else "no nodes available to schedule pods"
            self._unschedulable[uid] = self.env.now
            self.recorder.warning("FailedScheduling", f"pod/{pod.metadata.name}", message, uid)
            yield from self._mark_unschedulable(pod, message)
            return
        best = max(s for s, _ in feasible)
        top = [n for s, n in feasible if s == best]
        node = top[0] if len(top) == 1 else self.env.rng("scheduler").choice(top)
        self._assume(uid, node.name, pod)
        self._count(uid, node.name, pod.spec.effective_requests)
        # The binding cycle runs on its own, as the scheduler binds asynchronously.
        self.env.process(self._binding_cycle(pod, node))

    def _binding_cycle(self, pod: Pod, node: Node) -> Gen:
        uid = pod.metadata.uid
        ok = yield from self.volumes.prebind(pod, node)
        if not ok:
            self._unassume(uid)
            self._uncount(uid)
            self._requeue_after(uid, INITIAL_BACKOFF)
            return
        yield from self._bind(pod, node)

    def _assume(self, uid: str, node: str, pod: Pod) -> None:
        prev = self._assumed.get(uid)  # replaced in place: the dict keeps its order
        if prev is not None and prev[1].spec.required_anti_affinity:
            self._assumed_anti -= 1
        self._assumed[uid] = (node, pod)
        if pod.spec.required_anti_affinity:
            self._assumed_anti += 1

    def _unassume(self, uid: str) -> None:
        entry = self._assumed.pop(uid, None)
        if entry is not None and entry[1].spec.required_anti_affinity:
            self._assumed_anti -= 1

    def _has_anti_affinity_pods(self) -> bool:
        return bool(self.pods.by_index("anti", "1")) or self._assumed_anti > 0

    def _score(self, req: ResourceRequests, node: Node) -> float:
        """Least-allocated score of ``node`` once a pod requesting ``req`` is placed on it."""
        used_cpu, used_mem, count = self._usage.get(node.metadata.name, _NO_USAGE)
        status = node.status
        alloc = status.allocatable
        cpu = (used_cpu + req.cpu_millis) / alloc.cpu_millis if alloc.cpu_millis else 1.0
        mem = (used_mem + req.memory_bytes) / alloc.memory_bytes if alloc.memory_bytes else 1.0
        pods = (count + 1) / status.max_pods if status.max_pods else 1.0
        return round(1.0 - (cpu + mem + pods) / 3.0, 9)

    def _mark_unschedulable(self, pod: Pod, message: str) -> Gen:
        cur = self.store.get("Pod", pod.metadata.namespace, pod.metadata.name)
        if cur is None or cur.metadata.uid != pod.metadata.uid:
            return
        cond = cur.status.condition("PodScheduled")
        if cond is not None and not cond.status and cond.message == message:
            return
        status = cur.status.with_condition("PodScheduled", False, self.env.now, "Unschedulable", message)
        self.env.emit("PodUnschedulable", pod=pod.metadata.name, uid=pod.metadata.uid, message=message)
        try:
            yield from self.client.update_status(replace(cur, status=status), check_version=False)
        except ApiError:
            pass

    def _bind(self, pod: Pod, node: Node) -> Gen:
        try:
            yield from self.client.bind(pod, node.name)
        except ApiError:
            self._unassume(pod.metadata.uid)
            self._uncount(pod.metadata.uid)
            return
        self._attempts.pop(pod.metadata.uid, None)
        self._last_attempt.pop(pod.metadata.uid, None)
        self.recorder.normal("Scheduled", f"pod/{pod.metadata.name}",
                             f"Successfully assigned {pod.metadata.namespace}/{pod.metadata.name} to {node.name}",
                             pod.metadata.uid)
