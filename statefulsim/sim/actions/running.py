"""Running a scenario's actions: the ``at:`` ones at their times, the ``when:`` ones on their triggers."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from statefulsim.sim.cluster import Cluster
from statefulsim.sim.process import Gen
from statefulsim.sim.triggers import Trigger, run_triggered


def perform_action(cluster: Cluster, action: Any) -> Gen:
    """Execute one action (a SimPy process body); a refusal becomes an ``ActionFailed`` record,
    a note (``{"note": ...}``, e.g. a patch that changed nothing) an ``ActionNote`` record."""
    result = yield from action.execute(cluster)
    if result and "error" in result:
        cluster.env.emit("ActionFailed", action=action.verb, error=result["error"])
    elif result and "note" in result:
        cluster.env.emit("ActionNote", action=action.verb, message=result["note"])


def run_actions(cluster: Cluster, actions: Sequence[Any], triggers: Mapping[int, Trigger] | None = None) -> None:
    """Start one process that fires the ``at:`` actions at their times, in order, and one per
    ``when:`` action (``triggers``, by index in ``actions``; see :mod:`statefulsim.sim.triggers`)."""
    triggers = triggers or {}
    timed = [(i, a) for i, a in enumerate(actions) if i not in triggers]
    started = {i - 1: cluster.env.event() for i in triggers if i > 0 and i - 1 not in triggers}

    def runner() -> Gen:
        for i, action in sorted(timed, key=lambda ia: ia[1].at):
            if action.at > cluster.env.now:
                yield cluster.env.timeout(action.at - cluster.env.now)
            cluster.env.emit("Action", action=action.verb, **action.fields())
            proc = cluster.env.process(perform_action(cluster, action))
            if i in started:
                started[i].succeed(proc)

    cluster.env.process(runner())
    if triggers:
        run_triggered(cluster, actions, triggers, started, perform_action)
