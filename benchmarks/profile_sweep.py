"""Profile one sweep worker's runs (issue #20): cProfile over N runs of the benchmark's quick start
(``benchmarks/quickstart-issue20.yaml``) through ``statefulsim.sweep.running.run_batch``, in this
process, after one untimed warm-up batch.  Prints the CPU per run, the share of the per-run phases
(loading the scenario, ``build_cluster``, the simulation, the expectations, ``run_metrics``; timed
directly) and cProfile's top entries::

    python benchmarks/profile_sweep.py            # 200 runs, top 25 by own time
    python benchmarks/profile_sweep.py 500 --top 40 --sort cumulative
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import pstats
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

def phases(batch: Any, lean: bool = True) -> dict[str, float]:
    """CPU seconds of each phase of a sweep run summed over ``batch``'s seeds, timed directly
    (cProfile misattributes the cumulative time of frames around SimPy's generators).  ``lean``:
    as ``run_one`` runs them now (lean observer, collector paused, no expectations); otherwise as
    before issue #20 (full observer, expectations checked, collector on)."""
    import contextlib
    import gc

    from statefulsim.analysis.expect import check_all
    from statefulsim.runner import build_cluster
    from statefulsim.sim.lean_observer import LeanTraceObserver
    from statefulsim.sim.observer import TraceObserver
    from statefulsim.sweep.metrics import run_metrics
    from statefulsim.sweep.running import _scenario_for, cyclic_gc_paused

    out = dict.fromkeys(["scenario load (cached per process)", "build_cluster (set-up)",
                         "Cluster.run (the simulation)", "check_all (expectations)", "run_metrics",
                         "collecting the run's garbage"], 0.0)
    keys = list(out)
    for seed in batch.seeds:
        t = [time.process_time()]
        scenario = _scenario_for(batch.text, batch.file, batch.base_dir)
        t.append(time.process_time())
        with cyclic_gc_paused() if lean else contextlib.nullcontext():
            cluster = build_cluster(scenario, seed, observer=LeanTraceObserver if lean else TraceObserver)
            t.append(time.process_time())
            cluster.run(scenario.until)
            cluster.env.trace.end = scenario.until
            t.append(time.process_time())
            if not lean:
                check_all(scenario.expectations, cluster.env.trace)
            t.append(time.process_time())
            run_metrics(cluster.env.trace, until=scenario.until, quorum=batch.quorum, statefulset=batch.statefulset)
            t.append(time.process_time())
            del cluster
        if not lean:
            gc.collect(0)  # not part of the old path; keeps its next runs' heap alike
        t.append(time.process_time())
        for i, k in enumerate(keys):
            out[k] += t[i + 1] - t[i]
    return out


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    args = parser.parse_args(argv)
    spec = importlib.util.spec_from_file_location("bench_run", HERE / "run.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    from statefulsim.sweep.running import run_batch

    batch = bench.sweep_batch(args.runs)
    run_batch(bench.sweep_batch(2))  # imports and caches, as a worker that ran a batch already
    c0 = time.process_time()
    run_batch(batch)
    cpu = time.process_time() - c0
    print(f"{args.runs} runs through run_batch: {cpu / args.runs * 1000:.2f} ms CPU per run")
    for lean in (True, False):
        times = phases(batch, lean)
        total = sum(times.values())
        print(f"by phase, {'as run_one runs them' if lean else 'as before #20 (full observer, expectations, GC on)'}: "
              f"{total / args.runs * 1000:.2f} ms per run")
        for label, seconds in times.items():
            print(f"  {label:<38} {seconds / total * 100:5.1f} %  {seconds / args.runs * 1000:6.2f} ms per run")
    prof = cProfile.Profile()
    prof.enable()
    run_batch(batch)
    prof.disable()
    print()
    pstats.Stats(prof).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main(sys.argv[1:])
