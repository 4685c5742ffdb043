"""Manifest conversion: containers (part of :mod:`statefulsim.sim.api.convert`)."""

from __future__ import annotations

from typing import Any, Mapping

from statefulsim.limits import INT32_MAX
from statefulsim.problems import Path, Problems, get_int, get_mapping, get_str
from statefulsim.sim.api.convert._helpers import (
    _PROBE_HANDLERS,
    _PROBE_KINDS,
    _PROTOCOLS,
    _PULL_POLICIES,
    _mappings,
    _present,
)
from statefulsim.sim.api.convert.quantities import parse_quantity_cpu, parse_quantity_memory
from statefulsim.sim.api.names import dns1123_label
from statefulsim.sim.api.objects import Container, ContainerPort, Probe, ResourceRequests


def default_image_pull_policy(image: str) -> str:
    """The API default for an omitted ``imagePullPolicy`` (reference pods §1.5)."""
    if "@" in image:
        return "IfNotPresent"  # pinned by digest
    last = image.rsplit("/", 1)[-1]  # a registry host's ":port" is not a tag
    if ":" not in last:
        return "Always"
    tag = last.rsplit(":", 1)[1]
    return "Always" if tag == "latest" else "IfNotPresent"


def _parse_probe(c: Mapping[str, Any], kind: str, path: Path, problems: Problems) -> Probe | None:
    """One of readinessProbe / livenessProbe / startupProbe, with API defaults and minimums."""
    if not _present(c, kind):
        return None
    m = get_mapping(c, kind, path, problems)
    if not isinstance(c[kind], Mapping):
        return None
    ppath = path + (kind,)
    initial_delay = get_int(m, "initialDelaySeconds", ppath, problems, 0, minimum=0, maximum=INT32_MAX)
    period = get_int(m, "periodSeconds", ppath, problems, 10, minimum=1, maximum=INT32_MAX)
    timeout = get_int(m, "timeoutSeconds", ppath, problems, 1, minimum=1, maximum=INT32_MAX)
    success = get_int(m, "successThreshold", ppath, problems, 1, minimum=1, maximum=INT32_MAX)
    failure = get_int(m, "failureThreshold", ppath, problems, 3, minimum=1, maximum=INT32_MAX)
    if kind != "readinessProbe" and success != 1:
        problems.add(ppath + ("successThreshold",), f"must be 1 for {kind}, found {success}")
        success = 1
    grace: float | None = None
    if _present(m, "terminationGracePeriodSeconds"):
        if kind == "readinessProbe":
            problems.add(ppath + ("terminationGracePeriodSeconds",), "must not be set for readinessProbe")
        else:
            grace = float(get_int(m, "terminationGracePeriodSeconds", ppath, problems, 30, minimum=1))
    handlers = [h for h in _PROBE_HANDLERS if _present(m, h)]
    for h in handlers:
        get_mapping(m, h, ppath, problems)
    if not handlers:
        problems.add(ppath, "must specify a handler: one of httpGet, tcpSocket, exec or grpc")
    elif len(handlers) > 1:
        problems.add(ppath, f"may not specify more than one handler, found {', '.join(handlers)}")
    return Probe(
        initial_delay_seconds=float(initial_delay),
        period_seconds=float(period),
        timeout_seconds=float(timeout),
        success_threshold=success,
        failure_threshold=failure,
        termination_grace_period_seconds=grace,
        handler=handlers[0] if handlers else "httpGet",
    )


def _parse_requests(c: Mapping[str, Any], path: Path, problems: Problems) -> ResourceRequests:
    """resources.requests cpu/memory; a missing request defaults to its limit (as the API does)."""
    res = get_mapping(c, "resources", path, problems)
    rpath = path + ("resources",)
    values: dict[str, dict[str, int]] = {"requests": {}, "limits": {}}
    for section in ("requests", "limits"):
        sec = get_mapping(res, section, rpath, problems)
        for name, parse in (("cpu", parse_quantity_cpu), ("memory", parse_quantity_memory)):
            if not _present(sec, name):
                continue
            qpath = rpath + (section, name)
            try:
                values[section][name] = parse(sec[name])
            except ValueError as exc:
                problems.add(qpath, str(exc))
                continue
            raw = sec[name]
            if name == "memory" and isinstance(raw, str) and raw.strip().endswith("m"):
                number = raw.strip()[:-1]
                problems.warn(qpath, f"{raw!r} means {number} thousandths of a byte; did you mean {number}Mi?")
    requests, limits = values["requests"], values["limits"]
    for name in ("cpu", "memory"):
        if name in requests and name in limits and requests[name] > limits[name]:
            problems.add(rpath + ("requests", name), f"must be less than or equal to the {name} limit")
    cpu = requests.get("cpu", limits.get("cpu", 0))
    memory = requests.get("memory", limits.get("memory", 0))
    return ResourceRequests(cpu_millis=cpu, memory_bytes=memory)


def _parse_container(c: Mapping[str, Any], path: Path, problems: Problems, *, init: bool) -> Container:
    """One entry of containers / initContainers."""
    name = get_str(c, "name", path, problems, required=True)
    invalid = dns1123_label(name) if name else None
    if invalid:
        problems.add(path + ("name",), invalid)
    image = get_str(c, "image", path, problems, required=True)
    if _present(c, "imagePullPolicy"):
        pull = get_str(c, "imagePullPolicy", path, problems, default_image_pull_policy(image), choices=_PULL_POLICIES)
    else:
        pull = default_image_pull_policy(image)
    ports: list[ContainerPort] = []
    for ppath, p in _mappings(c, "ports", path, problems):
        number = get_int(p, "containerPort", ppath, problems, 0, minimum=1, required=True)
        if number > 65535:
            problems.add(ppath + ("containerPort",), f"expected a port number between 1 and 65535, found {number}")
        pname = get_str(p, "name", ppath, problems)
        protocol = get_str(p, "protocol", ppath, problems, "TCP", choices=_PROTOCOLS)
        ports.append(ContainerPort(number, pname, protocol))
    restart_policy: str | None = None
    if init:
        restart_policy = get_str(c, "restartPolicy", path, problems, choices=("Always",)) or None
        if not _present(c, "restartPolicy"):
            # Plain init containers run to completion: the API forbids probes and lifecycle hooks.
            for key in _PROBE_KINDS + ("lifecycle",):
                if _present(c, key):
                    problems.add(path + (key,), "may not be set for init containers without restartPolicy: Always")
    probes = {kind: _parse_probe(c, kind, path, problems) for kind in _PROBE_KINDS}
    lifecycle = get_mapping(c, "lifecycle", path, problems)
    return Container(
        name=name,
        image=image,
        image_pull_policy=pull,
        ports=tuple(ports),
        requests=_parse_requests(c, path, problems),
        readiness_probe=probes["readinessProbe"],
        liveness_probe=probes["livenessProbe"],
        startup_probe=probes["startupProbe"],
        has_pre_stop=_present(lifecycle, "preStop"),
        restart_policy=restart_policy,
    )
