"""Plots (statefulsim.present.plots, ``run --plot``, ``statefulsim plot``): written for every bundled
scenario and non-trivial, SVG and PDF work, the CLI maps bad input to exit 2, and the numbers
behind the pictures (state spans, DNS spans, time below quorum) are right on hand-made traces."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result
from matplotlib.figure import Figure
from matplotlib.image import imread

from statefulsim.cli import cli
from statefulsim.durations import format_duration
from statefulsim.errors import TraceFormatError
from statefulsim.io.scenario import load_scenario
from statefulsim.io.trace_io import write_jsonl
from statefulsim.present import plots
from statefulsim.present.plots import (
    STATE_COLORS,
    PlotError,
    action_marks,
    below_quorum,
    plot_run,
    pod_rows,
    replica_steps,
    replicas_figure,
    run_figure,
    save,
    time_below,
    timeline_figure,
)
from statefulsim.runner import run
from statefulsim.sim.trace import Trace

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"
DPI = 40  # small images keep the suite fast; layout is in inches, so nothing else changes


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def trace_of(*records: tuple[float, str, dict[str, Any]]) -> Trace:
    trace = Trace()
    for t, event, fields in records:
        trace.append(t, event, fields)
    return trace


def assert_nontrivial_png(path: Path, min_bytes: int = 10_000) -> np.ndarray:
    assert path.stat().st_size > min_bytes, f"{path} is only {path.stat().st_size} bytes"
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 300
    rgb = image[..., :3]
    assert float(rgb.var()) > 0.01, "the image is (almost) a single colour"
    q = np.round(rgb * 255).astype(np.uint32)
    assert len(np.unique((q[..., 0] << 16) | (q[..., 1] << 8) | q[..., 2])) > 20, "hardly any colours"
    return rgb


def has_colour(rgb: np.ndarray, hex_colour: str, min_pixels: int = 20) -> bool:
    target = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    close = np.all(np.abs(rgb - target) < 0.02, axis=-1)
    return int(close.sum()) >= min_pixels


# ---------------------------------------------------------------- every scenario


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_a_plot_is_written_for_every_scenario(path: Path, tmp_path: Path) -> None:
    result = run(load_scenario(path))
    out = tmp_path / f"{path.stem}.png"
    fig = plot_run(result, out, quorum=2, dpi=DPI)
    assert isinstance(fig, Figure)
    rgb = assert_nontrivial_png(out)
    # the run's Ready pods show up as Ready-green bars
    if result.trace.first("PodReady") is not None:
        assert has_colour(rgb, STATE_COLORS["Ready"])
    if result.trace.first("PodTerminating") is not None and path.stem == "node-failure":
        assert has_colour(rgb, STATE_COLORS["Terminating"])


def test_there_are_scenarios_to_plot() -> None:
    assert len(SCENARIOS) >= 8


# ---------------------------------------------------------------- formats and files


@pytest.fixture(scope="module")
def rollout() -> Any:
    return run(load_scenario(ROOT / "scenarios" / "rolling-update-rollback.yaml"))


def test_svg_and_pdf(rollout: Any, tmp_path: Path) -> None:
    svg, again = tmp_path / "run.svg", tmp_path / "again.svg"
    plot_run(rollout, svg, quorum=3)
    assert ET.parse(svg).getroot().tag.endswith("svg")
    assert svg.stat().st_size > 10_000
    plot_run(rollout, again, quorum=3)
    assert again.read_bytes() == svg.read_bytes()  # no date, no random ids: same run, same bytes
    pdf = tmp_path / "run.pdf"
    plot_run(rollout, pdf)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5_000


def test_unknown_suffix_and_unwritable_path(tmp_path: Path) -> None:
    fig = Figure()
    with pytest.raises(PlotError, match=r"\.gif.*\.png, \.svg, \.pdf"):
        save(fig, tmp_path / "x.gif")
    with pytest.raises(PlotError, match="no suffix"):
        save(fig, tmp_path / "x")
    with pytest.raises(PlotError, match="cannot write the plot"):
        save(fig, tmp_path / "missing-dir" / "x.png")


def test_separate_figures(rollout: Any, tmp_path: Path) -> None:
    tl = timeline_figure(rollout, title="rollout", quorum=3)
    rep = replicas_figure(rollout, statefulset="web", quorum=3)
    assert isinstance(tl, Figure) and isinstance(rep, Figure)
    assert tl.texts[0].get_text() == "rollout"
    legend = [t.get_text() for ax in rep.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    total = format_duration(time_below(rollout, "web", 3, rollout.until))
    assert f"ready < 3: {total} in total" in legend
    save(tl, tmp_path / "tl.png", dpi=DPI)
    save(rep, tmp_path / "rep.png", dpi=DPI)
    assert_nontrivial_png(tmp_path / "tl.png", 5_000)
    assert_nontrivial_png(tmp_path / "rep.png", 5_000)


def test_empty_trace_still_draws(tmp_path: Path) -> None:
    for fig in (timeline_figure(Trace()), replicas_figure(Trace()), run_figure(Trace())):
        save(fig, tmp_path / "empty.png", dpi=DPI)
        assert (tmp_path / "empty.png").stat().st_size > 1_000


def test_no_pyplot_and_no_display_needed(tmp_path: Path) -> None:
    """The module draws on the Agg canvas itself: a GUI backend in MPLBACKEND does not matter and
    pyplot (global figure state) is never imported."""
    code = (
        "import sys\n"
        "from statefulsim.runner import run\n"
        "from statefulsim.present.plots import plot_run\n"
        f"plot_run(run({str(QUICKSTART)!r}), {str(tmp_path / 'q.png')!r}, dpi=30)\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    env = {**os.environ, "MPLBACKEND": "TkAgg", "DISPLAY": ""}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "q.png").stat().st_size > 5_000


# ---------------------------------------------------------------- command line


def test_run_with_plot(tmp_path: Path) -> None:
    out = tmp_path / "q.png"
    result = invoke("run", QUICKSTART, "--plot", out, "--quorum", "2", "--no-timeline")
    assert result.exit_code == 0, result.output
    assert f"plot: written to {out}" in result.output
    assert_nontrivial_png(out)


def test_run_plot_bad_input(tmp_path: Path) -> None:
    bad = invoke("run", QUICKSTART, "--plot", tmp_path / "q.gif")
    assert bad.exit_code == 2
    assert 'error: ' in bad.output and '".gif"' in bad.output
    assert "Timeline" not in bad.output  # refused before running
    # --quorum also counts the time below quorum in the report, so it no longer needs --plot
    alone = invoke("run", QUICKSTART, "--quorum", "3", "--no-timeline")
    assert alone.exit_code == 0 and "(<3)" in alone.output
    assert invoke("run", QUICKSTART, "--plot", tmp_path / "q.png", "--quorum", "0").exit_code == 2


def test_plot_command(tmp_path: Path) -> None:
    trace_file = tmp_path / "run.jsonl"
    write_jsonl(run(load_scenario(QUICKSTART)).trace, trace_file)
    result = invoke("plot", trace_file, "--quorum", "3")
    assert result.exit_code == 0, result.output
    default = tmp_path / "run.png"
    assert result.output.strip() == f"plot: written to {default}"
    assert_nontrivial_png(default)
    svg = tmp_path / "out.svg"
    assert invoke("plot", trace_file, "-o", svg).exit_code == 0
    assert ET.parse(svg).getroot().tag.endswith("svg")


def test_plot_command_bad_input(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("this is not a trace\n")
    result = invoke("plot", garbage)
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {garbage}:1: not valid JSON")
    assert not (tmp_path / "garbage.png").exists()
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(bytes(range(256)))
    assert invoke("plot", binary).exit_code == 2
    missing = invoke("plot", tmp_path / "missing.jsonl")
    assert missing.exit_code == 2 and "cannot read trace file" in missing.output
    good = tmp_path / "good.jsonl"
    good.write_text('{"t":0,"event":"StatefulSetCreated","statefulset":"web","replicas":1}\n')
    unknown = invoke("plot", good, "-o", tmp_path / "x.jpg")
    assert unknown.exit_code == 2 and '".jpg"' in unknown.output
    odd_name = tmp_path / "trace.png"  # the default output would be the trace itself
    odd_name.write_text(good.read_text())
    overwrite = invoke("plot", odd_name)
    assert overwrite.exit_code == 2 and "would overwrite the trace" in overwrite.output
    assert odd_name.read_text() == good.read_text()
    with pytest.raises(TraceFormatError):
        plots.plot_trace_file(garbage)


# ---------------------------------------------------------------- time below quorum


def quorum_trace() -> Trace:
    return trace_of(
        (0.0, "StatefulSetCreated", {"statefulset": "web", "replicas": 3, "podManagementPolicy": "OrderedReady"}),
        (0.0, "StatefulSetCreated", {"statefulset": "other", "replicas": 1, "podManagementPolicy": "Parallel"}),
        (10.0, "StatefulSetStatus", {"statefulset": "web", "replicas": 1, "readyReplicas": 1, "availableReplicas": 1}),
        (20.0, "StatefulSetStatus", {"statefulset": "web", "replicas": 3, "readyReplicas": 3, "availableReplicas": 2}),
        (30.0, "StatefulSetStatus", {"statefulset": "other", "replicas": 1, "readyReplicas": 0}),
        (50.0, "StatefulSetStatus", {"statefulset": "web", "replicas": 3, "readyReplicas": 2, "availableReplicas": 2}),
        (60.0, "StatefulSetStatus", {"statefulset": "web", "replicas": 3, "readyReplicas": 3, "availableReplicas": 3}),
        (70.0, "StatefulSetUpdated", {"statefulset": "web", "generation": 2, "replicas": 4}),
        (100.0, "StatefulSetDeleted", {"statefulset": "web"}),
        (120.0, "StatefulSetCreated", {"statefulset": "web", "replicas": 3, "podManagementPolicy": "OrderedReady"}),
        (130.0, "StatefulSetStatus", {"statefulset": "web", "replicas": 3, "readyReplicas": 3, "availableReplicas": 3}),
        (150.0, "Action", {"action": "scale", "statefulset": "other", "replicas": 1}),
    )


def test_time_below_quorum_on_a_hand_made_trace() -> None:
    trace = quorum_trace()
    # ready: 0 [0,10), 1 [10,20), 3 [20,50), 2 [50,60), 3 [60,100), gone [100,120), 0 [120,130), 3 [130,150]
    assert below_quorum(trace, "web", 3) == [(0.0, 20.0), (50.0, 60.0), (120.0, 130.0)]
    assert time_below(trace, "web", 3) == pytest.approx(40.0)
    assert time_below(trace, "web", 2) == pytest.approx(20.0 + 10.0)  # ready 2 is not below 2
    assert time_below(trace, "web", 4) == pytest.approx(150.0 - 20.0)  # never 4, and not while deleted
    assert time_below(trace, "web", 1) == pytest.approx(10.0 + 10.0)
    assert time_below(trace, "web", 3, until=55.0) == pytest.approx(25.0)
    assert time_below(trace, "web", 3, until=200.0) == pytest.approx(40.0)
    assert time_below(trace, "other", 1) == pytest.approx(150.0)  # never ready: 0 from creation on
    assert time_below(trace, "missing", 1) == 0.0


def test_replica_steps_on_a_hand_made_trace() -> None:
    steps = replica_steps(quorum_trace(), "web")
    assert steps.t == [0.0, 10.0, 20.0, 50.0, 60.0, 70.0, 100.0, 120.0, 130.0]
    assert steps.desired == [3, 3, 3, 3, 3, 4, None, 3, 3]
    assert steps.ready == [0, 1, 3, 2, 3, 3, None, 0, 3]
    assert steps.available == [0, 1, 2, 2, 3, 3, None, 0, 3]
    assert steps.end == 150.0


def test_quorum_total_in_the_legend_of_a_hand_made_trace() -> None:
    fig = replicas_figure(quorum_trace(), statefulset="web", quorum=3)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "ready < 3: 40.0s in total" in legend


# ---------------------------------------------------------------- the Gantt chart's data


def pod(t: float, event: str, name: str, uid: str, **fields: Any) -> tuple[float, str, dict[str, Any]]:
    return (t, event, {"pod": name, "uid": uid, **fields})


def gantt_trace() -> Trace:
    return trace_of(
        pod(0.0, "PodCreated", "web-0", "a", ordinal=0, statefulset="web", revision="web-aaa"),
        pod(0.0, "PodCreated", "web-10", "x", ordinal=10, statefulset="web", revision="web-aaa"),
        pod(1.0, "PodScheduled", "web-0", "a", node="n1"),
        pod(5.0, "PodRunning", "web-0", "a", node="n1"),
        pod(8.0, "PodReady", "web-0", "a"),
        (8.5, "EndpointSliceUpdated", {"service": "web", "ready": ["web-0"], "notReady": [], "terminating": []}),
        pod(9.0, "ContainerRestarted", "web-0", "a", container="app", restartCount=1),
        pod(10.0, "PodNotReady", "web-0", "a"),
        pod(12.0, "PodReady", "web-0", "a"),
        (20.0, "Action", {"action": "setImage", "statefulset": "web", "container": "app", "image": "r.io/nginx:2"}),
        pod(21.0, "PodTerminating", "web-0", "a", gracePeriodSeconds=30),
        pod(22.0, "PodNotReady", "web-0", "a"),
        (22.0, "EndpointSliceUpdated", {"service": "web", "ready": [], "notReady": [], "terminating": ["web-0"]}),
        pod(25.0, "PodDeleted", "web-0", "a"),
        pod(26.0, "PodCreated", "web-0", "b", ordinal=0, statefulset="web", revision="web-bbb"),
        (27.0, "DNSAnswer", {"name": "web-0.web", "answers": []}),
        (28.0, "DNSAnswer", {"name": "web-0.web", "answers": []}),
        pod(29.0, "PodScheduled", "web-0", "b", node="n1"),
        pod(30.0, "PodFailed", "web-0", "b", reason="Evicted"),
        (31.0, "DNSAnswer", {"name": "web-0.web", "answers": ["10.0.0.1"]}),
        (32.0, "DNSAnswer", {"name": "web-0.web", "answers": ["10.0.0.1"]}),
        (33.0, "DNSAnswer", {"name": "web-0.web", "answers": []}),
        pod(35.0, "PodDeleted", "web-0", "b"),
        pod(36.0, "PodCreated", "web-2", "c", ordinal=2, statefulset="web", revision="web-bbb"),
        (40.0, "Action", {"action": "scale", "statefulset": "web", "replicas": 0}),
    )


def test_pod_rows_spans_restarts_revisions() -> None:
    rows = pod_rows(gantt_trace(), until=50.0)
    assert [r.pod for r in rows] == ["web-0", "web-2", "web-10"]  # by ordinal, not by name
    web0 = rows[0]
    first, second = web0.incarnations
    assert [(s.start, s.end, s.state) for s in first.spans] == [
        (0.0, 1.0, "Pending"), (1.0, 5.0, "ContainerCreating"), (5.0, 8.0, "Running"), (8.0, 10.0, "Ready"),
        (10.0, 12.0, "Running"), (12.0, 21.0, "Ready"), (21.0, 25.0, "Terminating"),
    ]
    assert first.restarts == [9.0] and first.deleted and first.end == 25.0
    assert not first.revision_changed and second.revision_changed and second.revision == "web-bbb"
    assert [(s.start, s.end, s.state) for s in second.spans] == [
        (26.0, 29.0, "Pending"), (29.0, 30.0, "ContainerCreating"), (30.0, 35.0, "Ended"),
    ]
    # a pod never deleted lasts until the end
    assert [(s.start, s.end, s.state) for s in rows[1].incarnations[0].spans] == [(36.0, 50.0, "Pending")]


def test_dns_spans_from_lookups_or_endpoints() -> None:
    rows = {r.pod: r for r in pod_rows(gantt_trace(), until=50.0)}
    # web-0 was looked up: runs of answers, each lasting until the next different answer
    assert [(d.start, d.end, d.visible, d.source) for d in rows["web-0"].dns] == [
        (27.0, 31.0, False, "lookups"), (31.0, 33.0, True, "lookups"), (33.0, 33.0, False, "lookups"),
    ]
    # nobody looked up web-10 and it never was a ready endpoint
    assert rows["web-10"].dns == []
    trace = gantt_trace()
    no_lookups = trace_of(*[(r.t, r.event, dict(r.fields)) for r in trace if r.event != "DNSAnswer"])
    rows = {r.pod: r for r in pod_rows(no_lookups, until=50.0)}
    assert [(d.start, d.end, d.visible, d.source) for d in rows["web-0"].dns] == [(8.5, 22.0, True, "endpoints")]


def test_action_marks_and_labels() -> None:
    trace = trace_of(
        (1.0, "Action", {"action": "scale", "statefulset": "web", "replicas": 3}),
        (60.0, "Action", {"action": "breakReadiness", "pod": "web-0"}),
        (60.0, "Action", {"action": "breakReadiness", "pod": "web-1"}),
        (90.0, "Action", {"action": "patch", "statefulset": "web",
                          "patch": {"updateStrategy": {"rollingUpdate": {"partition": 2}}, "replicas": 4}}),
        (95.0, "Action", {"action": "setImage", "statefulset": "web", "container": "c", "image": "r.io/a/nginx:1.2"}),
        (99.0, "Action", {"action": "failNode", "node": "node-b"}),
    )
    marks = action_marks(trace, merge_within=0.5)
    assert [(m.number, m.t, m.labels) for m in marks] == [
        (1, 1.0, ("scale web → 3",)),
        (2, 60.0, ("breakReadiness web-0, web-1",)),
        (3, 90.0, ("patch web rollingUpdate.partition=2, replicas=4",)),
        (4, 95.0, ("setImage web nginx:1.2",)),
        (5, 99.0, ("failNode node-b",)),
    ]


def test_patch_labels_of_each_form() -> None:
    from statefulsim.present.plots import action_label

    whole = {"action": "patch", "statefulset": "web",
             "patch": {"metadata": {"labels": {"tier": "a"}}, "spec": {"updateStrategy": {"rollingUpdate": {"partition": 2}}}}}
    assert action_label(whole) == "patch web rollingUpdate.partition=2, labels.tier=a"
    old = {"action": "patch", "statefulset": "web", "patch": {"minReadySeconds": 5}}  # a trace of an earlier version
    assert action_label(old) == "patch web minReadySeconds=5"
    ops = {"action": "patch", "statefulset": "web", "type": "json",
           "patch": [{"op": "replace", "path": "/spec/replicas", "value": 2}, {"op": "remove", "path": "/spec/ordinals"}]}
    assert action_label(ops) == "patch web replace /spec/replicas, remove /spec/ordinals"


def test_claim_records_make_no_pod_rows() -> None:
    trace = Trace()
    trace.append(0.0, "PVCCreated", {"pvc": "www-web-0", "pod": "web-0", "storageClass": None})
    trace.append(0.1, "PodCreated", {"pod": "web-0", "uid": "u0", "ordinal": 0, "statefulset": "web", "revision": None})
    trace.append(1.0, "PVCBound", {"pvc": "www-web-0", "pv": "pv-1", "pod": "web-0"})
    [row] = pod_rows(trace, until=5.0)
    assert [inc.uid for inc in row.incarnations] == ["u0"]


def _tick_boxes(fig: Figure) -> list[Any]:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    boxes = []
    for ax in fig.axes:
        for label in ax.get_xticklabels():
            if label.get_visible() and label.get_text():
                boxes.append(label.get_window_extent(renderer))
    return boxes


@pytest.mark.parametrize("width", [6.0, 9.0, 14.0])
@pytest.mark.parametrize("until", ["2m", "70m"])
def test_time_tick_labels_never_touch_even_on_narrow_figures(width: float, until: str) -> None:
    # issue #18: figures drawn at width=9 for side_by_side had their mm:ss labels run together
    result = run(load_scenario(ROOT / "scenarios" / "quickstart.yaml"), until=until)
    for fig in (timeline_figure(result, title="", width=width), replicas_figure(result, title="", width=width)):
        boxes = sorted(_tick_boxes(fig), key=lambda b: (b.y0, b.x0))
        assert len(boxes) >= 3, "the time axis should still have labels"
        for a, b in zip(boxes, boxes[1:]):
            if abs(a.y0 - b.y0) < 1:  # the same axis row
                assert a.x1 < b.x0, f"tick labels overlap at width {width}: {a} and {b}"
