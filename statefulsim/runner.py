"""Running a scenario: build the cluster, fire the actions, run, check the expectations."""

from __future__ import annotations

import os
import warnings
from typing import Callable, Sequence

from statefulsim.analysis.expect import check_all
from statefulsim.analysis.result import RunData
from statefulsim.durations import parse_positive_duration
from statefulsim.io.scenario import load_scenario
from statefulsim.model.scenario import Scenario
from statefulsim.plugins import load_plugins
from statefulsim.sim.actions import run_actions
from statefulsim.sim.cluster import Cluster
from statefulsim.sim.observer import TraceObserver


class RunResult(RunData):
    """What :func:`run` returns: :class:`~statefulsim.analysis.result.RunData` with a Jupyter view."""

    def _repr_html_(self) -> str:
        """Jupyter: a summary line, the expectations, what is stuck, and the timeline figure."""
        import html

        e = html.escape
        rows = "".join(f"<tr><td>{'✓' if x.ok else '✗'}</td><td>{e(x.description)}</td><td>{e(x.detail)}</td></tr>"
                       for x in self.expectations)
        parts = [f"<p><b>{e(repr(self))}</b></p>"]
        if rows:
            parts.append(f"<table><tr><th></th><th>expectation</th><th>detail</th></tr>{rows}</table>")
        stuck = self.stuck()
        if stuck:
            parts.append("<p>stuck: " + "; ".join(e(str(s)) for s in stuck) + "</p>")
        parts.append(self._timeline_svg())
        return "".join(parts)

    def _timeline_svg(self) -> str:
        import io

        from statefulsim.present.plots import timeline_figure

        fig = timeline_figure(self)
        out = io.StringIO()
        fig.savefig(out, format="svg", bbox_inches="tight")
        text = out.getvalue()
        return text[text.find("<svg"):]


def build_cluster(scenario: Scenario, seed: int | None = None, *,
                  observer: type[TraceObserver] = TraceObserver) -> Cluster:
    """A cluster with the scenario's objects created and its actions scheduled, not yet run;
    ``observer`` writes its trace (a sweep passes :class:`~statefulsim.sim.lean_observer.LeanTraceObserver`)."""
    cluster = Cluster(scenario.cluster, scenario.timing, scenario.seed if seed is None else seed, observer=observer)
    for obj in scenario.objects:
        cluster.add(obj)
    run_actions(cluster, scenario.actions, scenario.triggers)
    return cluster


def run(scenario: Scenario | str | os.PathLike[str], *, seed: int | None = None, until: float | str | None = None,
        plugins: Sequence[str] = (), progress: Callable[[float, float], None] | None = None) -> RunResult:
    """Load (if given a path) and run a scenario, optionally with another seed or end time, after
    importing the ``plugins`` modules (:func:`statefulsim.plugins.load_plugins`), and check its
    expectations.  ``until`` is what ``--until`` takes: seconds, or a duration such as ``"90s"``
    or ``"1h30m"`` (positive and finite; anything else raises ``DurationError``, a ValueError).

    ``progress(now, until)`` is called now and then during the run (simulated seconds); the
    trace does not depend on it."""
    if isinstance(until, str):
        until = parse_positive_duration(until)
    if plugins:
        load_plugins(plugins)
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    seed = scenario.seed if seed is None else seed
    end = scenario.until if until is None else until
    cluster = build_cluster(scenario, seed)
    cluster.run(end, None if progress is None else (lambda now: progress(now, end)))
    cluster.env.trace.end = end
    results = check_all(scenario.expectations, cluster.env.trace)
    return RunResult(scenario, seed, end, cluster.env.trace, results, cluster)


def run_scenario(scenario: Scenario, *, seed: int | None = None, until: float | None = None,
                 progress: Callable[[float, float], None] | None = None) -> RunResult:
    """Deprecated: use :func:`run`, which takes a :class:`Scenario` or a path."""
    warnings.warn("statefulsim.run_scenario is deprecated; use statefulsim.run", DeprecationWarning, stacklevel=2)
    return run(scenario, seed=seed, until=until, progress=progress)
