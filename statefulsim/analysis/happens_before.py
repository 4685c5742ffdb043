"""Happens-before graph of a trace, and the critical path of a rollout.

:func:`happens_before_graph` turns a :class:`~statefulsim.sim.trace.Trace` into a
``networkx.DiGraph``.  Nodes are **milestones** ``(event, subject, n)``: the ``n``-th (from 0)
``event`` of ``subject`` (a pod, container ``pod/container``, claim, volume, StatefulSet, Service,
node or DNS name), e.g. ``("PodReady", "web-1", 0)``.  Most are trace records; three are derived:
``PodAvailable`` (Ready for ``minReadySeconds``), ``StatefulSetReady`` (a status with ``replicas ==
readyReplicas ==`` the desired count) and ``DNSResolved`` (the first positive answer for a name).
Node attributes: ``t``, ``event``, ``subject``, ``n``, ``seq`` (creation order), ``index`` (the
record's position in the trace, ``None`` for derived milestones), ``uid``, ``fields``.

Edges are causal "happens-before" relations derived from the semantics (docs/analysis.md) with
attributes ``kind`` (the wait kind, e.g. ``"image pull"``, ``"ordered"``), ``wait`` (seconds from
the cause to the effect, never negative) and ``enabling``: among a milestone's causes, the one that
finished last is the one that delayed it.  Only the trace is read.

:func:`critical_path` walks back from a target along enabling causes to a milestone without causes
(an action, a StatefulSet creation) and returns the chain with the time spent in each wait kind.
"""

from __future__ import annotations

import bisect
import heapq
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from statefulsim.errors import StatefulSimError
from statefulsim.sim.actions import action_touches
from statefulsim.sim.api.objects import ORDERED_READY
from statefulsim.sim.trace import HasTrace, TraceRecord, TraceSource, as_trace

#: A node of the graph: ``(event, subject, n)``.
Milestone = tuple[str, str, int]

#: Every edge kind, with what the wait is (docs/analysis.md has the same table).
EDGE_KINDS: dict[str, str] = {
    "api": "a scenario action reaches the API server (scale, patch, deletePod, failNode, ...)",
    "when": "a when: action's condition held (at the last milestone by then), and its after: passed",
    "controller": "the StatefulSet controller reacts to a spec or revision change",
    "ordered": "OrderedReady: a lower ordinal became Ready (or Available) before the next step",
    "ordered termination": "OrderedReady scale-down: the next higher condemned pod is gone",
    "update order": "rolling update: the higher ordinals run the new revision and are Ready",
    "recreate": "a pod is gone, so the controller creates one with the same name",
    "failed pod": "a Failed or Succeeded pod is deleted by the controller to be replaced",
    "claim": "a claim exists before its pod is created, or is provisioned for",
    "scheduling": "the scheduler binds the pod, or picks its node for a WaitForFirstConsumer claim",
    "unschedulable": "an unschedulable pod waits for a node to become usable or capacity to free up",
    "volume provisioning": "the provisioner creates the volume (the provisioning delay)",
    "claim binding": "the claim is bound to its new volume",
    "volume binding": "the pod is bound to a node once its claims are bound",
    "volume attach": "the attach/detach controller attaches the pod's volume to its node (after a detach "
                     "elsewhere); a trace without VolumeAttached records: the kubelet attaches and mounts",
    "volume mount": "the kubelet sees the volume attached (its verify back-off) and mounts it",
    "volume unmount": "the kubelet unmounts a gone pod's volume",
    "volume detach": "the node reports the volume unmounted (10 s status tick) and the controller detaches it",
    "force detach": "maxWaitForUnmountDuration: 6 min after the pod left an unreachable node, the volume "
                    "is detached without the node's word",
    "out-of-service detach": "the node's out-of-service taint lets the controller detach at once",
    "sandbox": "the kubelet sets up the pod sandbox and its IP, before pulling or starting",
    "image pull": "the image is pulled",
    "init container": "an init container runs to completion",
    "container start": "the next container starts (after an init container, a sidecar, or a pull)",
    "container run": "a container runs until it exits (crash, kill)",
    "back-off": "CrashLoopBackOff before a container restarts",
    "probe failures": "a liveness or startup probe fails past its threshold",
    "kill": "the kubelet kills a container after failed probes",
    "pod status": "the kubelet writes the pod's phase to the API server",
    "readiness": "the app starts answering and the readiness probe passes: the pod becomes Ready",
    "not ready": "the pod stops being Ready (shutdown, probe failures, node failure)",
    "minReadySeconds": "a Ready pod becomes available after minReadySeconds",
    "graceful shutdown": "preStop hook and app shutdown after the pod got its deletionTimestamp",
    "deletion": "a terminated pod object is removed from the API server",
    "eviction": "an eviction request (evictPod, drainNode) evicts or deletes the pod",
    "disruption budget": "an eviction waits for the PodDisruptionBudget to allow a disruption",
    "taint eviction": "taint-based eviction after a NoExecute taint (tolerationSeconds)",
    "pod GC": "pod garbage collection (out-of-service taint, deleted node)",
    "garbage collection": "the garbage collector deletes an object whose owner is gone",
    "claim protection": "a terminating claim is removed once no pod uses it",
    "drain": "kubectl drain finishes when the evicted pods are gone",
    "node monitor": "the node lifecycle controller marks a silent node NotReady (grace period)",
    "node recovery": "a recovered node is Ready again",
    "node taint": "the node lifecycle controller taints a NotReady node",
    "status": "the controller writes the StatefulSet status that counts the pod",
    "endpoints": "the EndpointSlice controller adds or removes the pod's endpoint",
    "dns": "CoreDNS serves the new endpoint and the next query gets the address",
    "dns negative cache": "as dns, but a cached negative answer delayed the first address",
    "dns query": "the first lookup comes after the endpoint was already there",
}

#: Verbs whose effects the handlers below link by name (``self.action(verb, target)``).  Any other
#: verb (a user-registered one) is linked, with kind ``api``, to the next milestone of each object
#: its ``touches`` names.
_LINKED_VERBS = frozenset({
    "deletePod", "evictPod", "breakReadiness", "restoreReadiness", "breakLiveness", "restoreLiveness",
    "crashContainer", "failPod", "scale", "patch", "setImage", "deleteStatefulSet", "failNode", "recoverNode",
    "taintOutOfService", "untaintOutOfService", "deleteNode", "cordonNode", "uncordonNode", "drainNode",
    "dnsQuery", "apply", "delete", "rolloutUndo", "rolloutRestart",
})


class MilestoneError(StatefulSimError, ValueError):
    """A critical-path target that is not in the graph (or a graph without milestones)."""


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class PathStep:
    """One wait on a critical path: from milestone ``source`` (at ``start``) to ``target`` (at
    ``end``), of wait ``kind``; ``duration == end - start``."""

    source: Milestone
    target: Milestone
    kind: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class WaitSummary:
    """The time a critical path spends in one wait kind: ``count`` steps, ``total`` seconds."""

    kind: str
    count: int
    total: float

    def __str__(self) -> str:
        return f"{self.kind} {self.count}×{_seconds(self.total / self.count)}" if self.count > 1 \
            else f"{self.kind} {_seconds(self.total)}"


@dataclass(frozen=True)
class CriticalPath:
    """The chain of enabling causes from ``start`` (a milestone without causes) to ``target``.
    Consecutive steps share their milestone, so the durations add up to ``end - begin``."""

    target: Milestone
    start: Milestone
    begin: float
    end: float
    steps: tuple[PathStep, ...]

    @property
    def total(self) -> float:
        """``end - begin``: the time from the start milestone to the target."""
        return self.end - self.begin

    @property
    def milestones(self) -> list[Milestone]:
        """The milestones on the path, from the start to the target."""
        return [self.start] + [s.target for s in self.steps]

    def by_kind(self) -> list[WaitSummary]:
        """Time per wait kind, longest total first (ties: kind name)."""
        acc: dict[str, list[float]] = {}
        for s in self.steps:
            acc.setdefault(s.kind, []).append(s.duration)
        out = [WaitSummary(k, len(v), math.fsum(v)) for k, v in acc.items()]
        out.sort(key=lambda w: (-w.total, w.kind))
        return out

    def summary(self) -> str:
        """One line, e.g. ``88.3 s to PodReady mysql-2: readiness 3×11.3 s, image pull 3×...``."""
        parts = ", ".join(str(w) for w in self.by_kind() if w.total > 0)
        return f"{_seconds(self.total)} from {milestone_label(self.start)} to {milestone_label(self.target)}" + \
            (f": {parts}" if parts else "")


def milestone_label(m: Milestone) -> str:
    """``PodReady web-1`` (``#n`` appended for later occurrences: ``PodCreated web-1 #1``)."""
    event, subject, n = m
    label = f"{event} {subject}" if subject else event
    return f"{label} #{n}" if n else label


def _seconds(s: float) -> str:
    return f"{s:.1f} s" if s >= 0.1 or s == 0 else f"{s * 1000:.0f} ms"


# ---------------------------------------------------------------------------------------------
# Building the graph


@dataclass
class _Pod:
    name: str
    uid: str
    ordinal: int
    statefulset: str | None
    created: Milestone
    node: str | None = None
    scheduled: Milestone | None = None
    mounted: Milestone | None = None
    kubelet: Milestone | None = None  # the last kubelet step (pull, start, exit, kill, mount)
    started: dict[str, Milestone] = field(default_factory=dict)  # container -> last start
    killed: dict[str, Milestone] = field(default_factory=dict)
    running: Milestone | None = None
    ready: Milestone | None = None  # current Ready (None while not ready)
    last_ready: Milestone | None = None
    not_ready: Milestone | None = None
    health: Milestone | None = None  # Ready, or Available under minReadySeconds; None when not
    pending_available: float | None = None
    terminating: Milestone | None = None
    terminal: Milestone | None = None  # PodSucceeded / PodFailed
    evicted: Milestone | None = None
    exited: Milestone | None = None  # last ContainerExited
    ip: Milestone | None = None
    unschedulable: bool = False
    deleted: Milestone | None = None


@dataclass
class _Set:
    name: str
    policy: str
    replicas: int
    start: int
    mrs: float
    templates: list[str]
    spec: Milestone
    generation: int = 1
    last_revision: Milestone | None = None
    at_desired: bool = False


class _Builder:
    def __init__(self, records: list[TraceRecord]) -> None:
        import networkx as nx  # type: ignore[import-untyped]  # lazily: it takes 0.25 s to import

        self.records = records
        self.g = nx.DiGraph()
        self.seq = 0
        self.counts: dict[tuple[str, str], int] = {}
        self.times: list[float] = []  # every milestone's t, in creation order (non-decreasing)
        self.made: list[Milestone] = []
        self.by_uid: dict[str, _Pod] = {}
        self.by_name: dict[str, _Pod] = {}  # latest incarnation of a name
        self.set_pods: dict[str, dict[str, _Pod]] = {}  # set -> name -> latest incarnation
        self.incarnations: dict[str, list[_Pod]] = {}  # name -> every incarnation
        self.sets: dict[str, _Set] = {}
        self.claims: dict[str, dict[str, Milestone]] = {}  # pvc -> {"created", "bound", ...}
        self.pvs: dict[str, Milestone] = {}
        self.pv_claim: dict[str, str] = {}  # pv -> the claim bound to it
        self.claim_pv: dict[str, str] = {}  # claim -> its volume
        self.attached: dict[tuple[str, str], Milestone] = {}  # (pv, node) -> VolumeAttached
        self.detached: dict[str, Milestone] = {}  # pv -> latest VolumeDetached
        self.unmounted: dict[tuple[str, str], Milestone] = {}  # (pv, node) -> latest VolumeUnmounted
        self.actions: dict[tuple[str, str], Milestone] = {}
        self.touched: dict[str, Milestone] = {}  # subject -> the plug-in action that acted on it last
        self.node_events: dict[tuple[str, str], Milestone] = {}  # (node, event) -> latest
        self.node_changes: dict[str, Milestone] = {}  # node -> latest Ready/Uncordoned/Untainted
        self.no_execute: dict[str, Milestone] = {}  # node -> latest NoExecute taint
        self.set_deleted: dict[str, Milestone] = {}
        self.disruption_allowed: Milestone | None = None  # latest budget that began to allow one
        self.pdb_state: dict[str, bool] = {}
        self.slice_ready: dict[str, set[str]] = {}
        self.slice_all: dict[str, set[str]] = {}
        self.endpoint_ready: dict[str, Milestone] = {}  # pod name -> slice update that made it ready
        self.ip_owner: dict[str, str] = {}
        self.dns_positive: dict[tuple[str, str], bool] = {}
        # last negative answer per (name, client): its time, and the names a cache answered
        self.dns_negative: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}
        self.dns_query: dict[str, Milestone] = {}
        self.pending: list[tuple[float, int, str]] = []  # (available at, seq, uid)
        self.controller_deletes: set[tuple[str, float]] = set()
        for r in records:
            if r.event == "KubeEvent" and r.get("reason") == "SuccessfulDelete":
                obj = str(r.get("object", ""))
                if obj.startswith("pod/"):
                    self.controller_deletes.add((obj[4:], r.t))

    # -- graph primitives ---------------------------------------------------------------------

    def node(self, event: str, subject: str, t: float, index: int | None, *, uid: str | None = None,
             fields: Mapping[str, Any] | None = None) -> Milestone:
        n = self.counts.get((event, subject), 0)
        self.counts[(event, subject)] = n + 1
        m: Milestone = (event, subject, n)
        self.seq += 1
        self.g.add_node(m, t=t, event=event, subject=subject, n=n, seq=self.seq, index=index, uid=uid,
                        fields=dict(fields or {}))
        self.times.append(t)
        self.made.append(m)
        return m

    def latest_by(self, t: float) -> Milestone | None:
        """The last milestone made at or before ``t``."""
        i = bisect.bisect_right(self.times, t + 1e-9)
        return self.made[i - 1] if i else None

    def t(self, m: Milestone) -> float:
        return float(self.g.nodes[m]["t"])

    def link(self, target: Milestone, causes: Iterable[tuple[Milestone | None, str]]) -> None:
        """Add an edge from every cause not later than ``target``; the latest one (ties: the one
        created last) is marked ``enabling``."""
        if self.touched:
            acted = self.touched.pop(self.g.nodes[target]["subject"], None)
            if acted is not None:
                causes = [*causes, (acted, "api")]
        t = self.t(target)
        best: tuple[float, int] | None = None
        best_edge: tuple[Milestone, Milestone] | None = None
        for cause, kind in causes:
            if cause is None or cause == target or self.t(cause) > t:
                continue
            if self.g.has_edge(cause, target):
                continue
            self.g.add_edge(cause, target, kind=kind, wait=t - self.t(cause), enabling=False)
            key = self.order(cause)
            if best is None or key > best:
                best, best_edge = key, (cause, target)
        if best_edge is not None:
            self.g.edges[best_edge]["enabling"] = True

    # -- helpers ------------------------------------------------------------------------------

    def set_of(self, pod: _Pod) -> _Set | None:
        return self.sets.get(pod.statefulset) if pod.statefulset else None

    def live_pods(self, s: _Set) -> list[_Pod]:
        return [p for p in self.set_pods.get(s.name, {}).values() if p.deleted is None]

    def latest(self, causes: Iterable[tuple[Milestone | None, str]]) -> list[tuple[Milestone | None, str]]:
        """Only the cause that finished last: keeps the fan-in of set-wide waits small."""
        best: tuple[Milestone | None, str] = (None, "")
        for cause, kind in causes:
            if cause is not None and (best[0] is None or self.order(cause) > self.order(best[0])):
                best = (cause, kind)
        return [best]

    def order(self, m: Milestone) -> tuple[float, int]:
        return _order(self.g, m)

    def in_range(self, s: _Set, ordinal: int) -> bool:
        return s.start <= ordinal < s.start + s.replicas

    def health(self, pod: _Pod, t: float) -> Milestone | None:
        """The milestone that made ``pod`` healthy (Ready, or Available under minReadySeconds) as
        of ``t``.  A pending Available is materialised at ``t`` when something already relied on it
        (the API truncates the Ready time to whole seconds, so the controller can see it early)."""
        if pod.pending_available is not None and pod.ready is not None:
            self.materialise_available(pod, min(pod.pending_available, t))
        return pod.health

    def materialise_available(self, pod: _Pod, t: float) -> None:
        assert pod.ready is not None
        m = self.node("PodAvailable", pod.name, max(t, self.t(pod.ready)), None, uid=pod.uid)
        self.link(m, [(pod.ready, "minReadySeconds")])
        pod.health = m
        pod.pending_available = None

    def flush(self, t: float) -> None:
        while self.pending and self.pending[0][0] <= t:
            at, _, uid = heapq.heappop(self.pending)
            pod = self.by_uid.get(uid)
            if pod is not None and pod.pending_available == at and pod.ready is not None:
                self.materialise_available(pod, at)

    def claim_owner(self, pvc: str) -> tuple[_Set, str, int] | None:
        """The StatefulSet, pod name and ordinal a claim ``<template>-<set>-<n>`` belongs to."""
        for s in self.sets.values():
            for tmpl in s.templates:
                prefix = f"{tmpl}-{s.name}-"
                if pvc.startswith(prefix) and re.fullmatch(r"\d+", pvc[len(prefix):]):
                    return s, pvc[len(tmpl) + 1:], int(pvc[len(prefix):])
        return None

    def pod_claims(self, pod: _Pod) -> list[str]:
        s = self.set_of(pod)
        return [f"{tmpl}-{pod.name}" for tmpl in s.templates] if s else []

    def claim_pod(self, pvc: str, named: Any = None) -> _Pod | None:
        if isinstance(named, str) and named in self.by_name:
            return self.by_name[named]
        owner = self.claim_owner(pvc)
        return self.by_name.get(owner[1]) if owner else None

    def action(self, verb: str, target: Any, pop: bool = False) -> Milestone | None:
        key = (verb, str(target))
        return self.actions.pop(key, None) if pop else self.actions.get(key)

    def creation_causes(self, s: _Set | None, name: str, ordinal: int, t: float) -> list[tuple[Milestone | None, str]]:
        """Why the controller created (the claims of) pod ``name`` now."""
        causes: list[tuple[Milestone | None, str]] = []
        prev = self.by_name.get(name)
        if prev is not None and prev.deleted is not None:
            causes.append((prev.deleted, "recreate"))
        if s is None:
            return causes
        causes += [(s.spec, "controller"), (s.last_revision, "controller")]
        if s.policy == ORDERED_READY:  # every lower ordinal healthy; edges from N-1 and the latest
            lower = [(self.health(p, t), "ordered") for p in self.live_pods(s)
                     if p.name != name and s.start <= p.ordinal < ordinal]
            causes += self.latest(lower)
            prev_pod = self.set_pods.get(s.name, {}).get(f"{s.name}-{ordinal - 1}")
            if prev_pod is not None and prev_pod.deleted is None:
                causes.append((self.health(prev_pod, t), "ordered"))
        return causes

    def controller_delete_causes(self, pod: _Pod, t: float) -> list[tuple[Milestone | None, str]]:
        s = self.set_of(pod)
        causes: list[tuple[Milestone | None, str]] = [(pod.terminal, "failed pod")]
        if s is None:
            return causes
        causes += [(s.spec, "controller"), (s.last_revision, "controller")]
        if pod.terminal is not None:
            return causes
        ordered = s.policy == ORDERED_READY
        others = [p for p in self.live_pods(s) if p.uid != pod.uid]
        if not self.in_range(s, pod.ordinal):  # condemned: scale-down
            if ordered:
                causes += self.latest((p.deleted, "ordered termination") for p in self.set_pods.get(s.name, {}).values()
                                      if p.ordinal > pod.ordinal and p.deleted is not None)
                causes += self.latest((self.health(p, t), "ordered") for p in others if self.in_range(s, p.ordinal))
        else:  # update replacement: higher ordinals first, each Ready before the next
            causes += self.latest((self.health(p, t), "update order") for p in others
                                  if p.ordinal > pod.ordinal and self.in_range(s, p.ordinal))
            if ordered:
                causes += self.latest((self.health(p, t), "ordered") for p in others
                                      if p.ordinal < pod.ordinal and self.in_range(s, p.ordinal))
        return causes

    # -- the walk -----------------------------------------------------------------------------

    def build(self) -> Any:
        for index, r in enumerate(self.records):
            self.flush(r.t)
            handler = getattr(self, f"on_{r.event}", None)
            if handler is not None:
                handler(r, index)
        return self.g

    # StatefulSets and actions

    def on_Action(self, r: TraceRecord, index: int) -> None:
        verb = str(r.get("action"))
        touched = action_touches(r.fields)
        target = ",".join(touched)
        after = r.get("after") if isinstance(r.get("after"), (int, float)) else 0.0
        held = self.latest_by(r.t - after) if "when" in r.fields else None
        m = self.node("Action", f"{verb} {target}".strip(), r.t, index, fields=r.fields)
        self.link(m, [(held, "when")])
        self.actions[(verb, str(target))] = m
        if verb == "apply":
            for obj in r.get("objects") or []:
                kind, _, name = str(obj).partition("/")
                self.actions[(f"apply {kind}", name)] = m
        if verb == "dnsQuery":
            self.dns_query[str(target)] = m
        if verb not in _LINKED_VERBS:
            for name in touched:
                self.touched[name] = m

    def on_StatefulSetCreated(self, r: TraceRecord, index: int) -> None:
        name = str(r.get("statefulset"))
        m = self.node("StatefulSetCreated", name, r.t, index, fields=r.fields)
        self.link(m, [(self.action("apply statefulset", name), "api")])
        self.sets[name] = _Set(
            name=name, policy=str(r.get("podManagementPolicy") or ORDERED_READY),
            replicas=int(r.get("replicas") or 0), start=int(r.get("ordinalsStart") or 0),
            mrs=float(r.get("minReadySeconds") or 0.0), templates=[str(x) for x in r.get("volumeClaimTemplates") or []],
            spec=m)

    def on_StatefulSetUpdated(self, r: TraceRecord, index: int) -> None:
        name = str(r.get("statefulset"))
        m = self.node("StatefulSetUpdated", name, r.t, index, fields=r.fields)
        self.link(m, [(self.action(v, name), "api") for v in ("scale", "patch", "setImage", "rolloutUndo", "rolloutRestart")]
                  + [(self.action("apply statefulset", name), "api")])
        s = self.sets.get(name)
        if s is None:
            return
        s.spec = m
        s.replicas = int(r.get("replicas", s.replicas) or 0)
        if "ordinalsStart" in r.fields:
            s.start = int(r.get("ordinalsStart") or 0)
        if "minReadySeconds" in r.fields:
            s.mrs = float(r.get("minReadySeconds") or 0.0)
        if "volumeClaimTemplates" in r.fields:
            s.templates = [str(x) for x in r.get("volumeClaimTemplates") or []]
        s.generation = int(r.get("generation", s.generation) or s.generation)

    def on_StatefulSetDeleted(self, r: TraceRecord, index: int) -> None:
        name = str(r.get("statefulset"))
        m = self.node("StatefulSetDeleted", name, r.t, index, fields=r.fields)
        self.link(m, [(self.action("deleteStatefulSet", name), "api")])
        self.set_deleted[name] = m

    def on_RevisionCreated(self, r: TraceRecord, index: int) -> None:
        s = self.sets.get(str(r.get("statefulset")))
        m = self.node("RevisionCreated", str(r.get("revision")), r.t, index, fields=r.fields)
        if s is not None:
            self.link(m, [(s.spec, "controller")])
            s.last_revision = m

    def on_StatefulSetStatus(self, r: TraceRecord, index: int) -> None:
        s = self.sets.get(str(r.get("statefulset")))
        if s is None:
            return
        desired = s.replicas
        gen_ok = int(r.get("observedGeneration") or s.generation) >= s.generation
        at = gen_ok and r.get("replicas") == desired and r.get("readyReplicas") == desired
        if at and not s.at_desired:
            m = self.node("StatefulSetReady", s.name, r.t, index, fields={**r.fields, "desired": desired})
            pods = list(self.set_pods.get(s.name, {}).values())
            causes: list[tuple[Milestone | None, str]] = [(s.spec, "status")]
            causes += self.latest((p.last_ready, "status") for p in pods if p.deleted is None)
            causes += self.latest((p.deleted, "status") for p in pods)
            self.link(m, causes)
        s.at_desired = bool(at)

    # Pods: the API view

    def on_PodCreated(self, r: TraceRecord, index: int) -> None:
        name, uid = str(r.get("pod")), str(r.get("uid"))
        ordinal = int(r.get("ordinal") if r.get("ordinal") is not None else -1)
        set_name = r.get("statefulset")
        s = self.sets.get(str(set_name)) if set_name else None
        m = self.node("PodCreated", name, r.t, index, uid=uid, fields=r.fields)
        causes = self.creation_causes(s, name, ordinal, r.t)
        pod = _Pod(name, uid, ordinal, str(set_name) if set_name else None, m)
        causes += [(self.claims.get(c, {}).get("created"), "claim") for c in self.pod_claims(pod)]
        self.link(m, causes)
        self.by_uid[uid] = pod
        self.by_name[name] = pod
        self.incarnations.setdefault(name, []).append(pod)
        if pod.statefulset is not None:
            self.set_pods.setdefault(pod.statefulset, {})[name] = pod

    def pod(self, r: TraceRecord) -> _Pod | None:
        return self.by_uid.get(str(r.get("uid")))

    def pod_node(self, r: TraceRecord, index: int) -> tuple[_Pod, Milestone] | None:
        """The pod incarnation of a pod record, and the record's milestone (``pod/container`` for
        container records); ``None`` for a uid the trace never created."""
        pod = self.pod(r)
        if pod is None:
            return None
        subject = pod.name if "container" not in r.fields else f"{pod.name}/{r.get('container')}"
        return pod, self.node(r.event, subject, r.t, index, uid=pod.uid, fields=r.fields)

    def on_PodUnschedulable(self, r: TraceRecord, index: int) -> None:
        got = self.pod_node(r, index)
        if got:
            pod, m = got
            pod.unschedulable = True
            self.link(m, [(pod.created, "scheduling")])

    def on_PodScheduled(self, r: TraceRecord, index: int) -> None:
        got = self.pod_node(r, index)
        if not got:
            return
        pod, m = got
        pod.node = str(r.get("node"))
        causes: list[tuple[Milestone | None, str]] = [(pod.created, "scheduling")]
        causes += [(self.claims.get(c, {}).get("bound"), "volume binding") for c in self.pod_claims(pod)]
        if pod.unschedulable:
            causes += self.latest((c, "unschedulable") for c in self.node_changes.values())
            causes += self.latest((p.deleted, "unschedulable") for p in self.by_name.values() if p.deleted is not None)
        self.link(m, causes)
        pod.scheduled = m

    def on_PodIP(self, r: TraceRecord, index: int) -> None:
        got = self.pod_node(r, index)
        if got:
            pod, m = got
            self.link(m, [(pod.scheduled, "sandbox"), (pod.mounted, "sandbox")])
            pod.ip = m
            self.ip_owner[str(r.get("ip"))] = pod.name

    def on_PodRunning(self, r: TraceRecord, index: int) -> None:
        got = self.pod_node(r, index)
        if got:
            pod, m = got
            self.link(m, [(pod.kubelet, "pod status"), (pod.scheduled, "pod status")])
            pod.running = m

    def on_PodReady(self, r: TraceRecord, index: int) -> None:
        got = self.pod_node(r, index)
        if not got:
            return
        pod, m = got
        self.link(m, [(pod.running, "readiness"), (pod.kubelet, "readiness"), (pod.not_ready, "readiness"),
                      (self.action("restoreReadiness", pod.name), "readiness"),
                      (self.node_events.get((pod.node or "", "NodeReady")), "readiness")])
        pod.ready = pod.last_ready = m
        s = self.set_of(pod)
        if s is not None and s.mrs > 0:
            pod.health = None
            pod.pending_available = r.t + s.mrs
            heapq.heappush(self.pending, (pod.pending_available, self.seq, pod.uid))
        else:
            pod.health = m
            pod.pending_available = None

    def on_PodNotReady(self, r: TraceRecord, index: int) -> None:
        got = self.pod_node(r, index)
        if not got:
            return
        pod, m = got
        self.link(m, [(pod.terminating, "not ready"), (pod.exited, "not ready"), (pod.terminal, "not ready"),
                      (self.action("breakReadiness", pod.name), "not ready"),
                      (self.node_events.get((pod.node or "", "NodeNotReady")), "not ready")])
        pod.not_ready = m
        pod.ready = pod.health = None
        pod.pending_available = None

    def on_PodEvicted(self, r: TraceRecord, index: int) -> None:
        got = self.pod_node(r, index)
        if not got:
            return
        pod, m = got
        node = pod.node or ""
        reason = r.get("reason")
        causes: list[tuple[Milestone | None, str]] = []
        if reason == "DeletionByTaintManager":
            causes.append((self.no_execute.get(node), "taint eviction"))
        elif reason == "DeletionByPodGC":
            causes.append((self.node_events.get((node, "NodeDeleted")), "pod GC"))
        else:  # the eviction API: an action, admitted once a disruption budget allows it
            causes += [(self.action("evictPod", pod.name, pop=True), "eviction"),
                       (self.action("drainNode", node), "eviction"),
                       (self.disruption_allowed, "disruption budget")]
        self.link(m, causes)
        pod.evicted = m

    def on_PodTerminating(self, r: TraceRecord, index: int) -> None:
        got = self.pod_node(r, index)
        if not got:
            return
        pod, m = got
        if (pod.name, r.t) in self.controller_deletes:
            causes = self.controller_delete_causes(pod, r.t)
        else:
            causes = [(self.action("deletePod", pod.name, pop=True), "api"), (pod.evicted, "eviction"),
                      (self.set_deleted.get(pod.statefulset or ""), "garbage collection")]
        self.link(m, causes)
        pod.terminating = m

    def on_PodFailed(self, r: TraceRecord, index: int) -> None:
        self.terminal(r, index)

    def on_PodSucceeded(self, r: TraceRecord, index: int) -> None:
        self.terminal(r, index)

    def terminal(self, r: TraceRecord, index: int) -> None:
        got = self.pod_node(r, index)
        if not got:
            return
        pod, m = got
        node = pod.node or ""
        self.link(m, [(pod.exited, "pod status"), (self.action("failPod", pod.name), "api"),
                      (pod.evicted, "eviction"),
                      (self.node_events.get((node, "NodeTainted out-of-service")), "pod GC"),
                      (self.node_events.get((node, "NodeDeleted")), "pod GC")])
        pod.terminal = m

    def on_PodDeleted(self, r: TraceRecord, index: int) -> None:
        got = self.pod_node(r, index)
        if not got:
            return
        pod, m = got
        causes: list[tuple[Milestone | None, str]] = [
            (pod.terminating, "deletion"), (pod.terminal, "deletion"),
            (self.action("deletePod", pod.name, pop=True), "api")]
        if pod.terminating is None and (pod.name, r.t) in self.controller_deletes:
            causes += self.controller_delete_causes(pod, r.t)
        self.link(m, causes)
        pod.deleted = m
        pod.ready = pod.health = None
        pod.pending_available = None

    # Pods: the kubelet's own records

    def kubelet_step(self, causes: list[tuple[Milestone | None, str]], pod: _Pod, m: Milestone) -> None:
        self.link(m, causes)
        pod.kubelet = m

    def on_VolumesMounted(self, r: TraceRecord, index: int) -> None:
        got = self.pod_node(r, index)
        if not got:
            return
        pod, m = got
        causes: list[tuple[Milestone | None, str]] = [(pod.scheduled, "volume attach")]
        claims = [str(c) for c in r.get("claims") or []]
        causes += [(self.claims.get(c, {}).get("bound"), "volume attach") for c in claims]
        causes += [(self.attached.get((self.claim_pv.get(c, ""), pod.node or "")), "volume mount") for c in claims]
        self.kubelet_step(causes, pod, m)
        pod.mounted = m

    def volume_users(self, pv: str, node: str) -> list[_Pod]:
        """The incarnations, newest first, of the pod whose claim is bound to ``pv``, on ``node``."""
        pvc = self.pv_claim.get(pv)
        owner = self.claim_owner(pvc) if pvc is not None else None
        if owner is None:
            return []
        return [p for p in reversed(self.incarnations.get(owner[1], [])) if p.node == node]

    def on_VolumeAttached(self, r: TraceRecord, index: int) -> None:
        pv, node = str(r.get("pv")), str(r.get("node"))
        m = self.node("VolumeAttached", pv, r.t, index, fields=r.fields)
        users = [p for p in self.volume_users(pv, node) if p.deleted is None]
        self.link(m, [(users[0].scheduled if users else None, "volume attach"),
                      (self.detached.get(pv), "volume attach")])
        self.attached[(pv, node)] = m

    def on_VolumeDetached(self, r: TraceRecord, index: int) -> None:
        pv, node, force = str(r.get("pv")), str(r.get("node")), r.get("force")
        m = self.node("VolumeDetached", pv, r.t, index, fields=r.fields)
        gone = next((p for p in self.volume_users(pv, node) if p.deleted is not None or p.terminal is not None), None)
        left = None if gone is None else gone.deleted or gone.terminal
        kind = {"timeout": "force detach", "out-of-service": "out-of-service detach"}.get(str(force), "volume detach")
        causes: list[tuple[Milestone | None, str]] = [(left, kind), (self.unmounted.get((pv, node)), "volume detach")]
        if force == "out-of-service":
            causes.append((self.node_events.get((node, "NodeTainted out-of-service")), kind))
        self.link(m, causes)
        self.detached[pv] = m
        self.attached.pop((pv, node), None)

    def on_VolumeUnmounted(self, r: TraceRecord, index: int) -> None:
        got = self.pod_node(r, index)
        if not got:
            return
        pod, m = got
        node = str(r.get("node"))
        self.link(m, [(pod.exited, "volume unmount"), (pod.terminal, "volume unmount"),
                      (pod.deleted, "volume unmount"), (self.node_events.get((node, "NodeReady")), "node recovery")])
        self.unmounted[(str(r.get("pv")), node)] = m

    def first_step_causes(self, pod: _Pod) -> list[tuple[Milestone | None, str]]:
        """The sandbox wait, for a pod's first pull or container start (none later on)."""
        if pod.kubelet is not None and pod.kubelet != pod.mounted:
            return []
        return [(pod.scheduled, "sandbox"), (pod.mounted, "sandbox")]

    def on_ImagePulling(self, r: TraceRecord, index: int) -> None:
        got = self.pod_node(r, index)
        if got:
            pod, m = got
            self.kubelet_step(self.first_step_causes(pod) + [(pod.kubelet, "container start")], pod, m)

    def on_ImagePulled(self, r: TraceRecord, index: int) -> None:
        got = self.pod_node(r, index)
        if got:
            pod, m = got
            self.kubelet_step([(pod.kubelet, "image pull")], pod, m)

    def on_ContainerStarted(self, r: TraceRecord, index: int) -> None:
        got = self.pod_node(r, index)
        if not got:
            return
        pod, m = got
        container = str(r.get("container"))
        prev = pod.kubelet
        kind = "container start"
        if prev is not None:
            pe = self.g.nodes[prev]["event"]
            if pe == "ImagePulling":
                kind = "image pull"  # a trace without ImagePulled records: pull and start together
            elif pe == "ContainerExited" and prev[1] == m[1] and int(r.get("restartCount") or 0) > 0:
                kind = "back-off"
            elif pe == "VolumesMounted":
                kind = "sandbox"
        self.kubelet_step(self.first_step_causes(pod) + [(prev, kind)], pod, m)
        pod.started[container] = m

    def on_ContainerKilled(self, r: TraceRecord, index: int) -> None:
        got = self.pod_node(r, index)
        if got:
            pod, m = got
            container = str(r.get("container"))
            self.kubelet_step([(pod.started.get(container), "probe failures"),
                               (self.action("breakLiveness", pod.name), "probe failures")], pod, m)
            pod.killed[container] = m

    def on_ContainerExited(self, r: TraceRecord, index: int) -> None:
        got = self.pod_node(r, index)
        if not got:
            return
        pod, m = got
        container = str(r.get("container"))
        run_kind = "init container" if pod.running is None and r.get("exitCode") == 0 else "container run"
        node = pod.node or ""
        self.kubelet_step([(pod.started.get(container), run_kind), (pod.terminating, "graceful shutdown"),
                              (pod.killed.pop(container, None), "kill"),
                              (self.action("crashContainer", pod.name, pop=True), "api"),
                              (self.action("failPod", pod.name), "api"),
                              (self.node_events.get((node, "NodeTainted out-of-service")), "pod GC")], pod, m)
        pod.exited = m

    # Storage

    def on_PVCCreated(self, r: TraceRecord, index: int) -> None:
        pvc = str(r.get("pvc"))
        m = self.node("PVCCreated", pvc, r.t, index, fields=r.fields)
        owner = self.claim_owner(pvc)
        causes: list[tuple[Milestone | None, str]] = [(self.action("apply persistentvolumeclaim", pvc), "api")]
        if owner is not None:
            s, name, ordinal = owner
            current = self.by_name.get(name)
            if current is None or current.deleted is not None:  # created with its pod
                causes += self.creation_causes(s, name, ordinal, r.t)
            elif current is not None:  # re-created for a pending pod
                causes.append((current.created, "claim"))
        self.link(m, causes)
        self.claims[pvc] = {"created": m}

    def on_VolumeProvisioning(self, r: TraceRecord, index: int) -> None:
        pvc = str(r.get("pvc"))
        m = self.node("VolumeProvisioning", pvc, r.t, index, fields=r.fields)
        claim = self.claims.setdefault(pvc, {})
        causes: list[tuple[Milestone | None, str]] = [(claim.get("created"), "claim")]
        if r.get("node") is not None:  # WaitForFirstConsumer: after the scheduler chose a node
            pod = self.claim_pod(pvc)
            if pod is not None and pod.deleted is None:
                causes.append((pod.created, "scheduling"))
        self.link(m, causes)
        claim["provisioning"] = m

    def on_PVCreated(self, r: TraceRecord, index: int) -> None:
        pv, pvc = str(r.get("pv")), r.get("pvc")
        m = self.node("PVCreated", pv, r.t, index, fields=r.fields)
        if pvc is not None:
            self.link(m, [(self.claims.get(str(pvc), {}).get("provisioning"), "volume provisioning")])
        self.pvs[pv] = m

    def on_PVCBound(self, r: TraceRecord, index: int) -> None:
        pvc = str(r.get("pvc"))
        m = self.node("PVCBound", pvc, r.t, index, fields=r.fields)
        claim = self.claims.setdefault(pvc, {})
        self.link(m, [(claim.get("created"), "claim binding"), (self.pvs.get(str(r.get("pv"))), "claim binding")])
        claim["bound"] = m
        self.pv_claim[str(r.get("pv"))] = pvc
        self.claim_pv[pvc] = str(r.get("pv"))

    def on_PVCTerminating(self, r: TraceRecord, index: int) -> None:
        pvc = str(r.get("pvc"))
        m = self.node("PVCTerminating", pvc, r.t, index, fields=r.fields)
        user = self.claim_pod(pvc, r.get("pod"))
        owner = self.claim_owner(pvc)
        self.link(m, [(self.claims.get(pvc, {}).get("collected"), "garbage collection"),
                      (user.deleted if user is not None else None, "garbage collection"),
                      (self.set_deleted.get(owner[0].name) if owner else None, "garbage collection"),
                      (self.action("delete", f"PersistentVolumeClaim/{pvc}"), "api")])
        self.claims.setdefault(pvc, {})["terminating"] = m

    def on_PVCDeleted(self, r: TraceRecord, index: int) -> None:
        pvc = str(r.get("pvc"))
        m = self.node("PVCDeleted", pvc, r.t, index, fields=r.fields)
        claim = self.claims.setdefault(pvc, {})
        user = self.claim_pod(pvc, r.get("pod"))
        self.link(m, [(claim.get("terminating"), "claim protection"), (claim.get("collected"), "garbage collection"),
                      (user.deleted if user is not None else None, "claim protection")])
        claim["deleted"] = m

    def on_GarbageCollected(self, r: TraceRecord, index: int) -> None:
        kind, name, owner = str(r.get("kind")), str(r.get("name")), str(r.get("owner"))
        m = self.node("GarbageCollected", name, r.t, index, fields=r.fields)
        owner_pod = self.by_name.get(owner)
        self.link(m, [(owner_pod.deleted if owner_pod is not None else None, "garbage collection"),
                      (self.set_deleted.get(owner), "garbage collection")])
        if kind == "PersistentVolumeClaim":
            self.claims.setdefault(name, {})["collected"] = m

    # Nodes and disruption budgets

    def node_record(self, r: TraceRecord, index: int, causes: list[tuple[Milestone | None, str]],
                    key: str | None = None) -> Milestone:
        node = str(r.get("node"))
        m = self.node(r.event, node, r.t, index, fields=r.fields)
        self.link(m, causes)
        self.node_events[(node, key or r.event)] = m
        return m

    def on_NodeNotReady(self, r: TraceRecord, index: int) -> None:
        self.node_record(r, index, [(self.action("failNode", r.get("node")), "node monitor")])

    def on_NodeReady(self, r: TraceRecord, index: int) -> None:
        m = self.node_record(r, index, [(self.action("recoverNode", r.get("node")), "node recovery")])
        self.node_changes[str(r.get("node"))] = m

    def on_NodeTainted(self, r: TraceRecord, index: int) -> None:
        node = r.get("node")
        key = str(r.get("key"))
        causes: list[tuple[Milestone | None, str]] = [
            (self.node_events.get((str(node), "NodeNotReady")), "node taint"),
            (self.action("taintOutOfService", node), "api"), (self.action("cordonNode", node), "api"),
            (self.action("drainNode", node), "api")]
        short = "out-of-service" if key.endswith("out-of-service") else None
        m = self.node_record(r, index, causes, key=f"NodeTainted {short}" if short else None)
        if r.get("effect") == "NoExecute":
            self.no_execute[str(node)] = m

    def on_NodeUntainted(self, r: TraceRecord, index: int) -> None:
        node = r.get("node")
        m = self.node_record(r, index, [(self.action(v, node), "api") for v in
                                        ("untaintOutOfService", "uncordonNode", "recoverNode")]
                             + [(self.node_events.get((str(node), "NodeReady")), "node taint")])
        self.node_changes[str(node)] = m

    def on_NodeCordoned(self, r: TraceRecord, index: int) -> None:
        node = r.get("node")
        self.node_record(r, index, [(self.action("cordonNode", node), "api"), (self.action("drainNode", node), "api")])

    def on_NodeUncordoned(self, r: TraceRecord, index: int) -> None:
        m = self.node_record(r, index, [(self.action("uncordonNode", r.get("node")), "api")])
        self.node_changes[str(r.get("node"))] = m

    def on_NodeDeleted(self, r: TraceRecord, index: int) -> None:
        self.node_record(r, index, [(self.action("deleteNode", r.get("node")), "api")])

    def on_NodeDrained(self, r: TraceRecord, index: int) -> None:
        node = str(r.get("node"))
        causes: list[tuple[Milestone | None, str]] = [(self.action("drainNode", node), "drain")]
        causes += [(p.deleted, "drain") for p in self.by_uid.values() if p.node == node and p.evicted is not None]
        self.node_record(r, index, causes)

    def on_DisruptionBudgetStatus(self, r: TraceRecord, index: int) -> None:
        pdb = str(r.get("pdb"))
        allowed = int(r.get("disruptionsAllowed") or 0) > 0
        if allowed and not self.pdb_state.get(pdb, False):
            m = self.node("DisruptionAllowed", pdb, r.t, index, fields=r.fields)
            self.link(m, self.latest((p.last_ready, "disruption budget") for p in self.by_name.values()
                                     if p.deleted is None))
            self.disruption_allowed = m
        self.pdb_state[pdb] = allowed

    # Endpoints and DNS

    def on_EndpointSliceUpdated(self, r: TraceRecord, index: int) -> None:
        svc = str(r.get("service"))
        ready = {str(p) for p in r.get("ready") or []}
        present = ready | {str(p) for p in r.get("notReady") or []} | {str(p) for p in r.get("terminating") or []}
        old_ready, old_all = self.slice_ready.get(svc, set()), self.slice_all.get(svc, set())
        self.slice_ready[svc], self.slice_all[svc] = ready, present
        entered, left, added = ready - old_ready, old_ready - ready, present - old_all
        if not (entered or left or added):
            return
        m = self.node("EndpointSliceUpdated", svc, r.t, index, fields=r.fields)
        causes: list[tuple[Milestone | None, str]] = []
        for name in entered:
            p = self.by_name.get(name)
            causes.append((p.last_ready if p else None, "endpoints"))
            self.endpoint_ready[name] = m
        for name in left:  # any incarnation: the one that left may already be replaced
            for p in self.incarnations.get(name, []):
                causes += [(p.not_ready, "endpoints"), (p.terminating, "endpoints"), (p.deleted, "endpoints")]
        for name in added:
            p = self.by_name.get(name)
            causes.append((p.ip if p else None, "endpoints"))
        self.link(m, causes)

    def on_DNSAnswer(self, r: TraceRecord, index: int) -> None:
        name, client = str(r.get("name")), str(r.get("client"))
        answers = [str(a) for a in r.get("answers") or []]
        positive = r.get("rcode") == "NOERROR" and bool(answers)
        was = self.dns_positive.get((name, client), False)
        self.dns_positive[(name, client)] = positive
        if not positive or was:
            if not positive:
                from_cache = frozenset(str(n) for n in r.get("cachedNames") or [])
                if r.get("server") == "client-cache":
                    from_cache = frozenset({"*"})
                self.dns_negative[(name, client)] = (r.t, from_cache)
            return
        m = self.node("DNSResolved", name, r.t, index, fields=r.fields)
        negative = self.dns_negative.pop((name, client), None)
        # Only a cached "no such name" for the name that now answers held the address back; a
        # cached answer for another search-path name says nothing about it.
        fqdn = str(r.get("fqdn"))
        negative_at = negative[0] if negative is not None and (fqdn in negative[1] or "*" in negative[1]) else None
        causes: list[tuple[Milestone | None, str]] = [(self.dns_query.get(name), "dns query")]
        for a in answers:
            ip = a.split()[-1] if " " in a else a
            owner = self.ip_owner.get(ip) or ip.split(".")[0]
            ready = self.endpoint_ready.get(owner)
            cached = ready is not None and negative_at is not None and negative_at > self.t(ready)
            causes.append((ready, "dns negative cache" if cached else "dns"))
        self.link(m, causes)


def happens_before_graph(trace: TraceSource | Iterable[TraceRecord]) -> Any:
    """The happens-before graph of ``trace`` (a trace, a run's result or records; a
    ``networkx.DiGraph``, see the module docstring for nodes and edge attributes).  Every edge
    points forward in time (``wait >= 0``)."""
    records = as_trace(trace) if isinstance(trace, HasTrace) else trace
    return _Builder(list(records)).build()


# ---------------------------------------------------------------------------------------------
# The critical path


def _latest(graph: Any, nodes: Iterable[Milestone]) -> Milestone | None:
    best: Milestone | None = None
    for m in nodes:
        if best is None or _order(graph, m) > _order(graph, best):
            best = m
    return best


def _order(graph: Any, m: Milestone) -> tuple[float, int]:
    data = graph.nodes[m]
    return float(data["t"]), int(data.get("seq", 0))


def _desired(graph: Any, m: Milestone) -> int:
    return int(graph.nodes[m].get("fields", {}).get("desired", 0) or 0)


def default_target(graph: Any) -> Milestone:
    """The end of the rollout: the last ``StatefulSetReady`` with at least one desired replica,
    else the last ``PodReady``, else the last milestone.  Raises :class:`MilestoneError` on an
    empty graph."""
    nodes: list[Milestone] = list(graph.nodes)
    if not nodes:
        raise MilestoneError("the trace has no milestones to build a critical path from")
    ready_sets = [m for m in nodes if m[0] == "StatefulSetReady" and _desired(graph, m) > 0]
    pods = [m for m in nodes if m[0] == "PodReady"]
    found = _latest(graph, ready_sets or pods or nodes)
    assert found is not None
    return found


def resolve_target(graph: Any, target: Milestone | str | None) -> Milestone:
    """A milestone of ``graph`` from ``target``: a milestone tuple; ``None`` (:func:`default_target`);
    a pod name (its last ``PodReady``), a StatefulSet name (its last ``StatefulSetReady`` with at
    least one desired replica, else its last one) or a DNS
    name (its first ``DNSResolved``); ``EVENT:SUBJECT`` (the last such milestone) or
    ``EVENT:SUBJECT:N``.  Raises :class:`MilestoneError` when nothing matches."""
    if target is None:
        return default_target(graph)
    if isinstance(target, tuple):
        if target not in graph:
            raise MilestoneError(f"no milestone {milestone_label(target)} in the trace")
        return target
    nodes: list[Milestone] = list(graph.nodes)
    parts = target.split(":")
    if len(parts) == 3 and parts[2].isdigit():
        m: Milestone = (parts[0], parts[1], int(parts[2]))
        if m in graph:
            return m
    elif len(parts) == 2:
        found = _latest(graph, (x for x in nodes if x[0] == parts[0] and x[1] == parts[1]))
        if found is not None:
            return found
    else:
        sets = [x for x in nodes if x[0] == "StatefulSetReady" and x[1] == target]
        found = _latest(graph, (x for x in nodes if x[0] == "PodReady" and x[1] == target)) or \
            _latest(graph, (x for x in sets if _desired(graph, x) > 0)) or _latest(graph, sets)
        if found is None and (("DNSResolved", target, 0)) in graph:
            found = ("DNSResolved", target, 0)
        if found is not None:
            return found
    known = sorted({x[1] for x in nodes if x[0] in ("PodReady", "StatefulSetReady", "DNSResolved")})
    raise MilestoneError(f"no milestone matches {target!r}: give a pod, StatefulSet or DNS name that became "
                         f"ready or resolvable ({', '.join(known) or 'none in this trace'}), EVENT:SUBJECT "
                         f"or EVENT:SUBJECT:N")


def critical_path(source: Any, target: Milestone | str | None = None) -> CriticalPath:
    """The critical path to ``target`` (see :func:`resolve_target`) in ``source``, a happens-before
    graph, a trace or a run's result: from the target, repeatedly step back to the cause that finished last (ties:
    the one recorded last) until a milestone without causes.  Raises :class:`MilestoneError` when
    the target is not found."""
    import networkx as nx

    graph = source if isinstance(source, nx.DiGraph) else happens_before_graph(source)
    end = resolve_target(graph, target)
    steps: list[PathStep] = []
    current = end
    seen = {current}
    while True:
        cause = _latest(graph, graph.predecessors(current))
        if cause is None or cause in seen:
            break
        seen.add(cause)
        steps.append(PathStep(cause, current, str(graph.edges[cause, current]["kind"]),
                              float(graph.nodes[cause]["t"]), float(graph.nodes[current]["t"])))
        current = cause
    steps.reverse()
    return CriticalPath(target=end, start=current, begin=float(graph.nodes[current]["t"]),
                        end=float(graph.nodes[end]["t"]), steps=tuple(steps))
