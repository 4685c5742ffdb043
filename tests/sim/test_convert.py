"""Tests for statefulsim.sim.api.convert: manifests → frozen API objects."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from statefulsim.problems import Problems
from statefulsim.sim.api.convert import (
    default_image_pull_policy,
    object_from_manifest,
    parse_label_selector,
    parse_pod_spec,
    parse_quantity_cpu,
    parse_quantity_memory,
    parse_statefulset_spec,
    to_plain,
)
from statefulsim.sim.api.objects import (
    GenericObject,
    LabelSelectorRequirement,
    Node,
    Pod,
    ResourceRequests,
    RollingUpdateStrategy,
    Service,
    StatefulSet,
)

P = ("manifests", 0)
GiB = 1024**3
MiB = 1024**2


def sts(api_version: str = "apps/v1", **spec_overrides: Any) -> dict[str, Any]:
    """A minimal valid StatefulSet manifest."""
    spec: dict[str, Any] = {
        "serviceName": "web",
        "replicas": 3,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]},
        },
    }
    spec.update(spec_overrides)
    return {"apiVersion": api_version, "kind": "StatefulSet", "metadata": {"name": "web"}, "spec": spec}


def load(doc: Any) -> tuple[Any, Problems]:
    problems = Problems()
    return object_from_manifest(doc, P, problems), problems


def messages(problems: Problems) -> dict[tuple[str | int, ...], str]:
    return {p.path: p.message for p in problems.items}


FULL = """
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
  namespace: shop
  labels: {app: web}
  annotations: {note: "x"}
spec:
  serviceName: nginx
  replicas: 5
  podManagementPolicy: Parallel
  revisionHistoryLimit: 3
  minReadySeconds: 10
  ordinals: {start: 2}
  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete}
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {partition: 2, maxUnavailable: "25%"}
  selector:
    matchLabels: {app: web}
    matchExpressions:
      - {key: tier, operator: In, values: [frontend]}
  template:
    metadata:
      labels: {app: web, tier: frontend}
    spec:
      terminationGracePeriodSeconds: 60
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - labelSelector:
                matchExpressions: [{key: app, operator: In, values: [web]}]
              topologyKey: kubernetes.io/hostname
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm: {topologyKey: zone}
      initContainers:
        - name: init
          image: busybox@sha256:abcdef
        - name: proxy
          image: envoy:v1
          restartPolicy: Always
          readinessProbe: {tcpSocket: {port: 9901}}
      containers:
        - name: nginx
          image: registry.example.com:5000/nginx
          ports: [{containerPort: 80, name: web}]
          resources:
            requests: {cpu: 500m, memory: 128Mi}
            limits: {cpu: "1", memory: 256Mi}
          readinessProbe:
            httpGet: {path: /, port: 80}
            initialDelaySeconds: 5
            periodSeconds: 2
          livenessProbe:
            exec: {command: [true]}
            failureThreshold: 5
            terminationGracePeriodSeconds: 10
          startupProbe:
            grpc: {port: 9000}
          lifecycle:
            preStop: {exec: {command: [sleep, "5"]}}
      volumes:
        - name: data
          persistentVolumeClaim: {claimName: shared}
        - name: tmp
          emptyDir: {}
      readinessGates: [{conditionType: example.com/ready}]
  volumeClaimTemplates:
    - metadata: {name: www}
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 1Gi}}
"""


def test_full_apps_v1_statefulset() -> None:
    yaml = pytest.importorskip("yaml")
    doc = yaml.safe_load(FULL)
    obj, problems = load(doc)
    assert not problems.items, [str(p) for p in problems.items]
    assert isinstance(obj, StatefulSet)
    assert obj.metadata.namespace == "shop"
    assert obj.metadata.annotations == {"note": "x"}
    s = obj.spec
    assert (s.replicas, s.service_name, s.pod_management_policy) == (5, "nginx", "Parallel")
    assert (s.revision_history_limit, s.min_ready_seconds, s.ordinals_start) == (3, 10.0, 2)
    assert s.retention_policy.when_deleted == "Delete" and s.retention_policy.when_scaled == "Retain"
    assert s.update_strategy.rolling_update == RollingUpdateStrategy(partition=2, max_unavailable="25%")
    assert s.selector.match_expressions == (LabelSelectorRequirement("tier", "In", ("frontend",)),)
    assert s.volume_claim_templates[0]["metadata"] == {"name": "www"}
    assert s.template_raw == doc["spec"]["template"]
    assert type(s.template_raw) is dict
    assert obj.spec_raw == doc["spec"]

    pod = s.template.spec
    assert pod.termination_grace_period_seconds == 60.0
    (term,) = pod.required_anti_affinity
    assert term.topology_key == "kubernetes.io/hostname"
    assert term.label_selector.matches({"app": "web"}) and not term.label_selector.matches({"app": "db"})
    init, proxy = pod.init_containers
    assert init.image_pull_policy == "IfNotPresent" and init.restart_policy is None
    assert proxy.restart_policy == "Always" and proxy.readiness_probe is not None
    assert proxy.readiness_probe.handler == "tcpSocket"
    (c,) = pod.containers
    assert c.image_pull_policy == "Always"  # registry:port, no tag
    assert c.ports[0].container_port == 80 and c.ports[0].protocol == "TCP"
    assert c.requests == ResourceRequests(cpu_millis=500, memory_bytes=128 * MiB)
    assert c.readiness_probe is not None and c.liveness_probe is not None and c.startup_probe is not None
    rp = c.readiness_probe
    assert (rp.handler, rp.initial_delay_seconds, rp.period_seconds, rp.timeout_seconds) == ("httpGet", 5.0, 2.0, 1.0)
    assert (rp.success_threshold, rp.failure_threshold, rp.termination_grace_period_seconds) == (1, 3, None)
    assert c.liveness_probe.handler == "exec" and c.liveness_probe.failure_threshold == 5
    assert c.liveness_probe.termination_grace_period_seconds == 10.0
    assert c.startup_probe.handler == "grpc"
    assert c.has_pre_stop
    assert [(v.name, v.claim_name) for v in pod.volumes] == [("data", "shared"), ("tmp", None)]
    assert pod.readiness_gates == ("example.com/ready",)


def test_apps_v1_defaults() -> None:
    obj, problems = load(sts(replicas=None))
    assert not problems.items
    assert isinstance(obj, StatefulSet)
    s = obj.spec
    assert s.replicas == 1 and s.pod_management_policy == "OrderedReady" and s.revision_history_limit == 10
    assert s.update_strategy.type == "RollingUpdate"
    assert s.update_strategy.rolling_update == RollingUpdateStrategy(partition=0, max_unavailable=None)
    assert s.ordinals_start is None and s.start_ordinal == 0
    assert obj.metadata.namespace == "default"
    c = s.template.spec.containers[0]
    assert c.readiness_probe is None and not c.has_pre_stop and c.requests == ResourceRequests()


def test_rolling_update_type_without_block_keeps_none() -> None:
    obj, problems = load(sts(updateStrategy={"type": "RollingUpdate"}))
    assert not problems.items
    assert isinstance(obj, StatefulSet)
    assert obj.spec.update_strategy.type == "RollingUpdate"
    assert obj.spec.update_strategy.rolling_update is None


def test_ordinals_without_start() -> None:
    obj, _ = load(sts(ordinals={}))
    assert isinstance(obj, StatefulSet) and obj.spec.ordinals_start == 0


def test_v1beta1_selector_defaulting_and_on_delete() -> None:
    doc = sts("apps/v1beta1")
    del doc["spec"]["selector"]
    obj, problems = load(doc)
    assert not problems.items
    assert isinstance(obj, StatefulSet)
    assert obj.api_version == "apps/v1beta1"
    assert dict(obj.spec.selector.match_labels) == {"app": "web"}
    assert obj.spec.update_strategy.type == "OnDelete"
    assert obj.spec.update_strategy.rolling_update is None
    assert dict(obj.metadata.labels) == {"app": "web"}  # v1beta1 copies template labels


def test_v1beta2_defaults_rolling_update_and_requires_selector() -> None:
    obj, problems = load(sts("apps/v1beta2"))
    assert isinstance(obj, StatefulSet) and obj.spec.update_strategy.type == "RollingUpdate"
    doc = sts("apps/v1beta2")
    del doc["spec"]["selector"]
    obj, problems = load(doc)
    assert obj is None
    assert "required for apps/v1beta2" in messages(problems)[P + ("spec", "selector")]


def test_v1_missing_selector_is_a_problem_with_path() -> None:
    doc = sts()
    del doc["spec"]["selector"]
    obj, problems = load(doc)
    assert obj is None
    assert [p.path for p in problems.items] == [P + ("spec", "selector")]
    assert "required for apps/v1" in problems.items[0].message


def test_selector_mismatch() -> None:
    obj, problems = load(sts(selector={"matchLabels": {"app": "api"}}))
    assert obj is None
    (p,) = problems.items
    assert p.path == P + ("spec", "template", "metadata", "labels")
    assert "selector does not match template labels" in p.message


def test_empty_selector_rejected() -> None:
    obj, problems = load(sts(selector={}))
    assert obj is None and "empty selector" in problems.items[0].message


def test_negative_replicas() -> None:
    obj, problems = load(sts(replicas=-1))
    assert obj is None
    assert messages(problems) == {P + ("spec", "replicas"): "expected an integer >= 0, found -1"}


def test_bad_probe_field_type_has_exact_path() -> None:
    doc = sts()
    doc["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = {"httpGet": {"port": 80}, "periodSeconds": "10s"}
    obj, problems = load(doc)
    assert obj is None
    path = P + ("spec", "template", "spec", "containers", 0, "readinessProbe", "periodSeconds")
    assert messages(problems) == {path: "expected an integer, found a string '10s'"}


def test_probe_validation() -> None:
    problems = Problems()
    spec = {
        "containers": [
            {
                "name": "c",
                "image": "x:1",
                "livenessProbe": {"exec": {"command": ["true"]}, "successThreshold": 2},
                "startupProbe": {"tcpSocket": {"port": 1}, "successThreshold": 3},
                "readinessProbe": {"httpGet": {"port": 1}, "exec": {}, "terminationGracePeriodSeconds": 5, "timeoutSeconds": 0},
            },
            {"name": "d", "image": "x:1", "readinessProbe": {"periodSeconds": 5}},
        ]
    }
    parsed = parse_pod_spec(spec, ("spec",), problems)
    msgs = messages(problems)
    c0 = ("spec", "containers", 0)
    assert msgs[c0 + ("livenessProbe", "successThreshold")] == "must be 1 for livenessProbe, found 2"
    assert msgs[c0 + ("startupProbe", "successThreshold")] == "must be 1 for startupProbe, found 3"
    assert "must not be set" in msgs[c0 + ("readinessProbe", "terminationGracePeriodSeconds")]
    assert "more than one handler" in msgs[c0 + ("readinessProbe",)]
    assert msgs[c0 + ("readinessProbe", "timeoutSeconds")] == "expected an integer >= 1, found 0"
    assert "must specify a handler" in msgs[("spec", "containers", 1, "readinessProbe")]
    assert len(problems.items) == 6
    assert parsed.containers[0].liveness_probe is not None  # best effort


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("nginx@sha256:0123abcd", "IfNotPresent"),
        ("nginx:1.25@sha256:0123abcd", "IfNotPresent"),
        ("nginx:latest", "Always"),
        ("nginx", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("registry:5000/app", "Always"),
        ("registry:5000/app:v2", "IfNotPresent"),
        ("registry:5000/team/app:latest", "Always"),
    ],
)
def test_image_pull_policy_defaulting(image: str, expected: str) -> None:
    assert default_image_pull_policy(image) == expected
    problems = Problems()
    spec = parse_pod_spec({"containers": [{"name": "c", "image": image}]}, (), problems)
    assert spec.containers[0].image_pull_policy == expected


def test_explicit_image_pull_policy_kept_and_checked() -> None:
    problems = Problems()
    spec = parse_pod_spec(
        {
            "containers": [
                {"name": "c", "image": "nginx", "imagePullPolicy": "Never"},
                {"name": "d", "image": "n", "imagePullPolicy": "always"},
            ]
        },
        (),
        problems,
    )
    assert spec.containers[0].image_pull_policy == "Never"
    assert 'did you mean "Always"' in problems.items[0].message


@pytest.mark.parametrize(
    ("value", "millis"),
    [("500m", 500), ("0.5", 500), ("2", 2000), (2, 2000), (0.25, 250), ("1.5", 1500), ("100u", 1), ("1k", 1_000_000)],
)
def test_cpu_quantities(value: Any, millis: int) -> None:
    assert parse_quantity_cpu(value) == millis


@pytest.mark.parametrize(
    ("value", "nbytes"),
    [
        ("128Mi", 128 * MiB),
        ("1Gi", GiB),
        ("1G", 10**9),
        ("512M", 512 * 10**6),
        ("100Ki", 102400),
        (1048576, 1048576),
        ("1048576", 1048576),
        ("1e3", 1000),
        ("1E", 10**18),
        ("1.5Gi", 3 * GiB // 2),
    ],
)
def test_memory_quantities(value: Any, nbytes: int) -> None:
    assert parse_quantity_memory(value) == nbytes


@pytest.mark.parametrize("value", ["1GB", "abc", "", "1e", "-1Gi", True, None, [1], "1 Gi"])
def test_bad_quantities(value: Any) -> None:
    with pytest.raises(ValueError, match="expected"):
        parse_quantity_memory(value)


def test_gb_hint() -> None:
    with pytest.raises(ValueError, match='no "B"'):
        parse_quantity_memory("1GB")


def test_requests_default_to_limits() -> None:
    problems = Problems()
    c = {"name": "c", "image": "x:1", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "250m"}}}
    spec = parse_pod_spec({"containers": [c]}, (), problems)
    assert not problems.items
    assert spec.containers[0].requests == ResourceRequests(250, GiB)


def test_bad_quantity_is_a_problem_with_path() -> None:
    problems = Problems()
    c = {"name": "c", "image": "x:1", "resources": {"requests": {"memory": "1GB", "cpu": "2"}, "limits": {"cpu": "1"}}}
    parse_pod_spec({"containers": [c]}, ("t",), problems)
    msgs = messages(problems)
    assert "1GB" in msgs[("t", "containers", 0, "resources", "requests", "memory")]
    assert "less than or equal" in msgs[("t", "containers", 0, "resources", "requests", "cpu")]


def test_unknown_kinds_become_generic_objects() -> None:
    for kind, api in [("ConfigMap", "v1"), ("Secret", "v1"), ("NetworkPolicy", "networking.k8s.io/v1")]:
        doc = {"apiVersion": api, "kind": kind, "metadata": {"name": "x", "labels": {"a": "b"}}, "data": {"k": "v"}}
        obj, problems = load(doc)
        assert not problems.items and not problems.warnings
        assert isinstance(obj, GenericObject)
        assert (obj.kind, obj.api_version, obj.name, obj.metadata.namespace) == (kind, api, "x", "default")
        assert obj.raw == doc and obj.raw is not doc


def test_missing_kind_api_version_and_name() -> None:
    obj, problems = load({"metadata": {}})
    assert obj is None
    assert set(messages(problems)) == {P + ("kind",), P + ("apiVersion",), P + ("metadata", "name")}
    obj, problems = load({"apiVersion": "v1", "kind": "ConfigMap"})
    assert obj is None and messages(problems) == {P + ("metadata",): "required key is missing"}


def test_bad_api_version_for_statefulset() -> None:
    obj, problems = load(sts("apps/v2"))
    assert obj is None
    assert 'did you mean "apps/v1"' in messages(problems)[P + ("apiVersion",)]


def test_unknown_fields_ignored() -> None:
    doc = sts()
    doc["status"] = {"replicas": 3}
    doc["metadata"]["creationTimestamp"] = None
    doc["metadata"]["managedFields"] = [{"manager": "kubectl"}]
    doc["spec"]["someFutureField"] = {"x": 1}
    pod = doc["spec"]["template"]["spec"]
    pod["securityContext"] = {"fsGroup": 1000}
    pod["dnsPolicy"] = "ClusterFirst"
    pod["containers"][0]["env"] = [{"name": "A", "value": "1"}]
    pod["containers"][0]["volumeMounts"] = [{"name": "www", "mountPath": "/data"}]
    pod["containers"][0]["readinessProbe"] = {"httpGet": {"port": 80, "scheme": "HTTP"}, "foo": 1}
    obj, problems = load(doc)
    assert not problems.items and not problems.warnings
    assert isinstance(obj, StatefulSet)


def test_multiple_problems_in_one_pass() -> None:
    doc = sts(replicas="three", podManagementPolicy="Paralel", updateStrategy={"type": "Recreate"})
    doc["metadata"]["labels"] = {"tier": 1}
    pod = doc["spec"]["template"]["spec"]
    pod["restartPolicy"] = "Never"
    pod["containers"].append({"image": "busybox"})
    pod["containers"][0]["ports"] = [{"containerPort": "80"}]
    obj, problems = load(doc)
    assert obj is None
    msgs = messages(problems)
    spec = P + ("spec",)
    assert msgs[spec + ("replicas",)] == "expected an integer, found a string 'three'"
    assert 'did you mean "Parallel"' in msgs[spec + ("podManagementPolicy",)]
    assert "Recreate" in msgs[spec + ("updateStrategy", "type")]
    assert msgs[P + ("metadata", "labels", "tier")].startswith("expected a string, found an integer 1")
    assert "'Always'" in msgs[spec + ("template", "spec", "restartPolicy")]
    assert msgs[spec + ("template", "spec", "containers", 1, "name")] == "required key is missing"
    assert msgs[spec + ("template", "spec", "containers", 0, "ports", 0, "containerPort")].startswith("expected an integer")
    assert len(problems.items) == 7


def test_unknown_policy_accepted_when_registered() -> None:
    problems = Problems()
    doc = sts(podManagementPolicy="Burst")
    obj = object_from_manifest(doc, P, problems, known_policies=("OrderedReady", "Parallel", "Burst"))
    assert isinstance(obj, StatefulSet) and obj.spec.pod_management_policy == "Burst"
    spec = parse_statefulset_spec(doc["spec"], "apps/v1", ("spec",), problems, metadata_labels={})
    assert spec is None and "expected one of OrderedReady, Parallel" in problems.items[0].message


def test_update_strategy_validation() -> None:
    obj, problems = load(sts(updateStrategy={"type": "OnDelete", "rollingUpdate": {"partition": 1}}))
    assert obj is None and "only allowed" in problems.items[0].message
    for bad in (0, "0%", "101%", "25", 1.5, -1):
        obj, problems = load(sts(updateStrategy={"rollingUpdate": {"maxUnavailable": bad}}))
        assert obj is None, bad
        assert problems.items[0].path == P + ("spec", "updateStrategy", "rollingUpdate", "maxUnavailable")
    obj, problems = load(sts(updateStrategy={"rollingUpdate": {"maxUnavailable": 2, "partition": 1}}))
    assert isinstance(obj, StatefulSet)
    assert obj.spec.update_strategy.rolling_update == RollingUpdateStrategy(1, 2)
    obj, problems = load(sts(updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": -1}}))
    assert obj is None and problems.items[0].message == "expected an integer >= 0, found -1"


def test_retention_policy_choices() -> None:
    obj, problems = load(sts(persistentVolumeClaimRetentionPolicy={"whenScaled": "Deleet"}))
    assert obj is None and 'did you mean "Delete"' in problems.items[0].message


def test_warnings_for_unsimulated_fields() -> None:
    doc = sts()
    pod = doc["spec"]["template"]["spec"]
    pod["tolerations"] = [{"key": "a", "operator": "Exists"}]  # simulated: no warning
    pod["affinity"] = {"nodeAffinity": {"x": 1}}
    pod["topologySpreadConstraints"] = []
    obj, problems = load(doc)
    assert isinstance(obj, StatefulSet) and not problems.items
    tpl = P + ("spec", "template", "spec")
    assert {w.path for w in problems.warnings} == {tpl + ("affinity", "nodeAffinity")}


def test_init_container_rules() -> None:
    problems = Problems()
    spec = {
        "initContainers": [{"name": "a", "image": "x:1", "readinessProbe": {"exec": {}}}],
        "containers": [{"name": "a", "image": "y:1"}],
    }
    parse_pod_spec(spec, (), problems)
    msgs = messages(problems)
    assert "without restartPolicy: Always" in msgs[("initContainers", 0, "readinessProbe")]
    assert "duplicate container name" in msgs[("containers", 0, "name")]


def test_empty_containers() -> None:
    problems = Problems()
    parse_pod_spec({"containers": []}, (), problems)
    assert messages(problems) == {("containers",): "must contain at least one container"}


def test_label_selector_expressions() -> None:
    problems = Problems()
    sel = parse_label_selector(
        {
            "matchExpressions": [
                {"key": "a", "operator": "Exists"},
                {"key": "b", "operator": "In"},
                {"key": "c", "operator": "in", "values": ["x"]},
                {"key": "d", "operator": "DoesNotExist", "values": ["x"]},
            ]
        },
        ("sel",),
        problems,
    )
    assert sel.match_expressions == (LabelSelectorRequirement("a", "Exists"),)
    assert set(messages(problems)) == {
        ("sel", "matchExpressions", 1, "values"),
        ("sel", "matchExpressions", 2, "operator"),
        ("sel", "matchExpressions", 3, "values"),
    }


def test_service_headless() -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "nginx", "labels": {"app": "nginx"}},
        "spec": {
            "clusterIP": "None",
            "selector": {"app": "web"},
            "publishNotReadyAddresses": True,
            "ports": [{"port": 80, "name": "web", "targetPort": "http"}, {"port": 443, "name": "tls", "targetPort": 8443}],
        },
    }
    obj, problems = load(doc)
    assert not problems.items
    assert isinstance(obj, Service)
    assert obj.spec.headless and obj.spec.publish_not_ready_addresses
    assert dict(obj.spec.selector or {}) == {"app": "web"}
    assert [(p.port, p.name, p.protocol, p.target_port) for p in obj.spec.ports] == [
        (80, "web", "TCP", "http"),
        (443, "tls", "TCP", 8443),
    ]


def test_service_without_selector_and_bad_ports() -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"ports": [{"port": "80"}, {"port": 81, "targetPort": [1]}]},
    }
    obj, problems = load(doc)
    assert obj is None
    msgs = messages(problems)
    ports = P + ("spec", "ports")
    assert msgs[ports + (0, "port")].startswith("expected an integer")
    assert ports + (1, "targetPort") in msgs
    assert ports + (1, "name") in msgs  # multi-port services need names
    problems = Problems()
    svc = object_from_manifest({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {}}, P, problems)
    assert isinstance(svc, Service) and svc.spec.selector is None and not svc.spec.headless


def test_node_capacity() -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "node-1", "labels": {"zone": "a"}},
        "spec": {"unschedulable": True, "taints": [{"key": "gpu", "value": "yes", "effect": "NoSchedule"}]},
        "status": {
            "capacity": {"pods": "110", "cpu": "8", "memory": "32Gi"},
            "allocatable": {"pods": 50, "cpu": "7500m"},
        },
    }
    obj, problems = load(doc)
    assert not problems.items
    assert isinstance(obj, Node)
    assert dict(obj.metadata.labels) == {"zone": "a", "kubernetes.io/hostname": "node-1"}
    assert obj.spec.unschedulable
    assert [(t.key, t.value, t.effect) for t in obj.spec.taints] == [("gpu", "yes", "NoSchedule")]
    assert obj.status.max_pods == 50
    assert obj.status.allocatable == ResourceRequests(7500, 32 * GiB)


def test_node_defaults_and_problems() -> None:
    obj, problems = load(
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n", "labels": {"kubernetes.io/hostname": "h"}}}
    )
    assert isinstance(obj, Node) and obj.status.max_pods == 110 and obj.metadata.labels["kubernetes.io/hostname"] == "h"
    obj, problems = load(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "n"},
            "status": {"capacity": {"pods": "1.5", "memory": "lots"}},
            "spec": {"taints": [{"key": "k", "effect": "NoSchedul"}]},
        }
    )
    assert obj is None
    msgs = messages(problems)
    assert set(msgs) == {
        P + ("status", "capacity", "pods"),
        P + ("status", "capacity", "memory"),
        P + ("spec", "taints", 0, "effect"),
    }


def test_bare_pod() -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "ns"},
        "spec": {
            "nodeName": "node-1",
            "restartPolicy": "Never",
            "containers": [{"name": "c", "image": "x"}],
            "priorityClassName": "high",
        },
    }
    obj, problems = load(doc)
    assert isinstance(obj, Pod) and not problems.items
    assert obj.spec.node_name == "node-1" and obj.spec.restart_policy == "Never" and obj.metadata.namespace == "ns"
    assert [w.path for w in problems.warnings] == [P + ("spec", "priorityClassName")]


def test_wrong_api_version_for_core_kind() -> None:
    obj, problems = load({"apiVersion": "apps/v1", "kind": "Service", "metadata": {"name": "s"}})
    assert obj is None and messages(problems)[P + ("apiVersion",)] == "expected 'v1' for a Service, found 'apps/v1'"


def test_not_a_mapping() -> None:
    obj, problems = load(["x"])
    assert obj is None and problems.items[0].path == P


def test_parse_statefulset_spec_after_patch_does_not_mutate_input() -> None:
    doc = sts()
    spec = copy.deepcopy(doc["spec"])
    problems = Problems()
    parsed = parse_statefulset_spec(spec, "apps/v1", ("spec",), problems, metadata_labels={"app": "web"})
    assert parsed is not None and spec == doc["spec"]
    assert parsed.template_raw is not spec["template"]


def test_to_plain() -> None:
    src = {"a": ({"b": [1, (2, 3)]},)}
    out = to_plain(src)
    assert out == {"a": [{"b": [1, [2, 3]]}]}
    assert type(out["a"]) is list
