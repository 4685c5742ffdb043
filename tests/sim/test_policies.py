"""Pod management policies are strategy objects; users register their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpers import run, statefulset
from statefulsim.sim.controllers.statefulset.policies import (
    MaxInFlight,
    OrderedReady,
    Parallel,
    get_policy,
    policy_names,
    register_policy,
    unregister_policy,
)


@pytest.fixture
def batch2() -> Iterator[str]:
    register_policy("OrderedBatch2", lambda: MaxInFlight(2, name="OrderedBatch2"))
    yield "OrderedBatch2"
    unregister_policy("OrderedBatch2")


def _not_ready_over_time(result) -> int:
    """The most pods that existed without being Ready at the same time."""
    pending: set[str] = set()
    worst = 0
    for rec in result.trace:
        if rec.event == "PodCreated":
            pending.add(rec.fields["uid"])
        elif rec.event in ("PodReady", "PodDeleted"):
            pending.discard(rec.fields["uid"])
        worst = max(worst, len(pending))
    return worst


def test_builtin_policies_registered() -> None:
    assert {"OrderedReady", "Parallel"} <= set(policy_names())
    assert isinstance(get_policy("OrderedReady"), OrderedReady)
    assert isinstance(get_policy("Parallel"), Parallel)
    with pytest.raises(KeyError, match="unknown pod management policy"):
        get_policy("Sideways")
    with pytest.raises(ValueError):
        unregister_policy("Parallel")


def test_user_policy_ordered_but_k_at_a_time(batch2: str) -> None:
    r = run(statefulset(replicas=6, policy=batch2), until="5m", timing={"appReady": 10})
    created = [rec.fields["ordinal"] for rec in r.trace.of("PodCreated")]
    assert created == [0, 1, 2, 3, 4, 5]  # still in ordinal order
    assert _not_ready_over_time(r) == 2  # but two pods start at once
    final = r.trace.of("StatefulSetStatus", statefulset="web")[-1]
    assert final.fields["readyReplicas"] == 6
    # Faster than OrderedReady, slower than Parallel.
    t = {p: r2.trace.of("StatefulSetStatus", readyReplicas=6)[0].t for p, r2 in (
        ("batch", r),
        ("ordered", run(statefulset(replicas=6), until="5m", timing={"appReady": 10})),
        ("parallel", run(statefulset(replicas=6, policy="Parallel"), until="5m", timing={"appReady": 10})),
    )}
    assert t["parallel"] < t["batch"] < t["ordered"]


def test_ordered_ready_never_has_two_pods_starting() -> None:
    r = run(statefulset(replicas=4), until="3m", timing={"appReady": 5})
    assert _not_ready_over_time(r) == 1


def test_unknown_policy_in_manifest_is_reported() -> None:
    from statefulsim.errors import ScenarioError

    with pytest.raises(ScenarioError, match='podManagementPolicy: expected one of .*did you mean "Parallel"'):
        run(statefulset(policy="Paralel"))


def test_max_in_flight_rejects_bad_limit() -> None:
    with pytest.raises(ValueError):
        MaxInFlight(0)
