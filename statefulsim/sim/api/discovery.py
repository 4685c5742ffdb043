"""EndpointSlice objects (``discovery.k8s.io/v1``), as the EndpointSlice controller writes them."""

from __future__ import annotations

from dataclasses import dataclass

from statefulsim.sim.api.objects import ObjectMeta, ServicePort


@dataclass(frozen=True)
class Endpoint:
    """One pod's endpoint with its conditions (reference pods §3.2)."""

    address: str
    pod: str
    ready: bool
    serving: bool
    terminating: bool
    hostname: str = ""
    node_name: str = ""


@dataclass(frozen=True)
class EndpointSlice:
    """All endpoints of one Service (the simulator keeps one slice per Service; real clusters
    split at 100 endpoints per slice, which changes nothing DNS answers)."""

    metadata: ObjectMeta
    service: str
    endpoints: tuple[Endpoint, ...]
    ports: tuple[ServicePort, ...] = ()
    kind: str = "EndpointSlice"

    @property
    def name(self) -> str:
        return self.metadata.name
