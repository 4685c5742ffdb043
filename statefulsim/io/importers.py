"""Importers: kubectl recordings from a real cluster, converted to our trace (docs/importers.md).

Pure parsing: text in, trace records out.  Supported inputs:

* ``kubectl get pods -w`` (the ``NAME READY STATUS RESTARTS AGE`` table): times are estimated
  from the per-pod AGE column and are approximate;
* ``kubectl get pods -w -o json`` (a stream of pod objects) and ``--output-watch-events``
  (``{"type": ..., "object": pod}``): times from the RFC 3339 timestamps, exact to the second;
* ``kubectl get events -o json`` (a ``List`` of Events): the StatefulSet controller's
  ``SuccessfulCreate``/``SuccessfulDelete`` (and failures) of pods, as ``KubeEvent`` records.

Every problem raises :class:`~statefulsim.errors.TraceFormatError` with ``file:line``.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, NoReturn, Sequence

from statefulsim.errors import TraceFormatError
from statefulsim.io.files import InputFileError, decode_utf8, read_input
from statefulsim.sim.trace import Trace, TraceSource, as_trace
from statefulsim.text import plural

__all__ = ["FORMATS", "Recording", "build_trace", "detect_file_format", "detect_format", "load_recording", "parse_events_json",
           "parse_pods_json", "parse_pods_text"]

FORMATS = ("pods-text", "pods-json", "events-json", "jsonl")

_ORDINAL = re.compile(r"^(.+)-(\d+)$")
#: generateName's random suffix is 5 characters of "bcdfghjklmnpqrstvwxz2456789"
_GENERATED_SUFFIX = re.compile(r"^[2456789]{5}$")
_AGE_PART = re.compile(r"(\d+)([ydhms])")
_AGE_UNIT = {"y": 365 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_EVENT_MSG = re.compile(r"^(create|delete) Pod (\S+) in StatefulSet (\S+) (successful|failed)")


@dataclass
class _Rec:
    t: float
    seq: int
    event: str
    fields: dict[str, Any]


@dataclass
class Recording:
    """One imported file: records with ``t`` in seconds since ``epoch`` (absolute recordings) or
    since the start of the recording (``epoch`` is None: text with approximate times)."""

    file: str
    format: str
    records: list[_Rec]
    epoch: _dt.datetime | None
    approximate: bool = False
    notes: list[str] = field(default_factory=list)


def _ordinal(name: str) -> int:
    m = _ORDINAL.match(name)
    return int(m.group(2)) if m else -1


def _guess_set(name: str, statefulset: str | None) -> str | None:
    """The StatefulSet of a pod named ``<set>-<ordinal>``, or None: not a StatefulSet's pod name
    (or, with ``statefulset``, not that set's).  Without ``statefulset``, a 5-digit suffix that a
    generated name (``generateName``: Deployments, DaemonSets, Jobs) can have is not an ordinal."""
    m = _ORDINAL.match(name)
    if not m or (len(m.group(2)) > 1 and m.group(2).startswith("0")):
        return None
    if statefulset is not None:
        return statefulset if m.group(1) == statefulset else None
    return None if _GENERATED_SUFFIX.match(m.group(2)) else m.group(1)


# ---------------------------------------------------------------------------------------------
# kubectl get pods -w (text)


def parse_age(text: str) -> float:
    """kubectl's AGE column (``0s``, ``12s``, ``2m5s``, ``3h``, ``5d``, ``2y1d``...) in seconds."""
    parts = _AGE_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(text)
    return float(sum(int(n) * _AGE_UNIT[u] for n, u in parts))


def _age_resolution(text: str) -> float:
    """How coarse an AGE is: the unit of its last part (``12s``: 1 s, ``25m``: 60 s, ``3h``: 1 h)."""
    return 365 * 86400.0 if text.endswith("y") else float(_AGE_UNIT.get(text[-1:], 1))


@dataclass
class _TextPod:
    uid: str
    created: float
    resolution: float = 1.0  # of the AGE it was first seen with
    last: float = 0.0  # time of its latest row
    running: bool = False
    ready: bool = False
    terminating: bool = False
    done: bool = False
    restarts: int = 0


_POD_COLUMNS = ("NAME", "READY", "STATUS", "RESTARTS", "AGE")
_POD_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_ROW_START = re.compile(r"^\S+\s+\d+/\d+")  # how a cut-off pod row still begins


@dataclass(frozen=True)
class _Row:
    name: str
    status: str
    restarts: int
    age: float
    resolution: float
    n_ready: int
    n_total: int


def _pod_row(tokens: Sequence[str], cols: dict[str, int]) -> _Row:
    """One ``kubectl get pods`` row; ValueError (or IndexError) when the line is not one."""
    name, ready_col, status = tokens[cols["NAME"]], tokens[cols["READY"]], tokens[cols["STATUS"]]
    if not _POD_NAME.match(name):
        raise ValueError(name)
    i = cols["RESTARTS"]
    restarts = int(tokens[i])
    i += 1
    if tokens[i].startswith("("):  # newer kubectl: "2 (5s ago)"
        while not tokens[i].endswith(")"):
            i += 1
        i += 1
    have, _, want = ready_col.partition("/")
    return _Row(name, status, restarts, parse_age(tokens[i]), _age_resolution(tokens[i]), int(have), int(want))


#: STATUS of a deleted pod whose containers have exited: kubectl 1.27+ shows the terminal phase
#: (``printPod``: Terminating only while the phase is not terminal), and the deletion row repeats it.
_TERMINAL_STATUSES = frozenset({"Completed", "Error", "Succeeded", "Failed", "ContainerStatusUnknown"})


def parse_pods_text(text: str, file: str = "<text>", statefulset: str | None = None) -> Recording:
    """``kubectl get pods -w`` output, also pasted from a terminal.  Every pod row is a state;
    changes become records.  Lines that are not pod rows (shell prompts, other commands' output,
    other tables, a cut-off last row) are skipped and listed in a note; TraceFormatError only
    when no pod row is left.

    Times: a clock ``now`` advances with the rows; a pod first seen with AGE ``a`` was created
    at ``now - a``, and a later row of it happened at ``max(now, created + AGE)``.  The state a
    pod is first seen in is dated to its creation; a ``PodFirstSeen`` at ``now`` marks where the
    recording starts showing a pod first seen with an AGE above 0s."""
    recs: list[_Rec] = []
    cols: dict[str, int] | None = None
    pods: dict[str, _TextPod] = {}
    incarnations: dict[str, int] = {}
    skipped: list[tuple[int, str]] = []
    replaced: list[str] = []  # pods replaced between two of their rows without a Terminating row
    first_header: tuple[int, str] | None = None
    pod_header: int | None = None
    first_line: tuple[int, str] | None = None
    rows = 0
    now = 0.0
    now_resolution = 0.0  # how coarse the AGE that last moved `now` was
    seq = 0
    first_seen: float | None = None

    def emit(t: float, event: str, **fields: Any) -> None:
        nonlocal seq
        recs.append(_Rec(t, seq, event, fields))
        seq += 1

    for lineno, line in enumerate(text.splitlines(), 1):
        tokens = line.split()
        if not tokens:
            continue
        if first_line is None:
            first_line = (lineno, line.strip())
        if tokens[0] in ("NAME", "NAMESPACE"):
            if first_header is None:
                first_header = (lineno, line.strip())
            # A header of another table (`kubectl get sts`, `get pvc`) ends the pod rows until
            # the next pod header; the rows under it are skipped.
            cols = {c: tokens.index(c) for c in _POD_COLUMNS[:4]} if all(c in tokens for c in _POD_COLUMNS) else None
            if cols is None:
                skipped.append((lineno, line.strip()))
            elif pod_header is None:
                pod_header = lineno
            continue
        if cols is None:
            skipped.append((lineno, line.strip()))
            continue
        try:
            row = _pod_row(tokens, cols)
        except (IndexError, ValueError):
            skipped.append((lineno, line.strip()))
            continue
        rows += 1
        name, status, restarts, age = row.name, row.status, row.restarts, row.age
        pod = pods.get(name)
        if pod is not None and pod.terminating and status != "Terminating" and status not in _TERMINAL_STATUSES:
            _replace_text_pod(pod, name, now - age, emit)  # -w prints no deletion row
            pod = None
        elif pod is not None and pod.created + age + pod.resolution + row.resolution + now_resolution < now:
            # Younger than the pod seen before: that one was replaced between two of its rows.
            replaced.append(f"{name} (line {lineno})")
            _replace_text_pod(pod, name, now - age, emit)
            pod = None
        if pod is None:
            n = incarnations.get(name, 0) + 1
            incarnations[name] = n
            created = now - age
            if name in pods:
                created = max(created, pods[name].last)  # not before the one it replaces was last seen
            pod = pods[name] = _TextPod(f"{name}#{n}", created, row.resolution, created)
            emit(created, "PodCreated", pod=name, uid=pod.uid, ordinal=_ordinal(name),
                 statefulset=_guess_set(name, statefulset), revision=None)
            t = created
            pod.restarts = restarts
            first_seen = now if age > 0 else None
        else:
            t = max(now, pod.created + age)
            if t > now:
                now, now_resolution = t, row.resolution
        pod.last = max(pod.last, now)
        ready = row.n_total > 0 and row.n_ready == row.n_total
        if status == "Terminating" and not pod.terminating:
            pod.terminating = True
            emit(t, "PodTerminating", pod=name, uid=pod.uid, gracePeriodSeconds=None)
        if (status == "Running" or ready) and not pod.running and not pod.terminating:
            pod.running = True
            emit(t, "PodRunning", pod=name, uid=pod.uid, node=None)
        if status in ("Completed", "Succeeded") and not pod.done:
            pod.done = True
            emit(t, "PodSucceeded", pod=name, uid=pod.uid)
        elif status in ("Failed", "Evicted") and not pod.done:
            pod.done = True
            emit(t, "PodFailed", pod=name, uid=pod.uid, reason="Evicted" if status == "Evicted" else None)
        if ready and not pod.ready:
            pod.ready = True
            emit(t, "PodReady", pod=name, uid=pod.uid)
        elif not ready and pod.ready:
            pod.ready = False
            emit(t, "PodNotReady", pod=name, uid=pod.uid)
        if restarts > pod.restarts:
            pod.restarts = restarts
            emit(t, "ContainerRestarted", pod=name, uid=pod.uid, container=None, restartCount=restarts)
        if first_seen is not None:  # first seen mid-life: the states above are dated to its creation
            emit(first_seen, "PodFirstSeen", pod=name, uid=pod.uid)
            first_seen = None
    if not rows:
        _no_pod_rows(file, first_line, first_header, pod_header, skipped)
    notes = ["times are approximate: estimated from the AGE column (±1 s for ages in seconds, up "
             "to minutes or hours for older pods)",
             "`kubectl get pods -w` shows no deletion: a pod is taken as deleted just before a "
             "new line of its name after Terminating"]
    if skipped:
        notes.append(_skipped_note(file, skipped, text))
    if replaced:
        notes.append(f"a younger pod of the same name appeared without a Terminating row of the one before "
                     f"(it was replaced unseen, e.g. between two `kubectl get` runs): {', '.join(replaced)}")
    return Recording(file, "pods-text", recs, None, approximate=True,
                     notes=notes + _first_seen_note(recs) + _not_statefulset_note(recs))


def _replace_text_pod(pod: _TextPod, name: str, created: float, emit: Callable[..., None]) -> None:
    """End ``pod``: deleted after its last row, and at the latest when its successor was created."""
    emit(max(pod.last, created), "PodDeleted", pod=name, uid=pod.uid)


def _no_pod_rows(file: str, first_line: tuple[int, str] | None, first_header: tuple[int, str] | None,
                 pod_header: int | None, skipped: Sequence[tuple[int, str]]) -> NoReturn:
    """The error for a text with no pod row, at the line that shows best why."""
    if first_line is None:
        raise TraceFormatError(f"{file}:1: empty: no `kubectl get pods -w` header NAME READY STATUS RESTARTS AGE")
    if first_header is None:
        raise TraceFormatError(f"{file}:{first_line[0]}: expected the header NAME READY STATUS RESTARTS AGE of "
                               f"`kubectl get pods -w`, found {first_line[1][:60]!r}")
    if pod_header is None:
        raise TraceFormatError(f"{file}:{first_header[0]}: a kubectl header needs the columns NAME READY STATUS "
                               f"RESTARTS AGE, found {first_header[1]!r}")
    after = [(n, line) for n, line in skipped if n > pod_header]
    if not after:
        raise TraceFormatError(f"{file}:{pod_header}: no pod row after the header")
    lineno, line = after[0]
    raise TraceFormatError(f"{file}:{lineno}: not a `kubectl get pods` line (NAME READY STATUS RESTARTS AGE, e.g. "
                           f"'web-0   1/1   Running   0   12s'): {line[:80]!r}; no line of the file is a pod row")


def _skipped_note(file: str, skipped: Sequence[tuple[int, str]], text: str) -> str:
    """``skipped 3 lines ...: 1 '$ kubectl get pods -w', ...`` (the first few, then a count)."""
    last = len(text.rstrip().splitlines())
    shown = [f"{lineno} {' '.join(line.split())[:40]!r}" for lineno, line in skipped]
    listed = _listed(shown, 8)
    if skipped[-1][0] == last and _ROW_START.match(skipped[-1][1]):  # the last row, cut off: always say so
        listed = (_listed(shown[:-1], 8) + f", last {shown[-1]}" if len(shown) > 8 else listed) + " (cut off?)"
    return (f"{file}: skipped {plural(len(skipped), 'line')} that are not `kubectl get pods` rows (prompts, "
            f"other output, a cut-off row): line {listed}")


def _not_statefulset_note(recs: Sequence[_Rec]) -> list[str]:
    """The note on pods kept as rows but not judged: they belong to no StatefulSet."""
    names = sorted({str(r.fields["pod"]) for r in recs if r.event == "PodCreated" and not r.fields.get("statefulset")})
    if not names:
        return []
    return [f"{plural(len(names), 'pod')} of other workloads, not judged (no StatefulSet's <set>-<ordinal> name; "
            f"see --statefulset): {_listed(names)}"]


# ---------------------------------------------------------------------------------------------
# JSON streams


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _json_objects(text: str, file: str) -> Iterator[tuple[int, Any]]:
    """(line, value) of every JSON value in a stream of concatenated values."""
    dec = json.JSONDecoder()
    pos = 0
    n = len(text)
    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            return
        try:
            value, end = dec.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise TraceFormatError(f"{file}:{e.lineno}: not valid JSON: {e.msg} at column {e.colno}") from None
        except RecursionError:
            raise TraceFormatError(f"{file}:{_line_of(text, pos)}: not valid JSON: nested too deeply") from None
        except ValueError:  # an integer of more than 4300 digits
            raise TraceFormatError(f"{file}:{_line_of(text, pos)}: not valid JSON: an integer of more than 4300 "
                                   "digits") from None
        yield _line_of(text, pos), value
        pos = end


def _time(value: Any, file: str, line: int, what: str) -> _dt.datetime:
    if not isinstance(value, str):
        raise TraceFormatError(f"{file}:{line}: {what} must be an RFC 3339 timestamp, found {value!r}")
    try:
        t = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise TraceFormatError(f"{file}:{line}: {what} is not an RFC 3339 timestamp: {value!r}") from None
    return t if t.tzinfo else t.replace(tzinfo=_dt.timezone.utc)


def _obj(value: Any, file: str, line: int, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TraceFormatError(f"{file}:{line}: {what} must be an object, found {type(value).__name__}")
    return value


# The fields the importers read, with their JSON types (statefulsim.trace_schema's names): a
# field that is present must have its type, so a hand-edited or truncated recording is an error
# naming the field, not a crash.  (types, nested shape): nested is a mapping for an object's
# fields ("*": every value) or the shape of a list's items.
_Shape = tuple[str, Any]
_TIME = ("string|null", None)
_POD_SHAPE: _Shape = ("object", {
    "kind": ("string", None),
    "metadata": ("object", {
        "name": ("string", None), "uid": ("string", None), "creationTimestamp": _TIME,
        "deletionTimestamp": _TIME, "deletionGracePeriodSeconds": ("integer|null", None),
        "labels": ("object|null", {"*": ("string", None)}),
        "ownerReferences": ("list|null", ("object", {"kind": ("string|null", None), "name": ("string|null", None)})),
        "managedFields": ("list|null", ("object", {"time": _TIME})),
    }),
    "spec": ("object|null", {"nodeName": ("string|null", None)}),
    "status": ("object|null", {
        "phase": ("string|null", None), "reason": ("string|null", None),
        "conditions": ("list|null", ("object", {"type": ("string|null", None), "status": ("string|null", None),
                                                "lastTransitionTime": _TIME})),
        "containerStatuses": ("list|null", ("object", {
            "name": ("string|null", None), "restartCount": ("integer|null", None),
            "state": ("object|null", {"running": ("object", {"startedAt": _TIME})}),
        })),
    }),
})
_EVENT_SHAPE: _Shape = ("object", {
    "kind": ("string", None), "reason": ("string|null", None), "message": ("string|null", None),
    "note": ("string|null", None), "lastTimestamp": _TIME, "eventTime": _TIME, "firstTimestamp": _TIME,
    "involvedObject": ("object|null", {"kind": ("string|null", None), "name": ("string|null", None)}),
    "regarding": ("object|null", {"kind": ("string|null", None), "name": ("string|null", None)}),
    "source": ("object|null", {"component": ("string|null", None)}),
    "reportingComponent": ("string|null", None),
})


def _check_shape(value: Any, shape: _Shape, file: str, line: int, path: str = "") -> None:
    """Raise TraceFormatError ``FILE:LINE: PATH: expected ..., found ...`` where ``value`` does
    not have ``shape`` (absent fields are fine: the parsers default them)."""
    from statefulsim.trace_schema import describe, expected, is_type

    stack: list[tuple[Any, _Shape, str]] = [(value, shape, path)]
    while stack:
        v, (types, nested), where = stack.pop()
        if not is_type(types, v):
            raise TraceFormatError(f"{file}:{line}: {where or 'the value'}: expected {expected(types)}, "
                                   f"found {describe(v)}")
        if isinstance(v, dict) and isinstance(nested, dict):
            for key, item in v.items():
                sub = nested.get(key, nested.get("*"))
                if sub is not None:
                    stack.append((item, sub, f"{where}.{key}" if where else str(key)))
        elif isinstance(v, list) and nested is not None:
            stack.extend((item, nested, f"{where}[{i}]") for i, item in enumerate(v))


@dataclass
class _JsonPod:
    uid: str
    name: str
    phase: str = "Pending"
    ready: bool = False
    terminating: bool = False
    restarts: dict[str, int] = field(default_factory=dict)


def parse_pods_json(text: str, file: str = "<json>", statefulset: str | None = None) -> Recording:
    """``kubectl get pods -w -o json`` (pod objects) or with ``--output-watch-events``."""
    raw: list[tuple[_dt.datetime, int, str, dict[str, Any]]] = []
    pods: dict[str, _JsonPod] = {}
    live: dict[str, _JsonPod] = {}  # name -> current incarnation
    last = None  # latest time seen: the time of records without a timestamp of their own
    seq = 0

    def emit(t: _dt.datetime, event: str, **fields: Any) -> None:
        nonlocal seq, last
        raw.append((t, seq, event, fields))
        seq += 1
        last = t if last is None or t > last else last

    for line, value in _json_objects(text, file):
        value = _obj(value, file, line, "each value")
        kind = "MODIFIED"
        if "object" in value and "type" in value:
            kind = str(value["type"])
            value = _obj(value["object"], file, line, '"object"')
        _check_shape(value, _POD_SHAPE, file, line)
        if value.get("kind", "Pod") != "Pod":
            raise TraceFormatError(f"{file}:{line}: expected a Pod, found kind {value.get('kind')!r}")
        meta = _obj(value.get("metadata"), file, line, "metadata")
        status = value.get("status") or {}
        name, uid = meta.get("name"), meta.get("uid")
        if not isinstance(name, str) or not isinstance(uid, str):
            raise TraceFormatError(f"{file}:{line}: a pod needs metadata.name and metadata.uid")
        created = _time(meta.get("creationTimestamp"), file, line, "metadata.creationTimestamp")
        times = [created] + [_time(m["time"], file, line, "managedFields.time")
                             for m in meta.get("managedFields") or () if isinstance(m, dict) and "time" in m]
        conds = {c.get("type"): c for c in status.get("conditions") or () if isinstance(c, dict)}
        for c in conds.values():
            if c.get("lastTransitionTime"):
                times.append(_time(c["lastTransitionTime"], file, line, "lastTransitionTime"))
        seen = max(times + ([last] if last is not None else []))
        pod = pods.get(uid)
        first_seen: _dt.datetime | None = None
        if pod is None:
            # The object's state has held since its latest own timestamp: a pod first seen
            # later than its creation has an unknown past before then.
            first_seen = max(times)
            old = live.get(name)
            if old is not None:  # a new incarnation: the old one must be gone
                emit(created, "PodDeleted", pod=name, uid=old.uid)
            refs = [o for o in meta.get("ownerReferences") or () if isinstance(o, dict)]
            owner = next((o.get("name") for o in refs if o.get("kind") == "StatefulSet"), None)
            if owner is None and not any(o.get("controller") for o in refs):
                owner = _guess_set(name, statefulset)  # a pod of another controller is not a set's
            labels = meta.get("labels") or {}
            pod = pods[uid] = live[name] = _JsonPod(uid, name)
            emit(created, "PodCreated", pod=name, uid=uid, ordinal=_ordinal(name), statefulset=owner,
                 revision=labels.get("controller-revision-hash"))
        if meta.get("deletionTimestamp") and not pod.terminating:
            pod.terminating = True
            grace = meta.get("deletionGracePeriodSeconds")
            t = _time(meta["deletionTimestamp"], file, line, "metadata.deletionTimestamp")
            if isinstance(grace, int):
                t -= _dt.timedelta(seconds=grace)
            emit(t, "PodTerminating", pod=name, uid=uid, gracePeriodSeconds=grace)
            if first_seen is not None:
                first_seen = max(first_seen, t)
        phase = status.get("phase") or "Pending"
        if phase != pod.phase:
            pod.phase = phase
            if phase == "Running":
                starts = [_time(cs["state"]["running"]["startedAt"], file, line, "startedAt")
                          for cs in status.get("containerStatuses") or ()
                          if isinstance(cs, dict) and (cs.get("state") or {}).get("running", {}).get("startedAt")]
                emit(min(starts) if starts else seen, "PodRunning", pod=name, uid=uid,
                     node=(value.get("spec") or {}).get("nodeName"))
            elif phase == "Failed":
                emit(seen, "PodFailed", pod=name, uid=uid, reason=status.get("reason"))
            elif phase == "Succeeded":
                emit(seen, "PodSucceeded", pod=name, uid=uid)
        rc = conds.get("Ready")
        ready = rc is not None and rc.get("status") == "True"
        if ready != pod.ready:
            pod.ready = ready
            t = _time(rc["lastTransitionTime"], file, line, "lastTransitionTime") \
                if rc is not None and rc.get("lastTransitionTime") else seen
            emit(t, "PodReady" if ready else "PodNotReady", pod=name, uid=uid)
        for cs in status.get("containerStatuses") or ():
            if not isinstance(cs, dict):
                continue
            count = cs.get("restartCount")
            cname = str(cs.get("name"))
            if isinstance(count, int) and count > pod.restarts.get(cname, 0):
                pod.restarts[cname] = count
                emit(seen, "ContainerRestarted", pod=name, uid=uid, container=cname, restartCount=count)
        if first_seen is not None and first_seen > created:
            emit(first_seen, "PodFirstSeen", pod=name, uid=uid)
        if kind == "DELETED":
            emit(seen, "PodDeleted", pod=name, uid=uid)
            if live.get(name) is pod:
                del live[name]
    if not raw:
        raise TraceFormatError(f"{file}:1: no pod objects found")
    return _relative(file, "pods-json", raw)


def parse_events_json(text: str, file: str = "<json>") -> Recording:
    """``kubectl get events -o json`` (a List) or ``-w -o json`` (a stream of Events): the
    StatefulSet controller's pod creations and deletions as ``KubeEvent`` records."""
    raw: list[tuple[_dt.datetime, int, str, dict[str, Any]]] = []
    for line, value in _json_objects(text, file):
        value = _obj(value, file, line, "each value")
        if "object" in value and "type" in value:
            value = _obj(value["object"], file, line, '"object"')
        items = value.get("items") if "items" in value else [value]
        if not isinstance(items, list):
            raise TraceFormatError(f"{file}:{line}: \"items\" must be a list")
        for ev in items:
            ev = _obj(ev, file, line, "an event")
            _check_shape(ev, _EVENT_SHAPE, file, line)
            if ev.get("kind", "Event") != "Event":
                raise TraceFormatError(f"{file}:{line}: expected an Event, found kind {ev.get('kind')!r}")
            involved = ev.get("involvedObject") or ev.get("regarding") or {}
            m = _EVENT_MSG.match(str(ev.get("message") or ev.get("note") or ""))
            if involved.get("kind") != "StatefulSet" or not m:
                continue  # not a pod creation or deletion by the StatefulSet controller
            stamp = ev.get("lastTimestamp") or ev.get("eventTime") or ev.get("firstTimestamp")
            t = _time(stamp, file, line, f"the time of the event about pod {m.group(2)}")
            component = (ev.get("source") or {}).get("component") or ev.get("reportingComponent") \
                or "statefulset-controller"
            raw.append((t, len(raw), "KubeEvent", {"reason": str(ev.get("reason")), "object": f"pod/{m.group(2)}",
                                                   "message": str(ev.get("message")), "component": component}))
    if not raw:
        raise TraceFormatError(f"{file}:1: no StatefulSet pod events (SuccessfulCreate/SuccessfulDelete) found")
    return _relative(file, "events-json", raw)


def _relative(file: str, fmt: str, raw: list[tuple[_dt.datetime, int, str, dict[str, Any]]]) -> Recording:
    epoch = min(r[0] for r in raw)
    recs = [_Rec((t - epoch).total_seconds(), seq, ev, f) for t, seq, ev, f in raw]
    return Recording(file, fmt, recs, epoch, notes=_first_seen_note(recs) + _not_statefulset_note(recs))


def _first_seen_note(recs: Sequence[_Rec]) -> list[str]:
    """The note on pods the recording first shows after their creation (``PodFirstSeen``)."""
    in_sets = {r.fields["uid"] for r in recs if r.event == "PodCreated" and r.fields.get("statefulset")}
    late = sorted({str(r.fields["pod"]) for r in recs if r.event == "PodFirstSeen" and r.fields["uid"] in in_sets})
    if not late:
        return []
    return [f"{plural(len(late), 'pod')} already existed when first seen ({_listed(late)}): what they went "
            f"through before their first row is unknown, and is not judged"]


def _listed(items: Sequence[str], limit: int = 10) -> str:
    """``a, b, c`` (the first ``limit``, then ``and N more``)."""
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


# ---------------------------------------------------------------------------------------------
# Detection, loading, merging


def detect_format(text: str, file: str = "<input>") -> str:
    """``pods-text``, ``pods-json``, ``events-json`` or ``jsonl``, from the content."""
    stripped = text.lstrip()
    if not stripped:
        raise TraceFormatError(f"{file}:1: the file is empty")
    if not stripped.startswith("{") and any(line.split()[:1] in (["NAME"], ["NAMESPACE"])
                                            for line in stripped.splitlines()[:1000]):
        return "pods-text"  # a kubectl table, maybe after shell prompts or other output
    if stripped.startswith("{"):
        try:
            _, value = next(_json_objects(text, file))
        except StopIteration:  # pragma: no cover - stripped is not empty
            raise TraceFormatError(f"{file}:1: the file is empty") from None
        if isinstance(value, dict):
            if "t" in value and "event" in value:
                return "jsonl"
            inner = value.get("object") if "type" in value else value
            kind = inner.get("kind") if isinstance(inner, dict) else None
            if kind == "Pod":
                return "pods-json"
            if kind == "Event" or (kind in ("List", "EventList") and all(
                    isinstance(i, dict) and i.get("kind", "Event") == "Event" for i in value.get("items") or ())):
                return "events-json"
    line = _line_of(text, len(text) - len(stripped))
    raise TraceFormatError(f"{file}:{line}: cannot tell the format: expected `kubectl get pods -w` text, pod "
                           f"or event JSON from kubectl, or a statefulsim trace (.jsonl); use --format")


def _read(path: str) -> str:
    try:
        return decode_utf8(read_input(path), path)
    except InputFileError as e:
        raise TraceFormatError(str(e)) from None


def detect_file_format(path: str) -> str:
    """:func:`detect_format` of a file's content."""
    return detect_format(_read(path), path)


def load_recording(path: str, fmt: str = "auto", statefulset: str | None = None) -> Recording:
    """Read and parse one file (not ``jsonl``: read those with ``trace_io.read_jsonl``)."""
    text = _read(path)
    if fmt == "auto":
        fmt = detect_format(text, path)
    if fmt == "pods-text":
        return parse_pods_text(text, path, statefulset)
    if fmt == "pods-json":
        return parse_pods_json(text, path, statefulset)
    if fmt == "events-json":
        return parse_events_json(text, path)
    raise ValueError(f"load_recording does not read {fmt!r}")


def build_trace(recordings: Sequence[Recording], policy: str = "OrderedReady") -> Trace:
    """Merge recordings into one trace starting at t=0, with a ``StatefulSetCreated`` record
    (``podManagementPolicy`` = ``policy``) for every StatefulSet the pods or events name.

    Absolute recordings share their earliest timestamp as the origin.  A text recording (no
    absolute time) is aligned with the events by the first pod both show being created."""
    absolute = [r for r in recordings if r.epoch is not None]
    epoch = min((r.epoch for r in absolute if r.epoch is not None), default=None)
    merged: list[tuple[float, int, int, _Rec]] = []
    creates: dict[str, float] = {}  # pod -> first SuccessfulCreate time (absolute recordings)
    for rec in recordings:
        shift = (rec.epoch - epoch).total_seconds() if rec.epoch is not None and epoch is not None else 0.0
        for r in rec.records:
            if r.event == "KubeEvent" and r.fields["reason"] == "SuccessfulCreate":
                creates.setdefault(r.fields["object"].partition("/")[2], r.t + shift)
    for i, rec in enumerate(recordings):
        if rec.epoch is not None and epoch is not None:
            shift = (rec.epoch - epoch).total_seconds()
        else:
            shift = 0.0
            firsts = [(r.t, r.fields["pod"]) for r in rec.records if r.event == "PodCreated" and r.fields["pod"] in creates]
            if firsts:
                t, pod = min(firsts)
                shift = creates[pod] - t
        # KubeEvents sort before pod records at the same time (priority 0).
        merged.extend((r.t + shift, 0 if r.event == "KubeEvent" else 1, i, r) for r in rec.records)
    merged.sort(key=lambda m: (m[0], m[1], m[2], m[3].seq))
    sets: dict[str, list[tuple[str, int]]] = {}
    for _, _, _, r in merged:
        if r.event == "PodCreated" and r.fields.get("statefulset"):
            sets.setdefault(r.fields["statefulset"], [])
        elif r.event == "KubeEvent":
            m = _EVENT_MSG.match(str(r.fields.get("message")))
            if m:
                sets.setdefault(m.group(3), [])
    # replicas: the pods of the set still there at the end (a guess: a recording has no spec).
    live: dict[str, tuple[str, int]] = {}
    for _, _, _, r in merged:
        if r.event == "PodCreated" and r.fields.get("statefulset"):
            live[r.fields["pod"]] = (r.fields["statefulset"], r.fields["ordinal"])
        elif r.event == "PodDeleted":
            live.pop(r.fields["pod"], None)
    for _, (set_name, ordinal) in live.items():
        sets.setdefault(set_name, []).append((set_name, ordinal))
    start = merged[0][0] if merged else 0.0
    trace = Trace()
    for name in sorted(sets):
        trace.append(0.0, "StatefulSetCreated",
                     {"statefulset": name, "replicas": len(sets[name]), "podManagementPolicy": policy})
    for t, _, _, r in merged:
        trace.append(round(t - start, 6), r.event, r.fields)
    return trace


# ---------------------------------------------------------------------------------------------
# What `statefulsim check` runs on an imported recording

#: Invariants a kubectl recording can support; the others need data it lacks.
SUPPORTED = ("ordered-creation", "ordered-termination", "at-most-one-identity")
#: Why the other invariants are skipped on imported recordings.
SKIPPED = {
    "convergence": "the recording has no StatefulSet spec or status (desired replicas, revisions); "
                   "see the stuck pods below instead",
    "claim-before-pod": "the recording has no PersistentVolumeClaims",
    "stable-storage": "the recording has no PersistentVolumeClaims or volume mounts",
    "reverse-ordinal-update": "the recording has no StatefulSet revisions or update actions",
    "partition-respected": "the recording has no StatefulSet revisions or partition",
    "dns-ready-only": "the recording has no DNS answers",
}


def stalled_pods(trace: TraceSource) -> list[str]:
    """For an OrderedReady set, the pods that are not Running and Ready at the end of the
    recording (lowest ordinal first): what a stuck rollout waits for."""
    trace = as_trace(trace)
    from statefulsim.analysis.replay import Replay
    from statefulsim.durations import format_clock
    from statefulsim.sim.api.objects import ORDERED_READY

    state = Replay()
    for r in trace:
        state.apply(r)
    out = []
    for st in state.sets.values():
        if st.policy != ORDERED_READY:
            continue
        for p in sorted(state.set_pods(st.name), key=lambda p: p.ordinal):
            if not p.running_and_ready and not p.terminating and p.phase != "Succeeded":
                out.append(f"{st.name}: the rollout waits for {p.name}, {p.state()} at the end of the recording "
                           f"(PredecessorNotReady: OrderedReady creates no higher ordinal until it is Running and "
                           f"Ready); the last record is at {format_clock(trace[len(trace) - 1].t)}")
                break
    return out
