"""CrashLoopBackOff and image pull back-off bookkeeping (client-go ``flowcontrol.Backoff`` as the kubelet uses it)."""

from __future__ import annotations

from dataclasses import dataclass

INITIAL_SECONDS = 10.0
MAX_SECONDS = 300.0


@dataclass
class _Entry:
    backoff: float
    last_update: float


class Backoff:
    """Per-key exponential backoff: 10 s doubling to 300 s; an entry untouched for 2 × max
    (600 s) has expired and starts over."""

    def __init__(self, initial: float = INITIAL_SECONDS, maximum: float = MAX_SECONDS) -> None:
        self.initial = initial
        self.maximum = maximum
        self._entries: dict[str, _Entry] = {}

    def _expired(self, event_time: float, last_update: float) -> bool:
        return event_time - last_update > 2 * self.maximum

    def next(self, key: str, event_time: float, now: float) -> None:
        """Record a restart at ``now`` for an exit at ``event_time``: create the entry (or start
        over when it expired, judged from ``event_time``) or double its delay."""
        e = self._entries.get(key)
        if e is None or self._expired(event_time, e.last_update):
            self._entries[key] = _Entry(self.initial, now)
        else:
            e.backoff = min(e.backoff * 2, self.maximum)
            e.last_update = now

    def in_backoff_since(self, key: str, event_time: float, now: float) -> bool:
        """True while ``now - event_time`` is shorter than the key's current delay."""
        e = self._entries.get(key)
        if e is None or self._expired(event_time, e.last_update):
            return False
        # Compared as release_after computes it: with floats, (t + b) - t can be a hair under b,
        # and the restart loop would wait zero seconds forever at the release time.
        return now < event_time + e.backoff

    def in_backoff_since_update(self, key: str, now: float) -> bool:
        """``IsInBackOffSinceUpdate``: True while ``now`` is within the key's delay of its last
        ``next`` (the image back-off's test)."""
        e = self._entries.get(key)
        if e is None or self._expired(now, e.last_update):
            return False
        return now < e.last_update + e.backoff

    def release_after_update(self, key: str) -> float:
        """The earliest time at which ``in_backoff_since_update(key, t)`` is False."""
        e = self._entries.get(key)
        return e.last_update + e.backoff if e is not None else 0.0

    def delay(self, key: str) -> float:
        e = self._entries.get(key)
        return e.backoff if e is not None else 0.0

    def release_after(self, key: str, event_time: float) -> float:
        """The earliest time at which ``in_backoff_since(key, event_time, t)`` is False."""
        e = self._entries.get(key)
        if e is None:
            return event_time
        return event_time + e.backoff
