"""Scheduling: capacity, requests, node selectors, required anti-affinity, Pending pods."""

from __future__ import annotations

import pathlib

import pytest

from helpers import assert_same_records, first, run, scenario, statefulset
from statefulsim.analysis.expect import live_pods
from statefulsim.io.scenario import load_scenario
from statefulsim.model.scenario import Scenario
from statefulsim.runner import build_cluster

ANTI = {"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
    {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}}}


def _with_pod_spec(manifest: dict, extra: dict) -> dict:
    manifest["spec"]["template"]["spec"].update(extra)
    return manifest


def test_anti_affinity_one_pod_per_node_extra_pod_stays_pending() -> None:
    r = run(_with_pod_spec(statefulset(replicas=4, policy="Parallel"), ANTI), until="2m", nodes=3)
    nodes = {rec.fields["pod"]: rec.fields["node"] for rec in r.trace.of("PodScheduled")}
    assert len(nodes) == 3 and len(set(nodes.values())) == 3
    unsched = r.trace.of("PodUnschedulable")
    assert unsched
    pending = unsched[0].fields["pod"]
    assert pending not in nodes
    assert unsched[0].fields["message"] == "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."
    pod = r.cluster.get("Pod", pending)
    assert pod.status.phase == "Pending"
    cond = pod.status.condition("PodScheduled")
    assert cond is not None and not cond.status and cond.reason == "Unschedulable"


def test_ordered_ready_blocks_behind_a_pending_pod_and_recovers() -> None:
    r = run(_with_pod_spec(statefulset(replicas=5), ANTI), until="4m", nodes=3,
            actions=[{"at": "2m", "scale": {"statefulset": "web", "replicas": 3}}])
    assert r.trace.first("PodCreated", pod="web-4") is None
    waits = r.trace.of("ControllerWaiting", pod="web-3")
    assert waits and waits[0].fields["reason"] == "PredecessorNotReady"
    assert live_pods(r.trace, 240, "web") == ["web-0", "web-1", "web-2"]
    assert r.trace.of("ControllerResumed")[-1].t >= 120


def test_pending_pod_scheduled_when_capacity_frees() -> None:
    nodes = [{"name": "a", "maxPods": 1}, {"name": "b", "maxPods": 1}]
    r = run(statefulset(replicas=3, policy="Parallel"), until="3m", nodes=nodes,
            actions=[{"at": "60s", "deletePod": {"pod": "web-0"}}])
    # Slow start creates web-0, then web-1 and web-2; the scheduler takes them in that order.
    assert {rec.fields["pod"] for rec in r.trace.of("PodScheduled") if rec.t < 60} == {"web-0", "web-1"}
    unsched = r.trace.of("PodUnschedulable", pod="web-2")
    assert unsched and "2 Too many pods" in unsched[0].fields["message"]
    # The terminating web-0 holds its node until it is gone; then web-2 gets it (retried on the
    # pod deletion, after the per-pod back-off of at most 10 s).
    gone = first(r, "PodDeleted", pod="web-0")
    placed = first(r, "PodScheduled", pod="web-2")
    assert gone <= placed <= gone + 10
    # The replacement web-0 now finds no room.
    second_uid = r.trace.of("PodCreated", pod="web-0")[1].fields["uid"]
    assert r.trace.of("PodUnschedulable", uid=second_uid)
    assert r.cluster.get("Pod", "web-0").status.phase == "Pending"


def test_cpu_requests_limit_pods_per_node() -> None:
    big = {"resources": {"requests": {"cpu": "3", "memory": "1Gi"}}}
    r = run(statefulset(replicas=3, policy="Parallel", container=big), until="1m", nodes=2)
    nodes = [rec.fields["node"] for rec in r.trace.of("PodScheduled")]
    assert len(nodes) == 2 and len(set(nodes)) == 2
    msg = r.trace.of("PodUnschedulable")[0].fields["message"]
    assert msg == "0/2 nodes are available: 2 Insufficient cpu."


def test_node_selector() -> None:
    nodes = [{"name": "a", "labels": {"disk": "ssd"}}, {"name": "b"}]
    r = run(_with_pod_spec(statefulset(replicas=2, policy="Parallel"), {"nodeSelector": {"disk": "ssd"}}),
            until="1m", nodes=nodes)
    assert {rec.fields["node"] for rec in r.trace.of("PodScheduled")} == {"a"}


def test_nodes_carry_the_labels_a_kubelet_sets() -> None:
    # Most Helm charts select kubernetes.io/os: linux; without the kubelet's labels every pod
    # stayed Pending ("didn't match Pod's node affinity/selector").
    selector = {"nodeSelector": {"kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64"}}
    r = run(_with_pod_spec(statefulset(replicas=3, policy="Parallel"), selector), until="1m", nodes=3)
    assert not r.trace.of("PodUnschedulable")
    assert len(r.trace.of("PodReady")) == 3
    assert dict(r.cluster.get("Node", "node-2", "").metadata.labels) == {
        "kubernetes.io/hostname": "node-2", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64"}


def test_zones_of_the_cluster_section_label_the_nodes_in_turn() -> None:
    nodes = [{"name": "a"}, {"name": "b", "labels": {"disk": "ssd"}},
             {"name": "c", "labels": {"kubernetes.io/arch": "arm64", "topology.kubernetes.io/zone": "z9"}}, {"name": "d"}]
    sc = scenario(statefulset(), extra={"cluster": {"nodes": nodes, "zones": ["z1", "z2"], "region": "eu-1"}})
    cluster = build_cluster(sc)
    labels = {n: dict(cluster.get("Node", n, "").metadata.labels) for n in "abcd"}
    assert {n: (v["topology.kubernetes.io/zone"], v["topology.kubernetes.io/region"]) for n, v in labels.items()} == {
        "a": ("z1", "eu-1"), "b": ("z2", "eu-1"), "c": ("z9", "eu-1"), "d": ("z2", "eu-1")}
    assert labels["b"]["disk"] == "ssd" and labels["b"]["kubernetes.io/hostname"] == "b"
    assert labels["c"]["kubernetes.io/arch"] == labels["c"]["beta.kubernetes.io/arch"] == "arm64"
    # the kubelet re-registers a deleted Node with the same labels
    assert dict(cluster.kubelets["c"].registration.metadata.labels) == labels["c"]
    # no zones, no zone labels; zones without a region get region-1
    assert "topology.kubernetes.io/zone" not in build_cluster(scenario(statefulset())).get("Node", "node-1", "").metadata.labels
    plain = build_cluster(scenario(statefulset(), extra={"cluster": {"nodes": 2, "zones": ["z1"]}}))
    assert plain.get("Node", "node-2", "").metadata.labels["topology.kubernetes.io/region"] == "region-1"


def test_a_pod_selecting_a_zone_lands_there() -> None:
    sel = {"nodeSelector": {"topology.kubernetes.io/zone": "z2"}}
    r = run(_with_pod_spec(statefulset(replicas=2, policy="Parallel"), sel), until="1m",
            extra={"cluster": {"nodes": 4, "zones": ["z1", "z2"]}})
    assert {rec.fields["node"] for rec in r.trace.of("PodScheduled")} == {"node-2", "node-4"}


def test_scheduling_spreads_by_least_allocated() -> None:
    r = run(statefulset(replicas=6, policy="Parallel"), until="1m", nodes=3)
    per_node: dict[str, int] = {}
    for rec in r.trace.of("PodScheduled"):
        per_node[rec.fields["node"]] = per_node.get(rec.fields["node"], 0) + 1
    assert sorted(per_node.values()) == [2, 2, 2]
    assert first(r, "PodScheduled", pod="web-0") == pytest.approx(0.0)


def test_binding_does_not_hold_up_scheduling() -> None:
    r = run(statefulset(replicas=8, policy="Parallel"), until="10s", nodes=3,
            timing={"apiLatency": 0.1, "appReady": "never"})
    created = {rec.fields["pod"]: rec.t for rec in r.trace.of("PodCreated")}
    bound = {rec.fields["pod"]: rec.t for rec in r.trace.of("PodScheduled")}
    # Each pod is bound one API round trip after it is created, however many arrive at once.
    for pod, t in created.items():
        assert bound[pod] == pytest.approx(t + 0.1)


@pytest.mark.parametrize("version, first_bound", [("1.37", "web-1"), ("1.32", "web-0")])
def test_idle_scheduler_pops_from_backoff_queue_since_1_33(version: str, first_bound: str) -> None:
    r = run(statefulset(replicas=2, policy="Parallel"), until="5s", nodes=[{"name": "a", "maxPods": 1}],
            actions=[{"at": "0.5s", "deletePod": {"pod": "web-0", "gracePeriodSeconds": 0}}],
            extra={"cluster": {"nodes": [{"name": "a", "maxPods": 1}], "kubernetesVersion": version}},
            timing={"appReady": "never"})
    after = [rec.fields["pod"] for rec in r.trace.of("PodScheduled") if rec.t >= 0.5]
    assert after[0] == first_bound


# --------------------------------------------------------------------------- node classes

SCENARIOS = sorted((pathlib.Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))


def _trace(sc: Scenario, classes: bool) -> tuple[list[dict], int, int]:
    """The trace, and the attempts that asked per node class and per node."""
    cluster = build_cluster(sc)
    cluster.scheduler.node_classes = classes
    cluster.run(sc.until)
    s = cluster.scheduler
    return [r.as_dict() for r in cluster.env.trace], s.class_attempts, s.node_attempts


def _same(sc: Scenario) -> int:
    """Assert both ways give the same trace; returns the attempts that took the class path."""
    (fast, by_class, _), (slow, slow_by_class, per_node) = _trace(sc, True), _trace(sc, False)
    assert_same_records(fast, slow, ("by class", "per node"))
    assert slow_by_class == 0
    assert by_class <= per_node
    return by_class


#: Bundled scenarios where no attempt may ask per class, and why.
NO_CLASS_PATH = {
    "drain-with-pdb": "required pod anti-affinity",
    "node-failure": "required pod anti-affinity",
    "node-failure-database": "required pod anti-affinity",
    "node-failure-database-oos": "required pod anti-affinity",
    "storage-retention": "volume binding filters nodes",
    "quickstart": "volume binding filters nodes",
}


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_node_classes_give_the_per_node_answers_on_every_scenario(path: pathlib.Path) -> None:
    by_class = _same(load_scenario(path))
    if path.stem in NO_CLASS_PATH:
        assert by_class == 0
    else:
        assert by_class > 0  # the class path ran, so the comparison compared something


def test_node_classes_give_the_per_node_answers_with_taints_cordons_failures_and_capacity() -> None:
    # Many alike nodes (classes matter), tight capacity (unschedulable messages count nodes per
    # class), a tainted node, a cordon and a node failure (classes rebuilt on node events).
    nodes = [{"name": f"n{i}", "maxPods": 3} for i in range(8)]
    nodes[2]["labels"] = {"disk": "ssd"}  # labels do not matter without a node selector
    for n in nodes[1::2]:
        n["memory"] = "32Gi"  # another class, and as the pods request nothing, the same scores
    sc = scenario(statefulset("web", 30, policy="Parallel"), nodes=nodes, until="10m",
                  actions=[{"at": "10s", "taintOutOfService": {"node": "n2"}},
                           {"at": "20s", "cordonNode": {"node": "n3"}},
                           {"at": "40s", "failNode": {"node": "n5"}},
                           {"at": "60s", "scale": {"statefulset": "web", "replicas": 12}},
                           {"at": "90s", "recoverNode": {"node": "n5"}},
                           {"at": "100s", "uncordonNode": {"node": "n3"}},
                           {"at": "120s", "scale": {"statefulset": "web", "replicas": 26}}])
    assert _same(sc) > 0
    unschedulable = [r for r in _trace(sc, True)[0] if r["event"] == "PodUnschedulable"]
    assert unschedulable, "the scenario no longer fills the cluster"


def test_the_assumed_anti_affinity_count_follows_the_assumed_pods() -> None:
    """The scheduler counts its assumed pods with anti-affinity terms instead of scanning them on
    every attempt; the count equals the scan after every step of a run that assumes, binds,
    deletes and reschedules such pods (and others without terms)."""
    plain = statefulset(name="db", replicas=3, policy="Parallel")
    sc = scenario(_with_pod_spec(statefulset(replicas=4, policy="Parallel"), ANTI), plain, until="3m", nodes=3,
                  actions=[{"at": "60s", "scale": {"statefulset": "web", "replicas": 1}},
                           {"at": "90s", "scale": {"statefulset": "web", "replicas": 3}}])
    cluster = build_cluster(sc)
    sched = cluster.scheduler
    sim = cluster.env.sim
    seen = 0
    while sim.peek() <= sc.until:
        sim.step()
        scanned = sum(1 for _, p in sched._assumed.values() if p.spec.required_anti_affinity)
        assert sched._assumed_anti == scanned
        seen = max(seen, scanned)
    assert seen >= 2  # several anti-affinity pods were assumed at once
