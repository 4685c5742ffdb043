"""The curated public API, and the rule that the simulation core does no I/O."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import statefulsim

CORE = pathlib.Path(statefulsim.__file__).parent / "sim"
FORBIDDEN = {"yaml", "click", "rich", "matplotlib", "os", "sys", "io", "pathlib", "time", "datetime"}


def test_all_names_exist() -> None:
    for name in statefulsim.__all__:
        assert hasattr(statefulsim, name), name


def test_core_imports_no_io_layers() -> None:
    offenders = []
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            else:
                continue
            for n in names:
                top = n.split(".")[0]
                if top in FORBIDDEN or n.startswith(("statefulsim.io", "statefulsim.cli", "statefulsim.runner")):
                    offenders.append(f"{path.relative_to(CORE)}: {n}")
    assert not offenders, offenders


def test_core_reads_no_wall_clock_or_global_random() -> None:
    for path in CORE.rglob("*.py"):
        text = path.read_text()
        assert "time.time" not in text and "perf_counter" not in text, path
        assert "random.random(" not in text and "random.seed(" not in text, path


def test_package_is_mypy_clean() -> None:
    out = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "statefulsim"],
                         cwd=pathlib.Path(statefulsim.__file__).parent.parent, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_run_scenario_is_a_deprecated_alias_of_run() -> None:
    import warnings

    sc = statefulsim.load_scenario(pathlib.Path(__file__).parent.parent / "scenarios" / "quickstart.yaml")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = statefulsim.run_scenario(sc, until=30)
    assert [w.category for w in caught] == [DeprecationWarning] and "statefulsim.run" in str(caught[0].message)
    assert [r.as_dict() for r in old.trace] == [r.as_dict() for r in statefulsim.run(sc, until=30).trace]
