"""Storage objects: StorageClass, PersistentVolume, PersistentVolumeClaim (reference pods §5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from statefulsim.sim.api.objects import ObjectMeta

IMMEDIATE = "Immediate"
WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
SELECTED_NODE_ANNOTATION = "volume.kubernetes.io/selected-node"
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"

# Phases.
PENDING = "Pending"
BOUND = "Bound"
LOST = "Lost"
AVAILABLE = "Available"
RELEASED = "Released"


@dataclass(frozen=True)
class StorageClass:
    metadata: ObjectMeta
    provisioner: str
    volume_binding_mode: str = IMMEDIATE
    reclaim_policy: str = "Delete"
    kind: str = "StorageClass"

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def is_default(self) -> bool:
        return self.metadata.annotations.get(DEFAULT_CLASS_ANNOTATION) == "true"


@dataclass(frozen=True)
class PersistentVolumeClaim:
    metadata: ObjectMeta
    storage_class_name: str | None  # None: the default class; "" : no class (static binding only)
    request_bytes: int = 0
    access_modes: tuple[str, ...] = ("ReadWriteOnce",)
    volume_name: str = ""
    phase: str = PENDING
    kind: str = "PersistentVolumeClaim"

    @property
    def name(self) -> str:
        return self.metadata.name


@dataclass(frozen=True)
class ClaimRef:
    namespace: str
    name: str
    uid: str


@dataclass(frozen=True)
class PersistentVolume:
    metadata: ObjectMeta
    storage_class_name: str
    capacity_bytes: int
    access_modes: tuple[str, ...] = ("ReadWriteOnce",)
    reclaim_policy: str = "Retain"
    claim_ref: ClaimRef | None = None
    #: Required node affinity as {label key: allowed values}; every key must match.
    node_affinity: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    local: bool = False
    phase: str = AVAILABLE
    raw: Mapping[str, Any] = field(default_factory=dict)
    kind: str = "PersistentVolume"

    @property
    def name(self) -> str:
        return self.metadata.name

    def fits_node(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(k) in values for k, values in self.node_affinity.items())


def pick_default_class(classes: list[StorageClass]) -> StorageClass | None:
    """``GetDefaultClass``: of the classes marked default, the newest (timestamps in whole seconds),
    then the first by name."""
    marked = [c for c in classes if c.is_default]
    if not marked:
        return None
    marked.sort(key=lambda c: (-int(c.metadata.creation_timestamp or 0.0), c.metadata.name))
    return marked[0]
