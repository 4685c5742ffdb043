"""One sync of one StatefulSet: upstream ``updateStatefulSet`` (reference §3.3–§4.2).

Functions are SimPy generators because every side effect is an API call that takes time.
The pod management policy decides every place where upstream consults ``monotonic``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from itertools import takewhile
from typing import Callable, Iterable, Iterator

import simpy

from statefulsim.sim.api.objects import (
    ON_DELETE, ROLLING_UPDATE, ControllerRevision, Pod, StatefulSet, StatefulSetStatus,
)
from statefulsim.sim.api.store import ApiError
from statefulsim.sim.controllers.statefulset.pod_control import PodControl
from statefulsim.sim.controllers.statefulset.policies import (
    POD_FAILED, POD_NOT_AVAILABLE, POD_NOT_READY, POD_TERMINATING, PodManagementPolicy, PolicyRound,
)
from statefulsim.sim.controllers.statefulset.predicates import (
    identity_matches, is_created, is_failed, is_pending, is_running_and_available, is_running_and_ready,
    is_healthy, is_succeeded, is_terminating, is_unavailable, new_stateful_set_pod, ordinal_of, pod_revision,
    resolve_max_unavailable, with_labels,
)
from statefulsim.sim.controllers.statefulset.revisions import TemplateCache
from statefulsim.sim.controllers.statefulset.view import SyncView
from statefulsim.sim.env import SimEnv
from statefulsim.sim.versions import FeatureGates
from statefulsim.sim.process import Gen


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


def _not_healthy(pod: Pod) -> bool:
    return not is_healthy(pod)


def _unless_not_found(err: ApiError | None) -> ApiError | None:
    """Update deletions ignore NotFound: the pod is already gone, which is what was wanted."""
    return None if err is not None and err.reason == "NotFound" else err


class Reconciler:
    """The reconcile algorithm for one StatefulSet, given its pods and revisions."""

    def __init__(self, env: SimEnv, pod_control: PodControl, gates: FeatureGates, templates: TemplateCache) -> None:
        self.env = env
        self.pods = pod_control
        self.gates = gates
        self.templates = templates

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
        """One reconcile of ``sts`` over ``view`` (captured at the start of the sync)."""
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

        def process_replica(i: int) -> Gen:
            pod = replicas[i]
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
                labels.update({k: v for k, v in self.new_versioned_pod(sts, current, update, ordinal_of(pod)).metadata.labels.items()
                               if k != "controller-revision-hash"})
                err = yield from self.pods.update(sts, with_labels(pod, labels))
                if err is not None:
                    return StepResult(True, err)
            return StepResult(False)

        def process_condemned(i: int) -> Gen:
            pod = condemned[i]
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

        # S9: in-range replicas (only the candidates: every other visit would be a no-op).
        result = yield from self._run_for_all(rnd, replicas, view.replicas, process_replica)
        if result.exit or result.error is not None:
            waiting = result.waiting if result.error is None and self._work_pending(sts, view, update, result.waiting) else None
            return SyncOutcome(status, result.error, waiting)
        # A concurrent step that waits (a stale claim) does not stop the sync; unless something
        # later in the sync waits or fails, it is what the sync reports.
        carried = result.waiting if self._work_pending(sts, view, update, result.waiting) else None

        def rest() -> Gen:
            # S10: condemned pods become owners of their claims (whenScaled: Delete) before deletion.
            for pod in condemned:
                if not self.pods.claims.refs_match(sts, pod, True):
                    err = yield from self.pods.claims.update_owner_refs(sts, pod, True)
                    if err is not None:
                        return SyncOutcome(status, err, None)
            # S11: condemned, highest ordinal first.
            result = yield from self._run_for_all(rnd, list(range(len(condemned))), len(condemned), process_condemned)
            if result.exit or result.error is not None:
                return SyncOutcome(status, result.error, result.waiting)
            if sts.spec.update_strategy.type == ON_DELETE:
                return SyncOutcome(status, None, None)
            return (yield from self._rolling_update(sts, update, view, status, policy, now))

        outcome: SyncOutcome = yield from rest()
        if carried is not None and outcome.error is None and outcome.waiting is None:
            outcome = SyncOutcome(outcome.status, None, carried)
        return outcome

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
        upd = update.metadata.name
        return any(pod_revision(p) != upd for k, p in view.for_update.items() if k >= partition)

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
