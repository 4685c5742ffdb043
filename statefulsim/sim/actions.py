"""Scenario actions: what a user (or an operator) does to the cluster at a given time.

Each action is a frozen dataclass with a ``verb``, a ``parse`` classmethod that validates its
fields (a plain mapping, no I/O), a ``fields`` method that gives its ``Action`` record's fields
and an ``execute`` generator that acts through the user's API client.  Most verbs subclass
:class:`Verb`, which derives ``parse`` and ``fields`` from the dataclass fields (see :func:`arg`).
Later features add verbs with :func:`register_action`.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Mapping, Self, Sequence

import simpy

from statefulsim.limits import INT32_MAX
from statefulsim.problems import Path, Problems, get_bool, get_duration, get_int, get_str
from statefulsim.sim.api.eviction import evict
from statefulsim.sim.api.objects import (
    FAILED,
    NO_EXECUTE,
    SUCCEEDED,
    TAINT_OUT_OF_SERVICE,
    ApiObject,
    Node,
    Pod,
    StatefulSet,
    Taint,
    evolve,
)
from statefulsim.sim.api.store import ApiError
from statefulsim.sim.cluster import Cluster
from statefulsim.sim.dns.actions import DnsQuery
from statefulsim.sim.process import Gen
from statefulsim.sim.rollout_actions import RolloutRestart, RolloutUndo
from statefulsim.sim.triggers import Trigger, run_triggered

# The verb-declaring names, re-exported where users and plug-ins have always imported them from.
from statefulsim.sim.verb import Action as Action
from statefulsim.sim.verb import Arg as Arg
from statefulsim.sim.verb import Verb as Verb
from statefulsim.sim.verb import arg as arg
from statefulsim.sim.verb import compact as compact
from statefulsim.sim.verb import namespace_field as namespace_field
from statefulsim.sim.verb import seconds_text as seconds_text


def _get_grace_seconds(m: Mapping[str, Any], key: str, path: Path, problems: Problems,
                      default: float | None = None) -> float | None:
    """A grace period as in the API: a whole number of seconds >= 0 (as a float), or ``default``."""
    if m.get(key) is None:
        return default
    return float(get_int(m, key, path, problems, 0, minimum=0))


def _get_str_or_none(m: Mapping[str, Any], key: str, path: Path, problems: Problems,
                     default: str | None = None) -> str | None:
    return get_str(m, key, path, problems) or default


def _get_merge_patch(m: Mapping[str, Any], key: str, path: Path, problems: Problems, *,
                     required: bool = True) -> dict[str, Any]:
    """Always required: a missing patch is reported as not being a mapping."""
    patch = m.get(key)
    if not isinstance(patch, Mapping):
        problems.expected(path + (key,), "a mapping (a merge patch of the StatefulSet's spec)", patch)
        return {}
    return dict(patch)


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


def _request(call: Gen) -> Gen:
    """An action's one API request: ``{}``, or the API error as the action's failure."""
    try:
        yield from call
    except ApiError as e:
        return _fail(e.message)
    return {}


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
class Scale(Verb):
    statefulset: str
    replicas: int = field(metadata=arg(get_int, minimum=0, maximum=INT32_MAX))
    namespace: str = namespace_field()
    verb: ClassVar[str] = "scale"

    @classmethod
    def describe(cls, fields: Mapping[str, Any]) -> str:
        return f"scale {fields.get('statefulset')} to {fields.get('replicas')}"

    def execute(self, cluster: Cluster) -> Gen:
        return (yield from _update_set(cluster, self.namespace, self.statefulset, {"replicas": self.replicas}))


@dataclass(frozen=True)
class Patch(Verb):
    statefulset: str
    patch: Mapping[str, Any] = field(metadata=arg(_get_merge_patch))
    namespace: str = namespace_field()
    verb: ClassVar[str] = "patch"

    @classmethod
    def describe(cls, fields: Mapping[str, Any]) -> str:
        return f"patch {fields.get('statefulset')}: {compact(fields.get('patch'))}"

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> Self:
        problems.unknown_keys(m, cls.allowed_keys(), path)
        # The patch is checked (and its problem reported) first.
        return cls(at, **cls.read(m, path, problems, "patch", "statefulset", "namespace"))

    def check_against(self, sts: StatefulSet, path: Path, problems: Problems) -> None:
        """Report now what applying the patch to the manifest's StatefulSet would reject."""
        result = _patched_set(sts, self.patch)
        if isinstance(result, str):
            problems.add(path + ("patch",), f"the patch would be rejected: {result}")

    def execute(self, cluster: Cluster) -> Gen:
        return (yield from _update_set(cluster, self.namespace, self.statefulset, self.patch))


@dataclass(frozen=True)
class SetImage(Verb):
    """``kubectl set image statefulset/NAME CONTAINER=IMAGE``: a template change (new revision)."""

    statefulset: str
    container: str
    image: str
    namespace: str = namespace_field()
    verb: ClassVar[str] = "setImage"

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
class DeleteObject(Verb):
    """``kubectl delete KIND NAME`` for any other object (a claim, a Service, a budget, ...)."""

    kind: str
    name: str
    namespace: str = namespace_field()
    verb: ClassVar[str] = "delete"

    @classmethod
    def touches(cls, fields: Mapping[str, Any]) -> tuple[str, ...]:
        return (f"{fields.get('kind')}/{fields.get('name')}",)

    def execute(self, cluster: Cluster) -> Gen:
        return (yield from _request(cluster.user.delete(self.kind, self.namespace, self.name)))


@dataclass(frozen=True)
class DeleteStatefulSet(Verb):
    """``kubectl delete statefulset NAME --cascade=background|foreground|orphan``."""

    statefulset: str
    cascade: str = field(default="background", metadata=arg(choices=("background", "foreground", "orphan")))
    namespace: str = namespace_field()
    verb: ClassVar[str] = "deleteStatefulSet"

    def execute(self, cluster: Cluster) -> Gen:
        return (yield from _request(cluster.user.delete("StatefulSet", self.namespace, self.statefulset,
                                                        propagation=self.cascade.capitalize())))


@dataclass(frozen=True)
class DeletePod(Verb):
    pod: str
    grace_period_seconds: float | None = field(default=None, metadata=arg(_get_grace_seconds, trace="if_set"))
    force: bool = field(default=False, metadata=arg(get_bool, trace="if_set"))
    namespace: str = namespace_field()
    verb: ClassVar[str] = "deletePod"

    @classmethod
    def describe(cls, fields: Mapping[str, Any]) -> str:
        extra = []
        if fields.get("gracePeriodSeconds") is not None:
            extra.append(f"grace period {seconds_text(fields.get('gracePeriodSeconds'))}")
        if fields.get("force"):
            extra.append("force")
        return f"delete pod {fields.get('pod')}" + (f" ({', '.join(extra)})" if extra else "")

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> Self:
        problems.unknown_keys(m, cls.allowed_keys(), path)
        args = cls.read(m, path, problems, "grace_period_seconds", "force")
        if args["force"]:
            if args["grace_period_seconds"] not in (None, 0):
                problems.add(path + ("force",), "force deletion needs gracePeriodSeconds 0 (or none)")
            args["grace_period_seconds"] = 0.0
        return cls(at, **args, **cls.read(m, path, problems, "pod", "namespace"))

    def execute(self, cluster: Cluster) -> Gen:
        return (yield from _request(cluster.user.delete("Pod", self.namespace, self.pod,
                                                        grace_period_seconds=self.grace_period_seconds)))


def _worker_or_error(cluster: Cluster, pod: str, namespace: str) -> Any:
    w = cluster.pod_worker(pod, namespace)
    if w is None:
        return None, _fail(f'pod "{pod}" is not running on any node')
    return w, {}


@dataclass(frozen=True)
class _ProbeAction(Verb):
    """Break or restore what the app answers to one kind of probe, in every container of the pod
    that has such a probe, or in the one named."""

    pod: str
    container: str | None = field(default=None, metadata=arg(_get_str_or_none, trace="if_set"))
    namespace: str = namespace_field()
    probe: ClassVar[str] = "readiness"
    broken: ClassVar[bool] = True

    @classmethod
    def describe(cls, fields: Mapping[str, Any]) -> str:
        pod = fields.get("pod")
        of = f"container {fields.get('container')} of {pod}" if fields.get("container") else pod
        return (f"{'break' if cls.broken else 'restore'} the {cls.probe} probe of {of}"
                + (" (persists across restarts)" if fields.get("persist") else ""))

    def persists(self) -> bool:
        return False

    def execute(self, cluster: Cluster) -> Gen:
        w, result = _worker_or_error(cluster, self.pod, self.namespace)
        if w is not None:
            targets = w.probed(self.probe, self.container)
            if not targets:
                which = f'container "{self.container}" of pod' if self.container else "pod"
                return _fail(f'{which} "{self.pod}" has no {self.probe} probe to {"break" if self.broken else "restore"}')
            for c in targets:
                c.set_broken(self.probe, self.broken, self.persists())
        return result
        yield  # pragma: no cover


@dataclass(frozen=True)
class BreakReadiness(_ProbeAction):
    """The readiness probes start failing (the e2e suite moves ``index.html`` away).  The break
    is gone when the container restarts, unless ``persist`` (a dependency outside it)."""

    persist: bool = field(default=False, metadata=arg(get_bool, trace="if_set"))
    verb: ClassVar[str] = "breakReadiness"

    def persists(self) -> bool:
        return self.persist


@dataclass(frozen=True)
class RestoreReadiness(_ProbeAction):
    verb: ClassVar[str] = "restoreReadiness"
    broken: ClassVar[bool] = False


@dataclass(frozen=True)
class BreakLiveness(BreakReadiness):
    """The liveness probes start failing: past ``failureThreshold`` the kubelet kills the
    container and restarts it (CrashLoopBackOff), which clears the break unless ``persist``."""

    verb: ClassVar[str] = "breakLiveness"
    probe: ClassVar[str] = "liveness"


@dataclass(frozen=True)
class RestoreLiveness(RestoreReadiness):
    verb: ClassVar[str] = "restoreLiveness"
    probe: ClassVar[str] = "liveness"


@dataclass(frozen=True)
class CrashContainer(Verb):
    pod: str
    container: str | None = field(default=None, metadata=arg(_get_str_or_none))  # None: the first container
    exit_code: int = field(default=1, metadata=arg(get_int, trace="never"))
    namespace: str = namespace_field()
    verb: ClassVar[str] = "crashContainer"

    @classmethod
    def describe(cls, fields: Mapping[str, Any]) -> str:
        container = fields.get("container")
        return f"crash {'container ' + str(container) if container else 'the first container'} of {fields.get('pod')}"

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> Self:
        problems.unknown_keys(m, cls.allowed_keys(), path)
        # The container is checked (and its problem reported) first.
        return cls(at, **cls.read(m, path, problems, "container", "pod", "exit_code", "namespace"))

    def execute(self, cluster: Cluster) -> Gen:
        w, result = _worker_or_error(cluster, self.pod, self.namespace)
        if w is not None:
            name = self.container or w.containers[0].name
            if not w.crash(name, self.exit_code):
                return _fail(f'container "{name}" of pod "{self.pod}" is not running')
        return result
        yield  # pragma: no cover


@dataclass(frozen=True)
class FailPod(Verb):
    """The kubelet ends a pod in phase Failed (node-pressure eviction, admission rejection)."""

    pod: str
    reason: str = "Evicted"
    namespace: str = namespace_field()
    verb: ClassVar[str] = "failPod"

    @classmethod
    def describe(cls, fields: Mapping[str, Any]) -> str:
        return f"fail pod {fields.get('pod')} ({fields.get('reason')})"

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

    @classmethod
    def describe(cls, fields: Mapping[str, Any]) -> str:
        objs = fields.get("objects")
        return "apply " + (", ".join(map(str, objs)) if isinstance(objs, list) else str(objs))

    @classmethod
    def touches(cls, fields: Mapping[str, Any]) -> tuple[str, ...]:
        """The applied objects, ``kind/name``."""
        return tuple(str(o) for o in fields.get("objects") or ())

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
class _NodeAction(Verb):
    node: str


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
    return (yield from _request(cluster.user.patch("Node", "", name, mutate)))


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
        return (yield from _request(cluster.user.delete("Node", "", self.node)))


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


@dataclass(frozen=True)
class EvictPod(Verb):
    """One request to the eviction API (``POST pods/NAME/eviction``).  A refusal because of a
    PodDisruptionBudget is recorded as ``EvictionBlocked``; the action does not retry."""

    pod: str
    grace_period_seconds: float | None = field(default=None, metadata=arg(_get_grace_seconds, trace="if_set"))
    namespace: str = namespace_field()
    verb: ClassVar[str] = "evictPod"

    def execute(self, cluster: Cluster) -> Gen:
        store = cluster.store
        return (yield from _request(cluster.user.call(lambda: evict(store, self.namespace, self.pod,
                                                                    self.grace_period_seconds))))


#: kubectl drain: a refused eviction (HTTP 429) is retried after this many seconds.
DRAIN_EVICTION_RETRY = 5.0
#: kubectl drain: how often it checks that an evicted pod is gone.
DRAIN_POLL_INTERVAL = 1.0


def _get_timeout(m: Mapping[str, Any], key: str, path: Path, problems: Problems,
                 default: float | None = None) -> float | None:
    """kubectl drain's ``--timeout``: a duration; 0 (the default) waits forever (None)."""
    seconds = get_duration(m, key, path, problems, 0.0)
    return None if seconds == 0 or math.isinf(seconds) else seconds


#: kubectl drain's pod filters, in its order (``makeFilters``): the error of each, by filter.
DRAIN_FILTER_ERRORS = {
    "daemonset": "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)",
    "local-storage": "Pods with local storage (use --delete-emptydir-data to override)",
    "unreplicated": "Pods that declare no controller (use --force to override)",
}
#: What wait.PollUntilContextTimeout returns when its deadline passes (``ErrWaitTimeout``).
WAIT_TIMEOUT = "timed out waiting for the condition"


@dataclass(frozen=True)
class DrainNode(Verb):
    """``kubectl drain NODE``: cordon, filter the node's pods as kubectl does (DaemonSet pods are
    an error unless ``ignoreDaemonsets``, then skipped; pods with an emptyDir an error unless
    ``deleteEmptydirData``; pods without a controller an error unless ``force``), then evict
    every pod **concurrently** (one goroutine per pod in ``drain.go``), retrying an eviction
    refused with 429 every 5 s, and wait (polling every 1 s) until each pod is gone.  With
    ``disableEviction`` the pods are deleted instead, one request after the other, bypassing
    PodDisruptionBudgets, and waited for together.  ``gracePeriod`` goes into the eviction's or
    delete's options.  ``timeout`` (0: none) is kubectl's global deadline: the drain gives up,
    records ``DrainTimedOut`` and fails with kubectl's errors."""

    node: str
    grace_period_seconds: float | None = field(default=None, metadata=arg(_get_grace_seconds, trace="if_set"))
    force: bool = field(default=False, metadata=arg(get_bool, trace="if_set"))
    timeout: float | None = field(default=None, metadata=arg(_get_timeout, trace="if_set"))
    disable_eviction: bool = field(default=False, metadata=arg(get_bool, trace="if_set"))
    delete_emptydir_data: bool = field(default=False, metadata=arg(get_bool, trace="if_set"))
    ignore_daemonsets: bool = field(default=False, metadata=arg(get_bool, trace="if_set"))
    verb: ClassVar[str] = "drainNode"

    @classmethod
    def allowed_keys(cls) -> tuple[str, ...]:
        return super().allowed_keys() + ("gracePeriod",)

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> Self:
        """``gracePeriod`` (kubectl's ``--grace-period``, whole seconds or a duration such as
        ``30s``) is another name for ``gracePeriodSeconds``."""
        problems.unknown_keys(m, cls.allowed_keys(), path)
        args = cls.read(m, path, problems)
        if m.get("gracePeriod") is not None:
            if m.get("gracePeriodSeconds") is not None:
                problems.add(path, "give gracePeriod or gracePeriodSeconds, not both")
            grace = get_duration(m, "gracePeriod", path, problems, 0.0)
            if math.isinf(grace) or not grace.is_integer():
                problems.add(path + ("gracePeriod",), f"expected whole seconds (the API takes an integer), "
                                                      f"found {m['gracePeriod']!r}")
            args["grace_period_seconds"] = grace
        return cls(at, **args)

    def _filtered(self, pods: list[Pod]) -> tuple[list[Pod], str | None]:
        """kubectl's ``GetPodsForDeletion``: the pods to evict, or the aggregated filter errors."""
        keep: list[Pod] = []
        failed: dict[str, list[str]] = {}
        for p in pods:
            ref = p.metadata.controller_ref()
            done = p.status.phase in (FAILED, SUCCEEDED)
            if ref is not None and ref.kind == "DaemonSet":
                if not self.ignore_daemonsets:
                    failed.setdefault("daemonset", []).append(f"{p.metadata.namespace}/{p.metadata.name}")
                continue  # ignored, with a warning
            if not done and any(v.empty_dir for v in p.spec.volumes) and not self.delete_emptydir_data:
                failed.setdefault("local-storage", []).append(f"{p.metadata.namespace}/{p.metadata.name}")
                continue
            if not done and ref is None and not self.force:
                failed.setdefault("unreplicated", []).append(f"{p.metadata.namespace}/{p.metadata.name}")
                continue
            keep.append(p)
        errors = [f"cannot delete {DRAIN_FILTER_ERRORS[k]}: {', '.join(names)}"
                  for k in DRAIN_FILTER_ERRORS if (names := failed.get(k))]
        return keep, (errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]") if errors else None

    def execute(self, cluster: Cluster) -> Gen:
        env = cluster.env
        result = yield from _patch_node(cluster, self.node, lambda n: n if n.spec.unschedulable
                                        else evolve(n, spec=evolve(n.spec, unschedulable=True)))
        if result:
            return result
        listed = yield from cluster.user.list("Pod")
        pods, refused = self._filtered(sorted((p for p in listed if p.spec.node_name == self.node),
                                              key=lambda p: (p.metadata.namespace, p.metadata.name)))
        if refused:
            return _fail(refused)
        deadline = None if self.timeout is None else env.now + self.timeout
        if self.disable_eviction:
            errors = yield from self._delete_and_wait(cluster, pods)
        else:
            procs = [env.process(self._evict_and_wait(cluster, p, deadline)) for p in pods]
            if procs:
                yield simpy.AllOf(env.sim, procs)
            errors = [p.value for p in procs if p.value]
        if errors:
            if deadline is not None and env.now >= deadline:
                pending = yield from self._pending(cluster, pods)
                env.emit("DrainTimedOut", node=self.node, timeout=self.timeout, pending=pending)
            return _fail("; ".join(errors))
        env.emit("NodeDrained", node=self.node, pods=len(pods))
        return {}

    def _pending(self, cluster: Cluster, pods: list[Pod]) -> Gen:
        """kubectl's second ``GetPodsForDeletion`` after a failure: the names of the pods it was
        draining that are still on the node (``There are pending pods in node ...``)."""
        listed = yield from cluster.user.list("Pod")
        uids = {p.metadata.uid for p in pods}
        return sorted(p.metadata.name for p in listed if p.spec.node_name == self.node and p.metadata.uid in uids)

    def _evict_and_wait(self, cluster: Cluster, pod: Pod, deadline: float | None) -> Gen:
        env, store = cluster.env, cluster.store
        ns, name = pod.metadata.namespace, pod.metadata.name
        while True:
            if deadline is not None and env.now >= deadline:
                return f'error when evicting pods/"{name}" -n "{ns}": global timeout reached: {seconds_text(self.timeout)}'
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
        if not (yield from self._wait_for_delete(cluster, [pod], deadline)):
            return f'error when waiting for pod "{name}" in namespace "{ns}" to terminate: {WAIT_TIMEOUT}'
        return None

    def _delete_and_wait(self, cluster: Cluster, pods: list[Pod]) -> Gen:
        """``--disable-eviction``: DELETE each pod in turn, then wait for all of them together for at
        most ``timeout`` from then (kubectl's ``deletePods``)."""
        for p in pods:
            try:
                yield from cluster.user.delete("Pod", p.metadata.namespace, p.metadata.name,
                                               grace_period_seconds=self.grace_period_seconds)
            except ApiError as e:
                if e.reason != "NotFound":
                    return [e.message]
        deadline = None if self.timeout is None else cluster.env.now + self.timeout
        if not (yield from self._wait_for_delete(cluster, pods, deadline)):
            return [WAIT_TIMEOUT]
        return []

    def _wait_for_delete(self, cluster: Cluster, pods: list[Pod], deadline: float | None) -> Gen:
        """``waitForDelete``: a GET of each pending pod at once and then every second until each
        is gone (or has another UID); False when ``deadline`` passes first."""
        env, store = cluster.env, cluster.store
        pending = list(pods)
        while True:
            left = []
            for pod in pending:
                ns, name = pod.metadata.namespace, pod.metadata.name
                cur = yield from cluster.user.call(lambda: store.get("Pod", ns, name))
                if cur is not None and cur.metadata.uid == pod.metadata.uid:
                    left.append(pod)
            pending = left
            if not pending:
                return True
            if deadline is not None and env.now + DRAIN_POLL_INTERVAL >= deadline:
                yield env.timeout(deadline - env.now)
                return False
            yield env.timeout(DRAIN_POLL_INTERVAL)


#: verb -> class with a ``parse(at, mapping, path, problems)`` classmethod (``apply`` is parsed by
#: the scenario loader because it carries manifests).
ACTIONS: dict[str, Any] = {
    cls.verb: cls for cls in (Scale, Patch, SetImage, DeleteStatefulSet, DeleteObject, DeletePod, BreakReadiness, RestoreReadiness, BreakLiveness,
                              RestoreLiveness, CrashContainer,
                              FailPod, FailNode, RecoverNode, TaintOutOfService, UntaintOutOfService, DeleteNode, CordonNode, UncordonNode,
                              EvictPod, DrainNode, DnsQuery, RolloutUndo, RolloutRestart)
}


def register_action(cls: Any) -> None:
    """Add a scenario verb: ``cls.verb`` names it; ``cls.parse``, ``cls.fields`` and ``cls.execute``
    implement it (a subclass of :class:`Verb` has ``parse`` and ``fields`` from its dataclass fields)."""
    ACTIONS[cls.verb] = cls


def action_verbs() -> Sequence[str]:
    return sorted(list(ACTIONS) + ["apply"])


def action_class(verb: str) -> Any:
    """The class registered for ``verb``, None for a verb not registered here (a trace from
    another version or plug-in set)."""
    return Apply if verb == "apply" else ACTIONS.get(verb)


def describe_action(fields: Mapping[str, Any]) -> str:
    """What an ``Action`` record's verb did, in words (``scale web to 3``): its class's
    ``describe``; without one, the verb and the record's fields.  A ``when:`` action's condition
    follows in parentheses (``scale web to 3 (when {rolloutComplete: {statefulset: web}})``)."""
    when = {k: fields[k] for k in ("when", "after") if k in fields}
    fields = {k: v for k, v in fields.items() if k not in when}
    describe = getattr(action_class(str(fields.get("action"))), "describe", None)
    if describe is None:  # unregistered, or a class that implements only parse/fields/execute
        rest = {k: v for k, v in fields.items() if k != "action"}
        text = f"{fields.get('action')} {compact(rest)}".rstrip()
    else:
        text = str(describe(fields))
    if "when" in when:
        after = f", {seconds_text(when['after'])} after" if "after" in when else ""
        text += f" (when {compact(when['when'])}{after})"
    return text


def action_touches(fields: Mapping[str, Any]) -> tuple[str, ...]:
    """The objects an ``Action`` record's verb acts on: its class's ``touches`` (without one,
    :meth:`Verb.touches`)."""
    touches = getattr(action_class(str(fields.get("action"))), "touches", Verb.touches)
    return tuple(touches(fields))


def perform_action(cluster: Cluster, action: Any) -> Gen:
    """Execute one action (a SimPy process body); a refusal becomes an ``ActionFailed`` record."""
    result = yield from action.execute(cluster)
    if result and "error" in result:
        cluster.env.emit("ActionFailed", action=action.verb, error=result["error"])


def run_actions(cluster: Cluster, actions: Sequence[Any], triggers: Mapping[int, Trigger] | None = None) -> None:
    """Start one process that fires the ``at:`` actions at their times, in order, and one per
    ``when:`` action (``triggers``, by index in ``actions``; see :mod:`statefulsim.sim.triggers`)."""
    triggers = triggers or {}
    timed = [(i, a) for i, a in enumerate(actions) if i not in triggers]
    started = {i - 1: cluster.env.event() for i in triggers if i > 0 and i - 1 not in triggers}

    def runner() -> Gen:
        for i, action in sorted(timed, key=lambda ia: ia[1].at):
            if action.at > cluster.env.now:
                yield cluster.env.timeout(action.at - cluster.env.now)
            cluster.env.emit("Action", action=action.verb, **action.fields())
            proc = cluster.env.process(perform_action(cluster, action))
            if i in started:
                started[i].succeed(proc)

    cluster.env.process(runner())
    if triggers:
        run_triggered(cluster, actions, triggers, started, perform_action)
