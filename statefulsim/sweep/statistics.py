"""Percentiles with distribution-free confidence intervals, and a sweep's result."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from statefulsim.sweep.grid import PreparedPoint

#: The percentiles reported for every metric.
PERCENTILES: tuple[int, ...] = (50, 90, 99)
#: Confidence level of the percentile intervals.
CONFIDENCE = 0.95
#: Metrics every run has (DNS metrics, ``dns_delay[NAME]``, depend on the scenario's queries).
BASE_METRICS: tuple[str, ...] = ("time_to_ready", "rollout_duration", "time_below_quorum", "stuck")


def _log_binom_pmf(k: int, n: int, p: float) -> float:
    if p <= 0.0:
        return 0.0 if k == 0 else -math.inf
    if p >= 1.0:
        return 0.0 if k == n else -math.inf
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            + k * math.log(p) + (n - k) * math.log1p(-p))


def _binom_cdf(n: int, p: float) -> list[float]:
    """``cdf[k] = P(B <= k)`` for B ~ Binomial(n, p), k = 0..n."""
    out: list[float] = []
    acc = 0.0
    for k in range(n + 1):
        acc += math.exp(_log_binom_pmf(k, n, p))
        out.append(min(acc, 1.0))
    return out


def percentile_ci(values: Sequence[float], q: float, confidence: float = CONFIDENCE
                  ) -> tuple[float | None, float | None, float | None]:
    """The ``q``-quantile (0 < q < 1) of ``values`` and a distribution-free confidence interval.

    Estimate: the nearest-rank order statistic ``x(ceil(q*n))``.  Interval: order statistics
    ``[x(l), x(u)]`` with, for B ~ Binomial(n, q), ``l`` the largest rank with ``P(B <= l-1) <=
    (1-confidence)/2`` and ``u`` the smallest with ``P(B <= u-1) >= 1-(1-confidence)/2``; then
    ``P(x(l) <= true quantile <= x(u)) >= confidence`` for any continuous distribution.  A bound
    is None when ``n`` is too small for it (e.g. the upper bound of p99 under ~300 runs)."""
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        return None, None, None
    est = xs[max(1, math.ceil(q * n)) - 1]
    alpha = (1.0 - confidence) / 2.0
    cdf = _binom_cdf(n, q)
    eps = 1e-12
    lo: float | None = None
    l_rank = 0
    for rank in range(1, n + 1):  # P(B <= rank-1)
        if cdf[rank - 1] <= alpha + eps:
            l_rank = rank
        else:
            break
    if l_rank >= 1:
        lo = xs[l_rank - 1]
    hi: float | None = None
    for rank in range(1, n + 1):
        if cdf[rank - 1] >= 1.0 - alpha - eps:
            hi = xs[rank - 1]
            break
    return est, lo, hi


@dataclass(frozen=True)
class Summary:
    """One grid point × metric: how many runs had a value, the mean and the percentiles with intervals."""

    point_index: int
    point: dict[str, Any]
    metric: str
    runs: int
    n: int
    mean: float | None
    percentiles: dict[int, tuple[float | None, float | None, float | None]]


@dataclass(frozen=True)
class RunRecord:
    """One finished run, as the state file stores it."""

    point_index: int
    seed: int
    metrics: dict[str, float | None]


@dataclass
class SweepResult:
    """Every run of a sweep, sorted by grid point and seed, with the points it covered."""

    points: list[PreparedPoint]
    runs: list[RunRecord]
    seeds: list[int]
    executed: int = 0  # runs done by this call (the others came from the state file)

    def metric_names(self) -> list[str]:
        names: set[str] = set()
        for r in self.runs:
            names.update(r.metrics)
        base = [m for m in BASE_METRICS if m in names]
        return base + sorted(names - set(BASE_METRICS))

    def values(self, point_index: int, metric: str) -> list[float]:
        """The non-missing values of ``metric`` at one grid point, in seed order."""
        out: list[float] = []
        for r in self.runs:
            v = r.metrics.get(metric)
            if r.point_index == point_index and v is not None:
                out.append(v)
        return out

    def records(self) -> list[dict[str, Any]]:
        """One dict per run (``pandas.DataFrame(result.records())`` works)."""
        out: list[dict[str, Any]] = []
        for r in self.runs:
            row: dict[str, Any] = dict(self.points[r.point_index].point)
            row["seed"] = r.seed
            row.update(r.metrics)
            out.append(row)
        return out

    def __repr__(self) -> str:
        axes = sorted({k for pt in self.points for k in pt.point})
        return (f"<SweepResult: {len(self.points)} grid point{'' if len(self.points) == 1 else 's'}"
                f"{' over ' + ', '.join(axes) if axes else ''} × {len(self.seeds)} seeds = {len(self.runs)} runs, "
                f"{self.executed} run now>")

    def _repr_html_(self) -> str:
        """Jupyter: the summary line, then per grid point the median (p50) of each metric."""
        import html

        metrics = self.metric_names()
        head = "".join(f"<th>{html.escape(m)}</th>" for m in metrics)
        rows = []
        by_point: dict[int, dict[str, Summary]] = {}
        for s in self.summaries():
            by_point.setdefault(s.point_index, {})[s.metric] = s
        for pt in self.points:
            label = ", ".join(f"{k}={v}" for k, v in pt.point.items()) or "(the scenario)"
            cells = []
            for m in metrics:
                found = by_point.get(pt.index, {}).get(m)
                p50 = found.percentiles.get(50, (None, None, None))[0] if found is not None else None
                cells.append(f"<td>{'—' if p50 is None else f'{p50:g}'}</td>")
            rows.append(f"<tr><td>{html.escape(label)}</td>{''.join(cells)}</tr>")
        return (f"<p><b>{html.escape(repr(self))}</b></p><table><tr><th>point (median of each metric)</th>{head}</tr>"
                + "".join(rows) + "</table>")

    def summaries(self, confidence: float = CONFIDENCE) -> list[Summary]:
        """One :class:`Summary` per grid point × metric, in grid then metric order."""
        out: list[Summary] = []
        for pt in self.points:
            runs = sum(1 for r in self.runs if r.point_index == pt.index)
            for m in self.metric_names():
                vals = self.values(pt.index, m)
                mean = round(math.fsum(vals) / len(vals), 6) if vals else None
                pcts = {q: percentile_ci(vals, q / 100.0, confidence) for q in PERCENTILES}
                out.append(Summary(pt.index, pt.point, m, runs, len(vals), mean, pcts))
        return out
