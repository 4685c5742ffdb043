"""The commands on kubectl recordings of a real cluster: ``check``, ``calibrate`` and ``compare``."""

from __future__ import annotations

import click
from rich.text import Text

from statefulsim.cli.errors import EXIT_EXPECTATION_FAILED
from statefulsim.cli.options import plugin_option
from statefulsim.cli.output import make_console
from statefulsim.text import plural


@click.command(name="check")
@click.argument("files", nargs=-1, required=True, metavar="FILE [FILE...]", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["auto", "pods-text", "pods-json", "events-json", "jsonl"]),
              default="auto", show_default=True, help="The format of every FILE (auto: from the content).")
@click.option("--statefulset", default=None, metavar="NAME",
              help="The StatefulSet the pods belong to (default: guessed from <set>-<n> names).")
@click.option("--policy", type=click.Choice(["OrderedReady", "Parallel"]), default="OrderedReady", show_default=True,
              help="The pod management policy (a kubectl recording does not show it).")
@click.pass_context
def check_cmd(ctx: click.Context, files: tuple[str, ...], fmt: str, statefulset: str | None, policy: str) -> None:
    """Check the invariants on kubectl recordings from a real cluster (docs/importers.md)."""
    from statefulsim.analysis.invariants import applicable, check, not_judged
    from statefulsim.io.importers import SKIPPED, SUPPORTED, build_trace, detect_file_format, load_recording, stalled_pods
    from statefulsim.io.trace_io import read_jsonl
    from statefulsim.present.invariant_report import render_violations

    console = make_console()
    formats = [fmt if fmt != "auto" else detect_file_format(f) for f in files]
    traces = "jsonl" in formats
    if traces and len(files) > 1:
        raise click.UsageError("a statefulsim trace (.jsonl) is checked alone, not merged with other files", ctx)
    if traces:
        trace = read_jsonl(files[0])
        names = applicable(trace)
        notes: list[str] = []
    else:
        recordings = [load_recording(f, f_fmt, statefulset) for f, f_fmt in zip(files, formats)]
        trace = build_trace(recordings, policy)
        names = [n for n in applicable(trace) if n in SUPPORTED]
        notes = [f"{r.file}: {r.format}, {len(r.records)} records" for r in recordings]
        notes += [n for r in recordings for n in r.notes]
        notes += [f"skipped {n}: {why}" for n, why in SKIPPED.items()]
        notes += [f"not judged: {u}" for u in not_judged(trace, names)]
    for note in notes:
        console.print(Text(f"note: {note}", style="dim"))
    violations = check(trace, names)
    render_violations(console, violations, names)
    if not traces:
        for line in stalled_pods(trace):
            console.print(Text(f"stuck? {line}", style="yellow"))
    if violations:
        console.print(Text(f"FAILED: {plural(len(violations), 'invariant violation')}", style="bold red"))
        ctx.exit(EXIT_EXPECTATION_FAILED)


@click.command(name="calibrate")
@click.argument("files", nargs=-1, required=True, metavar="RECORDING...", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", default=None, metavar="FILE", help="Write the timing section to FILE.")
@click.option("--statefulset", default=None, metavar="NAME", help="The StatefulSet the pods belong to.")
@plugin_option
def calibrate_cmd(files: tuple[str, ...], out: str | None, statefulset: str | None, plugins: tuple[str, ...] = ()) -> None:
    """Fit the timing from kubectl recordings of your cluster (docs/calibrate.md)."""
    from statefulsim.plugins import load_plugins
    from statefulsim.present.calibrate_report import calibrate_cli

    load_plugins(plugins)  # a plug-in's delay model and its fitter (register_fitter) become candidates
    calibrate_cli(make_console(), files, out, statefulset)


@click.command(name="compare")
@click.argument("files", nargs=-1, required=True, metavar="RECORDING...", type=click.Path(dir_okay=False))
@click.option("--scenario", required=True, type=click.Path(dir_okay=False), help="The scenario to simulate.")
@click.option("--runs", default=20, show_default=True, type=click.IntRange(1, 10000), help="Runs (seeds) to simulate.")
@click.option("--statefulset", default=None, metavar="NAME", help="The StatefulSet the pods belong to.")
@click.option("--plot", default=None, metavar="FILE.png", help="Draw observed vs simulated to FILE.")
@plugin_option
@click.pass_context
def compare_cmd(ctx: click.Context, files: tuple[str, ...], scenario: str, runs: int, statefulset: str | None,
                plot: str | None, plugins: tuple[str, ...] = ()) -> None:
    """Observed milestones against the simulated spread of SCENARIO (docs/calibrate.md)."""
    from statefulsim.plugins import load_plugins
    from statefulsim.present.compare_report import compare_cli

    load_plugins(plugins)

    if not compare_cli(make_console(), files, scenario, runs, statefulset, plot).ok:
        ctx.exit(EXIT_EXPECTATION_FAILED)
