"""Sweeps and Monte Carlo: run one scenario over many seeds and a grid of parameter values.

A sweep is a scenario file, a range of seeds and an optional grid of values for scenario fields
named by their path in the scenario YAML (``timing.appReady``,
``manifests[mysql].spec.podManagementPolicy``).  Every run is reduced to a few metrics, pure
functions of its trace (:func:`run_metrics`), and every grid point to percentiles with
distribution-free confidence intervals (:func:`percentile_ci`, :func:`summarize`).

This module sits outside the core: it only loads scenarios through the normal loader, calls
:func:`statefulsim.runner.run` and reads traces.  See docs/cli.md, "Sweeps".
"""

from __future__ import annotations

import contextlib
import copy
import csv
import hashlib
import importlib
import io
import itertools
import json
import math
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any, Callable, Generator, Mapping, Protocol, Sequence, TypeVar

import yaml

from statefulsim.analysis import metrics
from statefulsim.errors import Problem, ScenarioError, StatefulSimError
from statefulsim.io.paths import parse_path, self_contained, set_path
from statefulsim.sim.trace import TraceSource, as_trace

if TYPE_CHECKING:
    from types import TracebackType

    from matplotlib.figure import Figure
    from rich.console import Console

    from statefulsim.model.scenario import Scenario

#: The percentiles reported for every metric.
PERCENTILES: tuple[int, ...] = (50, 90, 99)
#: Confidence level of the percentile intervals.
CONFIDENCE = 0.95
#: Metrics every run has (DNS metrics, ``dns_delay[NAME]``, depend on the scenario's queries).
BASE_METRICS: tuple[str, ...] = ("time_to_ready", "rollout_duration", "time_below_quorum", "stuck")


class SweepError(StatefulSimError):
    """A sweep could not be set up or its files could not be read or written."""


# ---------------------------------------------------------------------------- grid and paths

@dataclass(frozen=True)
class Axis:
    """One ``--set PATH=V1,V2,...``: a scenario field and the values it takes."""

    path: str
    values: tuple[Any, ...]


def _split_top(text: str) -> list[str]:
    """Split on commas outside brackets and braces (``{uniform: {low: 1s, high: 2s}},5s``)."""
    out: list[str] = []
    depth = 0
    cur = ""
    for ch in text:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def parse_value(text: str) -> Any:
    """A value as YAML would read it (``3`` → 3, ``true`` → True, ``5s`` → "5s", ``{constant: 5s}``)."""
    from statefulsim.io.yamlsource import safe_load

    try:
        return safe_load(text, f"--set value {text!r}")
    except ScenarioError:
        return text


def parse_axis(spec: str) -> Axis:
    """``PATH=V1,V2,...`` → :class:`Axis`; raises :class:`ScenarioError` if malformed."""
    path, sep, rest = spec.partition("=")
    path = path.strip()
    if not sep or not path:
        raise ScenarioError([Problem((), f"--set {spec!r}: expected PATH=VALUE[,VALUE...], "
                                         "e.g. timing.appReady=5s,10s")])
    parse_path(path)  # fails early on a malformed path
    values = [v.strip() for v in _split_top(rest)]
    if not values or any(v == "" for v in values):
        raise ScenarioError([Problem((), f"--set {spec!r}: empty value (values are separated by commas)")])
    return Axis(path, tuple(parse_value(v) for v in values))


def grid_points(axes: Sequence[Axis]) -> list[dict[str, Any]]:
    """Every combination of the axes' values, the last axis varying fastest (one empty point without axes)."""
    return [dict(zip([a.path for a in axes], combo)) for combo in itertools.product(*(a.values for a in axes))]


def point_label(point: Mapping[str, Any]) -> str:
    """``timing.appReady=5s manifests[mysql]...=Parallel`` (``(base)`` without a grid)."""
    if not point:
        return "(base)"
    return " ".join(f"{k}={_value_text(v)}" for k, v in point.items())


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


@dataclass(frozen=True)
class PreparedPoint:
    """One grid point, validated: the scenario YAML text with the values applied."""

    index: int
    point: dict[str, Any]
    text: str
    file: str
    base_dir: str

    @property
    def label(self) -> str:
        return point_label(self.point)

    @property
    def fingerprint(self) -> str:
        """Changes when the scenario text does: a state file of an edited scenario is not reused."""
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]


def prepare(scenario_path: str | os.PathLike[str], axes: Sequence[Axis],
            statefulset: str | None = None, *, allow_large: bool = False) -> list[PreparedPoint]:
    """Apply every grid point to the scenario and validate it through the normal loader.

    Raises :class:`ScenarioError` (a bad path, or a value the scenario rejects, naming the
    ``--set`` assignment) and :class:`SweepError` when ``statefulset`` names no StatefulSet of
    the scenario."""
    from statefulsim.io.scenario import load_scenario
    from statefulsim.io.yamlsource import load_file

    name = os.fspath(scenario_path)
    base_dir = os.path.dirname(name) or "."
    base = load_scenario(name, allow_large=allow_large)  # must be valid (its errors point at its lines)
    if statefulset is not None:
        _check_statefulset(base, statefulset)
    docs = load_file(name)
    out: list[PreparedPoint] = []
    for i, point in enumerate(grid_points(axes)):
        data = copy.deepcopy(docs[0].data)
        for path, value in point.items():
            set_path(data, path, value, base_dir)
        text, label = validated_variant(data, name, point, base_dir, allow_large=allow_large)
        out.append(PreparedPoint(i, point, text, label, base_dir))
    return out


def _check_statefulset(scenario: Scenario, name: str) -> None:
    """``--statefulset NAME`` must name a StatefulSet of the scenario (a manifest or an ``apply``)."""
    from statefulsim.problems import suggest
    from statefulsim.sim.actions import Apply
    from statefulsim.sim.api.objects import StatefulSet

    objects = list(scenario.objects) + [o for a in scenario.actions if isinstance(a, Apply) for o in a.objects]
    names = sorted({o.metadata.name for o in objects if isinstance(o, StatefulSet)})
    if name not in names:
        raise SweepError(f"--statefulset {name!r}: no StatefulSet of that name in {scenario.source}"
                         f"{suggest(name, names)}; defined: {', '.join(names)}")


def validated_variant(data: Any, name: str, point: Mapping[str, Any], base_dir: str, *,
                      allow_large: bool = False) -> tuple[str, str]:
    """The YAML text of a scenario with ``point``'s values applied, and its label ("NAME with
    PATH=V, ..."); checked by the loader (and its size limits unless ``allow_large``), whose
    errors name that label as the file."""
    from statefulsim.io.scenario import load_scenario_text

    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    label = f"{name} with {point_label(point)}" if point else name
    try:
        load_scenario_text(text, file=label, base_dir=base_dir, allow_large=allow_large)
    except ScenarioError as e:
        raise ScenarioError([Problem(p.path, p.message, file=label) for p in e.problems]) from None
    return text, label


# ---------------------------------------------------------------------------- metrics

def time_to_ready(trace: TraceSource, statefulset: str | None = None) -> float | None:
    """Time to all ready of ``statefulset`` (default the first set created): seconds from its
    creation until ``kubectl rollout status`` would first call it rolled out
    (:func:`statefulsim.analysis.metrics.time_to_all_ready`); None if never."""
    trace = as_trace(trace)
    return metrics.time_to_all_ready(trace, statefulset)


def rollout_duration(trace: TraceSource, statefulset: str | None = None) -> float | None:
    """Seconds from the first template change to every pod on the new revision
    (:func:`statefulsim.analysis.metrics.rollout_duration`)."""
    trace = as_trace(trace)
    return metrics.rollout_duration(trace, statefulset)


def time_below_quorum(trace: TraceSource, quorum: int, until: float, statefulset: str | None = None) -> float | None:
    """Seconds up to ``until`` with fewer than ``quorum`` Ready replicas
    (:func:`statefulsim.analysis.metrics.time_below`) for ``statefulset`` (default the first set
    created); None without a StatefulSet."""
    trace = as_trace(trace)
    if statefulset is None:
        created = metrics.first_statefulset(trace)
        if created is None:
            return None
        statefulset = created.fields["statefulset"]
    return metrics.time_below(trace, statefulset, quorum, until)


def dns_delays(trace: TraceSource) -> dict[str, float | None]:
    """``dns_delay[NAME]`` for every pod name a ``dnsQuery`` asked about
    (:func:`statefulsim.analysis.metrics.dns_delays`)."""
    trace = as_trace(trace)
    return metrics.dns_delays(trace)


def run_metrics(trace: TraceSource, *, until: float, quorum: int | None = None,
                statefulset: str | None = None) -> dict[str, float | None]:
    """Every metric of one run (see docs/cli.md, "Sweeps"), rounded to the microsecond; None when missing."""
    trace = as_trace(trace)
    from statefulsim.analysis.stuck import stuck_statefulsets

    stuck = stuck_statefulsets(trace)
    if statefulset is not None:
        stuck = [s for s in stuck if s.statefulset == statefulset]
    values: dict[str, float | None] = {
        "time_to_ready": time_to_ready(trace, statefulset),
        "rollout_duration": rollout_duration(trace, statefulset),
        "time_below_quorum": time_below_quorum(trace, quorum, until, statefulset) if quorum is not None else None,
        "stuck": 1.0 if stuck else 0.0,
    }
    values.update(dns_delays(trace))
    return {k: (None if v is None else round(float(v), 6)) for k, v in values.items()}


# ---------------------------------------------------------------------------- statistics

def _log_binom_pmf(k: int, n: int, p: float) -> float:
    if p <= 0.0:
        return 0.0 if k == 0 else -math.inf
    if p >= 1.0:
        return 0.0 if k == n else -math.inf
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            + k * math.log(p) + (n - k) * math.log1p(-p))


def _binom_cdf(n: int, p: float) -> list[float]:
    """``cdf[k] = P(B <= k)`` for B ~ Binomial(n, p), k = 0..n."""
    out: list[float] = []
    acc = 0.0
    for k in range(n + 1):
        acc += math.exp(_log_binom_pmf(k, n, p))
        out.append(min(acc, 1.0))
    return out


def percentile_ci(values: Sequence[float], q: float, confidence: float = CONFIDENCE
                  ) -> tuple[float | None, float | None, float | None]:
    """The ``q``-quantile (0 < q < 1) of ``values`` and a distribution-free confidence interval.

    Estimate: the nearest-rank order statistic ``x(ceil(q*n))``.  Interval: order statistics
    ``[x(l), x(u)]`` with, for B ~ Binomial(n, q), ``l`` the largest rank with ``P(B <= l-1) <=
    (1-confidence)/2`` and ``u`` the smallest with ``P(B <= u-1) >= 1-(1-confidence)/2``; then
    ``P(x(l) <= true quantile <= x(u)) >= confidence`` for any continuous distribution.  A bound
    is None when ``n`` is too small for it (e.g. the upper bound of p99 under ~300 runs)."""
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        return None, None, None
    est = xs[max(1, math.ceil(q * n)) - 1]
    alpha = (1.0 - confidence) / 2.0
    cdf = _binom_cdf(n, q)
    eps = 1e-12
    lo: float | None = None
    l_rank = 0
    for rank in range(1, n + 1):  # P(B <= rank-1)
        if cdf[rank - 1] <= alpha + eps:
            l_rank = rank
        else:
            break
    if l_rank >= 1:
        lo = xs[l_rank - 1]
    hi: float | None = None
    for rank in range(1, n + 1):
        if cdf[rank - 1] >= 1.0 - alpha - eps:
            hi = xs[rank - 1]
            break
    return est, lo, hi


@dataclass(frozen=True)
class Summary:
    """One grid point × metric: how many runs had a value, the mean and the percentiles with intervals."""

    point_index: int
    point: dict[str, Any]
    metric: str
    runs: int
    n: int
    mean: float | None
    percentiles: dict[int, tuple[float | None, float | None, float | None]]


@dataclass(frozen=True)
class RunRecord:
    """One finished run, as the state file stores it."""

    point_index: int
    seed: int
    metrics: dict[str, float | None]


@dataclass
class SweepResult:
    """Every run of a sweep, sorted by grid point and seed, with the points it covered."""

    points: list[PreparedPoint]
    runs: list[RunRecord]
    seeds: list[int]
    executed: int = 0  # runs done by this call (the others came from the state file)

    def metric_names(self) -> list[str]:
        names: set[str] = set()
        for r in self.runs:
            names.update(r.metrics)
        base = [m for m in BASE_METRICS if m in names]
        return base + sorted(names - set(BASE_METRICS))

    def values(self, point_index: int, metric: str) -> list[float]:
        """The non-missing values of ``metric`` at one grid point, in seed order."""
        out: list[float] = []
        for r in self.runs:
            v = r.metrics.get(metric)
            if r.point_index == point_index and v is not None:
                out.append(v)
        return out

    def records(self) -> list[dict[str, Any]]:
        """One dict per run (``pandas.DataFrame(result.records())`` works)."""
        out: list[dict[str, Any]] = []
        for r in self.runs:
            row: dict[str, Any] = dict(self.points[r.point_index].point)
            row["seed"] = r.seed
            row.update(r.metrics)
            out.append(row)
        return out

    def __repr__(self) -> str:
        axes = sorted({k for pt in self.points for k in pt.point})
        return (f"<SweepResult: {len(self.points)} grid point{'' if len(self.points) == 1 else 's'}"
                f"{' over ' + ', '.join(axes) if axes else ''} × {len(self.seeds)} seeds = {len(self.runs)} runs, "
                f"{self.executed} run now>")

    def _repr_html_(self) -> str:
        """Jupyter: the summary line, then per grid point the median (p50) of each metric."""
        import html

        metrics = self.metric_names()
        head = "".join(f"<th>{html.escape(m)}</th>" for m in metrics)
        rows = []
        by_point: dict[int, dict[str, Summary]] = {}
        for s in self.summaries():
            by_point.setdefault(s.point_index, {})[s.metric] = s
        for pt in self.points:
            label = ", ".join(f"{k}={v}" for k, v in pt.point.items()) or "(the scenario)"
            cells = []
            for m in metrics:
                found = by_point.get(pt.index, {}).get(m)
                p50 = found.percentiles.get(50, (None, None, None))[0] if found is not None else None
                cells.append(f"<td>{'—' if p50 is None else f'{p50:g}'}</td>")
            rows.append(f"<tr><td>{html.escape(label)}</td>{''.join(cells)}</tr>")
        return (f"<p><b>{html.escape(repr(self))}</b></p><table><tr><th>point (median of each metric)</th>{head}</tr>"
                + "".join(rows) + "</table>")

    def summaries(self, confidence: float = CONFIDENCE) -> list[Summary]:
        """One :class:`Summary` per grid point × metric, in grid then metric order."""
        out: list[Summary] = []
        for pt in self.points:
            runs = sum(1 for r in self.runs if r.point_index == pt.index)
            for m in self.metric_names():
                vals = self.values(pt.index, m)
                mean = round(math.fsum(vals) / len(vals), 6) if vals else None
                pcts = {q: percentile_ci(vals, q / 100.0, confidence) for q in PERCENTILES}
                out.append(Summary(pt.index, pt.point, m, runs, len(vals), mean, pcts))
        return out


# ---------------------------------------------------------------------------- running

_LOADED: dict[str, Scenario] = {}


def _scenario_for(text: str, file: str, base_dir: str) -> Scenario:
    from statefulsim.io.scenario import load_scenario_text

    key = hashlib.sha256((file + "\0" + base_dir + "\0" + text).encode()).hexdigest()
    sc = _LOADED.get(key)
    if sc is None:
        # allow_large: prepare() checked the size limits of every grid point's text already
        sc = load_scenario_text(text, file=file, base_dir=base_dir, allow_large=True)
        _LOADED.clear()  # one grid point at a time is enough
        _LOADED[key] = sc
    return sc


def run_one(text: str, file: str, base_dir: str, seed: int, quorum: int | None,
            statefulset: str | None) -> dict[str, float | None]:
    """Load a prepared grid point (cached per process), run it with ``seed``, return its metrics.
    Module level, so a spawned worker process can call it."""
    from statefulsim.runner import run

    scenario = _scenario_for(text, file, base_dir)
    result = run(scenario, seed=seed)
    return run_metrics(result.trace, until=result.until, quorum=quorum, statefulset=statefulset)


def _state_key(fingerprint: str, quorum: int | None, statefulset: str | None) -> str:
    return f"{fingerprint}:{quorum}:{statefulset}"


def read_state(path: str | os.PathLike[str]) -> dict[tuple[str, int], dict[str, float | None]]:
    """Finished runs of a state file, keyed (run key, seed); empty when the file does not exist.

    Every complete line must be a sweep record (``{"key": ..., "point": {...}, "seed": N,
    "metrics": {...}}``): any other file (a trace, a CSV) is refused with :class:`SweepError`,
    so a sweep never appends to it.  A last line without its newline is a run cut off while
    being written: it is skipped (and run again)."""
    name = os.fspath(path)
    if not os.path.lexists(name):
        return {}
    data = _read_state_bytes(name)
    out: dict[tuple[str, int], dict[str, float | None]] = {}
    lines = data.split(b"\n")
    for number, raw in enumerate(lines[:-1], start=1):  # lines[-1]: empty, or a cut-off write
        if not raw.strip():
            continue
        record = _state_record(raw)
        if record is None:
            raise SweepError(f"{name}:{number}: not a sweep state record (expected "
                             '{"key": ..., "point": {...}, "seed": N, "metrics": {...}}, one per run); '
                             "is this the state file of a sweep? Give another --state file")
        key, seed, metrics = record
        out[(key, seed)] = metrics
    return out


def _read_state_bytes(name: str) -> bytes:
    from statefulsim.io.files import InputFileError, read_input

    try:
        return read_input(name)
    except InputFileError as e:
        raise SweepError(str(e).replace("cannot read file", "cannot read the state file", 1)) from None


def _state_record(raw: bytes) -> tuple[str, int, dict[str, float | None]] | None:
    """(key, seed, metrics) of one state line, None if it is not a sweep record."""
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("key"), str) or not isinstance(obj.get("point"), dict):
        return None
    seed, metrics = obj.get("seed"), obj.get("metrics")
    if isinstance(seed, bool) or not isinstance(seed, int) or not isinstance(metrics, dict):
        return None
    if not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in metrics.values()):
        return None
    return obj["key"], seed, dict(metrics)


class _StateWriter:
    """Appends one whole batch of runs per write to the state file, flushed and fsynced, so a
    kill leaves at most a cut-off last line; opening the file removes such a line first."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = path
        self.fh: io.TextIOWrapper | None = None
        if path is None:
            return
        try:
            name = os.fspath(path)
            if os.path.lexists(name):
                data = _read_state_bytes(name)
                if data and not data.endswith(b"\n"):  # a write cut off: drop its remains
                    from statefulsim.io.files import atomic_write_text

                    atomic_write_text(name, data[:data.rfind(b"\n") + 1].decode("utf-8", "replace"))
            self.fh = open(name, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        except OSError as e:
            raise SweepError(f"{os.fspath(path)}: cannot write the state file: {e.strerror or e}") from None

    def write_batch(self, key: str, point: Mapping[str, Any],
                    runs: Sequence[tuple[int, Mapping[str, float | None]]]) -> None:
        """One line per run, written, flushed and fsynced once for the batch."""
        if self.fh is None:
            return
        self.fh.write("".join(json.dumps({"key": key, "point": point, "seed": seed, "metrics": metrics},
                                         separators=(",", ":"), default=str) + "\n" for seed, metrics in runs))
        self.fh.flush()
        os.fsync(self.fh.fileno())

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()


ProgressCallback = Callable[[int, int], None]


# ---------------------------------------------------------------------------- batches and executors

@dataclass(frozen=True)
class RunBatch:
    """Seeds of one grid point run together as one task (the unit an executor ships to a worker).

    ``text`` is self-contained (manifest ``{file: ...}`` items inlined), so a worker on another
    machine needs statefulsim but not the scenario's files."""

    point_index: int
    text: str
    file: str
    base_dir: str
    seeds: tuple[int, ...]
    quorum: int | None
    statefulset: str | None
    plugins: tuple[str, ...] = ()  # modules the worker imports first (--plugin)


@dataclass(frozen=True)
class BatchResult:
    """The metrics of every seed of a :class:`RunBatch`, in the batch's seed order."""

    point_index: int
    runs: tuple[tuple[int, dict[str, float | None]], ...]


def run_batch(batch: RunBatch) -> BatchResult:
    """Run every seed of ``batch`` (:func:`run_one`; the scenario is loaded once per process),
    after importing its plug-in modules.  Module level, so worker processes and Dask workers can
    call it by reference."""
    if batch.plugins:
        from statefulsim.plugins import load_plugins

        load_plugins(batch.plugins, " in a worker process")
    return BatchResult(batch.point_index, tuple(
        (seed, run_one(batch.text, batch.file, batch.base_dir, seed, batch.quorum, batch.statefulset))
        for seed in batch.seeds))


#: Automatic batch size: aim at this many batches per worker (load balance against per-task cost) ...
BATCHES_PER_WORKER = 4
#: ... but never more runs than this in one batch (an interruption loses at most the batches in flight).
MAX_AUTO_BATCH = 50


def auto_batch(runs: int, workers: int) -> int:
    """Runs per batch when ``--batch`` is not given: ``ceil(runs / (4 * workers))``, at most 50."""
    return max(1, min(MAX_AUTO_BATCH, math.ceil(runs / (BATCHES_PER_WORKER * max(1, workers)))))


def make_batches(todo: Sequence[tuple[PreparedPoint, int]], size: int, quorum: int | None,
                 statefulset: str | None, plugins: Sequence[str] = ()) -> list[RunBatch]:
    """Split ``todo`` into batches of at most ``size`` seeds, never mixing grid points; every
    batch names the ``plugins`` its worker imports."""
    by_point: dict[int, tuple[PreparedPoint, list[int]]] = {}
    for pt, seed in todo:
        by_point.setdefault(pt.index, (pt, []))[1].append(seed)
    out: list[RunBatch] = []
    for pt, seeds in by_point.values():
        text = self_contained(pt.text, pt.base_dir)
        for i in range(0, len(seeds), size):
            out.append(RunBatch(pt.index, text, pt.file, pt.base_dir, tuple(seeds[i:i + size]), quorum, statefulset,
                                tuple(plugins)))
    return out


class Executor(Protocol):
    """Where the batches of a sweep run.  Used as a context manager: entering starts it (and may
    raise :class:`SweepError`, e.g. a scheduler that cannot be reached), leaving releases it,
    cancelling whatever is still queued."""

    @property
    def workers(self) -> int:
        """How many batches run at once (sizes the automatic batch)."""
        ...

    @property
    def in_process(self) -> bool:
        """True when runs happen in the calling process (batching saves nothing there)."""
        ...

    @property
    def description(self) -> str:
        """Where the runs happen, as the end of "runs ..." ("in this process", "on 2 local worker processes")."""
        ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def map_runs(self, batches: Sequence[RunBatch]) -> Generator[BatchResult, None, None]:
        """Run every batch (:func:`run_batch`) and yield each result as soon as it is done, in any
        order.  An exception raised by a run propagates."""
        ...


@dataclass(frozen=True)
class ExecutorOptions:
    """What the command line says about executors; each executor uses what applies to it."""

    workers: int | None = None
    scheduler: str | None = None
    connect_timeout: float = 10.0

    def worker_count(self) -> int:
        """``workers``, or one per core when not given."""
        return self.workers if self.workers is not None else (os.cpu_count() or 1)


ExecutorFactory = Callable[[ExecutorOptions], Executor]


_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


class LocalExecutor:
    """``workers`` processes started with ``spawn`` (``ProcessPoolExecutor``); 1 runs in this process."""

    def __init__(self, workers: int) -> None:
        self._workers = max(1, workers)
        self._pool: ProcessPoolExecutor | None = None

    @property
    def workers(self) -> int:
        return self._workers

    @property
    def in_process(self) -> bool:
        return self._workers == 1

    @property
    def description(self) -> str:
        return "in this process" if self.in_process else f"on {self._workers} local worker processes"

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._pool is not None:  # after an error or Ctrl-C, do not wait for the batches in flight
            self._pool.shutdown(wait=exc_type is None, cancel_futures=True)
            self._pool = None

    def map(self, fn: Callable[[_Item], _Result], items: Sequence[_Item]) -> Generator[_Result, None, None]:
        """``fn(item)`` for every item, yielded as each is done, in any order (``fn`` and the
        items must pickle); in this process with one worker or one item."""
        if self.in_process or len(items) <= 1:
            for item in items:
                yield fn(item)
            return
        self._pool = ProcessPoolExecutor(max_workers=min(self._workers, len(items)),
                                         mp_context=get_context("spawn"))
        futures = [self._pool.submit(fn, item) for item in items]
        try:
            for fut in as_completed(futures):
                yield fut.result()
        finally:
            for fut in futures:
                fut.cancel()

    def map_runs(self, batches: Sequence[RunBatch]) -> Generator[BatchResult, None, None]:
        return self.map(run_batch, batches)


def _local(options: ExecutorOptions) -> Executor:
    if options.scheduler is not None:
        raise SweepError("--scheduler is for --executor dask")
    return LocalExecutor(options.worker_count())


class DaskExecutor:
    """Batches as tasks of a Dask distributed cluster: the scheduler at ``scheduler``, or without
    one a ``distributed.LocalCluster`` of ``workers`` single-threaded worker processes started
    here.  dask and distributed are imported only when this executor starts."""

    def __init__(self, workers: int, scheduler: str | None, connect_timeout: float) -> None:
        self._requested = max(1, workers)
        self.scheduler = scheduler
        self.connect_timeout = connect_timeout
        self._client: Any = None
        self._cluster: Any = None
        self._workers = self._requested
        self._description = "dask"

    @property
    def workers(self) -> int:
        return self._workers

    @property
    def in_process(self) -> bool:
        return False

    @property
    def description(self) -> str:
        return self._description

    def __enter__(self) -> DaskExecutor:
        try:
            distributed: Any = importlib.import_module("distributed")  # optional, untyped: Any
        except ImportError as e:
            raise SweepError(f"--executor dask needs the packages dask and distributed ({e}); "
                             "install them with: pip install 'statefulsim[dask]'") from None
        if self.scheduler is None:
            self._cluster = distributed.LocalCluster(n_workers=self._requested, threads_per_worker=1,
                                                     processes=True, dashboard_address=":0")
            try:
                self._client = distributed.Client(self._cluster)
            except BaseException:
                self.__exit__(None, None, None)
                raise
            n = self._requested
            self._description = (f"on a local Dask cluster started for this sweep (no --scheduler given): "
                                 f"LocalCluster of {n} worker process{'' if n == 1 else 'es'} at "
                                 f"{self._cluster.scheduler_address}")
            return self
        try:
            self._client = distributed.Client(self.scheduler, timeout=self.connect_timeout)
        except Exception as e:  # refused, timed out, a bad address, or something that is no Dask scheduler
            raise SweepError(f"cannot reach the Dask scheduler at {self.scheduler} "
                             f"(connect timeout {self.connect_timeout:g} s): {type(e).__name__}: {e}") from None
        threads = sum(self._client.nthreads().values())
        self._workers = max(1, int(threads))
        self._description = f"on the Dask cluster at {self.scheduler} ({threads} worker threads)"
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def map_runs(self, batches: Sequence[RunBatch]) -> Generator[BatchResult, None, None]:
        if self._client is None:
            raise SweepError("the Dask executor is not started (use it in a with block)")
        distributed: Any = importlib.import_module("distributed")
        futures = self._client.map(run_batch, list(batches), pure=False)
        try:
            for fut in distributed.as_completed(futures):
                result: BatchResult = fut.result()
                yield result
        finally:
            pending = [f for f in futures if not f.done()]
            if pending:
                self._client.cancel(pending)


def _dask(options: ExecutorOptions) -> Executor:
    return DaskExecutor(options.worker_count(),
                        options.scheduler, options.connect_timeout)


#: Executors by the name ``--executor`` takes; add one with :func:`register_executor`.
EXECUTORS: dict[str, ExecutorFactory] = {"local": _local, "dask": _dask}


def register_executor(name: str, factory: ExecutorFactory) -> None:
    """Make ``factory(options)`` available as ``--executor NAME`` / ``run_sweep(executor=NAME)``."""
    EXECUTORS[name] = factory


def make_executor(name: str, options: ExecutorOptions) -> Executor:
    """The executor registered as ``name``; :class:`SweepError` for an unknown name."""
    factory = EXECUTORS.get(name)
    if factory is None:
        raise SweepError(f"unknown executor {name!r}; known: {', '.join(sorted(EXECUTORS))}")
    return factory(options)


def run_sweep(scenario_path: str | os.PathLike[str], *, runs: int = 100, seed_start: int = 0,
              axes: Sequence[Axis] = (), quorum: int | None = None, statefulset: str | None = None,
              workers: int | None = None, state: str | os.PathLike[str] | None = None,
              progress: ProgressCallback | None = None, executor: str | Executor = "local",
              scheduler: str | None = None, connect_timeout: float = 10.0, batch: int | None = None,
              notice: Callable[[str], None] | None = None, plugins: Sequence[str] = (),
              allow_large: bool = False) -> SweepResult:
    """Run the scenario with seeds ``seed_start .. seed_start+runs-1`` at every grid point.

    ``executor`` is a name of :data:`EXECUTORS` (``local``: ``workers`` processes, default the
    CPU count, 1 runs in this process, started with ``spawn``; ``dask``: the Dask scheduler at
    ``scheduler``, or a LocalCluster of ``workers`` processes) or an :class:`Executor`.  Runs go
    to the executor in batches of ``batch`` seeds of one grid point (default :func:`auto_batch`;
    1 in this process).  With ``state``, the runs of every finished batch are appended to that
    JSON Lines file at once, and runs already there (same scenario text, quorum and statefulset)
    are skipped.  ``progress(done, total)`` is called as batches finish; ``notice(text)`` once
    the executor has started, saying where the runs happen.  The result does not depend on the
    executor, worker count, batch size or on how often the sweep was interrupted.  ``plugins``:
    modules that register policies, delay models, verbs or expectations, imported here and by
    every worker before it loads the scenario (:mod:`statefulsim.plugins`)."""
    from statefulsim.plugins import load_plugins, workers_lack_registration

    plugins = load_plugins(plugins)
    if runs < 1:
        raise SweepError("--runs must be at least 1")
    if batch is not None and batch < 1:
        raise SweepError("--batch must be at least 1")
    points = prepare(scenario_path, axes, statefulset, allow_large=allow_large)
    seeds = list(range(seed_start, seed_start + runs))
    if isinstance(executor, str):
        executor = make_executor(executor, ExecutorOptions(workers, scheduler, connect_timeout))
    done = read_state(state) if state is not None else {}
    keys = {pt.index: _state_key(pt.fingerprint, quorum, statefulset) for pt in points}
    results: dict[tuple[int, int], dict[str, float | None]] = {}
    todo: list[tuple[PreparedPoint, int]] = []
    for pt in points:
        for s in seeds:
            m = done.get((keys[pt.index], s))
            if m is not None:
                results[(pt.index, s)] = m
            else:
                todo.append((pt, s))
    total = len(points) * len(seeds)
    finished = len(results)
    if progress is not None:
        progress(finished, total)
    writer = _StateWriter(state)
    try:
        if todo:
            with executor:
                if notice is not None:
                    notice(executor.description)
                size = batch if batch is not None else (1 if executor.in_process
                                                        else auto_batch(len(todo), executor.workers))
                batches = make_batches(todo, size, quorum, statefulset, plugins)
                with contextlib.closing(executor.map_runs(batches)) as finished_batches:
                    for br in finished_batches:
                        pt = points[br.point_index]
                        for seed, metrics in br.runs:
                            results[(pt.index, seed)] = metrics
                        writer.write_batch(keys[pt.index], pt.point, br.runs)
                        finished += len(br.runs)
                        if progress is not None:
                            progress(finished, total)
    except ScenarioError as e:  # every point loaded here: a worker lacks a registration
        if executor.in_process:
            raise
        raise workers_lack_registration(e) from None
    finally:
        writer.close()
    # through JSON, so runs from this call and from the state file are the same values
    ordered = [RunRecord(i, s, json.loads(json.dumps(results[(i, s)]))) for (i, s) in sorted(results)]
    return SweepResult(points, ordered, seeds, executed=len(todo))


# ---------------------------------------------------------------------------- output

def _num(v: float | None) -> str:
    return "" if v is None else repr(v)


def csv_text(result: SweepResult, confidence: float = CONFIDENCE) -> str:
    """The summary as CSV: one row per grid point × metric; the grid paths are the first columns."""
    axes = list(result.points[0].point) if result.points else []
    header = axes + ["metric", "runs", "n", "mean"]
    for q in PERCENTILES:
        header += [f"p{q}", f"p{q}_lo", f"p{q}_hi"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for s in result.summaries(confidence):
        row = [_value_text(s.point[a]) for a in axes] + [s.metric, str(s.runs), str(s.n), _num(s.mean)]
        for q in PERCENTILES:
            row += [_num(x) for x in s.percentiles[q]]
        w.writerow(row)
    return buf.getvalue()


def write_csv(result: SweepResult, path: str | os.PathLike[str]) -> None:
    """Write :func:`csv_text` to ``path`` atomically (a write cut short leaves the old file)."""
    from statefulsim.io.files import atomic_write_text

    try:
        atomic_write_text(path, csv_text(result))
    except OSError as e:
        raise SweepError(f"{os.fspath(path)}: cannot write the CSV file: {e.strerror or e}") from None


def _sec(v: float | None) -> str:
    return "–" if v is None else (f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}")


_SHORT = {"time_to_ready": "all ready", "rollout_duration": "rollout", "time_below_quorum": "below quorum"}


def render_table(result: SweepResult, console: Console, *, quorum: int | None = None) -> None:
    """The summary as a rich table: per grid point and metric, n and p50/p90/p99 in seconds with
    their 95 % confidence interval (– where the sample is too small for a bound)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    axes = list(result.points[0].point) if result.points else []
    shown = {m for m in result.metric_names() if any(result.values(p.index, m) for p in result.points)}
    shown.add("stuck")
    if quorum is None:
        shown.discard("time_below_quorum")
    caption = "; ".join(f"{parse_path(a)[-1][1]} = {a}" for a in axes if parse_path(a)[-1][1] != a)
    table = Table(title=f"{len(result.seeds)} seeds × {len(result.points)} grid point"
                        f"{'' if len(result.points) == 1 else 's'}; n: runs with a value; seconds: pXX [95% CI]", title_justify="left",
                  caption=Text(caption) if caption else None, caption_justify="left", box=box.SIMPLE_HEAD)
    for a in axes:
        width = max(len(_value_text(p.point[a])) for p in result.points)
        table.add_column(Text(parse_path(a)[-1][1]), min_width=width, overflow="fold")
    table.add_column("metric", min_width=12, overflow="fold")
    table.add_column("n", justify="right", no_wrap=True)
    for q in PERCENTILES:
        table.add_column(f"p{q}", justify="right", no_wrap=True)
    last = -1
    for s in result.summaries():
        if s.metric not in shown:
            continue
        first = s.point_index != last
        if first and last != -1:
            table.add_section()
        last = s.point_index
        cells = [Text(_value_text(s.point[a]) if first else "") for a in axes]
        if s.metric == "stuck":
            stuck = int(round((s.mean or 0.0) * s.n))
            table.add_row(*cells, "stuck", str(s.n), f"{stuck} of {s.n} runs", "", "")
            continue
        stats = [f"{_sec(est)} [{_sec(lo)},{_sec(hi)}]" if est is not None else "–"
                 for est, lo, hi in (s.percentiles[q] for q in PERCENTILES)]
        table.add_row(*cells, Text(_SHORT.get(s.metric, s.metric.replace("dns_delay", "dns"))), str(s.n), *stats)
    console.print(table)


#: The kinds of sweep plot (``--plot-kind``).
PLOT_KINDS: tuple[str, ...] = ("box", "ecdf")


def _check_kind(kind: str) -> None:
    if kind not in PLOT_KINDS:
        raise SweepError(f"unknown plot kind {kind!r}; known: {', '.join(PLOT_KINDS)}")


def _plotted_metrics(result: SweepResult, quorum: int | None) -> list[str]:
    """The metrics worth a panel: not ``stuck``, below-quorum only with a quorum, some value somewhere."""
    metrics = [m for m in result.metric_names() if m != "stuck" and (m != "time_below_quorum" or quorum is not None)]
    return [m for m in metrics if any(result.values(p.index, m) for p in result.points)] or ["time_to_ready"]


def sweep_figure(result: SweepResult, *, quorum: int | None = None, kind: str = "box") -> Figure:
    """One panel per metric on an Agg canvas (no pyplot): ``kind="box"`` a box per grid point
    (whiskers p1–p99), ``kind="ecdf"`` an empirical CDF per grid point (:func:`ecdf_figure`)."""
    _check_kind(kind)
    if kind == "ecdf":
        return ecdf_figure(result, quorum=quorum)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    metrics = _plotted_metrics(result, quorum)
    fig = Figure(figsize=(max(6.0, 1.2 * len(result.points) + 3.0), 2.6 * len(metrics) + 0.6))
    FigureCanvasAgg(fig)
    labels = ["\n".join(_value_text(v) for v in p.point.values()) or "(base)" for p in result.points]
    for i, m in enumerate(metrics):
        ax = fig.add_subplot(len(metrics), 1, i + 1)
        data = [result.values(p.index, m) for p in result.points]
        positions = [j + 1 for j, d in enumerate(data) if d]
        if positions:
            ax.boxplot([d for d in data if d], positions=positions, widths=0.5, whis=(1, 99))
        ax.set_xticks(range(1, len(labels) + 1))
        ax.set_xticklabels(labels if i == len(metrics) - 1 else [""] * len(labels), fontsize=8)
        ax.set_xlim(0.5, len(labels) + 0.5)
        ax.set_ylabel("seconds")
        if i == len(metrics) - 1 and result.points and result.points[0].point:
            ax.set_xlabel("\n".join(result.points[0].point), fontsize=8)
        ax.set_title(m, fontsize=10, loc="left")
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{len(result.seeds)} seeds per grid point (whiskers: p1–p99)", fontsize=10)
    fig.tight_layout()
    return fig


#: How the ECDF legend names a run without a value, per metric.
_NEVER = {"time_to_ready": "never all ready", "rollout_duration": "rollout never finished",
          "time_below_quorum": "no value"}


def _short_label(point: Mapping[str, Any], constant: set[str]) -> str:
    """``appReady=5s podManagementPolicy=Parallel``: the last key of each path, without the axes in
    ``constant`` (one value only); ``(base)`` when nothing is left."""
    parts = [f"{parse_path(k)[-1][1]}={_value_text(v)}" for k, v in point.items() if k not in constant]
    return " ".join(parts) or "(base)"


def ecdf_figure(result: SweepResult, *, quorum: int | None = None) -> Figure:
    """An empirical CDF per metric and grid point, on an Agg canvas (no pyplot).

    y is the fraction of *all* runs of the grid point with a value ≤ x, so a curve that levels
    off below 1 shows the runs that never got there (no value: never all ready, rollout never
    finished, name never resolved); the legend says how many, also for a grid point without any
    value.  A grid point has the same colour in every panel; dotted lines mark p50, p90, p99."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    metrics = _plotted_metrics(result, quorum)
    axes = list(result.points[0].point) if result.points else []
    constant = {a for a in axes if len({_value_text(p.point[a]) for p in result.points}) == 1}
    fig = Figure(figsize=(12.0, 3.2 * len(metrics) + 0.8), layout="constrained")  # room for outside legends
    FigureCanvasAgg(fig)
    runs_at = {p.index: sum(1 for r in result.runs if r.point_index == p.index) for p in result.points}
    for i, m in enumerate(metrics):
        ax = fig.add_subplot(len(metrics), 1, i + 1)
        values = {p.index: sorted(result.values(p.index, m)) for p in result.points}
        right = max((v[-1] for v in values.values() if v), default=0.0)
        never = _NEVER.get(m, "never resolved" if m.startswith("dns_delay") else "no value")
        for p in result.points:
            vals, total = values[p.index], runs_at[p.index]
            missing = total - len(vals)
            label = _short_label(p.point, constant) + (f" ({missing} of {total} runs: {never})" if missing
                                                       else f" ({total} runs)")
            colour = f"C{p.index % 10}"
            if not vals:  # nothing to draw, but the legend says so
                ax.plot([], [], color=colour, label=label, linewidth=1.4)
                continue
            # from 0 at the first value, a step at every value, flat up to the largest value of the panel
            xs = [vals[0]] + vals
            ys = [0.0] + [k / total for k in range(1, len(vals) + 1)]
            if right > vals[-1]:
                xs.append(right)
                ys.append(ys[-1])
            ax.step(xs, ys, where="post", color=colour, label=label, linewidth=1.4)
        for q in PERCENTILES:
            ax.axhline(q / 100.0, color="grey", linestyle=":", linewidth=0.8)
        marks = ax.secondary_yaxis("right")
        marks.set_yticks([q / 100.0 for q in PERCENTILES], [f"p{q}" for q in PERCENTILES], fontsize=7, color="grey")
        ax.set_ylim(0.0, 1.02)
        ax.set_xlabel("seconds", fontsize=8)
        ax.set_ylabel("fraction of runs ≤ x", fontsize=8)
        ax.set_title(m, fontsize=10, loc="left")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.05, 1.0), borderaxespad=0.0,
                  title="grid point" if set(axes) - constant else None, title_fontsize=7)
    fixed = "; ".join(f"{a}={_value_text(result.points[0].point[a])}" for a in axes if a in constant)
    fig.suptitle(f"Empirical CDF, {len(result.seeds)} seeds per grid point"
                 + (f" ({fixed})" if fixed else "") + "; a curve levelling off below 1: runs without a value",
                 fontsize=10)
    return fig


def plot_sweep(result: SweepResult, path: str | os.PathLike[str], *, quorum: int | None = None,
               kind: str = "box") -> Figure:
    """Write :func:`sweep_figure` of ``kind`` to ``path`` (``.png``, ``.svg`` or ``.pdf``) and return it."""
    from statefulsim.present.plots import check_format, save

    check_format(path)
    fig = sweep_figure(result, quorum=quorum, kind=kind)
    save(fig, path)
    return fig


def default_state_path(out: str | None) -> str | None:
    """``results.csv`` → ``results.jsonl`` (None without a CSV)."""
    if out is None:
        return None
    return os.path.splitext(out)[0] + ".jsonl"


__all__ = [
    "EXECUTORS", "Axis", "BatchResult", "DaskExecutor", "Executor", "ExecutorOptions", "LocalExecutor",
    "PLOT_KINDS", "PreparedPoint", "RunBatch", "RunRecord", "Summary", "SweepError", "SweepResult", "auto_batch",
    "csv_text", "default_state_path", "dns_delays", "ecdf_figure", "grid_points", "make_batches", "make_executor",
    "parse_axis", "parse_path", "percentile_ci", "plot_sweep", "prepare", "register_executor", "render_table",
    "rollout_duration", "run_batch", "run_metrics", "run_one", "run_sweep", "self_contained", "set_path",
    "sweep_figure", "time_below_quorum", "time_to_ready", "write_csv",
]


class SweepCli:
    """What ``statefulsim sweep`` does, kept here so the command in cli.py stays thin."""

    def __init__(self, console: Console, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet

    def run(self, scenario: str, *, runs: int, seed_start: int, sets: Sequence[str], workers: int | None,
            quorum: int | None, statefulset: str | None, out: str | None, state: str | None,
            plot: str | None, executor: str = "local", scheduler: str | None = None,
            connect_timeout: float = 10.0, batch: int | None = None, plot_kind: str = "box",
            plugins: Sequence[str] = (), allow_large: bool = False) -> SweepResult:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
        from rich.text import Text

        if plot is not None:
            from statefulsim.present.plots import check_format

            check_format(plot)  # an unknown suffix fails before the runs
            _check_kind(plot_kind)
        axes = [parse_axis(s) for s in sets]
        state = state if state is not None else default_state_path(out)
        progress = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                            console=self.console, disable=self.quiet or not self.console.is_terminal,
                            transient=True)
        task = progress.add_task("sweep", total=None)

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        where: list[str] = []

        def notice(text: str) -> None:
            where.append(text)
            if not self.quiet and executor != "local":  # starting or reaching a cluster takes a while: say so
                progress.console.print(Text(f"sweep: runs {text}", style="dim"))

        with progress:
            result = run_sweep(scenario, runs=runs, seed_start=seed_start, axes=axes, quorum=quorum,
                               statefulset=statefulset, workers=workers, state=state, progress=report,
                               executor=executor, scheduler=scheduler, connect_timeout=connect_timeout,
                               batch=batch, notice=notice, plugins=plugins, allow_large=allow_large)
        if out is not None:
            write_csv(result, out)
        if plot is not None:
            plot_sweep(result, plot, quorum=quorum, kind=plot_kind)
        if not self.quiet:
            render_table(result, self.console, quorum=quorum)
            reused = len(result.runs) - result.executed
            notes = [f"{result.executed} runs done" + (f" {where[0]}" if where else "")
                     + (f", {reused} reused from {state}" if reused else "")]
            if out is not None:
                notes.append(f"csv: {out}")
            if state is not None:
                notes.append(f"state: {state}")
            if plot is not None:
                notes.append(f"plot: {plot}")
            self.console.print(Text("; ".join(notes), style="dim"))
        return result
