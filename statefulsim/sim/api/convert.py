"""Turning plain manifest mappings (already loaded from YAML) into the frozen API objects.

Pure code, no I/O.  Every reader takes the key path of the value it reads and records problems
in a :class:`~statefulsim.problems.Problems` collector, so one pass reports everything wrong.
Rules:

* Unknown fields are ignored (real manifests must load unchanged); only the fields the
  simulator reads are type-checked.
* API defaults are applied per API version (reference: statefulset-controller §1.4,
  pods-probes-dns-volumes §1.5 and §2.1), and the validation the API server would do on the
  fields read here is reported as problems.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Mapping, Sequence

from statefulsim.limits import INT32_MAX
from statefulsim.sim.api.names import dns1123_label, object_name
from statefulsim.problems import (
    Path,
    Problems,
    get_bool,
    get_int,
    get_list,
    get_mapping,
    get_str,
    shown,
    suggest,
    type_name,
)
from statefulsim.sim.api.objects import (
    HOSTNAME_LABEL,
    ON_DELETE,
    ORDERED_READY,
    PARALLEL,
    ROLLING_UPDATE,
    ApiObject,
    Container,
    ContainerPort,
    GenericObject,
    LabelSelector,
    LabelSelectorRequirement,
    Node,
    NodeSpec,
    NodeStatus,
    ObjectMeta,
    Pod,
    PodAffinityTerm,
    PodDisruptionBudget,
    PodDisruptionBudgetSpec,
    PodSpec,
    PodTemplate,
    Probe,
    ResourceRequests,
    RetentionPolicy,
    RollingUpdateStrategy,
    Service,
    ServicePort,
    ServiceSpec,
    StatefulSet,
    StatefulSetSpec,
    Taint,
    Toleration,
    UpdateStrategy,
    Volume,
)

__all__ = [
    "STATEFULSET_API_VERSIONS",
    "default_image_pull_policy",
    "object_from_manifest",
    "parse_label_selector",
    "parse_metadata",
    "parse_node",
    "parse_pod",
    "parse_pod_disruption_budget",
    "parse_pod_spec",
    "parse_pod_template",
    "parse_quantity_cpu",
    "parse_quantity_memory",
    "parse_service",
    "parse_statefulset",
    "parse_statefulset_spec",
    "to_plain",
    "warn_unsimulated",
]

STATEFULSET_API_VERSIONS: tuple[str, ...] = ("apps/v1", "apps/v1beta1", "apps/v1beta2")
#: StatefulSet API versions no simulated release serves (all removed in Kubernetes 1.16).
REMOVED_STATEFULSET_API_VERSIONS = ("apps/v1beta1", "apps/v1beta2")
_SELECTOR_REQUIRED_VERSIONS = ("apps/v1", "apps/v1beta2")
_CORE_KINDS = {"Service": "v1", "Node": "v1", "Pod": "v1"}

_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
_PROTOCOLS = ("TCP", "UDP", "SCTP")
_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_POD_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_STRATEGY_TYPES = (ROLLING_UPDATE, ON_DELETE)
_RETENTION = ("Retain", "Delete")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_TOLERATION_OPERATORS = ("Equal", "Exists")
_UNHEALTHY_POD_EVICTION_POLICIES = ("IfHealthyBudget", "AlwaysAllow")
_PROBE_HANDLERS = ("httpGet", "tcpSocket", "exec", "grpc")
_PROBE_KINDS = ("readinessProbe", "livenessProbe", "startupProbe")


# --------------------------------------------------------------------------- small helpers


def to_plain(value: Any) -> Any:
    """Deep copy of mappings and lists (and tuples) into plain ``dict`` / ``list`` values."""
    if isinstance(value, Mapping):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


def _count(problems: Problems) -> int:
    return len(problems.items)


def _str_map(m: Mapping[str, Any], key: str, path: Path, problems: Problems) -> dict[str, str]:
    """A string-to-string mapping; non-string keys or values are problems (the API rejects them).

    Stricter than :func:`statefulsim.problems.get_str_map`, which turns numbers into strings:
    ``tier: 1`` is rejected by the API server, so it is reported here.
    """
    raw = get_mapping(m, key, path, problems)
    out: dict[str, str] = {}
    for k, v in raw.items():
        if not isinstance(k, str):
            problems.add(path + (key, str(k)), f"expected a string key, found {type_name(k)} {shown(k)}")
            continue
        if not isinstance(v, str):
            hint = " (quote the value in YAML)" if isinstance(v, (int, float)) else ""
            problems.add(path + (key, k), f"expected a string, found {type_name(v)} {shown(v)}{hint}")
            continue
        out[k] = v
    return out


def _str_list(m: Mapping[str, Any], key: str, path: Path, problems: Problems) -> tuple[str, ...]:
    """A list of strings; non-string items are problems."""
    out: list[str] = []
    for i, item in enumerate(get_list(m, key, path, problems)):
        if isinstance(item, str):
            out.append(item)
        else:
            problems.expected(path + (key, i), "a string", item)
    return tuple(out)


def _mappings(m: Mapping[str, Any], key: str, path: Path, problems: Problems, *, required: bool = False) -> list[tuple[Path, Mapping[str, Any]]]:
    """The items of a list of mappings with their paths; other items are problems."""
    out: list[tuple[Path, Mapping[str, Any]]] = []
    for i, item in enumerate(get_list(m, key, path, problems, required=required)):
        if isinstance(item, Mapping):
            out.append((path + (key, i), item))
        else:
            problems.expected(path + (key, i), "a mapping", item)
    return out


def _present(m: Mapping[str, Any], key: str) -> bool:
    return key in m and m[key] is not None


# --------------------------------------------------------------------------- quantities

_QUANTITY = re.compile(
    r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$"
)
_SUFFIX: dict[str, Fraction] = {
    "": Fraction(1),
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
    "Ki": Fraction(2**10),
    "Mi": Fraction(2**20),
    "Gi": Fraction(2**30),
    "Ti": Fraction(2**40),
    "Pi": Fraction(2**50),
    "Ei": Fraction(2**60),
}


def _quantity(value: Any, what: str) -> Fraction:
    """The exact value of a Kubernetes quantity (a number or a string such as ``1.5Gi``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected {what}, found {type_name(value)} {shown(value)}")
    if isinstance(value, int):
        result = Fraction(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"expected {what}, found {shown(value)}")
        result = Fraction(Decimal(repr(value)))
    else:
        m = _QUANTITY.match(value.strip())
        if m is None:
            hint = ""
            if value.strip()[-1:] in ("B", "b"):
                hint = ' (Kubernetes quantities have no "B": write 1G or 1Gi)'
            raise ValueError(f"expected {what}, found {shown(value)}{hint}")
        try:
            number = Fraction(Decimal(m.group(1)))
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only decimals
            raise ValueError(f"expected {what}, found {shown(value)}") from exc
        if m.group(2):
            result = _scaled(number, m.group(1), m.group(2)[1:])
        else:
            result = number * _SUFFIX[m.group(3) or ""]
    if result < 0:
        raise ValueError(f"expected a non-negative quantity, found {shown(value)}")
    if result > _QUANTITY_MAX:
        raise ValueError(f"expected {what}, at most 2^63-1 (the largest quantity Kubernetes represents), "
                         f"found {shown(value)}")
    return result


#: No quantity may exceed 2^63-1 in its base unit (apimachinery's resource.Quantity).
_QUANTITY_MAX = Fraction(2**63 - 1)
#: The API rounds a non-zero quantity up to at least 1n.
_NANO = Fraction(1, 10**9)


def _scaled(number: Fraction, mantissa: str, exponent_text: str) -> Fraction:
    """``mantissa`` × 10^exponent without computing powers that could never fit (``1e99999999``)."""
    if number == 0:
        return number
    digits = exponent_text.lstrip("+-")
    negative = exponent_text.startswith("-")
    exponent = int(exponent_text) if len(digits) <= 6 else (-(10**7) if negative else 10**7)
    magnitude = Decimal(mantissa).adjusted() + exponent
    if magnitude > 20:
        return _QUANTITY_MAX + 1 if number > 0 else -_QUANTITY_MAX - 1
    if magnitude < -12:
        return _NANO if number > 0 else -_NANO
    return number * Fraction(10) ** exponent


def parse_quantity_cpu(value: Any) -> int:
    """CPU millicores for ``500m``, ``0.5``, ``"2"`` or ``2`` (rounded up, as the API does)."""
    return math.ceil(_quantity(value, "a CPU quantity such as 500m, 0.5 or 2") * 1000)


def parse_quantity_memory(value: Any) -> int:
    """Bytes for ``128Mi``, ``1Gi``, ``1G``, ``512M``, ``100Ki``, ``1e3`` or a plain integer (rounded up)."""
    return math.ceil(_quantity(value, "a memory quantity such as 128Mi, 1Gi or 512M"))


def _parse_pod_count(value: Any) -> int:
    """A whole number of pods (``110`` or ``"110"``)."""
    amount = _quantity(value, "a number of pods such as 110")
    if amount.denominator != 1:
        raise ValueError(f"expected a whole number of pods, found {shown(value)}")
    return int(amount)


# --------------------------------------------------------------------------- metadata, selectors


def parse_metadata(doc: Mapping[str, Any], path: Path, problems: Problems) -> ObjectMeta:
    """``metadata``: name (required), namespace (default "default"), labels, annotations."""
    meta = get_mapping(doc, "metadata", path, problems, required=True)
    mpath = path + ("metadata",)
    if "metadata" in doc and isinstance(doc["metadata"], Mapping):
        name = get_str(meta, "name", mpath, problems, required=True)
    else:
        name = ""
    invalid = object_name(str(doc.get("kind")), name) if name else None
    if invalid:
        problems.add(mpath + ("name",), invalid)
    namespace = get_str(meta, "namespace", mpath, problems, "default") or "default"
    invalid = dns1123_label(namespace)
    if invalid:
        problems.add(mpath + ("namespace",), invalid)
    labels = _str_map(meta, "labels", mpath, problems)
    annotations = _str_map(meta, "annotations", mpath, problems)
    return ObjectMeta(name=name, namespace=namespace, labels=labels, annotations=annotations)


def parse_label_selector(m: Mapping[str, Any], path: Path, problems: Problems) -> LabelSelector:
    """A ``LabelSelector`` mapping (matchLabels, matchExpressions) at ``path``."""
    match_labels = _str_map(m, "matchLabels", path, problems)
    reqs: list[LabelSelectorRequirement] = []
    for epath, expr in _mappings(m, "matchExpressions", path, problems):
        before = _count(problems)
        key = get_str(expr, "key", epath, problems, required=True)
        operator = get_str(expr, "operator", epath, problems, required=True, choices=_OPERATORS)
        values = _str_list(expr, "values", epath, problems)
        if operator in ("In", "NotIn") and not values:
            problems.add(epath + ("values",), f"must be a non-empty list when operator is {operator}")
        if operator in ("Exists", "DoesNotExist") and values:
            problems.add(epath + ("values",), f"must be empty when operator is {operator}")
        if _count(problems) == before:
            reqs.append(LabelSelectorRequirement(key, operator, values))
    return LabelSelector(match_labels=match_labels, match_expressions=tuple(reqs))


def _selector_text(selector: LabelSelector) -> str:
    parts = [f"{k}={v}" for k, v in selector.match_labels.items()]
    for r in selector.match_expressions:
        parts.append(f"{r.key} {r.operator} ({', '.join(r.values)})" if r.values else f"{r.key} {r.operator}")
    return ", ".join(parts) or "(empty)"


# --------------------------------------------------------------------------- containers


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
                problems.warn(qpath, f"{raw!r} means {raw.strip()[:-1]} thousandths of a byte; did you mean {raw.strip()[:-1]}Mi?")
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


# --------------------------------------------------------------------------- pods


def _parse_anti_affinity(spec: Mapping[str, Any], path: Path, problems: Problems) -> tuple[PodAffinityTerm, ...]:
    """affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution.

    A term without ``labelSelector`` matches no pods, so it can never block scheduling: it is
    dropped.  ``preferredDuringScheduling...`` terms are ignored.
    """
    affinity = get_mapping(spec, "affinity", path, problems)
    apath = path + ("affinity",)
    anti = get_mapping(affinity, "podAntiAffinity", apath, problems)
    key = "requiredDuringSchedulingIgnoredDuringExecution"
    terms: list[PodAffinityTerm] = []
    for tpath, t in _mappings(anti, key, apath + ("podAntiAffinity",), problems):
        topology_key = get_str(t, "topologyKey", tpath, problems, required=True)
        if _present(t, "topologyKey") and isinstance(t["topologyKey"], str) and not topology_key:
            problems.add(tpath + ("topologyKey",), "must not be empty")
        namespaces = _str_list(t, "namespaces", tpath, problems)
        if not _present(t, "labelSelector"):
            continue
        sel = get_mapping(t, "labelSelector", tpath, problems)
        selector = parse_label_selector(sel, tpath + ("labelSelector",), problems)
        terms.append(PodAffinityTerm(selector, topology_key, namespaces))
    return tuple(terms)


def _parse_tolerations(spec: Mapping[str, Any], path: Path, problems: Problems) -> tuple[Toleration, ...]:
    """spec.tolerations, with the API server's ``ValidateTolerations`` rules."""
    out: list[Toleration] = []
    for tpath, t in _mappings(spec, "tolerations", path, problems):
        before = _count(problems)
        key = get_str(t, "key", tpath, problems)
        operator = get_str(t, "operator", tpath, problems, "Equal", choices=_TOLERATION_OPERATORS) or "Equal"
        value = get_str(t, "value", tpath, problems)
        effect = get_str(t, "effect", tpath, problems, choices=_TAINT_EFFECTS)
        seconds: float | None = None
        if _present(t, "tolerationSeconds"):
            seconds = float(get_int(t, "tolerationSeconds", tpath, problems, 0))
            if effect != "NoExecute":
                problems.add(tpath + ("effect",), "effect must be 'NoExecute' when `tolerationSeconds` is set")
        if not key and operator != "Exists":
            problems.add(tpath + ("operator",),
                         'operator must be Exists when `key` is empty, which means "match all values and all keys"')
        if operator == "Exists" and value:
            problems.add(tpath + ("operator",), "value must be empty when `operator` is 'Exists'")
        if _count(problems) == before:
            out.append(Toleration(key=key, operator=operator, value=value, effect=effect, toleration_seconds=seconds))
    return tuple(out)


def parse_pod_spec(spec: Mapping[str, Any], path: Path, problems: Problems) -> PodSpec:
    """A pod ``spec`` mapping at ``path``; always returns a (best-effort) PodSpec."""
    containers = tuple(
        _parse_container(c, cpath, problems, init=False)
        for cpath, c in _mappings(spec, "containers", path, problems, required=True)
    )
    if _present(spec, "containers") and isinstance(spec["containers"], list) and not spec["containers"]:
        problems.add(path + ("containers",), "must contain at least one container")
    init_containers = tuple(
        _parse_container(c, cpath, problems, init=True)
        for cpath, c in _mappings(spec, "initContainers", path, problems)
    )
    seen: set[str] = set()
    for key, group in (("initContainers", init_containers), ("containers", containers)):
        for i, c in enumerate(group):
            if c.name and c.name in seen:
                problems.add(path + (key, i, "name"), f"duplicate container name {c.name!r}")
            seen.add(c.name)
    grace = get_int(spec, "terminationGracePeriodSeconds", path, problems, 30, minimum=0)
    restart = get_str(spec, "restartPolicy", path, problems, "Always", choices=_POD_RESTART_POLICIES)
    volumes: list[Volume] = []
    volume_names: set[str] = set()
    for vpath, v in _mappings(spec, "volumes", path, problems):
        vname = get_str(v, "name", vpath, problems, required=True)
        if vname and vname in volume_names:
            problems.add(vpath + ("name",), f"duplicate volume name {vname!r}")
        volume_names.add(vname)
        claim: str | None = None
        if _present(v, "persistentVolumeClaim"):
            pvc = get_mapping(v, "persistentVolumeClaim", vpath, problems)
            if isinstance(v["persistentVolumeClaim"], Mapping):
                claim = get_str(pvc, "claimName", vpath + ("persistentVolumeClaim",), problems, required=True) or None
        volumes.append(Volume(vname, claim))
    tolerations = _parse_tolerations(spec, path, problems)
    gates: list[str] = []
    for gpath, g in _mappings(spec, "readinessGates", path, problems):
        condition = get_str(g, "conditionType", gpath, problems, required=True)
        if condition:
            gates.append(condition)
    return PodSpec(
        containers=containers,
        init_containers=init_containers,
        termination_grace_period_seconds=float(grace),
        restart_policy=restart,
        hostname=get_str(spec, "hostname", path, problems),
        subdomain=get_str(spec, "subdomain", path, problems),
        node_name=get_str(spec, "nodeName", path, problems),
        node_selector=_str_map(spec, "nodeSelector", path, problems),
        required_anti_affinity=_parse_anti_affinity(spec, path, problems),
        volumes=tuple(volumes),
        readiness_gates=tuple(gates),
        tolerations=tolerations,
    )


def parse_pod_template(tmpl: Mapping[str, Any], path: Path, problems: Problems) -> PodTemplate:
    """A pod ``template`` mapping (metadata labels/annotations and spec) at ``path``."""
    meta = get_mapping(tmpl, "metadata", path, problems)
    labels = _str_map(meta, "labels", path + ("metadata",), problems)
    annotations = _str_map(meta, "annotations", path + ("metadata",), problems)
    spec = get_mapping(tmpl, "spec", path, problems, required=True)
    return PodTemplate(labels=labels, annotations=annotations, spec=parse_pod_spec(spec, path + ("spec",), problems))


def parse_pod(doc: Mapping[str, Any], path: Path, problems: Problems) -> Pod:
    """A bare ``Pod`` manifest (status is ignored: the simulation starts it from scratch)."""
    meta = parse_metadata(doc, path, problems)
    spec = get_mapping(doc, "spec", path, problems, required=True)
    return Pod(metadata=meta, spec=parse_pod_spec(spec, path + ("spec",), problems))


# --------------------------------------------------------------------------- statefulsets


def _parse_update_strategy(spec: Mapping[str, Any], api_version: str, path: Path, problems: Problems) -> UpdateStrategy:
    """updateStrategy with the per-version defaults and the §1.4 ``rollingUpdate`` quirk."""
    us = get_mapping(spec, "updateStrategy", path, problems)
    upath = path + ("updateStrategy",)
    version_default = ON_DELETE if api_version == "apps/v1beta1" else ROLLING_UPDATE
    defaulted = not _present(us, "type")
    before = _count(problems)
    if defaulted:
        type_ = version_default
    elif us["type"] == "Recreate":
        problems.add(
            upath + ("type",),
            f"expected one of {', '.join(_STRATEGY_TYPES)}, found 'Recreate' "
            "(Recreate is alpha in Kubernetes 1.37 and not simulated)",
        )
        type_ = version_default
    else:
        type_ = get_str(us, "type", upath, problems, version_default, choices=_STRATEGY_TYPES)
    type_ok = _count(problems) == before

    rolling: RollingUpdateStrategy | None = None
    if _present(us, "rollingUpdate"):
        ru = get_mapping(us, "rollingUpdate", upath, problems)
        rpath = upath + ("rollingUpdate",)
        partition = get_int(ru, "partition", rpath, problems, 0, minimum=0, maximum=INT32_MAX)
        max_unavailable = _parse_max_unavailable(ru, rpath, problems)
        rolling = RollingUpdateStrategy(partition=partition, max_unavailable=max_unavailable)
        if type_ != ROLLING_UPDATE:
            if type_ok:
                problems.add(rpath, f"only allowed for updateStrategy type {ROLLING_UPDATE}, found {type_}")
            rolling = None
    elif defaulted and type_ == ROLLING_UPDATE:
        rolling = RollingUpdateStrategy(partition=0)
    return UpdateStrategy(type=type_, rolling_update=rolling)


_PERCENT = re.compile(r"^[0-9]{1,10}%$")


def _parse_max_unavailable(ru: Mapping[str, Any], path: Path, problems: Problems) -> int | str | None:
    """rollingUpdate.maxUnavailable: an int >= 1 or a percentage "1%".."100%"; None when absent."""
    if not _present(ru, "maxUnavailable"):
        return None
    value = ru["maxUnavailable"]
    vpath = path + ("maxUnavailable",)
    if isinstance(value, str):
        if not _PERCENT.match(value):
            problems.add(vpath, f"expected an integer or a percentage such as '25%', found {shown(value)}")
            return None
        percent = int(value[:-1])
        if not 1 <= percent <= 100:
            problems.add(vpath, f"expected a percentage between 1% and 100%, found {value!r}")
            return None
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        problems.expected(vpath, "an integer or a percentage string such as '25%'", value)
        return None
    if value < 1:
        problems.add(vpath, f"expected an integer >= 1, found {value}")
        return None
    if value > INT32_MAX:
        problems.add(vpath, f"expected an integer <= {INT32_MAX} (an int32, as the API server stores it), "
                            f"found {shown(value)}")
        return None
    return value


def parse_statefulset_spec(
    spec: Mapping[str, Any],
    api_version: str,
    path: Path,
    problems: Problems,
    *,
    metadata_labels: Mapping[str, str],
    known_policies: Sequence[str] = (ORDERED_READY, PARALLEL),
) -> StatefulSetSpec | None:
    """A StatefulSet ``spec`` at ``path`` with the defaults and validation of ``api_version``.

    Used at load time and again after a merge patch.  Returns None when any problem was found
    in this spec.  ``metadata_labels`` are the set's own labels; they do not influence the spec
    today and are accepted so callers need not change if a default comes to depend on them.
    """
    if api_version not in STATEFULSET_API_VERSIONS:
        raise ValueError(f"unsupported StatefulSet apiVersion {api_version!r}")
    del metadata_labels  # see the docstring
    before = _count(problems)

    replicas = get_int(spec, "replicas", path, problems, 1, minimum=0, maximum=INT32_MAX)
    policy = get_str(spec, "podManagementPolicy", path, problems, ORDERED_READY, choices=tuple(known_policies),
                     plugin="policy")
    history = get_int(spec, "revisionHistoryLimit", path, problems, 10, minimum=0, maximum=INT32_MAX)
    min_ready = get_int(spec, "minReadySeconds", path, problems, 0, minimum=0)
    service_name = get_str(spec, "serviceName", path, problems)
    update_strategy = _parse_update_strategy(spec, api_version, path, problems)

    ordinals_start: int | None = None
    if _present(spec, "ordinals"):
        ordinals = get_mapping(spec, "ordinals", path, problems)
        ordinals_start = get_int(ordinals, "start", path + ("ordinals",), problems, 0, minimum=0, maximum=INT32_MAX)

    claim_templates: list[Mapping[str, Any]] = []
    for cpath, ct in _mappings(spec, "volumeClaimTemplates", path, problems):
        ct_meta = get_mapping(ct, "metadata", cpath, problems, required=True)
        if isinstance(ct.get("metadata"), Mapping):
            get_str(ct_meta, "name", cpath + ("metadata",), problems, required=True)
        claim_templates.append(to_plain(ct))

    retention = RetentionPolicy()
    if _present(spec, "persistentVolumeClaimRetentionPolicy"):
        rp = get_mapping(spec, "persistentVolumeClaimRetentionPolicy", path, problems)
        rpath = path + ("persistentVolumeClaimRetentionPolicy",)
        retention = RetentionPolicy(
            when_deleted=get_str(rp, "whenDeleted", rpath, problems, "Retain", choices=_RETENTION),
            when_scaled=get_str(rp, "whenScaled", rpath, problems, "Retain", choices=_RETENTION),
        )

    tmpl = get_mapping(spec, "template", path, problems, required=True)
    tpath = path + ("template",)
    template = parse_pod_template(tmpl, tpath, problems)
    tspec = tmpl.get("spec")
    if isinstance(tspec, Mapping) and isinstance(tspec.get("restartPolicy"), str) and tspec["restartPolicy"] != "Always":
        if tspec["restartPolicy"] in _POD_RESTART_POLICIES:
            problems.add(
                tpath + ("spec", "restartPolicy"),
                f"expected 'Always' (the only restartPolicy a StatefulSet supports), found {tspec['restartPolicy']!r}",
            )

    selector = _parse_set_selector(spec, api_version, path, problems, template)
    if _count(problems) != before or selector is None:
        return None
    return StatefulSetSpec(
        replicas=replicas,
        selector=selector,
        service_name=service_name,
        template=template,
        template_raw=to_plain(tmpl),
        pod_management_policy=policy,
        update_strategy=update_strategy,
        revision_history_limit=history,
        min_ready_seconds=float(min_ready),
        ordinals_start=ordinals_start,
        volume_claim_templates=tuple(claim_templates),
        retention_policy=retention,
    )


def _parse_set_selector(
    spec: Mapping[str, Any], api_version: str, path: Path, problems: Problems, template: PodTemplate
) -> LabelSelector | None:
    """spec.selector: required in apps/v1 and v1beta2, defaulted from the template in v1beta1."""
    spath = path + ("selector",)
    if not _present(spec, "selector"):
        if api_version in _SELECTOR_REQUIRED_VERSIONS:
            problems.add(spath, f"required key is missing (required for {api_version}; write matchLabels equal to the template labels)")
            return None
        if not template.labels:
            problems.add(spath, f"required key is missing ({api_version} defaults it from the template labels, which are empty)")
            return None
        return LabelSelector(match_labels=dict(template.labels))
    if not isinstance(spec["selector"], Mapping):
        problems.expected(spath, "a mapping", spec["selector"])
        return None
    before = _count(problems)
    selector = parse_label_selector(spec["selector"], spath, problems)
    if _count(problems) != before:
        return None
    if selector.is_empty():
        problems.add(spath, "empty selector is invalid for a StatefulSet")
        return None
    if not selector.matches(template.labels):
        problems.add(
            path + ("template", "metadata", "labels"),
            f"selector does not match template labels (selector: {_selector_text(selector)})",
        )
        return None
    return selector


def parse_statefulset(doc: Mapping[str, Any], api_version: str, path: Path, problems: Problems, *, known_policies: Sequence[str] = (ORDERED_READY, PARALLEL)) -> StatefulSet | None:
    """A StatefulSet manifest; apps/v1beta1 also copies template labels to empty metadata labels."""
    before = _count(problems)
    meta = parse_metadata(doc, path, problems)
    spec_m = get_mapping(doc, "spec", path, problems, required=True)
    if not isinstance(doc.get("spec"), Mapping):
        return None
    spec = parse_statefulset_spec(
        spec_m, api_version, path + ("spec",), problems, metadata_labels=meta.labels, known_policies=known_policies
    )
    if spec is None or _count(problems) != before:
        return None
    if api_version == "apps/v1beta1" and not meta.labels and spec.template.labels:
        meta = ObjectMeta(
            name=meta.name, namespace=meta.namespace, labels=dict(spec.template.labels), annotations=meta.annotations
        )
    return StatefulSet(metadata=meta, spec=spec, spec_raw=to_plain(spec_m), api_version=api_version)


# --------------------------------------------------------------------------- services, nodes


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


# --------------------------------------------------------------------------- policy


def _parse_budget_value(spec: Mapping[str, Any], key: str, path: Path, problems: Problems) -> int | str | None:
    """minAvailable / maxUnavailable: ``ValidatePositiveIntOrPercent`` and ``IsNotMoreThan100Percent``."""
    if not _present(spec, key):
        return None
    value = spec[key]
    vpath = path + (key,)
    if isinstance(value, str):
        if not _PERCENT.match(value):
            problems.add(vpath, f"must be an integer or percentage (e.g '5%'), found {shown(value)}")
            return None
        if int(value[:-1]) > 100:
            problems.add(vpath, f"must not be greater than 100%, found {value!r}")
            return None
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        problems.expected(vpath, "an integer or a percentage string such as '50%'", value)
        return None
    if value < 0:
        problems.add(vpath, f"must be greater than or equal to 0, found {value}")
        return None
    return value


def parse_pod_disruption_budget(doc: Mapping[str, Any], path: Path, problems: Problems) -> PodDisruptionBudget:
    """A policy/v1 ``PodDisruptionBudget`` with the API server's validation.

    ``selector`` absent matches no pods; ``selector: {}`` matches every pod of the namespace
    (policy/v1 semantics).  policy/v1 has no defaults: with neither ``minAvailable`` nor
    ``maxUnavailable`` the budget expects no pods and allows no disruption.
    """
    meta = parse_metadata(doc, path, problems)
    spec = get_mapping(doc, "spec", path, problems)
    spath = path + ("spec",)
    selector: LabelSelector | None = None
    if _present(spec, "selector"):
        if isinstance(spec["selector"], Mapping):
            selector = parse_label_selector(spec["selector"], spath + ("selector",), problems)
        else:
            problems.expected(spath + ("selector",), "a mapping", spec["selector"])
    min_available = _parse_budget_value(spec, "minAvailable", spath, problems)
    max_unavailable = _parse_budget_value(spec, "maxUnavailable", spath, problems)
    if _present(spec, "minAvailable") and _present(spec, "maxUnavailable"):
        problems.add(spath, "minAvailable and maxUnavailable cannot be both set")
    policy = get_str(spec, "unhealthyPodEvictionPolicy", spath, problems, choices=_UNHEALTHY_POD_EVICTION_POLICIES)
    return PodDisruptionBudget(
        metadata=meta,
        spec=PodDisruptionBudgetSpec(selector=selector, min_available=min_available, max_unavailable=max_unavailable,
                                     unhealthy_pod_eviction_policy=policy or None),
    )


# --------------------------------------------------------------------------- dispatch


def _dig(m: Any, *keys: str) -> Any:
    """m[k1][k2]... or None when any level is missing or not a mapping."""
    for key in keys:
        if not isinstance(m, Mapping):
            return None
        m = m.get(key)
    return m


_UNSIMULATED_POD_FIELDS: tuple[tuple[str, ...], ...] = (
    ("topologySpreadConstraints",),
    ("affinity", "nodeAffinity"),
    ("affinity", "podAffinity"),
    ("priorityClassName",),
)


def warn_unsimulated(doc: Mapping[str, Any], path: Path, problems: Problems) -> None:
    """Warn about set fields that matter in a real cluster but are not simulated yet."""
    kind = doc.get("kind")
    if kind == "StatefulSet":
        pod_path: tuple[str, ...] = ("spec", "template", "spec")
    elif kind == "Pod":
        pod_path = ("spec",)
    else:
        return
    pod_spec = _dig(doc, *pod_path)
    if not isinstance(pod_spec, Mapping):
        return
    for field_path in _UNSIMULATED_POD_FIELDS:
        value = _dig(pod_spec, *field_path)
        if value is None or value == [] or value == {} or value == "":
            continue
        problems.warn(path + pod_path + field_path, "is not simulated yet and is ignored")


_PLAIN_SCALAR = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")
_YAML_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n"})


def _flow_scalar(value: str) -> str:
    """``value`` as a YAML flow scalar: bare when that reads back as the same string."""
    if _PLAIN_SCALAR.fullmatch(value) and value.lower() not in _YAML_WORDS:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def removed_api_warning(sts: StatefulSet, spec: Mapping[str, Any], kubernetes_version: str) -> str:
    """What to say about a StatefulSet written for an API version no simulated release serves:
    what the API server answers, and the change to ``apps/v1`` (the selector, and for
    ``apps/v1beta1`` the OnDelete strategy, when the old defaults supplied them)."""
    old = sts.api_version
    adds = []
    if not _present(spec, "selector"):
        labels = ", ".join(f"{_flow_scalar(k)}: {_flow_scalar(v)}" for k, v in sts.spec.selector.match_labels.items())
        adds.append(f"spec.selector: {{matchLabels: {{{labels}}}}} ({old} defaulted it from the template labels)")
    strategy = spec.get("updateStrategy")
    if old == "apps/v1beta1" and not (isinstance(strategy, Mapping) and _present(strategy, "type")):
        adds.append("spec.updateStrategy: {type: OnDelete} (apps/v1beta1's default; apps/v1's is RollingUpdate)")
    change = "apiVersion: apps/v1" + (", and add " + " and ".join(adds) if adds else "")
    return (f"Kubernetes {kubernetes_version} does not serve {old} (removed in 1.16); its API server answers: "
            f'no matches for kind "StatefulSet" in version "{old}". Loaded with the {old} defaults; '
            f"for a real cluster write {change}")


def object_from_manifest(
    doc: Mapping[str, Any],
    path: tuple[str | int, ...],
    problems: Problems,
    *,
    known_policies: Sequence[str] = (ORDERED_READY, PARALLEL),
    kubernetes_version: str | None = None,
) -> ApiObject | None:
    """The API object for one manifest document, dispatched on ``apiVersion`` and ``kind``.

    StatefulSet (apps/v1, v1beta1, v1beta2), Service, Node and Pod (v1) and PodDisruptionBudget
    (policy/v1) are modelled; any other
    kind becomes a :class:`GenericObject` for the caller to judge.  Returns None after
    recording problems.  Given the simulated ``kubernetes_version``, a StatefulSet in a removed
    API version gets a warning on its ``apiVersion`` (:func:`removed_api_warning`).
    """
    if not isinstance(doc, Mapping):
        problems.expected(path, "a mapping (a Kubernetes object)", doc)
        return None
    before = _count(problems)
    kind = get_str(doc, "kind", path, problems, required=True)
    api_version = get_str(doc, "apiVersion", path, problems, required=True)
    if _count(problems) != before:
        parse_metadata(doc, path, problems)  # report metadata problems in the same pass
        return None

    result: ApiObject | None
    if kind == "StatefulSet":
        if api_version not in STATEFULSET_API_VERSIONS:
            problems.add(
                path + ("apiVersion",),
                f"expected one of {', '.join(STATEFULSET_API_VERSIONS)} for a StatefulSet, "
                f"found {api_version!r}{suggest(api_version, STATEFULSET_API_VERSIONS)}",
            )
            parse_metadata(doc, path, problems)
            return None
        warn_unsimulated(doc, path, problems)
        result = parse_statefulset(doc, api_version, path, problems, known_policies=known_policies)
        if result is not None and kubernetes_version is not None and api_version in REMOVED_STATEFULSET_API_VERSIONS:
            problems.warn(path + ("apiVersion",), removed_api_warning(result, doc["spec"], kubernetes_version))
    elif kind in _CORE_KINDS:
        if api_version != _CORE_KINDS[kind]:
            problems.add(path + ("apiVersion",), f"expected 'v1' for a {kind}, found {api_version!r}")
            parse_metadata(doc, path, problems)
            return None
        if kind == "Service":
            result = parse_service(doc, path, problems)
        elif kind == "Node":
            result = parse_node(doc, path, problems)
        else:
            warn_unsimulated(doc, path, problems)
            result = parse_pod(doc, path, problems)
    elif kind == "PodDisruptionBudget":
        if api_version != "policy/v1":
            served = " (policy/v1beta1 is not served since Kubernetes 1.25)" if api_version == "policy/v1beta1" else ""
            problems.add(path + ("apiVersion",), f"expected 'policy/v1' for a PodDisruptionBudget, found {api_version!r}{served}")
            parse_metadata(doc, path, problems)
            return None
        result = parse_pod_disruption_budget(doc, path, problems)
    elif kind in STORAGE_KINDS:
        if api_version != STORAGE_KINDS[kind]:
            problems.add(path + ("apiVersion",), f"expected {STORAGE_KINDS[kind]!r} for a {kind}, found {api_version!r}")
            parse_metadata(doc, path, problems)
            return None
        result = parse_storage_object(kind, doc, parse_metadata(doc, path, problems), path, problems)
    else:
        result = GenericObject(
            metadata=parse_metadata(doc, path, problems), kind=kind, api_version=api_version, raw=to_plain(doc)
        )
    return result if _count(problems) == before else None


from statefulsim.sim.api.convert_storage import STORAGE_KINDS, parse_storage_object  # noqa: E402  (uses this module)
