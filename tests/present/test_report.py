"""Tests for statefulsim.present.report: timeline and tables, from a run and from a trace file.

The golden file ``tests/golden/quickstart_timeline.txt`` is rewritten (instead of compared)
when the environment variable ``STATEFULSIM_REGEN_GOLDEN=1`` is set.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, Iterable

import pytest
from rich.console import Console, RenderableType

from statefulsim.analysis.expect import ExpectationResult
from statefulsim.io.trace_io import read_jsonl, write_jsonl
from statefulsim.present.report import (
    expectations_table,
    pod_lives,
    render_run,
    render_trace,
    set_summaries,
    statefulset_table,
    summary_table,
    timeline,
)
from statefulsim.runner import RunResult, run
from statefulsim.sim.trace import Trace

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "quickstart_timeline.txt"


@pytest.fixture(scope="module")
def quickstart() -> RunResult:
    return run(QUICKSTART)


def plain_console(width: int = 120) -> Console:
    return Console(record=True, width=width, force_terminal=False, color_system=None)


def text_of(*renderables: RenderableType, width: int = 120) -> str:
    console = plain_console(width)
    for r in renderables:
        console.print(r)
    return strip_lines(console.export_text())


def strip_lines(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def make_trace(*records: tuple[float, str, dict[str, Any]]) -> Trace:
    trace = Trace()
    for t, event, fields in records:
        trace.append(t, event, fields)
    return trace


def lines_with(text: str, word: str) -> list[str]:
    return [line for line in text.splitlines() if word in line]


def timeline_objects(text: str, event: str) -> list[str]:
    """The object column of the timeline lines of ``event``."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3}", parts[0]) and parts[1] == event:
            out.append(parts[2])
    return out


# ---------------------------------------------------------------- golden


def test_quickstart_timeline_golden(quickstart: RunResult) -> None:
    actual = text_of(timeline(quickstart), width=120)
    if os.environ.get("STATEFULSIM_REGEN_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(actual, encoding="utf-8")
        return
    assert GOLDEN.exists(), f"{GOLDEN} is missing; run with STATEFULSIM_REGEN_GOLDEN=1 to create it"
    expected = GOLDEN.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                            str(GOLDEN), "rendered timeline"))
        pytest.fail("the quickstart timeline changed (if intended, rerun with STATEFULSIM_REGEN_GOLDEN=1):\n"
                    + diff, pytrace=False)


# ---------------------------------------------------------------- the quickstart report


def test_quickstart_report_has_pods_in_order_and_tables(quickstart: RunResult) -> None:
    console = plain_console(100)
    render_run(quickstart, console)
    text = console.export_text()
    assert "Traceback" not in text
    assert timeline_objects(text, "PodCreated") == ["mysql-0", "mysql-1", "mysql-2"]
    assert timeline_objects(text, "PodReady") == ["mysql-0", "mysql-1", "mysql-2"]
    assert timeline_objects(text, "PodDeleted") == ["mysql-2", "mysql-1", "mysql-0"]
    assert "scale mysql to 0" in text
    assert "controller waits: PredecessorNotReady on mysql-0" in text
    for title in ("Timeline", "Pods", "StatefulSets", "Claims", "Expectations (9 of 9 held)", "In short"):
        assert title in text
    pods_section = text[text.index("Pods ("):text.index("StatefulSets")]
    rows = [line.split()[0] for line in pods_section.splitlines()[2:] if line.strip()]
    assert rows == ["mysql-0", "mysql-1", "mysql-2"]
    assert quickstart.scenario.notices and "is loaded but not simulated" in " ".join(text.split())
    assert all(len(line) <= 100 for line in text.splitlines())


def test_quickstart_report_fits_100_columns_without_squeezing(quickstart: RunResult) -> None:
    text = text_of(summary_table(quickstart), statefulset_table(quickstart), width=100)
    assert "…" not in text
    header = lines_with(text, "time to ready")[0].split()
    assert header[:6] == ["pod", "uid", "node", "created", "scheduled", "running"]


def test_ready_line_says_how_long_after_creation(quickstart: RunResult) -> None:
    text = text_of(timeline(quickstart))
    created = quickstart.trace.first("PodCreated", pod="mysql-1")
    ready = quickstart.trace.first("PodReady", pod="mysql-1")
    assert created is not None and ready is not None
    line = [ln for ln in lines_with(text, "PodReady") if "mysql-1" in ln][0]
    assert f"ready ({ready.t - created.t:.1f}s after creation)" in line


def test_summary_table_row_per_incarnation(quickstart: RunResult) -> None:
    lives = pod_lives(quickstart)
    assert [p.pod for p in lives] == ["mysql-0", "mysql-1", "mysql-2"]
    for life in lives:
        assert life.created is not None and life.ready is not None and life.deleted is not None
        assert life.created <= life.scheduled <= life.running <= life.ready  # type: ignore[operator]
        assert life.node is not None
    text = text_of(summary_table(quickstart))
    for life in lives:
        assert (life.uid or "")[:8] in text


def test_statefulset_table_at_end_of_quickstart(quickstart: RunResult) -> None:
    (s,) = set_summaries(quickstart)
    assert s.name == "mysql" and s.desired == 0 and s.policy == "OrderedReady"
    assert s.status is not None and s.status["readyReplicas"] == 0
    first_all_ready = next(r for r in quickstart.trace.of("StatefulSetStatus") if r.get("readyReplicas") == 3)
    assert s.all_ready_at == first_all_ready.t
    assert s.waiting_reason is None
    text = text_of(statefulset_table(quickstart))
    assert "idle" in text


def test_report_of_a_trace_read_back_is_the_same(quickstart: RunResult, tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    write_jsonl(quickstart.trace, path)
    back = read_jsonl(path)
    for make in (timeline, summary_table, statefulset_table):
        assert text_of(make(back)) == text_of(make(quickstart))
    console = plain_console()
    render_trace(back, console, title="q.jsonl")
    assert "Timeline" in console.export_text()


def test_expectations_table_marks(quickstart: RunResult) -> None:
    text = text_of(expectations_table(quickstart))
    assert text.count("✔") == 9 and "✘" not in text
    text = text_of(expectations_table([ExpectationResult(True, "a holds", "fine"),
                                       ExpectationResult(False, "b holds", "never reached")]))
    assert "Expectations (1 of 2 held)" in text
    assert "✘" in lines_with(text, "b holds")[0] and "never reached" in text


# ---------------------------------------------------------------- small hand-made traces


def waiting_trace(resumed: bool) -> Trace:
    records: list[tuple[float, str, dict[str, Any]]] = [
        (0.0, "StatefulSetCreated", {"statefulset": "mysql", "replicas": 3, "podManagementPolicy": "OrderedReady"}),
        (1.0, "ControllerWaiting", {"statefulset": "mysql", "reason": "PredecessorNotReady", "pod": "mysql-2"}),
    ]
    if resumed:
        records.append((5.0, "ControllerResumed", {"statefulset": "mysql"}))
    return make_trace(*records)


def test_statefulset_table_shows_what_the_controller_waits_for() -> None:
    text = text_of(statefulset_table(waiting_trace(False)))
    assert "waiting: PredecessorNotReady on mysql-2" in text
    assert "never" in text  # never all ready
    text = text_of(statefulset_table(waiting_trace(True)))
    assert "waiting" not in text and "idle" in text


def test_live_waiting_state_overrides_the_trace() -> None:
    class W:
        reason, pod = "PodTerminating", "mysql-0"

    (s,) = set_summaries(waiting_trace(True), waiting={"mysql": W()})
    assert (s.waiting_reason, s.waiting_pod) == ("PodTerminating", "mysql-0")
    (s,) = set_summaries(waiting_trace(False), waiting={"mysql": None})
    assert s.waiting_reason is None


def status(t: float, ready: int) -> tuple[float, str, dict[str, Any]]:
    return (t, "StatefulSetStatus", {"statefulset": "web", "replicas": 2, "readyReplicas": ready,
                                     "availableReplicas": ready})


def test_status_lines_only_when_ready_replicas_change() -> None:
    trace = make_trace(
        (0.0, "StatefulSetCreated", {"statefulset": "web", "replicas": 2, "podManagementPolicy": "Parallel"}),
        status(1.0, 0), status(2.0, 1), status(3.0, 1), status(4.0, 2), status(5.0, 2),
    )
    text = text_of(timeline(trace))
    assert len(lines_with(text, "StatefulSetStatus")) == 2
    assert "ready replicas 0 → 1 (desired 2, available 1)" in text
    assert "ready replicas 1 → 2" in text
    every = text_of(timeline(trace, events={"StatefulSetStatus"}))
    assert len(lines_with(every, "StatefulSetStatus")) == 5
    assert "StatefulSetCreated" not in every
    (s,) = set_summaries(trace)
    assert s.all_ready_at == 4.0 and s.all_ready_after == 4.0


def pod_records(uid: str, start: float, *, fail: bool = False) -> Iterable[tuple[float, str, dict[str, Any]]]:
    base = {"pod": "web-0", "uid": uid}
    yield start, "PodCreated", {**base, "ordinal": 0, "statefulset": "web", "revision": "web-1"}
    yield start + 0.5, "PodScheduled", {**base, "node": "node-1"}
    yield start + 3.0, "PodRunning", {**base, "node": "node-1"}
    if fail:
        yield start + 4.0, "ContainerRestarted", {**base, "container": "app", "restartCount": 1}
        yield start + 6.0, "ContainerRestarted", {**base, "container": "app", "restartCount": 2}
        yield start + 7.0, "PodFailed", {**base, "reason": "Evicted"}
        yield start + 8.0, "PodTerminating", {**base, "gracePeriodSeconds": 30}
        yield start + 9.5, "PodDeleted", base
    else:
        yield start + 5.25, "PodReady", base


def test_recreated_pod_has_two_incarnations_and_descriptions() -> None:
    trace = make_trace(*pod_records("aaaaaaaa-1111", 0.0, fail=True), *pod_records("bbbbbbbb-2222", 10.0))
    lives = pod_lives(trace)
    assert [(p.uid, p.restart_count, p.time_to_ready) for p in lives] == [
        ("aaaaaaaa-1111", 2, None), ("bbbbbbbb-2222", 0, 5.25)]
    text = text_of(timeline(trace))
    assert "scheduled on node-1 (500ms after creation)" in text
    assert "container app restarted (restart #2)" in text
    assert "failed: Evicted" in text
    assert "terminating (grace period 30s)" in text
    assert "deleted (1.5s after termination began)" in text
    assert "recreated (revision web-1)" in text
    assert "ready (5.2s after creation)" in text
    table = text_of(summary_table(trace))
    assert "aaaaaaaa" in table and "bbbbbbbb" in table and "aaaaaaaa-" not in table


def test_actions_are_described() -> None:
    trace = make_trace(
        (1.0, "Action", {"action": "scale", "statefulset": "web", "replicas": 5}),
        (2.0, "Action", {"action": "deletePod", "pod": "web-1", "gracePeriodSeconds": 0.0, "force": True}),
        (3.0, "Action", {"action": "patch", "statefulset": "web", "patch": {"minReadySeconds": 10}}),
        (4.0, "ActionFailed", {"action": "scale", "error": 'statefulsets.apps "db" not found'}),
        (5.0, "Action", {"action": "someNewVerb", "pod": "web-2", "level": 3}),
        (6.0, "Action", {"action": "deletePod", "pod": "web-3", "gracePeriodSeconds": "inf"}),
    )
    text = text_of(timeline(trace))
    assert "scale web to 5" in text
    assert "delete pod web-1 (grace period 0s, force)" in text
    assert "patch web: {minReadySeconds: 10}" in text
    assert 'scale failed: statefulsets.apps "db" not found' in text
    assert "someNewVerb" in text and "level: 3" in text
    assert "delete pod web-3 (grace period never)" in text  # infinity as a trace file holds it


def test_empty_trace() -> None:
    console = plain_console()
    render_trace(Trace(), console, title="empty.jsonl: 0 records")
    assert "no records" in console.export_text()


def test_claim_records_make_no_pod_rows() -> None:
    # PVCCreated/PVCBound name the pod that uses the claim but carry no uid: no phantom pod life.
    trace = make_trace(
        (0.0, "PVCCreated", {"pvc": "www-web-0", "pod": "web-0", "storageClass": "standard"}),
        (0.1, "PodCreated", {"pod": "web-0", "uid": "u0", "ordinal": 0, "statefulset": "web", "revision": "r1"}),
        (1.0, "PVCBound", {"pvc": "www-web-0", "pv": "pv-1", "pod": "web-0"}),
        (2.0, "PodReady", {"pod": "web-0", "uid": "u0"}),
        (3.0, "PVCTerminating", {"pvc": "www-web-0", "pod": "web-0"}),
        (4.0, "PVCDeleted", {"pvc": "www-web-0", "pod": "web-0"}),
    )
    assert [(p.pod, p.uid) for p in pod_lives(trace)] == [("web-0", "u0")]
    assert lines_with(text_of(summary_table(trace)), "never") == []


def test_storage_retention_pods_table_has_one_row_per_incarnation() -> None:
    result = run(ROOT / "scenarios" / "storage-retention.yaml")
    lives = pod_lives(result)
    assert [p.pod for p in lives] == ["web-0", "web-0", "web-1", "web-2"]
    assert all(p.uid and p.created is not None for p in lives)
    table = text_of(summary_table(result))
    assert [line.split()[0] for line in table.splitlines() if line.startswith("web-")] == ["web-0", "web-0", "web-1", "web-2"]
