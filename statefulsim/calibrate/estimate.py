"""Per-key duration samples from parsed recordings, each with the resolution its source allows.

A recording gives milestones (times in seconds on its own clock); a sample is the difference of
two milestones of one pod (or a pull's own duration).  ``resolution`` is how far a sample can be
from the true duration because of the recording alone (1 s for RFC 3339 timestamps, which
kubectl prints to the second; the AGE unit for ``kubectl get pods -w`` text).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from typing import Callable

#: Keys calibrate looks for, and what each is estimated from.
SOURCES = {
    "imagePull": "Pulled events: 'Successfully pulled image X in Ns'",
    "appReady": "Ready condition lastTransitionTime minus the last app container's startedAt, minus half the "
                "readiness probe's periodSeconds (the probe's phase is unknown)",
    "containerStart": "a container's startedAt minus the startedAt or finishedAt of the container before it "
                      "(includes up to 1 s for the kubelet's PLEG to notice the exit)",
    "appShutdown": "an app container's finishedAt minus the start of the pod's graceful deletion "
                   "(deletionTimestamp minus deletionGracePeriodSeconds), for clean exits (code 0) without preStop",
    "provisioning": "a claim's ProvisioningSucceeded event minus the external provisioner's Provisioning event "
                    "(or, without it, the StatefulSet controller's 'create Claim' event); or, from `kubectl get "
                    "pvc,pv -o json`, a provisioned volume's creationTimestamp minus its claim's",
    "volumeAttach": "a pod's SuccessfulAttachVolume event minus its Scheduled event (pods with a "
                    "FailedAttachVolume event, which waited for a detach elsewhere, are left out)",
}
#: The scope of keys that are not per image or set: written at the top of the ``timing:`` section.
ALL = ("all", "")


def scope_label(scope: tuple[str, str]) -> str:
    """`` of image mysql:8.0``, `` of statefulset web``; nothing for :data:`ALL`."""
    return "" if scope == ALL else f" of {scope[0]} {scope[1]}"


def missing_name(key: str, scope: tuple[str, str]) -> str:
    """How the report names a key of one scope it could not fit: ``containerStart (image a:1)``."""
    return key if scope == ALL else f"{key} ({scope[0]} {scope[1]})"
#: Timing keys no recording format read here can give, and why.
NOT_RECORDED = {
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


@dataclass(frozen=True)
class EventTimes:
    """One Event object of ``kubectl get events -o json``: its reason, involved object and the
    time of its first occurrence (seconds on its file's clock, the middle of the interval its
    timestamp allows: a stamp to the second is read as stamp + 0.5 s)."""

    reason: str
    kind: str
    name: str
    uid: str
    message: str
    first: float
    resolution: float  # of ``first``: 1 s for firstTimestamp, 1 µs for a MicroTime eventTime
    source: str


@dataclass(frozen=True)
class ClaimTimes:
    """A PersistentVolumeClaim of ``kubectl get pvc,pv -o json``: its creation and, when a
    provisioner created its volume, the volume's creation (seconds on its file's clock)."""

    name: str
    uid: str
    storage_class: str | None
    created: float | None
    provisioned: float | None
    resolution: float
    source: str


@dataclass
class Observations:
    """Everything the recordings showed, merged."""

    pods: list[PodTimes] = field(default_factory=list)
    pulls: list[Pull] = field(default_factory=list)
    events: list[EventTimes] = field(default_factory=list)
    claims: list[ClaimTimes] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Sample:
    """Durations of one timing key in one scope (``("image", "mysql:8.0")``, ``("statefulset", "web")``).

    ``resolution`` is the largest error the recording allows on a value (seconds); ``censoring``
    says how it arose: ``difference`` (two stamps, each truncated: a triangular error on
    ±resolution) or ``interval`` (one truncated value read at its middle: uniform on ±resolution).
    """

    key: str
    scope: tuple[str, str]
    values: list[float] = field(default_factory=list)
    resolution: float = 0.0
    sources: list[str] = field(default_factory=list)
    censoring: str = "difference"

    def add(self, value: float, resolution: float, source: str, censoring: str = "difference") -> None:
        if not self.values or resolution > self.resolution:
            self.censoring = censoring
        self.values.append(value)
        self.resolution = max(self.resolution, resolution)
        if source not in self.sources:
            self.sources.append(source)


def _between(start: float, end: float) -> tuple[float, str]:
    """Resolution and censoring of ``end`` - ``start`` for stamps of these resolutions (steps)."""
    kind = "difference" if min(start, end) > 0.1 * max(start, end) else "interval"
    return (start + end) / 2, kind


def estimate(obs: Observations) -> tuple[list[Sample], dict[str, str]]:
    """The samples of every key the observations give, and for each key they cannot give, why."""
    samples: dict[tuple[str, tuple[str, str]], Sample] = {}

    def add(key: str, scope: tuple[str, str], value: float, resolution: float, source: str,
            censoring: str = "difference") -> None:
        if value >= 0:
            samples.setdefault((key, scope), Sample(key, scope)).add(value, resolution, source, censoring)

    for p in obs.pulls:
        add("imagePull", ("image", p.image), p.seconds, p.resolution / 2, p.source, "interval")
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
    _volume_samples(obs.events, add)
    for claim in obs.claims:
        if claim.created is not None and claim.provisioned is not None:
            scope = ("storageClass", claim.storage_class) if claim.storage_class else ALL
            add("provisioning", scope, claim.provisioned - claim.created, claim.resolution, claim.source, "difference")
    missing = dict(NOT_RECORDED)
    found = {k for k, _ in samples}
    has_events = bool(obs.events) or bool(obs.pulls)
    if "provisioning" not in found:
        missing["provisioning"] = ("no provisioned volume with its claim (`kubectl get pvc,pv -o json`) and no "
                                   "ProvisioningSucceeded event with the claim's Provisioning or creation event "
                                   + ("in the events (static or pre-bound volumes, or events expired)" if has_events
                                      else "(no `kubectl get events -o json` given)"))
    if "volumeAttach" not in found:
        missing["volumeAttach"] = ("no SuccessfulAttachVolume event with the pod's Scheduled event "
                                   + ("in the events (no attachable volumes, or events expired)" if has_events
                                      else "(no `kubectl get events -o json` given)"))
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
            missing[missing_name(s.key, s.scope)] = (
                f"below the recording's resolution: median {statistics.median(s.values):.3g} s, resolution "
                f"±{s.resolution:g} s")
            continue
        out.append(s)
    return out, missing


_CLAIM_CREATED = re.compile(r"^create Claim (\S+) Pod \S+ in StatefulSet \S+ success")


def _volume_samples(events: list[EventTimes], add: Callable[..., None]) -> None:
    """provisioning and volumeAttach from events, each paired within its own file (one clock)."""
    by_file: dict[str, list[EventTimes]] = {}
    for e in events:
        by_file.setdefault(e.source, []).append(e)
    for file, evs in by_file.items():
        evs = sorted(evs, key=lambda e: e.first)
        starts: dict[tuple[str, str], list[EventTimes]] = {}  # (what, object) -> events, in time order
        failed = {(e.name, e.uid) for e in evs if e.reason == "FailedAttachVolume"}
        for e in evs:
            if e.reason == "Provisioning" and e.kind == "PersistentVolumeClaim":
                starts.setdefault(("provisioning", e.name), []).append(e)
            elif e.reason == "SuccessfulCreate" and e.kind == "StatefulSet" and (m := _CLAIM_CREATED.match(e.message)):
                starts.setdefault(("created", m.group(1)), []).append(e)
            elif e.reason == "Scheduled" and e.kind == "Pod":
                starts.setdefault(("scheduled", e.name), []).append(e)
            elif e.reason == "ProvisioningSucceeded" and e.kind == "PersistentVolumeClaim":
                start = _latest(starts.get(("provisioning", e.name)), e) or _latest(starts.get(("created", e.name)), e)
                if start is not None:
                    res, kind = _between(start.resolution, e.resolution)
                    add("provisioning", ALL, e.first - start.first, res, file, kind)
            elif e.reason == "SuccessfulAttachVolume" and e.kind == "Pod" and (e.name, e.uid) not in failed:
                start = _latest([s for s in starts.get(("scheduled", e.name), ()) if not e.uid or not s.uid
                                 or s.uid == e.uid], e)
                if start is not None:
                    res, kind = _between(start.resolution, e.resolution)
                    add("volumeAttach", ALL, e.first - start.first, res, file, kind)


def _latest(candidates: list[EventTimes] | None, end: EventTimes) -> EventTimes | None:
    """The last of ``candidates`` that is not later than ``end`` (within their resolutions)."""
    before = [c for c in candidates or () if c.first <= end.first + (c.resolution + end.resolution) / 2]
    return before[-1] if before else None


def _sidecar(c: ContainerTimes) -> bool:
    """An init container that is still running (or ran without exiting) started the next one at its start."""
    return c.init and c.finished is None
