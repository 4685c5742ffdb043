"""Reading input files and writing output files safely (docs/cli.md, "Files").

* :func:`read_input` is the one reader every loader uses (scenarios, manifests, traces, kubectl
  recordings, sweep state files): it refuses an empty path, a path with a NUL byte, a FIFO, a
  device such as ``/dev/zero`` and any other non-regular file (opened without blocking, so a
  FIFO never hangs it), and a file larger than its size limit.
* :func:`atomic_write` is the one writer of outputs (traces, CSVs, plots, replay files, a
  repaired state file): the bytes go to a temporary file in the target's directory, are
  flushed to disk and renamed over the target, so a run killed while writing leaves the old
  file (or none), never a half-written one.

Both raise :class:`InputFileError` / :class:`OSError` for the callers to word in their own
error class; the messages never hold a traceback.
"""

from __future__ import annotations

import os
import stat
import tempfile
from typing import IO, Callable

from statefulsim.errors import StatefulSimError

#: Scenario and manifest files (YAML): far above any real scenario, small enough to parse in seconds.
MAX_YAML_BYTES = 16 * 1024 * 1024
#: Traces, kubectl recordings and sweep state files.
MAX_DATA_BYTES = 1024 * 1024 * 1024


class InputFileError(StatefulSimError):
    """An input file cannot be read; ``reason`` says why, without the file name."""

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        self.path = path
        self.reason = reason
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}" if where else reason)


def _size_text(n: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


def check_path(path: str | os.PathLike[str]) -> str:
    """``path`` as a string; :class:`InputFileError` for an empty path or one with a NUL byte."""
    name = os.fspath(path)
    if not isinstance(name, str):  # bytes paths
        name = os.fsdecode(name)
    if name == "":
        raise InputFileError("", "cannot read file: expected a file path, found an empty string")
    if "\0" in name:
        raise InputFileError(repr(name), "cannot read file: a file path cannot contain a NUL byte")
    return name


def read_input(path: str | os.PathLike[str], limit: int = MAX_DATA_BYTES) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Raises :class:`InputFileError` for an empty or NUL-holding path, a file that cannot be
    opened, a directory, FIFO, socket or device, and a file larger than ``limit``."""
    name = check_path(path)
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise InputFileError(name, f"cannot read file: {e.strerror or e}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(name, f"cannot read file: not a regular file ({_file_kind(info.st_mode)})")
        if info.st_size > limit:
            raise InputFileError(name, f"cannot read file: it has {info.st_size} bytes, more than the limit of "
                                       f"{_size_text(limit)}")
        chunks: list[bytes] = []
        total = 0
        while True:  # the file may grow while we read it: never read more than the limit
            chunk = os.read(fd, min(1024 * 1024, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise InputFileError(name, f"cannot read file: it is larger than the limit of {_size_text(limit)}")
        return b"".join(chunks)
    except OSError as e:
        raise InputFileError(name, f"cannot read file: {e.strerror or e}") from None
    finally:
        os.close(fd)


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a plain file"


def decode_utf8(data: bytes, name: str) -> str:
    """``data`` as UTF-8 text; :class:`InputFileError` naming the line and column of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise InputFileError(name, f"cannot read file: not valid UTF-8: byte 0x{data[e.start]:02x} at column {column}",
                             line) from None


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(file)`` on a temporary file next to ``path`` and rename it over ``path``.

    The temporary file is flushed and fsynced before the rename, and removed if anything fails,
    so ``path`` holds either its old content or the whole new one.  A ``path`` that exists and
    is not a regular file (``/dev/stdout``, a FIFO) is written to directly: there is nothing to
    protect and it cannot be replaced.  Raises :class:`OSError`."""
    name = check_path(path)
    try:
        info = os.stat(name)
    except FileNotFoundError:
        info = None
    except OSError:
        info = None  # let the open below report it
    if info is not None and not stat.S_ISREG(info.st_mode):
        with open(name, "wb") as fh:
            write(fh)
        return
    directory = os.path.dirname(os.path.abspath(name))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(name)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask())
        os.replace(tmp, name)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """:func:`atomic_write` of UTF-8 ``text`` (line ends as given)."""
    data = text.encode("utf-8")

    def write(fh: IO[bytes]) -> None:
        fh.write(data)

    atomic_write(path, write)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory: str) -> None:
    """Make the rename durable (best effort: not every platform can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = ["MAX_DATA_BYTES", "MAX_YAML_BYTES", "InputFileError", "atomic_write", "atomic_write_text", "check_path",
           "decode_utf8", "read_input"]
