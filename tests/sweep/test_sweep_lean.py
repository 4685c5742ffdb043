"""A sweep's lean runs (issue #20): same metrics as the full run, on every bundled scenario and
random seeds, and the lean path is the one a sweep worker takes."""

from __future__ import annotations

import pathlib
import random

import pytest

from statefulsim.io.scenario import load_scenario
from statefulsim.io.trace_io import dumps_record
from statefulsim.runner import run
from statefulsim.sim import lean_observer
from statefulsim.sim.lean_observer import LEAN_DROPPED, LeanTraceObserver
from statefulsim.sweep.grid import prepare
from statefulsim.sweep.metrics import run_metrics
from statefulsim.sweep.running import make_batches, run_batch, runs_lean, sweep_trace

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
#: Two seeds per scenario besides its own, drawn once from a fixed generator.
SEEDS = random.Random(20).sample(range(10_000), 2)


def _metrics(trace: object, until: float) -> list[dict[str, float | None]]:
    return [run_metrics(trace, until=until, quorum=q) for q in (1, 2)]  # type: ignore[arg-type]


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_lean_run_has_the_full_runs_metrics_and_records(path: pathlib.Path) -> None:
    scenario = load_scenario(path)
    for seed in (scenario.seed, *SEEDS):
        full = run(scenario, seed=seed)
        trace = sweep_trace(scenario, seed)
        assert _metrics(trace, scenario.until) == _metrics(full.trace, full.until), (path.stem, seed)
        if not runs_lean(scenario):  # when: triggers may wait for any record: the full observer
            assert [dumps_record(r) for r in trace] == [dumps_record(r) for r in full.trace]
            continue
        # the run itself is the same: the lean trace is the full one without the dropped records
        kept = [dumps_record(r) for r in full.trace if r.event not in LEAN_DROPPED]
        assert [dumps_record(r) for r in trace] == kept, (path.stem, seed)
        assert not any(r.event in LEAN_DROPPED for r in trace)


def test_every_bundled_scenario_but_the_triggered_ones_runs_lean() -> None:
    lean = [p.stem for p in SCENARIOS if runs_lean(load_scenario(p))]
    assert "quickstart" in lean and len(lean) >= len(SCENARIOS) - 3
    for p in SCENARIOS:
        assert runs_lean(load_scenario(p)) == (not load_scenario(p).triggers)


def test_lean_trace_lacks_what_the_full_one_has() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "quickstart.yaml")
    full = sweep_trace(scenario, 3, lean=False)
    lean = sweep_trace(scenario, 3, lean=True)
    assert full.of("PodStatus") and full.of("EndpointSliceUpdated") and full.of("PVCBound") and full.of("KubeEvent")
    assert not lean.of("PodStatus") and not lean.of("EndpointSliceUpdated") and not lean.of("PVCBound")
    assert not lean.of("KubeEvent")  # the recorders are off, not only their records filtered
    assert len(lean) < len(full) and lean.end == full.end == scenario.until


def test_sweep_worker_takes_the_lean_path(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[LeanTraceObserver] = []
    init = LeanTraceObserver.__init__

    def spy(self: LeanTraceObserver, *args: object, **kw: object) -> None:
        made.append(self)
        init(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(lean_observer.LeanTraceObserver, "__init__", spy)
    path = ROOT / "scenarios" / "quickstart.yaml"
    point = prepare(path, ())[0]
    batch = make_batches([(point, 0), (point, 1)], 2, 2, None)[0]
    result = run_batch(batch)
    assert len(made) == 2
    scenario = load_scenario(path)
    for seed, metrics in result.runs:
        assert metrics == run_metrics(run(scenario, seed=seed).trace, until=scenario.until, quorum=2)


def test_run_one_pauses_the_collector_and_frees_the_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cyclic collector is off during a run, back on after it, and the run's cluster (cyclic
    garbage) is freed before run_one returns."""
    import gc
    import weakref

    from statefulsim import runner
    from statefulsim.sweep import running

    clusters: list[weakref.ref[object]] = []
    during: list[bool] = []
    build = runner.build_cluster

    def spy(*args: object, **kw: object) -> object:
        cluster = build(*args, **kw)  # type: ignore[arg-type]
        clusters.append(weakref.ref(cluster))
        during.append(gc.isenabled())
        return cluster

    monkeypatch.setattr(runner, "build_cluster", spy)
    point = prepare(ROOT / "scenarios" / "quickstart.yaml", ())[0]
    batch = make_batches([(point, 5)], 1, None, None)[0]
    assert gc.isenabled()
    metrics = running.run_one(batch.text, batch.file, batch.base_dir, 5, None, None)
    assert gc.isenabled() and during == [False] and clusters[0]() is None
    assert metrics["time_to_ready"] is not None
    gc.disable()
    try:  # a caller's disabled collector stays disabled
        running.run_one(batch.text, batch.file, batch.base_dir, 5, None, None)
        assert not gc.isenabled()
    finally:
        gc.enable()
