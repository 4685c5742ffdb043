"""Kubernetes Events counted, aggregated and rate-limited as client-go's correlator does (sim/events.py)."""

from __future__ import annotations

from typing import Any

from statefulsim.sim.events import AGGREGATE_MAX_EVENTS, COMBINED_PREFIX, SPAM_BURST, EventRecorder


class FakeEnv:
    def __init__(self) -> None:
        self.now = 0.0
        self.kube_events = True
        self.records: list[dict[str, Any]] = []

    def emit(self, event: str, **fields: Any) -> None:
        self.records.append({"t": self.now, "event": event, **fields})


def recorder() -> tuple[FakeEnv, EventRecorder]:
    env = FakeEnv()
    return env, EventRecorder(env, "kubelet")  # type: ignore[arg-type]


def test_identical_events_are_one_event_with_a_count() -> None:
    env, rec = recorder()
    assert [rec.normal("Pulled", "pod/web-0", "same", "u1") for _ in range(3)] == [1, 2, 3]
    assert rec.normal("Pulled", "pod/web-0", "same", "u2") == 1  # another incarnation
    assert [r["count"] for r in env.records] == [1, 2, 3, 1]


def test_a_run_without_events_records_none() -> None:
    env, rec = recorder()
    env.kube_events = False  # what a sweep's lean observer sets
    assert rec.normal("Pulled", "pod/web-0", "same", "u1") == 0
    assert rec.warning("BackOff", "pod/web-0", "again", "u1") == 0
    assert env.records == []


def test_spam_filter_drops_after_25_per_object_and_refills_one_per_5_minutes() -> None:
    env, rec = recorder()
    counts = [rec.warning("BackOff", "pod/web-0", "Back-off restarting", "u") for _ in range(SPAM_BURST + 5)]
    assert counts[:SPAM_BURST] == list(range(1, SPAM_BURST + 1)) and counts[SPAM_BURST:] == [0] * 5
    assert len(env.records) == SPAM_BURST and rec.dropped == 5
    assert rec.normal("Pulled", "pod/web-1", "other pod", "v") == 1  # a bucket per object
    env.now = 299.0
    assert rec.warning("BackOff", "pod/web-0", "Back-off restarting", "u") == 0
    env.now = 301.0
    # one token back after 300 s: the event passes with the count the dropped ones raised
    assert rec.warning("BackOff", "pod/web-0", "Back-off restarting", "u") == SPAM_BURST + 7
    assert env.records[-1]["count"] == SPAM_BURST + 7
    rec.forget("pod/web-0", "u")
    assert rec.warning("BackOff", "pod/web-0", "Back-off restarting", "u") == 1


def test_the_tenth_distinct_message_within_10_minutes_is_combined() -> None:
    env, rec = recorder()
    for i in range(AGGREGATE_MAX_EVENTS - 1):
        env.now = float(i)
        rec.warning("Unhealthy", "pod/web-0", f"Readiness probe failed: {i}", "u")
    assert not any(r["message"].startswith(COMBINED_PREFIX) for r in env.records)
    rec.warning("Unhealthy", "pod/web-0", "Readiness probe failed: 9", "u")
    rec.warning("Unhealthy", "pod/web-0", "Readiness probe failed: 10", "u")
    assert [r["message"] for r in env.records[-2:]] == [COMBINED_PREFIX + "Readiness probe failed: 9",
                                                        COMBINED_PREFIX + "Readiness probe failed: 10"]
    assert [r["count"] for r in env.records[-2:]] == [1, 2]  # one combined Event, counted
    rec.warning("Unhealthy", "pod/web-0", "Readiness probe failed: 3", "u")  # one of the first nine
    assert env.records[-1]["message"] == "Readiness probe failed: 3" and env.records[-1]["count"] == 2
    env.now = 20.0 + 601.0  # 10 minutes without a similar event: a fresh start
    rec.warning("Unhealthy", "pod/web-0", "Readiness probe failed: 11", "u")
    assert env.records[-1]["message"] == "Readiness probe failed: 11"


def test_a_long_crash_loop_is_rate_limited_like_a_real_kubelet() -> None:
    from statefulsim.runner import run

    result = run("crashloop-backoff")
    events = [r for r in result.trace.of("KubeEvent") if r.fields["component"] == "kubelet"]
    backoff = [r for r in events if r.fields["reason"] == "BackOff"]
    assert backoff, "the scenario's pod crash-loops"
    # counts keep rising past what was recorded: the dropped ones were counted
    assert max(int(r.fields["count"]) for r in backoff) > len(backoff)
