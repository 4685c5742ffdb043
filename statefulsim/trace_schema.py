"""The event catalogue of docs/trace.md as data: each event's fields and their types.

Declared once, read by the trace reader (``statefulsim.io.trace_io.read_jsonl`` validates every
record it reads) and checked against docs/trace.md by the docs test.  Pure: no I/O.

Types (a field's JSON value): ``string``, ``integer``, ``number``, ``boolean``, ``object``,
``strings`` (a list of strings), ``duration`` (a number, or ``"inf"`` as written for a duration
that never ends), ``any``; ``|null`` allows ``null``, ``a|b`` either.  Integers must fit an
int64 and numbers be finite.  Every value nests at most :data:`MAX_DEPTH` levels.

Unknown events and fields beyond the catalogue's are allowed (and not checked but for depth):
traces from newer versions and verbs registered with ``register_action`` stay readable.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from statefulsim.limits import INT64_MAX, MAX_SIMULATED_SECONDS

#: The largest ``t`` a trace may hold (simulated time ends there).
MAX_T = MAX_SIMULATED_SECONDS
#: Field values nest at most this deep (a patch, a DNS answer list).
MAX_DEPTH = 64

#: The first and last records of a trace file written by statefulsim; not part of the trace.
TRACE_START = "TraceStart"
TRACE_END = "TraceEnd"

_POD = (("pod", "string"), ("uid", "string"))
_SPEC_FACTS = (("updateStrategy", "string"), ("partition", "integer|null"),
               ("maxUnavailable", "integer|string|null"), ("ordinalsStart", "integer"),
               ("minReadySeconds", "number"), ("serviceName", "string"), ("volumeClaimTemplates", "strings"))

_ATTACHMENT = (("pv", "string"), ("pvc", "string|null"), ("node", "string"), ("attachment", "string"),
               ("seconds", "number"))

#: Event name -> its fields in file order, each (name, type).  Every one is required.
EVENTS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "PodCreated": _POD + (("ordinal", "integer"), ("statefulset", "string|null"), ("revision", "string|null")),
    "PodScheduled": _POD + (("node", "string|null"),),
    "PodRunning": _POD + (("node", "string|null"),),
    "PodReady": _POD,
    "PodNotReady": _POD,
    "PodTerminating": _POD + (("gracePeriodSeconds", "number|null"),),
    "PodFailed": _POD + (("reason", "string|null"),),
    "PodSucceeded": _POD,
    "PodDeleted": _POD,
    "PodStatus": _POD + (("ready", "string"), ("status", "string"), ("restarts", "integer")),
    "ContainerRestarted": _POD + (("container", "string|null"), ("restartCount", "integer")),
    "StatefulSetCreated": (("statefulset", "string"), ("replicas", "integer"), ("podManagementPolicy", "string")),
    "StatefulSetUpdated": (("statefulset", "string"), ("generation", "integer"), ("replicas", "integer")),
    "StatefulSetStatus": (("statefulset", "string"), ("replicas", "integer"), ("readyReplicas", "integer"),
                          ("availableReplicas", "integer"), ("currentReplicas", "integer"),
                          ("updatedReplicas", "integer"), ("currentRevision", "string|null"),
                          ("updateRevision", "string|null"), ("observedGeneration", "integer|null")),
    "StatefulSetDeleted": (("statefulset", "string"),),
    "PodEvicted": _POD + (("reason", "string|null"),),
    "NodeNotReady": (("node", "string"), ("status", "string"), ("reason", "string|null")),
    "NodeReady": (("node", "string"),),
    "NodeTainted": (("node", "string"), ("key", "string"), ("effect", "string"), ("value", "string|null")),
    "NodeUntainted": (("node", "string"), ("key", "string"), ("effect", "string")),
    "NodeCordoned": (("node", "string"),),
    "NodeUncordoned": (("node", "string"),),
    "NodeDeleted": (("node", "string"),),
    "PodIP": _POD + (("ip", "string"),),
    "PodFirstSeen": _POD,
    "PVCCreated": (("pvc", "string"), ("pod", "string|null"), ("storageClass", "string|null")),
    "PVCBound": (("pvc", "string"), ("pv", "string"), ("pod", "string|null")),
    "PVCTerminating": (("pvc", "string"), ("pod", "string|null")),
    "PVCDeleted": (("pvc", "string"), ("pod", "string|null")),
    "PVCreated": (("pv", "string"), ("storageClass", "string|null"), ("node", "string|null"), ("pvc", "string|null")),
    "PVReleased": (("pv", "string"), ("pvc", "string|null")),
    "PVDeleted": (("pv", "string"), ("pvc", "string|null")),
    "EndpointSliceUpdated": (("service", "string"), ("ready", "strings"), ("notReady", "strings"),
                             ("terminating", "strings")),
    "DisruptionBudgetStatus": (("pdb", "string"), ("currentHealthy", "integer"), ("desiredHealthy", "integer"),
                               ("expectedPods", "integer"), ("disruptionsAllowed", "integer")),
    "RevisionCreated": (("statefulset", "string"), ("revision", "string"), ("number", "integer")),
    "ControllerWaiting": (("statefulset", "string"), ("reason", "string"), ("pod", "string|null")),
    "ControllerResumed": (("statefulset", "string"),),
    "KubeEvent": (("reason", "string"), ("object", "string"), ("message", "string"), ("component", "string")),
    "EvictionBlocked": _POD + (("pdb", "string"), ("message", "string"), ("cause", "string")),
    "VolumeProvisioning": (("pvc", "string"), ("storageClass", "string|null"), ("node", "string|null")),
    "VolumesMounted": _POD + (("claims", "strings"),),
    "VolumeAttached": _ATTACHMENT,
    "VolumeDetached": _ATTACHMENT + (("force", "string|null"),),
    "VolumeUnmounted": _POD + (("pv", "string"), ("node", "string")),
    "GarbageCollected": (("kind", "string"), ("name", "string"), ("owner", "string|null")),
    "DNSAnswer": (("name", "string"), ("qtype", "string"), ("rcode", "string"), ("answers", "strings"),
                  ("ttl", "number"), ("server", "string"), ("cached", "boolean"), ("client", "string"),
                  ("queries", "integer"), ("fqdn", "string"), ("cachedNames", "strings")),
    "DNSQuerySkipped": (("name", "string"), ("qtype", "string"), ("client", "string"), ("reason", "string")),
    "PodUnschedulable": _POD + (("message", "string"),),
    "ImagePulling": _POD + (("image", "string"), ("node", "string")),
    "ImagePulled": _POD + (("image", "string"), ("node", "string"), ("seconds", "number")),
    "ContainerStarted": _POD + (("container", "string"), ("restartCount", "integer")),
    "ContainerExited": _POD + (("container", "string"), ("exitCode", "integer")),
    "ContainerKilled": _POD + (("container", "string"), ("reason", "string")),
    "NodeRegistered": (("node", "string"),),
    "Action": (("action", "string"),),
    "ActionFailed": (("action", "string"), ("error", "string")),
    "ActionNote": (("action", "string"), ("message", "string")),
    "NodeDrained": (("node", "string"), ("pods", "integer")),
    "RolledBack": (("statefulset", "string"), ("revision", "integer"), ("controllerRevision", "string")),
    "RollbackSkipped": (("statefulset", "string"), ("revision", "integer"), ("message", "string")),
    "ActionTimedOut": (("action", "string"), ("when", "object"), ("timeout", "number")),
    "DrainTimedOut": (("node", "string"), ("timeout", "number"), ("pending", "strings")),
}

#: Fields an event may have after its required ones (checked when present): the spec facts.
OPTIONAL: Mapping[str, tuple[tuple[str, str], ...]] = {
    "StatefulSetCreated": _SPEC_FACTS,
    "StatefulSetUpdated": _SPEC_FACTS,
    "KubeEvent": (("type", "string"), ("count", "integer")),
    "Action": (("when", "object"), ("after", "number")),  # a when: action, after its own fields
}

_GRACE = (("gracePeriodSeconds", "duration"),)
_NODE = (("node", "string"),)
#: ``Action`` fields per ``action`` (verb): (required, optional).  Other verbs: any fields.
ACTION_FIELDS: Mapping[str, tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]] = {
    "scale": ((("statefulset", "string"), ("replicas", "integer")), ()),
    "patch": ((("statefulset", "string"), ("patch", "object|list")), (("type", "string"),)),
    "deletePod": ((("pod", "string"),), _GRACE + (("force", "boolean"),)),
    "breakReadiness": ((("pod", "string"),), (("container", "string|null"), ("persist", "boolean"))),
    "breakLiveness": ((("pod", "string"),), (("container", "string|null"), ("persist", "boolean"))),
    "restoreReadiness": ((("pod", "string"),), (("container", "string|null"),)),
    "restoreLiveness": ((("pod", "string"),), (("container", "string|null"),)),
    "crashContainer": ((("pod", "string"), ("container", "string|null")), ()),
    "failPod": ((("pod", "string"), ("reason", "string")), ()),
    "apply": ((("objects", "strings"),), ()),
    "failNode": (_NODE, ()),
    "recoverNode": (_NODE, ()),
    "taintOutOfService": (_NODE, ()),
    "untaintOutOfService": (_NODE, ()),
    "deleteNode": (_NODE, ()),
    "cordonNode": (_NODE, ()),
    "uncordonNode": (_NODE, ()),
    "setImage": ((("statefulset", "string"), ("container", "string"), ("image", "string")), ()),
    "deleteStatefulSet": ((("statefulset", "string"), ("cascade", "string")), ()),
    "delete": ((("kind", "string"), ("name", "string")), ()),
    "dnsQuery": ((("name", "string"), ("qtype", "string"), ("from", "string")),
                 (("every", "duration"), ("until", "duration"))),
    "evictPod": ((("pod", "string"),), _GRACE),
    "drainNode": (_NODE, _GRACE + (("force", "boolean"), ("timeout", "number"), ("disableEviction", "boolean"),
                                   ("deleteEmptydirData", "boolean"), ("ignoreDaemonsets", "boolean"))),
    "rolloutUndo": ((("statefulset", "string"),), (("toRevision", "integer"),)),
    "rolloutRestart": ((("statefulset", "string"),), ()),
}

_NAMES = {"string": "a string", "integer": "an integer", "number": "a finite number", "boolean": "true or false",
          "object": "an object", "strings": "a list of strings", "duration": 'a number of seconds or "inf"',
          "null": "null", "any": "any value", "list": "a list"}


def is_type(types: str, value: Any) -> bool:
    """Whether ``value`` has one of ``types`` (``string|null``; see the module docstring)."""
    return any(_is(kind, value) for kind in types.split("|"))


def _is(kind: str, value: Any) -> bool:
    if kind == "any":
        return True
    if kind == "null":
        return value is None
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool) and -INT64_MAX - 1 <= value <= INT64_MAX
    if kind == "number":
        return (isinstance(value, int) and not isinstance(value, bool) and abs(value) <= INT64_MAX) or \
            (isinstance(value, float) and math.isfinite(value))
    if kind == "duration":
        return value == "inf" or (_is("number", value) and value >= 0)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "strings":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "list":
        return isinstance(value, list)
    raise ValueError(f"unknown field type {kind!r}")  # pragma: no cover - the tables above are fixed


def expected(kind: str) -> str:
    """``string|null`` → ``a string or null``."""
    return " or ".join(_NAMES[k] for k in kind.split("|"))


def describe(value: Any) -> str:
    """A JSON value as an error message shows it: its type and a short rendering."""
    import json

    names = ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
             (list, "a list"), (dict, "an object"))
    if value is None:
        return "null"
    kind = next((name for cls, name in names if isinstance(value, cls)), type(value).__name__)
    if isinstance(value, (list, dict)):
        text = json.dumps(value, ensure_ascii=False)[:60] if _depth(value) <= 8 else "..."
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        text = f"<about {int(value.bit_length() * 0.30103)} digits>"
    else:
        text = json.dumps(value, ensure_ascii=False)[:60]
    return f"{kind} {text}"


def _depth(value: Any) -> int:
    """How deep lists and objects nest in ``value`` (0 for a scalar), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
        else:
            continue
        deepest = max(deepest, d + 1)
        if deepest > MAX_DEPTH:
            break
    return deepest


def field_problem(event: str, fields: Mapping[str, Any]) -> str | None:
    """What is wrong with a record of ``event`` (``FIELD: expected ..., found ...``), or None."""
    for name, value in fields.items():
        if _depth(value) > MAX_DEPTH:
            return f"{name}: nested more than {MAX_DEPTH} levels deep"
    required = EVENTS.get(event, ())
    optional = OPTIONAL.get(event, ())
    if event == "Action" and isinstance(fields.get("action"), str):
        verb_required, verb_optional = ACTION_FIELDS.get(fields["action"], ((), ()))
        required, optional = required + verb_required, optional + verb_optional
    for name, kind in required:
        if name not in fields:
            return f"{name}: required field is missing (expected {expected(kind)})"
        if not is_type(kind, fields[name]):
            return f"{name}: expected {expected(kind)}, found {describe(fields[name])}"
    for name, kind in optional:
        if name in fields and not is_type(kind, fields[name]):
            return f"{name}: expected {expected(kind)}, found {describe(fields[name])}"
    return None


__all__ = ["ACTION_FIELDS", "EVENTS", "MAX_DEPTH", "MAX_T", "OPTIONAL", "TRACE_END", "TRACE_START", "describe",
           "expected", "field_problem", "is_type"]
