"""Kubernetes Events as the components record them: ``KubeEvent`` trace records.

One :class:`EventRecorder` per component instance (a kubelet per node, the scheduler, a
controller).  Like client-go's legacy event correlator (``tools/record/events_cache.go``), an
event identical to an earlier one from the same recorder (same involved object and uid, type,
reason and message) is not a new Event: the existing one's ``count`` goes up, and the trace gets
a record with the new count (what ``kubectl get events -w`` prints as a MODIFIED row).

Reference: kubectl-surface.md §3.
"""

from __future__ import annotations

import math

from statefulsim.durations import go_duration
from statefulsim.sim.env import SimEnv

NORMAL = "Normal"
WARNING = "Warning"


class EventRecorder:
    """Records the Events of one component (``component``: ``kubelet``, ``default-scheduler``)."""

    def __init__(self, env: SimEnv, component: str) -> None:
        self.env = env
        self.component = component
        #: (object, uid) -> (type, reason, message) -> count
        self._counts: dict[tuple[str, str], dict[tuple[str, str, str], int]] = {}

    def event(self, type_: str, reason: str, obj: str, message: str, uid: str = "") -> int:
        """Record an Event about ``obj`` (``pod/web-0``; ``uid`` tells incarnations apart);
        returns its count."""
        counts = self._counts.setdefault((obj, uid), {})
        key = (type_, reason, message)
        count = counts[key] = counts.get(key, 0) + 1
        self.env.emit("KubeEvent", reason=reason, object=obj, message=message, component=self.component,
                      type=type_, count=count)
        return count

    def normal(self, reason: str, obj: str, message: str, uid: str = "") -> int:
        return self.event(NORMAL, reason, obj, message, uid)

    def warning(self, reason: str, obj: str, message: str, uid: str = "") -> int:
        return self.event(WARNING, reason, obj, message, uid)

    def forget(self, obj: str, uid: str) -> None:
        """The object is gone: drop its counters (the API server's copies expire with it)."""
        self._counts.pop((obj, uid), None)


def go_duration_ms(seconds: float) -> str:
    """``go_duration`` of the duration truncated to milliseconds, as the kubelet prints pull
    times (``Duration.Truncate(time.Millisecond)``): ``718ms``, ``1.21s``."""
    return go_duration(math.floor(seconds * 1000 + 1e-6) / 1000)
