"""Kubernetes version → behaviour switches (reference: statefulset-controller.md §10)."""

from __future__ import annotations

import re
from dataclasses import dataclass

NEWEST = "1.37"
SUPPORTED_MINORS = range(25, 38)


@dataclass(frozen=True)
class FeatureGates:
    """Version-dependent behaviours of the simulated control plane."""

    version: str
    max_unavailable_stateful_set: bool
    parallel_two_phase_max_unavailable: bool
    node_monitor_grace_period_seconds: float
    stale_controller_consistency: bool
    pod_index_label: bool
    scheduler_pop_from_backoff_q: bool
    #: 1.34+ (PR #130909): the first unhealthy pod and the rolling update's wait use
    #: availability (``isUnavailable``); before, ``isHealthy`` (Running, Ready, not terminating).
    min_ready_seconds_in_updates: bool
    #: the minor version, for the API server's pod printer (sim/api/printers.py PrinterRules)
    minor: int = 37


def parse_version(text: str) -> tuple[int, int, int]:
    """``"1.35.4"`` → (1, 35, 4); ``"v1.37"`` → (1, 37, 0).  Raises ValueError."""
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.(\d+))?", text.strip())
    if not m:
        raise ValueError(f"expected a Kubernetes version such as 1.37 or 1.35.4, found {text!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def feature_gates(version: str = NEWEST) -> FeatureGates:
    major, minor, patch = parse_version(version)
    if major != 1 or minor not in SUPPORTED_MINORS:
        raise ValueError(
            f"Kubernetes {version} is not simulated; supported: 1.{SUPPORTED_MINORS[0]} to 1.{SUPPORTED_MINORS[-1]}"
        )
    if minor == 35:
        max_unavail = patch < 4  # beta on in 1.35.0, turned off again in 1.35.4
    else:
        max_unavail = minor >= 37
    return FeatureGates(
        version=f"{major}.{minor}.{patch}",
        max_unavailable_stateful_set=max_unavail,
        parallel_two_phase_max_unavailable=minor >= 37,
        node_monitor_grace_period_seconds=50.0 if minor >= 32 else 40.0,
        stale_controller_consistency=minor >= 36,
        pod_index_label=minor >= 28,
        scheduler_pop_from_backoff_q=minor >= 33,
        min_ready_seconds_in_updates=minor >= 34,
        minor=minor,
    )
