"""The core's plug-in registries are ``statefulsim.registry.Registry`` instances behind the
public ``register_*`` functions, and delay models answer their upper bound through a hook."""

from __future__ import annotations

import math
import random

import pytest

from statefulsim.registry import Registry
from statefulsim.sim.controllers.statefulset.policies import (
    POLICIES,
    MaxInFlight,
    OrderedReady,
    get_policy,
    policy_names,
    register_policy,
    unregister_policy,
)
from statefulsim.sim.delays import (
    DELAY_MODELS,
    NEVER,
    Constant,
    Exponential,
    LogNormal,
    Shifted,
    Uniform,
    delay_kinds,
    delay_model,
    register_delay_model,
    upper_bound,
)
from statefulsim.testing import delay_upper_bound


def test_policies_live_in_a_registry_behind_register_policy() -> None:
    assert isinstance(POLICIES, Registry)
    register_policy("Batch3", lambda: MaxInFlight(3, name="Batch3"))
    try:
        assert "Batch3" in POLICIES and policy_names()[-1] == "Batch3"
        register_policy("Batch3", lambda: MaxInFlight(4, name="Batch3"))  # replacing is allowed, as before
        policy = get_policy("Batch3")
        assert isinstance(policy, MaxInFlight) and policy.limit == 4
    finally:
        unregister_policy("Batch3")
    assert "Batch3" not in policy_names()
    with pytest.raises(KeyError, match="unknown pod management policy 'Nope'; registered: OrderedReady, Parallel"):
        get_policy("Nope")
    with pytest.raises(ValueError, match="built-in"):
        unregister_policy("OrderedReady")
    assert isinstance(get_policy("OrderedReady"), OrderedReady)


def test_delay_models_live_in_a_registry_behind_register_delay_model() -> None:
    assert isinstance(DELAY_MODELS, Registry)
    assert list(delay_kinds())[:4] == ["constant", "exponential", "uniform", "lognormal"]  # built-ins first
    register_delay_model("thrice", lambda p: Constant(3 * p["seconds"]), ("seconds",))
    try:
        assert delay_model("thrice", {"seconds": 1.5}) == Constant(4.5)
        register_delay_model("thrice", lambda p: Constant(p["seconds"]), ("seconds",))  # replacing, as before
        assert delay_model("thrice", {"seconds": 1.5}) == Constant(1.5)
        assert delay_kinds()["thrice"].params == ("seconds",)
    finally:
        DELAY_MODELS.unregister("thrice")
    assert "thrice" not in delay_kinds()
    with pytest.raises(KeyError, match="unknown delay model 'nope'; registered: constant, exponential"):
        delay_model("nope", {})


class _NoHook:
    """A user model with only the protocol's methods."""

    def sample(self, rng: random.Random) -> float:
        return 1.0

    def describe(self) -> str:
        return "one second"


@pytest.mark.parametrize("model", [
    Constant(2.5), NEVER, Uniform(1.0, 4.0), Exponential(0.2), LogNormal(0.1, 0.9),
    Shifted(0.5, Exponential(1.0)), _NoHook(),
], ids=lambda m: m.describe())
def test_upper_bound_hook_gives_the_testing_bound(model: object) -> None:
    bound = upper_bound(model)  # type: ignore[arg-type]
    assert bound == delay_upper_bound(model)
    if isinstance(model, _NoHook):
        assert bound == math.inf
    else:
        rng = random.Random(7)
        samples = [model.sample(rng) for _ in range(2000)]  # type: ignore[attr-defined]
        assert max(samples) <= bound
