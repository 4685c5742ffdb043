"""How low can the per-event ratio of ``benchmarks/run.py`` go?  Prints the cost per SimPy event,
relative to the bare loop ``run.py`` compares with, of loops that do a little of what any
simulator of an API server with watches must do per event, and nothing else:

* ``bare``        one process yielding timeouts (run.py's reference: ratio 1 by definition);
* ``bare@D``      the same with D other events pending (the simulations keep hundreds to
                  thousands pending: probe timers, watch deliveries, kubelet timers), so each
                  heap operation costs log D comparisons;
* ``callback``    a timeout whose callback stores into a dict (a watch delivery, minus the watch);
* ``skeleton``    per change: a new immutable object (a frozen dataclass copy), a resourceVersion,
                  two watches each delivering it after a log-normal latency drawn from a seeded
                  RNG, handlers updating a cache; one writer process paced by timeouts.

Each figure is the best of 3 CPU-time runs of 200 000 events.  Usage: ``python benchmarks/floor.py``.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

import simpy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import Built, bare_loop, best_time  # noqa: E402  (the benchmarks' own bare loop and timer)

EVENTS = 200_000


def cpu(build: Callable[[], Built], repeat: int = 3) -> tuple[float, int]:
    """Best CPU time of running what ``build`` returns, and its SimPy step count."""
    return best_time(build, repeat)


def bare(pending: int = 0) -> Built:
    return bare_loop(EVENTS, pending)


def callback() -> Built:
    env = simpy.Environment()
    cache: dict[int, int] = {}

    def handler(i: int, _ev: simpy.Event) -> None:
        cache[i % 100] = i

    def writer() -> Iterator[simpy.Event]:
        for i in range(EVENTS // 2):
            env.timeout(0.5).callbacks.append(partial(handler, i))
            yield env.timeout(1)

    env.process(writer())
    return env, None


@dataclass(frozen=True)
class Obj:
    name: str
    resource_version: int
    phase: str
    ready: bool
    node: str = ""
    restarts: int = 0


def skeleton() -> Built:
    env = simpy.Environment()
    rng = random.Random(1)
    objects = {i: Obj(f"pod-{i}", 0, "Pending", False) for i in range(100)}
    caches: list[dict[str, Obj]] = [{}, {}]
    rv = 0

    def deliver(cache: dict[str, Obj], obj: Obj, _ev: simpy.Event) -> None:
        cache[obj.name] = obj

    def writer() -> Iterator[simpy.Event]:
        nonlocal rv
        changes = EVENTS // 3  # each change: 2 deliveries + 1 writer step
        for k in range(changes):
            i = k % 100
            rv += 1
            obj = objects[i] = replace(objects[i], resource_version=rv, ready=not objects[i].ready)
            for cache in caches:
                env.timeout(rng.lognormvariate(-3.9, 0.99)).callbacks.append(partial(deliver, cache, obj))
            yield env.timeout(0.01)

    env.process(writer())
    return env, None


def main() -> None:
    rows: list[tuple[str, Callable[[], Built]]] = [
        ("bare", bare), ("bare@500", partial(bare, 500)), ("bare@10000", partial(bare, 10_000)),
        ("callback", callback), ("skeleton", skeleton)]
    measured = [(label, *cpu(fn)) for label, fn in rows]
    # the reference is the bare loop's best, measured before and after the others (load drifts)
    again, again_steps = cpu(bare)
    per_event = min(measured[0][1] / measured[0][2], again / again_steps)
    print(f"{'loop':<12} {'events':>8} {'us/event':>9} {'ratio':>6}")
    for label, t, steps in measured:
        print(f"{label:<12} {steps:>8} {t / steps * 1e6:>9.2f} {t / steps / per_event:>6.1f}", flush=True)


if __name__ == "__main__":
    main()
