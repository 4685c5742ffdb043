"""The order in which events scheduled for the same simulated instant are processed.

SimPy processes events by ``(time, priority, event id)``: among events at the same time and
priority the one scheduled first goes first (``fifo``, the default, which uses SimPy's own
:class:`simpy.Environment` unchanged).  The other orders choose differently among those
simultaneous events:

* ``lifo``: the event scheduled last goes first;
* ``shuffle:N``: a pseudo-random choice drawn from the run's seed and ``N`` (the same ``N`` and
  seed always give the same run).

Two things are never reordered, so that only what a real, concurrent cluster could do differently
is explored: SimPy's priorities (process starts and interrupts before other events at the same
time), and the order of events with the same **owner**, the object whose callback the event
runs: one watch's deliveries stay in the order of the changes (the API server's watch guarantee),
one process's steps stay in program order.  Used by ``statefulsim explore`` (docs/explore.md).
"""

from __future__ import annotations

import random
import re
from functools import partial
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.events import Event

FIFO = "fifo"
LIFO = "lifo"
SHUFFLE = "shuffle"

_SHUFFLE = re.compile(r"shuffle:(\d{1,18})")


def parse_tie_break(text: Any) -> tuple[str, int]:
    """``fifo`` → ("fifo", 0), ``lifo`` → ("lifo", 0), ``shuffle:3`` → ("shuffle", 3).

    Raises ValueError with a one-line message for anything else."""
    if text in (FIFO, LIFO):
        return str(text), 0
    if isinstance(text, str):
        m = _SHUFFLE.fullmatch(text)
        if m is not None:
            return SHUFFLE, int(m.group(1))
        if re.fullmatch(r"shuffle:\d+", text):
            raise ValueError(f"expected shuffle:N with N of at most 18 digits, found one of {len(text) - 8} digits")
    shown = repr(text) if len(repr(text)) <= 60 else repr(text)[:57] + "..."
    raise ValueError(f"expected fifo, lifo or shuffle:N (N an integer >= 0), found {shown}")


class TieBreakEnvironment(simpy.Environment):
    """A SimPy environment whose simultaneous events run in another order (``lifo`` or
    ``shuffle:N``), keeping priorities and the order of events with the same owner.
    Deterministic: the same order and seed give the same run."""

    def __init__(self, order: str, seed: int = 0) -> None:
        kind, n = parse_tie_break(order)
        if kind == FIFO:
            raise ValueError("fifo is SimPy's own order: use simpy.Environment")
        super().__init__()
        self.order = order
        self._lifo = kind == LIFO
        self._order_rng = random.Random(f"{seed}/tie-break/{n}")

    def step(self) -> None:
        """Move the chosen simultaneous event to the front of the queue, then SimPy's step."""
        q = self._queue
        if len(q) > 1:
            t, prio = q[0][0], q[0][1]
            # In a heap, another entry with the head's (time, priority) implies a child has it too.
            if (q[1][0] == t and q[1][1] == prio) or (len(q) > 2 and q[2][0] == t and q[2][1] == prio):
                batch = []
                while q and q[0][0] == t and q[0][1] == prio:
                    batch.append(heappop(q))  # in event-id (scheduling) order
                heads: dict[int, int] = {}  # owner -> index in batch of its first event
                for i, entry in enumerate(batch):
                    heads.setdefault(id(_owner(entry[3])), i)
                candidates = sorted(heads.values())
                if len(candidates) == 1:
                    pick = candidates[0]
                elif self._lifo:
                    pick = candidates[-1]
                else:
                    pick = candidates[self._order_rng.randrange(len(candidates))]
                for i, entry in enumerate(batch):
                    if i == pick:
                        heappush(q, (t, prio, -1, entry[3]))  # -1: before every other event id
                    else:
                        heappush(q, entry)
        super().step()


def _owner(event: Event) -> object:
    """The object whose callback ``event`` runs first (a process, a watch, ...), else the event."""
    callbacks = event.callbacks
    if not callbacks:
        return event
    cb: Any = callbacks[0]
    while isinstance(cb, partial):
        cb = cb.func
    return getattr(cb, "__self__", cb)


def make_environment(order: str, seed: int = 0) -> simpy.Environment:
    """SimPy's own environment for ``fifo``, else a :class:`TieBreakEnvironment`."""
    if parse_tie_break(order)[0] == FIFO:
        return simpy.Environment()
    return TieBreakEnvironment(order, seed)
