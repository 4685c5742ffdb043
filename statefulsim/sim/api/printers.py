"""The pod row as ``kubectl get pods`` prints it: READY, STATUS and RESTARTS.

A pure function of one pod object, mirroring the API server's table printer ``printPod``
(kubernetes/kubernetes ``pkg/printers/internalversion/printers.go``) as of Kubernetes 1.35,
the first release with PR #124766 (a ``Completed`` pod whose other container exited non-zero
shows that error), with the earlier releases' differences behind :class:`PrinterRules`; see
docs/trace.md (``PodStatus``).  kubectl only lays the cells out, so the row follows the
server's printer, not kubectl's version.

Reference: kubectl-surface.md §1.3-§1.7.
"""

from __future__ import annotations

from dataclasses import dataclass

from statefulsim.durations import human_duration
from statefulsim.sim.api.objects import FAILED, SUCCEEDED, ContainerStatus, Pod

#: ``status.reason`` the legacy node controller wrote on pods of an unreachable node
#: (``node.NodeUnreachablePodReason``); with it and a deletionTimestamp the row says Unknown.
NODE_UNREACHABLE_POD_REASON = "NodeLost"


#: STATUS words of a pod whose containers cannot run: image pulls failing, crash loops, exits
#: with an error (with or without ``Init:``; ``ExitCode:N`` and ``Signal:N`` too, see
#: :func:`is_failing`).
FAILING_STATUSES = frozenset({
    "ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName", "CrashLoopBackOff",
    "CreateContainerConfigError", "CreateContainerError", "RunContainerError", "Error", "OOMKilled",
    "StartError", "ContainerCannotRun",
})


def is_failing(status: str) -> bool:
    """Whether a STATUS word says the pod's containers cannot run (``ImagePullBackOff``,
    ``Init:CrashLoopBackOff``, ``Error``, ``ExitCode:2``, ...), as opposed to a phase, a normal
    step (``ContainerCreating``, ``Init:1/2``, ``PodInitializing``) or ``Terminating``."""
    word = status.removeprefix("Init:")
    return word in FAILING_STATUSES or word.startswith(("ExitCode:", "Signal:"))


@dataclass(frozen=True)
class PrinterRules:
    """What the API server's ``printPod`` of one release does differently (kubectl-surface.md
    §1.7).  The default is the newest printer."""

    #: 1.26+ (PR #113274): a pod with PodScheduled reason SchedulingGated says ``SchedulingGated``
    scheduling_gated: bool = True
    #: 1.28+ (KEP-753): init containers with ``restartPolicy: Always`` count as sidecars in READY,
    #: RESTARTS and the init walk; before, they are init containers like the others
    sidecars: bool = True
    #: 1.31+ (PR #122038): a pod in a terminal phase shows its phase's reason, not ``Terminating``,
    #: once it has a deletionTimestamp
    terminal_phase_not_terminating: bool = True
    #: 1.35+ (PR #124766): ``Completed`` with another container exited non-zero shows that error
    error_reason: bool = True

    @classmethod
    def for_minor(cls, minor: int) -> PrinterRules:
        """The rules of Kubernetes 1.``minor``."""
        return cls(scheduling_gated=minor >= 26, sidecars=minor >= 28, terminal_phase_not_terminating=minor >= 31,
                   error_reason=minor >= 35)


NEWEST_RULES = PrinterRules()


@dataclass(frozen=True)
class PodRow:
    """kubectl's READY (``"1/2"``), STATUS and RESTARTS cells of one pod.

    ``restarts`` is the count; ``last_restart`` the latest ``lastState.terminated.finishedAt``
    of the counted containers (``None``: none), from which kubectl adds ``(<age> ago)``.
    """

    ready: str
    status: str
    restarts: int
    last_restart: float | None = None

    def restarts_cell(self, now: float) -> str:
        """The RESTARTS cell as printed at server time ``now``: ``3`` or ``3 (47s ago)``."""
        if self.restarts != 0 and self.last_restart is not None:
            return f"{self.restarts} ({human_duration(now - self.last_restart)} ago)"
        return str(self.restarts)


def _terminated_reason(c: ContainerStatus, prefix: str = "") -> str:
    if c.reason:
        return prefix + c.reason
    if c.signal:
        return f"{prefix}Signal:{c.signal}"
    return f"{prefix}ExitCode:{c.exit_code or 0}"


def _later(a: float | None, b: float | None) -> float | None:
    if b is None:
        return a
    return b if a is None or b > a else a


def pod_row(pod: Pod, rules: PrinterRules = NEWEST_RULES) -> PodRow:
    """``printPod``'s READY, STATUS and RESTARTS for ``pod`` (the row's AGE is the caller's), as
    the printer of ``rules`` (default: the newest) computes them."""
    st = pod.status
    restarts = sidecar_restarts = 0
    last_restart: float | None = None
    last_sidecar_restart: float | None = None
    total = len(pod.spec.containers)
    ready = 0
    reason = st.reason or st.phase
    scheduled = st.condition("PodScheduled")
    if rules.scheduling_gated and scheduled is not None and scheduled.reason == "SchedulingGated":
        reason = "SchedulingGated"
    sidecars = {c.name for c in pod.spec.init_containers if c.restart_policy == "Always"} if rules.sidecars else set()
    total += len(sidecars)
    initializing = False
    for i, c in enumerate(st.init_container_statuses):
        restarts += c.restart_count
        last_restart = _later(last_restart, c.last_finished_at)
        sidecar = c.name in sidecars
        if sidecar:
            sidecar_restarts += c.restart_count
            last_sidecar_restart = _later(last_sidecar_restart, c.last_finished_at)
        if c.state == "terminated" and c.exit_code == 0:
            continue
        if sidecar and c.started:
            if c.ready:
                ready += 1
            continue
        if c.state == "terminated":
            reason = _terminated_reason(c, "Init:")  # initialization failed
        elif c.state == "waiting" and c.reason and c.reason != "PodInitializing":
            reason = "Init:" + c.reason
        else:
            reason = f"Init:{i}/{len(pod.spec.init_containers)}"
        initializing = True
        break
    initialized = st.condition("Initialized")
    if not initializing or (initialized is not None and initialized.status):
        restarts, last_restart = sidecar_restarts, last_sidecar_restart
        has_running = False
        error_reason = ""
        for c in reversed(st.container_statuses):
            restarts += c.restart_count
            last_restart = _later(last_restart, c.last_finished_at)
            if c.state == "waiting" and c.reason:
                reason = c.reason
            elif c.state == "terminated":
                reason = _terminated_reason(c)
                if c.exit_code:
                    error_reason = reason
            elif c.ready and c.state == "running":
                has_running = True
                ready += 1
        if reason == "Completed":
            if has_running and st.ready:
                reason = "Running"
            elif error_reason and rules.error_reason:
                reason = error_reason
            elif has_running:
                reason = "NotReady"
    if pod.metadata.deletion_timestamp is not None:
        if st.reason == NODE_UNREACHABLE_POD_REASON:
            reason = "Unknown"
        elif st.phase not in (SUCCEEDED, FAILED) or not rules.terminal_phase_not_terminating:
            reason = "Terminating"
    return PodRow(f"{ready}/{total}", reason, restarts, last_restart)

