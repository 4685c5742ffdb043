"""``--view pods|events|rollout``: checking its flags and printing it, for ``run`` and ``show``."""

from __future__ import annotations

from typing import Any, Sequence

import click


def check_view_flags(ctx: click.Context, view: str | None, selector: str | None, view_set: str | None,
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


def print_view(trace: Any, scenario: Any, view: str, selector: str | None, view_set: str | None,
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


def trace_sets(trace: Any) -> list[str]:
    return sorted({str(r.fields["statefulset"]) for r in trace if r.event == "StatefulSetCreated"})


def check_view_set(ctx: click.Context, view_set: str | None, known: Sequence[str]) -> None:
    """``--statefulset NAME`` must name a set of the run, or the view would be silently empty."""
    if view_set is not None and view_set not in known:
        from statefulsim.present.printable import printable

        raise click.UsageError(f"--statefulset {printable(view_set)}: no such StatefulSet; "
                               f"the run has {', '.join(known) or 'none'}", ctx)


def scenario_template_labels(scenario: Any) -> dict[str, dict[str, str]]:
    """Each StatefulSet's pod template labels, for ``-l``."""
    from statefulsim.sim.api.objects import StatefulSet

    return {o.name: dict(o.spec.template.labels) for o in scenario.objects if isinstance(o, StatefulSet)}
