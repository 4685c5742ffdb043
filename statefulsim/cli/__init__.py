"""The ``statefulsim`` command line (docs/cli.md).

Exit codes: 0 every expectation held, 1 an expectation failed, 2 bad input or usage.
The mapping from errors to exit codes lives in one place, :meth:`~statefulsim.cli.errors.Group.invoke`;
the commands only load, run and print.  Unexpected exceptions are bugs and propagate with a traceback.

This module only wires the commands into the group; each command group is a module:
``scenarios`` (run, validate), ``traces`` (show, plot, critical-path), ``sweeps`` (sweep,
explore), ``recordings`` (check, calibrate, compare), ``bundled`` (examples).  What they share:
``errors`` (exit codes), ``options``, ``output`` (console, progress), ``views`` (``--view``).
"""

from __future__ import annotations

from typing import Sequence

import click

from statefulsim.cli.bundled import examples
from statefulsim.cli.errors import EXIT_BAD_INPUT, EXIT_EXPECTATION_FAILED, EXIT_OK, Group, OutputError, error_lines
from statefulsim.cli.options import DurationType
from statefulsim.cli.recordings import calibrate_cmd, check_cmd, compare_cmd
from statefulsim.cli.scenarios import run, validate
from statefulsim.cli.sweeps import explore, sweep
from statefulsim.cli.traces import critical_path_cmd, plot, show

__all__ = ["EXIT_BAD_INPUT", "EXIT_EXPECTATION_FAILED", "EXIT_OK", "DurationType", "OutputError", "cli", "error_lines",
           "main"]


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("statefulsim")
    except Exception:  # not installed (running from a source tree)
        return "unknown"


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", prog_name="statefulsim")
def cli() -> None:
    """Simulate the Kubernetes StatefulSet controller, one scenario at a time.

    Exit codes: 0 when every expectation held, 1 when one failed, 2 for bad input or usage.
    """


for _command in (run, validate, show, plot, critical_path_cmd, sweep, explore, check_cmd, calibrate_cmd, compare_cmd,
                 examples):
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``statefulsim`` script (exits the process)."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="statefulsim")
