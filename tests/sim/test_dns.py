"""Headless Service, EndpointSlices and DNS (reference pods §3–§4)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import first, run, statefulset
from statefulsim.analysis.dns import dns_visibility


def service(publish_not_ready: bool = False) -> dict:
    spec = {"clusterIP": "None", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}
    if publish_not_ready:
        spec["publishNotReadyAddresses"] = True
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": spec}


def query(name: str, at: str = "1s", every: str = "1s", until: str = "100s", qtype: str = "A", **kw: object) -> dict:
    return {"at": at, "dnsQuery": {"name": name, "type": qtype, "from": "client", "every": every, "until": until, **kw}}


NO_LAG = {"dnsQuery": 0}


def dns(preset: str = "kubeadm", **kw: object) -> dict:
    return {"cluster": {"nodes": 3, "dns": {"preset": preset, "replicas": 1, **kw}}}


def answers(r, name: str) -> list[tuple[float, str, list[str], bool]]:
    return [(x.t, x.fields["rcode"], x.fields["answers"], x.fields["cached"]) for x in r.trace.of("DNSAnswer", name=name)]


def test_pod_name_resolves_only_while_ready() -> None:
    r = run(service(), statefulset(replicas=2), until="2m", timing=NO_LAG, extra=dns(),
            actions=[query("web-1.web"), {"at": "60s", "breakReadiness": {"pod": "web-1"}},
                     {"at": "80s", "restoreReadiness": {"pod": "web-1"}}])
    ready = first(r, "PodReady", pod="web-1")
    not_ready = first(r, "PodNotReady", pod="web-1")
    for t, rcode, ips, _ in answers(r, "web-1.web"):
        if t < ready or not_ready < t < 80:
            assert rcode == "NXDOMAIN" and not ips, t
    positive = [t for t, rcode, _, _ in answers(r, "web-1.web") if rcode == "NOERROR"]
    assert positive[0] - ready <= 1.0  # the next query (every 1 s) after the endpoint update
    assert any(t > 80 for t in positive)


def test_publish_not_ready_addresses_resolve_before_ready() -> None:
    r = run(service(publish_not_ready=True), statefulset(replicas=1), until="1m", timing={**NO_LAG, "appReady": 20},
            extra=dns(), actions=[query("web-0.web")])
    v = dns_visibility(r.trace, "web-0.web", "web-0")
    ip_at = first(r, "PodIP", pod="web-0")
    assert v.first_answer_at is not None and v.ready_at is not None
    assert ip_at <= v.first_answer_at < v.ready_at


def test_negative_answer_cached_for_exactly_the_denial_ttl() -> None:
    # A fully qualified name (trailing dot): one query per lookup; one CoreDNS replica caching
    # denials for at most 10 s (clamped to the plugin ttl 30 -> 10).
    r = run(service(), statefulset(replicas=1), until="40s", timing={**NO_LAG, "appReady": "never"},
            extra={"cluster": {"nodes": 3, "dns": {"replicas": 1, "ttl": "30s",
                                                   "cache": {"successTTL": "30s", "denialTTL": "10s"}}}},
            actions=[query("web-9.web.default.svc.cluster.local.", at="2s", every="0.5s", until="30s")])
    rows = answers(r, "web-9.web.default.svc.cluster.local.")
    assert all(rcode == "NXDOMAIN" for _, rcode, _, _ in rows)
    fresh = [t for t, _, _, cached in rows if not cached]
    assert fresh[:3] == [2.0, 12.0, 22.0]  # cached from 2 s for exactly 10 s, then asked again


def test_service_name_lists_ready_pods_and_srv_per_named_port() -> None:
    r = run(service(), statefulset(replicas=3), until="80s", timing=NO_LAG, extra=dns(),
            actions=[query("web", at="70s", every="1s", until="70s"),
                     query("_http._tcp.web", at="70s", every="1s", until="70s", qtype="SRV")])
    (a,) = r.trace.of("DNSAnswer", name="web")
    ips = {r.cluster.get("Pod", f"web-{i}").status.pod_ip for i in range(3)}
    assert set(a.fields["answers"]) == ips
    (srv,) = r.trace.of("DNSAnswer", name="_http._tcp.web")
    assert srv.fields["answers"] == [f"0 33 80 web-{i}.web.default.svc.cluster.local" for i in range(3)]


def test_search_path_costs() -> None:
    r = run(service(), statefulset(replicas=1), until="40s", timing=NO_LAG, extra=dns(),
            actions=[query("web-0.web", at="30s", until="30s"),
                     query("web.default.svc.cluster.local", at="30s", until="30s"),
                     query("web-0.web.default.svc.cluster.local", at="30s", until="30s")])
    cost = {x.fields["name"]: x.fields["queries"] for x in r.trace.of("DNSAnswer")}
    assert cost == {"web-0.web": 1, "web.default.svc.cluster.local": 4, "web-0.web.default.svc.cluster.local": 1}


def test_a_pod_resolves_its_own_name_from_the_hosts_file() -> None:
    r = run(service(), statefulset(replicas=1), until="40s", timing={**NO_LAG, "appReady": "never"}, extra=dns(),
            actions=[{"at": "20s", "dnsQuery": {"name": "web-0.web.default.svc.cluster.local", "from": "web-0"}},
                     {"at": "20s", "dnsQuery": {"name": "web-0.web.default.svc.cluster.local", "from": "client"}}])
    own, other = r.trace.of("DNSAnswer")
    assert own.fields["server"] == "hosts" and own.fields["answers"]
    assert other.fields["rcode"] == "NXDOMAIN"  # not Ready: not in DNS


def test_legacy_cache_delays_first_answer_client_negative_cache_too() -> None:
    actions = [query("web-0.web", at="0.5s", every="1s", until="100s")]
    legacy = run(service(), statefulset(replicas=1), until="2m", timing={**NO_LAG, "appReady": 15},
                 extra=dns(preset="kubeadm-legacy"), actions=actions)
    current = run(service(), statefulset(replicas=1), until="2m", timing={**NO_LAG, "appReady": 15},
                  extra=dns(preset="kubeadm"), actions=actions)
    jvm = run(service(), statefulset(replicas=1), until="2m", timing={**NO_LAG, "appReady": 15}, extra=dns(preset="kubeadm"),
              actions=[query("web-0.web", at="0.5s", every="1s", until="100s",
                             clientCache={"positiveTTL": "30s", "negativeTTL": "10s"})])
    d_legacy = dns_visibility(legacy.trace, "web-0.web", "web-0").delay
    d_current = dns_visibility(current.trace, "web-0.web", "web-0").delay
    d_jvm = dns_visibility(jvm.trace, "web-0.web", "web-0").delay
    assert d_current is not None and d_current < 1.0
    assert d_legacy is not None and 1.0 < d_legacy <= 30.5
    assert d_jvm is not None and d_current <= d_jvm <= 10.5


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(preset=st.sampled_from(["kubeadm-legacy", "kubeadm", "coredns-default"]),
       deletes=st.lists(st.tuples(st.integers(20, 150), st.integers(0, 2)), max_size=3),
       seed=st.integers(0, 1000))
def test_per_pod_answers_are_current_or_within_positive_ttl(preset: str, deletes: list[tuple[int, int]], seed: int) -> None:
    actions: list[dict] = [query(f"web-{i}.web", at="1s", every="1s", until="180s") for i in range(3)]
    actions += [{"at": f"{t}s", "deletePod": {"pod": f"web-{i}"}} for t, i in deletes]
    actions.sort(key=lambda a: float(a["at"][:-1]))
    r = run(service(), statefulset(replicas=3, policy="Parallel"), until="200s", seed=seed,
            timing={"apiLatency": {"exponential": {"mean": "20ms"}}, "watchLatency": {"uniform": {"low": "1ms", "high": "50ms"}}},
            extra={"cluster": {"nodes": 3, "dns": {"preset": preset, "replicas": 2}}}, actions=actions)
    lives: dict[str, list[tuple[str, float, float]]] = {}  # pod -> (ip, from, until)
    got_ip: dict[str, tuple[str, str, float]] = {}
    for rec in r.trace:
        if rec.event == "PodIP":
            got_ip[rec.fields["uid"]] = (rec.fields["pod"], rec.fields["ip"], rec.t)
        elif rec.event == "PodDeleted" and rec.fields["uid"] in got_ip:
            pod, ip, since = got_ip.pop(rec.fields["uid"])
            lives.setdefault(pod, []).append((ip, since, rec.t))
    for pod, ip, since in got_ip.values():
        lives.setdefault(pod, []).append((ip, since, float("inf")))
    positive_ttl = 30.0
    for rec in r.trace.of("DNSAnswer"):
        pod = rec.fields["name"].split(".")[0]
        for ip in rec.fields["answers"]:
            ok = any(i == ip and since <= rec.t <= until + positive_ttl + 1.0 for i, since, until in lives.get(pod, []))
            assert ok, f"{rec.fields['name']} answered {ip} at {rec.t}; lives: {lives.get(pod)}"


def test_node_local_dns_cache_keeps_denials_5_seconds() -> None:
    r = run(service(), statefulset(replicas=1), until="40s", timing={**NO_LAG, "appReady": "never"},
            extra={"cluster": {"nodes": 3, "dns": {"preset": "kubeadm", "replicas": 1, "nodeLocal": True}}},
            actions=[{"at": "2s", "dnsQuery": {"name": "web-9.web.default.svc.cluster.local.", "from": "web-0",
                                                "every": "1s", "until": "20s"}}])
    rows = [(x.t, x.fields["server"], x.fields["cached"]) for x in r.trace.of("DNSAnswer")]
    assert rows
    fresh = [t for t, _, cached in rows if not cached]
    # Denials are kept 5 s by the node's cache (CoreDNS itself does not cache them in 1.32+).
    assert all(b - a == pytest.approx(5.0) for a, b in zip(fresh, fresh[1:]))
    assert any(server.startswith("nodelocaldns/") for _, server, _ in rows)
