"""One sync of one StatefulSet: upstream ``stateful_set_control.go`` (reference §3.3–§4.2).

``StatefulSetControl.update`` is ``UpdateStatefulSet``: revisions → ``updateStatefulSet``
(``process_replica``, ``process_condemned``, the rolling update) → ``completeRollingUpdate`` →
status (through :mod:`.status_updater`) → ``truncateHistory``.

Functions are SimPy generators because every side effect is an API call that takes time.
The pod management policy decides every place where upstream consults ``monotonic``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from itertools import takewhile
from typing import Callable, Iterable, Iterator

import simpy

from statefulsim.sim.api.informer import Informer
from statefulsim.sim.api.objects import (
    ON_DELETE,
    REVISION_LABEL,
    ROLLING_UPDATE,
    ControllerRevision,
    Pod,
    StatefulSet,
    StatefulSetStatus,
)
from statefulsim.sim.api.store import ApiClient, ApiError, ObjectStore
from statefulsim.sim.controllers.statefulset.pod_control import PodControl
from statefulsim.sim.controllers.statefulset.policies import (
    POD_FAILED,
    POD_NOT_AVAILABLE,
    POD_NOT_READY,
    POD_TERMINATING,
    PodManagementPolicy,
    PolicyRound,
    get_policy,
)
from statefulsim.sim.controllers.statefulset.revisions import (
    RevisionCache,
    RevisionPlan,
    TemplateCache,
    canonical,
    new_revision,
    plan_revisions,
    revisions_to_truncate,
)
from statefulsim.sim.controllers.statefulset.status_updater import StatusUpdater
from statefulsim.sim.controllers.statefulset.utils import (
    identity_matches,
    is_created,
    is_failed,
    is_healthy,
    is_pending,
    is_running_and_available,
    is_running_and_ready,
    is_succeeded,
    is_terminating,
    is_unavailable,
    new_stateful_set_pod,
    ordinal_of,
    pod_revision,
    resolve_max_unavailable,
    with_labels,
)
from statefulsim.sim.controllers.statefulset.view import Candidates, Holes, NewPod, OwnedPodIndex, SyncView
from statefulsim.sim.env import SimEnv
from statefulsim.sim.process import Gen
from statefulsim.sim.versions import FeatureGates

STALE_CLAIM = "StaleClaim"
BUDGET_EXHAUSTED = "UnavailableBudgetExhausted"
MAX_BATCH = 500


@dataclass(frozen=True)
class Waiting:
    """Why a sync stopped short of the desired state, and on which pod."""

    reason: str
    pod: str


@dataclass
class StepResult:
    exit: bool = False
    error: ApiError | None = None
    waiting: Waiting | None = None


@dataclass
class SyncOutcome:
    status: StatefulSetStatus
    error: ApiError | None
    waiting: Waiting | None


def _continue(gen: Gen, first: simpy.Event) -> Gen:
    """Drive an already started generator from its first yielded event on, as a process would."""
    ev = first
    while True:
        try:
            value = yield ev
        except BaseException as exc:  # pass interrupts and failures into the generator
            try:
                ev = gen.throw(exc)
            except StopIteration as stop:
                return stop.value
            continue
        try:
            ev = gen.send(value)
        except StopIteration as stop:
            return stop.value


def slow_start_batch(env: SimEnv, positions: list[int], total: int, fn: Callable[[int], Gen],
                     waits: list[Waiting] | None = None) -> Gen:
    """``slowStartBatch`` over a list of ``total`` items of which only ``positions`` (ascending)
    have work: batches of 1, 2, 4, ... (≤ 500) items run concurrently, a batch after the
    previous one; after a batch with an error, stop and return the first error.  The steps'
    :class:`Waiting` reasons are appended to ``waits``, in position order.

    Batches are cut over all ``total`` items, as upstream cuts them, so skipping the items
    without work changes nothing.  Each call runs until its first wait right away; only calls
    that wait (an API request) become SimPy processes.
    """
    index = 0
    batch = 1
    remaining = total
    p = 0
    while remaining > 0 and p < len(positions):
        size = min(remaining, batch, MAX_BATCH)
        results: list[StepResult] = []
        procs: list[simpy.Process] = []
        by_position: dict[int, StepResult] = {}
        started: list[int] = []
        while p < len(positions) and positions[p] < index + size:
            position = positions[p]
            gen = fn(position)
            p += 1
            try:
                first = next(gen)
            except StopIteration as stop:
                results.append(stop.value)
                by_position[position] = stop.value
                continue
            procs.append(env.process(_continue(gen, first)))
            started.append(position)
        if procs:
            yield simpy.AllOf(env.sim, procs)
            results.extend(pr.value for pr in procs if pr.value is not None)
            by_position.update((k, pr.value) for k, pr in zip(started, procs) if pr.value is not None)
        if waits is not None:
            waits.extend(w for k in sorted(by_position) if (w := by_position[k].waiting) is not None)
        errors = [r.error for r in results if r.error is not None]
        if errors:
            return errors[0]
        index += size
        remaining -= size
        batch = size * 2
    return None


# ---------------------------------------------------------------- status counters
def compute_replica_status(pods: Iterable[Pod], min_ready_seconds: float, now: float,
                           base: StatefulSetStatus) -> StatefulSetStatus:
    """Count replicas/ready/available/current/updated over ``pods`` into a copy of ``base``."""
    replicas = ready = available = current = updated = 0
    cur_rev, upd_rev = base.current_revision, base.update_revision
    for pod in pods:
        if not pod.status.phase:  # not created
            continue
        replicas += 1
        if is_running_and_ready(pod):
            ready += 1
            if is_running_and_available(pod, min_ready_seconds, now):
                available += 1
        if pod.metadata.deletion_timestamp is None:
            rev = pod.metadata.labels.get(REVISION_LABEL, "")
            if rev == cur_rev:
                current += 1
            if rev == upd_rev:
                updated += 1
    return replace(base, replicas=replicas, ready_replicas=ready, available_replicas=available,
                   current_replicas=current, updated_replicas=updated)


def complete_rolling_update(sts: StatefulSet, status: StatefulSetStatus) -> StatefulSetStatus:
    """Advance currentRevision once every replica is updated and ready (RollingUpdate only)."""
    n = sts.spec.replicas
    if (sts.spec.update_strategy.type == ROLLING_UPDATE and status.updated_replicas == n
            and status.ready_replicas == n and status.replicas == n):
        return replace(status, current_replicas=status.updated_replicas, current_revision=status.update_revision)
    return status


def inconsistent_status(sts: StatefulSet, status: StatefulSetStatus) -> bool:
    """Whether the computed status must be written (collisionCount is not compared)."""
    old = sts.status
    return (
        status.observed_generation > old.observed_generation
        or status.replicas != old.replicas
        or status.current_replicas != old.current_replicas
        or status.ready_replicas != old.ready_replicas
        or status.updated_replicas != old.updated_replicas
        or status.available_replicas != old.available_replicas
        or status.current_revision != old.current_revision
        or status.update_revision != old.update_revision
    )


def plain_view(sts: StatefulSet, pods: list[Pod], status: StatefulSetStatus, now: float, new_pod: NewPod) -> SyncView:
    """Upstream's walk: every in-range index is a candidate."""
    start, n = sts.spec.start_ordinal, sts.spec.replicas
    slots: dict[int, Pod] = {}
    condemned: list[Pod] = []
    for pod in pods:
        o = ordinal_of(pod)
        if start <= o < start + n:
            slots[o - start] = pod
        elif o >= 0:
            condemned.append(pod)
    candidates = Candidates(slots, Holes(sorted(slots), 0, n), lambda i: new_pod(start + i))
    condemned.sort(key=ordinal_of, reverse=True)
    counted = compute_replica_status(pods, sts.spec.min_ready_seconds, now, status)
    return SyncView(start, n, candidates, condemned, counted)


def _not_healthy(pod: Pod) -> bool:
    return not is_healthy(pod)


def _unless_not_found(err: ApiError | None) -> ApiError | None:
    """Update deletions ignore NotFound: the pod is already gone, which is what was wanted."""
    return None if err is not None and err.reason == "NotFound" else err


@dataclass(frozen=True)
class SyncRound:
    """What ``processReplica`` and ``processCondemned`` read in one ``updateStatefulSet`` pass."""

    sts: StatefulSet
    current: ControllerRevision
    update: ControllerRevision
    policy_round: PolicyRound
    replicas: Candidates
    condemned: list[Pod]
    first_unavailable: Pod | None
    min_ready_seconds: float
    now: float


class StatefulSetControl:
    """``defaultStatefulSetControl``: the StatefulSet sync algorithm, given the set's pods."""

    def __init__(self, env: SimEnv, pod_control: PodControl, gates: FeatureGates, templates: TemplateCache, *,
                 client: ApiClient, store: ObjectStore, revisions: Informer, status_updater: StatusUpdater,
                 index: OwnedPodIndex, indexed_sync: bool = True) -> None:
        self.env = env
        self.pods = pod_control
        self.gates = gates
        self.templates = templates
        self.client = client
        self.store = store
        self.revisions = revisions
        self.status_updater = status_updater
        self.index = index
        self.indexed_sync = indexed_sync
        self.revision_cache = RevisionCache()
        #: The last reason each set ("namespace/name") waits for, None when it does not.
        self.waiting: dict[str, Waiting | None] = {}
        #: Syncs that built their view from :attr:`index` / by walking every pod.
        self.indexed_syncs = 0
        self.full_syncs = 0

    # ---------------------------------------------------------------- UpdateStatefulSet
    def plan(self, sts: StatefulSet) -> RevisionPlan:
        """The revisions this sync would use, from the informer cache (no API call)."""
        return plan_revisions(sts, self.revisions.by_index("owner", sts.metadata.uid), self.revision_cache)

    def can_use_index(self, sts: StatefulSet, plan: RevisionPlan) -> bool:
        """Whether the view may come from :attr:`index` (same answers as walking every pod)."""
        retention = sts.spec.retention_policy
        return (
            self.indexed_sync
            and self.index.is_regular(sts.metadata.uid)
            # Claim owner references are not indexed: sets that may need them changed walk every pod.
            and (not sts.spec.volume_claim_templates
                 or (retention.when_deleted == "Retain" and retention.when_scaled == "Retain"))
            and not plan.create and not plan.renumber
        )

    def update(self, sts: StatefulSet, plan: RevisionPlan, pods: list[Pod] | None) -> Gen:
        """``UpdateStatefulSet``: revisions → :meth:`update_stateful_set` → ``completeRollingUpdate``
        → status → :meth:`truncate_history`.  ``pods`` are the set's claimed pods, or None to
        take them from :attr:`index` (then ``plan`` must need no API call).  Returns
        ``(ok, status)``; ``ok`` False means requeue with backoff.  API errors are values."""
        key = f"{sts.metadata.namespace}/{sts.metadata.name}"
        uid = sts.metadata.uid
        if pods is None:
            # Nothing below waits before the view is taken: it sees the same cache as a full list.
            current = plan.current or plan.update
            update, collision = plan.update, plan.collision_count
        else:
            try:
                current, update, collision = yield from self.sync_revisions(sts)
            except ApiError:
                return False, None
        base = StatefulSetStatus(observed_generation=sts.metadata.generation, current_revision=current.metadata.name,
                                 update_revision=update.metadata.name, collision_count=collision)
        new_pod = partial(self.new_versioned_pod, sts, current, update)
        now = self.env.now
        if pods is None:
            self.indexed_syncs += 1
            view = self.index.view(sts, base, now, new_pod)
            in_use = self.index.revisions_in_use(uid)
        else:
            self.full_syncs += 1
            view = plain_view(sts, pods, base, now, new_pod)
            in_use = {pod_revision(p) for p in pods}
        policy = get_policy(sts.spec.pod_management_policy)
        outcome: SyncOutcome = yield from self.update_stateful_set(sts, current, update, view, policy)
        ok = outcome.error is None
        status = complete_rolling_update(sts, outcome.status)
        if inconsistent_status(sts, status):
            try:
                yield from self.status_updater.update_stateful_set_status(sts, status)
            except ApiError:
                ok = False
        self._report_waiting(key, sts, outcome.waiting)
        yield from self.truncate_history(sts, in_use, current, update)
        return ok, status

    def sync_revisions(self, sts: StatefulSet) -> Gen:
        """``getStatefulSetRevisions``: create (or renumber) the update revision; returns
        ``(current, update, collisionCount)``; raises :class:`ApiError`."""
        plan = self.plan(sts)
        update = plan.update
        collision = plan.collision_count
        if plan.create:
            while True:
                try:
                    update = yield from self.client.create(update)
                    self.env.emit("RevisionCreated", statefulset=sts.name, revision=update.metadata.name,
                                  number=update.revision)
                    break
                except ApiError as e:
                    if e.reason != "AlreadyExists":
                        raise
                    existing = self.store.get("ControllerRevision", sts.metadata.namespace, update.metadata.name)
                    if existing is not None and canonical(existing.data) == canonical(update.data):
                        update = existing
                        break
                    collision += 1
                    update = new_revision(sts, update.revision, collision)
        elif plan.renumber:
            update = yield from self.client.update(update)
        current = plan.current or update
        return current, update, collision

    def truncate_history(self, sts: StatefulSet, in_use: set[str], current: ControllerRevision,
                         update: ControllerRevision) -> Gen:
        """``truncateHistory``: delete revisions beyond revisionHistoryLimit that no pod uses."""
        revs = self.revisions.by_index("owner", sts.metadata.uid)
        limit = sts.spec.revision_history_limit
        if 0 <= limit and len(revs) <= limit:
            return  # the history (revisions no pod uses) cannot exceed the limit
        live = {current.metadata.name, update.metadata.name} | in_use
        for rev in revisions_to_truncate(revs, live, limit):
            try:
                yield from self.client.delete("ControllerRevision", rev.metadata.namespace, rev.metadata.name)
            except ApiError:
                pass

    def _report_waiting(self, key: str, sts: StatefulSet, waiting: Waiting | None) -> None:
        prev = self.waiting.get(key)
        if waiting == prev:
            return
        self.waiting[key] = waiting
        if waiting is not None:
            self.env.emit("ControllerWaiting", statefulset=sts.name, reason=waiting.reason, pod=waiting.pod)
        elif prev is not None:
            self.env.emit("ControllerResumed", statefulset=sts.name)

    # ---------------------------------------------------------------- updateStatefulSet

    def new_versioned_pod(self, sts: StatefulSet, current: ControllerRevision, update: ControllerRevision,
                          ordinal: int) -> Pod:
        """``newVersionedStatefulSetPod``: current revision below the partition, else update."""
        strategy = sts.spec.update_strategy
        start = sts.spec.start_ordinal
        ru = strategy.rolling_update
        use_current = (
            (strategy.type == ROLLING_UPDATE and ru is None and ordinal < start + sts.status.current_replicas)
            or (ru is not None and ordinal < start + ru.partition)
        )
        rev = current if use_current else update
        return new_stateful_set_pod(sts, self.templates.get(rev), ordinal, rev.metadata.name,
                                    pod_index_label=self.gates.pod_index_label)

    def update_stateful_set(self, sts: StatefulSet, current: ControllerRevision, update: ControllerRevision,
                            view: SyncView, policy: PodManagementPolicy) -> Gen:
        """``updateStatefulSet``: one pass of ``sts`` over ``view`` (captured at the start of the sync)."""
        now = self.env.now
        mrs = sts.spec.min_ready_seconds
        status = view.status
        if sts.metadata.deletion_timestamp is not None:
            return SyncOutcome(status, None, None)

        replicas = view.candidates
        condemned = view.condemned
        unhealthy = self._unhealthy(mrs, now)
        first_unavailable: Pod | None = None
        for k in replicas:
            if unhealthy(replicas[k]):
                first_unavailable = replicas[k]
                break
        else:
            for p in reversed(condemned):
                if unhealthy(p):
                    first_unavailable = p
                    break

        rnd = policy.new_round(sts)
        r = SyncRound(sts, current, update, rnd, replicas, condemned, first_unavailable, mrs, now)

        # S9: in-range replicas (only the candidates: every other visit would be a no-op).
        result = yield from self._run_for_all(rnd, replicas, view.replicas, partial(self.process_replica, r))
        if result.exit or result.error is not None:
            waiting = result.waiting if result.error is None and self._work_pending(sts, view, update, result.waiting) else None
            return SyncOutcome(status, result.error, waiting)
        # A concurrent step that waits (a stale claim) does not stop the sync; unless something
        # later in the sync waits or fails, it is what the sync reports.
        carried = result.waiting if self._work_pending(sts, view, update, result.waiting) else None

        outcome: SyncOutcome = yield from self._scale_down_and_update(r, view, status, policy)
        if carried is not None and outcome.error is None and outcome.waiting is None:
            outcome = SyncOutcome(outcome.status, None, carried)
        return outcome

    def process_replica(self, r: SyncRound, i: int) -> Gen:
        """``processReplica``: bring the in-range replica at index ``i`` one step closer."""
        sts, rnd, mrs, now = r.sts, r.policy_round, r.min_ready_seconds, r.now
        pod = r.replicas[i]
        if is_failed(pod) or is_succeeded(pod):
            if not is_terminating(pod):
                err = yield from self.pods.delete(sts, pod)
                if err is not None:
                    return StepResult(True, err)
            # A pod that ended while being deleted is still waited for as terminating.
            reason = POD_TERMINATING if is_terminating(pod) else POD_FAILED
            return StepResult(True, None, Waiting(reason, pod.name))
        if not is_created(pod):
            if self.pods.claims.claim_is_stale(sts, pod):
                return StepResult(True, None, Waiting(STALE_CLAIM, pod.name))
            err = yield from self.pods.create(sts, pod)
            if err is not None:
                return StepResult(True, err)
            return StepResult(not rnd.continue_after_create(pod))
        if is_pending(pod):
            err = yield from self.pods.create_missing_claims(sts, pod)
            if err is not None:
                return StepResult(True, err)
        if is_terminating(pod) and rnd.wait_for(pod, POD_TERMINATING):
            return StepResult(True, None, Waiting(POD_TERMINATING, pod.name))
        if not is_running_and_ready(pod) and rnd.wait_for(pod, POD_NOT_READY):
            return StepResult(True, None, Waiting(POD_NOT_READY, pod.name))
        if not is_running_and_available(pod, mrs, now) and rnd.wait_for(pod, POD_NOT_AVAILABLE):
            return StepResult(True, None, Waiting(POD_NOT_AVAILABLE, pod.name))
        if not self.pods.claims.refs_match(sts, pod, False):
            err = yield from self.pods.claims.update_owner_refs(sts, pod, False)
            if err is not None:
                return StepResult(True, err)
        if not identity_matches(sts, pod):
            labels = dict(pod.metadata.labels)
            wanted = self.new_versioned_pod(sts, r.current, r.update, ordinal_of(pod)).metadata.labels
            labels.update({k: v for k, v in wanted.items() if k != "controller-revision-hash"})
            err = yield from self.pods.update(sts, with_labels(pod, labels))
            if err is not None:
                return StepResult(True, err)
        return StepResult(False)

    def process_condemned(self, r: SyncRound, i: int) -> Gen:
        """``processCondemned``: delete the condemned pod at position ``i`` once the policy allows."""
        sts, rnd, mrs, now = r.sts, r.policy_round, r.min_ready_seconds, r.now
        pod = r.condemned[i]
        first_unavailable = r.first_unavailable
        first = pod is first_unavailable
        blocker = first_unavailable.name if first_unavailable is not None else pod.name
        if is_terminating(pod):
            block = rnd.wait_for_condemned(pod, POD_TERMINATING, first)
            return StepResult(block, None, Waiting(POD_TERMINATING, pod.name) if block else None)
        if not is_running_and_ready(pod) and rnd.wait_for_condemned(pod, POD_NOT_READY, first):
            return StepResult(True, None, Waiting(POD_NOT_READY, blocker))
        if not is_running_and_available(pod, mrs, now) and rnd.wait_for_condemned(pod, POD_NOT_AVAILABLE, first):
            return StepResult(True, None, Waiting(POD_NOT_AVAILABLE, blocker))
        err = yield from self.pods.delete(sts, pod)
        return StepResult(True, err)

    def _scale_down_and_update(self, r: SyncRound, view: SyncView, status: StatefulSetStatus,
                               policy: PodManagementPolicy) -> Gen:
        """The rest of ``updateStatefulSet`` after the replicas: claims of condemned pods,
        condemned pods, then the rolling update."""
        sts, condemned = r.sts, r.condemned
        # S10: condemned pods become owners of their claims (whenScaled: Delete) before deletion.
        for pod in condemned:
            if not self.pods.claims.refs_match(sts, pod, True):
                err = yield from self.pods.claims.update_owner_refs(sts, pod, True)
                if err is not None:
                    return SyncOutcome(status, err, None)
        # S11: condemned, highest ordinal first.
        result = yield from self._run_for_all(r.policy_round, list(range(len(condemned))), len(condemned),
                                              partial(self.process_condemned, r))
        if result.exit or result.error is not None:
            return SyncOutcome(status, result.error, result.waiting)
        if sts.spec.update_strategy.type == ON_DELETE:
            return SyncOutcome(status, None, None)
        return (yield from self._rolling_update(sts, r.update, view, status, policy, r.now))

    def _unhealthy(self, mrs: float, now: float) -> Callable[[Pod], bool]:
        """What the first-unhealthy scan and the rolling update wait for: ``isUnavailable`` since
        1.34; before, ``!isHealthy``, which ignored minReadySeconds (PR #130909)."""
        if self.gates.min_ready_seconds_in_updates:
            return partial(is_unavailable, min_ready_seconds=mrs, now=now)
        return _not_healthy

    def _run_for_all(self, rnd: PolicyRound, positions: Iterable[int], total: int, fn: Callable[[int], Gen]) -> Gen:
        """``runForAll`` over the given positions (ascending) of a list of ``total`` items."""
        if not rnd.concurrent:
            for i in positions:
                res: StepResult = yield from fn(i)
                if res.exit or res.error is not None:
                    return res
            return StepResult(False)
        waits: list[Waiting] = []
        err = yield from slow_start_batch(self.env, list(positions), total, fn, waits)
        # Concurrent steps do not stop the sync, but a step that waits (a stale claim) is still
        # what keeps its pod from progressing: the first one is reported.
        return StepResult(err is not None, err, waits[0] if waits else None)

    @staticmethod
    def _work_pending(sts: StatefulSet, view: SyncView, update: ControllerRevision, waiting: Waiting | None) -> bool:
        """A block only counts as waiting when something is left to do behind it."""
        if waiting is None:
            return False
        if waiting.reason in (POD_FAILED, STALE_CLAIM):
            return True
        if view.condemned or view.candidates.has_holes():
            return True
        if sts.spec.update_strategy.type == ON_DELETE:
            return False
        ru = sts.spec.update_strategy.rolling_update
        partition = ru.partition if ru is not None else 0
        # No holes here, so the rolling update's pods are the candidates and the steady old pods,
        # and every steady old pod is at another revision than the update revision.
        if view.old is not None and next(view.old.descending(), -1) >= partition:
            return True
        upd = update.metadata.name
        return any(pod_revision(p) != upd for k, p in view.candidates.items() if k >= partition)

    def _rolling_update(self, sts: StatefulSet, update: ControllerRevision, view: SyncView,
                        status: StatefulSetStatus, policy: PodManagementPolicy, now: float) -> Gen:
        ru = sts.spec.update_strategy.rolling_update
        partition = ru.partition if ru is not None else 0
        mrs = sts.spec.min_ready_seconds
        upd = update.metadata.name
        replicas = view.for_update

        def is_old(p: Pod) -> bool:
            return pod_revision(p) != upd and not is_terminating(p)

        def targets() -> Iterator[int]:
            """Indices from the highest down to the partition: only these can be replaced."""
            return takewhile(lambda k: k >= partition, replicas.descending())

        if not self.gates.max_unavailable_stateful_set:
            unhealthy = self._unhealthy(mrs, now)
            for target in targets():
                pod = replicas[target]
                if is_old(pod):
                    err = yield from self.pods.delete(sts, pod)
                    status = replace(status, current_replicas=status.current_replicas - 1)
                    return SyncOutcome(status, _unless_not_found(err), None)
                if unhealthy(pod):
                    return SyncOutcome(status, None, Waiting(POD_NOT_AVAILABLE, pod.name))
            return SyncOutcome(status, None, None)

        if not any(is_old(replicas[t]) for t in targets()):
            return SyncOutcome(status, None, None)  # nothing to update: no deletion, no wait
        max_unavailable = resolve_max_unavailable(ru.max_unavailable if ru is not None else None, sts.spec.replicas)
        unavailable = view.count_unavailable(mrs, now)
        to_delete: list[Pod] = []
        if policy.ordered or not self.gates.parallel_two_phase_max_unavailable:
            if unavailable >= max_unavailable:
                return SyncOutcome(status, None, self._budget_wait(view, mrs, now))
            for t in targets():
                if len(to_delete) >= max_unavailable - unavailable:
                    break
                if is_old(replicas[t]):
                    to_delete.append(replicas[t])
        else:
            needing = sum(1 for p in replicas.values() if is_unavailable(p, mrs, now) and is_old(p))
            if unavailable >= max_unavailable and needing == 0:
                return SyncOutcome(status, None, self._budget_wait(view, mrs, now))
            for t in targets():  # phase 1: old pods that are unavailable anyway
                if len(to_delete) >= max_unavailable:
                    break
                if is_old(replicas[t]) and is_unavailable(replicas[t], mrs, now):
                    to_delete.append(replicas[t])
            budget = max_unavailable - unavailable
            phase2 = 0
            for t in targets():  # phase 2: old available pods, within the budget
                if phase2 >= budget:
                    break
                p = replicas[t]
                if is_old(p) and not is_unavailable(p, mrs, now):
                    to_delete.append(p)
                    phase2 += 1
        for pod in to_delete:
            err = _unless_not_found((yield from self.pods.delete(sts, pod)))
            status = replace(status, current_replicas=status.current_replicas - 1)
            if err is not None:
                return SyncOutcome(status, err, None)
        return SyncOutcome(status, None, None)

    @staticmethod
    def _budget_wait(view: SyncView, mrs: float, now: float) -> Waiting | None:
        for k in view.candidates:
            p = view.candidates[k]
            if is_unavailable(p, mrs, now):
                return Waiting(BUDGET_EXHAUSTED, p.name)
        return None
