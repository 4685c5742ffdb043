"""Object names as the API server validates them (apimachinery's validation/names).

* most kinds (StatefulSet, Pod, Node, PersistentVolumeClaim, ConfigMap, ...): a DNS-1123
  subdomain: at most 253 characters, lower-case letters, digits, ``-`` and ``.``, starting and
  ending with a letter or digit (``NameIsDNSSubdomain``; upstream's ``ValidateStatefulSetName``
  is exactly that);
* Service: a DNS-1035 label: at most 63 characters, lower-case letters, digits and ``-``,
  starting with a letter (``ValidateServiceName``);
* namespaces and container names: a DNS-1123 label (at most 63, no dots);
* kinds the simulator does not model: a path segment (not ``.`` or ``..``, no ``/`` or ``%``, as
  ``ValidatePathSegmentName``; RBAC names such as ``system:aggregate-to-admin`` are valid) without
  control characters.

Pure functions: each returns None for a valid name, else the problem's message.
"""

from __future__ import annotations

import re

from statefulsim.problems import shown

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL = re.compile(_LABEL)
_DNS1123_SUBDOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")

#: Kinds whose names are validated as a DNS-1123 subdomain.
SUBDOMAIN_KINDS = ("StatefulSet", "Pod", "Node", "PersistentVolumeClaim", "PersistentVolume", "StorageClass",
                   "PodDisruptionBudget", "ConfigMap", "Secret", "ServiceAccount", "Deployment", "ReplicaSet",
                   "DaemonSet", "Job", "CronJob", "ControllerRevision", "Endpoints", "EndpointSlice", "Event",
                   "LimitRange", "ResourceQuota", "PriorityClass", "Lease")


def _invalid(name: str, pattern: re.Pattern[str], limit: int, rule: str) -> str | None:
    if len(name) <= limit and pattern.fullmatch(name):
        return None
    return f"invalid name {shown(name)}: {rule}"


def dns1123_label(name: str) -> str | None:
    """The problem with ``name`` as a DNS-1123 label (namespaces, container names), or None."""
    return _invalid(name, _DNS1123_LABEL, 63, "a DNS-1123 label has at most 63 characters: lower-case letters, "
                                              "digits and '-', starting and ending with a letter or digit (e.g. 'web-0')")


def dns1123_subdomain(name: str) -> str | None:
    """The problem with ``name`` as a DNS-1123 subdomain, or None."""
    return _invalid(name, _DNS1123_SUBDOMAIN, 253, "a DNS-1123 subdomain has at most 253 characters: lower-case "
                                                   "letters, digits, '-' and '.', starting and ending with a letter "
                                                   "or digit (e.g. 'mysql' or 'web.example')")


def dns1035_label(name: str) -> str | None:
    """The problem with ``name`` as a DNS-1035 label (Service names), or None."""
    return _invalid(name, _DNS1035_LABEL, 63, "a Service name is a DNS-1035 label: at most 63 characters, "
                                              "lower-case letters, digits and '-', starting with a letter and ending "
                                              "with a letter or digit (e.g. 'mysql')")


def path_segment(name: str) -> str | None:
    """The problem with ``name`` as the name of a kind the simulator does not model, or None."""
    if name in (".", "..") or "/" in name or "%" in name:
        return f"invalid name {shown(name)}: a name cannot be '.' or '..' nor contain '/' or '%'"
    if _CONTROL.search(name):
        return f"invalid name {shown(name)}: a name cannot contain control characters"
    return None


def object_name(kind: str, name: str) -> str | None:
    """The problem with ``name`` as the ``metadata.name`` of a ``kind``, or None."""
    if kind == "Service":
        return dns1035_label(name)
    if kind == "Namespace":
        return dns1123_label(name)
    if kind in SUBDOMAIN_KINDS:
        return dns1123_subdomain(name)
    return path_segment(name)


__all__ = ["SUBDOMAIN_KINDS", "dns1035_label", "dns1123_label", "dns1123_subdomain", "object_name", "path_segment"]
