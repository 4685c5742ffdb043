"""kubectl drain's options that change timing (#15 section 2): ``timeout``, ``gracePeriod``,
``disableEviction``, ``deleteEmptydirData``, ``ignoreDaemonsets``; asserted from the trace with
exact timings (tests/helpers.py EXACT_TIMING: no API latency)."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import first, run, statefulset, times
from statefulsim.errors import ScenarioError

SPREAD_4 = statefulset(replicas=4, policy="Parallel", container={"resources": {"requests": {"cpu": "1"}}})


def pdb(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web-pdb"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec}}


def _drain(*manifests: dict[str, Any], until: str = "3m", **options: Any):  # type: ignore[no-untyped-def]
    return run(*manifests, nodes=2, until=until, actions=[{"at": "60s", "drainNode": {"node": "node-1", **options}}])


def test_timeout_gives_up_records_drain_timed_out_and_fails_as_kubectl() -> None:
    # maxUnavailable 0: every eviction is refused; kubectl retries every 5 s until the deadline.
    r = _drain(SPREAD_4, pdb(maxUnavailable=0), timeout="12s")
    blocked = sorted(set(times(r, "EvictionBlocked")))
    assert blocked == pytest.approx([60.0, 65.0, 70.0])  # the attempt at 75 s is past the deadline
    (gave_up,) = r.trace.of("DrainTimedOut")
    assert gave_up.t == pytest.approx(75.0) and gave_up.fields["node"] == "node-1"
    assert gave_up.fields["timeout"] == 12.0 and len(gave_up.fields["pending"]) == 2
    (failed,) = r.trace.of("ActionFailed")
    assert failed.t == pytest.approx(75.0)
    assert failed.fields["error"].count("global timeout reached: 12s") == 2
    assert not r.trace.of("NodeDrained")
    assert r.trace.of("Action")[0].fields["timeout"] == 12.0


def test_timeout_while_waiting_for_a_pod_that_never_goes() -> None:
    # A failed node: the evicted pods stay Terminating; the drain waits until the deadline.
    r = run(statefulset(replicas=2, policy="Parallel"), nodes=2, until="3m",
            actions=[{"at": "30s", "failNode": {"node": "node-1"}},
                     {"at": "40s", "drainNode": {"node": "node-1", "timeout": "20s"}}])
    (gave_up,) = r.trace.of("DrainTimedOut")
    assert gave_up.t == pytest.approx(60.0) and gave_up.fields["pending"]
    assert "to terminate: timed out waiting for the condition" in r.trace.of("ActionFailed")[0].fields["error"]


def test_without_timeout_a_drain_is_unchanged_and_finishes() -> None:
    r = _drain(SPREAD_4, pdb(maxUnavailable=1))
    assert r.trace.of("NodeDrained") and not r.trace.of("DrainTimedOut")
    assert "timeout" not in r.trace.of("Action")[0].fields


def test_disable_eviction_deletes_bypassing_the_budget() -> None:
    evicting = _drain(SPREAD_4, pdb(maxUnavailable=0), until="100s")
    assert evicting.trace.of("EvictionBlocked") and not evicting.trace.of("NodeDrained")
    r = _drain(SPREAD_4, pdb(maxUnavailable=0), disableEviction=True)
    assert not r.trace.of("EvictionBlocked") and not r.trace.of("PodEvicted")
    terminating = r.trace.of("PodTerminating")
    assert len(terminating) == 2 and all(t.t == pytest.approx(60.0) for t in terminating)
    drained = r.trace.first("NodeDrained", node="node-1")
    assert drained is not None and drained.fields["pods"] == 2
    assert drained.t == pytest.approx(60.0 + max(first(r, "PodDeleted", uid=t.fields["uid"]) - 60 for t in terminating),
                                      abs=1.0)


def test_disable_eviction_with_timeout_reports_kubectl_wait_error() -> None:
    r = run(statefulset(replicas=2, policy="Parallel"), nodes=2, until="3m",
            actions=[{"at": "30s", "failNode": {"node": "node-1"}},
                     {"at": "40s", "drainNode": {"node": "node-1", "timeout": "15s", "disableEviction": True}}])
    assert first(r, "DrainTimedOut") == pytest.approx(55.0)
    assert r.trace.of("ActionFailed")[0].fields["error"] == "timed out waiting for the condition"


def test_grace_period_goes_into_the_eviction() -> None:
    r = _drain(SPREAD_4, gracePeriod="3s")
    assert {t.fields["gracePeriodSeconds"] for t in r.trace.of("PodTerminating")} == {3.0}
    assert r.trace.of("Action")[0].fields["gracePeriodSeconds"] == 3.0
    r = _drain(SPREAD_4, disableEviction=True, gracePeriod=0)  # deleted at once, never Terminating
    assert not r.trace.of("PodTerminating") and len([t for t in times(r, "PodDeleted") if t == 60.0]) == 2


def test_emptydir_pods_need_delete_emptydir_data() -> None:
    sts = statefulset(replicas=1)
    sts["spec"]["template"]["spec"]["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    r = run(sts, nodes=1, until="1m", actions=[{"at": "30s", "drainNode": {"node": "node-1"}}])
    assert r.trace.of("ActionFailed")[0].fields["error"] == (
        "cannot delete Pods with local storage (use --delete-emptydir-data to override): default/web-0")
    r = run(sts, nodes=1, until="1m", actions=[{"at": "30s", "drainNode": {"node": "node-1", "deleteEmptydirData": True}}])
    assert r.trace.of("PodEvicted") and not r.trace.of("ActionFailed")


def test_daemonset_pods_are_an_error_unless_ignored_then_skipped() -> None:
    """The simulator runs no DaemonSet controller, so the filter is checked on pod objects."""
    from dataclasses import replace

    from helpers import scenario
    from statefulsim.sim.actions import DrainNode
    from statefulsim.sim.api.objects import OwnerReference, Pod

    def pod(name: str, owner: str | None) -> Pod:
        doc = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
               "spec": {"containers": [{"name": "c", "image": "agent:1"}]}}
        (obj,) = [o for o in scenario(doc, statefulset(replicas=1)).objects if isinstance(o, Pod)]
        refs = (OwnerReference(owner, name, f"uid-{name}"),) if owner else ()
        return replace(obj, metadata=replace(obj.metadata, owner_references=refs))

    pods = [pod("agent", "DaemonSet"), pod("lonely", None), pod("web-0", "StatefulSet")]
    keep, error = DrainNode(0.0, "node-1")._filtered(pods)
    assert error == ("[cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/agent, "
                     "cannot delete Pods that declare no controller (use --force to override): default/lonely]")
    keep, error = DrainNode(0.0, "node-1", ignore_daemonsets=True, force=True)._filtered(pods)
    assert error is None and [p.metadata.name for p in keep] == ["lonely", "web-0"]
    r = run(statefulset(replicas=1), nodes=1, until="1m",
            actions=[{"at": "30s", "drainNode": {"node": "node-1", "ignoreDaemonsets": True}}])
    assert r.trace.of("Action")[0].fields["ignoreDaemonsets"] is True and r.trace.of("NodeDrained")


def test_bad_drain_options_are_reported_with_their_path() -> None:
    with pytest.raises(ScenarioError) as e:
        run(statefulset(), actions=[
            {"at": "1s", "drainNode": {"node": "node-1", "gracePeriod": "1.5s"}},
            {"at": "2s", "drainNode": {"node": "node-1", "gracePeriod": 3, "gracePeriodSeconds": 3}},
            {"at": "3s", "drainNode": {"node": "node-1", "timeout": "later", "disableEviction": "yes"}},
            {"at": "4s", "drainNode": {"node": "node-1", "ignoreDaemonSets": True}}])
    text = str(e.value)
    for where in ("actions[0].drainNode.gracePeriod: expected whole seconds", "actions[1].drainNode: give gracePeriod",
                  "actions[2].drainNode.timeout", "actions[2].drainNode.disableEviction",
                  "actions[3].drainNode.ignoreDaemonSets: unknown key (did you mean \"ignoreDaemonsets\"?)"):
        assert where in text, text
