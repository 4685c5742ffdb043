"""The happens-before graph of a trace and the critical path of a rollout (docs/analysis.md)."""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import statefulsim
from helpers import run, statefulset
from statefulsim import runner
from statefulsim.analysis.dns import dns_visibility
from statefulsim.analysis.happens_before import (
    CriticalPath,
    MilestoneError,
    critical_path,
    happens_before_graph,
    milestone_label,
)
from statefulsim.cli import cli
from statefulsim.durations import format_clock
from statefulsim.io.scenario import load_scenario_text
from statefulsim.io.trace_io import read_jsonl, write_jsonl
from statefulsim.present.critical_path_report import critical_path_text
from statefulsim.runner import RunResult
from statefulsim.sim.trace import Trace

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


@functools.lru_cache(maxsize=None)
def scenario_run(name: str) -> RunResult:
    return statefulsim.run(str(ROOT / "scenarios" / name))


def t_of(trace: Trace, event: str, **match: Any) -> float:
    r = trace.first(event, **match)
    assert r is not None, (event, match)
    return r.t


def steps_by_target(path: CriticalPath) -> dict[tuple[str, str, int], Any]:
    return {s.target: s for s in path.steps}


def assert_contiguous(path: CriticalPath) -> None:
    """Each step starts where the previous one ended; the durations add up to the total."""
    assert path.steps, path
    assert path.steps[0].start == path.begin and path.steps[0].source == path.start
    assert path.steps[-1].end == path.end and path.steps[-1].target == path.target
    for a, b in zip(path.steps, path.steps[1:]):
        assert a.target == b.source and a.end == b.start
    assert all(s.duration >= 0 for s in path.steps)
    assert math.fsum(s.duration for s in path.steps) == pytest.approx(path.end - path.begin, abs=1e-9)
    assert math.fsum(w.total for w in path.by_kind()) == pytest.approx(path.total, abs=1e-9)
    assert sum(w.count for w in path.by_kind()) == len(path.steps)


# ---------------------------------------------------------------------------------------------
# OrderedReady and Parallel


def test_quickstart_path_to_the_last_pod_goes_through_its_predecessors() -> None:
    trace = scenario_run("quickstart.yaml").trace
    path = critical_path(trace, "mysql-2")
    assert path.target == ("PodReady", "mysql-2", 0)
    assert path.start == ("StatefulSetCreated", "mysql", 0) and path.begin == 0.0
    assert path.end == t_of(trace, "PodReady", pod="mysql-2")
    by_target = steps_by_target(path)
    for prev, nxt in (("mysql-0", "mysql-1"), ("mysql-1", "mysql-2")):
        # the controller creates the next pod's claim first, then the pod (OrderedReady gates both)
        claim = f"mysql-data-{nxt}"
        step = by_target[("PVCCreated", claim, 0)]
        assert step.source == ("PodReady", prev, 0) and step.kind == "ordered"
        assert step.duration == t_of(trace, "PVCCreated", pvc=claim) - t_of(trace, "PodReady", pod=prev)
        step = by_target[("PodCreated", nxt, 0)]
        assert step.source == ("PVCCreated", claim, 0) and step.kind == "claim"
        assert step.duration == t_of(trace, "PodCreated", pod=nxt) - t_of(trace, "PVCCreated", pvc=claim)
    # every pod's image pull (ImagePulling -> ImagePulled) is on the path, then its container start
    pulls = [s for s in path.steps if s.kind == "image pull"]
    assert [s.target for s in pulls] == [("ImagePulled", f"mysql-{i}", 0) for i in range(3)]
    for i, s in enumerate(pulls):
        pulled = trace.first("ImagePulled", pod=f"mysql-{i}")
        assert pulled is not None
        assert s.duration == pytest.approx(pulled.fields["seconds"], abs=1e-9)
        assert s.duration == t_of(trace, "ImagePulled", pod=f"mysql-{i}") - t_of(trace, "ImagePulling", pod=f"mysql-{i}")
    starts = {s.target: s for s in path.steps if s.kind == "container start"}
    for i in range(3):
        assert starts[("ContainerStarted", f"mysql-{i}/init-mysql", 0)].source == ("ImagePulled", f"mysql-{i}", 0)
    assert_contiguous(path)


def test_quickstart_default_target_is_the_set_all_ready() -> None:
    trace = scenario_run("quickstart.yaml").trace
    path = critical_path(trace)
    assert path.target == ("StatefulSetReady", "mysql", 0)
    ready = next(r for r in trace.of("StatefulSetStatus", statefulset="mysql") if r.get("readyReplicas") == 3)
    assert path.end == ready.t
    assert path.steps[-1].source == ("PodReady", "mysql-2", 0) and path.steps[-1].kind == "status"
    kinds = {w.kind: w for w in path.by_kind()}
    assert kinds["readiness"].count == 3 and kinds["image pull"].count == 3 and kinds["ordered"].count == 2
    assert_contiguous(path)


def test_exact_timings_ordered_ready() -> None:
    result = run(statefulset(replicas=3))
    path = critical_path(result.trace, "web-2")
    assert path.begin == 0.0 and path.end == 21.0
    assert [milestone_label(m) for m in path.milestones if m[0] in ("PodCreated", "PodReady")] == [
        "PodCreated web-0", "PodReady web-0", "PodCreated web-1", "PodReady web-1", "PodCreated web-2",
        "PodReady web-2"]
    kinds = {w.kind: (w.count, w.total) for w in path.by_kind()}
    # sandbox 1 s; image pull 2 s; container start 0.5 s; PLEG relist 0.5 s; appReady 3 s
    assert kinds["sandbox"] == (3, 3.0)
    assert kinds["image pull"] == (3, 6.0)
    assert kinds["container start"] == (3, 1.5)
    assert kinds["pod status"] == (3, 1.5)
    assert kinds["readiness"] == (3, 9.0)
    assert kinds["ordered"] == (2, 0.0)
    assert_contiguous(path)


def test_parallel_path_does_not_go_through_other_pods() -> None:
    result = run(statefulset(replicas=3, policy="Parallel"))
    path = critical_path(result.trace, "web-2")
    subjects = {m[1].split("/")[0] for m in path.milestones}
    assert not subjects & {"web-0", "web-1"}, path.milestones
    assert "ordered" not in {s.kind for s in path.steps}
    assert path.start == ("StatefulSetCreated", "web", 0)
    assert path.end == 7.0  # its own 1 + 2.5 + 0.5 + 3 seconds, nothing from the other pods
    assert_contiguous(path)


def test_parallel_scenario_path_stays_within_the_pod() -> None:
    trace = scenario_run("parallel-burst-unhealthy.yaml").trace
    path = critical_path(trace, "web-2")
    assert {m[1].split("/")[0] for m in path.milestones} <= {"web-2", "web", "scale web"}
    assert ("StatefulSetUpdated", "web", 0) in path.milestones  # the scale to 3 started it
    assert path.start[0] == "Action" and path.start[1] == "scale web"
    assert_contiguous(path)


def test_min_ready_seconds_puts_availability_on_the_path() -> None:
    result = run(statefulset(replicas=2, extra_spec={"minReadySeconds": 10}))
    path = critical_path(result.trace, "web-1")
    by_target = steps_by_target(path)
    available = by_target[("PodAvailable", "web-0", 0)]
    assert available.source == ("PodReady", "web-0", 0) and available.kind == "minReadySeconds"
    assert available.start == 7.0 and available.duration == 10.0
    created = by_target[("PodCreated", "web-1", 0)]
    assert created.source == ("PodAvailable", "web-0", 0) and created.kind == "ordered"
    assert_contiguous(path)


# ---------------------------------------------------------------------------------------------
# Updates, scale-down, recreation


def test_rolling_update_goes_from_the_top_down() -> None:
    trace = scenario_run("rolling-update-rollback.yaml").trace
    g = happens_before_graph(trace)
    # web-2 is replaced first: deleted, then recreated with the same name
    assert g.edges[("PodDeleted", "web-2", 0), ("PodCreated", "web-2", 1)]["kind"] == "recreate"
    # web-1 is replaced only once the new web-2 is Ready
    edge = g.edges[("PodReady", "web-2", 1), ("PodTerminating", "web-1", 0)]
    assert edge["kind"] == "update order" and edge["enabling"]
    path = critical_path(g, ("PodReady", "web-0", 1))
    assert path.start == ("Action", "setImage web", 0)
    kinds = [s.kind for s in path.steps]
    assert kinds.count("update order") == 2 and kinds.count("recreate") == 3
    assert_contiguous(path)


def test_scale_down_waits_for_the_successor_to_be_gone() -> None:
    trace = scenario_run("quickstart.yaml").trace
    g = happens_before_graph(trace)
    for higher, lower in (("mysql-2", "mysql-1"), ("mysql-1", "mysql-0")):
        edge = g.edges[("PodDeleted", higher, 0), ("PodTerminating", lower, 0)]
        assert edge["kind"] == "ordered termination" and edge["enabling"]
        assert edge["wait"] == t_of(trace, "PodTerminating", pod=lower) - t_of(trace, "PodDeleted", pod=higher)
    path = critical_path(g, "PodDeleted:mysql-0")
    assert path.start == ("Action", "scale mysql", 0) and path.begin == 180.0
    assert [s.kind for s in path.steps].count("ordered termination") == 2
    assert_contiguous(path)


# ---------------------------------------------------------------------------------------------
# Volumes and DNS


def test_slow_wait_for_first_consumer_provisioning_is_on_the_path() -> None:
    doc = yaml.safe_load((ROOT / "scenarios" / "storage-retention.yaml").read_text())
    doc["timing"]["provisioning"] = "40s"
    trace = runner.run(load_scenario_text(yaml.safe_dump(doc), base_dir=str(ROOT / "scenarios"))).trace
    path = critical_path(trace, ("PodReady", "web-0", 0))  # "web-0" would be its last Ready, after a deletePod
    names = [m[:2] for m in path.milestones]
    chain = [("PodCreated", "web-0"), ("VolumeProvisioning", "www-web-0"), ("PVCreated", None),
             ("PVCBound", "www-web-0"), ("PodScheduled", "web-0"), ("VolumeAttached", None),
             ("VolumesMounted", "web-0")]
    positions = [next(i for i, n in enumerate(names) if n[0] == ev and (subj is None or n[1] == subj))
                 for ev, subj in chain]
    assert positions == sorted(positions) and positions[-1] - positions[0] == len(chain) - 1
    provisioning = next(s for s in path.steps if s.kind == "volume provisioning")
    assert provisioning.start == t_of(trace, "VolumeProvisioning", pvc="www-web-0")
    assert provisioning.end == t_of(trace, "PVCreated", pvc="www-web-0")
    assert 40.0 <= provisioning.duration < 40.5
    assert path.by_kind()[0].kind == "volume provisioning"
    assert_contiguous(path)


def test_dns_answer_follows_the_pod_ready_through_the_endpoint_slice() -> None:
    trace = scenario_run("dns-kubeadm.yaml").trace
    g = happens_before_graph(trace)
    vis = dns_visibility(trace, "web-3.nginx", "web-3")
    assert vis.first_answer_at is not None and vis.ready_at is not None
    resolved = ("DNSResolved", "web-3.nginx", 0)
    assert g.nodes[resolved]["t"] == vis.first_answer_at
    path = critical_path(g, "web-3.nginx")
    assert path.target == resolved
    ready, endpoints, dns = path.steps[-3:]
    assert ready.target == ("PodReady", "web-3", 0) and ready.end == vis.ready_at
    assert endpoints.kind == "endpoints" and endpoints.target[0] == "EndpointSliceUpdated"
    assert dns.kind == "dns" and dns.target == resolved
    assert endpoints.duration + dns.duration == pytest.approx(vis.delay, abs=1e-9)
    assert_contiguous(path)


def test_legacy_negative_cache_shows_as_its_own_wait() -> None:
    trace = scenario_run("dns-kubeadm-legacy.yaml").trace
    path = critical_path(trace, "web-3.nginx")
    last = path.steps[-1]
    assert last.kind == "dns negative cache" and last.duration > 20
    assert path.steps[-2].kind == "endpoints" and path.steps[-3].target == ("PodReady", "web-3", 0)


# ---------------------------------------------------------------------------------------------
# Every scenario


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_edges_point_forward_and_paths_add_up(scenario: Path) -> None:
    trace = scenario_run(scenario.name).trace
    g = happens_before_graph(trace)
    assert g.number_of_edges() > 0
    for u, v, data in g.edges(data=True):
        assert g.nodes[u]["t"] <= g.nodes[v]["t"], (u, v)
        assert data["wait"] == g.nodes[v]["t"] - g.nodes[u]["t"] >= 0
        assert data["kind"]
    for m in g:  # at most one enabling cause, and it is the latest one
        enabling = [u for u in g.predecessors(m) if g.edges[u, m]["enabling"]]
        if g.in_degree(m):
            assert len(enabling) == 1
            assert g.nodes[enabling[0]]["t"] == max(g.nodes[u]["t"] for u in g.predecessors(m))
    for m in g:  # every record-based milestone is the trace record it says
        index = g.nodes[m]["index"]
        if index is not None:
            assert trace[index].t == g.nodes[m]["t"]
    assert_contiguous(critical_path(g))


def test_graph_from_a_saved_trace_matches(tmp_path: Path) -> None:
    trace = scenario_run("quickstart.yaml").trace
    write_jsonl(trace, tmp_path / "q.jsonl")
    saved = critical_path(read_jsonl(tmp_path / "q.jsonl"), "mysql-2")
    assert saved.milestones == critical_path(trace, "mysql-2").milestones


def test_targets() -> None:
    trace = scenario_run("quickstart.yaml").trace
    g = happens_before_graph(trace)
    by_tuple = critical_path(g, ("PodReady", "mysql-1", 0))
    assert critical_path(g, "mysql-1") == by_tuple == critical_path(g, "PodReady:mysql-1") \
        == critical_path(g, "PodReady:mysql-1:0")
    assert critical_path(g, "mysql").target == ("StatefulSetReady", "mysql", 0)  # not the scale to 0
    assert critical_path(g, "StatefulSetReady:mysql").target == ("StatefulSetReady", "mysql", 1)
    for bad in ("nope", "PodReady:mysql-9", ("PodReady", "mysql-0", 5)):
        with pytest.raises(MilestoneError):
            critical_path(g, bad)
    with pytest.raises(MilestoneError, match="no milestones"):
        critical_path(Trace())


def test_public_api() -> None:
    path = statefulsim.critical_path(scenario_run("quickstart.yaml").trace)
    assert isinstance(path, statefulsim.CriticalPath)
    assert all(isinstance(s, statefulsim.analysis.happens_before.PathStep) for s in path.steps)
    assert all(isinstance(w, statefulsim.analysis.happens_before.WaitSummary) for w in path.by_kind())
    assert path.summary().startswith(f"{path.end:.1f} s from StatefulSetCreated mysql to StatefulSetReady mysql: ")
    assert "ordered 2×" in path.summary() and "image pull 3×" in path.summary()


# ---------------------------------------------------------------------------------------------
# Rendering and the command line


def test_text_report() -> None:
    path = critical_path(run(statefulset(replicas=2)).trace, "web-1")
    text = critical_path_text(path)
    lines = text.splitlines()
    assert lines[0] == "Critical path to PodReady web-1: 14.000 s, 00:00:00.000 to 00:00:14.000"
    assert "  00:00:07.000     0.000s  ordered          → PodCreated web-1" in lines
    assert "  00:00:10.000     2.000s  image pull       → ImagePulled web-1" in lines
    assert "  readiness          2×      6.000s   42.9 %" in lines
    assert lines[-1] == "  total             15      14.000s"


def test_cli_critical_path(tmp_path: Path) -> None:
    trace_file = tmp_path / "q.jsonl"
    trace = scenario_run("quickstart.yaml").trace
    write_jsonl(trace, trace_file)
    created, ready = t_of(trace, "PVCCreated", pvc="mysql-data-mysql-1"), t_of(trace, "PodReady", pod="mysql-0")
    out = CliRunner().invoke(cli, ["critical-path", str(trace_file), "--target", "mysql-1"])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("Critical path to PodReady mysql-1: ")
    row = rf"\n  {re.escape(format_clock(created))} +{created - ready:.3f}s  ordered +→ PVCCreated mysql-data-mysql-1\n"
    assert re.search(row, out.output), out.output
    bad = CliRunner().invoke(cli, ["critical-path", str(trace_file), "--target", "mysql-9"])
    assert bad.exit_code == 2 and "error: no milestone matches 'mysql-9'" in bad.output
    missing = CliRunner().invoke(cli, ["critical-path", str(tmp_path / "none.jsonl")])
    assert missing.exit_code == 2


def test_cli_run_critical_path() -> None:
    out = CliRunner().invoke(cli, ["run", str(ROOT / "scenarios" / "quickstart.yaml"), "-q", "--critical-path"])
    assert out.exit_code == 0, out.output
    assert re.match(r"Critical path to StatefulSetReady mysql: \d+\.\d{3} s, 00:00:00\.000 to ", out.output)
    assert "Time by wait kind:" in out.output


def test_every_edge_kind_is_known_and_documented() -> None:
    from statefulsim.analysis.happens_before import EDGE_KINDS

    doc = (ROOT / "docs" / "analysis.md").read_text()
    for kind in EDGE_KINDS:
        assert f"| `{kind}` |" in doc, kind
    seen = set()
    for scenario in SCENARIOS:
        g = happens_before_graph(scenario_run(scenario.name).trace)
        seen |= {data["kind"] for _, _, data in g.edges(data=True)}
    assert seen <= set(EDGE_KINDS), seen - set(EDGE_KINDS)
    assert {"ordered", "update order", "ordered termination", "recreate", "image pull", "readiness",
            "volume provisioning", "dns", "dns negative cache", "minReadySeconds", "back-off"} <= seen


def test_docs_python_example_runs() -> None:
    doc = (ROOT / "docs" / "analysis.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, flags=re.S)
    assert blocks
    namespace: dict[str, Any] = {}
    exec(compile(blocks[0].replace('"scenarios/', f'"{ROOT}/scenarios/'), "docs/analysis.md", "exec"), namespace)
    path = namespace["path"]
    assert path.target == ("PodReady", "mysql-2", 0)
    assert path.summary().startswith(f"{path.total:.1f} s from StatefulSetCreated mysql to PodReady mysql-2: ")
