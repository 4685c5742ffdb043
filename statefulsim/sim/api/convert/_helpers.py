"""Manifest conversion: small helpers (part of :mod:`statefulsim.sim.api.convert`)."""

from __future__ import annotations

from typing import Any, Mapping

from statefulsim.problems import Path, Problems, get_list, get_mapping, shown, type_name
from statefulsim.sim.api.objects import ON_DELETE, ROLLING_UPDATE

STATEFULSET_API_VERSIONS: tuple[str, ...] = ("apps/v1", "apps/v1beta1", "apps/v1beta2")
#: StatefulSet API versions no simulated release serves (all removed in Kubernetes 1.16).
REMOVED_STATEFULSET_API_VERSIONS = ("apps/v1beta1", "apps/v1beta2")
_SELECTOR_REQUIRED_VERSIONS = ("apps/v1", "apps/v1beta2")
_CORE_KINDS = {"Service": "v1", "Node": "v1", "Pod": "v1"}
_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
_PROTOCOLS = ("TCP", "UDP", "SCTP")
_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_POD_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_STRATEGY_TYPES = (ROLLING_UPDATE, ON_DELETE)
_RETENTION = ("Retain", "Delete")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_TOLERATION_OPERATORS = ("Equal", "Exists")
_UNHEALTHY_POD_EVICTION_POLICIES = ("IfHealthyBudget", "AlwaysAllow")
_PROBE_HANDLERS = ("httpGet", "tcpSocket", "exec", "grpc")
_PROBE_KINDS = ("readinessProbe", "livenessProbe", "startupProbe")


def to_plain(value: Any) -> Any:
    """Deep copy of mappings and lists (and tuples) into plain ``dict`` / ``list`` values."""
    if isinstance(value, Mapping):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


def _count(problems: Problems) -> int:
    return len(problems.items)


def _str_map(m: Mapping[str, Any], key: str, path: Path, problems: Problems) -> dict[str, str]:
    """A string-to-string mapping; non-string keys or values are problems (the API rejects them).

    Stricter than :func:`statefulsim.problems.get_str_map`, which turns numbers into strings:
    ``tier: 1`` is rejected by the API server, so it is reported here.
    """
    raw = get_mapping(m, key, path, problems)
    out: dict[str, str] = {}
    for k, v in raw.items():
        if not isinstance(k, str):
            problems.add(path + (key, str(k)), f"expected a string key, found {type_name(k)} {shown(k)}")
            continue
        if not isinstance(v, str):
            hint = " (quote the value in YAML)" if isinstance(v, (int, float)) else ""
            problems.add(path + (key, k), f"expected a string, found {type_name(v)} {shown(v)}{hint}")
            continue
        out[k] = v
    return out


def _str_list(m: Mapping[str, Any], key: str, path: Path, problems: Problems) -> tuple[str, ...]:
    """A list of strings; non-string items are problems."""
    out: list[str] = []
    for i, item in enumerate(get_list(m, key, path, problems)):
        if isinstance(item, str):
            out.append(item)
        else:
            problems.expected(path + (key, i), "a string", item)
    return tuple(out)


def _mappings(m: Mapping[str, Any], key: str, path: Path, problems: Problems, *,
              required: bool = False) -> list[tuple[Path, Mapping[str, Any]]]:
    """The items of a list of mappings with their paths; other items are problems."""
    out: list[tuple[Path, Mapping[str, Any]]] = []
    for i, item in enumerate(get_list(m, key, path, problems, required=required)):
        if isinstance(item, Mapping):
            out.append((path + (key, i), item))
        else:
            problems.expected(path + (key, i), "a mapping", item)
    return out


def _present(m: Mapping[str, Any], key: str) -> bool:
    return key in m and m[key] is not None
