"""Informers shared by the kube-controller-manager controllers added for node failure and
disruptions (node lifecycle, taint eviction, pod GC, disruption): one watch per kind, as the
controller manager's shared informer factory has."""

from __future__ import annotations

from typing import Iterable

from statefulsim.sim.api.informer import SharedInformerFactory
from statefulsim.sim.api.objects import Pod
from statefulsim.sim.api.store import ObjectStore
from statefulsim.sim.delays import DelayModel


def _node_index(pod: Pod) -> Iterable[str]:
    return (pod.spec.node_name,) if pod.spec.node_name else ()


def _terminating_index(pod: Pod) -> Iterable[str]:
    """Pods with a deletionTimestamp, under "terminating" (pod GC looks only at these)."""
    return ("terminating",) if pod.metadata.deletion_timestamp is not None else ()


class SharedInformers:
    """Pods (indexed by node name) and Nodes."""

    def __init__(self, store: ObjectStore, watch_latency: DelayModel,
                 factory: SharedInformerFactory | None = None) -> None:
        self.factory = factory or SharedInformerFactory(store, watch_latency, "watch/kcm")
        self.pods = self.factory.informer("Pod", indexes={"node": _node_index, "terminating": _terminating_index})
        self.nodes = self.factory.informer("Node")

    def terminating_pods(self) -> list[Pod]:
        """Pods with a deletionTimestamp, by namespace and name."""
        return sorted(self.pods.by_index("terminating", "terminating"),
                      key=lambda p: (p.metadata.namespace, p.metadata.name))

    def node_names_with_pods(self) -> list[str]:
        """Every node name some pod is bound to."""
        return self.pods.index_values("node")

    def pods_on(self, node: str) -> list[Pod]:
        return sorted(self.pods.by_index("node", node), key=lambda p: (p.metadata.namespace, p.metadata.name))
