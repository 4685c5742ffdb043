"""kubectl's views (docs/views.md): AGE text, the tab writer, selectors, and each view's rows."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from helpers import run, statefulset
from statefulsim.cli import cli
from statefulsim.durations import go_duration, human_duration
from statefulsim.present.kubectl_views import (
    VIEWS,
    TabWriter,
    ViewOptions,
    event_rows,
    events_watch_lines,
    involved_object,
    parse_selector,
    pod_watch_rows,
    pods_watch_lines,
    rollout_status_lines,
)
from statefulsim.sim.trace import Trace


def trace_of(*records: tuple[float, str, dict[str, Any]]) -> Trace:
    trace = Trace()
    for t, event, fields in records:
        trace.append(t, event, fields)
    return trace


# apimachinery duration.HumanDuration, the table in the kubectl reference (§1.6).
@pytest.mark.parametrize(("seconds", "text"), [
    (-5, "<invalid>"), (-2.5, "<invalid>"), (-1.5, "0s"), (-0.5, "0s"), (0, "0s"), (0.99, "0s"), (59, "59s"),
    (119.9, "119s"), (120, "2m"),
    (123, "2m3s"), (599, "9m59s"), (600, "10m"), (179 * 60 + 59, "179m"), (3 * 3600, "3h"), (3 * 3600 + 300, "3h5m"),
    (8 * 3600 - 1, "7h59m"), (8 * 3600, "8h"), (47 * 3600, "47h"), (48 * 3600, "2d"), (50 * 3600, "2d2h"),
    (191 * 3600, "7d23h"), (192 * 3600, "8d"), (729 * 86400, "729d"), (730 * 86400, "2y"), (731 * 86400, "2y1d"),
    (8 * 365 * 86400, "8y")])
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (1.2, "1.2s"), (0.718, "718ms"), (62.5, "1m2.5s"),
                                                (3725, "1h2m5s"), (0.0000015, "1.5µs")])
def test_go_duration(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


@given(st.floats(min_value=0, max_value=10 * 365 * 86400))
def test_human_duration_never_grows_backwards(seconds: float) -> None:
    """A later instant never reads as a shorter age (the units only get coarser)."""
    from statefulsim.io.importers import parse_age

    assert parse_age(human_duration(seconds)) <= seconds + 1e-6


def test_tab_writer_pads_by_three_with_a_minimum_of_six_and_remembers_widths() -> None:
    w = TabWriter()
    first = w.flush([("NAME", "READY", "STATUS", "RESTARTS", "AGE"), ("web-0", "0/1", "Pending", "0", "0s")])
    assert first == ["NAME    READY   STATUS    RESTARTS   AGE",
                     "web-0   0/1     Pending   0          0s"]
    assert w.flush([("web-0", "0/1", "ContainerCreating", "0", "0s")]) == [
        "web-0   0/1     ContainerCreating   0          0s"]
    # the wider column stays wide for the rows after it, as on a terminal
    assert w.flush([("web-0", "1/1", "Running", "0", "19s")]) == ["web-0   1/1     Running             0          19s"]
    assert TabWriter().flush([("a", "b")]) == ["a     b"]


def test_selector_parsing_and_matching() -> None:
    labels = {"app": "web", "controller-revision-hash": "web-1"}
    assert parse_selector("app=web").matches(labels)
    assert parse_selector("app==web,controller-revision-hash").matches(labels)
    assert not parse_selector("app!=web").matches(labels)
    assert parse_selector("!tier").matches(labels)
    assert not parse_selector("tier").matches(labels)
    assert str(parse_selector("app=web, !tier")) == "app=web,!tier"
    for bad in ("app in (web)", "=web", "!app=web", ""):
        with pytest.raises(ValueError, match="cannot read the selector requirement"):
            parse_selector(bad)


def _pod_records() -> Trace:
    return trace_of(
        (0.2, "PodCreated", {"pod": "web-0", "uid": "u0", "ordinal": 0, "statefulset": "web", "revision": "web-1"}),
        (0.3, "PodStatus", {"pod": "web-0", "uid": "u0", "ready": "0/1", "status": "Pending", "restarts": 0}),
        (1.4, "PodStatus", {"pod": "web-0", "uid": "u0", "ready": "0/1", "status": "ContainerCreating", "restarts": 0}),
        (0.5, "PodCreated", {"pod": "db-0", "uid": "d0", "ordinal": 0, "statefulset": "db", "revision": "db-1"}),
        (0.6, "PodStatus", {"pod": "db-0", "uid": "d0", "ready": "0/1", "status": "Pending", "restarts": 0}),
        (30.0, "ContainerExited", {"pod": "web-0", "uid": "u0", "container": "app", "exitCode": 1}),
        (30.1, "PodStatus", {"pod": "web-0", "uid": "u0", "ready": "0/1", "status": "Error", "restarts": 0}),
        (40.2, "PodStatus", {"pod": "web-0", "uid": "u0", "ready": "0/1", "status": "CrashLoopBackOff", "restarts": 1}),
        (150.0, "PodDeleted", {"pod": "web-0", "uid": "u0"}),
    )


def test_pod_rows_follow_pod_status_records_with_age_and_restart_ago() -> None:
    lines = pods_watch_lines(pod_watch_rows(_pod_records(), statefulset="web"))
    assert lines == [
        "NAME    READY   STATUS    RESTARTS   AGE",
        "web-0   0/1     Pending   0          0s",
        "web-0   0/1     ContainerCreating   0          1s",
        "web-0   0/1     Error               0          30s",
        "web-0   0/1     CrashLoopBackOff    1 (10s ago)   40s",
        "web-0   0/1     CrashLoopBackOff    1 (10s ago)   2m30s",
    ]


def test_pod_rows_with_watch_events_and_selector() -> None:
    rows = list(pod_watch_rows(_pod_records(), selector=parse_selector("statefulset.kubernetes.io/pod-name=db-0")))
    assert [(r.event, r.name, r.status) for r in rows] == [("ADDED", "db-0", "Pending")]
    events = [r.event for r in pod_watch_rows(_pod_records(), statefulset="web")]
    assert events == ["ADDED", "MODIFIED", "MODIFIED", "MODIFIED", "DELETED"]
    lines = pods_watch_lines(pod_watch_rows(_pod_records(), statefulset="db"), watch_events=True)
    assert lines == ["EVENT      NAME   READY   STATUS    RESTARTS   AGE",
                     "ADDED      db-0   0/1     Pending   0          0s"]
    by_template = pod_watch_rows(_pod_records(), selector=parse_selector("app=db"), template_labels={"db": {"app": "db"}})
    assert [r.name for r in by_template] == ["db-0"]


def test_events_view_types_objects_and_set_filter() -> None:
    trace = trace_of(
        (0.1, "KubeEvent", {"reason": "SuccessfulCreate", "object": "pod/web-0", "component": "statefulset-controller",
                            "message": "create Pod web-0 in StatefulSet web successful"}),
        (0.1, "KubeEvent", {"reason": "SuccessfulCreate", "object": "persistentvolumeclaim/data-web-0",
                            "component": "statefulset-controller",
                            "message": "create Claim data-web-0 Pod web-0 in StatefulSet web success"}),
        (0.2, "KubeEvent", {"reason": "FailedScheduling", "object": "pod/web-0", "component": "default-scheduler",
                            "message": "0/3 nodes are available: 3 Insufficient cpu. "}),
        (0.3, "KubeEvent", {"reason": "BackOff", "object": "pod/web-0", "component": "kubelet", "type": "Normal",
                            "message": 'Back-off pulling image "nginx:9"', "count": 3}),
        (0.4, "KubeEvent", {"reason": "Scheduled", "object": "pod/db-0", "component": "default-scheduler",
                            "message": "Successfully assigned default/db-0 to node-1"}),
    )
    rows = list(event_rows(trace, statefulset="web"))
    assert [(r.type, r.object) for r in rows] == [("Normal", "statefulset/web"), ("Normal", "statefulset/web"),
                                                   ("Warning", "pod/web-0"), ("Normal", "pod/web-0")]
    assert rows[2].message == "0/3 nodes are available: 3 Insufficient cpu."
    assert rows[3].count == 3
    assert events_watch_lines(rows[2:3]) == [
        "LAST SEEN   TYPE      REASON             OBJECT      MESSAGE",
        "0s          Warning   FailedScheduling   pod/web-0   0/3 nodes are available: 3 Insufficient cpu."]
    assert involved_object({"component": "statefulset-controller", "object": "pod/web-1",
                            "message": "StatefulSet default/web is recreating failed Pod web-1"}) == "statefulset/web"


def _set(t: float, event: str, **fields: Any) -> tuple[float, str, dict[str, Any]]:
    return t, event, {"statefulset": "web", **fields}


def _status(t: float, ready: int, updated: int, current: str = "r1", update: str = "r1", observed: int = 1,
            replicas: int = 3) -> tuple[float, str, dict[str, Any]]:
    return _set(t, "StatefulSetStatus", replicas=replicas, readyReplicas=ready, availableReplicas=ready,
                currentReplicas=replicas - updated if current != update else replicas, updatedReplicas=updated,
                currentRevision=current, updateRevision=update, observedGeneration=observed)


def test_rollout_lines_partitioned_and_plain_rolling_update() -> None:
    partitioned = trace_of(
        _set(0, "StatefulSetCreated", replicas=3, updateStrategy="RollingUpdate", partition=1),
        _status(1, 2, 3), _status(2, 3, 1, "r1", "r2"), _status(3, 3, 2, "r1", "r2"))
    assert rollout_status_lines(partitioned) == [
        "$ kubectl rollout status statefulset/web    # at 00:00:00.000",
        "Waiting for statefulset spec update to be observed...",
        "Waiting for 1 pods to be ready...",
        "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...",
        "partitioned roll out complete: 2 new pods have been updated..."]
    plain = trace_of(
        _set(0, "StatefulSetCreated", replicas=3, updateStrategy="RollingUpdate", partition=None),
        _status(1, 3, 3),
        _set(5, "StatefulSetUpdated", generation=2, replicas=3, updateStrategy="RollingUpdate", partition=None),
        _status(5.1, 3, 3, observed=1), _status(5.2, 3, 0, "r1", "r2", observed=2), _status(9, 3, 3, "r2", "r2", 2),
        _set(20, "StatefulSetDeleted"))
    assert rollout_status_lines(plain) == [
        "$ kubectl rollout status statefulset/web    # at 00:00:00.000",
        "Waiting for statefulset spec update to be observed...",
        "statefulset rolling update complete 3 pods at revision r1...",
        "$ kubectl rollout status statefulset/web    # at 00:00:05.000",
        "Waiting for statefulset spec update to be observed...",
        "Waiting for statefulset spec update to be observed...",
        "waiting for statefulset rolling update to complete 0 pods at revision r2...",
        "statefulset rolling update complete 3 pods at revision r2..."]
    on_delete = trace_of(_set(0, "StatefulSetCreated", replicas=1, updateStrategy="OnDelete", partition=None))
    assert rollout_status_lines(on_delete)[1] == "error: rollout status is only available for RollingUpdate strategy type"
    deleted = trace_of(_set(0, "StatefulSetCreated", replicas=1, updateStrategy="RollingUpdate", partition=0),
                       _set(1, "StatefulSetDeleted"))
    assert rollout_status_lines(deleted)[-1] == "error: object has been deleted"


def test_rollout_view_of_a_real_run_ends_complete() -> None:
    result = run(statefulset("web", 2))
    lines = VIEWS.get("rollout").lines(result.trace, ViewOptions())
    assert lines[0].startswith("$ kubectl rollout status statefulset/web")
    assert lines[-1] == "partitioned roll out complete: 2 new pods have been updated..."
    assert "Waiting for 2 pods to be ready..." in lines


ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_cli_view_flags_are_checked_before_the_run() -> None:
    r = CliRunner()
    for args, message in ((["-l", "a=b"], "shapes a kubectl view"),
                          (["--view", "events", "--output-watch-events"], "is for --view pods"),
                          (["--view", "pods", "-l", "a in (b)"], "cannot read the selector requirement"),
                          (["--view", "rollout", "--statefulset", "nope"], "no such StatefulSet; the run has mysql")):
        out = r.invoke(cli, ["run", "quickstart", *args])
        assert out.exit_code == 2, out.output
        assert message in out.output


def test_cli_view_alone_on_stdout_and_json_round_trips_through_check(tmp_path: pathlib.Path) -> None:
    r = CliRunner()
    out = r.invoke(cli, ["run", "quickstart", "--view", "events"])
    assert out.exit_code == 0
    assert out.stdout.splitlines()[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert "expectations" not in out.stdout
    stream = r.invoke(cli, ["run", "quickstart", "--view", "pods", "-o", "json", "--output-watch-events"])
    assert stream.exit_code == 0
    first = json.loads(stream.stdout.splitlines()[0])
    assert first["type"] == "ADDED" and first["object"]["kind"] == "Pod"
    path = tmp_path / "watch.json"
    path.write_text(stream.stdout)
    checked = r.invoke(cli, ["check", str(path)])
    assert checked.exit_code == 0, checked.output
    assert "ordered-creation" in checked.output
    pretty = r.invoke(cli, ["run", "quickstart", "--view", "pods", "-o", "json"])
    assert pretty.stdout.startswith('{\n    "apiVersion": "v1",')


def test_show_view_of_a_saved_trace(tmp_path: pathlib.Path) -> None:
    r = CliRunner()
    trace = tmp_path / "q.jsonl"
    assert r.invoke(cli, ["run", "quickstart", "-q", "--trace", str(trace)]).exit_code == 0
    out = r.invoke(cli, ["show", str(trace), "--view", "rollout", "--statefulset", "mysql"])
    assert out.exit_code == 0
    assert out.stdout.splitlines()[0].startswith("$ kubectl rollout status statefulset/mysql")
    needs = r.invoke(cli, ["show", str(trace), "--view", "pods", "-o", "json"])
    assert needs.exit_code == 2 and "give --scenario FILE" in needs.output
    json_out = r.invoke(cli, ["show", str(trace), "--view", "pods", "-o", "json", "--scenario", "quickstart"])
    assert json_out.exit_code == 0 and json_out.stdout.startswith("{")


# -- golden files: the quick start as kubectl would have shown it ------------------------------

GOLDEN_VIEWS = ROOT / "tests" / "golden"


@pytest.mark.parametrize("view", ["pods", "events", "rollout"])
def test_quickstart_views_golden(view: str) -> None:
    """``run quickstart --view pods|events|rollout``, byte for byte.  A deliberate change
    regenerates with ``STATEFULSIM_REGEN_GOLDEN=1`` (as the golden traces do)."""
    import os

    out = CliRunner().invoke(cli, ["run", "quickstart", "--view", view])
    assert out.exit_code == 0, out.output
    path = GOLDEN_VIEWS / f"quickstart_view_{view}.txt"
    if os.environ.get("STATEFULSIM_REGEN_GOLDEN") == "1":
        path.write_text(out.stdout, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == out.stdout, f"{path.name} changed; see this test's docstring"


def test_quickstart_pods_view_tells_the_kubectl_story() -> None:
    """What a learner compares with the tutorial: per pod Pending, Init:0/1, PodInitializing,
    Running 0/1, Running 1/1 in order, and on the scale down Terminating then Completed."""
    rows = list(pod_watch_rows(run_quickstart().trace))
    for pod in ("mysql-0", "mysql-1", "mysql-2"):
        statuses = [(r.ready, r.status) for r in rows if r.name == pod]
        up = [s for s in statuses if s[1] != "Terminating" and s[1] != "Completed"]
        assert up == [("0/1", "Pending"), ("0/1", "Init:0/1"), ("0/1", "PodInitializing"), ("0/1", "Running"),
                      ("1/1", "Running")], (pod, statuses)
        assert statuses[-1] == ("0/1", "Completed") and ("1/1", "Terminating") in statuses
    assert [r.event for r in rows if r.name == "mysql-0"][-1] == "DELETED"


def run_quickstart() -> Any:
    from statefulsim.runner import run as run_scenario

    return run_scenario("quickstart")
