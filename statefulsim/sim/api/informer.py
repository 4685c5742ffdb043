"""Informers: a controller's lagging, in-memory view of one kind, with indexes and handlers."""

from __future__ import annotations

from typing import Any, Callable, Iterable, List

from statefulsim.sim.api.objects import CLUSTER_SCOPED, ApiObject, scope
from statefulsim.sim.api.store import ADDED, DELETED, ObjectStore, WatchEvent
from statefulsim.sim.delays import DelayModel

IndexFn = Callable[[Any], Iterable[str]]


class Informer:
    """Cache of one kind fed by a watch.  ``list``/``get`` read the cache, never the store.

    Handlers run when an event is delivered, after the cache was updated.  ``max_rv`` is the
    newest resourceVersion the cache has observed (used by the stale-cache guard).
    """

    def __init__(self, store: ObjectStore, kind: str, latency: DelayModel, stream: str,
                 indexes: dict[str, IndexFn] | None = None,
                 predicate: Callable[[WatchEvent], bool] | None = None) -> None:
        self.kind = kind
        self._cluster_scoped = kind in CLUSTER_SCOPED
        self.cache: dict[tuple[str, str], Any] = {}
        self.max_rv = 0
        #: events delivered so far (a reader can tell "the cache is as I last saw it")
        self.changes = 0
        self._index_fns = indexes or {}
        self._indexes: dict[str, dict[str, dict[tuple[str, str], Any]]] = {n: {} for n in self._index_fns}
        # key -> index name -> the values the cached object is filed under
        self._values: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {}
        self._handlers: list[Callable[[WatchEvent], None]] = []
        # Start from what already exists (the initial LIST), then follow the watch.
        for obj in store.list(kind):
            if predicate is None or predicate(WatchEvent(ADDED, obj)):
                self._put(obj)
                self.max_rv = max(self.max_rv, obj.metadata.resource_version)
        store.watch(kind, self._deliver, latency, stream, predicate)

    def add_handler(self, handler: Callable[[WatchEvent], None]) -> None:
        self._handlers.append(handler)

    def add_indexes(self, indexes: dict[str, IndexFn]) -> None:
        """Add indexes (client-go ``AddIndexers``), built over what the cache holds now.  An
        index name already present must come with the same function."""
        for name, fn in indexes.items():
            have = self._index_fns.get(name)
            if have is not None:
                if have is not fn:
                    raise ValueError(f"{self.kind} informer: index {name!r} is already defined differently")
                continue
            self._index_fns[name] = fn
            idx: dict[str, dict[tuple[str, str], Any]] = {}
            for key, obj in self.cache.items():
                vals = tuple(fn(obj))
                self._values.setdefault(key, {})[name] = vals
                for value in vals:
                    idx.setdefault(value, {})[key] = obj
            self._indexes[name] = idx

    def _key(self, obj: ApiObject) -> tuple[str, str]:
        """(namespace, name) as :func:`~statefulsim.sim.api.objects.object_key` has them."""
        meta = obj.metadata
        return ("" if self._cluster_scoped else meta.namespace, meta.name)

    def _put(self, obj: Any) -> None:
        key = self._key(obj)
        self.cache[key] = obj
        if not self._index_fns:
            return
        values = self._values.get(key)
        if values is None:
            values = self._values[key] = {}
        indexes = self._indexes
        for name, fn in self._index_fns.items():
            vals = tuple(fn(obj))
            idx = indexes[name]
            old_vals = values.get(name, ())
            if old_vals != vals:
                self._drop(idx, key, old_vals)
                values[name] = vals
            for value in vals:
                bucket = idx.get(value)
                if bucket is None:
                    idx[value] = {key: obj}
                else:
                    bucket[key] = obj

    def _unindex(self, key: tuple[str, str]) -> None:
        values = self._values.pop(key, None)
        if values is not None:
            for name, vals in values.items():
                self._drop(self._indexes[name], key, vals)

    @staticmethod
    def _drop(idx: dict[str, dict[tuple[str, str], Any]], key: tuple[str, str], values: tuple[str, ...]) -> None:
        for value in values:
            bucket = idx.get(value)
            if bucket is not None:
                bucket.pop(key, None)
                if not bucket:
                    del idx[value]

    def _deliver(self, ev: WatchEvent) -> None:
        self.changes += 1
        self.max_rv = max(self.max_rv, ev.obj.metadata.resource_version)
        key = self._key(ev.obj)
        if ev.type == DELETED:
            if self.cache.pop(key, None) is not None:
                self._unindex(key)
        else:
            self._put(ev.obj)
        for h in self._handlers:
            h(ev)

    def get(self, namespace: str, name: str) -> Any:
        return self.cache.get((scope(self.kind, namespace), name))

    def list(self, namespace: str | None = None) -> List[Any]:
        if namespace is None:
            return list(self.cache.values())
        return [o for (ns, _), o in self.cache.items() if ns == namespace]

    def index_values(self, index: str) -> List[str]:
        """The values ``index`` has objects for, sorted."""
        return sorted(self._indexes[index])

    def by_index(self, index: str, value: str) -> List[Any]:
        return list(self._indexes[index].get(value, {}).values())


class SharedInformerFactory:
    """One informer per kind for every controller of one process (client-go's
    ``SharedInformerFactory``): kube-controller-manager runs a single watch per resource and
    fans each event out to all its controllers' handlers, at the same instant, in the order
    the handlers were added."""

    def __init__(self, store: ObjectStore, latency: DelayModel, stream: str) -> None:
        self.store = store
        self.latency = latency
        self.stream = stream
        self._informers: dict[str, Informer] = {}

    def informer(self, kind: str, indexes: dict[str, IndexFn] | None = None) -> Informer:
        """The informer of ``kind`` (started on first request), with ``indexes`` added."""
        inf = self._informers.get(kind)
        if inf is None:
            inf = self._informers[kind] = Informer(self.store, kind, self.latency, self.stream, indexes)
        elif indexes:
            inf.add_indexes(indexes)
        return inf
