"""Every bundled scenario's trace, at its own seed, is byte-identical to the recorded digest.

Refactors and speed-ups must not change a single byte of any bundled trace; a behaviour change
that does must say so by regenerating ``tests/golden/traces.json`` with
``STATEFULSIM_REGEN_GOLDEN=1 python -m pytest tests/project/test_golden_traces.py`` in the same commit,
with the reason in the commit message.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib

import pytest

from statefulsim.io.scenario import load_scenario
from statefulsim.io.trace_io import dumps_record
from statefulsim.runner import run

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
GOLDEN = ROOT / "tests" / "golden" / "traces.json"
REGEN = os.environ.get("STATEFULSIM_REGEN_GOLDEN") == "1"


def digest_of(path: pathlib.Path) -> dict[str, object]:
    """The SHA-256 of the scenario's JSON Lines trace and its record count."""
    result = run(load_scenario(path))
    h = hashlib.sha256()
    for record in result.trace:
        h.update((dumps_record(record) + "\n").encode("utf-8"))
    return {"records": len(result.trace), "sha256": h.hexdigest()}


def _recorded() -> dict[str, dict[str, object]]:
    if not GOLDEN.exists():
        return {}
    data: dict[str, dict[str, object]] = json.loads(GOLDEN.read_text(encoding="utf-8"))
    return data


def test_golden_covers_every_bundled_scenario() -> None:
    if REGEN:
        pytest.skip("regenerating")
    assert sorted(_recorded()) == sorted(p.stem for p in SCENARIOS)


def test_bundled_traces_unchanged() -> None:
    actual = {p.stem: digest_of(p) for p in SCENARIOS}
    if REGEN:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        tmp = GOLDEN.with_suffix(".tmp")
        tmp.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(GOLDEN)
        return
    recorded = _recorded()
    changed = sorted(name for name in actual if recorded.get(name) != actual[name])
    assert not changed, f"bundled traces changed: {changed}; see this file's docstring"


@pytest.mark.parametrize("name, tie_break", [("quickstart", None), ("node-failure", None),
                                             ("explore-healthy", "lifo"), ("explore-forced-rollback", "shuffle:2")])
def test_progress_callback_leaves_the_trace_byte_identical(name: str, tie_break: str | None) -> None:
    import dataclasses

    from statefulsim.sim import cluster as cluster_module

    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    if tie_break is not None:
        scenario = dataclasses.replace(scenario, cluster=dataclasses.replace(scenario.cluster, tie_break=tie_break))
    plain = run(scenario)
    calls: list[tuple[float, float]] = []
    old = cluster_module.PROGRESS_STEPS
    cluster_module.PROGRESS_STEPS = 7  # many calls, at odd places
    try:
        watched = run(scenario, progress=lambda now, until: calls.append((now, until)))
    finally:
        cluster_module.PROGRESS_STEPS = old
    assert calls and all(until == scenario.until and 0 <= now <= until for now, until in calls)
    assert [dumps_record(r) for r in watched.trace] == [dumps_record(r) for r in plain.trace]
