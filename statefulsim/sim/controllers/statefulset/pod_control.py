"""The controller's side effects on pods (and, through a seam, their claims): upstream
``stateful_pod_control.go``.  Every write goes through an :class:`ObjectManager` (upstream
``StatefulPodControlObjectManager``): the controller's API client in a run,
:class:`~statefulsim.sim.controllers.statefulset.fake.FakeObjectManager` in unit tests."""

from __future__ import annotations

from typing import Any, Generator, Protocol, TypeVar

import simpy

from statefulsim.sim.api.objects import ApiObject, Pod, StatefulSet
from statefulsim.sim.api.store import ApiError
from statefulsim.sim.env import SimEnv
from statefulsim.sim.events import NORMAL, WARNING, EventRecorder

T = TypeVar("T", bound=ApiObject)


class ObjectManager(Protocol):
    """The pod writes :class:`PodControl` makes (an :class:`ApiClient` is one).  Each call is a
    SimPy generator returning the stored object; it raises :class:`ApiError` on refusal."""

    def create(self, obj: T) -> Generator[simpy.Event, Any, T]: ...

    def update(self, obj: T) -> Generator[simpy.Event, Any, T]: ...

    def delete(self, kind: str, namespace: str, name: str, *, grace_period_seconds: float | None = None,
               uid: str | None = None, propagation: str = "Background") -> Generator[simpy.Event, Any, Any]: ...


class ClaimControl(Protocol):
    """How the controller creates a pod's PersistentVolumeClaims (volumes live behind this)."""

    def create_missing_claims(self, sts: StatefulSet, pod: Pod) -> Generator[simpy.Event, Any, ApiError | None]: ...

    def claim_is_stale(self, sts: StatefulSet, pod: Pod) -> bool: ...

    def refs_match(self, sts: StatefulSet, pod: Pod, condemned: bool) -> bool: ...

    def update_owner_refs(self, sts: StatefulSet, pod: Pod, condemned: bool) -> Generator[simpy.Event, Any, ApiError | None]: ...


class NoClaims:
    """Claim control for sets without volumeClaimTemplates: nothing to create, never stale."""

    def create_missing_claims(self, sts: StatefulSet, pod: Pod) -> Generator[simpy.Event, Any, ApiError | None]:
        return None
        yield  # pragma: no cover - makes this a generator

    def claim_is_stale(self, sts: StatefulSet, pod: Pod) -> bool:
        return False

    def refs_match(self, sts: StatefulSet, pod: Pod, condemned: bool) -> bool:
        return True

    def update_owner_refs(self, sts: StatefulSet, pod: Pod, condemned: bool) -> Generator[simpy.Event, Any, ApiError | None]:
        return None
        yield  # pragma: no cover


class PodControl:
    """Create, delete and update stateful pods; record Kubernetes events in the trace."""

    component = "statefulset-controller"
    _recorder: EventRecorder | None = None

    def __init__(self, env: SimEnv, client: ObjectManager, claims: ClaimControl | None = None) -> None:
        self.env = env
        self.client = client
        self.claims: ClaimControl = claims or NoClaims()
        # Newest resourceVersion this controller wrote to a pod, per set ("namespace/name"):
        # the stale-cache guard waits until the informer has seen it.
        self.written: dict[str, int] = {}

    def _note(self, sts: StatefulSet, obj: Any) -> None:
        key = f"{sts.metadata.namespace}/{sts.metadata.name}"
        rv = obj.metadata.resource_version
        if rv > self.written.get(key, 0):
            self.written[key] = rv

    def _event(self, reason: str, obj: str, message: str) -> None:
        if self._recorder is None:
            self._recorder = EventRecorder(self.env, self.component)
        self._recorder.event(WARNING if reason.startswith("Failed") else NORMAL, reason, obj, message)

    def create(self, sts: StatefulSet, pod: Pod) -> Generator[simpy.Event, Any, ApiError | None]:
        err = yield from self.claims.create_missing_claims(sts, pod)
        if err is not None:
            return err
        try:
            created = yield from self.client.create(pod)
        except ApiError as e:
            if e.reason != "AlreadyExists":
                self._event("FailedCreate", f"pod/{pod.name}",
                            f"create Pod {pod.name} in StatefulSet {sts.name} failed error: {e.message}")
            return e
        self._note(sts, created)
        # Set the claims' owner references as far as possible now (retention policy).
        err = yield from self.claims.update_owner_refs(sts, created, False)
        if err is not None:
            return err
        self._event("SuccessfulCreate", f"pod/{pod.name}", f"create Pod {pod.name} in StatefulSet {sts.name} successful")
        return None

    def delete(self, sts: StatefulSet, pod: Pod) -> Generator[simpy.Event, Any, ApiError | None]:
        try:
            deleted = yield from self.client.delete("Pod", pod.metadata.namespace, pod.name)
        except ApiError as e:
            self._event("FailedDelete", f"pod/{pod.name}",
                        f"delete Pod {pod.name} in StatefulSet {sts.name} failed error: {e.message}")
            return e
        self._note(sts, deleted)
        self._event("SuccessfulDelete", f"pod/{pod.name}", f"delete Pod {pod.name} in StatefulSet {sts.name} successful")
        return None

    def update(self, sts: StatefulSet, pod: Pod) -> Generator[simpy.Event, Any, ApiError | None]:
        try:
            updated = yield from self.client.update(pod)
        except ApiError as e:
            self._event("FailedUpdate", f"pod/{pod.name}",
                        f"update Pod {pod.name} in StatefulSet {sts.name} failed error: {e.message}")
            return e
        self._note(sts, updated)
        self._event("SuccessfulUpdate", f"pod/{pod.name}", f"update Pod {pod.name} in StatefulSet {sts.name} successful")
        return None

    def create_missing_claims(self, sts: StatefulSet, pod: Pod) -> Generator[simpy.Event, Any, ApiError | None]:
        return (yield from self.claims.create_missing_claims(sts, pod))
