"""Tests for statefulsim.io.yamlsource: safe YAML loading with line numbers."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any, Iterator, Mapping

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from statefulsim.errors import Problem, ScenarioError
from statefulsim.io.yamlsource import Document, line_for, load_documents, load_file, locate, safe_load


def load_one(text: str, file: str = "f.yaml") -> Document:
    docs = load_documents(textwrap.dedent(text), file)
    assert len(docs) == 1
    return docs[0]


def only_problem(text: str, file: str = "f.yaml") -> Problem:
    with pytest.raises(ScenarioError) as info:
        load_documents(text, file)
    assert len(info.value.problems) == 1
    return info.value.problems[0]


# ---------------------------------------------------------------- positions

STATEFULSET = """\
# a comment
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: nginx
          image: nginx:1.25
          ports:
            - containerPort: 80
              name: web
        - name: sidecar

          image: busybox
"""


def test_positions_nested_mappings_and_lists() -> None:
    doc = load_one(STATEFULSET)
    assert doc.data == yaml.safe_load(STATEFULSET)
    p = doc.positions
    assert p[()] == 2
    assert p[("apiVersion",)] == 2
    assert p[("metadata",)] == 4
    assert p[("metadata", "name")] == 5
    assert p[("spec",)] == 6
    assert p[("spec", "replicas")] == 7
    assert p[("spec", "template", "spec", "containers")] == 10
    assert p[("spec", "template", "spec", "containers", 0)] == 11
    assert p[("spec", "template", "spec", "containers", 0, "name")] == 11
    assert p[("spec", "template", "spec", "containers", 0, "image")] == 12
    assert p[("spec", "template", "spec", "containers", 0, "ports", 0)] == 14
    assert p[("spec", "template", "spec", "containers", 0, "ports", 0, "name")] == 15
    assert p[("spec", "template", "spec", "containers", 1)] == 16
    assert p[("spec", "template", "spec", "containers", 1, "image")] == 18
    assert doc.file == "f.yaml" and doc.index == 0


def test_positions_cover_exactly_the_data_paths() -> None:
    doc = load_one(STATEFULSET)
    assert set(doc.positions) == set(all_paths(doc.data))


def test_scalar_list_items_and_top_level_list() -> None:
    doc = load_one("""\
        - a
        - b
        -
          - c
        """)
    assert doc.data == ["a", "b", ["c"]]
    assert doc.positions == {(): 1, (0,): 1, (1,): 2, (2,): 4, (2, 0): 4}


def test_scalar_document() -> None:
    doc = load_one("--- just text\n")
    assert doc.data == "just text"
    assert doc.positions == {(): 1}


def test_flow_style() -> None:
    text = "a: {x: 1, y: [1, 2,\n   3]}\nb: [\n  {z: 1},\n  q\n]\n"
    doc = load_documents(text, "f.yaml")[0]
    assert doc.data == yaml.safe_load(text)
    p = doc.positions
    assert p[("a",)] == 1
    assert p[("a", "x")] == 1
    assert p[("a", "y", 2)] == 2
    assert p[("b",)] == 3
    assert p[("b", 0)] == 4
    assert p[("b", 0, "z")] == 4
    assert p[("b", 1)] == 5


def test_non_string_keys_keep_safe_load_data() -> None:
    text = "7: seven\ntrue: yes\nnull: nothing\n2.5: x\n'7': str\nsub:\n  8: [a]\n"
    doc = load_documents(text, "f.yaml")[0]
    assert doc.data == yaml.safe_load(text)
    assert doc.positions[(7,)] == 1
    assert doc.positions[(True,)] == 2
    positions: Mapping[Any, int] = doc.positions  # keys are whatever safe_load constructs
    assert positions[(None,)] == 3
    assert doc.positions[("7",)] == 5
    assert doc.positions[("sub", 8, 0)] == 7
    # problem paths usually hold str(key): line_for still finds them
    assert line_for(doc, ["True"]) == 2
    assert line_for(doc, ["2.5"]) == 4
    assert line_for(doc, ["7"]) == 5  # a real str key wins
    assert line_for(doc, ["sub", "8", 0]) == 7


def test_keys_equal_as_python_values_are_duplicates() -> None:
    # safe_load would silently keep only one of them
    problem = only_problem("1: one\ntrue: yes\n")
    assert problem.path == ("True",)
    assert problem.line == 2
    assert "duplicate key" in problem.message


# ---------------------------------------------------------------- streams


def test_multi_document_stream_skips_empty_documents_and_keeps_index() -> None:
    text = textwrap.dedent("""\
        # leading comment
        ---
        kind: A
        ---
        # only a comment here
        ---
        ~
        ---

        # comment before content
        kind: B
        list:
          - 1
        ...
        ---
        """)
    docs = load_documents(text, "stream.yaml")
    assert [d.data for d in docs] == [{"kind": "A"}, {"kind": "B", "list": [1]}]
    assert [d.data for d in docs] == [d for d in yaml.safe_load_all(text) if d is not None]
    assert [d.index for d in docs] == [0, 3]
    assert docs[0].positions[()] == 3
    assert docs[0].positions[("kind",)] == 3
    assert docs[1].positions[()] == 11
    assert docs[1].positions[("kind",)] == 11
    assert docs[1].positions[("list", 0)] == 13
    assert all(d.file == "stream.yaml" for d in docs)


def test_empty_stream() -> None:
    assert load_documents("", "f.yaml") == []
    assert load_documents("# nothing\n", "f.yaml") == []
    assert load_documents("---\n---\n", "f.yaml") == []


# ---------------------------------------------------------------- anchors, aliases, merge keys

ANCHORS = """\
defaults: &defaults
  image: nginx
  ports: [80, 443]
other: &other
  image: other
  pull: Always
list:
  - *defaults
  - name: x
merged:
  <<: *defaults
  image: override
multi:
  <<: [*other, *defaults]
  extra: 1
inline:
  <<: {a: 1, b: 2}
  b: 3
"""


def test_anchors_aliases_and_merge_keys_match_safe_load() -> None:
    doc = load_one(ANCHORS)
    assert doc.data == yaml.safe_load(ANCHORS)
    assert doc.data["merged"] == {"image": "override", "ports": [80, 443]}
    # Which mapping of a merge list wins changed in PyYAML 6.0.4 (the YAML spec says the first);
    # our data is whatever safe_load builds, and positions must follow the same choice.
    assert doc.data["multi"]["image"] in ("other", "nginx")
    assert {k: v for k, v in doc.data["multi"].items() if k != "image"} == {
        "pull": "Always", "ports": [80, 443], "extra": 1}
    assert doc.data["inline"] == {"a": 1, "b": 3}
    assert set(doc.positions) == set(all_paths(doc.data))


def test_alias_and_merge_positions() -> None:
    p = load_one(ANCHORS).positions
    assert p[("list", 0)] == 8  # where "- *defaults" is written
    assert p[("list", 0, "image")] == 2  # where the aliased value is defined
    assert p[("list", 1)] == 9
    assert p[("merged", "image")] == 12  # the explicit key wins over the merged one
    assert p[("merged", "ports")] == 3  # merged keys point at their definition
    winner = load_one(ANCHORS).data["multi"]["image"]
    assert p[("multi", "image")] == (5 if winner == "other" else 2)  # follows the merged value
    assert p[("multi", "extra")] == 15
    assert p[("inline", "a")] == 17
    assert p[("inline", "b")] == 18


def test_recursive_aliases_are_refused_without_hanging() -> None:
    # A value that contains itself cannot be a Kubernetes object (JSON is a tree); the scenario
    # builder used to recurse on it until RecursionError.
    for text, line in (("a: 1\nrec: &r [1, *r]\n", 2), ("node: &n\n  self: *n\n", 2)):
        with pytest.raises(ScenarioError) as info:
            load_documents(text, "f.yaml")
        (problem,) = info.value.problems
        assert (problem.file, problem.line) == ("f.yaml", line)
        assert "recursive alias" in problem.message
    doc = load_one("merge: &m {<<: *m, k: v}\n")  # merges nothing: not recursive data
    assert doc.data["merge"] == {"k": "v"}


def test_alias_bomb_is_refused_at_the_alias_that_crosses_the_limit() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    with pytest.raises(ScenarioError) as info:
        load_documents("\n".join(lines) + "\n", "bomb.yaml")
    (problem,) = info.value.problems
    assert problem.file == "bomb.yaml" and problem.line == 5  # the aliases up to a4 add 111 096 values
    assert "aliases expand the document by more than 100000 values" in problem.message


def test_aliases_within_the_bound_still_load_with_positions() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 4):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    doc = load_documents("\n".join(lines) + "\n", "ok.yaml")[0]
    assert len(doc.data["a3"]) == 10 and doc.data["a3"][9][9][9][9] == "x"
    assert line_for(doc, ["a3", 9, 9, 9]) is not None


def test_nesting_and_long_integers_are_bounded() -> None:
    deep = "a: " + "[" * 150 + "]" * 150 + "\n"
    with pytest.raises(ScenarioError, match="nested more than 100 levels deep"):
        load_documents(deep, "deep.yaml")
    with pytest.raises(ScenarioError) as info:
        load_documents("a: 1\nb: " + "1" * 5000 + "\n", "int.yaml")
    (problem,) = info.value.problems
    assert problem.line == 2 and "more than 4300 digits" in problem.message
    with pytest.raises(ScenarioError, match="more than 4300 digits"):
        safe_load("b: " + "1" * 5000 + "\n")


# ---------------------------------------------------------------- duplicate keys


def test_duplicate_keys_are_reported_with_line() -> None:
    text = "a: 1\nb:\n  x: 1\n  y: 2\n  x: 3\na: 4\n"
    with pytest.raises(ScenarioError) as info:
        load_documents(text, "dup.yaml")
    problems = info.value.problems
    assert [(p.path, p.line, p.file) for p in problems] == [
        (("b", "x"), 5, "dup.yaml"),
        (("a",), 6, "dup.yaml"),
    ]
    assert all("duplicate key" in p.message for p in problems)
    assert "line 3" in problems[0].message and "line 1" in problems[1].message


def test_duplicate_keys_in_flow_mapping_and_later_document() -> None:
    problem = only_problem("a: 1\n---\nlist:\n  - {k: 1, k: 2}\n")
    assert problem.path == ("list", 0, "k")
    assert problem.line == 4


def test_overriding_merged_keys_is_not_a_duplicate() -> None:
    doc = load_one("""\
        base: &b {x: 1}
        m:
          <<: *b
          x: 2
        """)
    assert doc.data["m"] == {"x": 2}


# ---------------------------------------------------------------- malformed YAML


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a:\n  b: 1\n\tc: 2\n", 3, "found character '\\t' that cannot start any token"),
        ("a:\n\tb: 1\n", 2, "cannot start any token"),
        ("a: 1\nb: [1, 2\nc: 3\n", 3, "expected ',' or ']'"),
        ("a: 1\nb: {x: 1\n", 3, "while parsing a flow mapping starting on line 2"),
        ("a: 1\nb: c: d\n", 2, "mapping values are not allowed here"),
        ("a:\n    b: 1\n  c: 2\n", 3, "expected <block end>"),
        ('a: "unterminated\n', 2, "found unexpected end of stream"),
        ("a: *nowhere\n", 1, "found undefined alias 'nowhere'"),
        ("a: !python/object:os.system ls\n", 1, "could not determine a constructor"),
        ("ok: 1\n---\nb: c: d\n", 3, "mapping values are not allowed here"),
        ("a: 1\nb: \x01\n", 2, "unacceptable character #x0001"),
    ],
)
def test_malformed_yaml_gives_one_located_problem(text: str, line: int, fragment: str) -> None:
    problem = only_problem(text, "bad.yaml")
    assert problem.file == "bad.yaml"
    assert problem.line == line
    assert problem.path == ()
    assert fragment in problem.message
    assert "\n" not in problem.message
    assert "Traceback" not in str(problem)


def test_malformed_yaml_has_no_chained_yaml_exception() -> None:
    with pytest.raises(ScenarioError) as info:
        load_documents("a: [1\n", "bad.yaml")
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
    assert not isinstance(info.value, yaml.YAMLError)


def test_too_deep_nesting_is_a_scenario_error() -> None:
    problem = only_problem("[" * 5000 + "]" * 5000)
    assert "nested too deeply" in problem.message


# ---------------------------------------------------------------- files


def test_load_file(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("a: 1\n---\nb: [x]\n", encoding="utf-8")
    docs = load_file(f)
    assert [d.data for d in docs] == [{"a": 1}, {"b": ["x"]}]
    assert all(d.file == str(f) for d in docs)
    assert load_file(str(f))[1].positions[("b", 0)] == 3


def test_load_file_with_bom_and_crlf(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_bytes("\ufeffa: 1\r\nb:\r\n  c: é\r\n".encode("utf-8"))
    doc = load_file(f)[0]
    assert doc.data == {"a": 1, "b": {"c": "é"}}
    assert doc.positions[("b", "c")] == 3


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as info:
        load_file(missing)
    (problem,) = info.value.problems
    assert problem.file == str(missing)
    assert problem.path == ()
    assert problem.message.startswith("cannot read file: ")
    assert "No such file" in problem.message


def test_directory_and_bad_encoding(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_file(tmp_path)
    assert info.value.problems[0].message.startswith("cannot read file: ")
    f = tmp_path / "latin1.yaml"
    f.write_bytes(b"a: \xff\xfe\n")
    with pytest.raises(ScenarioError) as info:
        load_file(f)
    (problem,) = info.value.problems
    assert problem.file == str(f)
    assert problem.message.startswith("cannot read file: ")


def test_malformed_file_names_file(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("a: 1\nb: c: d\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_file(f)
    assert str(info.value) == f"{f}:2: mapping values are not allowed here"


# ---------------------------------------------------------------- line_for and locate


def test_line_for_uses_longest_known_prefix() -> None:
    doc = load_one(STATEFULSET)
    assert line_for(doc, ("spec", "selector")) == 6
    assert line_for(doc, ["spec", "template", "spec", "containers", 1, "image"]) == 18
    assert line_for(doc, ("spec", "template", "spec", "containers", 7, "image")) == 10
    assert line_for(doc, ("nothing", "here")) == 2
    assert line_for(doc, ()) == 2


def test_locate_without_prefix() -> None:
    doc = load_one(STATEFULSET, file="web.yaml")
    problems = [
        Problem(("spec", "replicas"), "expected an integer"),
        Problem(("spec", "selector"), "required key is missing"),
    ]
    located = locate(problems, doc)
    assert [(p.file, p.line) for p in located] == [("web.yaml", 7), ("web.yaml", 6)]
    assert [p.message for p in located] == [p.message for p in problems]
    assert problems[0].file is None  # originals are untouched


def test_locate_with_prefix() -> None:
    doc = load_one(STATEFULSET, file="web.yaml")
    problems = [
        Problem(("manifests", 2, "spec", "template", "spec", "containers", 0, "image"), "bad image"),
        Problem(("manifests", 2), "whole manifest"),
        Problem(("manifests", 1, "kind"), "other manifest"),
        Problem(("steps", 0), "not about manifests", file="scenario.yaml", line=4),
    ]
    located = locate(problems, doc, ("manifests", 2))
    assert located[0] == Problem(problems[0].path, "bad image", file="web.yaml", line=12)
    assert located[1] == Problem(("manifests", 2), "whole manifest", file="web.yaml", line=2)
    # not under the prefix: unchanged, but given the file when it had none
    assert located[2] == Problem(("manifests", 1, "kind"), "other manifest", file="web.yaml", line=None)
    assert located[3] == problems[3]


def test_locate_keeps_already_located_problems() -> None:
    scenario = load_one("manifests:\n  - file: web.yaml\n", file="scenario.yaml")
    earlier = Problem(("manifests", 0, "spec"), "bad", file="web.yaml", line=9)
    fresh = Problem(("manifests", 0, "file"), "missing")
    located = locate([earlier, fresh], scenario)
    assert located[0] == earlier
    assert located[1] == Problem(("manifests", 0, "file"), "missing", file="scenario.yaml", line=2)


# ---------------------------------------------------------------- property test


def all_paths(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every key path in a plain (acyclic) data structure, in document order."""
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from all_paths(child, path + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from all_paths(child, path + (i,))


def leaf_paths(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, dict) and value:
        for key, child in value.items():
            yield from leaf_paths(child, path + (key,))
    elif isinstance(value, list) and value:
        for i, child in enumerate(value):
            yield from leaf_paths(child, path + (i,))
    else:
        yield path


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
structures = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=10), children, max_size=5),
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(data=structures, flow=st.sampled_from([None, False, True]), sort_keys=st.booleans())
def test_roundtrip_matches_safe_load_and_every_leaf_has_a_position(data: Any, flow: bool | None, sort_keys: bool) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, sort_keys=sort_keys, allow_unicode=True)
    expected = yaml.safe_load(text)
    docs = load_documents(text, "p.yaml")
    if expected is None:
        assert docs == []
        return
    (doc,) = docs
    assert doc.data == expected
    # YAML also counts NEL, LS and PS (and a lone CR) as line breaks.
    breaks = sum(text.count(b) for b in ("\n", "\x85", "\u2028", "\u2029")) + text.replace("\r\n", "").count("\r")
    n_lines = breaks + 1
    for path in leaf_paths(doc.data):
        assert path in doc.positions
        assert line_for(doc, path) == doc.positions[path]
    assert set(doc.positions) == set(all_paths(doc.data))
    # lines are within the text and never go backwards in document order
    lines = [doc.positions[p] for p in all_paths(doc.data)]
    assert all(1 <= line <= n_lines for line in lines)
    assert lines == sorted(lines)


@settings(max_examples=50, deadline=None)
@given(docs=st.lists(structures, min_size=1, max_size=4))
def test_roundtrip_streams(docs: list[Any]) -> None:
    text = yaml.safe_dump_all(docs)
    expected = list(yaml.safe_load_all(text))
    loaded = load_documents(text, "p.yaml")
    assert [d.data for d in loaded] == [d for d in expected if d is not None]
    assert [d.index for d in loaded] == [i for i, d in enumerate(expected) if d is not None]
