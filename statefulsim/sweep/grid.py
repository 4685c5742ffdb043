"""The sweep grid: ``--set PATH=V1,V2`` axes, their points, and each point's validated scenario text."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import yaml

from statefulsim.errors import Problem, ScenarioError, StatefulSimError
from statefulsim.io.paths import parse_path, set_path

if TYPE_CHECKING:
    from statefulsim.model.scenario import Scenario


class SweepError(StatefulSimError):
    """A sweep could not be set up or its files could not be read or written."""


# ---------------------------------------------------------------------------- grid and paths

@dataclass(frozen=True)
class Axis:
    """One ``--set PATH=V1,V2,...``: a scenario field and the values it takes."""

    path: str
    values: tuple[Any, ...]


def _split_top(text: str) -> list[str]:
    """Split on commas outside brackets and braces (``{uniform: {low: 1s, high: 2s}},5s``)."""
    out: list[str] = []
    depth = 0
    cur = ""
    for ch in text:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def parse_value(text: str) -> Any:
    """A value as YAML would read it (``3`` → 3, ``true`` → True, ``5s`` → "5s", ``{constant: 5s}``)."""
    from statefulsim.io.yamlsource import safe_load

    try:
        return safe_load(text, f"--set value {text!r}")
    except ScenarioError:
        return text


def parse_axis(spec: str) -> Axis:
    """``PATH=V1,V2,...`` → :class:`Axis`; raises :class:`ScenarioError` if malformed."""
    path, sep, rest = spec.partition("=")
    path = path.strip()
    if not sep or not path:
        raise ScenarioError([Problem((), f"--set {spec!r}: expected PATH=VALUE[,VALUE...], "
                                         "e.g. timing.appReady=5s,10s")])
    parse_path(path)  # fails early on a malformed path
    values = [v.strip() for v in _split_top(rest)]
    if not values or any(v == "" for v in values):
        raise ScenarioError([Problem((), f"--set {spec!r}: empty value (values are separated by commas)")])
    return Axis(path, tuple(parse_value(v) for v in values))


def grid_points(axes: Sequence[Axis]) -> list[dict[str, Any]]:
    """Every combination of the axes' values, the last axis varying fastest (one empty point without axes)."""
    return [dict(zip([a.path for a in axes], combo)) for combo in itertools.product(*(a.values for a in axes))]


def point_label(point: Mapping[str, Any]) -> str:
    """``timing.appReady=5s manifests[mysql]...=Parallel`` (``(base)`` without a grid)."""
    if not point:
        return "(base)"
    return " ".join(f"{k}={value_text(v)}" for k, v in point.items())


def value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


@dataclass(frozen=True)
class PreparedPoint:
    """One grid point, validated: the scenario YAML text with the values applied."""

    index: int
    point: dict[str, Any]
    text: str
    file: str
    base_dir: str

    @property
    def label(self) -> str:
        return point_label(self.point)

    @property
    def fingerprint(self) -> str:
        """Changes when the scenario text does: a state file of an edited scenario is not reused."""
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]


def prepare(scenario_path: str | os.PathLike[str], axes: Sequence[Axis],
            statefulset: str | None = None, *, allow_large: bool = False) -> list[PreparedPoint]:
    """Apply every grid point to the scenario and validate it through the normal loader.

    Raises :class:`ScenarioError` (a bad path, or a value the scenario rejects, naming the
    ``--set`` assignment) and :class:`SweepError` when ``statefulset`` names no StatefulSet of
    the scenario."""
    from statefulsim.io.scenario import load_scenario
    from statefulsim.io.yamlsource import load_file

    name = os.fspath(scenario_path)
    base_dir = os.path.dirname(name) or "."
    base = load_scenario(name, allow_large=allow_large)  # must be valid (its errors point at its lines)
    if statefulset is not None:
        _check_statefulset(base, statefulset)
    docs = load_file(name)
    out: list[PreparedPoint] = []
    for i, point in enumerate(grid_points(axes)):
        data = copy.deepcopy(docs[0].data)
        for path, value in point.items():
            set_path(data, path, value, base_dir)
        text, label = validated_variant(data, name, point, base_dir, allow_large=allow_large)
        out.append(PreparedPoint(i, point, text, label, base_dir))
    return out


def _check_statefulset(scenario: Scenario, name: str) -> None:
    """``--statefulset NAME`` must name a StatefulSet of the scenario (a manifest or an ``apply``)."""
    from statefulsim.problems import suggest
    from statefulsim.sim.actions import Apply
    from statefulsim.sim.api.objects import StatefulSet

    objects = list(scenario.objects) + [o for a in scenario.actions if isinstance(a, Apply) for o in a.objects]
    names = sorted({o.metadata.name for o in objects if isinstance(o, StatefulSet)})
    if name not in names:
        raise SweepError(f"--statefulset {name!r}: no StatefulSet of that name in {scenario.source}"
                         f"{suggest(name, names)}; defined: {', '.join(names)}")


def validated_variant(data: Any, name: str, point: Mapping[str, Any], base_dir: str, *,
                      allow_large: bool = False) -> tuple[str, str]:
    """The YAML text of a scenario with ``point``'s values applied, and its label ("NAME with
    PATH=V, ..."); checked by the loader (and its size limits unless ``allow_large``), whose
    errors name that label as the file."""
    from statefulsim.io.scenario import load_scenario_text

    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    label = f"{name} with {point_label(point)}" if point else name
    try:
        load_scenario_text(text, file=label, base_dir=base_dir, allow_large=allow_large)
    except ScenarioError as e:
        raise ScenarioError([Problem(p.path, p.message, file=label) for p in e.problems]) from None
    return text, label
