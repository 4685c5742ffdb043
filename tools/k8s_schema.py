"""Generate ``statefulsim/sim/api/schema_data.py`` from upstream's Go API types.

Usage: ``python tools/k8s_schema.py metav1=META_GO corev1=CORE_GO appsv1=APPS_GO NOTE > OUT``
with ``apimachinery/pkg/apis/meta/v1/types.go``, ``api/core/v1/types.go`` and
``api/apps/v1/types.go`` (each named by the Go import alias the others use for it).  For each
struct reachable from ``StatefulSet`` it writes every JSON
field with its shape (scalar, object, list, map), the element type, and the ``patchStrategy`` /
``patchMergeKey`` tags: what strategic merge patch and strict field validation read.  Types
with their own JSON form (``metav1.Time``, ``resource.Quantity``, ``intstr.IntOrString``,
``FieldsV1``, ``RawExtension``) are scalars.
"""

from __future__ import annotations

import re
import sys

_STRUCT = re.compile(r"^type (\w+) struct \{$")
_ALIAS = re.compile(r"^type (\w+) (\S[^{]*)$")
#: (package, the import alias it uses) -> package: apps/v1 imports core/v1 as ``v1``.
_IMPORTS = {("appsv1", "v1"): "corev1"}
_OPAQUE = {"Time", "MicroTime", "Duration", "FieldsV1", "RawExtension", "Quantity", "IntOrString", "UID"}


Struct = list[tuple[str, str, str, str]]


def parse(pkg: str, text: str, structs: dict[tuple[str, str], Struct], aliases: dict[tuple[str, str], str]) -> None:
    """Fill ``structs`` ((package, name) -> [(json name or "" for inline, Go type, strategy,
    merge key)]) and ``aliases`` ((package, name) -> underlying Go type) from one types.go."""
    current: Struct | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if current is None:
            m = _STRUCT.match(raw)
            if m:
                current = structs[(pkg, m.group(1))] = []
                continue
            m = _ALIAS.match(raw)
            if m and not m.group(2).startswith(("=", "interface")):
                aliases[(pkg, m.group(1))] = m.group(2).split("//")[0].strip()
            continue
        if raw.startswith("}"):
            current = None
            continue
        if not line or line.startswith("//") or "`" not in line:
            continue
        decl, tag = line.split("`", 1)
        parts = decl.split()
        json_m = re.search(r'json:"([^"]*)"', tag)
        json_name = json_m.group(1).split(",")[0] if json_m else ""
        if json_name == "-":
            continue
        strategy = re.search(r'patchStrategy:"([^"]*)"', tag)
        key = re.search(r'patchMergeKey:"([^"]*)"', tag)
        go_type = parts[0] if len(parts) == 1 else parts[1]  # embedded: inline unless it has a JSON name
        current.append((json_name, go_type, strategy.group(1) if strategy else "", key.group(1) if key else ""))


Ref = tuple[str, str]


def shape(pkg: str, go_type: str, structs: dict[Ref, Struct], aliases: dict[Ref, str]) -> tuple[str, Ref | None]:
    """(kind, element type) of a Go type seen in package ``pkg``: ("scalar", None),
    ("object", T), ("list", T or None), ("map", T or None)."""
    t = go_type.lstrip("*")
    if t == "[]byte":
        return "scalar", None
    if t.startswith("[]"):
        return "list", _element(pkg, t[2:], structs, aliases)
    if t.startswith("map["):
        return "map", _element(pkg, t[t.index("]") + 1:], structs, aliases)
    where, _, name = t.rpartition(".")
    ref = (_IMPORTS.get((pkg, where), where) or pkg, name)
    if name in _OPAQUE:
        return "scalar", None
    if ref in structs:
        return "object", ref
    if ref in aliases:
        return shape(ref[0], aliases[ref], structs, aliases)
    return "scalar", None


def _element(pkg: str, go_type: str, structs: dict[Ref, Struct], aliases: dict[Ref, str]) -> Ref | None:
    kind, elem = shape(pkg, go_type, structs, aliases)
    return None if kind in ("list", "map") else elem  # a list of lists: items unchecked


def main(argv: list[str]) -> int:
    structs: dict[Ref, Struct] = {}
    aliases: dict[Ref, str] = {}
    *files, note = argv
    for arg in files:
        pkg, _, path = arg.partition("=")
        with open(path, encoding="utf-8") as f:
            parse(pkg, f.read(), structs, aliases)
    out: dict[str, dict[str, tuple[str, str, str, str]]] = {}
    seen: dict[str, Ref] = {}
    todo: list[Ref] = [("appsv1", "StatefulSet")]
    while todo:
        ref = todo.pop()
        if ref[1] in seen:
            if seen[ref[1]] != ref:
                raise SystemExit(f"two reachable types named {ref[1]}: {seen[ref[1]]} and {ref}")
            continue
        seen[ref[1]] = ref
        fields: dict[str, tuple[str, str, str, str]] = {}
        out[ref[1]] = fields
        for json_name, go_type, strategy, key in structs[ref]:
            kind, elem = shape(ref[0], go_type, structs, aliases)
            if elem:
                todo.append(elem)
            if not json_name:  # inline: the embedded struct's fields are this struct's
                if kind != "object" or elem is None:
                    raise SystemExit(f"{ref}: inline {go_type} is not a struct")
                fields[f"...{elem[1]}"] = ("inline", elem[1], "", "")
                continue
            fields[json_name] = (kind, elem[1] if elem else "", strategy, key)
    print('"""Generated by ``tools/k8s_schema.py`` from ' + note + ': do not edit.')
    print()
    print("TYPES[name][jsonField] = (kind, element type, patchStrategy, patchMergeKey); kind is")
    print('"scalar", "object", "list", "map" or "inline" (the key is then "...Type").')
    print('"""')
    print()
    print("TYPES: dict[str, dict[str, tuple[str, str, str, str]]] = {")
    for name in sorted(out):
        print(f"    {name!r}: {{")
        for field_name, spec in out[name].items():
            print(f"        {field_name!r}: {spec!r},")
        print("    },")
    print("}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
