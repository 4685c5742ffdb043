"""``at-most-one-identity``: never two live pods with the same name."""

from __future__ import annotations

from statefulsim.analysis.invariants.registry import Violation
from statefulsim.analysis.invariants.walk import _pod_ref, _walk
from statefulsim.durations import format_clock
from statefulsim.sim.trace import TraceSource, as_trace


def check_at_most_one_identity(trace: TraceSource) -> list[Violation]:
    """Never two live pods (created, not yet deleted) with the same name."""
    trace = as_trace(trace)
    out: list[Violation] = []
    for _, r, state in _walk(trace):
        if r.event != "PodCreated":
            continue
        old = state.pod(r.fields["pod"])
        if old is not None and old.uid != r.fields.get("uid"):
            out.append(Violation("at-most-one-identity", r.t, (_pod_ref(old.name),),
                                 f"{old.name} was created again (uid {str(r.fields.get('uid'))[:8]}) while the "
                                 f"incarnation {old.uid[:8]} created at {format_clock(old.created)} still existed "
                                 f"({old.state()})"))
    return out
