"""What one sync knows about a StatefulSet's pods, captured when the sync starts.

Upstream lists every pod of the set on every sync and walks all of them.  Most of those visits
decide "nothing to do": a Running, Ready, available pod at the update revision with the right
identity.  A :class:`SyncView` holds only the in-range pods that may need something (the
*candidates*: holes, pods that are not steady, pods not yet available), the steady pods at an
old revision (only the rolling update has something to do with them), the condemned pods, and
the status counts.  The reconcile walks the candidates and gets exactly
the answers the full walk gives, because every skipped visit would have been a no-op.

Two ways to build a view:

* :func:`statefulsim.sim.controllers.statefulset.control.plain_view` walks all pods, as upstream
  does (every in-range pod is a candidate);
* :class:`OwnedPodIndex` keeps per-set indexes up to date from informer events and builds the
  view in time proportional to the candidates, not the set.

Tests run every scenario both ways and require identical traces.
"""

from __future__ import annotations

import bisect
import heapq
import weakref
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterator, Mapping, Sequence

from statefulsim.sim.api.objects import (
    POD_NAME_LABEL,
    REVISION_LABEL,
    RUNNING,
    Pod,
    StatefulSet,
    StatefulSetStatus,
    evolve,
)
from statefulsim.sim.controllers.statefulset.utils import (
    is_running_and_available,
    is_unavailable,
    parent_name_and_ordinal,
)

#: Builds the in-memory pod for a hole at ``ordinal`` (``newVersionedStatefulSetPod``).
NewPod = Callable[[int], Pod]


class Holes:
    """The indexes in ``[0, n)`` that have no pod, ascending, found lazily from the sorted,
    distinct ordinals in ``[start, start + n)`` that do have one (a copy, or a ``range`` when
    every one is taken: the view must not change while the sync runs).

    Finding the first hole is a binary search (the count of holes below ``ordinals[j]`` is
    ``ordinals[j] - start - j``, which never decreases), so OrderedReady, which stops at the first
    hole, never pays for the others.
    """

    def __init__(self, ordinals: Sequence[int], start: int, n: int) -> None:
        self._ordinals = ordinals
        self._start, self._n = start, n

    def __len__(self) -> int:
        return self._n - len(self._ordinals)

    def __contains__(self, index: object) -> bool:
        if not isinstance(index, int) or not 0 <= index < self._n:
            return False
        o = self._start + index
        j = bisect.bisect_left(self._ordinals, o)
        return j == len(self._ordinals) or self._ordinals[j] != o

    def __iter__(self) -> Iterator[int]:
        ords, start = self._ordinals, self._start
        a, b = 0, len(ords)
        while a < b:  # the first position with a hole below it
            mid = (a + b) // 2
            if ords[mid] - start == mid:
                a = mid + 1
            else:
                b = mid
        j, i = a, a
        while i < self._n:
            if j < len(ords) and ords[j] - start == i:
                j += 1
            else:
                yield i
            i += 1

    def descending(self) -> Iterator[int]:
        """The holes from the highest index down."""
        ords, start = self._ordinals, self._start
        j, i = len(ords) - 1, self._n - 1
        left = len(self)
        while left:
            if j >= 0 and ords[j] - start == i:
                j -= 1
            else:
                yield i
                left -= 1
            i -= 1


def _merged(pods: list[int], holes: Iterator[int]) -> Iterator[int]:
    """The ascending union of the sorted, distinct ``pods`` and the ascending ``holes`` (disjoint
    from them), taking holes only as far as the caller reads (``heapq.merge`` of two, without
    its set-up cost: a sync iterates the candidates several times)."""
    i, n = 0, len(pods)
    for h in holes:
        while i < n and pods[i] < h:
            yield pods[i]
            i += 1
        yield h
    yield from pods[i:]


def _merged_descending(pods: list[int], holes: Iterator[int]) -> Iterator[int]:
    """:func:`_merged` from the highest index down (``pods`` still ascending, ``holes`` descending)."""
    i = len(pods) - 1
    for h in holes:
        while i >= 0 and pods[i] > h:
            yield pods[i]
            i -= 1
        yield h
    while i >= 0:
        yield pods[i]
        i -= 1


class Candidates(Mapping[int, Pod]):
    """index -> pod for the in-range indexes that may need work, iterated in index order.

    A hole's in-memory pod is built only when the reconcile looks at it, and holes are listed
    lazily: OrderedReady stops at the first hole, so a sync of a set scaled from 0 to N costs one
    pod, not N."""

    def __init__(self, pods: dict[int, Pod], holes: Holes, make: Callable[[int], Pod]) -> None:
        self._pods = pods
        self._holes = holes
        self._make = make
        self._built: dict[int, Pod] = {}
        self._sorted = sorted(pods)

    def __getitem__(self, index: int) -> Pod:
        pod = self._pods.get(index) or self._built.get(index)
        if pod is None:
            if index not in self._holes:
                raise KeyError(index)
            pod = self._built[index] = self._make(index)
        return pod

    def __iter__(self) -> Iterator[int]:
        if not len(self._holes):
            return iter(self._sorted)
        if not self._sorted:
            return iter(self._holes)
        return _merged(self._sorted, iter(self._holes))

    def descending(self) -> Iterator[int]:
        """The indexes from the highest down, as lazily as :meth:`__iter__`."""
        if not len(self._holes):
            return reversed(self._sorted)
        if not self._sorted:
            return self._holes.descending()
        return _merged_descending(self._sorted, self._holes.descending())

    def __len__(self) -> int:
        return len(self._pods) + len(self._holes)

    def __contains__(self, index: object) -> bool:
        return index in self._pods or index in self._holes

    def pods(self) -> Iterator[Pod]:
        """The pods that exist (holes excluded)."""
        return iter(self._pods.values())

    def hole_count(self) -> int:
        return len(self._holes)

    def has_holes(self) -> bool:
        """Whether some index has no pod yet (one the controller would create)."""
        return bool(len(self._holes))

    def with_pods(self, extra: dict[int, Pod]) -> Candidates:
        """These candidates and ``extra`` (pods at other indexes) together; a hole is built once,
        by these candidates, whichever of the two looks at it first."""
        return Candidates({**extra, **self._pods}, self._holes, self.__getitem__)

    def with_old(self, old: OldPods) -> Candidates:
        """:meth:`with_pods` for the steady old pods of an :class:`OldPods` snapshot, without
        building their dict: they are looked up and listed lazily."""
        return _WithOld(self, old)


class OldPods:
    """index -> pod for the steady in-range pods at another revision than the update revision,
    as :class:`OwnedPodIndex` had them when the view was taken: a sorted copy of its
    per-revision ordinal lists (a C-level slice), and its live ordinal -> pod dict read copy on
    write (the index saves a pod into :attr:`saved` before its entry changes), filtered lazily,
    so a sync that looks at a few of them (the rolling update walks from the top) does not pay
    for all of them."""

    def __init__(self, ordinals: list[int], pods: dict[int, Pod], start: int, skip: Mapping[int, Pod]) -> None:
        self._ordinals = ordinals  # sorted, in range; may include ``skip``'s (the candidates)
        self._live = pods
        #: ordinal -> the pod as it was when the view was taken, for entries changed since
        self.saved: dict[int, Pod] = {}
        self._start = start
        self._skip = skip
        #: how many times this snapshot was walked or probed (tests check the lazy path ran)
        self.lookups = 0

    def get(self, index: int) -> Pod | None:
        self.lookups += 1
        if index in self._skip:
            return None
        o = self._start + index
        j = bisect.bisect_left(self._ordinals, o)
        if j == len(self._ordinals) or self._ordinals[j] != o:
            return None
        return self.pod(o)

    def pod(self, o: int) -> Pod:
        """The pod at ordinal ``o`` (one of the snapshot's) as it was when the view was taken."""
        return self.saved.get(o) or self._live[o]

    def ascending(self) -> Iterator[int]:
        self.lookups += 1
        start, skip = self._start, self._skip
        return (o - start for o in self._ordinals if o - start not in skip)

    def descending(self) -> Iterator[int]:
        self.lookups += 1
        start, skip = self._start, self._skip
        return (o - start for o in reversed(self._ordinals) if o - start not in skip)

    def __len__(self) -> int:
        return sum(1 for _ in self.ascending())

    def __bool__(self) -> bool:
        return next(self.ascending(), None) is not None

    def as_dict(self) -> dict[int, Pod]:
        """Every index and pod (what the eager view built)."""
        return {i: self.pod(self._start + i) for i in self.ascending()}


class _WithOld(Candidates):
    """Candidates and an :class:`OldPods` snapshot together (disjoint: the snapshot skips the
    candidates), iterated in index order as one mapping."""

    def __init__(self, base: Candidates, old: OldPods) -> None:
        super().__init__(base._pods, base._holes, base.__getitem__)
        self._sorted = base._sorted
        self._old = old

    def __getitem__(self, index: int) -> Pod:
        pod = self._pods.get(index)
        if pod is None:
            pod = self._old.get(index)
            if pod is None:
                return self._make(index)  # the base candidates build (or refuse) a hole, once
        return pod

    def __iter__(self) -> Iterator[int]:
        if not len(self._holes):
            return heapq.merge(self._sorted, self._old.ascending())
        return heapq.merge(self._sorted, self._holes, self._old.ascending())

    def descending(self) -> Iterator[int]:
        if not len(self._holes):
            return heapq.merge(reversed(self._sorted), self._old.descending(), reverse=True)
        return heapq.merge(reversed(self._sorted), self._holes.descending(), self._old.descending(), reverse=True)

    def __len__(self) -> int:
        return len(self._pods) + len(self._holes) + sum(1 for _ in self._old.ascending())

    def __contains__(self, index: object) -> bool:
        return index in self._pods or index in self._holes or (isinstance(index, int) and self._old.get(index) is not None)

    def pods(self) -> Iterator[Pod]:
        yield from self._pods.values()
        for i in self._old.ascending():
            yield self._old.pod(self._old._start + i)


@dataclass
class SyncView:
    start: int
    replicas: int
    #: index (ordinal - start) -> pod, for every in-range index that may need work; holes hold
    #: the in-memory pod the controller would create.
    candidates: Candidates
    #: out-of-range pods, highest ordinal first.
    condemned: list[Pod]
    #: replicas/ready/available/current/updated counted over all pods at the start of the sync.
    status: StatefulSetStatus
    #: steady in-range pods at another revision than the update revision: nothing for
    #: processReplica to do, but the rolling update replaces them.  Every in-range pod outside
    #: ``candidates`` is available (both view builders guarantee it).  None: there are none.
    old: OldPods | None = None

    def count_unavailable(self, min_ready_seconds: float, now: float) -> int:
        """In-range pods not available now, holes included: only candidates can be."""
        c = self.candidates
        return c.hole_count() + sum(1 for p in c.pods() if is_unavailable(p, min_ready_seconds, now))

    @cached_property
    def for_update(self) -> Candidates:
        """The pods the rolling update looks at: the candidates and the steady old pods."""
        return self.candidates.with_old(self.old) if self.old else self.candidates



def _is_steady(pod: Pod) -> bool:
    """Running, Ready, not terminating, identity label in place: processReplica has nothing to do
    (apart from the minReadySeconds and revision checks the view adds per sync)."""
    return (
        pod.status.phase == RUNNING
        and pod.status.ready
        and pod.metadata.deletion_timestamp is None
        and pod.metadata.labels.get(POD_NAME_LABEL) == pod.metadata.name
    )


def _ready_since(pod: Pod) -> float:
    cond = pod.status.condition("Ready")
    assert cond is not None
    return cond.last_transition_time


class _SetPods:
    """Indexes of one StatefulSet's owned pods."""

    def __init__(self) -> None:
        self.irregular = 0  # owned pods not named <set>-<ordinal>: the view falls back to a full walk
        self.by_ordinal: dict[int, Pod] = {}
        self.ordinals: list[int] = []  # sorted
        self.unsteady: set[int] = set()
        self.ready: list[tuple[float, int]] = []  # (Ready since, ordinal) of Running+Ready pods, sorted
        self.revisions: dict[str, list[int]] = {}  # revision -> ordinals (all pods), sorted
        self.live_revisions: dict[str, int] = {}  # revision -> non-terminating pod count
        #: the live :class:`OldPods` snapshots of ``by_ordinal`` (copy on write: a pod is saved
        #: into each before its entry changes)
        self.snapshots: weakref.WeakSet[OldPods] = weakref.WeakSet()

    def add(self, o: int, pod: Pod) -> None:
        self.by_ordinal[o] = pod
        bisect.insort(self.ordinals, o)
        if not _is_steady(pod):
            self.unsteady.add(o)
        if pod.status.phase == RUNNING and pod.status.ready:
            bisect.insort(self.ready, (_ready_since(pod), o))
        rev = pod.metadata.labels.get(REVISION_LABEL, "")
        bisect.insort(self.revisions.setdefault(rev, []), o)
        if pod.metadata.deletion_timestamp is None:
            self.live_revisions[rev] = self.live_revisions.get(rev, 0) + 1

    def remove(self, o: int) -> None:
        pod = self.by_ordinal.pop(o)
        if self.snapshots:
            for snap in self.snapshots:
                snap.saved.setdefault(o, pod)
        del self.ordinals[bisect.bisect_left(self.ordinals, o)]
        self.unsteady.discard(o)
        if pod.status.phase == RUNNING and pod.status.ready:
            del self.ready[bisect.bisect_left(self.ready, (_ready_since(pod), o))]
        rev = pod.metadata.labels.get(REVISION_LABEL, "")
        ords = self.revisions[rev]
        del ords[bisect.bisect_left(ords, o)]
        if not ords:
            del self.revisions[rev]
        if pod.metadata.deletion_timestamp is None:
            self.live_revisions[rev] -= 1
            if not self.live_revisions[rev]:
                del self.live_revisions[rev]


class OwnedPodIndex:
    """Per-set indexes of the pods the controller owns, fed by its pod informer's events."""

    def __init__(self) -> None:
        self._sets: dict[str, _SetPods] = {}
        self._where: dict[tuple[str, str], tuple[str, int]] = {}  # (namespace, name) -> (owner uid, ordinal)

    def remove(self, pod: Pod) -> None:
        key = (pod.metadata.namespace, pod.metadata.name)
        where = self._where.pop(key, None)
        if where is not None:
            uid, o = where
            if o < 0:
                self._sets[uid].irregular -= 1
            else:
                self._sets[uid].remove(o)

    def put(self, pod: Pod) -> None:
        """Record the pod's latest state (call after the informer cache was updated)."""
        self.remove(pod)
        ref = pod.metadata.controller_ref()
        if ref is None or ref.kind != "StatefulSet":
            return
        parent, o = parent_name_and_ordinal(pod.metadata.name)
        key = (pod.metadata.namespace, pod.metadata.name)
        s = self._sets.get(ref.uid)
        if s is None:  # (setdefault would build one, weak set and all, on every call)
            s = self._sets[ref.uid] = _SetPods()
        if parent != ref.name or o in s.by_ordinal:
            s.irregular += 1
            self._where[key] = (ref.uid, -1)
            return
        self._where[key] = (ref.uid, o)
        s.add(o, pod)

    def is_regular(self, set_uid: str) -> bool:
        """False when the set owns pods the index cannot place (then walk all pods instead)."""
        s = self._sets.get(set_uid)
        return s is None or s.irregular == 0

    def revisions_in_use(self, set_uid: str) -> set[str]:
        s = self._sets.get(set_uid)
        return set(s.revisions) if s is not None else set()

    def view(self, sts: StatefulSet, status: StatefulSetStatus, now: float, new_pod: NewPod) -> SyncView:
        """The view of ``sts``'s owned pods now, in time proportional to what may need work."""
        s = self._sets.get(sts.metadata.uid) or _SetPods()
        start, n = sts.spec.start_ordinal, sts.spec.replicas
        end = start + n  # exclusive
        mrs = sts.spec.min_ready_seconds
        update_rev = status.update_revision
        by_ordinal = s.by_ordinal

        candidates: dict[int, Pod] = {}
        lo, hi = bisect.bisect_left(s.ordinals, start), bisect.bisect_left(s.ordinals, end)
        # Every in-range ordinal taken (the steady state): a range stands for them, no copy.
        holes = Holes(s.ordinals[lo:hi] if hi - lo < n else range(start, end), start, n)
        for o in s.unsteady:
            if start <= o < end:
                candidates[o - start] = by_ordinal[o]
        # Running+Ready pods that are not yet available for minReadySeconds.
        not_available = 0
        if mrs > 0 and s.ready:
            i = bisect.bisect_left(s.ready, (now - mrs - 1.0, -1))
            for _, o in s.ready[i:]:
                pod = by_ordinal[o]
                if not is_running_and_available(pod, mrs, now):
                    not_available += 1
                    if start <= o < end:
                        candidates[o - start] = pod
        # Steady old pods: in range, at another revision, not candidates.  Only copied here (the
        # sorted ordinals and the pods, at C speed) and filtered when the sync looks at them.
        old_ords: list[int] = []
        old_revs = 0
        for rev, ords in s.revisions.items():
            if rev != update_rev:
                old_revs += 1
                old_ords += ords[bisect.bisect_left(ords, start):bisect.bisect_left(ords, end)]
        old: OldPods | None = None
        if old_ords:
            if old_revs > 1:
                old_ords.sort()  # several old revisions: merge their lists
            old = OldPods(old_ords, by_ordinal, start, candidates)
            s.snapshots.add(old)
        condemned = [by_ordinal[o] for o in reversed(s.ordinals[hi:])] + [by_ordinal[o] for o in reversed(s.ordinals[:lo])]

        ready = len(s.ready)
        counted = evolve(
            status,
            replicas=len(by_ordinal),
            ready_replicas=ready,
            available_replicas=ready - not_available,
            current_replicas=s.live_revisions.get(status.current_revision, 0),
            updated_replicas=s.live_revisions.get(update_rev, 0),
        )
        return SyncView(start, n, Candidates(candidates, holes, lambda i: new_pod(start + i)), condemned, counted, old)
