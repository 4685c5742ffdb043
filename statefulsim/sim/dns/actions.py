"""The ``dnsQuery`` scenario action: a client or a pod looks a name up on a schedule."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generator, Mapping

import simpy

from statefulsim.problems import Path, Problems, get_duration, get_mapping, get_str
from statefulsim.sim.dns.cache import FixedTtlCache
from statefulsim.sim.dns.records import QTYPES
from statefulsim.sim.dns.resolver import Resolver

if TYPE_CHECKING:
    from statefulsim.sim.cluster import Cluster

Gen = Generator[simpy.Event, Any, Any]
CLIENT = "client"


@dataclass(frozen=True)
class DnsQuery:
    """``{name, type: A|SRV, from: client|POD, every: DURATION, until: DURATION}``; each lookup
    records a ``DNSAnswer``.  ``clientCache: {positiveTTL, negativeTTL}`` gives the client a
    resolver-library cache (e.g. the JVM's 30 s / 10 s)."""

    at: float
    name: str
    qtype: str = "A"
    source: str = CLIENT
    every: float | None = None
    until: float | None = None
    namespace: str = "default"
    positive_ttl: float = 0.0
    negative_ttl: float = 0.0
    verb: ClassVar[str] = "dnsQuery"

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> DnsQuery:
        problems.unknown_keys(m, ("name", "type", "from", "every", "until", "namespace", "clientCache"), path)
        qtype = get_str(m, "type", path, problems, "A", choices=QTYPES)
        every = get_duration(m, "every", path, problems, 0.0) or None
        if every is not None and (every <= 0 or math.isinf(every)):
            problems.add(path + ("every",), f"expected a positive, finite duration, found {m['every']!r}")
        until = get_duration(m, "until", path, problems, 0.0) if "until" in m else None
        if until is not None and until < at:
            problems.add(path + ("until",), f"ends ({until:g}s) before it starts ({at:g}s)")
        if until is not None and every is None:
            problems.add(path + ("every",), "required with until")
        cc = get_mapping(m, "clientCache", path, problems)
        problems.unknown_keys(cc, ("positiveTTL", "negativeTTL"), path + ("clientCache",))
        return cls(at, get_str(m, "name", path, problems, required=True), qtype,
                   get_str(m, "from", path, problems, CLIENT), every, until,
                   get_str(m, "namespace", path, problems, "default"),
                   get_duration(cc, "positiveTTL", path + ("clientCache",), problems),
                   get_duration(cc, "negativeTTL", path + ("clientCache",), problems))

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "qtype": self.qtype, "from": self.source}
        if self.every is not None:
            out["every"] = self.every
        if self.until is not None:
            out["until"] = self.until
        return out

    def execute(self, cluster: Cluster) -> Gen:
        cache = FixedTtlCache(self.positive_ttl, self.negative_ttl) if (self.positive_ttl or self.negative_ttl) else None
        client = Resolver(cluster.env, cluster.dns, namespace=self.namespace, cache=cache)
        while True:
            yield from self._once(cluster, client)
            if self.every is None:
                return {}
            nxt = cluster.env.now + self.every
            if self.until is not None and nxt > self.until:
                return {}
            yield cluster.env.timeout(self.every)

    def _once(self, cluster: Cluster, client: Resolver) -> Gen:
        env = cluster.env
        resolver = client
        if self.source != CLIENT:
            pod = cluster.store.get("Pod", self.namespace, self.source)
            if pod is None or not pod.status.pod_ip:
                env.emit("DNSQuerySkipped", name=self.name, qtype=self.qtype, client=self.source,
                         reason="the pod does not exist" if pod is None else "the pod has no IP yet")
                return
            hosts = {pod.spec.hostname or pod.metadata.name: pod.status.pod_ip}
            if pod.spec.hostname and pod.spec.subdomain:
                zone = cluster.dns.config.zone
                hosts[f"{pod.spec.hostname}.{pod.spec.subdomain}.{self.namespace}.svc.{zone}"] = pod.status.pod_ip
            resolver = Resolver(env, cluster.dns, namespace=self.namespace, node=pod.spec.node_name,
                                hosts=hosts, cache=client.cache)
        res = yield from resolver.resolve(self.name, self.qtype)
        env.emit("DNSAnswer", name=self.name, qtype=self.qtype, rcode=res.rcode, answers=list(res.answers),
                 ttl=res.ttl, server=res.server, cached=res.cached, client=self.source, queries=res.queries,
                 fqdn=res.fqdn, cachedNames=list(res.cached_names))
