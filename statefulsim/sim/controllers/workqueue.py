"""A rate-limited work queue with client-go semantics.

A key is never processed by two workers at once; adds while it is processed mark it dirty and
re-queue it once when the worker is done, so a burst of events collapses into one follow-up sync.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, Generator

import simpy

from statefulsim.sim.api.store import TokenBucket
from statefulsim.sim.env import SimEnv

SyncFn = Callable[[str], Generator[simpy.Event, Any, bool]]


class WorkQueue:
    """Queue + ``workers`` SimPy processes running ``sync(key)``.

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
        self._idle: deque[simpy.Event] = deque()
        self._base = base_delay
        self._max = max_delay
        self._bucket = TokenBucket(qps, burst)
        self.syncs = 0
        for i in range(workers):
            env.process(self._worker())

    # -------------------------------------------------------------- adding
    def add(self, key: str) -> None:
        if key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return
        self._queue.append(key)
        if self._idle:
            self._idle.popleft().succeed()

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
                    self._idle.popleft().succeed()
