"""Scenario paths as ``--set`` and ``explore:`` write them (``manifests[web].spec.replicas``), and
scenario text made self-contained: the input layer's editing of scenario data before it is loaded."""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

import yaml

from statefulsim.errors import Problem, ScenarioError
from statefulsim.io.yamlsource import load_file, safe_load

_TOKEN = re.compile(r"\.?([^.\[\]]+)|\[([^\]]*)\]")


def parse_path(path: str) -> list[tuple[str, str]]:
    """``manifests[web].spec.replicas`` → ``[("key", "manifests"), ("sub", "web"), ("key", "spec"), ...]``."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if m is None or (m.group(1) is not None and pos > 0 and path[pos] != "."):
            raise ScenarioError([Problem((), f"--set {path}: malformed path at {path[pos:]!r}; "
                                             "write keys separated by dots, list items as [NAME] or [INDEX]")])
        if m.group(1) is not None:
            tokens.append(("key", m.group(1)))
        else:
            tokens.append(("sub", m.group(2)))
        pos = m.end()
    if not tokens or tokens[0][0] != "key" or path.startswith("."):
        raise ScenarioError([Problem((), f"--set {path}: malformed path; it must start with a top-level key")])
    return tokens


def _name_of(item: Any) -> tuple[str | None, str | None]:
    """(kind, name) of a manifest or named list item (containers, ports, ...)."""
    if not isinstance(item, Mapping):
        return None, None
    meta = item.get("metadata")
    if isinstance(meta, Mapping) and meta.get("name") is not None:
        return (str(item["kind"]) if item.get("kind") is not None else None), str(meta["name"])
    if item.get("name") is not None:
        return None, str(item["name"])
    return None, None


def inline_files(items: list[Any], base_dir: str) -> None:
    """Replace ``{file: path}`` items of a manifest list by the documents of the file, in place."""
    out: list[Any] = []
    for item in items:
        if isinstance(item, Mapping) and "file" in item and "kind" not in item and isinstance(item["file"], str):
            rel = item["file"]
            full = rel if os.path.isabs(rel) else os.path.normpath(os.path.join(base_dir, rel))
            out.extend(d.data for d in load_file(full))
        else:
            out.append(item)
    items[:] = out


def _select(items: list[Any], sel: str, where: str, base_dir: str) -> int:
    """Index of the item ``[sel]`` names: an index, ``Kind/name`` or a name."""
    if re.fullmatch(r"-?\d+", sel):
        i = int(sel)
        if not -len(items) <= i < len(items):
            raise ValueError(f"{where}: index {i} is out of range (the list has {len(items)} items)")
        return i % len(items)
    if any(isinstance(x, Mapping) and "file" in x and "kind" not in x for x in items):
        inline_files(items, base_dir)
    kind, _, name = sel.rpartition("/")
    found = [i for i, x in enumerate(items) if _name_of(x)[1] == name and (not kind or _name_of(x)[0] == kind)]
    if len(found) > 1:
        sets = [i for i in found if _name_of(items[i])[0] == "StatefulSet"]
        if len(sets) == 1:
            return sets[0]
        kinds = ", ".join(f"{_name_of(items[i])[0]}/{name}" for i in found)
        raise ValueError(f"{where}: {sel!r} is ambiguous ({kinds}); write [Kind/name]")
    if not found:
        names = sorted({f"{k}/{n}" if k else n for k, n in map(_name_of, items) if n is not None})
        raise ValueError(f"{where}: no item named {sel!r}" + (f"; found: {', '.join(names)}" if names else ""))
    return found[0]


def set_path(data: Any, path: str, value: Any, base_dir: str = ".") -> None:
    """Set the field ``path`` of scenario data (a YAML mapping) to ``value``, in place.

    Missing mapping keys are created (the loader then judges them); ``[NAME]`` selects the item
    of a list whose ``metadata.name`` (or ``name``) is NAME — ``{file: ...}`` items of the list
    are inlined first — ``[Kind/NAME]`` also matches the kind, ``[N]`` is an index.  Raises
    :class:`ScenarioError` naming the path when the data has no such place."""
    tokens = parse_path(path)
    cur: Any = data
    where = ""
    try:
        for n, (kind, tok) in enumerate(tokens):
            last = n == len(tokens) - 1
            where += f"[{tok}]" if kind == "sub" else (f".{tok}" if where else tok)
            if isinstance(cur, list):
                if kind == "key":
                    raise ValueError(f"{where}: this is a list; select an item with [NAME] or [INDEX]")
                i = _select(cur, tok, where, base_dir)
                if last:
                    cur[i] = value
                else:
                    cur = cur[i]
            elif isinstance(cur, dict):
                if last:
                    cur[tok] = value
                else:
                    if cur.get(tok) is None:
                        if kind == "sub" or tokens[n + 1][0] == "sub":
                            raise ValueError(f"{where}: no such field")
                        cur[tok] = {}
                    cur = cur[tok]
            else:
                raise ValueError(f"{where}: the value there is {cur!r}, not a mapping or a list")
    except ValueError as e:
        raise ScenarioError([Problem((), f"--set {path}: {e}")]) from None


def self_contained(text: str, base_dir: str) -> str:
    """Scenario YAML ``text`` with the ``{file: ...}`` items of its ``manifests`` replaced by the
    documents of those files (resolved against ``base_dir``); the same scenario, no file access."""
    data = safe_load(text)
    items = data.get("manifests") if isinstance(data, dict) else None
    if not isinstance(items, list) or not any(isinstance(x, Mapping) and "file" in x for x in items):
        return text
    inline_files(items, base_dir)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
