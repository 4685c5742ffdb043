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
from statefulsim.sim.api.objects import ApiObject, StatefulSet
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
    sts = cluster.store.get("StatefulSet", namespace, name)
    if sts is None:
        return _fail(f'statefulsets.apps "{name}" not found')
    new = _patched_set(sts, patch)
    if isinstance(new, str):
        return _fail(new)
    try:
        yield from cluster.user.update(new)
    except ApiError as e:
        return _fail(e.message)
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
                    new = replace(obj, metadata=replace(obj.metadata, uid=cur.metadata.uid,
                                                        resource_version=cur.metadata.resource_version))
                    yield from cluster.user.update(new)
            except ApiError as e:
                errors.append(e.message)
        return _fail("; ".join(errors)) if errors else {}


#: verb -> class with a ``parse(at, mapping, path, problems)`` classmethod (``apply`` is parsed by
#: the scenario loader because it carries manifests).
ACTIONS: dict[str, Any] = {
    cls.verb: cls for cls in (Scale, Patch, SetImage, DeletePod, BreakReadiness, RestoreReadiness, CrashContainer,
                              FailPod)
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
