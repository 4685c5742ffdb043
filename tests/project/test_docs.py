"""The examples in the README and docs load (and run), so the docs cannot rot."""

from __future__ import annotations

import pathlib
import re

import pytest

from statefulsim.io.scenario import load_scenario_text
from statefulsim.runner import run

ROOT = pathlib.Path(__file__).resolve().parents[2]


def yaml_blocks(path: pathlib.Path) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", path.read_text(), flags=re.S)


SCENARIO_DOCS = sorted(p.relative_to(ROOT).as_posix() for p in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
                       if any("kind: Scenario" in b for b in yaml_blocks(p)))


def test_the_scenario_examples_are_found() -> None:
    assert {"README.md", "docs/scenario.md", "docs/explore.md"} <= set(SCENARIO_DOCS)


@pytest.mark.parametrize("doc", SCENARIO_DOCS)
def test_scenario_examples_load_and_run(doc: str) -> None:
    """Every complete scenario in README.md and docs/ (a yaml block with ``kind: Scenario``)."""
    blocks = [b for b in yaml_blocks(ROOT / doc) if "kind: Scenario" in b]
    assert blocks, f"{doc} has no scenario example"
    for block in blocks:
        scenario = load_scenario_text(block, file=doc, base_dir=str(ROOT / "scenarios"))
        result = run(scenario)
        assert len(result.trace) > 10


@pytest.mark.parametrize(("name", "shows"), [("undo-then-restart", "RolledBack"), ("update-when-ready", "ActionTimedOut"),
                                             ("drain-gives-up", "DrainTimedOut")])
def test_rollout_when_and_drain_examples_meet_their_expectations(name: str, shows: str) -> None:
    """docs/scenario.md's examples of rolloutUndo/rolloutRestart, when: actions and drain options (#15)."""
    blocks = [b for b in yaml_blocks(ROOT / "docs" / "scenario.md") if f"metadata: {{name: {name}}}" in b]
    assert len(blocks) == 1
    result = run(load_scenario_text(blocks[0], file="docs/scenario.md", base_dir=str(ROOT / "scenarios")))
    assert result.expectations and result.ok, [e for e in result.expectations if not e.ok]
    assert result.trace.of(shows)


def test_the_patch_forms_example_does_what_scenario_md_says() -> None:
    text = (ROOT / "docs" / "scenario.md").read_text()
    block = next(b for b in yaml_blocks(ROOT / "docs" / "scenario.md") if "name: patch-forms" in b)
    assert "### Patches" in text.split(block)[0]
    result = run(load_scenario_text(block, file="docs/scenario.md", base_dir=str(ROOT / "scenarios")))
    assert not list(result.trace.of("ActionFailed"))
    assert [(r.t >= 150, r.fields["message"]) for r in result.trace.of("ActionNote")] == [
        (True, "statefulset.apps/web patched (no change)")]
    updates = [(r.fields["replicas"], r.fields["minReadySeconds"]) for r in result.trace.of("StatefulSetUpdated")]
    assert updates == [(1, 0.0), (1, 5.0), (2, 5.0), (2, 5.0)]
    sts = result.cluster.store.get("StatefulSet", "default", "web")
    assert sts.metadata.labels == {"tier": "frontend"}
    pod_spec = sts.spec_raw["template"]["spec"]
    [nginx] = pod_spec["containers"]
    assert nginx["image"].endswith(":0.26") and nginx["env"] == [] and "readinessProbe" in nginx
    assert pod_spec["tolerations"] == [{"key": "dedicated", "operator": "Exists"}]


def test_patch_errors_shown_in_scenario_md_are_the_loaders() -> None:
    from statefulsim.errors import ScenarioError

    section = (ROOT / "docs" / "scenario.md").read_text().split("### Patches", 1)[1].split("\n### ", 1)[0]
    shown = re.findall(r"line 9 is `(patch: .*?)`:\n\n```\n(error: .*?)\n```|for `(patch: .*?)`:\n\n```\n(error: .*?)\n```",
                       section, flags=re.S)
    assert len(shown) == 2
    for first, first_error, second, second_error in shown:
        action, error = " ".join((first or second).split()), first_error or second_error
        text = ("apiVersion: statefulsim/v1\nkind: Scenario\nmetadata: {name: s}\nuntil: 1m\nmanifests:\n"
                f"  - file: manifests/web.yaml\nactions:\n  - at: 10s\n    {action}\n")
        with pytest.raises(ScenarioError) as e:
            load_scenario_text(text, file="s.yaml", base_dir=str(ROOT / "scenarios"))
        assert [f"error: {p}" for p in e.value.problems] == [error]


def test_readme_starts_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(\w*)\n(.*?)```", text, flags=re.S)
    assert blocks[0][0] == "sh" and "statefulsim run scenarios/quickstart.yaml" in blocks[0][1]
    assert blocks[1][0] == "sh" and "pytest" in blocks[1][1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert blocks[1][1].strip() in ci


def test_every_timing_key_is_documented() -> None:
    from statefulsim.sim.timing import CLUSTER_KEYS, POD_KEYS

    text = (ROOT / "docs" / "timing.md").read_text()
    for key in list(CLUSTER_KEYS) + list(POD_KEYS):
        assert f"`{key}`" in text, key


def test_every_trace_event_is_documented() -> None:
    text = (ROOT / "docs" / "trace.md").read_text()
    src = "\n".join(p.read_text() for p in (ROOT / "statefulsim").rglob("*.py"))
    events = set(re.findall(r'emit\(\s*"(\w+)"', src))
    assert events
    from statefulsim.trace_schema import EVENTS

    for ev in events:
        assert ev in EVENTS, ev  # declared once, in the catalogue the reader validates against
        assert f"`{ev}`" in text, ev


def test_custom_verb_example_registers_and_runs() -> None:
    from statefulsim.sim.actions import ACTIONS

    text = (ROOT / "docs" / "scenario.md").read_text()
    section = text.split("### Your own verbs", 1)[1]
    code = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    import sys
    import types

    module = sys.modules["docs_example"] = types.ModuleType("docs_example")  # dataclasses look it up
    try:
        exec(compile(code, "docs/scenario.md", "exec"), module.__dict__)
        from helpers import scenario, statefulset

        sc = scenario(statefulset("web", 3), actions=[{"at": "40s", "deleteLowest": {"statefulset": "web", "count": 2}}],
                      until="60s")
        result = run(sc)
        fired = [r for r in result.trace if r.event == "Action" and r.fields.get("action") == "deleteLowest"]
        assert fired and fired[0].fields["count"] == 2
        deleted = {r.fields["pod"] for r in result.trace if r.event == "PodTerminating" and r.t >= 40}
        assert {"web-0", "web-1"} <= deleted
    finally:
        ACTIONS.unregister("deleteLowest")
        sys.modules.pop("docs_example", None)


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def _names(cell: str) -> tuple[list[str], list[str]]:
    """Backticked names of a fields cell, before and after "then", parenthesised remarks left out."""
    cell = re.sub(r"\([^)]*\)", "", cell)
    before, _, after = cell.partition("then")
    return re.findall(r"`(\w+)`", before), re.findall(r"`(\w+)`", after)


def test_the_trace_schema_is_the_documented_event_catalogue() -> None:
    from statefulsim.trace_schema import ACTION_FIELDS, EVENTS, OPTIONAL

    text = (ROOT / "docs" / "trace.md").read_text()
    catalogue = text.split("## Event catalogue", 1)[1].split("## The timeline", 1)[0]
    documented: dict[str, list[str]] = {}
    verbs: dict[str, tuple[list[str], list[str]]] = {}
    table = ""
    for line in catalogue.splitlines():
        if line.startswith("| event |"):
            table = "events"
        elif line.startswith("| `action` |"):
            table = "verbs"
        elif not line.startswith("|"):
            table = "" if not line.strip() else table
        elif table and not line.startswith("|---"):
            cells = _cells(line)
            if table == "events":
                documented[re.findall(r"`(\w+)`", cells[0])[0]] = _names(cells[1])[0]
            else:
                for verb in re.findall(r"`(\w+)`", cells[0]):
                    verbs[verb] = _names(cells[1])
    assert sorted(documented) == sorted(EVENTS)
    for event, fields in EVENTS.items():
        assert documented[event] == [name for name, _ in fields], event
    for event, fields in OPTIONAL.items():
        for name, _ in fields:
            assert f"`{name}`" in catalogue, (event, name)  # the spec facts paragraph
    assert sorted(verbs) == sorted(ACTION_FIELDS)
    for verb, (required, optional) in ACTION_FIELDS.items():
        assert verbs[verb][0] == [name for name, _ in required], verb
        assert verbs[verb][1] == [name for name, _ in optional], verb
    for kind in ("string", "integer", "number", "strings", "duration", "null"):
        assert f"`{kind}`" in text, kind  # the types are explained


def test_docs_point_only_inside_the_repository() -> None:
    # ../shared/ is the developers' workspace, not shipped: a reader of docs/ cannot follow it.
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    offenders = [str(p.relative_to(ROOT)) for p in docs if "../shared" in p.read_text(encoding="utf-8")]
    assert offenders == []


def _dns_headline(scenario: str, seed: int | None = None) -> tuple[float, float, int]:
    import dataclasses

    from statefulsim.analysis.dns import dns_visibility
    from statefulsim.io.scenario import load_scenario

    sc = load_scenario(ROOT / "scenarios" / f"{scenario}.yaml")
    if seed is not None:
        sc = dataclasses.replace(sc, seed=seed)
    v = dns_visibility(run(sc).trace, "web-3.nginx", "web-3")
    assert v.first_answer_at is not None
    return v.ready_at, v.first_answer_at, v.negative_answers_before


def test_dns_headline_figures_are_what_a_run_gives() -> None:
    from statefulsim.durations import format_clock

    dns_doc = (ROOT / "docs" / "dns.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quoted = {}
    for name, corefile in (("dns-kubeadm-legacy", "legacy"), ("dns-kubeadm", "current")):
        ready, answer, negatives = _dns_headline(name)
        assert f"Ready at {format_clock(ready)} in both runs" in dns_doc
        assert f"arrives at {format_clock(answer)}, **{answer - ready:.1f} s later**" in dns_doc
        assert f"{negatives} negative answers" in dns_doc or f"after {negatives}." in dns_doc
        quoted[corefile] = f"{answer - ready:.1f} s"
        spread = [b - a for a, b, _ in (_dns_headline(name, seed) for seed in range(5))]
        low, high = f"{min(spread):.1f} s", f"{max(spread):.1f} s"
        assert f"from {low} to {high}" in dns_doc, (corefile, low, high)
    assert (f"{quoted['legacy']} after Ready with the legacy 30 s cache, {quoted['current']} without"
            in readme)


def test_readme_timeline_excerpt_is_what_the_quick_start_prints() -> None:
    from click.testing import CliRunner

    from statefulsim.cli import cli

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    excerpt = [line for block in re.findall(r"```text\n(.*?)```", readme, flags=re.S)
               for line in block.splitlines() if re.match(r"\d\d:\d\d:\d\d\.\d{3}  ", line)]
    assert excerpt, "the README quotes the quick start's timeline"
    out = CliRunner().invoke(cli, ["run", str(ROOT / "scenarios" / "quickstart.yaml")]).output
    printed = {" ".join(line.split()) for line in out.splitlines()}
    for line in excerpt:
        assert " ".join(line.split()) in printed, line


def test_cli_md_quick_start_output_is_what_the_run_prints() -> None:
    """docs/cli.md's `$ statefulsim run scenarios/quickstart.yaml` example: every quoted line (``...``
    marks a cut) is in what the command prints, so no figure in it can go stale."""
    import os

    from click.testing import CliRunner

    from statefulsim.cli import cli

    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    block = text.split("```\n$ statefulsim run scenarios/quickstart.yaml\n", 1)[1].split("$ echo $?", 1)[0]
    cwd = os.getcwd()
    try:
        os.chdir(ROOT)
        out = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["run", "scenarios/quickstart.yaml"]).output
    finally:
        os.chdir(cwd)
    printed = " ".join(out.split())
    quoted = [line for line in block.splitlines() if line.strip() and line.strip() != "..."]
    assert len(quoted) > 30
    for line in quoted:
        assert " ".join(line.split()) in printed, line
