"""Benchmark: Parallel scale-up of N replicas, then scale to 0; compared with a bare SimPy loop.

Prints, for each N: wall time, simulated events, events per second, and the same for a bare
SimPy loop processing the same number of timeouts in this process, plus the per-event ratio.
Run: ``python benchmarks/scale.py [N ...]`` (default 100 1000 10000).
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import time
from typing import Any

import simpy

from statefulsim.io.scenario import load_scenario_text
from statefulsim.runner import build_cluster

SCENARIO = """
apiVersion: statefulsim/v1
kind: Scenario
metadata: {{name: bench-{n}}}
seed: 1
until: {until}
cluster: {{nodes: {nodes}}}
manifests:
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata: {{name: web}}
    spec:
      replicas: 0
      serviceName: web
      podManagementPolicy: Parallel
      selector: {{matchLabels: {{app: web}}}}
      template:
        metadata: {{labels: {{app: web}}}}
        spec:
          containers:
          - name: app
            image: nginx:1.27
            readinessProbe: {{httpGet: {{path: /, port: 80}}, periodSeconds: 10}}
actions:
  - {{at: 1s, scale: {{statefulset: web, replicas: {n}}}}}
  - {{at: {down}, scale: {{statefulset: web, replicas: 0}}}}
"""


def count_steps(env: simpy.Environment) -> list[int]:
    counter = [0]
    step = env.step

    def counted() -> None:
        counter[0] += 1
        step()

    env.step = counted  # type: ignore[method-assign]
    return counter


def bench_sim(n: int) -> dict[str, Any]:
    nodes = max(3, (n + 99) // 100)
    # Creating N pods at the controller's 20 QPS takes N/20 s; leave time to become ready.
    down = int(n / 20 + 120)
    until = down + int(n / 20 + 120)
    scenario = load_scenario_text(SCENARIO.format(n=n, nodes=nodes, down=f"{down}s", until=f"{until}s"))
    t0 = time.perf_counter()
    cluster = build_cluster(scenario)
    steps = count_steps(cluster.env.sim)
    cluster.run(scenario.until)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    sts = cluster.store.get("StatefulSet", "default", "web")
    ready_at = next((r.t for r in cluster.env.trace.of("StatefulSetStatus", readyReplicas=n)), float("nan"))
    return {"n": n, "wall": wall, "events": steps[0], "peak_mib": peak / 2**20, "ready_at": ready_at,
            "final_replicas": sts.status.replicas, "syncs": cluster.statefulset_controller.queue.syncs}


def bench_bare(events: int) -> float:
    env = simpy.Environment()

    def loop() -> Any:
        for _ in range(events):
            yield env.timeout(1)

    env.process(loop())
    steps = count_steps(env)
    t0 = time.perf_counter()
    env.run()
    wall = time.perf_counter() - t0
    assert abs(steps[0] - events) <= 3  # + the process start and end events
    return wall


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [100, 1000, 10000]
    print(f"{'N':>7} {'wall s':>8} {'events':>10} {'ev/s':>10} {'bare s':>8} {'bare ev/s':>11} {'ratio':>6} "
          f"{'peak RSS MiB':>12} {'syncs':>7} {'all ready at':>12}")
    prev = None
    ctx = multiprocessing.get_context("spawn")
    for n in sizes:
        with ctx.Pool(1) as pool:  # a fresh process per size: peak RSS is this size's alone
            r = pool.apply(bench_sim, (n,))
        bare = bench_bare(r["events"])
        ratio = r["wall"] / bare
        print(f"{n:>7} {r['wall']:>8.2f} {r['events']:>10} {r['events'] / r['wall']:>10.0f} {bare:>8.3f} "
              f"{r['events'] / bare:>11.0f} {ratio:>6.1f} {r['peak_mib']:>12.1f} {r['syncs']:>7} {r['ready_at']:>11.1f}s")
        assert r["final_replicas"] == 0, "the set did not scale back to 0"
        if prev is not None:
            print(f"{'':>7} cost x{r['wall'] / prev['wall']:.1f} for N x{n / prev['n']:.0f}")
        prev = r


if __name__ == "__main__":
    main(sys.argv[1:])
