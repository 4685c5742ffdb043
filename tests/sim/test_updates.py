"""Rolling updates, partitions, OnDelete, rollback, maxUnavailable and the forced-rollback trap
(reference statefulset-controller.md §4, e2e §8.1)."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import first, run, scenario, statefulset

NEW = "nginx:1.28"


def set_image(at: str, image: str = NEW) -> dict:
    return {"at": at, "setImage": {"statefulset": "web", "container": "app", "image": image}}


def patch(at: str, p: dict) -> dict:
    return {"at": at, "patch": {"statefulset": "web", "patch": {"spec": p}}}


def revisions_of(result, pod: str) -> list[str]:
    return [rec.fields["revision"] for rec in result.trace.of("PodCreated", pod=pod)]


def last_status(result) -> dict:
    return dict(result.trace.of("StatefulSetStatus", statefulset="web")[-1].fields)


def live_revision(result, pod: str) -> str:
    return result.cluster.get("Pod", pod).metadata.labels["controller-revision-hash"]


def test_rolling_update_reverse_order_one_at_a_time_then_rollback_reuses_revision() -> None:
    r = run(statefulset(replicas=3),
            actions=[{"at": "30s", "breakReadiness": {"pod": "web-1"}}, set_image("35s"),
                     {"at": "90s", "restoreReadiness": {"pod": "web-1"}},
                     {"at": "180s", "breakReadiness": {"pod": "web-1"}}, set_image("185s", "nginx:1.27"),
                     {"at": "240s", "restoreReadiness": {"pod": "web-1"}}],
            until="6m")
    revs = r.trace.of("RevisionCreated", statefulset="web")
    assert [x.fields["number"] for x in revs] == [1, 2]  # the rollback created no revision
    old, new = revs[0].fields["revision"], revs[1].fields["revision"]
    # With web-1 unready, OrderedReady stops at it before reaching the update step: nothing is
    # replaced until its readiness comes back; then web-2, web-1, web-0 in that order.
    assert revisions_of(r, "web-2")[:2] == [old, new]
    waits = r.trace.of("ControllerWaiting", statefulset="web", pod="web-1")
    assert any(w.fields["reason"] == "PredecessorNotReady" and 35 <= w.t < 90 for w in waits)
    deleted = [(rec.fields["pod"], rec.t) for rec in r.trace.of("PodDeleted") if rec.t < 180]
    assert [p for p, _ in deleted] == ["web-2", "web-1", "web-0"]
    assert deleted[0][1] > 90
    # Each replacement is Ready before the next lower ordinal is deleted.
    assert first(r, "PodTerminating", pod="web-1") >= r.trace.of("PodReady", pod="web-2")[1].t
    mid = [s for s in r.trace.of("StatefulSetStatus", statefulset="web") if s.t < 180][-1].fields
    assert mid["currentRevision"] == mid["updateRevision"] == new and mid["updatedReplicas"] == 3
    # Rollback: updateRevision is the old revision again; pods return to it in reverse order.
    end = last_status(r)
    assert end["updateRevision"] == old and end["currentRevision"] == old
    assert {live_revision(r, f"web-{i}") for i in range(3)} == {old}
    renumbered = r.cluster.store.get("ControllerRevision", "default", old)
    assert renumbered.revision == 3  # the reused revision got the next number


def test_current_revision_waits_for_all_ready_and_updated() -> None:
    r = run(statefulset(replicas=3), actions=[set_image("30s")], until="2m")
    statuses = r.trace.of("StatefulSetStatus", statefulset="web")
    for s in statuses:
        f = s.fields
        if f["currentRevision"] == f["updateRevision"] and s.t > 30:
            assert f["updatedReplicas"] == f["readyReplicas"] == f["replicas"] == 3


def test_canary_and_phased_partition_with_restore_at_revision() -> None:
    r = run(statefulset(replicas=3, extra_spec={"updateStrategy": {"type": "RollingUpdate",
                                                                   "rollingUpdate": {"partition": 3}}}),
            actions=[set_image("30s"),
                     patch("60s", {"updateStrategy": {"rollingUpdate": {"partition": 2}}}),
                     {"at": "90s", "deletePod": {"pod": "web-0"}},
                     {"at": "120s", "deletePod": {"pod": "web-2"}},
                     patch("150s", {"updateStrategy": {"rollingUpdate": {"partition": 1}}}),
                     patch("200s", {"updateStrategy": {"rollingUpdate": {"partition": 0}}})],
            until="5m")
    old, new = (x.fields["revision"] for x in r.trace.of("RevisionCreated"))
    assert not [x for x in r.trace.of("PodDeleted") if x.t < 60]  # partition 3: no pod updated
    assert revisions_of(r, "web-2")[1] == new  # partition 2: only web-2
    assert revisions_of(r, "web-0")[1] == old  # deleted below the partition: old revision
    assert revisions_of(r, "web-2")[2] == new  # deleted at/above it: new revision
    assert revisions_of(r, "web-1")[1] == new and r.trace.of("PodCreated", pod="web-1")[1].t > 150
    mid = [s for s in r.trace.of("StatefulSetStatus") if s.t < 150][-1].fields
    assert mid["currentRevision"] == old and mid["updatedReplicas"] == 1
    end = last_status(r)
    assert end["currentRevision"] == end["updateRevision"] == new


def test_partition_one_and_pod_zero_deleted_comes_back_at_old_revision() -> None:
    r = run(statefulset(replicas=3, extra_spec={"updateStrategy": {"type": "RollingUpdate",
                                                                   "rollingUpdate": {"partition": 1}}}),
            actions=[set_image("30s"), {"at": "90s", "deletePod": {"pod": "web-0"}}], until="3m")
    old, new = (x.fields["revision"] for x in r.trace.of("RevisionCreated"))
    assert live_revision(r, "web-1") == live_revision(r, "web-2") == new
    assert revisions_of(r, "web-0") == [old, old]
    end = last_status(r)
    assert end["updatedReplicas"] == 2 and end["readyReplicas"] == 3 and end["currentRevision"] == old


def test_partition_is_relative_to_start_ordinal() -> None:
    r = run(statefulset(replicas=3, extra_spec={"ordinals": {"start": 5}, "updateStrategy": {
        "type": "RollingUpdate", "rollingUpdate": {"partition": 2}}}), actions=[set_image("30s")], until="2m")
    new = r.trace.of("RevisionCreated")[1].fields["revision"]
    # Partition 2 is an offset from ordinals.start: only web-7 (index 2) is updated.
    assert [live_revision(r, f"web-{o}") == new for o in (5, 6, 7)] == [False, False, True]


def test_on_delete_updates_only_deleted_pods_and_scale_up() -> None:
    r = run(statefulset(replicas=3, extra_spec={"updateStrategy": {"type": "OnDelete"}}),
            actions=[set_image("30s"), {"at": "60s", "deletePod": {"pod": "web-1"}},
                     {"at": "90s", "scale": {"statefulset": "web", "replicas": 4}}], until="3m")
    old, new = (x.fields["revision"] for x in r.trace.of("RevisionCreated"))
    assert [live_revision(r, f"web-{i}") for i in range(4)] == [old, new, old, new]
    assert len(r.trace.of("PodCreated", pod="web-1")) == 2
    assert len(r.trace.of("PodCreated", pod="web-0")) == 1
    assert last_status(r)["currentRevision"] == old  # OnDelete never advances it


def test_parallel_max_unavailable_two_replaces_two_at_once() -> None:
    r = run(statefulset(replicas=4, policy="Parallel", extra_spec={"updateStrategy": {
        "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}}}),
            actions=[set_image("30s")], until="2m")
    terminating = [(x.fields["pod"], round(x.t, 3)) for x in r.trace.of("PodTerminating")]
    assert [p for p, _ in terminating[:2]] == ["web-3", "web-2"]
    assert terminating[0][1] == terminating[1][1]  # in the same sync
    assert [p for p, _ in terminating[2:4]] == ["web-1", "web-0"]
    assert terminating[2][1] > first(r, "PodReady", pod="web-3")  # the next batch waits for the budget


def test_max_unavailable_is_ignored_before_the_gate() -> None:
    sts = statefulset(replicas=4, policy="Parallel", extra_spec={"updateStrategy": {
        "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}}})
    r = run(sts, actions=[set_image("30s")], until="2m", extra={"cluster": {"nodes": 3, "kubernetesVersion": "1.36"}})
    terminating = [round(x.t, 3) for x in r.trace.of("PodTerminating")]
    assert len(set(terminating)) == 4  # one at a time in 1.36 (gate off by default)


def test_max_unavailable_percentage_rounds_down_with_floor_one() -> None:
    sts = statefulset(replicas=5, policy="Parallel", extra_spec={"updateStrategy": {
        "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "30%"}}})  # 1.5 -> 1
    r = run(sts, actions=[set_image("30s")], until="3m")
    times = [round(x.t, 3) for x in r.trace.of("PodTerminating")]
    assert len(set(times)) == 5


@pytest.mark.parametrize("policy, version, recovers_without_delete", [
    ("OrderedReady", "1.37", False),
    ("Parallel", "1.37", True),   # v1.37 two-phase maxUnavailable path
    ("Parallel", "1.36", True),   # legacy path: old revision deleted first
    ("Parallel", "1.35.0", False),  # gate on without the fix: #137409
])
def test_forced_rollback(policy: str, version: str, recovers_without_delete: bool) -> None:
    timing = {"overrides": [{"match": {"image": "nginx:broken"}, "appReady": "never"}]}
    r = run(statefulset(replicas=3, policy=policy), timing=timing,
            actions=[set_image("30s", "nginx:broken"), set_image("90s", "nginx:1.27")],
            until="4m", extra={"cluster": {"nodes": 3, "kubernetesVersion": version}})
    old = r.trace.of("RevisionCreated")[0].fields["revision"]
    assert len(r.trace.of("RevisionCreated")) == 2  # the revert reuses the old revision
    end = last_status(r)
    assert end["updateRevision"] == old
    recovered = end["readyReplicas"] == 3 and end["currentRevision"] == old
    assert recovered is recovers_without_delete
    if not recovers_without_delete:
        waiting = r.waiting()["web"]
        assert waiting is not None and waiting.pod == "web-2"


def test_forced_rollback_unstuck_by_deleting_the_broken_pod() -> None:
    timing = {"overrides": [{"match": {"image": "nginx:broken"}, "appReady": "never"}]}
    r = run(statefulset(replicas=3), timing=timing,
            actions=[set_image("30s", "nginx:broken"), set_image("90s", "nginx:1.27"),
                     {"at": "150s", "deletePod": {"pod": "web-2"}}], until="4m")
    old = r.trace.of("RevisionCreated")[0].fields["revision"]
    assert max(x.t for x in r.trace.of("PodCreated", pod="web-2")) > 150
    end = last_status(r)
    assert end["readyReplicas"] == 3 and end["currentRevision"] == old == end["updateRevision"]


def test_history_truncated_to_limit() -> None:
    images = [f"nginx:1.{i}" for i in range(20, 26)]
    r = run(statefulset(replicas=1, extra_spec={"revisionHistoryLimit": 2}),
            actions=[set_image(f"{30 + 20 * i}s", img) for i, img in enumerate(images)], until="5m")
    revs = r.cluster.store.list("ControllerRevision", "default")
    # current + update + at most 2 others
    assert len(revs) <= 4
    assert len(r.trace.of("RevisionCreated")) == 7


def test_stuck_report_explains_the_forced_rollback() -> None:
    timing = {"overrides": [{"match": {"image": "nginx:broken"}, "appReady": "never"}]}
    r = run(statefulset(replicas=3), timing=timing,
            actions=[set_image("30s", "nginx:broken"), set_image("90s", "nginx:1.27")], until="4m")
    (stuck,) = r.stuck()
    assert stuck.statefulset == "web" and stuck.pod == "web-2" and stuck.reason == "PredecessorNotReady"
    created = r.trace.of("PodCreated", pod="web-2")[-1].t
    msg = stuck.message()
    assert msg.startswith("web is stuck: waiting for web-2 to become Running and Ready (never Ready since ")
    assert "forced rollback" in msg and "delete web-2" in msg
    assert stuck.pod_detail.endswith(__import__("statefulsim.durations", fromlist=["x"]).format_clock(created))


def test_stuck_report_for_a_broken_template_without_revert() -> None:
    timing = {"overrides": [{"match": {"image": "nginx:broken"}, "appReady": "never"}]}
    r = run(statefulset(replicas=3), timing=timing, actions=[set_image("30s", "nginx:broken")], until="3m")
    (stuck,) = r.stuck()
    assert "the new template" in stuck.hint and "never becomes Ready" in stuck.hint


def test_healthy_runs_are_not_stuck() -> None:
    r = run(statefulset(replicas=3), actions=[set_image("30s")], until="3m")
    assert r.stuck() == []


def test_scale_and_set_image_are_patches_that_a_status_write_cannot_conflict_with() -> None:
    """kubectl scale/patch/set image send no resourceVersion: a controller status write between
    the read and the request's arrival must not make them fail (found by statefulsim.testing)."""
    from dataclasses import replace as dc_replace

    from statefulsim.runner import build_cluster

    sc = scenario(statefulset(replicas=1),
                  actions=[{"at": "30s", "scale": {"statefulset": "web", "replicas": 2}},
                           {"at": "60s", "setImage": {"statefulset": "web", "container": "app", "image": "nginx:1.28"}}],
                  timing={"apiLatency": 0.5}, until="3m")
    cluster = build_cluster(sc)

    def status_writes() -> Any:
        for at in (30.2, 60.2):  # inside each action's 0.5 s request latency
            yield cluster.env.timeout(at - cluster.env.now)
            cur = cluster.store.get("StatefulSet", "default", "web")
            cluster.store.update_status(dc_replace(cur, status=dc_replace(cur.status, observed_generation=0)))

    cluster.env.process(status_writes())
    cluster.run(sc.until)
    assert cluster.env.trace.first("ActionFailed") is None
    sts = cluster.store.get("StatefulSet", "default", "web")
    assert sts.spec.replicas == 2
    assert sts.spec.template.spec.containers[0].image == "nginx:1.28"


def test_rolling_update_without_rolling_update_block_races_its_own_status() -> None:
    """Found by statefulsim.testing; upstream behaves the same (reference §1.4, §4.1): with a nil
    rollingUpdate the controller recreates a pod at the current revision while ordinal <
    status.currentReplicas, and a sync that has not yet seen its own decremented currentReplicas
    does so right after each update deletion.  With zero watch latency that sync always wins."""
    import pathlib

    from statefulsim import runner
    from statefulsim.io.scenario import load_scenario_text

    text = (pathlib.Path(__file__).parents[1] / "data" / "rollingupdate-nil-stale-status.yaml").read_text()
    looping = runner.run(load_scenario_text(text), until=120.0)
    created = [r.fields["revision"] for r in looping.trace if r.event == "PodCreated"]
    assert len(created) > 10 and set(created[1:]) == {created[0]}  # always the old revision
    explicit = text.replace("\n      type: RollingUpdate\n", "\n      type: RollingUpdate\n      rollingUpdate: {}\n")
    assert explicit != text
    fixed = runner.run(load_scenario_text(explicit), until=120.0)
    revisions = [r.fields["revision"] for r in fixed.trace if r.event == "PodCreated"]
    assert len(revisions) == 2 and revisions[0] != revisions[1]


# minReadySeconds before 1.34 (reference §3.7, PR #130909): the update path and the first
# unhealthy pod used isHealthy (Running and Ready, not terminating), not availability.

@pytest.mark.parametrize("version, paced", [("1.25", False), ("1.33", False), ("1.34", True), ("1.37", True)])
def test_parallel_rolling_update_waits_for_min_ready_seconds_since_1_34(version: str, paced: bool) -> None:
    sts = statefulset(replicas=3, policy="Parallel", extra_spec={"minReadySeconds": 20})
    r = run(sts, actions=[set_image("60s")], until="4m", extra={"cluster": {"nodes": 3, "kubernetesVersion": version}})
    assert [x.fields["pod"] for x in r.trace.of("PodTerminating")] == ["web-2", "web-1", "web-0"]
    for updated, nxt in (("web-2", "web-1"), ("web-1", "web-0")):
        gap = first(r, "PodTerminating", pod=nxt) - r.trace.of("PodReady", pod=updated)[1].t
        assert (gap > 20) is paced, (updated, nxt, gap)
    assert last_status(r)["updatedReplicas"] == 3


@pytest.mark.parametrize("version, stalls", [("1.33", True), ("1.34", False)])
def test_ordered_scale_down_behind_a_ready_unavailable_pod_stalls_before_1_34(version: str, stalls: bool) -> None:
    cluster = {"cluster": {"nodes": 3, "kubernetesVersion": version}}
    sts = statefulset(replicas=3, extra_spec={"minReadySeconds": 20})
    ready = first(run(sts, until="2m", extra=cluster), "PodReady", pod="web-2")
    scale = round(ready + 5)  # web-2 is Ready, not yet available (Ready for > 20 s)
    r = run(sts, actions=[{"at": f"{scale}s", "scale": {"statefulset": "web", "replicas": 2}}],
            until="15m", extra=cluster)
    assert first(r, "PodReady", pod="web-2") == pytest.approx(ready)
    deleted = r.trace.first("PodTerminating", pod="web-2")
    if stalls:
        # Waits for web-2 to be available, and then nothing requeues the set: availableReplicas
        # (2) equals spec.replicas, so only the informer resync (12-24 h) would.
        assert deleted is None
        waiting = r.waiting()["web"]
        assert waiting is not None and (waiting.reason, waiting.pod) == ("PodNotAvailable", "web-2")
    else:
        assert deleted is not None and deleted.t - scale < 1  # web-2 is the first unavailable pod
