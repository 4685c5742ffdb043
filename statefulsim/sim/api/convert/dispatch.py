"""Manifest conversion: dispatch (part of :mod:`statefulsim.sim.api.convert`)."""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from statefulsim.problems import Path, Problems, get_str, suggest
from statefulsim.sim.api.convert._helpers import (
    _CORE_KINDS,
    REMOVED_STATEFULSET_API_VERSIONS,
    STATEFULSET_API_VERSIONS,
    _count,
    _present,
    to_plain,
)
from statefulsim.sim.api.convert.metadata import parse_metadata
from statefulsim.sim.api.convert.pods import parse_pod
from statefulsim.sim.api.convert.policy import parse_pod_disruption_budget
from statefulsim.sim.api.convert.services import parse_node, parse_service
from statefulsim.sim.api.convert.statefulsets import parse_statefulset
from statefulsim.sim.api.convert_storage import STORAGE_KINDS, parse_storage_object
from statefulsim.sim.api.objects import (
    ORDERED_READY,
    PARALLEL,
    ApiObject,
    GenericObject,
    StatefulSet,
)


def _dig(m: Any, *keys: str) -> Any:
    """m[k1][k2]... or None when any level is missing or not a mapping."""
    for key in keys:
        if not isinstance(m, Mapping):
            return None
        m = m.get(key)
    return m


_UNSIMULATED_POD_FIELDS: tuple[tuple[str, ...], ...] = (
    ("topologySpreadConstraints",),
    ("affinity", "nodeAffinity"),
    ("affinity", "podAffinity"),
    ("priorityClassName",),
)


def warn_unsimulated(doc: Mapping[str, Any], path: Path, problems: Problems) -> None:
    """Warn about set fields that matter in a real cluster but are not simulated yet."""
    kind = doc.get("kind")
    if kind == "StatefulSet":
        pod_path: tuple[str, ...] = ("spec", "template", "spec")
    elif kind == "Pod":
        pod_path = ("spec",)
    else:
        return
    pod_spec = _dig(doc, *pod_path)
    if not isinstance(pod_spec, Mapping):
        return
    for field_path in _UNSIMULATED_POD_FIELDS:
        value = _dig(pod_spec, *field_path)
        if value is None or value == [] or value == {} or value == "":
            continue
        problems.warn(path + pod_path + field_path, "is not simulated yet and is ignored")


_PLAIN_SCALAR = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")
_YAML_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n"})


def _flow_scalar(value: str) -> str:
    """``value`` as a YAML flow scalar: bare when that reads back as the same string."""
    if _PLAIN_SCALAR.fullmatch(value) and value.lower() not in _YAML_WORDS:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def removed_api_warning(sts: StatefulSet, spec: Mapping[str, Any], kubernetes_version: str) -> str:
    """What to say about a StatefulSet written for an API version no simulated release serves:
    what the API server answers, and the change to ``apps/v1`` (the selector, and for
    ``apps/v1beta1`` the OnDelete strategy, when the old defaults supplied them)."""
    old = sts.api_version
    adds = []
    if not _present(spec, "selector"):
        labels = ", ".join(f"{_flow_scalar(k)}: {_flow_scalar(v)}" for k, v in sts.spec.selector.match_labels.items())
        adds.append(f"spec.selector: {{matchLabels: {{{labels}}}}} ({old} defaulted it from the template labels)")
    strategy = spec.get("updateStrategy")
    if old == "apps/v1beta1" and not (isinstance(strategy, Mapping) and _present(strategy, "type")):
        adds.append("spec.updateStrategy: {type: OnDelete} (apps/v1beta1's default; apps/v1's is RollingUpdate)")
    change = "apiVersion: apps/v1" + (", and add " + " and ".join(adds) if adds else "")
    return (f"Kubernetes {kubernetes_version} does not serve {old} (removed in 1.16); its API server answers: "
            f'no matches for kind "StatefulSet" in version "{old}". Loaded with the {old} defaults; '
            f"for a real cluster write {change}")


def object_from_manifest(
    doc: Mapping[str, Any],
    path: tuple[str | int, ...],
    problems: Problems,
    *,
    known_policies: Sequence[str] = (ORDERED_READY, PARALLEL),
    kubernetes_version: str | None = None,
) -> ApiObject | None:
    """The API object for one manifest document, dispatched on ``apiVersion`` and ``kind``.

    StatefulSet (apps/v1, v1beta1, v1beta2), Service, Node and Pod (v1) and PodDisruptionBudget
    (policy/v1) are modelled; any other
    kind becomes a :class:`GenericObject` for the caller to judge.  Returns None after
    recording problems.  Given the simulated ``kubernetes_version``, a StatefulSet in a removed
    API version gets a warning on its ``apiVersion`` (:func:`removed_api_warning`).
    """
    if not isinstance(doc, Mapping):
        problems.expected(path, "a mapping (a Kubernetes object)", doc)
        return None
    before = _count(problems)
    kind = get_str(doc, "kind", path, problems, required=True)
    api_version = get_str(doc, "apiVersion", path, problems, required=True)
    if _count(problems) != before:
        parse_metadata(doc, path, problems)  # report metadata problems in the same pass
        return None

    result: ApiObject | None
    if kind == "StatefulSet":
        if api_version not in STATEFULSET_API_VERSIONS:
            problems.add(
                path + ("apiVersion",),
                f"expected one of {', '.join(STATEFULSET_API_VERSIONS)} for a StatefulSet, "
                f"found {api_version!r}{suggest(api_version, STATEFULSET_API_VERSIONS)}",
            )
            parse_metadata(doc, path, problems)
            return None
        warn_unsimulated(doc, path, problems)
        result = parse_statefulset(doc, api_version, path, problems, known_policies=known_policies)
        if result is not None and kubernetes_version is not None and api_version in REMOVED_STATEFULSET_API_VERSIONS:
            problems.warn(path + ("apiVersion",), removed_api_warning(result, doc["spec"], kubernetes_version))
    elif kind in _CORE_KINDS:
        if api_version != _CORE_KINDS[kind]:
            problems.add(path + ("apiVersion",), f"expected 'v1' for a {kind}, found {api_version!r}")
            parse_metadata(doc, path, problems)
            return None
        if kind == "Service":
            result = parse_service(doc, path, problems)
        elif kind == "Node":
            result = parse_node(doc, path, problems)
        else:
            warn_unsimulated(doc, path, problems)
            result = parse_pod(doc, path, problems)
    elif kind == "PodDisruptionBudget":
        if api_version != "policy/v1":
            served = " (policy/v1beta1 is not served since Kubernetes 1.25)" if api_version == "policy/v1beta1" else ""
            problems.add(path + ("apiVersion",), f"expected 'policy/v1' for a PodDisruptionBudget, found {api_version!r}{served}")
            parse_metadata(doc, path, problems)
            return None
        result = parse_pod_disruption_budget(doc, path, problems)
    elif kind in STORAGE_KINDS:
        if api_version != STORAGE_KINDS[kind]:
            problems.add(path + ("apiVersion",), f"expected {STORAGE_KINDS[kind]!r} for a {kind}, found {api_version!r}")
            parse_metadata(doc, path, problems)
            return None
        result = parse_storage_object(kind, doc, parse_metadata(doc, path, problems), path, problems)
    else:
        result = GenericObject(
            metadata=parse_metadata(doc, path, problems), kind=kind, api_version=api_version, raw=to_plain(doc)
        )
    return result if _count(problems) == before else None
