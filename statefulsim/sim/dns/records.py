"""What the CoreDNS ``kubernetes`` plugin answers for a name, from EndpointSlices and Services
(reference pods §4.1–§4.2).  Pure functions: no time, no caches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from statefulsim.sim.api.discovery import EndpointSlice
from statefulsim.sim.api.objects import Service

T_co = TypeVar("T_co", covariant=True)


class ByKey(Protocol[T_co]):
    """What :func:`answer` needs of its Services and EndpointSlices: a lookup by (namespace,
    service name).  A dict is one; CoreDNS passes its informers' lookups."""

    def get(self, key: tuple[str, str], /) -> T_co | None: ...


NOERROR = "NOERROR"
NXDOMAIN = "NXDOMAIN"
NODATA = "NODATA"  # NOERROR with an empty answer
SERVFAIL = "SERVFAIL"

A = "A"
AAAA = "AAAA"
SRV = "SRV"
QTYPES = (A, AAAA, SRV)


@dataclass(frozen=True)
class Answer:
    """A DNS response: rcode, answer records (IPs for A, ``priority weight port target`` for
    SRV) and the TTL a client sees (for negative answers: the SOA minimum)."""

    rcode: str
    records: tuple[str, ...]
    ttl: float

    @property
    def positive(self) -> bool:
        return self.rcode == NOERROR and bool(self.records)


def normalize(name: str) -> str:
    return name.lower().rstrip(".")


def _parse(qname: str, zone: str) -> tuple[str, str, list[str]] | None:
    """``(namespace, service, labels before the service)`` of a name under ``<zone>``'s ``svc``
    subdomain, else None."""
    name = normalize(qname)
    z = normalize(zone)
    if not name.endswith("." + z):
        return None
    labels = name[: -len(z) - 1].split(".")
    if len(labels) < 3 or labels[-1] != "svc":
        return None
    return labels[-2], labels[-3], labels[:-3]


def service_of(qname: str, zone: str) -> tuple[str, str] | None:
    """The ``(namespace, service)`` key whose Service and EndpointSlices :func:`answer` reads for
    ``qname`` (the only keys it passes to ``services.get`` and ``slices.get``); None when it reads
    neither (the name is not ``*.<service>.<namespace>.svc.<zone>``: NXDOMAIN whatever exists)."""
    parsed = _parse(qname, zone)
    return None if parsed is None else (parsed[0], parsed[1])


def answer(qname: str, qtype: str, zone: str, ttl: float, services: ByKey[Service],
           slices: ByKey[EndpointSlice]) -> Answer:
    """The plugin's answer for ``qname`` (a fully qualified name) of type ``qtype``.

    ``services`` and ``slices`` are keyed by (namespace, service name).  Only ``ready`` endpoints
    are used.  A name that does not exist is NXDOMAIN; an existing name without records of the
    type is NODATA.  Negative answers carry the plugin TTL as the SOA minimum.
    """
    negative = min(ttl, 300.0) if ttl else 0.0
    nx = Answer(NXDOMAIN, (), negative)
    parsed = _parse(qname, zone)
    if parsed is None:
        return nx
    ns, svc_name, rest = parsed
    z = normalize(zone)
    svc = services.get((ns, svc_name))
    if svc is None:
        return nx
    sl = slices.get((ns, svc_name))
    ready = [e for e in (sl.endpoints if sl is not None else ()) if e.ready]
    fqdn_base = f"{svc_name}.{ns}.svc.{z}"
    endpoint: str | None = None
    port_name = proto = ""
    if len(rest) == 1:
        endpoint = rest[0]
    elif len(rest) == 2 and rest[0].startswith("_") and rest[1].startswith("_"):
        port_name, proto = rest[0][1:], rest[1][1:].upper()
    elif rest:
        return nx
    # matchPortAndProtocol: an empty port name or protocol matches any.
    ports = [p for p in svc.spec.ports
             if (not port_name or p.name == port_name) and (not proto or p.protocol.upper() == proto)]
    if (port_name or proto) and not ports:
        return nx

    def label(e: Any) -> str:
        return str(e.hostname or e.address.replace(".", "-"))

    if svc.spec.headless or endpoint is not None:
        # Endpoint lookups: headless Services, and <endpoint>.<service> for any Service.
        hits = [e for e in ready if endpoint is None or label(e) == endpoint]
        if not hits:
            return nx
        if qtype == A:
            if port_name or proto:
                return Answer(NODATA, (), negative)
            return Answer(NOERROR, tuple(sorted({e.address for e in hits})), ttl)
        if qtype == SRV and ports:
            pairs = [(e, p) for e in sorted(hits, key=label) for p in ports]
            weight = 100 // len(pairs)
            return Answer(NOERROR, tuple(f"0 {weight} {p.port} {label(e)}.{fqdn_base}" for e, p in pairs), ttl)
        return Answer(NODATA, (), negative)
    # A ClusterIP Service by its own name: the cluster IP, SRV records pointing at the Service.
    if qtype == A and not (port_name or proto) and svc.spec.cluster_ip:
        return Answer(NOERROR, (svc.spec.cluster_ip,), ttl)
    if qtype == SRV and ports:
        weight = 100 // len(ports)
        return Answer(NOERROR, tuple(f"0 {weight} {p.port} {fqdn_base}" for p in ports), ttl)
    return Answer(NODATA, (), negative)

