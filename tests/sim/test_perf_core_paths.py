"""The fast paths of issue #20 (the simulation core): each one is checked to have run, and where a
slow path is kept, to give the same answers (the bundled traces themselves are compared by
tests/project/test_golden_traces.py, tests/sim/test_indexed_sync.py and tests/sim/test_probe_skip_ahead.py)."""

from __future__ import annotations

import gc
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import assert_same_records, scenario, statefulset
from statefulsim.model.scenario import Scenario
from statefulsim.runner import build_cluster, run
from statefulsim.sim.cluster import RUN_GC_THRESHOLD
from statefulsim.sim.controllers.nodelifecycle import NodeLifecycleController
from statefulsim.sim.controllers.statefulset import view as view_module
from statefulsim.sim.events import EventRecorder
from statefulsim.sim.kubelet.probes import _tick_after

ROOT = Path(__file__).resolve().parents[2]

# ----------------------------------------------------------------------------- EventRecorder.forget


class _Env:
    def __init__(self) -> None:
        self.now = 0.0
        self.kube_events = True
        self.records: list[dict[str, Any]] = []

    def emit(self, event: str, **fields: Any) -> None:
        self.records.append({"event": event, **fields})


def test_forget_drops_only_that_incarnations_aggregation_without_a_scan() -> None:
    """``forget`` pops the object's entry (it scanned every object's: quadratic scale-down)."""
    rec = EventRecorder(_Env(), "kubelet")  # type: ignore[arg-type]
    for i in range(9):
        rec.warning("Unhealthy", "pod/web-0", f"failed {i}", "u")
        rec.warning("Unhealthy", "pod/web-1", f"failed {i}", "v")
    rec.forget("pod/web-0", "u")
    assert ("pod/web-0", "u") not in rec._similar and ("pod/web-1", "v") in rec._similar
    # web-0 starts again (no combined message); web-1's tenth distinct message is combined
    rec.warning("Unhealthy", "pod/web-0", "failed 9", "u")
    rec.warning("Unhealthy", "pod/web-1", "failed 9", "v")
    messages = [r["message"] for r in rec.env.records[-2:]]  # type: ignore[attr-defined]
    assert messages == ["failed 9", "(combined from similar events): failed 9"]


# ----------------------------------------------------------------------------- probe catch-up


def _steady_reference(t: float, now: float, dur: float, period: float, probing: bool) -> tuple[float, int, bool]:
    """The tick-by-tick loop `_catch_up_steady` had before it was inlined."""
    busy = dur if probing and dur > 0 else 0.0
    n, running = 0, False
    while t < now:
        if probing:
            if dur > 0 and t + dur >= now:
                running = True
                break
            n += 1
        t = _tick_after(t, t + busy, period)
    return t, n, running


@pytest.mark.parametrize("seed", range(20))
def test_inlined_steady_catch_up_lands_on_the_same_ticks(seed: int) -> None:
    """Same tick time (to the last bit), probe count and running probe as the `_tick_after` loop."""
    rng = random.Random(seed)

    class Worker:
        probes_run = 0
        _last = "success"
        _count = 0
        _next_tick = 0.0

    from statefulsim.sim.kubelet.probes import IDLE, PROBE, ProbeWorker, _Plan

    for _ in range(50):
        period = rng.choice([1.0, 10.0, 0.1, 0.3, rng.uniform(0.05, 20)])
        dur = rng.choice([0.0, 0.0, 0.001, rng.uniform(0, period * 1.5)])
        probing = rng.random() < 0.8
        t0 = rng.uniform(0, 1000)
        # long spans (the bulk additions of _add_periods) with periods of a second or more
        now = t0 + (rng.uniform(0, 200_000) if period >= 1 and rng.random() < 0.3 else rng.uniform(0, 3000))
        w = Worker()
        plan = _Plan([], t0, True, (PROBE if probing else IDLE, True, "success"), period, dur)
        got = ProbeWorker._catch_up_steady(w, plan, now)  # type: ignore[arg-type]
        t, n, running = _steady_reference(t0, now, dur, period, probing)
        assert w._next_tick == t
        assert (got is not None) == running
        assert w.probes_run == n + (1 if running else 0)


def test_add_periods_is_the_one_by_one_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bit for bit the loop it replaces, in bulk and near the limit, and the bulk path runs."""
    import itertools

    from statefulsim.sim.kubelet import probes
    from statefulsim.sim.kubelet.probes import _add_periods

    bulk: list[int] = []

    def counting(*a: Any, **k: Any) -> Any:
        bulk.append(1)
        return itertools.accumulate(*a, **k)

    monkeypatch.setattr(probes, "accumulate", counting)
    rng = random.Random(7)
    for _ in range(300):
        period = rng.choice([1.0, 10.0, 0.1, 0.3, rng.uniform(0.05, 20)])
        t = rng.uniform(-50, 5000)
        limit = t + rng.choice([-1.0, 0.0, period, rng.uniform(0, 50_000)])
        ref, n = t, 0
        while ref < limit:
            ref += period
            n += 1
        assert _add_periods(t, period, limit) == (ref, n)
    assert len(bulk) > 50  # the long spans (about a quarter of the cases)


# ----------------------------------------------------------------------------- lazy old pods


def _rolling(replicas: int = 6, policy: str = "OrderedReady", **spec: Any) -> Scenario:
    return scenario(statefulset(replicas=replicas, policy=policy, extra_spec=spec or None),
                    actions=[{"at": "60s", "setImage": {"statefulset": "web", "container": "app", "image": "nginx:1.28"}},
                             {"at": "75s", "setImage": {"statefulset": "web", "container": "app", "image": "nginx:1.29"}},
                             {"at": "90s", "scale": {"statefulset": "web", "replicas": replicas - 2}}],
                    until="6m")


def _plain(sc: Scenario) -> Scenario:
    ctl = replace(sc.cluster.controller, indexed_sync=False)
    return replace(sc, cluster=replace(sc.cluster, controller=ctl))


@pytest.mark.parametrize("policy", ["OrderedReady", "Parallel"])
def test_old_pods_are_a_lazy_copy_on_write_snapshot(policy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rolling updates (two at once, then a scale-down) read the steady old pods through
    :class:`OldPods` (no eager dict), pods that change during a sync are served from the saved
    copy, and the trace is the full walk's."""
    made: list[view_module.OldPods] = []
    init = view_module.OldPods.__init__

    def counting(self: view_module.OldPods, *a: Any) -> None:
        init(self, *a)
        made.append(self)

    monkeypatch.setattr(view_module.OldPods, "__init__", counting)
    sc = _rolling(policy=policy)
    fast = run(sc)
    assert made and any(o.lookups for o in made)
    assert any(o.saved for o in made)  # some pod changed while a sync held its view
    slow = run(_plain(sc))
    assert_same_records([r.as_dict() for r in fast.trace], [r.as_dict() for r in slow.trace], ("indexed", "plain"))


def test_old_pods_snapshot_keeps_the_pod_as_it_was() -> None:
    index = view_module.OwnedPodIndex()
    from statefulsim.sim.api.objects import StatefulSetStatus

    base = run(scenario(statefulset(replicas=3), until="40s"))
    sts = base.cluster.store.get("StatefulSet", "default", "web")
    pods = sorted(base.cluster.store.list("Pod"), key=lambda p: p.metadata.name)
    assert len(pods) == 3
    for p in pods:
        index.put(p)
    status = StatefulSetStatus(update_revision="another", current_revision="another")
    v = index.view(sts, status, base.cluster.env.now, lambda o: pods[o])
    assert v.old is not None and v.old.as_dict() == dict(enumerate(pods))
    index.remove(pods[2])  # the pod goes away while the sync runs
    assert v.for_update[2] is pods[2] and list(v.for_update.descending()) == [2, 1, 0]
    assert v.old.saved == {2: pods[2]}


# ----------------------------------------------------------------------------- fewer GC passes


def test_cluster_run_raises_the_gc_thresholds_and_restores_them() -> None:
    """While the cluster runs the thresholds are RUN_GC_THRESHOLD (checked from inside the
    simulation); the caller's are back afterwards, also when the run raises."""
    sc = scenario(statefulset(replicas=2))
    before = gc.get_threshold()
    gc.set_threshold(900, 11, 12)
    try:
        cluster = build_cluster(sc, 1)
        seen: list[tuple[int, ...]] = []

        def watch() -> Any:
            yield cluster.env.sim.timeout(1.0)
            seen.append(gc.get_threshold())

        cluster.env.sim.process(watch())
        cluster.run(5.0)
        assert seen == [RUN_GC_THRESHOLD]
        assert gc.get_threshold() == (900, 11, 12)

        def boom() -> Any:
            yield cluster.env.sim.timeout(1.0)
            raise RuntimeError("boom")

        cluster.env.sim.process(boom())
        with pytest.raises(RuntimeError):
            cluster.run(10.0)
        assert gc.get_threshold() == (900, 11, 12)
        gc.set_threshold(0, 11, 12)  # collection disabled through the thresholds stays disabled
        cluster.env.sim.process(watch())
        cluster.run(20.0)
        assert seen[-1][0] == 0
    finally:
        gc.set_threshold(*before)


# ----------------------------------------------------------------------------- steady node monitor


@pytest.mark.parametrize(("name", "healthy"), [("quickstart", True), ("drain-with-pdb", True),
                                               ("node-failure", False), ("node-failure-database-oos", False)])
def test_steady_node_monitor_passes_give_the_full_passes_trace(name: str, healthy: bool,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Passes over unchanged Ready nodes take the fast path (most of a healthy run's passes; in a
    node failure, those before it and after the recovery), a failing node's grace period still
    ends on the same pass, and the trace is the full passes'."""
    path = ROOT / "scenarios" / f"{name}.yaml"
    fast = run(path)
    monitor = fast.cluster.node_lifecycle
    if healthy:
        assert monitor.steady_passes > monitor.passes * 0.9
    else:
        assert 0 < monitor.steady_passes < monitor.passes
    monkeypatch.setattr(NodeLifecycleController, "_is_steady", lambda *_a: False)
    slow = run(path)
    assert slow.cluster.node_lifecycle.steady_passes == 0
    assert_same_records([r.as_dict() for r in fast.trace], [r.as_dict() for r in slow.trace], ("steady", "full"))


@settings(max_examples=60, deadline=None)
@given(selectors=st.lists(st.one_of(st.none(), st.dictionaries(st.sampled_from("abc"), st.sampled_from("xy"), max_size=3)),
                          max_size=8),
       labels=st.lists(st.dictionaries(st.sampled_from("abcd"), st.sampled_from("xyz"), max_size=4), min_size=1, max_size=6),
       namespaces=st.lists(st.sampled_from(["default", "other"]), min_size=14, max_size=14))
def test_endpointslice_finds_a_pods_services_through_the_selector_index(
        selectors: list[dict[str, str] | None], labels: list[dict[str, str]], namespaces: list[str]) -> None:
    """The EndpointSlice controller looks a pod's Services up by the selector index; it finds
    exactly the Services a scan of the namespace finds (empty and missing selectors select none)."""
    from statefulsim.sim.api.objects import ObjectMeta, Pod, PodSpec, Service, ServiceSpec
    from statefulsim.sim.cluster import Cluster

    cluster = Cluster()
    for i, sel in enumerate(selectors):
        cluster.store.create(Service(ObjectMeta(name=f"s{i}", namespace=namespaces[i]), ServiceSpec(selector=sel)))
    cluster.env.sim.run(until=60)  # the informers have every Service
    controller = cluster.endpointslice_controller
    for j, lab in enumerate(labels):
        pod = Pod(ObjectMeta(name=f"p{j}", namespace=namespaces[8 + j], labels=lab), PodSpec(containers=()))
        found = sorted(s.metadata.name for s in controller._services_for(pod))
        scanned = sorted(s.metadata.name for s in controller.services.list(pod.metadata.namespace)
                         if s.spec.selector and all(lab.get(k) == v for k, v in s.spec.selector.items()))
        assert found == scanned
