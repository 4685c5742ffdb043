"""The built-in invariants, registered in this order (``invariant_names()`` lists them so)."""

from __future__ import annotations

import functools

from statefulsim.analysis.invariants.convergence import check_convergence
from statefulsim.analysis.invariants.dns import check_dns_ready_only
from statefulsim.analysis.invariants.identity import check_at_most_one_identity
from statefulsim.analysis.invariants.ordering import (
    _ordered_creation_gaps,
    _ordered_termination_gaps,
    check_ordered_creation,
    check_ordered_termination,
)
from statefulsim.analysis.invariants.registry import register_invariant
from statefulsim.analysis.invariants.storage import _applies_storage, check_claim_before_pod, check_stable_storage
from statefulsim.analysis.invariants.updates import check_partition_respected, check_reverse_ordinal_update
from statefulsim.analysis.invariants.walk import _has, _has_policy
from statefulsim.sim.api.objects import ORDERED_READY
from statefulsim.sim.trace import Trace


def _applies_ordered(trace: Trace) -> bool:
    return _has_policy(trace, ORDERED_READY)


def _applies_sets(trace: Trace) -> bool:
    return _has(trace, "StatefulSetCreated")


_register_builtin = functools.partial(register_invariant, builtin=True)
_register_builtin("ordered-creation", "OrderedReady: pod N is created only when pods start..N-1 exist and are "
                   "Running and Ready", check_ordered_creation, _applies_ordered,
                   gaps=_ordered_creation_gaps)
_register_builtin("ordered-termination", "OrderedReady: a condemned pod is deleted only when all higher condemned "
                   "ordinals are gone", check_ordered_termination, _applies_ordered,
                   gaps=_ordered_termination_gaps)
_register_builtin("at-most-one-identity", "never two live pods with the same name", check_at_most_one_identity,
                   lambda trace: _has(trace, "PodCreated"))
_register_builtin("claim-before-pod", "a pod is created only after its claims <template>-<pod> exist",
                   check_claim_before_pod, _applies_storage)
_register_builtin("stable-storage", "every incarnation of a pod mounts the same claims <template>-<pod>",
                   check_stable_storage, _applies_storage)
_register_builtin("reverse-ordinal-update", "rolling updates replace pods from the highest ordinal down",
                   check_reverse_ordinal_update, _applies_sets)
_register_builtin("partition-respected", "pods below the partition are not replaced for an update",
                   check_partition_respected, _applies_sets)
_register_builtin("dns-ready-only", "DNS hands out a pod's address only while it is Ready (or within the TTL after)",
                   check_dns_ready_only, lambda trace: _has(trace, "DNSAnswer"))
_register_builtin("convergence", "every StatefulSet reaches its desired state by the end, or the stuck reason "
                   "is reported", check_convergence, _applies_sets)
