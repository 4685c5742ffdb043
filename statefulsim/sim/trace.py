"""Trace records: the flat, immutable table every report, plot and check reads.

The core only appends records in memory; writing them to files is the I/O layer's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Protocol, Union, runtime_checkable


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One thing that happened at simulated time ``t`` (seconds).  Slotted: a run keeps tens of
    thousands of them, and a per-instance ``__dict__`` would be most of their memory."""

    t: float
    event: str
    fields: Mapping[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)

    def as_dict(self) -> dict[str, Any]:
        """``{"t", "event", **fields}`` with ``t`` rounded to the microsecond."""
        out: dict[str, Any] = {"t": round(self.t, 6), "event": self.event}
        out.update(self.fields)
        return out


class Trace:
    """An append-only, time-ordered list of records."""

    def __init__(self) -> None:
        self._records: list[TraceRecord] = []
        #: when the run stopped (its ``until``), at or after the last record; None when unknown
        self.end: float | None = None
        self._watchers: list[Callable[[TraceRecord], None]] = []

    def append(self, t: float, event: str, fields: Mapping[str, Any]) -> TraceRecord:
        """Append a record with a copy of ``fields`` (the caller may keep changing its mapping)."""
        return self.append_owned(t, event, dict(fields))

    def append_owned(self, t: float, event: str, fields: dict[str, Any]) -> TraceRecord:
        """Append a record that keeps ``fields`` itself, not a copy: for a caller whose dict is
        fresh and never touched again (``SimEnv.emit``'s ``**fields``).  Same record as
        :meth:`append`, one dict copy less per record."""
        rec = TraceRecord(t, event, fields)
        self._records.append(rec)
        if self._watchers:
            for watcher in list(self._watchers):
                watcher(rec)
        return rec

    def watch(self, watcher: Callable[[TraceRecord], None]) -> Callable[[], None]:
        """Call ``watcher`` with every record appended from now on, in order, right after it is
        appended; returns the function that stops it.  A watcher only observes: it must not append."""
        self._watchers.append(watcher)

        def stop() -> None:
            if watcher in self._watchers:
                self._watchers.remove(watcher)
        return stop

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without its watchers (they belong to the run that made it), with its end."""
        return {"_records": self._records, "_watchers": [], "end": self.end}

    def __iter__(self) -> Iterator[TraceRecord]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, i: int) -> TraceRecord:
        return self._records[i]

    @property
    def records(self) -> list[TraceRecord]:
        return list(self._records)

    def __repr__(self) -> str:
        if not self._records:
            return "<Trace: no records>"
        return (f"<Trace: {len(self._records)} records, t={self._records[0].t:.3f}s"
                f"..{self._records[-1].t:.3f}s>")

    def _repr_html_(self) -> str:
        """Jupyter: the record count and how many records of each event, most frequent first."""
        import html

        counts: dict[str, int] = {}
        for r in self._records:
            counts[r.event] = counts.get(r.event, 0) + 1
        rows = "".join(f"<tr><td>{html.escape(e)}</td><td style='text-align:right'>{n}</td></tr>"
                       for e, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        return (f"<p><b>{html.escape(repr(self))}</b></p>"
                f"<table><tr><th>event</th><th>records</th></tr>{rows}</table>")

    def of(self, event: str, **match: Any) -> list[TraceRecord]:
        """Records of one event type whose fields equal every ``match`` value."""
        return [
            r for r in self._records
            if r.event == event and all(r.fields.get(k) == v for k, v in match.items())
        ]

    def first(self, event: str, **match: Any) -> TraceRecord | None:
        for r in self._records:
            if r.event == event and all(r.fields.get(k) == v for k, v in match.items()):
                return r
        return None


@runtime_checkable
class HasTrace(Protocol):
    """What carries a trace: a :class:`statefulsim.RunResult` (``result.trace``)."""

    @property
    def trace(self) -> Trace: ...


#: What every function that reads a trace takes: the trace, or a run's result.
TraceSource = Union[Trace, HasTrace]


def as_trace(source: TraceSource) -> Trace:
    """The trace itself, or the run result's ``trace``."""
    return source if isinstance(source, Trace) else source.trace
