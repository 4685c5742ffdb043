"""The notebook helpers of statefulsim.notebook (exported from statefulsim)."""

from __future__ import annotations

import pathlib

import pytest

import statefulsim

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def result() -> statefulsim.RunResult:
    return statefulsim.run(ROOT / "scenarios/quickstart.yaml")


def test_records_table_as_list(result: statefulsim.RunResult) -> None:
    rows = statefulsim.notebook.records_table(result, events={"PodCreated"}, columns=["pod"], pandas=False)
    assert [r["pod"] for r in rows] == ["mysql-0", "mysql-1", "mysql-2"]
    assert list(rows[0]) == ["t", "event", "pod"]
    assert statefulsim.notebook.records_table(result, pandas=False) == result.records()
    assert statefulsim.notebook.records_table(result.trace, pandas=False) == result.records()


def test_records_table_as_dataframe(result: statefulsim.RunResult) -> None:
    pd = pytest.importorskip("pandas")
    df = statefulsim.notebook.records_table(result, events={"PodReady"}, columns=["pod"])
    assert isinstance(df, pd.DataFrame) and list(df.columns) == ["t", "event", "pod"] and len(df) == 3


def test_time_to_all_ready(result: statefulsim.RunResult) -> None:
    t = statefulsim.notebook.time_to_all_ready(result)
    assert t is not None and 0 < t < 180  # three pods in order, each attaching and mounting its volume
    assert statefulsim.notebook.time_to_all_ready(result, "mysql") == t
    assert statefulsim.notebook.time_to_all_ready(result, "nope") is None


def test_scenario_from_data_validates() -> None:
    data = {"apiVersion": "statefulsim/v1", "kind": "Scenario", "metadata": {"name": "x"}, "until": "1m",
            "manifests": [{"file": "manifests/web.yaml"}]}
    sc = statefulsim.notebook.scenario_from_data(data, base_dir=ROOT / "scenarios")
    assert sc.name == "x" and sc.until == 60
    with pytest.raises(statefulsim.ScenarioError):
        statefulsim.notebook.scenario_from_data({**data, "bogus": 1}, base_dir=ROOT / "scenarios")


def test_figures(result: statefulsim.RunResult) -> None:
    timeline, replicas = statefulsim.notebook.show_run(result, quorum=2)  # not in IPython: nothing displayed
    both = statefulsim.notebook.side_by_side([timeline, replicas], titles=["a", "b"])
    assert len(both.axes) == 2
    assert statefulsim.notebook.inline_figures() is False
    with pytest.raises(ValueError):
        statefulsim.notebook.side_by_side([])
