"""Human-readable reports of a run, built with ``rich``.

Everything here only *reads* a trace (plus, for a live run, ``RunData.waiting()`` and the
expectation results), so the same functions report a run that just happened and a trace read
back from a file.  Each public function accepts either a :class:`~statefulsim.sim.trace.Trace`
or a :class:`~statefulsim.analysis.result.RunData`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Collection, Mapping, Sequence

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from statefulsim.analysis import metrics
from statefulsim.analysis.expect import ExpectationResult
from statefulsim.analysis.metrics import PodLife, update_life
from statefulsim.analysis.result import trace_of
from statefulsim.analysis.stuck import stuck_statefulsets
from statefulsim.durations import format_clock, format_duration
from statefulsim.present.story import story
from statefulsim.sim.actions import compact, describe_action, seconds_text
from statefulsim.sim.api.printers import is_failing
from statefulsim.sim.trace import Trace, TraceRecord, TraceSource, as_trace
from statefulsim.text import plural

if TYPE_CHECKING:
    from statefulsim.analysis.result import RunData

__all__ = [
    "DEFAULT_EVENTS", "PodLife", "SetSummary", "claims_table", "describe_records", "expectations_table", "pod_lives",
    "render_run", "render_trace", "set_summaries", "statefulset_table", "summary_table", "timeline",
]

#: Events the timeline shows by default (``StatefulSetStatus`` only when readyReplicas changes,
#: ``PodStatus`` only when a container cannot run, or NotReady / Unknown).
DEFAULT_EVENTS: frozenset[str] = frozenset({
    "Action", "ActionFailed", "ActionNote", "ActionTimedOut", "RolledBack", "RollbackSkipped", "DrainTimedOut",
    "PodCreated", "PodScheduled", "PodUnschedulable", "PodRunning", "PodReady", "PodNotReady",
    "ContainerRestarted", "ContainerKilled", "PodFailed", "PodTerminating", "PodDeleted",
    "RevisionCreated", "ControllerWaiting", "ControllerResumed",
    "StatefulSetCreated", "StatefulSetUpdated", "StatefulSetDeleted", "StatefulSetStatus", "PodStatus",
    "PVCCreated", "PVCBound", "PVCDeleted", "DNSAnswer",
    "VolumeAttached", "VolumeDetached",
})

_EVENT_STYLES: dict[str, str] = {
    "Action": "bold magenta", "ActionFailed": "bold red", "ActionNote": "magenta", "ActionTimedOut": "bold red",
    "DrainTimedOut": "bold red",
    "PodReady": "green", "ControllerResumed": "green",
    "PodNotReady": "yellow", "PodTerminating": "yellow", "ControllerWaiting": "yellow",
    "PodUnschedulable": "red", "ContainerRestarted": "red", "ContainerKilled": "red", "PodFailed": "red",
    "PodDeleted": "dim", "StatefulSetStatus": "cyan", "StatefulSetUpdated": "magenta", "PodStatus": "red",
    "PVCBound": "blue", "DNSAnswer": "cyan",
}

_SET_EVENTS = frozenset({
    "StatefulSetCreated", "StatefulSetUpdated", "StatefulSetDeleted", "StatefulSetStatus",
    "ControllerWaiting", "ControllerResumed",
})


def _seconds(value: Any) -> str:
    """``30s``, ``1.5s`` / ``2m05s``, ``never`` (:func:`statefulsim.sim.actions.seconds_text`)."""
    return seconds_text(value)


def _dur(seconds: float) -> str:
    """format_duration, with milliseconds below one second (``40ms`` rather than ``0.0s``)."""
    if 0 <= seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    return format_duration(seconds)


def _count(value: Any) -> str:
    return "—" if value is None else str(value)


# ---------------------------------------------------------------------------- pods


def pod_lives(source: Trace | RunData) -> list[PodLife]:
    """Every pod incarnation in the trace, ordered by StatefulSet, ordinal, then creation
    (:func:`statefulsim.analysis.metrics.pod_lives`)."""
    return metrics.pod_lives(trace_of(source))


def _short_clock(t: float | None, hours: bool) -> str:
    """``01:24.8`` (minutes, seconds, tenths), or ``1:01:24.8`` when the run is an hour or longer."""
    if t is None:
        return "—"
    tenths = int(round(t * 10))
    m, tenths = divmod(tenths, 600)
    if hours:
        h, m = divmod(m, 60)
        return f"{h}:{m:02d}:{tenths / 10:04.1f}"
    return f"{m:02d}:{tenths / 10:04.1f}"


def _needs_hours(trace: Trace) -> bool:
    return len(trace) > 0 and trace[len(trace) - 1].t >= 3600 - 0.05


#: Below this many columns the Pods table drops the uid (unless a name has several
#: incarnations) and the scheduled time, and shortens "time to ready", to fit 80 columns.
NARROW = 100
#: Below this many columns the StatefulSets table leaves out the policy.
WIDE = 120


def summary_table(source: Trace | RunData, width: int | None = None) -> Table:
    """One row per pod incarnation: when it was created, scheduled, running, ready, deleted.
    Narrower than :data:`NARROW` columns, the least useful columns go first."""
    trace = trace_of(source)
    hours = _needs_hours(trace)
    lives = pod_lives(trace)
    narrow = width is not None and width < NARROW
    names = [life.pod for life in lives]
    show_uid = not narrow or len(set(names)) < len(names)
    unit = "h:mm:ss.s" if hours else "mm:ss.s"
    table = Table(title=f"Pods (times are {unit} since the start)", title_justify="left", title_style="bold",
                  box=None, padding=(0, 1), collapse_padding=True, pad_edge=False, header_style="bold dim")
    table.add_column("pod", no_wrap=True)
    if show_uid:
        table.add_column("uid", no_wrap=True, style="dim")
    table.add_column("node", no_wrap=True)
    times = ("created", "running", "ready", "terminating", "deleted") if narrow else \
        ("created", "scheduled", "running", "ready", "terminating", "deleted")
    for name in times:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("restarts", justify="right")
    table.add_column("to ready" if narrow else "time to ready", justify="right")
    for life in lives:
        ttr = life.time_to_ready
        restarts = life.restart_count
        deleted = Text(_short_clock(life.deleted, hours))
        if life.failed is not None and life.deleted is None:
            deleted = Text("failed", style="red")
        cells: list[RenderableType] = [life.pod]
        if show_uid:
            cells.append((life.uid or "")[:8] or "—")
        cells.append(life.node or "—")
        when = {"created": life.created, "scheduled": life.scheduled, "running": life.running, "ready": life.ready,
                "terminating": life.terminating}
        cells += [_short_clock(when[name], hours) for name in times if name != "deleted"]
        cells += [deleted, Text(str(restarts), style="red" if restarts else ""),
                  format_duration(ttr) if ttr is not None else Text("never", style="yellow")]
        table.add_row(*cells)
    return table


# ---------------------------------------------------------------------------- StatefulSets


@dataclass
class SetSummary:
    """What the trace says about one StatefulSet at the end of the run."""

    name: str
    created: float | None = None
    deleted: float | None = None
    policy: str | None = None
    desired: int | None = None
    status: Mapping[str, Any] | None = None
    #: when the set was first all ready (:func:`statefulsim.analysis.metrics.all_ready`)
    all_ready_at: float | None = None
    waiting_reason: str | None = None
    waiting_pod: str | None = None
    waiting_since: float | None = None
    first_created: float | None = None  # its first StatefulSetCreated (``created`` is the last)
    max_desired: int = 0  # the most replicas its spec asked for during the run
    #: seconds from the first setImage/patch to every pod on the new revision (None: no rollout
    #: or unfinished; :func:`statefulsim.analysis.metrics.rollout_duration`)
    rollout: float | None = None
    quorum: int | None = None  # the quorum the next field counts against
    below_quorum: float | None = None  # seconds with fewer Ready replicas, from ``window_from``
    window_from: float = 0.0

    @property
    def all_ready_after(self) -> float | None:
        """Time to all ready: from the set's first creation to :attr:`all_ready_at`."""
        if self.all_ready_at is None:
            return None
        return self.all_ready_at - (self.first_created or 0.0)


def set_summaries(source: Trace | RunData, waiting: Mapping[str, Any] | None = None, *,
                  quorum: int | None = None, quorum_from: float | None = None,
                  until: float | None = None) -> list[SetSummary]:
    """One summary per StatefulSet, in order of appearance.

    ``waiting`` (as from ``RunData.waiting()``: name → object with ``reason`` and ``pod``, or
    None) overrides what the trace says; by default it is taken from ``source`` when that is a
    RunData, else from the last ControllerWaiting not followed by a ControllerResumed.
    Time below quorum counts fewer than ``quorum`` Ready replicas (default: a majority of the
    most replicas the set asked for) from ``quorum_from`` (default: the first action that changes
    the cluster, :func:`statefulsim.analysis.metrics.first_change`) to ``until`` (default: a
    run's end, a trace's last record).
    """
    if waiting is None and not isinstance(source, Trace):
        waiting = source.waiting()
    sets: dict[str, SetSummary] = {}
    for r in trace_of(source):
        name = r.get("statefulset")
        if r.event not in _SET_EVENTS or not isinstance(name, str):
            continue
        s = sets.setdefault(name, SetSummary(name))
        if r.event == "StatefulSetCreated":
            s.created, s.deleted = r.t, None
            s.policy = r.get("podManagementPolicy")
            s.desired = r.get("replicas")
        elif r.event == "StatefulSetUpdated":
            s.desired = r.get("replicas", s.desired)
        if r.event in ("StatefulSetCreated", "StatefulSetUpdated") and isinstance(s.desired, int):
            s.max_desired = max(s.max_desired, s.desired)
        elif r.event == "StatefulSetDeleted":
            s.deleted = r.t
        elif r.event == "StatefulSetStatus":
            s.status = r.fields
        elif r.event == "ControllerWaiting":
            s.waiting_reason, s.waiting_pod, s.waiting_since = r.get("reason"), r.get("pod"), r.t
        elif r.event == "ControllerResumed":
            s.waiting_reason = s.waiting_pod = s.waiting_since = None
    trace = trace_of(source)
    for name, ready in metrics.all_ready(trace).items():
        if name in sets:
            sets[name].first_created, sets[name].all_ready_at = ready.created, ready.at
    start = metrics.first_change(trace) if quorum_from is None else quorum_from
    if until is None:
        until = trace.end if isinstance(source, Trace) else source.until
    for s in sets.values():
        s.rollout = metrics.rollout_duration(trace, s.name)
        s.quorum = quorum if quorum is not None else metrics.majority(s.max_desired) if s.max_desired else None
        s.window_from = start
        if s.quorum is not None:
            s.below_quorum = metrics.time_below_window(trace, s.name, s.quorum, start, until)
    if waiting is not None:
        for name, w in waiting.items():
            s = sets.setdefault(name, SetSummary(name))
            reason, pod = (None, None) if w is None else (getattr(w, "reason", str(w)), getattr(w, "pod", None))
            if (reason, pod) != (s.waiting_reason, s.waiting_pod):
                s.waiting_reason, s.waiting_pod, s.waiting_since = reason, pod, None
    return list(sets.values())


def _waiting_text(s: SetSummary) -> Text:
    if s.deleted is not None:
        return Text("deleted", style="dim")
    if s.waiting_reason is None:
        return Text("idle", style="green")
    text = Text(f"waiting: {s.waiting_reason}", style="yellow")
    if s.waiting_pod:
        text.append(f" on {s.waiting_pod}")
    if s.waiting_since is not None:
        text.append(f"\nsince {format_clock(s.waiting_since)}", style="dim")
    return text


def statefulset_table(source: Trace | RunData, *, waiting: Mapping[str, Any] | None = None,
                      quorum: int | None = None, quorum_from: float | None = None,
                      until: float | None = None, width: int | None = None) -> Table:
    """One row per StatefulSet: desired, ready and available replicas at the end, how long after its
    creation all desired replicas were first ready, how long its rollout took, the time below
    quorum (:func:`set_summaries`) and what the controller waits for at the end.  The rollout
    column is there when a set had one; narrower than :data:`WIDE` columns the policy is left out
    (the timeline and the summary name it) to leave room for the controller's wait."""
    narrow = width is not None and width < WIDE
    summaries = set_summaries(source, waiting, quorum=quorum, quorum_from=quorum_from, until=until)
    rollouts = any(s.rollout is not None for s in summaries) or any(
        r.fields.get("action") in ("setImage", "patch") for r in trace_of(source).of("Action"))
    table = Table(title="StatefulSets", title_justify="left", title_style="bold", box=None,
                  padding=(0, 1), pad_edge=False, header_style="bold dim")
    table.add_column("statefulset", no_wrap=True)
    if not narrow:
        table.add_column("policy", no_wrap=True)
    table.add_column("desired", justify="right")
    table.add_column("ready", justify="right")
    table.add_column("avail", justify="right")
    table.add_column("all ready", justify="right", no_wrap=True)
    if rollouts:
        table.add_column("rollout", justify="right", no_wrap=True)
    table.add_column("below quorum", justify="right", no_wrap=True)
    table.add_column("controller")
    for s in summaries:
        status = s.status or {}
        after = s.all_ready_after
        if after is not None:
            all_ready = Text(format_duration(after))
        elif s.desired == 0 and s.all_ready_at is None:
            all_ready = Text("—")
        else:
            all_ready = Text("never", style="yellow")
        below = "—" if s.below_quorum is None else f"{format_duration(s.below_quorum)} (<{s.quorum})"
        cells: list[RenderableType] = [s.name]
        if not narrow:
            cells.append(s.policy or "—")
        cells += [_count(s.desired), _count(status.get("readyReplicas")), _count(status.get("availableReplicas")),
                  all_ready]
        if rollouts:
            cells.append(format_duration(s.rollout) if s.rollout is not None else "—")
        table.add_row(*cells, below, _waiting_text(s))
    return table


def claims_table(source: Trace | RunData) -> Table | None:
    """One row per PersistentVolumeClaim: its pod, class, when it was created and bound, and
    whether it still exists at the end; None when the run has no claims."""
    trace = trace_of(source)
    claims: dict[str, dict[str, Any]] = {}
    for r in trace:
        if r.event in ("PVCCreated", "PVCBound", "PVCDeleted"):
            c = claims.setdefault(str(r.fields["pvc"]), {})
            if r.event == "PVCCreated":
                c.update(created=r.t, cls=r.fields.get("storageClass"), deleted=None)
            elif r.event == "PVCBound":
                c.update(bound=r.t, pv=r.fields.get("pv"), pod=r.fields.get("pod") or c.get("pod"))
            else:
                c["deleted"] = r.t
    if not claims:
        return None
    hours = _needs_hours(trace)
    table = Table(title="Claims", title_justify="left", title_style="bold", box=None, padding=(0, 1),
                  pad_edge=False, header_style="bold dim")
    for name, justify in (("claim", "left"), ("pod", "left"), ("class", "left"), ("created", "right"),
                          ("bound", "right"), ("at the end", "left")):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for name, c in claims.items():
        end = Text(f"deleted {_short_clock(c['deleted'], hours)}", style="dim") if c.get("deleted") is not None \
            else Text("kept", style="green")
        table.add_row(name, str(c.get("pod") or "—"), str(c.get("cls") or "—"), _short_clock(c.get("created"), hours),
                      _short_clock(c.get("bound"), hours), end)
    return table


# ---------------------------------------------------------------------------- expectations


def expectations_table(source: RunData | Sequence[ExpectationResult]) -> Table:
    """✔ or ✘, what was expected and what happened."""
    results = list(source) if isinstance(source, Sequence) else source.expectations
    held = sum(1 for e in results if e.ok)
    table = Table(title=f"Expectations ({held} of {len(results)} held)", title_justify="left",
                  title_style="bold", box=None, padding=(0, 1), pad_edge=False, header_style="bold dim")
    table.add_column("", no_wrap=True)
    table.add_column("expectation", ratio=1)
    table.add_column("detail", ratio=1)
    for e in results:
        mark = Text("✔", style="bold green") if e.ok else Text("✘", style="bold red")
        table.add_row(mark, e.description, Text(e.detail, style="" if e.ok else "red"))
    return table


# ---------------------------------------------------------------------------- timeline


def _action_text(f: Mapping[str, Any]) -> tuple[str, str]:
    sts, pod = f.get("statefulset"), f.get("pod")
    return str(sts if sts is not None else pod if pod is not None else ""), describe_action(f)


def _compact(value: Any) -> str:
    return compact(value)



@dataclass
class _State:
    """What the timeline remembers while walking the trace, to describe each record."""

    pods: dict[str, PodLife] = field(default_factory=dict)
    names: dict[str, int] = field(default_factory=dict)  # pod name -> incarnations seen
    not_ready_since: dict[str, float] = field(default_factory=dict)
    desired: dict[str, Any] = field(default_factory=dict)
    ready: dict[str, Any] = field(default_factory=dict)
    waiting: dict[str, tuple[float, str]] = field(default_factory=dict)
    templates: set[str] = field(default_factory=set)  # volumeClaimTemplates of the sets seen
    #: (name, client) -> (answers so far of the current kind, whether they had an address)
    dns: dict[tuple[str, str], tuple[int, bool]] = field(default_factory=dict)
    moving: set[str] = field(default_factory=set)  # volumes detached while a pod moves them


def _since(t: float, start: float | None, what: str) -> str:
    return f"{_dur(t - start)} after {what}" if start is not None else ""


def _paren(text: str) -> str:
    return f" ({text})" if text else ""


def _describe(r: TraceRecord, st: _State) -> tuple[str, str, bool]:
    """``(object, description, interesting)`` for one record, updating the walk's state."""
    f, ev, t = r.fields, r.event, r.t
    pod, sts = f.get("pod"), f.get("statefulset")
    key = str(f.get("uid") or f"name:{pod}")
    life = st.pods.get(key)
    if isinstance(pod, str) and life is None and ev.startswith(("Pod", "Container", "Image")):
        life = st.pods[key] = PodLife(pod, f.get("uid"))
    if life is not None and ev not in ("Action", "ActionFailed", "ControllerWaiting"):
        update_life(life, r)
    created = life.created if life is not None else None

    if ev in ("VolumeAttached", "VolumeDetached"):
        force = {"timeout": "forced after 6 min", "out-of-service": "forced: out of service"}.get(str(f.get("force")))
        text = f"attached to {f.get('node')}" if ev == "VolumeAttached" else f"detached from {f.get('node')}"
        took = _dur(float(f.get("seconds") or 0))
        # Shown when a volume moves: a forced detach, a detach while a pod elsewhere waits for the
        # volume (a Multi-Attach event came first), and the attach that follows either.
        pv = str(f.get("pv"))
        if ev == "VolumeDetached":
            shown = force is not None or pv in st.moving
            if shown:
                st.moving.add(pv)
        else:
            shown = pv in st.moving
            st.moving.discard(pv)
        return str(f.get("pvc") or pv), text + _paren(f"{force}, {took}" if force else took), shown
    if ev == "PodCreated":
        n = st.names[str(pod)] = st.names.get(str(pod), 0) + 1
        rev = f.get("revision")
        return str(pod), ("recreated" if n > 1 else "created") + _paren(f"revision {rev}" if rev else ""), True
    if ev == "PodScheduled":
        return str(pod), f"scheduled on {f.get('node')}" + _paren(_since(t, created, "creation")), True
    if ev == "PodUnschedulable":
        return str(pod), f"unschedulable: {f.get('message')}", True
    if ev == "PodRunning":
        return str(pod), f"running on {f.get('node')}" + _paren(_since(t, created, "creation")), True
    if ev == "PodReady":
        since = st.not_ready_since.pop(key, None)
        if since is not None:
            return str(pod), f"ready again (after {_dur(t - since)} not ready)", True
        return str(pod), "ready" + _paren(_since(t, created, "creation")), True
    if ev == "PodNotReady":
        st.not_ready_since[key] = t
        if life is not None and life.terminating is not None:
            return str(pod), "not ready" + _paren(_since(t, life.terminating, "termination began")), True
        return str(pod), "not ready", True
    if ev == "ImagePulling":
        return str(pod), f"pulling {f.get('image')} on {f.get('node')}", True
    if ev == "ContainerStarted":
        count = f.get("restartCount")
        return str(pod), f"container {f.get('container')} started" + _paren(f"restart #{count}" if count else ""), True
    if ev == "ContainerExited":
        return str(pod), f"container {f.get('container')} exited with code {f.get('exitCode')}", True
    if ev == "ContainerRestarted":
        return str(pod), f"container {f.get('container')} restarted (restart #{f.get('restartCount')})", True
    if ev == "ContainerKilled":
        return str(pod), f"container {f.get('container')} killed: {f.get('reason')}", True
    if ev == "PodFailed":
        reason = f.get("reason")
        return str(pod), "failed" + (f": {reason}" if reason else ""), True
    if ev == "PodSucceeded":
        return str(pod), "succeeded (all containers exited)", True
    if ev == "PodTerminating":
        grace = f.get("gracePeriodSeconds")
        return str(pod), "terminating" + _paren(f"grace period {_seconds(grace)}" if grace is not None else ""), True
    if ev == "PodDeleted":
        start = life.terminating if life is not None else None
        return str(pod), "deleted" + _paren(_since(t, start, "termination began")), True
    if ev == "RevisionCreated":
        return str(sts), f"revision {f.get('revision')} created (#{f.get('number')})", True
    if ev == "ControllerWaiting":
        st.waiting[str(sts)] = (t, f"on {pod}" if pod else "")
        return str(sts), f"controller waits: {f.get('reason')} on {pod}", True
    if ev == "ControllerResumed":
        waited = st.waiting.pop(str(sts), None)
        if waited is None:
            return str(sts), "controller resumes", True
        return str(sts), f"controller resumes after waiting {_dur(t - waited[0])} {waited[1]}".rstrip(), True
    if ev == "StatefulSetCreated":
        st.desired[str(sts)] = f.get("replicas")
        st.templates.update(str(x) for x in f.get("volumeClaimTemplates") or ())
        return str(sts), f"created: {plural(f.get('replicas'), 'replica')}, {f.get('podManagementPolicy')}", True
    if ev == "StatefulSetUpdated":
        old, new = st.desired.get(str(sts)), f.get("replicas")
        st.desired[str(sts)] = new
        change = f"replicas {old} → {new}" if old != new else f"replicas {new}"
        return str(sts), f"spec updated (generation {f.get('generation')}), {change}", True
    if ev == "StatefulSetDeleted":
        return str(sts), "deleted", True
    if ev == "StatefulSetStatus":
        before, now = st.ready.get(str(sts), 0), f.get("readyReplicas")
        st.ready[str(sts)] = now
        desired = st.desired.get(str(sts))
        change = f"{before} → {now}" if now != before else f"{now}"
        text = f"ready replicas {change} (desired {desired}, available {f.get('availableReplicas')})"
        return str(sts), text, now != before
    if ev == "Action":
        target, text = _action_text(f)
        return target, text, True
    if ev == "ActionFailed":
        return "", f"{f.get('action')} failed: {f.get('error')}", True
    if ev == "PodStatus":
        # Shown when it says more than the phase records do: ErrImagePull, CrashLoopBackOff, Error...
        status = str(f.get("status", ""))
        shown = is_failing(status) or status in ("NotReady", "Unknown")
        return str(pod), f"kubectl shows {status} (READY {f.get('ready')}, RESTARTS {f.get('restarts')})", shown
    if ev == "ActionNote":
        return "", str(f.get("message")), True
    if ev == "ActionTimedOut":
        return ("", f"{f.get('action')} never fired: {compact(f.get('when'))} did not hold within "
                    f"{_seconds(f.get('timeout'))}", True)
    if ev == "RolledBack":
        return str(sts), f"rolled back to revision {f.get('revision')} ({f.get('controllerRevision')})", True
    if ev == "RollbackSkipped":
        return str(sts), f"skipped rollback ({f.get('message')})", True
    if ev == "DrainTimedOut":
        pending = ", ".join(map(str, f.get("pending") or ())) or "none"
        return str(f.get("node", "")), f"drain gave up after {_seconds(f.get('timeout'))} (pending: {pending})", True
    if ev in ("PVCCreated", "PVCBound", "PVCDeleted"):
        # Shown on the pod's row (the claim <template>-<pod> is named in the text) to keep the column narrow.
        claim = str(f.get("pvc"))
        owner = f.get("pod") or next((claim[len(tpl) + 1:] for tpl in sorted(st.templates, key=len, reverse=True)
                                      if claim.startswith(tpl + "-")), None)
        cls = f.get("storageClass")
        what = {"PVCCreated": "created" + _paren(f"class {cls}" if cls else ""), "PVCBound": "bound to its volume",
                "PVCDeleted": "deleted"}[ev]
        return str(owner or claim), f"claim {claim} {what}", True
    if ev == "DNSAnswer":
        # One line when the answer changes kind (the first NXDOMAIN, the first address), not per lookup.
        dns_key = (str(f.get("name")), str(f.get("client")))
        has_address = bool(f.get("answers"))
        name = str(f.get("name"))
        obj = name.split(".", 1)[0]
        prev = st.dns.get(dns_key)
        if prev is not None and prev[1] == has_address:
            st.dns[dns_key] = (prev[0] + 1, has_address)
            return obj, "", False
        st.dns[dns_key] = (1, has_address)
        if has_address:
            after = _paren(f"after {plural(prev[0], 'negative answer')}") if prev is not None else ""
            return obj, f"{name} from {f.get('client')}: {', '.join(map(str, f.get('answers') or ()))}{after}", True
        return obj, f"{name} from {f.get('client')}: {f.get('rcode')}", True
    if ev == "KubeEvent":
        if f.get("reason") == "FailedAttachVolume":
            st.moving.update(re.findall(r'for volume "([^"]+)"', str(f.get("message"))))
        return str(f.get("object", "")), f"{f.get('reason')}: {f.get('message')}", True
    obj = pod if pod is not None else sts if sts is not None else ""
    rest = ", ".join(f"{k}={v}" for k, v in f.items() if k not in ("pod", "uid", "statefulset"))
    return str(obj), rest, True


def _volume_warning(r: TraceRecord) -> bool:
    """A Multi-Attach or mount-timeout event: the timeline shows why a pod waits for its volume."""
    return r.event == "KubeEvent" and r.fields.get("reason") in ("FailedAttachVolume", "FailedMount")


def describe_records(source: Trace | RunData, events: Collection[str] | None = None) -> list[tuple[TraceRecord, str, str]]:
    """``(record, object, description)`` for the records a timeline shows.

    With ``events=None`` the :data:`DEFAULT_EVENTS` are shown, StatefulSetStatus only when
    readyReplicas changes, PodStatus only when a container cannot run (``ErrImagePull``,
    ``CrashLoopBackOff``, ``Error``, ...) or the pod is ``NotReady`` / ``Unknown``; with an
    explicit collection every record of those events is shown.
    """
    st = _State()
    out: list[tuple[TraceRecord, str, str]] = []
    for r in trace_of(source):
        obj, text, interesting = _describe(r, st)
        if events is None:
            if (r.event in DEFAULT_EVENTS or _volume_warning(r)) and interesting:
                out.append((r, obj, text))
        elif r.event in events:
            out.append((r, obj, text))
    return out


def timeline(source: Trace | RunData, *, events: Collection[str] | None = None,
             width: int | None = None) -> Table:
    """One line per interesting record: clock, event, pod or StatefulSet, and what happened."""
    table = Table(box=None, padding=(0, 1), pad_edge=False, width=width, show_edge=False,
                  header_style="bold dim")
    table.add_column("time", no_wrap=True, style="dim")
    table.add_column("event", no_wrap=True)
    table.add_column("object", no_wrap=True)
    table.add_column("what happened")
    for r, obj, text in describe_records(source, events):
        table.add_row(format_clock(r.t), Text(r.event, style=_EVENT_STYLES.get(r.event, "")), obj, text)
    return table


# ---------------------------------------------------------------------------- whole reports


def _heading(text: str) -> Text:
    return Text(text, style="bold")


def render_trace(trace: TraceSource, console: Console, *, title: str | None = None, show_timeline: bool = True,
                 waiting: Mapping[str, Any] | None = None, show_story: bool = True, until: float | None = None,
                 quorum: int | None = None, quorum_from: float | None = None) -> None:
    """Print a trace: an optional title line, the timeline, the pod, StatefulSet and claim tables,
    and (``show_story``) the plain-language summary."""
    trace = as_trace(trace)
    if title:
        console.print(Text(title, style="bold"))
        console.print()
    if len(trace) == 0:
        console.print("(the trace has no records)")
        return
    parts: list[RenderableType] = []
    if show_timeline:
        parts += [_heading("Timeline"), timeline(trace), Text("")]
    parts += [summary_table(trace, width=console.width), Text(""),
              statefulset_table(trace, waiting=waiting, quorum=quorum, quorum_from=quorum_from, until=until,
                                width=console.width)]
    claims = claims_table(trace)
    if claims is not None:
        parts += [Text(""), claims]
    for stuck in stuck_statefulsets(trace):
        parts += [Text(""), Text(stuck.message(), style="bold yellow")]
    if show_story:
        parts += _story_parts(trace)
    console.print(Group(*parts))


def _story_parts(trace: Trace) -> list[RenderableType]:
    sentences = story(trace)
    return [Text(""), _heading("In short"), Text(" ".join(sentences))] if sentences else []


def render_run(result: RunData, console: Console, *, show_timeline: bool = True, quorum: int | None = None,
               quorum_from: float | None = None) -> None:
    """Print a run: scenario, notices, timeline, tables and expectations."""
    sc = result.scenario
    head = Text(sc.name, style="bold")
    if sc.description:
        head.append(f" — {sc.description}")
    console.print(head)
    facts = [x for x in (sc.source, f"seed {result.seed}", f"until {format_clock(result.until)}",
                         f"{len(result.trace)} trace records") if x]
    console.print(Text(" · ".join(facts), style="dim"))
    for notice in sc.notices:
        console.print(Text(f"note: {notice}", style="yellow"))
    console.print()
    render_trace(result.trace, console, show_timeline=show_timeline, waiting=result.waiting(), show_story=False,
                 until=result.until, quorum=quorum, quorum_from=quorum_from)
    console.print()
    if result.expectations:
        console.print(expectations_table(result))
    else:
        console.print(Text("no expectations", style="dim"))
    console.print(Group(*_story_parts(result.trace)))
