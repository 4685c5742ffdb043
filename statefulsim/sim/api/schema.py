"""The API types' fields as strategic merge patch and strict field validation read them.

The table (:mod:`.schema_data`) is generated from upstream's Go types by ``tools/k8s_schema.py``:
every JSON field of every type reachable from ``apps/v1 StatefulSet``, with its shape and its
``patchStrategy`` / ``patchMergeKey`` struct tags.  Types with a JSON form of their own
(``metav1.Time``, ``resource.Quantity``, ``intstr.IntOrString``, ...) are scalars.  Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Mapping

from statefulsim.sim.api.schema_data import TYPES

#: The type a patch of a StatefulSet starts from.
STATEFULSET = "StatefulSet"


@dataclass(frozen=True)
class FieldSchema:
    """One JSON field: ``kind`` is ``scalar``, ``object``, ``list`` or ``map``; ``type`` the
    struct of the object, of the list's items or of the map's values ("" for scalars)."""

    kind: str
    type: str
    strategies: tuple[str, ...]
    merge_key: str

    @property
    def merges(self) -> bool:
        """``patchStrategy: merge``: a list merged by ``merge_key`` (or as a set of primitives)."""
        return "merge" in self.strategies

    @property
    def replaces(self) -> bool:
        """``patchStrategy: replace`` on a map."""
        return "replace" in self.strategies


@cache
def fields_of(type_name: str) -> Mapping[str, FieldSchema]:
    """The JSON fields of ``type_name``, the inlined structs' fields included ({} when unknown)."""
    out: dict[str, FieldSchema] = {}
    for key, (kind, elem, strategy, merge_key) in TYPES.get(type_name, {}).items():
        if kind == "inline":
            out.update(fields_of(elem))
        else:
            out[key] = FieldSchema(kind, elem, tuple(s for s in strategy.split(",") if s), merge_key)
    return out


def field_schema(type_name: str | None, key: str) -> FieldSchema | None:
    """The field ``key`` of ``type_name`` (None for an unknown type or field)."""
    return fields_of(type_name).get(key) if type_name else None


def field_path(path: tuple[str | int, ...]) -> str:
    """``("spec", "containers", 0, "image")`` -> ``spec.containers[0].image``, as the API server
    names a field in ``unknown field "..."``."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def unknown_fields(value: Any, type_name: str | None, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The paths of the fields in ``value`` (an object of ``type_name``) that the type does not
    have, as the API server's strict decoding finds them (depth first, in mapping order).
    Values of the wrong shape are not reported here: the converter checks types."""
    out: list[tuple[str | int, ...]] = []
    if not type_name or not isinstance(value, Mapping):
        return out
    fields = fields_of(type_name)
    for key, v in value.items():
        f = fields.get(key)
        here = path + (key,)
        if f is None:
            out.append(here)
        else:
            out += unknown_in_field(v, f, here)
    return out


def unknown_in_field(value: Any, f: FieldSchema, path: tuple[str | int, ...]) -> list[tuple[str | int, ...]]:
    """:func:`unknown_fields` of one field's value."""
    if f.kind == "object":
        return unknown_fields(value, f.type, path)
    out: list[tuple[str | int, ...]] = []
    if f.kind == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            out += unknown_fields(item, f.type, path + (i,))
    elif f.kind == "map" and isinstance(value, Mapping):
        for k, item in value.items():
            out += unknown_fields(item, f.type, path + (k,))
    return out


__all__ = ["STATEFULSET", "FieldSchema", "field_path", "field_schema", "fields_of", "unknown_fields", "unknown_in_field"]
