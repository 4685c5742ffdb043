"""Where the batches of a sweep run: in this process, local worker processes, or a Dask cluster."""

from __future__ import annotations

import importlib
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any, Callable, Generator, Protocol, Sequence, TypeVar

from statefulsim.registry import Registry
from statefulsim.sweep.grid import SweepError
from statefulsim.sweep.running import BatchResult, RunBatch, run_batch

if TYPE_CHECKING:
    from types import TracebackType


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


#: Executors by the name ``--executor`` takes (``local`` and ``dask`` built in); add one with
#: :func:`register_executor`.
EXECUTORS: Registry[ExecutorFactory] = Registry("sweep executor")
EXECUTORS.register("local", _local, builtin=True)
EXECUTORS.register("dask", _dask, builtin=True)


def register_executor(name: str, factory: ExecutorFactory) -> None:
    """Make ``factory(options)`` available as ``--executor NAME`` / ``run_sweep(executor=NAME)``.
    Registering a plug-in executor again replaces it; a built-in name raises ``ValueError``."""
    EXECUTORS.register(name, factory, replace=True)


def unregister_executor(name: str) -> None:
    """Remove a plug-in executor (not ``local`` or ``dask``); an unknown name is ignored."""
    EXECUTORS.unregister(name)


def make_executor(name: str, options: ExecutorOptions) -> Executor:
    """The executor registered as ``name``; :class:`SweepError` for an unknown name."""
    if name not in EXECUTORS:
        raise SweepError(f"unknown executor {name!r}; known: {', '.join(sorted(EXECUTORS))}")
    factory = EXECUTORS.get(name)
    return factory(options)
