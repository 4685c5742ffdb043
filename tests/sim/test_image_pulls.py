"""Image pulls that fail (#14 §2): ErrImagePull, ImagePullBackOff and its back-off, pull
policies, the controller halting behind the pod, and the stuck report."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import run, scenario, statefulset
from statefulsim.errors import ScenarioError
from statefulsim.io.scenario import load_scenario
from statefulsim.runner import RunResult
from statefulsim.runner import run as run_scenario
from statefulsim.sim.kubelet.images import registry_error

BAD = "nginx:1.99"


def statuses(result: RunResult, pod: str, nth: int = 0) -> list[str]:
    """The STATUS column of ``PodStatus`` rows of the ``nth`` incarnation of ``pod``."""
    uid = result.trace.of("PodCreated", pod=pod)[nth].fields["uid"]
    return [r.fields["status"] for r in result.trace.of("PodStatus", uid=uid)]


def kube_events(result: RunResult, reason: str, pod: str) -> list[Any]:
    return result.trace.of("KubeEvent", reason=reason, object=f"pod/{pod}")


def test_not_found_image_backs_off_10s_doubling_to_300s() -> None:
    r = run(statefulset(replicas=1, container={"image": BAD}), until="30m",
            extra={"images": [{"image": "nginx:1.99", "pull": "notFound"}]})
    # each failed pull turns the row to ErrImagePull (the Events say so too, until the kubelet's
    # spam filter starts dropping them: 25 per pod, then one per 5 minutes)
    failed = [e for e in r.trace.of("PodStatus", pod="web-0") if e.fields["status"] == "ErrImagePull"]
    gaps = [round(b.t - a.t, 6) for a, b in zip(failed, failed[1:])]
    assert gaps[:7] == [10, 20, 40, 80, 160, 300, 300]
    events = [e for e in kube_events(r, "Failed", "web-0") if e.fields["message"] == "Error: ErrImagePull"]
    assert [round(e.t, 6) for e in events[:5]] == [round(e.t, 6) for e in failed[:5]]
    first = kube_events(r, "Failed", "web-0")[0]
    assert first.fields["message"] == f'Failed to pull image "{BAD}": {registry_error("notFound", BAD)}'
    assert first.fields["type"] == "Warning" and first.fields["component"] == "kubelet"
    assert "docker.io/library/nginx:1.99: not found" in first.fields["message"]
    rows = statuses(r, "web-0")
    assert rows[:4] == ["Pending", "ContainerCreating", "ErrImagePull", "ImagePullBackOff"]
    assert set(rows[2:]) == {"ErrImagePull", "ImagePullBackOff"}
    backoff = kube_events(r, "BackOff", "web-0")
    assert backoff[0].fields["message"] == f'Back-off pulling image "{BAD}"' and backoff[0].fields["type"] == "Normal"
    counts = [e.fields["count"] for e in backoff]
    assert counts[:3] == [1, 2, 3] and counts == sorted(set(counts))  # one Event, counted (some dropped later)
    assert r.trace.first("PodReady") is None


def test_other_pulls_on_the_node_are_not_blocked() -> None:
    bad = statefulset("bad", replicas=1, container={"image": BAD})
    good = statefulset("good", replicas=1, container={"image": "redis:7"})
    r = run(bad, good, nodes=1, extra={"images": [{"image": "nginx:1.99", "pull": "unauthorized"}]})
    assert r.trace.first("PodReady", pod="good-0") is not None
    assert "ImagePullBackOff" in statuses(r, "bad-0")
    msg = kube_events(r, "Failed", "bad-0")[0].fields["message"]
    assert "pull access denied" in msg


def test_timeout_takes_30s_per_attempt() -> None:
    r = run(statefulset(replicas=1, container={"image": BAD}), until="3m",
            extra={"images": [{"image": "nginx", "pull": "timeout", "message": "dial tcp 1.2.3.4:443: i/o timeout"}]})
    pulling = kube_events(r, "Pulling", "web-0")[0]
    failed = kube_events(r, "Failed", "web-0")[0]
    assert failed.t - pulling.t == pytest.approx(30.0)
    assert failed.fields["message"] == f'Failed to pull image "{BAD}": dial tcp 1.2.3.4:443: i/o timeout'


def test_never_with_an_absent_image() -> None:
    r = run(statefulset(replicas=1, container={"image": "nginx:1.27", "imagePullPolicy": "Never"}), until="1m")
    assert statuses(r, "web-0")[-1] == "ErrImageNeverPull"
    ev = kube_events(r, "ErrImageNeverPull", "web-0")[0]
    assert ev.fields["message"] == 'Container image "nginx:1.27" is not present with pull policy of Never'
    assert r.trace.first("ImagePulling") is None


def test_latest_defaults_to_always_and_always_asks_the_registry() -> None:
    # Two pods of :latest on one node: both pull (Always), so a refused image fails even when cached.
    r = run(statefulset(replicas=2, policy="Parallel", container={"image": "nginx:latest"}), nodes=1, until="2m")
    pulled = [e.fields["message"] for e in r.trace.of("KubeEvent", reason="Pulled")]
    assert len(pulled) == 2 and all(m.startswith('Successfully pulled image "nginx:latest" in ') for m in pulled)
    r = run(statefulset(replicas=2, policy="Parallel", container={"image": "nginx:1.27"}), nodes=1, until="2m")
    pulled = sorted(e.fields["message"] for e in r.trace.of("KubeEvent", reason="Pulled"))
    assert pulled[0] == 'Container image "nginx:1.27" already present on machine'
    assert pulled[1] == 'Successfully pulled image "nginx:1.27" in 2s (2s including waiting)'


def test_bundled_image_pull_backoff_halt_trap_and_fix() -> None:
    r = run_scenario("image-pull-backoff")
    assert r.ok
    first, broken, fixed = (statuses(r, "web-2", n) for n in range(3))
    assert first == ["Pending", "ContainerCreating", "Running", "Running", "Terminating", "Terminating", "Completed"]
    assert broken[:4] == ["Pending", "ContainerCreating", "ErrImagePull", "ImagePullBackOff"]
    assert broken[-3:] == ["ImagePullBackOff", "Terminating", "ContainerStatusUnknown"]
    assert set(broken[2:-2]) == {"ErrImagePull", "ImagePullBackOff"}
    assert fixed == ["Pending", "ContainerCreating", "Running", "Running"]
    # The revert at 4m does not replace the broken pod; the deletion at 7m does.
    recreated = r.trace.of("PodCreated", pod="web-2")
    assert [round(p.t) for p in recreated][1:] == [60, 420]
    rows = r.trace.of("PodStatus", pod="web-2")
    assert [(x.fields["ready"], x.fields["status"]) for x in rows][-1] == ("1/1", "Running")
    assert r.trace.first("PodTerminating", pod="web-1") is None


def test_stuck_report_names_the_image() -> None:
    r = run(statefulset(replicas=2, container={"image": BAD}), until="5m",
            extra={"images": [{"image": "nginx:1.99", "pull": "notFound"}]})
    [stuck] = r.stuck()
    assert stuck.pod == "web-0"
    assert f"image {BAD} cannot be pulled: rpc error: code = NotFound" in stuck.message()


@pytest.mark.parametrize("entry, problem", [
    ({"image": "x", "pull": "gone"}, "images[0].pull: expected one of notFound, unauthorized, timeout"),
    ({"pull": "notFound"}, "images[0].image: required key is missing"),
    ({"image": "x", "pull": "notFound", "when": 3}, "images[0]"),
    ("nginx", "images[0]: expected a mapping with image and pull keys"),
])
def test_images_errors(entry: Any, problem: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        scenario(statefulset(), extra={"images": [entry]})
    assert any(problem in str(p) for p in exc.value.problems), [str(p) for p in exc.value.problems]


def test_bundled_scenario_loads_its_rule() -> None:
    from statefulsim.io.bundled import resolve_bundled

    sc = load_scenario(resolve_bundled("image-pull-backoff"))
    assert [(i.image, i.pull) for i in sc.cluster.images] == [("registry.k8s.io/nginx-slim:0.99", "notFound")]
