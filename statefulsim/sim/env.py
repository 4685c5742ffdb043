"""The simulation environment: SimPy clock, seeded random streams and the trace."""

from __future__ import annotations

import random
from typing import Any

import simpy

from statefulsim.sim.delays import DelayModel
from statefulsim.sim.tiebreak import make_environment
from statefulsim.sim.trace import Trace


class SimEnv:
    """One simulation: a SimPy environment, one seed, named RNG streams and a trace.

    Streams are derived from the seed and a name, so adding randomness to one component does
    not shift the numbers another component draws.
    """

    def __init__(self, seed: int = 0, tie_break: str = "fifo") -> None:
        # tie_break: the order of same-time events (statefulsim.sim.tiebreak); "fifo" is SimPy's own.
        self.sim = make_environment(tie_break, seed)
        self.seed = seed
        self.trace = Trace()
        self._streams: dict[str, random.Random] = {}
        self._uid_counter = 0
        self._sequences: dict[str, int] = {}
        #: Whether Event recorders write ``KubeEvent`` records (a sweep's lean runs read none).
        self.kube_events = True

    @property
    def now(self) -> float:
        return float(self.sim.now)

    def rng(self, stream: str) -> random.Random:
        """The RNG of a named stream (created on first use, seeded from the run's seed)."""
        r = self._streams.get(stream)
        if r is None:
            r = random.Random(f"{self.seed}/{stream}")
            self._streams[stream] = r
        return r

    def sample(self, model: DelayModel, stream: str) -> float:
        return model.sample(self.rng(stream))

    def emit(self, event: str, **fields: Any) -> None:
        """Append a trace record at the current time (``**fields`` is a fresh dict, so the record
        keeps it rather than a copy)."""
        self.trace.append_owned(float(self.sim.now), event, fields)

    def sequence(self, name: str) -> int:
        """0, 1, 2, ... per ``name``: a creation order that does not depend on the RNG."""
        n = self._sequences.get(name, 0)
        self._sequences[name] = n + 1
        return n

    def new_uid(self) -> str:
        """A deterministic, UUID-shaped identifier."""
        self._uid_counter += 1
        n = self._uid_counter
        r = self.rng("uid").getrandbits(96)
        h = f"{n:08x}{r:024x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"

    def timeout(self, delay: float) -> simpy.Timeout:
        return self.sim.timeout(max(0.0, delay))

    def process(self, gen: Any) -> simpy.Process:
        return self.sim.process(gen)

    def event(self) -> simpy.Event:
        return self.sim.event()
