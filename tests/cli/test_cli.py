"""Tests for the ``statefulsim`` command line: output and exit codes (0 ok, 1 failed expectation, 2 bad input)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from statefulsim.cli import cli
from statefulsim.io.trace_io import read_jsonl

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"
MYSQL = ROOT / "scenarios" / "manifests" / "mysql.yaml"

HEADER = """\
apiVersion: statefulsim/v1
kind: Scenario
metadata:
  name: {name}
"""

INLINE_SET = """\
manifests:
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata:
      name: web
    spec:
      replicas: {replicas}
      serviceName: web
      selector:
        matchLabels: {{app: web}}
      template:
        metadata:
          labels: {{app: web}}
        spec:
          containers:
          - name: app
            image: nginx:1.27
"""


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def assert_bad_input(result: Result) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- run


def test_run_quickstart_ok(tmp_path: Path) -> None:
    out = tmp_path / "trace.jsonl"
    result = invoke("run", QUICKSTART, "--trace", out)
    assert result.exit_code == 0, result.output
    for text in ("quickstart", "seed 42", "Timeline", "scale mysql to 0", "Pods", "StatefulSets",
                 "Expectations (9 of 9 held)", f"records written to {out}"):
        assert text in result.output
    assert "FAILED" not in result.output
    trace = read_jsonl(out)
    assert trace.first("PodCreated", pod="mysql-2") is not None


def test_run_options(tmp_path: Path) -> None:
    result = invoke("run", QUICKSTART, "--no-timeline", "--seed", "7", "--until", "90s")
    assert result.exit_code in (0, 1), result.output  # ending at 90s, the scale-down never happens
    assert "Timeline" not in result.output and "Pods" in result.output
    assert "seed 7" in result.output and "until 00:01:30.000" in result.output


def test_run_quiet_prints_nothing_on_success() -> None:
    result = invoke("run", QUICKSTART, "--quiet")
    assert result.exit_code == 0
    assert result.output == ""


def failing_scenario(tmp_path: Path) -> Path:
    return write(tmp_path, HEADER.format(name="too-fast") + f"""\
until: 1m
manifests:
  - file: {MYSQL}
expect:
  - readyReplicas: {{statefulset: mysql, equals: 3, by: 10s}}
  - order: {{event: PodCreated, pods: [mysql-0, mysql-1]}}
""")


def test_run_failed_expectation_exits_1(tmp_path: Path) -> None:
    path = failing_scenario(tmp_path)
    result = invoke("run", path)
    assert result.exit_code == 1, result.output
    assert "Expectations (1 of 2 held)" in result.output
    assert "FAILED: 1 of 2 expectations did not hold" in result.output
    assert "✘ mysql readyReplicas = 3 by 00:00:10.000" in result.output
    quiet = invoke("run", path, "-q")
    assert quiet.exit_code == 1
    assert quiet.output.splitlines()[0].startswith("FAILED: 1 of 2")
    assert "Timeline" not in quiet.output


def test_run_malformed_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER.format(name="broken") + "manifests: [\n  - file: x.yaml\nuntil: 5m\n")
    result = invoke("run", path)
    assert_bad_input(result)
    assert re.match(rf"error: {re.escape(str(path))}:\d+: ", result.output), result.output


def test_unknown_key_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER.format(name="typo") + "untill: 5m\n" + INLINE_SET.format(replicas=1))
    result = invoke("run", path)
    assert_bad_input(result)
    assert f"error: {path}:5: untill: unknown key (did you mean \"until\"?)" in result.output


def test_wrong_type(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER.format(name="types") + "seed: lots\nuntil: [5m]\n" + INLINE_SET.format(replicas=1))
    result = invoke("validate", path)
    assert_bad_input(result)
    lines = result.output.splitlines()
    assert any(ln.startswith(f"error: {path}:5: seed: expected an integer") for ln in lines), result.output
    assert any(ln.startswith(f"error: {path}:6: until:") for ln in lines), result.output


def test_scale_action_names_a_missing_statefulset(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER.format(name="missing") + INLINE_SET.format(replicas=1) + """\
actions:
  - at: 1m
    scale: {statefulset: wbe, replicas: 2}
""")
    result = invoke("run", path)
    assert_bad_input(result)
    assert "actions[0].scale.statefulset: no StatefulSet named 'wbe'" in result.output
    assert 'did you mean "web"' in result.output


def test_negative_replicas_in_a_manifest(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER.format(name="negative") + INLINE_SET.format(replicas=-1))
    result = invoke("run", path)
    assert_bad_input(result)
    assert result.output.startswith("error: ")
    assert f"{path}:11: " in result.output and "replicas" in result.output


def test_every_problem_on_its_own_line(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER.format(name="many") + "untill: 5m\nseed: -3\n" + INLINE_SET.format(replicas=-1))
    result = invoke("validate", path)
    assert_bad_input(result)
    errors = [ln for ln in result.output.splitlines() if ln.startswith("error: ")]
    assert len(errors) >= 3
    assert all(ln.startswith(f"error: {path}:") for ln in errors)


def test_missing_scenario_file(tmp_path: Path) -> None:
    result = invoke("run", tmp_path / "nope.yaml")
    assert_bad_input(result)
    assert "error: " in result.output and "nope.yaml" in result.output


@pytest.mark.parametrize("value, message", [
    ("5 minutes", "expected a duration"),
    ("-5s", "expected a duration"),
    ("0", "positive"),
    ("never", "finite"),
])
def test_bad_until(value: str, message: str) -> None:
    result = invoke("run", QUICKSTART, "--until", value)
    assert_bad_input(result)
    assert "Invalid value for '--until'" in result.output and message in result.output


def test_bad_seed_and_unknown_option() -> None:
    assert_bad_input(invoke("run", QUICKSTART, "--seed", "-1"))
    assert_bad_input(invoke("run", QUICKSTART, "--speed", "2"))
    assert_bad_input(invoke("frobnicate"))
    assert_bad_input(invoke("run"))


def test_unwritable_trace_path(tmp_path: Path) -> None:
    result = invoke("run", QUICKSTART, "-q", "--trace", tmp_path / "no" / "such" / "dir" / "t.jsonl")
    assert_bad_input(result)
    assert "cannot write the trace" in result.output


# ---------------------------------------------------------------- validate, show, version


def test_validate_ok() -> None:
    result = invoke("validate", QUICKSTART)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "ok: quickstart: 4 objects, 2 actions, 9 expectations"
    assert lines[1].startswith("note: ConfigMap mysql")


def test_show_a_saved_trace(tmp_path: Path) -> None:
    out = tmp_path / "q.jsonl"
    assert invoke("run", QUICKSTART, "-q", "--trace", out).exit_code == 0
    result = invoke("show", out)
    assert result.exit_code == 0, result.output
    assert f"{out}: " in result.output and "Timeline" in result.output
    assert "scale mysql to 0" in result.output and "StatefulSets" in result.output
    assert "Expectations" not in result.output


def test_show_bad_trace(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"t":0,"event":"A"}\n{"t":"soon","event":"B"}\n')
    result = invoke("show", bad)
    assert_bad_input(result)
    assert f'error: {bad}:2: "t" must be a number' in result.output
    result = invoke("show", tmp_path / "missing.jsonl")
    assert_bad_input(result)
    assert "cannot read trace file" in result.output


def test_version_and_help() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and "statefulsim, version" in result.output
    result = invoke("--help")
    assert result.exit_code == 0 and "run" in result.output and "validate" in result.output


def test_help_has_no_restructuredtext_markup() -> None:
    """The help is read on a terminal: no ``literals``, :roles: or directives from docstrings."""
    from statefulsim.cli import cli

    texts = {"statefulsim": invoke("--help").output}
    for name in cli.commands:  # type: ignore[attr-defined]
        texts[name] = invoke(name, "--help").output
    assert len(texts) > 10
    for name, text in texts.items():
        for markup in ("``", ":func:", ":class:", ":meth:", ":ref:"):
            assert markup not in text, f"statefulsim {name} --help shows {markup!r}"
        assert not re.search(r"^\s*\.\. [a-z-]+::", text, flags=re.M), f"statefulsim {name} --help has a directive"


# ---------------------------------------------------------------- the real process


def run_module(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "statefulsim.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_subprocess_exit_codes(tmp_path: Path) -> None:
    ok = run_module("run", "scenarios/quickstart.yaml")
    assert ok.returncode == 0, ok.stderr
    assert "Expectations (9 of 9 held)" in ok.stdout and ok.stderr == ""

    failed = run_module("run", failing_scenario(tmp_path), "--no-timeline")
    assert failed.returncode == 1, failed.stderr
    assert "FAILED" in failed.stdout

    bad = write(tmp_path, "apiVersion: statefulsim/v1\nkind: Scenario\nmetadata: {name: x\n", "bad.yaml")
    broken = run_module("run", bad)
    assert broken.returncode == 2
    assert broken.stderr.startswith(f"error: {bad}:") and "Traceback" not in broken.stderr
    assert broken.stdout == ""

    usage = run_module("run", "scenarios/quickstart.yaml", "--until", "soon")
    assert usage.returncode == 2 and "Traceback" not in usage.stderr
