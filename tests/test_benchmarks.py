"""The benchmark scripts stay runnable: their smallest cases run here (untimed; the figures come
from running the scripts)."""

from __future__ import annotations

import importlib.util
import pathlib
import sys
from types import ModuleType

import pytest

BENCH = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def run() -> ModuleType:
    return _load("run")


def test_scale_case_scales_up_and_down(run: ModuleType) -> None:
    r = run.simulate(run.scale_scenario(20))
    assert r["events"] > 0 and r["desired"] == 0 and r["ready"] == 0


def test_ordered_case_creates_and_updates_every_pod(run: ModuleType) -> None:
    r = run.simulate(run.ordered_scenario(4))
    assert r["ready"] == 4 and r["updated"] == 4


def test_fleet_case_gets_every_set_ready(run: ModuleType) -> None:
    r = run.simulate(run.fleet_scenario(sets=2, replicas=2, nodes=3, clients=4, minutes=2))
    assert r["desired"] == 4 and r["ready"] == 4


def test_floor_loops_run(monkeypatch: pytest.MonkeyPatch) -> None:
    floor = _load("floor")
    monkeypatch.setattr(floor, "EVENTS", 300)
    for build in (floor.bare, floor.callback, floor.skeleton):
        seconds, steps = floor.cpu(build, repeat=1)
        assert seconds >= 0 and 250 <= steps <= 310
