"""Tests for statefulsim.io.trace_io: JSON Lines trace files."""

from __future__ import annotations

import datetime
import io
import json
import math
from pathlib import Path

import pytest

import statefulsim
from statefulsim.errors import StatefulSimError, TraceFormatError
from statefulsim.io.trace_io import dumps_record, read_jsonl, to_json_value, write_jsonl
from statefulsim.runner import RunResult, run
from statefulsim.sim.trace import Trace

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"


@pytest.fixture(scope="module")
def quickstart() -> RunResult:
    return run(QUICKSTART)


def strict_loads(line: str) -> object:
    def reject(name: str) -> object:
        raise AssertionError(f"{name} is not valid JSON")

    return json.loads(line, parse_constant=reject)


# ---------------------------------------------------------------- writing


def test_write_one_object_per_record_keys_in_order(quickstart: RunResult, tmp_path: Path) -> None:
    out = tmp_path / "trace.jsonl"
    assert write_jsonl(quickstart.trace, out) == len(quickstart.trace)
    data = out.read_bytes()
    assert data.endswith(b"\n") and not data.endswith(b"\n\n")
    first, *lines, last = data.decode("utf-8").splitlines()
    assert first == '{"t":0.0,"event":"TraceStart"}'
    # TraceEnd is at the run's end (its until), after the last record
    assert quickstart.trace[len(quickstart.trace) - 1].t < quickstart.until
    assert last == '{"t":%s,"event":"TraceEnd"}' % float(quickstart.until)
    assert read_jsonl(out).end == quickstart.until
    assert len(lines) == len(quickstart.trace)
    for line, rec in zip(lines, quickstart.trace):
        obj = strict_loads(line)
        assert isinstance(obj, dict)
        assert list(obj)[:2] == ["t", "event"]
        assert list(obj) == list(rec.as_dict())
        assert obj == rec.as_dict()
        assert " " not in line.split('"')[0]  # compact separators


def test_times_are_rounded_to_the_microsecond(tmp_path: Path) -> None:
    trace = Trace()
    trace.append(1 / 3, "PodReady", {"pod": "web-0"})
    out = tmp_path / "t.jsonl"
    write_jsonl(trace, out)
    assert out.read_text() == ('{"t":0.0,"event":"TraceStart"}\n{"t":0.333333,"event":"PodReady","pod":"web-0"}\n'
                               '{"t":0.333333,"event":"TraceEnd"}\n')


def test_round_trip(quickstart: RunResult, tmp_path: Path) -> None:
    first = tmp_path / "a.jsonl"
    second = tmp_path / "b.jsonl"
    write_jsonl(quickstart.trace, first)
    back = read_jsonl(first)
    assert isinstance(back, Trace)
    assert [r.as_dict() for r in back] == [r.as_dict() for r in quickstart.trace]
    assert [r.event for r in back] == [r.event for r in quickstart.trace]
    write_jsonl(back, second)
    assert first.read_bytes() == second.read_bytes()


def test_same_seed_gives_identical_bytes_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    write_jsonl(run(QUICKSTART).trace, a)
    write_jsonl(run(QUICKSTART).trace, b)
    write_jsonl(run(QUICKSTART, seed=43).trace, c)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_write_to_an_open_file_and_from_dicts(quickstart: RunResult, tmp_path: Path) -> None:
    buf = io.StringIO()
    write_jsonl(quickstart.records(), buf, end=quickstart.until)
    path = tmp_path / "p.jsonl"
    write_jsonl(quickstart.trace, path)
    assert buf.getvalue() == path.read_text(encoding="utf-8")


def test_non_ascii_is_written_as_utf8(tmp_path: Path) -> None:
    trace = Trace()
    trace.append(0, "KubeEvent", {"reason": "SuccessfulCreate", "object": "pod/web-0", "message": "naïve ✔",
                                  "component": "statefulset-controller"})
    out = tmp_path / "u.jsonl"
    write_jsonl(trace, out)
    assert "naïve ✔".encode("utf-8") in out.read_bytes()
    assert read_jsonl(out)[0].get("message") == "naïve ✔"


def test_non_finite_floats_are_written_as_strings(tmp_path: Path) -> None:
    trace = Trace()
    trace.append(1.0, "Action", {"action": "deletePod", "pod": "web-0", "gracePeriodSeconds": math.inf,
                                 "x": [-math.inf, math.nan], "m": {"k": math.inf}})
    out = tmp_path / "inf.jsonl"
    write_jsonl(trace, out)
    obj = strict_loads(out.read_text().splitlines()[1])
    assert obj == {"t": 1.0, "event": "Action", "action": "deletePod", "pod": "web-0",
                   "gracePeriodSeconds": "inf", "x": ["-inf", "nan"], "m": {"k": "inf"}}
    assert read_jsonl(out)[0].get("gracePeriodSeconds") == "inf"


def test_other_values_are_converted() -> None:
    when = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    value = {"at": when, "day": datetime.date(2024, 1, 2), "tuple": (1, 2), "set": {"b", "a"},
             1: "int key", None: "null key", 2.5: "float key", "bytes": b"\x00\x01"}
    assert to_json_value(value) == {"at": "2024-01-02T03:04:05+00:00", "day": "2024-01-02", "tuple": [1, 2],
                                    "set": ["a", "b"], "1": "int key", "null": "null key", "2.5": "float key", "bytes": "AAE="}


def test_unknown_types_are_a_bug() -> None:
    with pytest.raises(TypeError, match="cannot be written as JSON"):
        dumps_record({"t": 0, "event": "X", "obj": object()})


# ---------------------------------------------------------------- reading


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    f = tmp_path / "b.jsonl"
    f.write_text('{"t":0,"event":"A"}\n\n  \n{"t":1,"event":"B","pod":"x"}\r\n')
    trace = read_jsonl(f)
    assert [(r.t, r.event, dict(r.fields)) for r in trace] == [(0.0, "A", {}), (1.0, "B", {"pod": "x"})]


def test_an_empty_file_is_an_error(tmp_path: Path) -> None:
    # show used to print an empty report for it while check refused it: both refuse it now
    f = tmp_path / "e.jsonl"
    for text in ("", "\n\n", '{"t":0,"event":"TraceStart"}\n{"t":0,"event":"TraceEnd"}\n'):
        f.write_text(text)
        with pytest.raises(TraceFormatError, match=f"^{f}: the trace is empty: it has no records$"):
            read_jsonl(f)


GOOD = '{"t":0,"event":"StatefulSetCreated","statefulset":"web","replicas":3,"podManagementPolicy":"OrderedReady"}\n'


@pytest.mark.parametrize("bad, line, message", [
    ('{"t":1,"event":"A"\n', 2, "not valid JSON"),
    ("PodReady at 3s\n", 2, "not valid JSON"),
    ('[1, "PodReady"]\n', 2, "expected a JSON object"),
    ('{"event":"PodReady"}\n', 2, 'no "t"'),
    ('{"t":1}\n', 2, 'no "event"'),
    ('{"t":"1s","event":"PodReady"}\n', 2, '"t" must be a number'),
    ('{"t":true,"event":"PodReady"}\n', 2, '"t" must be a number'),
    ('{"t":null,"event":"PodReady"}\n', 2, '"t" must be a number'),
    ('{"t":-1,"event":"PodReady"}\n', 2, "non-negative"),
    ('{"t":1e999,"event":"PodReady"}\n', 2, "finite"),
    ('{"t":NaN,"event":"PodReady"}\n', 2, "NaN is not valid JSON"),
    ('{"t":1,"event":""}\n', 2, '"event" must be a non-empty string'),
    ('{"t":1,"event":7}\n', 2, '"event" must be a non-empty string'),
    ('{"t":5,"event":"A"}\n\n{"t":4.5,"event":"B"}\n', 4, "time goes backwards: t=4.5 is earlier than t=5 on line 2"),
])
def test_bad_lines_are_reported_with_file_and_line(tmp_path: Path, bad: str, line: int, message: str) -> None:
    f = tmp_path / "bad.jsonl"
    f.write_text(GOOD + bad)
    with pytest.raises(TraceFormatError) as info:
        read_jsonl(f)
    text = str(info.value)
    assert text.startswith(f"{f}:{line}: "), text
    assert message in text
    assert isinstance(info.value, StatefulSimError)


def test_not_utf8(tmp_path: Path) -> None:
    f = tmp_path / "latin1.jsonl"
    f.write_bytes(GOOD.encode() + '{"t":1,"event":"Ä"}\n'.encode("latin-1"))
    with pytest.raises(TraceFormatError, match=r":2: not UTF-8 text"):
        read_jsonl(f)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TraceFormatError, match="cannot read trace file"):
        read_jsonl(tmp_path / "nope.jsonl")


# ---------------------------------------------------------------- the event catalogue


def _one(tmp_path: Path, *lines: str) -> Path:
    f = tmp_path / "r.jsonl"
    f.write_text(GOOD + "".join(line + "\n" for line in lines))
    return f


@pytest.mark.parametrize("line, message", [
    ('{"t":1,"event":"PodReady","pod":"web-0"}', 'PodReady.uid: required field is missing (expected a string)'),
    ('{"t":1,"event":"PodReady","pod":7,"uid":"u"}', "PodReady.pod: expected a string, found an integer 7"),
    ('{"t":1,"event":"StatefulSetStatus","statefulset":"web","replicas":3,"readyReplicas":"3","availableReplicas":0,'
     '"currentReplicas":0,"updatedReplicas":0,"currentRevision":null,"updateRevision":null,"observedGeneration":1}',
     'StatefulSetStatus.readyReplicas: expected an integer, found a string "3"'),
    ('{"t":1,"event":"PodCreated","pod":"web-0","uid":"u","ordinal":1e400,"statefulset":"web","revision":null}',
     "PodCreated.ordinal: expected an integer, found a number"),
    ('{"t":1,"event":"EndpointSliceUpdated","service":"web","ready":[{"pod":1}],"notReady":[],"terminating":[]}',
     "EndpointSliceUpdated.ready: expected a list of strings, found a list"),
    ('{"t":1,"event":"Action","action":"scale","statefulset":"web"}',
     "Action.replicas: required field is missing (expected an integer)"),
    ('{"t":1,"event":"Action","action":"deletePod","pod":"web-0","gracePeriodSeconds":"soon"}',
     'Action.gracePeriodSeconds: expected a number of seconds or "inf", found a string "soon"'),
    ('{"t":1,"event":"StatefulSetCreated","statefulset":"db","replicas":1,"podManagementPolicy":"Parallel",'
     '"partition":"0"}', 'StatefulSetCreated.partition: expected an integer or null, found a string "0"'),
    ('{"t":1,"event":"Custom","deep":' + "[" * 5000 + "]" * 5000 + "}", "not valid JSON: nested too deeply"),
    ('{"t":1,"event":"Custom","deep":' + "[" * 70 + "]" * 70 + "}", "Custom.deep: nested more than 64 levels deep"),
    ('{"t":1,"event":"Custom","n":' + "1" * 5000 + "}", "not valid JSON: an integer of more than 4300 digits"),
    ('{"t":1e308,"event":"PodReady","pod":"web-0","uid":"u"}', '"t" must be at most 1e+12 seconds'),
])
def test_records_are_checked_against_the_catalogue(tmp_path: Path, line: str, message: str) -> None:
    f = _one(tmp_path, line)
    with pytest.raises(TraceFormatError) as info:
        read_jsonl(f)
    assert str(info.value) == f"{f}:2: {message}" or (str(info.value).startswith(f"{f}:2: {message}")), info.value


def test_unknown_events_extra_fields_and_nulls_stay_allowed(tmp_path: Path) -> None:
    f = _one(tmp_path, '{"t":1,"event":"FromANewerVersion","x":{"y":[1]}}',
             '{"t":2,"event":"PodReady","pod":"web-0","uid":"u","extra":[1,2]}',
             '{"t":3,"event":"Action","action":"myVerb","anything":{"goes":true}}',
             '{"t":4,"event":"PodRunning","pod":"web-0","uid":"u","node":null}')
    assert [r.event for r in read_jsonl(f)] == ["StatefulSetCreated", "FromANewerVersion", "PodReady", "Action",
                                                 "PodRunning"]


def test_a_cut_off_trace_is_detected(quickstart: RunResult, tmp_path: Path) -> None:
    whole = tmp_path / "whole.jsonl"
    write_jsonl(quickstart.trace, whole)
    lines = whole.read_text().splitlines(keepends=True)
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(lines[:-5]))  # cut at a line boundary: every line is valid JSON
    with pytest.raises(TraceFormatError, match=rf"^{cut}:{len(lines) - 5}: the trace is cut off: it starts with "
                                               r"TraceStart \(line 1\)"):
        read_jsonl(cut)
    twice = tmp_path / "twice.jsonl"
    twice.write_text("".join(lines) + "".join(lines[1:]))
    with pytest.raises(TraceFormatError, match=rf"^{twice}:{len(lines) + 1}: a record after the TraceEnd record"):
        read_jsonl(twice)
    assert [r.as_dict() for r in read_jsonl(whole)] == [r.as_dict() for r in quickstart.trace]


def test_every_record_the_simulator_writes_matches_the_catalogue() -> None:
    from hypothesis import given

    from statefulsim import runner
    from statefulsim.io.scenario import load_scenario
    from statefulsim.testing import scenarios, simulation_settings
    from statefulsim.trace_schema import EVENTS, field_problem

    root = Path(__file__).resolve().parents[2]
    seen: set[str] = set()

    def check(trace: Trace) -> None:
        for r in trace:
            assert r.event in EVENTS, r.event
            seen.add(r.event)
            assert field_problem(r.event, to_json_value(dict(r.fields))) is None, (r, field_problem(r.event, r.fields))

    for path in sorted((root / "scenarios").glob("*.yaml")) + sorted((root / "tests" / "data").glob("*.yaml")):
        check(runner.run(load_scenario(path)).trace)

    @simulation_settings(12, database=None, derandomize=True)
    @given(scenarios(policies=["OrderedReady", "Parallel"]))
    def generated(data: dict) -> None:  # type: ignore[type-arg]
        check(statefulsim.run(statefulsim.notebook.scenario_from_data(data)).trace)

    generated()
    assert len(seen) >= 40, sorted(set(EVENTS) - seen)
