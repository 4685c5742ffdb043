"""The commands that run one scenario many times: ``sweep`` (seeds and a grid) and ``explore`` (every
combination of its ``explore:`` choices)."""

from __future__ import annotations

import click

from statefulsim.cli.errors import EXIT_EXPECTATION_FAILED
from statefulsim.cli.options import DurationType, allow_large_option, plugin_option
from statefulsim.cli.output import make_console


@click.command()
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
@plugin_option
@allow_large_option
def sweep(scenario: str, runs: int, seed_start: int, sets: tuple[str, ...], workers: int | None, executor: str,
          scheduler: str | None, connect_timeout: float, batch: int | None,
          quorum: int | None, statefulset: str | None, out_path: str | None, state_path: str | None,
          plot_path: str | None, plot_kind: str, quiet: bool, plugins: tuple[str, ...] = (),
          allow_large: bool = False) -> None:
    """Run SCENARIO over many seeds and a grid of values; report percentiles (docs/cli.md, Sweeps)."""
    from statefulsim.sweep import SweepCli

    SweepCli(make_console(), quiet).run(scenario, runs=runs, seed_start=seed_start, sets=sets, workers=workers,
                                    quorum=quorum, statefulset=statefulset, out=out_path, state=state_path,
                                    plot=plot_path, executor=executor, scheduler=scheduler,
                                    connect_timeout=connect_timeout, batch=batch, plot_kind=plot_kind,
                                    plugins=plugins, allow_large=allow_large)


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--max-runs", type=click.IntRange(min=1), default=2000, show_default=True, metavar="N",
              help="Refuse to start when the explore section has more combinations than this.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Write a replayable scenario per deadlock and per run with a violation into DIR.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, metavar="N",
              help="Worker processes (1 runs everything in this process).")
@click.option("--quiet", "-q", is_flag=True, help="Only the findings' first lines and the counts.")
@plugin_option
@allow_large_option
@click.pass_context
def explore(ctx: click.Context, scenario: str, max_runs: int, out_dir: str | None, workers: int, quiet: bool,
            plugins: tuple[str, ...] = (), allow_large: bool = False) -> None:
    """Run every combination of SCENARIO's explore: choices; report violations and deadlocks (docs/explore.md)."""
    from statefulsim.present.explore_report import explore_cli

    result = explore_cli(make_console(), scenario, max_runs=max_runs, out=out_dir, workers=workers, quiet=quiet,
                         plugins=plugins, allow_large=allow_large)
    if not result.ok:
        ctx.exit(EXIT_EXPECTATION_FAILED)
