"""``statefulsim run --output json``: a machine-readable summary of a run (docs/cli.md).

The document is one JSON object; its fields are listed in docs/cli.md ("The JSON summary") and
only grow: a field is never renamed or removed.  Times are seconds since the start of the run,
``null`` when the thing never happened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from statefulsim.analysis.stuck import stuck_statefulsets
from statefulsim.present.report import set_summaries

if TYPE_CHECKING:
    from statefulsim.analysis.result import RunData

__all__ = ["SUMMARY_VERSION", "run_summary"]

#: Bumped when a field changes meaning (never for a new field).
SUMMARY_VERSION = 1


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def run_summary(result: RunData, *, quorum: int | None = None, quorum_from: float | None = None) -> dict[str, Any]:
    """The summary of ``result``: the scenario, per StatefulSet its replicas at the end, when it was
    first all Ready, its rollout duration, time below quorum and what the controller waited on at
    the end, and every expectation."""
    stuck = {s.statefulset: s.message() for s in stuck_statefulsets(result.trace)}
    sets = []
    for s in set_summaries(result, quorum=quorum, quorum_from=quorum_from):
        status = s.status or {}
        waiting = None if s.waiting_reason is None else {
            "reason": s.waiting_reason, "pod": s.waiting_pod, "since": _round(s.waiting_since)}
        sets.append({
            "name": s.name,
            "podManagementPolicy": s.policy,
            "desiredReplicas": s.desired,
            "readyReplicas": status.get("readyReplicas"),
            "availableReplicas": status.get("availableReplicas"),
            "allReadyAt": _round(s.all_ready_at),
            "timeToAllReady": _round(s.all_ready_after),
            "rolloutDuration": _round(s.rollout),
            "quorum": s.quorum,
            "belowQuorumFrom": _round(s.window_from),
            "belowQuorumSeconds": _round(s.below_quorum),
            "deleted": s.deleted is not None,
            "waitingAtEnd": waiting,
            "stuck": stuck.get(s.name),
        })
    expectations = [{"ok": x.ok, "description": x.description, "detail": x.detail} for x in result.expectations]
    return {
        "summaryVersion": SUMMARY_VERSION,
        "scenario": result.scenario.name,
        "source": result.scenario.source,
        "seed": result.seed,
        "until": result.until,
        "records": len(result.trace),
        "ok": all(x.ok for x in result.expectations),
        "statefulsets": sets,
        "expectations": expectations,
    }
