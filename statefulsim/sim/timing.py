"""Timing configuration: which delay model applies to what, with per-set/ordinal/image overrides.

Defaults and where each figure comes from are listed in ``docs/timing.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from statefulsim.sim.delays import NEVER, Constant, DelayModel, LogNormal, Uniform

#: Delays that belong to the control plane (one model each, no overrides).
CLUSTER_KEYS: dict[str, str] = {
    "apiLatency": "request latency of one API call (create/update/delete) from any component",
    "watchLatency": "time from an API write until a watcher (informer) sees it",
    "scheduling": "one scheduling attempt for one pod (filter + score)",
    "plegRelist": "time until the kubelet notices a container started or exited (PLEG relist)",
    "endpointSlice": "EndpointSlice controller: from a pod change to the slice update (besides API latency)",
    "dnsQuery": "one DNS query's round trip to the cluster DNS",
}

#: Delays of volumes (overridable per StorageClass with ``match: {storageClass: NAME}``; the
#: defaults depend on the class's provisioner, :data:`PROVISIONER_DEFAULTS`).
VOLUME_KEYS: dict[str, str] = {
    "provisioning": "dynamic provisioning of one volume (CSI CreateVolume until the PV exists)",
    "volumeAttach": "attach/detach controller: attach one volume to a node (VolumeAttachment until attached)",
    "volumeDetach": "attach/detach controller: detach one volume from a node (until the VolumeAttachment is gone)",
    "volumeMount": "kubelet: mount a pod's attached volumes (NodeStage + NodePublish) before its sandbox",
    "volumeUnmount": "kubelet: unmount a gone pod's volumes (NodeUnpublish + NodeUnstage)",
}

#: Delays that depend on the pod or container (overridable per set, ordinal, pod, image, container).
POD_KEYS: dict[str, str] = {
    "sandbox": "pod sandbox creation and CNI setup, until the pod has an IP",
    "imagePull": "pulling an image that is not on the node",
    "imagePullCached": "registry round trip for imagePullPolicy Always when the image is cached",
    "containerStart": "creating and starting one container once its image is present",
    "initContainerRun": "an init container's run time until it exits 0",
    "appReady": "from container start until the app answers its probes (never: it never does)",
    "appCrash": "from container start until the app crashes on its own (never: it does not)",
    "probeDuration": "how long one probe takes to answer (above timeoutSeconds it fails)",
    "preStop": "run time of a preStop hook",
    "appShutdown": "from SIGTERM until the app exits (SIGKILL at the end of the grace period)",
}

DEFAULTS: dict[str, DelayModel] = {
    "apiLatency": LogNormal(0.010, 0.100),
    "watchLatency": LogNormal(0.020, 0.200),
    "scheduling": LogNormal(0.005, 0.050),
    "plegRelist": Uniform(0.0, 1.0),
    "endpointSlice": Constant(0.0),
    "dnsQuery": LogNormal(0.0005, 0.005),
    "provisioning": LogNormal(3.0, 15.0),
    "volumeAttach": LogNormal(3.0, 20.0),
    "volumeDetach": LogNormal(3.0, 20.0),
    "volumeMount": LogNormal(0.5, 3.0),
    "volumeUnmount": LogNormal(0.2, 1.0),
    "sandbox": LogNormal(1.0, 3.0),
    "imagePull": LogNormal(5.0, 30.0),
    "imagePullCached": LogNormal(0.2, 1.0),
    "containerStart": LogNormal(0.5, 2.0),
    "initContainerRun": LogNormal(2.0, 10.0),
    "appReady": LogNormal(5.0, 20.0),
    "appCrash": NEVER,
    "probeDuration": Constant(0.005),
    "preStop": Constant(1.0),
    "appShutdown": LogNormal(1.0, 10.0),
}

#: Volume delays per CSI driver (StorageClass ``provisioner``), from public measurements
#: (docs/timing.md lists the sources); a key not given here uses :data:`DEFAULTS`.
PROVISIONER_DEFAULTS: dict[str, dict[str, DelayModel]] = {
    # EC2 attach/detach 1-4 s, seen through the driver's polls at 1, 2.8, 6.04 s (aws-ebs-csi-driver
    # pkg/cloud/cloud.go; kubernetes#56974); CreateVolume median ~2-3.7 s (aws-ebs-csi-driver #2021).
    "ebs.csi.aws.com": {"provisioning": LogNormal(3.0, 15.0), "volumeAttach": LogNormal(4.0, 12.0),
                        "volumeDetach": LogNormal(4.0, 12.0), "volumeMount": LogNormal(1.0, 3.0),
                        "volumeUnmount": LogNormal(0.3, 1.0)},
    # attach ~3-9 s on the driver's 5 s poll (gcp-compute-persistent-disk-csi-driver PR #956,
    # gitpod-io/gitpod#9054); provisioning expected <= 10 s on average (its development.md).
    "pd.csi.storage.gke.io": {"provisioning": LogNormal(5.0, 20.0), "volumeAttach": LogNormal(5.5, 15.0),
                              "volumeDetach": LogNormal(5.5, 15.0), "volumeMount": LogNormal(1.0, 3.0),
                              "volumeUnmount": LogNormal(0.3, 1.0)},
    # ~15 s normal, 5.5 % above 60 s (cloud-provider-azure#78, Azure/aks-engine#2888).
    "disk.csi.azure.com": {"volumeAttach": LogNormal(15.0, 120.0), "volumeDetach": LogNormal(15.0, 120.0),
                           "volumeMount": LogNormal(1.0, 3.0), "volumeUnmount": LogNormal(0.3, 1.0)},
    # A node-local directory: a helper pod creates it (1 s polls), a bind mount mounts it.
    "rancher.io/local-path": {"provisioning": LogNormal(2.0, 6.0), "volumeMount": Constant(0.0),
                              "volumeUnmount": Constant(0.0)},
    "kubernetes.io/no-provisioner": {"volumeMount": Constant(0.0), "volumeUnmount": Constant(0.0)},
}

MATCH_KEYS = ("statefulset", "ordinal", "pod", "image", "container", "storageClass")


@dataclass(frozen=True)
class TimingOverride:
    """Models that replace the defaults for pods/containers matching every ``match`` entry."""

    match: Mapping[str, str | int]
    models: Mapping[str, DelayModel]

    def applies(self, statefulset: str, ordinal: int, pod: str, image: str, container: str) -> bool:
        facts: dict[str, str | int] = {"statefulset": statefulset, "ordinal": ordinal, "pod": pod,
                                       "image": image, "container": container}
        for k, v in self.match.items():
            if k == "image":
                if not image_matches(str(v), image):
                    return False
            elif facts.get(k) != v:
                return False
        return True


def image_matches(pattern: str, image: str) -> bool:
    """``mysql`` matches ``mysql:8.0`` and ``docker.io/library/mysql:8.0``; a tag must match exactly."""
    if pattern == image:
        return True
    name = image.split("@")[0]
    repo, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "")
    if ":" in pattern.rsplit("/", 1)[-1]:
        return name == pattern or name.endswith("/" + pattern)
    return repo == pattern or repo.endswith("/" + pattern)


@dataclass(frozen=True)
class Timing:
    """All delay models of a run."""

    models: Mapping[str, DelayModel] = field(default_factory=lambda: dict(DEFAULTS))
    overrides: tuple[TimingOverride, ...] = ()
    #: kubelet pod-worker quantization of CrashLoopBackOff restarts (re-sync after U(10 s, 15 s)).
    pod_worker_jitter: bool = True

    def model(self, key: str) -> DelayModel:
        return self.models.get(key, DEFAULTS[key])

    def for_volume(self, key: str, *, storage_class: str, provisioner: str = "") -> DelayModel:
        """The model for a volume key: the last override that matches only on ``storageClass``,
        else the ``timing:`` key when the scenario sets it, else the provisioner's default
        (:data:`PROVISIONER_DEFAULTS`), else the generic default."""
        chosen = self.models.get(key, DEFAULTS[key])
        if chosen is DEFAULTS[key]:  # not set by the scenario (parsed models are new objects)
            chosen = PROVISIONER_DEFAULTS.get(provisioner, {}).get(key, chosen)
        for ov in self.overrides:
            if key in ov.models and set(ov.match) <= {"storageClass"} and ov.match.get("storageClass") in (None, storage_class):
                chosen = ov.models[key]
        return chosen

    def for_container(self, key: str, *, statefulset: str, ordinal: int, pod: str, image: str,
                      container: str) -> DelayModel:
        """The model for a per-pod key; the last matching override wins."""
        chosen = self.model(key)
        for ov in self.overrides:
            if key in ov.models and ov.applies(statefulset, ordinal, pod, image, container):
                chosen = ov.models[key]
        return chosen
