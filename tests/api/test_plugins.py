"""Errors across processes and plug-in modules (statefulsim/plugins.py, docs/cli.md "Plug-ins").

The plug-in is tests/plugins/sample_plugin.py: it registers the policy ``SampleBatch2`` and the
verb ``sampleDeleteLowest``, which tests/plugins/plugin-scenario.yaml uses.
"""

from __future__ import annotations

import functools
import pathlib
import pickle
import sys
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

import statefulsim
from statefulsim.analysis.happens_before import MilestoneError
from statefulsim.analysis.invariants import Violation
from statefulsim.cli import OutputError, cli
from statefulsim.errors import Problem, ScenarioError, SimulationError, StatefulSimError, TraceFormatError
from statefulsim.explore import ExploreError, explore
from statefulsim.plugins import PluginError, load_plugins
from statefulsim.present.plots import PlotError
from statefulsim.sim.actions import ACTIONS
from statefulsim.sim.api.store import ApiError
from statefulsim.sim.controllers.statefulset.policies import policy_names, unregister_policy
from statefulsim.sweep import LocalExecutor, RunBatch, SweepError, run_sweep
from statefulsim.testing.checks import InvariantViolation

PLUGINS = pathlib.Path(__file__).resolve().parents[1] / "plugins"
SCENARIO = PLUGINS / "plugin-scenario.yaml"


@pytest.fixture(autouse=True)
def plugin_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run from tests/plugins, as a user next to their plug-in would; afterwards forget the
    plug-in (sys.path, sys.modules, its registrations) so other tests see only the built-ins."""
    monkeypatch.chdir(PLUGINS)
    monkeypatch.syspath_prepend(str(PLUGINS))  # restored afterwards, with anything load_plugins added
    yield
    sys.modules.pop("sample_plugin", None)
    ACTIONS.unregister("sampleDeleteLowest")
    if "SampleBatch2" in policy_names():
        unregister_policy("SampleBatch2")


def invoke(*args: Any) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


# ------------------------------------------------------------------------------ errors pickle exactly


def _errors() -> list[BaseException]:
    violation = Violation("ordered-creation", 3.0, ("pod/web-1",), "web-1 was created early")
    return [
        ScenarioError([Problem(("actions", 0, "scale"), "bad", file="s.yaml", line=7), Problem((), "second")]),
        ScenarioError([]), StatefulSimError("x"), SimulationError("no pod web-9"), TraceFormatError("t.jsonl:3: bad"),
        SweepError("--runs must be at least 1"), ExploreError("too many runs"), PluginError("--plugin x: no"),
        PlotError("bad suffix"), OutputError("cannot write"), MilestoneError("no milestone"),
        ApiError("NotFound", 'pods "web-0" not found'),
        InvariantViolation([violation], {"kind": "Scenario", "metadata": {"name": "t"}}, context="seed 3"),
    ]


@pytest.mark.parametrize("error", _errors(), ids=lambda e: type(e).__name__)
def test_errors_survive_pickling(error: BaseException) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error) and str(back) == str(error) and back.args == error.args
    assert vars(back) == vars(error)


def test_a_scenario_error_from_a_worker_process_arrives_whole() -> None:
    bad = "apiVersion: statefulsim/v1\nkind: Scenario\nmetadata: {name: b}\nuntill: 5m\n"
    batches = [RunBatch(i, bad, "bad.yaml", ".", (i,), None, None) for i in range(2)]
    with pytest.raises(ScenarioError) as err, LocalExecutor(2) as executor:
        list(executor.map_runs(batches))
    [problem] = err.value.problems
    assert str(err.value) == str(problem)  # the message too, not its characters one per line
    assert str(problem).startswith('bad.yaml:4: untill: unknown key (did you mean "until"?); allowed keys: ')


# ------------------------------------------------------------------------------ loading plug-ins


def test_load_plugins_errors_name_the_module() -> None:
    with pytest.raises(PluginError, match=r"--plugin no_such_plugin: cannot import it: ModuleNotFoundError"):
        load_plugins(["no_such_plugin"])
    with pytest.raises(PluginError, match=r"expected a module name such as mypolicies .* not a file"):
        load_plugins(["sample_plugin.py"])
    assert load_plugins(["sample_plugin"]) == ("sample_plugin",) and "SampleBatch2" in policy_names()


def test_unknown_names_suggest_a_plugin() -> None:
    res = invoke("validate", SCENARIO)
    assert res.exit_code == 2, res.output
    assert ("podManagementPolicy: expected one of OrderedReady, Parallel, found 'SampleBatch2'; if the policy "
            "'SampleBatch2' comes from a plug-in, name the module that registers it with --plugin MODULE "
            "(plugins=[...] in Python)") in res.output
    assert "if the verb 'sampleDeleteLowest' comes from a plug-in" in res.output
    assert invoke("validate", SCENARIO, "--plugin", "sample_plugin").exit_code == 0
    # a typo gets the suggestion, not the plug-in hint
    with pytest.raises(ScenarioError) as err:
        statefulsim.io.scenario.load_scenario_text(SCENARIO.read_text().replace("SampleBatch2", "Paralel"))
    assert 'did you mean "Parallel"' in str(err.value) and "plug-in" not in str(err.value)


def test_run_with_a_plugin() -> None:
    res = invoke("run", SCENARIO, "--plugin", "sample_plugin", "--no-timeline")
    assert res.exit_code == 0, res.output
    assert "SampleBatch2" in res.output
    bad = invoke("run", SCENARIO, "--plugin", "sample_plugin", "--plugin", "no_such_plugin")
    assert bad.exit_code == 2 and "error: --plugin no_such_plugin: cannot import it" in bad.output
    result = statefulsim.run(SCENARIO, plugins=["sample_plugin"])
    assert result.trace.first("Action", action="sampleDeleteLowest") is not None


def test_a_plugin_verb_is_described_and_gets_happens_before_edges() -> None:
    from statefulsim.analysis.happens_before import happens_before_graph
    from statefulsim.present.report import timeline
    from statefulsim.sim.actions import action_touches, describe_action

    trace = statefulsim.run(SCENARIO, plugins=["sample_plugin"]).trace
    action = trace.first("Action", action="sampleDeleteLowest")
    assert action is not None
    assert describe_action(action.fields) == "delete web-0, web-1 (the 2 lowest pods of web)"
    assert action_touches(action.fields) == ("web-0", "web-1")
    text = "\n".join(str(row) for row in timeline(trace).columns[-1].cells)
    assert "delete web-0, web-1 (the 2 lowest pods of web)" in text
    g = happens_before_graph(trace)
    node = ("Action", "sampleDeleteLowest web-0,web-1", 0)
    assert node in g
    effects = sorted((v[0], v[1]) for v in g.successors(node))
    assert effects == [("PodTerminating", "web-0"), ("PodTerminating", "web-1")]
    assert all(g.edges[node, v]["kind"] == "api" for v in g.successors(node))


@functools.lru_cache(maxsize=None)
def in_process_sweep() -> list[Any]:
    return run_sweep(SCENARIO, runs=6, workers=1, plugins=["sample_plugin"]).records()


def test_sweep_workers_import_the_plugin() -> None:
    res = invoke("sweep", SCENARIO, "--runs", 6, "--workers", 2, "--plugin", "sample_plugin")
    assert res.exit_code == 0, res.output
    assert "6 runs done on 2 local worker processes" in res.output
    assert run_sweep(SCENARIO, runs=6, workers=2, plugins=["sample_plugin"]).records() == in_process_sweep()


def test_sweep_without_the_plugin_in_the_workers_says_so() -> None:
    load_plugins(["sample_plugin"])  # registered in this process only, as from a notebook
    with pytest.raises(ScenarioError) as err:
        run_sweep(SCENARIO, runs=4, workers=2)
    text = str(err.value)
    assert "found 'SampleBatch2'" in text  # what the worker did not know, whole
    assert "this process knows these names but the worker processes do not" in text
    assert "--plugin MODULE (plugins=[...] in Python)" in text


def test_dask_workers_import_the_plugin() -> None:
    pytest.importorskip("distributed")
    result = run_sweep(SCENARIO, runs=6, executor="dask", workers=1, plugins=["sample_plugin"])
    assert result.records() == in_process_sweep()


def test_explore_workers_import_the_plugin() -> None:
    res = invoke("explore", SCENARIO, "--workers", 2, "--plugin", "sample_plugin")
    assert res.exit_code == 0, res.output
    assert "explored 2 runs" in res.output
    assert explore(SCENARIO, workers=2, plugins=["sample_plugin"]).runs == 2
    with pytest.raises(ScenarioError, match="worker processes do not"):
        explore(SCENARIO, workers=2)  # registered here by now, not in the workers
