"""The kubelet: one per node.  Runs admitted pods through their lifecycle (sandbox, init
containers, image pulls, container starts, probes, restarts with CrashLoopBackOff, graceful
termination) and writes pod status through its API client.

Reference: pods-probes-dns-volumes.md §1–§2.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any, Callable, Protocol

import simpy

from statefulsim.durations import go_duration
from statefulsim.sim.api.objects import (
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    Container,
    ContainerStatus,
    Node,
    Pod,
    PodStatus,
    Probe,
    evolve,
)
from statefulsim.sim.api.store import ADDED, DELETED, MODIFIED, ApiClient, ApiError, ObjectStore, WatchEvent
from statefulsim.sim.controllers.statefulset.utils import parent_name_and_ordinal
from statefulsim.sim.delays import DelayModel
from statefulsim.sim.env import SimEnv
from statefulsim.sim.events import EventRecorder, go_duration_ms
from statefulsim.sim.kubelet.backoff import Backoff
from statefulsim.sim.kubelet.images import (
    IMAGE_BACKOFF_INITIAL,
    IMAGE_BACKOFF_MAX,
    TIMEOUT,
    TIMEOUT_SECONDS,
    ImagePullRule,
    failing_rule,
)
from statefulsim.sim.kubelet.probes import LIVENESS, READINESS, STARTUP, SUCCESS, ProbeWorker
from statefulsim.sim.process import Gen
from statefulsim.sim.timing import Timing

# Kubelet floor for the stop timeout after a preStop hook (minimumGracePeriodInSeconds).
MIN_GRACE_SECONDS = 2.0
# One-off extension granted to a preStop hook still running at the end of the grace period.
PRESTOP_EXTENSION_SECONDS = 2.0
# The node Lease is renewed every nodeLeaseDurationSeconds (40) x 0.25 (reference pods §6.3).
LEASE_RENEW_SECONDS = 10.0


class VolumeManager(Protocol):
    """What the kubelet waits for before it creates the sandbox (attach and mount), and what
    it does once a pod's containers are gone (unmount; statefulsim/sim/kubelet/volumemanager.py)."""

    def wait_for_attach_and_mount(self, pod: Pod) -> Gen: ...

    def unmount_volumes(self, pod: Pod) -> Gen: ...


class NoVolumes:
    def wait_for_attach_and_mount(self, pod: Pod) -> Gen:
        return None
        yield  # pragma: no cover

    def unmount_volumes(self, pod: Pod) -> Gen:
        return None
        yield  # pragma: no cover


#: The ContainerRuntime fields probe workers read: setting one wakes a skipping worker.
_PROBED_FIELDS = frozenset({"state", "container_id", "visible", "seen", "started", "started_at", "app_ready_at",
                            "readiness_broken", "liveness_broken"})


class ContainerRuntime:
    """One container of one pod incarnation: what really happens, and what the kubelet has seen.

    The actual state changes at once; the kubelet learns of a container starting or exiting
    only when PLEG relists (``observe``).  Pod status is built from what was seen.
    """

    def __init__(self, spec: Container, is_init: bool, pod_has_init: bool = False) -> None:
        self.probe_workers: list[ProbeWorker] = []
        self.spec = spec
        self.name = spec.name
        self.is_init = is_init
        self.sidecar = is_init and spec.restart_policy == "Always"
        self.state = "waiting"
        # convertToAPIContainerStatuses' default waiting state: PodInitializing in a pod with
        # init containers (for those and for the regular ones), else ContainerCreating.
        self.reason = "PodInitializing" if is_init or pod_has_init else "ContainerCreating"
        self.message = ""
        self.container_id = 0
        self.visible = False  # the kubelet has observed the current container (PLEG)
        self.started_at: float | None = None
        self.finished_at: float | None = None
        #: lastState.terminated.finishedAt: when the previous instance exited.
        self.last_finished_at: float | None = None
        self.exit_code: int | None = None
        self.restart_count = 0
        self.app_ready_at = math.inf
        #: breakReadiness / breakLiveness: the app fails that probe.  A break is something done
        #: inside the container, gone when it starts again from its image, unless its kind is in
        #: ``persistent_breaks`` (a broken dependency outside the container).
        self.readiness_broken = False
        self.liveness_broken = False
        self.persistent_breaks: frozenset[str] = frozenset()
        self.ready = False
        self.started = spec.startup_probe is None
        self.has_run = False
        self.started_event: simpy.Event | None = None
        self.seen = ContainerStatus(name=self.name, reason=self.reason)
        self.seen_has_run = False
        self._status_memo: tuple[ContainerStatus, bool, bool, ContainerStatus] | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in _PROBED_FIELDS:
            for w in self.probe_workers:
                w.wake()  # a skipping probe worker must look again

    def readiness_probe_missing(self) -> bool:
        return self.spec.readiness_probe is None

    def answers(self, kind: str, now: float) -> bool:
        """Whether the app answers a probe of ``kind`` successfully at ``now``."""
        if self.state != "running" or now < self.app_ready_at:
            return False
        if kind == READINESS and self.readiness_broken:
            return False
        if kind == LIVENESS and self.liveness_broken:
            return False
        return True

    def set_broken(self, kind: str, broken: bool, persist: bool) -> None:
        """Break (or restore) the app's answers to probes of ``kind``."""
        if kind == READINESS:
            self.readiness_broken = broken
        else:
            self.liveness_broken = broken
        keep = self.persistent_breaks - {kind}
        self.persistent_breaks = keep | {kind} if broken and persist else keep

    def clear_breaks(self) -> None:
        """A new container starts from its image: breaks made inside the old one are gone."""
        if self.readiness_broken and READINESS not in self.persistent_breaks:
            self.readiness_broken = False
        if self.liveness_broken and LIVENESS not in self.persistent_breaks:
            self.liveness_broken = False

    def observe(self) -> None:
        """The kubelet now knows the container's actual state."""
        self.seen = ContainerStatus(name=self.name, state=self.state, reason=self.reason,
                                    restart_count=self.restart_count, started_at=self.started_at,
                                    exit_code=self.exit_code, message=self.message,
                                    finished_at=self.finished_at if self.state == "terminated" else None,
                                    last_finished_at=self.last_finished_at)
        self.seen_has_run = self.has_run

    def is_ready(self) -> bool:
        return self.ready and self.seen.state == "running"

    def status(self) -> ContainerStatus:
        """The container's status as the kubelet reports it (the same object while nothing it
        reads changed, so comparing pod statuses stops at identity)."""
        seen = self.seen
        ready = self.is_ready()
        started = seen.state == "running" and self.started
        memo = self._status_memo
        if memo is not None and memo[0] is seen and memo[1] == ready and memo[2] == started:
            return memo[3]
        st = evolve(seen, ready=ready, started=started)
        object.__setattr__(self, "_status_memo", (seen, ready, started, st))  # (no probe field)
        return st


class PodWorker:
    """Lifecycle of one pod (one UID) on one node."""

    def __init__(self, kubelet: Kubelet, pod: Pod) -> None:
        self.kubelet = kubelet
        self.env = kubelet.env
        self.pod = pod
        self.uid = pod.metadata.uid
        self.name = pod.metadata.name
        parent, ordinal = parent_name_and_ordinal(self.name)
        owner = pod.metadata.controller_ref()
        self.statefulset = owner.name if owner is not None and owner.kind == "StatefulSet" else ""
        self.ordinal = ordinal
        self.init = [ContainerRuntime(c, True) for c in pod.spec.init_containers]
        self.containers = [ContainerRuntime(c, False, bool(pod.spec.init_containers)) for c in pod.spec.containers]
        self.terminating = False
        self.finished = False
        self.pod_ip = ""
        self.sandbox_ready = False
        self.initialized = not pod.spec.init_containers
        self.phase = PENDING
        self.reason = ""
        self.status = evolve(pod.status, phase=PENDING)
        self._container_ids = 0
        self._last_observed = 0.0
        self.probes: list[ProbeWorker] = []
        for c in self.init:
            if c.sidecar:
                self._add_probes(c)
        for c in self.containers:
            self._add_probes(c)
        self._sync_status()
        self.process = self.env.process(self._start())

    # ---------------------------------------------------------------- helpers
    def sample(self, key: str, c: ContainerRuntime | None) -> float:
        return self.env.sample(self.model(key, c), f"kubelet/{key}")

    def model(self, key: str, c: ContainerRuntime | None) -> DelayModel:
        """The delay model of ``key`` for this pod (and container)."""
        return self.kubelet.timing.for_container(
            key, statefulset=self.statefulset, ordinal=self.ordinal, pod=self.name,
            image=c.spec.image if c is not None else "", container=c.name if c is not None else "")

    def _add_probes(self, c: ContainerRuntime) -> None:
        for kind, probe in ((STARTUP, c.spec.startup_probe), (READINESS, c.spec.readiness_probe),
                            (LIVENESS, c.spec.liveness_probe)):
            if probe is not None:
                self.probes.append(ProbeWorker(self, c, kind, probe, self.kubelet.probe_skip_ahead))

    def container(self, name: str) -> ContainerRuntime | None:
        for c in self.containers + self.init:
            if c.name == name:
                return c
        return None

    def _pleg(self, fn: Callable[[], None]) -> simpy.Event:
        """Run ``fn`` when PLEG next relists; observations of one pod keep their order."""
        at = max(self.env.now + self.sample_pleg(), self._last_observed)
        self._last_observed = at
        timer = self.env.timeout(at - self.env.now)
        timer.callbacks.append(lambda _e: fn())
        return timer

    def sample_pleg(self) -> float:
        return self.env.sample(self.kubelet.timing.model("plegRelist"), "kubelet/plegRelist")

    def event(self, type_: str, reason: str, message: str) -> None:
        """A Kubernetes Event about this pod, from this node's kubelet."""
        self.kubelet.recorder.event(type_, reason, f"pod/{self.name}", message, self.uid)

    def _set_waiting(self, c: ContainerRuntime, reason: str, message: str = "") -> None:
        """A waiting reason the kubelet itself sets (it knows it at once)."""
        c.state = "waiting"
        c.reason = reason
        c.message = message
        c.observe()

    # ---------------------------------------------------------------- startup
    def _start(self) -> Gen:
        yield from self.kubelet.volumes.wait_for_attach_and_mount(self.pod)
        if self.terminating:
            return
        yield self.env.timeout(self.sample("sandbox", None))
        if self.terminating:
            return
        self.pod_ip = self.kubelet.allocate_ip()
        self.sandbox_ready = True
        self._sync_status()
        for c in self.init:
            ok = yield from self._pull_and_start(c)
            if not ok or self.terminating:
                return
            if c.sidecar:
                # Started in order; the next container waits until it has started (startup probe).
                assert c.started_event is not None
                yield c.started_event
                if self.terminating:
                    return
                continue
            yield self.env.timeout(self.sample("initContainerRun", c))
            if self.terminating:
                return
            yield self._exit(c, 0, "Completed", restart=False)  # the next step needs the exit observed
            if self.terminating:
                return
        self.initialized = True
        self._sync_status()
        for c in self.containers:
            ok = yield from self._pull_and_start(c)
            if not ok or self.terminating:
                return

    def _pull_and_start(self, c: ContainerRuntime) -> Gen:
        ok = yield from self.kubelet.pull_image(self, c)
        if not ok or self.terminating:
            return False
        yield self.env.timeout(self.sample("containerStart", c))
        if self.terminating:
            return False
        self._run_container(c)
        return True

    def _run_container(self, c: ContainerRuntime) -> None:
        now = self.env.now
        self._container_ids += 1
        cid = c.container_id = self._container_ids
        c.visible = False
        if c.has_run:
            c.last_finished_at = c.finished_at
        c.state = "running"
        c.reason = ""
        c.message = ""
        c.started_at = now
        c.finished_at = None
        c.exit_code = None
        c.ready = False
        c.started = c.spec.startup_probe is None
        c.started_event = self.env.event()
        c.app_ready_at = now + self.sample("appReady", c)
        c.clear_breaks()
        if c.has_run:
            c.restart_count += 1
        c.has_run = True
        self.env.emit("ContainerStarted", pod=self.name, uid=self.uid, container=c.name, restartCount=c.restart_count)
        self.event("Normal", "Created", "Container created")
        self.event("Normal", "Started", "Container started")
        crash_after = self.sample("appCrash", c)
        if not math.isinf(crash_after) and (not c.is_init or c.sidecar):
            self.env.timeout(crash_after).callbacks.append(partial(self._crash_if, c, cid))
        self._pleg(lambda: self._observed_start(c, cid))

    def _crash_if(self, c: ContainerRuntime, cid: int, _timer: simpy.Event) -> None:
        if c.container_id == cid and c.state == "running" and not self.terminating:
            self.crash(c.name, 1)

    def _observed_start(self, c: ContainerRuntime, cid: int) -> None:
        if c.container_id != cid:
            return
        c.visible = True
        c.observe()
        if c.readiness_probe_missing():
            c.ready = c.state == "running" and c.started
        self._mark_started(c)
        self._pod_sync()

    def _mark_started(self, c: ContainerRuntime) -> None:
        if c.started and c.visible and c.started_event is not None and not c.started_event.triggered:
            c.started_event.succeed()

    # ---------------------------------------------------------------- status
    def _phase(self) -> str:
        if self.phase in (FAILED, SUCCEEDED):
            return self.phase
        if self.initialized and all(c.seen_has_run for c in self.containers):
            return RUNNING
        return PENDING

    def _pod_sync(self) -> None:
        """What a kubelet pod sync does here: regenerate status, poke readiness probes."""
        self._sync_status()
        if self.terminating:
            return
        for w in self.probes:
            if w.kind == READINESS and w.container.seen.state == "running" and w.container.started and w.result != SUCCESS:
                w.poke()

    def _sync_status(self) -> None:
        now = self.env.now
        self.phase = self._phase()
        st = self.status
        # Sidecars (restartable init containers) count towards ContainersReady.
        counted = self.containers + [c for c in self.init if c.sidecar]
        containers_ready = all(c.is_ready() for c in counted)
        ready = containers_ready and not self.pod.spec.readiness_gates and self.phase == RUNNING
        # The API server keeps whole seconds (store._whole_seconds); writing them so saves a copy
        # of every condition on every status write.
        second = float(math.floor(now))
        st = st.with_conditions(
            second,
            ("Initialized", self.initialized, "", ""),
            ("PodReadyToStartContainers", self.sandbox_ready and self.phase not in (FAILED, SUCCEEDED), "", ""),
            ("ContainersReady", containers_ready, "", ""),
            ("Ready", ready, "", ""),
        )
        st = evolve(
            st,
            phase=self.phase,
            pod_ip=self.pod_ip,
            reason=self.reason,
            container_statuses=tuple(c.status() for c in self.containers),
            init_container_statuses=tuple(c.status() for c in self.init),
        )
        if st != self.status or not self.kubelet.status_manager.known(self.uid):
            self.status = st
            self.kubelet.status_manager.set(self, st)

    # ---------------------------------------------------------------- probe outcomes
    def _unhealthy(self, kind: str, probe: Probe) -> None:
        """The ``Unhealthy`` Event of a failing probe, with the prober's output for its handler."""
        output = {"httpGet": "HTTP probe failed with statuscode: 503",
                  "tcpSocket": f"dial tcp {self.pod_ip}: connect: connection refused",
                  "grpc": "service unhealthy (responded with \"NOT_SERVING\")"}.get(probe.handler, "")
        self.event("Warning", "Unhealthy", f"{kind.capitalize()} probe failed: {output}".strip())

    def probe_result_changed(self, c: ContainerRuntime, kind: str, outcome: str) -> None:
        if kind == READINESS and outcome != SUCCESS and c.spec.readiness_probe is not None and c.seen.state == "running":
            self._unhealthy(kind, c.spec.readiness_probe)
        if kind == READINESS:
            c.ready = outcome == SUCCESS and c.state == "running"
        elif kind == STARTUP and outcome == SUCCESS:
            c.started = True
            if c.readiness_probe_missing():
                c.ready = c.state == "running"
            self._mark_started(c)
        self._pod_sync()

    def probe_failed(self, c: ContainerRuntime, kind: str, probe: Probe) -> None:
        """Liveness or startup failed past its threshold: kill the container and restart it."""
        if self.terminating or c.state != "running":
            return
        self._unhealthy(kind, probe)
        grace = probe.termination_grace_period_seconds
        if grace is None:
            grace = self.pod.spec.termination_grace_period_seconds
        self.env.emit("ContainerKilled", pod=self.name, uid=self.uid, container=c.name,
                      reason=f"{kind} probe failed")
        self.event("Normal", "Killing", f"Container {c.name} failed {kind} probe, will be restarted")
        self.env.process(self._kill_and_restart(c, grace))

    def _kill_and_restart(self, c: ContainerRuntime, grace: float) -> Gen:
        cid = c.container_id
        c.ready = False
        shutdown = self.sample("appShutdown", c)
        yield self.env.timeout(min(shutdown, max(grace, MIN_GRACE_SECONDS)))
        if c.container_id != cid or c.state != "running" or self.terminating:
            return
        self._exit(c, 143 if shutdown <= grace else 137, "Error", restart=True)

    def crash(self, name: str, exit_code: int = 1) -> bool:
        """The app in container ``name`` exits on its own (a crash): restart per policy."""
        c = self.container(name)
        if c is None or c.state != "running" or self.terminating:
            return False
        self._exit(c, exit_code, "Error", restart=not c.is_init or c.sidecar)
        return True

    def _exit(self, c: ContainerRuntime, code: int, reason: str, *, restart: bool) -> simpy.Event:
        """The container exits now; the kubelet notices at the next relist (returned event)."""
        self.env.emit("ContainerExited", pod=self.name, uid=self.uid, container=c.name, exitCode=code)
        cid = c.container_id
        c.state = "terminated"
        c.reason = reason
        c.exit_code = code
        c.finished_at = self.env.now
        return self._pleg(lambda: self._observed_exit(c, cid, restart))

    def _observed_exit(self, c: ContainerRuntime, cid: int, restart: bool) -> None:
        if c.container_id != cid or self.finished:
            return
        c.observe()
        c.ready = False
        self._pod_sync()
        if restart and not self.terminating:
            self.env.process(self._restart_after_exit(c, cid))

    def _restart_after_exit(self, c: ContainerRuntime, cid: int) -> Gen:
        """restartPolicy Always: restart, unless the container is in CrashLoopBackOff."""
        finished = c.finished_at if c.finished_at is not None else self.env.now
        key = f"{self.uid}/{c.name}"
        backoff = self.kubelet.backoff
        while True:
            if self.terminating or c.container_id != cid:
                return
            now = self.env.now
            if not backoff.in_backoff_since(key, finished, now):
                break
            self._set_waiting(c, "CrashLoopBackOff", f"back-off {go_duration(backoff.delay(key))} restarting failed "
                              f"container={c.name} pod={self.name}_{self.pod.metadata.namespace}({self.uid})")
            self._sync_status()
            self.event("Warning", "BackOff", f"Back-off restarting failed container {c.name} in pod "
                       f"{self.name}_{self.pod.metadata.namespace}({self.uid})")
            if self.kubelet.timing.pod_worker_jitter:
                # The pod worker re-syncs a pod in backoff after wait.Jitter(10 s, 0.5).
                yield self.env.timeout(self.env.rng("kubelet/podWorker").uniform(10.0, 15.0))
            else:
                yield self.env.timeout(backoff.release_after(key, finished) - now)
        backoff.next(key, finished, self.env.now)
        # The status keeps what it showed (the exit, or CrashLoopBackOff: the sync error stays
        # in the kubelet's reason cache) until the new container is seen running.
        c.state = "waiting"
        yield from self._pull_and_start(c)

    # ---------------------------------------------------------------- actions
    def probed(self, kind: str, container: str | None) -> list[ContainerRuntime]:
        """The containers (sidecars included) with a ``kind`` probe: all, or the one named."""
        attr = "readiness_probe" if kind == READINESS else "liveness_probe"
        return [c for c in self.containers + [s for s in self.init if s.sidecar]
                if getattr(c.spec, attr) is not None and (container is None or c.name == container)]

    def fail(self, reason: str) -> None:
        """The kubelet rejects/evicts the pod (node pressure, admission): containers stop, phase Failed."""
        if self.terminating or self.finished:
            return
        self.terminating = True
        for w in self.probes:
            w.stop()
        for c in self.containers + self.init:
            if c.state == "running":
                self.env.emit("ContainerExited", pod=self.name, uid=self.uid, container=c.name, exitCode=137)
                c.state, c.reason, c.exit_code, c.finished_at = "terminated", "Evicted", 137, self.env.now
            c.ready = False
            c.observe()
        self.phase = FAILED
        self.reason = reason
        self._sync_status()
        self.finished = True

    # ---------------------------------------------------------------- termination
    def terminate(self, grace: float) -> None:
        """The pod got a deletionTimestamp: run preStop hooks, SIGTERM, SIGKILL at the deadline."""
        if self.finished:
            self.env.process(self.kubelet.confirm_deletion(self))
            return
        if self.terminating:
            return
        self.terminating = True
        for w in self.probes:
            if w.kind != READINESS:
                w.stop()
        self.env.process(self._terminate(grace))

    def _terminate(self, grace: float) -> Gen:
        """Every preStop hook starts at once; main containers get SIGTERM after their hook;
        sidecars stop after them, in reverse order, with what is left of the grace period."""
        start = self.env.now
        deadline = start + grace
        for c in self.containers + self.init:
            if c.state == "waiting":
                c.state = "terminated"
                if c.has_run:  # waiting to restart: it shows its last exit again
                    c.reason = "Error" if c.exit_code else "Completed"
                else:  # the status manager's TerminatePod for a container that never ran
                    c.reason, c.exit_code = "ContainerStatusUnknown", 137
                    c.message = "The container could not be located when the pod was terminated"
                c.exit_code = c.exit_code if c.exit_code is not None else 0
                c.observe()
        mains = [c for c in self.containers if c.state == "running"]
        sidecars = [c for c in self.init if c.sidecar and c.state == "running"]
        for c in mains + sidecars:
            self.event("Normal", "Killing", f"Stopping container {c.name}")
        hooks = {c.name: self.env.process(self._pre_stop(c, grace)) for c in mains + sidecars}

        def stop_main(c: ContainerRuntime) -> Gen:
            yield hooks[c.name]
            yield from self._sigterm(c, max(grace - (self.env.now - start), MIN_GRACE_SECONDS))

        stops = [self.env.process(stop_main(c)) for c in mains]
        if stops:
            yield simpy.AllOf(self.env.sim, stops)
        for c in reversed(sidecars):
            yield hooks[c.name]
            yield from self._sigterm(c, max(deadline - self.env.now, MIN_GRACE_SECONDS))
        for w in self.probes:
            w.stop()
        codes = [c.exit_code for c in self.containers if c.exit_code is not None]
        self.phase = SUCCEEDED if codes and all(code == 0 for code in codes) else FAILED
        self._sync_status()
        self.finished = True
        yield from self.kubelet.confirm_deletion(self)

    def _pre_stop(self, c: ContainerRuntime, grace: float) -> Gen:
        if c.spec.has_pre_stop and grace > 0:
            hook = self.sample("preStop", c)
            yield self.env.timeout(min(hook, grace + PRESTOP_EXTENSION_SECONDS))

    def _sigterm(self, c: ContainerRuntime, stop_timeout: float) -> Gen:
        """SIGTERM, then SIGKILL after ``stop_timeout``; the kubelet waits for the stop itself."""
        cid = c.container_id
        if c.state != "running":
            return
        shutdown = self.sample("appShutdown", c)
        if shutdown <= stop_timeout:
            yield self.env.timeout(shutdown)
            code, reason = 0, "Completed"
        else:
            yield self.env.timeout(stop_timeout)
            code, reason = 137, "Error"
        if c.container_id == cid and c.state == "running":
            self.env.emit("ContainerExited", pod=self.name, uid=self.uid, container=c.name, exitCode=code)
            c.state = "terminated"
            c.reason = reason
            c.exit_code = code
            c.finished_at = self.env.now
            c.ready = False
            c.observe()
            self._sync_status()

    def kill_now(self) -> None:
        """The pod object is gone (force deletion): stop everything without ceremony."""
        self.terminating = True
        self.finished = True
        for w in self.probes:
            w.stop()
        for c in self.containers + self.init:
            if c.state == "running":
                c.state = "terminated"
                c.exit_code = 137
        self.kubelet.status_manager.forget(self.uid)
        if any(v.claim_name for v in self.pod.spec.volumes):
            self.env.process(self.kubelet.volumes.unmount_volumes(self.pod))


class StatusManager:
    """Writes pod status through the kubelet's API client; coalesces while a write is in flight."""

    def __init__(self, kubelet: Kubelet) -> None:
        self.kubelet = kubelet
        self.env = kubelet.env
        self._pending: dict[str, tuple[PodWorker, PodStatus]] = {}
        self._in_flight: set[str] = set()
        self._known: set[str] = set()
        self._flushed: dict[str, list[simpy.Event]] = {}

    def known(self, uid: str) -> bool:
        return uid in self._known

    def forget(self, uid: str) -> None:
        self._pending.pop(uid, None)
        self._known.discard(uid)

    def set(self, worker: PodWorker, status: PodStatus) -> None:
        self._known.add(worker.uid)
        self._pending[worker.uid] = (worker, status)
        if worker.uid not in self._in_flight:
            self._in_flight.add(worker.uid)
            self.env.process(self._writer(worker.uid))

    def flush(self, uid: str) -> Gen:
        """Wait until every status set so far for ``uid`` is written."""
        if uid in self._in_flight:
            ev = self.env.event()
            self._flushed.setdefault(uid, []).append(ev)
            yield ev

    def _writer(self, uid: str) -> Gen:
        try:
            while uid in self._pending:
                # A failed node writes nothing; the latest status goes out once it is back.
                yield from self.kubelet.until_up()
                if uid not in self._pending:
                    return
                worker, status = self._pending.pop(uid)
                cur = self.kubelet.store.get("Pod", worker.pod.metadata.namespace, worker.name)
                if cur is None or cur.metadata.uid != uid:
                    return
                # mergePodStatus: conditions the kubelet does not own (PodScheduled, the
                # DisruptionTarget of an eviction) are kept as the API server has them.
                owned = {c.type for c in status.conditions} - {"PodScheduled"}
                conds = tuple(c for c in cur.status.conditions if c.type not in owned) + tuple(
                    c for c in status.conditions if c.type != "PodScheduled")
                new = evolve(cur, status=evolve(status, conditions=conds))
                try:
                    yield from self.kubelet.client.update_status(new, check_version=False)
                except ApiError:
                    return
        finally:
            self._in_flight.discard(uid)
            for ev in self._flushed.pop(uid, []):
                ev.succeed()


class Kubelet:
    """One node's kubelet: admits pods bound to the node and runs a :class:`PodWorker` each."""

    def __init__(self, env: SimEnv, store: ObjectStore, node: str, timing: Timing, client: ApiClient,
                 volumes: VolumeManager | None = None, ip_prefix: str = "10.244.0",
                 probe_skip_ahead: bool = True, image_rules: tuple[ImagePullRule, ...] = ()) -> None:
        self.env = env
        #: Probe workers skip ticks that cannot change anything (same trace, fewer events).
        self.probe_skip_ahead = probe_skip_ahead
        self.store = store
        self.node = node
        self.timing = timing
        self.client = client
        self.volumes: VolumeManager = volumes or NoVolumes()
        self.workers: dict[str, PodWorker] = {}
        self.backoff = Backoff()
        #: Image pull back-off per ``<pod uid>_<image>`` (kubelet ``imageBackOff``).
        self.image_backoff = Backoff(IMAGE_BACKOFF_INITIAL, IMAGE_BACKOFF_MAX)
        #: The scenario's ``images:`` rules: pulls that fail.
        self.image_rules = image_rules
        self.recorder = EventRecorder(env, "kubelet")
        self.images: set[str] = set()
        self.pull_queue = simpy.Resource(env.sim, capacity=1)
        self.status_manager = StatusManager(self)
        self._ip_prefix = ip_prefix
        self._next_ip = 1
        #: False between failNode and recoverNode: no heartbeats, no API writes, no watch events.
        self.up = True
        self._up_event: simpy.Event | None = None
        #: Lease renewals happen at ``lease_origin + 10 s * k`` (set by the cluster: a random
        #: phase per node; a recovered kubelet renews at once and keeps that grid).
        self.lease_origin = 0.0
        #: The phase the cluster gave this kubelet's Lease grid at the start of the run.
        self.lease_phase = 0.0
        self.stopped_at: float | None = None
        #: The Node object the kubelet registers when it starts and finds none (after deleteNode).
        self.registration: Node | None = None

    # ---------------------------------------------------------------- node health
    def last_renewal(self, now: float) -> float:
        """When the kubelet last renewed its node Lease, as of ``now`` (no event per renewal:
        renewals lie on a 10 s grid from ``lease_origin`` and stop when the node fails)."""
        until = now if self.up or self.stopped_at is None else min(now, self.stopped_at)
        return self.lease_origin + LEASE_RENEW_SECONDS * math.floor((until - self.lease_origin) / LEASE_RENEW_SECONDS)

    def until_up(self) -> Gen:
        """Wait while the node is failed (the kubelet cannot reach the API server)."""
        while not self.up:
            assert self._up_event is not None
            yield self._up_event

    def fail(self) -> bool:
        """The node stops: the kubelet posts nothing and sees nothing; containers keep running."""
        if not self.up:
            return False
        self.up = False
        self.stopped_at = self.env.now
        self._up_event = self.env.event()
        return True

    def recover(self) -> bool:
        """The kubelet is back: it renews its Lease at once, posts Ready, re-reads its pods."""
        if self.up:
            return False
        self.up = True
        self.stopped_at = None
        self.lease_origin = self.env.now
        ev, self._up_event = self._up_event, None
        self.env.process(self._resync())
        if ev is not None:
            ev.succeed()
        return True

    def _resync(self) -> Gen:
        node = self.store.get("Node", "", self.node)
        try:
            if node is None and self.registration is not None:
                self.env.emit("NodeRegistered", node=self.node)
                yield from self.client.create(self.registration)
            elif node is not None and not node.status.ready:
                yield from self.client.patch("Node", "", self.node, _post_ready, status=True)
        except ApiError:
            pass
        # Re-list the pods bound to this node, as the kubelet's pod source does after a reconnect.
        pods = yield from self.client.list("Pod")
        if not self.up:
            return
        mine = {p.metadata.uid: p for p in pods if p.spec.node_name == self.node}
        for uid in list(self.workers):
            if uid not in mine:
                # Deleted (force, PodGC) while the node was away: stop what still runs.
                self.on_pod(WatchEvent(DELETED, self.workers[uid].pod))
        for uid, pod in mine.items():
            known = uid in self.workers
            self.on_pod(WatchEvent(MODIFIED if known else ADDED, pod))
            w = self.workers.get(uid)
            if known and w is not None and not w.finished and not w.terminating:
                # The status manager's sync: rewrite a status someone else changed (MarkPodsNotReady).
                if (pod.status.phase, pod.status.ready) != (w.status.phase, w.status.ready):
                    self.status_manager.set(w, w.status)

    def allocate_ip(self) -> str:
        ip = f"{self._ip_prefix}.{self._next_ip}"
        self._next_ip += 1
        return ip

    def worker(self, pod_name: str, namespace: str = "default") -> PodWorker | None:
        for w in self.workers.values():
            if w.name == pod_name and w.pod.metadata.namespace == namespace and not w.finished:
                return w
        return None

    def on_pod(self, ev: WatchEvent) -> None:
        """A change to a pod bound to this node, as the kubelet's watch delivers it."""
        if not self.up:
            return  # a failed node's kubelet sees nothing; it re-lists when it is back
        pod = ev.obj
        assert isinstance(pod, Pod)
        uid = pod.metadata.uid
        w = self.workers.get(uid)
        if ev.type == DELETED:
            if w is not None:
                w.kill_now()
                del self.workers[uid]
            self.recorder.forget(f"pod/{pod.metadata.name}", uid)
            return
        if w is None:
            if pod.status.phase in (FAILED, SUCCEEDED) or not self.up:
                return
            w = PodWorker(self, pod)
            self.workers[uid] = w
        w.pod = pod
        if pod.metadata.deletion_timestamp is not None:
            grace = pod.metadata.deletion_grace_period_seconds
            w.terminate(pod.spec.termination_grace_period_seconds if grace is None else grace)

    def pull_image(self, worker: PodWorker, c: ContainerRuntime) -> Gen:
        """``EnsureImageExists`` for ``c``: make its image present (pulls on a node are
        serialized).  A pull that fails (``images:``) gives ``ErrImagePull``, then
        ``ImagePullBackOff`` while the per pod-and-image back-off lasts (10 s doubling to
        300 s); ``Never`` with an absent image gives ``ErrImageNeverPull``.  Retries at the
        pod worker's syncs until it works; False if the pod is terminated meanwhile."""
        image = c.spec.image
        policy = c.spec.image_pull_policy
        rec, obj, uid = self.recorder, f"pod/{worker.name}", worker.uid
        key = f"{uid}_{image}"
        first_failure = True
        last_error = ""
        while True:
            if worker.terminating:
                return False
            rule = failing_rule(self.image_rules, image) if self.image_rules else None
            present = image in self.images
            if present and policy != "Always":
                rec.normal("Pulled", obj, f'Container image "{image}" already present on machine', uid)
                return True
            if policy == "Never":
                message = f'Container image "{image}" is not present with pull policy of Never'
                worker._set_waiting(c, "ErrImageNeverPull", message)
                worker._sync_status()
                rec.warning("ErrImageNeverPull", obj, message, uid)
                rec.warning("Failed", obj, "Error: ErrImageNeverPull", uid)
                yield self.env.timeout(self._requeue_delay())
                continue
            if self.image_backoff.in_backoff_since_update(key, self.env.now):
                worker._set_waiting(c, "ImagePullBackOff", f'Back-off pulling image "{image}": ErrImagePull: {last_error}')
                worker._sync_status()
                rec.normal("BackOff", obj, f'Back-off pulling image "{image}"', uid)
                rec.warning("Failed", obj, "Error: ImagePullBackOff", uid)
                if self.timing.pod_worker_jitter:
                    yield self.env.timeout(self._requeue_delay())
                else:
                    yield self.env.timeout(self.image_backoff.release_after_update(key) - self.env.now)
                continue
            requested = self.env.now
            rec.normal("Pulling", obj, f'Pulling image "{image}"', uid)
            if present and rule is None:
                # Always: the registry resolves the digest; the layers are there already.
                yield self.env.timeout(worker.sample("imagePullCached", c))
                rec.normal("Pulled", obj, self._pulled(image, requested, requested), uid)
                return True
            with self.pull_queue.request() as req:
                yield req
                got = self.env.now
                if rule is not None:
                    yield self.env.timeout(TIMEOUT_SECONDS if rule.pull == TIMEOUT
                                           else worker.sample("imagePullCached", c))
                elif image not in self.images:
                    worker.env.emit("ImagePulling", pod=worker.name, uid=uid, image=image, node=self.node)
                    seconds = worker.sample("imagePull", c)
                    yield self.env.timeout(seconds)
                    self.images.add(image)
                    worker.env.emit("ImagePulled", pod=worker.name, uid=uid, image=image, node=self.node,
                                    seconds=seconds)
                    rec.normal("Pulled", obj, self._pulled(image, got, requested), uid)
                    return True
                elif policy == "Always":  # pulled by another pod meanwhile: the digest round trip
                    yield self.env.timeout(worker.sample("imagePullCached", c))
                    rec.normal("Pulled", obj, self._pulled(image, got, requested), uid)
                    return True
                else:
                    rec.normal("Pulled", obj, f'Container image "{image}" already present on machine', uid)
                    return True
            if worker.terminating:
                return False
            last_error = rule.error(image)
            self.image_backoff.next(key, self.env.now, self.env.now)
            worker._set_waiting(c, "ErrImagePull", last_error)
            worker._sync_status()
            rec.warning("Failed", obj, f'Failed to pull image "{image}": {last_error}', uid)
            rec.warning("Failed", obj, "Error: ErrImagePull", uid)
            # The next sync: after the first failure PLEG's relist sees the new sandbox and syncs
            # at once; later ones wait for the pod worker's requeue.
            yield self.env.timeout(worker.sample_pleg() if first_failure else self._requeue_delay())
            first_failure = False

    def _pulled(self, image: str, started: float, requested: float) -> str:
        """The ``Pulled`` message: the pull's own time, then with its wait in the pull queue."""
        return (f'Successfully pulled image "{image}" in {go_duration_ms(self.env.now - started)} '
                f"({go_duration_ms(self.env.now - requested)} including waiting)")

    def _requeue_delay(self) -> float:
        """When the pod worker syncs a pod again after a sync error: ``wait.Jitter(10 s, 0.5)``."""
        if self.timing.pod_worker_jitter:
            return self.env.rng("kubelet/podWorker").uniform(10.0, 15.0)
        return 10.0

    def confirm_deletion(self, worker: PodWorker) -> Gen:
        """After the containers are gone: flush status, then delete the object with grace 0."""
        yield from self.status_manager.flush(worker.uid)
        yield from self.until_up()
        yield from self.volumes.unmount_volumes(worker.pod)  # volume dirs cleaned up first
        try:
            yield from self.client.delete("Pod", worker.pod.metadata.namespace, worker.name,
                                          grace_period_seconds=0, uid=worker.uid)
        except ApiError:
            pass


def _post_ready(node: Node) -> Node:
    """The kubelet's node status update after it is back: Ready=True."""
    return evolve(node, status=evolve(node.status, ready_status="True", ready_reason="KubeletReady"))
