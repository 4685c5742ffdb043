"""Unit tests of one StatefulSet sync over the in-memory object manager (upstream
``stateful_set_control_test.go``: scale up and down step by step, converged sets make no writes,
injected API errors, ``assertMonotonicInvariants`` after every step)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable

import pytest

from helpers import statefulset
from statefulsim.problems import Problems
from statefulsim.sim.api.convert import object_from_manifest
from statefulsim.sim.api.informer import Informer, SharedInformerFactory
from statefulsim.sim.api.objects import ControllerRevision, Pod, PodStatus, StatefulSet
from statefulsim.sim.api.store import ApiClient, ObjectStore
from statefulsim.sim.controllers.statefulset.control import StatefulSetControl
from statefulsim.sim.controllers.statefulset.fake import FakeObjectManager
from statefulsim.sim.controllers.statefulset.pod_control import PodControl
from statefulsim.sim.controllers.statefulset.revisions import TemplateCache
from statefulsim.sim.controllers.statefulset.status_updater import StatusUpdater
from statefulsim.sim.controllers.statefulset.utils import identity_matches, is_running_and_ready, ordinal_of
from statefulsim.sim.controllers.statefulset.view import OwnedPodIndex
from statefulsim.sim.delays import ZERO
from statefulsim.sim.env import SimEnv
from statefulsim.sim.versions import feature_gates

POLICIES = ("OrderedReady", "Parallel")


def _owner(obj: Any) -> Iterable[str]:
    ref = obj.metadata.controller_ref()
    return (ref.uid,) if ref is not None else ()


@dataclass
class Harness:
    env: SimEnv
    store: ObjectStore
    objects: FakeObjectManager
    control: StatefulSetControl
    sets: Informer
    name: str = "web"

    def sts(self) -> StatefulSet:
        sts = self.store.get("StatefulSet", "default", self.name)
        assert isinstance(sts, StatefulSet)
        return sts

    def pods(self) -> list[Pod]:
        return sorted((p for p in self.store.list("Pod", "default")), key=ordinal_of)

    def sync(self) -> bool:
        """One ``UpdateStatefulSet`` over every pod (upstream's walk); True when it succeeded."""
        sts = self.sts()
        proc = self.env.process(self.control.update(sts, self.control.plan(sts), self.pods()))
        self.env.sim.run()
        ok, _ = proc.value
        return bool(ok)

    def kubelet(self) -> None:
        """Every pod Running and Ready now (the fake has no kubelet)."""
        for pod in self.pods():
            if not is_running_and_ready(pod):
                status = PodStatus(phase="Running").with_condition("Ready", True, self.env.now)
                self.store.update_status(replace(pod, status=status))
        self.env.sim.run()

    def scale(self, replicas: int) -> None:
        sts = self.sts()
        self.store.update(replace(sts, spec=replace(sts.spec, replicas=replicas)))
        self.env.sim.run()


def harness(policy: str, replicas: int) -> Harness:
    env = SimEnv(0)
    store = ObjectStore(env)
    problems = Problems()
    sts = object_from_manifest(statefulset(replicas=replicas, policy=policy), (), problems)
    assert isinstance(sts, StatefulSet), problems.items
    store.create(sts)
    client = ApiClient(env, store, "statefulset-controller", ZERO)
    informers = SharedInformerFactory(store, ZERO, "watch/test")
    sets = informers.informer("StatefulSet")
    objects = FakeObjectManager(store)
    control = StatefulSetControl(env, PodControl(env, objects), feature_gates("1.37"), TemplateCache(),
                                 client=client, store=store,
                                 revisions=informers.informer("ControllerRevision", indexes={"owner": _owner}),
                                 status_updater=StatusUpdater(client, sets), index=OwnedPodIndex(),
                                 indexed_sync=False)
    env.sim.run()
    return Harness(env, store, objects, control, sets)


def assert_monotonic_invariants(h: Harness, policy: str) -> None:
    """Upstream ``assertMonotonicInvariants``: OrderedReady pods come up in ordinal order and no
    successor is Ready before its predecessor; every pod keeps its identity and its ordinal is
    unique."""
    sts, pods = h.sts(), h.pods()
    ordinals = [ordinal_of(p) for p in pods]
    assert len(set(ordinals)) == len(ordinals), ordinals
    for idx, pod in enumerate(pods):
        assert identity_matches(sts, pod), pod.name
        if policy == "OrderedReady":
            assert ordinals[idx] == idx, f"pods deployed in the wrong order: {ordinals}"
            if idx > 0 and is_running_and_ready(pod):
                assert is_running_and_ready(pods[idx - 1]), f"successor {pod.name} is Ready before its predecessor"


def converge(h: Harness, policy: str, limit: int = 50) -> int:
    """Sync and run the kubelet until the set is at its desired state; returns the syncs taken."""
    for step in range(1, limit + 1):
        assert h.sync()
        assert_monotonic_invariants(h, policy)
        h.kubelet()
        assert_monotonic_invariants(h, policy)
        sts = h.sts()
        if len(h.pods()) == sts.spec.replicas and sts.status.ready_replicas == sts.spec.replicas:
            return step
    raise AssertionError(f"not converged after {limit} syncs: {[p.name for p in h.pods()]}")


@pytest.mark.parametrize("policy", POLICIES)
def test_converged_set_makes_zero_writes(policy: str) -> None:
    h = harness(policy, 3)
    steps = converge(h, policy)
    assert steps == (4 if policy == "OrderedReady" else 2)  # one pod per sync vs all at once
    assert h.objects.requests["create"] == 3
    h.sync()  # writes the last status
    h.objects.reset_counts()
    rv = h.store.resource_version
    assert h.sync()
    assert h.objects.requests == {"create": 0, "update": 0, "delete": 0}
    assert h.store.resource_version == rv  # no pod, status or revision write either


@pytest.mark.parametrize("policy", POLICIES)
def test_scale_down_deletes_highest_first(policy: str) -> None:
    h = harness(policy, 3)
    converge(h, policy)
    h.scale(1)
    for _ in range(5):
        h.sync()
        assert_monotonic_invariants(h, policy)
    assert [p.name for p in h.pods()] == ["web-0"]
    assert h.objects.requests["delete"] == 2


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("verb, after", [("create", 0), ("create", 1), ("delete", 0)])
def test_injected_errors_are_values_and_the_next_sync_converges(policy: str, verb: str, after: int) -> None:
    h = harness(policy, 3)
    if verb == "delete":
        converge(h, policy)
        h.scale(0)
    h.objects.fail_after(verb, after)
    results = []
    while not results or results[-1]:  # OrderedReady creates one pod per sync: step until it fails
        assert len(results) < 10
        results.append(h.sync())  # the error is returned (requeue), not raised
        assert_monotonic_invariants(h, policy)
        if results[-1]:
            h.kubelet()
    assert results[-1] is False and h.objects.requests[verb] >= after + 1
    records = [r for r in h.env.trace if r.event == "KubeEvent" and r.fields["reason"].startswith("Failed")]
    assert len(records) == 1 and "injected error" in records[0].fields["message"]
    h.kubelet()
    if verb == "delete":
        for _ in range(5):
            assert h.sync()
        assert h.pods() == []
    else:
        converge(h, policy)
        assert len(h.pods()) == 3
    assert all(isinstance(r, ControllerRevision) for r in h.store.list("ControllerRevision", "default"))


def test_fail_after_rejects_unknown_verb_and_negative_count() -> None:
    objects = FakeObjectManager(ObjectStore(SimEnv(0)))
    with pytest.raises(ValueError, match="verb 'patch'"):
        objects.fail_after("patch", 0)
    with pytest.raises(ValueError, match="after -1"):
        objects.fail_after("create", -1)
