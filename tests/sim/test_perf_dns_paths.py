"""The fast paths of issue #20 on the DNS query path: each one is checked to have run and to give
the same answers as the slow path it replaced (the bundled DNS traces themselves are compared by
tests/test_golden_traces.py)."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import assert_same_records, scenario, statefulset
from statefulsim.io.trace_io import dumps_record
from statefulsim.model.scenario import Scenario
from statefulsim.runner import run
from statefulsim.sim.dns import resolver as resolver_module
from statefulsim.sim.dns.records import NODATA, NOERROR, NXDOMAIN, Answer, answer, service_of
from statefulsim.sim.dns.resolver import Resolution, candidates, search_candidates
from statefulsim.sim.dns.server import CoreDnsReplica
from statefulsim.sim.process import Gen


def _service(name: str = "web") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"clusterIP": "None", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}}


def _query(name: str, qtype: str = "A", **kw: Any) -> dict[str, Any]:
    return {"at": "1s", "dnsQuery": {"name": name, "type": qtype, "every": "1s", "until": "170s", **kw}}


def _busy_dns(preset: str, node_local: bool = False) -> Scenario:
    """Clients and a pod asking for names that appear, change, vanish and come back: pods scale
    up and down, readiness breaks, the Service is deleted and applied again."""
    return scenario(
        _service(), statefulset(replicas=3, policy="Parallel"), until="3m", nodes=3,
        extra={"cluster": {"nodes": 3, "dns": {"preset": preset, "replicas": 2, "nodeLocal": node_local}}},
        actions=[_query("web-2.web"), _query("web-4.web"), _query("web.default.svc.cluster.local."),
                 _query("web", "SRV"), _query("_http._tcp.web", "SRV"), _query("web-0.web", "AAAA"),
                 _query("nope.web"), _query("web-1.web", clientCache={"positiveTTL": "30s", "negativeTTL": "10s"}),
                 _query("web-2.web", **{"from": "web-0"}),
                 {"at": "40s", "scale": {"statefulset": "web", "replicas": 5}},
                 {"at": "70s", "breakReadiness": {"pod": "web-2"}},
                 {"at": "80s", "restoreReadiness": {"pod": "web-2"}},
                 {"at": "100s", "delete": {"kind": "Service", "name": "web"}},
                 {"at": "120s", "apply": [_service()]},
                 {"at": "140s", "scale": {"statefulset": "web", "replicas": 1}}])


def _slow_lookup(self: CoreDnsReplica, qname: str, qtype: str) -> tuple[Answer, bool]:
    """``CoreDnsReplica.lookup`` before issue #20's DNS work: the plugin's answer from the
    informer caches on every cache miss (what the old clear-on-every-event memo returned)."""
    self.queries += 1
    now = self.env.now
    hit = self.cache.get(qname, qtype, now)
    if hit is not None:
        return hit, True
    ans = self.plugin_answer(qname, qtype)
    self.cache.put(qname, qtype, ans, now)
    return ans, False


def _slow_resolve(self: resolver_module.Resolver, name: str, qtype: str) -> Gen:
    """``Resolver.resolve`` before issue #20's DNS work: the candidate list built per lookup and
    every query through ``ClusterDns.query``, the cache asked even when it is ``NoCache``."""
    key = resolver_module.normalize(name)
    if qtype == "A" and key in self.hosts:
        return Resolution(name, qtype, NOERROR, (self.hosts[key],), 0.0, "hosts", True, 0, key)
    hit = self.cache.get(name, qtype, self.env.now)
    if hit is not None:
        return Resolution(name, qtype, hit.rcode, hit.records, hit.ttl, "client-cache", True, 0, key)
    queries = 0
    cached_names: list[str] = []
    got_nodata: tuple[Answer, str, bool, str] | None = None
    last: tuple[Answer, str, bool, str] | None = None
    for fqdn in candidates(name, self.search, self.ndots):
        ans, server, cached = yield from self.dns.query(fqdn, qtype, self.node)
        queries += 1
        if cached:
            cached_names.append(fqdn)
        last = (ans, server, cached, fqdn)
        if ans.rcode == NOERROR and ans.records:
            self.cache.put(name, qtype, ans, self.env.now)
            return Resolution(name, qtype, NOERROR, ans.records, ans.ttl, server, cached, queries, fqdn,
                              tuple(cached_names))
        if ans.rcode == NODATA and got_nodata is None:
            got_nodata = last
    final = got_nodata or last
    assert final is not None
    ans, server, cached, fqdn = final
    rcode = NODATA if got_nodata is not None else NXDOMAIN
    self.cache.put(name, qtype, Answer(rcode, (), ans.ttl), self.env.now)
    return Resolution(name, qtype, rcode, (), ans.ttl, server, cached, queries, fqdn, tuple(cached_names))


def _lines(sc: Scenario) -> list[str]:
    return [dumps_record(r) for r in run(sc).trace]


@pytest.mark.parametrize("preset, node_local", [("kubeadm", False), ("kubeadm-legacy", False),
                                                ("coredns-default", True), ("no-cache", False)])
def test_remembered_answers_and_inlined_queries_give_the_slow_paths_trace(
        preset: str, node_local: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The memo (invalidated per Service key) and the inlined resolver give a byte-identical
    trace to the old paths, and every remembered answer equals a fresh one at the moment it is
    served; the memo and the candidate cache were used."""
    sc = _busy_dns(preset, node_local)
    fast_lookup = CoreDnsReplica.lookup
    replicas: list[CoreDnsReplica] = []
    checked = [0]

    def checking_lookup(self: CoreDnsReplica, qname: str, qtype: str) -> tuple[Answer, bool]:
        if self not in replicas:
            replicas.append(self)
        ans, cached = fast_lookup(self, qname, qtype)
        if not cached:
            assert ans == self.plugin_answer(qname, qtype), (self.env.now, qname, qtype)
            checked[0] += 1
        return ans, cached

    search_candidates.cache_clear()
    with monkeypatch.context() as m:
        m.setattr(CoreDnsReplica, "lookup", checking_lookup)
        fast = _lines(sc)
    assert checked[0] > 100 and len(replicas) == 2
    assert sum(r.memo_hits for r in replicas) > 20
    assert search_candidates.cache_info().hits > 100
    with monkeypatch.context() as m:
        m.setattr(CoreDnsReplica, "lookup", _slow_lookup)
        m.setattr(resolver_module.Resolver, "resolve", _slow_resolve)
        slow = _lines(sc)
    assert_same_records(fast, slow)  # type: ignore[arg-type]


def test_an_event_forgets_only_the_answers_of_its_service(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Service's change drops the remembered answers under it and keeps the others (the old
    memo was cleared on every Service and EndpointSlice event)."""
    sc = scenario(_service("web"), _service("other"), statefulset(replicas=2, policy="Parallel"), until="1m",
                  extra={"cluster": {"nodes": 3, "dns": {"preset": "kubeadm", "replicas": 1}}},
                  actions=[{"at": "1s", "dnsQuery": {"name": "web-0.web"}}])
    from statefulsim.runner import build_cluster

    cluster = build_cluster(sc)
    cluster.run(50.0)
    replica = cluster.dns.replicas[0]
    for name in ("web-0.web.default.svc.cluster.local", "other.default.svc.cluster.local", "x.cluster.local"):
        replica.lookup(name, "A")
    assert replica.memo_hits == 0
    replica._forget("default/other")
    hits = replica.memo_hits
    replica.lookup("web-0.web.default.svc.cluster.local", "A")
    replica.lookup("x.cluster.local", "A")
    assert replica.memo_hits == hits + 2
    replica.lookup("other.default.svc.cluster.local", "A")
    assert replica.memo_hits == hits + 2


class _Recording:
    def __init__(self, items: dict[tuple[str, str], Any]) -> None:
        self.items = items
        self.asked: list[tuple[str, str]] = []

    def get(self, key: tuple[str, str], /) -> Any:
        self.asked.append(key)
        return self.items.get(key)


@pytest.mark.parametrize("qname", ["web-0.web.default.svc.cluster.local", "web.default.svc.cluster.local.",
                                   "_http._tcp.web.default.svc.cluster.local", "a.b.web.prod.svc.cluster.local",
                                   "WEB.Default.SVC.cluster.local", "web.default.cluster.local", "web-0.web",
                                   "svc.cluster.local", "x.svc.cluster.local", "cluster.local"])
def test_service_of_names_the_only_key_answer_reads(qname: str) -> None:
    services, slices = _Recording({}), _Recording({})
    answer(qname, "A", "cluster.local", 30.0, services, slices)
    key = service_of(qname, "cluster.local")
    assert set(services.asked) | set(slices.asked) == ({key} if key is not None else set())


def test_search_candidates_are_the_candidate_list() -> None:
    search = ("default.svc.cluster.local", "svc.cluster.local", "cluster.local")
    for name in ("web-0.web", "a.b.c.d.e.f", "web.", "x"):
        assert list(search_candidates(name, search, 5)) == candidates(name, search, 5)
    assert search_candidates("web-0.web", search, 5) is search_candidates("web-0.web", search, 5)


# ----------------------------------------------------------------------------- volume controller


def _storage_class(name: str, mode: str = "WaitForFirstConsumer", provisioner: str = "ebs.csi.aws.com",
                   reclaim: str = "Delete") -> dict[str, Any]:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
            "provisioner": provisioner, "volumeBindingMode": mode, "reclaimPolicy": reclaim}


def _claims(name: str, klass: str, replicas: int = 3, size: str = "1Gi") -> dict[str, Any]:
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}, "storageClassName": klass}
    return {**statefulset(name, replicas=replicas, policy="Parallel",
                          extra_spec={"volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": spec}],
                                      "persistentVolumeClaimRetentionPolicy": {"whenScaled": "Delete"}})}


def _static_pv(i: int, size: str, node: str, klass: str = "local") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": f"local-pv-{i}"},
            "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"], "storageClassName": klass,
                     "local": {"path": f"/mnt/disks/{i}"},
                     "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                         {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}}}


def _volume_scenarios() -> list[Scenario]:
    wffc = scenario(_storage_class("wffc"), _claims("db", "wffc"), _claims("web", "wffc", 2), until="4m",
                    timing={"provisioning": 3, "volumeAttach": 2},
                    actions=[{"at": "60s", "scale": {"statefulset": "db", "replicas": 1}},
                             {"at": "90s", "scale": {"statefulset": "db", "replicas": 4}},
                             {"at": "120s", "delete": {"kind": "PersistentVolumeClaim", "name": "data-web-1"}},
                             {"at": "121s", "deletePod": {"pod": "web-1"}}])
    immediate = scenario(_storage_class("now", mode="Immediate", reclaim="Retain"), _claims("web", "now"),
                         until="3m", timing={"provisioning": 2},
                         actions=[{"at": "60s", "scale": {"statefulset": "web", "replicas": 1}},
                                  {"at": "90s", "scale": {"statefulset": "web", "replicas": 3}}])
    pvs = [_static_pv(i, size, f"node-{1 + i % 3}") for i, size in enumerate(["5Gi", "2Gi", "2Gi", "10Gi", "1Gi"])]
    static = scenario(_storage_class("local", provisioner="kubernetes.io/no-provisioner"), *pvs,
                      _claims("web", "local", 4, size="2Gi"), until="3m", timing={"volumeAttach": 1},
                      actions=[{"at": "60s", "scale": {"statefulset": "web", "replicas": 2}},
                               {"at": "90s", "scale": {"statefulset": "web", "replicas": 5}}])
    return [wffc, immediate, static]


def test_pending_claims_and_indexed_matches_give_the_scans_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tracked not-Bound claims equal the scan of the claims informer (same order) at every
    requeue, and the indexed ``matching_volume`` the scan of every volume at every claim sync."""
    from statefulsim.sim.controllers import volume as volume_module
    from statefulsim.sim.controllers.volume import VolumeController

    fast_pending, fast_match = VolumeController.pending_claims, VolumeController.matching_volume
    controllers: list[VolumeController] = []
    calls = {"pending": 0, "match": 0, "chosen": 0}

    def checking_pending(self: VolumeController) -> list[str]:
        if self not in controllers:
            controllers.append(self)
        got = fast_pending(self)
        assert got == [f"claim/{c.metadata.namespace}/{c.metadata.name}"
                       for c in self.claims.list() if c.phase != volume_module.BOUND]
        calls["pending"] += 1
        return got

    def checking_match(self: VolumeController, claim: Any, klass: str, node_labels: Any) -> Any:
        got = fast_match(self, claim, klass, node_labels)
        assert got is volume_module.matching_volume(claim, klass, self.volumes.list(), node_labels)
        calls["match"] += 1
        calls["chosen"] += got is not None
        return got

    monkeypatch.setattr(VolumeController, "pending_claims", checking_pending)
    monkeypatch.setattr(VolumeController, "matching_volume", checking_match)
    for sc in _volume_scenarios():
        result = run(sc)
        assert result.trace.of("PVCBound")
    assert calls["pending"] > 20 and calls["match"] > 20 and calls["chosen"] > 5
    assert sum(c.indexed_matches for c in controllers) == calls["match"]
    assert sum(c.pending_uses - c.pending_rebuilds for c in controllers) > 20
