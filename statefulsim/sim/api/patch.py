"""The three patch types ``kubectl patch --type`` sends, applied as the API server applies them.

* ``strategic`` (kubectl's default): upstream's ``strategicpatch.StrategicMergeMapPatch``
  (``apimachinery/pkg/util/strategicpatch/patch.go``, with ``MergeParallelList`` and
  ``IgnoreUnmatchedNulls``), driven by the ``patchStrategy``/``patchMergeKey`` tags in
  :mod:`.schema`: lists with a merge key merge item by item, lists of primitives with
  ``merge`` are sets, other lists are replaced; ``$patch: replace|delete`` in maps and list
  items, ``$retainKeys``, ``$setElementOrder/<list>`` and ``$deleteFromPrimitiveList/<list>``.
* ``merge``: RFC 7386 (``null`` deletes, a list replaces the whole list).
* ``json``: RFC 6902 operations, applied by the ``jsonpatch`` library (all or nothing).

Pure functions over plain JSON values; the inputs are never changed.  A patch that cannot be
applied raises :class:`PatchError` with the API server's wording where it has one.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Mapping, Sequence

from statefulsim.problems import shown, suggest
from statefulsim.problems import type_name as value_type
from statefulsim.sim.api.schema import (
    STATEFULSET,
    FieldSchema,
    field_path,
    field_schema,
    fields_of,
    unknown_fields,
    unknown_in_field,
)

#: ``kubectl patch --type`` values, the default first.
PATCH_TYPES = ("strategic", "merge", "json")
#: RFC 6902 operations.
JSON_PATCH_OPS = ("add", "remove", "replace", "move", "copy", "test")

DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ELEMENT_ORDER = "$setElementOrder/"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList/"


class PatchError(ValueError):
    """The API server refuses the patch: ``str(e)`` is its message."""


def apply_patch(doc: Mapping[str, Any], patch: Any, patch_type: str = "strategic",
                type_name: str = STATEFULSET) -> dict[str, Any]:
    """``doc`` with ``patch`` applied as ``kubectl patch --type patch_type`` would have it applied."""
    if patch_type == "strategic":
        if not isinstance(patch, Mapping):
            raise PatchError(f"a strategic merge patch must be a JSON object, found {_show(patch)}")
        return strategic_merge_patch(doc, patch, type_name)
    if patch_type == "merge":
        out = merge_patch(doc, patch)
        if not isinstance(out, dict):
            raise PatchError(f"a merge patch of an object must be a JSON object, found {_show(patch)}")
        return out
    if patch_type == "json":
        out = json_patch(doc, patch)
        if not isinstance(out, dict):
            raise PatchError(f"the JSON patch leaves no object but {_show(out)}")
        return out
    raise PatchError(f"--type must be one of [json merge strategic], not {patch_type!r}")


# --------------------------------------------------------------------------- RFC 7386


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: mappings merge, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


# --------------------------------------------------------------------------- RFC 6902


def json_patch(doc: Any, operations: Any) -> Any:
    """RFC 6902: the operations applied in order to a copy of ``doc``; any failure (a missing
    path, a failed ``test``) fails the whole patch."""
    import jsonpatch
    import jsonpointer

    if not isinstance(operations, list):
        raise PatchError(f"a JSON patch must be a list of operations, found {_show(operations)}")
    doc = copy.deepcopy(doc)
    for i, op in enumerate(operations):  # one at a time, to say which one failed
        where = f"{op.get('op')} {op.get('path')}" if isinstance(op, Mapping) else _show(op)
        try:
            doc = jsonpatch.JsonPatch([copy.deepcopy(op)]).apply(doc, in_place=True)
        except jsonpatch.JsonPatchTestFailed:
            raise PatchError(f"testing value {op.get('path')} failed (operation {i})") from None
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as e:
            raise PatchError(f"the JSON patch cannot be applied: operation {i} ({where}): {e}") from None
    return doc


# --------------------------------------------------------------------------- strategic merge patch


def strategic_merge_patch(original: Mapping[str, Any], patch: Mapping[str, Any],
                          type_name: str | None = STATEFULSET) -> dict[str, Any]:
    """Upstream's ``StrategicMergeMapPatch(original, patch, <type_name>)``."""
    return _merge_map(copy.deepcopy(dict(original)), copy.deepcopy(dict(patch)), type_name)


def _merge_map(original: dict[str, Any] | None, patch: dict[str, Any], type_name: str | None) -> dict[str, Any]:
    """``mergeMap``: merge ``patch`` into ``original`` (both are changed)."""
    if DIRECTIVE in patch:
        directive = patch.pop(DIRECTIVE)
        if directive == "replace":
            return patch
        if directive == "delete":
            return {}
        raise PatchError(f"unknown patch type: {_show(directive)} in map: {_show(patch)}")
    if original is None:
        original = {}
    _retain_keys(original, patch)
    _set_element_orders(original, patch, type_name)
    for key in list(patch):
        value = patch[key]
        delete_list = key.startswith(DELETE_FROM_PRIMITIVE_LIST)
        if delete_list:
            key = key[len(DELETE_FROM_PRIMITIVE_LIST):]
            if not key:
                raise PatchError("invalid patch format of $deleteFromPrimitiveList")
        if value is None:  # IgnoreUnmatchedNulls: a null deletes the key, and is not kept
            original.pop(key, None)
            continue
        if key not in original or type(original[key]) is not type(value):
            if not delete_list:
                kept = _remove_directives(_discard_nulls(value))
                if kept is _DROP:
                    original.pop(key, None)
                else:
                    original[key] = kept
            continue
        f = field_schema(type_name, key)
        if isinstance(value, dict):
            if f is not None and f.replaces:
                original[key] = value
            else:
                original[key] = _merge_map(original[key], value, f.type if f else None)
        elif isinstance(value, list):
            original[key] = _merge_list_field(original[key], value, f, delete_list)
        else:
            original[key] = value
    return original


def _merge_list_field(original: list[Any], patch: list[Any], f: FieldSchema | None, delete_list: bool) -> list[Any]:
    """``mergeSliceHandler``: merge when the field says ``merge`` (or for a deletion list), else replace."""
    if delete_list or (f is not None and f.merges):
        return _merge_slice(original, patch, f, delete_list)
    return patch


def _merge_slice(original: list[Any], patch: list[Any], f: FieldSchema | None, delete_list: bool) -> list[Any]:
    """``mergeSlice``: items matched by the merge key are merged, new ones added, the others
    kept; the result is ordered as upstream orders it (patch order, live-only items interleaved
    by their live order)."""
    if not original and not patch:
        return original
    kind = _element_kind(original, patch)
    merge_key = f.merge_key if f else ""
    if kind != "map":
        if delete_list:
            gone = {_hashable(v) for v in patch}
            return [v for v in original if _hashable(v) not in gone]
        merged = _dedupe(original + patch)
        patch_items, server_only = _partition(merged, patch, "")
        return _normalize_order(patch_items, server_only, patch, original, "")
    if not merge_key:
        raise PatchError(f"cannot merge lists without merge key for {f.type if f else 'a list'}")
    original, patch = _special_elements(original, patch, merge_key)
    merged = _merge_items(original, patch, merge_key, f.type if f else None)
    patch_items, server_only = _partition(merged, patch, merge_key)
    return _normalize_order(patch_items, server_only, patch, original, merge_key)


def _special_elements(original: list[Any], patch: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    """``mergeSliceWithSpecialElements``: ``{K: v, $patch: delete}`` removes the live items with
    K = v; ``{$patch: replace}`` makes the other patch items the whole list."""
    plain: list[Any] = []
    replace = False
    for item in patch:
        if DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[DIRECTIVE]
        if directive == "delete":
            if merge_key not in item:
                raise PatchError(_no_merge_key(item, merge_key))
            gone = _hashable(item[merge_key])
            original = [o for o in original if not (isinstance(o, dict) and merge_key in o
                                                    and _hashable(o[merge_key]) == gone)]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise PatchError("merging lists cannot yet be specified in the patch")
        else:
            raise PatchError(f"unknown patch type: {_show(directive)} in map: {_show(item)}")
    if replace:
        return plain, []
    return original, plain


def _merge_items(original: list[Any], patch: list[Any], merge_key: str, type_name: str | None) -> list[Any]:
    """``mergeSliceWithoutSpecialElements`` (on a copy: ``original`` stays the live order).  A
    new item is added as the patch has it, less its nulls (which decode as absent anyway)."""
    out = list(original)
    for item in patch:
        if merge_key not in item:
            raise PatchError(_no_merge_key(item, merge_key))
        at = _find(out, merge_key, item[merge_key])
        if at >= 0:
            out[at] = _merge_map(out[at], item, type_name)
        else:
            out.append(_discard_nulls(item))
    return out


def _retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    """``applyRetainKeysDirective``: clear the live keys not in ``$retainKeys``; every key the
    patch sets must be listed."""
    if RETAIN_KEYS not in patch:
        return
    keys = patch.pop(RETAIN_KEYS)
    if not isinstance(keys, list):
        raise PatchError("invalid patch format of retainKeys")
    keep = {k for k in keys if isinstance(k, str)}
    for k, v in patch.items():
        if v is None or k.startswith((DELETE_FROM_PRIMITIVE_LIST, SET_ELEMENT_ORDER)):
            continue
        if k not in keep:
            raise PatchError("invalid patch format of retainKeys")
    for k in list(original):
        if k not in keep:
            del original[k]


def _set_element_orders(original: dict[str, Any], patch: dict[str, Any], type_name: str | None) -> None:
    """``mergePatchIntoOriginal``: each ``$setElementOrder/<list>`` merges that list now and
    orders it: ``$setElementOrder`` first, then the patch's order, then the live order."""
    for key in [k for k in patch if k.startswith(SET_ELEMENT_ORDER)]:
        order = patch.pop(key)
        name = key[len(SET_ELEMENT_ORDER):]
        if not name:
            raise PatchError("invalid patch format of setElementOrder list")
        if not isinstance(order, list):
            raise PatchError(f"invalid type for setElementOrder list: {_show(order)}")
        f = field_schema(type_name, name)
        merge_key = f.merge_key if f else ""
        live, new = original.get(name), patch.pop(name, None)
        if isinstance(new, list):
            _check_order(new, order, merge_key)
        if live is not None and not isinstance(live, list) or new is not None and not isinstance(new, list):
            raise PatchError(f"invalid type for {name}: expected a list")
        if live is None and new is None:
            continue
        if new is None:
            merged = live or []
        elif live is None:
            kept = _remove_directives(new)
            merged = kept if isinstance(kept, list) else []
        else:
            merged = _merge_list_field(list(live), new, f, False)
        if merge_key:
            for item in merged + order:
                if not isinstance(item, dict) or merge_key not in item:
                    raise PatchError(_no_merge_key(item, merge_key))
        patch_items, server_only = _partition(merged, order, merge_key)
        original[name] = _normalize_order(patch_items, server_only, order, live or [], merge_key)


def _check_order(items: list[Any], order: list[Any], merge_key: str) -> None:
    """``validatePatchWithSetOrderList``: the patch's items (deletions aside) appear in
    ``$setElementOrder`` in the same relative order."""
    items = [v for v in items if not (merge_key and isinstance(v, dict) and v.get(DIRECTIVE) == "delete")]
    pi = si = 0
    while pi < len(items) and si < len(order):
        if isinstance(items[pi], dict) and DIRECTIVE in items[pi]:
            pi += 1
            continue
        if merge_key and (not isinstance(items[pi], dict) or merge_key not in items[pi]):
            raise PatchError(_no_merge_key(items[pi], merge_key))
        if _key_of(items[pi], merge_key) == _key_of(order[si], merge_key):
            pi += 1
        si += 1
    if pi < len(items):
        raise PatchError(f"The order in patch list: {_show(items)} doesn't match {SET_ELEMENT_ORDER} list: {_show(order)}")


# --- ordering (normalizeElementOrder, normalizeSliceOrder, mergeSortedSlice)


def _key_of(item: Any, merge_key: str) -> Any:
    return _hashable(item.get(merge_key) if merge_key and isinstance(item, dict) else item)


def _index(items: Sequence[Any], item: Any, merge_key: str) -> int:
    k = _key_of(item, merge_key)
    for i, v in enumerate(items):
        if _key_of(v, merge_key) == k:
            return i
    return -1


def _partition(merged: list[Any], by: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    """The merged items named in ``by`` (the patch or ``$setElementOrder``), and the others."""
    named = {_key_of(v, merge_key) for v in by}
    return ([v for v in merged if _key_of(v, merge_key) in named],
            [v for v in merged if _key_of(v, merge_key) not in named])


def _sort_by(items: list[Any], order: list[Any], merge_key: str) -> list[Any]:
    """``normalizeSliceOrder``: a stable sort by position in ``order`` (every item is in it
    where upstream calls this)."""
    return sorted(items, key=lambda v: _index(order, v, merge_key))


def _normalize_order(patch_items: list[Any], server_only: list[Any], patch_order: list[Any],
                     server_order: list[Any], merge_key: str) -> list[Any]:
    """``normalizeElementOrder``: patch items in the patch's order, live-only items in the live
    order, interleaved by the live order where both are live."""
    left = _sort_by(server_only, server_order, merge_key)
    right = _sort_by(patch_items, patch_order, merge_key)
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li, ri = _index(server_order, left[i], merge_key), _index(server_order, right[j], merge_key)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


# --- helpers

_DROP = object()


def _remove_directives(value: Any) -> Any:
    """``removeDirectives``: a new value taken from the patch, without maps that carry
    ``$patch`` (``_DROP`` when ``value`` itself is one)."""
    if isinstance(value, dict):
        if DIRECTIVE in value:
            return _DROP
        out = {}
        for k, v in value.items():
            kept = _remove_directives(v)
            if kept is not _DROP:
                out[k] = kept
        return out
    if isinstance(value, list):
        return [kept for kept in map(_remove_directives, value) if kept is not _DROP]
    return value


def _discard_nulls(value: Any) -> Any:
    """``discardNullValuesFromPatch``: nulls in a new subtree mean nothing."""
    if isinstance(value, dict):
        return {k: _discard_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_discard_nulls(v) for v in value]
    return value


def _element_kind(*lists: list[Any]) -> str:
    """``sliceElementType``: ``map`` or ``scalar``; mixed items and lists of lists are errors."""
    kinds = {"map" if isinstance(v, dict) else "list" if isinstance(v, list) else type(v).__name__
             for items in lists for v in items}
    if "list" in kinds:
        raise PatchError("lists of lists are not supported")
    if len(kinds) > 1:
        raise PatchError(f"list element types are not identical: {_show(list(lists))}")
    return "map" if kinds == {"map"} else "scalar"


def _find(items: list[Any], merge_key: str, value: Any) -> int:
    for i, v in enumerate(items):
        if not isinstance(v, dict):
            raise PatchError(f"value for key {i} is not a map")
        if merge_key in v and _hashable(v[merge_key]) == _hashable(value):
            return i
    return -1


def _dedupe(items: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for v in items:
        h = _hashable(v)
        if h not in seen:
            seen.add(h)
            out.append(v)
    return out


def _hashable(value: Any) -> Any:
    """A key for a JSON value, equal where Go's ``==`` on decoded JSON is: numbers by value
    (``80 == 80.0``), a boolean never equal to a number."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("number", float(value))
    return (type(value).__name__, value)


def _no_merge_key(item: Any, merge_key: str) -> str:
    return f"map: {_show(item)} does not contain declared merge key: {merge_key}"


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=False, default=str)[:200]




# --------------------------------------------------------------------------- checks before the run

Path = tuple[str | int, ...]
_STRICT = "the API server refuses unknown fields (strict field validation, kubectl's default)"


def check_patch(patch: Any, patch_type: str, kind: str = STATEFULSET) -> list[tuple[Path, str]]:
    """What the API server would refuse in ``patch`` whatever the object: its shape, unknown
    fields (strict field validation) and, for a StatefulSet, the spec-relative form of earlier
    statefulsim versions.  Each problem is (path inside the patch, message)."""
    if patch_type == "json":
        return _check_json_patch(patch, kind)
    if not isinstance(patch, Mapping):
        return [((), f"expected a mapping (a {'strategic merge' if patch_type == 'strategic' else 'merge'} patch "
                     f"of the whole object, as kubectl patch -p takes it), found {_type(patch)}")]
    out: list[tuple[Path, str]] = []
    moved = _spec_relative_keys(patch, kind)
    if moved:
        rewritten = {k: v for k, v in patch.items() if k not in moved}
        spec = dict(patch["spec"]) if isinstance(patch.get("spec"), Mapping) else {}
        spec.update((k, patch[k]) for k in moved)
        rewritten["spec"] = spec
        out.append(((), f"unknown field{'s' if len(moved) > 1 else ''} {', '.join(map(repr, moved))} of a "
                        f"{kind}: a patch is of the whole object, as kubectl patch -p takes it; "
                        f"write patch: {flow(rewritten)}"))
    for p in _unknown_in_patch(patch, kind, patch_type == "strategic", ()):
        if p[0] not in moved:
            out.append((p, _unknown_message(p)))
    return out


def _spec_relative_keys(patch: Mapping[str, Any], type_name: str) -> list[str]:
    """Top-level keys that are no field of the object but are fields of its spec."""
    spec = field_schema(type_name, "spec")
    if spec is None or spec.kind != "object":
        return []
    return [k for k in patch if field_schema(type_name, k) is None and field_schema(spec.type, k) is not None]


def _unknown_message(p: Path) -> str:
    parent = _type_at(p[:-1])
    hint = suggest(str(p[-1]), list(fields_of(parent))) if parent else ""
    return f'unknown field "{field_path(p)}"{hint}: {_STRICT}'


def _type_at(path: Path, type_name: str = STATEFULSET) -> str | None:
    """The struct at ``path`` of an object (None below a scalar or an unknown field)."""
    current: str | None = type_name
    f: FieldSchema | None = None
    for key in path:
        if f is not None and f.kind in ("list", "map"):
            current, f = f.type or None, None
            continue
        f = field_schema(current, str(key))
        if f is None:
            return None
        if f.kind == "object":
            current, f = f.type, None
    return current if f is None else None


def _unknown_in_patch(patch: Mapping[str, Any], type_name: str | None, strategic: bool, path: Path) -> list[Path]:
    """The unknown fields of a strategic (with its directives) or merge patch."""
    out: list[Path] = []
    if not type_name:
        return out
    for key, value in patch.items():
        here = path + (key,)
        if strategic and key in (DIRECTIVE, RETAIN_KEYS):
            continue
        if strategic and key.startswith((SET_ELEMENT_ORDER, DELETE_FROM_PRIMITIVE_LIST)):
            listed = key.split("/", 1)[1]
            if field_schema(type_name, listed) is None:
                out.append(path + (listed,))
            continue
        f = field_schema(type_name, key)
        if f is None:
            out.append(here)
        elif value is None or not f.type:
            continue
        elif f.kind == "object" and isinstance(value, Mapping):
            out += _unknown_in_patch(value, f.type, strategic, here)
        elif f.kind == "list" and isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, Mapping):
                    out += _unknown_in_patch(item, f.type, strategic, here + (i,))
        elif f.kind == "map" and isinstance(value, Mapping):
            for k, item in value.items():
                if isinstance(item, Mapping):
                    out += _unknown_in_patch(item, f.type, strategic, here + (k,))
    return out


def _check_json_patch(ops: Any, type_name: str) -> list[tuple[Path, str]]:
    if not isinstance(ops, list):
        return [((), f"expected a list of operations such as [{{op: replace, path: /spec/replicas, value: 3}}] "
                     f"(type: json, RFC 6902), found {_type(ops)}")]
    out: list[tuple[Path, str]] = []
    for i, op in enumerate(ops):
        if not isinstance(op, Mapping):
            out.append(((i,), f"expected a mapping such as {{op: replace, path: /spec/replicas, value: 3}}, found {_type(op)}"))
            continue
        name = op.get("op")
        allowed = ["op", "path"] + (["value"] if name in ("add", "replace", "test") else []) + \
            (["from"] if name in ("move", "copy") else [])
        if name not in JSON_PATCH_OPS:
            out.append(((i, "op"), f"expected one of {', '.join(JSON_PATCH_OPS)}, found {flow(name)}"))
            continue
        for key in op:
            if key not in allowed:
                out.append(((i, key), f"unknown key for op {name}; allowed keys: {', '.join(allowed)}"))
        for key in allowed[1:]:
            if key not in op:
                out.append(((i,), f"op {name} needs {key!r}"))
        pointers = [k for k in ("path", "from") if k in op]
        for key in pointers:
            if not isinstance(op[key], str) or (op[key] and not op[key].startswith("/")):
                out.append(((i, key), f"expected a JSON pointer such as /spec/replicas, found {flow(op[key])}"))
        if not isinstance(op.get("path"), str) or not op["path"].startswith("/"):
            continue
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in op["path"].split("/")[1:]]
        spec = field_schema(type_name, "spec")
        if tokens and field_schema(type_name, tokens[0]) is None and spec and field_schema(spec.type, tokens[0]):
            out.append(((i, "path"), f'unknown field "{tokens[0]}" of a {type_name}: a patch is of the whole '
                                     f"object; write path: /spec{op['path']}"))
            continue
        where, f, bad = _walk_pointer(tokens, type_name)
        if bad is not None:
            out.append(((i, "path"), _unknown_message(bad)))
        elif "value" in op and name in ("add", "replace"):
            found = (unknown_in_field(op["value"], f, ()) if f is not None
                     else unknown_fields(op["value"], where, ()))
            out += [((i, "value") + p, _unknown_message(_object_path(tokens) + p)) for p in found]
    return out


def _walk_pointer(tokens: list[str], type_name: str) -> tuple[str | None, FieldSchema | None, Path | None]:
    """Follow a JSON pointer through the schema: the struct or field it ends at, or the object
    path of the first unknown field on the way."""
    current: str | None = type_name
    f: FieldSchema | None = None
    done: list[str | int] = []
    for tok in tokens:
        if f is not None:
            if f.kind in ("list", "map"):
                done.append(int(tok) if f.kind == "list" and tok.isdigit() else tok)
                current, f = f.type or None, None
                if current is None:
                    return None, None, None
                continue
            current, f = (f.type, None) if f.kind == "object" else (None, None)
            if current is None:
                return None, None, None
        done.append(tok)
        f = field_schema(current, tok)
        if f is None:
            return None, None, tuple(done)
    return current, f, None


def _object_path(tokens: list[str]) -> Path:
    return tuple(int(t) if t.isdigit() else t for t in tokens)


def flow(value: Any, *, quote: bool = True) -> str:
    """A JSON value in YAML flow style, as a scenario would write it: ``{spec: {replicas: 3}}``;
    strings YAML would read as something else are quoted (unless not ``quote``: a label)."""
    import re

    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{flow(k, quote=quote)}: {flow(v, quote=quote)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(v, quote=quote) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if not quote or isinstance(value, (int, float)):
        return text
    plain = re.fullmatch(r"[A-Za-z_/$][\w./$-]*", text) and text.lower() not in (
        "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~")
    return text if plain else json.dumps(text)


def _type(value: Any) -> str:
    return f"{value_type(value)} {shown(value)}" if value is not None else "null"


__all__ = ["DELETE_FROM_PRIMITIVE_LIST", "DIRECTIVE", "JSON_PATCH_OPS", "PATCH_TYPES", "RETAIN_KEYS",
           "SET_ELEMENT_ORDER", "PatchError", "apply_patch", "check_patch", "flow", "json_patch", "merge_patch",
           "strategic_merge_patch"]
