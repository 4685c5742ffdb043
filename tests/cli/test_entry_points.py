"""``python -m statefulsim`` and the PEP 561 marker (issue #18, item 2)."""

import subprocess
import sys
from pathlib import Path

import statefulsim


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run([sys.executable, "-m", "statefulsim", "--version"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.startswith("statefulsim, version ")


def test_python_dash_m_maps_bad_input_to_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    out = subprocess.run([sys.executable, "-m", "statefulsim", "run", str(missing)],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr


def test_package_is_marked_typed() -> None:
    assert (Path(statefulsim.__file__).parent / "py.typed").is_file()


def test_shell_completion_as_documented() -> None:
    import os

    docs = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    for shell in ("bash", "zsh", "fish"):
        assert f"_STATEFULSIM_COMPLETE={shell}_source statefulsim" in docs
        script = subprocess.run([sys.executable, "-m", "statefulsim"], capture_output=True, text=True,
                                env=dict(os.environ, _STATEFULSIM_COMPLETE=f"{shell}_source"))
        assert "_STATEFULSIM_COMPLETE" in script.stdout, shell
    words = subprocess.run([sys.executable, "-m", "statefulsim"], capture_output=True, text=True,
                           env=dict(os.environ, _STATEFULSIM_COMPLETE="bash_complete",
                                    COMP_WORDS="statefulsim ex", COMP_CWORD="1"))
    assert words.stdout.split() == ["plain,examples", "plain,explore"]
