"""The invariant library (docs/invariants.md): each invariant catches a hand-made violating trace,
accepts the matching correct one, and holds on the simulator's own trace of every bundled scenario."""

from __future__ import annotations

import functools
import pathlib
from typing import Any

import pytest
from click.testing import CliRunner

import statefulsim
from statefulsim.analysis.invariants import (
    Violation,
    applicable,
    check,
    get_invariant,
    invariant_names,
    not_judged,
    register_invariant,
)
from statefulsim.cli import cli
from statefulsim.io.scenario import load_scenario
from statefulsim.runner import run
from statefulsim.sim.trace import Trace

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))

#: Scenarios that end stuck on purpose, with the reason `convergence` must report.
STUCK_ON_PURPOSE = {
    "crashloop-backoff": "waiting for web-0 to become Running and Ready",  # CrashLoopBackOff forever
    "two-containers-one-unready": "waiting for web-0 to become Running and Ready",  # READY 1/2 forever
    # Until 1.33 the scale-down waits for web-2's availability, then for the informer resync.
    "min-ready-seconds-1.33": "waiting for web-2 to stay Ready for minReadySeconds",
}


# ------------------------------------------------------------------------------ trace builders


class T:
    """A hand-made trace, one record per call (times must not decrease)."""

    def __init__(self, replicas: int = 3, policy: str = "OrderedReady", name: str = "web") -> None:
        self.trace = Trace()
        self.set = name
        self.add(0, "StatefulSetCreated", statefulset=name, replicas=replicas, podManagementPolicy=policy)
        self.add(0, "RevisionCreated", statefulset=name, revision="r1", number=1)

    def add(self, t: float, event: str, **fields: Any) -> T:
        self.trace.append(t, event, fields)
        return self

    def create(self, t: float, pod: str, uid: str | None = None, rev: str = "r1") -> T:
        ordinal = int(pod.rsplit("-", 1)[1])
        self.add(t, "PodCreated", pod=pod, uid=uid or pod, ordinal=ordinal, statefulset=self.set, revision=rev)
        return self.add(t, "KubeEvent", reason="SuccessfulCreate", object=f"pod/{pod}",
                        message=f"create Pod {pod} in StatefulSet {self.set} successful", component="statefulset-controller")

    def up(self, t: float, pod: str, uid: str | None = None, ready: bool = True) -> T:
        self.add(t, "PodRunning", pod=pod, uid=uid or pod, node="n1")
        return self.add(t, "PodReady", pod=pod, uid=uid or pod) if ready else self

    def start(self, t: float, *pods: str) -> T:
        """Create each pod and make it Running and Ready, one after the other."""
        for i, pod in enumerate(pods):
            self.create(t + 2 * i, pod).up(t + 2 * i + 1, pod)
        return self

    def delete(self, t: float, pod: str, uid: str | None = None, controller: bool = True) -> T:
        self.add(t, "PodTerminating", pod=pod, uid=uid or pod, gracePeriodSeconds=10.0)
        if controller:
            self.add(t, "KubeEvent", reason="SuccessfulDelete", object=f"pod/{pod}",
                     message=f"delete Pod {pod} in StatefulSet {self.set} successful", component="statefulset-controller")
        return self

    def gone(self, t: float, pod: str, uid: str | None = None) -> T:
        return self.add(t, "PodDeleted", pod=pod, uid=uid or pod)

    def status(self, t: float, replicas: int, ready: int, current: str = "r1", update: str = "r1",
               generation: int = 1, updated: int | None = None) -> T:
        return self.add(t, "StatefulSetStatus", statefulset=self.set, replicas=replicas, readyReplicas=ready,
                        availableReplicas=ready, currentReplicas=replicas,
                        updatedReplicas=replicas if updated is None else updated,
                        currentRevision=current, updateRevision=update, observedGeneration=generation)

    def spec(self, t: float, generation: int, replicas: int, patch: dict[str, Any] | None = None, *,
             spec_relative: bool = False) -> T:
        """A spec change (a patch action when given, of the whole object, or of the spec as in
        traces of earlier versions), observed by the controller right away."""
        if patch is not None:
            self.add(t, "Action", action="patch", statefulset=self.set, patch=patch if spec_relative else {"spec": patch})
        self.add(t, "StatefulSetUpdated", statefulset=self.set, generation=generation, replicas=replicas)
        return self.add(t, "StatefulSetStatus", statefulset=self.set, replicas=replicas, readyReplicas=0,
                        availableReplicas=0, currentReplicas=0, updatedReplicas=0, currentRevision="r1",
                        updateRevision="r1", observedGeneration=generation)


def found(t: T, name: str) -> list[Violation]:
    return check(t.trace, [name])


# ------------------------------------------------------------------------------ the registry


def test_registry_and_public_api() -> None:
    names = invariant_names()
    for name in ("ordered-creation", "ordered-termination", "at-most-one-identity", "claim-before-pod",
                 "stable-storage", "reverse-ordinal-update", "partition-respected", "dns-ready-only", "convergence"):
        assert name in names
        assert get_invariant(name).summary
    assert statefulsim.check_invariants is check
    assert statefulsim.invariant_names() == names
    assert statefulsim.Violation is Violation
    with pytest.raises(ValueError, match="unknown invariant 'nope'"):
        check(Trace(), ["nope"])


def test_register_a_custom_invariant() -> None:
    def no_failed_pods(trace: Trace) -> list[Violation]:
        return [Violation("no-failed-pods", r.t, (f"pod/{r.fields['pod']}",), "a pod failed") for r in trace.of("PodFailed")]

    register_invariant("no-failed-pods", "no pod ever fails", no_failed_pods, lambda tr: tr.first("PodFailed") is not None)
    try:
        t = T().start(1, "web-0").add(9, "PodFailed", pod="web-0", uid="web-0", reason="Evicted")
        assert "no-failed-pods" in applicable(t.trace)
        [v] = [v for v in check(t.trace) if v.invariant == "no-failed-pods"]
        assert str(v) == "00:00:09.000 no-failed-pods: a pod failed"
    finally:
        from statefulsim.analysis import invariants

        invariants.unregister_invariant("no-failed-pods")


def test_applicability() -> None:
    parallel = T(policy="Parallel").start(1, "web-0")
    assert "ordered-creation" not in applicable(parallel.trace)
    assert "dns-ready-only" not in applicable(parallel.trace)
    assert "convergence" in applicable(parallel.trace)
    assert check(Trace()) == []


# ------------------------------------------------------------------------------ ordered-creation


def test_ordered_creation_catches_a_pod_created_before_its_predecessor_is_ready() -> None:
    t = T().create(1, "web-0").up(2, "web-0", ready=False).create(3, "web-1")
    [v] = found(t, "ordered-creation")
    assert v.t == 3 and v.objects == ("pod/web-1", "pod/web-0")
    assert "web-1 was created while its predecessor web-0 was Running but not Ready" in v.message
    gap = T().start(1, "web-0").create(5, "web-2")  # web-1 never existed
    [v] = found(gap, "ordered-creation")
    assert "web-1 did not exist" in v.message
    assert found(T().start(1, "web-0", "web-1", "web-2"), "ordered-creation") == []
    assert found(T(policy="Parallel").create(1, "web-0").create(1, "web-1"), "ordered-creation") == []


@pytest.mark.parametrize("spec_relative", [False, True])
def test_ordered_creation_follows_the_start_ordinal(spec_relative: bool) -> None:
    # .spec.ordinals.start from a patch: web-2 is the new first pod, it needs no predecessor.
    t = T(replicas=2).start(1, "web-0", "web-1").spec(10, 2, 2, {"ordinals": {"start": 2}}, spec_relative=spec_relative)
    t.create(11, "web-2").up(12, "web-2", ready=False).create(13, "web-3")
    [v] = found(t, "ordered-creation")
    assert v.objects == ("pod/web-3", "pod/web-2")
    # A start set in the manifest is not in the trace: the first pod the set creates tells it.
    m = T().create(1, "web-5").up(2, "web-5", ready=False).create(3, "web-6")
    [v] = found(m, "ordered-creation")
    assert v.objects == ("pod/web-6", "pod/web-5")
    assert found(T().start(1, "web-5", "web-6"), "ordered-creation") == []


def test_ordered_creation_recreated_pod_needs_ready_predecessors() -> None:
    t = T().start(1, "web-0", "web-1", "web-2").add(20, "PodNotReady", pod="web-0", uid="web-0")
    t.delete(21, "web-1", controller=False).gone(22, "web-1").create(23, "web-1", uid="web-1b")
    [v] = found(t, "ordered-creation")
    assert "web-1 was created while its predecessor web-0 was Running but not Ready" in v.message


def late_start(first_seen: bool) -> T:
    """web-0 and web-1 exist when a recording starts at t=100 (first seen then, Running and Ready
    since their creation by the estimate); web-2 was created at t=60, before it."""
    t = T().create(0, "web-0").up(0, "web-0").create(60, "web-2").up(60, "web-2").create(90, "web-1").up(90, "web-1")
    if first_seen:
        for pod in ("web-0", "web-2", "web-1"):
            t.add(100, "PodFirstSeen", pod=pod, uid=pod)
    return t


def test_ordered_creation_judges_only_what_a_late_recording_shows() -> None:
    # A simulator trace starts at t=0 and is complete: web-2 before web-1 is a violation.
    strict = late_start(first_seen=False)
    [v] = found(strict, "ordered-creation")
    assert "web-2 was created while its predecessor web-1 did not exist" in v.message
    assert not_judged(strict.trace) == []
    # The same records from a recording that starts at t=100: web-1's absence at t=60 and
    # web-0's state then are not in it, so nothing is judged, and the gap says why.
    lenient = late_start(first_seen=True)
    assert found(lenient, "ordered-creation") == []
    gaps = not_judged(lenient.trace, ["ordered-creation"])
    assert [(g.t, g.objects) for g in gaps] == [(60, ("pod/web-2", "pod/web-0", "pod/web-1")),
                                                (90, ("pod/web-1", "pod/web-0"))]
    assert "web-0 (first seen at 00:01:40.000) and web-1 (no pod of web is seen before 00:01:40.000)" \
        in gaps[0].message
    # What the recording does show after its start is judged as strictly as ever.
    after = late_start(first_seen=True).add(110, "PodNotReady", pod="web-1", uid="web-1")
    after.delete(111, "web-2", controller=False).gone(112, "web-2").create(113, "web-2", uid="web-2b")
    [v] = found(after, "ordered-creation")
    assert v.t == 113 and "web-2 was created while its predecessor web-1 was Running but not Ready" in v.message
    absent = late_start(first_seen=True).create(120, "web-4")
    [v] = found(absent, "ordered-creation")
    assert "web-4 was created while its predecessor web-3 did not exist" in v.message


def test_ordered_termination_on_a_late_recording() -> None:
    # web-1 is first seen already terminating at t=100; a controller deletion of it at t=50 may
    # be its first one (a violation: web-2 still exists) or a repeat: not judged.
    t = T(replicas=3).start(1, "web-0", "web-1", "web-2").spec(20, 2, 1)
    t.add(21, "PodTerminating", pod="web-1", uid="web-1", gracePeriodSeconds=None)
    t.add(50, "KubeEvent", reason="SuccessfulDelete", object="pod/web-1",
          message="delete Pod web-1 in StatefulSet web successful", component="statefulset-controller")
    strict = found(t, "ordered-termination")
    assert strict == []  # complete trace: web-1 was already terminating at 21, a repeated deletion
    t.add(100, "PodFirstSeen", pod="web-1", uid="web-1")
    assert found(t, "ordered-termination") == []
    [gap] = not_judged(t.trace, ["ordered-termination"])
    assert gap.t == 50 and "whether this was its first deletion is unknown" in gap.message


# ------------------------------------------------------------------------------ ordered-termination


def scaled_down_to_one() -> T:
    return T().start(1, "web-0", "web-1", "web-2").spec(20, 2, 1)


def test_ordered_termination_catches_a_lower_condemned_pod_deleted_first() -> None:
    t = scaled_down_to_one().delete(21, "web-1")
    [v] = found(t, "ordered-termination")
    assert v.objects == ("pod/web-1", "pod/web-2")
    assert "deleted condemned web-1 while the higher condemned web-2 still existed" in v.message
    # web-2 is terminating but not gone yet: still too early.
    t2 = scaled_down_to_one().delete(21, "web-2").delete(22, "web-1")
    [v] = found(t2, "ordered-termination")
    assert "terminating" in v.message
    ok = scaled_down_to_one().delete(21, "web-2").gone(23, "web-2").delete(24, "web-1").gone(25, "web-1")
    assert found(ok, "ordered-termination") == []


def test_ordered_termination_ignores_replacements_and_user_deletions() -> None:
    update = T().start(1, "web-0", "web-1", "web-2").add(20, "RevisionCreated", statefulset="web", revision="r2", number=2)
    update.delete(21, "web-0")  # in range: an update replacement (reverse-ordinal-update's business)
    assert found(update, "ordered-termination") == []
    user = scaled_down_to_one().delete(21, "web-1", controller=False)
    assert found(user, "ordered-termination") == []


def test_ordered_termination_reads_the_range_from_the_start_ordinal() -> None:
    # start 0 -> 2 with 3 replicas: web-0 and web-1 are condemned, web-2..4 are in range.
    t = T().start(1, "web-0", "web-1", "web-2").spec(20, 2, 3, {"ordinals": {"start": 2}})
    t.start(21, "web-3", "web-4").delete(30, "web-1").gone(31, "web-1").delete(32, "web-0").gone(33, "web-0")
    assert found(t, "ordered-termination") == []
    bad = T().start(1, "web-0", "web-1", "web-2").spec(20, 2, 3, {"ordinals": {"start": 2}})
    bad.start(21, "web-3", "web-4").delete(30, "web-0")
    [v] = found(bad, "ordered-termination")
    assert v.objects == ("pod/web-0", "pod/web-1")


def test_spec_change_not_yet_observed_allows_either_spec() -> None:
    # Scale 3 -> 1 recorded, the controller has not written a status for generation 2 yet:
    # deleting web-2 is fine under both specs (in range under the old one).
    t = T().start(1, "web-0", "web-1", "web-2")
    t.add(20, "StatefulSetUpdated", statefulset="web", generation=2, replicas=1).delete(20.01, "web-2")
    assert found(t, "ordered-termination") == []


# ------------------------------------------------------------------------------ at-most-one-identity


def test_at_most_one_identity() -> None:
    t = T().start(1, "web-0").create(5, "web-0", uid="web-0b")
    [v] = found(t, "at-most-one-identity")
    assert v.objects == ("pod/web-0",) and "still existed" in v.message
    ok = T().start(1, "web-0").delete(4, "web-0", controller=False).gone(5, "web-0").create(6, "web-0", uid="web-0b")
    assert found(ok, "at-most-one-identity") == []


# ------------------------------------------------------------------------------ storage


def claim(t: T, at: float, pvc: str, pod: str, event: bool = True) -> T:
    t.add(at, "PVCCreated", pvc=pvc, pod=None, storageClass="std")
    if event:
        t.add(at, "KubeEvent", reason="SuccessfulCreate", object=f"pvc/{pvc}",
              message=f"create Claim {pvc} Pod {pod} in StatefulSet web success", component="statefulset-controller")
    return t


def test_claim_before_pod() -> None:
    t = claim(T(), 1, "data-web-0", "web-0").create(2, "web-0").up(3, "web-0")
    t.create(5, "web-1")
    claim(t, 6, "data-web-1", "web-1")  # too late
    [v] = found(t, "claim-before-pod")
    assert v.objects == ("pod/web-1", "pvc/data-web-1")
    assert "created before its claim data-web-1 existed (it was created only at 00:00:06.000)" in v.message
    ok = claim(T(), 1, "data-web-0", "web-0").create(2, "web-0").up(3, "web-0")
    claim(ok, 4, "data-web-1", "web-1").create(5, "web-1")
    assert found(ok, "claim-before-pod") == []
    # A claim deleted (scale-down with whenScaled: Delete) must be created again before the pod.
    ok.add(9, "PVCDeleted", pvc="data-web-1", pod=None).create(10, "web-1", uid="web-1b")
    [v] = found(ok, "claim-before-pod")
    assert "it was deleted at 00:00:09.000" in v.message


def test_stable_storage() -> None:
    t = claim(T(), 1, "data-web-0", "web-0").create(2, "web-0")
    t.add(3, "VolumesMounted", pod="web-0", uid="web-0", claims=["data-web-0"]).up(4, "web-0")
    t.delete(5, "web-0", controller=False).gone(6, "web-0").create(7, "web-0", uid="web-0b")
    t.add(8, "VolumesMounted", pod="web-0", uid="web-0b", claims=["data-web-1"])
    vs = found(t, "stable-storage")
    assert [v.t for v in vs] == [8, 8]
    assert "without data-web-0 and with another ordinal's data-web-1" in vs[0].message
    assert "every incarnation must use the same claims" in vs[1].message
    ok = claim(T(), 1, "data-web-0", "web-0").create(2, "web-0")
    ok.add(3, "VolumesMounted", pod="web-0", uid="web-0", claims=["data-web-0"])
    ok.delete(5, "web-0", controller=False).gone(6, "web-0").create(7, "web-0", uid="web-0b")
    ok.add(8, "VolumesMounted", pod="web-0", uid="web-0b", claims=["data-web-0"])
    ok.add(9, "PVCBound", pvc="data-web-0", pv="pv-1", pod="web-0")
    assert found(ok, "stable-storage") == []
    ok.create(10, "web-1").add(11, "PVCBound", pvc="data-web-0", pv="pv-1", pod="web-1")
    [v] = found(ok, "stable-storage")
    assert "claim data-web-0 belongs to web-0 but PVCBound says pod web-1 uses it" in v.message


# ------------------------------------------------------------------------------ rolling updates


def rollout(policy: str = "OrderedReady") -> T:
    t = T(policy=policy).start(1, "web-0", "web-1", "web-2")
    t.add(20, "StatefulSetUpdated", statefulset="web", generation=2, replicas=3)
    return t.add(20, "RevisionCreated", statefulset="web", revision="r2", number=2)


def test_reverse_ordinal_update() -> None:
    t = rollout().delete(21, "web-0").status(21, 3, 3, "r1", "r2", 2, updated=0)
    [v] = found(t, "reverse-ordinal-update")
    assert v.objects == ("pod/web-0", "pod/web-2", "pod/web-1")
    assert "replaced web-0 for the update to r2 while the higher web-2 still ran revision r1" in v.message
    ok = rollout().delete(21, "web-2").status(21, 3, 3, "r1", "r2", 2, updated=0).gone(22, "web-2")
    ok.create(23, "web-2", uid="web-2b", rev="r2").up(24, "web-2", uid="web-2b")
    ok.delete(25, "web-1").status(25, 3, 2, "r1", "r2", 2, updated=1)
    assert found(ok, "reverse-ordinal-update") == []
    # maxUnavailable: a batch deleted in one sync, highest first.
    batch = rollout().delete(21, "web-2").delete(21, "web-1").status(21, 3, 3, "r1", "r2", 2, updated=0)
    assert found(batch, "reverse-ordinal-update") == []


def test_reverse_ordinal_update_rollback_without_new_revision() -> None:
    # A rollback reuses the old revision (no RevisionCreated): the next status names the target.
    t = T().start(1, "web-0", "web-1", "web-2").add(20, "StatefulSetUpdated", statefulset="web", generation=2, replicas=3)
    t.delete(21, "web-1").status(21, 3, 3, "r2", "r0", 2, updated=0)
    [v] = found(t, "reverse-ordinal-update")
    assert "for the update to r0" in v.message


def test_parallel_may_replace_an_unavailable_old_pod_first() -> None:
    t = T(policy="Parallel").create(1, "web-0").up(2, "web-0", ready=False).start(1, "web-1", "web-2")
    t.add(20, "RevisionCreated", statefulset="web", revision="r2", number=2)
    t.delete(21, "web-0").status(21, 3, 2, "r1", "r2", 1, updated=0)
    assert found(t, "reverse-ordinal-update") == []  # v1.37 two-phase maxUnavailable
    ready_first = rollout("Parallel").delete(21, "web-0").status(21, 3, 3, "r1", "r2", 2, updated=0)
    assert len(found(ready_first, "reverse-ordinal-update")) == 1


def test_partition_respected() -> None:
    t = T().start(1, "web-0", "web-1", "web-2").spec(10, 2, 3, {"updateStrategy": {"rollingUpdate": {"partition": 2}}})
    t.add(20, "RevisionCreated", statefulset="web", revision="r2", number=3)
    t.delete(21, "web-2").status(21, 3, 3, "r1", "r2", 2, updated=0).gone(22, "web-2")
    t.create(23, "web-2", uid="web-2b", rev="r2").up(24, "web-2", uid="web-2b").status(24, 3, 3, "r1", "r2", 2, updated=1)
    assert found(t, "partition-respected") == []
    t.delete(30, "web-1").status(30, 3, 3, "r1", "r2", 2, updated=1)
    [v] = found(t, "partition-respected")
    assert v.objects == ("pod/web-1",) and "below the partition (2)" in v.message
    # A pod below the partition deleted by the user comes back at the current revision.
    t2 = T().start(1, "web-0", "web-1").spec(10, 2, 2, {"updateStrategy": {"rollingUpdate": {"partition": 2}}})
    t2.add(20, "RevisionCreated", statefulset="web", revision="r2", number=2).status(20, 2, 2, "r1", "r2", 2, updated=0)
    t2.delete(30, "web-0", controller=False).gone(31, "web-0").create(32, "web-0", uid="web-0b", rev="r2")
    [v] = found(t2, "partition-respected")
    assert "created at revision r2 instead of the current revision r1" in v.message


# ------------------------------------------------------------------------------ DNS


def dns_trace(publish_not_ready: bool = False) -> T:
    t = T(replicas=1).create(1, "web-0").add(2, "PodIP", pod="web-0", uid="web-0", ip="10.0.0.1")
    t.add(2.1, "EndpointSliceUpdated", service="web", ready=["web-0"] if publish_not_ready else [],
          notReady=[] if publish_not_ready else ["web-0"], terminating=[])
    return t


def answer(t: T, at: float, ttl: float = 30.0, cached: bool = False, name: str = "web-0.web.default.svc.cluster.local",
           ips: list[str] | None = None, qtype: str = "A") -> T:
    return t.add(at, "DNSAnswer", name=name, qtype=qtype, rcode="NOERROR", answers=ips or ["10.0.0.1"], ttl=ttl,
                 server="coredns-0", cached=cached, client="client", queries=1, fqdn=name)


def test_dns_ready_only_catches_an_answer_for_a_pod_never_ready() -> None:
    t = answer(dns_trace(), 3)
    [v] = found(t, "dns-ready-only")
    assert v.objects == ("pod/web-0", "service/web")
    assert "answered web-0.web.default.svc.cluster.local (A) with web-0 10.0.0.1" in v.message
    assert "web-0 had never been Ready" in v.message
    # The Service name and SRV targets hand out the pod too.
    srv = answer(dns_trace(), 3, name="_http._tcp.web.default.svc.cluster.local", qtype="SRV",
                 ips=["0 100 80 web-0.web.default.svc.cluster.local."])
    assert len(found(srv, "dns-ready-only")) == 1
    svc = answer(dns_trace(), 3, name="web.default.svc.cluster.local")
    assert len(found(svc, "dns-ready-only")) == 1


def test_dns_ready_only_allows_ready_pods_and_cached_answers_within_their_ttl() -> None:
    t = dns_trace().up(5, "web-0").add(5.1, "EndpointSliceUpdated", service="web", ready=["web-0"], notReady=[], terminating=[])
    answer(t, 6).add(20, "PodNotReady", pod="web-0", uid="web-0")
    answer(t, 22)  # within the propagation allowance
    answer(t, 40, ttl=14, cached=True)  # fetched at 24 at the latest (30 - 14 = 16 s old): fine
    assert found(t, "dns-ready-only") == []
    answer(t, 45, ttl=29, cached=False)  # a fresh answer 25 s after NotReady
    [v] = found(t, "dns-ready-only")
    assert v.t == 45 and "had not been Ready since 00:00:20.000" in v.message


def test_dns_ready_only_exempts_publish_not_ready_services() -> None:
    assert found(answer(dns_trace(publish_not_ready=True), 3), "dns-ready-only") == []


# ------------------------------------------------------------------------------ convergence


def test_convergence_reports_the_stuck_reason() -> None:
    t = T().create(1, "web-0").up(2, "web-0", ready=False).status(2, 1, 0)
    t.add(2, "ControllerWaiting", statefulset="web", reason="PredecessorNotReady", pod="web-0")
    [v] = found(t, "convergence")
    assert v.objects == ("statefulset/web", "pod/web-0")
    assert "web did not reach its desired state by the end of the run: 0 of 3 desired replicas Ready (1 exist)" in v.message
    assert "web is stuck: waiting for web-0 to become Running and Ready" in v.message


def test_convergence_without_a_reason_and_unfinished_rollouts() -> None:
    t = T().start(1, "web-0").status(3, 1, 1)
    [v] = found(t, "convergence")
    assert "1 of 3 desired replicas Ready" in v.message and "reports no reason" in v.message
    done = T().start(1, "web-0", "web-1", "web-2").status(7, 3, 3)
    assert found(done, "convergence") == []
    # partition 0 (from a patch): the current revision must catch up with the update revision.
    unfinished = T().start(1, "web-0", "web-1", "web-2").spec(10, 2, 3, {"updateStrategy": {"rollingUpdate": {"partition": 0}}})
    unfinished.status(30, 3, 3, "r1", "r2", 2, updated=1)
    [v] = found(unfinished, "convergence")
    assert "the rolling update is unfinished: currentRevision r1, updateRevision r2 (1 of 3 updated)" in v.message
    # partition 2: one updated pod is the goal.
    canary = T().start(1, "web-0", "web-1", "web-2").spec(10, 2, 3, {"updateStrategy": {"rollingUpdate": {"partition": 2}}})
    canary.status(30, 3, 3, "r1", "r2", 2, updated=1)
    assert found(canary, "convergence") == []
    deleted = T().start(1, "web-0").add(5, "StatefulSetDeleted", statefulset="web")
    assert found(deleted, "convergence") == []


# ------------------------------------------------------------------------------ the simulator's own traces


@functools.lru_cache(maxsize=None)
def scenario_trace(path: pathlib.Path) -> Trace:
    return run(load_scenario(path)).trace


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_bundled_scenarios_keep_every_invariant(path: pathlib.Path) -> None:
    trace = scenario_trace(path)
    violations = check(trace)
    assert not_judged(trace) == []  # a simulator trace shows everything from t=0
    expected_reason = STUCK_ON_PURPOSE.get(path.stem)
    if expected_reason is None:
        assert violations == [], "\n".join(map(str, violations))
        return
    assert [v.invariant for v in violations] == ["convergence"], "\n".join(map(str, violations))
    assert expected_reason in violations[0].message


def test_every_invariant_is_exercised_by_some_scenario() -> None:
    used = {name for path in SCENARIOS for name in applicable(scenario_trace(path))}
    assert used == set(invariant_names())


# ------------------------------------------------------------------------------ CLI


def invoke(*args: str | pathlib.Path) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_cli_check_exit_codes() -> None:
    ok = invoke("run", ROOT / "scenarios" / "quickstart.yaml", "--check", "--no-timeline")
    assert ok.exit_code == 0, ok.output
    assert "invariants: all 9 held (ordered-creation" in ok.output
    assert invoke("run", ROOT / "scenarios" / "quickstart.yaml", "--check", "-q").output == ""
    stuck = ROOT / "scenarios" / "crashloop-backoff.yaml"
    assert invoke("run", stuck, "-q").exit_code == 0  # its expectations hold
    bad = invoke("run", stuck, "--check", "-q")
    assert bad.exit_code == 1, bad.output
    assert "Invariants (6 checked, 1 violation)" in bad.output
    assert "convergence" in bad.output and "FAILED: 1 invariant violation" in bad.output


def test_cli_check_with_a_failed_expectation(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f"""\
apiVersion: statefulsim/v1
kind: Scenario
metadata: {{name: too-fast}}
until: 1m
manifests:
  - file: {ROOT / "scenarios" / "manifests" / "mysql.yaml"}
expect:
  - readyReplicas: {{statefulset: mysql, equals: 3, by: 10s}}
""")
    result = invoke("run", path, "--check", "-q")
    assert result.exit_code == 1
    assert "FAILED: 1 of 1 expectations did not hold" in result.output
