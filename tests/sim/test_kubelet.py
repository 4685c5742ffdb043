"""Kubelet timing: probes (reference pods §2), CrashLoopBackOff (§1.6), termination (§1.7).

The helpers' EXACT_TIMING makes every delay a constant: a pod created at 0 s gets its sandbox
at 1 s, pulls its image until 3 s, starts its container at 3.5 s, and the kubelet observes the
start (PLEG) at 4.0 s.  Probe workers are created at admission (0 s) and tick every period;
the kubelet's manual readiness run at 4.0 s restarts the readiness ticker.
"""

from __future__ import annotations

import pytest

from helpers import first, run, statefulset, times

CONTAINER_STARTED = 3.5
OBSERVED = 4.0


def _ready_time(readiness: dict | bool | None, app_ready: float, **container: object) -> float:
    r = run(statefulset(replicas=1, readiness=readiness, container=dict(container)), until="2m",
            timing={"appReady": app_ready})
    assert first(r, "ContainerStarted", pod="web-0") == pytest.approx(CONTAINER_STARTED)
    rec = r.trace.first("PodReady", pod="web-0")
    return rec.t if rec is not None else float("inf")


@pytest.mark.parametrize(
    "probe, app_ready, expected",
    [
        # Manual run at 4.0 finds the app down (up at 6.5); the next tick is a period later.
        ({"periodSeconds": 10}, 3, 14.0),
        # initialDelaySeconds < periodSeconds: the manual run is skipped (0.5 s < 5 s) but resets
        # the ticker, so the first real probe is one full period after it ("delay ignored").
        ({"periodSeconds": 10, "initialDelaySeconds": 5}, 0, 14.0),
        # initialDelaySeconds > periodSeconds: ticks at 14 (10.5 s < 15 s) and 24 (20.5 s).
        ({"periodSeconds": 10, "initialDelaySeconds": 15}, 0, 24.0),
        # successThreshold 3: three consecutive successes at 4, 6 and 8.
        ({"periodSeconds": 2, "successThreshold": 3}, 0, 8.0),
        # initialDelaySeconds 1: skip at 4.0 (0.5 s), tick at 7.0 finds the app up (5.5 s).
        ({"periodSeconds": 3, "initialDelaySeconds": 1}, 2, 7.0),
        # The app answers at once: the manual run at 4.0 succeeds.
        ({"periodSeconds": 10}, 0, 4.0),
    ],
)
def test_readiness_probe_timing(probe: dict, app_ready: float, expected: float) -> None:
    assert _ready_time(probe, app_ready) == pytest.approx(expected)


def test_no_readiness_probe_ready_when_observed_running() -> None:
    assert _ready_time(False, 100) == pytest.approx(OBSERVED)


def test_probe_slower_than_timeout_always_fails() -> None:
    r = run(statefulset(replicas=1), until="1m", timing={"appReady": 0, "probeDuration": 2})
    assert r.trace.first("PodReady") is None
    assert r.trace.first("PodRunning") is not None


def test_startup_probe_gates_readiness() -> None:
    startup = {"startupProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 1, "failureThreshold": 30}}
    # App up at 8.5 s; startup ticks each second from 0 s succeed at 9 s; the result change
    # triggers a pod sync whose manual readiness run succeeds at once.
    assert _ready_time({"periodSeconds": 10}, 5, **startup) == pytest.approx(9.0)


def test_startup_probe_failure_kills_container() -> None:
    startup = {"startupProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 5, "failureThreshold": 3}}
    r = run(statefulset(replicas=1, container=startup), until="40s", timing={"appReady": "never"})
    kills = r.trace.of("ContainerKilled", pod="web-0")
    # Visible at 4.0; ticks at 5, 10, 15 fail: killed at 15 s.
    assert kills[0].t == pytest.approx(15.0)
    assert "startup" in kills[0].fields["reason"]


def test_liveness_failure_kills_and_restarts() -> None:
    live = {"livenessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 10}}
    r = run(statefulset(replicas=1, container=live), until="80s", timing={"appReady": "never"})
    kills = r.trace.of("ContainerKilled", pod="web-0")
    assert kills[0].t == pytest.approx(30.0)  # ticks at 10, 20, 30 (failureThreshold 3)
    assert first(r, "ContainerExited", pod="web-0") == pytest.approx(31.0)  # appShutdown 1 s
    restarted = r.trace.of("ContainerRestarted", pod="web-0")
    assert restarted and restarted[0].fields["restartCount"] == 1


def _restart_gaps(result) -> list[float]:
    exits = times(result, "ContainerExited", pod="web-0")
    starts = times(result, "ContainerStarted", pod="web-0")[1:]
    return [round(s - e - 0.5, 6) for e, s in zip(exits, starts)]  # minus containerStart 0.5 s


def test_crashloop_backoff_schedule_without_jitter() -> None:
    r = run(statefulset(replicas=1, readiness=False), until="40m", timing={"appCrash": 2})
    gaps = _restart_gaps(r)
    # First restart right after the kubelet notices (PLEG 0.5 s), then 10 s doubling to 300 s.
    assert gaps[:9] == [0.5, 10, 20, 40, 80, 160, 300, 300, 300]


def test_crashloop_backoff_with_pod_worker_jitter() -> None:
    r = run(statefulset(replicas=1, readiness=False), until="40m",
            timing={"appCrash": 2, "podWorkerJitter": True})
    gaps = _restart_gaps(r)
    delays = [0, 10, 20, 40, 80, 160, 300, 300]
    for gap, delay in zip(gaps, delays):
        if delay == 0:
            assert gap == pytest.approx(0.5)
        else:
            # Re-syncs come every U(10 s, 15 s): the restart is the first one after the delay.
            assert delay <= gap <= delay + 15.5
    statuses = r.cluster.get("Pod", "web-0").status.container_statuses
    assert statuses[0].restart_count == len(times(r, "ContainerRestarted"))


def test_backoff_resets_after_ten_minutes_running() -> None:
    r = run(statefulset(replicas=1, readiness=False), until="40m", timing={"appCrash": 700})
    assert all(g == pytest.approx(0.5) for g in _restart_gaps(r))


def test_graceful_termination_with_prestop() -> None:
    c = {"lifecycle": {"preStop": {"exec": {"command": ["sleep", "1"]}}}}
    r = run(statefulset(replicas=1, container=c, grace=30), until="1m",
            actions=[{"at": "20s", "deletePod": {"pod": "web-0"}}], timing={"preStop": 1, "appShutdown": 1})
    # preStop 1 s, then SIGTERM and 1 s to exit.
    assert first(r, "PodDeleted", pod="web-0") == pytest.approx(22.0)


def test_prestop_longer_than_grace_gets_two_second_extension_then_kill() -> None:
    c = {"lifecycle": {"preStop": {"exec": {"command": ["sleep", "100"]}}}}
    r = run(statefulset(replicas=1, container=c, grace=30), until="2m",
            actions=[{"at": "20s", "deletePod": {"pod": "web-0"}}], timing={"preStop": 100, "appShutdown": 1})
    # preStop runs until grace + 2 s (32 s), then the 2 s minimum stop timeout: SIGTERM, exit 1 s later.
    assert first(r, "PodDeleted", pod="web-0") == pytest.approx(20 + 32 + 1)


def test_init_containers_run_in_order_before_app() -> None:
    spec = statefulset(replicas=1)
    spec["spec"]["template"]["spec"]["initContainers"] = [
        {"name": "init-a", "image": "busybox:1.36"}, {"name": "init-b", "image": "busybox:1.36"}]
    r = run(spec, until="1m")
    started = [(rec.fields["container"], rec.t) for rec in r.trace.of("ContainerStarted", pod="web-0")]
    # sandbox 1; init-a: pull 2 + start 0.5 -> 3.5, runs 1 s, exits 4.5, seen by PLEG at 5.0;
    # init-b: cached image, start 0.5 -> 5.5, exits 6.5, seen at 7.0 (Initialized);
    # app: pull 2 (another image) -> 9.0, start 0.5 -> 9.5.
    assert started == [("init-a", 3.5), ("init-b", 5.5), ("app", 9.5)]
    pod = r.cluster.get("Pod", "web-0")
    assert pod.status.condition("Initialized").status
    assert pod.status.condition("Initialized").last_transition_time == pytest.approx(7.0)


def test_image_pulls_are_cached_per_node() -> None:
    r = run(statefulset(replicas=2), until="1m", nodes=1)
    pulls = r.trace.of("ImagePulling")
    assert len(pulls) == 1


def test_pod_conditions_order() -> None:
    r = run(statefulset(replicas=1), until="1m")
    st = r.cluster.get("Pod", "web-0").status
    t = {c.type: c.last_transition_time for c in st.conditions}
    assert t["PodScheduled"] <= t["PodReadyToStartContainers"] <= t["ContainersReady"] <= t["Ready"]
    assert st.pod_ip.startswith("10.")


def test_backoff_does_not_reset_for_long_running_crashes() -> None:
    # Crash 300 s after each start: the back-off keeps doubling to 300 s; expiry is judged from
    # the exit time, not from when the restart happens.
    r = run(statefulset(replicas=1, readiness=False), until="80m", timing={"appCrash": 300})
    assert _restart_gaps(r)[:9] == [0.5, 10, 20, 40, 80, 160, 300, 300, 300]


def _sidecar_pod(**sidecar: object) -> dict:
    spec = statefulset(replicas=1, readiness=False)
    side = {"name": "proxy", "image": "envoy:1.30", "restartPolicy": "Always", **sidecar}
    spec["spec"]["template"]["spec"]["initContainers"] = [side, {"name": "migrate", "image": "busybox:1.36"}]
    return spec


def test_sidecar_readiness_counts_for_the_pod() -> None:
    probe = {"readinessProbe": {"httpGet": {"path": "/", "port": 15000}, "periodSeconds": 1}}
    r = run(_sidecar_pod(**probe), until="2m",
            timing={"overrides": [{"match": {"container": "proxy"}, "appReady": 40}]})
    started = dict((rec.fields["container"], rec.t) for rec in r.trace.of("ContainerStarted"))
    # The app container runs long before the sidecar's app answers (3.5 + 40 s).
    assert started["app"] < 20
    assert first(r, "PodReady", pod="web-0") >= started["proxy"] + 40


def test_next_init_container_waits_for_sidecar_startup_probe() -> None:
    probe = {"startupProbe": {"httpGet": {"path": "/", "port": 15000}, "periodSeconds": 1, "failureThreshold": 60}}
    r = run(_sidecar_pod(**probe), until="2m",
            timing={"overrides": [{"match": {"container": "proxy"}, "appReady": 10}]})
    started = dict((rec.fields["container"], rec.t) for rec in r.trace.of("ContainerStarted"))
    # proxy starts at 3.5 and answers from 13.5; the startup probe (ticks each second) passes at
    # 14.0; only then does "migrate" start (cached image? no: busybox pull 2 s + start 0.5).
    assert started["proxy"] == pytest.approx(3.5)
    assert started["migrate"] == pytest.approx(14.0 + 2 + 0.5)


def test_sidecars_stop_last_with_the_remaining_grace_period() -> None:
    r = run(_sidecar_pod(), until="2m", actions=[{"at": "60s", "deletePod": {"pod": "web-0"}}],
            timing={"overrides": [{"match": {"container": "proxy"}, "appShutdown": 5}]})
    exits = {rec.fields["container"]: (rec.t, rec.fields["exitCode"]) for rec in r.trace.of("ContainerExited")
             if rec.t >= 60}
    # The app stops in 1 s; then the sidecar gets SIGTERM and 28 s left: it exits cleanly 5 s later.
    assert exits["app"] == (pytest.approx(61.0), 0)
    assert exits["proxy"] == (pytest.approx(66.0), 0)


def test_failed_pod_is_removed_without_graceful_termination() -> None:
    r = run(statefulset(replicas=1), until="1m", actions=[{"at": "30s", "failPod": {"pod": "web-0"}}])
    assert first(r, "PodFailed", pod="web-0") == pytest.approx(30.0)
    assert first(r, "PodDeleted", pod="web-0") == pytest.approx(30.0)
    first_uid = r.trace.of("PodCreated", pod="web-0")[0].fields["uid"]
    assert not r.trace.of("PodTerminating", uid=first_uid)


def test_condition_times_are_whole_seconds_in_the_api() -> None:
    r = run(statefulset(replicas=1), until="1m", timing={"plegRelist": 0.25})
    for c in r.cluster.get("Pod", "web-0").status.conditions:
        assert c.last_transition_time == int(c.last_transition_time)


def test_backoff_release_time_ends_the_backoff_despite_float_rounding() -> None:
    from statefulsim.sim.kubelet.backoff import Backoff

    b = Backoff()
    exit_at = 121.698  # (exit_at + 10.0) - exit_at < 10.0 in binary floating point
    b.next("k", exit_at, exit_at)
    assert (exit_at + 10.0) - exit_at < 10.0
    assert not b.in_backoff_since("k", exit_at, b.release_after("k", exit_at))
    assert b.in_backoff_since("k", exit_at, b.release_after("k", exit_at) - 1e-9)
