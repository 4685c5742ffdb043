"""Sweeps and Monte Carlo: run one scenario over many seeds and a grid of parameter values.

A sweep is a scenario file, a range of seeds and an optional grid of values for scenario fields
named by their path in the scenario YAML (``timing.appReady``,
``manifests[mysql].spec.podManagementPolicy``).  Every run is reduced to a few metrics, pure
functions of its trace (:func:`run_metrics`), and every grid point to percentiles with
distribution-free confidence intervals (:func:`percentile_ci`).

The package sits outside the core: it only loads scenarios through the normal loader, calls
:func:`statefulsim.runner.run` and reads traces.  Its modules, in the order a sweep uses them:
``grid`` (axes, points, validated variants), ``running`` (one batch of seeds in a worker),
``metrics`` (a run's metrics from its trace), ``executors`` (where batches run), ``state`` (the
resumable state file), ``driver`` (:func:`run_sweep`), ``statistics`` (percentiles and the
result), ``table`` and ``figures`` (output), ``cli`` (the ``statefulsim sweep`` command's body).
See docs/cli.md, "Sweeps".
"""

from __future__ import annotations

from statefulsim.io.paths import parse_path, self_contained, set_path
from statefulsim.sweep.cli import SweepCli, default_state_path
from statefulsim.sweep.driver import ProgressCallback, run_sweep
from statefulsim.sweep.executors import (
    EXECUTORS,
    DaskExecutor,
    Executor,
    ExecutorFactory,
    ExecutorOptions,
    LocalExecutor,
    make_executor,
    register_executor,
    unregister_executor,
)
from statefulsim.sweep.figures import PLOT_KINDS, ecdf_figure, plot_sweep, sweep_figure
from statefulsim.sweep.grid import (
    Axis,
    PreparedPoint,
    SweepError,
    grid_points,
    parse_axis,
    parse_value,
    point_label,
    prepare,
    validated_variant,
)
from statefulsim.sweep.metrics import dns_delays, rollout_duration, run_metrics, time_below_quorum, time_to_ready
from statefulsim.sweep.running import (
    BatchResult,
    RunBatch,
    auto_batch,
    make_batches,
    run_batch,
    run_one,
)
from statefulsim.sweep.state import read_state
from statefulsim.sweep.statistics import (
    BASE_METRICS,
    CONFIDENCE,
    PERCENTILES,
    RunRecord,
    Summary,
    SweepResult,
    percentile_ci,
)
from statefulsim.sweep.table import csv_text, render_table, write_csv

__all__ = [
    "BASE_METRICS", "CONFIDENCE", "EXECUTORS", "PERCENTILES", "PLOT_KINDS",
    "Axis", "BatchResult", "DaskExecutor", "Executor", "ExecutorFactory", "ExecutorOptions", "LocalExecutor",
    "PreparedPoint", "ProgressCallback", "RunBatch", "RunRecord", "Summary", "SweepCli", "SweepError",
    "SweepResult", "auto_batch", "csv_text", "default_state_path", "dns_delays", "ecdf_figure", "grid_points",
    "make_batches", "make_executor", "parse_axis", "parse_path", "parse_value", "percentile_ci", "plot_sweep",
    "point_label", "prepare", "read_state", "register_executor", "render_table", "rollout_duration", "run_batch",
    "run_metrics", "run_one", "run_sweep", "self_contained", "set_path", "sweep_figure", "time_below_quorum",
    "time_to_ready", "unregister_executor", "validated_variant", "write_csv",
]
