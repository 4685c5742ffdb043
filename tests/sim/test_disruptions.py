"""Node failure and recovery, taint-based eviction, pod GC, the eviction API with
PodDisruptionBudgets and kubectl drain, asserted from the trace with exact timings
(reference pods-probes-dns-volumes.md §1.7, §1.8, §6.3; statefulset-controller.md §7)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import first, run, scenario, statefulset, times
from statefulsim.analysis.expect import live_pods
from statefulsim.errors import ScenarioError
from statefulsim.problems import Problems
from statefulsim.runner import RunResult
from statefulsim.sim.api.convert import object_from_manifest
from statefulsim.sim.api.objects import PodDisruptionBudget, StatefulSet

UNREACHABLE = "node.kubernetes.io/unreachable"
OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"

#: Node sizes make least-allocated scoring deterministic: with one pod per node (anti-affinity)
#: web-0, web-1, web-2 land on node-1, node-2, node-3; a replacement goes to the free node.
NODES = [{"name": "node-1", "cpu": "8"}, {"name": "node-2", "cpu": "4"}, {"name": "node-3", "cpu": "2"},
         {"name": "spare", "cpu": "1"}]
SPREAD = {"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
    {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}}}


def web(replicas: int = 3, policy: str = "OrderedReady", tolerations: list[dict[str, Any]] | None = None) -> dict:
    m = statefulset(replicas=replicas, policy=policy, container={"resources": {"requests": {"cpu": "500m"}}})
    m["spec"]["template"]["spec"].update(SPREAD)
    if tolerations is not None:
        m["spec"]["template"]["spec"]["tolerations"] = tolerations
    return m


def pdb(**spec: Any) -> dict:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web-pdb"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec}}


def expected_not_ready(r: RunResult, node: str, failed_at: float) -> float:
    """The last Lease renewal before the failure is on the node's 10 s grid; the node controller
    sees it at its next 5 s pass (the probe time) and marks the node Unknown ``grace`` later."""
    phase = r.cluster.kubelets[node].lease_phase
    renewal = phase + 10 * math.floor((failed_at - phase) / 10)
    probe = 5 * math.ceil(renewal / 5 - 1e-9)
    return probe + r.cluster.gates.node_monitor_grace_period_seconds


def uids(r: RunResult, pod: str) -> list[str]:
    return [rec.fields["uid"] for rec in r.trace.of("PodCreated", pod=pod)]


def fail(at: str, node: str = "node-2") -> dict:
    return {"at": at, "failNode": {"node": node}}


# ---------------------------------------------------------------- node failure timeline


@pytest.mark.parametrize("version,grace", [("1.31", 40), ("1.37", 50)])
def test_failed_node_not_ready_after_grace_then_pod_evicted_but_not_replaced(version: str, grace: float) -> None:
    r = run(web(), nodes=NODES, until="12m", extra={"cluster": {"nodes": NODES, "kubernetesVersion": version}},
            actions=[fail("60s"), {"at": "500s", "scale": {"statefulset": "web", "replicas": 4}}])
    assert first(r, "PodScheduled", pod="web-1") == first(r, "PodScheduled", node="node-2")
    not_ready = first(r, "NodeNotReady", node="node-2")
    assert not_ready == pytest.approx(expected_not_ready(r, "node-2", 60.0))
    assert 60 + grace - 10 < not_ready <= 60 + grace + 5
    rec = r.trace.first("NodeNotReady", node="node-2")
    assert rec is not None and rec.fields["status"] == "Unknown" and rec.fields["reason"] == "NodeStatusUnknown"
    # MarkPodsNotReady, and the NoSchedule taint from the node update, at once.
    assert first(r, "PodNotReady", pod="web-1") == pytest.approx(not_ready)
    assert first(r, "NodeTainted", node="node-2", key=UNREACHABLE, effect="NoSchedule") == pytest.approx(not_ready)
    # The NoExecute taint is queued by the next pass (it reads the condition observed at its start).
    tainted = first(r, "NodeTainted", node="node-2", key=UNREACHABLE, effect="NoExecute")
    assert tainted == pytest.approx(not_ready + 5)
    # DefaultTolerationSeconds: 300 s later the taint manager deletes the pod, gracefully.
    evicted = r.trace.first("PodEvicted", pod="web-1")
    assert evicted is not None and evicted.fields["reason"] == "DeletionByTaintManager"
    assert evicted.t == pytest.approx(tainted + 300)
    assert first(r, "PodTerminating", pod="web-1") == pytest.approx(tainted + 300)
    # No kubelet confirms: web-1 stays Terminating, is never replaced, and blocks web-3.
    assert not r.trace.of("PodDeleted", pod="web-1")
    assert len(uids(r, "web-1")) == 1
    assert not r.trace.of("PodCreated", pod="web-3")
    waits = r.trace.of("ControllerWaiting", statefulset="web", reason="PodTerminating", pod="web-1")
    assert waits and waits[0].t == pytest.approx(500.0)
    assert live_pods(r.trace, 720, "web") == ["web-0", "web-1", "web-2"]
    # The other nodes are untouched.
    assert {rec.fields["node"] for rec in r.trace.of("NodeNotReady")} == {"node-2"}


def test_recovery_before_eviction_makes_the_pod_ready_again() -> None:
    r = run(web(), nodes=NODES, until="10m", actions=[fail("60s"), {"at": "200s", "recoverNode": {"node": "node-2"}}])
    assert first(r, "PodNotReady", pod="web-1") < 200
    assert first(r, "NodeReady", node="node-2") == pytest.approx(200.0)
    # The kubelet rewrites the status the node controller changed.
    assert r.trace.of("PodReady", pod="web-1")[-1].t == pytest.approx(200.0)
    assert first(r, "NodeUntainted", node="node-2", effect="NoSchedule") == pytest.approx(200.0)
    assert first(r, "NodeUntainted", node="node-2", effect="NoExecute") == pytest.approx(205.0)  # next 5 s pass
    assert not r.trace.of("PodEvicted") and not r.trace.of("PodTerminating")  # the eviction was cancelled
    assert len(uids(r, "web-1")) == 1


def test_replaced_after_the_kubelet_returns() -> None:
    r = run(web(), nodes=NODES, until="12m",
            actions=[fail("60s"), {"at": "500s", "scale": {"statefulset": "web", "replicas": 4}},
                     {"at": "600s", "recoverNode": {"node": "node-2"}}])
    old, = uids(r, "web-1")[:1]
    assert first(r, "PodTerminating", uid=old) < 500
    # Back at 600 s, the kubelet re-reads its pods, terminates web-1 (appShutdown 1 s) and
    # confirms the deletion; only then is web-1 recreated.
    assert first(r, "PodDeleted", uid=old) == pytest.approx(601.0)
    new = uids(r, "web-1")[1]
    assert first(r, "PodCreated", uid=new) == pytest.approx(601.0)
    assert r.trace.of("ControllerResumed")[-1].t > 601
    assert first(r, "PodCreated", pod="web-3") >= first(r, "PodReady", uid=new)
    assert live_pods(r.trace, 720, "web") == ["web-0", "web-1", "web-2", "web-3"]


def test_replaced_after_force_delete_on_another_node() -> None:
    r = run(web(), nodes=NODES, until="10m",
            actions=[fail("60s"), {"at": "450s", "deletePod": {"pod": "web-1", "force": True}}])
    old, new = uids(r, "web-1")
    assert first(r, "PodTerminating", uid=old) < 450
    assert first(r, "PodDeleted", uid=old) == pytest.approx(450.0)
    assert first(r, "PodCreated", uid=new) == pytest.approx(450.0)
    # The scheduler does not use the NotReady, tainted node.
    assert r.trace.first("PodScheduled", uid=new).fields["node"] == "spare"  # type: ignore[union-attr]
    assert first(r, "PodReady", uid=new) > 450


def test_out_of_service_taint_evicts_at_once_and_pod_gc_force_deletes() -> None:
    r = run(web(), nodes=NODES, until="6m",
            actions=[fail("60s"), {"at": "130s", "taintOutOfService": {"node": "node-2"}}])
    assert first(r, "NodeNotReady", node="node-2") < 130
    assert first(r, "NodeTainted", node="node-2", key=OUT_OF_SERVICE, effect="NoExecute") == pytest.approx(130.0)
    # Not tolerated: the taint manager deletes the pod at once (not 300 s later) ...
    evicted = r.trace.first("PodEvicted", pod="web-1")
    assert evicted is not None and evicted.t == pytest.approx(130.0)
    # ... and pod GC, every 20 s, force-deletes terminating pods on a not-ready out-of-service node.
    assert first(r, "PodFailed", pod="web-1") == pytest.approx(140.0)
    assert first(r, "PodDeleted", pod="web-1") == pytest.approx(140.0)
    new = uids(r, "web-1")[1]
    assert first(r, "PodCreated", uid=new) == pytest.approx(140.0)
    assert r.trace.first("PodScheduled", uid=new).fields["node"] == "spare"  # type: ignore[union-attr]


def test_out_of_service_after_eviction() -> None:
    r = run(web(), nodes=NODES, until="9m", actions=[fail("60s"), {"at": "450s", "taintOutOfService": {"node": "node-2"}}])
    assert first(r, "PodTerminating", pod="web-1") < 450
    assert first(r, "PodDeleted", pod="web-1") == pytest.approx(460.0)
    assert len(uids(r, "web-1")) == 2


def test_deleted_node_pods_are_collected_after_quarantine() -> None:
    r = run(web(), nodes=NODES, until="10m", actions=[fail("60s"), {"at": "450s", "deleteNode": {"node": "node-2"}}])
    assert first(r, "NodeDeleted", node="node-2") == pytest.approx(450.0)
    # Pod GC sees the orphan at its 460 s pass, quarantines the node name for 40 s, then
    # confirms with a GET and force-deletes the pod (phase Failed first).
    assert first(r, "PodFailed", pod="web-1") == pytest.approx(500.0)
    assert first(r, "PodDeleted", pod="web-1") == pytest.approx(500.0)
    assert len(uids(r, "web-1")) == 2


def test_deleted_node_without_prior_eviction_marks_disruption_by_pod_gc() -> None:
    r = run(web(), nodes=NODES, until="4m", actions=[fail("30s"), {"at": "35s", "deleteNode": {"node": "node-2"}}])
    evicted = r.trace.first("PodEvicted", pod="web-1")
    assert evicted is not None and evicted.fields["reason"] == "DeletionByPodGC"
    assert evicted.t == pytest.approx(80.0)  # seen at 40 s, confirmed at 80 s
    assert first(r, "PodDeleted", pod="web-1") == pytest.approx(80.0)


def test_explicit_toleration_seconds_and_tolerate_forever() -> None:
    short = [{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30}]
    r = run(web(tolerations=short), nodes=NODES, until="5m", actions=[fail("60s")])
    tainted = first(r, "NodeTainted", node="node-2", key=UNREACHABLE, effect="NoExecute")
    assert first(r, "PodEvicted", pod="web-1") == pytest.approx(tainted + 30)
    forever = [{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}]
    r = run(web(tolerations=forever), nodes=NODES, until="12m", actions=[fail("60s")])
    assert r.trace.of("NodeTainted", key=UNREACHABLE, effect="NoExecute")
    assert not r.trace.of("PodEvicted")


def test_no_eviction_when_every_node_is_down() -> None:
    """Full disruption: the node controller assumes it lost the nodes, not the other way round."""
    r = run(statefulset(replicas=2), nodes=2, until="10m", actions=[fail("60s", "node-1"), fail("60s", "node-2")])
    assert len(r.trace.of("NodeNotReady")) == 2
    assert len(r.trace.of("PodNotReady")) == 2
    assert not r.trace.of("NodeTainted", effect="NoExecute")
    assert not r.trace.of("PodEvicted")


def test_noexecute_taints_are_rate_limited_per_zone() -> None:
    """--node-eviction-rate 0.1: a second node is tainted no sooner than 10 s after the first."""
    r = run(web(), nodes=NODES, until="3m", actions=[fail("60s", "node-2"), fail("60s", "node-3")])
    nr = {n: first(r, "NodeNotReady", node=n) for n in ("node-2", "node-3")}
    tainted = sorted(times(r, "NodeTainted", key=UNREACHABLE, effect="NoExecute"))
    a, b = sorted(nr.values())
    assert tainted[0] == pytest.approx(a + 5)
    assert tainted[1] == pytest.approx(max(b + 5, a + 15))


def test_node_actions_are_checked_against_the_cluster() -> None:
    with pytest.raises(ScenarioError) as err:
        scenario(web(), nodes=NODES, actions=[fail("10s", "node-9")])
    assert "no node named 'node-9'" in str(err.value)
    r = run(web(), nodes=NODES, until="30s", actions=[{"at": "10s", "recoverNode": {"node": "node-2"}}])
    assert r.trace.first("ActionFailed").fields["error"] == 'node "node-2" has not failed'  # type: ignore[union-attr]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(failed_at=st.integers(20, 120), outage=st.integers(5, 480), force=st.one_of(st.none(), st.integers(0, 420)),
       policy=st.sampled_from(["OrderedReady", "Parallel"]), seed=st.integers(0, 100))
def test_at_most_one_pod_per_identity_and_convergence(failed_at: int, outage: int, force: int | None, policy: str,
                                                      seed: int) -> None:
    actions: list[dict] = [fail(f"{failed_at}s")]
    if force is not None and force < outage:
        actions.append({"at": f"{failed_at + force}s", "deletePod": {"pod": "web-1", "force": True}})
    actions.append({"at": f"{failed_at + outage}s", "recoverNode": {"node": "node-2"}})
    actions.sort(key=lambda a: int(a["at"][:-1]))
    end = failed_at + outage + 150
    r = run(web(policy=policy), nodes=NODES, seed=seed, until=f"{end}s", actions=actions,
            timing={"apiLatency": {"exponential": {"mean": "15ms"}},
                    "watchLatency": {"uniform": {"low": "1ms", "high": "60ms"}}})
    live: dict[str, int] = {}
    for rec in r.trace:
        if rec.event == "PodCreated":
            live[rec.fields["pod"]] = live.get(rec.fields["pod"], 0) + 1
            assert live[rec.fields["pod"]] == 1, f"two live pods named {rec.fields['pod']} at {rec.t}"
        elif rec.event == "PodDeleted":
            live[rec.fields["pod"]] -= 1
    # Without a force delete the pod is never replaced before the node is back.
    if force is None or force >= outage:
        assert len(uids(r, "web-1")) == 1 or first(r, "PodDeleted", pod="web-1") >= failed_at + outage
    # Once the node is back, the set converges.
    assert live_pods(r.trace, end, "web") == ["web-0", "web-1", "web-2"]
    sts = r.cluster.get("StatefulSet", "web")
    assert sts.status.ready_replicas == 3
    for name in ("web-0", "web-1", "web-2"):
        assert r.cluster.get("Pod", name).is_ready()


# ---------------------------------------------------------------- eviction API and budgets


def test_pdb_blocks_eviction_while_a_pod_is_unready_and_allows_it_once_ready() -> None:
    r = run(statefulset(replicas=3), pdb(minAvailable=2), until="3m",
            actions=[{"at": "40s", "breakReadiness": {"pod": "web-2"}},
                     {"at": "60s", "evictPod": {"pod": "web-0"}},
                     {"at": "70s", "restoreReadiness": {"pod": "web-2"}},
                     {"at": "100s", "evictPod": {"pod": "web-0"}}])
    budget = [rec.fields for rec in r.trace.of("DisruptionBudgetStatus") if rec.t < 60]
    assert budget[-1] == {"pdb": "web-pdb", "currentHealthy": 2, "desiredHealthy": 2, "expectedPods": 3,
                          "disruptionsAllowed": 0}
    blocked = r.trace.first("EvictionBlocked", pod="web-0")
    assert blocked is not None and blocked.t == pytest.approx(60.0)
    assert blocked.fields["pdb"] == "web-pdb"
    assert blocked.fields["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert blocked.fields["cause"] == "The disruption budget web-pdb needs 2 healthy pods and has 2 currently"
    evicted = r.trace.first("PodEvicted", pod="web-0")
    assert evicted is not None and evicted.t == pytest.approx(100.0) and evicted.fields["reason"] == "EvictionByEvictionAPI"
    assert first(r, "PodTerminating", pod="web-0") == pytest.approx(100.0)
    assert len(uids(r, "web-0")) == 2
    assert len(r.trace.of("EvictionBlocked")) == 1


def test_unready_pod_may_be_evicted_while_the_budget_is_healthy() -> None:
    r = run(statefulset(replicas=3), pdb(minAvailable=2), until="2m",
            actions=[{"at": "40s", "breakReadiness": {"pod": "web-2"}}, {"at": "60s", "evictPod": {"pod": "web-2"}}])
    assert not r.trace.of("EvictionBlocked")
    assert first(r, "PodEvicted", pod="web-2") == pytest.approx(60.0)


def test_eviction_without_budget_and_percentages_rounded_up() -> None:
    r = run(statefulset(replicas=3), until="1m", actions=[{"at": "30s", "evictPod": {"pod": "web-1"}}])
    assert first(r, "PodEvicted", pod="web-1") == pytest.approx(30.0)
    # maxUnavailable 34% of 3 rounds up to 2: desiredHealthy 1, so two disruptions are allowed.
    r = run(statefulset(replicas=3), pdb(maxUnavailable="34%"), until="1m")
    assert r.trace.of("DisruptionBudgetStatus")[-1].fields == {
        "pdb": "web-pdb", "currentHealthy": 3, "desiredHealthy": 1, "expectedPods": 3, "disruptionsAllowed": 2}
    # minAvailable 50% of 3 rounds up to 2.
    r = run(statefulset(replicas=3), pdb(minAvailable="50%"), until="1m")
    assert r.trace.of("DisruptionBudgetStatus")[-1].fields["desiredHealthy"] == 2


def test_drain_evicts_concurrently_and_retries_a_blocked_eviction_every_5s() -> None:
    sts = statefulset(replicas=4, policy="Parallel", container={"resources": {"requests": {"cpu": "1"}}})
    placed = run(sts, pdb(maxUnavailable=1), nodes=2, until="30s")
    on_node_1 = sorted(rec.fields["pod"] for rec in placed.trace.of("PodScheduled", node="node-1"))
    assert len(on_node_1) == 2  # four 1-CPU pods on two 4-CPU nodes: two each
    r = run(sts, pdb(maxUnavailable=1), nodes=2, until="3m",
            actions=[{"at": "60s", "drainNode": {"node": "node-1"}}, {"at": "150s", "uncordonNode": {"node": "node-1"}}])
    assert first(r, "NodeCordoned", node="node-1") == pytest.approx(60.0)
    assert first(r, "NodeTainted", node="node-1", key="node.kubernetes.io/unschedulable") == pytest.approx(60.0)
    first_pod, second_pod = on_node_1
    # Both evictions are sent at once: the first takes the only disruption, the second gets 429.
    assert first(r, "PodEvicted", pod=first_pod) == pytest.approx(60.0)
    blocked = times(r, "EvictionBlocked", pod=second_pod)
    assert blocked[0] == pytest.approx(60.0)
    assert [b - a for a, b in zip(blocked, blocked[1:])] == pytest.approx([5.0] * (len(blocked) - 1))
    # It goes once the first pod's replacement (on node-2) is Ready, at the next 5 s retry.
    replacement = uids(r, first_pod)[1]
    ready = first(r, "PodReady", uid=replacement)
    assert r.trace.first("PodScheduled", uid=replacement).fields["node"] == "node-2"  # type: ignore[union-attr]
    evicted = first(r, "PodEvicted", pod=second_pod)
    assert evicted == pytest.approx(blocked[-1] + 5) and blocked[-1] < ready < evicted
    # kubectl drain polls every second until both pods are gone.
    drained = r.trace.first("NodeDrained", node="node-1")
    assert drained is not None and drained.fields["pods"] == 2 and evicted < drained.t <= evicted + 2
    # Never more than one pod unavailable after the drain starts.
    assert all(s.fields["readyReplicas"] >= 3 for s in r.trace.of("StatefulSetStatus") if s.t >= 60)
    assert first(r, "NodeUncordoned", node="node-1") == pytest.approx(150.0)


def test_drain_refuses_pods_without_a_controller_unless_forced() -> None:
    bare = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "lonely", "labels": {"app": "x"}},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}
    r = run(bare, statefulset(replicas=1), nodes=1, until="1m", actions=[{"at": "30s", "drainNode": {"node": "node-1"}}])
    failed = r.trace.first("ActionFailed")
    assert failed is not None and failed.fields["error"] == (
        "cannot delete Pods that declare no controller (use --force to override): default/lonely")
    assert first(r, "NodeCordoned", node="node-1") == pytest.approx(30.0)  # kubectl cordons first
    assert not r.trace.of("PodEvicted")
    r = run(bare, statefulset(replicas=1), nodes=1, until="1m",
            actions=[{"at": "30s", "drainNode": {"node": "node-1", "force": True}}])
    assert {rec.fields["pod"] for rec in r.trace.of("PodEvicted")} == {"lonely", "web-0"}


# ---------------------------------------------------------------- manifests


def _load(doc: dict) -> tuple[Any, Problems]:
    problems = Problems()
    return object_from_manifest(doc, (), problems), problems


def test_pdb_parsing_and_validation() -> None:
    obj, problems = _load(pdb(maxUnavailable="25%", unhealthyPodEvictionPolicy="AlwaysAllow"))
    assert isinstance(obj, PodDisruptionBudget) and not problems.items
    assert obj.spec.max_unavailable == "25%" and obj.spec.min_available is None
    assert obj.spec.unhealthy_pod_eviction_policy == "AlwaysAllow"
    assert obj.spec.matches({"app": "web"}) and not obj.spec.matches({"app": "db"})
    empty, _ = _load({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "all"},
                      "spec": {"selector": {}, "minAvailable": 1}})
    assert empty.spec.matches({"anything": "x"})  # policy/v1: an empty selector selects every pod
    unset, _ = _load({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "none"},
                      "spec": {"minAvailable": 1}})
    assert not unset.spec.matches({"app": "web"})  # no selector: no pods
    cases = {
        "both": (dict(minAvailable=1, maxUnavailable=1), ("spec",), "minAvailable and maxUnavailable cannot be both set"),
        "percent": (dict(minAvailable="150%"), ("spec", "minAvailable"), "must not be greater than 100%"),
        "negative": (dict(maxUnavailable=-1), ("spec", "maxUnavailable"), "must be greater than or equal to 0"),
        "string": (dict(maxUnavailable="one"), ("spec", "maxUnavailable"), "must be an integer or percentage"),
        "policy": (dict(minAvailable=1, unhealthyPodEvictionPolicy="Never"), ("spec", "unhealthyPodEvictionPolicy"), "Never"),
    }
    for name, (spec, path, text) in cases.items():
        obj, problems = _load(pdb(**spec))
        assert obj is None, name
        assert any(p.path == path and text in p.message for p in problems.items), (name, problems.items)
    obj, problems = _load({**pdb(minAvailable=1), "apiVersion": "policy/v1beta1"})
    assert obj is None and "not served since Kubernetes 1.25" in problems.items[0].message


def test_toleration_parsing_and_default_tolerations() -> None:
    good = [{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30},
            {"key": "dedicated", "value": "db", "effect": "NoSchedule"}]
    obj, problems = _load(statefulset(extra_spec={"template": {"metadata": {"labels": {"app": "web"}}, "spec": {
        "containers": [{"name": "app", "image": "nginx:1.27"}], "tolerations": good}}}))
    assert isinstance(obj, StatefulSet) and not problems.items and not problems.warnings
    t = obj.spec.template.spec.tolerations
    assert t[0].toleration_seconds == 30.0 and t[1].operator == "Equal" and t[1].value == "db"
    bad = [{"operator": "Equal", "value": "x"}, {"key": "a", "operator": "Exists", "value": "v"},
           {"key": "b", "effect": "NoSchedule", "tolerationSeconds": 5}, {"key": "c", "operator": "Maybe"}]
    obj, problems = _load(statefulset(extra_spec={"template": {"metadata": {"labels": {"app": "web"}}, "spec": {
        "containers": [{"name": "app", "image": "nginx:1.27"}], "tolerations": bad}}}))
    messages = " | ".join(p.message for p in problems.items)
    assert obj is None
    assert "operator must be Exists when `key` is empty" in messages
    assert "value must be empty when `operator` is 'Exists'" in messages
    assert "effect must be 'NoExecute' when `tolerationSeconds` is set" in messages
    assert "Maybe" in messages
    # DefaultTolerationSeconds admission: created pods tolerate not-ready/unreachable for 300 s,
    # unless they already say otherwise.
    r = run(web(tolerations=[good[0]]), nodes=NODES, until="20s")
    pod = r.cluster.get("Pod", "web-0")
    keys = {(x.key, x.toleration_seconds) for x in pod.spec.tolerations}
    assert (UNREACHABLE, 30.0) in keys and ("node.kubernetes.io/not-ready", 300.0) in keys
    assert (UNREACHABLE, 300.0) not in keys
