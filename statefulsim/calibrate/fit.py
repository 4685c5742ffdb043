"""Maximum-likelihood fits of the registered delay models, chosen by AIC, with a KS distance.

One fitter per registered delay model, in :data:`FITTERS` (a :class:`~statefulsim.registry.Registry`
under the delay model's name, as ``DELAY_MODELS`` has it): ``constant``, ``uniform``,
``exponential`` and ``lognormal`` are built in; a plug-in that registers a delay model registers
its :class:`Fitter` with :func:`register_fitter` and the model becomes a candidate.

Exact or censored: a sample whose resolution is below 0.1 % of its median (Pulled durations to
the millisecond) is fitted as exact values, by the density.  A coarser one (timestamps and AGE to
the second) is fitted as *interval-censored* observations: the likelihood of a value is the
probability that a duration drawn from the model is recorded as it was (``interval``: the true
value lies within ±resolution of the recorded one; ``difference``: the recorded value is the
difference of two stamps each truncated to the resolution, an error with a triangular
distribution on ±resolution), maximised numerically from the exact-value fit.

CRITERION: ``constant`` when every sample lies within the resolution of the others (the
recording shows no spread); else the lowest AIC = 2k - 2 ln L (k = number of parameters).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

from statefulsim.calibrate.estimate import ALL, Sample
from statefulsim.registry import Registry
from statefulsim.sim.delays import _Z99, DelayModel, delay_model

__all__ = ["CRITERION", "FITTERS", "Fit", "Fitter", "KeyFit", "MIN_SAMPLES", "fit_key", "fit_sample",
           "how_fitted", "register_fitter", "timing_section"]

CRITERION = ("constant when every sample lies within the resolution of the others, else the lowest "
             "AIC (2k - 2 ln L)")
#: Fewer samples than this are reported, not fitted.
MIN_SAMPLES = 3
#: Below this share of the median the resolution is ignored (exact-value fit).
EXACT_BELOW = 1e-3
#: Quadrature nodes over the resolution's error (censored likelihood, observation CDF).
_NODES = 8
_TINY = 1e-300


class Fitter(Protocol):
    """Maximum likelihood for one delay model.  The optimiser moves *free* parameters (reals,
    e.g. ``log sigma``); :meth:`params` turns them into the model's scenario parameters (seconds)."""

    def start(self, values: Sequence[float], resolution: float) -> Sequence[float] | None:
        """The free parameters of the exact-value fit (the start of a censored one), or None when the
        model cannot describe ``values`` (its likelihood is zero)."""
        ...

    def cdf(self, free: Sequence[float], x: float) -> float: ...

    def logpdf(self, free: Sequence[float], x: float) -> float: ...

    def params(self, free: Sequence[float]) -> tuple[tuple[str, float], ...]:
        """The delay model's parameters, as ``delay_model(name, dict(params))`` takes them."""
        ...


class _Constant:
    def start(self, values: Sequence[float], resolution: float) -> Sequence[float] | None:
        return [statistics.fmean(values)] if max(values) - min(values) <= resolution else None

    def cdf(self, free: Sequence[float], x: float) -> float:
        return float(x >= free[0])

    def logpdf(self, free: Sequence[float], x: float) -> float:
        return math.inf  # a point mass: chosen by the criterion's first rule, not by AIC

    def params(self, free: Sequence[float]) -> tuple[tuple[str, float], ...]:
        return (("seconds", free[0]),)


class _Uniform:
    def start(self, values: Sequence[float], resolution: float) -> Sequence[float] | None:
        lo, hi = min(values), max(values)
        return [lo, math.log(hi - lo)] if hi > lo else None

    def cdf(self, free: Sequence[float], x: float) -> float:
        return min(1.0, max(0.0, (x - free[0]) / math.exp(free[1])))

    def logpdf(self, free: Sequence[float], x: float) -> float:
        return -free[1] if free[0] <= x <= free[0] + math.exp(free[1]) else -math.inf

    def params(self, free: Sequence[float]) -> tuple[tuple[str, float], ...]:
        return (("low", free[0]), ("high", free[0] + math.exp(free[1])))


class _Exponential:
    def start(self, values: Sequence[float], resolution: float) -> Sequence[float] | None:
        mean = statistics.fmean(values)
        return [math.log(mean)] if mean > 0 else None

    def cdf(self, free: Sequence[float], x: float) -> float:
        return 1 - math.exp(-x / math.exp(free[0])) if x > 0 else 0.0

    def logpdf(self, free: Sequence[float], x: float) -> float:
        return -free[0] - x / math.exp(free[0]) if x >= 0 else -math.inf

    def params(self, free: Sequence[float]) -> tuple[tuple[str, float], ...]:
        return (("mean", math.exp(free[0])),)


class _LogNormal:
    def start(self, values: Sequence[float], resolution: float) -> Sequence[float] | None:
        floor = resolution / 2  # a censored zero: somewhere in (0, resolution)
        if min(values) <= 0 and floor <= 0:
            return None
        logs = [math.log(max(x, floor)) for x in values]
        mu = statistics.fmean(logs)
        sigma = math.sqrt(statistics.fmean([(v - mu) ** 2 for v in logs]))
        return [mu, math.log(sigma)] if sigma > 0 else None

    def cdf(self, free: Sequence[float], x: float) -> float:
        return 0.5 * (1 + math.erf((math.log(x) - free[0]) / (math.exp(free[1]) * math.sqrt(2)))) if x > 0 else 0.0

    def logpdf(self, free: Sequence[float], x: float) -> float:
        if x <= 0:
            return -math.inf
        v, sigma = math.log(x), math.exp(free[1])
        return -v - free[1] - 0.5 * math.log(2 * math.pi) - (v - free[0]) ** 2 / (2 * sigma ** 2)

    def params(self, free: Sequence[float]) -> tuple[tuple[str, float], ...]:
        return (("median", math.exp(free[0])), ("p99", math.exp(free[0] + _Z99 * math.exp(free[1]))))


#: Fitters by delay model name (the names of ``statefulsim.sim.delays.DELAY_MODELS``).
FITTERS: Registry[Fitter] = Registry("delay model fitter")
FITTERS.register("constant", _Constant(), builtin=True)
FITTERS.register("uniform", _Uniform(), builtin=True)
FITTERS.register("exponential", _Exponential(), builtin=True)
FITTERS.register("lognormal", _LogNormal(), builtin=True)


def register_fitter(name: str, fitter: Fitter, *, replace: bool = False) -> None:
    """Make the delay model ``name`` (registered with ``register_delay_model``) a candidate of
    ``statefulsim calibrate``; ``fitter.params`` must give the parameters that model takes."""
    FITTERS.register(name, fitter, replace=replace)


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


def _errors(censoring: str, resolution: float) -> list[float]:
    """Quadrature nodes (equal weights) of the recording's error on a value: uniform on ±r for
    ``interval``, the difference of two uniforms on (0, r) (triangular on ±r) for ``difference``."""
    mid = [(j + 0.5) / _NODES for j in range(_NODES)]
    if censoring == "interval":
        return [resolution * (2 * m - 1) for m in mid]
    return [resolution * (a - b) for a in mid for b in mid]


def _loglik(f: Fitter, free: Sequence[float], xs: Sequence[float], censoring: str, resolution: float) -> float:
    if censoring == "exact":
        return sum(f.logpdf(free, x) for x in xs)
    total = 0.0
    if censoring == "interval":
        for x in xs:
            total += math.log(max((f.cdf(free, x + resolution) - f.cdf(free, x - resolution)) / (2 * resolution),
                                  _TINY))
        return total
    half = resolution / 2
    shifts = [resolution * ((j + 0.5) / _NODES - 0.5) for j in range(_NODES)]  # U(-r/2, r/2)
    for x in xs:
        p = sum(f.cdf(free, x + w + half) - f.cdf(free, x + w - half) for w in shifts) / (_NODES * resolution)
        total += math.log(max(p, _TINY))
    return total


def _ks(values: Sequence[float], cdf: Callable[[float], float], censoring: str, resolution: float) -> float:
    """Kolmogorov–Smirnov distance between the samples' empirical CDF and the model's.  For a censored
    sample the model's CDF is that of the recorded values (the model with the recording's error
    added) and the empirical one is taken at the middle of each step (recorded values tie)."""
    xs = sorted(values)
    n = len(xs)
    if censoring == "exact":
        return max(max(abs((i + 1) / n - cdf(x)), abs(i / n - cdf(x))) for i, x in enumerate(xs))
    errors = _errors(censoring, resolution)
    out, i = 0.0, 0
    while i < n:
        j = i
        while j < n and xs[j] == xs[i]:
            j += 1
        model = sum(cdf(xs[i] - e) for e in errors) / len(errors)
        out = max(out, abs((i + j) / (2 * n) - model))
        i = j
    return out


def _nelder_mead(fn: Callable[[Sequence[float]], float], start: Sequence[float], step: float = 0.1,
                 iterations: int = 400, tolerance: float = 1e-9) -> list[float]:
    """Minimise ``fn`` from ``start`` (a few parameters: the standard simplex method)."""
    k = len(start)
    simplex = [list(start)] + [[v + (step if i == d else 0.0) for i, v in enumerate(start)] for d in range(k)]
    values = [fn(p) for p in simplex]
    for _ in range(iterations):
        order = sorted(range(k + 1), key=lambda i: values[i])
        simplex, values = [simplex[i] for i in order], [values[i] for i in order]
        if abs(values[-1] - values[0]) <= tolerance * (1 + abs(values[0])):
            break
        centroid = [sum(p[d] for p in simplex[:-1]) / k for d in range(k)]
        worst = simplex[-1]
        reflected = [c + (c - w) for c, w in zip(centroid, worst)]
        fr = fn(reflected)
        if fr < values[0]:
            expanded = [c + 2 * (c - w) for c, w in zip(centroid, worst)]
            fe = fn(expanded)
            simplex[-1], values[-1] = (expanded, fe) if fe < fr else (reflected, fr)
        elif fr < values[-2]:
            simplex[-1], values[-1] = reflected, fr
        else:
            contracted = [c + 0.5 * (w - c) for c, w in zip(centroid, worst)]
            fc = fn(contracted)
            if fc < values[-1]:
                simplex[-1], values[-1] = contracted, fc
            else:
                best = simplex[0]
                simplex = [best] + [[b + 0.5 * (v - b) for b, v in zip(best, p)] for p in simplex[1:]]
                values = [values[0]] + [fn(p) for p in simplex[1:]]
    return simplex[min(range(k + 1), key=lambda i: values[i])]


def fit_sample(values: Sequence[float], resolution: float = 0.0, censoring: str = "difference") -> list[Fit]:
    """Every registered model that can describe ``values`` (seconds), best first by CRITERION.
    ``censoring`` says how ``resolution`` arose (``interval`` or ``difference``, module docstring);
    a resolution below :data:`EXACT_BELOW` of the median is ignored."""
    xs = [float(v) for v in values]
    n = len(xs)
    if n < MIN_SAMPLES:
        raise ValueError(f"needs at least {MIN_SAMPLES} samples, found {n}")
    if resolution <= EXACT_BELOW * abs(statistics.median(xs)) or resolution <= 0:
        censoring = "exact"
    fits: list[Fit] = []
    for name, fitter in FITTERS.items():
        try:
            fit = _fit_one(name, fitter, xs, resolution, censoring)
        except (ValueError, OverflowError, ZeroDivisionError):
            continue  # a plug-in's fitter that cannot fit these values is not a candidate
        if fit is not None:
            fits.append(fit)
    fits.sort(key=lambda f: f.aic)
    return fits


def _fit_one(name: str, fitter: Fitter, xs: Sequence[float], resolution: float, censoring: str) -> Fit | None:
    start = fitter.start(xs, resolution)
    if start is None:
        return None
    free: Sequence[float] = start

    def cdf(x: float) -> float:
        return fitter.cdf(free, x)

    def cost(p: Sequence[float]) -> float:
        return -_loglik(fitter, p, xs, censoring, resolution)

    if name == "constant":
        return Fit(name, fitter.params(free), math.inf, -math.inf, _ks(xs, cdf, censoring, resolution))
    if censoring != "exact":
        free = _nelder_mead(cost, free)
    ll = _loglik(fitter, free, xs, censoring, resolution)
    if not math.isfinite(ll):
        return None
    return Fit(name, fitter.params(free), ll, 2 * len(free) - 2 * ll, _ks(xs, cdf, censoring, resolution))


def how_fitted(sample: Sample) -> str:
    """``exact values`` or ``interval-censored (difference of two stamps, ±1 s)``, for the report."""
    if sample.resolution <= 0 or sample.resolution <= EXACT_BELOW * abs(statistics.median(sample.values)):
        return "fitted as exact values"
    what = "difference of two truncated stamps" if sample.censoring == "difference" else "one truncated value"
    return f"fitted as interval-censored ({what}, ±{sample.resolution:.3g} s)"


def fit_key(sample: Sample) -> KeyFit:
    """The fit of one sample (ValueError when it has too few values, or no model fits it)."""
    candidates = fit_sample(sample.values, sample.resolution, sample.censoring)
    if not candidates:
        raise ValueError("no registered delay model fits these samples")
    return KeyFit(sample, tuple(candidates))


def timing_section(fits: Sequence[KeyFit]) -> dict[str, Any]:
    """A scenario's ``timing:`` mapping: the keys of scope ALL at its top, one override per image
    or StatefulSet, with the chosen models as :class:`Fit` objects (a writer renders them;
    ``Fit.yaml()`` gives the scenario form)."""
    by_scope: dict[tuple[str, str], dict[str, KeyFit]] = {}
    for f in fits:
        by_scope.setdefault(f.sample.scope, {})[f.sample.key] = f
    top = by_scope.pop(ALL, {})
    overrides = [{"match": {kind: name}, **keys} for (kind, name), keys in sorted(by_scope.items())]
    return {**top, "overrides": overrides}
