"""How long a set needs to settle after the last action (:func:`settle_time`)."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from statefulsim.testing.strategies.delays import _timing_bound

#: The longest CrashLoopBackOff delay of the kubelet (seconds): after ``crashContainer`` actions
#: a container may wait this long before its restart.
CRASH_BACKOFF_MAX = 300.0


#: Settling time is at most this long (seconds): a bound of "infinity" (a user model) is capped.
MAX_SETTLE = 4 * 3600.0


def _probe_time(probe: Mapping[str, Any] | None, successes: int) -> float:
    if not probe:
        return 0.0
    return float(probe.get("initialDelaySeconds", 0)) + float(probe.get("periodSeconds", 10)) * (successes + 1) + \
        float(probe.get("timeoutSeconds", 1))


def settle_time(statefulset: Mapping[str, Any], timing: Mapping[str, Any], *, replicas: int | None = None,
                actions: Sequence[Mapping[str, Any]] = ()) -> float:
    """A generous bound, in seconds, on how long the set needs after the last action to reach its
    desired state (every pod replaced once, one after the other, at the slowest practical delay
    of every step), for a set whose pods can all become Ready.  ``replicas``: the most pods the set
    may have (default: the manifest's).  ``actions``: the run's actions; after a
    ``crashContainer`` a container may sit in CrashLoopBackOff for up to
    :data:`CRASH_BACKOFF_MAX` before its restart, which is added."""
    spec = statefulset.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    containers = list(pod.get("containers") or [])
    n = int(spec.get("replicas", 1)) if replicas is None else replicas

    def ub(key: str) -> float:
        return _timing_bound(timing, key)

    api = ub("apiLatency") + ub("watchLatency")
    start = ub("scheduling") + ub("sandbox") + 2 * ub("plegRelist") + 20 * api
    for c in containers:
        start += ub("imagePull") + ub("containerStart") + ub("appReady")
        start += _probe_time(c.get("startupProbe"), 1)
        start += _probe_time(c.get("readinessProbe"), int((c.get("readinessProbe") or {}).get("successThreshold", 1)))
    for _ in pod.get("initContainers") or ():
        start += ub("imagePull") + ub("containerStart") + ub("initContainerRun")
    if spec.get("volumeClaimTemplates"):
        # A moved volume: unmount, the node-status tick (10 s), detach, attach; the kubelet's
        # verify back-off notices it at most twice as late (kubelet/volumemanager.py); mount.
        move = ub("volumeUnmount") + 10.0 + ub("volumeDetach") + ub("volumeAttach")
        start += ub("provisioning") + 2 * move + ub("volumeMount") + 2.0
        if any("failNode" in a for a in actions):
            start += 360.0  # maxWaitForUnmountDuration before a force detach from a dead node
    start += float(spec.get("minReadySeconds", 0))
    stop = float(pod.get("terminationGracePeriodSeconds", 30)) + ub("preStop") + 4.0 + 10 * api
    settle = (n + 2) * (start + stop) + 120.0
    if any("crashContainer" in a for a in actions):
        settle += CRASH_BACKOFF_MAX + start
    return min(settle, MAX_SETTLE) if math.isfinite(settle) else MAX_SETTLE
