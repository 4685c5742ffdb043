"""The metrics of one run of a sweep: pure functions of its trace (docs/cli.md, "Sweeps")."""

from __future__ import annotations

from statefulsim.analysis import metrics
from statefulsim.sim.trace import TraceSource, as_trace


def time_to_ready(trace: TraceSource, statefulset: str | None = None) -> float | None:
    """Time to all ready of ``statefulset`` (default the first set created): seconds from its
    creation until ``kubectl rollout status`` would first call it rolled out
    (:func:`statefulsim.analysis.metrics.time_to_all_ready`); None if never."""
    trace = as_trace(trace)
    return metrics.time_to_all_ready(trace, statefulset)


def rollout_duration(trace: TraceSource, statefulset: str | None = None) -> float | None:
    """Seconds from the first template change to every pod on the new revision
    (:func:`statefulsim.analysis.metrics.rollout_duration`)."""
    trace = as_trace(trace)
    return metrics.rollout_duration(trace, statefulset)


def time_below_quorum(trace: TraceSource, quorum: int, until: float, statefulset: str | None = None) -> float | None:
    """Seconds up to ``until`` with fewer than ``quorum`` Ready replicas
    (:func:`statefulsim.analysis.metrics.time_below`) for ``statefulset`` (default the first set
    created); None without a StatefulSet."""
    trace = as_trace(trace)
    if statefulset is None:
        created = metrics.first_statefulset(trace)
        if created is None:
            return None
        statefulset = created.fields["statefulset"]
    return metrics.time_below(trace, statefulset, quorum, until)


def dns_delays(trace: TraceSource) -> dict[str, float | None]:
    """``dns_delay[NAME]`` for every pod name a ``dnsQuery`` asked about
    (:func:`statefulsim.analysis.metrics.dns_delays`)."""
    trace = as_trace(trace)
    return metrics.dns_delays(trace)


def run_metrics(trace: TraceSource, *, until: float, quorum: int | None = None,
                statefulset: str | None = None) -> dict[str, float | None]:
    """Every metric of one run (see docs/cli.md, "Sweeps"), rounded to the microsecond; None when missing."""
    trace = as_trace(trace)
    from statefulsim.analysis.stuck import stuck_statefulsets

    stuck = stuck_statefulsets(trace)
    if statefulset is not None:
        stuck = [s for s in stuck if s.statefulset == statefulset]
    values: dict[str, float | None] = {
        "time_to_ready": time_to_ready(trace, statefulset),
        "rollout_duration": rollout_duration(trace, statefulset),
        "time_below_quorum": time_below_quorum(trace, quorum, until, statefulset) if quorum is not None else None,
        "stuck": 1.0 if stuck else 0.0,
    }
    values.update(dns_delays(trace))
    return {k: (None if v is None else round(float(v), 6)) for k, v in values.items()}
