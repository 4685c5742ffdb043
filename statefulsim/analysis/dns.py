"""When did a pod's DNS name become resolvable, and how long after the pod was Ready?"""

from __future__ import annotations

from dataclasses import dataclass

from statefulsim.sim.trace import TraceSource, as_trace


@dataclass(frozen=True)
class DnsVisibility:
    name: str
    pod: str
    ready_at: float | None  # the pod's first PodReady
    first_answer_at: float | None  # the first DNSAnswer with an address
    negative_answers_before: int

    @property
    def delay(self) -> float | None:
        """Seconds from Ready to the first address (None if either never happened)."""
        if self.ready_at is None or self.first_answer_at is None:
            return None
        return self.first_answer_at - self.ready_at


def dns_visibility(trace: TraceSource, name: str, pod: str, client: str | None = None) -> DnsVisibility:
    """For lookups of ``name`` (optionally by one ``client``): the first positive answer, the pod's
    first Ready time, and how many negative answers came before."""
    trace = as_trace(trace)
    ready = trace.first("PodReady", pod=pod)
    first_answer = None
    negatives = 0
    for r in trace.of("DNSAnswer", name=name):
        if client is not None and r.fields.get("client") != client:
            continue
        if r.fields.get("answers"):
            first_answer = r.t
            break
        negatives += 1
    return DnsVisibility(name, pod, ready.t if ready is not None else None, first_answer, negatives)
