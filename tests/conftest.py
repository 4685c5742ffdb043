import importlib
import os
import pkgutil
import sys

import statefulsim

sys.path.insert(0, os.path.dirname(__file__))

# Hypothesis seeds its draws with constants it finds in the project's modules that are loaded
# when a test starts, so a derandomized property test would draw other examples depending on
# which tests ran before it (and imported, say, statefulsim.explore lazily). Loading every module
# of the package up front makes the examples the same in every order and every subset of files.
for _module in pkgutil.walk_packages(statefulsim.__path__, "statefulsim."):
    importlib.import_module(_module.name)

def _pin_hypothesis_constants() -> None:
    """Keep derandomized property tests reproducible across unrelated edits.

    Hypothesis (6.1xx) draws some values from the literal constants of every local module loaded
    so far (this package and the test files), so with ``derandomize=True`` the examples a test
    draws changed with any new literal anywhere, and with which test files ran before it.  An
    empty pool makes a test's examples depend only on the test and its strategies."""
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:  # another Hypothesis version: nothing to pin
        return
    empty = Constants()
    if hasattr(providers, "_get_local_constants"):
        providers._get_local_constants = lambda: empty


_pin_hypothesis_constants()
