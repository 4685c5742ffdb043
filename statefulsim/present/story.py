"""The report's last paragraph: what happened in a run, in plain language, with how long each
phase took.  Every sentence is computed from the trace (nothing is written per scenario), so it
stays true when the timing or the model changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from statefulsim.analysis import metrics
from statefulsim.analysis.dns import dns_visibility
from statefulsim.analysis.metrics import PodLife
from statefulsim.analysis.stuck import stuck_statefulsets
from statefulsim.durations import format_duration
from statefulsim.sim.actions import describe_action
from statefulsim.sim.trace import Trace, TraceSource, as_trace
from statefulsim.text import plural

__all__ = ["story"]


def _dur(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms" if 0 <= seconds < 1 else format_duration(seconds)


def _names(items: Sequence[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


@dataclass
class _Claims:
    created: list[str]
    bound_first: bool  # every claim bound before its pod first ran
    deleted: list[str]


def _claims(trace: Trace, lives: Sequence[PodLife]) -> _Claims:
    created = [str(r.fields["pvc"]) for r in trace.of("PVCCreated")]
    bound: dict[str, float] = {}
    for r in trace.of("PVCBound"):
        pod = r.fields.get("pod")
        if isinstance(pod, str):
            bound.setdefault(pod, r.t)
    first_run: dict[str, float] = {}
    for life in lives:
        if life.running is not None:
            first_run.setdefault(life.pod, life.running)
    bound_first = bool(bound) and all(bound.get(pod, float("inf")) <= t for pod, t in first_run.items() if pod in bound)
    deleted = [str(r.fields["pvc"]) for r in trace.of("PVCDeleted")]
    return _Claims(created, bound_first, deleted)


def _startup(trace: Trace, name: str, lives: Sequence[PodLife]) -> str | None:
    """How the set's first pods came up: the order, the gating and the time to all Ready."""
    ready = metrics.all_ready(trace).get(name)
    created = metrics.first_statefulset(trace, name)
    if created is None:
        return None
    first = [life for life in lives if life.statefulset == name and life.created is not None
             and (ready is None or ready.at is None or life.created <= ready.at)]
    if not first:
        return None
    policy = created.fields.get("podManagementPolicy")
    pods = [life.pod for life in first]
    ordered = all(b.created is not None and a.ready is not None and a.ready <= b.created
                  for a, b in zip(first, first[1:]))
    how = ("one at a time, each only after the one before it was Running and Ready" if ordered and len(first) > 1
           else "at once" if len(first) > 1 else "")
    text = f"StatefulSet {name} ({policy}) created {plural(len(first), 'pod')} ({_names(pods)})"
    text += f" {how}." if how else "."
    took = [f"{life.pod} {_dur(life.time_to_ready)}" for life in first if life.time_to_ready is not None]
    if ready is not None and ready.at is not None:
        text += f" All were Ready {_dur(ready.at - ready.created)} after the set was created"
        text += f" ({', '.join(took)} from creation to Ready)." if took else "."
    else:
        text += " They were not all Ready by the end of the run."
    return text


def _dns(trace: Trace) -> list[str]:
    out = []
    for name, pod in metrics.pod_dns_names(trace):
        v = dns_visibility(trace, name, pod)
        if v.first_answer_at is None:
            out.append(f"{name} never resolved to an address ({plural(v.negative_answers_before, 'negative answer')}).")
        elif v.delay is not None:
            before = (f"answered NXDOMAIN {plural(v.negative_answers_before, 'time')}, then"
                      if v.negative_answers_before else "answered")
            out.append(f"{name} {before} with its address {_dur(v.delay)} after {pod} became Ready.")
    return out


def _after_actions(trace: Trace, lives: Sequence[PodLife]) -> list[str]:
    out = []
    for action in trace.of("Action"):
        verb = action.fields.get("action")
        if verb == "dnsQuery":
            continue
        text = f"At {format_duration(action.t)}: {describe_action(action.fields)}."
        name = action.fields.get("statefulset")
        if verb == "scale" and isinstance(name, str):
            gone = sorted((life for life in lives if life.statefulset == name and life.deleted is not None
                           and life.terminating is not None and life.terminating >= action.t),
                          key=lambda life: life.deleted or 0.0)
            if gone:
                end = gone[-1].deleted or action.t
                text += (f" {_names([life.pod for life in gone])} stopped in that order, the last one "
                         f"{_dur(end - action.t)} after the action.")
        if verb in ("setImage", "patch") and isinstance(name, str):
            took = metrics.rollout_duration(trace, name)
            text += (f" The rollout took {_dur(took)} (to every pod on the new revision)." if took is not None
                     else " The rollout did not finish by the end of the run.")
        out.append(text)
    return out


def _moves(trace: Trace, lives: Sequence[PodLife]) -> list[str]:
    """A pod that came back on another node: when it was Ready again, and how long its volumes
    kept it waiting (a detach from the old node, forced or not, before the attach to the new)."""
    out = []
    for new in lives:
        old = next((o for o in reversed(lives) if o.pod == new.pod and o.deleted is not None
                    and o.created is not None and new.created is not None and o.created < new.created), None)
        if old is None or old.node == new.node or new.ready is None or old.deleted is None:
            continue
        text = (f"{new.pod} ran again on {new.node}: Ready at {format_duration(new.ready)}, "
                f"{_dur(new.ready - old.deleted)} after the old {new.pod} on {old.node} was deleted.")
        for d in trace.of("VolumeDetached", node=old.node):
            if old.deleted <= d.t <= new.ready and str(d.fields.get("pvc") or "").endswith(f"-{new.pod}"):
                why = {"timeout": "forced after the 6-minute maxWaitForUnmountDuration",
                       "out-of-service": "forced at once: the node is out of service"}.get(str(d.fields.get("force")),
                                                                                       "once the node reported it unmounted")
                text += (f" Its volume {d.fields.get('pvc') or d.fields.get('pv')} was detached from {old.node} "
                         f"{_dur(d.t - old.deleted)} after the deletion ({why}).")
        out.append(text)
    return out


def story(trace: TraceSource) -> list[str]:
    """Plain-language sentences about the run, in the order things happened."""
    trace = as_trace(trace)
    lives = metrics.pod_lives(trace)
    out: list[str] = []
    for name in metrics.statefulsets(trace):
        line = _startup(trace, name, lives)
        if line:
            out.append(line)
    claims = _claims(trace, lives)
    if claims.created:
        text = f"{plural(len(claims.created), 'claim')} ({_names(claims.created)}) "
        text += "were created and bound, each before its pod ran." if claims.bound_first else "were created."
        out.append(text)
    out += _dns(trace)
    out += _after_actions(trace, lives)
    out += _moves(trace, lives)
    if claims.created:
        kept = [c for c in claims.created if c not in claims.deleted]
        if claims.deleted:
            out.append(f"{plural(len(claims.deleted), 'claim')} {'was' if len(claims.deleted) == 1 else 'were'} "
                       f"deleted; {plural(len(kept), 'claim')} kept.")
        elif any(r.fields.get("action") == "scale" for r in trace.of("Action")):
            out.append(f"The {plural(len(kept), 'claim')} {'was' if len(kept) == 1 else 'were'} kept: "
                       "scaling down left them in place, so the data is there for the next scale up.")
    for stuck in stuck_statefulsets(trace):
        out.append(stuck.message() + ".")
    return out
