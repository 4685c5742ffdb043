"""Manifests of storage kinds → :mod:`statefulsim.sim.api.storage` objects (StorageClass,
PersistentVolume, PersistentVolumeClaim), with the API server's checks on the fields we read."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from statefulsim.problems import Path, Problems, get_list, get_mapping, get_str
from statefulsim.sim.api.objects import ObjectMeta
from statefulsim.sim.api.storage import (
    BETA_CLASS_ANNOTATION,
    IMMEDIATE,
    WAIT_FOR_FIRST_CONSUMER,
    ClaimRef,
    PersistentVolume,
    PersistentVolumeClaim,
    StorageClass,
)

STORAGE_KINDS = {"StorageClass": "storage.k8s.io/v1", "PersistentVolume": "v1", "PersistentVolumeClaim": "v1"}
_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")


def _bytes(value: Any, path: Path, problems: Problems) -> int:
    from statefulsim.sim.api.convert.quantities import parse_quantity_memory

    try:
        return parse_quantity_memory(value)
    except ValueError as e:
        problems.add(path, str(e))
        return 0


def _modes(m: Mapping[str, Any], path: Path, problems: Problems) -> tuple[str, ...]:
    modes = []
    for i, mode in enumerate(get_list(m, "accessModes", path, problems)):
        if mode not in _MODES:
            problems.add(path + ("accessModes", i), f"expected one of {', '.join(_MODES)}, found {mode!r}")
        else:
            modes.append(str(mode))
    return tuple(modes) or ("ReadWriteOnce",)


def parse_storage_class(doc: Mapping[str, Any], meta: ObjectMeta, path: Path, problems: Problems) -> StorageClass:
    provisioner = get_str(doc, "provisioner", path, problems, required=True)
    mode = get_str(doc, "volumeBindingMode", path, problems, IMMEDIATE, choices=(IMMEDIATE, WAIT_FOR_FIRST_CONSUMER))
    reclaim = get_str(doc, "reclaimPolicy", path, problems, "Delete", choices=("Delete", "Retain"))
    return StorageClass(metadata=replace(meta, namespace=""), provisioner=provisioner, volume_binding_mode=mode,
                        reclaim_policy=reclaim)


def parse_claim(doc: Mapping[str, Any], meta: ObjectMeta, path: Path, problems: Problems) -> PersistentVolumeClaim:
    spec = get_mapping(doc, "spec", path, problems, required=True)
    spath = path + ("spec",)
    klass: str | None = get_str(spec, "storageClassName", spath, problems) if "storageClassName" in spec else None
    if BETA_CLASS_ANNOTATION in meta.annotations:
        klass = meta.annotations[BETA_CLASS_ANNOTATION]
    requests = get_mapping(get_mapping(spec, "resources", spath, problems), "requests", spath + ("resources",), problems)
    size = _bytes(requests.get("storage", 0), spath + ("resources", "requests", "storage"), problems)
    return PersistentVolumeClaim(metadata=meta, storage_class_name=klass, request_bytes=size,
                                 access_modes=_modes(spec, spath, problems),
                                 volume_name=get_str(spec, "volumeName", spath, problems))


def parse_volume(doc: Mapping[str, Any], meta: ObjectMeta, path: Path, problems: Problems) -> PersistentVolume:
    spec = get_mapping(doc, "spec", path, problems, required=True)
    spath = path + ("spec",)
    capacity = get_mapping(spec, "capacity", spath, problems, required=True)
    size = _bytes(capacity.get("storage", 0), spath + ("capacity", "storage"), problems)
    ref = None
    if isinstance(spec.get("claimRef"), Mapping):
        cr = spec["claimRef"]
        ref = ClaimRef(str(cr.get("namespace", "default")), str(cr.get("name", "")), str(cr.get("uid", "")))
    affinity: dict[str, tuple[str, ...]] = {}
    terms = (((spec.get("nodeAffinity") or {}).get("required") or {}).get("nodeSelectorTerms") or [])
    if isinstance(terms, list) and terms and isinstance(terms[0], Mapping):
        for expr in terms[0].get("matchExpressions") or []:
            if isinstance(expr, Mapping) and expr.get("operator") == "In":
                affinity[str(expr.get("key"))] = tuple(str(v) for v in expr.get("values") or ())
    local = "local" in spec or "hostPath" in spec
    if "local" in spec and not affinity:
        problems.add(spath + ("nodeAffinity",), "a local volume requires nodeAffinity")
    return PersistentVolume(
        metadata=replace(meta, namespace=""), storage_class_name=get_str(spec, "storageClassName", spath, problems),
        capacity_bytes=size, access_modes=_modes(spec, spath, problems),
        reclaim_policy=get_str(spec, "persistentVolumeReclaimPolicy", spath, problems, "Retain",
                               choices=("Retain", "Delete", "Recycle")),
        claim_ref=ref, node_affinity=affinity, local=local)


def parse_storage_object(kind: str, doc: Mapping[str, Any], meta: ObjectMeta, path: Path, problems: Problems) -> Any:
    if kind == "StorageClass":
        return parse_storage_class(doc, meta, path, problems)
    if kind == "PersistentVolumeClaim":
        return parse_claim(doc, meta, path, problems)
    return parse_volume(doc, meta, path, problems)
