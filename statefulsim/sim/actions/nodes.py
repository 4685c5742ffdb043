"""Verbs on a node: fail and recover it, taint it out of service, delete, cordon and uncordon it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from statefulsim.sim.actions.common import _fail, _request
from statefulsim.sim.api.objects import (
    NO_EXECUTE,
    TAINT_OUT_OF_SERVICE,
    Node,
    Taint,
    evolve,
)
from statefulsim.sim.cluster import Cluster
from statefulsim.sim.process import Gen
from statefulsim.sim.verb import Verb


@dataclass(frozen=True)
class _NodeAction(Verb):
    node: str


@dataclass(frozen=True)
class FailNode(_NodeAction):
    """The node stops: its kubelet renews no Lease, writes nothing, sees nothing.  Containers keep
    running as far as anyone outside can tell (a network partition or a hung kubelet)."""

    verb: ClassVar[str] = "failNode"

    def execute(self, cluster: Cluster) -> Gen:
        kubelet = cluster.kubelets.get(self.node)
        if kubelet is None:
            return _fail(f'node "{self.node}" has no simulated kubelet')
        if not kubelet.fail():
            return _fail(f'node "{self.node}" has already failed')
        return {}
        yield  # pragma: no cover


@dataclass(frozen=True)
class RecoverNode(_NodeAction):
    """The kubelet is back: Lease renewed at once, node Ready, its pods re-read (pods deleted
    while it was away are stopped; pods marked for deletion are terminated gracefully)."""

    verb: ClassVar[str] = "recoverNode"

    def execute(self, cluster: Cluster) -> Gen:
        kubelet = cluster.kubelets.get(self.node)
        if kubelet is None:
            return _fail(f'node "{self.node}" has no simulated kubelet')
        if not kubelet.recover():
            return _fail(f'node "{self.node}" has not failed')
        return {}
        yield  # pragma: no cover


def _patch_node(cluster: Cluster, name: str, mutate: Any) -> Gen:
    return (yield from _request(cluster.user.patch("Node", "", name, mutate)))


@dataclass(frozen=True)
class TaintOutOfService(_NodeAction):
    """``kubectl taint nodes NODE node.kubernetes.io/out-of-service=nodeshutdown:NoExecute``
    (non-graceful node shutdown): pods are evicted at once and, once the node is not Ready, pod
    GC force-deletes the terminating ones."""

    verb: ClassVar[str] = "taintOutOfService"

    def execute(self, cluster: Cluster) -> Gen:
        now = cluster.env.now

        def taint(node: Node) -> Node:
            if any(t.key == TAINT_OUT_OF_SERVICE and t.effect == NO_EXECUTE for t in node.spec.taints):
                return node
            added = Taint(TAINT_OUT_OF_SERVICE, NO_EXECUTE, "nodeshutdown", now)
            return evolve(node, spec=evolve(node.spec, taints=node.spec.taints + (added,)))

        return (yield from _patch_node(cluster, self.node, taint))


@dataclass(frozen=True)
class UntaintOutOfService(_NodeAction):
    """``kubectl taint nodes NODE node.kubernetes.io/out-of-service-``: the operator removes the
    taint once the node is back (the documented last step of a non-graceful shutdown)."""

    verb: ClassVar[str] = "untaintOutOfService"

    def execute(self, cluster: Cluster) -> Gen:
        def untaint(node: Node) -> Node:
            taints = tuple(t for t in node.spec.taints if t.key != TAINT_OUT_OF_SERVICE)
            return node if taints == node.spec.taints else evolve(node, spec=evolve(node.spec, taints=taints))

        return (yield from _patch_node(cluster, self.node, untaint))


@dataclass(frozen=True)
class DeleteNode(_NodeAction):
    """``kubectl delete node NODE``: pod GC force-deletes the node's pods after its 40 s quarantine."""

    verb: ClassVar[str] = "deleteNode"

    def execute(self, cluster: Cluster) -> Gen:
        return (yield from _request(cluster.user.delete("Node", "", self.node)))


@dataclass(frozen=True)
class CordonNode(_NodeAction):
    """``kubectl cordon NODE``: ``spec.unschedulable = true``."""

    verb: ClassVar[str] = "cordonNode"
    unschedulable: ClassVar[bool] = True

    def execute(self, cluster: Cluster) -> Gen:
        flag = self.unschedulable
        return (yield from _patch_node(cluster, self.node, lambda n: n if n.spec.unschedulable == flag
                                       else evolve(n, spec=evolve(n.spec, unschedulable=flag))))


@dataclass(frozen=True)
class UncordonNode(CordonNode):
    """``kubectl uncordon NODE``."""

    verb: ClassVar[str] = "uncordonNode"
    unschedulable: ClassVar[bool] = False
