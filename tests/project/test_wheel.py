"""The built wheel, not the checkout, runs the newcomer's commands and the notebooks from outside the
repository, in a fresh virtual environment (#18 "Done when").

The fresh venv is made without pip (``venv --without-pip``: fast, and no network); the wheel is
installed into its site-packages, not editable; its dependencies come from this interpreter's
site-packages through a path entry (``deps.pth``), so nothing is downloaded.  A path entry adds the
directory only: the ``.pth`` files in it, among them the checkout's editable install, are not run,
so ``import statefulsim`` can only find the wheel (each test checks ``statefulsim.__file__``).
"""

from __future__ import annotations

import pathlib
import subprocess
import sys
import sysconfig
import textwrap
import venv

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """The fresh venv's python, with the wheel installed."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(work / "dist"), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next((work / "dist").glob("statefulsim-*.whl"))
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = pathlib.Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                       check=True, capture_output=True, text=True).stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return python


def _run(python: pathlib.Path, cwd: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), *args], cwd=cwd, capture_output=True, text=True)


def test_the_fresh_venv_imports_the_wheel_not_the_checkout(fresh: pathlib.Path, tmp_path: pathlib.Path) -> None:
    where = _run(fresh, tmp_path, "-c", "import statefulsim; print(statefulsim.__file__)")
    assert where.returncode == 0, where.stderr
    assert where.stdout.strip().startswith(str(fresh.parent.parent)), where.stdout
    assert str(ROOT) not in where.stdout
    assert (pathlib.Path(where.stdout.strip()).parent / "py.typed").is_file()


def test_the_wheel_runs_examples_quickstart_and_version(fresh: pathlib.Path, tmp_path: pathlib.Path) -> None:
    version = _run(fresh, tmp_path, "-m", "statefulsim", "--version")
    assert version.returncode == 0 and version.stdout.startswith("statefulsim, version "), version
    listing = _run(fresh, tmp_path, "-m", "statefulsim", "examples")
    assert listing.returncode == 0 and "quickstart" in listing.stdout, listing
    run = _run(fresh, tmp_path, "-m", "statefulsim", "run", "quickstart")
    assert run.returncode == 0 and "PodReady" in run.stdout, run.stderr


def test_copied_examples_run_from_their_new_home(fresh: pathlib.Path, tmp_path: pathlib.Path) -> None:
    copied = _run(fresh, tmp_path, "-m", "statefulsim", "examples", "--copy", "ex")
    assert copied.returncode == 0, copied.stderr
    run = _run(fresh, tmp_path, "-m", "statefulsim", "run", "ex/storage-retention.yaml", "-q")
    assert run.returncode == 0, run.stderr


#: Run by the fresh venv's python: converts the notebook and executes it on that python's own kernel.
EXECUTE = textwrap.dedent("""
    import os, sys
    import jupytext, nbclient, nbformat
    nb = jupytext.read(sys.argv[1])
    nb.cells.append(nbformat.v4.new_code_cell("import statefulsim; print(statefulsim.__file__)"))
    os.environ.pop("MPLBACKEND", None)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": os.getcwd()}}).execute()
    print("".join(str(o.get("text", "")) for o in nb.cells[-1].outputs).strip())
""")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_notebooks_run_on_the_wheel_outside_the_repository(fresh: pathlib.Path, tmp_path: pathlib.Path,
                                                              path: pathlib.Path) -> None:
    # a user who downloads a notebook next to nothing but the installed wheel can run it
    for module in ("jupytext", "nbformat", "nbclient", "ipykernel"):
        pytest.importorskip(module)
    (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    done = _run(fresh, tmp_path, "-c", EXECUTE, path.name)
    assert done.returncode == 0, done.stderr[-3000:]
    printed = done.stdout.strip().splitlines()[-1]
    assert printed.startswith(str(fresh.parent.parent)), printed  # the kernel ran the fresh venv's wheel
    assert str(ROOT) not in printed
