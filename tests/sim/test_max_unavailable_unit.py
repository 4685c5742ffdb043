"""One sync of the rolling-update step with maxUnavailable and stale unavailable pods: the unit
cases of upstream's TestStatefulSetControlRollingUpdateWithMaxUnavailableAndUnavailableStalePod
(reference statefulset-controller.md §4.2)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from helpers import statefulset
from statefulsim.problems import Problems
from statefulsim.sim.api.convert import object_from_manifest
from statefulsim.sim.api.informer import SharedInformerFactory
from statefulsim.sim.api.objects import PodStatus, StatefulSet, StatefulSetStatus
from statefulsim.sim.api.store import ApiClient, ObjectStore
from statefulsim.sim.controllers.statefulset.control import StatefulSetControl, plain_view
from statefulsim.sim.controllers.statefulset.pod_control import PodControl
from statefulsim.sim.controllers.statefulset.policies import get_policy
from statefulsim.sim.controllers.statefulset.revisions import TemplateCache, new_revision
from statefulsim.sim.controllers.statefulset.status_updater import StatusUpdater
from statefulsim.sim.controllers.statefulset.view import OwnedPodIndex
from statefulsim.sim.delays import ZERO
from statefulsim.sim.env import SimEnv
from statefulsim.sim.versions import feature_gates


def one_sync(policy: str, replicas: int, max_unavailable: int, unavailable: set[int],
             terminating: set[int] = frozenset(), version: str = "1.37") -> list[int]:
    """Pods 0..replicas-1 at the old revision, Running; ``unavailable`` ones not Ready.
    Returns the ordinals the sync deletes."""
    env = SimEnv(0)
    store = ObjectStore(env)
    manifest = statefulset(replicas=replicas, policy=policy, extra_spec={"updateStrategy": {
        "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": max_unavailable}}})
    problems = Problems()
    sts = object_from_manifest(manifest, (), problems)
    assert isinstance(sts, StatefulSet), problems.items
    sts = store.create(sts)
    old = store.create(new_revision(sts, 1, 0))
    changed = manifest["spec"]["template"]
    changed["spec"]["containers"][0]["image"] = "nginx:new"
    sts2 = object_from_manifest({**manifest, "spec": {**manifest["spec"], "template": changed}}, (), problems)
    assert isinstance(sts2, StatefulSet)
    sts = replace(sts, spec=sts2.spec)
    new = store.create(new_revision(sts, 2, 0))
    gates = feature_gates(version)
    client = ApiClient(env, store, "ctl", ZERO)
    informers = SharedInformerFactory(store, ZERO, "watch/ctl")
    reconciler = StatefulSetControl(env, PodControl(env, client), gates, TemplateCache(), client=client, store=store,
                                    revisions=informers.informer("ControllerRevision"),
                                    status_updater=StatusUpdater(client, informers.informer("StatefulSet")),
                                    index=OwnedPodIndex())
    pods = []
    env.sim.run(until=100)  # let Ready times age past minReadySeconds (0 here anyway)
    for o in range(replicas):
        pod = reconciler.new_versioned_pod(sts, old, old, o)
        pod = store.create(pod)
        st = PodStatus(phase="Running").with_condition("Ready", o not in unavailable, 10.0)
        pod = store.update_status(replace(pod, status=st))
        store.update(replace(pod, spec=replace(pod.spec, node_name="n1")))
        if o in terminating:
            store.delete("Pod", "default", pod.name)
        pods.append(store.get("Pod", "default", pod.name))
    base = StatefulSetStatus(observed_generation=1, current_revision=old.metadata.name,
                             update_revision=new.metadata.name)
    view = plain_view(sts, pods, base, env.now, lambda o: reconciler.new_versioned_pod(sts, old, new, o))
    before = {p.name for p in pods if p.metadata.deletion_timestamp is not None}
    env.process(reconciler.update_stateful_set(sts, old, new, view, get_policy(policy)))
    env.sim.run(until=101)
    after = {p.name for p in store.list("Pod", "default") if p.metadata.deletion_timestamp is not None}
    return sorted(int(n.rsplit("-", 1)[1]) for n in after - before)


@pytest.mark.parametrize("replicas, mu, unavailable, expected", [
    (1, 1, {0}, [0]),            # a lone unavailable old pod is replaced
    (3, 1, {2}, [2]),            # only the unavailable one
    (4, 2, {0, 1}, [0, 1]),      # phase 1 takes both unavailable pods; no budget left
    (5, 3, {0, 1}, [0, 1, 4]),   # phase 1: 0 and 1; phase 2: budget 3 - 2 = 1 -> the highest, 4
])
def test_parallel_v137_replaces_unavailable_old_pods(replicas: int, mu: int, unavailable: set[int],
                                                      expected: list[int]) -> None:
    assert one_sync("Parallel", replicas, mu, unavailable) == expected


def test_parallel_terminating_old_pod_consumes_budget() -> None:
    assert one_sync("Parallel", 3, 1, set(), terminating={2}) == []


@pytest.mark.parametrize("replicas, mu, unavailable", [(1, 1, {0}), (3, 1, {2}), (4, 2, {0, 1}), (5, 3, {0, 1})])
def test_ordered_ready_deletes_nothing_while_pods_are_unavailable(replicas: int, mu: int, unavailable: set[int]) -> None:
    assert one_sync("OrderedReady", replicas, mu, unavailable) == []


def test_parallel_before_the_fix_is_stuck_on_unavailable_old_pods() -> None:
    # 1.35.0: maxUnavailable on, no two-phase fix: unavailable >= maxUnavailable short-circuits.
    assert one_sync("Parallel", 3, 1, {2}, version="1.35.0") == []


def test_all_available_deletes_up_to_max_unavailable_from_the_top() -> None:
    assert one_sync("Parallel", 6, 2, set()) == [4, 5]
    assert one_sync("OrderedReady", 6, 2, set()) == [4, 5]
