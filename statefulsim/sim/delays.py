"""Delay models: how long something takes, as a constant or a distribution.

Every model samples from the RNG it is handed (the simulation's own seeded stream), never from
global random state.  Users add their own with :func:`register_delay_model`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Callable, Mapping, Protocol, runtime_checkable

from statefulsim.registry import Registry

# z-score of the 99th percentile of the standard normal distribution.
_Z99 = 2.3263478740408408
#: The tail probability :func:`upper_bound` leaves out of unbounded models.
TAIL = 1e-4
_Z_TAIL = 3.7190164854556804  # the standard normal quantile at 1 - TAIL


@runtime_checkable
class DelayModel(Protocol):
    """A source of non-negative durations in simulated seconds (``math.inf`` means never)."""

    def sample(self, rng: random.Random) -> float: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Constant:
    seconds: float

    def sample(self, rng: random.Random) -> float:
        return self.seconds

    def describe(self) -> str:
        return "never" if math.isinf(self.seconds) else f"{self.seconds:g}s"

    def upper_bound(self) -> float:
        return self.seconds


@dataclass(frozen=True)
class Exponential:
    mean: float

    def sample(self, rng: random.Random) -> float:
        return rng.expovariate(1.0 / self.mean) if self.mean > 0 else 0.0

    def describe(self) -> str:
        return f"exponential(mean={self.mean:g}s)"

    def upper_bound(self) -> float:
        return self.mean * math.log(1.0 / TAIL)


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float

    def sample(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)

    def describe(self) -> str:
        return f"uniform({self.low:g}s..{self.high:g}s)"

    def upper_bound(self) -> float:
        return self.high


@dataclass(frozen=True)
class LogNormal:
    """Log-normal given by its median and 99th percentile (both in seconds)."""

    median: float
    p99: float

    def __post_init__(self) -> None:
        if not self.median > 0:
            raise ValueError("median must be > 0")
        if not self.p99 > self.median:
            raise ValueError(f"p99 ({self.p99:g}s) must be greater than median ({self.median:g}s)")
        # mu and sigma of the underlying normal, computed once: watches sample this per event.
        object.__setattr__(self, "_mu_sigma", (math.log(self.median), math.log(self.p99 / self.median) / _Z99))

    def sample(self, rng: random.Random) -> float:
        mu, sigma = self._mu_sigma  # type: ignore[attr-defined]
        # rng.lognormvariate(mu, sigma) is exp(normalvariate): the same draw, but a far tail
        # (a huge p99 / median) is an infinite delay instead of an OverflowError.
        x = rng.normalvariate(mu, sigma)
        return math.exp(x) if x < 709.0 else math.inf

    def describe(self) -> str:
        return f"lognormal(median={self.median:g}s, p99={self.p99:g}s)"

    def upper_bound(self) -> float:
        return float(self.median * (self.p99 / self.median) ** (_Z_TAIL / _Z99))


@dataclass(frozen=True)
class Shifted:
    """``offset`` plus another model: a floor such as a minimum network round trip."""

    offset: float
    model: DelayModel

    def sample(self, rng: random.Random) -> float:
        return self.offset + self.model.sample(rng)

    def describe(self) -> str:
        return f"{self.offset:g}s + {self.model.describe()}"

    def upper_bound(self) -> float:
        return self.offset + upper_bound(self.model)


def upper_bound(model: DelayModel) -> float:
    """A practical upper bound of ``model``'s samples, in seconds: its ``upper_bound()`` hook
    (the maximum for bounded models, the 1 - :data:`TAIL` quantile for unbounded ones), or
    ``inf`` for a model without one (the hook is optional, so user models need not have it)."""
    hook = getattr(model, "upper_bound", None)
    return float(hook()) if callable(hook) else math.inf


NEVER = Constant(math.inf)
ZERO = Constant(0.0)

# A factory receives the parameters (durations already converted to seconds) and returns a model,
# raising ValueError with a readable message for bad parameters.
DelayFactory = Callable[[Mapping[str, float]], DelayModel]


def _finite(p: Mapping[str, float], *names: str) -> None:
    """A distribution's parameters must be finite (``never`` is a constant, not a parameter)."""
    for name in names:
        if not math.isfinite(p[name]):
            raise ValueError(f"{name} must be a finite duration, found never (for a delay that never ends "
                             "write the model as never)")


def _constant(p: Mapping[str, float]) -> DelayModel:
    return Constant(p["seconds"])


def _exponential(p: Mapping[str, float]) -> DelayModel:
    _finite(p, "mean")
    return Exponential(p["mean"])


def _uniform(p: Mapping[str, float]) -> DelayModel:
    _finite(p, "low", "high")
    if p["high"] < p["low"]:
        raise ValueError(f"high ({p['high']:g}s) must not be below low ({p['low']:g}s)")
    return Uniform(p["low"], p["high"])


def _lognormal(p: Mapping[str, float]) -> DelayModel:
    _finite(p, "median", "p99")
    return LogNormal(p["median"], p["p99"])


@dataclass(frozen=True)
class DelayKind:
    factory: DelayFactory
    params: tuple[str, ...]


#: Delay model kinds by the key written in ``timing:`` sections.  As with policies, built-ins are
#: not marked built-in: :func:`register_delay_model` has always replaced an entry of the same name.
DELAY_MODELS: Registry[DelayKind] = Registry("delay model")
DELAY_MODELS.register("constant", DelayKind(_constant, ("seconds",)))
DELAY_MODELS.register("exponential", DelayKind(_exponential, ("mean",)))
DELAY_MODELS.register("uniform", DelayKind(_uniform, ("low", "high")))
DELAY_MODELS.register("lognormal", DelayKind(_lognormal, ("median", "p99")))


def register_delay_model(name: str, factory: DelayFactory, params: tuple[str, ...]) -> None:
    """Make ``{name: {param: duration, ...}}`` usable in scenario timing sections."""
    DELAY_MODELS.register(name, DelayKind(factory, params), replace=True)


def delay_kinds() -> Mapping[str, DelayKind]:
    return dict(DELAY_MODELS.items())


def delay_model(name: str, params: Mapping[str, float]) -> DelayModel:
    """Build a registered model; raises KeyError for unknown names, ValueError for bad params."""
    return DELAY_MODELS.get(name).factory(params)

