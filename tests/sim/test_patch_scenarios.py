"""The ``patch`` verb as ``kubectl patch`` (whole object, three types), checked before the run,
and what its patches do to a run: scenarios/strategic-patch-image.yaml and friends."""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any

import pytest

from helpers import scenario, statefulset
from statefulsim.errors import ScenarioError
from statefulsim.io.scenario import load_scenario, load_scenario_text
from statefulsim.runner import run
from statefulsim.sim.actions import Patch

ROOT = pathlib.Path(__file__).resolve().parents[2]
DELAY = 15.0  # the readiness probe's initialDelaySeconds in the bundled scenario


def _readiness_delays(result: Any, after: float) -> dict[str, float]:
    """For each pod created after ``after``: seconds from its container's start to Ready."""
    started = {r.fields["uid"]: r.t for r in result.trace.of("ContainerStarted")}
    delays = {}
    for created in result.trace.of("PodCreated"):
        if created.t < after:
            continue
        uid = created.fields["uid"]
        ready = [r.t for r in result.trace.of("PodReady") if r.fields["uid"] == uid]
        if ready and uid in started:
            delays[created.fields["pod"]] = ready[0] - started[uid]
    return delays


def test_a_strategic_patch_of_one_image_keeps_the_readiness_probe() -> None:
    sc = load_scenario(ROOT / "scenarios" / "strategic-patch-image.yaml")
    result = run(sc)
    patch_at = next(r.t for r in result.trace.of("Action") if r.fields["action"] == "patch")
    delays = _readiness_delays(result, patch_at)
    assert sorted(delays) == ["web-0", "web-1", "web-2"]
    for pod, delay in delays.items():  # the probe's delay, then its first period
        assert DELAY <= delay <= DELAY + 1.5, (pod, delay)
    pulled = {r.fields["pod"] for r in result.trace.of("ImagePulling") if r.t > patch_at
              and r.fields["image"] == "registry.k8s.io/nginx-slim:0.26"}
    assert pulled == {"web-0", "web-1", "web-2"}
    # the same patch as a merge patch replaces the containers list: no probe, Ready at once
    merge = [dataclasses.replace(a, patch_type="merge") if isinstance(a, Patch) else a for a in sc.actions]
    plain = run(dataclasses.replace(sc, actions=tuple(merge) if isinstance(sc.actions, tuple) else merge))
    assert all(d < 1.0 for d in _readiness_delays(plain, patch_at).values())
    # ... and the scenario's own expectation of the delay says so
    assert result.ok and [e.ok for e in plain.expectations] == [True, True, False]


def test_replay_reads_the_spec_of_each_patch_form() -> None:
    from statefulsim.analysis.replay import spec_part

    assert spec_part({"spec": {"replicas": 2}, "metadata": {}}) == {"replicas": 2}
    assert spec_part({"metadata": {"labels": {}}}) == {}
    assert spec_part({"replicas": 2}) == {"replicas": 2}  # a trace of an earlier version
    assert spec_part([{"op": "remove", "path": "/spec/ordinals"}], "json") is None


def _run(actions: list[dict[str, Any]], until: str = "60s") -> Any:
    return run(scenario(statefulset("web", 1), actions=actions, until=until))


def test_a_patch_that_changes_nothing_is_a_note() -> None:
    result = _run([{"at": "20s", "patch": {"statefulset": "web", "patch": {"spec": {"replicas": 1}}}},
                   {"at": "30s", "patch": {"statefulset": "web", "type": "json",
                                           "patch": [{"op": "test", "path": "/spec/replicas", "value": 1}]}}])
    notes = [(r.t >= 30, dict(r.fields)) for r in result.trace.of("ActionNote")]
    assert notes == [(False, {"action": "patch", "message": "statefulset.apps/web patched (no change)"}),
                     (True, {"action": "patch", "message": "statefulset.apps/web patched (no change)"})]
    assert not list(result.trace.of("StatefulSetUpdated"))


def test_labels_and_the_spec_change_by_each_type() -> None:
    result = _run([{"at": "20s", "patch": {"statefulset": "web", "type": "merge",
                                           "patch": {"metadata": {"labels": {"tier": "web"}}}}},
                   {"at": "30s", "patch": {"statefulset": "web", "type": "json",
                                           "patch": [{"op": "replace", "path": "/spec/replicas", "value": 2}]}}])
    updated = [(r.fields["generation"], r.fields["replicas"]) for r in result.trace.of("StatefulSetUpdated")]
    assert updated == [(2, 2)]  # a label is no spec change (no new generation)
    assert not list(result.trace.of("ActionNote")) and not list(result.trace.of("ActionFailed"))
    assert {r.fields["pod"] for r in result.trace.of("PodCreated")} == {"web-0", "web-1"}
    action = [r for r in result.trace.of("Action") if r.fields["action"] == "patch"][1]
    assert action.fields["type"] == "json" and action.fields["patch"][0]["path"] == "/spec/replicas"


def test_a_failing_json_patch_fails_the_action() -> None:
    ops = [{"op": "test", "path": "/spec/replicas", "value": 1}, {"op": "replace", "path": "/spec/replicas", "value": 2}]
    actions = [{"at": "10s", "scale": {"statefulset": "web", "replicas": 3}},
               {"at": "20s", "patch": {"statefulset": "web", "type": "json", "patch": ops}}]
    # the loader checks the patch against the set as the scale leaves it
    with pytest.raises(ScenarioError, match=r"the patch would be rejected: testing value /spec/replicas failed \(operation 0\)"):
        _run(actions)
    # a scenario built in Python is not checked: the API server refuses the patch at run time
    sc = scenario(statefulset("web", 1), actions=actions[:1] + [dict(actions[1], patch=dict(actions[1]["patch"], patch=[]))],
                  until="60s")
    sc = dataclasses.replace(sc, actions=[a if not isinstance(a, Patch) else dataclasses.replace(a, patch=ops)
                                          for a in sc.actions])
    result = run(sc)
    failed = [r.fields["error"] for r in result.trace.of("ActionFailed")]
    assert failed == ["testing value /spec/replicas failed (operation 0)"]
    assert [r.fields["replicas"] for r in result.trace.of("StatefulSetUpdated")] == [3]


def test_apply_of_a_changed_template_is_a_new_revision() -> None:
    sts = statefulset("web", 2)
    changed = dict(sts)
    changed["spec"] = dict(sts["spec"], template={**sts["spec"]["template"], "metadata": {
        "labels": sts["spec"]["template"]["metadata"]["labels"], "annotations": {"v": "2"}}})
    result = run(scenario(sts, actions=[{"at": "60s", "apply": [changed]}], until="3m"))
    revisions = [r.fields["number"] for r in result.trace.of("RevisionCreated")]
    assert revisions == [1, 2]
    recreated = {r.fields["pod"] for r in result.trace.of("PodCreated") if r.t > 60}
    assert recreated == {"web-0", "web-1"}


def _problems(action: str) -> list[str]:
    body = (f"apiVersion: statefulsim/v1\nkind: Scenario\nmetadata: {{name: s}}\nuntil: 1m\nmanifests:\n"
            f"  - file: manifests/web.yaml\nactions:\n  - at: 10s\n    patch: {action}\n")
    with pytest.raises(ScenarioError) as e:
        load_scenario_text(body, file="s.yaml", base_dir=str(ROOT / "scenarios"))
    return [str(p) for p in e.value.problems]


@pytest.mark.parametrize("action, expected", [
    ("{statefulset: web, patch: {minReadySeconds: 10}}",
     "s.yaml:9: actions[0].patch.patch: unknown field 'minReadySeconds' of a StatefulSet: a patch is of the whole "
     "object, as kubectl patch -p takes it; write patch: {spec: {minReadySeconds: 10}}"),
    ("{statefulset: web, patch: {spec: {template: {spec: {containers: [{name: nginx, imagee: x}]}}}}}",
     's.yaml:9: actions[0].patch.patch.spec.template.spec.containers[0].imagee: unknown field '
     '"spec.template.spec.containers[0].imagee" (did you mean "image"?): the API server refuses unknown fields '
     "(strict field validation, kubectl's default)"),
    ("{statefulset: web, type: json, patch: [{op: add, path: /spec/foo, value: 1}]}",
     's.yaml:9: actions[0].patch.patch[0].path: unknown field "spec.foo"'),
    ("{statefulset: web, type: apply, patch: {}}",
     "s.yaml:9: actions[0].patch.type: expected one of strategic, merge, json, found 'apply'"),
    ("{statefulset: web, patch: {spec: {serviceName: other}}}", "Forbidden: updates to statefulset spec"),
    ("{statefulset: web, type: json, patch: [{op: remove, path: /spec/template/spec/containers/1}]}",
     "actions[0].patch.patch: the patch would be rejected: the JSON patch cannot be applied"),
    ("{statefulset: web, patch: {metadata: {name: other}}}",
     "the name of the object (other) does not match the name on the URL (web)"),
    ("{statefulset: web, patch: {spec: {template: {spec: {containers: [{image: x}]}}}}}",
     "does not contain declared merge key: name"),
])
def test_bad_patches_are_refused_when_the_scenario_loads(action: str, expected: str) -> None:
    found = _problems(action)
    assert len(found) == 1 and expected in found[0], found


def test_each_patch_is_checked_against_the_set_the_actions_before_it_leave() -> None:
    sidecar = "{name: log, image: busybox}"
    ok = load_scenario_text(
        "apiVersion: statefulsim/v1\nkind: Scenario\nmetadata: {name: s}\nuntil: 1m\nmanifests:\n"
        "  - file: manifests/web.yaml\nactions:\n"
        f"  - {{at: 10s, patch: {{statefulset: web, type: json, patch: [{{op: add, "
        f"path: /spec/template/spec/containers/-, value: {sidecar}}}]}}}}\n"
        "  - {at: 20s, patch: {statefulset: web, type: json, patch: [{op: replace, "
        "path: /spec/template/spec/containers/1/image, value: busybox:2}]}}\n"
        "  - {at: 30s, setImage: {statefulset: web, container: log, image: busybox:3}}\n"
        "  - {at: 40s, scale: {statefulset: web, replicas: 2}}\n"
        "  - {at: 50s, patch: {statefulset: web, type: json, patch: [{op: test, path: /spec/replicas, value: 2}]}}\n",
        file="s.yaml",
        base_dir=str(ROOT / "scenarios"),
    )
    assert len(ok.actions) == 5
    # without the first action, the second and third are refused when the scenario loads
    found = _problems(
        "{statefulset: web, type: json, patch: [{op: replace, path: /spec/template/spec/containers/1/image, value: x}]}"
    )
    assert len(found) == 1 and "the patch would be rejected" in found[0]


def test_scale_past_the_limit_is_found_in_each_patch_form() -> None:
    for patch in ("{spec: {replicas: 20000}}", "[{op: replace, path: /spec/replicas, value: 20000}]"):
        kind = "json" if patch.startswith("[") else "strategic"
        assert any("20000 replicas in all" in p for p in _problems(f"{{statefulset: web, type: {kind}, patch: {patch}}}"))


def test_patch_outcomes_are_remembered_per_set_and_patch() -> None:
    """Running a scenario twice in one process (a sweep) applies its patch to the same manifest
    objects: the second run takes the outcome from the memo, with a byte-identical trace; another
    patch content, or the same content in a fresh dict, is worked out (or found) by content."""
    from statefulsim.io.trace_io import dumps_record
    from statefulsim.sim.actions import statefulset as verbs

    def lines(result: Any) -> list[str]:
        return [dumps_record(r) for r in result.trace]

    sc = load_scenario(ROOT / "scenarios" / "strategic-patch-image.yaml")
    verbs._PATCHED.clear()
    first = lines(run(sc))
    hits = verbs.patch_memo_hits
    assert lines(run(sc)) == first
    assert verbs.patch_memo_hits > hits

    sts = next(o for o in sc.objects if o.kind == "StatefulSet")
    hits = verbs.patch_memo_hits
    scaled = verbs._patched_set(sts, {"spec": {"replicas": 7}}, "merge")
    assert not isinstance(scaled, str) and scaled.spec.replicas == 7
    assert verbs.patch_memo_hits == hits
    again = verbs._patched_set(sts, {"spec": {"replicas": 7}}, "merge")  # equal content, new dict
    assert verbs.patch_memo_hits == hits + 1
    assert again == scaled and again.spec is scaled.spec
    other = verbs._patched_set(sts, {"spec": {"replicas": 8}}, "merge")
    assert not isinstance(other, str) and other.spec.replicas == 8
    assert verbs._patched_set(sts, {"spec": {"replicas": sts.spec.replicas}}, "merge") is sts
    refused = verbs._patched_set(sts, {"spec": {"serviceName": "other"}}, "merge")
    assert isinstance(refused, str) and "Forbidden" in refused
    assert verbs._patched_set(sts, {"spec": {"serviceName": "other"}}, "merge") == refused
