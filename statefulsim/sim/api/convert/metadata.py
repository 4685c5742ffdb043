"""Manifest conversion: metadata, selectors (part of :mod:`statefulsim.sim.api.convert`)."""

from __future__ import annotations

from typing import Any, Mapping

from statefulsim.problems import Path, Problems, get_mapping, get_str
from statefulsim.sim.api.convert._helpers import _OPERATORS, _count, _mappings, _str_list, _str_map
from statefulsim.sim.api.names import dns1123_label, object_name
from statefulsim.sim.api.objects import LabelSelector, LabelSelectorRequirement, ObjectMeta


def parse_metadata(doc: Mapping[str, Any], path: Path, problems: Problems) -> ObjectMeta:
    """``metadata``: name (required), namespace (default "default"), labels, annotations."""
    meta = get_mapping(doc, "metadata", path, problems, required=True)
    mpath = path + ("metadata",)
    if "metadata" in doc and isinstance(doc["metadata"], Mapping):
        name = get_str(meta, "name", mpath, problems, required=True)
    else:
        name = ""
    invalid = object_name(str(doc.get("kind")), name) if name else None
    if invalid:
        problems.add(mpath + ("name",), invalid)
    namespace = get_str(meta, "namespace", mpath, problems, "default") or "default"
    invalid = dns1123_label(namespace)
    if invalid:
        problems.add(mpath + ("namespace",), invalid)
    labels = _str_map(meta, "labels", mpath, problems)
    annotations = _str_map(meta, "annotations", mpath, problems)
    return ObjectMeta(name=name, namespace=namespace, labels=labels, annotations=annotations)


def parse_label_selector(m: Mapping[str, Any], path: Path, problems: Problems) -> LabelSelector:
    """A ``LabelSelector`` mapping (matchLabels, matchExpressions) at ``path``."""
    match_labels = _str_map(m, "matchLabels", path, problems)
    reqs: list[LabelSelectorRequirement] = []
    for epath, expr in _mappings(m, "matchExpressions", path, problems):
        before = _count(problems)
        key = get_str(expr, "key", epath, problems, required=True)
        operator = get_str(expr, "operator", epath, problems, required=True, choices=_OPERATORS)
        values = _str_list(expr, "values", epath, problems)
        if operator in ("In", "NotIn") and not values:
            problems.add(epath + ("values",), f"must be a non-empty list when operator is {operator}")
        if operator in ("Exists", "DoesNotExist") and values:
            problems.add(epath + ("values",), f"must be empty when operator is {operator}")
        if _count(problems) == before:
            reqs.append(LabelSelectorRequirement(key, operator, values))
    return LabelSelector(match_labels=match_labels, match_expressions=tuple(reqs))


def _selector_text(selector: LabelSelector) -> str:
    parts = [f"{k}={v}" for k, v in selector.match_labels.items()]
    for r in selector.match_expressions:
        parts.append(f"{r.key} {r.operator} ({', '.join(r.values)})" if r.values else f"{r.key} {r.operator}")
    return ", ".join(parts) or "(empty)"
