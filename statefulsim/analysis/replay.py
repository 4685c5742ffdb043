"""The replay model: pods and StatefulSets as every API client sees them, rebuilt from a trace.

:class:`Replay` walks a :class:`~statefulsim.sim.trace.Trace` record by record and keeps the
cluster state the records describe (live pod incarnations, StatefulSet specs the controller may
be acting on, their last status, PVCs).  The invariants, the metrics, the importers' checks and
the explorer's abstract states all read a trace through it.  Pure: no I/O, no simulator internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from statefulsim.durations import format_clock
from statefulsim.sim.api.objects import ORDERED_READY
from statefulsim.sim.trace import TraceRecord

__all__ = ["PodState", "Replay", "SetSpec", "SetState"]


@dataclass
class PodState:
    """One pod incarnation (one uid) as the trace shows it."""

    name: str
    uid: str
    ordinal: int
    statefulset: str | None
    revision: str | None
    created: float
    phase: str = "Pending"
    ready: bool = False
    terminating: bool = False
    changed: float = 0.0  # when phase/ready/terminating last changed
    deleted: float | None = None

    @property
    def running_and_ready(self) -> bool:
        return self.phase == "Running" and self.ready

    def state(self) -> str:
        """What the pod is, e.g. ``Running but not Ready (since 00:01:02.000)``."""
        if self.deleted is not None:
            return f"deleted at {format_clock(self.deleted)}"
        if self.phase in ("Failed", "Succeeded"):
            state = self.phase
        elif self.phase == "Running":
            state = "Running and Ready" if self.ready else "Running but not Ready"
        else:
            state = "Pending"
        if self.terminating:
            state += ", terminating"
        return f"{state} (since {format_clock(self.changed)})"


@dataclass(frozen=True)
class SetSpec:
    """What the trace tells about a StatefulSet's spec.  ``None`` means not in the trace."""

    replicas: int
    start: int | None = None
    start_explicit: bool = False  # False: inferred from the pods the set creates
    partition: int | None = None

    def in_range(self, ordinal: int, fallback_start: int) -> bool:
        start = self.start if self.start is not None else fallback_start
        return start <= ordinal < start + self.replicas


@dataclass
class SetState:
    name: str
    policy: str
    created: float
    incarnation: int
    spec: SetSpec
    #: specs the controller may be acting on: the old ones stay until a status reports the new
    #: generation as observed (the controller reads the spec through its own watch).
    candidates: list[SetSpec]
    generation: int = 1
    pending_generation: int | None = None
    pending: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (verb, changes)
    deleted: float | None = None
    status: Mapping[str, Any] | None = None
    update_revision: str | None = None
    current_revision: str | None = None


class Replay:
    """Walks a trace and keeps the cluster state it describes.  Call :meth:`apply` for each
    record in order; the invariants look at the state *before* a record is applied."""

    def __init__(self) -> None:
        self.live: dict[str, list[PodState]] = {}  # pod name -> live incarnations (normally one)
        self.by_uid: dict[str, PodState] = {}  # every incarnation ever created
        self.last_deleted: dict[str, PodState] = {}
        self.sets: dict[str, SetState] = {}
        self.incarnations: dict[str, int] = {}
        self.claims: dict[str, float] = {}  # live PVC name -> created at
        self.claim_history: dict[str, list[tuple[float, float | None]]] = {}

    # -- queries ------------------------------------------------------------------------------

    def pod(self, name: str) -> PodState | None:
        """The newest live incarnation of ``name``."""
        pods = self.live.get(name)
        return pods[-1] if pods else None

    def set_pods(self, statefulset: str) -> list[PodState]:
        return [p for pods in self.live.values() for p in pods if p.statefulset == statefulset]

    def fallback_start(self, st: SetState) -> int:
        ordinals = [p.ordinal for p in self.set_pods(st.name) if p.ordinal >= 0]
        return min(ordinals) if ordinals else 0

    # -- updates ------------------------------------------------------------------------------

    def apply(self, r: TraceRecord) -> None:
        f = r.fields
        ev = r.event
        if ev == "PodCreated":
            pod = PodState(f["pod"], f["uid"], int_field(f.get("ordinal"), -1), f.get("statefulset"),
                           f.get("revision"), r.t, changed=r.t)
            st = self.sets.get(pod.statefulset) if pod.statefulset else None
            if st is not None and st.deleted is None and pod.ordinal >= 0:
                self._infer_start(st, pod.ordinal)
            self.live.setdefault(pod.name, []).append(pod)
            self.by_uid[pod.uid] = pod
        elif ev in ("PodRunning", "PodReady", "PodNotReady", "PodTerminating", "PodFailed", "PodSucceeded"):
            p = self.by_uid.get(f.get("uid", ""))
            if p is None:
                return
            if ev == "PodRunning":
                p.phase = "Running"
            elif ev == "PodReady":
                p.ready = True
            elif ev == "PodNotReady":
                p.ready = False
            elif ev == "PodTerminating":
                p.terminating = True
            elif ev == "PodFailed":
                p.phase = "Failed"
            else:
                p.phase = "Succeeded"
            p.changed = r.t
        elif ev == "PodDeleted":
            p = self.by_uid.get(f.get("uid", ""))
            if p is None:
                return
            p.deleted = r.t
            pods = self.live.get(p.name, [])
            if p in pods:
                pods.remove(p)
            if not pods:
                self.live.pop(p.name, None)
            self.last_deleted[p.name] = p
        elif ev == "StatefulSetCreated":
            name = f["statefulset"]
            n = self.incarnations.get(name, 0) + 1
            self.incarnations[name] = n
            spec = _with_facts(SetSpec(int_field(f.get("replicas"), 1)), f)
            self.sets[name] = SetState(name, str(f.get("podManagementPolicy") or ORDERED_READY), r.t, n, spec, [spec])
        elif ev == "StatefulSetUpdated":
            st = self.sets.get(f["statefulset"])
            if st is None:
                return
            spec = replace(st.spec, replicas=int_field(f.get("replicas"), st.spec.replicas))
            for _, changes in st.pending:
                spec = replace(spec, **changes)
            st.pending.clear()
            spec = _with_facts(spec, f)
            if spec not in st.candidates:
                st.candidates.append(spec)
            st.spec = spec
            st.generation = int_field(f.get("generation"), st.generation + 1)
            st.pending_generation = st.generation
        elif ev == "StatefulSetStatus":
            st = self.sets.get(f["statefulset"])
            if st is None:
                return
            st.status = f
            st.current_revision = f.get("currentRevision")
            st.update_revision = f.get("updateRevision")
            observed = f.get("observedGeneration")
            if st.pending_generation is not None and isinstance(observed, int) and observed >= st.pending_generation:
                st.pending_generation = None
                st.candidates = [st.spec]
        elif ev == "RevisionCreated":
            st = self.sets.get(f["statefulset"])
            if st is not None:
                st.update_revision = f.get("revision")
        elif ev == "StatefulSetDeleted":
            st = self.sets.get(f["statefulset"])
            if st is not None:
                st.deleted = r.t
        elif ev == "Action":
            self._action(f)
        elif ev == "ActionFailed":
            verb = f.get("action")
            for st in self.sets.values():
                for i in range(len(st.pending) - 1, -1, -1):
                    if st.pending[i][0] == verb:
                        del st.pending[i]
                        return
        elif ev == "PVCCreated":
            self.claims[f["pvc"]] = r.t
            self.claim_history.setdefault(f["pvc"], []).append((r.t, None))
        elif ev == "PVCDeleted":
            self.claims.pop(f["pvc"], None)
            hist = self.claim_history.get(f["pvc"])
            if hist and hist[-1][1] is None:
                hist[-1] = (hist[-1][0], r.t)

    def _infer_start(self, st: SetState, ordinal: int) -> None:
        """A controller-created pod tells the lowest possible start ordinal (when the trace does
        not give it): the controller never creates a pod below the start."""
        lowest = min([ordinal] + [p.ordinal for p in self.set_pods(st.name) if p.ordinal >= 0])

        def fix(spec: SetSpec) -> SetSpec:
            if spec.start_explicit:
                return spec
            if spec.start is None:
                return replace(spec, start=lowest)
            if ordinal < spec.start:
                return replace(spec, start=ordinal)
            return spec

        st.spec = fix(st.spec)
        st.candidates = [fix(s) for s in st.candidates]

    def _action(self, f: Mapping[str, Any]) -> None:
        verb = f.get("action")
        if verb == "patch":
            st = self.sets.get(str(f.get("statefulset")))
            if st is None or st.deleted is not None:
                return
            patch = spec_part(f.get("patch"), f.get("type"))
            if patch is None:  # a JSON patch: it can change anything the trace does not show
                st.pending.append(("patch", {"start": None, "start_explicit": False, "partition": None}))
                return
            changes: dict[str, Any] = {}
            if "ordinals" in patch:
                ords = patch["ordinals"]
                start = ords.get("start") if isinstance(ords, Mapping) else None
                changes.update(start=int_field(start, 0), start_explicit=True)
            if "updateStrategy" in patch:
                us = patch["updateStrategy"]
                if not isinstance(us, Mapping) or us.get("type") == "OnDelete":
                    changes["partition"] = 0
                elif "rollingUpdate" in us:
                    ru = us["rollingUpdate"]
                    if not isinstance(ru, Mapping):
                        changes["partition"] = 0
                    elif "partition" in ru:
                        changes["partition"] = int_field(ru["partition"], 0)
            if changes:
                st.pending.append(("patch", changes))
        elif verb == "apply":
            for obj in f.get("objects") or ():
                kind, _, name = str(obj).partition("/")
                st = self.sets.get(name)
                if kind == "statefulset" and st is not None and st.deleted is None:
                    # An apply can change anything the trace does not show: forget it.
                    st.pending.append(("apply", {"start": None, "start_explicit": False, "partition": None}))


#: The top-level fields of a StatefulSet: a patch with only these is of the whole object.
_OBJECT_KEYS = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})


def spec_part(patch: Any, patch_type: Any = None) -> Mapping[str, Any] | None:
    """The spec change of a ``patch`` Action record's ``patch``: its ``spec`` (a patch of the
    whole object, as kubectl takes it), or the patch itself in traces from statefulsim versions
    whose patches were of the spec; None for a JSON patch (a list of operations)."""
    if patch_type == "json" or not isinstance(patch, Mapping):
        return None
    if patch and set(patch) <= _OBJECT_KEYS:
        spec = patch.get("spec")
        return spec if isinstance(spec, Mapping) else {}
    return patch


def _with_facts(spec: SetSpec, f: Mapping[str, Any]) -> SetSpec:
    """Use the spec facts that StatefulSetCreated/Updated records carry, when they do (traces
    from older versions or importers may lack them: then the inferences above stand)."""
    if "ordinalsStart" in f:
        spec = replace(spec, start=int_field(f.get("ordinalsStart"), 0), start_explicit=True)
    if "partition" in f:
        p = f.get("partition")
        spec = replace(spec, partition=None if p is None else int_field(p, 0))
    return spec


def int_field(value: Any, default: int) -> int:
    """``value`` when it is an integer (not a bool), else ``default``: a trace field read leniently."""
    return value if isinstance(value, int) and not isinstance(value, bool) else default
