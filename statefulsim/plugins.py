"""Plug-in modules: Python modules that register policies, delay models, verbs, expectations
(or invariants) when imported (docs/cli.md, "Plug-ins").

A registration made from Python lives in the process that made it.  A sweep or an exploration
runs in other processes (local workers, Dask workers), which import statefulsim afresh and know
only the built-ins; the modules named with ``--plugin MODULE`` / ``plugins=[...]`` are imported
in this process and in every worker before it loads a scenario.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Iterable

from statefulsim.errors import Problem, ScenarioError, StatefulSimError

__all__ = ["PluginError", "load_plugins", "workers_lack_registration"]


class PluginError(StatefulSimError):
    """A plug-in module could not be imported (its name is in the message)."""


def load_plugins(modules: Iterable[str], where: str = "") -> tuple[str, ...]:
    """Import every module (a dotted name, found the way ``python -m`` finds one: the current
    directory first) and return the names; :class:`PluginError` naming the first that fails.
    ``where`` says which process imports (``" in a worker process"``) for the message."""
    names = tuple(modules)
    if not names:
        return names
    cwd = os.getcwd()
    if "" not in sys.path and cwd not in sys.path:
        sys.path.insert(0, cwd)
    for name in names:
        if not name or name.endswith(".py") or "/" in name or os.sep in name:
            raise PluginError(f"--plugin {name!r}: expected a module name such as mypolicies or "
                              f"mypkg.verbs (importable from the current directory or installed), not a file")
        try:
            importlib.import_module(name)
        except Exception as e:  # the module's own error, whatever it is, is the message
            raise PluginError(f"--plugin {name}: cannot import it{where}: {type(e).__name__}: {e}") from None
    return names


def workers_lack_registration(error: ScenarioError) -> ScenarioError:
    """``error`` from a worker process, for a scenario that this process loads: what is missing
    there was registered here only.  The same problems, and what to do."""
    hint = Problem((), "this process knows these names but the worker processes do not: a policy, delay model, "
                       "verb or expectation registered from Python exists only in the process that registered "
                       "it; put the registration in a module and name it with --plugin MODULE (plugins=[...] "
                       "in Python) so that every worker imports it")
    return ScenarioError(list(error.problems) + [hint])
