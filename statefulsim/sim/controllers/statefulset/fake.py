"""An in-memory :class:`~statefulsim.sim.controllers.statefulset.pod_control.ObjectManager` for
unit tests of the StatefulSet sync (upstream ``fakeObjectManager`` in
``stateful_set_control_test.go``), shipped like httpx's ``MockTransport``.

Writes go straight into an :class:`ObjectStore` (no latency, no rate limit); every request is
counted per verb, and :meth:`FakeObjectManager.fail_after` makes one request of a verb fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generator, TypeVar

import simpy

from statefulsim.sim.api.objects import ApiObject
from statefulsim.sim.api.store import ApiError, ObjectStore

T = TypeVar("T", bound=ApiObject)

#: The verbs :class:`FakeObjectManager` counts.
VERBS = ("create", "update", "delete")


@dataclass
class _Injected:
    after: int  # successful requests of the verb still to let through
    error: ApiError


class FakeObjectManager:
    """Pod writes into ``store`` at once, with request counting and error injection."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        #: Requests per verb (failed ones included), since construction or :meth:`reset_counts`.
        self.requests: dict[str, int] = dict.fromkeys(VERBS, 0)
        self._injected: dict[str, _Injected] = {}

    def fail_after(self, verb: str, after: int, reason: str = "InternalError",
                   message: str = "injected error") -> None:
        """Let ``after`` more ``verb`` requests succeed, fail the next one with
        ``ApiError(reason, message)``, then succeed again (upstream ``SetCreateStatefulPodError``)."""
        if verb not in VERBS:
            raise ValueError(f"verb {verb!r}: expected one of {', '.join(VERBS)}")
        if after < 0:
            raise ValueError(f"after {after}: expected a count >= 0")
        self._injected[verb] = _Injected(after, ApiError(reason, message))

    def reset_counts(self) -> None:
        """Start counting requests from zero again."""
        self.requests = dict.fromkeys(VERBS, 0)

    def writes(self) -> int:
        """Requests of every verb together."""
        return sum(self.requests.values())

    def _request(self, verb: str) -> None:
        self.requests[verb] += 1
        injected = self._injected.get(verb)
        if injected is None:
            return
        if injected.after > 0:
            injected.after -= 1
            return
        del self._injected[verb]
        raise injected.error

    def create(self, obj: T) -> Generator[simpy.Event, Any, T]:
        self._request("create")
        return self.store.create(obj)
        yield  # pragma: no cover - makes this a generator

    def update(self, obj: T) -> Generator[simpy.Event, Any, T]:
        self._request("update")
        return self.store.update(obj)
        yield  # pragma: no cover

    def delete(self, kind: str, namespace: str, name: str, *, grace_period_seconds: float | None = None,
               uid: str | None = None, propagation: str = "Background") -> Generator[simpy.Event, Any, Any]:
        self._request("delete")
        return self.store.delete(kind, namespace, name, grace_period_seconds=grace_period_seconds, uid=uid,
                                 propagation=propagation)
        yield  # pragma: no cover
