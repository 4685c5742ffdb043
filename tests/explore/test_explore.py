"""statefulsim explore: enumerating the explore: choices, the state graph, deadlocks, tie-break orders."""

from __future__ import annotations

import functools
import re
import textwrap
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import simpy
import yaml
from click.testing import CliRunner, Result
from rich.console import Console

from statefulsim import runner
from statefulsim.cli import cli
from statefulsim.errors import ScenarioError
from statefulsim.explore import (
    INITIAL,
    ExploreError,
    ExploreResult,
    State,
    explore,
    run_variant,
    state_sequence,
    variants,
)
from statefulsim.io.scenario import load_scenario, load_scenario_text
from statefulsim.model.explore import TIE_BREAK_PATH, Choice
from statefulsim.present.report import timeline
from statefulsim.sim.cluster import ClusterConfig
from statefulsim.sim.env import SimEnv
from statefulsim.sim.tiebreak import TieBreakEnvironment, make_environment, parse_tie_break

ROOT = Path(__file__).resolve().parents[2]
FORCED = ROOT / "scenarios" / "explore-forced-rollback.yaml"
HEALTHY = ROOT / "scenarios" / "explore-healthy.yaml"
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"
GOLDEN = ROOT / "tests" / "golden" / "quickstart_timeline.txt"
SUMMARY = re.compile(r"explored (\d+) runs, (\d+) distinct states, (\d+) transitions")


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@functools.lru_cache(maxsize=None)
def explored(path: Path) -> ExploreResult:
    return explore(path)


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def broken_revision(trace: Any) -> str:
    """The revision the broken setImage created (the second RevisionCreated)."""
    revs = [r.fields["revision"] for r in trace.of("RevisionCreated", statefulset="web")]
    return str(revs[1])


# ------------------------------------------------------------------------------ the forced rollback


def test_forced_rollback_deadlock_is_found() -> None:
    result = explored(FORCED)
    assert result.runs == 16 and not result.ok
    assert result.violations == []
    assert len(result.deadlocks) == 1
    d = result.deadlocks[0]
    # exactly the runs without the manual delete end there, whatever the revert time and order
    assert [result.variants[i].label for i in d.runs] == [
        v.label for v in result.variants if dict(v.choices)["actions[3]"] == "omit"]
    assert len(d.runs) == 8
    web2 = [p for p in d.state.pods if p.name == "web-2"]
    assert len(web2) == 1 and not web2[0].ready and web2[0].phase == "Running"
    assert web2[0].revision == "other" and not web2[0].terminating   # the broken one, reverted away from
    assert [(p.name, p.ready, p.revision) for p in d.state.pods if p.name != "web-2"] == [
        ("web-0", True, "current"), ("web-1", True, "current")]
    assert not d.state.converged
    assert any("forced rollback" in s and "web-2" in s for s in d.stuck)
    # the path: from the initial state through the broken update and the revert, no delete
    assert d.path[0].startswith("StatefulSetCreated web")
    assert any("nginx-slim:broken" in label for label in d.path)
    assert "PodCreated web-2 (revision update)" in d.path
    assert not any("deletePod" in label for label in d.path)
    # the path is a walk in the graph from the initial state to the deadlock, no longer than a run's
    g = result.graph.graph
    frontier = {INITIAL}
    for label in d.path:
        frontier = {v for u in frontier for v in g.successors(u) if label in g.edges[u, v]["labels"]}
        assert frontier, f"no edge {label!r}"
    assert d.state in frontier
    assert len(d.path) <= min(len(result.outcomes[i].steps) - 1 for i in d.runs)


def test_the_deadlocked_run_is_the_broken_revision(tmp_path: Path) -> None:
    result = explored(FORCED)
    d = result.deadlocks[0]
    v = result.variants[d.example]
    trace = runner.run(load_scenario_text(v.text, file=v.file, base_dir=v.base_dir)).trace
    created = trace.of("PodCreated", pod="web-2")[-1]
    assert created.fields["revision"] == broken_revision(trace)


def test_explore_cli_writes_a_replay_that_stays_stuck(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = invoke("explore", FORCED, "--out", out)
    assert res.exit_code == 1, res.output
    m = SUMMARY.search(res.output)
    assert m is not None and m.group(1) == "16", res.output
    result = explored(FORCED)
    assert (int(m.group(2)), int(m.group(3))) == (result.graph.states, result.graph.transitions)
    assert "deadlock 1" in res.output and "shortest path from the initial state" in res.output
    assert "invariant violations: none" in res.output
    replay = out / "deadlock-1.yaml"
    assert replay.exists() and f"replay: statefulsim run {replay}" in res.output.replace("\n", "")
    text = replay.read_text()
    assert "actions[3]=omit" in text.splitlines()[1]
    # the file is self-contained: it loads and runs from anywhere, and stays stuck
    sc = load_scenario(replay)
    assert sc.explore is None and not any(getattr(a, "verb", "") == "deletePod" for a in sc.actions)
    run = runner.run(sc)
    stuck = run.stuck()
    assert [(s.statefulset, s.reason, s.pod) for s in stuck] == [("web", "PredecessorNotReady", "web-2")]
    assert run.trace.of("PodCreated", pod="web-2")[-1].fields["revision"] == broken_revision(run.trace)
    ran = invoke("run", replay, "-q", "--check")
    assert ran.exit_code == 1 and "convergence" in ran.output


def test_explore_and_a_plain_run_of_the_same_choice_agree() -> None:
    result = explored(FORCED)
    v = result.variants[result.deadlocks[0].example]
    again = run_variant(v.text, v.file, v.base_dir, v.index)
    assert again == result.outcomes[v.index]


# ------------------------------------------------------------------------------ the healthy set


def test_healthy_scenario_finds_nothing() -> None:
    result = explored(HEALTHY)
    assert result.runs == 24
    assert result.ok, (result.violations, result.deadlocks)
    assert all(o.final.converged for o in result.outcomes)
    res = invoke("explore", HEALTHY, "-q")
    assert res.exit_code == 0, res.output
    assert SUMMARY.search(res.output) is not None
    assert f"explored 24 runs, {result.graph.states} distinct states, {result.graph.transitions} transitions" \
        in res.output


def test_states_merge_across_runs() -> None:
    for path in (FORCED, HEALTHY):
        result = explored(path)
        total = sum(len(o.steps) for o in result.outcomes)
        assert result.graph.states < total / 2, (path, result.graph.states, total)
        g = result.graph.graph
        assert g.nodes[INITIAL]["runs"] == set(range(result.runs))
        # every run's states are in the graph, each consecutive pair an edge the run is recorded on
        for o in result.outcomes:
            for a, b in zip(o.steps, o.steps[1:]):
                assert o.index in g.edges[a.state, b.state]["runs"]
    # the policy is part of the state: OrderedReady and Parallel runs share only the states
    # before the set's first pod
    healthy = explored(HEALTHY)
    policies = {s.policy for st in healthy.graph.graph.nodes for s in st.sets}
    assert policies == {"OrderedReady", "Parallel"}


def test_state_abstraction_leaves_out_times_and_uids() -> None:
    sc = load_scenario(QUICKSTART)
    a = state_sequence(runner.run(sc).trace)
    b = state_sequence(runner.run(sc, seed=99).trace)
    assert a[-1].state == b[-1].state   # other times and uids, the same final situation
    assert a[-1].state.converged
    text = repr(a[-1].state)
    assert "uid" not in text and not re.search(r"\d+\.\d{3}", text)


# ------------------------------------------------------------------------------ tie-break orders


def test_default_order_is_simpys_own_and_matches_the_golden_timeline() -> None:
    assert ClusterConfig().tie_break == "fifo"
    assert type(SimEnv(1).sim) is simpy.Environment
    assert type(make_environment("fifo")) is simpy.Environment
    sc = load_scenario(QUICKSTART)
    explicit = replace(sc, cluster=replace(sc.cluster, tie_break="fifo"))
    default = [r.as_dict() for r in runner.run(sc).trace]
    assert [r.as_dict() for r in runner.run(explicit).trace] == default
    console = Console(record=True, width=120, force_terminal=False, color_system=None)
    console.print(timeline(runner.run(explicit).trace))
    text = "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"
    assert text == GOLDEN.read_text(encoding="utf-8")


@pytest.mark.parametrize("order", ["lifo", "shuffle:1", "shuffle:2"])
def test_tie_break_orders_are_deterministic_and_change_the_run(order: str) -> None:
    sc = load_scenario(HEALTHY)
    data = yaml.safe_load(HEALTHY.read_text())
    assert data["cluster"].get("tieBreak") is None
    chosen = replace(sc, cluster=replace(sc.cluster, tie_break=order))
    first = [r.as_dict() for r in runner.run(chosen).trace]
    second = [r.as_dict() for r in runner.run(chosen).trace]
    assert first == second
    fifo = [r.as_dict() for r in runner.run(sc).trace]
    assert first != fifo


def test_tie_break_keeps_priorities_and_the_order_of_one_owner() -> None:
    def order_of(kind: str) -> list[str]:
        env = make_environment(kind, seed=3)
        seen: list[str] = []

        class Channel:
            def deliver(self, what: str, _ev: simpy.Event) -> None:
                seen.append(what)

        chan = Channel()
        for i in range(3):   # one owner: delivered in order whatever the tie-break
            env.timeout(1).callbacks.append(partial(chan.deliver, f"chan{i}"))

        def proc(name: str) -> Any:
            yield env.timeout(1)
            seen.append(name)

        for name in ("p1", "p2", "p3"):
            env.process(proc(name))
        env.run()
        return seen

    fifo = order_of("fifo")
    assert fifo == ["chan0", "chan1", "chan2", "p1", "p2", "p3"]
    for kind in ("lifo", "shuffle:1", "shuffle:7"):
        got = order_of(kind)
        assert sorted(got) == sorted(fifo)
        assert [x for x in got if x.startswith("chan")] == ["chan0", "chan1", "chan2"], kind
        assert got == order_of(kind)   # deterministic
    assert order_of("lifo") != fifo
    assert isinstance(make_environment("lifo"), TieBreakEnvironment)


def test_parse_tie_break() -> None:
    assert parse_tie_break("fifo") == ("fifo", 0)
    assert parse_tie_break("lifo") == ("lifo", 0)
    assert parse_tie_break("shuffle:12") == ("shuffle", 12)
    for bad in ("random", "shuffle", "shuffle:-1", "shuffle:x", 3, None):
        with pytest.raises(ValueError, match="expected fifo, lifo or shuffle:N"):
            parse_tie_break(bad)


# ------------------------------------------------------------------------------ the explore: section


SMALL = """\
apiVersion: statefulsim/v1
kind: Scenario
metadata: {name: small}
until: 3m
manifests:
  - file: %s
actions:
  - {at: 1s, scale: {statefulset: web, replicas: 2}}
  - {at: 1m, deletePod: {pod: web-1}}
expect:
  - readyReplicas: {statefulset: web, equals: 2, by: 3m}
""" % (ROOT / "scenarios" / "manifests" / "web.yaml")


def test_run_and_validate_accept_and_ignore_the_explore_section(tmp_path: Path) -> None:
    plain = write(tmp_path, SMALL, "plain.yaml")
    with_explore = write(tmp_path, SMALL + "explore:\n  choices:\n    actions[1]: [keep, omit]\n"
                         "  tieBreak: [fifo, lifo]\n", "explore.yaml")
    sc = load_scenario(with_explore)
    assert sc.explore is not None
    assert sc.explore.choices == (Choice("actions[1]", ("keep", "omit")), Choice(TIE_BREAK_PATH, ("fifo", "lifo")))
    assert sc.explore.runs == 4
    assert [r.as_dict() for r in runner.run(sc).trace] == [r.as_dict() for r in runner.run(load_scenario(plain)).trace]
    assert invoke("validate", with_explore).exit_code == 0
    assert invoke("run", with_explore, "-q").exit_code == 0


def test_keep_omit_null_and_alternative_lists(tmp_path: Path) -> None:
    path = write(tmp_path, SMALL + textwrap.dedent("""\
        explore:
          choices:
            actions[1]: [keep, omit, null]
            actions: [keep, [{at: 2s, scale: {statefulset: web, replicas: 3}}]]
            seed: [1, 2]
        """))
    vs = variants(path)
    assert len(vs) == 12

    def actions_of(i: int) -> list[Any]:
        return yaml.safe_load(vs[i].text)["actions"]

    assert [a.get("deletePod") for a in actions_of(0)] == [None, {"pod": "web-1"}]      # keep, keep
    assert actions_of(2) == [{"at": "2s", "scale": {"statefulset": "web", "replicas": 3}}]  # keep, the other list
    assert len(actions_of(4)) == 1 and "scale" in actions_of(4)[0]                      # omit
    assert len(actions_of(8)) == 1                                                      # null at a list item
    assert yaml.safe_load(vs[1].text)["seed"] == 2
    assert all("explore" not in yaml.safe_load(v.text) for v in vs)
    assert vs[5].label == "actions[1]=omit actions=keep seed=2"


BAD_EXPLORE = """\
explore:
  tieBrake: [fifo]
  tieBreak: [fifo, shuffle:x]
  choices:
    actions[5]: [keep, omit]
    manifests[nope].spec.replicas: [1, 2]
    "actions[0": [1]
    kind: [x]
    timing.appReady: []
    seed: 3
    until: [1m, 1m]
"""


def test_bad_explore_sections_give_precise_errors(tmp_path: Path) -> None:
    path = write(tmp_path, SMALL + BAD_EXPLORE)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    lines = [str(p) for p in err.value.problems]
    expected = [
        (13, 'explore.tieBrake: unknown key (did you mean "tieBreak"?); allowed keys: choices, tieBreak'),
        (16, "explore.choices.actions[5]: the path leads nowhere in this scenario: actions[5]: index 5 is out of "
             "range (the list has 2 items)"),
        (17, "explore.choices.manifests[nope].spec.replicas: the path leads nowhere in this scenario: "
             "manifests[nope]: no item named 'nope'; found: Service/nginx, StatefulSet/web"),
        (18, "explore.choices.actions[0: malformed path at '[0'"),
        (19, "explore.choices.kind: kind cannot be a choice"),
        (20, "explore.choices.timing.appReady: expected at least one value"),
        (21, "explore.choices.seed: expected a list of values"),
        (22, "explore.choices.until[1]: duplicate value '1m'"),
        (14, "explore.tieBreak[1]: expected fifo, lifo or shuffle:N (N an integer >= 0), found 'shuffle:x'"),
    ]
    for line, text in expected:
        assert any(x.startswith(f"{path}:{line}: {text}") for x in lines), (line, text, lines)
    assert len(lines) == len(expected), lines
    res = invoke("explore", path)
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert invoke("validate", path).exit_code == 2
    bad_order = write(tmp_path, SMALL.replace("until: 3m", "until: 3m\ncluster: {tieBreak: random}"), "o.yaml")
    res = invoke("validate", bad_order)
    assert res.exit_code == 2
    assert f"error: {bad_order}:5: cluster.tieBreak: expected fifo, lifo or shuffle:N" in res.output


def test_a_combination_the_loader_rejects_names_the_choice(tmp_path: Path) -> None:
    path = write(tmp_path, SMALL + "explore:\n  choices:\n    manifests[web].spec.replicas: [2, -1]\n")
    with pytest.raises(ScenarioError) as err:
        variants(path)
    problem = err.value.problems[0]
    assert str(problem).startswith(f"{path} with manifests[web].spec.replicas=-1: manifests[1].spec.replicas: "
                                   "expected an integer >= 0, found -1")
    res = invoke("explore", path)
    assert res.exit_code == 2 and "manifests[web].spec.replicas=-1" in res.output


def test_max_runs_limit(tmp_path: Path) -> None:
    with pytest.raises(ExploreError, match=r"24 combinations .* more than --max-runs 23; drop values or raise"):
        explore(HEALTHY, max_runs=23)
    res = invoke("explore", HEALTHY, "--max-runs", "10")
    assert res.exit_code == 2
    assert res.output.startswith(f"error: {HEALTHY}: the explore section has 24 combinations (2 "
                                 "(manifests[web].spec.podManagementPolicy) × 2 (actions[1].at) × 2 (actions[2]) × 3 "
                                 "(cluster.tieBreak)), more than --max-runs 10")
    assert invoke("explore", HEALTHY, "--max-runs", "0").exit_code == 2   # click: not in range


def test_without_an_explore_section_the_scenario_runs_once() -> None:
    result = explore(QUICKSTART)
    assert result.runs == 1 and result.ok
    assert result.graph.states == len(result.outcomes[0].steps)


def test_workers_give_the_same_result() -> None:
    one = explored(FORCED)
    two = explore(FORCED, workers=2)
    assert two.outcomes == one.outcomes
    assert (two.graph.states, two.graph.transitions) == (one.graph.states, one.graph.transitions)
    assert [d.state for d in two.deadlocks] == [d.state for d in one.deadlocks]


def test_a_run_that_only_ended_early_is_not_a_deadlock(tmp_path: Path) -> None:
    # the short run stops mid-rollout, in a state from which the longer run converged
    path = write(tmp_path, SMALL + "explore:\n  choices:\n    until: [3m, 9s]\n")
    result = explore(path)
    short = result.outcomes[1]
    assert not short.final.converged
    assert short.final in result.graph.graph
    assert result.ok, result.deadlocks


def test_docs_example_loads() -> None:
    text = (ROOT / "docs" / "explore.md").read_text()
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, flags=re.S) if "kind: Scenario" in b]
    assert blocks
    for block in blocks:
        sc = load_scenario_text(block, file="docs/explore.md", base_dir=str(ROOT / "scenarios"))
        assert sc.explore is not None and sc.explore.runs >= 2


def test_state_is_hashable_and_initial_is_empty() -> None:
    assert INITIAL == State((), (), ())
    assert hash(INITIAL) == hash(State((), (), ()))


def test_violations_are_reported_with_their_choices_and_replays(tmp_path: Path,
                                                                request: pytest.FixtureRequest) -> None:
    from statefulsim.analysis import invariants as inv
    from statefulsim.present.explore_report import render_explore, write_replays

    def no_deleted_pod(trace: Any) -> list[inv.Violation]:   # a made-up guarantee the delete breaks
        return [inv.Violation("no-user-delete", r.t, ("pod/" + r.fields["pod"],), "a user deleted a pod")
                for r in trace.of("Action", action="deletePod")]

    inv.register_invariant("no-user-delete", "test only", no_deleted_pod)
    request.addfinalizer(lambda: inv.unregister_invariant("no-user-delete"))
    path = write(tmp_path, SMALL + "explore:\n  choices:\n    actions[1]: [omit, keep]\n  tieBreak: [fifo, lifo]\n")
    result = explore(path)
    assert [(f.run, f.violation.invariant) for f in result.violations] == [(2, "no-user-delete"),
                                                                          (3, "no-user-delete")]
    assert not result.deadlocks and not result.ok
    replays = write_replays(result, tmp_path / "out")
    assert sorted(replays.runs) == [2, 3]
    assert (tmp_path / "out" / "violation-run-3.yaml").read_text().splitlines()[1] == \
        "# choices: actions[1]=keep cluster.tieBreak=fifo"
    console = Console(record=True, width=200, force_terminal=False, color_system=None)
    render_explore(result, console, replays)
    text = console.export_text()
    assert "invariant violations: 2 in 2 runs (1 distinct)" in text
    assert "✘ no-user-delete at 00:01:00.000: a user deleted a pod" in text
    assert "runs 3, 4; e.g. run 3: actions[1]=keep cluster.tieBreak=fifo" in text
    assert f"replay: statefulsim run {tmp_path / 'out' / 'violation-run-3.yaml'}" in text
    assert "explored 4 runs" in text
    res = invoke("explore", path)
    assert res.exit_code == 1
