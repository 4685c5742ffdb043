"""DNS answers, caches and search-path expansion (reference pods §4)."""

from __future__ import annotations

import pytest

from statefulsim.sim.api.discovery import Endpoint, EndpointSlice
from statefulsim.sim.api.objects import ObjectMeta, Service, ServicePort, ServiceSpec
from statefulsim.sim.dns.cache import CacheSettings, FixedTtlCache, TtlCache
from statefulsim.sim.dns.records import NODATA, NOERROR, NXDOMAIN, Answer, answer
from statefulsim.sim.dns.resolver import candidates

ZONE = "cluster.local"
SVC = Service(ObjectMeta("nginx"), ServiceSpec(selector={"app": "nginx"}, cluster_ip="None",
                                               ports=(ServicePort(80, "web"),)))


def _slice(*eps: Endpoint) -> dict:
    return {("default", "nginx"): EndpointSlice(ObjectMeta("nginx-slice"), "nginx", eps, SVC.spec.ports)}


def ep(i: int, ready: bool = True) -> Endpoint:
    return Endpoint(f"10.0.0.{i}", f"web-{i}", ready=ready, serving=ready, terminating=False, hostname=f"web-{i}")


def ask(name: str, qtype: str = "A", *eps: Endpoint, ttl: float = 30) -> Answer:
    return answer(name, qtype, ZONE, ttl, {("default", "nginx"): SVC}, _slice(*eps))


def test_pod_name_resolves_only_when_ready() -> None:
    assert ask("web-0.nginx.default.svc.cluster.local", "A", ep(0)) == Answer(NOERROR, ("10.0.0.0",), 30)
    assert ask("web-0.nginx.default.svc.cluster.local", "A", ep(0, ready=False)).rcode == NXDOMAIN
    assert ask("web-1.nginx.default.svc.cluster.local", "A", ep(0)).rcode == NXDOMAIN


def test_service_name_lists_ready_pods_and_nxdomain_when_none() -> None:
    a = ask("nginx.default.svc.cluster.local", "A", ep(0), ep(1), ep(2, ready=False))
    assert a.records == ("10.0.0.0", "10.0.0.1")
    assert ask("nginx.default.svc.cluster.local", "A").rcode == NXDOMAIN


def test_wrong_type_is_nodata_and_negative_ttl_is_plugin_ttl() -> None:
    a = ask("web-0.nginx.default.svc.cluster.local", "AAAA", ep(0), ttl=5)
    assert a.rcode == NODATA and a.ttl == 5
    assert ask("nothing.default.svc.cluster.local", "A", ttl=30).ttl == 30


def test_srv_per_named_port() -> None:
    a = ask("_web._tcp.nginx.default.svc.cluster.local", "SRV", ep(0), ep(1))
    assert a.records == ("0 50 80 web-0.nginx.default.svc.cluster.local", "0 50 80 web-1.nginx.default.svc.cluster.local")
    assert ask("_db._tcp.nginx.default.svc.cluster.local", "SRV", ep(0)).rcode == NXDOMAIN


def test_coredns_cache_clamps_and_counts_down() -> None:
    c = TtlCache(CacheSettings(success_ttl=30, denial_ttl=30))
    c.put("x.cluster.local", "A", Answer(NXDOMAIN, (), 2), now=0)  # clamped up to the 5 s minimum
    assert c.get("x.cluster.local", "A", 4.9) is not None
    assert c.get("x.cluster.local", "A", 5.0) is None
    c.put("y.cluster.local", "A", Answer(NOERROR, ("1.2.3.4",), 300), now=0)  # clamped down to 30 s
    hit = c.get("y.cluster.local", "A", 10.5)
    assert hit is not None and hit.ttl == 20  # origTTL minus whole seconds elapsed (CoreDNS item.ttl)
    assert c.get("y.cluster.local", "A", 30) is None


def test_disabled_zone_is_not_cached_and_zero_ttl_is_clamped_up() -> None:
    c = TtlCache(CacheSettings(success_ttl=30, denial_ttl=30, disable_success=(ZONE,), disable_denial=(ZONE,)))
    c.put("a.default.svc.cluster.local", "A", Answer(NXDOMAIN, (), 30), now=0)
    c.put("b.default.svc.cluster.local", "A", Answer(NOERROR, ("1.1.1.1",), 30), now=0)
    assert c.get("a.default.svc.cluster.local", "A", 1) is None
    assert c.get("b.default.svc.cluster.local", "A", 1) is None
    c2 = TtlCache()
    c2.put("z", "A", Answer(NOERROR, ("1.1.1.1",), 0), now=0)  # computeTTL: 0 -> the 5 s minimum
    assert c2.get("z", "A", 4.9) is not None and c2.get("z", "A", 5.0) is None


def test_client_fixed_ttl_cache() -> None:
    c = FixedTtlCache(positive_ttl=30, negative_ttl=10)
    c.put("n", "A", Answer(NXDOMAIN, (), 30), now=0)
    assert c.get("n", "A", 9.9) is not None and c.get("n", "A", 10) is None


@pytest.mark.parametrize("name, expected", [
    ("web-0.nginx", ["web-0.nginx.default.svc.cluster.local", "web-0.nginx.svc.cluster.local",
                     "web-0.nginx.cluster.local", "web-0.nginx"]),
    # A pod's full name has 5 dots: not fewer than ndots, so it is tried as-is first (glibc).
    ("web-0.nginx.default.svc.cluster.local", ["web-0.nginx.default.svc.cluster.local",
                                               "web-0.nginx.default.svc.cluster.local.default.svc.cluster.local",
                                               "web-0.nginx.default.svc.cluster.local.svc.cluster.local",
                                               "web-0.nginx.default.svc.cluster.local.cluster.local"]),
    # A service's full name has 4 dots: three wasted lookups before the name itself.
    ("nginx.default.svc.cluster.local", ["nginx.default.svc.cluster.local.default.svc.cluster.local",
                                         "nginx.default.svc.cluster.local.svc.cluster.local",
                                         "nginx.default.svc.cluster.local.cluster.local",
                                         "nginx.default.svc.cluster.local"]),
    ("web-0.nginx.default.svc.cluster.local.", ["web-0.nginx.default.svc.cluster.local"]),
    ("a.b.c.d.e.f", ["a.b.c.d.e.f", "a.b.c.d.e.f.default.svc.cluster.local", "a.b.c.d.e.f.svc.cluster.local",
                     "a.b.c.d.e.f.cluster.local"]),
])
def test_ndots_search_expansion(name: str, expected: list[str]) -> None:
    search = ("default.svc.cluster.local", "svc.cluster.local", "cluster.local")
    assert candidates(name, search) == expected


def test_srv_without_port_labels_and_for_one_endpoint() -> None:
    a = ask("nginx.default.svc.cluster.local", "SRV", ep(0), ep(1))
    assert a.records == ("0 50 80 web-0.nginx.default.svc.cluster.local", "0 50 80 web-1.nginx.default.svc.cluster.local")
    b = ask("web-0.nginx.default.svc.cluster.local", "SRV", ep(0), ep(1))
    assert b.records == ("0 100 80 web-0.nginx.default.svc.cluster.local",)


def test_cluster_ip_service_answers_endpoint_names_and_srv() -> None:
    svc = Service(ObjectMeta("db"), ServiceSpec(selector={"app": "db"}, cluster_ip="10.96.0.10",
                                                ports=(ServicePort(5432, "pg"),)))
    slices = {("default", "db"): EndpointSlice(ObjectMeta("db-slice"), "db",
                                               (Endpoint("10.0.0.5", "db-0", True, True, False, hostname="db-0"),),
                                               svc.spec.ports)}
    services = {("default", "db"): svc}
    assert answer("db.default.svc.cluster.local", "A", ZONE, 30, services, slices).records == ("10.96.0.10",)
    assert answer("db-0.db.default.svc.cluster.local", "A", ZONE, 30, services, slices).records == ("10.0.0.5",)
    srv = answer("_pg._tcp.db.default.svc.cluster.local", "SRV", ZONE, 30, services, slices)
    assert srv.records == ("0 100 5432 db.default.svc.cluster.local",)
    assert answer("db.default.svc.cluster.local", "SRV", ZONE, 30, services, slices).rcode == NOERROR
    assert answer("_x._tcp.db.default.svc.cluster.local", "SRV", ZONE, 30, services, slices).rcode == NXDOMAIN
