"""timing.yaml: written by ``statefulsim calibrate`` (with comments saying where each figure came
from) and included by a scenario as ``timing: {file: timing.yaml}`` (docs/calibrate.md)."""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping, Sequence

from statefulsim.calibrate.estimate import ALL, scope_label
from statefulsim.calibrate.fit import CRITERION, FITTERS, KeyFit, how_fitted
from statefulsim.io.files import atomic_write_text

__all__ = ["load_timing_include", "render_timing_yaml", "write_timing_yaml"]


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _comment(f: KeyFit) -> str:
    others = ", ".join(f"{c.model} {c.aic - f.chosen.aic:+.1f}" for c in f.candidates[1:])
    s = f.sample
    return (f"# {s.key}{scope_label(s.scope)}: {len(s.values)} samples from {', '.join(s.sources)} "
            f"(resolution ±{s.resolution:.3g} s, {how_fitted(s)}); {f.chosen.model} "
            + ("(no spread beyond the resolution)" if f.chosen.model == "constant" else "by AIC")
            + (f" (AIC vs. it: {others})" if others else "") + f"; KS distance {f.chosen.ks:.3f}")


def render_timing_yaml(fits: Sequence[KeyFit], missing: Mapping[str, str], sources: Sequence[str]) -> str:
    """The text of a timing.yaml: a ``timing:`` section with the keys that are not per image or set
    (the volume keys) at its top and one override per image or set."""
    out = ["# Written by `statefulsim calibrate` from: " + ", ".join(sources),
           f"# Models fitted by maximum likelihood ({', '.join(FITTERS.names())}); chosen by {CRITERION}.",
           "# KS distance: the largest gap between the samples' and the model's cumulative distribution.",
           "# Use it in a scenario as `timing: {file: timing.yaml}`, or paste the section."]
    for key, why in sorted(missing.items()):
        out.append(f"# not estimated: {key}: {why} (the default is used)")
    out.append("timing:")
    by_scope: dict[tuple[str, str], list[KeyFit]] = {}
    for f in fits:
        if f.sample.scope == ALL:  # not per image or set: a key of the section itself
            out += ["  " + _comment(f), f"  {f.sample.key}: {f.chosen.yaml()}"]
        else:
            by_scope.setdefault(f.sample.scope, []).append(f)
    if not by_scope:
        out.append("  overrides: []")
    else:
        out.append("  overrides:")
    for (kind, name), group in sorted(by_scope.items()):
        for f in group:
            out.append("    " + _comment(f))
        out.append(f"    - match: {{{kind}: {_quote(name)}}}")
        for f in group:
            out.append(f"      {f.sample.key}: {f.chosen.yaml()}")
    return "\n".join(out) + "\n"


def write_timing_yaml(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (a reader never sees half a file)."""
    atomic_write_text(path, text)


def load_timing_include(value: Mapping[str, Any], base_dir: str | None, path: tuple[str | int, ...],
                        add: Callable[[tuple[str | int, ...], str], None]) -> Mapping[str, Any]:
    """``timing: {file: F, ...}``: F's ``timing:`` section (or F's top level), with the scenario's own
    keys on top (its ``overrides`` after F's).  A missing or bad file is a problem at ``path.file``."""
    from statefulsim.errors import ScenarioError
    from statefulsim.io.yamlsource import load_file

    name = value.get("file")
    rest = {k: v for k, v in value.items() if k != "file"}
    if not isinstance(name, str):
        add(path + ("file",), f"expected the name of a timing file, found {name!r}")
        return rest
    full = os.path.join(base_dir or ".", name)
    try:
        docs = load_file(full)
    except ScenarioError as e:
        add(path + ("file",), f"cannot use {name}: " + "; ".join(str(p) for p in e.problems))
        return rest
    data = docs[0].data if docs else None
    if isinstance(data, Mapping) and "timing" in data:
        data = data["timing"]
    if not isinstance(data, Mapping) or "file" in data:
        add(path + ("file",), f"{name}: expected a mapping of timing keys (or a `timing:` "
                                                  f"section without a nested file), found {type(data).__name__}")
        return rest
    merged = {**data, **rest}
    if "overrides" in data and "overrides" in rest and isinstance(data["overrides"], list) \
            and isinstance(rest["overrides"], list):
        merged["overrides"] = list(data["overrides"]) + list(rest["overrides"])
    return merged
