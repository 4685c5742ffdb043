"""The commands on a saved trace: ``show``, ``plot`` and ``critical-path``."""

from __future__ import annotations

import click

from statefulsim.cli.options import view_options
from statefulsim.cli.output import make_console
from statefulsim.cli.views import check_view_flags, check_view_set, print_view, trace_sets
from statefulsim.durations import format_clock


@click.command()
@click.argument("trace_file", metavar="TRACE.jsonl", type=click.Path(dir_okay=False))
@click.option("--no-timeline", is_flag=True, help="Leave the timeline out of the report.")
@view_options
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False), default=None,
              help="The scenario the trace was run from: with --view pods -o json (the pods' containers) "
                   "and -l (the pod template's labels).")
@click.pass_context
def show(ctx: click.Context, trace_file: str, no_timeline: bool, view: str | None = None, selector: str | None = None,
         view_set: str | None = None, output_watch_events: bool = False, view_output: str = "table",
         scenario_path: str | None = None) -> None:
    """Print the timeline and tables of a trace saved with run --trace, or a kubectl view of it."""
    from statefulsim.io.trace_io import read_jsonl
    from statefulsim.present.report import render_trace

    check_view_flags(ctx, view, selector, view_set, output_watch_events, view_output)
    if view_output == "json" and view is None:
        raise click.UsageError("the JSON summary is made by run --output json (it needs the expectations); "
                               "of a saved trace, --view pods or --view events can be written as JSON", ctx)
    if view_output == "json" and view == "pods" and scenario_path is None:
        raise click.UsageError("--view pods -o json of a saved trace needs the scenario it ran: give --scenario FILE",
                               ctx)
    sc = None
    if scenario_path is not None:
        from statefulsim.io.scenario import load_scenario

        sc = load_scenario(scenario_path, allow_large=True)
    trace = read_jsonl(trace_file)
    if view is not None:
        check_view_set(ctx, view_set, trace_sets(trace))
        print_view(trace, sc, view, selector, view_set, output_watch_events, view_output)
        return
    title = f"{trace_file}: {len(trace)} records"
    if len(trace):
        title += f", {format_clock(trace[0].t)} to {format_clock(trace[len(trace) - 1].t)}"
    render_trace(trace, make_console(), title=title, show_timeline=not no_timeline)


@click.command()
@click.argument("trace_file", metavar="TRACE.jsonl", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, metavar="FILE.png",
              help="The .png, .svg or .pdf file to write (default: TRACE with the suffix .png).")
@click.option("--quorum", type=click.IntRange(min=1), default=None, metavar="N",
              help="Shade the time with fewer than N Ready replicas.")
def plot(trace_file: str, output: str | None, quorum: int | None) -> None:
    """Draw a trace saved with run --trace: pods over time and replicas, in one image."""
    from statefulsim.present.plots import plot_trace_file
    from statefulsim.present.printable import printable

    written = plot_trace_file(trace_file, output, quorum)
    click.echo(f"plot: written to {printable(written)}")


@click.command(name="critical-path")
@click.argument("trace_file", metavar="TRACE.jsonl", type=click.Path(dir_okay=False))
@click.option("--target", default=None, metavar="NAME",
              help="A pod (its last Ready), a StatefulSet (its last all-ready status), a DNS name, EVENT:SUBJECT "
                   "or EVENT:SUBJECT:N (default: the end of the rollout).")
def critical_path_cmd(trace_file: str, target: str | None) -> None:
    """Print the chain of waits that made a rollout in a saved trace take as long as it did (docs/analysis.md)."""
    from statefulsim.analysis.happens_before import critical_path
    from statefulsim.io.trace_io import read_jsonl
    from statefulsim.present.critical_path_report import critical_path_text
    from statefulsim.present.printable import printable

    click.echo(printable(critical_path_text(critical_path(read_jsonl(trace_file), target)), newlines=True))
