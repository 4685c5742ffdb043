"""A pod's stub resolver: ``/etc/hosts``, then ``resolv.conf`` search-path expansion with
``ndots:5`` as the kubelet writes it for ``dnsPolicy: ClusterFirst`` (reference pods §4.6), and
an optional client-side cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from statefulsim.sim.dns.cache import DnsCache, NoCache
from statefulsim.sim.dns.records import NODATA, NOERROR, NXDOMAIN, Answer, normalize
from statefulsim.sim.dns.server import ClusterDns
from statefulsim.sim.env import SimEnv
from statefulsim.sim.process import Gen

NDOTS = 5


@dataclass(frozen=True)
class Resolution:
    """What one lookup returned to the application, and what it cost."""

    name: str
    qtype: str
    rcode: str
    answers: tuple[str, ...]
    ttl: float
    server: str  # "hosts", "client-cache", a CoreDNS replica or NodeLocal DNSCache
    cached: bool
    queries: int  # DNS queries sent (search-path expansion)
    fqdn: str  # the name that answered (or the last one tried)
    #: the names of the search path that a cache answered (a cached NXDOMAIN for the name that
    #: will exist is what "negative caching delayed the first address" means)
    cached_names: tuple[str, ...] = ()


def candidates(name: str, search: tuple[str, ...], ndots: int = NDOTS) -> list[str]:
    """The names tried, in order, as glibc's ``res_search`` tries them."""
    return list(search_candidates(name, search, ndots))


@lru_cache(maxsize=4096)
def search_candidates(name: str, search: tuple[str, ...], ndots: int = NDOTS) -> tuple[str, ...]:
    """:func:`candidates` as a tuple, remembered: it depends only on its arguments (a client
    looks the same name up every period)."""
    if name.endswith("."):
        return (name.rstrip("."),)
    expanded = tuple(f"{name}.{d}" for d in search)
    if name.count(".") >= ndots:
        return (name,) + expanded
    return expanded + (name,)


class Resolver:
    """The resolver of one client: a pod (with its hosts file and node) or an outside client."""

    def __init__(self, env: SimEnv, dns: ClusterDns, *, namespace: str = "default", node: str = "",
                 hosts: dict[str, str] | None = None, cache: DnsCache | None = None,
                 ndots: int = NDOTS) -> None:
        self.env = env
        self.dns = dns
        zone = dns.config.zone
        self.search = (f"{namespace}.svc.{zone}", f"svc.{zone}", zone)
        self.ndots = ndots
        self.node = node
        self.hosts = {normalize(k): v for k, v in (hosts or {}).items()}
        self.cache: DnsCache = cache or NoCache()

    def resolve(self, name: str, qtype: str) -> Gen:
        """Look ``name`` up; returns a :class:`Resolution`.  Each query is :meth:`ClusterDns.query`
        inlined: its round trip (:meth:`ClusterDns.round_trip`), then its arrival."""
        key = normalize(name)
        if qtype == "A" and key in self.hosts:
            return Resolution(name, qtype, NOERROR, (self.hosts[key],), 0.0, "hosts", True, 0, key)
        cache = self.cache
        caching = type(cache) is not NoCache
        if caching:
            hit = cache.get(name, qtype, self.env.now)
            if hit is not None:
                return Resolution(name, qtype, hit.rcode, hit.records, hit.ttl, "client-cache", True, 0, key)
        dns, sim, node = self.dns, self.env.sim, self.node
        sample, rng = dns.query_latency.sample, dns.latency_rng  # dns.round_trip(), inlined
        queries = 0
        cached_names: list[str] = []
        got_nodata: tuple[Answer, str, bool, str] | None = None
        last: tuple[Answer, str, bool, str] | None = None
        for fqdn in search_candidates(name, self.search, self.ndots):
            latency = sample(rng)
            if latency > 0:
                yield sim.timeout(latency)
            ans, server, cached = dns.arrive(fqdn, qtype, node)
            queries += 1
            if cached:
                cached_names.append(fqdn)
            if ans.rcode == NOERROR and ans.records:
                if caching:
                    cache.put(name, qtype, ans, self.env.now)
                return Resolution(name, qtype, NOERROR, ans.records, ans.ttl, server, cached, queries, fqdn,
                                  tuple(cached_names))
            last = (ans, server, cached, fqdn)
            if ans.rcode == NODATA and got_nodata is None:
                got_nodata = last
        final = got_nodata or last
        assert final is not None
        ans, server, cached, fqdn = final
        rcode = NODATA if got_nodata is not None else NXDOMAIN
        if caching:
            cache.put(name, qtype, Answer(rcode, (), ans.ttl), self.env.now)
        return Resolution(name, qtype, rcode, (), ans.ttl, server, cached, queries, fqdn, tuple(cached_names))
