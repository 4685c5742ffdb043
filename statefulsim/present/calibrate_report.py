"""The body of ``statefulsim calibrate RECORDING... [-o timing.yaml]`` (docs/calibrate.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from rich.console import Console
from rich.text import Text

from statefulsim.calibrate.estimate import Observations, estimate, missing_name, scope_label
from statefulsim.calibrate.fit import MIN_SAMPLES, KeyFit, fit_key, how_fitted
from statefulsim.io.importers import _read
from statefulsim.io.snapshots import read_recordings
from statefulsim.io.timing_file import render_timing_yaml, write_timing_yaml


@dataclass(frozen=True)
class Calibration:
    """What calibrate found: the fits, the keys it could not estimate (and why), the readers' notes."""

    fits: tuple[KeyFit, ...]
    missing: Mapping[str, str]
    notes: tuple[str, ...]
    yaml: str


def calibrate(observations: Observations, sources: Sequence[str]) -> Calibration:
    """Estimate, fit and render (pure: no file I/O)."""
    samples, missing = estimate(observations)
    missing = dict(missing)
    fits = []
    for s in samples:
        if len(s.values) < MIN_SAMPLES:
            missing[missing_name(s.key, s.scope)] = (f"{len(s.values)} sample(s): a fit needs at least "
                                                               f"{MIN_SAMPLES}")
            continue
        try:
            fits.append(fit_key(s))
        except ValueError as e:
            missing[missing_name(s.key, s.scope)] = str(e)
    return Calibration(tuple(fits), missing, tuple(observations.notes), render_timing_yaml(fits, missing, sources))


def calibrate_files(files: Sequence[str], statefulset: str | None = None) -> Calibration:
    """Read the recordings and calibrate."""
    return calibrate(read_recordings([(f, _read(f)) for f in files], statefulset), files)


def calibrate_cli(console: Console, files: Sequence[str], out: str | None, statefulset: str | None) -> Calibration:
    """Print the report (and the timing section without ``out``; with it, write the file)."""
    result = calibrate_files(files, statefulset)
    for note in result.notes:
        console.print(Text(f"note: {note}", style="dim"))
    for f in result.fits:
        s, c = f.sample, f.chosen
        console.print(Text(f"{s.key}{scope_label(s.scope)}: n={len(s.values)}, {c.delay().describe()}, "
                           f"KS {c.ks:.3f}, resolution ±{s.resolution:.3g} s, {how_fitted(s)}"))
    for key, why in sorted(result.missing.items()):
        console.print(Text(f"not estimated: {key}: {why}", style="yellow"))
    if out is None:
        console.print(Text(result.yaml), end="", soft_wrap=True)
    else:
        write_timing_yaml(out, result.yaml)
        console.print(Text(f"wrote {out}"))
    return result
