"""Observed against simulated: where a recording's milestones fall in the simulated spread.

Times are seconds since the first pod creation (of the recording, of each run), so a recording
and a run line up without a shared clock.  Milestones: ``scheduled``, ``running``, ``ready`` and
``terminating`` (a recording dates the start of a deletion, not the object's removal).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from statefulsim.calibrate.estimate import PodTimes
from statefulsim.sim.trace import TraceSource, as_trace

MILESTONES = ("scheduled", "running", "ready", "terminating")
_EVENTS = {"PodScheduled": "scheduled", "PodRunning": "running", "PodReady": "ready", "PodTerminating": "terminating"}
#: The share of observations a well-calibrated simulation puts inside its p5..p95 ...
EXPECTED_INSIDE = 0.9
#: ... and the share the verdict asks for: milestones are cumulative (a slow first pod delays every
#: later one), so one recording's milestones are strongly correlated and fall outside together.
CONSISTENT_SHARE = 0.75

Milestones = Mapping[tuple[str, str], float]  # (pod, milestone) -> seconds since the first creation


def observed_milestones(pods: Iterable[PodTimes]) -> dict[tuple[str, str], float]:
    """The first incarnation of each pod name, per milestone, from the first creation on."""
    out: dict[tuple[str, str], float] = {}
    created = [p.created for p in pods if p.created is not None]
    origin = min(created, default=0.0)
    for p in sorted(pods, key=lambda p: (p.created is None, p.created or 0.0)):
        for m in MILESTONES:
            t = getattr(p, m)
            if t is not None:
                out.setdefault((p.pod, m), t - origin)
    return out


def simulated_milestones(trace: TraceSource) -> dict[tuple[str, str], float]:
    """The same from a simulated run's trace."""
    trace = as_trace(trace)
    out: dict[tuple[str, str], float] = {}
    origin: float | None = None
    for r in trace:
        if r.event == "PodCreated" and origin is None:
            origin = r.t
        m = _EVENTS.get(r.event)
        if m is not None and origin is not None:
            out.setdefault((str(r.fields["pod"]), m), r.t - origin)
    return out


@dataclass(frozen=True)
class Row:
    """One pod and milestone: observed time, simulated p5/p50/p95, the observation's percentile."""

    pod: str
    milestone: str
    observed: float
    p5: float | None
    p50: float | None
    p95: float | None
    percentile: float | None  # share of runs at or before the observation, in percent
    runs: int  # runs that have this milestone
    resolution: float = 0.0  # of the observation

    @property
    def inside(self) -> bool:
        """Within p5..p95, widened by the observation's resolution."""
        return (self.p5 is not None and self.p95 is not None
                and self.p5 - self.resolution <= self.observed <= self.p95 + self.resolution)


@dataclass(frozen=True)
class Ordering:
    """``first`` before ``then`` in the recording, and in how many runs."""

    first: tuple[str, str]
    then: tuple[str, str]
    runs: int
    of: int


@dataclass(frozen=True)
class Comparison:
    rows: tuple[Row, ...]
    orderings: tuple[Ordering, ...]
    verdict: str
    ok: bool


def _quantile(xs: Sequence[float], q: float) -> float:
    s = sorted(xs)
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def compare(observed: Milestones, runs: Sequence[Milestones], resolution: float = 1.0) -> Comparison:
    """Put ``observed`` next to the distribution of ``runs``.  An observation is inside when it lies
    within p5..p95 widened by ``resolution`` (a difference of two timestamps to the second is off by
    less than 1 s either way).  Orderings: every two consecutive
    observed milestones more than ``resolution`` apart (closer ones are ties within the recording)."""
    rows = []
    for key, t in sorted(observed.items(), key=lambda kv: (kv[1], kv[0])):
        xs = [r[key] for r in runs if key in r]
        if xs:
            rows.append(Row(key[0], key[1], t, _quantile(xs, 0.05), statistics.median(xs), _quantile(xs, 0.95),
                            100.0 * sum(x <= t for x in xs) / len(xs), len(xs), resolution))
        else:
            rows.append(Row(key[0], key[1], t, None, None, None, None, 0, resolution))
    seq = sorted(observed.items(), key=lambda kv: kv[1])
    orderings = []
    for (a, ta), (b, tb) in zip(seq, seq[1:]):
        if tb - ta > resolution:
            n = sum(1 for r in runs if a in r and b in r and r[a] < r[b])
            orderings.append(Ordering(a, b, n, len(runs)))
    inside = sum(r.inside for r in rows)
    missing = [r for r in rows if r.runs == 0]
    never = [o for o in orderings if o.runs == 0]
    share = inside / len(rows) if rows else 0.0
    ok = bool(rows) and share >= CONSISTENT_SHARE and not missing and not never
    verdict = (f"{'consistent' if ok else 'NOT consistent'}: {inside} of {len(rows)} observed milestones inside the "
               f"simulated p5..p95 (a calibrated simulation puts ~{EXPECTED_INSIDE:.0%} there, the verdict asks "
               f"{CONSISTENT_SHARE:.0%}); "
               f"{len(orderings) - len(never)} of {len(orderings)} recorded orderings occur in the runs"
               + (f"; {len(missing)} milestones never simulated" if missing else ""))
    return Comparison(tuple(rows), tuple(orderings), verdict, ok)
