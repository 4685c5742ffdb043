"""The package's layers as an allow-list, checked on the import graph of ``tools/imports.py``.

Layers, lowest first: core (``sim``, ``model``, ``errors``, ``problems``, ``registry``,
``limits``, ``durations``, ``trace_schema``, ``plugins``) -> analysis -> input (``io``) ->
presentation (``present``) -> top (``runner``, ``sweep``, ``explore``, ``notebook``,
``testing``) -> CLI (``cli``, the package ``__init__``).  A module may import its own layer and
the layers below it (``tools/imports.py``: ``LAYERS``); every module has a layer.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys
from types import ModuleType

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("statefulsim_imports_tool", ROOT / "tools" / "imports.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


imports = _tool()

# Imports that do not fit the layers yet, as "source -> target".  Empty since session 23: keep it so.
KNOWN_VIOLATIONS: set[str] = set()
# Import cycles not yet broken (sorted module lists).  Must shrink to empty.
KNOWN_CYCLES: list[list[str]] = []


@pytest.fixture(scope="module")
def edges() -> list:  # type: ignore[type-arg]
    return imports.edges()


def test_every_module_has_a_layer(edges: list) -> None:  # type: ignore[type-arg]
    for module in imports.modules():
        imports.layer(module)


def test_imports_follow_the_layers(edges: list) -> None:  # type: ignore[type-arg]
    found = {f"{e.source} -> {e.target}" for e in imports.violations(edges)}
    assert found - KNOWN_VIOLATIONS == set(), "new layer violations (see tests/project/test_layering.py)"
    assert KNOWN_VIOLATIONS - found == set(), "fixed: remove from KNOWN_VIOLATIONS"


def test_no_new_import_cycles(edges: list) -> None:  # type: ignore[type-arg]
    assert imports.cycles(imports.graph(edges)) == KNOWN_CYCLES


def test_split_packages_sit_in_their_layers() -> None:
    """The packages made of one-module-per-banner files keep the layer of the module they were."""
    expected = {"statefulsim.analysis.invariants.walk": "analysis", "statefulsim.sim.actions.registry": "core",
                "statefulsim.testing.strategies.documents": "top", "statefulsim.cli.scenarios": "cli"}
    assert {m: imports.layer(m) for m in expected} == expected


def test_cli_commands_and_verb_declarations_stay_apart(edges: list) -> None:  # type: ignore[type-arg]
    """CLI command modules import no other command module and the shared CLI modules import none
    (only the package ``__init__`` wires them); ``sim/verb.py`` imports no verb module."""
    commands = {f"statefulsim.cli.{m}" for m in ("scenarios", "traces", "sweeps", "recordings", "bundled")}
    assert commands <= set(imports.modules())
    bad = [f"{e.source} -> {e.target}" for e in edges
           if (e.target in commands and e.source.startswith("statefulsim.cli.") and e.source != e.target)
           or (e.source == "statefulsim.sim.verb" and (e.target.startswith("statefulsim.sim.actions")
                                                       or e.target.endswith(".actions")))]
    assert bad == []
