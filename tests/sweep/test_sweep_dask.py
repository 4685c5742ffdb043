"""Sweep executors (local processes, Dask), batching and ECDF plots (statefulsim/sweep/,
docs/cli.md "Sweeps").

Speed note: the 200-run sweeps use the quickstart with 1 replica, faster image pulls and app
start, cut to ``until: 15s`` without its action and expectations (about 180 SimPy events a run;
about a quarter of the runs are not ready by then, so missing values go through every executor
too).  The Dask cluster is a ``distributed.LocalCluster`` with
threads in this process (``processes=False``, started in a fraction of a second) reached over
TCP, so the executor connects to it by address exactly as to a remote scheduler; the
LocalCluster the executor starts itself (worker processes) is exercised once, on 4 runs.
"""

from __future__ import annotations

import functools
import gc
import json
import pathlib
import socket
import sys
import threading
from typing import Any, Iterator

import distributed
import pytest
from click.testing import CliRunner

from helpers import short_quickstart
from statefulsim.cli import cli
from statefulsim.sweep import (
    SweepError,
    SweepResult,
    auto_batch,
    csv_text,
    ecdf_figure,
    make_batches,
    parse_axis,
    prepare,
    read_state,
    run_sweep,
)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """The quickstart, shortened for speed (see the module docstring)."""
    return short_quickstart(tmp_path_factory.mktemp("sweep-dask"), "15s", {
        "manifests[mysql].spec.replicas": 1,
        "timing.imagePull": {"lognormal": {"median": "2s", "p99": "10s"}},
        "timing.appReady": {"uniform": {"low": "2s", "high": "6s"}},
    })


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The TCP address of a 2-worker LocalCluster (threads in this process), closed afterwards."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                                  dashboard_address=":0") as cluster:
        yield str(cluster.scheduler_address)
    # A task cancelled by an interrupted sweep may still be running in a worker thread after the
    # cluster closed: its run pauses the cyclic collector process-wide (cyclic_gc_paused), which
    # later tests would see.  Wait for those threads before the next module starts.
    for thread in threading.enumerate():
        if "Dask-Default-Threads" in thread.name:  # the workers' task threads
            thread.join(timeout=60)
    assert gc.isenabled(), "a Dask worker thread left the cyclic collector paused"


def invoke(*args: Any) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@functools.lru_cache(maxsize=None)
def _reference(path: str, runs: int = 200) -> tuple[str, tuple[tuple[int, str], ...]]:
    """CSV and per-run metrics (seed, JSON) of the first ``runs`` of 200 runs in this process."""
    full = _full_reference(path)
    result = SweepResult(full.points, full.runs[:runs], full.seeds[:runs])
    return csv_text(result), _per_run(result)


@functools.lru_cache(maxsize=None)
def _full_reference(path: str) -> SweepResult:
    return run_sweep(path, runs=200, workers=1, quorum=1)


def _per_run(result: SweepResult) -> tuple[tuple[int, str], ...]:
    return tuple((r.seed, json.dumps(r.metrics, sort_keys=True)) for r in result.runs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ----------------------------------------------------------------------------- batches


def test_batches_never_mix_grid_points_and_cover_every_run(small: pathlib.Path) -> None:
    points = prepare(small, [parse_axis("timing.appReady=5s,10s")])
    todo = [(pt, s) for pt in points for s in range(7)]
    batches = make_batches(todo, 3, 2, None)
    assert [(b.point_index, b.seeds) for b in batches] == [
        (0, (0, 1, 2)), (0, (3, 4, 5)), (0, (6,)), (1, (0, 1, 2)), (1, (3, 4, 5)), (1, (6,))]
    assert all("file:" not in b.text and "kind: StatefulSet" in b.text for b in batches)  # self-contained
    assert auto_batch(200, 2) == 25 and auto_batch(200, 1) == 50 and auto_batch(3, 8) == 1
    assert auto_batch(100_000, 4) == 50


# ----------------------------------------------------------------------------- executors


def test_local_and_dask_executors_give_identical_runs_and_summary(small: pathlib.Path, scheduler: str,
                                                                   tmp_path: pathlib.Path) -> None:
    ref_csv, ref_runs = _reference(str(small))
    two = run_sweep(str(small), runs=200, workers=2, quorum=1)  # automatic batches of 25
    assert two.executed == 200
    assert _per_run(two) == ref_runs and csv_text(two) == ref_csv
    out = tmp_path / "dask.csv"
    result = invoke("sweep", small, "--runs", 200, "--quorum", 1, "--executor", "dask", "--scheduler", scheduler,
                    "--batch", 7, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    assert out.read_text() == ref_csv
    state = read_state(tmp_path / "dask.jsonl")
    assert len(state) == 200
    assert tuple((seed, json.dumps(m, sort_keys=True)) for (_, seed), m in sorted(state.items())) == ref_runs


def test_resume_after_an_interruption_with_dask(small: pathlib.Path, scheduler: str, tmp_path: pathlib.Path) -> None:
    state = tmp_path / "state.jsonl"

    class Interrupt(Exception):
        pass

    def stop_at_50(done: int, total: int) -> None:
        if done >= 50:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_sweep(str(small), runs=100, quorum=1, state=state, progress=stop_at_50, executor="dask",
                  scheduler=scheduler, batch=5)
    assert len(state.read_text().splitlines()) == 50  # written batch by batch, as each finished
    with state.open("a") as fh:
        fh.write('{"key": "half a line')  # cut off while being written
    resumed = run_sweep(str(small), runs=100, quorum=1, state=state, executor="dask", scheduler=scheduler)
    assert resumed.executed == 50
    ref_csv, ref_runs = _reference(str(small), 100)
    assert csv_text(resumed) == ref_csv and _per_run(resumed) == ref_runs
    again = run_sweep(str(small), runs=100, quorum=1, state=state, executor="dask", scheduler=scheduler)
    assert again.executed == 0


def test_dask_without_a_scheduler_starts_a_local_cluster_and_says_so(small: pathlib.Path,
                                                                     tmp_path: pathlib.Path) -> None:
    out = tmp_path / "lc.csv"
    result = invoke("sweep", small, "--runs", 4, "--executor", "dask", "--workers", 1, "--quorum", 1, "--out", out)
    assert result.exit_code == 0, result.output
    assert "no --scheduler given): LocalCluster of 1 worker process at tcp://" in " ".join(result.stdout.split())
    assert out.read_text() == _reference(str(small), 4)[0]


def test_an_unreachable_scheduler_exits_2_with_a_clear_message(small: pathlib.Path) -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    result = invoke("sweep", small, "--runs", 2, "--executor", "dask", "--scheduler", address,
                    "--connect-timeout", "1s", "--quiet")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: cannot reach the Dask scheduler at {address} (connect timeout 1 s)")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args, message", [
    (("--scheduler", "tcp://127.0.0.1:8786"), "--scheduler is for --executor dask"),
    (("--executor", "spark"), "unknown executor 'spark'; known: dask, local"),
])
def test_bad_executor_options_exit_2(small: pathlib.Path, args: tuple[str, ...], message: str) -> None:
    result = invoke("sweep", small, "--runs", 1, "--quiet", *args)
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {message}\n"


def test_dask_not_installed_is_a_clear_error(small: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed raises ImportError
    with pytest.raises(SweepError, match=r"needs the packages dask and distributed .*'statefulsim\[dask\]'"):
        run_sweep(str(small), runs=1, executor="dask")


# ----------------------------------------------------------------------------- ECDF


def test_ecdf_plot_has_a_curve_per_grid_point_and_counts_runs_that_never_got_there(
        small: pathlib.Path, tmp_path: pathlib.Path) -> None:
    plot = tmp_path / "ecdf.png"
    state = tmp_path / "ecdf.jsonl"
    result = invoke("sweep", small, "--runs", 20, "--workers", 1, "--quorum", 1, "--set", "until=30s,60s",
                    "--state", state, "--plot", plot, "--plot-kind", "ecdf", "--quiet")
    assert result.exit_code == 0, result.output
    assert plot.stat().st_size > 20_000
    sweep = run_sweep(str(small), runs=20, workers=1, quorum=1, axes=[parse_axis("until=30s,60s")], state=state)
    assert sweep.executed == 0
    never = 20 - len(sweep.values(0, "time_to_ready"))
    assert 0 < never < 20  # 30 s is too short for some runs (attach, verify back-off, mount): that curve must end below 1
    fig = ecdf_figure(sweep, quorum=1)
    ready, below = fig.axes[0], fig.axes[1]
    assert ready.get_title(loc="left") == "time_to_ready" and below.get_title(loc="left") == "time_below_quorum"
    for ax in (ready, below):
        assert ax.get_xlabel() == "seconds" and ax.get_ylabel().startswith("fraction of runs")
        steps = [ln for ln in ax.get_lines() if ln.get_label() and not ln.get_label().startswith("_")]
        assert len(steps) == 2  # one ECDF per grid point (plus the unlabelled p50/p90/p99 lines)
        metric = "time_to_ready" if ax is ready else "time_below_quorum"
        for i, ln in enumerate(steps):  # from 0, a step of 1/20 at every value, flat to the panel's largest value
            vals = sorted(sweep.values(i, metric))
            assert list(ln.get_xdata())[:len(vals) + 1] == [vals[0]] + vals
            assert list(ln.get_ydata())[:len(vals) + 1] == [0.0] + [k / 20 for k in range(1, len(vals) + 1)]
    legend = [t.get_text() for t in ready.get_legend().get_texts()]
    assert legend == [f"until=30s ({never} of 20 runs: never all ready)", "until=60s (20 runs)"]
    assert max(ready.get_lines()[0].get_ydata()) == pytest.approx((20 - never) / 20)
    assert max(ready.get_lines()[1].get_ydata()) == 1.0
