"""Actions that wait for state: ``{when: CONDITION, after: DURATION, timeout: DURATION, VERB: ...}``.

A ``when:`` action is armed once the action before it in the scenario's list has fired and its
requests have been answered (its ``execute`` returned, as the next line of a shell script runs
once ``kubectl`` returns); the first one in the list is armed at t 0.  From then on its condition
is judged on the trace: at once on the records so far, then again on every record appended (the
trace calls a watcher, no polling, so the trace of a run without ``when:`` actions is unchanged).
When it holds, the action fires ``after`` seconds later; when ``timeout`` passes first, an
``ActionTimedOut`` record says so and the action (and any ``when:`` action after it) never fires.

Conditions are judged by the analysis layer (``statefulsim.analysis.conditions``); this module
only knows the :class:`Condition` protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol, Sequence

import simpy

from statefulsim.sim.cluster import Cluster
from statefulsim.sim.process import Gen
from statefulsim.sim.trace import TraceRecord


class ConditionWatch(Protocol):
    """One arming of a condition: ``holds`` after the records so far; ``feed`` each new record
    and get whether the condition holds after it."""

    holds: bool

    def feed(self, record: TraceRecord) -> bool: ...


class Condition(Protocol):
    def watch(self, history: Sequence[TraceRecord]) -> ConditionWatch:
        """Start judging, given every record of the trace so far."""
        ...

    def as_fields(self) -> dict[str, Any]:
        """The condition as the scenario writes it (the ``when`` field of the ``Action`` record)."""
        ...

    def statefulsets(self) -> tuple[str, ...]:
        """The StatefulSets it names (the loader checks they exist)."""
        ...


@dataclass(frozen=True)
class Trigger:
    """What makes a ``when:`` action fire: its condition, the delay after it holds, and how long
    to wait for it (None: until the end of the run)."""

    condition: Condition
    after: float = 0.0
    timeout: float | None = None


def run_triggered(cluster: Cluster, actions: Sequence[Any], triggers: Mapping[int, Trigger],
                  started: Mapping[int, simpy.Event], perform: Callable[[Cluster, Any], Gen]) -> None:
    """Start one process per ``when:`` action (``triggers`` by index in ``actions``).  ``started``
    holds, for each ``at:`` action that a ``when:`` action follows, an event the ``at:`` runner
    succeeds with the action's process."""
    env = cluster.env
    fired: dict[int, simpy.Event] = {i: env.event() for i in triggers if i + 1 in triggers}

    def process(i: int, trigger: Trigger) -> Gen:
        before = started.get(i - 1) or fired.get(i - 1)
        if before is not None:
            proc = yield before
            yield proc  # its requests answered
        if not (yield from _wait(cluster, trigger)):
            env.emit("ActionTimedOut", action=actions[i].verb, when=trigger.condition.as_fields(),
                     timeout=trigger.timeout)
            return
        action = actions[i]
        extra: dict[str, Any] = {"when": trigger.condition.as_fields()}
        if trigger.after:
            extra["after"] = trigger.after
        env.emit("Action", action=action.verb, **action.fields(), **extra)
        proc = env.process(perform(cluster, action))
        if i in fired:
            fired[i].succeed(proc)

    for i, trigger in sorted(triggers.items()):
        env.process(process(i, trigger))


def _wait(cluster: Cluster, trigger: Trigger) -> Gen:
    """Wait until the condition holds, then ``after`` more: True; False when ``timeout`` came first."""
    env = cluster.env
    watch = trigger.condition.watch(env.trace.records)
    if not watch.holds:
        held = env.event()

        def on_record(record: TraceRecord) -> None:
            if not held.triggered and watch.feed(record):
                held.succeed()

        stop = env.trace.watch(on_record)
        if trigger.timeout is None:
            yield held
        else:
            yield held | env.timeout(trigger.timeout)
        stop()
        if not held.triggered:
            return False
    if trigger.after:
        yield env.timeout(trigger.after)
    return True
