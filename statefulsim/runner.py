"""Running a scenario: build the cluster, fire the actions, run, check the expectations."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from statefulsim.analysis.expect import ExpectationResult, check_all
from statefulsim.io.scenario import load_scenario
from statefulsim.model.scenario import Scenario
from statefulsim.plugins import load_plugins
from statefulsim.sim.actions import run_actions
from statefulsim.sim.cluster import Cluster
from statefulsim.sim.trace import Trace


@dataclass
class RunResult:
    """What a run produced.  ``trace`` is the table every report, plot and check reads."""

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

    def waiting(self) -> dict[str, Any]:
        """The controller's last waiting reason per StatefulSet (None when it was not waiting)."""
        ctl = self.cluster.statefulset_controller
        return {key.split("/", 1)[1]: w for key, w in ctl.waiting.items()}


def build_cluster(scenario: Scenario, seed: int | None = None) -> Cluster:
    """A cluster with the scenario's objects created and its actions scheduled, not yet run."""
    cluster = Cluster(scenario.cluster, scenario.timing, scenario.seed if seed is None else seed)
    for obj in scenario.objects:
        cluster.add(obj)
    run_actions(cluster, scenario.actions)
    return cluster


def run(scenario: Scenario | str | os.PathLike[str], *, seed: int | None = None, until: float | None = None,
        plugins: Sequence[str] = (), progress: Callable[[float, float], None] | None = None) -> RunResult:
    """Load (if given a path) and run a scenario, optionally with another seed or end time, after
    importing the ``plugins`` modules (:func:`statefulsim.plugins.load_plugins`), and check its
    expectations.

    ``progress(now, until)`` is called now and then during the run (simulated seconds); the
    trace does not depend on it."""
    if plugins:
        load_plugins(plugins)
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    seed = scenario.seed if seed is None else seed
    end = scenario.until if until is None else until
    cluster = build_cluster(scenario, seed)
    cluster.run(end, None if progress is None else (lambda now: progress(now, end)))
    results = check_all(scenario.expectations, cluster.env.trace)
    return RunResult(scenario, seed, end, cluster.env.trace, results, cluster)


def run_scenario(scenario: Scenario, *, seed: int | None = None, until: float | None = None,
                 progress: Callable[[float, float], None] | None = None) -> RunResult:
    """Deprecated: use :func:`run`, which takes a :class:`Scenario` or a path."""
    warnings.warn("statefulsim.run_scenario is deprecated; use statefulsim.run", DeprecationWarning, stacklevel=2)
    return run(scenario, seed=seed, until=until, progress=progress)
