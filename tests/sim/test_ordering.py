"""The controller's ordering guarantees and e2e behaviours, asserted from the trace
(reference statefulset-controller.md §3, §8.1)."""

from __future__ import annotations

import pytest

from helpers import first, run, statefulset, times
from statefulsim.analysis.expect import live_pods


def _scale(at: str, replicas: int, name: str = "web") -> dict:
    return {"at": at, "scale": {"statefulset": name, "replicas": replicas}}


def test_ordered_ready_creates_each_pod_after_predecessor_running_and_ready() -> None:
    r = run(statefulset(replicas=4), until="3m")
    for i in range(1, 4):
        created = first(r, "PodCreated", pod=f"web-{i}")
        assert first(r, "PodRunning", pod=f"web-{i-1}") <= created
        assert first(r, "PodReady", pod=f"web-{i-1}") <= created
    assert live_pods(r.trace, 180, "web") == ["web-0", "web-1", "web-2", "web-3"]


def test_ordered_ready_scale_down_deletes_highest_first_and_waits_until_gone() -> None:
    r = run(statefulset(replicas=3, grace=30), actions=[_scale("60s", 0)], until="3m",
            timing={"appShutdown": 5})
    deleted = [first(r, "PodDeleted", pod=f"web-{i}") for i in (2, 1, 0)]
    terminating = [first(r, "PodTerminating", pod=f"web-{i}") for i in (2, 1, 0)]
    assert deleted == sorted(deleted)
    # The next pod is only told to terminate once the previous one is gone.
    assert terminating[1] >= deleted[0]
    assert terminating[2] >= deleted[1]
    # appShutdown 5 s: each pod takes 5 s to stop.
    assert deleted[0] - terminating[0] == pytest.approx(5.0)


def test_halt_while_unhealthy_then_resume_in_order() -> None:
    r = run(statefulset(replicas=1),
            actions=[{"at": "20.5s", "breakReadiness": {"pod": "web-0"}}, _scale("25s", 3),
                     {"at": "60s", "restoreReadiness": {"pod": "web-0"}}], until="3m")
    # periodSeconds 1, failureThreshold 3 (default): probes at 21, 22, 23 fail.
    assert first(r, "PodNotReady", pod="web-0") == pytest.approx(23.0)
    created_1 = first(r, "PodCreated", pod="web-1")
    assert created_1 >= 60
    assert first(r, "PodCreated", pod="web-2") >= first(r, "PodReady", pod="web-1")
    waits = r.trace.of("ControllerWaiting", statefulset="web", pod="web-0")
    assert any(w.fields["reason"] == "PredecessorNotReady" and 25 <= w.t < 60 for w in waits)


def test_parallel_creates_all_pods_without_waiting() -> None:
    r = run(statefulset(replicas=5, policy="Parallel"), until="1m", timing={"appReady": "never"})
    created = times(r, "PodCreated")
    assert len(created) == 5
    assert max(created) == pytest.approx(0.0)  # zero API latency in these tests
    assert not r.trace.of("PodReady")


def test_parallel_slow_start_batches() -> None:
    """slowStartBatch: 1, 2, 4, 8, ... creations; each batch starts after the previous one."""
    r = run(statefulset(replicas=20, policy="Parallel"), until="10s", nodes=5,
            timing={"apiLatency": 0.1, "appReady": "never"})
    created = sorted(round(t, 6) for t in times(r, "PodCreated"))
    batches: dict[float, int] = {}
    for t in created:
        batches[t] = batches.get(t, 0) + 1
    # Revision creation takes one call (0.1 s), then the batches of 1, 2, 4, 8, 5.
    assert list(batches.values()) == [1, 2, 4, 8, 5]


def test_deleting_pod_zero_with_unready_successor_recreates_it() -> None:
    r = run(statefulset(replicas=2), timing={"overrides": [{"match": {"ordinal": 1}, "appReady": "100s"}]},
            actions=[{"at": "40s", "deletePod": {"pod": "web-0", "gracePeriodSeconds": 0}}], until="3m")
    uids = [rec.fields["uid"] for rec in r.trace.of("PodCreated", pod="web-0")]
    assert len(uids) == 2 and uids[0] != uids[1]
    second = r.trace.of("PodCreated", pod="web-0")[1].t
    assert second < first(r, "PodReady", pod="web-1")


def test_failed_pod_is_deleted_and_recreated_with_new_uid() -> None:
    for policy in ("OrderedReady", "Parallel"):
        r = run(statefulset(replicas=2, policy=policy), actions=[{"at": "60s", "failPod": {"pod": "web-1"}}],
                until="3m")
        created = r.trace.of("PodCreated", pod="web-1")
        assert len(created) == 2, policy
        assert created[0].fields["uid"] != created[1].fields["uid"]
        failed = first(r, "PodFailed", pod="web-1")
        assert failed == pytest.approx(60.0)
        deleted = first(r, "PodDeleted", pod="web-1")
        assert failed <= deleted <= created[1].t
        assert r.trace.of("KubeEvent", reason="SuccessfulDelete", object="pod/web-1")


@pytest.mark.parametrize("policy", ["OrderedReady", "Parallel"])
def test_start_ordinal_changes(policy: str) -> None:
    r = run(statefulset(replicas=2, policy=policy),
            actions=[{"at": "1m", "patch": {"statefulset": "web", "patch": {"spec": {"replicas": 3, "ordinals": {"start": 2}}}}},
                     {"at": "3m", "patch": {"statefulset": "web", "patch": {"spec": {"ordinals": {"start": 4}}}}},
                     {"at": "5m", "patch": {"statefulset": "web", "patch": {"spec": {"ordinals": {"start": 3}}}}},
                     {"at": "7m", "patch": {"statefulset": "web", "patch": {"spec": {"ordinals": None}}}}],
            until="9m", nodes=4)
    assert live_pods(r.trace, 59, "web") == ["web-0", "web-1"]
    assert live_pods(r.trace, 179, "web") == ["web-2", "web-3", "web-4"]
    assert live_pods(r.trace, 299, "web") == ["web-4", "web-5", "web-6"]
    assert live_pods(r.trace, 419, "web") == ["web-3", "web-4", "web-5"]
    assert live_pods(r.trace, 539, "web") == ["web-0", "web-1", "web-2"]
    labels = [rec.fields["ordinal"] for rec in r.trace.of("PodCreated")]
    assert 6 in labels


def test_min_ready_seconds_gates_available_and_next_ordinal() -> None:
    r = run(statefulset(replicas=3, extra_spec={"minReadySeconds": 20}), until="3m")
    ready0 = first(r, "PodReady", pod="web-0")
    created1 = first(r, "PodCreated", pod="web-1")
    # Available strictly after Ready + minReadySeconds.  The Ready event asks for a sync at
    # ready0 + 21 s, but the delaying queue keeps only the earliest pending time per key: the
    # post-sync requeue (every minReadySeconds from the first sync at 0 s: 20 s, 40 s) wins,
    # so web-1 is created at 40 s, as client-go's waitingForQueue would do.
    assert ready0 == pytest.approx(7.0)
    assert created1 >= ready0 + 20
    assert created1 == pytest.approx(40.0)
    statuses = r.trace.of("StatefulSetStatus", statefulset="web")
    for s in statuses:
        assert s.fields["availableReplicas"] <= s.fields["readyReplicas"]
    first_ready = next(s.t for s in statuses if s.fields["readyReplicas"] >= 1)
    first_avail = next(s.t for s in statuses if s.fields["availableReplicas"] >= 1)
    assert first_avail - first_ready >= 20


def test_terminating_pod_blocks_its_replacement() -> None:
    """A pod is only recreated once the old object is gone (graceful deletion, grace 30 s)."""
    r = run(statefulset(replicas=1, grace=30), timing={"appShutdown": 100},
            actions=[{"at": "30s", "deletePod": {"pod": "web-0"}}], until="3m")
    deleted = first(r, "PodDeleted", pod="web-0")
    assert deleted == pytest.approx(60.0)  # SIGKILL at the end of the grace period
    second = r.trace.of("PodCreated", pod="web-0")[1].t
    assert second >= deleted
    # At no time do two pods named web-0 exist.
    live = 0
    for rec in r.trace:
        if rec.event == "PodCreated" and rec.fields["pod"] == "web-0":
            live += 1
        elif rec.event == "PodDeleted" and rec.fields["pod"] == "web-0":
            live -= 1
        assert live <= 1


def test_pod_identity_labels_hostname_and_subdomain() -> None:
    r = run(statefulset(replicas=2, name="db", extra_spec={"serviceName": "db-headless"}), until="1m")
    pod = r.cluster.get("Pod", "db-1")
    assert pod.spec.hostname == "db-1"
    assert pod.spec.subdomain == "db-headless"
    assert pod.metadata.labels["statefulset.kubernetes.io/pod-name"] == "db-1"
    assert pod.metadata.labels["apps.kubernetes.io/pod-index"] == "1"
    rev = pod.metadata.labels["controller-revision-hash"]
    assert rev.startswith("db-") and rev == r.cluster.get("StatefulSet", "db").status.update_revision
    ref = pod.metadata.controller_ref()
    assert ref is not None and ref.kind == "StatefulSet" and ref.name == "db"


def test_status_counts_and_observed_generation() -> None:
    r = run(statefulset(replicas=3), actions=[_scale("60s", 1)], until="2m")
    sts = r.cluster.get("StatefulSet", "web")
    assert sts.status.replicas == 1
    assert sts.status.ready_replicas == 1
    assert sts.status.available_replicas == 1
    assert sts.status.current_replicas == 1 and sts.status.updated_replicas == 1
    assert sts.status.observed_generation == sts.metadata.generation == 2
    assert sts.status.current_revision == sts.status.update_revision


def test_work_queue_coalesces_events_into_few_syncs() -> None:
    r = run(statefulset(replicas=3), until="2m")
    ctl = r.cluster.statefulset_controller
    assert 0 < ctl.queue.syncs < ctl.events_seen
