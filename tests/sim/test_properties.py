"""Hypothesis properties of the ordering guarantees over random sets and timings."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import run, statefulset


def _ready_state_checks(result, replicas: int, ordered: bool) -> None:
    ready: dict[str, bool] = {}
    names = {}
    for rec in result.trace:
        if rec.event == "PodCreated":
            ordinal = rec.fields["ordinal"]
            names[rec.fields["uid"]] = rec.fields["pod"]
            if ordered:
                for k in range(ordinal):
                    assert ready.get(f"web-{k}", False), (
                        f"web-{ordinal} created at {rec.t} while web-{k} was not Ready")
            ready[rec.fields["pod"]] = False
        elif rec.event == "PodReady":
            ready[rec.fields["pod"]] = True
        elif rec.event in ("PodNotReady", "PodDeleted"):
            ready[rec.fields["pod"]] = False


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    replicas=st.integers(min_value=0, max_value=6),
    policy=st.sampled_from(["OrderedReady", "Parallel"]),
    ready_times=st.lists(st.integers(min_value=0, max_value=40), min_size=6, max_size=6),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_ordering_and_convergence(replicas: int, policy: str, ready_times: list[int], seed: int) -> None:
    overrides = [{"match": {"ordinal": i}, "appReady": f"{t}s"} for i, t in enumerate(ready_times)]
    timing = {"overrides": overrides, "apiLatency": {"exponential": {"mean": "20ms"}},
              "watchLatency": {"uniform": {"low": "1ms", "high": "80ms"}}}
    r = run(statefulset(replicas=replicas, policy=policy), until="15m", seed=seed, timing=timing)
    _ready_state_checks(r, replicas, ordered=policy == "OrderedReady")
    # Every run converges when every pod can become ready.
    sts = r.cluster.get("StatefulSet", "web")
    assert sts.status.ready_replicas == replicas
    assert sts.status.replicas == replicas
    # Never two live pods with the same name.
    live: dict[str, int] = {}
    for rec in r.trace:
        if rec.event == "PodCreated":
            live[rec.fields["pod"]] = live.get(rec.fields["pod"], 0) + 1
            assert live[rec.fields["pod"]] == 1
        elif rec.event == "PodDeleted":
            live[rec.fields["pod"]] -= 1


@settings(max_examples=15, deadline=None)
@given(
    start=st.integers(min_value=1, max_value=5),
    target=st.integers(min_value=0, max_value=5),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_ordered_scale_down_deletes_highest_first(start: int, target: int, seed: int) -> None:
    r = run(statefulset(replicas=start), seed=seed, until="10m",
            actions=[{"at": "5m", "scale": {"statefulset": "web", "replicas": target}}],
            timing={"apiLatency": {"exponential": {"mean": "20ms"}}, "appShutdown": {"uniform": {"low": "0s", "high": "5s"}}})
    deleted = [int(rec.fields["pod"].rsplit("-", 1)[1]) for rec in r.trace.of("PodDeleted")]
    assert deleted == sorted(deleted, reverse=True)
    assert deleted == list(range(start - 1, target - 1, -1)) if target < start else deleted == []
