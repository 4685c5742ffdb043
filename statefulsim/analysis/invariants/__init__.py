"""Invariants: named, documented ordering and identity guarantees of StatefulSets, checked on a trace.

Every invariant is a pure function of a :class:`~statefulsim.sim.trace.Trace` (the simulator's own,
or one read from a file) that returns :class:`Violation` records: when, which objects, and a
one-line explanation.  Nothing here looks at simulator internals; what a check cannot see in the
trace is approximated, and every approximation is listed in ``docs/invariants.md``.

    from statefulsim.analysis.invariants import check
    for v in check(result.trace):
        print(v)

Add checks with :func:`register_invariant`.  The modules: ``registry`` (the types, the registry,
``check``), ``_walk`` (reading a trace for the checks), one module per guarantee family
(``ordering``, ``identity``, ``storage``, ``updates``, ``dns``, ``convergence``) and ``builtin``
(registers them, in the order ``invariant_names()`` lists them).
"""

from __future__ import annotations

from statefulsim.analysis.invariants import builtin  # noqa: F401  (registers the built-in invariants)
from statefulsim.analysis.invariants.convergence import check_convergence
from statefulsim.analysis.invariants.dns import DNS_CACHE_SLACK, DNS_PROPAGATION, check_dns_ready_only
from statefulsim.analysis.invariants.identity import check_at_most_one_identity
from statefulsim.analysis.invariants.ordering import check_ordered_creation, check_ordered_termination
from statefulsim.analysis.invariants.registry import (
    CheckFn,
    GapsFn,
    Invariant,
    Unjudged,
    Violation,
    applicable,
    check,
    describe,
    get_invariant,
    invariant_names,
    not_judged,
    register_invariant,
    unregister_invariant,
)
from statefulsim.analysis.invariants.storage import check_claim_before_pod, check_stable_storage
from statefulsim.analysis.invariants.updates import check_partition_respected, check_reverse_ordinal_update

__all__ = [
    "DNS_CACHE_SLACK",
    "DNS_PROPAGATION",
    "CheckFn",
    "GapsFn",
    "Invariant",
    "Unjudged",
    "Violation",
    "applicable",
    "check",
    "check_at_most_one_identity",
    "check_claim_before_pod",
    "check_convergence",
    "check_dns_ready_only",
    "check_ordered_creation",
    "check_ordered_termination",
    "check_partition_respected",
    "check_reverse_ordinal_update",
    "check_stable_storage",
    "describe",
    "get_invariant",
    "invariant_names",
    "not_judged",
    "register_invariant",
    "unregister_invariant",
]
