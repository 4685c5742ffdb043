"""The PodStatus rows (kubectl's READY / STATUS / RESTARTS) of the bundled scenarios made for
them (#14 §4): init containers, a crash loop, two containers with one not ready."""

from __future__ import annotations

from helpers import run, statefulset
from statefulsim.runner import RunResult
from statefulsim.runner import run as run_scenario


def rows(result: RunResult, pod: str) -> list[tuple[str, str, int]]:
    return [(r.fields["ready"], r.fields["status"], r.fields["restarts"]) for r in result.trace.of("PodStatus", pod=pod)]


def test_init_containers() -> None:
    r = run_scenario("init-containers")
    assert rows(r, "web-0") == [("0/2", "Pending", 0), ("0/2", "Init:0/2", 0), ("0/2", "Init:1/2", 0),
                                ("0/2", "PodInitializing", 0), ("0/2", "Running", 0), ("1/2", "Running", 0),
                                ("2/2", "Running", 0)]
    # Each row comes after the container change it shows (the kubelet's view, then the API's).
    started = {x.fields["container"]: x.t for x in r.trace.of("ContainerStarted")}
    times = {x.fields["status"]: x.t for x in r.trace.of("PodStatus", pod="web-0")}
    assert started["init-config"] < times["Init:1/2"] < started["init-schema"] < times["PodInitializing"]
    assert times["PodInitializing"] < started["app"] < times["Running"]


def test_crash_loop() -> None:
    r = run_scenario("crashloop-backoff")
    got = rows(r, "web-0")
    expected = [("0/1", "Pending", 0), ("0/1", "ContainerCreating", 0), ("0/1", "Running", 0), ("0/1", "Error", 0),
                ("0/1", "Running", 1)]
    for n in range(1, 10):  # every later exit: Error, then CrashLoopBackOff until the back-off ends
        expected += [("0/1", "Error", n), ("0/1", "CrashLoopBackOff", n), ("0/1", "Running", n + 1)]
    expected += [("0/1", "Error", 10), ("0/1", "CrashLoopBackOff", 10)]
    assert got == expected
    # The back-off between an exit and the next start: 10 s doubling to 300 s, plus the
    # kubelet's 10-15 s pod-worker re-sync quantization.
    exits = [x.t for x in r.trace.of("ContainerExited", pod="web-0")]
    starts = [x.t for x in r.trace.of("ContainerStarted", pod="web-0")][1:]
    waits = [s - e for e, s in zip(exits, starts)][1:]
    for wait, delay in zip(waits, [10, 20, 40, 80, 160, 300, 300]):
        assert delay <= wait <= delay + 15 + 1
    backoff = r.trace.of("KubeEvent", reason="BackOff", object="pod/web-0")
    assert backoff and backoff[0].fields["type"] == "Warning"
    assert backoff[0].fields["message"].startswith("Back-off restarting failed container nginx in pod web-0_default(")


def test_two_containers_one_not_ready() -> None:
    r = run_scenario("two-containers-one-unready")
    assert r.ok
    assert rows(r, "web-0") == [("0/2", "Pending", 0), ("0/2", "ContainerCreating", 0), ("0/2", "Running", 0),
                                ("1/2", "Running", 0)]


def test_a_row_is_written_only_when_it_changes() -> None:
    r = run(statefulset(replicas=2), until="2m")
    for pod in ("web-0", "web-1"):
        got = rows(r, pod)
        assert got == [("0/1", "Pending", 0), ("0/1", "ContainerCreating", 0), ("0/1", "Running", 0),
                       ("1/1", "Running", 0)]
    # Deleted at the end of a scale-down: Terminating, then the last row before the object goes.
    r = run(statefulset(replicas=1), until="2m", actions=[{"at": "1m", "scale": {"statefulset": "web", "replicas": 0}}])
    assert [s for _, s, _ in rows(r, "web-0")][-3:] == ["Terminating", "Terminating", "Completed"]


def test_node_controller_and_taint_eviction_events() -> None:
    r = run_scenario("node-failure")
    events = [(x.fields["component"], x.fields["type"], x.fields["reason"], x.fields["object"], x.fields["message"])
              for x in r.trace.of("KubeEvent") if x.fields["component"] != "kubelet"
              and x.fields["reason"] in ("NodeNotReady", "TaintManagerEviction")]
    assert events[:3] == [
        ("node-controller", "Normal", "NodeNotReady", "node/node-b", "Node node-b status is now: NodeNotReady"),
        ("node-controller", "Warning", "NodeNotReady", "pod/web-1", "Node is not ready"),
        ("taint-eviction-controller", "Normal", "TaintManagerEviction", "pod/web-1",
         "Marking for deletion Pod default/web-1"),
    ]
    # The pod on the unreachable node keeps READY 1/1 (the node controller flips only the Ready
    # condition, the container statuses are the silent kubelet's), is Terminating after the
    # taint eviction, and Failed once pod GC force-deletes it (out-of-service taint).
    uid = r.trace.of("PodCreated", pod="web-1")[0].fields["uid"]
    got = [(x.fields["ready"], x.fields["status"]) for x in r.trace.of("PodStatus", uid=uid)]
    assert got == [("0/1", "Pending"), ("0/1", "ContainerCreating"), ("0/1", "Running"), ("1/1", "Running"),
                   ("1/1", "Terminating"), ("1/1", "Failed")]


def test_plot_and_report_show_a_pull_back_off() -> None:
    from statefulsim.present.plots import pod_rows
    from statefulsim.present.report import describe_records

    r = run_scenario("image-pull-backoff")
    [row] = [x for x in pod_rows(r) if x.pod == "web-2"]
    broken = row.incarnations[1]
    states = [s.state for s in broken.spans]
    assert states[:3] == ["Pending", "ContainerCreating", "Failing"] and "Running" not in states
    lines = [text for rec, _, text in describe_records(r) if rec.event == "PodStatus"]
    assert lines[0] == "kubectl shows ErrImagePull (READY 0/1, RESTARTS 0)"
    assert "kubectl shows ImagePullBackOff (READY 0/1, RESTARTS 0)" in lines
    # The crash loop: drawn Failing between the exits and the restarts, not Running.
    crash = run_scenario("crashloop-backoff")
    [row] = [x for x in pod_rows(crash) if x.pod == "web-0"]
    assert {s.state for s in row.incarnations[0].spans} == {"Pending", "ContainerCreating", "Running", "Failing"}
