"""The cluster DNS: CoreDNS replicas behind the DNS Service, each with its own informers and
its own ``cache`` plugin; optionally NodeLocal DNSCache on every node (reference pods §4.2–§4.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from statefulsim.sim.api.informer import Informer
from statefulsim.sim.api.store import ObjectStore
from statefulsim.sim.delays import DelayModel
from statefulsim.sim.dns.cache import CacheSettings, DnsCache, NoCache, TtlCache
from statefulsim.sim.dns.records import Answer, answer
from statefulsim.sim.env import SimEnv
from statefulsim.sim.process import Gen


@dataclass(frozen=True)
class DnsConfig:
    """How the cluster's DNS is set up.  See :data:`PRESETS` for the common Corefiles."""

    preset: str = ""
    zone: str = "cluster.local"
    replicas: int = 2
    ttl: float = 30.0  # the kubernetes plugin's ``ttl``
    cache: CacheSettings | None = CacheSettings(success_ttl=30, denial_ttl=30)  # None: no cache plugin
    node_local: bool = False  # NodeLocal DNSCache: success <= 30 s, denial <= 5 s per node


#: Corefiles clusters actually run (reference pods §4.4).
PRESETS: dict[str, DnsConfig] = {
    # kubeadm before 1.32 and cluster/addons: ttl 30, cache 30 (positive and negative answers).
    "kubeadm-legacy": DnsConfig(preset="kubeadm-legacy", ttl=30.0, cache=CacheSettings(success_ttl=30, denial_ttl=30)),
    # kubeadm 1.32+: cache 30 { disable success cluster.local; disable denial cluster.local }.
    "kubeadm": DnsConfig(preset="kubeadm", ttl=30.0, cache=CacheSettings(
        success_ttl=30, denial_ttl=30, disable_success=("cluster.local",), disable_denial=("cluster.local",))),
    # coredns/deployment and many managed clusters: default ttl 5, cache 30 -> cached 5 s.
    "coredns-default": DnsConfig(preset="coredns-default", ttl=5.0, cache=CacheSettings(success_ttl=30, denial_ttl=30)),
    # No cache plugin at all.
    "no-cache": DnsConfig(preset="no-cache", ttl=5.0, cache=None),
}

NODE_LOCAL = CacheSettings(success_ttl=30, denial_ttl=5)


def default_preset(minor: int) -> str:
    """kubeadm's Corefile for the version: caching of cluster names was disabled in 1.32."""
    return "kubeadm" if minor >= 32 else "kubeadm-legacy"


def _cache_for(settings: CacheSettings | None, zone: str) -> DnsCache:
    if settings is None:
        return NoCache()
    zone_fixed = CacheSettings(
        success_ttl=settings.success_ttl, denial_ttl=settings.denial_ttl,
        success_min_ttl=settings.success_min_ttl, denial_min_ttl=settings.denial_min_ttl,
        disable_success=tuple(zone if z == "cluster.local" else z for z in settings.disable_success),
        disable_denial=tuple(zone if z == "cluster.local" else z for z in settings.disable_denial))
    return TtlCache(zone_fixed)


def _slice_service(sl: Any) -> tuple[str]:
    return (f"{sl.metadata.namespace}/{sl.service}",)


class _ByKey:
    """``get((namespace, name))`` from an informer lookup (records.ByKey), so a query costs a
    lookup instead of a copy of every Service and EndpointSlice."""

    def __init__(self, lookup: Callable[[str, str], Any]) -> None:
        self._lookup = lookup

    def get(self, key: tuple[str, str], /) -> Any:
        return self._lookup(*key)


class CoreDnsReplica:
    """One CoreDNS pod: informers on Services and EndpointSlices, the kubernetes plugin, a cache."""

    def __init__(self, env: SimEnv, store: ObjectStore, name: str, config: DnsConfig, watch_latency: DelayModel) -> None:
        self.env = env
        self.name = name
        self.config = config
        stream = f"watch/{name}"
        self.services = Informer(store, "Service", watch_latency, stream)
        self.slices = Informer(store, "EndpointSlice", watch_latency, stream, indexes={"service": _slice_service})
        self.cache = _cache_for(config.cache, config.zone)
        self.queries = 0
        # The kubernetes plugin's answers are a function of the name and the two informer caches:
        # remembered until either cache changes.
        self._answers: dict[tuple[str, str], Answer] = {}
        self.services.add_handler(self._forget_answers)
        self.slices.add_handler(self._forget_answers)

    def _forget_answers(self, _ev: Any) -> None:
        self._answers.clear()

    def _slice_of(self, namespace: str, service: str) -> Any:
        """The Service's EndpointSlice (with several, the last in the cache's order)."""
        found = self.slices.by_index("service", f"{namespace}/{service}")
        if len(found) <= 1:
            return found[0] if found else None
        keys = {id(s) for s in found}
        return [s for s in self.slices.list() if id(s) in keys][-1]

    def lookup(self, qname: str, qtype: str) -> tuple[Answer, bool]:
        """Answer now: from the cache if it holds the name, else from the informer caches."""
        self.queries += 1
        now = self.env.now
        hit = self.cache.get(qname, qtype, now)
        if hit is not None:
            return hit, True
        ans = self._answers.get((qname, qtype))
        if ans is None:
            ans = self._answers[(qname, qtype)] = answer(
                qname, qtype, self.config.zone, self.config.ttl, _ByKey(self.services.get), _ByKey(self._slice_of))
        self.cache.put(qname, qtype, ans, now)
        return ans, False


class ClusterDns:
    """The DNS Service: a query goes to a random replica (kube-proxy), through the node's
    NodeLocal DNSCache when that is enabled."""

    def __init__(self, env: SimEnv, store: ObjectStore, config: DnsConfig, watch_latency: DelayModel,
                 query_latency: DelayModel) -> None:
        self.env = env
        self.config = config
        self.query_latency = query_latency
        self.replicas = [CoreDnsReplica(env, store, f"coredns-{i}", config, watch_latency)
                         for i in range(max(1, config.replicas))]
        self._node_caches: dict[str, DnsCache] = {}

    def query(self, qname: str, qtype: str, node: str = "") -> Gen:
        """One query on the wire; returns (answer, server, cached)."""
        latency = self.env.sample(self.query_latency, "dns/latency")
        if latency > 0:
            yield self.env.timeout(latency)
        if self.config.node_local:
            cache = self._node_caches.setdefault(node, TtlCache(NODE_LOCAL))
            hit = cache.get(qname, qtype, self.env.now)
            if hit is not None:
                return hit, f"nodelocaldns/{node or 'client'}", True
            ans, server, cached = self._upstream(qname, qtype)
            cache.put(qname, qtype, ans, self.env.now)
            return ans, server, cached
        return self._upstream(qname, qtype)

    def _upstream(self, qname: str, qtype: str) -> tuple[Answer, str, bool]:
        replica = self.replicas[self.env.rng("dns/replica").randrange(len(self.replicas))] \
            if len(self.replicas) > 1 else self.replicas[0]
        ans, cached = replica.lookup(qname, qtype)
        return ans, replica.name, cached

