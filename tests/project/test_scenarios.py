"""Every bundled scenario runs, and every expectation it states holds."""

from __future__ import annotations

import pathlib

import pytest

from statefulsim.io.scenario import load_scenario
from statefulsim.runner import run

SCENARIOS = sorted(pathlib.Path(__file__).resolve().parents[2].joinpath("scenarios").glob("*.yaml"))


def test_there_are_scenarios() -> None:
    assert len(SCENARIOS) >= 8


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_expectations_hold(path: pathlib.Path) -> None:
    scenario = load_scenario(path)
    assert scenario.expectations, f"{path.name} states no expectations"
    result = run(scenario)
    failed = [f"{e.description}: {e.detail}" for e in result.expectations if not e.ok]
    assert not failed, "\n".join(failed)
