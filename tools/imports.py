"""Print statefulsim's module import graph, its cycles and its layer violations.

Usage: ``python tools/imports.py`` (every edge, then cycles and violations) or
``python tools/imports.py --summary`` (counts only, for before/after comparisons).

An edge ``a -> b`` means module ``a`` imports module ``b`` (``from pkg import mod`` counts as an
import of ``pkg.mod`` when that is a module).  Each edge has a kind: ``top`` (module level),
``function`` (inside a function or method body: runs on call) or ``type-checking`` (under
``if TYPE_CHECKING:``: never runs).  Cycles count ``top`` and ``function`` edges, not
``type-checking`` ones.  Importing ``a.b`` also runs ``a/__init__.py``; that implicit edge is not
counted.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
from dataclasses import dataclass
from typing import Iterator

import networkx as nx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "statefulsim"

TOP, FUNCTION, TYPE_CHECKING = "top", "function", "type-checking"

# Layers, lowest first; a module may import modules of its own layer and of the layers listed as
# allowed for it.  The first matching prefix decides a module's layer (longest prefixes first).
LAYERS: dict[str, tuple[str, ...]] = {
    "core": (),
    "analysis": ("core",),
    "input": ("analysis", "core"),
    "presentation": ("input", "analysis", "core"),
    "top": ("presentation", "input", "analysis", "core"),
    "cli": ("top", "presentation", "input", "analysis", "core"),
}
LAYER_OF: dict[str, str] = {
    "statefulsim.sim": "core",
    "statefulsim.model": "core",
    "statefulsim.errors": "core",
    "statefulsim.problems": "core",
    "statefulsim.registry": "core",
    "statefulsim.limits": "core",
    "statefulsim.durations": "core",
    "statefulsim.text": "core",
    "statefulsim.trace_schema": "core",
    "statefulsim.plugins": "core",
    "statefulsim.analysis": "analysis",
    "statefulsim.calibrate": "analysis",  # pure: samples, fits, comparisons; readers are in io
    "statefulsim.io": "input",
    "statefulsim.present": "presentation",
    # the compare command's body runs the scenario N times, so it sits with the runner
    "statefulsim.present.compare_report": "top",
    # the explore command's body (explore_cli) runs the exploration and renders its ExploreResult
    "statefulsim.present.explore_report": "top",
    "statefulsim.runner": "top",
    "statefulsim.sweep": "top",
    "statefulsim.explore": "top",
    "statefulsim.notebook": "top",
    "statefulsim.testing": "top",
    "statefulsim.cli": "cli",
    "statefulsim.__main__": "cli",
    "statefulsim": "cli",
}


@dataclass(frozen=True, order=True)
class Edge:
    """``source`` imports ``target`` at ``line``; ``kind`` is top, function or type-checking."""

    source: str
    target: str
    kind: str
    line: int


def modules(root: str = ROOT) -> dict[str, str]:
    """Every module of the package: dotted name -> file path."""
    found: dict[str, str] = {}
    base = os.path.join(root, PACKAGE)
    for directory, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__pycache__")))
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            rel = os.path.relpath(os.path.join(directory, name), root)[: -len(".py")]
            parts = rel.split(os.sep)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = os.path.join(directory, name)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, kind: str = TOP) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, kind
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield from _imports(node, FUNCTION if kind == TOP else kind)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from _imports(ast.Module(body=[child], type_ignores=[]), TYPE_CHECKING if kind == TOP else kind)
            for child in node.orelse:
                yield from _imports(ast.Module(body=[child], type_ignores=[]), kind)
        else:
            yield from _imports(node, kind)


def _resolve(name: str, known: dict[str, str]) -> str | None:
    """The longest known module that ``name`` is or lies in."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def edges(root: str = ROOT) -> list[Edge]:
    """Every import of one package module by another, sorted; one edge per (source, target, kind),
    at the first line that makes it."""
    known = modules(root)
    found: dict[tuple[str, str, str], Edge] = {}
    for module, path in known.items():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        is_package = path.endswith("__init__.py")
        for node, kind in _imports(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                if node.level:
                    base = module.split(".") if is_package else module.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    prefix = ".".join(base + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                targets = [f"{prefix}.{a.name}" for a in node.names]
            for target in targets:
                resolved = _resolve(target, known)
                key = (module, resolved or "", kind)
                if resolved is not None and resolved != module and key not in found:
                    found[key] = Edge(module, resolved, kind, node.lineno)
                elif key in found and node.lineno < found[key].line:
                    found[key] = Edge(module, resolved or "", kind, node.lineno)
    return sorted(found.values())


def graph(found: list[Edge], kinds: tuple[str, ...] = (TOP, FUNCTION), root: str = ROOT) -> nx.DiGraph:
    """The directed module graph of the edges of ``kinds``."""
    g = nx.DiGraph()
    g.add_nodes_from(modules(root))
    g.add_edges_from((e.source, e.target) for e in found if e.kind in kinds)
    return g


def cycles(g: nx.DiGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (each holds at least one cycle)."""
    return sorted(sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1)


def layer(module: str) -> str:
    """The layer ``module`` belongs to (see ``LAYER_OF``)."""
    for prefix in sorted(LAYER_OF, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return LAYER_OF[prefix]
    raise KeyError(f"{module}: no layer; add it to LAYER_OF in tools/imports.py")


def violations(found: list[Edge]) -> list[Edge]:
    """Edges (type-checking ones included) from a layer to one it may not import."""
    bad = []
    for e in found:
        src, dst = layer(e.source), layer(e.target)
        if src != dst and dst not in LAYERS[src]:
            bad.append(e)
    return bad


def summary(found: list[Edge], root: str = ROOT) -> str:
    """A few lines that compare well before and after a change."""
    by_kind = {k: sum(1 for e in found if e.kind == k) for k in (TOP, FUNCTION, TYPE_CHECKING)}
    comps = cycles(graph(found, root=root))
    bad = violations(found)
    lines = [
        f"modules: {len(modules(root))}",
        f"import edges: {len(found)} (top {by_kind[TOP]}, function {by_kind[FUNCTION]}, "
        f"type-checking {by_kind[TYPE_CHECKING]})",
        f"cyclic components (top + function edges): {len(comps)}",
    ]
    lines += [f"  {len(c)} modules: {' '.join(c)}" for c in comps]
    lines.append(f"layer violations: {len(bad)}")
    lines += [f"  {e.source} ({layer(e.source)}) -> {e.target} ({layer(e.target)}) [{e.kind}]" for e in bad]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--summary", action="store_true", help="print counts, cycles and violations only")
    args = parser.parse_args(argv)
    found = edges()
    if not args.summary:
        for e in found:
            print(f"{e.source} -> {e.target}  [{e.kind}, line {e.line}]")
        print()
    print(summary(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
