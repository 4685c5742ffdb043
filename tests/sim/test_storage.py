"""Volumes: claims from volumeClaimTemplates, binding modes, provisioning, retention policy,
StatefulSet deletion (reference pods §5, controller §1.2, §3.4, §6)."""

from __future__ import annotations

import pathlib

import pytest

from helpers import first, run, statefulset, times
from statefulsim.analysis.expect import live_pods
from statefulsim.sim.kubelet.volumemanager import next_retry


def storage_class(name: str = "standard", mode: str = "WaitForFirstConsumer", default: bool = True,
                  provisioner: str = "ebs.csi.aws.com", reclaim: str = "Delete") -> dict:
    meta: dict = {"name": name}
    if default:
        meta["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta,
            "provisioner": provisioner, "volumeBindingMode": mode, "reclaimPolicy": reclaim}


def with_claims(replicas: int = 3, policy: str = "OrderedReady", retention: dict | None = None,
                klass: str | None = None) -> dict:
    spec: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    if klass is not None:
        spec["storageClassName"] = klass
    extra: dict = {"volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": spec}]}
    if retention is not None:
        extra["persistentVolumeClaimRetentionPolicy"] = retention
    return statefulset(replicas=replicas, policy=policy, extra_spec=extra)


VOL = {"provisioning": 3, "volumeAttach": 2}
DATA = pathlib.Path(__file__).resolve().parents[1] / "data"


def test_claims_named_and_created_before_their_pods() -> None:
    r = run(storage_class(), with_claims(), until="2m", timing=VOL)
    for i in range(3):
        assert first(r, "PVCCreated", pvc=f"data-web-{i}") <= first(r, "PodCreated", pod=f"web-{i}")
    pod = r.cluster.get("Pod", "web-1")
    assert [(v.name, v.claim_name) for v in pod.spec.volumes] == [("data", "data-web-1")]
    claim = r.cluster.get("PersistentVolumeClaim", "data-web-1")
    assert claim.storage_class_name == "standard"  # DefaultStorageClass admission
    assert claim.metadata.labels["app"] == "web"  # selector labels merged in


def test_wait_for_first_consumer_provisions_after_scheduling_choice() -> None:
    r = run(storage_class(), with_claims(replicas=1), until="1m", timing={**VOL, "volumeMount": 1})
    created = first(r, "PodCreated", pod="web-0")
    provisioning = first(r, "VolumeProvisioning", pvc="data-web-0")
    bound = first(r, "PVCBound", pvc="data-web-0")
    scheduled = first(r, "PodScheduled", pod="web-0")
    attached = first(r, "VolumeAttached", node=r.trace.first("PodScheduled").fields["node"])
    mounted = first(r, "VolumesMounted", pod="web-0")
    # The scheduler picks a node, annotates the claim, the provisioner creates the volume (3 s),
    # the scheduler's 1 s poll sees it Bound and binds the pod; the attach/detach controller
    # attaches it at its next 100 ms tick (2 s); the kubelet's verify operation, failing from 4 s
    # on with back-off 0.5 s, 1 s, 2 s, sees it at its 7.5 s try and mounts it (1 s).
    assert provisioning == pytest.approx(created)
    assert r.trace.first("VolumeProvisioning").fields["node"] is not None
    assert bound == pytest.approx(provisioning + 3)
    assert scheduled == pytest.approx(4.0)
    assert attached == pytest.approx(scheduled + 0.1 + 2)
    assert mounted == pytest.approx(next_retry(scheduled, attached) + 1) == pytest.approx(8.5)


def test_immediate_provisions_before_scheduling_and_pod_waits_unschedulable() -> None:
    r = run(storage_class(mode="Immediate"), with_claims(replicas=1), until="1m", timing=VOL)
    assert r.trace.first("VolumeProvisioning").fields["node"] is None
    assert first(r, "PVCBound", pvc="data-web-0") == pytest.approx(3.0)
    msg = r.trace.first("PodUnschedulable", pod="web-0").fields["message"]
    assert "pod has unbound immediate PersistentVolumeClaims" in msg
    assert first(r, "PodScheduled", pod="web-0") >= 3.0


def test_recreated_pod_reuses_the_same_claim_and_volume() -> None:
    r = run(storage_class(), with_claims(replicas=2), until="3m", timing=VOL,
            actions=[{"at": "90s", "deletePod": {"pod": "web-1"}}])
    assert len(r.trace.of("PodCreated", pod="web-1")) == 2
    assert len(r.trace.of("PVCCreated", pvc="data-web-1")) == 1
    assert len(r.trace.of("PVCreated")) == 2  # one volume per ordinal, never a second for web-1
    bound = r.trace.first("PVCBound", pvc="data-web-1").fields["pv"]
    assert r.cluster.get("PersistentVolumeClaim", "data-web-1").volume_name == bound


def test_static_local_volume_pins_the_pod_to_its_node() -> None:
    sc = storage_class(name="local", provisioner="kubernetes.io/no-provisioner", default=False)
    pv = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "local-pv-1"},
          "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "local",
                   "local": {"path": "/mnt/disks/1"},
                   "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                       {"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-3"]}]}]}}}}
    r = run(sc, pv, with_claims(replicas=1, klass="local"), until="1m", timing=VOL)
    assert r.trace.first("PodScheduled", pod="web-0").fields["node"] == "node-3"
    assert r.trace.first("PVCBound").fields["pv"] == "local-pv-1"
    assert not r.trace.of("VolumeProvisioning")


RETENTION = [
    # (whenDeleted, whenScaled, claims left after scale 3 -> 1, claims left after deleting the set)
    ("Retain", "Retain", {0, 1, 2}, {0, 1, 2}),
    ("Delete", "Retain", {0, 1, 2}, set()),
    ("Retain", "Delete", {0}, {0}),
    ("Delete", "Delete", {0}, set()),
]


@pytest.mark.parametrize("when_deleted, when_scaled, after_scale, after_delete", RETENTION)
def test_retention_policy_table(when_deleted: str, when_scaled: str, after_scale: set[int],
                                after_delete: set[int]) -> None:
    retention = {"whenDeleted": when_deleted, "whenScaled": when_scaled}
    r = run(storage_class(), with_claims(retention=retention), until="6m", timing=VOL,
            actions=[{"at": "2m", "scale": {"statefulset": "web", "replicas": 1}},
                     {"at": "4m", "deleteStatefulSet": {"statefulset": "web"}}])

    def claims_at(t: float) -> set[int]:
        alive: set[int] = set()
        for rec in r.trace:
            if rec.t > t:
                break
            if rec.event == "PVCCreated":
                alive.add(int(rec.fields["pvc"].rsplit("-", 1)[1]))
            elif rec.event == "PVCDeleted":
                alive.discard(int(rec.fields["pvc"].rsplit("-", 1)[1]))
        return alive

    # The owner references of table §6.2 on the running set's claims (all in range before 2 m).
    assert claims_at(119) == {0, 1, 2}
    refs = {rec.fields["pvc"]: rec for rec in r.trace.of("PVCCreated")}
    assert refs  # claims exist; their references are checked on the live objects below
    if when_deleted == "Retain" and after_delete:
        for i in after_delete:
            kinds = {ref.kind for ref in r.cluster.get("PersistentVolumeClaim", f"data-web-{i}").metadata.owner_references}
            assert "StatefulSet" not in kinds
    assert claims_at(239) == after_scale
    assert claims_at(360) == after_delete
    # A deleted claim releases its volume, and the class's Delete reclaim policy removes it.
    gone = {rec.fields["pvc"] for rec in r.trace.of("PVDeleted")}
    assert gone == {f"data-web-{i}" for i in {0, 1, 2} - after_delete}


@pytest.mark.parametrize("when_deleted, when_scaled, in_range, condemned", [
    ("Retain", "Retain", set(), set()),
    ("Delete", "Retain", {"StatefulSet"}, {"StatefulSet"}),
    ("Retain", "Delete", set(), {"Pod"}),
    ("Delete", "Delete", {"StatefulSet"}, {"Pod"}),
])
def test_claim_owner_references(when_deleted: str, when_scaled: str, in_range: set[str], condemned: set[str]) -> None:
    """Table §6.2: which owner the claims of in-range and condemned pods point to."""
    retention = {"whenDeleted": when_deleted, "whenScaled": when_scaled}
    r = run(storage_class(), with_claims(retention=retention), until="130s", timing={**VOL, "appShutdown": 100},
            actions=[{"at": "2m", "scale": {"statefulset": "web", "replicas": 2}}])

    def kinds(i: int) -> set[str]:
        claim = r.cluster.get("PersistentVolumeClaim", f"data-web-{i}")
        refs = claim.metadata.owner_references
        assert all(ref.controller for ref in refs)
        return {ref.kind for ref in refs}

    assert kinds(0) == kinds(1) == in_range
    assert kinds(2) == condemned  # web-2 is still terminating (appShutdown 100 s)


def test_scale_up_waits_for_stale_claim_after_when_scaled_delete() -> None:
    retention = {"whenDeleted": "Retain", "whenScaled": "Delete"}
    lag = {"apiLatency": 0.05, "watchLatency": 0.05}
    r = run(storage_class(), with_claims(replicas=2, retention=retention), until="4m", timing={**VOL, **lag},
            actions=[{"at": "60s", "scale": {"statefulset": "web", "replicas": 1}},
                     {"at": "61s", "scale": {"statefulset": "web", "replicas": 2}},
                     {"at": "120s", "breakReadiness": {"pod": "web-0"}},
                     {"at": "125s", "restoreReadiness": {"pod": "web-0"}}])
    deleted_claim = first(r, "PVCDeleted", pvc="data-web-1")
    stale = [w for w in r.trace.of("ControllerWaiting") if w.fields["reason"] == "StaleClaim"]
    assert stale and stale[0].fields["pod"] == "web-1" and stale[0].t <= deleted_claim
    # A stale claim ends the sync without an error, so nothing requeues the set, and claim
    # events do not trigger syncs: web-1 is only recreated when another event (here web-0's
    # readiness flapping) makes the controller sync again, as upstream behaves.
    recreated = r.trace.of("PodCreated", pod="web-1")[1].t
    assert recreated >= first(r, "PodNotReady", pod="web-0") > deleted_claim
    assert len(r.trace.of("PVCCreated", pvc="data-web-1")) == 2


def test_cascading_delete_terminates_pods_concurrently() -> None:
    r = run(storage_class(), with_claims(replicas=3), until="4m", timing={**VOL, "appShutdown": 5},
            actions=[{"at": "2m", "deleteStatefulSet": {"statefulset": "web"}}])
    terminating = times(r, "PodTerminating")
    assert len(terminating) == 3 and max(terminating) - min(terminating) < 1.0
    assert live_pods(r.trace, 240) == []
    assert r.cluster.get("StatefulSet", "web") is None


def test_orphan_delete_then_recreate_adopts_and_scales_in_order() -> None:
    old = with_claims(replicas=3)
    new = with_claims(replicas=2)
    new["spec"]["replicas"] = 2
    r = run(storage_class(), old, until="5m", timing=VOL,
            actions=[{"at": "2m", "deleteStatefulSet": {"statefulset": "web", "cascade": "orphan"}},
                     {"at": "150s", "apply": [new]}])
    assert r.cluster.get("StatefulSet", "web") is not None
    # No pod was terminated by the orphaning delete.
    assert not [x for x in r.trace.of("PodTerminating") if x.t < 150]
    # The new set adopts web-0, web-1 (same UIDs), and removes the surplus web-2.
    assert len(r.trace.of("PodCreated", pod="web-0")) == 1
    assert first(r, "PodTerminating", pod="web-2") >= 150
    assert live_pods(r.trace, 300) == ["web-0", "web-1"]
    owner = r.cluster.get("Pod", "web-0").metadata.controller_ref()
    assert owner is not None and owner.uid == r.cluster.get("StatefulSet", "web").metadata.uid


def test_missing_claim_of_a_pending_pod_is_recreated() -> None:
    """e2e "PVC should be recreated when pod is pending due to missing PVC"."""
    nodes = [{"name": "a"}]
    r = run(storage_class(), with_claims(replicas=1), until="3m", nodes=nodes, timing=VOL,
            actions=[{"at": "60s", "cordonNode": {"node": "a"}},
                     {"at": "61s", "deletePod": {"pod": "web-0"}},
                     {"at": "70s", "delete": {"kind": "PersistentVolumeClaim", "name": "data-web-0"}},
                     {"at": "90s", "uncordonNode": {"node": "a"}}])
    # The Pending replacement is not scheduled, so it does not hold the claim (pvc-protection):
    # the claim goes at 70 s.  Nothing makes the controller sync until the uncordon lets the
    # scheduler try again, with a new reason ("persistentvolumeclaim ... not found") written to
    # the pod; that pod update triggers the sync that recreates the claim (processReplica step 3).
    assert first(r, "PVCDeleted", pvc="data-web-0") == pytest.approx(70.0)
    created = [x.t for x in r.trace.of("PVCCreated", pvc="data-web-0")]
    assert len(created) == 2 and created[1] == pytest.approx(90.0)
    assert "not found" in r.trace.of("PodUnschedulable", pod="web-0")[-1].fields["message"]
    assert r.trace.of("PodScheduled", pod="web-0")[-1].fields["node"] == "a"
    assert r.trace.of("PodReady", pod="web-0")[-1].t > 90


def test_retain_reclaim_policy_releases_the_volume() -> None:
    r = run(storage_class(reclaim="Retain"), with_claims(replicas=1), until="2m", timing=VOL,
            actions=[{"at": "60s", "delete": {"kind": "PersistentVolumeClaim", "name": "data-web-0"}},
                     {"at": "61s", "deleteStatefulSet": {"statefulset": "web"}}])
    released = r.trace.first("PVReleased")
    assert released is not None and released.fields["pvc"] == "data-web-0"
    assert not r.trace.of("PVDeleted")
    pv = r.cluster.store.list("PersistentVolume")[0]
    assert pv.phase == "Released"


def test_foreground_cascade_keeps_the_set_until_its_pods_are_gone() -> None:
    r = run(storage_class(), with_claims(replicas=2), until="3m", timing={**VOL, "appShutdown": 8},
            actions=[{"at": "90s", "deleteStatefulSet": {"statefulset": "web", "cascade": "foreground"}}])
    last_pod_gone = max(times(r, "PodDeleted"))
    assert first(r, "StatefulSetDeleted") >= last_pod_gone
    assert last_pod_gone >= 90 + 8



def test_foreground_cascade_collects_a_revision_recreated_while_the_set_terminates() -> None:
    # Found by statefulsim.testing: deleted right after creation, the terminating set's next sync
    # recreates the ControllerRevision the collector had already deleted (upstream does the
    # same). Upstream's collector queues a blocking dependent of a foreground owner when it
    # processes the owner; without that the set kept its finalizer forever.
    from statefulsim import runner
    from statefulsim.io.scenario import load_scenario

    r = runner.run(load_scenario(DATA / "gc-foreground-revision-recreated.yaml"))
    created = times(r, "RevisionCreated")
    assert len(created) == 2
    collected = [x for x in r.trace if x.event == "GarbageCollected" and x.fields["kind"] == "ControllerRevision"]
    assert len(collected) == 2
    assert max(created) < first(r, "StatefulSetDeleted") < 1.0
