"""Why is it stuck?  StatefulSets that end a run still waiting, explained from the trace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from statefulsim.durations import format_clock
from statefulsim.sim.trace import Trace, TraceRecord

_WHAT = {
    "PredecessorNotReady": "waiting for {pod} to become Running and Ready",
    "PodNotAvailable": "waiting for {pod} to stay Ready for minReadySeconds",
    "PodTerminating": "waiting for {pod} to finish terminating",
    "PodFailed": "waiting for the failed {pod} to be replaced",
    "StaleClaim": "waiting for the old PersistentVolumeClaim of {pod} to be deleted",
    "UnavailableBudgetExhausted": "maxUnavailable is used up by the unavailable {pod}",
}


@dataclass(frozen=True)
class Stuck:
    """A StatefulSet the controller was still waiting on when the run ended."""

    statefulset: str
    reason: str
    pod: str
    since: float  # when the controller started waiting for this reason
    pod_detail: str  # e.g. "never Ready since 00:04:10"
    hint: str
    #: What keeps the pod from running, when the trace says: "image X cannot be pulled: <message>".
    cause: str = ""

    def message(self) -> str:
        what = _WHAT.get(self.reason, "waiting on {pod} (" + self.reason + ")").format(pod=self.pod)
        text = f"{self.statefulset} is stuck: {what}"
        if self.cause:
            text += f"; {self.cause}"
        if self.pod_detail:
            text += f" ({self.pod_detail})"
        text += f", since {format_clock(self.since)}"
        if self.hint:
            text += f" — {self.hint}"
        return text


def _last(trace: Trace, event: str, **match: Any) -> TraceRecord | None:
    found = None
    for r in trace:
        if r.event == event and all(r.fields.get(k) == v for k, v in match.items()):
            found = r
    return found


def _pod_detail(trace: Trace, pod: str) -> tuple[str, str | None, bool]:
    """(description, revision of the pod's latest incarnation, whether it never became Ready)."""
    created = _last(trace, "PodCreated", pod=pod)
    if created is None:
        return "", None, False
    uid = created.fields["uid"]
    rev = created.fields.get("revision")
    ready = _last(trace, "PodReady", uid=uid)
    not_ready = _last(trace, "PodNotReady", uid=uid)
    terminating = _last(trace, "PodTerminating", uid=uid)
    if terminating is not None and _last(trace, "PodDeleted", uid=uid) is None:
        return f"terminating since {format_clock(terminating.t)}", rev, False
    if ready is None:
        return f"never Ready since {format_clock(created.t)}", rev, True
    if not_ready is not None and not_ready.t >= ready.t:
        return f"not Ready since {format_clock(not_ready.t)}", rev, False
    return "", rev, False


#: STATUS words of a pod whose image cannot be pulled (``PodStatus``), with or without ``Init:``.
_PULL_STATUSES = frozenset({"ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull"})
_FAILED_PULL = 'Failed to pull image "'


def _pull_failure(trace: Trace, pod: str) -> str:
    """"image X cannot be pulled: <message>" when the pod's latest incarnation ends the run in
    ErrImagePull / ImagePullBackOff / ErrImageNeverPull, from the kubelet's last ``Failed`` Event."""
    created = _last(trace, "PodCreated", pod=pod)
    if created is None:
        return ""
    row = _last(trace, "PodStatus", uid=created.fields["uid"])
    if row is None or str(row.fields.get("status", "")).removeprefix("Init:") not in _PULL_STATUSES:
        return ""
    obj = f"pod/{pod}"
    cause = ""
    for r in trace:
        if r.t < created.t or r.event != "KubeEvent" or r.fields.get("object") != obj:
            continue
        message = str(r.fields.get("message", ""))
        if r.fields.get("reason") == "Failed" and message.startswith(_FAILED_PULL):
            image, _, error = message[len(_FAILED_PULL):].partition('": ')
            cause = f"image {image} cannot be pulled: {error}"
        elif r.fields.get("reason") == "ErrImageNeverPull":
            cause = message
    return cause


def stuck_statefulsets(trace: Trace) -> list[Stuck]:
    """Every set whose last controller record is a ControllerWaiting (work left, not done)."""
    last: dict[str, TraceRecord] = {}
    for r in trace:
        if r.event in ("ControllerWaiting", "ControllerResumed", "StatefulSetDeleted"):
            last[r.fields["statefulset"]] = r
    out: list[Stuck] = []
    for name, rec in last.items():
        if rec.event != "ControllerWaiting":
            continue
        pod, reason = rec.fields["pod"], rec.fields["reason"]
        detail, rev, never_ready = _pod_detail(trace, pod)
        status = _last(trace, "StatefulSetStatus", statefulset=name)
        hint = ""
        if status is not None and rev is not None and never_ready and reason == "PredecessorNotReady":
            update, current = status.fields.get("updateRevision"), status.fields.get("currentRevision")
            if rev != update:
                hint = (f"forced rollback: the template changed since {pod} was created, but OrderedReady waits "
                        f"for it first; delete {pod} to have it recreated from the current template")
            elif rev != current:
                hint = f"the new template ({rev}) never becomes Ready; fix or revert it (see forced rollback)"
        out.append(Stuck(name, reason, pod, rec.t, detail, hint, _pull_failure(trace, pod) if pod else ""))
    return out
