"""statefulsim.testing: the shipped Hypothesis strategies, the state machine, and failures that come
with a replayable scenario YAML."""

from __future__ import annotations

import collections
import os
import pathlib
import re
import subprocess
import sys
import tempfile
from typing import Any, ClassVar

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

import statefulsim
from statefulsim.analysis import invariants
from statefulsim.analysis.invariants import Violation, check
from statefulsim.cli import cli
from statefulsim.io.scenario import load_scenario_text
from statefulsim.runner import run
from statefulsim.sim.controllers.statefulset.policies import (
    OrderedReady,
    PodManagementPolicy,
    PolicyRound,
    register_policy,
)
from statefulsim.sim.trace import Trace
from statefulsim.testing import (
    InvariantViolation,
    StatefulSetMachine,
    action_timelines,
    assert_invariants,
    check_scenario,
    delay_models,
    delay_upper_bound,
    format_seconds,
    replayable,
    scenarios,
    simulation_settings,
    statefulset_specs,
    timing_models,
    to_yaml,
)
from statefulsim.testing.strategies.helpers import _seconds_of

ROOT = pathlib.Path(__file__).resolve().parents[2]

#: Small and quick: these tests share two cores with the rest of the suite.
FAST = simulation_settings(25, database=None)
#: Runs checked against every invariant: the same examples on every run (derandomized), so the
#: suite does not fail now and then on the rare violations these strategies found (saved under
#: tests/data/testing-*.yaml and tested at the end of this file).  To hunt for more, set
#: STATEFULSIM_PROPERTY_EXAMPLES=2000: random examples, that many per test.
_HUNT = int(os.environ.get("STATEFULSIM_PROPERTY_EXAMPLES", "0") or 0)
RUNS = simulation_settings(_HUNT or 25, database=None, derandomize=not _HUNT)
#: For tests that expect a failure: shrink, but report only the first bug; derandomized, so how
#: far a shrink gets is the same on every run.
FAILING = simulation_settings(60, database=None, report_multiple_bugs=False, derandomize=True)


def _loads(data: dict[str, Any]) -> statefulsim.Scenario:
    sc = statefulsim.notebook.scenario_from_data(data)
    warnings = [n for n in sc.notices if n.startswith("warning")]
    assert not warnings, warnings
    return sc


# --------------------------------------------------------------------------- strategies


@FAST
@given(scenarios())
def test_generated_scenarios_pass_validation(data: dict[str, Any]) -> None:
    sc = _loads(data)
    assert sc.name == data["metadata"]["name"]
    # the YAML text loads to the same scenario, and so does the fast path the helpers use
    again = load_scenario_text(to_yaml(data))
    assert again.actions == sc.actions and again.until == sc.until and again.seed == sc.seed
    assert statefulsim.testing.load_data(data) == sc


@FAST
@given(scenarios(converging=False, policies=["OrderedReady", "Parallel", "OrderedBatch2"],
                 kubernetes_versions=["1.30", "1.37"], max_replicas=7))
def test_non_converging_scenarios_and_custom_policies_pass_validation(data: dict[str, Any]) -> None:
    _loads(data)
    sts = data["manifests"][-1]
    assert sts["spec"]["podManagementPolicy"] in ("OrderedReady", "Parallel", "OrderedBatch2")
    assert sts["spec"]["replicas"] <= 7


@pytest.fixture(autouse=True, scope="module")
def _batch_policy() -> Any:
    register_policy("OrderedBatch2", lambda: statefulsim.MaxInFlight(2, name="OrderedBatch2"))
    yield
    statefulsim.unregister_policy("OrderedBatch2")


def test_statefulsim_validate_accepts_the_yaml() -> None:
    runner = CliRunner()

    @settings(FAST, max_examples=3)
    @given(scenarios(min_actions=2))
    def one(data: dict[str, Any]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp) / "generated.yaml"
            path.write_text(to_yaml(data))
            out = runner.invoke(cli, ["validate", str(path)])
            assert out.exit_code == 0, out.output
            assert out.output.startswith("ok: ")

    one()


@FAST
@given(statefulset_specs(name="db", min_replicas=2, max_replicas=3, policies=["Parallel"], volume_claim_templates=True,
                         readiness_probe=True, liveness_grace=40.0))
def test_statefulset_specs_bounds(sts: dict[str, Any]) -> None:
    spec = sts["spec"]
    assert 2 <= spec["replicas"] <= 3 and spec["podManagementPolicy"] == "Parallel"
    assert spec["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    app = spec["template"]["spec"]["containers"][0]
    assert "readinessProbe" in app
    for kind in ("startupProbe", "livenessProbe"):
        probe = app.get(kind)
        if probe is not None and not (kind == "livenessProbe" and "startupProbe" in app):
            window = probe.get("initialDelaySeconds", 0) + probe["periodSeconds"] * (probe.get("failureThreshold", 3) - 1)
            assert window >= 40
    _loads({"apiVersion": "statefulsim/v1", "kind": "Scenario", "metadata": {"name": "t"},
            "manifests": [statefulsim.testing.headless_service("db"), statefulsim.testing.storage_class(), sts]})


@FAST
@given(timing_models(allow_never=True), action_timelines("web", healing=False, verbs=statefulsim.testing.ALL_VERBS,
                                                         max_actions=8))
def test_timing_and_actions_alone(timing: dict[str, Any], actions: list[dict[str, Any]]) -> None:
    times = [_seconds_of(a["at"]) for a in actions]
    assert times == sorted(times) and all(0 <= t <= 300 for t in times)
    _loads({"apiVersion": "statefulsim/v1", "kind": "Scenario", "metadata": {"name": "t"}, "until": "20m",
            "manifests": [statefulsim.testing.headless_service("web"),
                          {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
                           "spec": {"replicas": 2, "serviceName": "web", "selector": {"matchLabels": {"app": "web"}},
                                    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                                        {"name": "app", "image": "nginx:1.27",
                                         "readinessProbe": {"httpGet": {"port": 80}}}]}}}}],
            "timing": timing, "actions": actions})


@FAST
@given(action_timelines("web", healing=True, max_actions=6, window=60))
def test_healing_timelines_end_healthy(actions: list[dict[str, Any]]) -> None:
    last: dict[tuple[str, str], str] = {}
    for a in actions:
        (verb, body), = ((k, v) for k, v in a.items() if k != "at")
        if verb in ("breakReadiness", "restoreReadiness"):
            last[("pod", body["pod"])] = verb
        if verb in ("failNode", "recoverNode"):
            last[("node", body["node"])] = verb
    assert set(last.values()) <= {"restoreReadiness", "recoverNode"}


#: The verbs added to the default timelines on top of scale, setImage, deletePod, readiness,
#: node failure and patch.
NEW_VERBS = ("crashContainer", "failPod", "evictPod", "drainNode", "cordonNode", "dnsQuery")


def _verbs(actions: list[dict[str, Any]]) -> list[str]:
    return [next(k for k in a if k != "at") for a in actions]


class _Found(Exception):
    pass


def _first(strategy: st.SearchStrategy[Any], condition: Any, max_examples: int = 2000) -> Any:
    """The first drawn value that satisfies ``condition`` (the same on every run, not shrunk:
    quicker than ``hypothesis.find``); fails if none of ``max_examples`` does."""

    @settings(database=None, max_examples=max_examples, derandomize=True, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def search(value: Any) -> None:
        if condition(value):
            raise _Found(value)

    with pytest.raises(_Found) as caught:
        search()
    return caught.value.args[0]


def test_the_new_verbs_are_defaults_and_documented() -> None:
    from statefulsim.sim.actions import ACTIONS

    assert set(NEW_VERBS) <= set(statefulsim.testing.DEFAULT_VERBS)
    assert {"uncordonNode", "deleteStatefulSet"} <= set(statefulsim.testing.ALL_VERBS)
    assert set(statefulsim.testing.ALL_VERBS) <= set(ACTIONS)  # every one is a real scenario verb
    text = (ROOT / "docs" / "testing.md").read_text()
    for verb in statefulsim.testing.ALL_VERBS:
        assert f"`{verb}`" in text, verb


@FAST
@given(action_timelines("web", max_actions=8, window=300))
def test_default_timelines_draw_valid_bodies_of_every_verb(actions: list[dict[str, Any]]) -> None:
    for a in actions:
        (verb, body), = ((k, v) for k, v in a.items() if k != "at")
        if verb == "crashContainer":
            assert set(body) <= {"pod", "container", "exitCode"} and body.get("container", "app") == "app"
        elif verb == "failPod":
            assert set(body) <= {"pod", "reason"}
        elif verb == "evictPod":
            assert set(body) <= {"pod", "gracePeriodSeconds"}
        elif verb == "drainNode":
            assert set(body) <= {"node", "gracePeriodSeconds", "force"} and body.get("force", True) is True
        elif verb == "dnsQuery":
            assert body["name"] in ("web", "_web._tcp.web") or re.fullmatch(r"web-\d+\.web", body["name"])
            assert ("until" in body) == ("every" in body)
            if "until" in body:
                # whole milliseconds, as the strategy draws them (17.183 + 60 is not 77.183 in floats)
                at = round(1000 * _seconds_of(a["at"]))
                assert at < round(1000 * _seconds_of(body["until"])) <= at + 60_000
    assert "deleteStatefulSet" not in _verbs(actions) and "uncordonNode" not in _verbs(actions)[:1]


@pytest.mark.parametrize("verb", NEW_VERBS + ("uncordonNode",))
def test_each_new_verb_is_generated(verb: str) -> None:
    found = _first(action_timelines("web"), lambda actions: verb in _verbs(actions))
    assert verb in _verbs(found)


def test_the_new_verbs_are_drawn_often() -> None:
    counts: collections.Counter[str] = collections.Counter()

    @settings(FAST, max_examples=150, derandomize=True)
    @given(scenarios())
    def count(data: dict[str, Any]) -> None:
        counts.update(_verbs(data["actions"]))

    count()
    for verb in NEW_VERBS + ("patch", "uncordonNode"):
        assert counts[verb] >= 3, counts


def test_patch_draws_partition_and_max_unavailable() -> None:
    for key in ("partition", "maxUnavailable"):
        found = _first(
            action_timelines("web", verbs=["patch"], min_actions=1),
            lambda actions, key=key: any(key in (a["patch"]["patch"]["spec"].get("updateStrategy") or {}).get(
                "rollingUpdate", {}) for a in actions))
        assert found


@pytest.mark.parametrize("verb", NEW_VERBS + ("patch",))
def test_a_generated_scenario_with_each_new_verb_loads_runs_and_converges(verb: str) -> None:
    data = _first(scenarios(min_replicas=1, max_replicas=3, min_actions=1, max_actions=3),
                           lambda d: verb in _verbs(d["actions"]))
    _loads(data)
    result = assert_invariants(data)  # convergence included
    fired = [r for r in result.trace.of("Action") if r.fields["action"] == verb]
    assert fired, f"no {verb} action in the trace"
    if verb == "dnsQuery":
        assert result.trace.first("DNSAnswer") is not None or result.trace.first("DNSQuerySkipped") is not None


def test_delete_statefulset_is_opt_in_and_runs() -> None:
    verbs = statefulsim.testing.DEFAULT_VERBS + ("deleteStatefulSet",)
    data = _first(scenarios(verbs=verbs, min_replicas=1, min_actions=2, max_actions=4),
                           lambda d: "deleteStatefulSet" in _verbs(d["actions"])[:-1])
    result = assert_invariants(data)
    assert result.trace.first("StatefulSetDeleted") is not None


@FAST
@given(action_timelines("web", healing=True, max_actions=8, window=60, nodes=("node-1", "node-2")))
@example([{"at": "0.544s", "cordonNode": {"node": "node-1"}}, {"at": "5.544s", "uncordonNode": {"node": "node-1"}}])
def test_healing_timelines_uncordon_every_cordoned_or_drained_node(actions: list[dict[str, Any]]) -> None:
    from statefulsim.testing.strategies import API_HEAL_MIN_MS

    # in whole milliseconds, as the strategy draws them: in float seconds 5.544 < 0.544 + 5.0
    last_cordon: dict[str, int] = {}
    last_uncordon: dict[str, int] = {}
    for a in actions:
        (verb, body), = ((k, v) for k, v in a.items() if k != "at")
        if verb in ("cordonNode", "drainNode"):
            last_cordon[body["node"]] = round(1000 * _seconds_of(a["at"]))
        elif verb == "uncordonNode":
            last_uncordon[body["node"]] = round(1000 * _seconds_of(a["at"]))
    for node, t in last_cordon.items():
        # uncordoned afterwards, late enough that the cordon cannot overtake it
        assert last_uncordon[node] >= t + API_HEAL_MIN_MS, actions
    assert set(last_uncordon) == set(last_cordon)


@FAST
@given(scenarios(disruption_budget=True, max_actions=2))
def test_scenarios_with_a_disruption_budget(data: dict[str, Any]) -> None:
    kinds = [m["kind"] for m in data["manifests"]]
    assert kinds[0] == "Service" and kinds[-1] == "StatefulSet" and kinds.count("PodDisruptionBudget") == 1
    pdb = data["manifests"][-2]
    assert pdb["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert ("minAvailable" in pdb["spec"]) != ("maxUnavailable" in pdb["spec"])
    _loads(data)


@FAST
@given(scenarios(verbs=["dnsQuery"], min_actions=1, max_actions=2))
def test_dns_queries_name_the_headless_service(data: dict[str, Any]) -> None:
    service = data["manifests"][0]
    assert service["kind"] == "Service" and service["spec"]["clusterIP"] == "None"
    assert data["manifests"][-1]["spec"]["serviceName"] == service["metadata"]["name"] == "web"
    for a in data["actions"]:
        assert a["dnsQuery"]["name"].split(".")[-1] == "web"
    if "dns" in data["cluster"]:
        assert data["cluster"]["dns"]["preset"] in statefulsim.testing.DNS_PRESETS
    _loads(data)


@FAST
@given(timing_models(keys=["probeDuration", "appReady"]))
def test_converging_probe_durations_never_time_out(timing: dict[str, Any]) -> None:
    """Found by the hunt: a log-normal probeDuration's tail passed the 1 s timeoutSeconds now and
    then, and a liveness probe with failureThreshold 1 kept killing a healthy container (a
    scenario that could not converge).  Without allow_never the model is bounded below 1 s."""
    if "probeDuration" in timing:
        assert delay_upper_bound(timing["probeDuration"]) < 1.0


def test_settle_time_waits_out_the_crash_loop_backoff() -> None:
    from statefulsim.testing import settle_time

    sts = {"spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "app", "image": "x"}]}}}}
    calm = settle_time(sts, {})
    crashed = settle_time(sts, {}, actions=[{"at": "1s", "crashContainer": {"pod": "web-0"}}])
    assert crashed >= calm + statefulsim.testing.strategies.CRASH_BACKOFF_MAX


@FAST
@given(st.integers(0, 10**9))
def test_format_seconds_round_trips(ms: int) -> None:
    from statefulsim.durations import parse_duration

    assert parse_duration(format_seconds(ms)) == ms / 1000


@FAST
@given(delay_models(5.0, min_seconds=0.5))
def test_delay_models_load_and_are_bounded(model: Any) -> None:
    import random

    from statefulsim.testing.strategies.delays import _model

    m = _model(model)
    bound = delay_upper_bound(model)
    assert 0.0 <= bound < 100.0
    rng = random.Random(1)
    draws = [m.sample(rng) for _ in range(200)]
    assert sum(d <= bound for d in draws) >= 199


# --------------------------------------------------------------------------- invariants on generated runs


@RUNS
@given(scenarios(policies=["OrderedReady"]))
def test_invariants_hold_ordered_ready(data: dict[str, Any]) -> None:
    result = assert_invariants(data)
    assert result.trace.first("StatefulSetCreated", podManagementPolicy="OrderedReady") is not None


@RUNS
@given(scenarios(policies=["Parallel"]))
def test_invariants_hold_parallel(data: dict[str, Any]) -> None:
    result = assert_invariants(data)
    assert result.trace.first("StatefulSetCreated", podManagementPolicy="Parallel") is not None


@settings(RUNS, max_examples=8)
@given(scenarios(converging=False, max_actions=4))
def test_ordering_invariants_hold_when_sets_stick(data: dict[str, Any]) -> None:
    assert check_scenario(data, ignore=("convergence",)) == []


# --------------------------------------------------------------------------- the state machine


class _QuickMachine(StatefulSetMachine):
    max_replicas = 4
    max_step = 60.0


TestStatefulSetMachine = _QuickMachine.TestCase
TestStatefulSetMachine.settings = simulation_settings(_HUNT or 6, stateful_step_count=6, database=None,
                                                      derandomize=not _HUNT)


class _ReplayingMachine(_QuickMachine):
    """At the end, replays its own scenario YAML from scratch: the same trace, record for record."""

    def teardown(self) -> None:
        super().teardown()
        if self._cluster is None:
            return
        replay = run(load_scenario_text(self.scenario_yaml()))
        mine = [r.as_dict() for r in self.trace]
        assert [r.as_dict() for r in replay.trace] == mine
        assert len(mine) > 0


def test_machine_scenario_yaml_replays_the_same_trace() -> None:
    run_state_machine_as_test(_ReplayingMachine, settings=simulation_settings(5, stateful_step_count=8, database=None))


class _CoveringMachine(_QuickMachine):
    """Records which rules fired; at the end, no node it cordoned or drained is still cordoned."""

    fired: ClassVar[collections.Counter[str]] = collections.Counter()

    def _act(self, data: st.DataObject, body: dict[str, Any]) -> None:
        type(self).fired.update(list(body))
        super()._act(data, body)

    def teardown(self) -> None:
        super().teardown()
        if self._cluster is None or self._failed:
            return
        for node in self._ever_cordoned:
            assert not self.cluster.get("Node", node, "").spec.unschedulable, node


class _NodeVerbsMachine(_CoveringMachine):
    verbs = ("scale", "drainNode", "cordonNode")
    fired: ClassVar[collections.Counter[str]] = collections.Counter()


def test_machine_verbs_opt_out() -> None:
    run_state_machine_as_test(_NodeVerbsMachine, settings=simulation_settings(
        10, stateful_step_count=6, database=None, derandomize=True))
    assert set(_NodeVerbsMachine.fired) <= {"scale", "drainNode", "cordonNode", "uncordonNode"}
    assert _NodeVerbsMachine.fired["drainNode"] > 0


def test_machine_fires_the_new_verbs_and_heals_them() -> None:
    _CoveringMachine.fired.clear()
    run_state_machine_as_test(_CoveringMachine, settings=simulation_settings(
        12, stateful_step_count=12, database=None, derandomize=True))
    fired = _CoveringMachine.fired
    for verb in NEW_VERBS + ("uncordonNode",):
        assert fired[verb] > 0, fired



# --------------------------------------------------------------------------- failures come with a YAML


def _yaml_in(message: str) -> str:
    start = message.index(statefulsim.testing.checks.YAML_HEADER)
    return message[start:]


class _BrokenOrderedRound(PolicyRound):
    """Creates every pod at once while claiming to be OrderedReady."""

    concurrent = True

    def continue_after_create(self, pod: Any) -> bool:
        return True

    def wait_for(self, pod: Any, reason: str) -> bool:
        return False


class _BrokenOrderedReady(PodManagementPolicy):
    name = "OrderedReady"
    ordered = True

    def new_round(self, sts: Any) -> PolicyRound:
        return _BrokenOrderedRound()


def test_a_broken_policy_is_found_and_the_yaml_replays_it() -> None:
    @FAILING
    @given(scenarios(policies=["OrderedReady"], min_replicas=2, max_actions=2))
    def inner(data: dict[str, Any]) -> None:
        assert_invariants(data, names=["ordered-creation"])

    register_policy("OrderedReady", _BrokenOrderedReady)
    try:
        with pytest.raises(InvariantViolation) as caught:
            inner()
        err = caught.value
        assert {v.invariant for v in err.violations} == {"ordered-creation"}
        text = _yaml_in(str(err))
        assert text == err.scenario_yaml
        replay = run(load_scenario_text(text))
        again = check(replay.trace, ["ordered-creation"])
        assert [str(v) for v in again] == [str(v) for v in err.violations]
        # the replay file works on the command line too, and fails there with exit code 1
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp) / "failing.yaml"
            path.write_text(text)
            out = CliRunner().invoke(cli, ["run", str(path), "--check", "-q"])
            assert out.exit_code == 1 and "ordered-creation" in out.output, out.output
    finally:
        register_policy("OrderedReady", OrderedReady)
    # with the real policy the same scenario keeps the guarantee
    assert check(run(load_scenario_text(text)).trace, ["ordered-creation"]) == []


def _at_most_two_pods(trace: Trace) -> list[Violation]:
    created = [r for r in trace.of("PodCreated")]
    return [Violation("at-most-two-pods", r.t, (f"pod/{r.fields['pod']}",), "a third pod was created")
            for r in created[2:3]]


def test_a_strict_invariant_shrinks_to_a_minimal_replayable_scenario(request: pytest.FixtureRequest) -> None:
    invariants.register_invariant("at-most-two-pods", "test only", _at_most_two_pods)
    request.addfinalizer(lambda: invariants.unregister_invariant("at-most-two-pods"))

    @FAILING
    @given(scenarios(max_actions=3))
    def inner(data: dict[str, Any]) -> None:
        assert_invariants(data, names=["at-most-two-pods"])

    with pytest.raises(InvariantViolation) as caught:
        inner()
    data = yaml.safe_load(_yaml_in(str(caught.value)))
    # shrunk: usually three replicas and nothing else (or fewer replicas and one scale-up)
    assert len(data["actions"]) <= 1 and data["cluster"] == {"nodes": 1}

    assert [v.invariant for v in check_scenario(data, names=["at-most-two-pods"])] == ["at-most-two-pods"]


def test_the_machine_reports_a_replayable_yaml(request: pytest.FixtureRequest) -> None:
    invariants.register_invariant("at-most-two-pods", "test only", _at_most_two_pods)
    request.addfinalizer(lambda: invariants.unregister_invariant("at-most-two-pods"))

    class Strict(_QuickMachine):
        checked_invariants = ("at-most-two-pods",)
        heal_at_end = False  # the fake invariant fails during the steps; no need to settle

    with pytest.raises(InvariantViolation) as caught:
        run_state_machine_as_test(Strict, settings=settings(FAILING, stateful_step_count=5))
    text = _yaml_in(str(caught.value))
    replay = run(load_scenario_text(text))
    assert [v.invariant for v in check(replay.trace, ["at-most-two-pods"])] == ["at-most-two-pods"]


def test_replayable_attaches_the_yaml_to_any_failure() -> None:
    @FAILING
    @given(scenario=scenarios(max_actions=0))
    @replayable("scenario")
    def inner(scenario: dict[str, Any]) -> None:
        assert scenario["manifests"][-1]["spec"]["replicas"] < 2, "too many replicas"

    with pytest.raises(AssertionError) as caught:
        inner()
    header = statefulsim.testing.checks.YAML_HEADER
    ours = [n for n in getattr(caught.value, "__notes__", []) if header in n]
    assert len(ours) == 1
    text = _yaml_in(ours[0])
    assert yaml.safe_load(text)["manifests"][-1]["spec"]["replicas"] == 2
    load_scenario_text(text)


# --------------------------------------------------------------------------- packaging and docs


def test_missing_hypothesis_gives_a_clear_import_error() -> None:
    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "try:\n    import statefulsim.testing\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "pip install 'statefulsim[testing]'" in out.stdout, out.stdout + out.stderr
    plain = subprocess.run([sys.executable, "-c", "import statefulsim, sys; print('hypothesis' in sys.modules)"],
                           capture_output=True, text=True, cwd=ROOT)
    assert plain.stdout.strip() == "False", plain.stdout + plain.stderr


def test_docs_testing_example_runs() -> None:
    text = (ROOT / "docs" / "testing.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    namespace: dict[str, Any] = {"__name__": "docs_testing_example"}
    exec(compile("\n".join(blocks), "docs/testing.md", "exec"), namespace)
    tests = [v for k, v in namespace.items() if k.startswith("test_") and callable(v)]
    assert tests
    for test in tests:
        test()
    machine_tests = [v for k, v in namespace.items() if k.startswith("Test") and isinstance(v, type)]
    for case in machine_tests:
        case("runTest").runTest()


# --------------------------------------------------------------------------- found by these strategies


def test_stale_claim_stall_ends_at_the_informer_resync() -> None:
    """Found by scenarios(): after a whenScaled: Delete scale-down and an immediate scale-up the
    controller waits on the stale claim and nothing requeues the set once the garbage collector
    has deleted it; upstream behaves the same (reference §3.4: no error, no requeue).  What ends
    it there is the informer resync, every 12-24 h, which enqueues every set."""
    text = (ROOT / "tests" / "data" / "testing-stale-claim-stuck.yaml").read_text()
    result = run(load_scenario_text(text), until=25 * 3600.0)
    assert check(result.trace, ["convergence"]) == []
    deleted = result.trace.first("PVCDeleted", pvc="data-web-0")
    ready = result.trace.first("PodReady", pod="web-0")
    assert deleted is not None and ready is not None
    assert 12 * 3600 <= ready.t - deleted.t < 24 * 3600 + 60


def test_stale_claim_stall_is_what_the_yaml_says() -> None:
    text = (ROOT / "tests" / "data" / "testing-stale-claim-stuck.yaml").read_text()
    result = run(load_scenario_text(text))
    violations = check(result.trace)
    assert [v.invariant for v in violations] == ["convergence"]
    assert "StaleClaim" in str(result.waiting()["web"]) or "old PersistentVolumeClaim" in violations[0].message
    assert result.trace.first("PVCDeleted", pvc="data-web-0") is not None  # the claim it waits for is gone


def test_stale_claim_wait_is_reported_under_parallel_too() -> None:
    """Found by scenarios(): under Parallel a step that waits (here on a stale claim) does not
    stop the sync, and its reason was dropped, so the stall had no explanation."""
    text = (ROOT / "tests" / "data" / "testing-stale-claim-parallel.yaml").read_text()
    result = run(load_scenario_text(text))
    assert "Parallel" in text
    assert [r.fields["reason"] for r in result.trace if r.event == "ControllerWaiting"][-1:] == ["StaleClaim"]
    assert "old PersistentVolumeClaim" in check(result.trace, ["convergence"])[0].message


def test_ordered_creation_watch_lag_is_what_the_yaml_says() -> None:
    """Found by scenarios(): the controller creates web-1 on an informer view in which web-0 is
    Ready, 10 ms after a user deleted web-0 (grace 0).  A real controller races the same way;
    ordered-creation checks API-server times and rightly reports it (docs/invariants.md)."""
    text = (ROOT / "tests" / "data" / "testing-ordered-creation-watch-lag.yaml").read_text()
    trace = run(load_scenario_text(text)).trace
    assert [v.invariant for v in check(trace)] == ["ordered-creation"]
    ready = trace.first("PodReady", pod="web-0")
    deleted = trace.first("PodDeleted", pod="web-0")
    created = trace.first("PodCreated", pod="web-1")
    assert ready is not None and deleted is not None and created is not None
    # web-0 was Ready at the API server; it was deleted just before web-1's creation reached it
    assert ready.t < deleted.t < created.t < deleted.t + 0.05
