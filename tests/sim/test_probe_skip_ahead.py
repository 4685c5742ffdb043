"""Probe skip-ahead must give exactly the traces of the tick-by-tick probe workers, with fewer
SimPy events (issue #7)."""

from __future__ import annotations

import os
import pathlib
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpers import assert_same_records, scenario, statefulset
from statefulsim.io.scenario import load_scenario
from statefulsim.model.scenario import Scenario
from statefulsim.runner import build_cluster

RANDOM_TIMING: dict[str, Any] = {
    "apiLatency": {"exponential": {"mean": "10ms"}},
    "watchLatency": {"lognormal": {"median": "20ms", "p99": "200ms"}},
    "plegRelist": {"uniform": {"low": "0s", "high": "1s"}},
    "appReady": {"lognormal": {"median": "5s", "p99": "20s"}},
    "probeDuration": "5ms",
}

SCENARIOS = sorted(pathlib.Path(__file__).resolve().parents[2].joinpath("scenarios").glob("*.yaml"))


def _run(sc: Scenario, skip: bool, seed: int | None = None) -> tuple[list[dict[str, Any]], int]:
    sc = replace(sc, cluster=replace(sc.cluster, probe_skip_ahead=skip))
    cluster = build_cluster(sc, seed)
    steps = [0]
    step = cluster.env.sim.step

    def counted() -> None:
        steps[0] += 1
        step()

    cluster.env.sim.step = counted  # type: ignore[method-assign]
    cluster.run(sc.until)
    return [r.as_dict() for r in cluster.env.trace], steps[0]


def _same_traces(sc: Scenario, seed: int | None = None) -> tuple[int, int]:
    fast, fast_events = _run(sc, True, seed)
    slow, slow_events = _run(sc, False, seed)
    assert_same_records(fast, slow, ("skip-ahead", "tick by tick"))
    return fast_events, slow_events


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_bundled_scenarios_identical(path: pathlib.Path) -> None:
    fast_events, slow_events = _same_traces(load_scenario(path))
    assert fast_events <= slow_events


def test_skipping_saves_events_on_a_long_quiet_run() -> None:
    sc = scenario(statefulset(replicas=3, readiness={"periodSeconds": 1}), until="10m",
                  timing={"probeDuration": "5ms"})
    fast_events, slow_events = _same_traces(sc)
    # three Ready pods probed every second for ~10 minutes: ~1,800 ticks of two events each,
    # while starting and stopping them takes a few hundred
    assert slow_events > 3600
    assert fast_events < 600


@settings(max_examples=int(os.environ.get("STATEFULSIM_PROPERTY_EXAMPLES", "25")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(
    replicas=st.integers(1, 4),
    policy=st.sampled_from(["OrderedReady", "Parallel"]),
    period=st.sampled_from([1, 3, 10]),
    success=st.sampled_from([1, 2]),
    failure=st.sampled_from([1, 3]),
    delay=st.sampled_from([0, 4]),
    liveness=st.booleans(),
    startup=st.booleans(),
    events=st.lists(st.tuples(st.sampled_from(["breakReadiness", "restoreReadiness", "crashContainer",
                                               "deletePod", "failPod", "breakLiveness", "restoreLiveness"]),
                              st.integers(0, 3), st.integers(5, 150)), max_size=5),
    exact=st.booleans(),
    seed=st.integers(0, 1000),
)
# Two pods' liveness probes failing at the same instant: their order must not depend on when
# each tick was scheduled (it did, before probe ticks were ordered by worker).
@example(replicas=2, policy="Parallel", period=1, success=1, failure=1, delay=0, liveness=True, startup=False,
         events=[], exact=False, seed=43)
def test_random_histories_identical(replicas: int, policy: str, period: int, success: int, failure: int,
                                    delay: int, liveness: bool, startup: bool,
                                    events: list[tuple[str, int, int]], exact: bool, seed: int) -> None:
    probe = {"periodSeconds": period, "successThreshold": success, "failureThreshold": failure,
             "initialDelaySeconds": delay}
    container: dict[str, Any] = {"name": "app", "image": "nginx:1.27",
                                 "readinessProbe": {"httpGet": {"path": "/", "port": 80}, **probe}}
    if liveness:
        container["livenessProbe"] = {"tcpSocket": {"port": 80}, "periodSeconds": period, "failureThreshold": failure}
    if startup:
        container["startupProbe"] = {"tcpSocket": {"port": 80}, "periodSeconds": 2, "failureThreshold": 30}
    sts = statefulset(replicas=replicas, policy=policy)
    sts["spec"]["template"]["spec"]["containers"] = [container]
    actions: list[dict[str, Any]] = []
    for verb, ordinal, at in sorted(events, key=lambda e: e[2]):
        args: dict[str, Any] = {"pod": f"web-{ordinal}"}
        if verb == "crashContainer":
            args["container"] = "app"
        actions.append({"at": f"{at}s", verb: args})
    # round, constant delays make many events coincide with probe ticks; random ones do not
    timing = None if exact else RANDOM_TIMING
    _same_traces(scenario(sts, actions=actions, until="4m", timing=timing), seed)
