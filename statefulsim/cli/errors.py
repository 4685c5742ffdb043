"""Exit codes, and the one place that turns a user error into exit code 2 (``Group.invoke``)."""

from __future__ import annotations

from typing import Any

import click

from statefulsim.errors import ScenarioError, StatefulSimError

EXIT_OK = 0
EXIT_EXPECTATION_FAILED = 1
EXIT_BAD_INPUT = 2


class OutputError(StatefulSimError):
    """An output file (``--trace``) could not be written."""


def error_lines(error: StatefulSimError) -> list[str]:
    """How an error is shown: one ``error: ...`` line per problem (``file:line: key.path: message``)."""
    from statefulsim.present.printable import printable

    if isinstance(error, ScenarioError) and error.problems:
        return [f"error: {printable(str(p))}" for p in error.problems]
    text = str(error) or type(error).__name__
    first, *rest = text.splitlines()
    return [f"error: {printable(first)}"] + [f"  {printable(line)}" for line in rest]


class Group(click.Group):
    """The one place that turns a user error into exit code 2 (click's usage errors already are)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except StatefulSimError as e:
            for line in error_lines(e):
                click.echo(line, err=True)
            ctx.exit(EXIT_BAD_INPUT)
