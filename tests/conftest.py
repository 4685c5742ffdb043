import os
import sys

sys.path.insert(0, os.path.dirname(__file__))


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
