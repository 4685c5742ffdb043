"""breakReadiness / breakLiveness: a break done inside the container is gone after a restart
unless it persists; a broken liveness probe kills and restarts the container (reference pods
§2.2-§2.3).  EXACT_TIMING: the container starts at 3.5 s, the app answers 3 s after each start,
a stopped app exits 1 s after SIGTERM and the kubelet notices an exit 0.5 s later (PLEG)."""

from __future__ import annotations

import pytest

from helpers import first, run, scenario, statefulset, times
from statefulsim.errors import ScenarioError

LIVE = {"livenessProbe": {"httpGet": {"path": "/healthz", "port": 80}, "periodSeconds": 2, "failureThreshold": 3}}


def _act(at: str, verb: str, **body: object) -> dict:
    return {"at": at, verb: {"pod": "web-0", **body}}


def test_a_readiness_break_is_gone_after_the_container_restarts() -> None:
    r = run(statefulset(replicas=1), until="90s",
            actions=[_act("20s", "breakReadiness"), _act("30s", "crashContainer")])
    assert first(r, "PodNotReady", pod="web-0") == pytest.approx(22.0)  # failures at 20, 21, 22
    restarted = first(r, "ContainerStarted", pod="web-0", restartCount=1)
    ready = times(r, "PodReady", pod="web-0")
    # The new container starts from its image: ready again once its app answers (3 s).
    assert len(ready) == 2 and ready[1] >= restarted + 3


def test_a_persistent_readiness_break_survives_restarts_until_restored() -> None:
    r = run(statefulset(replicas=1), until="90s",
            actions=[_act("20s", "breakReadiness", persist=True), _act("30s", "crashContainer"),
                     _act("60s", "restoreReadiness")])
    assert first(r, "ContainerStarted", pod="web-0", restartCount=1) < 40
    ready = times(r, "PodReady", pod="web-0")
    assert len(ready) == 2 and 60 < ready[1] <= 61  # the next readiness tick after the restore
    assert r.trace.first("Action", action="breakReadiness").fields == {
        "action": "breakReadiness", "pod": "web-0", "persist": True}


def test_a_broken_liveness_probe_kills_after_the_failure_threshold_and_the_restart_heals_it() -> None:
    r = run(statefulset(replicas=1, container=LIVE), until="90s", actions=[_act("21s", "breakLiveness")])
    # Liveness ticks every 2 s from 0 s: failures at 22, 24 and 26 reach failureThreshold 3.
    kills = r.trace.of("ContainerKilled", pod="web-0")
    assert [k.t for k in kills] == [pytest.approx(26.0)] and kills[0].fields["reason"] == "liveness probe failed"
    assert first(r, "ContainerExited", pod="web-0") == pytest.approx(27.0)  # SIGTERM, appShutdown 1 s
    assert first(r, "ContainerStarted", pod="web-0", restartCount=1) == pytest.approx(28.0)  # PLEG 0.5 + start 0.5
    assert first(r, "ContainerRestarted", pod="web-0", restartCount=1) > 28
    # The pod went NotReady with the exit and is Ready again once the new app answers.
    assert len(times(r, "PodReady", pod="web-0")) == 2
    assert first(r, "PodNotReady", pod="web-0") > 27


def test_a_persistent_liveness_break_crash_loops_until_restored() -> None:
    r = run(statefulset(replicas=1, container=LIVE), until="3m",
            actions=[_act("21s", "breakLiveness", persist=True), _act("80s", "restoreLiveness", container="app")])
    kills = times(r, "ContainerKilled", pod="web-0")
    assert len(kills) >= 2 and kills[0] == pytest.approx(26.0)
    assert all(k < 80 + 2 * 3 for k in kills)
    # The second restart waits out CrashLoopBackOff's 10 s (then containerStart 0.5 s).
    exits = times(r, "ContainerExited", pod="web-0")
    second = first(r, "ContainerStarted", pod="web-0", restartCount=2)
    assert second - exits[1] == pytest.approx(10.5)
    assert r.trace.of("PodReady", pod="web-0")[-1].t > 80
    assert r.cluster.get("Pod", "web-0").status.ready


def test_probe_breaks_name_a_container_that_has_such_a_probe() -> None:
    r = run(statefulset(replicas=1), until="30s",
            actions=[_act("20s", "breakLiveness"), _act("21s", "breakLiveness", container="app"),
                     _act("22s", "restoreReadiness", container="sidecar")])
    assert [f.fields["error"] for f in r.trace.of("ActionFailed")] == [
        'pod "web-0" has no liveness probe to break',
        'container "app" of pod "web-0" has no liveness probe to break',
        'container "sidecar" of pod "web-0" has no readiness probe to restore']


def test_restore_verbs_take_no_persist_and_persist_is_a_boolean() -> None:
    with pytest.raises(ScenarioError, match=r"restoreLiveness.persist: unknown key"):
        scenario(statefulset(), actions=[_act("1s", "restoreLiveness", persist=True)])
    with pytest.raises(ScenarioError, match=r"breakLiveness.persist: expected true or false"):
        scenario(statefulset(), actions=[_act("1s", "breakLiveness", persist="yes")])
