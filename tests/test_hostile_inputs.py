"""Hostile inputs from the reliability audit (issue #13): each exits 2 with a located error."""

from __future__ import annotations

import textwrap
from pathlib import Path

from click.testing import CliRunner, Result

from statefulsim.cli import cli

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "scenarios" / "manifests" / "web.yaml"


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def scenario(tmp_path: Path, body: str = "", *, head: str = "") -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(f"""\
        apiVersion: statefulsim/v1
        kind: Scenario
        metadata: {{name: hostile}}
        """) + textwrap.dedent(head) + f"manifests:\n  - file: {WEB}\n" + textwrap.dedent(body))
    return path


def bad_input(result: Result, *needles: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, result.output
    return result.output


# ---------------------------------------------------------------- YAML


def _bomb(indent: str) -> str:
    lines = [f"{indent}x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 9):
        lines.append(f"{indent}x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_in_a_patch_annotation_is_refused_quickly(tmp_path: Path) -> None:
    body = ("actions:\n  - at: 10s\n    patch:\n      statefulset: web\n      patch:\n        template:\n"
            "          metadata:\n            annotations:\n" + _bomb("              "))
    f = scenario(tmp_path, body)
    bad_input(invoke("validate", f), f"{f}:", "aliases expand the document by more than 100000 values")


def test_recursive_alias_in_a_patch_is_refused(tmp_path: Path) -> None:
    f = scenario(tmp_path, "actions:\n  - {at: 1s, patch: {statefulset: web, patch: &p {template: {x: *p}}}}\n")
    bad_input(invoke("validate", f), "recursive alias")


def test_an_integer_of_5000_digits(tmp_path: Path) -> None:
    f = scenario(tmp_path, head="seed: " + "1" * 5000 + "\n")
    bad_input(invoke("validate", f), f"{f}:4: an integer of more than 4300 digits cannot be read")


def test_two_documents_point_at_the_second(tmp_path: Path) -> None:
    f = scenario(tmp_path)
    text = f.read_text()
    f.write_text(text + "---\n" + text)
    line = text.count("\n") + 2
    bad_input(invoke("validate", f), f"{f}:{line}: expected one Scenario document, found 2")
