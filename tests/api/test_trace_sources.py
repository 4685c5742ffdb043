"""The Python API takes what the CLI takes (#15 §4): ``run(path, until="90s")``, and every public
function that reads a trace also takes the RunResult it came from."""

from __future__ import annotations

import importlib
import inspect
import io
import pathlib
import pkgutil

import pytest

import statefulsim
from statefulsim.durations import DurationError

ROOT = pathlib.Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"
#: The names a trace-reading function calls its first parameter.
TRACE_PARAMS = ("trace", "source", "trace_or_records", "result")


@pytest.fixture(scope="module")
def result() -> statefulsim.RunResult:
    return statefulsim.run(str(QUICKSTART), until="90s", seed=3)


def test_run_takes_a_duration_string(result: statefulsim.RunResult) -> None:
    assert result.until == 90.0 and result.seed == 3
    assert max(r.t for r in result.trace) <= 90.0
    same = statefulsim.run(QUICKSTART, until=90, seed=3)
    assert [r.as_dict() for r in same.trace] == [r.as_dict() for r in result.trace]
    assert statefulsim.run(QUICKSTART, until="1m30s", seed=3).until == 90.0


@pytest.mark.parametrize("until, message", [("soon", "expected a duration such as 30s"),
                                            ("0s", "expected a positive, finite duration"),
                                            ("never", "expected a positive, finite duration")])
def test_run_refuses_what_until_does_not_take(until: str, message: str) -> None:
    with pytest.raises(DurationError, match=message):
        statefulsim.run(QUICKSTART, until=until)


def _public_functions() -> list[tuple[str, object]]:
    out = []
    for info in pkgutil.walk_packages(statefulsim.__path__, "statefulsim."):
        cli = info.name in ("statefulsim.cli", "statefulsim.__main__") or info.name.startswith("statefulsim.cli.")
        if info.name.rsplit(".", 1)[-1].startswith("_") or cli:
            continue
        module = importlib.import_module(info.name)
        names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
        for name in names:
            fn = getattr(module, name, None)
            if inspect.isfunction(fn) and fn.__module__ == module.__name__:
                out.append((f"{info.name}.{name}", fn))
    return out


def test_every_public_function_that_reads_a_trace_takes_a_run_result() -> None:
    readers, refusing = [], []
    for name, fn in _public_functions():
        params = list(inspect.signature(fn).parameters.values())  # type: ignore[arg-type]
        if not params or params[0].name not in TRACE_PARAMS:
            continue
        annotation = str(params[0].annotation)
        if "Trace" not in annotation.replace("TraceRecord", "").replace("TraceFormatError", ""):
            continue
        readers.append(name)
        if not any(t in annotation for t in ("TraceSource", "RunResult", "RunData")):
            refusing.append(f"{name}({params[0].name}: {annotation})")
    assert len(readers) > 30, readers
    assert refusing == []


def test_readers_give_the_same_answer_for_the_result_and_its_trace(result: statefulsim.RunResult) -> None:
    from statefulsim.analysis import metrics, stuck
    from statefulsim.explore import state_sequence
    from statefulsim.io.trace_io import write_jsonl

    trace = result.trace
    assert statefulsim.check_invariants(result) == statefulsim.check_invariants(trace)
    assert statefulsim.critical_path(result) == statefulsim.critical_path(trace)
    graph, same = statefulsim.happens_before_graph(result), statefulsim.happens_before_graph(trace)
    assert sorted(map(str, graph.nodes)) == sorted(map(str, same.nodes)) and graph.number_of_edges() == same.number_of_edges()
    assert metrics.all_ready(result) == metrics.all_ready(trace)
    assert metrics.rollout_duration(result) == metrics.rollout_duration(trace)
    assert stuck.stuck_statefulsets(result) == stuck.stuck_statefulsets(trace)
    assert state_sequence(result) == state_sequence(trace)
    a, b = io.StringIO(), io.StringIO()
    assert write_jsonl(result, a) == write_jsonl(trace, b) == len(trace) and a.getvalue() == b.getvalue()
