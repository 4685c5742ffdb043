"""Hypothesis strategies and a state machine for property tests of StatefulSet behaviour.

    from hypothesis import given, settings
    from statefulsim.testing import assert_invariants, scenarios

    @settings(max_examples=20, deadline=None)
    @given(scenarios(policies=["OrderedReady"]))
    def test_invariants(scenario):
        assert_invariants(scenario)   # fails with a scenario YAML to replay

Strategies produce plain data, exactly as written in YAML: :func:`statefulset_specs`,
:func:`timing_models`, :func:`action_timelines`, :func:`scenarios` (complete scenario
documents that pass ``statefulsim validate``).  :func:`to_yaml` writes one as a file for
``statefulsim run``; :func:`check_scenario` / :func:`assert_invariants` run one and check the
invariants; :func:`replayable` attaches the YAML to any failure of a test;
:class:`StatefulSetMachine` is a ``RuleBasedStateMachine`` over one simulated cluster.  See
docs/testing.md.

Hypothesis is a test dependency: install it with ``pip install 'statefulsim[testing]'``.
"""

from __future__ import annotations

try:
    import hypothesis  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without hypothesis
    raise ImportError(
        "statefulsim.testing needs the 'hypothesis' package, a test dependency that is not installed: "
        "pip install 'statefulsim[testing]' (or pip install hypothesis)") from exc

from statefulsim.testing import checks, strategies
from statefulsim.testing.checks import (
    END_OF_RUN_INVARIANTS,
    FAST_PHASES,
    InvariantViolation,
    assert_invariants,
    check_scenario,
    chosen_invariants,
    load_data,
    replayable,
    run_data,
    simulation_settings,
    to_yaml,
)
from statefulsim.testing.machine import StatefulSetMachine
from statefulsim.testing.strategies import (
    ALL_VERBS,
    DEFAULT_IMAGES,
    DEFAULT_VERBS,
    DELAY_KINDS,
    DNS_PRESETS,
    HEALS,
    action_timelines,
    delay_models,
    delay_upper_bound,
    format_seconds,
    headless_service,
    pod_disruption_budget,
    scenarios,
    settle_time,
    statefulset_specs,
    storage_class,
    timing_models,
)

# Everything the two modules export, and the state machine.
__all__ = ["StatefulSetMachine"]
__all__ += checks.__all__
__all__ += strategies.__all__
