"""The kubectl importers (docs/importers.md) and ``statefulsim check``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from statefulsim.cli import cli
from statefulsim.errors import TraceFormatError
from statefulsim.io.importers import build_trace, detect_file_format, load_recording, parse_age, parse_pods_text

DATA = Path(__file__).resolve().parents[1] / "data"


def _events(trace):  # (t, event, pod or object)
    return [(r.t, r.event, r.fields.get("pod") or r.fields.get("object") or r.fields.get("statefulset"))
            for r in trace]


SCALE_UP = [
    (0.0, "StatefulSetCreated", "web"),
    (0.0, "PodCreated", "web-0"), (3.0, "PodRunning", "web-0"), (12.0, "PodReady", "web-0"),
    (12.0, "PodCreated", "web-1"), (15.0, "PodRunning", "web-1"), (23.0, "PodReady", "web-1"),
    (23.0, "PodCreated", "web-2"), (26.0, "PodRunning", "web-2"), (35.0, "PodReady", "web-2"),
]


def test_parse_age() -> None:
    assert [parse_age(a) for a in ("0s", "12s", "2m5s", "3h", "5d", "3h5m")] == [0, 12, 125, 10800, 432000, 11100]
    with pytest.raises(ValueError):
        parse_age("12x")


def test_detect_formats() -> None:
    assert detect_file_format(str(DATA / "pods-scaleup.txt")) == "pods-text"
    assert detect_file_format(str(DATA / "pods-scaleup.json")) == "pods-json"
    assert detect_file_format(str(DATA / "pods-watch-events.json")) == "pods-json"
    assert detect_file_format(str(DATA / "events.json")) == "events-json"


def test_pods_text_scale_up() -> None:
    rec = load_recording(str(DATA / "pods-scaleup.txt"))
    assert rec.approximate
    trace = build_trace([rec])
    # the text sample shows web-1 and web-2 Running at AGE 2s (the JSON sample: 3 s)
    running = {"web-1": 14.0, "web-2": 25.0}
    expected = [(running[e[2]], e[1], e[2]) if e[1] == "PodRunning" and e[2] in running else e for e in SCALE_UP]
    assert _events(trace) == expected
    created = trace.first("PodCreated", pod="web-2")
    assert created is not None and created.fields["ordinal"] == 2 and created.fields["statefulset"] == "web"
    assert trace[0].fields == {"statefulset": "web", "replicas": 3, "podManagementPolicy": "OrderedReady"}


def test_pods_text_new_incarnation_after_terminating() -> None:
    text = ("NAME    READY   STATUS        RESTARTS   AGE\n"
            "web-0   1/1     Running       0          2m\n"
            "web-0   1/1     Terminating   0          2m5s\n"
            "web-0   0/1     Terminating   0          2m10s\n"
            "web-0   0/1     Pending       0          0s\n"
            "web-0   1/1     Running       1 (3s ago)   9s\n")
    trace = build_trace([parse_pods_text(text, "x.txt", statefulset="web")])
    events = [(r.event, r.fields.get("uid")) for r in trace if r.event != "StatefulSetCreated"]
    assert events == [("PodCreated", "web-0#1"), ("PodRunning", "web-0#1"), ("PodReady", "web-0#1"),
                      ("PodFirstSeen", "web-0#1"), ("PodTerminating", "web-0#1"), ("PodNotReady", "web-0#1"),
                      ("PodDeleted", "web-0#1"),
                      ("PodCreated", "web-0#2"), ("PodRunning", "web-0#2"), ("PodReady", "web-0#2"),
                      ("ContainerRestarted", "web-0#2")]
    assert trace.first("PodDeleted").t < trace.of("PodCreated")[1].t + 1e-9


def test_pods_json_scale_up() -> None:
    trace = build_trace([load_recording(str(DATA / "pods-scaleup.json"))])
    assert _events(trace) == SCALE_UP
    created = trace.first("PodCreated", pod="web-0")
    assert created is not None and created.fields["uid"] == "6f1c2a9e-0d4b-4c51-9b0e-3a5d7c1e2f00"
    assert created.fields["revision"] == "web-6d8b7c9f5b"


def test_watch_events_and_kube_events_merge() -> None:
    trace = build_trace([load_recording(str(DATA / "pods-watch-events.json")),
                         load_recording(str(DATA / "events.json"))])
    tail = _events(trace)[-8:]
    assert tail == [(60.0, "KubeEvent", "pod/web-2"), (60.0, "PodTerminating", "web-2"),
                    (61.0, "PodNotReady", "web-2"), (61.0, "PodDeleted", "web-2"),
                    (62.0, "KubeEvent", "pod/web-1"), (62.0, "PodTerminating", "web-1"),
                    (63.0, "PodNotReady", "web-1"), (63.0, "PodDeleted", "web-1")]
    assert trace.first("PodTerminating", pod="web-2").fields["gracePeriodSeconds"] == 30
    ev = trace.first("KubeEvent")
    assert ev is not None and dict(ev.fields) == {
        "reason": "SuccessfulCreate", "object": "pod/web-0",
        "message": "create Pod web-0 in StatefulSet web successful", "component": "statefulset-controller"}
    assert trace[0].fields["replicas"] == 1  # web-0 is left at the end


def test_events_json_alone() -> None:
    rec = load_recording(str(DATA / "events.json"))
    assert [(r.t, r.fields["reason"], r.fields["object"]) for r in rec.records] == [
        (0.0, "SuccessfulCreate", "pod/web-0"), (12.0, "SuccessfulCreate", "pod/web-1"),
        (23.0, "SuccessfulCreate", "pod/web-2"), (60.0, "SuccessfulDelete", "pod/web-2"),
        (62.0, "SuccessfulDelete", "pod/web-1")]


@pytest.mark.parametrize("files", [["pods-scaleup.txt"], ["pods-scaleup.json"],
                                   ["pods-watch-events.json", "events.json"]])
def test_check_good_recordings_exit_0(files: list[str]) -> None:
    res = CliRunner().invoke(cli, ["check", *[str(DATA / f) for f in files]])
    assert res.exit_code == 0, res.output
    assert "all 3 held" in res.output
    assert "skipped convergence" in res.output
    assert ("approximate" in res.output) == files[0].endswith(".txt")


def test_check_violation_exit_1() -> None:
    res = CliRunner().invoke(cli, ["check", str(DATA / "pods-violation.txt")])
    assert res.exit_code == 1, res.output
    assert "ordered-creation" in res.output and "web-2 was created while its predecessor web-1" in res.output
    assert "times are approximate" in res.output


def test_check_parallel_policy_skips_ordering() -> None:
    res = CliRunner().invoke(cli, ["check", "--policy", "Parallel", str(DATA / "pods-violation.txt")])
    assert res.exit_code == 0, res.output


def test_check_ordered_termination_from_events(tmp_path: Path) -> None:
    swapped = (DATA / "events.json").read_text().replace("delete Pod web-2", "delete Pod web-X") \
        .replace("delete Pod web-1", "delete Pod web-2").replace("delete Pod web-X", "delete Pod web-1") \
        .replace('"SuccessfulDelete"', '"SuccessfulDelete"')
    pods = (DATA / "pods-watch-events.json").read_text()
    (tmp_path / "e.json").write_text(swapped)
    (tmp_path / "p.json").write_text(pods)
    res = CliRunner().invoke(cli, ["check", str(tmp_path / "p.json"), str(tmp_path / "e.json")])
    assert res.exit_code == 1, res.output
    assert "ordered-termination" in res.output


def test_check_reports_stuck_pod(tmp_path: Path) -> None:
    text = ("NAME    READY   STATUS    RESTARTS   AGE\n"
            "web-0   1/1     Running   0          40s\n"
            "web-1   0/1     Running   0          20s\n")
    (tmp_path / "w.txt").write_text(text)
    res = CliRunner().invoke(cli, ["check", str(tmp_path / "w.txt")])
    assert res.exit_code == 0, res.output
    assert "waits for web-1" in res.output and "Running but not Ready" in res.output


@pytest.mark.parametrize("content,fmt,where", [
    ("NAME READY STATUS RESTARTS AGE\nweb-0 1/1 Running zero 3s\n", "auto", ":2:"),
    ("web-0 1/1 Running 0 3s\n", "pods-text", ":1:"),
    ('{"kind": "Pod",\n "metadata": {"name": "web-0"}}\n', "pods-json", ":1:"),
    ('{"apiVersion": "v1",\n  "items": [\n', "events-json", ":3:"),
    ("hello\n", "auto", ":1:"),
])
def test_check_garbage_exit_2(tmp_path: Path, content: str, fmt: str, where: str) -> None:
    path = tmp_path / "bad"
    path.write_text(content)
    res = CliRunner().invoke(cli, ["check", "--format", fmt, str(path)])
    assert res.exit_code == 2, res.output
    assert f"{path}{where}" in res.output


def test_parse_errors_are_trace_format_errors() -> None:
    with pytest.raises(TraceFormatError, match=r"x.txt:1:"):
        parse_pods_text("oops\n", "x.txt")


# ------------------------------------------------------------------------------ recordings that start late


@pytest.mark.parametrize("name,unjudged", [
    # The StatefulSet Basics tutorial (kubernetes/website, basic-stateful-set.md), "Rolling out a
    # canary": the watch starts while web-1 is being replaced (partition 2), web-1 first seen Terminating.
    ("pods-tutorial-canary.txt", ["web-1 was created before the recording shows web-0 (first seen at 00:06:00.000)",
                                  "web-2 was created before the recording shows web-0 (first seen at 00:06:00.000) "
                                  "and web-1 (first seen at 00:06:00.000)"]),
    # "Phased roll outs" (partition 0): web-1 is 11 s old, web-2 2 minutes, when the watch starts.
    ("pods-tutorial-phased.txt", ["web-2 was created before the recording shows web-0 (first seen at 00:03:00.000) "
                                  "and web-1 (no pod of web is seen before 00:03:00.000)",
                                  "web-1 was created before the recording shows web-0 (first seen at 00:03:00.000)"]),
])
def test_check_a_recording_that_starts_late(name: str, unjudged: list[str]) -> None:
    res = CliRunner().invoke(cli, ["check", str(DATA / name)])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "all 3 held" in text
    assert "3 pods already existed when first seen (web-0, web-1, web-2)" in text
    for gap in unjudged:
        assert f"ordered-creation: {gap}: whether" in text
    trace = build_trace([load_recording(str(DATA / name))])
    assert {r.fields["pod"] for r in trace.of("PodFirstSeen")} == {"web-0", "web-1", "web-2"}


def test_a_late_recording_still_reports_what_its_rows_show(tmp_path: Path) -> None:
    # After the canary recording's start, web-2 is replaced while web-1 is still Pending.
    text = (DATA / "pods-tutorial-canary.txt").read_text().replace(
        "web-1     0/1       ContainerCreating   0         0s\n",
        "web-1     0/1       ContainerCreating   0         0s\n"
        "web-2     1/1       Terminating   0         2m\n"
        "web-2     0/1       Pending   0         0s\n")
    (tmp_path / "w.txt").write_text(text)
    res = CliRunner().invoke(cli, ["check", str(tmp_path / "w.txt")])
    assert res.exit_code == 1, res.output
    assert "web-2 was created while its predecessor web-1 was Pending" in " ".join(res.output.split())


def test_pods_json_first_seen_mid_life(tmp_path: Path) -> None:
    # Drop web-0's first three objects: the watch starts when web-0 is Ready (09:30:12).
    text = (DATA / "pods-scaleup.json").read_text()
    starts = [i for i in range(len(text)) if text.startswith("{\n", i) and (i == 0 or text[i - 1] == "\n")]
    (tmp_path / "p.json").write_text(text[starts[3]:])
    trace = build_trace([load_recording(str(tmp_path / "p.json"))])
    [seen] = trace.of("PodFirstSeen")
    assert seen.fields["pod"] == "web-0" and seen.t == 12.0  # its Ready condition's lastTransitionTime
    assert trace.first("PodCreated", pod="web-0").t == 0.0
    res = CliRunner().invoke(cli, ["check", str(tmp_path / "p.json")])
    assert res.exit_code == 0 and "note: not judged" not in res.output, res.output  # web-1 comes after 12 s
    assert trace.first("PodFirstSeen", pod="web-1") is None  # seen from its creation


# ------------------------------------------------------------------------------ pasted terminal output


def test_check_pasted_terminal_output() -> None:
    # Prompts ($, %), a ^C, a `kubectl get sts` table, blank lines, two runs each with a header,
    # other workloads' pods and a cut-off last row.
    res = CliRunner().invoke(cli, ["check", str(DATA / "pods-pasted.txt")])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert ("skipped 7 lines that are not `kubectl get pods` rows (prompts, other output, a cut-off row): "
            "line 1 '$ kubectl get pods -w', 7 '^C', 8 '$ kubectl get sts web', 9 'NAME READY AGE', "
            "10 'web 1/3 41s', 11 '% k get po -w', 22 'web-2 0/1 Runn' (cut off?)") in text
    assert "2 pods of other workloads, not judged" in text
    assert "coredns-5d78c9869d-24567, nginx-deployment-66b6c48dd5-4jw2h" in text
    assert "all 3 held" in text
    trace = build_trace([load_recording(str(DATA / "pods-pasted.txt"))])
    assert [r.fields["statefulset"] for r in trace.of("StatefulSetCreated")] == ["web"]
    assert [(r.fields["pod"], r.fields["statefulset"]) for r in trace.of("PodCreated")] == [
        ("nginx-deployment-66b6c48dd5-4jw2h", None), ("coredns-5d78c9869d-24567", None),
        ("web-0", "web"), ("web-1", "web"), ("web-2", "web")]
    # Both runs show the same web-0: one incarnation, Ready once.
    assert len(trace.of("PodReady", pod="web-0")) == 1


def test_pasted_output_still_shows_a_violation(tmp_path: Path) -> None:
    text = "user@host:~$ kubectl get pods -l app=nginx -w\n\n" + (DATA / "pods-violation.txt").read_text() + "^C\n$ \n"
    (tmp_path / "w.txt").write_text(text)
    res = CliRunner().invoke(cli, ["check", str(tmp_path / "w.txt")])
    assert res.exit_code == 1, res.output
    assert "web-2 was created while its predecessor web-1" in res.output


@pytest.mark.parametrize("content,fmt,where,says", [
    ("$ kubectl get pods -w\nNo resources found in default namespace.\n", "pods-text", ":1:", "expected the header"),
    ("$ kubectl get sts\nNAME   READY   AGE\nweb    3/3     10m\n", "auto", ":2:", "needs the columns"),
    ("$ k get po\nNAME READY STATUS RESTARTS AGE\n$ \n", "auto", ":3:", "no line of the file is a pod row"),
    ("NAME READY STATUS RESTARTS AGE\n", "auto", ":1:", "no pod row after the header"),
])
def test_pasted_output_with_no_pod_row_exit_2(tmp_path: Path, content: str, fmt: str, where: str, says: str) -> None:
    path = tmp_path / "p.txt"
    path.write_text(content)
    res = CliRunner().invoke(cli, ["check", "--format", fmt, str(path)])
    assert res.exit_code == 2, res.output
    assert f"error: {path}{where}" in res.output and says in res.output


def test_other_workloads_pods_are_not_statefulset_pods() -> None:
    from statefulsim.io.importers import _guess_set

    assert _guess_set("web-12", None) == "web"
    assert _guess_set("coredns-5d78c9869d-24567", None) is None  # a generated suffix, not an ordinal
    assert _guess_set("app-01", None) is None  # ordinals have no leading zero
    assert _guess_set("db-24567", "db") == "db"  # --statefulset names it: an ordinal after all
    assert _guess_set("web-0", "db") is None


def test_pods_json_of_another_controller_are_not_statefulset_pods(tmp_path: Path) -> None:
    text = (DATA / "pods-scaleup.json").read_text().replace('"kind": "StatefulSet"', '"kind": "ReplicaSet"')
    (tmp_path / "p.json").write_text(text)
    rec = load_recording(str(tmp_path / "p.json"))
    assert {r.fields["statefulset"] for r in rec.records if r.event == "PodCreated"} == {None}
    assert any("3 pods of other workloads, not judged" in n for n in rec.notes)


def test_a_pod_replaced_unseen_between_two_runs() -> None:
    text = ("$ kubectl get pods\n"
            "NAME    READY   STATUS    RESTARTS   AGE\n"
            "web-0   1/1     Running   0          10m\n"
            "web-1   1/1     Running   0          10m\n"
            "$ kubectl delete pod web-1\n"
            'pod "web-1" deleted\n'
            "$ kubectl get pods -w\n"
            "NAME    READY   STATUS              RESTARTS   AGE\n"
            "web-0   1/1     Running             0          11m\n"
            "web-1   0/1     ContainerCreating   0          3s\n"
            "web-1   1/1     Running             0          9s\n")
    rec = parse_pods_text(text, "x.txt")
    trace = build_trace([rec])
    # The first run's web-1 is gone by the time the new one (3 s old at line 10) was created.
    assert [(r.t, r.event, r.fields["uid"]) for r in trace if r.fields.get("pod") == "web-1"][4:] == [
        (657.0, "PodDeleted", "web-1#1"), (657.0, "PodCreated", "web-1#2"), (660.0, "PodFirstSeen", "web-1#2"),
        (666.0, "PodRunning", "web-1#2"), (666.0, "PodReady", "web-1#2")]
    assert any("replaced unseen" in n and "web-1 (line 10)" in n for n in rec.notes)
    from statefulsim.analysis.invariants import check
    from statefulsim.io.importers import SUPPORTED

    assert check(trace, SUPPORTED) == []  # in particular no two live web-1 (at-most-one-identity)
