"""The EndpointSlice controller for Services with a selector (reference pods §3.1–§3.4).

A pod gets an endpoint once it has an IP and is not in a terminal phase; the conditions follow
``podToEndpoint``: ``serving`` = Ready, ``terminating`` = has a deletionTimestamp, ``ready`` =
``publishNotReadyAddresses`` or (serving and not terminating).  ``hostname`` is set when the pod
has a hostname and its subdomain names the Service.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from statefulsim.sim.api.discovery import Endpoint, EndpointSlice
from statefulsim.sim.api.informer import SharedInformerFactory
from statefulsim.sim.api.objects import FAILED, SUCCEEDED, ObjectMeta, OwnerReference, Pod, Service
from statefulsim.sim.api.store import DELETED, ApiClient, ApiError, ObjectStore, WatchEvent
from statefulsim.sim.controllers.workqueue import WorkQueue
from statefulsim.sim.delays import DelayModel
from statefulsim.sim.env import SimEnv
from statefulsim.sim.process import Gen


def pod_to_endpoint(pod: Pod, svc: Service) -> Endpoint | None:
    """The endpoint of ``pod`` in ``svc``'s slice, or None when the pod has none."""
    if pod.status.phase in (FAILED, SUCCEEDED) or not pod.status.pod_ip:
        return None
    serving = pod.is_ready()
    terminating = pod.metadata.deletion_timestamp is not None
    ready = svc.spec.publish_not_ready_addresses or (serving and not terminating)
    hostname = pod.spec.hostname if pod.spec.hostname and pod.spec.subdomain == svc.metadata.name else ""
    return Endpoint(address=pod.status.pod_ip, pod=pod.metadata.name, ready=ready, serving=serving,
                    terminating=terminating, hostname=hostname, node_name=pod.spec.node_name)


def _relevant(old: Pod | None, new: Pod) -> bool:
    """``podEndpointsChanged``: readiness, deletionTimestamp, IPs, labels, hostname/subdomain, phase."""
    if old is None:
        return True
    return (
        old.is_ready() != new.is_ready()
        or old.metadata.deletion_timestamp != new.metadata.deletion_timestamp
        or old.status.pod_ip != new.status.pod_ip
        or old.metadata.labels != new.metadata.labels
        or old.spec.hostname != new.spec.hostname
        or old.spec.subdomain != new.spec.subdomain
        or old.status.phase != new.status.phase
    )


def _namespace_index(pod: Any) -> tuple[str]:
    return (pod.metadata.namespace,)


def _selector_index(svc: Any) -> tuple[str, ...]:
    """A Service with a selector under one of its pairs, ``<namespace>/<key>=<value>`` (the
    smallest key): a pod it selects has that label, so the pod's labels find the Service."""
    sel = svc.spec.selector
    if not sel:
        return ()
    key = min(sel)
    return (f"{svc.metadata.namespace}/{key}={sel[key]}",)


def _label_index(pod: Any) -> list[str]:
    ns = pod.metadata.namespace
    return [f"{ns}/{k}={v}" for k, v in pod.metadata.labels.items()]


class EndpointSliceController:
    def __init__(self, env: SimEnv, store: ObjectStore, *, api_latency: DelayModel, watch_latency: DelayModel,
                 delay: DelayModel, qps: float = 20.0, burst: int = 30, workers: int = 5,
                 informers: SharedInformerFactory | None = None) -> None:
        self.env = env
        self.delay = delay
        self.store = store
        self.client = ApiClient(env, store, "endpointslice-controller", api_latency, qps, burst)
        factory = informers or SharedInformerFactory(store, watch_latency, "watch/endpointslice-controller")
        self.services = factory.informer("Service", indexes={"selector": _selector_index})
        self.pods = factory.informer("Pod", indexes={"ns": _namespace_index, "label": _label_index})
        self.queue = WorkQueue(env, "endpointslice", self.sync, workers=workers, base_delay=1.0)
        self.services.add_handler(self._on_service)
        self.pods.add_handler(self._on_pod)

    def _on_service(self, ev: WatchEvent) -> None:
        self.queue.add(f"{ev.obj.metadata.namespace}/{ev.obj.metadata.name}")

    def _services_for(self, pod: Pod) -> Iterable[Service]:
        """The Services whose selector selects ``pod`` (in no particular order)."""
        labels = pod.metadata.labels
        for pair in _label_index(pod):
            for svc in self.services.by_index("selector", pair):
                if all(labels.get(k) == v for k, v in svc.spec.selector.items()):
                    yield svc

    def _on_pod(self, ev: WatchEvent) -> None:
        pod = ev.obj
        assert isinstance(pod, Pod)
        old = ev.old if isinstance(ev.old, Pod) else None
        if ev.type != DELETED and not _relevant(old, pod):
            return
        targets = {f"{s.metadata.namespace}/{s.metadata.name}" for s in self._services_for(pod)}
        if old is not None and old.metadata.labels != pod.metadata.labels:
            targets |= {f"{s.metadata.namespace}/{s.metadata.name}" for s in self._services_for(old)}
        for key in sorted(targets):
            # --endpointslice-updates-batch-period defaults to 0; the "endpointSlice" delay adds to it.
            self.queue.add_after(key, self.env.sample(self.delay, "endpointslice"))

    def _selected(self, ns: str, sel: Mapping[str, str]) -> list[Pod]:
        """A superset of the namespace's pods that ``sel`` selects: the smallest bucket of the label
        index among the selector's pairs (all the namespace's pods for an empty selector)."""
        if not sel:
            return self.pods.by_index("ns", ns)
        return min((self.pods.by_index("label", f"{ns}/{k}={v}") for k, v in sel.items()), key=len)

    def sync(self, key: str) -> Gen:
        ns, name = key.split("/", 1)
        svc: Service | None = self.services.get(ns, name)
        slice_name = f"{name}-slice"
        current = self.store.get("EndpointSlice", ns, slice_name)
        if svc is None or svc.spec.selector is None:
            if current is not None:
                try:
                    yield from self.client.delete("EndpointSlice", ns, slice_name)
                except ApiError:
                    return False
            return True
        sel = svc.spec.selector
        endpoints = []
        for pod in self._selected(ns, sel):
            if all(pod.metadata.labels.get(k) == v for k, v in sel.items()):
                ep = pod_to_endpoint(pod, svc)
                if ep is not None:
                    endpoints.append(ep)
        endpoints.sort(key=lambda e: e.pod)
        wanted = tuple(endpoints)
        try:
            if current is None:
                yield from self.client.create(EndpointSlice(
                    metadata=ObjectMeta(name=slice_name, namespace=ns,
                                        labels={"kubernetes.io/service-name": name},
                                        owner_references=(OwnerReference("Service", name, svc.metadata.uid),)),
                    service=name, endpoints=wanted, ports=svc.spec.ports))
            elif current.endpoints != wanted or current.ports != svc.spec.ports:
                yield from self.client.update(type(current)(metadata=current.metadata, service=name,
                                                            endpoints=wanted, ports=svc.spec.ports))
        except ApiError:
            return False
        return True
