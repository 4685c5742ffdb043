"""Manifest conversion: services, nodes (part of :mod:`statefulsim.sim.api.convert`)."""

from __future__ import annotations

from typing import Any, Mapping

from statefulsim.problems import Path, Problems, get_bool, get_int, get_mapping, get_str
from statefulsim.sim.api.convert._helpers import _PROTOCOLS, _TAINT_EFFECTS, _mappings, _present, _str_map
from statefulsim.sim.api.convert.metadata import parse_metadata
from statefulsim.sim.api.convert.quantities import _parse_pod_count, parse_quantity_cpu, parse_quantity_memory
from statefulsim.sim.api.objects import (
    HOSTNAME_LABEL,
    Node,
    NodeSpec,
    NodeStatus,
    ObjectMeta,
    ResourceRequests,
    Service,
    ServicePort,
    ServiceSpec,
    Taint,
)


def parse_service(doc: Mapping[str, Any], path: Path, problems: Problems) -> Service:
    """A core/v1 ``Service``: selector (None when absent), clusterIP, ports, publishNotReadyAddresses."""
    meta = parse_metadata(doc, path, problems)
    spec = get_mapping(doc, "spec", path, problems)
    spath = path + ("spec",)
    selector: dict[str, str] | None = _str_map(spec, "selector", spath, problems) if _present(spec, "selector") else None
    ports: list[ServicePort] = []
    port_entries = _mappings(spec, "ports", spath, problems)
    for ppath, p in port_entries:
        number = get_int(p, "port", ppath, problems, 0, minimum=1, required=True)
        if number > 65535:
            problems.add(ppath + ("port",), f"expected a port number between 1 and 65535, found {number}")
        name = get_str(p, "name", ppath, problems)
        if len(port_entries) > 1 and not name and not (_present(p, "name") and not isinstance(p["name"], str)):
            problems.add(ppath + ("name",), "required when a Service has more than one port")
        protocol = get_str(p, "protocol", ppath, problems, "TCP", choices=_PROTOCOLS)
        target: int | str | None = None
        if _present(p, "targetPort"):
            raw = p["targetPort"]
            if isinstance(raw, str) or (isinstance(raw, int) and not isinstance(raw, bool)):
                target = raw
                if isinstance(raw, int) and not 1 <= raw <= 65535:
                    problems.add(ppath + ("targetPort",), f"expected a port number between 1 and 65535, found {raw}")
            else:
                problems.expected(ppath + ("targetPort",), "a port number or a port name", raw)
        ports.append(ServicePort(number, name, protocol, target))
    return Service(
        metadata=meta,
        spec=ServiceSpec(
            selector=selector,
            cluster_ip=get_str(spec, "clusterIP", spath, problems),
            ports=tuple(ports),
            publish_not_ready_addresses=get_bool(spec, "publishNotReadyAddresses", spath, problems),
        ),
    )


def parse_node(doc: Mapping[str, Any], path: Path, problems: Problems) -> Node:
    """A core/v1 ``Node``: labels (plus kubernetes.io/hostname), unschedulable, taints, capacity."""
    meta = parse_metadata(doc, path, problems)
    if HOSTNAME_LABEL not in meta.labels and meta.name:
        meta = ObjectMeta(
            name=meta.name,
            namespace=meta.namespace,
            labels={**meta.labels, HOSTNAME_LABEL: meta.name},
            annotations=meta.annotations,
        )
    spec = get_mapping(doc, "spec", path, problems)
    spath = path + ("spec",)
    taints: list[Taint] = []
    for tpath, t in _mappings(spec, "taints", spath, problems):
        key = get_str(t, "key", tpath, problems, required=True)
        effect = get_str(t, "effect", tpath, problems, required=True, choices=_TAINT_EFFECTS)
        taints.append(Taint(key=key, effect=effect, value=get_str(t, "value", tpath, problems)))
    node_spec = NodeSpec(unschedulable=get_bool(spec, "unschedulable", spath, problems), taints=tuple(taints))

    status = get_mapping(doc, "status", path, problems)
    stpath = path + ("status",)
    default = NodeStatus()
    found: dict[str, int] = {}
    # allocatable wins over capacity, per resource
    for section in ("capacity", "allocatable"):
        sec = get_mapping(status, section, stpath, problems)
        for name, parse in (("pods", _parse_pod_count), ("cpu", parse_quantity_cpu), ("memory", parse_quantity_memory)):
            if _present(sec, name):
                try:
                    found[name] = parse(sec[name])
                except ValueError as exc:
                    problems.add(stpath + (section, name), str(exc))
    ready = default.ready_status
    for cpath, cond in _mappings(status, "conditions", stpath, problems):
        if cond.get("type") == "Ready":
            ready = get_str(cond, "status", cpath, problems, "True", choices=("True", "False", "Unknown"))
    node_status = NodeStatus(
        ready_status=ready,
        max_pods=found.get("pods", default.max_pods),
        allocatable=ResourceRequests(
            cpu_millis=found.get("cpu", default.allocatable.cpu_millis),
            memory_bytes=found.get("memory", default.allocatable.memory_bytes),
        ),
    )
    return Node(metadata=meta, spec=node_spec, status=node_status)
