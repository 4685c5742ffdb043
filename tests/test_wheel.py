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


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_notebooks_run_on_the_wheel_outside_the_repository(installed: pathlib.Path, tmp_path: pathlib.Path,
                                                              path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # issue #18: a user who downloads a notebook next to nothing but the installed wheel can run it
    jupytext = pytest.importorskip("jupytext")
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    nb = jupytext.read(work / path.name)
    nb.cells.append(nbformat.v4.new_code_cell("import statefulsim; print(statefulsim.__file__)"))
    # the kernel inherits this environment: the wheel first on its path (the checkout's editable
    # install is a finder appended after the path entries, so it does not win)
    monkeypatch.setenv("PYTHONPATH", str(installed))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=False,
                                     resources={"metadata": {"path": str(work)}})
    client.execute()
    printed = "".join(str(o.get("text", "")) for o in nb.cells[-1].outputs).strip()
    assert printed.startswith(str(installed)), printed
    assert str(ROOT) not in printed
