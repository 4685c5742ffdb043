"""Metrics of a run: one reading of a trace, shared by the reports, plots, sweeps and notebooks.

Every function is a pure function of a :class:`~statefulsim.sim.trace.Trace` (the simulator's own
or one read from a file); none imports matplotlib, rich or the runner.  The definitions are in
docs/analysis.md, "Metrics":

* :func:`pod_lives`: every pod incarnation and when it reached each state
  (:attr:`PodLife.time_to_ready` is the per-pod time to ready);
* :func:`all_ready` / :func:`time_to_all_ready`: when each StatefulSet was first rolled out by
  ``kubectl rollout status``'s rule (:func:`is_rolled_out`), and how long after its creation;
* :func:`replica_steps`: desired, ready, available and existing replicas of a StatefulSet over time;
* :func:`below_quorum` / :func:`time_below`: when (and how long) a set had fewer Ready replicas
  than a quorum;
* :func:`rollout_duration`: from a template change to every pod on the new revision;
* :func:`dns_delays`: from a pod's first Ready to the first DNS answer with its address.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from statefulsim.analysis.dns import dns_visibility
from statefulsim.analysis.replay import Replay, SetState, int_field
from statefulsim.sim.trace import Trace, TraceRecord, TraceSource, as_trace

__all__ = [
    "OBSERVING_VERBS", "POD_EVENTS", "TEMPLATE_VERBS", "AllReady", "PodLife", "ReplicaSteps", "Rollout", "all_ready",
    "below_quorum", "dns_delays", "pod_dns_names", "first_change", "first_statefulset", "is_rolled_out",
    "is_rolled_out_available", "kubectl_rollout_status",
    "majority", "pod_lives", "replica_steps", "rollout_duration", "rollout_status_line", "rollouts", "statefulsets",
    "time_below", "time_below_window", "time_to_all_ready", "update_life",
]

#: Records about the pod object itself (each with ``pod`` and ``uid``): what a pod's life is made
#: of.  Others that name a pod (``PVCBound``, ``ControllerWaiting``, actions) are about something else.
POD_EVENTS: frozenset[str] = frozenset({
    "PodCreated", "PodScheduled", "PodRunning", "PodReady", "PodNotReady", "PodTerminating", "PodFailed",
    "PodSucceeded", "PodDeleted", "ContainerRestarted", "PodUnschedulable", "PodIP", "PodEvicted",
})


def _end(trace: Trace) -> float:
    return trace[len(trace) - 1].t if len(trace) else 0.0


# ---------------------------------------------------------------------------- pods


@dataclass
class PodLife:
    """One pod incarnation (one uid): when it reached each state."""

    pod: str
    uid: str | None
    statefulset: str | None = None
    ordinal: int | None = None
    revision: str | None = None
    node: str | None = None
    created: float | None = None
    scheduled: float | None = None
    running: float | None = None
    ready: float | None = None
    terminating: float | None = None
    deleted: float | None = None
    failed: float | None = None
    succeeded: float | None = None
    restarts: dict[str, int] = field(default_factory=dict)
    seen: int = 0  # index of its first record, to keep trace order

    @property
    def restart_count(self) -> int:
        return sum(self.restarts.values())

    @property
    def time_to_ready(self) -> float | None:
        """Seconds from ``PodCreated`` to the incarnation's first ``PodReady``; None if never."""
        if self.ready is None or self.created is None:
            return None
        return self.ready - self.created


def pod_lives(trace: TraceSource) -> list[PodLife]:
    """Every pod incarnation in the trace, ordered by StatefulSet, ordinal, then creation."""
    trace = as_trace(trace)
    lives: dict[str, PodLife] = {}
    for i, r in enumerate(trace):
        pod = r.get("pod")
        if not isinstance(pod, str) or r.event not in POD_EVENTS:
            continue
        key = r.get("uid") or f"name:{pod}"
        life = lives.get(key)
        if life is None:
            life = lives[key] = PodLife(pod, r.get("uid"), seen=i)
        update_life(life, r)

    def order(life: PodLife) -> tuple[str, float, str, int]:
        ordinal = float(life.ordinal) if isinstance(life.ordinal, int) else math.inf
        return (life.statefulset or "", ordinal, life.pod, life.seen)
    return sorted(lives.values(), key=order)


def update_life(life: PodLife, r: TraceRecord) -> None:
    """Apply one record about ``life``'s pod (one of :data:`POD_EVENTS`) to it."""
    ev, t = r.event, r.t
    if ev == "PodCreated":
        life.created = t
        life.statefulset = r.get("statefulset")
        life.ordinal = r.get("ordinal")
        life.revision = r.get("revision")
    elif ev == "PodScheduled":
        life.scheduled = t if life.scheduled is None else life.scheduled
        life.node = r.get("node") or life.node
    elif ev == "PodRunning":
        life.running = t if life.running is None else life.running
        life.node = r.get("node") or life.node
    elif ev == "PodReady":
        life.ready = t if life.ready is None else life.ready
    elif ev == "PodTerminating":
        life.terminating = t if life.terminating is None else life.terminating
    elif ev == "PodDeleted":
        life.deleted = t
    elif ev == "PodFailed":
        life.failed = t
    elif ev == "PodSucceeded":
        life.succeeded = t
    elif ev == "ContainerRestarted":
        count = r.get("restartCount")
        name = str(r.get("container"))
        if isinstance(count, int):
            life.restarts[name] = max(count, life.restarts.get(name, 0))
        else:
            life.restarts[name] = life.restarts.get(name, 0) + 1


# ---------------------------------------------------------------------------- StatefulSets


def statefulsets(trace: TraceSource) -> list[str]:
    """StatefulSet names in order of appearance."""
    trace = as_trace(trace)
    names: dict[str, None] = {}
    for r in trace:
        if r.event.startswith("StatefulSet"):
            name = r.get("statefulset")
            if isinstance(name, str):
                names.setdefault(name)
    return list(names)


def first_statefulset(trace: TraceSource, statefulset: str | None = None) -> TraceRecord | None:
    """The first ``StatefulSetCreated`` of ``statefulset`` (default: of any set)."""
    trace = as_trace(trace)
    return trace.first("StatefulSetCreated", **({"statefulset": statefulset} if statefulset else {}))


@dataclass(frozen=True)
class AllReady:
    """When a StatefulSet was first rolled out by kubectl's rule (:func:`is_rolled_out`):
    ``created`` is its first ``StatefulSetCreated``, ``at`` the first status meeting the rule
    (None: never by the end of the trace)."""

    statefulset: str
    created: float
    at: float | None = None

    @property
    def seconds(self) -> float | None:
        """Time to all ready: ``at - created``, None if never."""
        return None if self.at is None else self.at - self.created


def is_rolled_out(st: SetState) -> bool:
    """``kubectl rollout status``'s rule for a RollingUpdate StatefulSet (``StatefulSetStatusViewer``
    in kubectl's ``rollout_status.go``), on the spec and last status the replay shows: the status
    has observed the spec's generation, ``readyReplicas`` >= ``spec.replicas``, and
    ``updatedReplicas`` >= ``spec.replicas`` minus the partition (0 when the trace does not give
    one): every replica Ready at the update revision (above the partition).  A status without
    ``observedGeneration`` or ``updatedReplicas`` (imported or hand-made traces) passes that test."""
    status = st.status
    if status is None:
        return False
    observed = status.get("observedGeneration")
    if isinstance(observed, int) and not isinstance(observed, bool) and observed < st.generation:
        return False
    desired = st.spec.replicas
    if int_field(status.get("readyReplicas"), 0) < desired:
        return False
    updated = status.get("updatedReplicas")  # missing (a hand-made trace): not evidence of a rollout
    return not isinstance(updated, int) or updated >= desired - (st.spec.partition or 0)


def kubectl_rollout_status(replicas: int, generation: int, partition: int | None, status: Mapping[str, Any],
                           update_strategy: str = "RollingUpdate") -> tuple[str, bool]:
    """kubectl's ``StatefulSetStatusViewer.Status`` (``rollout_status.go``; kubectl-surface.md
    §4.1), its checks in its order: (the line, whether the rollout is done) for a set with this
    spec (``partition`` None: no ``rollingUpdate`` block) and last status.  The OnDelete error is
    returned as its ``error: ...`` line and counts as done."""
    if update_strategy != "RollingUpdate":
        return "error: rollout status is only available for RollingUpdate strategy type", True
    observed = status.get("observedGeneration")
    if not observed or generation > int_field(observed, 0):
        return "Waiting for statefulset spec update to be observed...", False
    ready = int_field(status.get("readyReplicas"), 0)
    updated = int_field(status.get("updatedReplicas"), 0)
    if ready < replicas:
        return f"Waiting for {replicas - ready} pods to be ready...", False
    if partition is not None:
        if updated < replicas - partition:
            return (f"Waiting for partitioned roll out to finish: {updated} out of {replicas - partition} "
                    "new pods have been updated..."), False
        return f"partitioned roll out complete: {updated} new pods have been updated...", True
    if status.get("updateRevision") != status.get("currentRevision"):
        return (f"waiting for statefulset rolling update to complete {updated} pods at revision "
                f"{status.get('updateRevision')}..."), False
    return (f"statefulset rolling update complete {int_field(status.get('currentReplicas'), 0)} pods at revision "
            f"{status.get('currentRevision')}..."), True


def rollout_status_line(st: SetState) -> str:
    """What ``kubectl rollout status`` prints for the replayed set (:func:`kubectl_rollout_status`)."""
    return kubectl_rollout_status(st.spec.replicas, st.generation, st.spec.partition, st.status or {})[0]


def is_rolled_out_available(st: SetState) -> bool:
    """:func:`is_rolled_out` with ``availableReplicas`` for ``readyReplicas``: every updated pod
    (above the partition) is available, Ready for ``minReadySeconds``."""
    status = st.status
    return status is not None and is_rolled_out(st) and int_field(status.get("availableReplicas"), 0) >= st.spec.replicas


@dataclass(frozen=True)
class Rollout:
    """One template change of a StatefulSet: ``started`` at the ``StatefulSetUpdated`` whose
    generation the first status with the new ``updateRevision`` observed, ``finished`` at the first
    status after it at which :func:`is_rolled_out_available` holds (None: not by the end, or
    ``superseded`` by the next template change first)."""

    statefulset: str
    revision: str
    started: float
    finished: float | None = None
    superseded: bool = False

    @property
    def seconds(self) -> float | None:
        return None if self.finished is None else self.finished - self.started


def rollouts(trace: TraceSource, statefulset: str) -> list[Rollout]:
    """Every template change of ``statefulset`` after its creation (a new ``updateRevision`` in
    its status, including a rollback to an older revision), in order."""
    trace = as_trace(trace)
    replay = Replay()
    out: list[Rollout] = []
    updated_at: dict[int, float] = {}
    revision: Any = None
    for r in trace:
        replay.apply(r)
        if r.get("statefulset") != statefulset:
            continue
        if r.event == "StatefulSetCreated":
            revision = None
            updated_at.clear()
        elif r.event == "StatefulSetUpdated":
            updated_at[int_field(r.get("generation"), 0)] = r.t
        elif r.event == "StatefulSetStatus":
            new = r.get("updateRevision")
            if revision is not None and new != revision:
                if out and out[-1].finished is None:
                    out[-1] = replace(out[-1], superseded=True)
                observed = int_field(r.get("observedGeneration"), -1)
                out.append(Rollout(statefulset, str(new), updated_at.get(observed, r.t)))
            revision = new
            st = replay.sets.get(statefulset)
            last = out[-1] if out else None
            if last is not None and last.finished is None and not last.superseded and st is not None \
                    and is_rolled_out_available(st):
                out[-1] = replace(last, finished=r.t)
    return out


def all_ready(trace: TraceSource) -> dict[str, AllReady]:
    """Every StatefulSet (by name, in order of creation) and when it was first all ready."""
    trace = as_trace(trace)
    replay = Replay()
    out: dict[str, AllReady] = {}
    for r in trace:
        replay.apply(r)
        name = r.get("statefulset")
        if not isinstance(name, str):
            continue
        if r.event == "StatefulSetCreated" and name not in out:
            out[name] = AllReady(name, r.t)
        elif r.event == "StatefulSetStatus" and name in out and out[name].at is None:
            st = replay.sets.get(name)
            if st is not None and st.deleted is None and is_rolled_out(st):
                out[name] = replace(out[name], at=r.t)
    return out


def time_to_all_ready(trace: TraceSource, statefulset: str | None = None) -> float | None:
    """Seconds from the first ``StatefulSetCreated`` of ``statefulset`` (default: the first set
    created) until it was first all ready by :func:`is_rolled_out`; None if never."""
    trace = as_trace(trace)
    sets = all_ready(trace)
    name = statefulset if statefulset is not None else next(iter(sets), None)
    found = sets.get(name) if name is not None else None
    return None if found is None else found.seconds


def _opt_int(value: Any, default: int | None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


@dataclass
class ReplicaSteps:
    """Step functions of one StatefulSet: value from ``t[i]`` until ``t[i+1]`` (None while the set
    does not exist). ``pods`` is ``status.replicas``."""

    statefulset: str
    t: list[float] = field(default_factory=list)
    desired: list[int | None] = field(default_factory=list)
    ready: list[int | None] = field(default_factory=list)
    available: list[int | None] = field(default_factory=list)
    pods: list[int | None] = field(default_factory=list)
    end: float = 0.0


def replica_steps(trace: TraceSource, statefulset: str, *, end: float | None = None) -> ReplicaSteps:
    """Desired (``StatefulSetCreated`` / ``StatefulSetUpdated``), ready, available and existing
    replicas (``StatefulSetStatus``) of one StatefulSet over time, up to ``end`` (default: the last
    record).  A new set has 0 ready until its first status; after ``StatefulSetDeleted`` the values
    are None until it is created again."""
    trace = as_trace(trace)
    out = ReplicaSteps(statefulset, end=_end(trace) if end is None else end)
    desired: int | None = None
    ready = available = pods = None
    exists = False
    for r in trace:
        if r.get("statefulset") != statefulset or not r.event.startswith("StatefulSet"):
            continue
        if r.event == "StatefulSetCreated":
            exists = True
            desired = _opt_int(r.get("replicas"), desired)
            ready = available = pods = 0
        elif r.event == "StatefulSetUpdated":
            exists = True
            desired = _opt_int(r.get("replicas"), desired)
        elif r.event == "StatefulSetStatus":
            if not exists:
                exists, ready, available, pods = True, 0, 0, 0
            ready = _opt_int(r.get("readyReplicas"), ready)
            available = _opt_int(r.get("availableReplicas"), available)
            pods = _opt_int(r.get("replicas"), pods)
        elif r.event == "StatefulSetDeleted":
            exists = False
        else:
            continue
        values = (desired, ready, available, pods) if exists else (None, None, None, None)
        if out.t and out.t[-1] == r.t:
            out.desired[-1], out.ready[-1], out.available[-1], out.pods[-1] = values
        else:
            out.t.append(r.t)
            out.desired.append(values[0])
            out.ready.append(values[1])
            out.available.append(values[2])
            out.pods.append(values[3])
    return out


def below_quorum(trace: TraceSource, statefulset: str, quorum: int, until: float | None = None) -> list[tuple[float, float]]:
    """The intervals, up to ``until`` (default: the last record), during which the StatefulSet
    existed and had fewer than ``quorum`` Ready replicas (``readyReplicas`` of its status; 0 from its
    creation until the first status).  Time before its creation and after its deletion does not count."""
    trace = as_trace(trace)
    steps = replica_steps(trace, statefulset, end=until)
    end = steps.end
    out: list[tuple[float, float]] = []
    for i, t in enumerate(steps.t):
        if t >= end:
            break
        nxt = min(steps.t[i + 1] if i + 1 < len(steps.t) else end, end)
        ready = steps.ready[i]
        if ready is None or ready >= quorum or nxt <= t:
            continue
        if out and out[-1][1] == t:
            out[-1] = (out[-1][0], nxt)
        else:
            out.append((t, nxt))
    return out


def time_below(trace: TraceSource, statefulset: str, quorum: int, until: float | None = None) -> float:
    """Total seconds :func:`below_quorum`."""
    trace = as_trace(trace)
    return sum(b - a for a, b in below_quorum(trace, statefulset, quorum, until))


def majority(replicas: int) -> int:
    """The smallest quorum of ``replicas`` members: more than half (2 of 3, 3 of 5, 1 of 1)."""
    return replicas // 2 + 1


#: Actions that only observe the cluster; the default quorum window starts after them.
OBSERVING_VERBS = frozenset({"dnsQuery"})


def first_change(trace: TraceSource) -> float:
    """When the first action that changes the cluster ran (any verb but the observing ones, such
    as a DNS lookup); 0 when there is none.  The default start of the quorum window."""
    trace = as_trace(trace)
    for r in trace.of("Action"):
        if r.fields.get("action") not in OBSERVING_VERBS:
            return r.t
    return 0.0


def time_below_window(trace: TraceSource, statefulset: str, quorum: int, start: float,
                      until: float | None = None) -> float:
    """Seconds below ``quorum`` Ready replicas (:func:`below_quorum`) from ``start`` on."""
    trace = as_trace(trace)
    return sum(max(0.0, b - max(a, start)) for a, b in below_quorum(trace, statefulset, quorum, until) if b > start)
#: The verbs whose first ``Action`` starts :func:`rollout_duration` (they change the pod template).
TEMPLATE_VERBS = ("setImage", "patch", "rolloutUndo", "rolloutRestart")


def rollout_duration(trace: TraceSource, statefulset: str | None = None) -> float | None:
    """Seconds from the first ``setImage``, ``patch``, ``rolloutUndo`` or ``rolloutRestart`` Action
    (on ``statefulset``, default any) to
    the first status where the set's ``updateRevision`` differs from the one before the action and
    ``currentRevision`` equals it (every pod on the new revision).  None without such an action,
    when the action made no new revision, or when the rollout did not finish by the end."""
    trace = as_trace(trace)
    action = None
    for r in trace.of("Action"):
        if r.fields.get("action") in TEMPLATE_VERBS and (
                statefulset is None or r.fields.get("statefulset") == statefulset):
            action = r
            break
    if action is None:
        return None
    name = action.fields.get("statefulset")
    before: Any = None
    started = False
    for r in trace.of("StatefulSetStatus", statefulset=name):
        update, current = r.fields.get("updateRevision"), r.fields.get("currentRevision")
        if r.t < action.t:
            before = update
            continue
        if update != before:
            started = True
        if started and update == current and update != before:
            return r.t - action.t
    return None


# ---------------------------------------------------------------------------- DNS


def pod_dns_names(trace: TraceSource) -> list[tuple[str, str]]:
    """``(name, pod)`` for every name a ``dnsQuery`` asked about whose first label is a pod of the
    run, in the order first asked."""
    trace = as_trace(trace)
    pods = {r.fields.get("pod") for r in trace.of("PodCreated")}
    names: list[str] = []
    for r in trace.of("DNSAnswer"):
        n = r.fields.get("name")
        if isinstance(n, str) and n not in names:
            names.append(n)
    return [(n, n.split(".", 1)[0]) for n in names if n.split(".", 1)[0] in pods]


def dns_delays(trace: TraceSource) -> dict[str, float | None]:
    """For every name of :func:`pod_dns_names`: seconds from the pod's first Ready to the first
    answer with an address (``dns_visibility``), keyed ``dns_delay[NAME]``.  None when the pod
    never became Ready or the name never resolved."""
    trace = as_trace(trace)
    return {f"dns_delay[{n}]": dns_visibility(trace, n, pod).delay for n, pod in pod_dns_names(trace)}

