"""Manifest conversion: policy (part of :mod:`statefulsim.sim.api.convert`)."""

from __future__ import annotations

from typing import Any, Mapping

from statefulsim.problems import Path, Problems, get_mapping, get_str, shown
from statefulsim.sim.api.convert._helpers import _UNHEALTHY_POD_EVICTION_POLICIES, _present
from statefulsim.sim.api.convert.metadata import parse_label_selector, parse_metadata
from statefulsim.sim.api.convert.statefulsets import _PERCENT
from statefulsim.sim.api.objects import LabelSelector, PodDisruptionBudget, PodDisruptionBudgetSpec


def _parse_budget_value(spec: Mapping[str, Any], key: str, path: Path, problems: Problems) -> int | str | None:
    """minAvailable / maxUnavailable: ``ValidatePositiveIntOrPercent`` and ``IsNotMoreThan100Percent``."""
    if not _present(spec, key):
        return None
    value = spec[key]
    vpath = path + (key,)
    if isinstance(value, str):
        if not _PERCENT.match(value):
            problems.add(vpath, f"must be an integer or percentage (e.g '5%'), found {shown(value)}")
            return None
        if int(value[:-1]) > 100:
            problems.add(vpath, f"must not be greater than 100%, found {value!r}")
            return None
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        problems.expected(vpath, "an integer or a percentage string such as '50%'", value)
        return None
    if value < 0:
        problems.add(vpath, f"must be greater than or equal to 0, found {value}")
        return None
    return value


def parse_pod_disruption_budget(doc: Mapping[str, Any], path: Path, problems: Problems) -> PodDisruptionBudget:
    """A policy/v1 ``PodDisruptionBudget`` with the API server's validation.

    ``selector`` absent matches no pods; ``selector: {}`` matches every pod of the namespace
    (policy/v1 semantics).  policy/v1 has no defaults: with neither ``minAvailable`` nor
    ``maxUnavailable`` the budget expects no pods and allows no disruption.
    """
    meta = parse_metadata(doc, path, problems)
    spec = get_mapping(doc, "spec", path, problems)
    spath = path + ("spec",)
    selector: LabelSelector | None = None
    if _present(spec, "selector"):
        if isinstance(spec["selector"], Mapping):
            selector = parse_label_selector(spec["selector"], spath + ("selector",), problems)
        else:
            problems.expected(spath + ("selector",), "a mapping", spec["selector"])
    min_available = _parse_budget_value(spec, "minAvailable", spath, problems)
    max_unavailable = _parse_budget_value(spec, "maxUnavailable", spath, problems)
    if _present(spec, "minAvailable") and _present(spec, "maxUnavailable"):
        problems.add(spath, "minAvailable and maxUnavailable cannot be both set")
    policy = get_str(spec, "unhealthyPodEvictionPolicy", spath, problems, choices=_UNHEALTHY_POD_EVICTION_POLICIES)
    return PodDisruptionBudget(
        metadata=meta,
        spec=PodDisruptionBudgetSpec(selector=selector, min_available=min_available, max_unavailable=max_unavailable,
                                     unhealthy_pod_eviction_policy=policy or None),
    )
