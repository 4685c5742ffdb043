"""Evictions: one ``evictPod`` request, and ``drainNode`` (cordon, then evict as kubectl drain does)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Self

import simpy

from statefulsim.problems import Path, Problems, get_bool, get_duration
from statefulsim.sim.actions.common import _fail, _get_grace_seconds, _request
from statefulsim.sim.actions.nodes import _patch_node
from statefulsim.sim.api.eviction import evict
from statefulsim.sim.api.objects import (
    FAILED,
    SUCCEEDED,
    Pod,
    evolve,
)
from statefulsim.sim.api.store import ApiError
from statefulsim.sim.cluster import Cluster
from statefulsim.sim.process import Gen
from statefulsim.sim.verb import Verb, arg, namespace_field, seconds_text


@dataclass(frozen=True)
class EvictPod(Verb):
    """One request to the eviction API (``POST pods/NAME/eviction``).  A refusal because of a
    PodDisruptionBudget is recorded as ``EvictionBlocked``; the action does not retry."""

    pod: str
    grace_period_seconds: float | None = field(default=None, metadata=arg(_get_grace_seconds, trace="if_set"))
    namespace: str = namespace_field()
    verb: ClassVar[str] = "evictPod"

    def execute(self, cluster: Cluster) -> Gen:
        store = cluster.store
        return (yield from _request(cluster.user.call(lambda: evict(store, self.namespace, self.pod,
                                                                    self.grace_period_seconds))))


#: kubectl drain: a refused eviction (HTTP 429) is retried after this many seconds.
DRAIN_EVICTION_RETRY = 5.0
#: kubectl drain: how often it checks that an evicted pod is gone.
DRAIN_POLL_INTERVAL = 1.0


def _get_timeout(m: Mapping[str, Any], key: str, path: Path, problems: Problems,
                 default: float | None = None) -> float | None:
    """kubectl drain's ``--timeout``: a duration; 0 (the default) waits forever (None)."""
    seconds = get_duration(m, key, path, problems, 0.0)
    return None if seconds == 0 or math.isinf(seconds) else seconds


#: kubectl drain's pod filters, in its order (``makeFilters``): the error of each, by filter.
DRAIN_FILTER_ERRORS = {
    "daemonset": "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)",
    "local-storage": "Pods with local storage (use --delete-emptydir-data to override)",
    "unreplicated": "Pods that declare no controller (use --force to override)",
}
#: What wait.PollUntilContextTimeout returns when its deadline passes (``ErrWaitTimeout``).
WAIT_TIMEOUT = "timed out waiting for the condition"


@dataclass(frozen=True)
class DrainNode(Verb):
    """``kubectl drain NODE``: cordon, filter the node's pods as kubectl does (DaemonSet pods are
    an error unless ``ignoreDaemonsets``, then skipped; pods with an emptyDir an error unless
    ``deleteEmptydirData``; pods without a controller an error unless ``force``), then evict
    every pod **concurrently** (one goroutine per pod in ``drain.go``), retrying an eviction
    refused with 429 every 5 s, and wait (polling every 1 s) until each pod is gone.  With
    ``disableEviction`` the pods are deleted instead, one request after the other, bypassing
    PodDisruptionBudgets, and waited for together.  ``gracePeriod`` goes into the eviction's or
    delete's options.  ``timeout`` (0: none) is kubectl's global deadline: the drain gives up,
    records ``DrainTimedOut`` and fails with kubectl's errors."""

    node: str
    grace_period_seconds: float | None = field(default=None, metadata=arg(_get_grace_seconds, trace="if_set"))
    force: bool = field(default=False, metadata=arg(get_bool, trace="if_set"))
    timeout: float | None = field(default=None, metadata=arg(_get_timeout, trace="if_set"))
    disable_eviction: bool = field(default=False, metadata=arg(get_bool, trace="if_set"))
    delete_emptydir_data: bool = field(default=False, metadata=arg(get_bool, trace="if_set"))
    ignore_daemonsets: bool = field(default=False, metadata=arg(get_bool, trace="if_set"))
    verb: ClassVar[str] = "drainNode"

    @classmethod
    def allowed_keys(cls) -> tuple[str, ...]:
        return super().allowed_keys() + ("gracePeriod",)

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> Self:
        """``gracePeriod`` (kubectl's ``--grace-period``, whole seconds or a duration such as
        ``30s``) is another name for ``gracePeriodSeconds``."""
        problems.unknown_keys(m, cls.allowed_keys(), path)
        args = cls.read(m, path, problems)
        if m.get("gracePeriod") is not None:
            if m.get("gracePeriodSeconds") is not None:
                problems.add(path, "give gracePeriod or gracePeriodSeconds, not both")
            grace = get_duration(m, "gracePeriod", path, problems, 0.0)
            if math.isinf(grace) or not grace.is_integer():
                problems.add(path + ("gracePeriod",), f"expected whole seconds (the API takes an integer), "
                                                      f"found {m['gracePeriod']!r}")
            args["grace_period_seconds"] = grace
        return cls(at, **args)

    def _filtered(self, pods: list[Pod]) -> tuple[list[Pod], str | None]:
        """kubectl's ``GetPodsForDeletion``: the pods to evict, or the aggregated filter errors."""
        keep: list[Pod] = []
        failed: dict[str, list[str]] = {}
        for p in pods:
            ref = p.metadata.controller_ref()
            done = p.status.phase in (FAILED, SUCCEEDED)
            if ref is not None and ref.kind == "DaemonSet":
                if not self.ignore_daemonsets:
                    failed.setdefault("daemonset", []).append(f"{p.metadata.namespace}/{p.metadata.name}")
                continue  # ignored, with a warning
            if not done and any(v.empty_dir for v in p.spec.volumes) and not self.delete_emptydir_data:
                failed.setdefault("local-storage", []).append(f"{p.metadata.namespace}/{p.metadata.name}")
                continue
            if not done and ref is None and not self.force:
                failed.setdefault("unreplicated", []).append(f"{p.metadata.namespace}/{p.metadata.name}")
                continue
            keep.append(p)
        errors = [f"cannot delete {DRAIN_FILTER_ERRORS[k]}: {', '.join(names)}"
                  for k in DRAIN_FILTER_ERRORS if (names := failed.get(k))]
        return keep, (errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]") if errors else None

    def execute(self, cluster: Cluster) -> Gen:
        env = cluster.env
        result = yield from _patch_node(cluster, self.node, lambda n: n if n.spec.unschedulable
                                        else evolve(n, spec=evolve(n.spec, unschedulable=True)))
        if result:
            return result
        listed = yield from cluster.user.list("Pod")
        pods, refused = self._filtered(sorted((p for p in listed if p.spec.node_name == self.node),
                                              key=lambda p: (p.metadata.namespace, p.metadata.name)))
        if refused:
            return _fail(refused)
        deadline = None if self.timeout is None else env.now + self.timeout
        if self.disable_eviction:
            errors = yield from self._delete_and_wait(cluster, pods)
        else:
            procs = [env.process(self._evict_and_wait(cluster, p, deadline)) for p in pods]
            if procs:
                yield simpy.AllOf(env.sim, procs)
            errors = [p.value for p in procs if p.value]
        if errors:
            if deadline is not None and env.now >= deadline:
                pending = yield from self._pending(cluster, pods)
                env.emit("DrainTimedOut", node=self.node, timeout=self.timeout, pending=pending)
            return _fail("; ".join(errors))
        env.emit("NodeDrained", node=self.node, pods=len(pods))
        return {}

    def _pending(self, cluster: Cluster, pods: list[Pod]) -> Gen:
        """kubectl's second ``GetPodsForDeletion`` after a failure: the names of the pods it was
        draining that are still on the node (``There are pending pods in node ...``)."""
        listed = yield from cluster.user.list("Pod")
        uids = {p.metadata.uid for p in pods}
        return sorted(p.metadata.name for p in listed if p.spec.node_name == self.node and p.metadata.uid in uids)

    def _evict_and_wait(self, cluster: Cluster, pod: Pod, deadline: float | None) -> Gen:
        env, store = cluster.env, cluster.store
        ns, name = pod.metadata.namespace, pod.metadata.name
        while True:
            if deadline is not None and env.now >= deadline:
                return f'error when evicting pods/"{name}" -n "{ns}": global timeout reached: {seconds_text(self.timeout)}'
            try:
                res = yield from cluster.user.call(lambda: evict(store, ns, name, self.grace_period_seconds))
            except ApiError as e:
                if e.reason == "NotFound":
                    return None
                return f'error when evicting pods/"{name}" -n "{ns}": {e.message}'
            if res.ok:
                break
            if res.code != 429:
                return f'error when evicting pods/"{name}" -n "{ns}": {res.message}'
            yield env.timeout(DRAIN_EVICTION_RETRY)
        if not (yield from self._wait_for_delete(cluster, [pod], deadline)):
            return f'error when waiting for pod "{name}" in namespace "{ns}" to terminate: {WAIT_TIMEOUT}'
        return None

    def _delete_and_wait(self, cluster: Cluster, pods: list[Pod]) -> Gen:
        """``--disable-eviction``: DELETE each pod in turn, then wait for all of them together for at
        most ``timeout`` from then (kubectl's ``deletePods``)."""
        for p in pods:
            try:
                yield from cluster.user.delete("Pod", p.metadata.namespace, p.metadata.name,
                                               grace_period_seconds=self.grace_period_seconds)
            except ApiError as e:
                if e.reason != "NotFound":
                    return [e.message]
        deadline = None if self.timeout is None else cluster.env.now + self.timeout
        if not (yield from self._wait_for_delete(cluster, pods, deadline)):
            return [WAIT_TIMEOUT]
        return []

    def _wait_for_delete(self, cluster: Cluster, pods: list[Pod], deadline: float | None) -> Gen:
        """``waitForDelete``: a GET of each pending pod at once and then every second until each
        is gone (or has another UID); False when ``deadline`` passes first."""
        env, store = cluster.env, cluster.store
        pending = list(pods)
        while True:
            left = []
            for pod in pending:
                ns, name = pod.metadata.namespace, pod.metadata.name
                cur = yield from cluster.user.call(lambda: store.get("Pod", ns, name))
                if cur is not None and cur.metadata.uid == pod.metadata.uid:
                    left.append(pod)
            pending = left
            if not pending:
                return True
            if deadline is not None and env.now + DRAIN_POLL_INTERVAL >= deadline:
                yield env.timeout(deadline - env.now)
                return False
            yield env.timeout(DRAIN_POLL_INTERVAL)
