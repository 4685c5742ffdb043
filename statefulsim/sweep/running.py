"""Running one grid point's seeds in a worker: the unit of work an executor ships (a :class:`RunBatch`)."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Sequence

from statefulsim.io.paths import self_contained
from statefulsim.sweep.grid import PreparedPoint
from statefulsim.sweep.metrics import run_metrics

if TYPE_CHECKING:
    from statefulsim.model.scenario import Scenario
    from statefulsim.sim.trace import Trace


_LOADED: dict[str, Scenario] = {}


def _scenario_for(text: str, file: str, base_dir: str) -> Scenario:
    from statefulsim.io.scenario import load_scenario_text

    key = hashlib.sha256((file + "\0" + base_dir + "\0" + text).encode()).hexdigest()
    sc = _LOADED.get(key)
    if sc is None:
        # allow_large: prepare() checked the size limits of every grid point's text already
        sc = load_scenario_text(text, file=file, base_dir=base_dir, allow_large=True)
        _LOADED.clear()  # one grid point at a time is enough
        _LOADED[key] = sc
    return sc


def runs_lean(scenario: Scenario) -> bool:
    """Whether a sweep runs ``scenario`` with the lean observer: unless it has ``when:`` actions,
    whose triggers may wait for any record."""
    return not scenario.triggers


def sweep_trace(scenario: Scenario, seed: int, *, lean: bool | None = None) -> Trace:
    """The trace of one run of a sweep: ``scenario`` with ``seed`` up to its ``until``, with the
    lean observer (:class:`~statefulsim.sim.lean_observer.LeanTraceObserver`, only the records the
    metrics read) when ``lean`` (default :func:`runs_lean`), without checking expectations (a
    sweep reports metrics only).  Its metrics equal those of the full run's trace."""
    from statefulsim.runner import build_cluster
    from statefulsim.sim.lean_observer import LeanTraceObserver
    from statefulsim.sim.observer import TraceObserver

    if lean is None:
        lean = runs_lean(scenario)
    cluster = build_cluster(scenario, seed, observer=LeanTraceObserver if lean else TraceObserver)
    cluster.run(scenario.until)
    trace = cluster.env.trace
    trace.end = scenario.until
    return trace


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for one run, then collect its youngest generation.

    A run makes almost no cyclic garbage while it runs (its cluster lives to the end), so the
    collector's passes over the run's live objects are wasted; the cluster becomes cyclic garbage
    when the run ends, and one pass over the youngest generation, which then holds everything
    the run allocated, frees it before the next run.  The collector's state is restored."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect(0)


def run_one(text: str, file: str, base_dir: str, seed: int, quorum: int | None,
            statefulset: str | None) -> dict[str, float | None]:
    """Load a prepared grid point (cached per process), run it with ``seed`` (:func:`sweep_trace`,
    with :func:`cyclic_gc_paused`), return its metrics.  Module level, so a spawned worker process
    can call it."""
    scenario = _scenario_for(text, file, base_dir)
    with cyclic_gc_paused():
        trace = sweep_trace(scenario, seed)
        metrics = run_metrics(trace, until=scenario.until, quorum=quorum, statefulset=statefulset)
        del trace
    return metrics


@dataclass(frozen=True)
class RunBatch:
    """Seeds of one grid point run together as one task (the unit an executor ships to a worker).

    ``text`` is self-contained (manifest ``{file: ...}`` items inlined), so a worker on another
    machine needs statefulsim but not the scenario's files."""

    point_index: int
    text: str
    file: str
    base_dir: str
    seeds: tuple[int, ...]
    quorum: int | None
    statefulset: str | None
    plugins: tuple[str, ...] = ()  # modules the worker imports first (--plugin)


@dataclass(frozen=True)
class BatchResult:
    """The metrics of every seed of a :class:`RunBatch`, in the batch's seed order."""

    point_index: int
    runs: tuple[tuple[int, dict[str, float | None]], ...]


def run_batch(batch: RunBatch) -> BatchResult:
    """Run every seed of ``batch`` (:func:`run_one`; the scenario is loaded once per process),
    after importing its plug-in modules.  Module level, so worker processes and Dask workers can
    call it by reference."""
    if batch.plugins:
        from statefulsim.plugins import load_plugins

        load_plugins(batch.plugins, " in a worker process")
    return BatchResult(batch.point_index, tuple(
        (seed, run_one(batch.text, batch.file, batch.base_dir, seed, batch.quorum, batch.statefulset))
        for seed in batch.seeds))


#: Automatic batch size: aim at this many batches per worker (load balance against per-task cost) ...
BATCHES_PER_WORKER = 4
#: ... but never more runs than this in one batch (an interruption loses at most the batches in flight).
MAX_AUTO_BATCH = 50


def auto_batch(runs: int, workers: int) -> int:
    """Runs per batch when ``--batch`` is not given: ``ceil(runs / (4 * workers))``, at most 50."""
    return max(1, min(MAX_AUTO_BATCH, math.ceil(runs / (BATCHES_PER_WORKER * max(1, workers)))))


def make_batches(todo: Sequence[tuple[PreparedPoint, int]], size: int, quorum: int | None,
                 statefulset: str | None, plugins: Sequence[str] = ()) -> list[RunBatch]:
    """Split ``todo`` into batches of at most ``size`` seeds, never mixing grid points; every
    batch names the ``plugins`` its worker imports."""
    by_point: dict[int, tuple[PreparedPoint, list[int]]] = {}
    for pt, seed in todo:
        by_point.setdefault(pt.index, (pt, []))[1].append(seed)
    out: list[RunBatch] = []
    for pt, seeds in by_point.values():
        text = self_contained(pt.text, pt.base_dir)
        for i in range(0, len(seeds), size):
            out.append(RunBatch(pt.index, text, pt.file, pt.base_dir, tuple(seeds[i:i + size]), quorum, statefulset,
                                tuple(plugins)))
    return out
