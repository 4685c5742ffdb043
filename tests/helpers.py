"""Helpers for building small scenarios in tests."""

from __future__ import annotations

import pathlib
import textwrap
from typing import Any

import yaml

from statefulsim import runner
from statefulsim.io.scenario import load_scenario_text
from statefulsim.model.scenario import Scenario
from statefulsim.runner import RunResult

#: Constant, round timings so tests can assert exact times.
EXACT_TIMING: dict[str, Any] = {
    "apiLatency": 0,
    "watchLatency": 0,
    "scheduling": 0,
    "plegRelist": 0.5,
    "sandbox": 1,
    "imagePull": 2,
    "imagePullCached": 0,
    "containerStart": 0.5,
    "initContainerRun": 1,
    "appReady": 3,
    "probeDuration": 0,
    "preStop": 1,
    "appShutdown": 1,
    "podWorkerJitter": False,
}


def statefulset(name: str = "web", replicas: int = 3, *, policy: str = "OrderedReady",
                readiness: dict[str, Any] | None = None, extra_spec: dict[str, Any] | None = None,
                container: dict[str, Any] | None = None, grace: int | None = None) -> dict[str, Any]:
    """An apps/v1 StatefulSet manifest as a dict."""
    c: dict[str, Any] = {"name": "app", "image": "nginx:1.27"}
    if readiness is not False:
        c["readinessProbe"] = {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 1, **(readiness or {})}
    c.update(container or {})
    pod_spec: dict[str, Any] = {"containers": [c]}
    if grace is not None:
        pod_spec["terminationGracePeriodSeconds"] = grace
    spec: dict[str, Any] = {
        "replicas": replicas,
        "serviceName": name,
        "podManagementPolicy": policy,
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec},
    }
    spec.update(extra_spec or {})
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name}, "spec": spec}


def scenario(*manifests: dict[str, Any], actions: list[Any] | None = None, timing: dict[str, Any] | None = None,
             until: str = "10m", seed: int = 1, nodes: Any = 3, expect: list[Any] | None = None,
             extra: dict[str, Any] | None = None) -> Scenario:
    doc: dict[str, Any] = {
        "apiVersion": "statefulsim/v1",
        "kind": "Scenario",
        "metadata": {"name": "test"},
        "seed": seed,
        "until": until,
        "cluster": {"nodes": nodes},
        "manifests": list(manifests),
        "timing": {**EXACT_TIMING, **(timing or {})},
        "actions": actions or [],
        "expect": expect or [],
    }
    doc.update(extra or {})
    return load_scenario_text(yaml.safe_dump(doc, sort_keys=False))


def run(*manifests: dict[str, Any], **kw: Any) -> RunResult:
    until = kw.pop("run_until", None)
    sc = scenario(*manifests, **kw)
    return runner.run(sc, until=until)


def times(result: RunResult, event: str, **match: Any) -> list[float]:
    return [r.t for r in result.trace.of(event, **match)]


def first(result: RunResult, event: str, **match: Any) -> float:
    r = result.trace.first(event, **match)
    assert r is not None, f"no {event} {match} in trace"
    return r.t


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip()


ROOT = pathlib.Path(__file__).resolve().parent.parent


def short_quickstart(directory: pathlib.Path, until: str, values: dict[str, Any]) -> pathlib.Path:
    """scenarios/quickstart.yaml without its actions and expectations, cut at ``until``, with
    ``values`` set by sweep path (e.g. ``manifests[mysql].spec.replicas``); written into
    ``directory`` (the manifest is referenced by absolute path) and returned."""
    from statefulsim.sweep import set_path

    data = yaml.safe_load((ROOT / "scenarios" / "quickstart.yaml").read_text())
    data["until"] = until
    data.pop("actions")
    data.pop("expect")
    data["manifests"] = [{"file": str(ROOT / "scenarios" / "manifests" / "mysql.yaml")}]
    for path, value in values.items():
        set_path(data, path, value)
    out = directory / "quick.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def assert_same_records(fast: list[dict[str, Any]], slow: list[dict[str, Any]],
                        names: tuple[str, str] = ("fast", "slow")) -> None:
    """Two runs' trace records are identical; else name the first record that differs."""
    width = max(map(len, names)) + 1
    for i, (a, b) in enumerate(zip(fast, slow)):
        assert a == b, f"first difference at record {i}:\n {names[0] + ':':<{width}} {a}\n {names[1] + ':':<{width}} {b}"
    assert len(fast) == len(slow), f"{names[0]}: {len(fast)} records, {names[1]}: {len(slow)}"
