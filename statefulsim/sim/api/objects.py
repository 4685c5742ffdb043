"""Frozen API objects: the simulator's view of the Kubernetes objects it models.

Objects are immutable; every change goes through :mod:`dataclasses.replace` and the object
store, which hands out new objects.  Field names are the snake_case forms of the Kubernetes
fields.  Only the fields that influence timing or ordering are modelled; the full manifest a
user supplied is kept in ``raw`` where an object came from a manifest (for merge patches and
revision hashing).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any, Mapping, Protocol, TypeVar

_T = TypeVar("_T")
_FIELDS: dict[type, tuple[frozenset[str], tuple[str, ...]]] = {}


def _layout(cls: type) -> tuple[frozenset[str], tuple[str, ...]]:
    """A dataclass's field names, and the names of its cached properties (kept in the instance
    ``__dict__`` beside the fields, so a copy must drop them)."""
    names = frozenset(f.name for f in fields(cls))
    cached = tuple(n for k in cls.__mro__ for n, v in vars(k).items() if isinstance(v, cached_property))
    _FIELDS[cls] = (names, cached)
    return names, cached


def evolve(obj: _T, **changes: Any) -> _T:
    """``dataclasses.replace`` for these frozen objects, without its per-call overhead.

    Copies the dataclass fields only (never cached properties), then applies ``changes``.
    """
    cls = type(obj)
    layout = _FIELDS.get(cls) or _layout(cls)
    if not layout[0].issuperset(changes):
        unknown = changes.keys() - layout[0]
        raise TypeError(f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}")
    new = object.__new__(cls)
    d = new.__dict__
    d.update(obj.__dict__)
    for name in layout[1]:
        d.pop(name, None)
    d.update(changes)
    return new

# Label keys written by the StatefulSet controller.
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"
HOSTNAME_LABEL = "kubernetes.io/hostname"

# Pod phases ("" means: built in memory by the controller, not created yet).
PENDING = "Pending"
RUNNING = "Running"
SUCCEEDED = "Succeeded"
FAILED = "Failed"

ORDERED_READY = "OrderedReady"
PARALLEL = "Parallel"
ROLLING_UPDATE = "RollingUpdate"
ON_DELETE = "OnDelete"


@dataclass(frozen=True)
class OwnerReference:
    kind: str
    name: str
    uid: str
    controller: bool = True
    block_owner_deletion: bool = True


@dataclass(frozen=True)
class ObjectMeta:
    name: str
    namespace: str = "default"
    uid: str = ""
    resource_version: int = 0
    generation: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    owner_references: tuple[OwnerReference, ...] = ()
    finalizers: tuple[str, ...] = ()
    creation_timestamp: float | None = None
    deletion_timestamp: float | None = None
    deletion_grace_period_seconds: float | None = None

    def controller_ref(self) -> OwnerReference | None:
        """The owner reference with ``controller: true``, if any."""
        for ref in self.owner_references:
            if ref.controller:
                return ref
        return None


# --------------------------------------------------------------------------- selectors


@dataclass(frozen=True)
class LabelSelectorRequirement:
    key: str
    operator: str  # In, NotIn, Exists, DoesNotExist
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.operator == "In":
            return labels.get(self.key) in self.values
        if self.operator == "NotIn":
            return self.key not in labels or labels[self.key] not in self.values
        if self.operator == "Exists":
            return self.key in labels
        if self.operator == "DoesNotExist":
            return self.key not in labels
        raise ValueError(f"unknown label selector operator {self.operator!r}")


@dataclass(frozen=True)
class LabelSelector:
    match_labels: Mapping[str, str] = field(default_factory=dict)
    match_expressions: tuple[LabelSelectorRequirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """True when every matchLabels pair and expression holds (an empty selector matches all)."""
        for key, value in self.match_labels.items():
            if labels.get(key) != value:
                return False
        return all(req.matches(labels) for req in self.match_expressions)

    def is_empty(self) -> bool:
        return not self.match_labels and not self.match_expressions


# --------------------------------------------------------------------------- pods


@dataclass(frozen=True)
class Probe:
    """A container probe; defaults are the API defaults (reference pods §2.1)."""

    initial_delay_seconds: float = 0.0
    period_seconds: float = 10.0
    timeout_seconds: float = 1.0
    success_threshold: int = 1
    failure_threshold: int = 3
    termination_grace_period_seconds: float | None = None
    handler: str = "httpGet"


@dataclass(frozen=True)
class ContainerPort:
    container_port: int
    name: str = ""
    protocol: str = "TCP"


@dataclass(frozen=True)
class ResourceRequests:
    cpu_millis: int = 0
    memory_bytes: int = 0

    def __add__(self, other: ResourceRequests) -> ResourceRequests:
        return ResourceRequests(self.cpu_millis + other.cpu_millis, self.memory_bytes + other.memory_bytes)


@dataclass(frozen=True)
class Container:
    name: str
    image: str
    image_pull_policy: str = "IfNotPresent"
    ports: tuple[ContainerPort, ...] = ()
    requests: ResourceRequests = ResourceRequests()
    readiness_probe: Probe | None = None
    liveness_probe: Probe | None = None
    startup_probe: Probe | None = None
    has_pre_stop: bool = False
    # Only for init containers: "Always" makes it a sidecar.
    restart_policy: str | None = None


@dataclass(frozen=True)
class PodAffinityTerm:
    label_selector: LabelSelector
    topology_key: str
    namespaces: tuple[str, ...] = ()


@dataclass(frozen=True)
class Volume:
    name: str
    claim_name: str | None = None  # a persistentVolumeClaim volume when set
    empty_dir: bool = False  # an emptyDir volume (kubectl drain's local storage)


# Taint keys the control plane sets (k8s.io/api/core/v1 well_known_taints.go).
TAINT_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
TAINT_OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"
NO_SCHEDULE = "NoSchedule"
PREFER_NO_SCHEDULE = "PreferNoSchedule"
NO_EXECUTE = "NoExecute"
#: DefaultTolerationSeconds admission: --default-not-ready/unreachable-toleration-seconds.
DEFAULT_TOLERATION_SECONDS = 300.0


@dataclass(frozen=True)
class Taint:
    key: str
    effect: str
    value: str = ""
    time_added: float | None = None

    def same(self, other: Taint) -> bool:
        """``MatchTaint``: the same key and effect (value and time do not count)."""
        return self.key == other.key and self.effect == other.effect


@dataclass(frozen=True)
class Toleration:
    """A pod toleration.  ``key`` "" with ``Exists`` tolerates every taint; ``effect`` "" every effect."""

    key: str = ""
    operator: str = "Equal"  # Equal | Exists
    value: str = ""
    effect: str = ""
    toleration_seconds: float | None = None  # only for NoExecute; None = tolerate forever

    def tolerates(self, taint: Taint) -> bool:
        """``Toleration.ToleratesTaint`` (k8s.io/api/core/v1/toleration.go)."""
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        if self.operator == "Exists":
            return True
        return self.operator in ("Equal", "") and self.value == taint.value


def with_default_tolerations(tolerations: tuple[Toleration, ...]) -> tuple[Toleration, ...]:
    """The DefaultTolerationSeconds admission plugin: unless the pod already tolerates
    not-ready / unreachable NoExecute taints, add ``Exists`` tolerations for 300 s."""
    out = tolerations

    def covered(key: str) -> bool:
        return any((t.key in (key, "")) and t.effect in (NO_EXECUTE, "") for t in tolerations)

    for key in (TAINT_NOT_READY, TAINT_UNREACHABLE):
        if not covered(key):
            out = out + (Toleration(key=key, operator="Exists", effect=NO_EXECUTE,
                                    toleration_seconds=DEFAULT_TOLERATION_SECONDS),)
    return out


@dataclass(frozen=True)
class PodSpec:
    containers: tuple[Container, ...]
    init_containers: tuple[Container, ...] = ()
    termination_grace_period_seconds: float = 30.0
    restart_policy: str = "Always"
    hostname: str = ""
    subdomain: str = ""
    node_name: str = ""
    node_selector: Mapping[str, str] = field(default_factory=dict)
    required_anti_affinity: tuple[PodAffinityTerm, ...] = ()
    volumes: tuple[Volume, ...] = ()
    readiness_gates: tuple[str, ...] = ()
    tolerations: tuple[Toleration, ...] = ()

    @cached_property
    def effective_requests(self) -> ResourceRequests:
        return self.requests()

    def requests(self) -> ResourceRequests:
        """Effective scheduling requests: sum of app containers vs. the largest init container."""
        total = ResourceRequests()
        for c in self.containers:
            total = total + c.requests
        cpu = max([total.cpu_millis] + [c.requests.cpu_millis for c in self.init_containers])
        mem = max([total.memory_bytes] + [c.requests.memory_bytes for c in self.init_containers])
        return ResourceRequests(cpu, mem)


@dataclass(frozen=True)
class PodTemplate:
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    spec: PodSpec


@dataclass(frozen=True)
class PodCondition:
    type: str
    status: bool
    last_transition_time: float
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class ContainerStatus:
    """One container's status as the kubelet reports it.

    ``state`` is the one set member of ``state`` (waiting | running | terminated); ``reason``
    and ``message`` belong to it (waiting: ContainerCreating, PodInitializing, ErrImagePull,
    ImagePullBackOff, ErrImageNeverPull, CrashLoopBackOff; terminated: Completed, Error).
    ``last_finished_at`` is ``lastState.terminated.finishedAt`` (the previous instance's exit).
    """

    name: str
    ready: bool = False
    started: bool = False
    restart_count: int = 0
    state: str = "waiting"  # waiting | running | terminated
    reason: str = "ContainerCreating"
    started_at: float | None = None
    exit_code: int | None = None
    message: str = ""
    signal: int = 0
    finished_at: float | None = None
    last_finished_at: float | None = None


@dataclass(frozen=True)
class PodStatus:
    phase: str = ""
    conditions: tuple[PodCondition, ...] = ()
    pod_ip: str = ""
    container_statuses: tuple[ContainerStatus, ...] = ()
    init_container_statuses: tuple[ContainerStatus, ...] = ()
    reason: str = ""

    def condition(self, type_: str) -> PodCondition | None:
        return self._by_type.get(type_)

    @cached_property
    def _by_type(self) -> dict[str, PodCondition]:
        return {c.type: c for c in self.conditions}

    @cached_property
    def ready(self) -> bool:
        """The Ready condition is True."""
        c = self._by_type.get("Ready")
        return c is not None and c.status

    def with_condition(self, type_: str, status: bool, now: float, reason: str = "", message: str = "") -> PodStatus:
        """Set a condition; lastTransitionTime only moves when the status flips."""
        return self.with_conditions(now, (type_, status, reason, message))

    def with_conditions(self, now: float, *updates: tuple[str, bool, str, str]) -> PodStatus:
        """Set each ``(type, status, reason, message)`` in turn, in one copy: an unchanged
        condition stays as it is, a changed one moves to the end, and its lastTransitionTime
        only moves when the status flips."""
        conds = list(self.conditions)
        changed = False
        for type_, status, reason, message in updates:
            i, old = -1, None
            for j, c in enumerate(conds):
                if c.type == type_:
                    i, old = j, c
                    break
            if old is not None and old.status == status and old.reason == reason and old.message == message:
                continue
            ltt = old.last_transition_time if old is not None and old.status == status else now
            if i >= 0:
                del conds[i]
            conds.append(PodCondition(type_, status, ltt, reason, message))
            changed = True
        return evolve(self, conditions=tuple(conds)) if changed else self


@dataclass(frozen=True)
class Pod:
    metadata: ObjectMeta
    spec: PodSpec
    status: PodStatus = PodStatus()
    kind: str = "Pod"

    @property
    def name(self) -> str:
        return self.metadata.name

    def is_ready(self) -> bool:
        return self.status.ready


# --------------------------------------------------------------------------- workloads


@dataclass(frozen=True)
class RollingUpdateStrategy:
    partition: int = 0
    # An int, or a percentage string such as "25%"; None when not set.
    max_unavailable: int | str | None = None


@dataclass(frozen=True)
class UpdateStrategy:
    type: str = ROLLING_UPDATE
    rolling_update: RollingUpdateStrategy | None = None


@dataclass(frozen=True)
class RetentionPolicy:
    when_deleted: str = "Retain"
    when_scaled: str = "Retain"


@dataclass(frozen=True)
class StatefulSetSpec:
    replicas: int
    selector: LabelSelector
    service_name: str
    template: PodTemplate
    # The template as the user wrote it (a plain mapping); revisions hash this.
    template_raw: Mapping[str, Any]
    pod_management_policy: str = ORDERED_READY
    update_strategy: UpdateStrategy = UpdateStrategy(ROLLING_UPDATE, RollingUpdateStrategy())
    revision_history_limit: int = 10
    min_ready_seconds: float = 0.0
    ordinals_start: int | None = None
    volume_claim_templates: tuple[Mapping[str, Any], ...] = ()
    retention_policy: RetentionPolicy = RetentionPolicy()

    @property
    def start_ordinal(self) -> int:
        return self.ordinals_start if self.ordinals_start is not None else 0


@dataclass(frozen=True)
class StatefulSetStatus:
    observed_generation: int = 0
    replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    current_replicas: int = 0
    updated_replicas: int = 0
    current_revision: str = ""
    update_revision: str = ""
    collision_count: int = 0


@dataclass(frozen=True)
class StatefulSet:
    metadata: ObjectMeta
    spec: StatefulSetSpec
    status: StatefulSetStatus = StatefulSetStatus()
    # The spec as written (a plain mapping), so merge patches can be applied and re-parsed.
    spec_raw: Mapping[str, Any] = field(default_factory=dict)
    api_version: str = "apps/v1"
    kind: str = "StatefulSet"

    @property
    def name(self) -> str:
        return self.metadata.name


@dataclass(frozen=True)
class ControllerRevision:
    metadata: ObjectMeta
    data: Mapping[str, Any]  # the pod template patch ({"spec": {"template": ...}})
    revision: int
    kind: str = "ControllerRevision"

    @property
    def name(self) -> str:
        return self.metadata.name


# --------------------------------------------------------------------------- services, nodes


@dataclass(frozen=True)
class ServicePort:
    port: int
    name: str = ""
    protocol: str = "TCP"
    target_port: int | str | None = None


@dataclass(frozen=True)
class ServiceSpec:
    selector: Mapping[str, str] | None
    cluster_ip: str = ""
    ports: tuple[ServicePort, ...] = ()
    publish_not_ready_addresses: bool = False

    @property
    def headless(self) -> bool:
        return self.cluster_ip == "None"


@dataclass(frozen=True)
class Service:
    metadata: ObjectMeta
    spec: ServiceSpec
    kind: str = "Service"

    @property
    def name(self) -> str:
        return self.metadata.name


@dataclass(frozen=True)
class NodeSpec:
    unschedulable: bool = False
    taints: tuple[Taint, ...] = ()


@dataclass(frozen=True)
class NodeStatus:
    #: The ``Ready`` condition's status: "True", "False" or "Unknown" (the node controller sets
    #: Unknown when the kubelet stopped posting status), with its reason.
    ready_status: str = "True"
    max_pods: int = 110
    allocatable: ResourceRequests = ResourceRequests(cpu_millis=4000, memory_bytes=16 * 1024**3)
    ready_reason: str = ""

    @property
    def ready(self) -> bool:
        """The Ready condition is True."""
        return self.ready_status == "True"


@dataclass(frozen=True)
class Node:
    metadata: ObjectMeta
    spec: NodeSpec = NodeSpec()
    status: NodeStatus = NodeStatus()
    kind: str = "Node"

    @property
    def name(self) -> str:
        return self.metadata.name


# --------------------------------------------------------------------------- policy

IF_HEALTHY_BUDGET = "IfHealthyBudget"
ALWAYS_ALLOW = "AlwaysAllow"


@dataclass(frozen=True)
class PodDisruptionBudgetSpec:
    #: None: the selector was not set (policy/v1: matches no pods); an empty selector matches all.
    selector: LabelSelector | None
    #: An int or a percentage string such as "50%"; None when not set.
    min_available: int | str | None = None
    max_unavailable: int | str | None = None
    unhealthy_pod_eviction_policy: str | None = None

    def matches(self, labels: Mapping[str, str]) -> bool:
        return self.selector is not None and self.selector.matches(labels)


@dataclass(frozen=True)
class PodDisruptionBudgetStatus:
    observed_generation: int = 0
    #: Pods the eviction API has approved but the controller has not yet seen deleted: name -> time.
    disrupted_pods: Mapping[str, float] = field(default_factory=dict)
    disruptions_allowed: int = 0
    current_healthy: int = 0
    desired_healthy: int = 0
    expected_pods: int = 0


@dataclass(frozen=True)
class PodDisruptionBudget:
    metadata: ObjectMeta
    spec: PodDisruptionBudgetSpec
    status: PodDisruptionBudgetStatus = PodDisruptionBudgetStatus()
    api_version: str = "policy/v1"
    kind: str = "PodDisruptionBudget"

    @property
    def name(self) -> str:
        return self.metadata.name


@dataclass(frozen=True)
class GenericObject:
    """An object of a kind the simulator stores but does not model (kept for later issues)."""

    metadata: ObjectMeta
    kind: str
    api_version: str
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.metadata.name


class KubeObject(Protocol):
    """What the store needs of any object: a kind and metadata (frozen dataclasses all)."""

    @property
    def kind(self) -> str: ...

    @property
    def metadata(self) -> ObjectMeta: ...


#: Any object the store holds (the kinds above, storage and discovery objects, ...).
ApiObject = KubeObject

#: Kinds without a namespace.
CLUSTER_SCOPED = frozenset({"Node", "PersistentVolume", "StorageClass", "Namespace", "PriorityClass"})


def scope(kind: str, namespace: str) -> str:
    """The namespace part of a key: empty for cluster-scoped kinds."""
    return "" if kind in CLUSTER_SCOPED else namespace


def object_key(obj: KubeObject) -> tuple[str, str, str]:
    """(kind, namespace, name): the identity of an object in the store."""
    return (obj.kind, scope(obj.kind, obj.metadata.namespace), obj.metadata.name)
