"""Scenario loading: precise errors (file, line, key path, expected/found, did-you-mean)."""

from __future__ import annotations

import pathlib

import pytest

from helpers import dedent
from statefulsim.errors import ScenarioError
from statefulsim.io.scenario import load_scenario, load_scenario_text
from statefulsim.sim.api.objects import GenericObject, StatefulSet
from statefulsim.sim.delays import Constant, LogNormal, Uniform

ROOT = pathlib.Path(__file__).resolve().parents[2]
MYSQL = ROOT / "scenarios" / "manifests" / "mysql.yaml"

GOOD = f"""\
apiVersion: statefulsim/v1
kind: Scenario
metadata: {{name: t}}
seed: 3
until: 5m
cluster: {{nodes: 2}}
manifests:
  - file: {MYSQL}
actions:
  - at: 1m
    scale: {{statefulset: mysql, replicas: 1}}
"""


def problems(text: str, tmp_path: pathlib.Path, name: str = "s.yaml") -> list[str]:
    f = tmp_path / name
    f.write_text(dedent(text))
    with pytest.raises(ScenarioError) as exc:
        load_scenario(f)
    return [str(p) for p in exc.value.problems]


def test_good_scenario_loads(tmp_path: pathlib.Path) -> None:
    (tmp_path / "s.yaml").write_text(GOOD)
    sc = load_scenario(tmp_path / "s.yaml")
    assert sc.name == "t" and sc.seed == 3 and sc.until == 300
    assert len(sc.cluster.nodes) == 2
    kinds = [o.kind for o in sc.objects]
    assert kinds == ["StorageClass", "ConfigMap", "Service", "StatefulSet"]
    assert isinstance(sc.objects[1], GenericObject)
    assert any("ConfigMap mysql" in n and "not simulated" in n for n in sc.notices)
    assert sc.actions[0].replicas == 1


def test_malformed_yaml(tmp_path: pathlib.Path) -> None:
    out = problems("apiVersion: statefulsim/v1\nkind: [Scenario\n", tmp_path)
    assert len(out) == 1 and "s.yaml:" in out[0]


def test_unknown_key_with_suggestion(tmp_path: pathlib.Path) -> None:
    out = problems(GOOD.replace("until: 5m", "untill: 5m"), tmp_path)
    assert any(':5: untill: unknown key (did you mean "until"?)' in p for p in out), out


def test_wrong_types_reported_together(tmp_path: pathlib.Path) -> None:
    text = GOOD.replace("seed: 3", "seed: three").replace("nodes: 2", "nodes: many")
    out = problems(text, tmp_path)
    assert any(":4: seed: expected an integer, found a string 'three'" in p for p in out), out
    assert any("cluster.nodes: expected a node count or a list of nodes, found a string 'many'" in p for p in out), out


def test_missing_statefulset_in_action(tmp_path: pathlib.Path) -> None:
    out = problems(GOOD.replace("statefulset: mysql", "statefulset: mysq"), tmp_path)
    assert any("actions[0].scale.statefulset: no StatefulSet named 'mysq' in manifests (did you mean \"mysql\"?)" in p
               for p in out), out


def test_negative_replicas_in_manifest_points_at_manifest_file(tmp_path: pathlib.Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(MYSQL.read_text().replace("replicas: 3", "replicas: -1"))
    out = problems(GOOD.replace(str(MYSQL), "m.yaml"), tmp_path)
    line = next(i + 1 for i, text in enumerate(manifest.read_text().splitlines()) if "replicas: -1" in text)
    assert any(f"m.yaml:{line}: spec.replicas: expected an integer >= 0, found -1" in p for p in out), out


def test_missing_manifest_file(tmp_path: pathlib.Path) -> None:
    out = problems(GOOD.replace(str(MYSQL), "nope.yaml"), tmp_path)
    assert any("manifests[0].file: cannot read manifest file 'nope.yaml'" in p for p in out), out


def test_no_statefulset_at_all(tmp_path: pathlib.Path) -> None:
    text = "apiVersion: statefulsim/v1\nkind: Scenario\nmetadata: {name: x}\nmanifests: []\n"
    out = problems(text, tmp_path)
    assert any("defines no StatefulSet" in p for p in out)


def test_unknown_verb_and_bad_time(tmp_path: pathlib.Path) -> None:
    text = GOOD + "  - at: soon\n    scael: {statefulset: mysql, replicas: 2}\n"
    out = problems(text, tmp_path)
    assert any("actions[1].at: expected a duration" in p for p in out), out
    assert any('actions[1].scael: unknown key (did you mean "scale"?)' in p for p in out), out


def test_actions_out_of_order(tmp_path: pathlib.Path) -> None:
    text = GOOD + "  - at: 30s\n    scale: {statefulset: mysql, replicas: 2}\n"
    out = problems(text, tmp_path)
    assert any("actions[1].at: actions must be in time order" in p for p in out), out


def test_timing_models_parse() -> None:
    sc = load_scenario_text(GOOD.replace("actions:", dedent("""
        timing:
          appReady: 10s
          imagePull: {lognormal: {median: 2s, p99: 10s}}
          sandbox: {uniform: {low: 1s, high: 2s}}
          overrides:
            - match: {statefulset: mysql, ordinal: 2}
              appReady: never
        actions:""")))
    t = sc.timing
    assert t.model("appReady") == Constant(10)
    assert t.model("imagePull") == LogNormal(2, 10)
    assert t.model("sandbox") == Uniform(1, 2)
    m = t.for_container("appReady", statefulset="mysql", ordinal=2, pod="mysql-2", image="mysql:8.0", container="mysql")
    assert m.sample(__import__("random").Random(0)) == float("inf")


def test_timing_errors(tmp_path: pathlib.Path) -> None:
    text = GOOD.replace("actions:", dedent("""
        timing:
          appReddy: 10s
          imagePull: {lognormal: {median: 10s, p99: 2s}}
          sandbox: {gaussian: {mean: 1s}}
        actions:"""))
    out = problems(text, tmp_path)
    assert any('timing.appReddy: unknown key (did you mean "appReady"?)' in p for p in out), out
    assert any("timing.imagePull.lognormal: p99 (2s) must be greater than median (10s)" in p for p in out), out
    assert any("timing.sandbox.gaussian: unknown delay model" in p for p in out), out


def test_apps_v1beta1_defaults_selector_and_on_delete() -> None:
    inline = (
        "  - apiVersion: apps/v1beta1\n"
        "    kind: StatefulSet\n"
        "    metadata: {name: mysql}\n"
        "    spec:\n"
        "      serviceName: mysql\n"
        "      replicas: 2\n"
        "      template:\n"
        "        metadata: {labels: {app: mysql}}\n"
        "        spec:\n"
        "          containers: [{name: mysql, image: 'mysql:8.0'}]"
    )
    sc = load_scenario_text(GOOD.replace(f"  - file: {MYSQL}", inline))
    sts = next(o for o in sc.objects if isinstance(o, StatefulSet))
    assert sts.spec.selector.match_labels == {"app": "mysql"}
    assert sts.spec.update_strategy.type == "OnDelete"


OLD_WEB = """\
apiVersion: v1
kind: Service
metadata: {name: nginx}
spec: {clusterIP: None, selector: {app: nginx}}
---
# from an old tutorial
apiVersion: API
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: nginx
  replicas: 2
SPEC  template:
    metadata:
      labels: {app: nginx, "app.kubernetes.io/version": "1.8"}
    spec:
      containers: [{name: nginx, image: "registry.k8s.io/nginx-slim:0.8"}]
"""


def _old_web(tmp_path: pathlib.Path, api: str, spec: str = "", version: str = "1.33") -> tuple[list[str], StatefulSet]:
    (tmp_path / "web.yaml").write_text(OLD_WEB.replace("API", api).replace("SPEC", spec))
    (tmp_path / "s.yaml").write_text(dedent(f"""
        apiVersion: statefulsim/v1
        kind: Scenario
        metadata: {{name: old}}
        cluster: {{kubernetesVersion: "{version}"}}
        manifests:
          - file: web.yaml
        """))
    sc = load_scenario(tmp_path / "s.yaml")
    sts = next(o for o in sc.objects if isinstance(o, StatefulSet))
    return [n for n in sc.notices if "apiVersion" in n], sts


def test_removed_statefulset_api_versions_load_with_a_warning_quoting_the_api_server(tmp_path: pathlib.Path) -> None:
    notices, sts = _old_web(tmp_path, "apps/v1beta1")
    # Loads, with apps/v1beta1's defaults.
    assert sts.spec.selector.match_labels == {"app": "nginx", "app.kubernetes.io/version": "1.8"}
    assert sts.spec.update_strategy.type == "OnDelete"
    assert notices == [
        f"warning: {tmp_path / 'web.yaml'}:7: apiVersion: Kubernetes 1.33 does not serve apps/v1beta1 (removed in "
        '1.16); its API server answers: no matches for kind "StatefulSet" in version "apps/v1beta1". Loaded with '
        "the apps/v1beta1 defaults; for a real cluster write apiVersion: apps/v1, and add spec.selector: "
        '{matchLabels: {app: nginx, app.kubernetes.io/version: "1.8"}} (apps/v1beta1 defaulted it from the template '
        "labels) and spec.updateStrategy: {type: OnDelete} (apps/v1beta1's default; apps/v1's is RollingUpdate)"]


@pytest.mark.parametrize("api, spec, change", [
    ("apps/v1beta2", "  selector: {matchLabels: {app: nginx}}\n", "write apiVersion: apps/v1"),
    ("apps/v1beta1", "  selector: {matchLabels: {app: nginx}}\n  updateStrategy: {type: RollingUpdate}\n",
     "write apiVersion: apps/v1"),
    ("apps/v1beta1", "  updateStrategy: {type: OnDelete}\n",
     "write apiVersion: apps/v1, and add spec.selector: {matchLabels: {app: nginx, app.kubernetes.io/version: "
     '"1.8"}} (apps/v1beta1 defaulted it from the template labels)'),
])
def test_the_warning_shows_only_the_changes_the_manifest_needs(tmp_path: pathlib.Path, api: str, spec: str,
                                                               change: str) -> None:
    notices, _ = _old_web(tmp_path, api, spec, version="1.25")
    assert len(notices) == 1 and "Kubernetes 1.25 does not serve " + api in notices[0]
    assert notices[0].endswith(change), notices[0]


def test_apps_v1_and_inline_old_manifests(tmp_path: pathlib.Path) -> None:
    notices, _ = _old_web(tmp_path, "apps/v1", "  selector: {matchLabels: {app: nginx}}\n")
    assert notices == []
    inline = GOOD.replace(f"  - file: {MYSQL}", "\n".join([
        "  - apiVersion: apps/v1beta2",
        "    kind: StatefulSet",
        "    metadata: {name: mysql}",
        "    spec:",
        "      selector: {matchLabels: {app: mysql}}",
        "      serviceName: mysql",
        "      template:",
        "        metadata: {labels: {app: mysql}}",
        "        spec: {containers: [{name: mysql, image: 'mysql:8.0'}]}"]))
    sc = load_scenario_text(inline)
    assert [n for n in sc.notices if "apiVersion" in n] == [
        "warning: <scenario>:8: manifests[0].apiVersion: Kubernetes 1.37 does not serve apps/v1beta2 (removed in "
        '1.16); its API server answers: no matches for kind "StatefulSet" in version "apps/v1beta2". Loaded with '
        "the apps/v1beta2 defaults; for a real cluster write apiVersion: apps/v1"]


def test_nothing_is_executed(tmp_path: pathlib.Path) -> None:
    out = problems(GOOD + "expect: !!python/object/apply:os.system ['echo pwned']\n", tmp_path)
    assert len(out) == 1 and "s.yaml" in out[0]


def test_grace_period_must_be_whole_seconds(tmp_path: pathlib.Path) -> None:
    text = GOOD + "  - at: 2m\n    deletePod: {pod: mysql-0, gracePeriodSeconds: never}\n"
    out = problems(text, tmp_path)
    assert any("actions[1].deletePod.gracePeriodSeconds: expected an integer, found a string 'never'" in p
               for p in out), out


def test_patch_checked_against_manifest_at_load(tmp_path: pathlib.Path) -> None:
    text = GOOD + "  - at: 2m\n    patch: {statefulset: mysql, patch: {spec: {serviceName: other}}}\n"
    out = problems(text, tmp_path)
    assert any("actions[1].patch.patch: the patch would be rejected" in p and "Forbidden" in p for p in out), out
    text = GOOD + "  - at: 2m\n    patch: {statefulset: mysql, patch: {spec: {replicas: many}}}\n"
    out = problems(text, tmp_path)
    assert any("spec.replicas: expected an integer, found a string 'many'" in p for p in out), out


def test_patch_timestamps_become_strings() -> None:
    text = GOOD + ("  - at: 2m\n    patch: {statefulset: mysql, patch: {spec: {template: {metadata: "
                   "{annotations: {restartedAt: 2024-01-01T00:00:00Z}}}}}}\n")
    sc = load_scenario_text(text)
    patch = sc.actions[1].patch
    assert patch["spec"]["template"]["metadata"]["annotations"]["restartedAt"] == "2024-01-01T00:00:00Z"


def test_manifest_problems_name_the_file_as_written(tmp_path: pathlib.Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "bad.yaml").write_text("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: x}\nspec: {}\n")
    (tmp_path / "s.yaml").write_text(GOOD.replace(str(MYSQL), "m/bad.yaml"))
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with pytest.raises(ScenarioError) as exc:
            load_scenario("s.yaml")
    finally:
        os.chdir(cwd)
    assert any(str(p).startswith("m/bad.yaml:4: spec.") for p in exc.value.problems), exc.value.problems
