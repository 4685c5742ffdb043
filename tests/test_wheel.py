"""The built wheel, not the checkout, runs the newcomer's commands from outside the repository (#18)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import sysconfig

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(work / "dist"), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next((work / "dist").glob("statefulsim-*.whl"))
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    return target


def _run(target: pathlib.Path, cwd: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    # -S: no site processing, so the checkout's editable install (a .pth file) is not on the path;
    # the dependencies come from this interpreter's site-packages, statefulsim only from the wheel.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(target), sysconfig.get_paths()["purelib"]]))
    return subprocess.run([sys.executable, "-S", *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_the_wheel_runs_examples_quickstart_and_version(installed: pathlib.Path, tmp_path: pathlib.Path) -> None:
    where = _run(installed, tmp_path, "-c", "import statefulsim; print(statefulsim.__file__)")
    assert where.stdout.strip().startswith(str(installed)), where
    version = _run(installed, tmp_path, "-m", "statefulsim", "--version")
    assert version.returncode == 0 and version.stdout.startswith("statefulsim, version "), version
    listing = _run(installed, tmp_path, "-m", "statefulsim", "examples")
    assert listing.returncode == 0 and "quickstart" in listing.stdout, listing
    run = _run(installed, tmp_path, "-m", "statefulsim", "run", "quickstart")
    assert run.returncode == 0 and "PodReady" in run.stdout, run.stderr
    assert (installed / "statefulsim" / "py.typed").is_file()


def test_copied_examples_run_from_their_new_home(installed: pathlib.Path, tmp_path: pathlib.Path) -> None:
    copied = _run(installed, tmp_path, "-m", "statefulsim", "examples", "--copy", "ex")
    assert copied.returncode == 0, copied.stderr
    run = _run(installed, tmp_path, "-m", "statefulsim", "run", "ex/storage-retention.yaml", "-q")
    assert run.returncode == 0, run.stderr
