"""Manifests: StatefulSets (:func:`statefulset_specs`), their headless Service, PodDisruptionBudgets,
a default StorageClass."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from hypothesis import strategies as st

from statefulsim.testing.strategies.helpers import _uniform

#: The images the strategies use: the first is the manifest's, the others are what ``setImage``
#: actions switch to.
DEFAULT_IMAGES: tuple[str, ...] = ("nginx:1.27", "nginx:1.28", "nginx:1.29")
#: The main container's name in generated manifests.
CONTAINER = "app"


def headless_service(name: str, *, app: str | None = None) -> dict[str, Any]:
    """The headless Service a StatefulSet's ``serviceName`` names (selector ``app: <app>``)."""
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"clusterIP": "None", "selector": {"app": app or name}, "ports": [{"port": 80, "name": "web"}]}}


def pod_disruption_budget(name: str, *, app: str | None = None, **spec: Any) -> dict[str, Any]:
    """A ``policy/v1`` PodDisruptionBudget ``name`` selecting ``app: <app>`` (default: ``name``),
    with ``spec`` as given in camelCase (``maxUnavailable=1``, ``minAvailable="50%"``,
    ``unhealthyPodEvictionPolicy="AlwaysAllow"``)."""
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name},
            "spec": {**spec, "selector": {"matchLabels": {"app": app or name}}}}


#: The budgets :func:`scenarios` draws: one pod at a time, half of them, at least one, or none at
#: all (``minAvailable: 100%`` refuses every eviction while all pods are healthy).
_BUDGETS: tuple[dict[str, Any], ...] = (
    {"maxUnavailable": 1}, {"maxUnavailable": "50%"}, {"minAvailable": 1}, {"minAvailable": "50%"},
    {"minAvailable": "100%"}, {"maxUnavailable": 0},
)


def storage_class(name: str = "standard", *, binding_mode: str = "WaitForFirstConsumer") -> dict[str, Any]:
    """A default StorageClass (dynamic provisioning, reclaim Delete), so claims from
    ``volumeClaimTemplates`` get volumes."""
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": name, "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "ebs.csi.aws.com", "volumeBindingMode": binding_mode, "reclaimPolicy": "Delete"}


def _window(probe: Mapping[str, Any]) -> int:
    """Seconds from container start until a liveness/startup probe can have failed enough times
    to kill the container (the first probe comes ``initialDelaySeconds`` after the start at the
    earliest, then one per period)."""
    return int(probe.get("initialDelaySeconds", 0)) + int(probe.get("periodSeconds", 10)) * (
        int(probe.get("failureThreshold", 3)) - 1)


def _give_time(probe: dict[str, Any], grace: float) -> dict[str, Any]:
    """Raise ``initialDelaySeconds`` so the probe cannot kill a container within ``grace``
    seconds of its start."""
    short = math.ceil(grace) - _window(probe)
    if short > 0:
        probe["initialDelaySeconds"] = int(probe.get("initialDelaySeconds", 0)) + short
    return probe


_PROBE_HANDLERS: dict[str, dict[str, Any]] = {
    "readinessProbe": {"httpGet": {"path": "/", "port": 80}},
    "startupProbe": {"tcpSocket": {"port": 80}},
    "livenessProbe": {"exec": {"command": ["cat", "/tmp/healthy"]}},
}


def _give_probes_time(statefulset: dict[str, Any], grace: float) -> None:
    """Raise ``initialDelaySeconds`` of the liveness and startup probes of ``statefulset`` (in
    place) so they cannot kill a container within ``grace`` seconds of its start (a liveness
    probe behind a startup probe only runs once the app answers, so it is left alone)."""
    for c in statefulset["spec"]["template"]["spec"].get("containers") or ():
        if "startupProbe" in c:
            _give_time(c["startupProbe"], grace)
        elif "livenessProbe" in c:
            _give_time(c["livenessProbe"], grace)


@st.composite
def _probe(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    probe: dict[str, Any] = dict(_PROBE_HANDLERS[kind])
    probe["periodSeconds"] = draw(st.integers(1, 10), label=f"{kind}.periodSeconds")
    if draw(st.booleans(), label=f"{kind} has initialDelaySeconds"):
        probe["initialDelaySeconds"] = draw(st.integers(0, 15), label=f"{kind}.initialDelaySeconds")
    top = {"readinessProbe": 3, "startupProbe": 30, "livenessProbe": 5}[kind]
    if draw(st.booleans(), label=f"{kind} has failureThreshold"):
        probe["failureThreshold"] = draw(st.integers(1, top), label=f"{kind}.failureThreshold")
    if kind == "readinessProbe" and draw(st.booleans(), label="readinessProbe has successThreshold"):
        probe["successThreshold"] = draw(st.integers(1, 3), label="readinessProbe.successThreshold")
    if draw(st.booleans(), label=f"{kind} has timeoutSeconds"):
        probe["timeoutSeconds"] = draw(st.integers(1, 3), label=f"{kind}.timeoutSeconds")
    return probe


@st.composite
def _statefulset_specs(draw: st.DrawFn, name: str, service_name: str, min_replicas: int, max_replicas: int,
                       policies: Sequence[str], image: str, readiness_probe: bool | None,
                       volume_claim_templates: bool | None, update_strategies: Sequence[str | None],
                       max_start_ordinal: int, max_min_ready_seconds: int, liveness_grace: float,
                       init_containers: bool | None) -> dict[str, Any]:
    # The draws that matter most come first: Hypothesis generates later draws of a long
    # sequence closer to their simplest values.
    replicas = draw(_uniform(min_replicas, max_replicas), label="replicas")
    policy = draw(st.sampled_from(list(policies)), label="podManagementPolicy")
    strategy = draw(st.sampled_from(list(update_strategies)), label="updateStrategy")
    container: dict[str, Any] = {"name": CONTAINER, "image": image, "ports": [{"containerPort": 80, "name": "web"}]}
    has_readiness = draw(st.booleans(), label="readiness probe") if readiness_probe is None else readiness_probe
    if has_readiness:
        container["readinessProbe"] = draw(_probe("readinessProbe"))
    startup = draw(st.booleans(), label="startup probe")
    if startup:
        container["startupProbe"] = _give_time(draw(_probe("startupProbe")), liveness_grace)
    if draw(st.booleans(), label="liveness probe"):
        live = draw(_probe("livenessProbe"))
        # Liveness probes only start once a startup probe has succeeded (the app answers by then).
        container["livenessProbe"] = live if startup else _give_time(live, liveness_grace)
    pod_spec: dict[str, Any] = {}
    if draw(st.booleans(), label="terminationGracePeriodSeconds"):
        pod_spec["terminationGracePeriodSeconds"] = draw(st.integers(0, 30), label="grace")
    with_init = draw(st.booleans(), label="init container") if init_containers is None else init_containers
    if with_init:
        pod_spec["initContainers"] = [{"name": "init", "image": "busybox:1.36", "command": ["sh", "-c", "true"]}]
    pod_spec["containers"] = [container]
    spec: dict[str, Any] = {
        "replicas": replicas,
        "serviceName": service_name,
        "podManagementPolicy": policy,
        "selector": {"matchLabels": {"app": name}},
    }
    if max_min_ready_seconds > 0 and draw(st.booleans(), label="minReadySeconds"):
        spec["minReadySeconds"] = draw(st.integers(0, max_min_ready_seconds), label="minReadySeconds")
    if strategy == "OnDelete":
        spec["updateStrategy"] = {"type": "OnDelete"}
    elif strategy == "RollingUpdate":
        us: dict[str, Any] = {"type": "RollingUpdate"}
        ru: dict[str, Any] = {}
        if draw(st.booleans(), label="partition"):
            ru["partition"] = draw(st.integers(0, max_replicas), label="partition")
        if draw(st.booleans(), label="maxUnavailable"):
            ru["maxUnavailable"] = draw(st.one_of(st.integers(1, 3), st.sampled_from(["25%", "50%", "100%"])),
                                        label="maxUnavailable")
        if ru:
            us["rollingUpdate"] = ru
        spec["updateStrategy"] = us
    if draw(st.booleans(), label="persistentVolumeClaimRetentionPolicy"):
        spec["persistentVolumeClaimRetentionPolicy"] = {
            "whenDeleted": draw(st.sampled_from(["Retain", "Delete"]), label="whenDeleted"),
            "whenScaled": draw(st.sampled_from(["Retain", "Delete"]), label="whenScaled")}
    if max_start_ordinal > 0 and draw(st.booleans(), label="ordinals"):
        spec["ordinals"] = {"start": draw(st.integers(0, max_start_ordinal), label="ordinals.start")}
    with_claims = (draw(st.booleans(), label="volumeClaimTemplates") if volume_claim_templates is None
                   else volume_claim_templates)
    if with_claims:
        container["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
        spec["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
    spec["template"] = {"metadata": {"labels": {"app": name}}, "spec": pod_spec}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name}, "spec": spec}


def statefulset_specs(*, name: str = "web", service_name: str | None = None, min_replicas: int = 0,
                      max_replicas: int = 5, policies: Sequence[str] = ("OrderedReady", "Parallel"),
                      image: str = DEFAULT_IMAGES[0], readiness_probe: bool | None = None,
                      volume_claim_templates: bool | None = None,
                      update_strategies: Sequence[str | None] = (None, "RollingUpdate", "OnDelete"),
                      max_start_ordinal: int = 3, max_min_ready_seconds: int = 10,
                      liveness_grace: float = 0.0, init_containers: bool | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """``apps/v1`` StatefulSet manifests (dicts as written in YAML) named ``name``, with pod label
    ``app: <name>``, one container ``app`` running ``image`` (port 80), governed by the Service
    ``service_name`` (default: ``name``).

    Drawn: ``replicas`` in ``[min_replicas, max_replicas]``; ``podManagementPolicy`` from
    ``policies`` (any registered names); readiness (``None``: maybe, ``True``: always), startup and
    liveness probes with periods, thresholds, timeouts and ``initialDelaySeconds``;
    ``minReadySeconds`` up to ``max_min_ready_seconds``; ``updateStrategy`` from
    ``update_strategies`` (``None`` leaves it out; ``RollingUpdate`` maybe with ``partition`` and
    ``maxUnavailable``); ``persistentVolumeClaimRetentionPolicy``; ``ordinals.start`` up to
    ``max_start_ordinal`` (0: never set); a ``volumeClaimTemplates`` entry ``data``
    (``None``: maybe); ``terminationGracePeriodSeconds``; an init container (``None``: maybe).

    ``liveness_grace``: liveness and startup probes never kill a container less than this many
    seconds after it started (``initialDelaySeconds`` is raised if needed), so an app that needs
    up to that long to answer is not restarted forever.
    """
    if not 0 <= min_replicas <= max_replicas:
        raise ValueError(f"need 0 <= min_replicas <= max_replicas, got {min_replicas}, {max_replicas}")
    if not policies:
        raise ValueError("policies must name at least one pod management policy")
    return _statefulset_specs(name, service_name or name, min_replicas, max_replicas, tuple(policies), image,
                              readiness_probe, volume_claim_templates, tuple(update_strategies), max_start_ordinal,
                              max_min_ready_seconds, liveness_grace, init_containers)
