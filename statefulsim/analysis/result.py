"""What a run produced, as the analysis and presentation layers read it (:class:`RunData`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from statefulsim.analysis.expect import ExpectationResult
from statefulsim.model.scenario import Scenario
from statefulsim.sim.cluster import Cluster
from statefulsim.sim.trace import Trace

__all__ = ["RunData", "trace_of"]


@dataclass
class RunData:
    """What a run produced: the scenario, seed, end time, trace, expectation results and the
    cluster.  ``trace`` is the table every report, plot and check reads.  The runner returns its
    subclass :class:`statefulsim.runner.RunResult`, which adds the Jupyter view."""

    scenario: Scenario
    seed: int
    until: float
    trace: Trace
    expectations: list[ExpectationResult]
    cluster: Cluster

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.expectations)

    def records(self) -> list[dict[str, Any]]:
        """The trace as a list of plain dicts (``pandas.DataFrame(result.records())`` works)."""
        return [r.as_dict() for r in self.trace]

    def stuck(self) -> list[Any]:
        """StatefulSets the controller was still waiting on at the end, with the reason."""
        from statefulsim.analysis.stuck import stuck_statefulsets

        return stuck_statefulsets(self.trace)

    def __repr__(self) -> str:
        passed = sum(e.ok for e in self.expectations)
        return (f"<{type(self).__name__} {self.scenario.name!r} seed {self.seed}: {len(self.trace)} records, "
                f"expectations {passed}/{len(self.expectations)} ok>")

    def waiting(self) -> dict[str, Any]:
        """The controller's last waiting reason per StatefulSet, read from the trace: its last
        ``ControllerWaiting`` (reason and pod), None after a ``ControllerResumed``."""
        from statefulsim.sim.controllers.statefulset.control import Waiting

        out: dict[str, Any] = {}
        for r in self.trace:
            if r.event == "ControllerWaiting":
                out[str(r.fields["statefulset"])] = Waiting(str(r.fields["reason"]), str(r.fields.get("pod") or ""))
            elif r.event == "ControllerResumed":
                out[str(r.fields["statefulset"])] = None
        return out


def trace_of(source: Trace | RunData) -> Trace:
    """The trace of ``source``: a :class:`Trace` itself, or a run's ``trace``."""
    return source if isinstance(source, Trace) else source.trace
