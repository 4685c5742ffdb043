"""Kubernetes Events as the components record them: ``KubeEvent`` trace records.

One :class:`EventRecorder` per component instance (a kubelet per node, the scheduler, a
controller), correlating as client-go's legacy event correlator does
(``tools/record/events_cache.go`` ``EventCorrelate``), in its order:

1. **aggregation**: the 10th distinct message of one reason (same object, type and reason)
   within 600 s of the previous one becomes ``(combined from similar events): <message>``, and
   so do the similar events after it;
2. **counting**: an event identical to an earlier one (same object and uid, type, reason and
   message, after aggregation) is not a new Event: the existing one's ``count`` goes up, and the
   trace gets a record with the new count (what ``kubectl get events -w`` prints as a MODIFIED
   row);
3. **spam filter**: per involved object (and uid), a token bucket of 25 refilled at one per
   300 s; an event that finds it empty is dropped (no record), though step 2 has counted it.

Reference: kubectl-surface.md §3.
"""

from __future__ import annotations

import math

from statefulsim.durations import go_duration
from statefulsim.sim.env import SimEnv

NORMAL = "Normal"
WARNING = "Warning"

#: client-go ``tools/record/events_cache.go``: ``defaultAggregateMaxEvents``,
#: ``defaultAggregateIntervalInSeconds``, ``defaultSpamBurst``, ``defaultSpamQPS``.
AGGREGATE_MAX_EVENTS = 10
AGGREGATE_INTERVAL = 600.0
SPAM_BURST = 25
SPAM_QPS = 1.0 / 300.0
COMBINED_PREFIX = "(combined from similar events): "


class EventRecorder:
    """Records the Events of one component (``component``: ``kubelet``, ``default-scheduler``)."""

    def __init__(self, env: SimEnv, component: str) -> None:
        self.env = env
        self.component = component
        #: (object, uid) -> (type, reason, message) -> count
        self._counts: dict[tuple[str, str], dict[tuple[str, str, str], int]] = {}
        #: (object, uid) -> (type, reason) -> (distinct messages, time of the last similar event);
        #: nested per object so that :meth:`forget` drops an object's entries without a scan
        self._similar: dict[tuple[str, str], dict[tuple[str, str], tuple[set[str], float]]] = {}
        #: (object, uid) -> (tokens, time of the last refill)
        self._spam: dict[tuple[str, str], tuple[float, float]] = {}
        self.dropped = 0  # events the spam filter dropped

    def _aggregate(self, obj: str, uid: str, type_: str, reason: str, message: str) -> tuple[str, str]:
        """Step 1: ``(message, counting key)`` as the aggregator leaves them.  Upstream drops an
        arbitrary one of the 10 messages (``PopAny``) once the 10th arrives; here always the newest,
        so the first 9 keep their own Events and later ones share the combined one, deterministically."""
        now = self.env.now
        similar = self._similar.get((obj, uid))
        if similar is None:
            similar = self._similar[(obj, uid)] = {}
        key = (type_, reason)
        messages, last = similar.get(key, (set(), -AGGREGATE_INTERVAL - 1.0))
        if now - last > AGGREGATE_INTERVAL:
            messages = set()
        messages.add(message)
        similar[key] = (messages, now)
        if len(messages) < AGGREGATE_MAX_EVENTS:
            return message, message
        messages.discard(message)
        return COMBINED_PREFIX + message, COMBINED_PREFIX

    def _accept(self, obj: str, uid: str) -> bool:
        """Step 3: take a token of the object's bucket (full at first), or drop the event."""
        now = self.env.now
        tokens, last = self._spam.get((obj, uid), (float(SPAM_BURST), now))
        tokens = min(float(SPAM_BURST), tokens + (now - last) * SPAM_QPS)
        if tokens >= 1.0:
            self._spam[(obj, uid)] = (tokens - 1.0, now)
            return True
        self._spam[(obj, uid)] = (tokens, now)
        self.dropped += 1
        return False

    def event(self, type_: str, reason: str, obj: str, message: str, uid: str = "") -> int:
        """Record an Event about ``obj`` (``pod/web-0``; ``uid`` tells incarnations apart);
        returns its count (0 when the spam filter dropped it, or when the run records no Events:
        ``env.kube_events`` is False)."""
        if not self.env.kube_events:
            return 0
        message, counted = self._aggregate(obj, uid, type_, reason, message)
        counts = self._counts.setdefault((obj, uid), {})
        key = (type_, reason, counted)
        count = counts[key] = counts.get(key, 0) + 1
        if not self._accept(obj, uid):
            return 0
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
        self._spam.pop((obj, uid), None)
        self._similar.pop((obj, uid), None)


def go_duration_ms(seconds: float) -> str:
    """``go_duration`` of the duration truncated to milliseconds, as the kubelet prints pull
    times (``Duration.Truncate(time.Millisecond)``): ``718ms``, ``1.21s``."""
    return go_duration(math.floor(seconds * 1000 + 1e-6) / 1000)
