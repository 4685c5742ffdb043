"""Actions that wait for state (#15 section 3): ``when:``, ``after:``, ``timeout:``, judged on the
trace as it is appended; the bundled rollout-when-ready scenario asserted from its trace."""

from __future__ import annotations

import pathlib
import pickle

import pytest

from helpers import run, statefulset
from statefulsim.errors import ScenarioError
from statefulsim.explore import variants
from statefulsim.io.scenario import load_scenario_text
from statefulsim.runner import run as run_scenario
from statefulsim.sim.trace import Trace
from statefulsim.sweep import Axis, prepare

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios" / "rollout-when-ready.yaml"
IMAGE = {"statefulset": "web", "container": "app", "image": "nginx:1.28"}


def _action(result, verb: str):  # type: ignore[no-untyped-def]
    found = result.trace.of("Action", action=verb)
    assert len(found) == 1, found
    return found[0]


def test_bundled_update_starts_when_the_scale_up_is_rolled_out() -> None:
    result = run_scenario(BUNDLED)
    assert result.ok
    trace = result.trace
    scaled = trace.first("StatefulSetUpdated", statefulset="web", generation=2)
    assert scaled is not None
    done = next(r for r in trace.of("StatefulSetStatus", statefulset="web")
                if r.t > scaled.t and r.fields["readyReplicas"] == 3 and r.fields["observedGeneration"] >= 2)
    update = _action(result, "setImage")
    assert update.t == done.t and update.fields["when"] == {"rolloutComplete": {"statefulset": "web"}}
    assert trace.records.index(update) == trace.records.index(done) + 1  # fired on that very record
    # the restart: 30 s after the first PodReady of web-2 once the update was answered
    answered = trace.first("StatefulSetUpdated", statefulset="web", generation=3)
    ready = next(r for r in trace.of("PodReady", pod="web-2") if r.t > answered.t)  # type: ignore[union-attr]
    restart = _action(result, "rolloutRestart")
    assert restart.t == pytest.approx(ready.t + 30)
    assert restart.fields["when"] == {"event": "PodReady", "pod": "web-2"} and restart.fields["after"] == 30.0
    # the last one never holds: given up 1 min after it was armed (the restart was answered)
    armed = trace.first("StatefulSetUpdated", statefulset="web", generation=4)
    timed_out = trace.of("ActionTimedOut")
    assert [(r.fields["action"], r.fields["timeout"]) for r in timed_out] == [("scale", 60.0)]
    assert timed_out[0].t == pytest.approx(armed.t + 60)  # type: ignore[union-attr]
    assert not trace.of("Action", action="scale", replicas=5)


def test_a_condition_is_judged_after_the_previous_action_is_answered() -> None:
    """``kubectl set image`` then ``kubectl rollout status``: the old, complete status must not
    fire the action; the new rollout's completion does."""
    result = run(statefulset(replicas=2), until="3m", actions=[
        {"at": "30s", "setImage": IMAGE},
        {"when": {"rolloutComplete": {"statefulset": "web"}}, "scale": {"statefulset": "web", "replicas": 1}}])
    scale = _action(result, "scale")
    last_ready = result.trace.of("PodReady")[-1]
    records = result.trace.records
    assert records.index(scale) > records.index(last_ready) and last_ready.t > 30
    st = [r for r in records[:records.index(scale)] if r.event == "StatefulSetStatus"][-1].fields
    assert st["updatedReplicas"] == st["readyReplicas"] == 2 and st["currentRevision"] == st["updateRevision"]


def test_a_condition_that_holds_when_armed_fires_at_once_and_at_actions_keep_their_times() -> None:
    result = run(statefulset(replicas=2), until="2m", actions=[
        {"at": "40s", "deletePod": {"pod": "web-1"}},
        {"when": {"readyReplicas": {"statefulset": "web", "atLeast": 1}}, "scale": {"statefulset": "web", "replicas": 3}},
        {"when": {"event": "PodReady", "pod": "web-9"}, "scale": {"statefulset": "web", "replicas": 4}},
        {"at": "50s", "deletePod": {"pod": "web-0"}}])
    delete = result.trace.of("Action", action="deletePod")
    assert [r.t for r in delete] == [40.0, 50.0]
    scale = result.trace.of("Action", action="scale")
    answered = result.trace.of("PodTerminating", pod="web-1")[0]  # the delete's answer
    assert [r.fields["replicas"] for r in scale] == [3] and scale[0].t == answered.t
    assert not result.trace.of("ActionTimedOut")  # no timeout: it just never fires


def test_event_conditions_count_only_records_after_arming_and_nth() -> None:
    result = run(statefulset(replicas=1), until="2m", actions=[
        {"at": "30s", "deletePod": {"pod": "web-0"}},
        {"when": {"event": "PodReady", "pod": "web-0"}, "deletePod": {"pod": "web-0"}},
        {"when": {"event": "PodReady", "pod": "web-0", "nth": 1}, "after": "5s",
         "scale": {"statefulset": "web", "replicas": 2}}])
    ready = result.trace.of("PodReady", pod="web-0")
    deletes = result.trace.of("Action", action="deletePod")
    assert len(ready) == 3 and deletes[1].t == ready[1].t  # not the PodReady before t 30
    assert _action(result, "scale").t == pytest.approx(ready[2].t + 5)


def test_the_trace_of_a_run_without_when_actions_does_not_depend_on_watchers() -> None:
    trace = Trace()
    seen: list[str] = []
    stop = trace.watch(lambda r: seen.append(r.event))
    trace.append(1.0, "A", {})
    stop()
    trace.append(2.0, "B", {})
    assert seen == ["A"]
    trace.watch(lambda r: None)
    copy = pickle.loads(pickle.dumps(trace))
    assert [r.event for r in copy] == ["A", "B"]


@pytest.mark.parametrize(("item", "where", "message"), [
    ({"at": "1s", "when": {"rolloutComplete": {"statefulset": "web"}}}, "actions[0]", "not both"),
    ({"at": "1s", "after": "5s"}, "actions[0].after", "only an action with when: waits"),
    ({"when": {"rolloutCompleted": {"statefulset": "web"}}}, "actions[0].when", "rolloutComplete"),
    ({"when": {"readyReplicas": {"statefulset": "wbe", "atLeast": 1}}}, "actions[0].when.readyReplicas.statefulset",
     "no StatefulSet named 'wbe'"),
    ({"when": {"readyReplicas": {"statefulset": "web"}}}, "actions[0].when.readyReplicas", "atLeast or equals"),
    ({"when": {"event": "PodReady"}, "after": "-3s"}, "actions[0].after", "expected a duration"),
    ({"when": {"event": "PodReady"}, "after": "never"}, "actions[0].after", "expected a finite duration"),
    ({"when": {"event": "PodReady"}, "timeout": "soon"}, "actions[0].timeout", ""),
    ({"when": "ready"}, "actions[0].when", "one condition"),
])
def test_bad_when_items_are_reported_with_their_path(item: dict, where: str, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ScenarioError) as e:
        run(statefulset(), actions=[{**item, "scale": {"statefulset": "web", "replicas": 2}}])
    text = str(e.value)
    assert where in text and message in text, text
    assert "Traceback" not in text


def test_sweeps_and_explore_vary_after(tmp_path: pathlib.Path) -> None:
    points = prepare(BUNDLED, [Axis("actions[2].after", ("0s", "45s"))])
    afters = [load_scenario_text(p.text, base_dir=p.base_dir).triggers[2].after for p in points]
    assert afters == [0.0, 45.0]
    text = BUNDLED.read_text() + "explore:\n  choices:\n    actions[2].after: [10s, 1m]\n"
    path = tmp_path / "explore.yaml"
    path.write_text(text.replace("file: manifests/", f"file: {ROOT / 'scenarios' / 'manifests'}/"))
    found = variants(path)
    runs = [run_scenario(load_scenario_text(v.text, base_dir=v.base_dir)) for v in found]
    times = [_action(r, "rolloutRestart").t - _action(r, "setImage").t for r in runs]
    assert times[1] - times[0] == pytest.approx(50.0)


def test_saved_traces_read_back_and_the_timeline_shows_the_condition(tmp_path: pathlib.Path) -> None:
    from statefulsim.io.trace_io import read_jsonl, write_jsonl
    from statefulsim.sim.actions import describe_action

    result = run_scenario(BUNDLED)
    path = tmp_path / "t.jsonl"
    write_jsonl(result.trace, path)
    back = read_jsonl(path)  # validates every record against the catalogue
    assert [r.as_dict() for r in back] == [r.as_dict() for r in result.trace]
    restart = _action(result, "rolloutRestart")
    assert describe_action(restart.fields) == "rollout restart web (when {event: PodReady, pod: web-2}, 30s after)"
    scale = {"action": "scale", "statefulset": "web", "replicas": 3, "when": {"readyReplicas": {"statefulset": "web",
                                                                                                "atLeast": 1}}}
    assert describe_action(scale) == "scale web to 3 (when {readyReplicas: {statefulset: web, atLeast: 1}})"


def test_the_critical_path_goes_through_the_condition_that_fired_an_action() -> None:
    from statefulsim.analysis.happens_before import critical_path, happens_before_graph

    result = run_scenario(BUNDLED)
    g = happens_before_graph(result.trace)
    into = {(u[0], v[1]): d for u, v, d in g.edges(data=True) if d["kind"] == "when"}
    assert set(into) == {("StatefulSetReady", "setImage web"), ("PodReady", "rolloutRestart web")}
    path = critical_path(g)
    assert path.begin == 0.0  # from the set's creation, not from the restart
    whens = [s for s in path.steps if s.kind == "when"]
    assert [round(s.end - s.start, 3) for s in whens] == [0.0, 30.0]
