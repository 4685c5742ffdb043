"""Pure helpers and predicates of the StatefulSet controller (upstream ``stateful_set_utils.go``)."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import Mapping

from statefulsim.sim.api.objects import (
    FAILED,
    PENDING,
    POD_INDEX_LABEL,
    POD_NAME_LABEL,
    REVISION_LABEL,
    RUNNING,
    SUCCEEDED,
    ObjectMeta,
    OwnerReference,
    Pod,
    PodTemplate,
    StatefulSet,
    Volume,
)

_ORDINAL = re.compile(r"^(.*)-([0-9]+)$")


@lru_cache(maxsize=1 << 16)
def parent_name_and_ordinal(pod_name: str) -> tuple[str, int]:
    """("web", 3) for "web-3"; ("", -1) when the name has no ordinal suffix."""
    m = _ORDINAL.match(pod_name)
    if not m:
        return "", -1
    return m.group(1), int(m.group(2))


def ordinal_of(pod: Pod) -> int:
    return parent_name_and_ordinal(pod.metadata.name)[1]


def pod_name(set_name: str, ordinal: int) -> str:
    return f"{set_name}-{ordinal}"


def claim_name(template_name: str, set_name: str, ordinal: int) -> str:
    return f"{template_name}-{set_name}-{ordinal}"


def is_member_of(sts: StatefulSet, pod: Pod) -> bool:
    return parent_name_and_ordinal(pod.metadata.name)[0] == sts.metadata.name


def is_created(pod: Pod) -> bool:
    return pod.status.phase != ""


def is_pending(pod: Pod) -> bool:
    return pod.status.phase == PENDING


def is_failed(pod: Pod) -> bool:
    return pod.status.phase == FAILED


def is_succeeded(pod: Pod) -> bool:
    return pod.status.phase == SUCCEEDED


def is_terminating(pod: Pod) -> bool:
    return pod.metadata.deletion_timestamp is not None


def is_running_and_ready(pod: Pod) -> bool:
    return pod.status.phase == RUNNING and pod.is_ready()


def is_running_and_available(pod: Pod, min_ready_seconds: float, now: float) -> bool:
    """``podutil.IsPodAvailable``: Ready and Ready for strictly longer than minReadySeconds."""
    if not pod.status.ready:
        return False
    if min_ready_seconds <= 0:
        return True
    ready = pod.status.condition("Ready")
    assert ready is not None
    return ready.last_transition_time + min_ready_seconds < now


def is_unavailable(pod: Pod, min_ready_seconds: float, now: float) -> bool:
    return not is_running_and_available(pod, min_ready_seconds, now) or is_terminating(pod)


def is_healthy(pod: Pod) -> bool:
    """``isHealthy`` (until 1.33): Running and Ready and not terminating; minReadySeconds ignored."""
    return is_running_and_ready(pod) and not is_terminating(pod)


def pod_revision(pod: Pod) -> str:
    return pod.metadata.labels.get(REVISION_LABEL, "")


def identity_matches(sts: StatefulSet, pod: Pod) -> bool:
    parent, ordinal = parent_name_and_ordinal(pod.metadata.name)
    return (
        ordinal >= 0
        and parent == sts.metadata.name
        and pod.metadata.namespace == sts.metadata.namespace
        and pod.metadata.labels.get(POD_NAME_LABEL) == pod.metadata.name
    )


def controller_ref_for(sts: StatefulSet) -> OwnerReference:
    return OwnerReference(kind="StatefulSet", name=sts.metadata.name, uid=sts.metadata.uid)


def new_stateful_set_pod(sts: StatefulSet, template: PodTemplate, ordinal: int, revision: str,
                         *, pod_index_label: bool = True) -> Pod:
    """The pod the controller would create for ``ordinal`` from ``template`` (not yet created).

    Mirrors ``newStatefulSetPod`` + ``initIdentity`` + ``updateStorage`` + ``setPodRevision``.
    """
    name = pod_name(sts.metadata.name, ordinal)
    labels: dict[str, str] = dict(template.labels)
    labels[POD_NAME_LABEL] = name
    if pod_index_label:
        labels[POD_INDEX_LABEL] = str(ordinal)
    labels[REVISION_LABEL] = revision
    claim_volumes: dict[str, Volume] = {}
    for vct in sts.spec.volume_claim_templates:
        vname = str(vct.get("metadata", {}).get("name", ""))
        claim_volumes[vname] = Volume(vname, claim_name(vname, sts.metadata.name, ordinal))
    volumes = tuple(v for v in template.spec.volumes if v.name not in claim_volumes) + tuple(claim_volumes.values())
    spec = replace(template.spec, hostname=name, subdomain=sts.spec.service_name, volumes=volumes)
    meta = ObjectMeta(
        name=name,
        namespace=sts.metadata.namespace,
        labels=labels,
        annotations=dict(template.annotations),
        owner_references=(controller_ref_for(sts),),
    )
    return Pod(metadata=meta, spec=spec)


def with_labels(pod: Pod, labels: Mapping[str, str]) -> Pod:
    return replace(pod, metadata=replace(pod.metadata, labels=dict(labels)))


def resolve_max_unavailable(value: int | str | None, replicas: int) -> int:
    """``getStatefulSetMaxUnavailable``: percentages round **down**; the result is at least 1."""
    if value is None:
        return 1
    if isinstance(value, str):
        pct = int(value.rstrip("%"))
        n = (pct * replicas) // 100
    else:
        n = value
    return max(1, n)
