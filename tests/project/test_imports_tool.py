"""tools/imports.py: edge kinds, relative imports, cycles and layer violations on a small package."""

from __future__ import annotations

import pathlib

from test_layering import imports


def _package(root: pathlib.Path, files: dict[str, str]) -> str:
    for name, text in files.items():
        path = root / "statefulsim" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(root)


def test_edge_kinds_cycles_and_violations(tmp_path: pathlib.Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "",
        "sim/__init__.py": "",
        "sim/a.py": "from statefulsim.sim import b\n",
        "sim/b.py": "def f():\n    from . import a\n",
        "runner.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from statefulsim.io import c\n",
        "io/__init__.py": "",
        "io/c.py": "import statefulsim.runner\nimport os\n",
    })
    found = imports.edges(root)
    assert [(e.source, e.target, e.kind) for e in found] == [
        ("statefulsim.io.c", "statefulsim.runner", "top"),
        ("statefulsim.runner", "statefulsim.io.c", "type-checking"),
        ("statefulsim.sim.a", "statefulsim.sim.b", "top"),
        ("statefulsim.sim.b", "statefulsim.sim.a", "function"),
    ]
    # type-checking imports never run, so io.c <-> runner is no cycle; sim.a <-> sim.b is
    assert imports.cycles(imports.graph(found, root=root)) == [["statefulsim.sim.a", "statefulsim.sim.b"]]
    bad = [(e.source, e.target) for e in imports.violations(found)]
    assert bad == [("statefulsim.io.c", "statefulsim.runner")]
    text = imports.summary(found, root=root)
    assert "cyclic components (top + function edges): 1" in text and "layer violations: 1" in text
