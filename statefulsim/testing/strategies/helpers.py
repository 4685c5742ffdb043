"""Small helpers of the strategies: whole milliseconds as duration strings, even integer draws."""

from __future__ import annotations

import functools
from typing import Any

from hypothesis import strategies as st


def format_seconds(ms: int) -> str:
    """A whole number of milliseconds as a duration string in seconds (``12.345s``, ``90s``).

    The string parses back to exactly ``ms / 1000`` (the scenario loader multiplies by 1.0)."""
    if ms < 0:
        raise ValueError(f"negative duration {ms} ms")
    whole, frac = divmod(ms, 1000)
    return f"{whole}s" if frac == 0 else f"{whole}.{frac:03d}".rstrip("0") + "s"


@functools.lru_cache(maxsize=256)
def _uniform(low: int, high: int) -> st.SearchStrategy[int]:
    """An integer in ``[low, high]`` drawn evenly (``st.integers`` favours small values), shrinking
    towards ``low``: for counts such as replicas and actions, where the interesting cases are
    the larger ones."""
    return st.sampled_from(range(low, high + 1))


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def _seconds_of(duration: Any) -> float:
    from statefulsim.durations import parse_duration

    return parse_duration(duration)
