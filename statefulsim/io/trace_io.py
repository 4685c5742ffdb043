"""Trace files: JSON Lines, one record per line (the format is described in docs/trace.md).

Writing is deterministic: the same trace always gives the same bytes (keys in record order,
``t`` rounded to the microsecond, compact separators, UTF-8, ``\\n`` line ends).

Values JSON cannot represent are written as follows (reading does not convert them back):

* ``inf``, ``-inf`` and ``nan`` floats become the strings ``"inf"``, ``"-inf"`` and ``"nan"``
  (``null`` already means "not set" in several events, so it is not used for them);
* tuples become lists, sets become sorted lists, dates and datetimes (which YAML can produce in
  a patch action) become ISO 8601 strings and bytes become base64 strings;
* mapping keys that are not strings are written as strings (``1`` → ``"1"``, ``True`` → ``"true"``).

Any other type is a bug in whatever emitted it and raises :class:`TypeError`.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import math
import os
from typing import IO, Any, Iterable, Mapping

from statefulsim.errors import TraceFormatError
from statefulsim.io.files import InputFileError, atomic_write_text, check_path, read_input
from statefulsim.sim.trace import HasTrace, Trace, TraceRecord, TraceSource, as_trace
from statefulsim.trace_schema import MAX_T, TRACE_END, TRACE_START, describe, field_problem

__all__ = ["dumps_record", "read_jsonl", "to_json_value", "write_jsonl"]


def _float(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return json.dumps(key)
    if isinstance(key, float):
        out = _float(key)
        return out if isinstance(out, str) else repr(out)
    if isinstance(key, int):
        return str(key)
    value = to_json_value(key)
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), sort_keys=True)


def to_json_value(value: Any) -> Any:
    """``value`` made of JSON types only (see the module docstring for the conversions)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, Mapping):
        return {_key(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [to_json_value(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, (_dt.date, _dt.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"trace value of type {type(value).__name__} cannot be written as JSON: {value!r}")


def _as_dict(record: TraceRecord | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(record, TraceRecord):
        return record.as_dict()
    out: dict[str, Any] = {"t": round(float(record["t"]), 6), "event": record["event"]}
    out.update((k, v) for k, v in record.items() if k not in ("t", "event"))
    return out


def dumps_record(record: TraceRecord | Mapping[str, Any]) -> str:
    """One record as one line of JSON (without the newline)."""
    data = to_json_value(_as_dict(record))
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def write_jsonl(
    trace_or_records: TraceSource | Iterable[TraceRecord | Mapping[str, Any]],
    path_or_file: str | os.PathLike[str] | IO[str],
    end: float | None = None,
) -> int:
    """Write records as JSON Lines to a path (UTF-8) or an open text file; returns the count.

    Records are a trace, a run's result, :class:`TraceRecord` objects or dicts shaped like
    ``TraceRecord.as_dict()``.
    The file starts with a ``TraceStart`` and ends with a ``TraceEnd`` line (not counted), so
    :func:`read_jsonl` can tell a whole trace from a cut-off one; ``TraceEnd`` is at ``end``
    (default: the trace's ``end``, the run's until) when that is after the last record.  A path is
    written atomically (statefulsim.io.files.atomic_write): a write cut short leaves the file that
    was there before.
    """
    records = as_trace(trace_or_records) if isinstance(trace_or_records, HasTrace) else trace_or_records
    lines = [dumps_record(r) + "\n" for r in records]
    last_t = _last_t(lines[-1]) if lines else 0.0
    if end is None:
        end = getattr(records, "end", None)
    if isinstance(end, (int, float)) and math.isfinite(end) and end > last_t:
        last_t = round(end, 6)  # TraceEnd at the run's end keeps the quiet time after the last record
    text = "".join([_marker(0.0, TRACE_START)] + lines + [_marker(last_t, TRACE_END)])
    if isinstance(path_or_file, (str, os.PathLike)):
        atomic_write_text(path_or_file, text)
    else:
        path_or_file.write(text)
    return len(lines)


def _marker(t: float, event: str) -> str:
    return json.dumps({"t": t, "event": event}, separators=(",", ":")) + "\n"


def _last_t(line: str) -> float:
    t = json.loads(line)["t"]
    return float(t) if isinstance(t, (int, float)) else 0.0


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (write non-finite numbers as strings)")


def _parse_line(raw: bytes, where: str) -> tuple[float, str, dict[str, Any]]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TraceFormatError(f"{where}: not UTF-8 text (byte {e.start + 1} of the line)") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise TraceFormatError(f"{where}: not valid JSON: nested too deeply") from None
    except ValueError as e:
        msg = f"{e.msg} at column {e.colno}" if isinstance(e, json.JSONDecodeError) else str(e)
        if "integer string conversion" in msg:
            msg = "an integer of more than 4300 digits"
        raise TraceFormatError(f"{where}: not valid JSON: {msg}") from None
    if not isinstance(data, dict):
        raise TraceFormatError(
            f'{where}: expected a JSON object such as {{"t":1.5,"event":"PodReady"}}, found {describe(data)}'
        )
    if "t" not in data:
        raise TraceFormatError(f'{where}: the record has no "t" (its time in seconds)')
    if "event" not in data:
        raise TraceFormatError(f'{where}: the record has no "event" (its event name)')
    t = data["t"]
    if isinstance(t, bool) or not isinstance(t, (int, float)):
        raise TraceFormatError(f'{where}: "t" must be a number of seconds, found {describe(t)}')
    if (isinstance(t, float) and not math.isfinite(t)) or t < 0:  # math.isfinite(10**400) overflows
        raise TraceFormatError(f'{where}: "t" must be a finite, non-negative number of seconds, found {t!r}')
    if t > MAX_T:
        raise TraceFormatError(f'{where}: "t" must be at most {MAX_T:g} seconds (where simulated time ends), '
                               f"found {t!r}")
    event = data["event"]
    if not isinstance(event, str) or not event:
        raise TraceFormatError(f'{where}: "event" must be a non-empty string, found {describe(event)}')
    fields = {k: v for k, v in data.items() if k not in ("t", "event")}
    problem = field_problem(event, fields)
    if problem is not None:
        raise TraceFormatError(f"{where}: {event}.{problem}")
    return float(t), event, fields


def read_jsonl(path: str | os.PathLike[str]) -> Trace:
    """Read a trace written by :func:`write_jsonl`; raises :class:`TraceFormatError` on bad input.

    Blank lines are skipped.  Every other line must be a JSON object with a number ``t`` (at most
    ``MAX_T``, not smaller than the previous record's) and a string ``event``; its other keys are
    the fields, checked against the event catalogue (statefulsim.trace_schema).  A file that
    starts with ``TraceStart`` must end with ``TraceEnd`` (else it was cut off); both are left
    out of the trace.  A file without records is an error.
    """
    try:
        name = check_path(path)
        data = read_input(name)
    except InputFileError as e:
        raise TraceFormatError(str(e).replace("cannot read file", "cannot read trace file", 1)) from None
    trace = Trace()
    prev_t, prev_line = -math.inf, 0
    started = ended = 0  # the lines of the TraceStart and TraceEnd records
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        where = f"{name}:{number}"
        t, event, fields = _parse_line(raw.rstrip(b"\r"), where)
        if ended:
            raise TraceFormatError(f"{where}: a record after the TraceEnd record of line {ended} (two traces "
                                   "in one file?)")
        if t < prev_t:
            raise TraceFormatError(
                f"{where}: time goes backwards: t={t:g} is earlier than t={prev_t:g} on line {prev_line}"
            )
        if event == TRACE_START:
            if prev_line:
                raise TraceFormatError(f"{where}: TraceStart must be the first record (line {prev_line} is)")
            started = number
        elif event == TRACE_END:
            ended = number
            trace.end = t
        else:
            trace.append(t, event, fields)
        prev_t, prev_line = t, number
    if started and not ended:
        raise TraceFormatError(f"{name}:{prev_line}: the trace is cut off: it starts with TraceStart (line "
                               f"{started}) but line {prev_line} is not its TraceEnd record")
    if not len(trace):
        raise TraceFormatError(f"{name}: the trace is empty: it has no records")
    return trace
