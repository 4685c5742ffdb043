"""The node lifecycle controller (upstream ``pkg/controller/nodelifecycle``).

Every ``--node-monitor-period`` (5 s) it looks at each node's health signal, the kubelet's Lease.
A renewal it has not seen before sets the node's *probe time* to the time of that pass (upstream
``probeTimestamp = nc.now()``).  When a pass finds ``now - probe >= grace``
(``--node-monitor-grace-period``: 40 s before 1.32, 50 s since) it sets the node's ``Ready``
condition to ``Unknown`` and, because the Ready condition it *observed* at the start of the pass
was True, marks every pod on the node not ready (``MarkPodsNotReady``).  The ``NoExecute``
taint that drives eviction is queued by the *next* pass (``processTaintBaseEviction`` reads the
Ready condition observed at the start of a pass) and written through a per-zone rate limiter
(``--node-eviction-rate`` 0.1/s, burst 1).  ``NoSchedule`` taints follow the node's conditions
and ``spec.unschedulable`` on every node update (``doNoScheduleTaintingPass``).  When a node is
Ready again its NoExecute taints are removed on the next pass.  Zone states (Normal,
PartialDisruption, FullDisruption) switch the rate limiters as upstream ``handleDisruption`` does:
when every node of every zone is not Ready, no node is tainted for eviction.

Nodes without a simulated kubelet (Node objects from manifests) keep the status they were given:
nobody renews a Lease for them, and they are not marked Unknown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import simpy

from statefulsim.sim.api.objects import (
    NO_EXECUTE,
    NO_SCHEDULE,
    TAINT_NOT_READY,
    TAINT_UNREACHABLE,
    TAINT_UNSCHEDULABLE,
    Node,
    Pod,
    Taint,
    evolve,
)
from statefulsim.sim.api.store import ADDED, DELETED, ApiClient, ApiError, WatchEvent
from statefulsim.sim.controllers.informers import SharedInformers
from statefulsim.sim.env import SimEnv
from statefulsim.sim.events import EventRecorder
from statefulsim.sim.process import Gen
from statefulsim.sim.versions import FeatureGates

NODE_MONITOR_PERIOD = 5.0  # --node-monitor-period
NODE_EVICTION_RATE = 0.1  # --node-eviction-rate (nodes tainted per second, per zone)
SECONDARY_NODE_EVICTION_RATE = 0.01  # --secondary-node-eviction-rate
LARGE_CLUSTER_SIZE_THRESHOLD = 50  # --large-cluster-size-threshold
UNHEALTHY_ZONE_THRESHOLD = 0.55  # --unhealthy-zone-threshold
EVICTION_RATE_LIMITER_BURST = 1

EXCLUDE_DISRUPTION_LABEL = "node.kubernetes.io/exclude-disruption"
ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
REGION_LABELS = ("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region")

NORMAL = "Normal"
PARTIAL = "PartialDisruption"
FULL = "FullDisruption"
INITIAL = "Initial"

UNREACHABLE_NO_EXECUTE = Taint(TAINT_UNREACHABLE, NO_EXECUTE)
NOT_READY_NO_EXECUTE = Taint(TAINT_NOT_READY, NO_EXECUTE)
#: Node conditions whose status maps to a NoSchedule taint (only Ready is modelled).
CONDITION_TAINT_KEYS = frozenset({TAINT_NOT_READY, TAINT_UNREACHABLE})

#: ``heartbeat(node, now)``: when the node's kubelet last renewed its Lease, None for nodes
#: without a simulated kubelet.
Heartbeat = Callable[[str, float], "float | None"]


def zone_key(node: Node) -> str:
    """``GetZoneKey``: region and zone labels (GA, then the deprecated beta ones)."""
    labels = node.metadata.labels
    region = zone = ""
    for k in REGION_LABELS:
        region = labels.get(k, "")
        if region:
            break
    for k in ZONE_LABELS:
        zone = labels.get(k, "")
        if zone:
            break
    if not region and not zone:
        return ""
    return f"{region}:\x00:{zone}"


def has_taint(node: Node, taint: Taint) -> bool:
    return any(t.same(taint) for t in node.spec.taints)


def swap_taints(node: Node, add: list[Taint], remove: list[Taint], now: float) -> Node:
    """``SwapNodeControllerTaint`` as a patch: drop ``remove``, add ``add`` (with timeAdded)."""
    taints = [t for t in node.spec.taints if not any(t.same(r) for r in remove)]
    for t in add:
        if not any(x.same(t) for x in taints):
            taints.append(evolve(t, time_added=now))
    if tuple(taints) == node.spec.taints:
        return node
    return evolve(node, spec=evolve(node.spec, taints=tuple(taints)))


class RateLimiter:
    """``flowcontrol`` token bucket with ``TryAccept`` (starts full); qps <= 0 accepts nothing."""

    def __init__(self, qps: float, burst: int = EVICTION_RATE_LIMITER_BURST, now: float = 0.0) -> None:
        self.qps = qps
        self.burst = float(burst)
        self.tokens = float(burst)
        self.last = now

    def _refill(self, now: float) -> None:
        if self.qps > 0:
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.qps)
        self.last = now

    def try_accept(self, now: float) -> bool:
        if self.qps <= 0:
            return False
        self._refill(now)
        if self.tokens >= 1.0 - 1e-9:
            self.tokens -= 1.0
            return True
        return False

    def next_token_at(self) -> float:
        return math.inf if self.qps <= 0 else self.last + max(0.0, 1.0 - self.tokens) / self.qps


class ZoneTainter:
    """``RateLimitedTimedQueue`` of one zone: nodes waiting for their NoExecute taint.

    A node stays in the set after it was processed (``RemoveFromQueue``), so it is tainted once
    per outage; ``remove`` forgets it (the node is reachable again)."""

    def __init__(self, now: float) -> None:
        self.queue: list[str] = []
        self.seen: set[str] = set()
        self.limiter = RateLimiter(NODE_EVICTION_RATE, now=now)
        self.timer_at: float | None = None

    def add(self, node: str) -> bool:
        if node in self.seen:
            return False
        self.seen.add(node)
        self.queue.append(node)
        return True

    def remove(self, node: str) -> bool:
        present = node in self.seen
        self.seen.discard(node)
        if node in self.queue:
            self.queue.remove(node)
        return present

    def swap_limiter(self, qps: float, now: float) -> None:
        if qps == self.limiter.qps:
            return
        self.limiter = RateLimiter(qps, now=now)


@dataclass
class _Health:
    probe: float
    renewal: float


class NodeLifecycleController:
    def __init__(self, env: SimEnv, informers: SharedInformers, client: ApiClient, gates: FeatureGates,
                 heartbeat: Heartbeat) -> None:
        self.env = env
        self.recorder = EventRecorder(env, "node-controller")
        self.informers = informers
        self.nodes = informers.nodes
        self.client = client
        self.grace = gates.node_monitor_grace_period_seconds
        self.heartbeat = heartbeat
        self.health: dict[str, _Health] = {}
        self.known: set[str] = set()
        self.zone_states: dict[str, str] = {}
        self.tainters: dict[str, ZoneTainter] = {}
        self.passes = 0
        #: passes that took the steady fast path (:meth:`_steady_pass`)
        self.steady_passes = 0
        # After a pass that found every node Ready, untainted and unqueued and every zone Normal:
        # the node informer's change count then, and the nodes' (name, health) in pass order.
        self._steady: tuple[int, list[tuple[str, _Health]]] | None = None
        informers.nodes.add_handler(self._on_node)
        informers.pods.add_handler(self._on_pod)
        for node in sorted(self.nodes.list(), key=lambda n: n.name):
            # The informer's initial list reaches the NoSchedule tainting pass as "add" events.
            self._no_schedule_pass(node.name)
        env.process(self._monitor_loop())

    # ---------------------------------------------------------------- monitorNodeHealth
    def _monitor_loop(self) -> Gen:
        while True:
            self._monitor()
            yield self.env.timeout(NODE_MONITOR_PERIOD)

    def _tainter(self, node: Node) -> ZoneTainter:
        zone = zone_key(node)
        t = self.tainters.get(zone)
        if t is None:
            t = self.tainters[zone] = ZoneTainter(self.env.now)
            self.zone_states[zone] = INITIAL
        return t

    def _monitor(self) -> None:
        self.passes += 1
        now = self.env.now
        steady = self._steady
        if steady is not None and steady[0] == self.nodes.changes and self._steady_pass(steady[1], now):
            self.steady_passes += 1
            return
        self._steady = None
        nodes: list[Node] = sorted(self.nodes.list(), key=lambda n: n.name)
        names = {n.name for n in nodes}
        for gone in sorted(self.known - names):
            self.known.discard(gone)
            self.health.pop(gone, None)
        zone_conditions: dict[str, list[str]] = {}
        for node in nodes:
            name = node.name
            tainter = self._tainter(node)
            if name not in self.known:
                self.known.add(name)
                self._mark_reachable(node)
            observed = node.status.ready_status
            current = observed
            h = self.health.get(name)
            if h is None:
                h = self.health[name] = _Health(probe=now, renewal=-math.inf)
            renewal = self.heartbeat(name, now)
            if renewal is not None:
                if renewal > h.renewal:
                    h.renewal = renewal
                    h.probe = now
                # The pass runs a little after the period (wait.Until is sliding), so the pass
                # ``grace`` after the probe already finds now.After(probe + grace).
                if now - h.probe >= self.grace - 1e-9 and observed != "Unknown":
                    current = "Unknown"
            if EXCLUDE_DISRUPTION_LABEL not in node.metadata.labels:
                zone_conditions.setdefault(zone_key(node), []).append(current)
            self._taint_based_eviction(node, observed, tainter)
            if current != observed:
                self.env.process(self._went_not_ready(name, observed))
        self._handle_disruption(zone_conditions, nodes)
        if self._is_steady(nodes, zone_conditions):
            self._steady = (self.nodes.changes, [(n.name, self.health[n.name]) for n in nodes])

    def _is_steady(self, nodes: list[Node], zone_conditions: dict[str, list[str]]) -> bool:
        """Whether a pass over the same nodes would only note Lease renewals: every node Ready
        (also as this pass judged it), without a NoExecute taint, not queued for tainting, and
        every zone Normal.  Such a pass starts no process and changes no zone or limiter."""
        if not all(all(c == "True" for c in cs) for cs in zone_conditions.values()):
            return False
        if any(s != NORMAL for s in self.zone_states.values()) or self.zone_states.keys() != zone_conditions.keys():
            return False
        for node in nodes:
            if (node.status.ready_status != "True" or has_taint(node, UNREACHABLE_NO_EXECUTE)
                    or has_taint(node, NOT_READY_NO_EXECUTE)):
                return False
        return not any(t.queue or t.seen for t in self.tainters.values())

    def _steady_pass(self, nodes: list[tuple[str, _Health]], now: float) -> bool:
        """The pass over unchanged steady nodes: note each Lease renewal as the full pass does;
        False (the full pass must run) as soon as a node's grace period is over.  The notes made
        before that are the full pass's own, so running it after them changes nothing."""
        grace = self.grace - 1e-9
        heartbeat = self.heartbeat
        for name, h in nodes:
            renewal = heartbeat(name, now)
            if renewal is not None:
                if renewal > h.renewal:
                    h.renewal = renewal
                    h.probe = now
                if now - h.probe >= grace:
                    return False
        return True

    def _went_not_ready(self, name: str, observed: str) -> Gen:
        """Post Ready=Unknown, then (on a True -> Unknown transition) ``MarkPodsNotReady``."""

        def mark_unknown(node: Node) -> Node:
            if node.status.ready_status != observed:
                return node  # changed since the pass read it (upstream: a Conflict; next pass decides)
            return evolve(node, status=evolve(node.status, ready_status="Unknown", ready_reason="NodeStatusUnknown"))

        try:
            node = yield from self.client.patch("Node", "", name, mark_unknown, status=True)
        except ApiError:
            return
        if observed != "True" or node.status.ready_status != "Unknown":
            return
        self.recorder.normal("NodeNotReady", f"node/{name}", f"Node {name} status is now: NodeNotReady")
        for pod in self.informers.pods_on(name):
            yield from self._mark_pod_not_ready(pod)

    def _mark_pod_not_ready(self, pod: Pod) -> Gen:
        if not pod.is_ready():
            return
        now = self.env.now

        changed = []

        def not_ready(cur: Pod) -> Pod:
            if cur.metadata.uid != pod.metadata.uid or not cur.is_ready():
                return cur
            changed.append(True)
            return evolve(cur, status=cur.status.with_condition("Ready", False, now))

        try:
            yield from self.client.patch("Pod", pod.metadata.namespace, pod.metadata.name, not_ready, status=True)
        except ApiError:
            return
        if changed:
            self.recorder.warning("NodeNotReady", f"pod/{pod.metadata.name}", "Node is not ready", pod.metadata.uid)

    def _on_pod(self, ev: WatchEvent) -> None:
        """``podUpdated``/``processPod``: a pod newly bound to a node that is not Ready is marked
        not ready at once."""
        if ev.type == DELETED:
            return
        pod = ev.obj
        assert isinstance(pod, Pod)
        old = ev.old if isinstance(ev.old, Pod) else None
        if not pod.spec.node_name or (old is not None and old.spec.node_name == pod.spec.node_name):
            return
        node = self.nodes.get("", pod.spec.node_name)
        if node is None or pod.spec.node_name not in self.health or node.status.ready:
            return
        self.env.process(self._mark_pod_not_ready(pod))

    # ---------------------------------------------------------------- NoExecute taints
    def _taint_based_eviction(self, node: Node, observed: str, tainter: ZoneTainter) -> None:
        """``processTaintBaseEviction`` with the Ready condition observed at the pass start."""
        if observed == "False":
            if has_taint(node, UNREACHABLE_NO_EXECUTE):
                self.env.process(self._swap(node.name, [NOT_READY_NO_EXECUTE], [UNREACHABLE_NO_EXECUTE]))
            else:
                self._mark_for_tainting(node, NOT_READY_NO_EXECUTE, tainter)
        elif observed == "Unknown":
            if has_taint(node, NOT_READY_NO_EXECUTE):
                self.env.process(self._swap(node.name, [UNREACHABLE_NO_EXECUTE], [NOT_READY_NO_EXECUTE]))
            else:
                self._mark_for_tainting(node, UNREACHABLE_NO_EXECUTE, tainter)
        else:
            self._mark_reachable(node)

    def _mark_for_tainting(self, node: Node, taint: Taint, tainter: ZoneTainter) -> None:
        if not has_taint(node, taint):
            tainter.remove(node.name)
        if tainter.add(node.name):
            self._try_tainting(zone_key(node))

    def _mark_reachable(self, node: Node) -> None:
        """``markNodeAsReachable``: remove both NoExecute taints; forget the queued node."""
        if has_taint(node, UNREACHABLE_NO_EXECUTE) or has_taint(node, NOT_READY_NO_EXECUTE):
            self.env.process(self._swap(node.name, [], [UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE]))
        tainter = self.tainters.get(zone_key(node))
        if tainter is not None:
            tainter.remove(node.name)

    def _try_tainting(self, zone: str) -> None:
        """``doNoExecuteTaintingPass`` for one zone: taint queued nodes while the limiter allows."""
        tainter = self.tainters.get(zone)
        if tainter is None:
            return
        now = self.env.now
        while tainter.queue:
            if not tainter.limiter.try_accept(now):
                at = tainter.limiter.next_token_at()
                if not math.isinf(at) and (tainter.timer_at is None or at < tainter.timer_at):
                    tainter.timer_at = at

                    def fire(_e: simpy.Event, zone: str = zone, at: float = at) -> None:
                        t = self.tainters.get(zone)
                        if t is not None and t.timer_at == at:
                            t.timer_at = None
                            self._try_tainting(zone)

                    self.env.timeout(at - now).callbacks.append(fire)
                return
            name = tainter.queue.pop(0)
            node = self.nodes.get("", name)
            if node is None:
                continue
            if node.status.ready_status == "False":
                self.env.process(self._swap(name, [NOT_READY_NO_EXECUTE], [UNREACHABLE_NO_EXECUTE]))
            elif node.status.ready_status == "Unknown":
                self.env.process(self._swap(name, [UNREACHABLE_NO_EXECUTE], [NOT_READY_NO_EXECUTE]))

    def _swap(self, name: str, add: list[Taint], remove: list[Taint]) -> Gen:
        now = self.env.now
        try:
            yield from self.client.patch("Node", "", name, lambda n: swap_taints(n, add, remove, now))
        except ApiError:
            pass

    # ---------------------------------------------------------------- zones
    def _set_limiter(self, zone: str, size: int, state: str) -> None:
        if state == PARTIAL:
            qps = SECONDARY_NODE_EVICTION_RATE if size > LARGE_CLUSTER_SIZE_THRESHOLD else 0.0
        else:
            qps = NODE_EVICTION_RATE
        self.tainters[zone].swap_limiter(qps, self.env.now)
        self._try_tainting(zone)

    @staticmethod
    def _zone_state(conditions: list[str]) -> str:
        ready = sum(1 for c in conditions if c == "True")
        not_ready = len(conditions) - ready
        if ready == 0 and not_ready > 0:
            return FULL
        if not_ready > 2 and not_ready / (not_ready + ready) >= UNHEALTHY_ZONE_THRESHOLD:
            return PARTIAL
        return NORMAL

    def _handle_disruption(self, zone_conditions: dict[str, list[str]], nodes: list[Node]) -> None:
        new_states = {z: self._zone_state(c) for z, c in zone_conditions.items()}
        all_are_full = all(s == FULL for s in new_states.values())
        for z in new_states:
            self.zone_states.setdefault(z, INITIAL)
        all_was_full = True
        for z in sorted(self.zone_states):
            if z not in new_states:
                del self.zone_states[z]
                continue
            if self.zone_states[z] != FULL:
                all_was_full = False
        if all_are_full and all_was_full:
            return
        if all_are_full:
            # Every node is down: assume the control plane lost the nodes, not the other way round.
            for node in nodes:
                self._mark_reachable(node)
            for z in self.zone_states:
                self.tainters[z].swap_limiter(0.0, self.env.now)
                self.zone_states[z] = FULL
            return
        if all_was_full:
            now = self.env.now
            for h in self.health.values():
                h.probe = now
            for z in sorted(self.zone_states):
                self._set_limiter(z, len(zone_conditions[z]), new_states[z])
                self.zone_states[z] = new_states[z]
            return
        for z in sorted(self.zone_states):
            if self.zone_states[z] != new_states[z]:
                self._set_limiter(z, len(zone_conditions[z]), new_states[z])
                self.zone_states[z] = new_states[z]

    # ---------------------------------------------------------------- NoSchedule taints
    def _on_node(self, ev: WatchEvent) -> None:
        if ev.type == DELETED:
            return
        if ev.type == ADDED or ev.old is None or _no_schedule_inputs(ev.obj) != _no_schedule_inputs(ev.old):
            self._no_schedule_pass(ev.obj.metadata.name)

    def _no_schedule_pass(self, name: str) -> None:
        """``doNoScheduleTaintingPass``: NoSchedule taints that mirror the Ready condition and
        ``spec.unschedulable``."""
        node = self.nodes.get("", name)
        if node is None:
            return
        want: list[Taint] = []
        if node.status.ready_status == "False":
            want.append(Taint(TAINT_NOT_READY, NO_SCHEDULE))
        elif node.status.ready_status == "Unknown":
            want.append(Taint(TAINT_UNREACHABLE, NO_SCHEDULE))
        if node.spec.unschedulable:
            want.append(Taint(TAINT_UNSCHEDULABLE, NO_SCHEDULE))
        have = [t for t in node.spec.taints if t.effect == NO_SCHEDULE
                and (t.key == TAINT_UNSCHEDULABLE or t.key in CONDITION_TAINT_KEYS)]
        add = [t for t in want if not any(t.same(h) for h in have)]
        remove = [h for h in have if not any(h.same(t) for t in want)]
        if add or remove:
            self.env.process(self._swap(name, add, remove))


def _no_schedule_inputs(obj: Any) -> Any:
    node = obj
    assert isinstance(node, Node)
    return (node.status.ready_status, node.spec.unschedulable,
            tuple((t.key, t.effect) for t in node.spec.taints if t.effect == NO_SCHEDULE))
