"""The trace's cheap paths (issue #14: the new records must not slow the benchmarks down by more
than 10 %): ``SimEnv.emit`` hands its fresh ``**fields`` dict to the record instead of copying it,
``Trace.append`` still copies a caller's mapping, and records are slotted."""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError
from typing import Any, Mapping

import pytest

from statefulsim.sim.env import SimEnv
from statefulsim.sim.trace import Trace, TraceRecord


def test_append_copies_the_callers_mapping() -> None:
    trace = Trace()
    fields = {"pod": "web-0"}
    rec = trace.append(1.0, "PodReady", fields)
    fields["pod"] = "web-1"
    assert rec.fields == {"pod": "web-0"} and rec.fields is not fields


def test_append_owned_keeps_the_dict_and_feeds_watchers() -> None:
    trace = Trace()
    seen: list[TraceRecord] = []
    trace.watch(seen.append)
    fields: dict[str, Any] = {"pod": "web-0"}
    rec = trace.append_owned(2.0, "PodReady", fields)
    assert rec.fields is fields
    assert seen == [rec] and list(trace) == [rec]


def test_emit_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """``emit`` never goes through the copying ``append``."""
    env = SimEnv(seed=1)

    def copying_append(t: float, event: str, fields: Mapping[str, Any]) -> TraceRecord:
        raise AssertionError("emit copied its fields")

    monkeypatch.setattr(env.trace, "append", copying_append)
    env.emit("PodStatus", pod="web-0", ready="0/1", status="Pending", restarts=0)
    [rec] = list(env.trace)
    assert (rec.t, rec.event, dict(rec.fields)) == (
        0.0, "PodStatus", {"pod": "web-0", "ready": "0/1", "status": "Pending", "restarts": 0})
    assert type(rec.t) is float


def test_records_are_slotted_frozen_and_pickle() -> None:
    rec = TraceRecord(1.5, "PodCreated", {"pod": "web-0", "ordinal": 0})
    assert not hasattr(rec, "__dict__")
    with pytest.raises(FrozenInstanceError):
        rec.t = 2.0  # type: ignore[misc]
    back = pickle.loads(pickle.dumps(rec))
    assert back == rec and back.as_dict() == {"t": 1.5, "event": "PodCreated", "pod": "web-0", "ordinal": 0}


def test_a_pickled_trace_keeps_its_end() -> None:
    """Sweep workers send traces back pickled; the run's end must survive (time below quorum)."""
    import pickle

    from statefulsim.sim.trace import Trace

    trace = Trace()
    trace.append(1.0, "NodeReady", {"node": "n"})
    trace.end = 300.0
    back = pickle.loads(pickle.dumps(trace))
    assert back.end == 300.0 and len(back) == 1
