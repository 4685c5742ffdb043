"""The benchmark scripts stay runnable: their smallest cases run here (untimed; the figures come
from running the scripts)."""

from __future__ import annotations

import importlib.util
import pathlib
import sys
from types import ModuleType

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"


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


def test_sweep_run_case_measures_one_run_in_bare_events(run: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "BARE_EVENTS", 2000)
    out = run.sweep_run_cpu(3, rounds=1)
    assert sorted(out) == ["full", "lean"]
    for r in out.values():
        assert r["cpu"] > 0 and r["wall"] > 0 and r["bare_per_event"] > 0
        assert r["worth"] == pytest.approx(r["cpu"] / r["bare_per_event"])
        assert 300 < r["events"] < 2000  # one quick-start run: about 650 SimPy steps


def test_sweep_run_case_uses_the_quick_start_of_issue_20(run: ModuleType) -> None:
    """The benchmark's own copy is self-contained and is the quick start before #18: no claims,
    no DNS client, scaled to 0 at 2m of 4m."""
    from statefulsim.io.scenario import load_scenario

    text = run.QUICKSTART_20.read_text()
    assert "file:" not in text and "volumeClaimTemplates" not in text and "dnsQuery" not in text
    scenario = load_scenario(run.QUICKSTART_20)
    assert scenario.until == 240 and len(scenario.actions) == 1 and not scenario.triggers
    assert {o.kind for o in scenario.objects} == {"ConfigMap", "Service", "StatefulSet"}
    batch = run.sweep_batch(2)
    assert batch.seeds == (0, 1) and batch.text


def test_profile_script_times_every_phase(run: ModuleType) -> None:
    profile = _load("profile_sweep")
    times = profile.phases(run.sweep_batch(2))
    assert times["Cluster.run (the simulation)"] > 0 and all(v >= 0 for v in times.values())


def test_instruction_counts_script_parses_its_cases_and_needs_valgrind(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    ins = _load("instructions")
    assert ins.parse_case("sweep-run") == ("sweep-run", None)
    assert ins.parse_case("ordered:200") == ("ordered", 200)
    for bad in ("scale", "scale:0", "ordered:x", "fleet:3"):
        with pytest.raises(Exception, match="unknown case"):
            ins.parse_case(bad)
    # every child program is valid Python once filled in
    for kind, code in ins._WORK.items():
        compile(code.format(n=3, run_py="run.py", builder="scale_scenario", size=5), kind, "exec")
    monkeypatch.setattr(ins.shutil, "which", lambda _name: None)
    assert ins.main([]) == 2
    assert "valgrind is not installed" in capsys.readouterr().err


def test_versus_script_parses_cases_and_measures_a_tree(capsys: pytest.CaptureFixture[str]) -> None:
    vs = _load("versus")
    assert vs.parse_case("scale") == ("scale", 10_000)
    assert vs.parse_case("sweep-run:30") == ("sweep-run", 30)
    assert vs.parse_case("fleet") == ("fleet", 50)
    for bad in ("fleet:3", "scale:0", "ordered:x", "sweep"):
        with pytest.raises(Exception, match="unknown case"):
            vs.parse_case(bad)
    for name in ("scale", "ordered", "fleet", "sweep-run"):
        compile(vs.program(name, 3), name, "exec")
    # a real measurement of a tiny case in this tree, as the "other" tree too
    r = vs.measure(vs.program("scale", 5), BENCH.parent)
    assert r["cpu"] > 0 and r["bare_per_event"] > 0 and r["events"] > 0
    with pytest.raises(SystemExit):
        vs.main(["--tree", str(BENCH), "scale:5"])  # no statefulsim package there
    assert "no statefulsim package there" in capsys.readouterr().err
