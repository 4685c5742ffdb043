"""Composition root: builds one simulated cluster from a typed configuration."""

from __future__ import annotations

import contextlib
import gc
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator, Mapping

from statefulsim.sim.api.informer import SharedInformerFactory
from statefulsim.sim.api.objects import HOSTNAME_LABEL, ApiObject, Node, NodeStatus, ObjectMeta, Pod, ResourceRequests
from statefulsim.sim.api.printers import PrinterRules
from statefulsim.sim.api.store import ApiClient, ObjectStore, WatchEvent
from statefulsim.sim.controllers.attachdetach import AttachDetachController, NodeVolumeStatus
from statefulsim.sim.controllers.disruption import DisruptionController
from statefulsim.sim.controllers.endpointslice import EndpointSliceController
from statefulsim.sim.controllers.garbagecollector import GarbageCollector, PvcProtection
from statefulsim.sim.controllers.informers import SharedInformers
from statefulsim.sim.controllers.nodelifecycle import NodeLifecycleController
from statefulsim.sim.controllers.podgc import PodGCController
from statefulsim.sim.controllers.statefulset.controller import ControllerSettings, StatefulSetController
from statefulsim.sim.controllers.tainteviction import TaintEvictionController
from statefulsim.sim.controllers.volume import VolumeController
from statefulsim.sim.delays import DelayModel
from statefulsim.sim.dns.server import PRESETS, ClusterDns, DnsConfig, default_preset
from statefulsim.sim.env import SimEnv
from statefulsim.sim.kubelet.images import ImagePullRule
from statefulsim.sim.kubelet.kubelet import LEASE_RENEW_SECONDS, Kubelet, PodWorker
from statefulsim.sim.kubelet.volumemanager import KubeletVolumeManager
from statefulsim.sim.observer import TraceObserver
from statefulsim.sim.scheduler import Scheduler
from statefulsim.sim.timing import Timing
from statefulsim.sim.versions import NEWEST, feature_gates
from statefulsim.sim.volumebinding import SchedulerVolumeBinder

#: Events between two calls of :meth:`Cluster.run`'s progress callback (a few ms of work).
PROGRESS_STEPS = 4096

#: The cyclic collector's thresholds while a cluster runs (Python's default is (700, 10, 10)).
RUN_GC_THRESHOLD = (100_000, 50, 100)


@contextlib.contextmanager
def fewer_gc_passes() -> Iterator[None]:
    """Raise the cyclic collector's thresholds to :data:`RUN_GC_THRESHOLD` for the block, then
    restore the caller's (also when the block raises).

    A running cluster allocates hundreds of thousands of long-lived objects (pods, events,
    records) and almost no cyclic garbage, so with the default thresholds the collector keeps
    re-walking the live heap: 8 % of a 1 000-replica scale run's CPU and 21 % of a 10 000-replica
    one (the oldest generation's passes grow with the heap).  The collector still runs, so
    garbage stays bounded; a threshold of 0 (collection disabled through the thresholds) is kept.
    Collection does not touch the simulation's state, so the trace is the same."""
    old = gc.get_threshold()
    if old[0] != 0:
        gc.set_threshold(*RUN_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*old)


OS_LABEL = "kubernetes.io/os"
ARCH_LABEL = "kubernetes.io/arch"
BETA_OS_LABEL = "beta.kubernetes.io/os"
BETA_ARCH_LABEL = "beta.kubernetes.io/arch"
ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"
#: The region of a cluster whose section gives zones but no region.
DEFAULT_REGION = "region-1"


@dataclass(frozen=True)
class NodeConfig:
    name: str
    #: The node's own labels (``--node-labels``): added to, and winning over, the kubelet's.
    labels: Mapping[str, str] = field(default_factory=dict)
    max_pods: int = 110
    cpu_millis: int = 4000
    memory_bytes: int = 16 * 1024**3
    #: ``topology.kubernetes.io/zone`` and ``/region`` (the cloud provider's); "" for none.
    zone: str = ""
    region: str = ""

    def node_labels(self) -> dict[str, str]:
        """The labels the kubelet registers the node with (``initialNode``: hostname, os and arch,
        each os/arch also under its ``beta.kubernetes.io/`` key; zone and region from the cloud
        provider), then the node's own labels."""
        own = dict(self.labels)
        os_name = own.get(OS_LABEL, "linux")
        arch = own.get(ARCH_LABEL, "amd64")
        labels = {HOSTNAME_LABEL: self.name, OS_LABEL: os_name, ARCH_LABEL: arch,
                  BETA_OS_LABEL: os_name, BETA_ARCH_LABEL: arch}
        if self.zone:
            labels[ZONE_LABEL] = self.zone
        if self.region:
            labels[REGION_LABEL] = self.region
        labels.update(own)
        return labels

    def to_node(self) -> Node:
        labels = self.node_labels()
        return Node(
            metadata=ObjectMeta(name=self.name, namespace="", labels=labels),
            status=NodeStatus(max_pods=self.max_pods,
                              allocatable=ResourceRequests(self.cpu_millis, self.memory_bytes)),
        )


@dataclass(frozen=True)
class ClusterConfig:
    nodes: tuple[NodeConfig, ...] = (NodeConfig("node-1"), NodeConfig("node-2"), NodeConfig("node-3"))
    kubernetes_version: str = NEWEST
    controller: ControllerSettings = ControllerSettings()
    #: API QPS/burst of each kubelet and of the scheduler (reference pods §7).
    kubelet_qps: float = 50.0
    kubelet_burst: int = 100
    scheduler_qps: float = 50.0
    scheduler_burst: int = 100
    #: The cluster DNS; None: the kubeadm Corefile of the Kubernetes version.
    dns: DnsConfig | None = None
    #: The order of events at the same simulated instant: fifo (SimPy's), lifo or shuffle:N
    #: (statefulsim.sim.tiebreak; docs/explore.md).
    tie_break: str = "fifo"
    #: Probe workers pass over ticks that cannot change anything (kubelet/probes.py); the trace
    #: is the same either way, only the number of SimPy events differs.
    probe_skip_ahead: bool = True
    #: The scenario's ``images:`` section: image references whose pulls fail.
    images: tuple[ImagePullRule, ...] = ()


def _is_bound(ev: WatchEvent) -> bool:
    return isinstance(ev.obj, Pod) and bool(ev.obj.spec.node_name)


def nodes_named(count: int) -> tuple[NodeConfig, ...]:
    return tuple(NodeConfig(f"node-{i + 1}") for i in range(count))


def in_zones(nodes: tuple[NodeConfig, ...], zones: tuple[str, ...], region: str) -> tuple[NodeConfig, ...]:
    """The nodes spread over ``zones`` in turn (node ``i`` in zone ``i mod len(zones)``), all in
    ``region``; a node's own zone or region label still wins."""
    if not zones:
        return nodes
    return tuple(replace(n, zone=zones[i % len(zones)], region=region) for i, n in enumerate(nodes))


class Cluster:
    """A control plane (store, StatefulSet controller, scheduler) and a kubelet per node."""

    def __init__(self, config: ClusterConfig = ClusterConfig(), timing: Timing = Timing(), seed: int = 0, *,
                 observer: type[TraceObserver] = TraceObserver) -> None:
        """``observer``: what turns object changes into trace records (a sweep passes a lean one)."""
        self.config = config
        self.timing = timing
        self.env = SimEnv(seed, config.tie_break)
        self.store = ObjectStore(self.env)
        self.gates = feature_gates(config.kubernetes_version)
        self.observer = observer(self.env, self.store, PrinterRules.for_minor(self.gates.minor))
        api = timing.model("apiLatency")
        watch = timing.model("watchLatency")
        # The user's kubectl: no client-side rate limit.
        self.user = ApiClient(self.env, self.store, "kubectl", api)
        for n in config.nodes:
            self.store.create(n.to_node())
        # kube-controller-manager: one watch per kind, shared by all its controllers.
        self.kcm = SharedInformerFactory(self.store, watch, "watch/kube-controller-manager")
        self.statefulset_controller = StatefulSetController(
            self.env, self.store, self.gates, api_latency=api, watch_latency=watch, settings=config.controller,
            informers=self.kcm)
        scheduler_client = ApiClient(self.env, self.store, "scheduler", api, config.scheduler_qps,
                                     config.scheduler_burst)
        self.volume_binder = SchedulerVolumeBinder(self.env, self.store, scheduler_client, watch)
        self.scheduler = Scheduler(
            self.env, self.store, scheduler_client, timing.model("scheduling"), watch, self.volume_binder,
            pop_from_backoff=self.gates.scheduler_pop_from_backoff_q)
        self.volume_binder.on_change = self.scheduler.retry_unschedulable
        self.volume_controller = VolumeController(self.env, self.store, timing, api_latency=api, watch_latency=watch,
                                                  informers=self.kcm)
        self.garbage_collector = GarbageCollector(self.env, self.store, api_latency=api, watch_latency=watch,
                                                  informers=self.kcm)
        self.pvc_protection = PvcProtection(self.env, self.store, api_latency=api, watch_latency=watch,
                                            informers=self.kcm)
        self.endpointslice_controller = EndpointSliceController(
            self.env, self.store, api_latency=api, watch_latency=watch, delay=timing.model("endpointSlice"),
            informers=self.kcm)
        minor = int(self.gates.version.split(".")[1])
        self.dns = ClusterDns(self.env, self.store, config.dns or PRESETS[default_preset(minor)], watch,
                              timing.model("dnsQuery"))
        self.kcm_informers = SharedInformers(self.store, watch, self.kcm)
        self.volume_status = NodeVolumeStatus(self.env)
        self.attach_detach = AttachDetachController(
            self.env, timing, self.kcm_informers, self.kcm.informer("PersistentVolumeClaim"),
            self.kcm.informer("PersistentVolume"), self.kcm.informer("StorageClass"), self.volume_status)
        self.kubelets: dict[str, Kubelet] = {}
        for i, n in enumerate(config.nodes):
            client = ApiClient(self.env, self.store, f"kubelet/{n.name}", api, config.kubelet_qps, config.kubelet_burst)
            kubelet = Kubelet(self.env, self.store, n.name, timing, client,
                              ip_prefix=f"10.{244 + i // 256}.{i % 256}", probe_skip_ahead=config.probe_skip_ahead,
                              image_rules=config.images)
            kubelet.volumes = KubeletVolumeManager(kubelet, self.attach_detach, self.volume_status,
                                                   timeout_events=minor <= 27)
            # Each kubelet renews its Lease on its own 10 s grid (a random phase per node).
            kubelet.lease_origin = kubelet.lease_phase = self.env.rng(f"lease/{n.name}").uniform(0.0, LEASE_RENEW_SECONDS)
            kubelet.registration = n.to_node()
            self.kubelets[n.name] = kubelet
        self._start_node_controllers(api, watch)
        # One pod watch feeds every kubelet (each sees the pods bound to its node).
        self.store.watch("Pod", self._route_to_kubelet, watch, "watch/kubelet",
                         predicate=_is_bound)

    def _start_node_controllers(self, api: DelayModel, watch: DelayModel) -> None:
        """kube-controller-manager's node lifecycle, taint eviction, pod GC and disruption
        controllers, on shared informers, each with its own client (--kube-api-qps/burst)."""
        ctl = self.config.controller

        def client(name: str) -> ApiClient:
            return ApiClient(self.env, self.store, name, api, ctl.api_qps, ctl.api_burst)

        self.node_lifecycle = NodeLifecycleController(self.env, self.kcm_informers, client("node-controller"),
                                                      self.gates, self._heartbeat)
        self.taint_eviction = TaintEvictionController(self.env, self.kcm_informers, client("taint-eviction-controller"))
        self.pod_gc = PodGCController(self.env, self.kcm_informers, client("pod-garbage-collector"))
        self.disruption = DisruptionController(self.env, self.store, self.kcm_informers, client("disruption-controller"),
                                               watch)

    def _heartbeat(self, node: str, now: float) -> float | None:
        kubelet = self.kubelets.get(node)
        return None if kubelet is None else kubelet.last_renewal(now)

    def _route_to_kubelet(self, ev: WatchEvent) -> None:
        pod = ev.obj
        assert isinstance(pod, Pod)
        kubelet = self.kubelets.get(pod.spec.node_name)
        if kubelet is not None:
            kubelet.on_pod(ev)

    # ---------------------------------------------------------------- convenience
    def add(self, obj: ApiObject) -> ApiObject:
        """Create an object right now (no API latency): used for the scenario's initial manifests."""
        return self.store.create(obj)

    def pod_worker(self, name: str, namespace: str = "default") -> PodWorker | None:
        pod = self.store.get("Pod", namespace, name)
        if pod is None or not pod.spec.node_name:
            return None
        kubelet = self.kubelets.get(pod.spec.node_name)
        if kubelet is None:
            return None
        return kubelet.workers.get(pod.metadata.uid)

    def run(self, until: float, progress: Callable[[float], None] | None = None) -> None:
        """Run the simulation up to ``until``.  ``progress(now)`` is called every
        :data:`PROGRESS_STEPS` events; the run (and its trace) is the same with or without it.
        The cyclic collector runs less often meanwhile (:func:`fewer_gc_passes`)."""
        sim = self.env.sim
        with fewer_gc_passes():
            if progress is not None:
                steps = 0
                # Exactly the steps sim.run(until) would take before its stop event at ``until``.
                while sim.peek() < until:
                    sim.step()
                    steps += 1
                    if steps % PROGRESS_STEPS == 0:
                        progress(float(sim.now))
            sim.run(until=until)

    @property
    def now(self) -> float:
        return self.env.now

    def get(self, kind: str, name: str, namespace: str = "default") -> Any:
        return self.store.get(kind, namespace, name)
