"""Manifest conversion: pods (part of :mod:`statefulsim.sim.api.convert`)."""

from __future__ import annotations

from typing import Any, Mapping

from statefulsim.problems import Path, Problems, get_int, get_mapping, get_str
from statefulsim.sim.api.convert._helpers import (
    _POD_RESTART_POLICIES,
    _TAINT_EFFECTS,
    _TOLERATION_OPERATORS,
    _count,
    _mappings,
    _present,
    _str_list,
    _str_map,
)
from statefulsim.sim.api.convert.containers import _parse_container
from statefulsim.sim.api.convert.metadata import parse_label_selector, parse_metadata
from statefulsim.sim.api.objects import Pod, PodAffinityTerm, PodSpec, PodTemplate, Toleration, Volume


def _parse_anti_affinity(spec: Mapping[str, Any], path: Path, problems: Problems) -> tuple[PodAffinityTerm, ...]:
    """affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution.

    A term without ``labelSelector`` matches no pods, so it can never block scheduling: it is
    dropped.  ``preferredDuringScheduling...`` terms are ignored.
    """
    affinity = get_mapping(spec, "affinity", path, problems)
    apath = path + ("affinity",)
    anti = get_mapping(affinity, "podAntiAffinity", apath, problems)
    key = "requiredDuringSchedulingIgnoredDuringExecution"
    terms: list[PodAffinityTerm] = []
    for tpath, t in _mappings(anti, key, apath + ("podAntiAffinity",), problems):
        topology_key = get_str(t, "topologyKey", tpath, problems, required=True)
        if _present(t, "topologyKey") and isinstance(t["topologyKey"], str) and not topology_key:
            problems.add(tpath + ("topologyKey",), "must not be empty")
        namespaces = _str_list(t, "namespaces", tpath, problems)
        if not _present(t, "labelSelector"):
            continue
        sel = get_mapping(t, "labelSelector", tpath, problems)
        selector = parse_label_selector(sel, tpath + ("labelSelector",), problems)
        terms.append(PodAffinityTerm(selector, topology_key, namespaces))
    return tuple(terms)


def _parse_tolerations(spec: Mapping[str, Any], path: Path, problems: Problems) -> tuple[Toleration, ...]:
    """spec.tolerations, with the API server's ``ValidateTolerations`` rules."""
    out: list[Toleration] = []
    for tpath, t in _mappings(spec, "tolerations", path, problems):
        before = _count(problems)
        key = get_str(t, "key", tpath, problems)
        operator = get_str(t, "operator", tpath, problems, "Equal", choices=_TOLERATION_OPERATORS) or "Equal"
        value = get_str(t, "value", tpath, problems)
        effect = get_str(t, "effect", tpath, problems, choices=_TAINT_EFFECTS)
        seconds: float | None = None
        if _present(t, "tolerationSeconds"):
            seconds = float(get_int(t, "tolerationSeconds", tpath, problems, 0))
            if effect != "NoExecute":
                problems.add(tpath + ("effect",), "effect must be 'NoExecute' when `tolerationSeconds` is set")
        if not key and operator != "Exists":
            problems.add(tpath + ("operator",),
                         'operator must be Exists when `key` is empty, which means "match all values and all keys"')
        if operator == "Exists" and value:
            problems.add(tpath + ("operator",), "value must be empty when `operator` is 'Exists'")
        if _count(problems) == before:
            out.append(Toleration(key=key, operator=operator, value=value, effect=effect, toleration_seconds=seconds))
    return tuple(out)


def parse_pod_spec(spec: Mapping[str, Any], path: Path, problems: Problems) -> PodSpec:
    """A pod ``spec`` mapping at ``path``; always returns a (best-effort) PodSpec."""
    containers = tuple(
        _parse_container(c, cpath, problems, init=False)
        for cpath, c in _mappings(spec, "containers", path, problems, required=True)
    )
    if _present(spec, "containers") and isinstance(spec["containers"], list) and not spec["containers"]:
        problems.add(path + ("containers",), "must contain at least one container")
    init_containers = tuple(
        _parse_container(c, cpath, problems, init=True)
        for cpath, c in _mappings(spec, "initContainers", path, problems)
    )
    seen: set[str] = set()
    for key, group in (("initContainers", init_containers), ("containers", containers)):
        for i, c in enumerate(group):
            if c.name and c.name in seen:
                problems.add(path + (key, i, "name"), f"duplicate container name {c.name!r}")
            seen.add(c.name)
    grace = get_int(spec, "terminationGracePeriodSeconds", path, problems, 30, minimum=0)
    restart = get_str(spec, "restartPolicy", path, problems, "Always", choices=_POD_RESTART_POLICIES)
    volumes: list[Volume] = []
    volume_names: set[str] = set()
    for vpath, v in _mappings(spec, "volumes", path, problems):
        vname = get_str(v, "name", vpath, problems, required=True)
        if vname and vname in volume_names:
            problems.add(vpath + ("name",), f"duplicate volume name {vname!r}")
        volume_names.add(vname)
        claim: str | None = None
        if _present(v, "persistentVolumeClaim"):
            pvc = get_mapping(v, "persistentVolumeClaim", vpath, problems)
            if isinstance(v["persistentVolumeClaim"], Mapping):
                claim = get_str(pvc, "claimName", vpath + ("persistentVolumeClaim",), problems, required=True) or None
        volumes.append(Volume(vname, claim, empty_dir="emptyDir" in v))
    tolerations = _parse_tolerations(spec, path, problems)
    gates: list[str] = []
    for gpath, g in _mappings(spec, "readinessGates", path, problems):
        condition = get_str(g, "conditionType", gpath, problems, required=True)
        if condition:
            gates.append(condition)
    return PodSpec(
        containers=containers,
        init_containers=init_containers,
        termination_grace_period_seconds=float(grace),
        restart_policy=restart,
        hostname=get_str(spec, "hostname", path, problems),
        subdomain=get_str(spec, "subdomain", path, problems),
        node_name=get_str(spec, "nodeName", path, problems),
        node_selector=_str_map(spec, "nodeSelector", path, problems),
        required_anti_affinity=_parse_anti_affinity(spec, path, problems),
        volumes=tuple(volumes),
        readiness_gates=tuple(gates),
        tolerations=tolerations,
    )


def parse_pod_template(tmpl: Mapping[str, Any], path: Path, problems: Problems) -> PodTemplate:
    """A pod ``template`` mapping (metadata labels/annotations and spec) at ``path``."""
    meta = get_mapping(tmpl, "metadata", path, problems)
    labels = _str_map(meta, "labels", path + ("metadata",), problems)
    annotations = _str_map(meta, "annotations", path + ("metadata",), problems)
    spec = get_mapping(tmpl, "spec", path, problems, required=True)
    return PodTemplate(labels=labels, annotations=annotations, spec=parse_pod_spec(spec, path + ("spec",), problems))


def parse_pod(doc: Mapping[str, Any], path: Path, problems: Problems) -> Pod:
    """A bare ``Pod`` manifest (status is ignored: the simulation starts it from scratch)."""
    meta = parse_metadata(doc, path, problems)
    spec = get_mapping(doc, "spec", path, problems, required=True)
    return Pod(metadata=meta, spec=parse_pod_spec(spec, path + ("spec",), problems))
