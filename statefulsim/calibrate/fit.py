"""Maximum-likelihood fits of the registered delay models, chosen by AIC, with a KS distance.

Candidates: ``constant`` (only when every sample lies within the recording's resolution of the
others: its likelihood is zero otherwise), ``uniform`` (low = min, high = max), ``exponential``
(mean = sample mean) and ``lognormal`` (mu, sigma of the logs; written as median and p99).
CRITERION: the lowest AIC = 2k - 2 ln L wins (k = number of parameters).  Models registered by
users have no fitter and are not candidates.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from statefulsim.calibrate.estimate import Sample
from statefulsim.sim.delays import _Z99, DelayModel, delay_model

CRITERION = "AIC (2k - 2 ln L, lowest wins)"
#: Fewer samples than this are reported, not fitted.
MIN_SAMPLES = 3


@dataclass(frozen=True)
class Fit:
    """One candidate model: its parameters (seconds), log-likelihood, AIC and KS distance."""

    model: str
    params: tuple[tuple[str, float], ...]
    loglik: float
    aic: float
    ks: float

    def delay(self) -> DelayModel:
        return delay_model(self.model, dict(self.params))

    def yaml(self) -> str:
        """The model as a scenario writes it: ``{lognormal: {median: 8.1s, p99: 29.8s}}``."""
        if self.model == "constant":
            return _secs(self.params[0][1])
        inner = ", ".join(f"{k}: {_secs(v)}" for k, v in self.params)
        return f"{{{self.model}: {{{inner}}}}}"


@dataclass(frozen=True)
class KeyFit:
    """The fit of one key in one scope: the chosen model and the others, best first."""

    sample: Sample
    candidates: tuple[Fit, ...]

    @property
    def chosen(self) -> Fit:
        return self.candidates[0]


def _secs(v: float) -> str:
    return f"{v:.4g}s"


def _ks(values: Sequence[float], cdf: Callable[[float], float]) -> float:
    """Kolmogorov–Smirnov distance between the samples' empirical CDF and ``cdf``."""
    xs = sorted(values)
    n = len(xs)
    return max(max(abs((i + 1) / n - cdf(x)), abs(i / n - cdf(x))) for i, x in enumerate(xs))


def fit_sample(values: Sequence[float], resolution: float = 0.0) -> list[Fit]:
    """Every candidate that fits ``values`` (seconds), best (lowest AIC) first."""
    xs = [float(v) for v in values]
    n = len(xs)
    if n < MIN_SAMPLES:
        raise ValueError(f"needs at least {MIN_SAMPLES} samples, found {n}")
    lo, hi, mean = min(xs), max(xs), statistics.fmean(xs)
    fits: list[Fit] = []
    if hi - lo <= resolution:
        fits.append(Fit("constant", (("seconds", mean),), math.inf, -math.inf, _ks(xs, lambda x: float(x >= mean))))
    if hi > lo:
        ll = -n * math.log(hi - lo)
        fits.append(Fit("uniform", (("low", lo), ("high", hi)), ll, 4 - 2 * ll,
                        _ks(xs, lambda x: min(1.0, max(0.0, (x - lo) / (hi - lo))))))
    if mean > 0:
        ll = -n * math.log(mean) - n
        fits.append(Fit("exponential", (("mean", mean),), ll, 2 - 2 * ll, _ks(xs, lambda x: 1 - math.exp(-x / mean))))
    if lo > 0 and hi > lo:
        logs = [math.log(x) for x in xs]
        mu = statistics.fmean(logs)
        sigma = math.sqrt(statistics.fmean([(v - mu) ** 2 for v in logs]))
        if sigma > 0:
            ll = sum(-v - math.log(sigma) - 0.5 * math.log(2 * math.pi) - (v - mu) ** 2 / (2 * sigma ** 2) for v in logs)

            def cdf(x: float, mu: float = mu, sigma: float = sigma) -> float:
                return 0.5 * (1 + math.erf((math.log(x) - mu) / (sigma * math.sqrt(2)))) if x > 0 else 0.0

            fits.append(Fit("lognormal", (("median", math.exp(mu)), ("p99", math.exp(mu + _Z99 * sigma))), ll,
                            4 - 2 * ll, _ks(xs, cdf)))
    fits.sort(key=lambda f: f.aic)
    return fits


def fit_key(sample: Sample) -> KeyFit:
    """The fit of one sample (ValueError when it has too few values)."""
    return KeyFit(sample, tuple(fit_sample(sample.values, sample.resolution)))


def timing_section(fits: Sequence[KeyFit]) -> dict[str, Any]:
    """A scenario's ``timing:`` mapping: one override per image or StatefulSet, with the chosen models
    as :class:`Fit` objects (a writer renders them; ``Fit.yaml()`` gives the scenario form)."""
    by_scope: dict[tuple[str, str], dict[str, KeyFit]] = {}
    for f in fits:
        by_scope.setdefault(f.sample.scope, {})[f.sample.key] = f
    overrides = [{"match": {kind: name}, **keys} for (kind, name), keys in sorted(by_scope.items())]
    return {"overrides": overrides}
