"""Attach/detach controller and the kubelet's volume manager (issue #16): each rule asserted
from the trace (controllers/attachdetach.py, kubelet/volumemanager.py, docs/design.md)."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from helpers import first, run, statefulset, times
from statefulsim.runner import RunResult
from statefulsim.sim.controllers.attachdetach import MAX_WAIT_FOR_UNMOUNT_SECONDS, attachment_name
from statefulsim.sim.delays import Constant, LogNormal
from statefulsim.sim.timing import DEFAULTS, PROVISIONER_DEFAULTS, Timing, TimingOverride

VOL = {"provisioning": 1, "volumeAttach": 2, "volumeDetach": 3, "volumeMount": 0.5, "volumeUnmount": 0.2}


def storage_class(provisioner: str = "ebs.csi.aws.com") -> dict[str, Any]:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "disk", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": provisioner, "volumeBindingMode": "WaitForFirstConsumer", "reclaimPolicy": "Delete"}


def with_claims(replicas: int = 1, modes: tuple[str, ...] = ("ReadWriteOnce",)) -> dict[str, Any]:
    spec = {"accessModes": list(modes), "resources": {"requests": {"storage": "1Gi"}}}
    return statefulset(replicas=replicas, extra_spec={"volumeClaimTemplates": [{"metadata": {"name": "data"},
                                                                               "spec": spec}]}, grace=5)


def node_of(r: RunResult, pod: str, nth: int = 0) -> str:
    recs = list(r.trace.of("PodScheduled", pod=pod))
    return str(recs[nth].fields["node"])


def pv_of(r: RunResult, pvc: str = "data-web-0") -> str:
    rec = r.trace.first("PVCBound", pvc=pvc)
    assert rec is not None
    return str(rec.fields["pv"])


def moved(actions: list[Any], modes: tuple[str, ...] = ("ReadWriteOnce",), until: str = "3m",
          provisioner: str = "ebs.csi.aws.com", timing: dict[str, Any] | None = None, **kw: Any) -> RunResult:
    """web-0 with one claim on a two-node cluster, then ``actions``."""
    return run(storage_class(provisioner), with_claims(modes=modes), nodes=2, until=until,
               timing={**VOL, **(timing or {})}, actions=actions, **kw)


# The first node the scheduler picks with seed 1 (both nodes are alike).
FIRST = "node-1"
OTHER = "node-2"


def test_attach_after_scheduling_then_mount_before_the_sandbox() -> None:
    r = moved([])
    assert node_of(r, "web-0") == FIRST
    pv = pv_of(r)
    attached = r.trace.first("VolumeAttached", pv=pv)
    assert attached is not None and attached.fields["node"] == FIRST
    assert attached.fields["attachment"] == attachment_name(pv, "ebs.csi.aws.com", FIRST)
    assert attached.fields["seconds"] == 2
    scheduled = first(r, "PodScheduled", pod="web-0")
    assert attached.t == pytest.approx(scheduled + 0.1 + 2, abs=0.1)  # next 100 ms tick, then 2 s
    event = r.trace.first("KubeEvent", reason="SuccessfulAttachVolume")
    assert event is not None and event.t == attached.t and event.fields["object"] == "pod/web-0"
    assert event.fields["message"] == f'AttachVolume.Attach succeeded for volume "{pv}" '
    assert event.fields["component"] == "attachdetach-controller"
    mounted = first(r, "VolumesMounted", pod="web-0")
    assert attached.t + 0.5 <= mounted < first(r, "PodIP", pod="web-0")


def test_pod_recreated_on_the_same_node_reuses_the_attachment() -> None:
    r = run(storage_class(), with_claims(), nodes=1, until="3m", timing={**VOL, "volumeAttach": 30},
            actions=[{"at": "90s", "deletePod": {"pod": "web-0"}}])
    assert times(r, "PodCreated", pod="web-0")[1:]  # recreated
    assert len(times(r, "VolumeAttached")) == 1
    assert times(r, "VolumeDetached") == []
    unmounted = first(r, "VolumeUnmounted", pod="web-0")
    assert unmounted <= first(r, "PodDeleted", pod="web-0")  # volume dirs cleaned up first
    second = times(r, "VolumesMounted", pod="web-0")[1]
    assert second - times(r, "PodScheduled", pod="web-0")[1] < 30  # no second 30 s attach


@pytest.mark.parametrize("mode", ["ReadWriteOnce", "ReadWriteOncePod"])
def test_read_write_once_waits_for_the_detach_with_one_multi_attach_event(mode: str) -> None:
    r = moved([{"at": "60s", "cordonNode": {"node": FIRST}}, {"at": "61s", "deletePod": {"pod": "web-0"}}],
              modes=(mode,))
    pv = pv_of(r)
    assert node_of(r, "web-0", 1) == OTHER
    events = [e for e in r.trace.of("KubeEvent", reason="FailedAttachVolume")]
    assert len(events) == 1
    assert events[0].fields["object"] == "pod/web-0"
    assert events[0].fields["message"] == (
        f'Multi-Attach error for volume "{pv}" Volume is already exclusively attached to one node '
        "and can't be attached to another")
    detached = r.trace.first("VolumeDetached", pv=pv, node=FIRST)
    attached = r.trace.first("VolumeAttached", pv=pv, node=OTHER)
    assert detached is not None and attached is not None
    assert detached.fields["force"] is None
    unmounted = first(r, "VolumeUnmounted", pod="web-0", node=FIRST)
    # the node reports the volume unmounted at its next 10 s status tick, then the 3 s detach
    assert unmounted < detached.t - 3 <= unmounted + 10.1
    assert attached.t == pytest.approx(detached.t + 0.1 + 2, abs=0.1)
    assert times(r, "VolumesMounted", pod="web-0")[1] > attached.t


def test_pod_stays_container_creating_while_the_volume_is_attached_elsewhere() -> None:
    r = moved([{"at": "60s", "failNode": {"node": FIRST}}, {"at": "2m", "deletePod": {"pod": "web-0", "force": True}}],
              run_until=4 * 60.0, until="10m")
    pod = r.cluster.get("Pod", "web-0")
    assert pod.spec.node_name == OTHER
    assert pod.status.phase == "Pending"
    assert [c.reason for c in pod.status.container_statuses] == ["ContainerCreating"]
    assert r.trace.first("KubeEvent", reason="FailedAttachVolume") is not None


def test_read_write_many_attaches_to_a_second_node_at_once() -> None:
    r = moved([{"at": "60s", "cordonNode": {"node": FIRST}}, {"at": "61s", "deletePod": {"pod": "web-0"}}],
              modes=("ReadWriteMany",))
    pv = pv_of(r)
    attached = first(r, "VolumeAttached", pv=pv, node=OTHER)
    detached = first(r, "VolumeDetached", pv=pv, node=FIRST)
    assert attached < detached
    assert r.trace.first("KubeEvent", reason="FailedAttachVolume") is None


def test_unreachable_node_force_detach_after_max_wait_for_unmount() -> None:
    r = moved([{"at": "60s", "failNode": {"node": FIRST}}, {"at": "2m", "deletePod": {"pod": "web-0", "force": True}}],
              until="12m")
    pv = pv_of(r)
    deleted = first(r, "PodDeleted", pod="web-0")
    detached = r.trace.first("VolumeDetached", pv=pv, node=FIRST)
    assert detached is not None and detached.fields["force"] == "timeout"
    # the 6-minute wait runs from the first 100 ms tick after the pod left; then the 3 s detach
    assert deleted + MAX_WAIT_FOR_UNMOUNT_SECONDS + 3 <= detached.t <= deleted + MAX_WAIT_FOR_UNMOUNT_SECONDS + 3.3
    assert first(r, "VolumeAttached", pv=pv, node=OTHER) > detached.t
    assert times(r, "PodReady", pod="web-0")[1] > detached.t
    assert r.cluster.attach_detach.forced_detaches == {"timeout": 1, "out-of-service": 0}


def test_out_of_service_taint_detaches_at_once() -> None:
    r = moved([{"at": "60s", "failNode": {"node": FIRST}}, {"at": "3m", "taintOutOfService": {"node": FIRST}}],
              until="6m")
    pv = pv_of(r)
    detached = r.trace.first("VolumeDetached", pv=pv, node=FIRST)
    assert detached is not None and detached.fields["force"] == "out-of-service"
    deleted = first(r, "PodDeleted", pod="web-0")  # pod GC, at its next 20 s pass
    assert deleted < detached.t <= deleted + 0.1 + 3 + 0.01
    assert times(r, "PodReady", pod="web-0")[1] < 4 * 60


def test_deleted_node_pods_are_collected_and_the_detach_waits_the_six_minutes() -> None:
    """Upstream 1.25-1.37: deleting the Node object lets pod GC delete its pods (40 s quarantine),
    but the controller keeps the node's last volumesInUse, so the detach is the timeout's."""
    r = moved([{"at": "60s", "failNode": {"node": FIRST}}, {"at": "2m", "deleteNode": {"node": FIRST}}],
              until="12m")
    pv = pv_of(r)
    deleted = first(r, "PodDeleted", pod="web-0")
    assert deleted < 2 * 60 + 61
    detached = r.trace.first("VolumeDetached", pv=pv, node=FIRST)
    assert detached is not None and detached.fields["force"] == "timeout"
    assert detached.t >= deleted + MAX_WAIT_FOR_UNMOUNT_SECONDS


def test_recovered_node_unmounts_and_the_detach_proceeds_normally() -> None:
    r = moved([{"at": "60s", "failNode": {"node": FIRST}}, {"at": "2m", "deletePod": {"pod": "web-0", "force": True}},
               {"at": "3m", "recoverNode": {"node": FIRST}}], until="8m")
    pv = pv_of(r)
    unmounted = first(r, "VolumeUnmounted", node=FIRST)
    assert unmounted > 3 * 60
    detached = r.trace.first("VolumeDetached", pv=pv, node=FIRST)
    assert detached is not None and detached.fields["force"] is None
    assert detached.t < 3 * 60 + 20  # status tick at once after recovery, then 3 s: no 6 minutes


def test_node_local_volumes_are_never_attached_and_never_move() -> None:
    r = moved([{"at": "60s", "failNode": {"node": FIRST}}, {"at": "2m", "deletePod": {"pod": "web-0", "force": True}}],
              provisioner="rancher.io/local-path", until="5m")
    assert times(r, "VolumeAttached") == [] and times(r, "VolumeDetached") == []
    assert first(r, "VolumesMounted", pod="web-0") < 60
    assert r.cluster.get("Pod", "web-0").status.phase == "Pending"
    assert times(r, "PodScheduled", pod="web-0") == times(r, "PodScheduled", pod="web-0")[:1]
    msg = r.trace.first("PodUnschedulable", pod="web-0")
    assert msg is not None and "volume node affinity conflict" in msg.fields["message"]


def test_volume_delays_per_provisioner_and_their_overrides() -> None:
    t = Timing()
    assert t.for_volume("volumeAttach", storage_class="gp3", provisioner="ebs.csi.aws.com") == \
        PROVISIONER_DEFAULTS["ebs.csi.aws.com"]["volumeAttach"]
    assert t.for_volume("volumeAttach", storage_class="x", provisioner="example.com/csi") is DEFAULTS["volumeAttach"]
    assert t.for_volume("volumeMount", storage_class="x", provisioner="rancher.io/local-path") == Constant(0.0)
    # a timing key the scenario sets wins over the provisioner's default; a class override over both
    mine = LogNormal(1.0, 2.0)
    models = {**DEFAULTS, "volumeAttach": mine}
    t2 = Timing(models=models, overrides=(TimingOverride({"storageClass": "gp3"}, {"volumeDetach": Constant(9.0)}),))
    assert t2.for_volume("volumeAttach", storage_class="gp3", provisioner="ebs.csi.aws.com") is mine
    assert t2.for_volume("volumeDetach", storage_class="gp3", provisioner="ebs.csi.aws.com") == Constant(9.0)
    assert t2.for_volume("volumeDetach", storage_class="io2", provisioner="ebs.csi.aws.com") == \
        PROVISIONER_DEFAULTS["ebs.csi.aws.com"]["volumeDetach"]


def test_critical_path_of_a_node_failure_names_the_force_detach() -> None:
    from statefulsim import runner
    from statefulsim.analysis.happens_before import critical_path
    from statefulsim.io.scenario import load_scenario

    root = pathlib.Path(__file__).resolve().parents[2] / "scenarios"
    forced = runner.run(load_scenario(root / "node-failure-database.yaml"))
    path = critical_path(forced.trace)
    top = path.by_kind()[0]
    assert top.kind == "force detach" and top.total >= MAX_WAIT_FOR_UNMOUNT_SECONDS
    assert top.total / path.total > 0.9
    step = next(s for s in path.steps if s.kind == "force detach")
    assert step.source[:2] == ("PodDeleted", "db-1") and step.target[0] == "VolumeDetached"
    oos = runner.run(load_scenario(root / "node-failure-database-oos.yaml"))
    kinds = [s.kind for s in critical_path(oos.trace).steps]
    assert "force detach" not in kinds and "out-of-service detach" in kinds
    ready = [times(r, "PodReady", pod="db-1")[1] for r in (forced, oos)]
    assert ready[1] + 5 * 60 < ready[0]  # the taint saves more than five minutes


@pytest.mark.parametrize("version, events", [("1.27", True), ("1.28", False)])
def test_wait_for_attach_and_mount_times_out_and_retries(version: str, events: bool) -> None:
    """One wait lasts 2 min 3 s, the pod is synced again 10-15 s later; before 1.28 each timeout
    records FailedMount (kubernetes#117412 dropped the event)."""
    r = moved([{"at": "60s", "failNode": {"node": FIRST}}, {"at": "2m", "deletePod": {"pod": "web-0", "force": True}}],
              until="12m", extra={"cluster": {"nodes": 2, "kubernetesVersion": version}})
    failed = [e for e in r.trace.of("KubeEvent", reason="FailedMount")]
    assert bool(failed) is events
    if events:
        start = times(r, "PodScheduled", pod="web-0")[1]
        assert failed[0].t == pytest.approx(start + 123, abs=0.5)
        assert all(133 <= b.t - a.t <= 138 + 0.5 for a, b in zip(failed, failed[1:]))
        assert failed[0].fields["message"] == (
            "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data], "
            "failed to process volumes=[]: timed out waiting for the condition")
        assert failed[0].fields["component"] == "kubelet" and failed[0].fields["object"] == "pod/web-0"
        assert len(failed) == 2  # during the 6-minute wait for the force detach
    assert times(r, "PodReady", pod="web-0")[1] > first(r, "VolumeDetached", node=FIRST)


def test_multi_attach_names_the_pods_still_using_the_volume() -> None:
    klass = {**storage_class(), "volumeBindingMode": "Immediate"}
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "shared"},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}

    def pod(name: str, node: str) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                "spec": {"nodeName": node, "containers": [{"name": "app", "image": "nginx:1.27"}],
                         "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "shared"}}]}}

    r = run(klass, claim, pod("a", FIRST), pod("b", OTHER), statefulset(replicas=0), nodes=2, until="1m", timing=VOL)
    pv = pv_of(r, "shared")
    assert [e.fields["node"] for e in r.trace.of("VolumeAttached")] == [FIRST]
    events = list(r.trace.of("KubeEvent", reason="FailedAttachVolume"))
    assert [(e.fields["object"], e.fields["message"]) for e in events] == [
        ("pod/b", f'Multi-Attach error for volume "{pv}" Volume is already used by pod(s) a')]
    assert r.cluster.get("Pod", "b").status.phase == "Pending"


@pytest.mark.parametrize("name", ["node-failure", "drain-with-pdb", "node-failure-database", "node-failure-database-oos",
                                  "storage-retention"])
def test_a_read_write_once_volume_is_never_attached_to_two_nodes(name: str) -> None:
    from statefulsim import runner
    from statefulsim.io.scenario import load_scenario

    r = runner.run(load_scenario(pathlib.Path(__file__).resolve().parents[2] / "scenarios" / f"{name}.yaml"))
    on: dict[str, set[str]] = {}
    seen = 0
    for rec in r.trace:
        if rec.event == "VolumeAttached":
            nodes = on.setdefault(str(rec.fields["pv"]), set())
            assert not nodes, (rec.t, rec.fields, nodes)
            nodes.add(str(rec.fields["node"]))
            seen += 1
        elif rec.event == "VolumeDetached":
            on[str(rec.fields["pv"])].discard(str(rec.fields["node"]))
    assert seen >= 3


def test_the_report_says_when_the_pod_ran_again_and_why_it_waited() -> None:
    from statefulsim import runner
    from statefulsim.io.scenario import load_scenario
    from statefulsim.present.story import story

    root = pathlib.Path(__file__).resolve().parents[2] / "scenarios"
    text = " ".join(story(runner.run(load_scenario(root / "node-failure-database.yaml")).trace))
    assert ("db-1 ran again on spare: Ready at 11m34s, 6m34s after the old db-1 on node-b was deleted. "
            "Its volume data-db-1 was detached from node-b 6m05s after the deletion (forced after the "
            "6-minute maxWaitForUnmountDuration).") in text
    text = " ".join(story(runner.run(load_scenario(root / "node-failure-database-oos.yaml")).trace))
    assert "db-1 ran again on spare: Ready at 5m58s" in text and "(forced at once: the node is out of service)" in text
