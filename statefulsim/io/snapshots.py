"""Reading recordings for ``statefulsim calibrate`` (docs/calibrate.md).

Formats: ``kubectl get pods -o json`` / ``-o yaml`` snapshots (a ``List`` of Pods or one Pod),
``kubectl get pods -w -o json`` streams (also ``--output-watch-events``), ``kubectl get events -o
json`` (its ``Pulled`` events: "Successfully pulled image "X" in 8.2s"), and ``kubectl get pods -w``
text (read by :func:`statefulsim.io.importers.parse_pods_text`: AGE only).  The result is one
:class:`~statefulsim.calibrate.Observations`; bad input raises :class:`RecordingError`.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

from statefulsim.calibrate.estimate import ClaimTimes, ContainerTimes, EventTimes, Observations, PodTimes, Pull
from statefulsim.errors import ScenarioError, TraceFormatError
from statefulsim.io import importers
from statefulsim.io.importers import _check_shape, _json_objects, _time
from statefulsim.io.yamlsource import line_for, load_documents

__all__ = ["CALIBRATE_FORMATS", "RecordingError", "detect_calibrate_format", "parse_go_duration", "read_recordings"]

#: What calibrate reads (``--format`` is not needed: every file is told from its content).
CALIBRATE_FORMATS = ("pods-text", "pods-json", "pods-yaml", "events-json", "volumes-json")
_VOLUME_KINDS = frozenset({"PersistentVolumeClaim", "PersistentVolume"})

#: RFC 3339 timestamps in pod objects are written to the second.
TIMESTAMP_RESOLUTION = 1.0
#: AGE while a pod is younger than 2 minutes (``95s``); coarser later (``12m``: 1 min).
AGE_RESOLUTION = 1.0
#: ``Pulled`` durations: the kubelet prints them truncated to the millisecond.
PULL_RESOLUTION = 1e-3


class RecordingError(TraceFormatError):
    """A recording calibrate cannot use: ``FILE:LINE: FIELD: expected ..., found ...``."""

    def __init__(self, file: str, line: int | None, path: str, expected: str, found: str):
        self.file, self.line, self.path, self.expected, self.found = file, line, path, expected, found
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {path + ': ' if path else ''}expected {expected}, found {found}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.file, self.line, self.path, self.expected, self.found))


_TIME = ("string|null", None)
_STATE = ("object|null", {"running": ("object|null", {"startedAt": _TIME}),
                          "terminated": ("object|null", {"startedAt": _TIME, "finishedAt": _TIME,
                                                         "exitCode": ("integer|null", None)})})
_STATUSES = ("list|null", ("object", {"name": ("string", None), "image": ("string|null", None), "state": _STATE,
                                      "lastState": _STATE, "restartCount": ("integer|null", None)}))
_SPEC_CONTAINERS = ("list|null", ("object", {"name": ("string", None), "image": ("string|null", None),
                                             "readinessProbe": ("object|null", {"periodSeconds": ("integer|null", None)}),
                                             "lifecycle": ("object|null", None)}))
_POD_SHAPE = ("object", {
    "metadata": ("object", {"name": ("string", None), "uid": ("string|null", None), "creationTimestamp": _TIME,
                            "deletionTimestamp": _TIME, "deletionGracePeriodSeconds": ("integer|null", None),
                            "ownerReferences": ("list|null", ("object", {"kind": ("string|null", None),
                                                                          "name": ("string|null", None)}))}),
    "spec": ("object|null", {"containers": _SPEC_CONTAINERS, "initContainers": _SPEC_CONTAINERS}),
    "status": ("object|null", {
        "conditions": ("list|null", ("object", {"type": ("string|null", None), "status": ("string|null", None),
                                                "lastTransitionTime": _TIME})),
        "containerStatuses": _STATUSES, "initContainerStatuses": _STATUSES}),
})
_EVENT_SHAPE = ("object", {"reason": ("string|null", None), "message": ("string|null", None),
                           "involvedObject": ("object|null", {"kind": ("string|null", None),
                                                              "name": ("string|null", None),
                                                              "uid": ("string|null", None)}),
                           "firstTimestamp": _TIME, "lastTimestamp": _TIME, "eventTime": _TIME,
                           "count": ("integer|null", None)})
#: Event reasons whose times calibrate reads (docs/calibrate.md): the volume keys' two ends.
_TIMED_REASONS = frozenset({"Provisioning", "ProvisioningSucceeded", "SuccessfulCreate", "Scheduled",
                            "SuccessfulAttachVolume", "FailedAttachVolume"})
_FRACTION = re.compile(r"\.(\d+)")

_PULLED = re.compile(r'^Successfully pulled image "([^"]+)" in (\S+)')
_GO_PART = re.compile(r"(\d+(?:\.(\d+))?)(h|ms|us|µs|ns|m|s)")
_GO_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_go_duration(text: str) -> tuple[float, float]:
    """A Go ``time.Duration`` string (``8.207s``, ``512ms``, ``1m2.5s``): (seconds, resolution)."""
    parts = _GO_PART.findall(text)
    if not parts or "".join(p[0] + p[2] for p in parts) != text:
        raise ValueError(text)
    number, decimals, unit = parts[-1]
    return (sum(float(n) * _GO_UNIT[u] for n, _, u in parts), _GO_UNIT[unit] * 10.0 ** -len(decimals))


def detect_calibrate_format(text: str, file: str) -> str:
    """``pods-text``, ``pods-json``, ``pods-yaml`` or ``events-json``, from the content."""
    stripped = text.lstrip()
    if not stripped:
        raise RecordingError(file, 1, "", "a kubectl recording", "an empty file")
    if stripped.startswith("{"):
        _, value = next(_json_objects(text, file))
        kind = _kind(value)
        if kind in ("Pod", "Event"):
            return "pods-json" if kind == "Pod" else "events-json"
        if kind in _VOLUME_KINDS or kind == "a List of PersistentVolume, PersistentVolumeClaim":
            return "volumes-json"
        if isinstance(value, dict) and "t" in value and "event" in value:
            raise RecordingError(file, 1, "", "a kubectl recording (calibrate learns from a real cluster)",
                                 "a statefulsim trace (.jsonl)")
        raise RecordingError(file, 1, "kind", "Pod, Event, PersistentVolumeClaim, PersistentVolume or a List of "
                             "them (kubectl get pods|events|pvc,pv -o json)",
                             repr(kind))
    if any(line.split()[:1] in (["NAME"], ["NAMESPACE"]) for line in stripped.splitlines()[:1000]):
        return "pods-text"  # a kubectl table, maybe after shell prompts (as `check` tells it)
    if re.match(r"^(apiVersion|kind|items|metadata)\s*:", stripped):
        return "pods-yaml"
    raise RecordingError(file, 1, "", "`kubectl get pods -w` text, pod JSON or YAML, or event JSON from kubectl",
                         repr(stripped.splitlines()[0][:60]))


def _kind(value: Any) -> str | None:
    """Pod or Event for an object, a List of them, or a watch event of one; else its kind."""
    if isinstance(value, dict) and "type" in value and isinstance(value.get("object"), dict):
        value = value["object"]
    if not isinstance(value, dict):
        return type(value).__name__
    kind = value.get("kind")
    if kind in ("List", "PodList", "EventList"):
        items = value.get("items") or []
        kinds = {i.get("kind", kind[:-4] or None) for i in items if isinstance(i, dict)}
        if len(kinds) == 1:
            return str(kinds.pop())
        return "a List of " + (", ".join(sorted(map(str, kinds))) or "nothing")
    return str(kind) if kind is not None else None


@dataclass
class _Pod:
    """One pod incarnation, accumulated over the objects that show it (a -w stream shows many)."""

    name: str
    uid: str
    statefulset: str | None
    created: float | None = None
    scheduled: float | None = None
    ready: float | None = None
    terminating: float | None = None
    started: dict[str, float] = field(default_factory=dict)
    finished: dict[str, tuple[float, int | None]] = field(default_factory=dict)
    spec: dict[str, tuple[str, bool, float | None, bool]] = field(default_factory=dict)  # image, init, period, preStop
    order: list[str] = field(default_factory=list)


def _items(file: str, fmt: str, text: str) -> Iterator[tuple[int | None, str, dict[str, Any]]]:
    """(line, field path prefix, object) of every object in a JSON stream or YAML document."""
    if fmt == "pods-yaml":
        try:
            docs = load_documents(text, file)
        except ScenarioError as e:
            raise TraceFormatError(str(e)) from None
        for doc in docs:
            value = doc.data
            if not isinstance(value, dict):
                raise RecordingError(file, line_for(doc, ()), "", "a Pod or a List of Pods (kubectl get pods -o yaml)",
                                     type(value).__name__)
            if _kind(value) not in ("Pod",):
                raise RecordingError(file, line_for(doc, ("kind",)), "kind", "Pod or a List of Pods", repr(_kind(value)))
            if "items" in value:
                for i, item in enumerate(value["items"]):
                    yield line_for(doc, ("items", i)), f"items[{i}]", item
            else:
                yield line_for(doc, ()), "", value
        return
    for line, value in _json_objects(text, file):
        if isinstance(value, dict) and "type" in value and isinstance(value.get("object"), dict):
            value = value["object"]
        if not isinstance(value, dict):
            raise RecordingError(file, line, "", "a JSON object", type(value).__name__)
        if "items" in value:
            items = value["items"]
            if not isinstance(items, list):
                raise RecordingError(file, line, "items", "a list", type(items).__name__)
            for i, item in enumerate(items):
                yield line, f"items[{i}]", item
        else:
            yield line, "", value


def _pods(file: str, fmt: str, text: str, statefulset: str | None) -> tuple[list[PodTimes], list[str]]:
    pods: dict[str, _Pod] = {}
    epoch: _dt.datetime | None = None

    def secs(value: Any, line: int | None, where: str) -> float:
        nonlocal epoch
        t = _time(value, file, line or 0, where)
        if epoch is None:
            epoch = t
        return (t - epoch).total_seconds()

    for line, prefix, obj in _items(file, fmt, text):
        where = prefix + "." if prefix else ""
        if not isinstance(obj, dict):
            raise RecordingError(file, line, prefix, "a Pod object", type(obj).__name__)
        _check_shape(obj, _POD_SHAPE, file, line or 0, prefix)
        if obj.get("kind", "Pod") != "Pod":
            raise RecordingError(file, line, where + "kind", "Pod", repr(obj.get("kind")))
        meta = obj["metadata"] if "metadata" in obj else {}
        if "name" not in meta:
            raise RecordingError(file, line, where + "metadata.name", "the pod's name", "nothing")
        name = meta["name"]
        uid = meta.get("uid") or name
        pod = pods.get(uid)
        if pod is None:
            owner = next((o.get("name") for o in meta.get("ownerReferences") or () if o.get("kind") == "StatefulSet"),
                         None) or importers._guess_set(name, statefulset)
            pod = pods[uid] = _Pod(name, uid, owner)
        if meta.get("creationTimestamp"):
            pod.created = secs(meta["creationTimestamp"], line, where + "metadata.creationTimestamp")
        if meta.get("deletionTimestamp") and pod.terminating is None:
            grace = meta.get("deletionGracePeriodSeconds") or 0
            pod.terminating = secs(meta["deletionTimestamp"], line, where + "metadata.deletionTimestamp") - grace
        spec = obj.get("spec") or {}
        for init, key in ((True, "initContainers"), (False, "containers")):
            for c in spec.get(key) or ():
                probe = c.get("readinessProbe")
                period = float(probe.get("periodSeconds") or 10) if isinstance(probe, dict) else None
                pre_stop = isinstance(c.get("lifecycle"), dict) and "preStop" in c["lifecycle"]
                pod.spec[c["name"]] = (str(c.get("image") or ""), init, period, pre_stop)
                if c["name"] not in pod.order:
                    pod.order.append(c["name"])
        status = obj.get("status") or {}
        for i, cond in enumerate(status.get("conditions") or ()):
            stamp = cond.get("lastTransitionTime")
            if cond.get("status") != "True" or not stamp:
                continue
            cwhere = f"{where}status.conditions[{i}].lastTransitionTime"
            if cond.get("type") == "Ready" and pod.ready is None:
                pod.ready = secs(stamp, line, cwhere)
            elif cond.get("type") == "PodScheduled" and pod.scheduled is None:
                pod.scheduled = secs(stamp, line, cwhere)
        for key in ("initContainerStatuses", "containerStatuses"):
            for i, cs in enumerate(status.get(key) or ()):
                cwhere = f"{where}status.{key}[{i}].state"
                if cs.get("restartCount"):
                    continue  # a restart: the first start is gone
                state = cs.get("state") or {}
                run, term = state.get("running") or {}, state.get("terminated") or {}
                started = run.get("startedAt") or term.get("startedAt")
                if started and cs["name"] not in pod.started:
                    pod.started[cs["name"]] = secs(started, line, cwhere + ".startedAt")
                if term.get("finishedAt") and cs["name"] not in pod.finished:
                    pod.finished[cs["name"]] = (secs(term["finishedAt"], line, cwhere + ".terminated.finishedAt"),
                                                term.get("exitCode"))
                if cs["name"] not in pod.spec:
                    pod.spec[cs["name"]] = (str(cs.get("image") or ""), key.startswith("init"), None, False)
                    pod.order.append(cs["name"])
    if not pods:
        raise RecordingError(file, 1, "", "pod objects (kubectl get pods -o json)", "none")
    out = []
    for p in pods.values():
        containers = tuple(ContainerTimes(n, p.spec[n][0], p.spec[n][1], p.started.get(n),
                                          p.finished.get(n, (None, None))[0], p.finished.get(n, (None, None))[1],
                                          p.spec[n][2], p.spec[n][3])
                           for n in sorted(p.order, key=lambda n: not p.spec[n][1]))
        # phase Running: the init containers are done and an app container started
        running = min((t for n, t in p.started.items() if not p.spec[n][1]), default=None)
        out.append(PodTimes(p.name, p.uid, p.statefulset, file, TIMESTAMP_RESOLUTION, p.created, p.scheduled, running,
                            p.ready, p.terminating, None, containers))
    notes = [] if any(p.spec for p in pods.values()) else [
        f"{file}: the pod objects have no spec: readiness probe periods unknown (appReady includes the probe's phase)"]
    return out, notes


def _events(file: str, text: str) -> tuple[list[Pull], list[EventTimes], list[str]]:
    """The Pulled events' durations and the times of the events the volume keys need."""
    pulls: list[Pull] = []
    timed: list[EventTimes] = []
    epoch: _dt.datetime | None = None
    cached = without = 0
    for line, prefix, ev in _items(file, "events-json", text):
        _check_shape(ev, _EVENT_SHAPE, file, line or 0, prefix)
        where = prefix + "." if prefix else ""
        if ev.get("reason") in _TIMED_REASONS:
            field_name = next((k for k in ("firstTimestamp", "eventTime", "lastTimestamp") if ev.get(k)), None)
            if field_name is not None:
                t = _time(ev[field_name], file, line or 0, where + field_name)
                epoch = t if epoch is None else epoch
                frac = _FRACTION.search(str(ev[field_name]))
                res = 10.0 ** -len(frac.group(1)) if frac else TIMESTAMP_RESOLUTION
                obj = ev.get("involvedObject") or {}
                timed.append(EventTimes(str(ev["reason"]), str(obj.get("kind") or ""), str(obj.get("name") or ""),
                                        str(obj.get("uid") or ""), str(ev.get("message") or ""),
                                        (t - epoch).total_seconds() + res / 2, res, file))
        if ev.get("reason") != "Pulled":
            continue
        message = str(ev.get("message") or "")
        m = _PULLED.match(message)
        if m is None:
            if "already present on machine" in message:
                cached += 1
            else:
                without += 1
            continue
        try:
            seconds, resolution = parse_go_duration(m.group(2))
        except ValueError:
            raise RecordingError(file, line, (prefix + "." if prefix else "") + "message",
                                 "a pull duration such as 'in 8.207s'", repr(m.group(2))) from None
        # the kubelet truncates the duration to the millisecond (image_manager.go) and Go drops trailing
        # zeros: the printed digits are finer than that, or as fine; read as the middle of the interval
        resolution = min(resolution, PULL_RESOLUTION)
        pulls.append(Pull(str((ev.get("involvedObject") or {}).get("name")), m.group(1), seconds + resolution / 2,
                          resolution, file))
    notes = []
    if cached:
        notes.append(f"{file}: {cached} Pulled events say the image was already present (cached): no pull time")
    if without:
        notes.append(f"{file}: {without} Pulled events give no duration (kubelets before 1.26 do not print one)")
    return pulls, timed, notes


_VOLUME_SHAPE = ("object", {
    "kind": ("string", None),
    "metadata": ("object", {"name": ("string", None), "uid": ("string|null", None), "creationTimestamp": _TIME,
                            "annotations": ("object|null", {"*": ("string", None)})}),
    "spec": ("object|null", {"storageClassName": ("string|null", None),
                             "claimRef": ("object|null", {"name": ("string|null", None), "uid": ("string|null", None)})}),
})


def _claims(file: str, text: str) -> tuple[list[ClaimTimes], list[str]]:
    """Claims with their creation and their provisioned volume's (``kubectl get pvc,pv -o json``)."""
    epoch: _dt.datetime | None = None
    claims: dict[str, tuple[str, str | None, float | None]] = {}  # uid -> name, class, created
    provisioned: dict[str, float] = {}  # claim uid (or name) -> the provisioned volume's creation
    static = 0

    def secs(value: Any, line: int | None, where: str) -> float:
        nonlocal epoch
        t = _time(value, file, line or 0, where)
        epoch = t if epoch is None else epoch
        return (t - epoch).total_seconds()

    for line, prefix, obj in _items(file, "volumes-json", text):
        where = prefix + "." if prefix else ""
        _check_shape(obj, _VOLUME_SHAPE, file, line or 0, prefix)
        kind = obj.get("kind")
        if kind not in _VOLUME_KINDS:
            raise RecordingError(file, line, where + "kind", "PersistentVolumeClaim or PersistentVolume", repr(kind))
        meta = obj.get("metadata") or {}
        if "name" not in meta:
            raise RecordingError(file, line, where + "metadata.name", "the object's name", "nothing")
        stamp = meta.get("creationTimestamp")
        t = secs(stamp, line, where + "metadata.creationTimestamp") if stamp else None
        spec = obj.get("spec") or {}
        if kind == "PersistentVolumeClaim":
            claims[str(meta.get("uid") or meta["name"])] = (meta["name"], spec.get("storageClassName"), t)
            continue
        ref = spec.get("claimRef") or {}
        if t is None or not ref:
            continue
        if "pv.kubernetes.io/provisioned-by" not in (meta.get("annotations") or {}):
            static += 1  # created by hand before the claim: its creation says nothing about provisioning
            continue
        provisioned[str(ref.get("uid") or ref.get("name"))] = t
    out = []
    for uid, (name, klass, created) in claims.items():
        end = provisioned.get(uid, provisioned.get(name))
        out.append(ClaimTimes(name, uid, klass, created, end, TIMESTAMP_RESOLUTION, file))
    notes = [f"{file}: a provisioned volume's creation minus its claim's: for a WaitForFirstConsumer class this "
             "includes the wait for the pod's scheduling"]
    if static:
        notes.append(f"{file}: {static} bound volumes were not provisioned (no pv.kubernetes.io/provisioned-by): "
                     "no provisioning time")
    if not claims:
        notes.append(f"{file}: no PersistentVolumeClaims (`kubectl get pvc,pv -o json` gives both)")
    return out, notes


def _text_pods(file: str, text: str, statefulset: str | None) -> tuple[list[PodTimes], list[str]]:
    rec = importers.parse_pods_text(text, file, statefulset)
    pods: dict[str, dict[str, Any]] = {}
    for r in rec.records:
        uid = r.fields.get("uid")
        if not isinstance(uid, str):
            continue
        p = pods.setdefault(uid, {"pod": r.fields["pod"]})
        key = {"PodCreated": "created", "PodRunning": "running", "PodReady": "ready", "PodTerminating": "terminating",
               "PodDeleted": "deleted"}.get(r.event)
        if r.event == "PodCreated":
            p["statefulset"] = r.fields.get("statefulset")
        if r.event == "PodFirstSeen":
            p["late"] = True
        if key is not None and key not in p:
            p[key] = r.t
    out = [PodTimes(p["pod"], uid, p.get("statefulset"), file, AGE_RESOLUTION, p.get("created"), None, p.get("running"),
                    p.get("ready"), p.get("terminating"), p.get("deleted"))
           for uid, p in pods.items() if not p.get("late")]
    return out, [f"{file}: AGE column only (`kubectl get pods -w` text): ±{AGE_RESOLUTION:g} s while AGE is in "
                 "seconds; no container, probe or pull times, so only appReady (Running to Ready rows) is estimated; "
                 "no clock between rows: a pod created after a quiet spell (no row printed) is dated at the last row"]


_RESOLUTION_NOTE = {
    "pods-json": "timestamps to the second (a difference of two: ±1 s)",
    "pods-yaml": "timestamps to the second (a difference of two: ±1 s)",
    "events-json": "Pulled durations truncated to 1 ms (±0.5 ms); firstTimestamp to the second, the "
                   "scheduler's eventTime to the microsecond",
    "pods-text": "AGE to the second (a difference of two: ±1 s)",
    "volumes-json": "creationTimestamp to the second (a difference of two: ±1 s)",
}


def read_recordings(texts: Sequence[tuple[str, str]], statefulset: str | None = None) -> Observations:
    """Parse ``(file name, content)`` pairs into one :class:`Observations` (no file I/O here)."""
    obs = Observations()
    for file, text in texts:
        fmt = detect_calibrate_format(text, file)
        if fmt == "events-json":
            pulls, timed, notes = _events(file, text)
            obs.pulls.extend(pulls)
            obs.events.extend(timed)
        elif fmt == "volumes-json":
            claims, notes = _claims(file, text)
            obs.claims.extend(claims)
        elif fmt == "pods-text":
            pods, notes = _text_pods(file, text, statefulset)
            obs.pods.extend(pods)
        else:
            pods, notes = _pods(file, fmt, text, statefulset)
            obs.pods.extend(pods)
        obs.notes.extend([f"{file}: {fmt}: {_RESOLUTION_NOTE[fmt]}"] + notes)
    return obs


