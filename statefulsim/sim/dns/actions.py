"""The ``dnsQuery`` scenario action: a client or a pod looks a name up on a schedule."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Self

from statefulsim.problems import Path, Problems, get_duration, get_mapping
from statefulsim.sim.dns.cache import FixedTtlCache
from statefulsim.sim.dns.records import QTYPES
from statefulsim.sim.dns.resolver import Resolution, Resolver
from statefulsim.sim.env import SimEnv
from statefulsim.sim.process import Gen
from statefulsim.sim.verb import Verb, arg, namespace_field, seconds_text

if TYPE_CHECKING:
    from statefulsim.sim.cluster import Cluster

CLIENT = "client"


def _get_every(m: Mapping[str, Any], key: str, path: Path, problems: Problems,
               default: float | None = None) -> float | None:
    every = get_duration(m, key, path, problems, 0.0) or default
    if every is not None and (every <= 0 or math.isinf(every)):
        problems.add(path + (key,), f"expected a positive, finite duration, found {m[key]!r}")
    return every


def _get_until(m: Mapping[str, Any], key: str, path: Path, problems: Problems,
               default: float | None = None) -> float | None:
    return get_duration(m, key, path, problems, 0.0) if key in m else default


@dataclass(frozen=True)
class DnsQuery(Verb):
    """``{name, type: A|SRV, from: client|POD, every: DURATION, until: DURATION}``; each lookup
    records a ``DNSAnswer``.  ``clientCache: {positiveTTL, negativeTTL}`` gives the client a
    resolver-library cache (e.g. the JVM's 30 s / 10 s)."""

    name: str
    qtype: str = field(default="A", metadata=arg(key="type", trace_key="qtype", choices=QTYPES))
    source: str = field(default=CLIENT, metadata=arg(key="from"))
    every: float | None = field(default=None, metadata=arg(_get_every, trace="if_set"))
    until: float | None = field(default=None, metadata=arg(_get_until, trace="if_set"))
    namespace: str = namespace_field()
    # Keys of the nested clientCache mapping.
    positive_ttl: float = field(default=0.0, metadata=arg(get_duration, key="positiveTTL", trace="never"))
    negative_ttl: float = field(default=0.0, metadata=arg(get_duration, key="negativeTTL", trace="never"))
    verb: ClassVar[str] = "dnsQuery"

    @classmethod
    def describe(cls, fields: Mapping[str, Any]) -> str:
        """``client looks up NAME (A) every 1s until 1m30s``."""
        text = f"{fields.get('from')} looks up {fields.get('name')} ({fields.get('qtype', 'A')})"
        if fields.get("every") is not None:
            text += f" every {seconds_text(fields.get('every'))}"
            if fields.get("until") is not None:
                text += f" until {seconds_text(fields.get('until'))}"
        return text

    @classmethod
    def touches(cls, fields: Mapping[str, Any]) -> tuple[str, ...]:
        """The name looked up."""
        return (str(fields.get("name")),)

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> Self:
        problems.unknown_keys(m, ("name", "type", "from", "every", "until", "namespace", "clientCache"), path)
        args = cls.read(m, path, problems, "qtype", "every", "until")
        until = args["until"]
        if until is not None and until < at:
            problems.add(path + ("until",), f"ends ({until:g}s) before it starts ({at:g}s)")
        if until is not None and args["every"] is None:
            problems.add(path + ("every",), "required with until")
        cc = get_mapping(m, "clientCache", path, problems)
        problems.unknown_keys(cc, ("positiveTTL", "negativeTTL"), path + ("clientCache",))
        return cls(at, **args, **cls.read(m, path, problems, "name", "source", "namespace"),
                   **cls.read(cc, path + ("clientCache",), problems, "positive_ttl", "negative_ttl"))

    def execute(self, cluster: Cluster) -> Gen:
        cache = FixedTtlCache(self.positive_ttl, self.negative_ttl) if (self.positive_ttl or self.negative_ttl) else None
        client = Resolver(cluster.env, cluster.dns, namespace=self.namespace, cache=cache)
        env, every, until = cluster.env, self.every, self.until
        from_client = self.source == CLIENT
        while True:
            if from_client:  # _once, inlined for the common case
                self._answered(env, (yield from client.resolve(self.name, self.qtype)))
            else:
                yield from self._once(cluster, client)
            if every is None:
                return {}
            if until is not None and env.now + every > until:
                return {}
            yield env.timeout(every)

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
        self._answered(env, (yield from resolver.resolve(self.name, self.qtype)))

    def _answered(self, env: SimEnv, res: Resolution) -> None:
        """The ``DNSAnswer`` record of one lookup."""
        env.emit("DNSAnswer", name=self.name, qtype=self.qtype, rcode=res.rcode, answers=list(res.answers),
                 ttl=res.ttl, server=res.server, cached=res.cached, client=self.source, queries=res.queries,
                 fqdn=res.fqdn, cachedNames=list(res.cached_names))


