"""Scenario actions: what a user (or an operator) does to the cluster at a given time.

Each action is a frozen dataclass with a ``verb``, a ``parse`` classmethod that validates its
fields (a plain mapping, no I/O) and an ``execute`` generator that acts through the user's API
client.  Later features add verbs with :func:`register_action`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Generator, Mapping, Protocol, Sequence

import simpy

from statefulsim.problems import Path, Problems, get_bool, get_int, get_str
from statefulsim.sim.api.eviction import evict
from statefulsim.sim.api.objects import (
    FAILED, NO_EXECUTE, SUCCEEDED, TAINT_OUT_OF_SERVICE, ApiObject, Node, Pod, StatefulSet, Taint, evolve,
)
from statefulsim.sim.api.store import ApiError
from statefulsim.sim.cluster import Cluster

Gen = Generator[simpy.Event, Any, Any]


class Action(Protocol):
    at: float
    verb: ClassVar[str]

    def fields(self) -> dict[str, Any]: ...

    def execute(self, cluster: Cluster) -> Gen: ...


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: mappings merge, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


def _fail(message: str) -> dict[str, Any]:
    return {"error": message}


def _patched_set(sts: StatefulSet, patch: Mapping[str, Any]) -> StatefulSet | str:
    from statefulsim.sim.api.convert import parse_statefulset_spec
    from statefulsim.sim.controllers.statefulset.policies import policy_names

    raw = merge_patch(sts.spec_raw, patch)
    problems = Problems()
    spec = parse_statefulset_spec(raw, sts.api_version, ("spec",), problems, metadata_labels=sts.metadata.labels,
                                  known_policies=policy_names())
    if spec is None:
        return "; ".join(str(p) for p in problems.items)
    for fixed in ("selector", "service_name", "pod_management_policy", "volume_claim_templates"):
        if getattr(spec, fixed) != getattr(sts.spec, fixed):
            return (f"StatefulSet.apps \"{sts.name}\" is invalid: spec: Forbidden: updates to statefulset spec for "
                    "fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
                    "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")
    return replace(sts, spec=spec, spec_raw=raw)


def _update_set(cluster: Cluster, namespace: str, name: str, patch: Mapping[str, Any]) -> Gen:
    """``kubectl scale/patch/set image``: a PATCH without a resourceVersion, applied to the set
    as the API server has it when the request arrives (so the controller's status writes in
    between cannot make it fail with a conflict)."""
    if cluster.store.get("StatefulSet", namespace, name) is None:
        return _fail(f'statefulsets.apps "{name}" not found')
    invalid: list[str] = []

    def apply(cur: Any) -> Any:
        new = _patched_set(cur, patch)
        if isinstance(new, str):
            invalid.append(new)
            return cur
        return new

    try:
        yield from cluster.user.patch("StatefulSet", namespace, name, apply)
    except ApiError as e:
        return _fail(e.message if e.reason != "NotFound" else f'statefulsets.apps "{name}" not found')
    if invalid:
        return _fail(invalid[0])
    return {}


@dataclass(frozen=True)
class Scale:
    at: float
    statefulset: str
    replicas: int
    namespace: str = "default"
    verb: ClassVar[str] = "scale"

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> Scale:
        problems.unknown_keys(m, ("statefulset", "replicas", "namespace"), path)
        return cls(at, get_str(m, "statefulset", path, problems, required=True),
                   get_int(m, "replicas", path, problems, 0, minimum=0, required=True),
                   get_str(m, "namespace", path, problems, "default"))

    def fields(self) -> dict[str, Any]:
        return {"statefulset": self.statefulset, "replicas": self.replicas}

    def execute(self, cluster: Cluster) -> Gen:
        return (yield from _update_set(cluster, self.namespace, self.statefulset, {"replicas": self.replicas}))


@dataclass(frozen=True)
class Patch:
    at: float
    statefulset: str
    patch: Mapping[str, Any]
    namespace: str = "default"
    verb: ClassVar[str] = "patch"

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> Patch:
        problems.unknown_keys(m, ("statefulset", "patch", "namespace"), path)
        patch = m.get("patch")
        if not isinstance(patch, Mapping):
            problems.expected(path + ("patch",), "a mapping (a merge patch of the StatefulSet's spec)", patch)
            patch = {}
        return cls(at, get_str(m, "statefulset", path, problems, required=True), dict(patch),
                   get_str(m, "namespace", path, problems, "default"))

    def check_against(self, sts: StatefulSet, path: Path, problems: Problems) -> None:
        """Report now what applying the patch to the manifest's StatefulSet would reject."""
        result = _patched_set(sts, self.patch)
        if isinstance(result, str):
            problems.add(path + ("patch",), f"the patch would be rejected: {result}")

    def fields(self) -> dict[str, Any]:
        return {"statefulset": self.statefulset, "patch": dict(self.patch)}

    def execute(self, cluster: Cluster) -> Gen:
        return (yield from _update_set(cluster, self.namespace, self.statefulset, self.patch))


@dataclass(frozen=True)
class SetImage:
    """``kubectl set image statefulset/NAME CONTAINER=IMAGE``: a template change (new revision)."""

    at: float
    statefulset: str
    container: str
    image: str
    namespace: str = "default"
    verb: ClassVar[str] = "setImage"

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> SetImage:
        problems.unknown_keys(m, ("statefulset", "container", "image", "namespace"), path)
        return cls(at, get_str(m, "statefulset", path, problems, required=True),
                   get_str(m, "container", path, problems, required=True),
                   get_str(m, "image", path, problems, required=True),
                   get_str(m, "namespace", path, problems, "default"))

    def fields(self) -> dict[str, Any]:
        return {"statefulset": self.statefulset, "container": self.container, "image": self.image}

    def template_patch(self, sts: StatefulSet) -> dict[str, Any] | str:
        """The merge patch that sets the image (lists are replaced whole by merge patches)."""
        spec = sts.spec_raw.get("template", {}).get("spec", {})
        for key in ("containers", "initContainers"):
            items = [dict(c) for c in spec.get(key) or []]
            for c in items:
                if c.get("name") == self.container:
                    c["image"] = self.image
                    return {"template": {"spec": {key: items}}}
        names = [c.get("name") for k in ("containers", "initContainers") for c in spec.get(k) or []]
        return f'unable to find container named "{self.container}" (containers: {", ".join(map(str, names))})'

    def check_against(self, sts: StatefulSet, path: Path, problems: Problems) -> None:
        patch = self.template_patch(sts)
        if isinstance(patch, str):
            problems.add(path + ("container",), patch)

    def execute(self, cluster: Cluster) -> Gen:
        sts = cluster.store.get("StatefulSet", self.namespace, self.statefulset)
        if sts is None:
            return _fail(f'statefulsets.apps "{self.statefulset}" not found')
        patch = self.template_patch(sts)
        if isinstance(patch, str):
            return _fail(patch)
        return (yield from _update_set(cluster, self.namespace, self.statefulset, patch))


@dataclass(frozen=True)
class DeleteObject:
    """``kubectl delete KIND NAME`` for any other object (a claim, a Service, a budget, ...)."""

    at: float
    kind: str
    name: str
    namespace: str = "default"
    verb: ClassVar[str] = "delete"

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> DeleteObject:
        problems.unknown_keys(m, ("kind", "name", "namespace"), path)
        return cls(at, get_str(m, "kind", path, problems, required=True), get_str(m, "name", path, problems, required=True),
                   get_str(m, "namespace", path, problems, "default"))

    def fields(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name}

    def execute(self, cluster: Cluster) -> Gen:
        try:
            yield from cluster.user.delete(self.kind, self.namespace, self.name)
        except ApiError as e:
            return _fail(e.message)
        return {}


@dataclass(frozen=True)
class DeleteStatefulSet:
    """``kubectl delete statefulset NAME --cascade=background|foreground|orphan``."""

    at: float
    statefulset: str
    cascade: str = "background"
    namespace: str = "default"
    verb: ClassVar[str] = "deleteStatefulSet"

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> DeleteStatefulSet:
        problems.unknown_keys(m, ("statefulset", "cascade", "namespace"), path)
        return cls(at, get_str(m, "statefulset", path, problems, required=True),
                   get_str(m, "cascade", path, problems, "background", choices=("background", "foreground", "orphan")),
                   get_str(m, "namespace", path, problems, "default"))

    def fields(self) -> dict[str, Any]:
        return {"statefulset": self.statefulset, "cascade": self.cascade}

    def execute(self, cluster: Cluster) -> Gen:
        try:
            yield from cluster.user.delete("StatefulSet", self.namespace, self.statefulset,
                                           propagation=self.cascade.capitalize())
        except ApiError as e:
            return _fail(e.message)
        return {}


@dataclass(frozen=True)
class DeletePod:
    at: float
    pod: str
    grace_period_seconds: float | None = None
    force: bool = False
    namespace: str = "default"
    verb: ClassVar[str] = "deletePod"

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> DeletePod:
        problems.unknown_keys(m, ("pod", "gracePeriodSeconds", "force", "namespace"), path)
        grace: float | None = None
        if m.get("gracePeriodSeconds") is not None:
            # As in the API: a whole number of seconds >= 0.
            grace = float(get_int(m, "gracePeriodSeconds", path, problems, 0, minimum=0))
        force = get_bool(m, "force", path, problems)
        if force and grace not in (None, 0):
            problems.add(path + ("force",), "force deletion needs gracePeriodSeconds 0 (or none)")
        return cls(at, get_str(m, "pod", path, problems, required=True), 0.0 if force else grace, force,
                   get_str(m, "namespace", path, problems, "default"))

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pod": self.pod}
        if self.grace_period_seconds is not None:
            out["gracePeriodSeconds"] = self.grace_period_seconds
        if self.force:
            out["force"] = True
        return out

    def execute(self, cluster: Cluster) -> Gen:
        try:
            yield from cluster.user.delete("Pod", self.namespace, self.pod, grace_period_seconds=self.grace_period_seconds)
        except ApiError as e:
            return _fail(e.message)
        return {}


def _worker_or_error(cluster: Cluster, pod: str, namespace: str) -> Any:
    w = cluster.pod_worker(pod, namespace)
    if w is None:
        return None, _fail(f'pod "{pod}" is not running on any node')
    return w, {}


@dataclass(frozen=True)
class BreakReadiness:
    at: float
    pod: str
    namespace: str = "default"
    verb: ClassVar[str] = "breakReadiness"
    broken: ClassVar[bool] = True

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> Any:
        problems.unknown_keys(m, ("pod", "namespace"), path)
        return cls(at, get_str(m, "pod", path, problems, required=True), get_str(m, "namespace", path, problems, "default"))

    def fields(self) -> dict[str, Any]:
        return {"pod": self.pod}

    def execute(self, cluster: Cluster) -> Gen:
        w, result = _worker_or_error(cluster, self.pod, self.namespace)
        if w is not None:
            if not any(c.spec.readiness_probe is not None for c in w.containers):
                return _fail(f'pod "{self.pod}" has no readiness probe to break')
            w.break_readiness(self.broken)
        return result
        yield  # pragma: no cover


@dataclass(frozen=True)
class RestoreReadiness(BreakReadiness):
    verb: ClassVar[str] = "restoreReadiness"
    broken: ClassVar[bool] = False


@dataclass(frozen=True)
class CrashContainer:
    at: float
    pod: str
    container: str | None = None
    exit_code: int = 1
    namespace: str = "default"
    verb: ClassVar[str] = "crashContainer"

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> CrashContainer:
        problems.unknown_keys(m, ("pod", "container", "exitCode", "namespace"), path)
        container = get_str(m, "container", path, problems) or None
        return cls(at, get_str(m, "pod", path, problems, required=True), container,
                   get_int(m, "exitCode", path, problems, 1), get_str(m, "namespace", path, problems, "default"))

    def fields(self) -> dict[str, Any]:
        return {"pod": self.pod, "container": self.container}

    def execute(self, cluster: Cluster) -> Gen:
        w, result = _worker_or_error(cluster, self.pod, self.namespace)
        if w is not None:
            name = self.container or w.containers[0].name
            if not w.crash(name, self.exit_code):
                return _fail(f'container "{name}" of pod "{self.pod}" is not running')
        return result
        yield  # pragma: no cover


@dataclass(frozen=True)
class FailPod:
    """The kubelet ends a pod in phase Failed (node-pressure eviction, admission rejection)."""

    at: float
    pod: str
    reason: str = "Evicted"
    namespace: str = "default"
    verb: ClassVar[str] = "failPod"

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> FailPod:
        problems.unknown_keys(m, ("pod", "reason", "namespace"), path)
        return cls(at, get_str(m, "pod", path, problems, required=True), get_str(m, "reason", path, problems, "Evicted"),
                   get_str(m, "namespace", path, problems, "default"))

    def fields(self) -> dict[str, Any]:
        return {"pod": self.pod, "reason": self.reason}

    def execute(self, cluster: Cluster) -> Gen:
        w, result = _worker_or_error(cluster, self.pod, self.namespace)
        if w is not None:
            w.fail(self.reason)
        return result
        yield  # pragma: no cover


@dataclass(frozen=True)
class Apply:
    """``kubectl apply``: create the objects, or replace the spec of ones that exist."""

    at: float
    objects: tuple[ApiObject, ...] = field(default_factory=tuple)
    verb: ClassVar[str] = "apply"

    def fields(self) -> dict[str, Any]:
        return {"objects": [f"{o.kind.lower()}/{o.metadata.name}" for o in self.objects]}

    def execute(self, cluster: Cluster) -> Gen:
        errors: list[str] = []
        for obj in self.objects:
            cur = cluster.store.get(obj.kind, obj.metadata.namespace, obj.metadata.name)
            try:
                if cur is None:
                    yield from cluster.user.create(obj)
                else:
                    new = evolve(obj, metadata=replace(obj.metadata, uid=cur.metadata.uid,
                                                       resource_version=cur.metadata.resource_version))
                    yield from cluster.user.update(new)
            except ApiError as e:
                errors.append(e.message)
        return _fail("; ".join(errors)) if errors else {}


# --------------------------------------------------------------------------- nodes and disruptions


@dataclass(frozen=True)
class _NodeAction:
    at: float
    node: str
    verb: ClassVar[str] = ""

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> Any:
        problems.unknown_keys(m, ("node",), path)
        return cls(at, get_str(m, "node", path, problems, required=True))

    def fields(self) -> dict[str, Any]:
        return {"node": self.node}


@dataclass(frozen=True)
class FailNode(_NodeAction):
    """The node stops: its kubelet renews no Lease, writes nothing, sees nothing.  Containers keep
    running as far as anyone outside can tell (a network partition or a hung kubelet)."""

    verb: ClassVar[str] = "failNode"

    def execute(self, cluster: Cluster) -> Gen:
        kubelet = cluster.kubelets.get(self.node)
        if kubelet is None:
            return _fail(f'node "{self.node}" has no simulated kubelet')
        if not kubelet.fail():
            return _fail(f'node "{self.node}" has already failed')
        return {}
        yield  # pragma: no cover


@dataclass(frozen=True)
class RecoverNode(_NodeAction):
    """The kubelet is back: Lease renewed at once, node Ready, its pods re-read (pods deleted
    while it was away are stopped; pods marked for deletion are terminated gracefully)."""

    verb: ClassVar[str] = "recoverNode"

    def execute(self, cluster: Cluster) -> Gen:
        kubelet = cluster.kubelets.get(self.node)
        if kubelet is None:
            return _fail(f'node "{self.node}" has no simulated kubelet')
        if not kubelet.recover():
            return _fail(f'node "{self.node}" has not failed')
        return {}
        yield  # pragma: no cover


def _patch_node(cluster: Cluster, name: str, mutate: Any) -> Gen:
    try:
        yield from cluster.user.patch("Node", "", name, mutate)
    except ApiError as e:
        return _fail(e.message)
    return {}


@dataclass(frozen=True)
class TaintOutOfService(_NodeAction):
    """``kubectl taint nodes NODE node.kubernetes.io/out-of-service=nodeshutdown:NoExecute``
    (non-graceful node shutdown): pods are evicted at once and, once the node is not Ready, pod
    GC force-deletes the terminating ones."""

    verb: ClassVar[str] = "taintOutOfService"

    def execute(self, cluster: Cluster) -> Gen:
        now = cluster.env.now

        def taint(node: Node) -> Node:
            if any(t.key == TAINT_OUT_OF_SERVICE and t.effect == NO_EXECUTE for t in node.spec.taints):
                return node
            added = Taint(TAINT_OUT_OF_SERVICE, NO_EXECUTE, "nodeshutdown", now)
            return evolve(node, spec=evolve(node.spec, taints=node.spec.taints + (added,)))

        return (yield from _patch_node(cluster, self.node, taint))


@dataclass(frozen=True)
class UntaintOutOfService(_NodeAction):
    """``kubectl taint nodes NODE node.kubernetes.io/out-of-service-``: the operator removes the
    taint once the node is back (the documented last step of a non-graceful shutdown)."""

    verb: ClassVar[str] = "untaintOutOfService"

    def execute(self, cluster: Cluster) -> Gen:
        def untaint(node: Node) -> Node:
            taints = tuple(t for t in node.spec.taints if t.key != TAINT_OUT_OF_SERVICE)
            return node if taints == node.spec.taints else evolve(node, spec=evolve(node.spec, taints=taints))

        return (yield from _patch_node(cluster, self.node, untaint))


@dataclass(frozen=True)
class DeleteNode(_NodeAction):
    """``kubectl delete node NODE``: pod GC force-deletes the node's pods after its 40 s quarantine."""

    verb: ClassVar[str] = "deleteNode"

    def execute(self, cluster: Cluster) -> Gen:
        try:
            yield from cluster.user.delete("Node", "", self.node)
        except ApiError as e:
            return _fail(e.message)
        return {}


@dataclass(frozen=True)
class CordonNode(_NodeAction):
    """``kubectl cordon NODE``: ``spec.unschedulable = true``."""

    verb: ClassVar[str] = "cordonNode"
    unschedulable: ClassVar[bool] = True

    def execute(self, cluster: Cluster) -> Gen:
        flag = self.unschedulable
        return (yield from _patch_node(cluster, self.node, lambda n: n if n.spec.unschedulable == flag
                                       else evolve(n, spec=evolve(n.spec, unschedulable=flag))))


@dataclass(frozen=True)
class UncordonNode(CordonNode):
    """``kubectl uncordon NODE``."""

    verb: ClassVar[str] = "uncordonNode"
    unschedulable: ClassVar[bool] = False


def _grace_field(m: Mapping[str, Any], path: Path, problems: Problems) -> float | None:
    if m.get("gracePeriodSeconds") is None:
        return None
    return float(get_int(m, "gracePeriodSeconds", path, problems, 0, minimum=0))


@dataclass(frozen=True)
class EvictPod:
    """One request to the eviction API (``POST pods/NAME/eviction``).  A refusal because of a
    PodDisruptionBudget is recorded as ``EvictionBlocked``; the action does not retry."""

    at: float
    pod: str
    grace_period_seconds: float | None = None
    namespace: str = "default"
    verb: ClassVar[str] = "evictPod"

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> EvictPod:
        problems.unknown_keys(m, ("pod", "gracePeriodSeconds", "namespace"), path)
        return cls(at, get_str(m, "pod", path, problems, required=True), _grace_field(m, path, problems),
                   get_str(m, "namespace", path, problems, "default"))

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pod": self.pod}
        if self.grace_period_seconds is not None:
            out["gracePeriodSeconds"] = self.grace_period_seconds
        return out

    def execute(self, cluster: Cluster) -> Gen:
        store = cluster.store
        try:
            yield from cluster.user.call(lambda: evict(store, self.namespace, self.pod, self.grace_period_seconds))
        except ApiError as e:
            return _fail(e.message)
        return {}


#: kubectl drain: a refused eviction (HTTP 429) is retried after this many seconds.
DRAIN_EVICTION_RETRY = 5.0
#: kubectl drain: how often it checks that an evicted pod is gone.
DRAIN_POLL_INTERVAL = 1.0


@dataclass(frozen=True)
class DrainNode:
    """``kubectl drain NODE``: cordon, then evict every pod on the node **concurrently** (one
    goroutine per pod in ``drain.go``), retrying an eviction refused with 429 every 5 s, then wait
    (polling every 1 s) until each pod is gone.  Pods without a controller stop the drain unless
    ``force: true``."""

    at: float
    node: str
    grace_period_seconds: float | None = None
    force: bool = False
    verb: ClassVar[str] = "drainNode"

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> DrainNode:
        problems.unknown_keys(m, ("node", "gracePeriodSeconds", "force"), path)
        return cls(at, get_str(m, "node", path, problems, required=True), _grace_field(m, path, problems),
                   get_bool(m, "force", path, problems))

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"node": self.node}
        if self.grace_period_seconds is not None:
            out["gracePeriodSeconds"] = self.grace_period_seconds
        if self.force:
            out["force"] = True
        return out

    def execute(self, cluster: Cluster) -> Gen:
        env = cluster.env
        result = yield from _patch_node(cluster, self.node, lambda n: n if n.spec.unschedulable
                                        else evolve(n, spec=evolve(n.spec, unschedulable=True)))
        if result:
            return result
        listed = yield from cluster.user.list("Pod")
        pods: list[Pod] = sorted((p for p in listed if p.spec.node_name == self.node),
                                 key=lambda p: (p.metadata.namespace, p.metadata.name))
        unmanaged = [p for p in pods if p.metadata.controller_ref() is None and p.status.phase not in (FAILED, SUCCEEDED)]
        if unmanaged and not self.force:
            names = ", ".join(f"{p.metadata.namespace}/{p.metadata.name}" for p in unmanaged)
            return _fail(f"cannot delete Pods that declare no controller (use --force to override): {names}")
        procs = [env.process(self._evict_and_wait(cluster, p)) for p in pods]
        if procs:
            yield simpy.AllOf(env.sim, procs)
        errors = [p.value for p in procs if p.value]
        if errors:
            return _fail("; ".join(errors))
        env.emit("NodeDrained", node=self.node, pods=len(pods))
        return {}

    def _evict_and_wait(self, cluster: Cluster, pod: Pod) -> Gen:
        env, store = cluster.env, cluster.store
        ns, name = pod.metadata.namespace, pod.metadata.name
        while True:
            try:
                res = yield from cluster.user.call(lambda: evict(store, ns, name, self.grace_period_seconds))
            except ApiError as e:
                if e.reason == "NotFound":
                    return None
                return f'error when evicting pods/"{name}" -n "{ns}": {e.message}'
            if res.ok:
                break
            if res.code != 429:
                return f'error when evicting pods/"{name}" -n "{ns}": {res.message}'
            yield env.timeout(DRAIN_EVICTION_RETRY)
        while True:  # waitForDelete: PollImmediate every second (a GET each time)
            cur = yield from cluster.user.call(lambda: store.get("Pod", ns, name))
            if cur is None or cur.metadata.uid != pod.metadata.uid:
                return None
            yield env.timeout(DRAIN_POLL_INTERVAL)


#: verb -> class with a ``parse(at, mapping, path, problems)`` classmethod (``apply`` is parsed by
#: the scenario loader because it carries manifests).
ACTIONS: dict[str, Any] = {
    cls.verb: cls for cls in (Scale, Patch, SetImage, DeleteStatefulSet, DeleteObject, DeletePod, BreakReadiness, RestoreReadiness, CrashContainer,
                              FailPod, FailNode, RecoverNode, TaintOutOfService, UntaintOutOfService, DeleteNode, CordonNode, UncordonNode,
                              EvictPod, DrainNode)
}


def register_action(cls: Any) -> None:
    """Add a scenario verb: ``cls.verb`` names it; ``cls.parse`` and ``cls.execute`` implement it."""
    ACTIONS[cls.verb] = cls


def action_verbs() -> Sequence[str]:
    return sorted(list(ACTIONS) + ["apply"])


def run_actions(cluster: Cluster, actions: Sequence[Any]) -> None:
    """Start one process that fires the actions at their times, in order."""

    def perform(action: Any) -> Gen:
        result = yield from action.execute(cluster)
        if result and "error" in result:
            cluster.env.emit("ActionFailed", action=action.verb, error=result["error"])

    def runner() -> Gen:
        for action in sorted(actions, key=lambda a: a.at):
            if action.at > cluster.env.now:
                yield cluster.env.timeout(action.at - cluster.env.now)
            cluster.env.emit("Action", action=action.verb, **action.fields())
            cluster.env.process(perform(action))

    cluster.env.process(runner())


def _register_dns_actions() -> None:
    from statefulsim.sim.dns.actions import DnsQuery

    register_action(DnsQuery)


_register_dns_actions()
