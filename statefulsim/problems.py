"""Collecting input problems in one pass, with key paths and "did you mean" suggestions.

Pure helpers (no I/O): the YAML layer attaches file and line numbers afterwards.
"""

from __future__ import annotations

import difflib
from typing import Any, Iterable, Mapping, Sequence

from statefulsim.durations import DurationError, parse_duration
from statefulsim.errors import Problem, ScenarioError
from statefulsim.errors import shown as shown  # re-exported: problems.shown is where the loaders look
from statefulsim.limits import INT32_MAX, INT64_MAX

Path = tuple[str | int, ...]


def type_name(value: Any) -> str:
    """A YAML-flavoured name for a value's type, for 'expected X, found Y' messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def suggest(word: str, choices: Iterable[str]) -> str:
    """' (did you mean "x"?)' when a close match exists, else ''."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in choices}
        if word.lower() in lowered:
            matches = [lowered[word.lower()]]
    return f' (did you mean "{matches[0]}"?)' if matches else ""


def plugin_hint(word: str, choices: Iterable[str], what: str) -> str:
    """For a name no built-in ``what`` (policy, delay model, verb, expectation) has and that is no
    typo of one: where it may come from, and how to get it."""
    if suggest(word, choices):
        return ""
    return (f"; if the {what} {word!r} comes from a plug-in, name the module that registers it with "
            f"--plugin MODULE (plugins=[...] in Python)")


class Problems:
    """An accumulator of problems; ``raise_if_any`` turns them into one ScenarioError."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.warnings: list[Problem] = []

    def add(self, path: Sequence[str | int], message: str) -> None:
        self.items.append(Problem(tuple(path), message))

    def warn(self, path: Sequence[str | int], message: str) -> None:
        self.warnings.append(Problem(tuple(path), message))

    def expected(self, path: Sequence[str | int], what: str, found: Any) -> None:
        self.add(path, f"expected {what}, found {type_name(found)} {shown(found)}")

    def unknown_keys(self, mapping: Mapping[str, Any], allowed: Iterable[str], path: Sequence[str | int],
                     plugin: str | None = None) -> None:
        """A problem per key not in ``allowed``; ``plugin`` names what a key may be from a plug-in
        (``verb``, ``expectation``)."""
        allowed = list(allowed)
        for key in mapping:
            if key not in allowed:
                hint = suggest(str(key), allowed)
                more = plugin_hint(str(key), allowed, plugin) if plugin else ""
                self.add(tuple(path) + (str(key),), f"unknown key{hint}; allowed keys: {', '.join(sorted(allowed))}{more}")

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise ScenarioError(self.items)


# ---------------------------------------------------------------- typed field readers
# Each returns the value, or the default after recording a problem.


def get_mapping(m: Mapping[str, Any], key: str, path: Path, problems: Problems, *, required: bool = False) -> Mapping[str, Any]:
    if key not in m or m[key] is None:
        if required:
            problems.add(path + (key,), "required key is missing")
        return {}
    v = m[key]
    if not isinstance(v, Mapping):
        problems.expected(path + (key,), "a mapping", v)
        return {}
    return v


def get_list(m: Mapping[str, Any], key: str, path: Path, problems: Problems, *, required: bool = False) -> list[Any]:
    if key not in m or m[key] is None:
        if required:
            problems.add(path + (key,), "required key is missing")
        return []
    v = m[key]
    if not isinstance(v, list):
        problems.expected(path + (key,), "a list", v)
        return []
    return v


def get_str(m: Mapping[str, Any], key: str, path: Path, problems: Problems, default: str = "", *,
            required: bool = False, choices: Sequence[str] | None = None, plugin: str | None = None) -> str:
    if key not in m or m[key] is None:
        if required:
            problems.add(path + (key,), "required key is missing")
        return default
    v = m[key]
    if not isinstance(v, str):
        problems.expected(path + (key,), "a string", v)
        return default
    if choices is not None and v not in choices:
        more = plugin_hint(v, choices, plugin) if plugin else ""
        problems.add(path + (key,), f"expected one of {', '.join(choices)}, found {v!r}{suggest(v, choices)}{more}")
        return default
    return v


def get_int(m: Mapping[str, Any], key: str, path: Path, problems: Problems, default: int = 0, *,
            minimum: int | None = None, required: bool = False, maximum: int = INT64_MAX) -> int:
    """An integer in ``minimum..maximum``: by default any int64, as the API stores integers;
    pass ``maximum=INT32_MAX`` for the API's int32 fields (``spec.replicas``)."""
    if key not in m or m[key] is None:
        if required:
            problems.add(path + (key,), "required key is missing")
        return default
    v = m[key]
    if isinstance(v, bool) or not isinstance(v, int):
        problems.expected(path + (key,), "an integer", v)
        return default
    if minimum is not None and v < minimum:
        problems.add(path + (key,), f"expected an integer >= {minimum}, found {shown(v)}")
        return default
    if v > maximum or v < -INT64_MAX - 1:
        kind = {INT32_MAX: " (an int32, as the API server stores it)", INT64_MAX: " (an int64)"}.get(maximum, "")
        problems.add(path + (key,), f"expected an integer <= {maximum}{kind}, found {shown(v)}")
        return default
    return v


def get_bool(m: Mapping[str, Any], key: str, path: Path, problems: Problems, default: bool = False) -> bool:
    if key not in m or m[key] is None:
        return default
    v = m[key]
    if not isinstance(v, bool):
        problems.expected(path + (key,), "true or false", v)
        return default
    return v


def get_duration(m: Mapping[str, Any], key: str, path: Path, problems: Problems, default: float = 0.0, *,
                 required: bool = False) -> float:
    """A duration (``90s``, ``15m``, seconds as a number); the default after recording a problem."""
    if key not in m or m[key] is None:
        if required:
            problems.add(path + (key,), "required key is missing")
        return default
    try:
        return parse_duration(m[key])
    except DurationError as e:
        problems.add(path + (key,), str(e))
        return default


def get_str_map(m: Mapping[str, Any], key: str, path: Path, problems: Problems) -> dict[str, str]:
    raw = get_mapping(m, key, path, problems)
    out: dict[str, str] = {}
    for k, v in raw.items():
        if isinstance(v, bool) or v is None or isinstance(v, (Mapping, list)):
            problems.expected(path + (key, str(k)), "a string", v)
            continue
        out[str(k)] = str(v)
    return out
