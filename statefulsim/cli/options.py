"""Options and parameter types that several commands share: durations, ``--allow-large``,
``--plugin``, the kubectl view flags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from statefulsim.durations import DurationError, parse_positive_duration

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


def allow_large_option(fn: Any) -> Any:
    return click.option("--allow-large", is_flag=True,
                        help="Lift the simulation-size limits (replicas, nodes, until, ...; docs/scenario.md, "
                             "Limits): for large runs you mean to make.")(fn)


def plugin_option(fn: Any) -> Any:
    """``--plugin MODULE`` (repeatable): modules that register policies, verbs, ... (docs/cli.md, Plug-ins)."""
    return click.option("--plugin", "plugins", multiple=True, metavar="MODULE",
                        help="Import this Python module first (repeatable): one that registers a policy, delay "
                             "model, verb or expectation; sweep and explore workers import it too.")(fn)


def view_options(fn: Any) -> Any:
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
