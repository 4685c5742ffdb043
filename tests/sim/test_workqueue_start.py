"""Work-queue workers started on demand (issue #20) give the eager workers' traces exactly."""

from __future__ import annotations

import pathlib
from dataclasses import replace

import pytest

from helpers import assert_same_records, scenario, statefulset
from statefulsim.io.scenario import load_scenario
from statefulsim.model.scenario import Scenario
from statefulsim.runner import run
from statefulsim.sim.controllers import workqueue as workqueue_module
from statefulsim.sim.controllers.workqueue import WorkQueue
from statefulsim.sim.env import SimEnv

SCENARIOS = sorted(pathlib.Path(__file__).resolve().parents[2].joinpath("scenarios").glob("*.yaml"))


def _queues(monkeypatch: pytest.MonkeyPatch) -> list[WorkQueue]:
    made: list[WorkQueue] = []
    init = WorkQueue.__init__

    def recording(self: WorkQueue, *args: object, **kwargs: object) -> None:
        init(self, *args, **kwargs)  # type: ignore[arg-type]
        made.append(self)

    monkeypatch.setattr(WorkQueue, "__init__", recording)
    return made


def _both_ways(sc: Scenario, monkeypatch: pytest.MonkeyPatch, seed: int | None = None) -> tuple[int, int]:
    """Assert lazy and eager workers give the same trace; returns (workers started, workers)."""
    queues = _queues(monkeypatch)
    lazy = [r.as_dict() for r in run(sc, seed=seed).trace]
    started = sum(q.started for q in queues)
    total = sum(q._workers for q in queues)
    monkeypatch.setattr(workqueue_module, "LAZY_START", False)
    eager = [r.as_dict() for r in run(sc, seed=seed).trace]
    monkeypatch.setattr(workqueue_module, "LAZY_START", True)
    assert_same_records(lazy, eager, ("workers on demand", "eager workers"))
    return started, total


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_bundled_scenarios_identical(path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started, total = _both_ways(load_scenario(path), monkeypatch)
    assert 0 < started < total  # the on-demand start ran, and left workers unstarted


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_busy_parallel_set_is_identical(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Many keys at once (a Parallel set with claims, a headless Service): several workers per queue.
    sc = scenario(statefulset(replicas=12, policy="Parallel"), until="3m", seed=seed,
                  actions=[{"at": "60s", "scale": {"statefulset": "web", "replicas": 2}}],
                  timing={"apiLatency": {"exponential": {"mean": "20ms"}}})
    _both_ways(sc, monkeypatch)


def _record_syncs(lazy: bool, monkeypatch: pytest.MonkeyPatch,
                  keys: tuple[str, ...] = ("slow-a", "fast-b", "slow-c", "slow-d")
                  ) -> tuple[list[tuple[float, str, int]], int]:
    monkeypatch.setattr(workqueue_module, "LAZY_START", lazy)
    env = SimEnv()
    calls: list[tuple[float, str, int]] = []
    order = iter(range(1000))

    def sync(key: str):  # type: ignore[no-untyped-def]
        calls.append((env.now, key, next(order)))
        if key.startswith("slow"):
            yield env.timeout(1.0)
        return True

    # An ordinary event of the same instant, scheduled before the queue: the start-up goes first.
    env.sim.timeout(0).callbacks.append(lambda _e: calls.append((env.now, "other event", next(order))))
    q = WorkQueue(env, "t", sync, workers=3)

    def urgent_later():  # type: ignore[no-untyped-def]
        calls.append((env.now, "process started after the queue", next(order)))
        yield env.timeout(0)

    env.process(urgent_later())  # urgent too, scheduled after the start-up: runs after it
    for key in keys:  # queued before the run: the start-up takes them
        q.add(key)
    env.sim.run(until=0.5)
    for key in ("slow-e", "fast-f", "slow-a"):
        q.add(key)
    env.sim.run(until=10)
    return calls, q.started


def test_keys_queued_before_the_run_are_taken_as_eager_workers_take_them(monkeypatch: pytest.MonkeyPatch) -> None:
    lazy, started = _record_syncs(True, monkeypatch)
    eager, eager_started = _record_syncs(False, monkeypatch)
    assert lazy == eager
    assert eager_started == 3 and started == 3
    assert [k for _, k, _ in lazy[:6]] == ["slow-a", "fast-b", "slow-c", "slow-d",
                                           "process started after the queue", "other event"]


@pytest.mark.parametrize("keys", [(), ("slow-a",), ("fast-a",), ("slow-a", "fast-b")])
def test_fewer_keys_before_the_run_than_workers(keys: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    """The start-up leaves a slot for every worker it did not start: later keys run at once."""
    lazy, started = _record_syncs(True, monkeypatch, keys)
    eager, _ = _record_syncs(False, monkeypatch, keys)
    assert lazy == eager and started <= 3
    assert [t for t, k, _ in lazy if k in ("slow-e", "fast-f")] == [0.5, 0.5]


def test_a_failing_start_up_step_leaves_the_other_workers_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker whose first step fails stops the run; run on, and the others still start."""
    def record(lazy: bool) -> list[tuple[float, str]]:
        monkeypatch.setattr(workqueue_module, "LAZY_START", lazy)
        env = SimEnv()
        calls: list[tuple[float, str]] = []

        def sync(key: str):  # type: ignore[no-untyped-def]
            calls.append((env.now, key))
            # Yielding what is not an event makes SimPy raise out of the step itself (an error
            # raised by the sync instead only fails the worker's process).
            yield 42 if key == "bad" else env.timeout(1.0)
            return True

        q = WorkQueue(env, "t", sync, workers=3)
        q.add("bad")
        q.add("b")
        with pytest.raises(RuntimeError, match="Invalid yield value"):
            env.sim.run()
        for key in ("c", "d", "e"):
            q.add(key)
        env.sim.run(until=20)
        return calls

    lazy, eager = record(True), record(False)
    assert lazy == eager
    assert [k for _, k in lazy] == ["bad", "b", "c", "d", "e"]


def test_other_tie_breaks_start_every_worker_eagerly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under lifo or shuffle the start-up steps are among the choices: the workers start at once,
    and a shuffled run is the eager queue's run."""
    env = SimEnv(tie_break="shuffle:1")
    q = WorkQueue(env, "t", lambda key: iter(()), workers=4)  # type: ignore[arg-type,return-value]
    assert q.started == 4
    path = next(p for p in SCENARIOS if p.stem == "quickstart")
    sc = load_scenario(path)
    sc = replace(sc, cluster=replace(sc.cluster, tie_break="shuffle:1"))
    started, total = _both_ways(sc, monkeypatch)
    assert started == total


def test_a_quiet_queue_starts_no_worker() -> None:
    env = SimEnv()
    q = WorkQueue(env, "t", lambda key: iter(()), workers=20)  # type: ignore[arg-type,return-value]
    env.sim.run(until=5)
    assert q.started == 0
