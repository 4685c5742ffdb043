"""Manifests load as kubectl loads them: a multi-document scenario file, a directory, kind: List (#18 item 3)."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from statefulsim.errors import ScenarioError
from statefulsim.io.scenario import load_scenario
from statefulsim.runner import run

ROOT = pathlib.Path(__file__).resolve().parents[2]
MYSQL = (ROOT / "scenarios" / "manifests" / "mysql.yaml").read_text(encoding="utf-8")
HEAD = """apiVersion: statefulsim/v1
kind: Scenario
metadata: {name: multi}
seed: 42
until: 2m
cluster: {nodes: 3}
"""
EXPECT = "expect:\n  - readyReplicas: {statefulset: mysql, equals: 3, by: 2m}\n"


def _objects(text: str, tmp_path: pathlib.Path, name: str = "s.yaml") -> list[tuple[str, str]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return [(o.kind, o.metadata.name) for o in load_scenario(path).objects]


def _problems(text: str, tmp_path: pathlib.Path) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems]


def test_manifests_after_the_scenario_in_one_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "all.yaml"
    path.write_text(HEAD + EXPECT + "---\n" + MYSQL, encoding="utf-8")
    scenario = load_scenario(path)
    kinds = [(o.kind, o.metadata.name) for o in scenario.objects]
    assert ("StatefulSet", "mysql") in kinds and ("Service", "mysql-headless") in kinds
    result = run(scenario)
    assert result.expectations and result.ok


def test_the_same_objects_as_a_file_reference(tmp_path: pathlib.Path) -> None:
    (tmp_path / "mysql.yaml").write_text(MYSQL, encoding="utf-8")
    by_file = _objects(HEAD + "manifests:\n  - file: mysql.yaml\n", tmp_path, "a.yaml")
    inline = _objects(HEAD + "---\n" + MYSQL, tmp_path, "b.yaml")
    assert by_file == inline


def test_scenario_must_come_first(tmp_path: pathlib.Path) -> None:
    problems = _problems(MYSQL + "---\n" + HEAD, tmp_path)
    assert any("the Scenario document must come first" in p for p in problems)
    assert all(":" in p.split(" ")[0] for p in problems)  # file:line: ...


def test_only_one_scenario(tmp_path: pathlib.Path) -> None:
    problems = _problems(HEAD + "---\n" + HEAD, tmp_path)
    assert any("expected one Scenario document, found 2" in p and ":8:" in p for p in problems)


def test_several_documents_without_a_scenario(tmp_path: pathlib.Path) -> None:
    problems = _problems(MYSQL, tmp_path)
    assert any("none of kind Scenario" in p for p in problems)


def test_bad_manifest_after_the_scenario_names_its_line(tmp_path: pathlib.Path) -> None:
    bad = "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {clusterIP: None, ports: nope}\n"
    problems = _problems(HEAD + "---\n" + bad, tmp_path)
    assert any("s.yaml:11:" in p and "ports" in p for p in problems), problems


def test_a_directory_is_read_in_lexical_order(tmp_path: pathlib.Path) -> None:
    docs = list(yaml.safe_load_all(MYSQL))
    d = tmp_path / "manifests"
    d.mkdir()
    (d / "b-sts.yaml").write_text(yaml.safe_dump([x for x in docs if x["kind"] == "StatefulSet"][0]))
    (d / "a-svc.yml").write_text(yaml.safe_dump([x for x in docs if x["kind"] == "Service"][0]))
    (d / "README.txt").write_text("not a manifest")
    objects = _objects(HEAD + "manifests:\n  - file: manifests\n", tmp_path)
    assert [k for k, _ in objects] == ["Service", "StatefulSet"]


def test_an_empty_directory_is_an_error(tmp_path: pathlib.Path) -> None:
    (tmp_path / "empty").mkdir()
    problems = _problems(HEAD + "manifests:\n  - file: empty\n", tmp_path)
    assert any("holds no manifest file" in p and "manifests[0].file" in p for p in problems), problems


def test_kind_list_in_a_file_and_inline(tmp_path: pathlib.Path) -> None:
    docs = list(yaml.safe_load_all(MYSQL))
    (tmp_path / "list.yaml").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": docs}))
    from_file = _objects(HEAD + "manifests:\n  - file: list.yaml\n", tmp_path, "a.yaml")
    inline = _objects(HEAD + "manifests:\n  - " + yaml.safe_dump(
        {"apiVersion": "v1", "kind": "List", "items": docs}, default_flow_style=True).strip() + "\n", tmp_path, "b.yaml")
    after = _objects(HEAD + "---\n" + yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": docs}),
                     tmp_path, "c.yaml")
    assert from_file == inline == after
    assert ("StatefulSet", "mysql") in from_file


def test_kind_list_without_items_is_an_error(tmp_path: pathlib.Path) -> None:
    problems = _problems(HEAD + "---\napiVersion: v1\nkind: List\nitems: 3\n", tmp_path)
    assert any("kind: List" in p and "items" in p for p in problems), problems
