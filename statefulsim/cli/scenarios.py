"""The commands on one scenario: ``run`` and ``validate``."""

from __future__ import annotations

from typing import Any

import click
from rich.text import Text

from statefulsim.cli.errors import EXIT_EXPECTATION_FAILED, OutputError
from statefulsim.cli.options import DurationType, allow_large_option, plugin_option, view_options
from statefulsim.cli.output import make_console, terminal_progress
from statefulsim.cli.views import check_view_flags, check_view_set, print_view, scenario_template_labels
from statefulsim.errors import ScenarioError
from statefulsim.text import plural


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Random seed (default: the scenario's seed).")
@click.option("--until", type=DurationType(), default=None, metavar="DURATION",
              help="Simulated time to stop at, e.g. 90s, 10m, 1h (default: the scenario's until).")
@click.option("--trace", "trace_path", type=click.Path(dir_okay=False), default=None, metavar="FILE.jsonl",
              help="Write the trace to this file as JSON Lines.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None, metavar="FILE.png",
              help="Draw the run (pods over time, replicas) to this .png, .svg or .pdf file.")
@click.option("--quorum", type=click.IntRange(min=1), default=None, metavar="N",
              help="Count the time with fewer than N Ready replicas (default: a majority of the set's "
                   "replicas) in the report and the JSON summary; with --plot, shade it.")
@click.option("--quorum-from", type=DurationType(), default=None, metavar="DURATION",
              help="Count the time below quorum from this simulated time on (default: the first action "
                   "that changes the cluster).")
@click.option("--quiet", "-q", is_flag=True, help="Print only failed expectations.")
@click.option("--no-timeline", is_flag=True, help="Leave the timeline out of the report.")
@click.option("--check", "check_invariants", is_flag=True,
              help="Also check every invariant that applies (docs/invariants.md); exit 1 on a violation.")
@view_options
@click.option("--critical-path", "show_critical_path", is_flag=True,
              help="Also print the critical path of the rollout: which waits made it take as long (docs/analysis.md).")
@plugin_option
@allow_large_option
@click.pass_context
def run(ctx: click.Context, scenario: str, seed: int | None, until: float | None, trace_path: str | None,
        plot_path: str | None, quorum: int | None, quiet: bool, no_timeline: bool, check_invariants: bool,
        show_critical_path: bool = False, plugins: tuple[str, ...] = (), allow_large: bool = False,
        quorum_from: float | None = None, view: str | None = None, selector: str | None = None, view_set: str | None = None,
        output_watch_events: bool = False, view_output: str = "table") -> None:
    """Run SCENARIO (a YAML file), print the report and check its expectations."""
    from statefulsim import runner
    from statefulsim.errors import Problem
    from statefulsim.io.scenario import load_scenario
    from statefulsim.io.trace_io import write_jsonl
    from statefulsim.limits import duration_text
    from statefulsim.plugins import load_plugins
    from statefulsim.present.report import render_run

    check_view_flags(ctx, view, selector, view_set, output_watch_events, view_output)
    if plot_path is not None:
        from statefulsim.present.plots import check_format

        check_format(plot_path)  # an unknown suffix fails before the run, not after
    load_plugins(plugins)
    sc = load_scenario(scenario, allow_large=allow_large)
    if view is not None:
        check_view_set(ctx, view_set, sorted(scenario_template_labels(sc)))
    if until is not None:
        problem = sc.limits.problem("until", until, ("--until",), f"a run of {duration_text(until)}")
        if problem is not None:
            raise ScenarioError([Problem(problem.path, problem.message)])
    progress = terminal_progress()
    try:
        result = runner.run(sc, seed=seed, until=until, progress=progress)
    finally:
        if progress is not None:
            progress.done()
    console = make_console()
    written: int | None = None
    if trace_path is not None:
        try:
            written = write_jsonl(result.trace, trace_path)
        except OSError as e:
            raise OutputError(f"{trace_path}: cannot write the trace: {e.strerror or e}") from None
    if plot_path is not None:
        from statefulsim.present.plots import plot_run

        plot_run(result, plot_path, quorum)
    if view is not None or view_output == "json":
        # The view or the JSON alone on standard output; everything else on standard error.
        if view is not None:
            print_view(result.trace, sc, view, selector, view_set, output_watch_events, view_output)
        else:
            import json

            from statefulsim.present.summary import run_summary

            click.echo(json.dumps(run_summary(result, quorum=quorum, quorum_from=quorum_from), indent=2))
        console = make_console(stderr=True)
        quiet = True
    elif not quiet:
        render_run(result, console, show_timeline=not no_timeline, quorum=quorum, quorum_from=quorum_from)
        if written is not None:
            console.print(Text(f"trace: {written} records written to {trace_path}", style="dim"))
        if plot_path is not None:
            console.print(Text(f"plot: written to {plot_path}", style="dim"))
    violations: list[Any] = []
    if check_invariants:
        from statefulsim.analysis.invariants import applicable, check
        from statefulsim.present.invariant_report import render_violations

        violations = check(result.trace)
        render_violations(console, violations, applicable(result.trace), quiet=quiet)
    if show_critical_path:
        from statefulsim.analysis.happens_before import critical_path
        from statefulsim.present.critical_path_report import critical_path_text

        if not quiet:
            console.print()
        console.print(Text(critical_path_text(critical_path(result.trace))), soft_wrap=True)
    failed = [x for x in result.expectations if not x.ok]
    if failed:
        console.print(Text(f"FAILED: {len(failed)} of {len(result.expectations)} expectations did not hold",
                           style="bold red"))
        for x in failed:
            console.print(Text(f"  ✘ {x.description}: {x.detail}", style="red"))
    if violations:
        console.print(Text(f"FAILED: {len(violations)} invariant violation{'' if len(violations) == 1 else 's'}",
                           style="bold red"))
    if failed or violations:
        ctx.exit(EXIT_EXPECTATION_FAILED)


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@plugin_option
@allow_large_option
def validate(scenario: str, plugins: tuple[str, ...] = (), allow_large: bool = False) -> None:
    """Check SCENARIO without running it."""
    from statefulsim.io.scenario import load_scenario
    from statefulsim.plugins import load_plugins
    from statefulsim.present.printable import printable

    load_plugins(plugins)
    sc = load_scenario(scenario, allow_large=allow_large)
    counts = [plural(len(sc.objects), "object"), plural(len(sc.actions), "action"),
              plural(len(sc.expectations), "expectation")]
    click.echo(f"ok: {printable(sc.name)}: {', '.join(counts)}")
    for notice in sc.notices:
        click.echo(f"note: {printable(notice)}")
