"""Sweeps: metrics of a run, percentiles with confidence intervals, grids over scenario paths,
worker-count independence and resume (statefulsim/sweep/, docs/cli.md "Sweeps").

Speed note: the 200-run sweeps use the quickstart scenario with 2 replicas, cut to ``until: 2m``
without its scale-to-0 action and expectations (about 20 ms a run instead of 55 ms); the full
quickstart runs at about 17 runs/s per worker.
"""

from __future__ import annotations

import functools
import pathlib
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from helpers import short_quickstart
from statefulsim.cli import cli
from statefulsim.errors import ScenarioError
from statefulsim.sim.trace import Trace
from statefulsim.sweep import (
    csv_text,
    parse_axis,
    percentile_ci,
    rollout_duration,
    run_metrics,
    run_sweep,
    set_path,
    time_to_ready,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """The quickstart, shortened for speed (see the module docstring)."""
    return short_quickstart(tmp_path_factory.mktemp("sweep"), "2m", {"manifests[mysql].spec.replicas": 2})


def invoke(*args: Any) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


# ----------------------------------------------------------------------------- metrics


def _trace(*records: tuple[float, str, dict[str, Any]]) -> Trace:
    t = Trace()
    for at, event, fields in records:
        t.append(at, event, fields)
    return t


def _status(t: float, ready: int, current: str = "r1", update: str = "r1") -> tuple[float, str, dict[str, Any]]:
    return (t, "StatefulSetStatus", {"statefulset": "web", "replicas": 3, "readyReplicas": ready,
                                     "currentRevision": current, "updateRevision": update})


KNOWN = _trace(
    (1.0, "StatefulSetCreated", {"statefulset": "web", "replicas": 3, "podManagementPolicy": "OrderedReady"}),
    _status(2.0, 0), _status(5.0, 1), _status(9.0, 2), _status(14.5, 3),
    (20.0, "Action", {"action": "setImage", "statefulset": "web", "container": "app", "image": "x:2"}),
    _status(20.1, 3),  # stale status: still the old revision everywhere
    _status(21.0, 2, "r1", "r2"), _status(25.0, 2, "r1", "r2"), _status(31.25, 3, "r2", "r2"),
    (40.0, "PodCreated", {"pod": "web-0", "uid": "u", "ordinal": 0, "statefulset": "web", "revision": "r2"}),
    (41.0, "PodReady", {"pod": "web-0", "uid": "u"}),
    (41.5, "DNSAnswer", {"name": "web-0.nginx", "answers": []}),
    (42.0, "DNSAnswer", {"name": "web-0.nginx", "answers": ["10.0.0.1"]}),
    (43.0, "DNSAnswer", {"name": "other.example", "answers": ["1.1.1.1"]}),
)


def test_metrics_of_a_known_trace() -> None:
    assert time_to_ready(KNOWN) == 13.5
    assert rollout_duration(KNOWN) == 11.25
    m = run_metrics(KNOWN, until=50.0, quorum=3)
    assert m["time_to_ready"] == 13.5
    assert m["rollout_duration"] == 11.25
    # below 3 ready from creation (1.0) to 14.5, and from 21.0 to 31.25
    assert m["time_below_quorum"] == pytest.approx(13.5 + 10.25)
    assert run_metrics(KNOWN, until=50.0, quorum=2)["time_below_quorum"] == 8.0
    assert m["stuck"] == 0.0
    assert m["dns_delay[web-0.nginx]"] == 1.0
    assert "dns_delay[other.example]" not in m


def test_missing_metrics_are_none() -> None:
    never = _trace((0.0, "StatefulSetCreated", {"statefulset": "web", "replicas": 3}), _status(1.0, 1),
                   (2.0, "ControllerWaiting", {"statefulset": "web", "reason": "PredecessorNotReady", "pod": "web-1"}))
    m = run_metrics(never, until=10.0)
    assert m["time_to_ready"] is None and m["rollout_duration"] is None and m["time_below_quorum"] is None
    assert m["stuck"] == 1.0
    # a patch that makes no new revision is no rollout
    scale = _trace((0.0, "StatefulSetCreated", {"statefulset": "web", "replicas": 3}), _status(1.0, 3),
                   (2.0, "Action", {"action": "patch", "statefulset": "web", "patch": {"replicas": 4}}),
                   _status(3.0, 3))
    assert rollout_duration(scale) is None


def test_percentile_ci_is_the_binomial_order_statistic_interval() -> None:
    xs = [float(i) for i in range(1, 101)]
    est, lo, hi = percentile_ci(xs, 0.5)
    assert est == 50.0
    assert (lo, hi) == (40.0, 61.0)  # the textbook ranks for n=100, median, 95 %
    assert percentile_ci(xs, 0.99)[2] is None  # too few runs for an upper bound of p99
    assert percentile_ci([], 0.5) == (None, None, None)
    assert percentile_ci([3.0], 0.9) == (3.0, None, None)


# ----------------------------------------------------------------------------- paths


def test_set_path_selects_manifests_by_name_and_inlines_files() -> None:
    data = yaml.safe_load(QUICKSTART.read_text())
    set_path(data, "manifests[mysql].spec.podManagementPolicy", "Parallel", str(QUICKSTART.parent))
    # the file was inlined; the StatefulSet wins over the ConfigMap of the same name
    sts = [m for m in data["manifests"] if m.get("kind") == "StatefulSet"][0]
    assert sts["spec"]["podManagementPolicy"] == "Parallel"
    set_path(data, "manifests[StatefulSet/mysql].spec.template.spec.containers[mysql].image", "mysql:8.4")
    assert sts["spec"]["template"]["spec"]["containers"][0]["image"] == "mysql:8.4"
    set_path(data, "timing.appReady", "5s")
    assert data["timing"]["appReady"] == "5s"
    assert parse_axis("timing.appReady={uniform: {low: 1s, high: 2s}},5s").values == (
        {"uniform": {"low": "1s", "high": "2s"}}, "5s")


@pytest.mark.parametrize("spec, message", [
    ("manifests[nope].spec.replicas=3", "--set manifests[nope].spec.replicas: manifests[nope]: no item named 'nope'"),
    ("manifests.spec=3", "--set manifests.spec: manifests.spec: this is a list"),
    ("timing.appReadyy=5s", "appReadyy"),
    ("seed.x=1", "--set seed.x: seed.x: the value there is 42, not a mapping or a list"),
    ("timing.appReady=", "empty value"),
])
def test_bad_set_paths_exit_2_with_a_clear_message(spec: str, message: str, tmp_path: pathlib.Path) -> None:
    result = invoke("sweep", QUICKSTART, "--runs", 1, "--workers", 1, "--set", spec, "--quiet")
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output


# ----------------------------------------------------------------------------- sweeps


@functools.lru_cache(maxsize=None)
def _reference(path: str) -> str:
    return csv_text(run_sweep(path, runs=200, workers=1, quorum=2))


def test_200_runs_give_stable_percentiles_whatever_the_worker_count(small: pathlib.Path,
                                                                  tmp_path: pathlib.Path) -> None:
    one = _reference(str(small))
    lines = one.splitlines()
    assert lines[0].startswith("metric,runs,n,mean,p50,p50_lo,p50_hi,p90")
    ready = next(line.split(",") for line in lines if line.startswith("time_to_ready,"))
    assert ready[1] == "200" and 190 <= int(ready[2]) <= 200  # a slow run may miss until
    p50, lo, hi = map(float, ready[4:7])
    assert lo <= p50 <= hi and 30 < p50 < 150
    out = tmp_path / "two.csv"
    result = invoke("sweep", small, "--runs", 200, "--workers", 2, "--quorum", 2, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == one.encode()
    assert len((tmp_path / "two.jsonl").read_text().splitlines()) == 200


def test_resume_after_an_interruption_gives_the_same_table(small: pathlib.Path, tmp_path: pathlib.Path) -> None:
    state = tmp_path / "state.jsonl"

    class Interrupt(Exception):
        pass

    def stop_at_100(done: int, total: int) -> None:
        if done >= 100:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_sweep(str(small), runs=200, workers=1, quorum=2, state=state, progress=stop_at_100)
    assert len(state.read_text().splitlines()) == 100
    with state.open("a") as fh:
        fh.write('{"key": "half a line')  # cut off while being written
    resumed = run_sweep(str(small), runs=200, workers=1, quorum=2, state=state)
    assert resumed.executed == 100
    assert csv_text(resumed) == _reference(str(small))
    again = run_sweep(str(small), runs=200, workers=1, quorum=2, state=state)
    assert again.executed == 0


def test_grid_moves_results_in_the_expected_direction(small: pathlib.Path, tmp_path: pathlib.Path) -> None:
    out = tmp_path / "grid.csv"
    plot = tmp_path / "grid.png"
    result = invoke("sweep", small, "--runs", 12, "--workers", 1, "--quorum", 3,
                    "--set", "timing.appReady=5s,25s",
                    "--set", "manifests[mysql].spec.podManagementPolicy=OrderedReady,Parallel",
                    "--out", out, "--plot", plot)
    assert result.exit_code == 0, result.output
    assert "all ready" in result.stdout
    assert plot.stat().st_size > 10_000
    rows = [line.split(",") for line in out.read_text().splitlines()]
    assert rows[0][:3] == ["timing.appReady", "manifests[mysql].spec.podManagementPolicy", "metric"]
    p50 = {(r[0], r[1]): float(r[6]) for r in rows[1:] if r[2] == "time_to_ready"}
    assert len(p50) == 4
    for ready in ("5s", "25s"):
        assert p50[(ready, "Parallel")] < p50[(ready, "OrderedReady")]
    for policy in ("OrderedReady", "Parallel"):
        assert p50[("5s", policy)] < p50[("25s", policy)]


def test_values_the_scenario_rejects_name_the_assignment(small: pathlib.Path) -> None:
    with pytest.raises(ScenarioError) as e:
        run_sweep(str(small), runs=1, workers=1, axes=[parse_axis("manifests[mysql].spec.replicas=-1")])
    assert "with manifests[mysql].spec.replicas=-1" in str(e.value)
