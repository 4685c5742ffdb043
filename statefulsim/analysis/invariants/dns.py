"""``dns-ready-only``: DNS hands out a pod's address only while it is Ready (or within the TTL after)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from statefulsim.analysis.invariants.registry import Violation
from statefulsim.analysis.invariants.walk import _pod_ref
from statefulsim.durations import format_clock
from statefulsim.sim.trace import Trace, TraceRecord, TraceSource, as_trace

#: How long the endpoint pipeline (EndpointSlice controller, API and watch latencies up to the
#: CoreDNS informers) may lag a pod's own Ready/NotReady records, in seconds.
DNS_PROPAGATION = 5.0
#: Extra time a second cache layer can add by raising a nearly expired answer's TTL to its
#: minimum (CoreDNS ``cache`` and NodeLocal DNSCache both default to a 5 s minimum TTL), plus 1 s
#: for CoreDNS counting down in whole seconds.
DNS_CACHE_SLACK = 5.0 + 1.0


@dataclass
class _Serving:
    """When each pod name (and each incarnation) was Ready and not terminating."""

    by_uid: dict[str, list[list[float | None]]] = field(default_factory=dict)
    by_name: dict[str, list[list[float | None]]] = field(default_factory=dict)
    ips: dict[str, tuple[list[float], list[tuple[str, str]]]] = field(default_factory=dict)

    @staticmethod
    def _open(spans: list[list[float | None]], t: float) -> None:
        if not spans or spans[-1][1] is not None:
            spans.append([t, None])

    @staticmethod
    def _close(spans: list[list[float | None]], t: float) -> None:
        if spans and spans[-1][1] is None:
            spans[-1][1] = t

    def start(self, name: str, uid: str, t: float) -> None:
        self._open(self.by_uid.setdefault(uid, []), t)
        self._open(self.by_name.setdefault(name, []), t)

    def stop(self, name: str, uid: str, t: float, others_serving: bool) -> None:
        self._close(self.by_uid.setdefault(uid, []), t)
        if not others_serving:
            self._close(self.by_name.setdefault(name, []), t)

    @staticmethod
    def overlaps(spans: list[list[float | None]], lo: float, hi: float) -> bool:
        for s, e in spans:
            assert s is not None
            if s <= hi and (e is None or e >= lo):
                return True
        return False

    @staticmethod
    def last_end(spans: list[list[float | None]], before: float) -> float | None:
        ends = [e for s, e in spans if s is not None and s <= before and e is not None and e <= before]
        return max(ends) if ends else None

    def owner(self, ip: str, t: float) -> tuple[str, str] | None:
        times, owners = self.ips.get(ip, ([], []))
        j = bisect.bisect_right(times, t)
        return owners[j - 1] if j else None


def _serving(trace: Trace) -> _Serving:
    sv = _Serving()
    ready: dict[str, bool] = {}
    term: dict[str, bool] = {}
    names: dict[str, str] = {}
    for r in trace:
        f = r.fields
        uid = f.get("uid")
        if not isinstance(uid, str):
            continue
        if r.event == "PodCreated":
            names[uid] = f["pod"]
            ready[uid] = term[uid] = False
            continue
        if r.event == "PodIP":
            times, owners = sv.ips.setdefault(str(f.get("ip")), ([], []))
            times.append(r.t)
            owners.append((f["pod"], uid))
            continue
        if uid not in names:
            continue
        was = ready[uid] and not term[uid]
        if r.event == "PodReady":
            ready[uid] = True
        elif r.event in ("PodNotReady", "PodFailed", "PodSucceeded", "PodDeleted"):
            ready[uid] = False
        elif r.event == "PodTerminating":
            term[uid] = True
        else:
            continue
        now = ready[uid] and not term[uid]
        name = names[uid]
        if now and not was:
            sv.start(name, uid, r.t)
        elif was and not now:
            others = any(ready[u] and not term[u] for u, n in names.items() if n == name and u != uid)
            sv.stop(name, uid, r.t, others)
    return sv


def _slice_lag(trace: Trace) -> float:
    """The longest time this trace shows between a pod leaving Ready (NotReady, terminating,
    deleted) and the next EndpointSliceUpdated that no longer lists it as ready: how slow the
    endpoint pipeline is in this run (the CoreDNS informers' own watch lag is not recorded)."""
    pending: dict[str, float] = {}  # pod name -> when it stopped being Ready
    lag = 0.0
    for r in trace:
        if r.event in ("PodNotReady", "PodTerminating", "PodDeleted"):
            pending.setdefault(str(r.fields.get("pod")), r.t)
        elif r.event in ("PodReady", "PodCreated"):
            pending.pop(str(r.fields.get("pod")), None)
        elif r.event == "EndpointSliceUpdated" and pending:
            listed = {str(p) for p in (r.fields.get("ready") or ())}
            for pod in [p for p in pending if p not in listed]:
                lag = max(lag, r.t - pending.pop(pod))
    return lag


def _publish_not_ready(trace: Trace, sv: _Serving, allowance: float) -> set[str]:
    """Services whose EndpointSlice lists a pod as ready while it has not been Ready for a while:
    ``publishNotReadyAddresses: true`` (not itself in the trace)."""
    out: set[str] = set()
    for r in trace.of("EndpointSliceUpdated"):
        for pod in r.fields.get("ready") or ():
            if not sv.overlaps(sv.by_name.get(str(pod), []), r.t - allowance, r.t):
                out.add(str(r.fields.get("service")))
    return out


def _dns_targets(r: TraceRecord, services: set[str]) -> list[tuple[str, str | None, str]]:
    """(service, pod name or None, address) for every address a positive answer hands out."""
    f = r.fields
    out: list[tuple[str, str | None, str]] = []
    labels = str(f.get("fqdn") or f.get("name") or "").rstrip(".").split(".")
    if f.get("qtype") == "SRV":
        for rec in f.get("answers") or ():
            parts = str(rec).split()
            if len(parts) == 4:
                tl = parts[3].rstrip(".").split(".")
                if len(tl) >= 2 and tl[1] in services:
                    out.append((tl[1], tl[0], ""))
        return out
    if len(labels) >= 4 and labels[3] == "svc" and labels[1] in services:
        service, pod = labels[1], labels[0]
    elif len(labels) >= 3 and labels[2] == "svc" and labels[0] in services:
        service, pod = labels[0], None
    else:
        return out
    for ip in f.get("answers") or ():
        out.append((service, pod, str(ip)))
    return out


def check_dns_ready_only(trace: TraceSource) -> list[Violation]:
    """A DNS answer hands out a pod's address (per-pod name, Service name or SRV target) only while
    the pod is Ready and not terminating, or within the answer's cache lifetime after it stopped
    being so, unless the Service publishes not-ready addresses."""
    trace = as_trace(trace)
    answers = [r for r in trace.of("DNSAnswer")
               if r.fields.get("rcode") == "NOERROR" and r.fields.get("answers")
               and r.fields.get("server") not in ("hosts", "client-cache")]
    if not answers:
        return []
    sv = _serving(trace)
    services = {str(r.fields.get("service")) for r in trace.of("EndpointSliceUpdated")}
    propagation = DNS_PROPAGATION + 2 * _slice_lag(trace)
    exempt = _publish_not_ready(trace, sv, propagation)
    ttls = [float(r.fields["ttl"]) for r in answers if isinstance(r.fields.get("ttl"), (int, float))]
    max_ttl = max(ttls) if ttls else 0.0
    out: list[Violation] = []
    for r in answers:
        ttl = r.fields.get("ttl")
        stale = 0.0
        if r.fields.get("cached"):
            left = float(ttl) if isinstance(ttl, (int, float)) else 0.0
            stale = max(0.0, max_ttl - left) + DNS_CACHE_SLACK
        lo = r.t - stale - propagation
        for service, name, ip in _dns_targets(r, services):
            if service in exempt:
                continue
            owner = sv.owner(ip, r.t) if ip else None
            if owner is not None:
                pod, spans = owner[0], sv.by_uid.get(owner[1], [])
            elif name is not None:
                pod, spans = name, sv.by_name.get(name, [])
            else:
                continue
            if sv.overlaps(spans, lo, r.t):
                continue
            end = sv.last_end(spans, r.t)
            why = "had never been Ready" if end is None else f"had not been Ready since {format_clock(end)}"
            addr = f" {ip}" if ip else ""
            out.append(Violation("dns-ready-only", r.t, (_pod_ref(pod), f"service/{service}"),
                                 f"{r.fields.get('server')} answered {r.fields.get('fqdn')} ({r.fields.get('qtype')}) with "
                                 f"{pod}{addr} for {r.fields.get('client')}, but {pod} {why} "
                                 f"(allowed staleness {stale + propagation:.1f}s)"))
    return out
