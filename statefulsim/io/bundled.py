"""The scenarios shipped inside the package: find one by name, list them, copy them out.

They live in ``statefulsim/scenarios/`` (package data; a checkout's top-level ``scenarios`` is a
link to it), so ``statefulsim run quickstart`` works from any directory after ``pip install``.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from statefulsim.errors import StatefulSimError

__all__ = ["BundledScenario", "bundled_dir", "bundled_scenarios", "copy_bundled", "resolve_bundled"]

_NAME = re.compile(r"[a-z0-9][a-z0-9.-]*")
_DESCRIPTION = re.compile(r"^  description: (.*)$", re.M)


@dataclass(frozen=True)
class BundledScenario:
    """One shipped scenario: its name (the file name without ``.yaml``), path and description."""

    name: str
    path: Path
    description: str


def bundled_dir() -> Path:
    """The directory that holds the shipped scenarios and their manifests."""
    return Path(str(resources.files("statefulsim") / "scenarios"))


def bundled_scenarios() -> list[BundledScenario]:
    """Every shipped scenario, sorted by name."""
    out = []
    for path in sorted(bundled_dir().glob("*.yaml")):
        found = _DESCRIPTION.search(path.read_text(encoding="utf-8"))
        out.append(BundledScenario(path.stem, path, found.group(1).strip() if found else ""))
    return out


def resolve_bundled(name: str) -> str | None:
    """The path of the shipped scenario called ``name`` (``quickstart`` or ``quickstart.yaml``),
    or ``None`` if ``name`` is an existing path or not a bundled name."""
    if os.path.exists(name) or os.sep in name or (os.altsep and os.altsep in name):
        return None
    stem = name[:-5] if name.endswith(".yaml") else name
    if not _NAME.fullmatch(stem):
        return None
    path = bundled_dir() / f"{stem}.yaml"
    return str(path) if path.is_file() else None


def copy_bundled(target: str | os.PathLike[str]) -> list[Path]:
    """Write every shipped scenario, with its manifests and recordings, under ``target``.

    Refuses to overwrite: an existing file of the same name is an error and nothing is written."""
    src = bundled_dir()
    dest = Path(target)
    files = sorted(p for p in src.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    clashes = [dest / p.relative_to(src) for p in files if (dest / p.relative_to(src)).exists()]
    if clashes:
        raise StatefulSimError(f"{clashes[0]} exists already; statefulsim examples --copy writes only new "
                               f"files ({len(clashes)} would be overwritten)")
    written: list[Path] = []
    for p in files:
        out = dest / p.relative_to(src)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, out)
        except OSError as e:
            raise StatefulSimError(f"{out}: cannot write: {e.strerror or e}"
                                   f" ({len(written)} of {len(files)} files written)") from None
        written.append(out)
    return written
