"""The report's answers (#18 §4): rollout duration and time below quorum, the JSON summary, 80 columns."""

from __future__ import annotations

import json
import os
import pathlib

from click.testing import CliRunner

import statefulsim
from statefulsim.analysis import metrics
from statefulsim.cli import cli
from statefulsim.present.report import set_summaries
from statefulsim.present.summary import run_summary

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_set_summary_has_rollout_and_time_below_quorum_over_the_window() -> None:
    result = statefulsim.run(str(ROOT / "scenarios" / "rolling-update-rollback.yaml"))
    s = set_summaries(result)[0]
    assert s.rollout == metrics.rollout_duration(result.trace, s.name) and s.rollout is not None
    assert s.quorum == metrics.majority(s.max_desired) == 2
    start = metrics.first_change(result.trace)
    assert s.window_from == start > 0
    below = metrics.below_quorum(result.trace, s.name, 2, result.until)
    expected = sum(max(0.0, b - max(a, start)) for a, b in below if b > start)
    assert s.below_quorum == expected
    # a window from 0 also counts the start-up, which is below quorum until the second pod is Ready
    whole = set_summaries(result, quorum_from=0.0)[0].below_quorum
    assert whole is not None and s.below_quorum is not None and whole > s.below_quorum
    assert set_summaries(result, quorum=3)[0].below_quorum >= s.below_quorum  # type: ignore[operator]


def test_first_change_skips_dns_lookups() -> None:
    result = statefulsim.run("quickstart")
    scale = next(r for r in result.trace.of("Action") if r.fields["action"] == "scale")
    assert metrics.first_change(result.trace) == scale.t
    assert [metrics.majority(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 3]


def test_json_summary_alone_on_stdout_with_the_exit_code() -> None:
    out = CliRunner().invoke(cli, ["run", "quickstart", "-o", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    result = statefulsim.run("quickstart")
    assert doc == json.loads(json.dumps(run_summary(result)))
    assert doc["summaryVersion"] == 1 and doc["ok"] is True and doc["records"] == len(result.trace)
    (mysql,) = doc["statefulsets"]
    assert mysql["name"] == "mysql" and mysql["quorum"] == 2 and mysql["stuck"] is None
    assert mysql["timeToAllReady"] == round(metrics.time_to_all_ready(result.trace, "mysql") or 0, 6)
    assert [x["ok"] for x in doc["expectations"]] == [True] * len(result.expectations)
    failing = CliRunner().invoke(cli, ["run", "quickstart", "-o", "json", "--until", "20s"])
    assert failing.exit_code == 1
    assert json.loads(failing.stdout)["ok"] is False and "FAILED" in failing.stderr
    stuck = CliRunner().invoke(cli, ["run", str(ROOT / "scenarios" / "crashloop-backoff.yaml"), "-o", "json"])
    assert any(s["stuck"] for s in json.loads(stuck.stdout)["statefulsets"])


def test_json_flags_that_do_not_apply_are_refused() -> None:
    r = CliRunner()
    rollout = r.invoke(cli, ["run", "quickstart", "--view", "rollout", "-o", "json"])
    assert rollout.exit_code == 2 and "-o json is for --view pods" in rollout.output
    events = r.invoke(cli, ["run", "quickstart", "--view", "events", "-o", "json"])
    assert events.exit_code == 0 and json.loads(events.stdout)["kind"] == "List"


def test_report_fits_80_columns_without_cutting_table_cells(tmp_path: pathlib.Path) -> None:
    env = dict(os.environ, COLUMNS="80")
    out = CliRunner(env=env).invoke(cli, ["run", "quickstart", "--no-timeline", "--quorum", "2"])
    assert out.exit_code == 0
    lines = out.stdout.splitlines()
    assert all(len(line.rstrip()) <= 80 for line in lines), max(lines, key=len)
    tables = out.stdout[out.stdout.index("Pods ("):out.stdout.index("Claims")]
    assert "…" not in tables
    assert "uid" not in tables and "scheduled" not in tables and "to ready" in tables
    wide = CliRunner(env=dict(os.environ, COLUMNS="120")).invoke(cli, ["run", "quickstart", "--no-timeline"])
    assert "uid" in wide.stdout and "scheduled" in wide.stdout and "policy" in wide.stdout
