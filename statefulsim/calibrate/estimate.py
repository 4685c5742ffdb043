"""Per-key duration samples from parsed recordings, each with the resolution its source allows.

A recording gives milestones (times in seconds on its own clock); a sample is the difference of
two milestones of one pod (or a pull's own duration).  ``resolution`` is how far a sample can be
from the true duration because of the recording alone (1 s for RFC 3339 timestamps, which
kubectl prints to the second; the AGE unit for ``kubectl get pods -w`` text).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

#: Keys calibrate looks for, and what each is estimated from.
SOURCES = {
    "imagePull": "Pulled events: 'Successfully pulled image X in Ns'",
    "appReady": "Ready condition lastTransitionTime minus the last app container's startedAt, minus half the "
                "readiness probe's periodSeconds (the probe's phase is unknown)",
    "containerStart": "a container's startedAt minus the startedAt or finishedAt of the container before it "
                      "(includes up to 1 s for the kubelet's PLEG to notice the exit)",
    "appShutdown": "an app container's finishedAt minus the start of the pod's graceful deletion "
                   "(deletionTimestamp minus deletionGracePeriodSeconds), for clean exits (code 0) without preStop",
}
#: Timing keys no recording format read here can give, and why.
NOT_RECORDED = {
    "provisioning": "needs PersistentVolumeClaim and PersistentVolume objects (`kubectl get pvc,pv -o json`), "
                    "which calibrate does not read",
    "volumeAttach": "needs the attach/detach controller's SuccessfulAttachVolume events with the pod's "
                    "scheduling time, which calibrate does not read",
    "volumeDetach": "a detach has no event (the attach/detach controller records none)",
    "volumeMount": "the pod status has no time for the mount of its volumes",
    "volumeUnmount": "the pod status has no time for the unmount of its volumes",
    "sandbox": "the pod status has no time for sandbox and CNI (only events' SandboxChanged, not kept)",
    "initContainerRun": "calibrated as containerStart of the container after it, not separately",
}


@dataclass(frozen=True)
class ContainerTimes:
    """One container of a pod, as its ``containerStatuses`` (or ``initContainerStatuses``) shows it."""

    name: str
    image: str
    init: bool
    started: float | None
    finished: float | None = None
    exit_code: int | None = None
    probe_period: float | None = None  # readinessProbe.periodSeconds from the pod spec, if known
    pre_stop: bool = False


@dataclass(frozen=True)
class PodTimes:
    """One pod incarnation's milestones, in seconds on its recording's clock (None: not shown)."""

    pod: str
    uid: str
    statefulset: str | None
    source: str
    resolution: float
    created: float | None = None
    scheduled: float | None = None
    running: float | None = None
    ready: float | None = None
    terminating: float | None = None
    deleted: float | None = None
    containers: tuple[ContainerTimes, ...] = ()


@dataclass(frozen=True)
class Pull:
    """One ``Pulled`` event: ``image`` pulled for ``pod`` in ``seconds``."""

    pod: str
    image: str
    seconds: float
    resolution: float
    source: str


@dataclass
class Observations:
    """Everything the recordings showed, merged."""

    pods: list[PodTimes] = field(default_factory=list)
    pulls: list[Pull] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Sample:
    """Durations of one timing key in one scope (``("image", "mysql:8.0")``, ``("statefulset", "web")``)."""

    key: str
    scope: tuple[str, str]
    values: list[float] = field(default_factory=list)
    resolution: float = 0.0
    sources: list[str] = field(default_factory=list)

    def add(self, value: float, resolution: float, source: str) -> None:
        self.values.append(value)
        self.resolution = max(self.resolution, resolution)
        if source not in self.sources:
            self.sources.append(source)


def estimate(obs: Observations) -> tuple[list[Sample], dict[str, str]]:
    """The samples of every key the observations give, and for each key they cannot give, why."""
    samples: dict[tuple[str, tuple[str, str]], Sample] = {}

    def add(key: str, scope: tuple[str, str], value: float, resolution: float, source: str) -> None:
        if value >= 0:
            samples.setdefault((key, scope), Sample(key, scope)).add(value, resolution, source)

    for p in obs.pulls:
        add("imagePull", ("image", p.image), p.seconds, p.resolution, p.source)
    text_only = True
    for pod in obs.pods:
        scope = ("statefulset", pod.statefulset or pod.pod)
        apps = [c for c in pod.containers if not c.init]
        if pod.containers:
            text_only = False
        if pod.ready is not None:
            starts = [c.started for c in apps if c.started is not None]
            if starts:
                period = max((c.probe_period or 0.0) for c in apps)
                add("appReady", scope, pod.ready - max(starts) - period / 2, pod.resolution + period / 2, pod.source)
            elif not pod.containers and pod.running is not None:
                # `get pods -w` text: Running is the first row with STATUS Running, Ready the first n/n.
                add("appReady", scope, pod.ready - pod.running, pod.resolution, pod.source)
        prev: ContainerTimes | None = None
        for c in pod.containers:
            if prev is not None and c.started is not None:
                before = prev.finished if prev.init and not _sidecar(prev) else prev.started
                if before is not None:
                    add("containerStart", ("image", c.image), c.started - before, pod.resolution, pod.source)
            prev = c
        if pod.terminating is not None:
            for c in apps:
                if c.finished is not None and c.exit_code == 0 and not c.pre_stop and c.finished >= pod.terminating:
                    add("appShutdown", scope, c.finished - pod.terminating, pod.resolution, pod.source)
    missing = dict(NOT_RECORDED)
    found = {k for k, _ in samples}
    if "imagePull" not in found:
        missing["imagePull"] = ("no Pulled events with a duration (images cached on the nodes, or no "
                                "`kubectl get events -o json` given)")
    if text_only and obs.pods:
        for key in ("containerStart", "appShutdown"):
            missing.setdefault(key, "AGE column only (`kubectl get pods -w` text): container times are not shown")
    for key in SOURCES:
        if key not in found:
            missing.setdefault(key, "no pod in the recordings shows the two milestones it needs")
    out = []
    for s in samples.values():
        if s.values and statistics.median(s.values) < 2 * s.resolution:
            missing[f"{s.key} ({s.scope[0]} {s.scope[1]})"] = (
                f"below the recording's resolution: median {statistics.median(s.values):.3g} s, resolution "
                f"±{s.resolution:g} s")
            continue
        out.append(s)
    return out, missing


def _sidecar(c: ContainerTimes) -> bool:
    """An init container that is still running (or ran without exiting) started the next one at its start."""
    return c.init and c.finished is None
