"""What kubectl would have shown of a simulated run: pod objects, events and ``get pods -w`` text.

For the calibration round trip (docs/calibrate.md): a run exported here and read back by
``statefulsim calibrate`` must give back the timing it ran with.  Timestamps are RFC 3339 to the
second (truncated, as the API server writes them) from ``epoch`` = t 0 of the run; pull
durations are the kubelet's Go duration strings.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from statefulsim.durations import go_duration
from statefulsim.io.kubectl_tables import involved_object, pod_watch_rows, pods_watch_lines
from statefulsim.model.scenario import Scenario
from statefulsim.sim.api.objects import Container, StatefulSet
from statefulsim.sim.api.storage import StorageClass
from statefulsim.sim.trace import Trace, TraceRecord, TraceSource, as_trace

__all__ = ["DEFAULT_EPOCH", "events_json", "go_duration", "pods_snapshot_json", "pods_watch_json", "pods_watch_text",
           "volumes_snapshot_json"]

DEFAULT_EPOCH = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)


def _stamp(epoch: _dt.datetime, t: float) -> str:
    return (epoch + _dt.timedelta(seconds=math.floor(t))).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _State:
    name: str
    uid: str
    statefulset: str | None
    revision: str | None
    created: float
    containers: tuple[tuple[Container, bool], ...]
    grace: float = 30.0
    node: str | None = None
    scheduled: float | None = None
    phase: str = "Pending"
    ready: tuple[bool, float] | None = None
    deletion: float | None = None
    started: dict[str, float] = field(default_factory=dict)
    finished: dict[str, tuple[float, int]] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)

    def pod(self, epoch: _dt.datetime) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": self.name, "namespace": "default", "uid": self.uid,
                                "creationTimestamp": _stamp(epoch, self.created),
                                "labels": {"controller-revision-hash": self.revision} if self.revision else {}}
        if self.statefulset:
            meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": self.statefulset,
                                        "controller": True, "blockOwnerDeletion": True}]
        if self.deletion is not None:
            meta["deletionTimestamp"] = _stamp(epoch, self.deletion + self.grace)
            meta["deletionGracePeriodSeconds"] = int(self.grace)
        spec: dict[str, Any] = {"initContainers": [], "containers": [], "terminationGracePeriodSeconds": int(self.grace)}
        if self.node:
            spec["nodeName"] = self.node
        status: dict[str, Any] = {"phase": self.phase, "conditions": [], "initContainerStatuses": [],
                                  "containerStatuses": []}
        if self.scheduled is not None:
            status["conditions"].append({"type": "PodScheduled", "status": "True",
                                         "lastTransitionTime": _stamp(epoch, self.scheduled)})
        if self.ready is not None:
            status["conditions"].append({"type": "Ready", "status": "True" if self.ready[0] else "False",
                                         "lastTransitionTime": _stamp(epoch, self.ready[1])})
        for c, init in self.containers:
            cspec: dict[str, Any] = {"name": c.name, "image": c.image}
            if c.readiness_probe is not None:
                cspec["readinessProbe"] = {"periodSeconds": int(c.readiness_probe.period_seconds)}
            if c.has_pre_stop:
                cspec["lifecycle"] = {"preStop": {"exec": {"command": ["sleep", "1"]}}}
            spec["initContainers" if init else "containers"].append(cspec)
            cs: dict[str, Any] = {"name": c.name, "image": c.image, "restartCount": self.restarts.get(c.name, 0),
                                  "state": {"waiting": {"reason": "PodInitializing"}}}
            if c.name in self.finished:
                t, code = self.finished[c.name]
                cs["state"] = {"terminated": {"exitCode": code, "startedAt": _stamp(epoch, self.started[c.name]),
                                              "finishedAt": _stamp(epoch, t)}}
            elif c.name in self.started:
                cs["state"] = {"running": {"startedAt": _stamp(epoch, self.started[c.name])}}
            status["initContainerStatuses" if init else "containerStatuses"].append(cs)
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def _templates(scenario: Scenario) -> dict[str, tuple[tuple[Container, bool], ...]]:
    out = {}
    for obj in scenario.objects:
        if isinstance(obj, StatefulSet):
            spec = obj.spec.template.spec
            out[obj.name] = tuple((c, True) for c in spec.init_containers) + tuple((c, False) for c in spec.containers)
    return out


def _history(trace: Trace, scenario: Scenario) -> Iterable[tuple[float, str, _State]]:
    """(time, ADDED|MODIFIED|DELETED, state) after every pod change of the run."""
    templates = _templates(scenario)
    graces = {o.name: o.spec.template.spec.termination_grace_period_seconds
              for o in scenario.objects if isinstance(o, StatefulSet)}
    pods: dict[str, _State] = {}
    for r in trace:
        uid = r.get("uid")
        if r.event == "PodCreated":
            new = pods[uid] = _State(r.fields["pod"], uid, r.get("statefulset"), r.get("revision"), r.t,
                                     templates.get(r.get("statefulset") or "", ()),
                                     graces.get(r.get("statefulset") or "", 30.0))
            yield r.t, "ADDED", new
            continue
        s = pods.get(uid) if isinstance(uid, str) else None
        if s is not None and _apply(s, r):
            yield r.t, "DELETED" if r.event == "PodDeleted" else "MODIFIED", s


def _apply(s: _State, r: TraceRecord) -> bool:
    """Apply one record to a pod's state; False when kubectl would show no change."""
    if r.event == "PodScheduled":
        s.node, s.scheduled = r.fields["node"], r.t
    elif r.event == "ContainerStarted":
        if r.fields["restartCount"] == 0:
            s.started[r.fields["container"]] = r.t
        s.finished.pop(r.fields["container"], None)
        s.restarts[r.fields["container"]] = r.fields["restartCount"]
    elif r.event == "ContainerExited":
        s.finished[r.fields["container"]] = (r.t, r.fields["exitCode"])
    elif r.event == "PodRunning":
        s.phase = "Running"
    elif r.event in ("PodSucceeded", "PodFailed"):
        s.phase = "Succeeded" if r.event == "PodSucceeded" else "Failed"
    elif r.event in ("PodReady", "PodNotReady"):
        s.ready = (r.event == "PodReady", r.t)
    elif r.event == "PodTerminating":
        s.deletion = r.t
        if r.get("gracePeriodSeconds") is not None:
            s.grace = float(r.fields["gracePeriodSeconds"])
    elif r.event != "PodDeleted":
        return False
    return True


def pods_watch_json(trace: TraceSource, scenario: Scenario, epoch: _dt.datetime = DEFAULT_EPOCH, *,
                    pretty: bool = False, statefulset: str | None = None) -> str:
    """``kubectl get pods -w -o json --output-watch-events``: one compact ``{"type", "object"}``
    line per pod change; ``pretty`` gives plain ``-o json -w`` instead: each pod object as its own
    4-space-indented JSON document.  ``statefulset`` keeps that set's pods only."""
    trace = as_trace(trace)
    out = []
    for _, kind, s in _history(trace, scenario):
        if statefulset is not None and s.statefulset != statefulset:
            continue
        if pretty:
            out.append(json.dumps(s.pod(epoch), indent=4) + "\n")
        else:
            out.append(json.dumps({"type": kind, "object": s.pod(epoch)}, indent=None) + "\n")
    return "".join(out)


def pods_snapshot_json(trace: TraceSource, scenario: Scenario, at: float, epoch: _dt.datetime = DEFAULT_EPOCH) -> str:
    """``kubectl get pods -o json`` at time ``at``: a List of the pods that exist then."""
    trace = as_trace(trace)
    last: dict[str, dict[str, Any] | None] = {}
    for t, kind, s in _history(trace, scenario):
        if t > at:
            break
        last[s.uid] = None if kind == "DELETED" else s.pod(epoch)
    items = [p for p in last.values() if p is not None]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}},
                      indent=2) + "\n"


def volumes_snapshot_json(trace: TraceSource, scenario: Scenario, at: float,
                          epoch: _dt.datetime = DEFAULT_EPOCH) -> str:
    """``kubectl get pvc,pv -o json`` at time ``at``: a List of the claims and volumes that exist
    then, with their ``creationTimestamp`` (to the second), class, phase and the volume's
    ``claimRef``; a dynamically provisioned volume is named ``pvc-<claim uid>`` and annotated
    ``pv.kubernetes.io/provisioned-by``, as external-provisioner writes it."""
    trace = as_trace(trace)
    provisioners = {o.name: o.provisioner for o in scenario.objects if isinstance(o, StorageClass)}
    claims: dict[str, dict[str, Any]] = {}
    volumes: dict[str, dict[str, Any]] = {}
    for r in trace:
        if r.t > at:
            break
        if r.event == "PVCCreated":
            claims[str(r.fields["pvc"])] = {"created": r.t, "class": r.get("storageClass"), "volume": None, "uid": ""}
        elif r.event == "PVCDeleted":
            claims.pop(str(r.fields["pvc"]), None)
        elif r.event == "PVCBound" and r.get("pvc") in claims:
            claims[str(r.fields["pvc"])]["volume"] = r.get("pv")
        elif r.event == "PVCreated":
            volumes[str(r.fields["pv"])] = {"created": r.t, "class": r.get("storageClass"), "claim": r.get("pvc"),
                                            "phase": "Bound" if r.get("pvc") else "Available"}
        elif r.event == "PVReleased" and r.get("pv") in volumes:
            volumes[str(r.fields["pv"])]["phase"] = "Released"
        elif r.event == "PVDeleted":
            volumes.pop(str(r.fields["pv"]), None)
    items: list[dict[str, Any]] = []
    for name, c in claims.items():
        volume = c["volume"]
        uid = volume[4:] if isinstance(volume, str) and volume.startswith("pvc-") else f"claim-{name}"
        c["uid"] = uid
        spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "storageClassName": c["class"]}
        if volume:
            spec["volumeName"] = volume
        items.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                      "metadata": {"name": name, "namespace": "default", "uid": uid,
                                   "creationTimestamp": _stamp(epoch, c["created"])},
                      "spec": spec, "status": {"phase": "Bound" if volume else "Pending"}})
    for name, v in volumes.items():
        meta: dict[str, Any] = {"name": name, "uid": f"pv-{name}", "creationTimestamp": _stamp(epoch, v["created"])}
        if name.startswith("pvc-") and v["class"] in provisioners:
            meta["annotations"] = {"pv.kubernetes.io/provisioned-by": provisioners[str(v["class"])]}
        pv_spec: dict[str, Any] = {"storageClassName": v["class"], "persistentVolumeReclaimPolicy": "Delete"}
        if v["claim"]:
            pv_spec["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": "default", "name": v["claim"],
                                   "uid": name[4:] if name.startswith("pvc-") else f"claim-{v['claim']}"}
        items.append({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": meta, "spec": pv_spec,
                      "status": {"phase": v["phase"]}})
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}},
                      indent=2) + "\n"


#: involvedObject kinds of the trace's ``KubeEvent`` object prefixes.
_KINDS = {"pod": "Pod", "pvc": "PersistentVolumeClaim", "persistentvolumeclaim": "PersistentVolumeClaim",
          "statefulset": "StatefulSet", "node": "Node", "pv": "PersistentVolume",
          "persistentvolume": "PersistentVolume", "poddisruptionbudget": "PodDisruptionBudget"}
#: Components that write events with the events.k8s.io/v1 API: ``eventTime`` to the microsecond and
#: no ``firstTimestamp``/``lastTimestamp`` (kube-scheduler); the others use the core/v1 recorder.
_EVENTS_V1 = frozenset({"default-scheduler"})


def events_json(trace: TraceSource, epoch: _dt.datetime = DEFAULT_EPOCH, *, scenario: Scenario | None = None) -> str:
    """``kubectl get events -o json``: every event of the run (the trace's ``KubeEvent`` records),
    repeats folded into one Event with ``count`` and ``lastTimestamp`` as the API server keeps
    them, and the external provisioner's ``Provisioning`` / ``ProvisioningSucceeded`` events on a
    claim, which the simulator does not record as events: they are written here from the
    ``VolumeProvisioning`` and ``PVCreated`` records.  Timestamps are to the second (core/v1
    ``firstTimestamp``/``lastTimestamp``), the scheduler's ``eventTime`` to the microsecond."""
    trace = as_trace(trace)
    provisioners = {o.name: o.provisioner for o in (scenario.objects if scenario is not None else ())
                    if isinstance(o, StorageClass)}
    uids: dict[str, str] = {}  # pod name -> the uid of its current incarnation
    provisioning: dict[str, str] = {}  # claim -> its class, while the provisioner works on it
    events: dict[tuple[str, ...], dict[str, Any]] = {}

    def add(t: float, reason: str, kind: str, name: str, component: str, message: str, type_: str = "Normal") -> None:
        uid = uids.get(name, "") if kind == "Pod" else ""
        key = (kind, name, uid, reason, message, component)
        ev = events.get(key)
        if ev is not None:
            ev["count"] += 1
            if component not in _EVENTS_V1:
                ev["lastTimestamp"] = _stamp(epoch, t)
            return
        obj = {"kind": kind, "name": name, "namespace": "default"}
        if uid:
            obj["uid"] = uid
        ev = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": f"{name}.{len(events):016x}",
                                                                "namespace": "default"},
              "involvedObject": obj, "reason": reason, "message": message, "type": type_, "count": 1}
        if component in _EVENTS_V1:
            micro = (epoch + _dt.timedelta(microseconds=math.floor(t * 1e6)))
            ev.update({"eventTime": micro.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "firstTimestamp": None,
                       "lastTimestamp": None, "reportingComponent": component, "source": {}})
        else:
            ev.update({"eventTime": None, "firstTimestamp": _stamp(epoch, t), "lastTimestamp": _stamp(epoch, t),
                       "reportingComponent": component, "source": {"component": component}})
        events[key] = ev

    for r in trace:
        if r.event == "PodCreated":
            uids[str(r.fields["pod"])] = str(r.fields["uid"])
        elif r.event == "KubeEvent":
            prefix, _, name = involved_object(r.fields).partition("/")
            add(r.t, str(r.fields["reason"]), _KINDS.get(prefix, prefix.capitalize()), name,
                str(r.fields["component"]), str(r.fields["message"]).strip(), str(r.fields.get("type") or "Normal"))
        elif r.event == "VolumeProvisioning":
            claim, klass = str(r.fields["pvc"]), str(r.fields["storageClass"])
            provisioning[claim] = klass
            add(r.t, "Provisioning", "PersistentVolumeClaim", claim, _provisioner(provisioners, klass),
                f'External provisioner is provisioning volume for claim "default/{claim}"')
        elif r.event == "PVCreated" and r.get("pvc") in provisioning:
            klass = provisioning.pop(str(r.fields["pvc"]))
            add(r.t, "ProvisioningSucceeded", "PersistentVolumeClaim", str(r.fields["pvc"]),
                _provisioner(provisioners, klass), f'Successfully provisioned volume {r.fields["pv"]}')
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": list(events.values())}, indent=2) + "\n"


def _provisioner(provisioners: Mapping[str, str], klass: str) -> str:
    """The external provisioner's event source: ``<driver>_<instance>`` as external-provisioner writes it."""
    return f"{provisioners.get(klass, 'external-provisioner')}_csi-controller-0"


def pods_watch_text(trace: TraceSource, scenario: Scenario | None = None, *, statefulset: str | None = None) -> str:
    """``kubectl get pods -w``: the text ``--view pods`` prints (one implementation,
    :mod:`statefulsim.io.kubectl_tables`), ended by a newline.  ``scenario`` is not needed (the
    rows come from the trace alone) and kept for symmetry with the JSON writers."""
    del scenario
    return "".join(line + "\n" for line in pods_watch_lines(pod_watch_rows(as_trace(trace), statefulset=statefulset)))
