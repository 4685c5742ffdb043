"""Pod management policies as strategy objects, with a registry for user policies.

Upstream threads a ``monotonic`` flag through ``processReplica``/``processCondemned``; here each
decision that flag makes is a method of a :class:`PolicyRound` (one per sync), so a user can
write a policy between OrderedReady and Parallel without editing the reconcile loop.
"""

from __future__ import annotations

from typing import Callable, Mapping

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


_REGISTRY: dict[str, Callable[[], PodManagementPolicy]] = {
    ORDERED_READY: OrderedReady,
    PARALLEL: Parallel,
}


def register_policy(name: str, factory: Callable[[], PodManagementPolicy]) -> None:
    """Make ``podManagementPolicy: <name>`` usable in manifests and scenarios."""
    _REGISTRY[name] = factory


def unregister_policy(name: str) -> None:
    if name in (ORDERED_READY, PARALLEL):
        raise ValueError(f"cannot unregister the built-in policy {name}")
    _REGISTRY.pop(name, None)


def policy_names() -> list[str]:
    return list(_REGISTRY)


def get_policy(name: str) -> PodManagementPolicy:
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise KeyError(f"unknown pod management policy {name!r}; registered: {', '.join(_REGISTRY)}") from None


def registry() -> Mapping[str, Callable[[], PodManagementPolicy]]:
    return dict(_REGISTRY)
