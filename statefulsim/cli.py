"""The ``statefulsim`` command line (docs/cli.md).

Exit codes: 0 every expectation held, 1 an expectation failed, 2 bad input or usage.
The mapping from errors to exit codes lives in one place, :meth:`_Group.invoke`; the commands
only load, run and print.  Unexpected exceptions are bugs and propagate with a traceback.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, Callable, Sequence

import click
from rich.console import Console
from rich.text import Text

from statefulsim.durations import DurationError, format_clock, parse_positive_duration
from statefulsim.errors import ScenarioError, StatefulSimError

EXIT_OK = 0
EXIT_EXPECTATION_FAILED = 1
EXIT_BAD_INPUT = 2


class OutputError(StatefulSimError):
    """An output file (``--trace``) could not be written."""


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("statefulsim")
    except Exception:  # not installed (running from a source tree)
        return "unknown"


def error_lines(error: StatefulSimError) -> list[str]:
    """How an error is shown: one ``error: ...`` line per problem (``file:line: key.path: message``)."""
    from statefulsim.present.printable import printable

    if isinstance(error, ScenarioError) and error.problems:
        return [f"error: {printable(str(p))}" for p in error.problems]
    text = str(error) or type(error).__name__
    first, *rest = text.splitlines()
    return [f"error: {printable(first)}"] + [f"  {printable(line)}" for line in rest]


class _Group(click.Group):
    """The one place that turns a user error into exit code 2 (click's usage errors already are)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except StatefulSimError as e:
            for line in error_lines(e):
                click.echo(line, err=True)
            ctx.exit(EXIT_BAD_INPUT)


if TYPE_CHECKING:
    _ParamType = click.ParamType[float]  # generic since click 8.2
else:
    _ParamType = click.ParamType


class DurationType(_ParamType):
    """A positive, finite duration: ``90s``, ``15m``, ``1h30m`` or a number of seconds."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        try:
            return parse_positive_duration(value)
        except DurationError as e:
            self.fail(str(e), param, ctx)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _allow_large(fn: Any) -> Any:
    return click.option("--allow-large", is_flag=True,
                        help="Lift the simulation-size limits (replicas, nodes, until, ...; docs/scenario.md, "
                             "Limits): for large runs you mean to make.")(fn)


class _Progress:
    """A one-line "simulated HH:MM:SS of HH:MM:SS" on standard error for a run that takes more
    than a few seconds, when standard error is a terminal (never in a pipe, a log or a test)."""

    AFTER = 3.0  # seconds of wall time before the first line

    def __init__(self) -> None:
        import time

        self._clock: Callable[[], float] = time.monotonic
        self._start = self._clock()
        self._width = 0
        self._last = 0.0

    def __call__(self, now: float, until: float) -> None:
        wall = self._clock()
        if wall - self._start < self.AFTER or wall - self._last < 0.25:
            return
        self._last = wall
        percent = 100.0 * now / until if until > 0 else 100.0
        line = (f"simulated {format_clock(now)} of {format_clock(until)} ({percent:.0f}%), "
                f"{wall - self._start:.0f}s so far")
        click.echo("\r" + line.ljust(self._width), nl=False, err=True)
        self._width = len(line)

    def done(self) -> None:
        """Clear the line (the report follows on standard output)."""
        if self._width:
            click.echo("\r" + " " * self._width + "\r", nl=False, err=True)


def _terminal_progress() -> _Progress | None:
    return _Progress() if sys.stderr.isatty() else None


def _plugin_option(fn: Any) -> Any:
    """``--plugin MODULE`` (repeatable): modules that register policies, verbs, ... (docs/cli.md, Plug-ins)."""
    return click.option("--plugin", "plugins", multiple=True, metavar="MODULE",
                        help="Import this Python module first (repeatable): one that registers a policy, delay "
                             "model, verb or expectation; sweep and explore workers import it too.")(fn)


def _view_options(fn: Any) -> Any:
    """``--view`` and the flags that shape it (docs/views.md)."""
    options = [
        click.option("--view", type=click.Choice(["pods", "events", "rollout"]), default=None,
                     help="Print what kubectl would have printed instead of the report: pods = kubectl get pods -w, "
                          "events = kubectl get events --watch, rollout = kubectl rollout status (docs/views.md)."),
        click.option("-l", "--selector", default=None, metavar="KEY=VALUE,...",
                     help="With --view pods: only the pods whose labels match, as kubectl -l."),
        click.option("--statefulset", "view_set", default=None, metavar="NAME",
                     help="With --view: only this StatefulSet's pods, events or rollout."),
        click.option("--output-watch-events", is_flag=True,
                     help="With --view pods: the EVENT column (ADDED, MODIFIED, DELETED), as kubectl's flag."),
        click.option("-o", "--output", "view_output", type=click.Choice(["table", "json"]), default="table",
                     show_default=True, help="json: the run's summary as JSON (docs/cli.md); with --view pods the watch "
                                             "as kubectl get pods -w -o json, with --view events as kubectl get events -o json."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _check_view_flags(ctx: click.Context, view: str | None, selector: str | None, view_set: str | None,
                      watch_events: bool, output: str) -> None:
    """Usage errors for view flags given without the view they shape, before anything runs."""
    if view is None:
        for given, flag in ((selector, "-l/--selector"), (view_set, "--statefulset"),
                            (watch_events or None, "--output-watch-events")):
            if given is not None:
                raise click.UsageError(f"{flag} shapes a kubectl view: give --view pods|events|rollout too", ctx)
    elif view != "pods":
        for given, flag in ((selector, "-l/--selector"), (watch_events or None, "--output-watch-events"),
                            (output == "json" and view == "rollout" or None, "-o json")):
            if given is not None:
                raise click.UsageError(f"{flag} is for --view pods, not --view {view}", ctx)
    if selector is not None:
        from statefulsim.present.kubectl_views import parse_selector

        try:
            parse_selector(selector)
        except ValueError as e:
            raise click.UsageError(f"-l {selector}: {e}", ctx) from None


def _print_view(trace: Any, scenario: Any, view: str, selector: str | None, view_set: str | None,
                watch_events: bool, output: str) -> None:
    """Write the view's lines (or its JSON) to standard output."""
    from statefulsim.present.kubectl_views import VIEWS, ViewOptions, parse_selector
    from statefulsim.present.printable import printable

    if output == "json" and view == "events":
        from statefulsim.io.kubectl_export import events_json

        click.echo(events_json(trace), nl=False)
        return
    if output == "json":
        from statefulsim.io.kubectl_export import pods_watch_json

        click.echo(pods_watch_json(trace, scenario, pretty=not watch_events, statefulset=view_set), nl=False)
        return
    labels = scenario_template_labels(scenario) if scenario is not None else {}
    options = ViewOptions(statefulset=view_set, selector=parse_selector(selector) if selector else None,
                          watch_events=watch_events, template_labels=labels)
    lines = VIEWS.get(view).lines(trace, options)
    for line in lines:
        click.echo(printable(line))
    if not lines and view == "pods" and not any(r.event == "PodStatus" for r in trace):
        click.echo("note: the trace has no PodStatus records (traces written before they were added); "
                   "run the scenario again for --view pods", err=True)
    elif not lines and view != "rollout":
        click.echo("No resources found in default namespace.", err=True)


def _trace_sets(trace: Any) -> list[str]:
    return sorted({str(r.fields["statefulset"]) for r in trace if r.event == "StatefulSetCreated"})


def _check_view_set(ctx: click.Context, view_set: str | None, known: Sequence[str]) -> None:
    """``--statefulset NAME`` must name a set of the run, or the view would be silently empty."""
    if view_set is not None and view_set not in known:
        from statefulsim.present.printable import printable

        raise click.UsageError(f"--statefulset {printable(view_set)}: no such StatefulSet; "
                               f"the run has {', '.join(known) or 'none'}", ctx)


def scenario_template_labels(scenario: Any) -> dict[str, dict[str, str]]:
    """Each StatefulSet's pod template labels, for ``-l``."""
    from statefulsim.sim.api.objects import StatefulSet

    return {o.name: dict(o.spec.template.labels) for o in scenario.objects if isinstance(o, StatefulSet)}


def _console(stderr: bool = False) -> Console:
    """Rich console on stdout (or stderr): the terminal's width, or 100 columns when the output is
    not a terminal.  Control characters in what it prints (names from input files) are escaped."""
    from statefulsim.present.printable import SanitizingHook

    console = Console(highlight=False, stderr=stderr)
    console.push_render_hook(SanitizingHook())
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 100
    return console


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", prog_name="statefulsim")
def cli() -> None:
    """Simulate the Kubernetes StatefulSet controller, one scenario at a time.

    Exit codes: 0 when every expectation held, 1 when one failed, 2 for bad input or usage.
    """


@cli.command()
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
@_view_options
@click.option("--critical-path", "show_critical_path", is_flag=True,
              help="Also print the critical path of the rollout: which waits made it take as long (docs/analysis.md).")
@_plugin_option
@_allow_large
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

    _check_view_flags(ctx, view, selector, view_set, output_watch_events, view_output)
    if plot_path is not None:
        from statefulsim.present.plots import check_format

        check_format(plot_path)  # an unknown suffix fails before the run, not after
    load_plugins(plugins)
    sc = load_scenario(scenario, allow_large=allow_large)
    if view is not None:
        _check_view_set(ctx, view_set, sorted(scenario_template_labels(sc)))
    if until is not None:
        problem = sc.limits.problem("until", until, ("--until",), f"a run of {duration_text(until)}")
        if problem is not None:
            raise ScenarioError([Problem(problem.path, problem.message)])
    progress = _terminal_progress()
    try:
        result = runner.run(sc, seed=seed, until=until, progress=progress)
    finally:
        if progress is not None:
            progress.done()
    console = _console()
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
            _print_view(result.trace, sc, view, selector, view_set, output_watch_events, view_output)
        else:
            import json

            from statefulsim.present.summary import run_summary

            click.echo(json.dumps(run_summary(result, quorum=quorum, quorum_from=quorum_from), indent=2))
        console = _console(stderr=True)
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


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@_plugin_option
@_allow_large
def validate(scenario: str, plugins: tuple[str, ...] = (), allow_large: bool = False) -> None:
    """Check SCENARIO without running it."""
    from statefulsim.io.scenario import load_scenario
    from statefulsim.plugins import load_plugins
    from statefulsim.present.printable import printable

    load_plugins(plugins)
    sc = load_scenario(scenario, allow_large=allow_large)
    counts = [_plural(len(sc.objects), "object"), _plural(len(sc.actions), "action"),
              _plural(len(sc.expectations), "expectation")]
    click.echo(f"ok: {printable(sc.name)}: {', '.join(counts)}")
    for notice in sc.notices:
        click.echo(f"note: {printable(notice)}")


@cli.command()
@click.argument("trace_file", metavar="TRACE.jsonl", type=click.Path(dir_okay=False))
@click.option("--no-timeline", is_flag=True, help="Leave the timeline out of the report.")
@_view_options
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

    _check_view_flags(ctx, view, selector, view_set, output_watch_events, view_output)
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
        _check_view_set(ctx, view_set, _trace_sets(trace))
        _print_view(trace, sc, view, selector, view_set, output_watch_events, view_output)
        return
    title = f"{trace_file}: {len(trace)} records"
    if len(trace):
        title += f", {format_clock(trace[0].t)} to {format_clock(trace[len(trace) - 1].t)}"
    render_trace(trace, _console(), title=title, show_timeline=not no_timeline)


@cli.command()
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


@cli.command(name="critical-path")
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


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--runs", type=click.IntRange(min=1), default=100, show_default=True, help="Seeds per grid point.")
@click.option("--seed-start", type=click.IntRange(min=0), default=0, show_default=True, help="The first seed.")
@click.option("--set", "sets", multiple=True, metavar="PATH=V1,V2,...",
              help="A grid axis: a scenario field by its YAML path and its values (repeatable).")
@click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
              help="Worker processes, local or of the Dask LocalCluster (default: the CPU count; 1 runs in this "
                   "process).")
@click.option("--executor", default="local", show_default=True, metavar="local|dask",
              help="Where the runs happen: local processes, or a Dask cluster (pip install 'statefulsim[dask]').")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="With --executor dask: the scheduler, e.g. tcp://host:8786 (default: start a LocalCluster "
                   "of --workers processes).")
@click.option("--connect-timeout", type=DurationType(), default=10.0, metavar="DURATION",
              help="With --scheduler: give up connecting after this long (default 10s).")
@click.option("--batch", type=click.IntRange(min=1), default=None, metavar="N",
              help="Runs per task sent to a worker (default: about 4 tasks per worker, at most 50 runs).")
@click.option("--quorum", type=click.IntRange(min=1), default=None, metavar="N",
              help="Also measure the time with fewer than N Ready replicas.")
@click.option("--statefulset", default=None, metavar="NAME",
              help="The StatefulSet the metrics are about (default: the first one created).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None, metavar="FILE.csv",
              help="Write the summary as CSV (one row per grid point and metric).")
@click.option("--state", "state_path", type=click.Path(dir_okay=False), default=None, metavar="FILE.jsonl",
              help="Append every finished run here and skip runs already in it (default: next to --out).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None, metavar="FILE.png",
              help="Draw every metric across grid points (.png, .svg or .pdf).")
@click.option("--plot-kind", type=click.Choice(["box", "ecdf"]), default="box", show_default=True,
              help="With --plot: box plots, or empirical CDFs (one curve per grid point).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no table.")
@_plugin_option
@_allow_large
def sweep(scenario: str, runs: int, seed_start: int, sets: tuple[str, ...], workers: int | None, executor: str,
          scheduler: str | None, connect_timeout: float, batch: int | None,
          quorum: int | None, statefulset: str | None, out_path: str | None, state_path: str | None,
          plot_path: str | None, plot_kind: str, quiet: bool, plugins: tuple[str, ...] = (),
          allow_large: bool = False) -> None:
    """Run SCENARIO over many seeds and a grid of values; report percentiles (docs/cli.md, Sweeps)."""
    from statefulsim.sweep import SweepCli

    SweepCli(_console(), quiet).run(scenario, runs=runs, seed_start=seed_start, sets=sets, workers=workers,
                                    quorum=quorum, statefulset=statefulset, out=out_path, state=state_path,
                                    plot=plot_path, executor=executor, scheduler=scheduler,
                                    connect_timeout=connect_timeout, batch=batch, plot_kind=plot_kind,
                                    plugins=plugins, allow_large=allow_large)


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--max-runs", type=click.IntRange(min=1), default=2000, show_default=True, metavar="N",
              help="Refuse to start when the explore section has more combinations than this.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Write a replayable scenario per deadlock and per run with a violation into DIR.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, metavar="N",
              help="Worker processes (1 runs everything in this process).")
@click.option("--quiet", "-q", is_flag=True, help="Only the findings' first lines and the counts.")
@_plugin_option
@_allow_large
@click.pass_context
def explore(ctx: click.Context, scenario: str, max_runs: int, out_dir: str | None, workers: int, quiet: bool,
            plugins: tuple[str, ...] = (), allow_large: bool = False) -> None:
    """Run every combination of SCENARIO's explore: choices; report violations and deadlocks (docs/explore.md)."""
    from statefulsim.present.explore_report import explore_cli

    result = explore_cli(_console(), scenario, max_runs=max_runs, out=out_dir, workers=workers, quiet=quiet,
                         plugins=plugins, allow_large=allow_large)
    if not result.ok:
        ctx.exit(EXIT_EXPECTATION_FAILED)


@cli.command(name="check")
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

    console = _console()
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
        console.print(Text(f"FAILED: {_plural(len(violations), 'invariant violation')}", style="bold red"))
        ctx.exit(EXIT_EXPECTATION_FAILED)


@cli.command(name="calibrate")
@click.argument("files", nargs=-1, required=True, metavar="RECORDING...", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", default=None, metavar="FILE", help="Write the timing section to FILE.")
@click.option("--statefulset", default=None, metavar="NAME", help="The StatefulSet the pods belong to.")
@_plugin_option
def calibrate_cmd(files: tuple[str, ...], out: str | None, statefulset: str | None, plugins: tuple[str, ...] = ()) -> None:
    """Fit the timing from kubectl recordings of your cluster (docs/calibrate.md)."""
    from statefulsim.plugins import load_plugins
    from statefulsim.present.calibrate_report import calibrate_cli

    load_plugins(plugins)  # a plug-in's delay model and its fitter (register_fitter) become candidates
    calibrate_cli(_console(), files, out, statefulset)


@cli.command(name="compare")
@click.argument("files", nargs=-1, required=True, metavar="RECORDING...", type=click.Path(dir_okay=False))
@click.option("--scenario", required=True, type=click.Path(dir_okay=False), help="The scenario to simulate.")
@click.option("--runs", default=20, show_default=True, type=click.IntRange(1, 10000), help="Runs (seeds) to simulate.")
@click.option("--statefulset", default=None, metavar="NAME", help="The StatefulSet the pods belong to.")
@click.option("--plot", default=None, metavar="FILE.png", help="Draw observed vs simulated to FILE.")
@_plugin_option
@click.pass_context
def compare_cmd(ctx: click.Context, files: tuple[str, ...], scenario: str, runs: int, statefulset: str | None,
                plot: str | None, plugins: tuple[str, ...] = ()) -> None:
    """Observed milestones against the simulated spread of SCENARIO (docs/calibrate.md)."""
    from statefulsim.plugins import load_plugins
    from statefulsim.present.compare_report import compare_cli

    load_plugins(plugins)

    if not compare_cli(_console(), files, scenario, runs, statefulset, plot).ok:
        ctx.exit(EXIT_EXPECTATION_FAILED)


@cli.command()
@click.option("--copy", "copy_dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Write the bundled scenarios, their manifests and recordings under DIR (new files only).")
def examples(copy_dir: str | None) -> None:
    """List the bundled scenarios (run one by name: statefulsim run quickstart), or copy them out."""
    from statefulsim.io.bundled import bundled_scenarios, copy_bundled

    if copy_dir is not None:
        written = copy_bundled(copy_dir)
        click.echo(f"wrote {len(written)} files under {copy_dir}; run one with "
                   f"statefulsim run {os.path.join(copy_dir, 'quickstart.yaml')}")
        return
    shown = bundled_scenarios()
    width = max(len(b.name) for b in shown)
    for b in shown:
        click.echo(f"{b.name:<{width}}  {b.description}".rstrip())


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``statefulsim`` script (exits the process)."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="statefulsim")


if __name__ == "__main__":
    main()
