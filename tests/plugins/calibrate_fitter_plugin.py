"""A plug-in delay model with its fitter, for tests/calibrate/test_calibrate.py (docs/calibrate.md)."""

from __future__ import annotations

import math
from typing import Sequence

from statefulsim.calibrate.fit import register_fitter
from statefulsim.sim.delays import Exponential, Shifted, register_delay_model


class ShiftedExponentialFitter:
    """offset + exponential(mean): offset = the smallest value, mean = the mean above it."""

    def start(self, values: Sequence[float], resolution: float) -> Sequence[float] | None:
        lo = min(values)
        mean = sum(values) / len(values) - lo
        return [lo, math.log(mean)] if mean > 0 else None

    def cdf(self, free: Sequence[float], x: float) -> float:
        return 1 - math.exp(-(x - free[0]) / math.exp(free[1])) if x > free[0] else 0.0

    def logpdf(self, free: Sequence[float], x: float) -> float:
        return -free[1] - (x - free[0]) / math.exp(free[1]) if x >= free[0] else -math.inf

    def params(self, free: Sequence[float]) -> tuple[tuple[str, float], ...]:
        return (("offset", free[0]), ("mean", math.exp(free[1])))


register_delay_model("shiftedExponential", lambda p: Shifted(p["offset"], Exponential(p["mean"])), ("offset", "mean"))
register_fitter("shiftedExponential", ShiftedExponentialFitter(), replace=True)
