"""The performance benchmarks of issue #7; prints one table row per case.

1. ``scale``    Parallel scale-up of N replicas, then scale to 0 (N = 100, 1 000, 10 000);
2. ``ordered``  OrderedReady creation of N = 1 000 replicas, then a rolling update of all of them;
3. ``fleet``    50 StatefulSets × 20 replicas on 100 nodes with WaitForFirstConsumer volumes, and
                200 DNS clients each querying every second for 10 simulated minutes;
4. ``sweep``    1 000 runs of the 3-replica quick-start scenario (runs per second, per core);
5. ``sweep-run``  the CPU of one quick-start run inside a sweep (issue #20): N runs (default 200)
                of ``benchmarks/quickstart-issue20.yaml`` (the benchmark's own copy of the quick
                start as it was when #20 was filed) in one process, through
                ``statefulsim.sweep.running.run_batch`` as a sweep worker runs them, and on the
                next row (``as before #20``) the same runs as a worker ran them before #20 (the full
                observer, expectations checked, collector on), alternating with them in the same
                process, 5 rounds each, the least-worth round of each shown.

Every simulation case runs in a fresh ``spawn``ed process, so the peak RSS is that case's alone,
and is compared with a bare SimPy loop processing the same number of timeouts in the same process,
right after the simulation (``ratio`` = CPU time per event / bare CPU time per event; CPU time,
because wall time on a shared machine also counts other processes).  A "simulated event" is one SimPy
step.  ``worth`` (issue #20's measure) is the CPU time in *bare-loop events' worth*: CPU time / bare
CPU time per event, the bare loop timed in the same process right after, so the machine's drift
cancels (``worth`` = ``events`` × ``ratio``).  For ``sweep-run`` the row is one run: ``wall s``
and ``cpu s`` are per run, ``events`` the mean SimPy steps of one run (counted in separate,
untimed runs of the same seeds), ``worth`` one run's CPU in bare-loop events (target ≤ 8 000);
for ``sweep`` it is one run's share of the sweep's wall time times the workers.  The line
``scale 1000 -> 10000`` divides the N = 10 000 row by the N = 1 000 row (target: at most ×11
with ``--repeat 3``, i.e. each row the best of three).  Run ``python benchmarks/run.py`` for everything, or name cases and sizes::

    python benchmarks/run.py scale:100 scale:1000 ordered fleet sweep:200 sweep-run:200
    python benchmarks/run.py --repeat 3 scale:1000 scale:10000   # best of 3 runs per case

Wall-clock figures move with the machine's load (±30 % on a shared 2-core box); the event
counts and the ratio are the stable part.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable

import simpy

from statefulsim.io.scenario import load_scenario_text
from statefulsim.runner import build_cluster

ROOT = Path(__file__).resolve().parent.parent
#: The quick start as it was when issue #20 was filed, manifests inlined (see the file's header).
QUICKSTART_20 = Path(__file__).resolve().parent / "quickstart-issue20.yaml"

# ----------------------------------------------------------------------------- scenarios

ONE_SET = """
apiVersion: statefulsim/v1
kind: Scenario
metadata: {{name: bench-{case}-{n}}}
seed: 1
until: {until}s
cluster: {{nodes: {nodes}}}
manifests:
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata: {{name: web}}
    spec:
      replicas: 0
      serviceName: web
      podManagementPolicy: {policy}
      selector: {{matchLabels: {{app: web}}}}
      template:
        metadata: {{labels: {{app: web}}}}
        spec:
          containers:
          - name: app
            image: nginx:1.27
            readinessProbe: {{httpGet: {{path: /, port: 80}}, periodSeconds: 10}}
{timing}
actions:
  - {{at: 1s, scale: {{statefulset: web, replicas: {n}}}}}
  - {{at: {second_at}s, {second}}}
"""

FLEET_SET = """
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata: {{name: db{i}}}
    spec:
      replicas: {replicas}
      serviceName: db{i}
      podManagementPolicy: Parallel
      selector: {{matchLabels: {{app: db{i}}}}}
      template:
        metadata: {{labels: {{app: db{i}}}}}
        spec:
          containers:
          - name: db
            image: postgres:16
            readinessProbe: {{exec: {{command: [pg_isready]}}, periodSeconds: 5}}
      volumeClaimTemplates:
      - metadata: {{name: data}}
        spec:
          accessModes: [ReadWriteOnce]
          storageClassName: wffc
          resources: {{requests: {{storage: 1Gi}}}}
  - apiVersion: v1
    kind: Service
    metadata: {{name: db{i}}}
    spec: {{clusterIP: None, selector: {{app: db{i}}}, ports: [{{port: 5432}}]}}
"""

FLEET = """
apiVersion: statefulsim/v1
kind: Scenario
metadata: {{name: bench-fleet}}
seed: 1
until: {until}s
cluster: {{nodes: {nodes}}}
manifests:
  - apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata: {{name: wffc}}
    provisioner: ebs.csi.aws.com
    volumeBindingMode: WaitForFirstConsumer
{sets}
actions:
{queries}
"""


def scale_scenario(n: int) -> str:
    # Creating N pods at the controller's 20 QPS takes N/20 s; leave time to become ready.
    down = int(n / 20 + 120)
    return ONE_SET.format(case="scale", n=n, nodes=max(3, (n + 99) // 100), policy="Parallel", timing="",
                          second_at=down, second="scale: {statefulset: web, replicas: 0}",
                          until=down + int(n / 20 + 120))


def ordered_scenario(n: int) -> str:
    # OrderedReady: about 12 s per pod (create, schedule, pull 1 s, start, probe at 10 s period).
    update = int(n * 14 + 60)
    return ONE_SET.format(case="ordered", n=n, nodes=max(3, (n + 99) // 100), policy="OrderedReady",
                          timing="timing:\n  imagePull: 1s\n  appReady: 2s", second_at=update,
                          second='setImage: {statefulset: web, container: app, image: "nginx:1.28"}',
                          until=update + int(n * 16 + 120))


def fleet_scenario(sets: int = 50, replicas: int = 20, nodes: int = 100, clients: int = 200,
                   minutes: int = 10) -> str:
    body = "".join(FLEET_SET.format(i=i, replicas=replicas) for i in range(sets))
    queries = []
    for c in range(clients):
        i, r = c % sets, (c // sets) % replicas
        queries.append(f"  - {{at: 1s, dnsQuery: {{name: db{i}-{r}.db{i}, every: 1s, until: {minutes * 60}s}}}}")
    return FLEET.format(until=minutes * 60, nodes=nodes, sets=body, queries="\n".join(queries))


# ----------------------------------------------------------------------------- measuring

def count_steps(env: simpy.Environment) -> list[int]:
    """Count SimPy steps by wrapping ``env.step`` (adds the same small cost to every event)."""
    counter = [0]
    step = env.step

    def counted() -> None:
        counter[0] += 1
        step()

    env.step = counted  # type: ignore[method-assign]
    return counter


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def simulate(text: str) -> dict[str, Any]:
    """Run one scenario text in this process; wall time excludes loading, includes building.
    Loaded with ``allow_large``: the fleet case's 120 000 DNS lookups are above the default limit."""
    scenario = load_scenario_text(text, allow_large=True)
    t0, c0 = time.perf_counter(), time.process_time()
    cluster = build_cluster(scenario)
    steps = count_steps(cluster.env.sim)
    cluster.run(scenario.until)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    sets = cluster.store.list("StatefulSet")
    return {"wall": wall, "cpu": cpu, "events": steps[0], "peak_mib": peak_rss_mib(), "records": len(cluster.env.trace),
            "sim_s": scenario.until,
            "ready": sum(s.status.ready_replicas for s in sets), "updated": sum(s.status.updated_replicas for s in sets),
            "desired": sum(s.spec.replicas for s in sets)}


#: An environment, and what to run it until (None: until nothing is left).
Built = tuple[simpy.Environment, "simpy.Event | None"]


def best_time(build: Callable[[], Built], repeat: int = 3,
              clock: Callable[[], float] = time.process_time) -> tuple[float, int]:
    """The least ``clock`` time of running what ``build`` returns, over ``repeat`` fresh builds,
    and its SimPy step count (steps counted as in :func:`simulate`)."""
    best, steps = float("inf"), 0
    for _ in range(repeat):
        env, until = build()
        counter = count_steps(env)
        t0 = clock()
        env.run(until)
        best, steps = min(best, clock() - t0), counter[0]
    return best, steps


def bare_loop(events: int, pending: int = 0) -> Built:
    """One process yielding ``events`` timeouts, with ``pending`` never-reached events queued."""
    env = simpy.Environment()
    for j in range(pending):
        env.timeout(1e12 + j)  # the run ends with the loop, before these

    def loop() -> Any:
        for _ in range(events):
            yield env.timeout(1)

    return env, env.process(loop())


def bench_bare(events: int, repeat: int = 3, clock: Callable[[], float] = time.process_time) -> float:
    """Time of the bare SimPy loop of ``events`` timeouts (the best of ``repeat`` tries: the loop
    is short, so one try is at the mercy of the machine)."""
    return best_time(lambda: bare_loop(events), repeat, clock)[0]


def in_fresh_process(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    # not multiprocessing.Pool: its workers are daemons, and the sweep case starts its own pool
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def sweep_case(runs: int, workers: int) -> dict[str, Any]:
    from statefulsim.sweep import run_sweep

    t0 = time.perf_counter()
    result = run_sweep(str(ROOT / "scenarios" / "quickstart.yaml"), runs=runs, workers=workers)
    wall = time.perf_counter() - t0
    assert len(result.runs) == runs
    return {"wall": wall, "peak_mib": peak_rss_mib()}


# ----------------------------------------------------------------------------- cases

HEADER = (f"{'case':<16} {'wall s':>8} {'cpu s':>8} {'events':>10} {'ev/cpu s':>9} {'bare ev/s':>10} {'ratio':>6} "
          f"{'worth':>10} {'peak MiB':>9} {'records':>9}  check")


def simulate_and_bare(text: str) -> dict[str, Any]:
    """:func:`simulate`, then the bare loop of the same event count in the same process right
    after it, so that both see the machine in the same state (its speed drifts with other load)."""
    r = simulate(text)
    r["bare"] = bench_bare(r["events"])
    return r


#: Runs per simulation case (``--repeat K``); the row shows the run with the least CPU time, the
#: usual estimate on a machine whose other load only ever adds time.
REPEAT = 1


def sim_row(label: str, text: str, check: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
    r = min((in_fresh_process(simulate_and_bare, text) for _ in range(REPEAT)), key=lambda x: x["cpu"])
    bare = r["bare"]
    r["ratio"] = r["cpu"] / bare
    r["worth"] = r["cpu"] / (bare / r["events"])
    print(f"{label:<16} {r['wall']:>8.2f} {r['cpu']:>8.2f} {r['events']:>10} {r['events'] / r['cpu']:>9.0f} "
          f"{r['events'] / bare:>10.0f} {r['ratio']:>6.1f} {r['worth']:>10.0f} {r['peak_mib']:>9.1f} "
          f"{r['records']:>9}  {check(r)}", flush=True)
    return r


def case_scale(n: int) -> dict[str, Any]:
    return sim_row(f"scale N={n}", scale_scenario(n),
                   lambda r: "ok" if r["desired"] == 0 and r["ready"] == 0 else "NOT SCALED DOWN")


def case_ordered(n: int) -> dict[str, Any]:
    return sim_row(f"ordered N={n}", ordered_scenario(n),
                   lambda r: "ok" if r["ready"] == n and r["updated"] == n else f"ready {r['ready']} updated {r['updated']}")


def case_fleet(sets: int) -> dict[str, Any]:
    return sim_row(f"fleet {sets}x20", fleet_scenario(sets=sets),
                   lambda r: "ok" if r["ready"] == r["desired"] else f"ready {r['ready']}/{r['desired']}")


def case_sweep(runs: int) -> dict[str, Any]:
    cores = os.cpu_count() or 1
    # events of one run, for the ratio: the quick-start scenario in this process
    one = simulate((ROOT / "scenarios" / "quickstart.yaml").read_text().replace(
        "file: manifests/mysql.yaml", "file: " + str(ROOT / "scenarios" / "manifests" / "mysql.yaml")))
    # wall time, like the sweep's own figures (a sweep's cost includes its processes' start-up)
    bare = bench_bare(one["events"], clock=time.perf_counter)
    out: dict[str, Any] = {}
    for workers in sorted({1, cores}):
        r = in_fresh_process(sweep_case, runs, workers)
        per_run = r["wall"] / runs
        label = f"sweep {runs} w={workers}"
        print(f"{label:<16} {r['wall']:>8.2f} {'':>8} {one['events'] * runs:>10} {one['events'] * runs / r['wall']:>9.0f} "
              f"{one['events'] / bare:>10.0f} {per_run * workers / bare:>6.1f} "
              f"{per_run * workers / (bare / one['events']):>10.0f} {r['peak_mib']:>9.1f} {'':>9}  "
              f"{runs / r['wall']:.1f} runs/s, {runs / r['wall'] / workers:.1f} runs/s/core", flush=True)
        out[f"w{workers}"] = r
    return out


#: SimPy steps per bare-loop try when only the bare CPU time per event is wanted.
BARE_EVENTS = 200_000


def sweep_batch(runs: int, path: Path = QUICKSTART_20) -> Any:
    """One :class:`~statefulsim.sweep.running.RunBatch` of seeds 0 .. runs-1 of ``path``, made as
    ``run_sweep`` makes them (``prepare``, then ``make_batches``)."""
    from statefulsim.sweep.grid import prepare
    from statefulsim.sweep.running import make_batches

    point = prepare(path, ())[0]
    return make_batches([(point, seed) for seed in range(runs)], runs, None, None)[0]


def events_per_run(batch: Any, runs: int = 10) -> float:
    """Mean SimPy steps of one run of ``batch``'s scenario over its first ``runs`` seeds (untimed)."""
    from statefulsim.io.scenario import load_scenario_text

    scenario = load_scenario_text(batch.text, file=batch.file, base_dir=batch.base_dir)
    total = 0
    seeds = batch.seeds[:runs]
    for seed in seeds:
        cluster = build_cluster(scenario, seed)
        steps = count_steps(cluster.env.sim)
        cluster.run(scenario.until)
        total += steps[0]
    return total / len(seeds)


def full_runs(batch: Any) -> None:
    """``batch``'s runs the way a sweep worker ran them before issue #20: ``statefulsim.run`` (the
    full observer, the expectations checked, the collector on), then ``run_metrics``."""
    from statefulsim.io.scenario import load_scenario_text
    from statefulsim.runner import run
    from statefulsim.sweep.metrics import run_metrics

    scenario = load_scenario_text(batch.text, file=batch.file, base_dir=batch.base_dir, allow_large=True)
    for seed in batch.seeds:
        result = run(scenario, seed=seed)
        run_metrics(result.trace, until=result.until, quorum=batch.quorum, statefulset=batch.statefulset)


#: Rounds of :func:`sweep_run_cpu` (each: the batch, then the bare loop); the least-worth round counts.
SWEEP_ROUNDS = 5


def sweep_run_cpu(runs: int, rounds: int | None = None) -> dict[str, Any]:
    """CPU and wall time of one run inside a sweep worker, for each path: ``lean``, a batch of
    ``runs`` seeds through ``run_batch``; ``full``, the same runs as before issue #20
    (:func:`full_runs`).  ``rounds`` times (default :data:`SWEEP_ROUNDS`) each path's batch, each
    followed right away by the bare loop (best of 3 tries of :data:`BARE_EVENTS`), the paths
    alternating so both see the same machine; for each path the round with the least worth
    (CPU per run / bare CPU per event) counts."""
    from statefulsim.sweep.running import run_batch

    batch = sweep_batch(runs)
    paths: dict[str, Callable[[], Any]] = {"lean": lambda: run_batch(batch), "full": lambda: full_runs(batch)}
    best: dict[str, dict[str, float]] = {}
    for _ in range(SWEEP_ROUNDS if rounds is None else rounds):
        for name, go in paths.items():
            t0, c0 = time.perf_counter(), time.process_time()
            result = go()
            wall, cpu = (time.perf_counter() - t0) / runs, (time.process_time() - c0) / runs
            if result is not None:
                assert len(result.runs) == runs and all(m["time_to_ready"] is not None for _, m in result.runs)
            bare = bench_bare(BARE_EVENTS) / BARE_EVENTS
            if name not in best or cpu / bare < best[name]["worth"]:
                best[name] = {"wall": wall, "cpu": cpu, "bare_per_event": bare, "worth": cpu / bare}
    events = events_per_run(batch)
    return {name: {**r, "events": events, "peak_mib": peak_rss_mib()} for name, r in best.items()}


def case_sweep_run(runs: int) -> dict[str, Any]:
    tries = [in_fresh_process(sweep_run_cpu, runs) for _ in range(REPEAT)]
    out: dict[str, Any] = {}
    for name in ("lean", "full"):
        r = min((t[name] for t in tries), key=lambda x: x["worth"])
        r["ratio"] = r["worth"] / r["events"]
        label = f"sweep-run {runs}" if name == "lean" else "  as before #20"
        target = f"({'ok' if r['worth'] <= 8000 else 'above'} target 8 000)" if name == "lean" else "(full run)"
        print(f"{label:<16} {r['wall']:>8.4f} {r['cpu']:>8.4f} {r['events']:>10.0f} {r['events'] / r['cpu']:>9.0f} "
              f"{1 / r['bare_per_event']:>10.0f} {r['ratio']:>6.1f} {r['worth']:>10.0f} {r['peak_mib']:>9.1f} {'':>9}  "
              f"{r['cpu'] * 1000:.1f} ms CPU per run, {1 / r['cpu']:.1f} runs/CPU s {target}", flush=True)
        out[name] = r
    return out


CASES: dict[str, tuple[Callable[[int], dict[str, Any]], list[int]]] = {
    "scale": (case_scale, [100, 1000, 10000]),
    "ordered": (case_ordered, [1000]),
    "fleet": (case_fleet, [50]),
    "sweep": (case_sweep, [1000]),
    "sweep-run": (case_sweep_run, [200]),
}


def main(argv: list[str]) -> None:
    global REPEAT
    parser = argparse.ArgumentParser(description="Run the benchmarks of issue #7 and print one row per case.")
    parser.add_argument("cases", nargs="*", help="CASE or CASE:SIZE, e.g. scale:1000 (default: all)")
    parser.add_argument("--repeat", type=int, default=1, metavar="K",
                        help="run each simulation case K times and keep the least-CPU run")
    args = parser.parse_args(argv)
    REPEAT = max(1, args.repeat)
    argv = args.cases
    wanted: list[tuple[str, int]] = []
    for arg in argv or list(CASES):
        name, _, size = arg.partition(":")
        if name not in CASES:
            sys.exit(f"unknown case {name!r}; choose from {', '.join(CASES)}")
        wanted += [(name, int(size))] if size else [(name, n) for n in CASES[name][1]]
    print(HEADER)
    results: dict[tuple[str, int], dict[str, Any]] = {}
    for name, n in wanted:
        results[(name, n)] = CASES[name][0](n)
    a, b = results.get(("scale", 1000)), results.get(("scale", 10000))
    if a and b:
        print(f"scale 1000 -> 10000: cpu x{b['cpu'] / a['cpu']:.1f}, worth x{b['worth'] / a['worth']:.1f}, "
              f"wall x{b['wall'] / a['wall']:.1f}, events x{b['events'] / a['events']:.1f} "
              f"(best of {REPEAT}; target: at most x11 in a best-of-three, --repeat 3)")


if __name__ == "__main__":
    main(sys.argv[1:])
