"""The cluster DNS: CoreDNS replicas behind the DNS Service, each with its own informers and
its own ``cache`` plugin; optionally NodeLocal DNSCache on every node (reference pods §4.2–§4.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from statefulsim.sim.api.informer import Informer
from statefulsim.sim.api.store import DELETED, ObjectStore, WatchEvent
from statefulsim.sim.delays import DelayModel
from statefulsim.sim.dns.cache import CacheSettings, DnsCache, NoCache, TtlCache
from statefulsim.sim.dns.records import Answer, answer, service_of
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
        #: lookups the plugin's answer came from :attr:`_answers` (not recomputed)
        self.memo_hits = 0
        # The kubernetes plugin's answer for a name is a function of the one Service and the
        # EndpointSlices of the one (namespace, service) key the name is under (records.service_of),
        # or of nothing: remembered until an informer event touches that key.
        self._answers: dict[tuple[str, str], Answer] = {}
        self._readers: dict[str, list[tuple[str, str]]] = {}  # "ns/service" -> the remembered answers reading it
        # EndpointSlice key -> the "ns/service" it is filed under (the old value when it moves)
        self._filed: dict[tuple[str, str], str] = {}
        for sl in self.slices.list():
            self._filed[(sl.metadata.namespace, sl.metadata.name)] = _slice_service(sl)[0]
        self.services.add_handler(self._on_service)
        self.slices.add_handler(self._on_slice)

    def _on_service(self, ev: WatchEvent) -> None:
        self._forget(f"{ev.obj.metadata.namespace}/{ev.obj.metadata.name}")

    def _on_slice(self, ev: WatchEvent) -> None:
        key = (ev.obj.metadata.namespace, ev.obj.metadata.name)
        new = _slice_service(ev.obj)[0]
        old = self._filed.pop(key, None) if ev.type == DELETED else self._filed.get(key)
        if ev.type != DELETED:
            self._filed[key] = new
        self._forget(new)
        if old is not None and old != new:
            self._forget(old)

    def _forget(self, service: str) -> None:
        """Drop the remembered answers that read ``service`` (``ns/name``)."""
        readers = self._readers.pop(service, None)
        if readers is not None:
            for k in readers:
                self._answers.pop(k, None)

    def _slice_of(self, namespace: str, service: str) -> Any:
        """The Service's EndpointSlice (with several, the last in the cache's order)."""
        found = self.slices.by_index("service", f"{namespace}/{service}")
        if len(found) <= 1:
            return found[0] if found else None
        keys = {id(s) for s in found}
        return [s for s in self.slices.list() if id(s) in keys][-1]

    def plugin_answer(self, qname: str, qtype: str) -> Answer:
        """The kubernetes plugin's answer from the informer caches as they are now (no memo)."""
        return answer(qname, qtype, self.config.zone, self.config.ttl, _ByKey(self.services.get), _ByKey(self._slice_of))

    def lookup(self, qname: str, qtype: str) -> tuple[Answer, bool]:
        """Answer now: from the cache if it holds the name, else from the informer caches."""
        self.queries += 1
        now = self.env.now
        hit = self.cache.get(qname, qtype, now)
        if hit is not None:
            return hit, True
        key = (qname, qtype)
        ans = self._answers.get(key)
        if ans is None:
            ans = self._answers[key] = self.plugin_answer(qname, qtype)
            reads = service_of(qname, self.config.zone)
            if reads is not None:
                self._readers.setdefault(f"{reads[0]}/{reads[1]}", []).append(key)
        else:
            self.memo_hits += 1
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
        self._node_local = config.node_local
        # The streams' generators (env.rng returns the same object for a name on every call).
        self.latency_rng = env.rng("dns/latency")
        self._replica_rng = env.rng("dns/replica")

    def query(self, qname: str, qtype: str, node: str = "") -> Gen:
        """One query on the wire; returns (answer, server, cached).  The same as waiting
        :meth:`round_trip` seconds, then :meth:`arrive`."""
        latency = self.round_trip()
        if latency > 0:
            yield self.env.timeout(latency)
        return self.arrive(qname, qtype, node)

    def round_trip(self) -> float:
        """Draw one query's round trip (the ``dns/latency`` stream)."""
        return self.query_latency.sample(self.latency_rng)

    def arrive(self, qname: str, qtype: str, node: str = "") -> tuple[Answer, str, bool]:
        """The query reaches the node's NodeLocal DNSCache or a replica now; (answer, server, cached)."""
        if not self._node_local:  # _upstream, inlined
            replicas = self.replicas
            replica = replicas[self._replica_rng.randrange(len(replicas))] if len(replicas) > 1 else replicas[0]
            ans, cached = replica.lookup(qname, qtype)
            return ans, replica.name, cached
        cache = self._node_caches.get(node)
        if cache is None:
            cache = self._node_caches[node] = TtlCache(NODE_LOCAL)
        hit = cache.get(qname, qtype, self.env.now)
        if hit is not None:
            return hit, f"nodelocaldns/{node or 'client'}", True
        ans, server, cached = self._upstream(qname, qtype)
        cache.put(qname, qtype, ans, self.env.now)
        return ans, server, cached

    def _upstream(self, qname: str, qtype: str) -> tuple[Answer, str, bool]:
        replicas = self.replicas
        replica = replicas[self._replica_rng.randrange(len(replicas))] if len(replicas) > 1 else replicas[0]
        ans, cached = replica.lookup(qname, qtype)
        return ans, replica.name, cached
