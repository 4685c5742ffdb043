"""The object store: plays the API server (create/get/update/delete, resourceVersions,
graceful deletion, finalizers) and fans changes out to watches after a latency.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Callable, Generator, Iterable, TypeVar, cast

import simpy

from statefulsim.sim.api.objects import (
    ApiObject,
    Pod,
    PodDisruptionBudget,
    PodStatus,
    StatefulSet,
    evolve,
    object_key,
    scope,
    with_default_tolerations,
)
from statefulsim.sim.delays import ZERO, DelayModel
from statefulsim.sim.env import SimEnv
from statefulsim.sim.process import Gen

T = TypeVar("T", bound=ApiObject)

PVC_PROTECTION_FINALIZER = "kubernetes.io/pvc-protection"

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"


class ApiError(Exception):
    """An API error response (``reason`` as in Kubernetes: AlreadyExists, NotFound, Conflict, ...).

    Controllers treat these as values: they catch them and decide (retry, requeue, ignore).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason, self.message))


@dataclass(frozen=True)
class WatchEvent:
    type: str
    obj: ApiObject
    old: ApiObject | None = None


Handler = Callable[[WatchEvent], None]


class Watch:
    """A watch on one kind: events are delivered in order, ``latency`` after the change."""

    def __init__(self, env: SimEnv, handler: Handler, latency: DelayModel, stream: str,
                 predicate: Callable[[WatchEvent], bool] | None = None) -> None:
        self.env = env
        self.handler = handler
        self.latency = latency
        self.stream = stream
        self.predicate = predicate
        self._last_delivery = 0.0
        self._zero = latency == ZERO
        self._sim = env.sim
        # The stream's RNG, looked up at the first delivery (streams are seeded by name, so
        # when one is created does not change its numbers).
        self._rng: random.Random | None = None

    def notify(self, ev: WatchEvent) -> None:
        if self.predicate is not None and not self.predicate(ev):
            return
        now = float(self._sim.now)
        if self._zero:
            delay = 0.0
        else:
            rng = self._rng
            if rng is None:
                rng = self._rng = self.env.rng(self.stream)
            at = max(now + self.latency.sample(rng), self._last_delivery)
            delay = at - now
            # SimPy schedules at now + delay, which rounding can put a hair before ``at`` and so
            # before this watch's previous event: deliveries would then overtake each other.
            while now + delay < at:
                delay = math.nextafter(delay, math.inf)
            self._last_delivery = now + delay
        # The event rides on the timer as its value: no per-delivery closure.
        self._sim.timeout(delay, ev).callbacks.append(self._deliver)

    def _deliver(self, timer: simpy.Event) -> None:
        self.handler(cast(WatchEvent, timer.value))


def _whole_seconds(status: PodStatus) -> PodStatus:
    """API timestamps (``metav1.Time``) keep whole seconds: condition times are truncated when
    written, which is what controllers comparing them (minReadySeconds) see."""
    if all(c.last_transition_time == math.floor(c.last_transition_time) for c in status.conditions):
        return status
    conds = tuple(c if c.last_transition_time == math.floor(c.last_transition_time)
                  else evolve(c, last_transition_time=float(math.floor(c.last_transition_time)))
                  for c in status.conditions)
    return evolve(status, conditions=conds)


class ObjectStore:
    """In-memory API server.  All methods are instantaneous; clients add latency."""

    def __init__(self, env: SimEnv) -> None:
        self.env = env
        self._rv = 0
        self._objects: dict[str, dict[tuple[str, str], ApiObject]] = {}
        self._watches: dict[str, list[Watch]] = {}
        self._observers: list[Handler] = []

    # ------------------------------------------------------------------ reads
    @property
    def resource_version(self) -> int:
        return self._rv

    def get(self, kind: str, namespace: str, name: str) -> Any:
        ns = scope(kind, namespace)
        return self._objects.get(kind, {}).get((ns, name))

    def list(self, kind: str, namespace: str | None = None) -> list[Any]:
        objs = self._objects.get(kind, {})
        if namespace is None:
            return list(objs.values())
        return [o for (ns, _), o in objs.items() if ns == namespace]

    # ------------------------------------------------------------------ watches
    def watch(self, kind: str, handler: Handler, latency: DelayModel = ZERO, stream: str = "watch",
              predicate: Callable[[WatchEvent], bool] | None = None) -> Watch:
        w = Watch(self.env, handler, latency, stream, predicate)
        self._watches.setdefault(kind, []).append(w)
        return w

    def observe(self, handler: Handler) -> None:
        """Synchronous observers see every change at the instant it happens (used by the trace)."""
        self._observers.append(handler)

    def _publish(self, ev: WatchEvent) -> None:
        for h in self._observers:
            h(ev)
        for w in self._watches.get(ev.obj.kind, ()):
            w.notify(ev)

    def _next_rv(self) -> int:
        self._rv += 1
        return self._rv

    # ------------------------------------------------------------------ writes
    def create(self, obj: T) -> T:
        kind, ns, name = object_key(obj)
        bucket = self._objects.setdefault(kind, {})
        if (ns, name) in bucket:
            raise ApiError("AlreadyExists", f'{kind.lower()}s "{name}" already exists')
        meta = evolve(
            obj.metadata,
            uid=obj.metadata.uid or self.env.new_uid(),
            resource_version=self._next_rv(),
            generation=1,
            creation_timestamp=self.env.now,
            deletion_timestamp=None,
        )
        new = evolve(obj, metadata=meta)
        if isinstance(new, Pod):
            pod: Pod = new
            if not pod.status.phase:
                # The pod registry's PrepareForCreate: every new pod starts in phase Pending.
                pod = evolve(pod, status=evolve(pod.status, phase="Pending"))
            # The DefaultTolerationSeconds admission plugin.
            tolerations = with_default_tolerations(pod.spec.tolerations)
            if tolerations != pod.spec.tolerations:
                pod = evolve(pod, spec=evolve(pod.spec, tolerations=tolerations))
            new = pod  # type: ignore[assignment]
        if kind == "PersistentVolumeClaim" and getattr(new, "storage_class_name", "") is None:
            # The DefaultStorageClass admission plugin names the default class, if there is one.
            default = self._default_storage_class()
            if default is not None:
                new = evolve(new, storage_class_name=default)
        if kind == "PersistentVolumeClaim" and PVC_PROTECTION_FINALIZER not in meta.finalizers:
            # The StorageObjectInUseProtection admission plugin.
            new = evolve(new, metadata=evolve(meta, finalizers=meta.finalizers + (PVC_PROTECTION_FINALIZER,)))
        bucket[(ns, name)] = new
        self._publish(WatchEvent(ADDED, new))
        return new

    def _default_storage_class(self) -> str | None:
        from statefulsim.sim.api.storage import StorageClass, pick_default_class

        classes = [c for c in self._objects.get("StorageClass", {}).values() if isinstance(c, StorageClass)]
        chosen = pick_default_class(classes)
        return chosen.metadata.name if chosen is not None else None

    def _current(self, obj: ApiObject) -> ApiObject:
        kind, ns, name = object_key(obj)
        cur = self._objects.get(kind, {}).get((ns, name))
        if cur is None:
            raise ApiError("NotFound", f'{kind.lower()}s "{name}" not found')
        return cur

    def update(self, obj: T, *, check_version: bool = True) -> T:
        """Replace an object (spec and metadata).  Conflict when the resourceVersion is stale."""
        cur = self._current(obj)
        if check_version and obj.metadata.resource_version != cur.metadata.resource_version:
            raise ApiError("Conflict", f"the object {obj.metadata.name} has been modified")
        if cur.metadata.uid != obj.metadata.uid:
            raise ApiError("Conflict", f"uid mismatch for {obj.metadata.name}")
        generation = cur.metadata.generation
        if isinstance(obj, (StatefulSet, PodDisruptionBudget)) and type(cur) is type(obj) and obj.spec != cur.spec:
            generation += 1
        meta = evolve(
            obj.metadata,
            resource_version=self._next_rv(),
            generation=generation,
            creation_timestamp=cur.metadata.creation_timestamp,
            deletion_timestamp=cur.metadata.deletion_timestamp,
            deletion_grace_period_seconds=cur.metadata.deletion_grace_period_seconds,
        )
        if hasattr(cur, "status") and hasattr(obj, "status"):
            # The main resource does not change status (status subresource semantics).
            new: Any = evolve(obj, metadata=meta, status=getattr(cur, "status"))
        else:
            new = evolve(obj, metadata=meta)
        return self._store_modified(cur, new)  # type: ignore[no-any-return]

    def update_status(self, obj: T, *, check_version: bool = True) -> T:
        """Write only the status of an object."""
        cur = self._current(obj)
        if check_version and obj.metadata.resource_version != cur.metadata.resource_version:
            raise ApiError("Conflict", f"the object {obj.metadata.name} has been modified")
        meta = evolve(cur.metadata, resource_version=self._next_rv())
        status = getattr(obj, "status")
        new: Any = evolve(cur, metadata=meta, status=_whole_seconds(status) if isinstance(status, PodStatus) else status)
        return self._store_modified(cur, new)  # type: ignore[no-any-return]

    def _store_modified(self, cur: ApiObject, new: T) -> T:
        kind, ns, name = object_key(new)
        if new.metadata.deletion_timestamp is not None and not new.metadata.finalizers and self._deletion_complete(new):
            del self._objects[kind][(ns, name)]
            self._publish(WatchEvent(DELETED, new, cur))
            return new
        self._objects[kind][(ns, name)] = new
        self._publish(WatchEvent(MODIFIED, new, cur))
        return new

    @staticmethod
    def _deletion_complete(obj: ApiObject) -> bool:
        if isinstance(obj, Pod):
            return obj.metadata.deletion_grace_period_seconds == 0
        return True

    def delete(self, kind: str, namespace: str, name: str, *, grace_period_seconds: float | None = None,
               uid: str | None = None, propagation: str = "Background") -> ApiObject:
        """Delete an object.

        Pods are deleted gracefully: ``deletionTimestamp = now + grace`` and the object stays
        until the kubelet confirms (a delete with grace 0).  Grace 0 removes the object at once
        (force deletion); so does deleting a pod that was never scheduled.  Objects with
        finalizers stay until the last finalizer is removed.
        """
        ns = scope(kind, namespace)
        cur = self._objects.get(kind, {}).get((ns, name))
        if cur is None:
            raise ApiError("NotFound", f'{kind.lower()}s "{name}" not found')
        if uid is not None and cur.metadata.uid != uid:
            raise ApiError("Conflict", f"precondition failed: uid in precondition {uid} does not match {cur.metadata.uid}")
        now = self.env.now
        if isinstance(cur, Pod):
            grace = cur.spec.termination_grace_period_seconds if grace_period_seconds is None else grace_period_seconds
            # CheckGracefulDelete: pods never scheduled, and pods in a terminal phase, go at once.
            if not cur.spec.node_name or cur.status.phase in ("Failed", "Succeeded"):
                grace = 0
            if cur.metadata.deletion_timestamp is not None and cur.metadata.deletion_grace_period_seconds is not None:
                # A second delete may only shorten the grace period.
                remaining = cur.metadata.deletion_grace_period_seconds
                if grace >= remaining and grace != 0:
                    return cur
            meta = evolve(
                cur.metadata,
                deletion_timestamp=(now + grace if cur.metadata.deletion_timestamp is None or grace == 0
                                    else min(cur.metadata.deletion_timestamp, now + grace)),
                deletion_grace_period_seconds=grace,
                resource_version=self._next_rv(),
            )
        else:
            if cur.metadata.deletion_timestamp is not None:
                return cur
            # propagationPolicy Orphan / Foreground: the garbage collector finishes the deletion.
            extra = {"Orphan": ("orphan",), "Foreground": ("foregroundDeletion",)}.get(propagation, ())
            meta = evolve(cur.metadata, deletion_timestamp=now, deletion_grace_period_seconds=0,
                          finalizers=cur.metadata.finalizers + extra, resource_version=self._next_rv())
        new = evolve(cur, metadata=meta)
        return self._store_modified(cur, new)

    def bind(self, pod: Pod, node: str) -> Pod:
        """The binding subresource: set ``spec.nodeName`` and ``PodScheduled=True`` at once."""
        cur = self._current(pod)
        if not isinstance(cur, Pod) or cur.metadata.uid != pod.metadata.uid:
            raise ApiError("Conflict", f"pod {pod.metadata.name} was replaced")
        if cur.spec.node_name:
            raise ApiError("Conflict", f"pod {pod.metadata.name} is already assigned to node {cur.spec.node_name}")
        if cur.metadata.deletion_timestamp is not None:
            raise ApiError("Conflict", f"pod {pod.metadata.name} is being deleted")
        status = _whole_seconds(cur.status.with_condition("PodScheduled", True, self.env.now))
        new = evolve(cur, spec=evolve(cur.spec, node_name=node), status=status,
                      metadata=evolve(cur.metadata, resource_version=self._next_rv()))
        return self._store_modified(cur, new)

    def remove_finalizer(self, obj: ApiObject, finalizer: str) -> ApiObject:
        cur = self._current(obj)
        fins = tuple(f for f in cur.metadata.finalizers if f != finalizer)
        meta = evolve(cur.metadata, finalizers=fins, resource_version=self._next_rv())
        return self._store_modified(cur, evolve(cur, metadata=meta))

    def objects(self) -> Iterable[ApiObject]:
        for bucket in self._objects.values():
            yield from bucket.values()


class TokenBucket:
    """Client-side rate limiter (client-go ``flowcontrol``/``x/time/rate`` reservation semantics)."""

    def __init__(self, qps: float, burst: int) -> None:
        self.qps = qps
        self.burst = float(burst)
        self.tokens = float(burst)
        self.last = 0.0

    def reserve(self, now: float) -> float:
        """Take one token; return how long the caller must wait for it."""
        if self.qps == float("inf"):
            return 0.0
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.qps)
        self.last = now
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.qps


class ApiClient:
    """A component's connection to the store: rate limited (qps/burst) and with request latency.

    Every method is a SimPy generator: ``pod = yield from client.create(pod)``.  API errors
    raise :class:`ApiError` after the request's latency, as a real client would see them.
    """

    def __init__(self, env: SimEnv, store: ObjectStore, name: str, latency: DelayModel,
                 qps: float = float("inf"), burst: int = 1) -> None:
        self.env = env
        self.store = store
        self.name = name
        self.latency = latency
        self.limiter = TokenBucket(qps, burst)
        self.requests = 0
        self._stream = f"api/{name}"
        self._rng: random.Random | None = None  # the stream's RNG, looked up at the first request

    def _request(self) -> Gen:
        self.requests += 1
        wait = self.limiter.reserve(self.env.now)
        rng = self._rng
        if rng is None:
            rng = self._rng = self.env.rng(self._stream)
        lat = self.latency.sample(rng)
        if wait + lat > 0:
            yield self.env.sim.timeout(wait + lat)

    def create(self, obj: T) -> Generator[simpy.Event, Any, T]:
        yield from self._request()
        return self.store.create(obj)

    def update(self, obj: T) -> Generator[simpy.Event, Any, T]:
        yield from self._request()
        return self.store.update(obj)

    def update_status(self, obj: T, check_version: bool = True) -> Generator[simpy.Event, Any, T]:
        yield from self._request()
        return self.store.update_status(obj, check_version=check_version)

    def delete(self, kind: str, namespace: str, name: str, *, grace_period_seconds: float | None = None,
               uid: str | None = None, propagation: str = "Background") -> Generator[simpy.Event, Any, ApiObject]:
        yield from self._request()
        return self.store.delete(kind, namespace, name, grace_period_seconds=grace_period_seconds, uid=uid,
                                 propagation=propagation)

    def bind(self, pod: Pod, node: str) -> Generator[simpy.Event, Any, Pod]:
        yield from self._request()
        return self.store.bind(pod, node)

    def get(self, kind: str, namespace: str, name: str) -> Generator[simpy.Event, Any, Any]:
        yield from self._request()
        obj = self.store.get(kind, namespace, name)
        if obj is None:
            raise ApiError("NotFound", f'{kind.lower()}s "{name}" not found')
        return obj

    def list(self, kind: str, namespace: str | None = None) -> Generator[simpy.Event, Any, list[Any]]:
        """A LIST request: the objects as the API server has them when the request arrives."""
        yield from self._request()
        return self.store.list(kind, namespace)

    def patch(self, kind: str, namespace: str, name: str, mutate: Callable[[Any], Any], *,
              status: bool = False) -> Generator[simpy.Event, Any, Any]:
        """A patch: ``mutate`` is applied to the object as the API server has it when the request
        arrives (no resourceVersion precondition, as a JSON/strategic merge patch).  ``status``
        patches the status subresource.  NotFound when the object is gone."""
        yield from self._request()
        cur = self.store.get(kind, namespace, name)
        if cur is None:
            raise ApiError("NotFound", f'{kind.lower()}s "{name}" not found')
        new = mutate(cur)
        if new is cur or new == cur:
            return cur
        if status:
            return self.store.update_status(new, check_version=False)
        return self.store.update(new, check_version=False)

    def call(self, fn: Callable[[], Any]) -> Generator[simpy.Event, Any, Any]:
        """Any other request (a subresource such as eviction): ``fn`` runs in the API server when
        the request arrives."""
        yield from self._request()
        return fn()

