"""The state file of a sweep: one JSON line per finished run, so an interrupted sweep resumes."""

from __future__ import annotations

import io
import json
import os
from typing import Any, Mapping, Sequence

from statefulsim.sweep.grid import SweepError


def state_key(fingerprint: str, quorum: int | None, statefulset: str | None) -> str:
    return f"{fingerprint}:{quorum}:{statefulset}"


def read_state(path: str | os.PathLike[str]) -> dict[tuple[str, int], dict[str, float | None]]:
    """Finished runs of a state file, keyed (run key, seed); empty when the file does not exist.

    Every complete line must be a sweep record (``{"key": ..., "point": {...}, "seed": N,
    "metrics": {...}}``): any other file (a trace, a CSV) is refused with :class:`SweepError`,
    so a sweep never appends to it.  A last line without its newline is a run cut off while
    being written: it is skipped (and run again)."""
    name = os.fspath(path)
    if not os.path.lexists(name):
        return {}
    data = _read_state_bytes(name)
    out: dict[tuple[str, int], dict[str, float | None]] = {}
    lines = data.split(b"\n")
    for number, raw in enumerate(lines[:-1], start=1):  # lines[-1]: empty, or a cut-off write
        if not raw.strip():
            continue
        record = _state_record(raw)
        if record is None:
            raise SweepError(f"{name}:{number}: not a sweep state record (expected "
                             '{"key": ..., "point": {...}, "seed": N, "metrics": {...}}, one per run); '
                             "is this the state file of a sweep? Give another --state file")
        key, seed, metrics = record
        out[(key, seed)] = metrics
    return out


def _read_state_bytes(name: str) -> bytes:
    from statefulsim.io.files import InputFileError, read_input

    try:
        return read_input(name)
    except InputFileError as e:
        raise SweepError(str(e).replace("cannot read file", "cannot read the state file", 1)) from None


def _state_record(raw: bytes) -> tuple[str, int, dict[str, float | None]] | None:
    """(key, seed, metrics) of one state line, None if it is not a sweep record."""
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("key"), str) or not isinstance(obj.get("point"), dict):
        return None
    seed, metrics = obj.get("seed"), obj.get("metrics")
    if isinstance(seed, bool) or not isinstance(seed, int) or not isinstance(metrics, dict):
        return None
    if not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in metrics.values()):
        return None
    return obj["key"], seed, dict(metrics)


class StateWriter:
    """Appends one whole batch of runs per write to the state file, flushed and fsynced, so a
    kill leaves at most a cut-off last line; opening the file removes such a line first."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = path
        self.fh: io.TextIOWrapper | None = None
        if path is None:
            return
        try:
            name = os.fspath(path)
            if os.path.lexists(name):
                data = _read_state_bytes(name)
                if data and not data.endswith(b"\n"):  # a write cut off: drop its remains
                    from statefulsim.io.files import atomic_write_text

                    atomic_write_text(name, data[:data.rfind(b"\n") + 1].decode("utf-8", "replace"))
            self.fh = open(name, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        except OSError as e:
            raise SweepError(f"{os.fspath(path)}: cannot write the state file: {e.strerror or e}") from None

    def write_batch(self, key: str, point: Mapping[str, Any],
                    runs: Sequence[tuple[int, Mapping[str, float | None]]]) -> None:
        """One line per run, written, flushed and fsynced once for the batch."""
        if self.fh is None:
            return
        self.fh.write("".join(json.dumps({"key": key, "point": point, "seed": seed, "metrics": metrics},
                                         separators=(",", ":"), default=str) + "\n" for seed, metrics in runs))
        self.fh.flush()
        os.fsync(self.fh.fileno())

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
