"""Bundled scenarios ship as package data: `statefulsim examples`, `run quickstart` from anywhere (#18 item 2)."""

from __future__ import annotations

import os
import pathlib

import pytest
from click.testing import CliRunner

from statefulsim.cli import cli
from statefulsim.io.bundled import bundled_dir, bundled_scenarios, copy_bundled, resolve_bundled

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_checkout_link_and_the_package_data_are_one_directory() -> None:
    assert (ROOT / "scenarios").resolve() == bundled_dir().resolve()


def test_every_bundled_scenario_is_listed_with_its_description() -> None:
    names = {b.name: b.description for b in bundled_scenarios()}
    assert set(names) == {p.stem for p in bundled_dir().glob("*.yaml")}
    assert names["quickstart"].startswith("mysql-0, mysql-1, mysql-2 start in order")
    out = CliRunner().invoke(cli, ["examples"])
    assert out.exit_code == 0
    assert any(line.startswith("quickstart ") for line in out.output.splitlines())


def test_run_by_name_from_another_directory(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(cli, ["run", "quickstart"])
    assert out.exit_code == 0, out.output
    assert "PodReady" in out.output


def test_a_file_of_that_name_wins(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "quickstart").write_text("kind: Nope\n")
    assert resolve_bundled("quickstart") is None
    assert CliRunner().invoke(cli, ["validate", "quickstart"]).exit_code == 2


def test_unknown_name_says_where_to_look(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(cli, ["run", "quickstrat"])
    assert out.exit_code == 2
    assert "nor a bundled scenario" in out.output and "statefulsim examples" in out.output


def test_names_with_paths_or_odd_characters_are_not_looked_up() -> None:
    assert resolve_bundled("quickstart.yaml") is not None
    for name in ("../quickstart", "sub/quickstart", "Quickstart", "", "quick start"):
        assert resolve_bundled(name) is None


def test_copy_writes_runnable_scenarios_and_never_overwrites(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "ex"
    out = CliRunner().invoke(cli, ["examples", "--copy", str(target)])
    assert out.exit_code == 0, out.output
    assert (target / "quickstart.yaml").is_file() and (target / "manifests" / "mysql.yaml").is_file()
    assert CliRunner().invoke(cli, ["validate", str(target / "storage-retention.yaml")]).exit_code == 0
    before = (target / "quickstart.yaml").stat().st_mtime_ns
    again = CliRunner().invoke(cli, ["examples", "--copy", str(target)])
    assert again.exit_code == 2 and "exists already" in again.output
    assert (target / "quickstart.yaml").stat().st_mtime_ns == before
    assert not any("__pycache__" in str(p) for p in copy_bundled(tmp_path / "other"))
    assert len(os.listdir(tmp_path / "other")) == len(os.listdir(target))


def test_copy_to_an_unwritable_place_is_a_clear_error(tmp_path: pathlib.Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    out = CliRunner().invoke(cli, ["examples", "--copy", str(blocker / "ex")])
    assert out.exit_code == 2
    assert "cannot write" in out.output and "Traceback" not in out.output
