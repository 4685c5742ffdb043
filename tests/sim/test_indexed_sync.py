"""The indexed sync view must give exactly the traces of upstream's walk over every pod."""

from __future__ import annotations

import pathlib
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import assert_same_records, scenario, statefulset
from statefulsim.io.scenario import load_scenario
from statefulsim.model.scenario import Scenario
from statefulsim.runner import run

SCENARIOS = sorted(pathlib.Path(__file__).resolve().parents[2].joinpath("scenarios").glob("*.yaml"))


def _plain(sc: Scenario) -> Scenario:
    ctl = replace(sc.cluster.controller, indexed_sync=False)
    return replace(sc, cluster=replace(sc.cluster, controller=ctl))


def _same_traces(sc: Scenario, seed: int | None = None) -> int:
    """Assert both ways give the same trace; returns the syncs that used the index."""
    fast_run, slow_run = run(sc, seed=seed), run(_plain(sc), seed=seed)
    fast = [r.as_dict() for r in fast_run.trace]
    slow = [r.as_dict() for r in slow_run.trace]
    assert_same_records(fast, slow, ("indexed", "plain"))
    fast_control = fast_run.cluster.statefulset_controller.control
    slow_control = slow_run.cluster.statefulset_controller.control
    assert slow_control.indexed_syncs == 0
    assert fast_control.indexed_syncs + fast_control.full_syncs == slow_control.full_syncs
    return int(fast_control.indexed_syncs)


#: Bundled scenarios whose syncs all walk every pod, and why.
NO_INDEXED_SYNC = {"storage-retention": "whenScaled: Delete changes claim owner references"}


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_bundled_scenarios_identical(path: pathlib.Path) -> None:
    indexed = _same_traces(load_scenario(path))
    if path.stem in NO_INDEXED_SYNC:
        assert indexed == 0
    else:
        assert indexed > 0  # the index built the views, so the comparison compared something


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    replicas=st.integers(0, 6),
    policy=st.sampled_from(["OrderedReady", "Parallel"]),
    mrs=st.sampled_from([0, 5, 20]),
    target=st.integers(0, 7),
    start=st.sampled_from([None, 2]),
    image_change=st.booleans(),
    partition=st.integers(0, 3),
    seed=st.integers(0, 1000),
)
def test_random_histories_identical(replicas: int, policy: str, mrs: int, target: int, start: int | None,
                                    image_change: bool, partition: int, seed: int) -> None:
    extra = {"minReadySeconds": mrs, "updateStrategy": {"type": "RollingUpdate",
                                                         "rollingUpdate": {"partition": partition}}}
    actions: list[dict] = [{"at": "60s", "scale": {"statefulset": "web", "replicas": target}}]
    if start is not None:
        actions.append({"at": "90s", "patch": {"statefulset": "web", "patch": {"spec": {"ordinals": {"start": start}}}}})
    if image_change:
        actions.append({"at": "120s", "patch": {"statefulset": "web", "patch": {"spec": {"template": {"spec": {
            "containers": [{"name": "app", "image": "nginx:1.28",
                            "readinessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 1}}]}}}}}})
    actions.append({"at": "150s", "failPod": {"pod": "web-1"}})
    actions.append({"at": "160s", "deletePod": {"pod": "web-0"}})
    sc = scenario(statefulset(replicas=replicas, policy=policy, extra_spec=extra), actions=actions, until="6m",
                  seed=seed, timing={"apiLatency": {"exponential": {"mean": "15ms"}},
                                     "watchLatency": {"uniform": {"low": "1ms", "high": "60ms"}},
                                     "appReady": {"uniform": {"low": "1s", "high": "20s"}}})
    _same_traces(sc)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 5), st.integers(0, 14), st.data())
def test_holes_are_the_missing_indexes(start: int, n: int, data: st.DataObject) -> None:
    from statefulsim.sim.controllers.statefulset.view import Holes

    present = sorted(data.draw(st.sets(st.integers(start, start + n - 1))) if n else set())
    holes = Holes(present, start, n)
    expected = [i for i in range(n) if start + i not in present]
    assert list(holes) == expected
    assert list(holes.descending()) == expected[::-1]
    assert len(holes) == len(expected)
    assert [i for i in range(-2, n + 2) if i in holes] == expected
    if len(present) == n:  # every ordinal taken: the view passes a range instead of a copy
        full = Holes(range(start, start + n), start, n)
        assert list(full) == list(full.descending()) == [] and len(full) == 0
        assert not any(i in full for i in range(-2, n + 2))


def test_revision_cache_gives_the_same_plans() -> None:
    from statefulsim.runner import build_cluster
    from statefulsim.sim.api.objects import evolve
    from statefulsim.sim.controllers.statefulset.revisions import RevisionCache, plan_revisions

    cluster = build_cluster(load_scenario(SCENARIOS[0].parent / "quickstart.yaml"))
    base = cluster.store.list("StatefulSet")[0]
    changed = evolve(base, spec=evolve(base.spec, template_raw={**base.spec.template_raw, "x": 1}))
    cache = RevisionCache(limit=2)  # tiny, so entries are also evicted on the way
    revs: list = []
    for s in (base, base, changed, base, changed, changed):
        plain, cached = plan_revisions(s, revs), plan_revisions(s, revs, cache)
        assert plain == cached
        if plain.create:
            revs = revs + [plain.update]
    assert len(revs) == 2


def test_revision_plans_are_remembered_per_input() -> None:
    """A sync that sees the same set spec, status fields and revision objects gets the same plan
    object back; any other input (another status, a reordered or renewed revision) is planned
    afresh, with the uncached answer."""
    from statefulsim.runner import build_cluster
    from statefulsim.sim.api.objects import evolve
    from statefulsim.sim.controllers.statefulset.revisions import RevisionCache, plan_revisions

    cluster = build_cluster(load_scenario(SCENARIOS[0].parent / "quickstart.yaml"))
    base = cluster.store.list("StatefulSet")[0]
    cache = RevisionCache()
    first = plan_revisions(base, [], cache)
    rev1 = first.update
    changed = evolve(base, spec=evolve(base.spec, template_raw={**base.spec.template_raw, "x": 1}))
    rev2 = plan_revisions(changed, [rev1]).update
    assert cache.plan_hits == 0
    assert plan_revisions(evolve(base, status=evolve(base.status)), [], cache) is first  # same fields
    assert cache.plan_hits == 1
    cases = [
        (base, [rev1, rev2]),
        (base, [rev2, rev1]),  # the same revisions, listed in another order
        (base, [rev1, evolve(rev2)]),  # an equal but renewed object
        (evolve(base, status=evolve(base.status, current_revision=rev1.metadata.name)), [rev1, rev2]),
        (evolve(base, status=evolve(base.status, collision_count=1)), [rev1, rev2]),
        (changed, [rev1, rev2]),
    ]
    for sts, revs in cases:
        hits = cache.plan_hits
        assert plan_revisions(sts, revs, cache) == plan_revisions(sts, revs)
        assert cache.plan_hits == hits
        assert plan_revisions(sts, list(revs), cache) == plan_revisions(sts, revs)
        assert cache.plan_hits == hits + 1


@settings(max_examples=200, deadline=None)
@given(st.sets(st.integers(0, 40)), st.sets(st.integers(0, 40)), st.integers(0, 45))
def test_two_way_merges_are_heapq_merge(pods: set[int], holes: set[int], take: int) -> None:
    """The candidates' merge of pod indexes and holes gives heapq.merge's order, both ways, and
    reads holes only as far as the caller takes."""
    import heapq
    import itertools

    from statefulsim.sim.controllers.statefulset.view import _merged, _merged_descending

    a, b = sorted(pods), sorted(holes - pods)
    assert list(_merged(a, iter(b))) == list(heapq.merge(a, b))
    assert list(_merged_descending(a, iter(b[::-1]))) == list(heapq.merge(a[::-1], b[::-1], reverse=True))
    read: list[int] = []

    def holes_read() -> object:
        for h in b:
            read.append(h)
            yield h

    got = list(itertools.islice(_merged(a, holes_read()), take))  # type: ignore[arg-type]
    assert got == list(heapq.merge(a, b))[:take]
    assert len(read) <= sum(1 for x in got if x in b) + 1
