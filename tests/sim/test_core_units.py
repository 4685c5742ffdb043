"""Unit tests of the core pieces: store, work queue, delays, durations, revisions, versions."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statefulsim.durations import DurationError, format_clock, parse_duration
from statefulsim.sim.api.objects import Container, ObjectMeta, Pod, PodSpec
from statefulsim.sim.api.store import DELETED, ApiClient, ApiError, ObjectStore, TokenBucket, WatchEvent
from statefulsim.sim.controllers.statefulset.revisions import fnv32a, safe_encode
from statefulsim.sim.controllers.statefulset.utils import parent_name_and_ordinal, resolve_max_unavailable
from statefulsim.sim.controllers.workqueue import WorkQueue
from statefulsim.sim.delays import Constant, Exponential, LogNormal, Uniform, delay_model, register_delay_model
from statefulsim.sim.env import SimEnv
from statefulsim.sim.kubelet.backoff import Backoff
from statefulsim.sim.versions import feature_gates


def _pod(name: str = "web-0", node: str = "") -> Pod:
    return Pod(ObjectMeta(name), PodSpec(containers=(Container("c", "img"),), node_name=node))


# ------------------------------------------------------------------ store


def test_store_create_assigns_identity_and_phase() -> None:
    env = SimEnv(1)
    store = ObjectStore(env)
    p = store.create(_pod())
    assert p.metadata.uid and p.metadata.resource_version == 1
    assert p.status.phase == "Pending"
    with pytest.raises(ApiError) as e:
        store.create(_pod())
    assert e.value.reason == "AlreadyExists"


def test_store_optimistic_concurrency() -> None:
    store = ObjectStore(SimEnv())
    p = store.create(_pod())
    store.update(replace(p, metadata=replace(p.metadata, labels={"a": "b"})))
    with pytest.raises(ApiError) as e:
        store.update(replace(p, metadata=replace(p.metadata, labels={"a": "c"})))
    assert e.value.reason == "Conflict"


def test_graceful_deletion_keeps_object_until_confirmed() -> None:
    env = SimEnv()
    store = ObjectStore(env)
    store.create(_pod(node="n1"))
    p = store.delete("Pod", "default", "web-0")
    assert p.metadata.deletion_timestamp == 30.0
    assert store.get("Pod", "default", "web-0") is not None
    store.delete("Pod", "default", "web-0", grace_period_seconds=0)
    assert store.get("Pod", "default", "web-0") is None


def test_unscheduled_pod_is_deleted_at_once() -> None:
    store = ObjectStore(SimEnv())
    store.create(_pod())
    store.delete("Pod", "default", "web-0")
    assert store.get("Pod", "default", "web-0") is None


def test_finalizers_hold_deletion() -> None:
    store = ObjectStore(SimEnv())
    p = store.create(replace(_pod(), metadata=replace(_pod().metadata, finalizers=("x",))))
    store.delete("Pod", "default", "web-0", grace_period_seconds=0)
    assert store.get("Pod", "default", "web-0") is not None
    store.remove_finalizer(p, "x")
    assert store.get("Pod", "default", "web-0") is None


def test_watch_latency_keeps_order() -> None:
    env = SimEnv(3)
    store = ObjectStore(env)
    seen: list[tuple[float, str, int]] = []
    store.watch("Pod", lambda ev: seen.append((env.now, ev.type, ev.obj.metadata.resource_version)),
                Exponential(1.0), "w")
    p = store.create(_pod(node="n"))
    for i in range(20):
        p = store.update(replace(p, metadata=replace(p.metadata, labels={"i": str(i)})))
    store.delete("Pod", "default", "web-0", grace_period_seconds=0)
    env.sim.run()
    rvs = [rv for _, _, rv in seen]
    assert rvs == sorted(rvs) and len(seen) == 22
    assert seen[-1][1] == DELETED
    assert seen[0][0] > 0


def test_token_bucket() -> None:
    b = TokenBucket(qps=10, burst=2)
    waits = [b.reserve(0.0) for _ in range(4)]
    assert waits == [0.0, 0.0, pytest.approx(0.1), pytest.approx(0.2)]


def test_api_client_rate_limit_spaces_requests() -> None:
    env = SimEnv()
    store = ObjectStore(env)
    client = ApiClient(env, store, "c", Constant(0.0), qps=2, burst=1)
    done: list[float] = []

    def create(i: int):
        yield from client.create(_pod(f"web-{i}"))
        done.append(env.now)

    for i in range(4):
        env.process(create(i))
    env.sim.run()
    assert done == [0.0, 0.5, 1.0, 1.5]


# ------------------------------------------------------------------ work queue


def test_work_queue_serializes_a_key_and_coalesces() -> None:
    env = SimEnv()
    active: set[str] = set()
    calls: list[tuple[float, str]] = []

    def sync(key: str):
        assert key not in active
        active.add(key)
        calls.append((env.now, key))
        yield env.timeout(1.0)
        active.discard(key)
        return True

    q = WorkQueue(env, "t", sync, workers=2)
    q.add("a")
    env.sim.run(until=0.5)
    for _ in range(5):
        q.add("a")  # during the sync: collapse into one follow-up
    q.add("b")
    env.sim.run(until=10)
    assert calls == [(0.0, "a"), (0.5, "b"), (1.0, "a")]


def test_work_queue_add_after_earliest_wins_and_rate_limit() -> None:
    env = SimEnv()
    calls: list[float] = []
    results = iter([False, False, False, True])

    def sync(key: str):
        calls.append(env.now)
        return next(results)
        yield

    q = WorkQueue(env, "t", sync, workers=1)
    q.add_after("k", 5)
    q.add_after("k", 2)
    q.add_after("k", 8)
    env.sim.run(until=20)
    # 2 s (earliest wins), then backoff 5 ms, 10 ms, 20 ms.
    assert calls == pytest.approx([2.0, 2.005, 2.015, 2.035])
    assert q.failures("k") == 0


# ------------------------------------------------------------------ delays and durations


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("15m", 900), ("1h30m", 5400), ("250ms", 0.25),
                                           (12, 12), ("1.5", 1.5), ("never", math.inf)])
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["5 minutes", "-3s", -1, True, "", "1x"])
def test_parse_duration_rejects(bad: object) -> None:
    with pytest.raises(DurationError):
        parse_duration(bad)


def test_format_clock() -> None:
    assert format_clock(3725.5) == "01:02:05.500"


def test_lognormal_median_and_p99() -> None:
    rng = random.Random(0)
    m = LogNormal(2.0, 10.0)
    xs = sorted(m.sample(rng) for _ in range(20000))
    assert xs[10000] == pytest.approx(2.0, rel=0.05)
    assert xs[19800] == pytest.approx(10.0, rel=0.1)


@given(st.floats(0.001, 100), st.floats(0.001, 100), st.integers(0, 2**32))
def test_uniform_within_bounds(a: float, b: float, seed: int) -> None:
    lo, hi = min(a, b), max(a, b)
    assert lo <= Uniform(lo, hi).sample(random.Random(seed)) <= hi


def test_register_delay_model() -> None:
    register_delay_model("twice", lambda p: Constant(2 * p["seconds"]), ("seconds",))
    assert delay_model("twice", {"seconds": 3}).sample(random.Random()) == 6


def test_rng_streams_are_independent_and_deterministic() -> None:
    a, b = SimEnv(5), SimEnv(5)
    a.rng("x").random()
    assert a.rng("y").random() == b.rng("y").random()
    assert SimEnv(5).new_uid() == SimEnv(5).new_uid() != SimEnv(6).new_uid()


# ------------------------------------------------------------------ controller helpers


def test_parent_name_and_ordinal() -> None:
    assert parent_name_and_ordinal("web-12") == ("web", 12)
    assert parent_name_and_ordinal("my-db-0") == ("my-db", 0)
    assert parent_name_and_ordinal("web") == ("", -1)


@pytest.mark.parametrize("value, replicas, expected", [
    (None, 5, 1), (2, 5, 2), ("20%", 10, 2), ("25%", 8, 2), ("80%", 5, 4), ("10%", 5, 1), (0, 5, 1)])
def test_max_unavailable_rounds_down_with_floor_one(value: object, replicas: int, expected: int) -> None:
    assert resolve_max_unavailable(value, replicas) == expected  # type: ignore[arg-type]


def test_revision_hash_is_fnv_safe_encoded() -> None:
    assert fnv32a(b"") == 0x811C9DC5
    assert set(safe_encode("1234567890")) <= set("bcdfghjklmnpqrstvwxz2456789")


def test_remembered_revision_names_are_the_computed_ones() -> None:
    from statefulsim.sim.controllers.statefulset import revisions

    def computed(name: str, data: dict[str, object], collision: int) -> str:
        raw = revisions.canonical(data).encode() + (str(collision).encode() if collision else b"")
        return f"{name}-{safe_encode(str(fnv32a(raw)))}"

    datas = [{"spec": {"template": {"a": i, "$patch": "replace"}}} for i in range(3)]
    revisions._NAMES.clear()
    for _ in range(2):  # computed, then remembered
        for name in ("web", "db"):
            for data in datas:
                for collision in (0, 1, 7):
                    assert revisions.revision_name(name, data, collision) == computed(name, data, collision)
    assert len(revisions._NAMES) == 2 * 3 * 3
    assert len({revisions.revision_name("web", d, 0) for d in datas}) == 3


def test_backoff_doubles_caps_and_expires() -> None:
    b = Backoff()
    b.next("k", 0, 0)
    assert b.delay("k") == 10
    for t in range(1, 10):
        b.next("k", t, t)
    assert b.delay("k") == 300
    # Expiry is judged from the exit time: an exit 601 s after the last restart starts over ...
    b.next("k", 10 + 601, 10 + 601)
    assert b.delay("k") == 10
    # ... but an exit before that keeps doubling even if the restart itself comes later.
    b2 = Backoff()
    for t in range(0, 9):
        b2.next("k", t, t)
    b2.next("k", 300, 900)
    assert b2.delay("k") == 300


def test_feature_gates_by_version() -> None:
    assert feature_gates("1.37").max_unavailable_stateful_set
    assert not feature_gates("1.36").max_unavailable_stateful_set
    assert feature_gates("1.35.0").max_unavailable_stateful_set
    assert not feature_gates("1.35.4").max_unavailable_stateful_set
    assert feature_gates("1.31").node_monitor_grace_period_seconds == 40
    assert feature_gates("1.32").node_monitor_grace_period_seconds == 50
    with pytest.raises(ValueError):
        feature_gates("2.0")


def test_same_seed_same_trace_other_seed_differs() -> None:
    from statefulsim.runner import run

    a = [r.as_dict() for r in run("scenarios/quickstart.yaml").trace]
    b = [r.as_dict() for r in run("scenarios/quickstart.yaml").trace]
    c = [r.as_dict() for r in run("scenarios/quickstart.yaml", seed=99).trace]
    assert a == b
    assert a != c


def test_watch_never_delivers_out_of_order_through_float_rounding() -> None:
    # Found by the property tests: with now + (at - now) < at (rounding), an event queued for
    # the same instant as the watch's previous one was delivered before it.
    import itertools

    from statefulsim.sim.api.store import Watch
    from statefulsim.sim.delays import Constant

    now, at = next((n, a) for n, a in itertools.product([0.1 * k for k in range(1, 400)], [0.37, 1.1, 2.3, 7.7])
                   if a > n and n + (a - n) < a)
    env = SimEnv()
    got: list[str] = []
    watch = Watch(env, lambda ev: got.append(ev.obj), Constant(1e-12), "test")

    env.sim.timeout(at).callbacks.append(lambda _e: got.append("earlier"))  # due exactly at ``at``

    def writer() -> Any:
        yield env.sim.timeout(now)
        watch._last_delivery = at  # as if the earlier event had been this watch's
        watch.notify(WatchEvent("MODIFIED", "later"))  # type: ignore[arg-type]

    env.sim.process(writer())
    env.sim.run()
    assert got == ["earlier", "later"]
