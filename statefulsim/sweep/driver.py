"""``run_sweep``: every seed at every grid point through an executor, resuming from the state file."""

from __future__ import annotations

import contextlib
import json
import os
from typing import Callable, Sequence

from statefulsim.errors import ScenarioError
from statefulsim.sweep.executors import Executor, ExecutorOptions, make_executor
from statefulsim.sweep.grid import Axis, PreparedPoint, SweepError, prepare
from statefulsim.sweep.running import auto_batch, make_batches
from statefulsim.sweep.state import StateWriter, read_state, state_key
from statefulsim.sweep.statistics import RunRecord, SweepResult

ProgressCallback = Callable[[int, int], None]


def run_sweep(scenario_path: str | os.PathLike[str], *, runs: int = 100, seed_start: int = 0,
              axes: Sequence[Axis] = (), quorum: int | None = None, statefulset: str | None = None,
              workers: int | None = None, state: str | os.PathLike[str] | None = None,
              progress: ProgressCallback | None = None, executor: str | Executor = "local",
              scheduler: str | None = None, connect_timeout: float = 10.0, batch: int | None = None,
              notice: Callable[[str], None] | None = None, plugins: Sequence[str] = (),
              allow_large: bool = False) -> SweepResult:
    """Run the scenario with seeds ``seed_start .. seed_start+runs-1`` at every grid point.

    ``executor`` is a name of :data:`EXECUTORS` (``local``: ``workers`` processes, default the
    CPU count, 1 runs in this process, started with ``spawn``; ``dask``: the Dask scheduler at
    ``scheduler``, or a LocalCluster of ``workers`` processes) or an :class:`Executor`.  Runs go
    to the executor in batches of ``batch`` seeds of one grid point (default :func:`auto_batch`;
    1 in this process).  With ``state``, the runs of every finished batch are appended to that
    JSON Lines file at once, and runs already there (same scenario text, quorum and statefulset)
    are skipped.  ``progress(done, total)`` is called as batches finish; ``notice(text)`` once
    the executor has started, saying where the runs happen.  The result does not depend on the
    executor, worker count, batch size or on how often the sweep was interrupted.  ``plugins``:
    modules that register policies, delay models, verbs or expectations, imported here and by
    every worker before it loads the scenario (:mod:`statefulsim.plugins`)."""
    from statefulsim.plugins import load_plugins, workers_lack_registration

    plugins = load_plugins(plugins)
    if runs < 1:
        raise SweepError("--runs must be at least 1")
    if batch is not None and batch < 1:
        raise SweepError("--batch must be at least 1")
    points = prepare(scenario_path, axes, statefulset, allow_large=allow_large)
    seeds = list(range(seed_start, seed_start + runs))
    if isinstance(executor, str):
        executor = make_executor(executor, ExecutorOptions(workers, scheduler, connect_timeout))
    done = read_state(state) if state is not None else {}
    keys = {pt.index: state_key(pt.fingerprint, quorum, statefulset) for pt in points}
    results: dict[tuple[int, int], dict[str, float | None]] = {}
    todo: list[tuple[PreparedPoint, int]] = []
    for pt in points:
        for s in seeds:
            m = done.get((keys[pt.index], s))
            if m is not None:
                results[(pt.index, s)] = m
            else:
                todo.append((pt, s))
    total = len(points) * len(seeds)
    finished = len(results)
    if progress is not None:
        progress(finished, total)
    writer = StateWriter(state)
    try:
        if todo:
            with executor:
                if notice is not None:
                    notice(executor.description)
                size = batch if batch is not None else (1 if executor.in_process
                                                        else auto_batch(len(todo), executor.workers))
                batches = make_batches(todo, size, quorum, statefulset, plugins)
                with contextlib.closing(executor.map_runs(batches)) as finished_batches:
                    for br in finished_batches:
                        pt = points[br.point_index]
                        for seed, metrics in br.runs:
                            results[(pt.index, seed)] = metrics
                        writer.write_batch(keys[pt.index], pt.point, br.runs)
                        finished += len(br.runs)
                        if progress is not None:
                            progress(finished, total)
    except ScenarioError as e:  # every point loaded here: a worker lacks a registration
        if executor.in_process:
            raise
        raise workers_lack_registration(e) from None
    finally:
        writer.close()
    # through JSON, so runs from this call and from the state file are the same values
    ordered = [RunRecord(i, s, json.loads(json.dumps(results[(i, s)]))) for (i, s) in sorted(results)]
    return SweepResult(points, ordered, seeds, executed=len(todo))
