"""The curated public API, and the rule that the simulation core does no I/O."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import statefulsim

CORE = pathlib.Path(statefulsim.__file__).parent / "sim"
FORBIDDEN = {"yaml", "click", "rich", "matplotlib", "os", "sys", "io", "pathlib", "time", "datetime"}


PUBLIC = [
    "ApiError", "Cluster", "Constant", "CriticalPath", "DelayModel", "ExpectationResult", "Exponential",
    "LogNormal", "MaxInFlight", "MilestoneError", "OrderedReady", "Parallel", "PodManagementPolicy",
    "PolicyRound", "Problem", "RunResult", "Scenario", "ScenarioError", "SimulationError", "StatefulSimError",
    "Timing", "Trace", "TraceFormatError", "TraceRecord", "Uniform", "Verb", "Violation", "__version__", "arg",
    "check_invariants", "critical_path", "happens_before_graph", "invariant_names", "load_scenario",
    "namespace_field", "register_action", "register_delay_model", "register_expectation", "register_policy",
    "run", "unregister_policy",
]


def test_all_is_the_curated_list_sorted() -> None:
    # A change here is a change of the public API: update the README's paragraph on the top level with it.
    assert statefulsim.__all__ == PUBLIC
    assert PUBLIC == sorted(PUBLIC)
    for name in statefulsim.__all__:
        assert hasattr(statefulsim, name), name


def test_moved_names_still_work_with_a_warning_naming_their_home() -> None:
    import importlib

    import pytest

    for old, (module, attr) in statefulsim.MOVED.items():
        with pytest.warns(DeprecationWarning, match=rf"statefulsim\.{old} moved to {module}\.{attr}"):
            value = getattr(statefulsim, old)
        assert value is getattr(importlib.import_module(module), attr)
        assert old not in statefulsim.__all__


def test_an_unknown_name_is_an_attribute_error() -> None:
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        statefulsim.nope  # noqa: B018


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

    sc = statefulsim.load_scenario(pathlib.Path(__file__).parents[2] / "scenarios" / "quickstart.yaml")
    from statefulsim.runner import run_scenario

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = run_scenario(sc, until=30)
    assert [w.category for w in caught] == [DeprecationWarning] and "statefulsim.run" in str(caught[0].message)
    assert [r.as_dict() for r in old.trace] == [r.as_dict() for r in statefulsim.run(sc, until=30).trace]
