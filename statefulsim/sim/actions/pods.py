"""Verbs on a pod and its containers: ``deletePod``, breaking and restoring probes, ``crashContainer``,
``failPod``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Self

from statefulsim.problems import Path, Problems, get_bool, get_int
from statefulsim.sim.actions.common import _fail, _get_grace_seconds, _get_str_or_none, _request
from statefulsim.sim.cluster import Cluster
from statefulsim.sim.process import Gen
from statefulsim.sim.verb import Verb, arg, namespace_field, seconds_text


@dataclass(frozen=True)
class DeletePod(Verb):
    pod: str
    grace_period_seconds: float | None = field(default=None, metadata=arg(_get_grace_seconds, trace="if_set"))
    force: bool = field(default=False, metadata=arg(get_bool, trace="if_set"))
    namespace: str = namespace_field()
    verb: ClassVar[str] = "deletePod"

    @classmethod
    def describe(cls, fields: Mapping[str, Any]) -> str:
        extra = []
        if fields.get("gracePeriodSeconds") is not None:
            extra.append(f"grace period {seconds_text(fields.get('gracePeriodSeconds'))}")
        if fields.get("force"):
            extra.append("force")
        return f"delete pod {fields.get('pod')}" + (f" ({', '.join(extra)})" if extra else "")

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> Self:
        problems.unknown_keys(m, cls.allowed_keys(), path)
        args = cls.read(m, path, problems, "grace_period_seconds", "force")
        if args["force"]:
            if args["grace_period_seconds"] not in (None, 0):
                problems.add(path + ("force",), "force deletion needs gracePeriodSeconds 0 (or none)")
            args["grace_period_seconds"] = 0.0
        return cls(at, **args, **cls.read(m, path, problems, "pod", "namespace"))

    def execute(self, cluster: Cluster) -> Gen:
        return (yield from _request(cluster.user.delete("Pod", self.namespace, self.pod,
                                                        grace_period_seconds=self.grace_period_seconds)))


def _worker_or_error(cluster: Cluster, pod: str, namespace: str) -> Any:
    w = cluster.pod_worker(pod, namespace)
    if w is None:
        return None, _fail(f'pod "{pod}" is not running on any node')
    return w, {}


@dataclass(frozen=True)
class _ProbeAction(Verb):
    """Break or restore what the app answers to one kind of probe, in every container of the pod
    that has such a probe, or in the one named."""

    pod: str
    container: str | None = field(default=None, metadata=arg(_get_str_or_none, trace="if_set"))
    namespace: str = namespace_field()
    probe: ClassVar[str] = "readiness"
    broken: ClassVar[bool] = True

    @classmethod
    def describe(cls, fields: Mapping[str, Any]) -> str:
        pod = fields.get("pod")
        of = f"container {fields.get('container')} of {pod}" if fields.get("container") else pod
        return (f"{'break' if cls.broken else 'restore'} the {cls.probe} probe of {of}"
                + (" (persists across restarts)" if fields.get("persist") else ""))

    def persists(self) -> bool:
        return False

    def execute(self, cluster: Cluster) -> Gen:
        w, result = _worker_or_error(cluster, self.pod, self.namespace)
        if w is not None:
            targets = w.probed(self.probe, self.container)
            if not targets:
                which = f'container "{self.container}" of pod' if self.container else "pod"
                return _fail(f'{which} "{self.pod}" has no {self.probe} probe to {"break" if self.broken else "restore"}')
            for c in targets:
                c.set_broken(self.probe, self.broken, self.persists())
        return result
        yield  # pragma: no cover


@dataclass(frozen=True)
class BreakReadiness(_ProbeAction):
    """The readiness probes start failing (the e2e suite moves ``index.html`` away).  The break
    is gone when the container restarts, unless ``persist`` (a dependency outside it)."""

    persist: bool = field(default=False, metadata=arg(get_bool, trace="if_set"))
    verb: ClassVar[str] = "breakReadiness"

    def persists(self) -> bool:
        return self.persist


@dataclass(frozen=True)
class RestoreReadiness(_ProbeAction):
    verb: ClassVar[str] = "restoreReadiness"
    broken: ClassVar[bool] = False


@dataclass(frozen=True)
class BreakLiveness(BreakReadiness):
    """The liveness probes start failing: past ``failureThreshold`` the kubelet kills the
    container and restarts it (CrashLoopBackOff), which clears the break unless ``persist``."""

    verb: ClassVar[str] = "breakLiveness"
    probe: ClassVar[str] = "liveness"


@dataclass(frozen=True)
class RestoreLiveness(RestoreReadiness):
    verb: ClassVar[str] = "restoreLiveness"
    probe: ClassVar[str] = "liveness"


@dataclass(frozen=True)
class CrashContainer(Verb):
    pod: str
    container: str | None = field(default=None, metadata=arg(_get_str_or_none))  # None: the first container
    exit_code: int = field(default=1, metadata=arg(get_int, trace="never"))
    namespace: str = namespace_field()
    verb: ClassVar[str] = "crashContainer"

    @classmethod
    def describe(cls, fields: Mapping[str, Any]) -> str:
        container = fields.get("container")
        return f"crash {'container ' + str(container) if container else 'the first container'} of {fields.get('pod')}"

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> Self:
        problems.unknown_keys(m, cls.allowed_keys(), path)
        # The container is checked (and its problem reported) first.
        return cls(at, **cls.read(m, path, problems, "container", "pod", "exit_code", "namespace"))

    def execute(self, cluster: Cluster) -> Gen:
        w, result = _worker_or_error(cluster, self.pod, self.namespace)
        if w is not None:
            name = self.container or w.containers[0].name
            if not w.crash(name, self.exit_code):
                return _fail(f'container "{name}" of pod "{self.pod}" is not running')
        return result
        yield  # pragma: no cover


@dataclass(frozen=True)
class FailPod(Verb):
    """The kubelet ends a pod in phase Failed (node-pressure eviction, admission rejection)."""

    pod: str
    reason: str = "Evicted"
    namespace: str = namespace_field()
    verb: ClassVar[str] = "failPod"

    @classmethod
    def describe(cls, fields: Mapping[str, Any]) -> str:
        return f"fail pod {fields.get('pod')} ({fields.get('reason')})"

    def execute(self, cluster: Cluster) -> Gen:
        w, result = _worker_or_error(cluster, self.pod, self.namespace)
        if w is not None:
            w.fail(self.reason)
        return result
        yield  # pragma: no cover
