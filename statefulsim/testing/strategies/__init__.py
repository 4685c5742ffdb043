"""Hypothesis strategies for StatefulSet manifests, timing sections, action timelines and whole
scenarios, all as plain data (dicts and lists exactly as a user writes them in YAML).

Whatever these strategies draw loads without problems: :func:`scenarios` documents pass
``statefulsim validate``.  With ``converging=True`` (the default of :func:`scenarios`) a
generated scenario is also one where
every StatefulSet *should* reach its desired state by ``until``: every broken readiness probe is
restored, every failed node recovered and every cordoned or drained node uncordoned, liveness and
startup probes give the app more time than
it needs to start, and ``until`` leaves a generous settling time after the last action.  So the
``convergence`` invariant is meaningful on such scenarios, not only the ordering ones.

The modules, one per part of a scenario: ``manifests``, ``timing`` (and ``delays``, the delay
models), ``actions``, ``settling`` (how long ``until`` must wait), ``documents`` (whole scenarios);
``helpers`` holds what they share.
"""

from __future__ import annotations

from statefulsim.testing.strategies.actions import ALL_VERBS, DEFAULT_VERBS, HEALS, action_timelines

# Public constants outside __all__ (statefulsim.testing re-exports only __all__), at their old path.
from statefulsim.testing.strategies.actions import API_HEAL_MIN_MS as API_HEAL_MIN_MS
from statefulsim.testing.strategies.delays import DELAY_KINDS, delay_models, delay_upper_bound
from statefulsim.testing.strategies.documents import DNS_PRESETS, scenarios
from statefulsim.testing.strategies.helpers import format_seconds
from statefulsim.testing.strategies.manifests import CONTAINER as CONTAINER
from statefulsim.testing.strategies.manifests import (
    DEFAULT_IMAGES,
    headless_service,
    pod_disruption_budget,
    statefulset_specs,
    storage_class,
)
from statefulsim.testing.strategies.settling import CRASH_BACKOFF_MAX as CRASH_BACKOFF_MAX
from statefulsim.testing.strategies.settling import MAX_SETTLE as MAX_SETTLE
from statefulsim.testing.strategies.settling import settle_time
from statefulsim.testing.strategies.timing import PROBE_DURATION_MAX as PROBE_DURATION_MAX
from statefulsim.testing.strategies.timing import TIMING_MAX as TIMING_MAX
from statefulsim.testing.strategies.timing import timing_models

__all__ = [
    "ALL_VERBS",
    "DEFAULT_IMAGES",
    "DEFAULT_VERBS",
    "DELAY_KINDS",
    "DNS_PRESETS",
    "HEALS",
    "action_timelines",
    "delay_models",
    "delay_upper_bound",
    "format_seconds",
    "headless_service",
    "pod_disruption_budget",
    "scenarios",
    "settle_time",
    "statefulset_specs",
    "storage_class",
    "timing_models",
]
