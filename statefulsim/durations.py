"""Durations as users write them: ``90s``, ``15m``, ``1h30m``, ``250ms``, or a number of seconds."""

from __future__ import annotations

import math
import re
from typing import Any

from statefulsim.errors import shown

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


class DurationError(ValueError):
    """The value is not a duration; the message says what was expected."""


def parse_duration(value: Any) -> float:
    """Seconds for a duration value; raises DurationError with a readable message."""
    if isinstance(value, bool):
        raise DurationError(f"expected a duration such as 30s, 15m or 1h, found a boolean {value!r}")
    if isinstance(value, (int, float)):
        if isinstance(value, int) and value > 1e300:  # float() could not even hold it
            raise DurationError(f"expected a duration, found a number too large ({value.bit_length()} bits)")
        if math.isnan(value) or value < 0:
            raise DurationError(f"expected a non-negative duration, found {value!r}")
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text in ("inf", "never", "forever"):
            return math.inf
        pos = 0
        total = 0.0
        for m in _PART.finditer(text):
            if m.start() != pos:
                break
            total += float(m.group(1)) * _UNITS[m.group(2)]
            pos = m.end()
        if pos == len(text) and text:
            if math.isinf(total):
                raise DurationError(f"expected a finite duration (or never), found {shown(value)}: too large")
            return total
        try:
            number = float(text)
        except ValueError:
            raise DurationError(
                f"expected a duration such as 30s, 15m, 1h30m or 500ms, found {shown(value)}"
            ) from None
        if number < 0 or math.isnan(number):
            raise DurationError(f"expected a non-negative duration, found {shown(value)}")
        if math.isinf(number):
            raise DurationError(f"expected a finite duration (or never), found {shown(value)}: too large")
        return number
    raise DurationError(f"expected a duration such as 30s, 15m or 1h, found {type(value).__name__} {shown(value)}")


def format_clock(seconds: float) -> str:
    """``HH:MM:SS.mmm`` for timelines."""
    if math.isinf(seconds):
        return "never"
    ms = int(round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def format_duration(seconds: float) -> str:
    """A compact human duration: ``42.1s``, ``3m05s``, ``1h02m``."""
    if math.isinf(seconds):
        return "never"
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        m, s = divmod(int(round(seconds)), 60)
        return f"{m}m{s:02d}s"
    h, rem = divmod(int(round(seconds)), 3600)
    return f"{h}h{rem // 60:02d}m"


def human_duration(seconds: float) -> str:
    """kubectl's AGE and "... ago" text (apimachinery ``duration.HumanDuration``): ``0s``,
    ``119s``, ``2m3s``, ``10m``, ``3h5m``, ``47h``, ``2d2h``, ``729d``, ``2y1d``.

    Seconds truncate toward zero as Go's ``int(d.Seconds())`` does; below -1 s (clock skew) is
    ``<invalid>``."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        years, days = divmod(hours // 24, 365)
        return f"{years}y{days}d" if days else f"{years}y"
    return f"{hours // (24 * 365)}y"


def go_duration(seconds: float) -> str:
    """Go's ``time.Duration.String()``: ``8.207325613s``, ``512.3ms``, ``1m2.5s``, ``0s``."""
    ns = round(seconds * 1e9)
    if ns == 0:
        return "0s"
    if ns < 1000:
        return f"{ns}ns"
    if ns < 1_000_000:
        return f"{ns / 1e3:.3f}".rstrip("0").rstrip(".") + "µs"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:.6f}".rstrip("0").rstrip(".") + "ms"
    minutes, rest = divmod(ns, 60_000_000_000)
    secs = f"{rest / 1e9:.9f}".rstrip("0").rstrip(".") + "s"
    hours, minutes = divmod(minutes, 60)
    return (f"{hours}h" if hours else "") + (f"{minutes}m" if hours or minutes else "") + secs
