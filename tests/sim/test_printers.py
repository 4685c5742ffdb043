"""The pod row as kubectl prints it (sim/api/printers.py), table-driven from the cases of
kubectl-surface.md §1.7a (derived from upstream printPod, Kubernetes 1.35), and HumanDuration."""

from __future__ import annotations

from typing import Any

import pytest

from statefulsim.sim.api.objects import (
    Container,
    ContainerStatus,
    ObjectMeta,
    Pod,
    PodCondition,
    PodSpec,
    PodStatus,
)
from statefulsim.sim.api.printers import human_duration, pod_row

NOW = 1000.0


def W(name: str, reason: str, **kw: Any) -> ContainerStatus:
    return ContainerStatus(name, state="waiting", reason=reason, **kw)


def R(name: str, ready: bool = True, **kw: Any) -> ContainerStatus:
    return ContainerStatus(name, state="running", reason="", ready=ready, started=True, **kw)


def T(name: str, reason: str, code: int, **kw: Any) -> ContainerStatus:
    return ContainerStatus(name, state="terminated", reason=reason, exit_code=code, **kw)


def make(phase: str, containers: tuple[str, ...] = ("c",), *, init: tuple[str, ...] = (),
         sidecars: tuple[str, ...] = (), statuses: tuple[ContainerStatus, ...] = (),
         init_statuses: tuple[ContainerStatus, ...] = (), conditions: dict[str, Any] | None = None,
         reason: str = "", deleted: bool = False) -> Pod:
    """A pod; ``init`` are regular init containers, ``sidecars`` restartable ones (spec order:
    sidecars first, then init)."""
    inits = tuple(Container(n, "img", restart_policy="Always") for n in sidecars) + tuple(
        Container(n, "img") for n in init)
    conds = []
    for type_, value in (conditions or {}).items():
        status, why = value if isinstance(value, tuple) else (value, "")
        conds.append(PodCondition(type_, status, 0.0, why))
    return Pod(ObjectMeta("web-0", deletion_timestamp=NOW if deleted else None),
               PodSpec(containers=tuple(Container(n, "img") for n in containers), init_containers=inits),
               PodStatus(phase=phase, conditions=tuple(conds), container_statuses=statuses,
                         init_container_statuses=init_statuses, reason=reason))


CASES: list[tuple[str, Pod, str, str, str]] = [
    ("1 no statuses", make("Pending"), "0/1", "Pending", "0"),
    ("2 unschedulable", make("Pending", conditions={"PodScheduled": (False, "Unschedulable")}),
     "0/1", "Pending", "0"),
    ("3 scheduling gated", make("Pending", conditions={"PodScheduled": (False, "SchedulingGated")}),
     "0/1", "SchedulingGated", "0"),
    ("4 creating", make("Pending", statuses=(W("c", "ContainerCreating"),)), "0/1", "ContainerCreating", "0"),
    ("5 pull error", make("Pending", statuses=(W("c", "ErrImagePull"),)), "0/1", "ErrImagePull", "0"),
    ("6 pull back-off", make("Pending", statuses=(W("c", "ImagePullBackOff"),)), "0/1", "ImagePullBackOff", "0"),
    ("7 running not ready", make("Running", statuses=(R("c", ready=False),)), "0/1", "Running", "0"),
    ("8 running ready", make("Running", statuses=(R("c"),), conditions={"Ready": True}), "1/1", "Running", "0"),
    ("9 error", make("Running", statuses=(T("c", "Error", 1),)), "0/1", "Error", "0"),
    ("10 crash loop", make("Running", statuses=(W("c", "CrashLoopBackOff", restart_count=3,
                                                     last_finished_at=NOW - 47),)),
     "0/1", "CrashLoopBackOff", "3 (47s ago)"),
    ("11 ready after restarts", make("Running", statuses=(R("c", restart_count=3, last_finished_at=NOW - 300),),
                                     conditions={"Ready": True}), "1/1", "Running", "3 (5m ago)"),
    ("12 oom", make("Running", statuses=(T("c", "OOMKilled", 137, restart_count=1, last_finished_at=NOW - 123),)),
     "0/1", "OOMKilled", "1 (2m3s ago)"),
    ("13a signal", make("Running", statuses=(T("c", "", 137, signal=9),)), "0/1", "Signal:9", "0"),
    ("13b exit code", make("Running", statuses=(T("c", "", 2),)), "0/1", "ExitCode:2", "0"),
    ("14 first init running", make("Pending", init=("i1", "i2"), statuses=(W("c", "PodInitializing"),),
                                   init_statuses=(R("i1", ready=False),)), "0/1", "Init:0/2", "0"),
    ("15 init crash loop", make("Pending", init=("i1", "i2"),
                                init_statuses=(T("i1", "Completed", 0),
                                               W("i2", "CrashLoopBackOff", restart_count=2,
                                                 last_finished_at=NOW - 10))),
     "0/1", "Init:CrashLoopBackOff", "2 (10s ago)"),
    ("16 init error", make("Pending", init=("i1",), init_statuses=(T("i1", "Error", 1, restart_count=1),)),
     "0/1", "Init:Error", "1"),
    ("17 init waiting PodInitializing", make("Pending", init=("i1",), init_statuses=(W("i1", "PodInitializing"),)),
     "0/1", "Init:0/1", "0"),
    ("17b main PodInitializing", make("Pending", init=("i1",), init_statuses=(T("i1", "Completed", 0),),
                                      statuses=(W("c", "PodInitializing"),)), "0/1", "PodInitializing", "0"),
    ("18 sidecar ready", make("Running", sidecars=("s",), init_statuses=(R("s"),), statuses=(R("c"),),
                              conditions={"Initialized": True, "Ready": True}), "2/2", "Running", "0"),
    ("19 sidecar started not ready", make("Pending", sidecars=("s",), init_statuses=(R("s", ready=False),),
                                          statuses=(W("c", "ContainerCreating"),)),
     "0/2", "ContainerCreating", "0"),
    ("20 sidecar not started", make("Pending", sidecars=("s",),
                                    init_statuses=(ContainerStatus("s", state="running", reason=""),),
                                    conditions={"Initialized": False}), "0/2", "Init:0/1", "0"),
    ("21 completed and running, Ready", make("Running", ("c1", "c2"), statuses=(T("c1", "Completed", 0), R("c2")),
                                             conditions={"Ready": True}), "1/2", "Running", "0"),
    ("22 completed and running, not Ready", make("Running", ("c1", "c2"),
                                                 statuses=(T("c1", "Completed", 0), R("c2"))),
     "1/2", "NotReady", "0"),
    ("23 completed and error (1.35)", make("Failed", ("c1", "c2"),
                                           statuses=(T("c1", "Completed", 0), T("c2", "Error", 1))),
     "0/2", "Error", "0"),
    ("24 error and completed", make("Failed", ("c1", "c2"), statuses=(T("c1", "Error", 1), T("c2", "Completed", 0))),
     "0/2", "Error", "0"),
    ("25 one crash looping", make("Running", ("c1", "c2"),
                                  statuses=(R("c1"), W("c2", "CrashLoopBackOff", restart_count=4,
                                                       last_finished_at=NOW - 60))),
     "1/2", "CrashLoopBackOff", "4 (60s ago)"),
    ("26 terminating", make("Running", statuses=(R("c"),), conditions={"Ready": True}, deleted=True),
     "1/1", "Terminating", "0"),
    ("27 succeeded and deleted", make("Succeeded", statuses=(T("c", "Completed", 0),), deleted=True),
     "0/1", "Completed", "0"),
    ("28 node lost", make("Running", statuses=(R("c"),), reason="NodeLost", deleted=True), "1/1", "Unknown", "0"),
    ("29 evicted", make("Failed", reason="Evicted"), "0/1", "Evicted", "0"),
    ("30 evicted, status unknown", make("Failed", reason="Evicted",
                                        statuses=(T("c", "ContainerStatusUnknown", 137),)),
     "0/1", "ContainerStatusUnknown", "0"),
    ("two containers, one not ready", make("Running", ("c1", "c2"), statuses=(R("c1"), R("c2", ready=False))),
     "1/2", "Running", "0"),
    ("init done, second running", make("Pending", init=("i1", "i2"), statuses=(W("c", "PodInitializing"),),
                                       init_statuses=(T("i1", "Completed", 0), R("i2", ready=False))),
     "0/1", "Init:1/2", "0"),
    ("init never pull", make("Pending", init=("i1",), init_statuses=(W("i1", "ErrImageNeverPull"),)),
     "0/1", "Init:ErrImageNeverPull", "0"),
    ("finished init restarts are not counted", make("Running", init=("i1",),
                                                    init_statuses=(T("i1", "Completed", 0, restart_count=2),),
                                                    statuses=(R("c"),), conditions={"Ready": True}),
     "1/1", "Running", "0"),
]


@pytest.mark.parametrize("pod, ready, status, restarts", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_pod_row(pod: Pod, ready: str, status: str, restarts: str) -> None:
    row = pod_row(pod)
    assert (row.ready, row.status, row.restarts_cell(NOW)) == (ready, status, restarts)


@pytest.mark.parametrize("seconds, text", [
    (-3, "<invalid>"), (-0.5, "0s"), (0, "0s"), (59.9, "59s"), (119, "119s"), (120, "2m"), (123, "2m3s"),
    (599, "9m59s"), (600, "10m"), (179 * 60, "179m"), (3 * 3600, "3h"), (3 * 3600 + 300, "3h5m"),
    (8 * 3600, "8h"), (47 * 3600, "47h"), (48 * 3600, "2d"), (50 * 3600, "2d2h"), (8 * 86400, "8d"),
    (729 * 86400, "729d"), (730 * 86400, "2y"), (731 * 86400, "2y1d"), (9 * 365 * 86400, "9y"),
])
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


# -- the printer of earlier releases (kubectl-surface.md §1.7) ---------------------------------

def test_printer_rules_per_release() -> None:
    from statefulsim.sim.api.printers import PrinterRules

    assert PrinterRules.for_minor(37) == PrinterRules()
    old = PrinterRules.for_minor(25)
    assert not (old.scheduling_gated or old.sidecars or old.terminal_phase_not_terminating or old.error_reason)
    assert PrinterRules.for_minor(30).sidecars and not PrinterRules.for_minor(30).terminal_phase_not_terminating
    assert PrinterRules.for_minor(31).terminal_phase_not_terminating and not PrinterRules.for_minor(34).error_reason


@pytest.mark.parametrize(("minor", "status"), [(30, "Terminating"), (31, "Completed"), (37, "Completed")])
def test_terminal_pod_being_deleted_shows_terminating_before_1_31(minor: int, status: str) -> None:
    from statefulsim.sim.api.printers import PrinterRules

    pod = make("Succeeded", statuses=(T("c", "Completed", 0),), deleted=True)
    assert pod_row(pod, PrinterRules.for_minor(minor)).status == status


@pytest.mark.parametrize(("minor", "status"), [(34, "Completed"), (35, "Error")])
def test_completed_with_a_failed_container_shows_the_error_from_1_35(minor: int, status: str) -> None:
    from statefulsim.sim.api.printers import PrinterRules

    pod = make("Failed", ("a", "b"), statuses=(T("a", "Completed", 0), T("b", "Error", 1)))
    assert pod_row(pod, PrinterRules.for_minor(minor)).status == status


@pytest.mark.parametrize(("minor", "row"), [(25, ("0/1", "Pending")), (26, ("0/1", "SchedulingGated")),
                                            (27, ("0/1", "Init:0/1")), (28, ("0/2", "ContainerCreating"))])
def test_gates_and_sidecars_by_release(minor: int, row: tuple[str, str]) -> None:
    from statefulsim.sim.api.printers import PrinterRules

    rules = PrinterRules.for_minor(minor)
    if minor < 27:
        pod = make("Pending", conditions={"PodScheduled": (False, "SchedulingGated")})
    else:  # a started sidecar, the main container still being created
        pod = make("Pending", sidecars=("s",), init_statuses=(R("s", ready=False),),
                   statuses=(W("c", "ContainerCreating"),))
    r = pod_row(pod, rules)
    assert (r.ready, r.status) == row


def test_a_1_30_cluster_shows_terminating_to_the_end_of_a_scale_down() -> None:
    """The simulated API server's printer follows cluster.kubernetesVersion."""
    import yaml

    from statefulsim.io.scenario import load_scenario_text
    from statefulsim.runner import run

    def statuses(version: str) -> list[str]:
        root = __import__("pathlib").Path(__file__).resolve().parents[2]
        doc = yaml.safe_load((root / "scenarios" / "quickstart.yaml").read_text())
        doc["cluster"]["kubernetesVersion"] = version
        doc["expect"] = []
        result = run(load_scenario_text(yaml.safe_dump(doc), file="q.yaml", base_dir=str(root / "scenarios")))
        rows = [r for r in result.trace.of("PodStatus") if r.fields["pod"] == "mysql-2"]
        return [str(r.fields["status"]) for r in rows]

    old, new = statuses("1.30"), statuses("1.37")
    assert old[-1] == "Terminating" and "Completed" not in old
    assert new[-1] == "Completed" and "Terminating" in new
