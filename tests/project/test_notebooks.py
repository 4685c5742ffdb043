"""The notebooks in notebooks/ (jupytext percent-format .py files) execute without error.

Each one is converted with jupytext and run top to bottom by nbclient on the ``python3`` kernel,
which must be this interpreter's (in CI: the virtualenv's, whose ipykernel installs the kernelspec
into the venv's share/jupyter/kernels), so the notebook sees the same statefulsim.  No notebook is
excluded.
"""

from __future__ import annotations

import os
import pathlib
import sys
import time

import pytest

jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[2] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.py"))
#: Seconds per cell; the notebooks are sized to run in a few seconds in all.
CELL_TIMEOUT = 120

CHECK_KERNEL = "import sys, statefulsim\nprint(repr(sys.prefix)); print(repr(statefulsim.__file__))"


def test_there_are_notebooks() -> None:
    assert [p.name for p in PATHS] == ["01_tour.py", "02_ordered_vs_parallel.py", "03_what_if_probes.py"]


def _text(output: dict) -> str:  # type: ignore[type-arg]
    if output.get("output_type") == "stream":
        return str(output.get("text", ""))
    return str(output.get("data", {}).get("text/plain", ""))


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_executes(path: pathlib.Path, tmp_path: pathlib.Path) -> None:
    nb = jupytext.read(path)
    assert nb.cells, f"{path.name} has no cells"
    nb.cells.append(nbformat.v4.new_code_cell(CHECK_KERNEL))
    client = nbclient.NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    env_backend = os.environ.pop("MPLBACKEND", None)  # let the kernel pick its inline backend
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        if env_backend is not None:
            os.environ["MPLBACKEND"] = env_backend
        nbformat.write(nb, tmp_path / f"{path.stem}.ipynb")  # kept by pytest for a look on failure
    elapsed = time.perf_counter() - start
    print(f"{path.name}: executed in {elapsed:.1f}s")

    # The kernel ran this interpreter and this checkout's statefulsim.
    lines = "".join(_text(o) for o in nb.cells[-1].outputs).split("\n")
    assert lines[0] == repr(sys.prefix), (lines, sys.prefix)
    import statefulsim
    assert lines[1] == repr(statefulsim.__file__)

    # Every notebook shows at least one figure.
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert images, f"{path.name} displayed no figure"
