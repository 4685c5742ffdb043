"""The StatefulSet controller's PersistentVolumeClaims: creation from volumeClaimTemplates, the
stale-claim check and the owner references of the retention policy (reference controller §1.2,
§3.4, §6)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Generator, Mapping

import simpy

from statefulsim.sim.api.informer import Informer
from statefulsim.sim.api.objects import ObjectMeta, OwnerReference, Pod, StatefulSet
from statefulsim.sim.api.storage import BETA_CLASS_ANNOTATION, PersistentVolumeClaim
from statefulsim.sim.api.store import ApiClient, ApiError
from statefulsim.sim.controllers.statefulset.utils import claim_name, ordinal_of
from statefulsim.sim.env import SimEnv
from statefulsim.sim.events import NORMAL, WARNING, EventRecorder

RETAIN = "Retain"
DELETE = "Delete"


def parse_quantity_bytes(value: Any) -> int:
    from statefulsim.sim.api.convert import parse_quantity_memory

    try:
        return parse_quantity_memory(value)
    except ValueError:
        return 0


def claim_from_template(sts: StatefulSet, template: Mapping[str, Any], ordinal: int) -> PersistentVolumeClaim:
    """``getPersistentVolumeClaims``: name ``<template>-<set>-<ordinal>``, the template's labels with
    the selector's matchLabels merged in (selector wins), the template's spec."""
    meta = template.get("metadata") or {}
    spec = template.get("spec") or {}
    tname = str(meta.get("name", ""))
    labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    labels.update(sts.spec.selector.match_labels)
    annotations = {str(k): str(v) for k, v in (meta.get("annotations") or {}).items()}
    klass: str | None = spec.get("storageClassName") if "storageClassName" in spec else None
    if BETA_CLASS_ANNOTATION in annotations:
        klass = annotations[BETA_CLASS_ANNOTATION]
    request = parse_quantity_bytes(((spec.get("resources") or {}).get("requests") or {}).get("storage", 0))
    modes = tuple(str(m) for m in spec.get("accessModes") or ("ReadWriteOnce",))
    return PersistentVolumeClaim(
        metadata=ObjectMeta(name=claim_name(tname, sts.metadata.name, ordinal), namespace=sts.metadata.namespace,
                            labels=labels, annotations=annotations),
        storage_class_name=klass, request_bytes=request, access_modes=modes,
        volume_name=str(spec.get("volumeName", "") or ""))


def _ref(kind: str, name: str, uid: str) -> OwnerReference:
    return OwnerReference(kind=kind, name=name, uid=uid, controller=True, block_owner_deletion=True)


def desired_owner_refs(sts: StatefulSet, pod: Pod, claim: PersistentVolumeClaim,
                       condemned: bool) -> tuple[OwnerReference, ...] | None:
    """The claim's owner references as the retention policy wants them (table §6.2), or None when
    the claim must be left alone (a stale reference, or another controller owns it)."""
    refs = claim.metadata.owner_references
    for r in refs:
        if r.kind == "StatefulSet" and r.name == sts.metadata.name and r.uid != sts.metadata.uid:
            return None  # stale: an older set of the same name
        if r.kind == "Pod" and r.name == pod.metadata.name and pod.metadata.uid and r.uid != pod.metadata.uid:
            return None  # stale: an older pod of the same name, awaiting garbage collection
    ours = {sts.metadata.uid, pod.metadata.uid}
    others = tuple(r for r in refs if r.uid not in ours)
    if any(r.controller for r in others):
        return others  # "unexpected controller": drop our references, add none
    policy = sts.spec.retention_policy
    wanted: list[OwnerReference] = []
    if condemned and policy.when_scaled == DELETE:
        wanted.append(_ref("Pod", pod.metadata.name, pod.metadata.uid))
    elif policy.when_deleted == DELETE:
        wanted.append(_ref("StatefulSet", sts.metadata.name, sts.metadata.uid))
    return others + tuple(wanted)


class StatefulSetClaims:
    """ClaimControl of the StatefulSet controller (the seam in ``pod_control.py``)."""

    component = "statefulset-controller"
    _recorder: EventRecorder | None = None

    def __init__(self, env: SimEnv, client: ApiClient, claims: Informer) -> None:
        self.env = env
        self.client = client
        self.claims = claims
        # (id(spec), namespace, set, ordinal) -> (spec, claims); the spec is held so its id stays unique
        self._claims_of: dict[tuple[int, str, str, int], tuple[object, tuple[PersistentVolumeClaim, ...]]] = {}

    def _event(self, reason: str, obj: str, message: str) -> None:
        if self._recorder is None:
            self._recorder = EventRecorder(self.env, self.component)
        self._recorder.event(WARNING if reason.startswith("Failed") else NORMAL, reason, obj, message)

    def for_pod(self, sts: StatefulSet, pod: Pod) -> tuple[PersistentVolumeClaim, ...]:
        """The claims ``pod`` should have (built once per set spec and ordinal: every sync asks)."""
        o = ordinal_of(pod)
        spec = sts.spec
        key = (id(spec), sts.metadata.namespace, sts.metadata.name, o)
        hit = self._claims_of.get(key)
        if hit is not None and hit[0] is spec:
            return hit[1]
        claims = tuple(claim_from_template(sts, t, o) for t in spec.volume_claim_templates)
        if len(self._claims_of) >= 65536:
            self._claims_of.clear()
        self._claims_of[key] = (spec, claims)
        return claims

    def create_missing_claims(self, sts: StatefulSet, pod: Pod) -> Generator[simpy.Event, Any, ApiError | None]:
        """``createPersistentVolumeClaims``: create absent claims; a claim being deleted is an error."""
        errors: list[ApiError] = []
        for claim in self.for_pod(sts, pod):
            existing = self.claims.get(claim.metadata.namespace, claim.metadata.name)
            if existing is None:
                try:
                    yield from self.client.create(claim)
                except ApiError as e:
                    errors.append(e)  # AlreadyExists too (a stale cache): the pod waits, with backoff
                    if e.reason != "AlreadyExists":
                        self._event("FailedCreate", f"pvc/{claim.name}",
                                    f"create Claim {claim.name} for Pod {pod.name} in StatefulSet {sts.name} "
                                    f"failed error: {e.message}")
                    continue
                self._event("SuccessfulCreate", f"pvc/{claim.name}",
                            f"create Claim {claim.name} Pod {pod.name} in StatefulSet {sts.name} success")
            elif existing.metadata.deletion_timestamp is not None:
                errors.append(ApiError("Conflict", f"pvc {claim.name} is being deleted"))
        return errors[0] if errors else None

    def claim_is_stale(self, sts: StatefulSet, pod: Pod) -> bool:
        """``PodClaimIsStale`` (whenScaled: Delete only): a claim still owned by an older pod."""
        if sts.spec.retention_policy.when_scaled != DELETE:
            return False
        for claim in self.for_pod(sts, pod):
            existing = self.claims.get(claim.metadata.namespace, claim.metadata.name)
            if existing is None:
                continue
            for r in existing.metadata.owner_references:
                if r.kind == "Pod" and r.name == pod.metadata.name and r.uid != pod.metadata.uid:
                    return True
        return False

    def refs_match(self, sts: StatefulSet, pod: Pod, condemned: bool) -> bool:
        """``ClaimsMatchRetentionPolicy``."""
        for claim in self.for_pod(sts, pod):
            existing = self.claims.get(claim.metadata.namespace, claim.metadata.name)
            if existing is None:
                continue
            want = desired_owner_refs(sts, pod, existing, condemned)
            if want is not None and set(want) != set(existing.metadata.owner_references):
                return False
        return True

    def update_owner_refs(self, sts: StatefulSet, pod: Pod, condemned: bool) -> Generator[simpy.Event, Any, ApiError | None]:
        """``UpdatePodClaimForRetentionPolicy``: bring every claim's owner references in line."""
        for claim in self.for_pod(sts, pod):
            existing = self.claims.get(claim.metadata.namespace, claim.metadata.name)
            if existing is None:
                continue
            want = desired_owner_refs(sts, pod, existing, condemned)
            if want is None or set(want) == set(existing.metadata.owner_references):
                continue
            fresh = self.client.store.get("PersistentVolumeClaim", existing.metadata.namespace, existing.metadata.name)
            if fresh is None:
                continue
            try:
                yield from self.client.update(replace(fresh, metadata=replace(fresh.metadata, owner_references=want)))
            except ApiError as e:
                return e
        return None
