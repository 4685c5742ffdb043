"""Pod management policies as strategy objects, with a registry for user policies.

Upstream threads a ``monotonic`` flag through ``processReplica``/``processCondemned``; here each
decision that flag makes is a method of a :class:`PolicyRound` (one per sync), so a user can
write a policy between OrderedReady and Parallel without editing the reconcile loop.
"""

from __future__ import annotations

from typing import Callable

from statefulsim.registry import Registry
from statefulsim.sim.api.objects import ORDERED_READY, PARALLEL, Pod, StatefulSet

# Why a policy may block at a pod (also the ControllerWaiting reasons).
POD_FAILED = "PodFailed"
POD_TERMINATING = "PodTerminating"
POD_NOT_READY = "PredecessorNotReady"
POD_NOT_AVAILABLE = "PodNotAvailable"


class PolicyRound:
    """The decisions of one sync.  The default methods are OrderedReady's."""

    #: True: process pods in slow-start batches, concurrently (``slowStartBatch``);
    #: False: one at a time, stopping at the first "exit".
    concurrent: bool = False

    def continue_after_create(self, pod: Pod) -> bool:
        """After creating ``pod``: go on with the next ordinal in this sync?"""
        return False

    def wait_for(self, pod: Pod, reason: str) -> bool:
        """An in-range ``pod`` is not ready for ``reason``: stop here (True) or go on?"""
        return True

    def wait_for_condemned(self, pod: Pod, reason: str, first_unavailable: bool) -> bool:
        """Before deleting condemned ``pod`` (which is not healthy for ``reason``): wait?"""
        if reason == POD_TERMINATING:
            return True
        return not first_unavailable


class PodManagementPolicy:
    """A named pod management policy.  Subclass and :func:`register_policy` to add one."""

    name: str = ORDERED_READY
    #: Whether rolling updates follow the ordered (monotonic) rules of upstream.
    ordered: bool = True

    def new_round(self, sts: StatefulSet) -> PolicyRound:
        return PolicyRound()


class OrderedReady(PodManagementPolicy):
    """One pod at a time, in ordinal order; every predecessor Running and Ready (and available)."""

    name = ORDERED_READY
    ordered = True


class _ParallelRound(PolicyRound):
    concurrent = True

    def continue_after_create(self, pod: Pod) -> bool:
        return True

    def wait_for(self, pod: Pod, reason: str) -> bool:
        return False

    def wait_for_condemned(self, pod: Pod, reason: str, first_unavailable: bool) -> bool:
        return False


class Parallel(PodManagementPolicy):
    """Create and delete all pods at once ("burst"), in batches of 1, 2, 4, ... ≤ 500."""

    name = PARALLEL
    ordered = False

    def new_round(self, sts: StatefulSet) -> PolicyRound:
        return _ParallelRound()


class _MaxInFlightRound(PolicyRound):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0

    def continue_after_create(self, pod: Pod) -> bool:
        self.in_flight += 1
        return self.in_flight < self.limit

    def wait_for(self, pod: Pod, reason: str) -> bool:
        if reason in (POD_FAILED, POD_TERMINATING):
            return True
        self.in_flight += 1
        return self.in_flight >= self.limit


class MaxInFlight(PodManagementPolicy):
    """Ordered, but up to ``limit`` pods may be starting (created, not yet ready) at once.

    Not a Kubernetes policy: an example of a user-supplied one (register it under a name of
    your choice, e.g. ``register_policy("OrderedBatch3", lambda: MaxInFlight(3))``).
    """

    ordered = True

    def __init__(self, limit: int, name: str = "MaxInFlight") -> None:
        if limit < 1:
            raise ValueError("limit must be >= 1")
        self.limit = limit
        self.name = name

    def new_round(self, sts: StatefulSet) -> PolicyRound:
        return _MaxInFlightRound(self.limit)


#: Pod management policies by ``podManagementPolicy`` name.  The built-ins are not marked
#: built-in in the registry: :func:`register_policy` has always let a plug-in or a test replace
#: one (e.g. a deliberately broken OrderedReady); :func:`unregister_policy` refuses to remove them.
POLICIES: Registry[Callable[[], PodManagementPolicy]] = Registry("pod management policy")
POLICIES.register(ORDERED_READY, OrderedReady)
POLICIES.register(PARALLEL, Parallel)


def register_policy(name: str, factory: Callable[[], PodManagementPolicy]) -> None:
    """Make ``podManagementPolicy: <name>`` usable in manifests and scenarios (replaces an
    existing entry of that name)."""
    POLICIES.register(name, factory, replace=True)


def unregister_policy(name: str) -> None:
    """Remove a registered policy; the built-ins cannot be removed."""
    if name in (ORDERED_READY, PARALLEL):
        raise ValueError(f"cannot unregister the built-in policy {name}")
    POLICIES.unregister(name)


def policy_names() -> list[str]:
    """Registered policy names, built-ins first."""
    return POLICIES.names()


def get_policy(name: str) -> PodManagementPolicy:
    """A new instance of the named policy; ``KeyError`` naming the registered ones if unknown."""
    return POLICIES.get(name)()
