"""rolloutUndo and rolloutRestart (#15 section 2): kubectl's choice of revision, the template
they write, and the bundled scenarios that show them, asserted from the trace."""

from __future__ import annotations

import pathlib

import pytest

from helpers import run, statefulset
from statefulsim.errors import ScenarioError
from statefulsim.runner import run as run_path
from statefulsim.sim.actions.rollout import RESTARTED_AT, SIM_EPOCH_SECONDS, rfc3339

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"


def _revisions(result) -> dict[int, str]:  # type: ignore[no-untyped-def]
    return {r.fields["number"]: r.fields["revision"] for r in result.trace.of("RevisionCreated")}


def test_bundled_undo_restores_the_previous_revision_and_replaces_the_broken_pod() -> None:
    result = run_path(SCENARIOS / "rollout-undo.yaml")
    assert result.ok
    revs = _revisions(result)
    assert sorted(revs) == [1, 2]  # the undo renumbers revision 1, it makes no new one
    undone = result.trace.of("RolledBack")
    assert [(r.fields["revision"], r.fields["controllerRevision"]) for r in undone] == [(1, revs[1])]
    undo_at = undone[0].t
    recreated = [r for r in result.trace.of("PodCreated", pod="web-2") if r.t > undo_at]
    assert [r.fields["revision"] for r in recreated] == [revs[1]]
    last = result.trace.of("StatefulSetStatus", statefulset="web")[-1].fields
    assert last["currentRevision"] == last["updateRevision"] == revs[1] and last["readyReplicas"] == 3
    # web-0 and web-1 never left revision 1
    assert not [r for r in result.trace.of("PodTerminating") if r.fields["pod"] != "web-2"]


def test_bundled_restart_replaces_every_pod_with_a_new_revision() -> None:
    result = run_path(SCENARIOS / "rollout-restart.yaml")
    assert result.ok
    revs = _revisions(result)
    restart = result.trace.of("Action", action="rolloutRestart")
    assert [r.t for r in restart] == [90.0, 90.5]
    sts = result.cluster.store.get("StatefulSet", "default", "web")
    assert sts.spec.template_raw["metadata"]["annotations"][RESTARTED_AT] == "2026-01-01T00:01:30Z"
    for pod in ("web-0", "web-1", "web-2"):
        assert result.trace.of("PodCreated", pod=pod)[-1].fields["revision"] == revs[2]
    failed = result.trace.of("ActionFailed", action="rolloutRestart")
    assert [r.t for r in failed] == [pytest.approx(90.5, abs=0.1)]
    assert "within the past second" in failed[0].fields["error"]


def test_rfc3339_is_whole_seconds_from_the_epoch_kubectl_export_uses() -> None:
    import datetime as dt

    from statefulsim.io.kubectl_export import DEFAULT_EPOCH

    assert DEFAULT_EPOCH.timestamp() == SIM_EPOCH_SECONDS
    assert rfc3339(0) == "2026-01-01T00:00:00Z"
    assert rfc3339(3661.9) == "2026-01-01T01:01:01Z"
    for t in (59.0, 86399.5, 31 * 86400.0, 59 * 86400 + 7.0, 400 * 86400.0, 3 * 365 * 86400 + 12345.0):
        assert rfc3339(t) == (DEFAULT_EPOCH + dt.timedelta(seconds=int(t))).strftime("%Y-%m-%dT%H:%M:%SZ"), t


def _undo_run(*actions: dict) -> object:  # type: ignore[type-arg]
    return run(statefulset(replicas=2), until="4m", actions=[
        {"at": "10s", "setImage": {"statefulset": "web", "container": "app", "image": "nginx:1.28"}},
        {"at": "40s", "setImage": {"statefulset": "web", "container": "app", "image": "nginx:1.29"}},
        *actions])


def test_to_revision_picks_that_number_and_a_second_undo_goes_back_again() -> None:
    result = _undo_run({"at": "80s", "rolloutUndo": {"statefulset": "web", "toRevision": 1}},
                       {"at": "120s", "rolloutUndo": {"statefulset": "web"}})
    revs = _revisions(result)  # type: ignore[attr-defined]
    undone = [(r.fields["revision"], r.fields["controllerRevision"]) for r in result.trace.of("RolledBack")]  # type: ignore[attr-defined]
    # after the first undo, 1 is renumbered 4: the second-highest is then 3 (nginx:1.29)
    assert undone == [(1, revs[1]), (3, revs[3])]
    assert result.trace.of("Action", action="rolloutUndo")[0].fields == {  # type: ignore[attr-defined]
        "action": "rolloutUndo", "statefulset": "web", "toRevision": 1}


def test_undo_to_the_current_template_is_skipped_and_unknown_revisions_fail() -> None:
    result = _undo_run({"at": "80s", "rolloutUndo": {"statefulset": "web", "toRevision": 3}},
                       {"at": "90s", "rolloutUndo": {"statefulset": "web", "toRevision": 7}})
    skipped = result.trace.of("RollbackSkipped")  # type: ignore[attr-defined]
    assert [r.fields["revision"] for r in skipped] == [3]
    assert [r.fields["error"] for r in result.trace.of("ActionFailed")] == [  # type: ignore[attr-defined]
        "unable to find specified revision 7 in history"]


def test_undo_with_one_revision_has_no_last_revision() -> None:
    result = run(statefulset(replicas=1), until="30s",
                 actions=[{"at": "5s", "rolloutUndo": {"statefulset": "web"}}])
    assert [r.fields["error"] for r in result.trace.of("ActionFailed")] == ["no last revision to roll back to"]


def test_bad_fields_are_reported_when_the_scenario_loads() -> None:
    with pytest.raises(ScenarioError) as e:
        run(statefulset(), actions=[{"at": "5s", "rolloutUndo": {"statefulset": "web", "toRevision": -1}},
                                    {"at": "6s", "rolloutRestart": {"statefulset": "wbe"}}])
    text = str(e.value)
    assert "actions[0].rolloutUndo.toRevision" in text and "actions[1].rolloutRestart.statefulset" in text


def _check(result, kind: str, body: dict):  # type: ignore[no-untyped-def,type-arg]
    from statefulsim.analysis.expect import parse_expectations
    from statefulsim.problems import Problems

    problems = Problems()
    (e,) = parse_expectations([{kind: body}], ("expect",), problems)
    assert not problems.items
    return e.check(result.trace)


def test_rollout_complete_says_what_kubectl_rollout_status_waits_for() -> None:
    result = run_path(SCENARIOS / "rollout-undo.yaml")
    mid = _check(result, "rolloutComplete", {"statefulset": "web", "by": "90s"})
    assert not mid.ok and mid.detail == "not complete: Waiting for 1 pods to be ready..."
    before = _check(result, "rolloutComplete", {"statefulset": "web", "by": "59s"})
    assert before.ok and before.detail.startswith("complete since 00:00:27")
    end = _check(result, "rolloutComplete", {"statefulset": "web"})
    assert end.ok and "3 new pods have been updated" in end.detail


def test_rollout_duration_judges_every_rollout_not_superseded() -> None:
    result = run_path(SCENARIOS / "rollout-undo.yaml")
    tight = _check(result, "rolloutDuration", {"statefulset": "web", "atMost": "5s"})
    assert not tight.ok and "superseded" in tight.detail and "11.3s" in tight.detail
    idle = run(statefulset(replicas=1), until="30s")
    none = _check(idle, "rolloutDuration", {"statefulset": "web", "atMost": "1m"})
    assert not none.ok and none.detail == "no template change in the trace"
    broken = run(
        statefulset(replicas=1),
        until="1m",
        timing={"overrides": [{"match": {"image": "nginx:9"}, "appReady": "never"}]},
        actions=[{"at": "10s", "setImage": {"statefulset": "web", "container": "app", "image": "nginx:9"}}],
    )
    unfinished = _check(broken, "rolloutDuration", {"statefulset": "web", "atMost": "10m"})
    assert not unfinished.ok and unfinished.detail.endswith("not finished")


def test_rollout_complete_refuses_on_delete_as_kubectl_does() -> None:
    result = run(statefulset(replicas=1, extra_spec={"updateStrategy": {"type": "OnDelete"}}), until="30s")
    res = _check(result, "rolloutComplete", {"statefulset": "web"})
    assert not res.ok and res.detail == "rollout status is only available for RollingUpdate strategy type"


def test_rollout_expectations_report_bad_fields() -> None:
    with pytest.raises(ScenarioError) as e:
        run(statefulset(), expect=[{"rolloutDuration": {"statefulset": "web"}},
                                   {"rolloutComplete": {"statefulset": "web", "by": "soon", "atMost": "1m"}}])
    text = str(e.value)
    assert "expect[0].rolloutDuration.atMost" in text and "expect[1].rolloutComplete.by" in text
    assert "expect[1].rolloutComplete.atMost" in text
