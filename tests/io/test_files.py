"""Input files are bounded and regular, outputs are written atomically (statefulsim/io/files.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from statefulsim.cli import cli
from statefulsim.io.files import InputFileError, atomic_write, atomic_write_text, read_input

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"
FIFO_OK = hasattr(os, "mkfifo")


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def bad_input(result: Result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, result.output


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    if not FIFO_OK:
        pytest.skip("no FIFOs on this platform")
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


# ---------------------------------------------------------------- reading


def test_read_input_refuses_non_regular_files_without_blocking(fifo: Path, tmp_path: Path) -> None:
    done: list[str] = []

    def read_fifo() -> None:  # opening a FIFO for reading blocks until a writer comes, unless O_NONBLOCK
        try:
            read_input(fifo)
        except InputFileError as e:
            done.append(str(e))

    reader = threading.Thread(target=read_fifo, daemon=True)
    reader.start()
    reader.join(5)
    assert done and "not a regular file (a FIFO)" in done[0]
    with pytest.raises(InputFileError, match="a character device"):
        read_input("/dev/zero")
    with pytest.raises(InputFileError, match="a directory"):
        read_input(tmp_path)


def test_read_input_limits_the_size_and_checks_the_path(tmp_path: Path) -> None:
    f = tmp_path / "big"
    f.write_bytes(b"x" * 2048)
    assert read_input(f, limit=2048) == b"x" * 2048
    with pytest.raises(InputFileError, match="more than the limit of 1 KiB"):
        read_input(f, limit=1024)
    with pytest.raises(InputFileError, match="empty string"):
        read_input("")
    with pytest.raises(InputFileError, match="NUL byte"):
        read_input("a\0b")


@pytest.mark.parametrize("command", ["validate", "run", "show", "plot", "critical-path", "check", "sweep", "explore"])
def test_every_command_refuses_a_device_or_fifo(command: str, fifo: Path) -> None:
    bad_input(invoke(command, "/dev/zero"), "/dev/zero", "not a regular file")
    bad_input(invoke(command, fifo), "not a regular file (a FIFO)")


def test_a_manifest_that_is_a_device_or_an_empty_path(tmp_path: Path) -> None:
    text = QUICKSTART.read_text().replace("  - file: manifests/mysql.yaml", "  - file: VALUE")
    for value, needle in (("/dev/zero", "not a regular file"), ('""', "expected a file path, found an empty string"),
                          ('"a\\0b"', "NUL byte")):
        f = tmp_path / "s.yaml"
        f.write_text(text.replace("VALUE", value))
        bad_input(invoke("validate", f), "manifests[0].file", needle)


def test_invalid_utf8_names_line_and_column(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_bytes(QUICKSTART.read_bytes().replace(b"name: quickstart", b"name: quick\xffstart"))
    line = QUICKSTART.read_text().splitlines().index("  name: quickstart") + 1
    bad_input(invoke("validate", f), f"{f}:{line}: cannot read file: not valid UTF-8: byte 0xff at column 14")


# ---------------------------------------------------------------- writing


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "trace.jsonl"
    target.write_text("the good trace\n")

    def half(fh: object) -> None:
        fh.write(b"half a")  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, half)
    assert target.read_text() == "the good trace\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trace.jsonl"]  # no temporary file left
    target.chmod(0o640)
    atomic_write_text(target, "new\n")
    assert target.read_text() == "new\n"
    assert target.stat().st_mode & 0o777 == 0o640  # the replaced file keeps its mode
    fresh = tmp_path / "fresh.csv"
    atomic_write_text(fresh, "a,b\n")
    mask = os.umask(0)
    os.umask(mask)
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~mask  # as open() would create it, not mkstemp's 0600


def test_a_killed_writer_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "trace.jsonl"
    target.write_text("the good trace\n")
    code = (
        "import os, signal, sys\n"
        "from statefulsim.io.files import atomic_write\n"
        "def write(fh):\n"
        "    fh.write(b'x' * 100000); fh.flush(); os.kill(os.getpid(), signal.SIGKILL)\n"
        "atomic_write(sys.argv[1], write)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True)
    assert proc.returncode != 0
    assert target.read_text() == "the good trace\n"


def test_output_to_a_device_is_written_directly(tmp_path: Path) -> None:
    result = invoke("run", QUICKSTART, "--quiet", "--trace", "/dev/null")
    assert result.exit_code == 0, result.output
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


def test_sweep_state_must_hold_sweep_records(tmp_path: Path) -> None:
    trace = tmp_path / "run.jsonl"
    assert invoke("run", QUICKSTART, "--quiet", "--trace", trace).exit_code == 0
    before = trace.read_bytes()
    result = invoke("sweep", QUICKSTART, "--runs", 1, "--workers", 1, "--quiet", "--state", trace)
    bad_input(result, f"{trace}:1: not a sweep state record")
    assert trace.read_bytes() == before


def test_sweep_state_cut_off_line_is_removed_before_appending(tmp_path: Path) -> None:
    state = tmp_path / "state.jsonl"
    assert invoke("sweep", QUICKSTART, "--runs", 2, "--workers", 1, "--quiet", "--state", state).exit_code == 0
    good = state.read_text()
    state.write_text(good + '{"key": "half a li')
    assert invoke("sweep", QUICKSTART, "--runs", 3, "--workers", 1, "--quiet", "--state", state).exit_code == 0
    lines = state.read_text().splitlines()
    assert len(lines) == 3 and lines[:2] == good.splitlines()
    assert "half a li" not in state.read_text()


def test_sweep_unknown_statefulset_is_an_error() -> None:
    bad_input(invoke("sweep", QUICKSTART, "--runs", 1, "--workers", 1, "--quiet", "--statefulset", "mysq"),
              "--statefulset 'mysq': no StatefulSet of that name", 'did you mean "mysql"?')
