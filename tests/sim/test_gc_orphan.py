"""An orphaning delete never deletes a dependent (``kubectl delete --cascade=orphan``)."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from statefulsim.analysis.expect import live_pods
from statefulsim.io.scenario import load_scenario_text
from statefulsim.runner import run

MANIFEST = pathlib.Path(__file__).resolve().parents[2] / "scenarios" / "manifests" / "web-storage.yaml"


def orphan_delete(mode: str, seed: int) -> str:
    """The tutorial's 3-replica web set with per-pod claims of a class in ``mode``, default
    timing, deleted with ``cascade: orphan`` once it is Ready."""
    docs = list(yaml.safe_load_all(MANIFEST.read_text()))
    docs[0]["volumeBindingMode"] = mode
    return yaml.safe_dump({
        "apiVersion": "statefulsim/v1", "kind": "Scenario", "metadata": {"name": "orphan"},
        "seed": seed, "until": "2m30s", "cluster": {"nodes": 3}, "manifests": docs,
        "actions": [{"at": "2m", "deleteStatefulSet": {"statefulset": "web", "cascade": "orphan"}}],
    }, sort_keys=False)


@pytest.mark.parametrize("mode", ["WaitForFirstConsumer", "Immediate"])
def test_orphan_delete_keeps_every_pod_over_many_seeds(mode: str) -> None:
    # The collector once decided on the pod as read before its owner GET: the orphan finalizer
    # had removed the owner reference and then the owner meanwhile, so the owner looked
    # dangling and the pod was collected (seeds 3 and 7 of 1-8 with WaitForFirstConsumer).
    for seed in range(1, 25):
        r = run(load_scenario_text(orphan_delete(mode, seed)))
        assert r.trace.first("StatefulSetDeleted") is not None, seed
        assert [x.fields for x in r.trace.of("GarbageCollected") if x.fields["kind"] == "Pod"] == [], seed
        assert r.trace.of("PodTerminating") == [], seed
        assert live_pods(r.trace, 150) == ["web-0", "web-1", "web-2"], seed
        for i in range(3):
            assert r.cluster.get("Pod", f"web-{i}").metadata.owner_references == (), seed
