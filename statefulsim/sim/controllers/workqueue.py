"""A rate-limited work queue with client-go semantics.

A key is never processed by two workers at once; adds while it is processed mark it dirty and
re-queue it once when the worker is done, so a burst of events collapses into one follow-up sync.

Workers start when they are first needed (see :class:`WorkQueue`): most of a queue's workers never
get a key in a small cluster, and each eager one cost a process, its start-up step and an idle event.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, Generator

import simpy
from simpy.events import URGENT

from statefulsim.sim.api.store import TokenBucket
from statefulsim.sim.env import SimEnv

SyncFn = Callable[[str], Generator[simpy.Event, Any, bool]]

#: Start workers on demand (False: every worker at construction, as before; tests compare both).
LAZY_START = True


class _WokenWorker(simpy.Process):
    """A worker process whose first step is the wake-up event it is created for.

    An eagerly started worker runs its start-up step, finds the queue empty and waits on an idle
    event; this one is created waiting on that event, so the event that resumes it is the same
    one, scheduled at the same moment: nothing in the event order changes."""

    def __init__(self, sim: simpy.Environment, generator: Generator[simpy.Event, Any, None],
                 wake: simpy.Event) -> None:
        # simpy.Process.__init__ without its Initialize event (which would be a step of its own).
        self.env = sim
        self.callbacks = []
        self._generator = generator
        self._target = wake
        if wake.callbacks is None:  # ``wake`` is being processed: its callbacks already run
            self._resume(wake)
        else:
            wake.callbacks.append(self._resume)


class WorkQueue:
    """Queue + up to ``workers`` SimPy processes running ``sync(key)``.

    Workers start on demand, in the order eager workers would have taken keys: a start-up event
    at construction (urgent, like a process start) stands for the eager workers' start-up steps;
    it starts a worker for each key queued before it ran and leaves the rest as idle slots, and an
    ``add`` that finds an unstarted slot starts that worker on the event that would have woken
    it.  So the order of every other event is the eager queue's (SimPy orders simultaneous
    events by when they were scheduled, and the start-up steps scheduled nothing).  Under another
    tie-break order (``statefulsim.sim.tiebreak``) the workers start eagerly, since there the
    start-up steps are among the choices.

    ``sync`` returns True on success (the key's failure count is forgotten) and False on error
    (the key is re-added through the rate limiter: ``base * 2^failures`` capped at ``max_delay``,
    combined with a global token bucket, as ``DefaultControllerRateLimiter``).
    """

    def __init__(self, env: SimEnv, name: str, sync: SyncFn, workers: int = 5,
                 base_delay: float = 0.005, max_delay: float = 1000.0,
                 qps: float = 10.0, burst: int = 100) -> None:
        self.env = env
        self.name = name
        self._sync = sync
        self._queue: deque[str] = deque()
        self._dirty: set[str] = set()
        self._processing: set[str] = set()
        self._waiting: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        self._idle: deque[simpy.Event | None] = deque()  # None: a worker not started yet
        self._base = base_delay
        self._max = max_delay
        self._bucket = TokenBucket(qps, burst)
        self.syncs = 0
        #: worker processes started so far (tests check that the on-demand start ran)
        self.started = 0
        self._workers = workers
        sim = env.sim
        if LAZY_START and type(sim) is simpy.Environment:
            self._schedule_start(workers)
        else:
            for _ in range(workers):
                self.started += 1
                env.process(self._worker())

    def _schedule_start(self, slots: int) -> None:
        starter = self.env.sim.event()  # triggered and urgent, as SimPy's own Initialize event
        starter._ok = True
        starter._value = None
        starter.callbacks.append(lambda ev: self._start(ev, slots))
        self.env.sim.schedule(starter, URGENT)

    def _start(self, starter: simpy.Event, slots: int) -> None:
        """The eager workers' start-up steps, in their order: a worker for each queued key."""
        for i in range(slots):
            if self._queue:
                try:
                    self._start_worker(starter)
                except BaseException:
                    # SimPy raised out of the worker's step (an invalid yield; an error of the
                    # sync only fails its process): the eager workers after it would still
                    # start, so their start-up is still due.
                    if slots - i - 1:
                        self._schedule_start(slots - i - 1)
                    raise
            else:
                self._idle.append(None)

    def _start_worker(self, wake: simpy.Event) -> None:
        self.started += 1
        _WokenWorker(self.env.sim, self._worker(), wake)

    def _wake(self) -> None:
        ev = self._idle.popleft()
        if ev is None:
            ev = self.env.sim.event()
            self._start_worker(ev)
        ev.succeed()

    # -------------------------------------------------------------- adding
    def add(self, key: str) -> None:
        if key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return
        self._queue.append(key)
        if self._idle:
            self._wake()

    def add_after(self, key: str, delay: float) -> None:
        """Add ``key`` after ``delay``; if it already waits, the earlier time wins."""
        if delay <= 0:
            self.add(key)
            return
        ready = self.env.now + delay
        cur = self._waiting.get(key)
        if cur is not None and cur <= ready:
            return
        self._waiting[key] = ready
        timer = self.env.sim.timeout(delay)
        timer.callbacks.append(lambda _e: self._fire(key, ready))

    def _fire(self, key: str, ready: float) -> None:
        if self._waiting.get(key) == ready:
            del self._waiting[key]
            self.add(key)

    def add_rate_limited(self, key: str) -> None:
        n = self._failures.get(key, 0)
        self._failures[key] = n + 1
        per_item = min(self._base * (2 ** n), self._max)
        overall = self._bucket.reserve(self.env.now)
        self.add_after(key, max(per_item, overall))

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    def failures(self, key: str) -> int:
        return self._failures.get(key, 0)

    def __len__(self) -> int:
        return len(self._queue)

    # -------------------------------------------------------------- workers
    def _worker(self) -> Generator[simpy.Event, Any, None]:
        while True:
            while not self._queue:
                ev = self.env.sim.event()
                self._idle.append(ev)
                yield ev
            key = self._queue.popleft()
            self._processing.add(key)
            self._dirty.discard(key)
            self.syncs += 1
            ok = yield from self._sync(key)
            if ok:
                self.forget(key)
            else:
                self.add_rate_limited(key)
            self._processing.discard(key)
            if key in self._dirty:
                self._queue.append(key)
                if self._idle:
                    self._wake()
