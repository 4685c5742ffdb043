"""Validating the ``explore:`` section of a scenario (docs/explore.md).

Called by the scenario loader: problems are collected with their key paths (the loader adds
file and line), so a bad section gives the same precise errors as the rest of the file.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

from statefulsim.errors import ScenarioError
from statefulsim.io.paths import parse_path, set_path
from statefulsim.model.explore import KEEP, OMIT, TIE_BREAK_PATH, Choice, ExploreSpec
from statefulsim.problems import Path, Problems, shown
from statefulsim.sim.tiebreak import parse_tie_break

KEYS = ("choices", "tieBreak")
#: Top-level keys a choice cannot change (they say what the file is, or are the section itself).
_FIXED = ("apiVersion", "kind", "explore")


def _path_problem(error: ScenarioError, path: str) -> str:
    """The message of a sweep path error without its ``--set PATH:`` prefix."""
    text = "; ".join(p.message for p in error.problems)
    prefix = f"--set {path}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _values(raw: Any, path: Path, p: Problems) -> list[Any] | None:
    if not isinstance(raw, list):
        p.expected(path, "a list of values, e.g. [OrderedReady, Parallel]", raw)
        return None
    if not raw:
        p.add(path, "expected at least one value")
        return None
    out: list[Any] = []
    for i, v in enumerate(raw):
        if any(_same(v, w) for w in out):
            p.add(path + (i,), f"duplicate value {shown(v)} (it would repeat the same runs)")
            continue
        out.append(v)
    return out


def parse_explore(section: Any, data: Mapping[str, Any], base_dir: str, p: Problems) -> ExploreSpec | None:
    """The ``explore:`` mapping → :class:`ExploreSpec`, or None after recording problems.

    ``data`` is the whole scenario (each path must lead to a place in it); ``base_dir``
    resolves ``{file: ...}`` manifests that a ``manifests[NAME]`` path looks into."""
    root: Path = ("explore",)
    if not isinstance(section, Mapping):
        p.expected(root, "a mapping with choices and/or tieBreak", section)
        return None
    before = len(p.items)
    p.unknown_keys(section, KEYS, root)
    choices: list[Choice] = []
    raw_choices = section.get("choices")
    if raw_choices is not None and not isinstance(raw_choices, Mapping):
        p.expected(root + ("choices",), "a mapping of scenario paths to lists of values, "
                   "e.g. {manifests[web].spec.podManagementPolicy: [OrderedReady, Parallel]}", raw_choices)
    elif raw_choices is not None:
        for key, raw in raw_choices.items():
            kpath = root + ("choices", str(key))
            if not isinstance(key, str):
                p.expected(kpath, "a scenario path such as timing.appReady", key)
                continue
            try:
                tokens = parse_path(key)
            except ScenarioError as e:
                p.add(kpath, _path_problem(e, key))
                continue
            if tokens[0][1] in _FIXED:
                p.add(kpath, f"{tokens[0][1]} cannot be a choice")
                continue
            if key == TIE_BREAK_PATH and "tieBreak" in section:
                p.add(kpath, f"{TIE_BREAK_PATH} is already chosen by explore.tieBreak; give it once")
                continue
            values = _values(raw, kpath, p)
            if values is None:
                continue
            try:
                set_path(copy.deepcopy(dict(data)), key, None, base_dir)
            except ScenarioError as e:
                p.add(kpath, f"the path leads nowhere in this scenario: {_path_problem(e, key)}")
                continue
            if key == TIE_BREAK_PATH:
                _check_orders(values, kpath, p)
            choices.append(Choice(key, tuple(values)))
    if "tieBreak" in section:
        tpath = root + ("tieBreak",)
        orders = _values(section["tieBreak"], tpath, p)
        if orders is not None and _check_orders(orders, tpath, p):
            choices.append(Choice(TIE_BREAK_PATH, tuple(orders)))
    if len(p.items) > before:
        return None
    return ExploreSpec(tuple(choices))


def _check_orders(values: list[Any], path: Path, p: Problems) -> bool:
    ok = True
    for i, v in enumerate(values):
        if _same(v, KEEP):
            continue
        try:
            parse_tie_break(v)
        except ValueError as e:
            p.add(path + (i,), str(e))
            ok = False
    return ok


__all__ = ["KEEP", "OMIT", "parse_explore"]
