"""Verbs on a StatefulSet: ``scale``, ``patch``, ``setImage``, ``deleteStatefulSet``, and ``delete`` of
any other object."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Mapping, Self

from statefulsim.limits import INT32_MAX
from statefulsim.problems import Path, Problems, get_int
from statefulsim.sim.actions.common import _fail, _request
from statefulsim.sim.api.objects import (
    StatefulSet,
)
from statefulsim.sim.api.patch import PATCH_TYPES, check_patch
from statefulsim.sim.api.store import ApiError
from statefulsim.sim.cluster import Cluster
from statefulsim.sim.process import Gen
from statefulsim.sim.verb import Verb, arg, compact, namespace_field


def _get_patch(m: Mapping[str, Any], key: str, path: Path, problems: Problems, *, required: bool = True) -> Any:
    """The patch as written (a mapping, or a list for ``type: json``); its checks are
    :func:`statefulsim.sim.api.patch.check_patch`'s."""
    from statefulsim.sim.api.convert import to_plain

    if key not in m and required:
        problems.add(path + (key,), "required key is missing (a patch of the whole StatefulSet, as kubectl patch -p takes it)")
    return to_plain(m.get(key))


def statefulset_document(sts: StatefulSet) -> dict[str, Any]:
    """The StatefulSet as the JSON a PATCH applies to: apiVersion, kind, the metadata a scenario
    can write (name, namespace, labels, annotations) and the spec as written.  The status is not
    in it: a patch of the main resource leaves the status as it is."""
    from statefulsim.sim.api.convert import to_plain

    meta: dict[str, Any] = {"name": sts.metadata.name, "namespace": sts.metadata.namespace}
    if sts.metadata.labels:
        meta["labels"] = dict(sts.metadata.labels)
    if sts.metadata.annotations:
        meta["annotations"] = dict(sts.metadata.annotations)
    return {"apiVersion": sts.api_version, "kind": sts.kind, "metadata": meta, "spec": to_plain(sts.spec_raw)}


#: Remembered patch outcomes (see :func:`_patched_set`), bounded: cleared when full.
_PATCHED: dict[tuple[Any, ...], tuple[tuple[object, ...], _Outcome]] = {}
_PATCHED_LIMIT = 256
#: how many patch outcomes came from :data:`_PATCHED` (tests check the fast path ran)
patch_memo_hits = 0


@dataclass(frozen=True)
class _Patched:
    """What a patch that applies makes of the set: its new spec, the spec as written, and the
    metadata labels and annotations as the patched document has them."""

    spec: Any
    raw: Mapping[str, Any]
    labels: Mapping[str, str]
    annotations: Mapping[str, str]


#: None: the patch changes nothing; a str: the API server's refusal.
_Outcome = _Patched | str | None


def _patched_set(sts: StatefulSet, patch: Any, patch_type: str = "strategic") -> StatefulSet | str:
    """The set after ``kubectl patch --type patch_type -p patch`` (the same object when nothing
    changed), or the API server's refusal: a patch that cannot be applied, an unknown field
    (strict field validation), an invalid spec, or a change of an immutable field.

    The outcome depends only on the set's spec, spec as written, name, namespace, labels and
    annotations (immutable objects), the patch's content and type and the registered policy
    names, so it is remembered per process by those (a sweep applies the same patch to the same
    manifest in every run; parsing the patched template was 4 % of a quick-start run)."""
    global patch_memo_hits
    from statefulsim.sim.controllers.statefulset.policies import policy_names

    meta = sts.metadata
    held = (sts.spec, sts.spec_raw, meta.labels, meta.annotations)
    try:
        patch_text = json.dumps(patch, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        patch_text = None  # not plain JSON: not remembered
    key = (meta.name, meta.namespace, sts.api_version, sts.kind, patch_type, patch_text,
           tuple(policy_names()), *map(id, held))
    hit = _PATCHED.get(key) if patch_text is not None else None
    if hit is not None and all(a is b for a, b in zip(hit[0], held)):
        patch_memo_hits += 1
        outcome = hit[1]
    else:
        outcome = _patch_outcome(sts, patch, patch_type)
        if patch_text is not None:
            if len(_PATCHED) >= _PATCHED_LIMIT:
                _PATCHED.clear()
            _PATCHED[key] = (held, outcome)
    if outcome is None or isinstance(outcome, str):
        return sts if outcome is None else outcome
    metadata = meta
    if (outcome.labels, outcome.annotations) != (metadata.labels, metadata.annotations):
        metadata = replace(metadata, labels=outcome.labels, annotations=outcome.annotations)
    return replace(sts, metadata=metadata, spec=outcome.spec, spec_raw=outcome.raw)


def _patch_outcome(sts: StatefulSet, patch: Any, patch_type: str) -> _Outcome:
    """:func:`_patched_set`'s work, without the memo."""
    from statefulsim.sim.api.convert import parse_statefulset_spec
    from statefulsim.sim.api.convert.metadata import parse_metadata
    from statefulsim.sim.api.patch import PatchError, apply_patch
    from statefulsim.sim.api.schema import field_path, unknown_fields
    from statefulsim.sim.controllers.statefulset.policies import policy_names

    old = statefulset_document(sts)
    try:
        new = apply_patch(old, patch, patch_type)
    except PatchError as e:
        return str(e)
    new.pop("status", None)
    if new == old:
        return None
    known = set(unknown_fields(old, "StatefulSet"))
    unknown = [p for p in unknown_fields(new, "StatefulSet") if p not in known]
    if unknown:
        return "strict decoding error: " + ", ".join(f'unknown field "{field_path(p)}"' for p in unknown)
    if (new.get("apiVersion"), new.get("kind")) != (old["apiVersion"], old["kind"]):
        return f'StatefulSet.apps "{sts.name}" is invalid: a patch may not change apiVersion or kind'
    meta = new.get("metadata")
    if not isinstance(meta, Mapping):
        return f'StatefulSet.apps "{sts.name}" is invalid: metadata: Required value'
    if meta.get("name") != sts.name:
        return f"the name of the object ({meta.get('name')}) does not match the name on the URL ({sts.name})"
    if meta.get("namespace") != sts.metadata.namespace:
        return "the namespace of the provided object does not match the namespace sent on the request"
    other = sorted(set(meta) - {"name", "namespace", "labels", "annotations"})
    if other:
        return f"metadata.{other[0]}: statefulsim patches only a StatefulSet's labels and annotations"
    problems = Problems()
    parsed = parse_metadata(new, (), problems)
    raw = new["spec"] if isinstance(new.get("spec"), Mapping) else {}
    spec = parse_statefulset_spec(raw, sts.api_version, ("spec",), problems,
                                  metadata_labels=parsed.labels, known_policies=policy_names())
    if spec is None or problems.items:
        return "; ".join(str(p) for p in problems.items)
    for fixed in ("selector", "service_name", "pod_management_policy", "volume_claim_templates"):
        if getattr(spec, fixed) != getattr(sts.spec, fixed):
            return (f"StatefulSet.apps \"{sts.name}\" is invalid: spec: Forbidden: updates to statefulset spec for "
                    "fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
                    "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")
    return _Patched(spec, raw, parsed.labels, parsed.annotations)


def _update_set(cluster: Cluster, namespace: str, name: str, patch: Any, patch_type: str = "merge", *,
                no_change: str | None = None) -> Gen:
    """``kubectl scale/patch/set image``: a PATCH without a resourceVersion, applied to the set
    as the API server has it when the request arrives (so the controller's status writes in
    between cannot make it fail with a conflict).  ``no_change``: the note to return when the
    patch changed nothing (``{"note": ...}``)."""
    if cluster.store.get("StatefulSet", namespace, name) is None:
        return _fail(f'statefulsets.apps "{name}" not found')
    invalid: list[str] = []
    unchanged: list[bool] = []

    def apply(cur: Any) -> Any:
        new = _patched_set(cur, patch, patch_type)
        if isinstance(new, str):
            invalid.append(new)
            return cur
        unchanged.append(new is cur)
        return new

    try:
        yield from cluster.user.patch("StatefulSet", namespace, name, apply)
    except ApiError as e:
        return _fail(e.message if e.reason != "NotFound" else f'statefulsets.apps "{name}" not found')
    if invalid:
        return _fail(invalid[0])
    if no_change is not None and all(unchanged):
        return {"note": no_change}
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

    def check_against(self, sts: StatefulSet, path: Path, problems: Problems) -> StatefulSet | None:
        """The set after the scale (the replica limits are checked with the other sizes)."""
        result = _patched_set(sts, {"spec": {"replicas": self.replicas}}, "merge")
        return None if isinstance(result, str) else result

    def execute(self, cluster: Cluster) -> Gen:
        # kubectl scale: a merge patch of the scale subresource, {"spec": {"replicas": N}}
        return (yield from _update_set(cluster, self.namespace, self.statefulset, {"spec": {"replicas": self.replicas}}))


@dataclass(frozen=True)
class Patch(Verb):
    """``kubectl patch statefulset NAME --type TYPE -p PATCH``: ``patch`` is of the whole object
    (``{spec: {...}}``, ``{metadata: {labels: ...}}``); ``type`` is ``strategic`` (the default),
    ``merge`` (RFC 7386) or ``json`` (RFC 6902, a list of operations).  Unknown fields are
    refused when the scenario loads (strict field validation); a patch that changes nothing
    is recorded as ``ActionNote`` ``statefulset.apps/NAME patched (no change)``."""

    statefulset: str
    patch: Any = field(metadata=arg(_get_patch))
    patch_type: str = field(default="strategic", metadata=arg(key="type", choices=PATCH_TYPES, trace="if_set"))
    namespace: str = namespace_field()
    verb: ClassVar[str] = "patch"

    @classmethod
    def describe(cls, fields: Mapping[str, Any]) -> str:
        kind = f" ({fields['type']})" if fields.get("type") else ""
        return f"patch {fields.get('statefulset')}{kind}: {compact(fields.get('patch'))}"

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> Self:
        problems.unknown_keys(m, cls.allowed_keys(), path)
        # The patch is checked (and its problem reported) first.
        args = cls.read(m, path, problems, "patch_type", "patch")
        if "patch" in m:
            for sub, message in check_patch(args["patch"], args["patch_type"]):
                problems.add(path + ("patch",) + sub, message)
        return cls(at, **args, **cls.read(m, path, problems, "statefulset", "namespace"))

    def fields(self) -> dict[str, Any]:
        out = super().fields()
        out["patch"] = copy.deepcopy(self.patch)
        return out

    def replicas_set(self) -> tuple[Any, Path] | None:
        """The ``spec.replicas`` the patch writes and where (inside the action), if it writes one."""
        if isinstance(self.patch, Mapping):
            spec = self.patch.get("spec")
            if isinstance(spec, Mapping) and "replicas" in spec:
                return spec["replicas"], ("patch", "spec", "replicas")
            return None
        found = None
        for i, op in enumerate(self.patch if isinstance(self.patch, list) else []):
            if isinstance(op, Mapping) and op.get("op") in ("add", "replace") and op.get("path") == "/spec/replicas":
                found = op.get("value"), ("patch", i, "value")
        return found

    def check_against(self, sts: StatefulSet, path: Path, problems: Problems) -> StatefulSet | None:
        """Report now what applying the patch to ``sts`` (the set as the scenario's earlier
        actions leave it) would reject, when the patch itself was fine (its own problems are
        reported by ``parse``); the set after the patch, or None."""
        if check_patch(self.patch, self.patch_type):
            return None
        result = _patched_set(sts, self.patch, self.patch_type)
        if isinstance(result, str):
            problems.add(path + ("patch",), f"the patch would be rejected: {result}")
            return None
        return result

    def execute(self, cluster: Cluster) -> Gen:
        return (yield from _update_set(cluster, self.namespace, self.statefulset, self.patch, self.patch_type,
                                       no_change=f"statefulset.apps/{self.statefulset} patched (no change)"))


@dataclass(frozen=True)
class SetImage(Verb):
    """``kubectl set image statefulset/NAME CONTAINER=IMAGE``: a template change (new revision)."""

    statefulset: str
    container: str
    image: str
    namespace: str = namespace_field()
    verb: ClassVar[str] = "setImage"

    def template_patch(self, sts: StatefulSet) -> dict[str, Any] | str:
        """The strategic merge patch that sets the image (containers merge by name, so the
        container keeps everything else)."""
        spec = sts.spec_raw.get("template", {}).get("spec", {})
        for key in ("containers", "initContainers"):
            for c in spec.get(key) or []:
                if c.get("name") == self.container:
                    return {"spec": {"template": {"spec": {key: [{"name": self.container, "image": self.image}]}}}}
        names = [c.get("name") for k in ("containers", "initContainers") for c in spec.get(k) or []]
        return f'unable to find container named "{self.container}" (containers: {", ".join(map(str, names))})'

    def check_against(self, sts: StatefulSet, path: Path, problems: Problems) -> StatefulSet | None:
        """As :meth:`Patch.check_against`: the container must exist in ``sts``."""
        patch = self.template_patch(sts)
        if isinstance(patch, str):
            problems.add(path + ("container",), patch)
            return None
        result = _patched_set(sts, patch, "strategic")
        return None if isinstance(result, str) else result

    def execute(self, cluster: Cluster) -> Gen:
        sts = cluster.store.get("StatefulSet", self.namespace, self.statefulset)
        if sts is None:
            return _fail(f'statefulsets.apps "{self.statefulset}" not found')
        patch = self.template_patch(sts)
        if isinstance(patch, str):
            return _fail(patch)
        return (yield from _update_set(cluster, self.namespace, self.statefulset, patch, "strategic"))


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
