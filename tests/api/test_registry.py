"""The one registry type every plug-in family uses."""

import pytest

from statefulsim.registry import Registry


def test_register_get_and_names_in_order() -> None:
    reg: Registry[int] = Registry("widget")
    reg.register("a", 1, builtin=True)
    reg.register("b", 2)
    assert reg.get("b") == 2
    assert reg.names() == ["a", "b"]
    assert "a" in reg and "c" not in reg
    assert len(reg) == 2


def test_unknown_name_lists_registered_ones() -> None:
    reg: Registry[int] = Registry("widget")
    reg.register("b", 2)
    reg.register("a", 1)
    with pytest.raises(KeyError, match=r"unknown widget 'z'; registered: a, b"):
        reg.get("z")


def test_duplicate_needs_replace_and_builtins_are_fixed() -> None:
    reg: Registry[int] = Registry("widget")
    reg.register("core", 0, builtin=True)
    reg.register("x", 1)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("x", 2)
    reg.register("x", 2, replace=True)
    assert reg.get("x") == 2
    with pytest.raises(ValueError, match="built-in"):
        reg.register("core", 5, replace=True)
    with pytest.raises(ValueError, match="built-in"):
        reg.unregister("core")
    reg.unregister("x")
    reg.unregister("x")
    assert reg.names() == ["core"]


def test_empty_name_rejected() -> None:
    reg: Registry[int] = Registry("widget")
    with pytest.raises(ValueError, match="non-empty"):
        reg.register("", 1)


def test_every_plug_in_family_is_one_registry() -> None:
    """Policies, delay models, verbs, expectations, invariants, kubectl views and sweep executors: one type, one shape."""
    from statefulsim.analysis.expect import EXPECTATIONS
    from statefulsim.analysis.invariants.registry import INVARIANTS
    from statefulsim.present.kubectl_views import VIEWS
    from statefulsim.sim.actions import ACTIONS
    from statefulsim.sim.controllers.statefulset.policies import POLICIES
    from statefulsim.sim.delays import DELAY_MODELS
    from statefulsim.sweep import EXECUTORS

    families = {"pod management policy": POLICIES, "delay model": DELAY_MODELS, "verb": ACTIONS,
                "expectation": EXPECTATIONS, "invariant": INVARIANTS, "view": VIEWS, "sweep executor": EXECUTORS}
    for what, family in families.items():
        assert type(family) is Registry and family.what == what and len(family) > 0
        with pytest.raises(KeyError, match=f"unknown {what} 'no-such-name'; registered: "):
            family.get("no-such-name")


def test_verbs_registry_keeps_built_ins_and_replaces_plug_ins() -> None:
    from dataclasses import dataclass
    from typing import Any, ClassVar

    from statefulsim.sim.actions import ACTIONS, Scale, Verb, action_class, action_verbs, register_action, unregister_action

    assert ACTIONS.is_builtin("scale") and ACTIONS.get("scale") is Scale
    assert "dnsQuery" in ACTIONS and "rolloutUndo" in ACTIONS  # the verbs of sim/dns and sim/actions/rollout

    @dataclass(frozen=True)
    class NotScale(Verb):
        statefulset: str
        verb: ClassVar[str] = "scale"

        def execute(self, cluster: Any) -> Any:
            yield from ()

    with pytest.raises(ValueError, match="built-in verb"):
        register_action(NotScale)
    with pytest.raises(ValueError, match="built-in verb"):
        unregister_action("scale")

    @dataclass(frozen=True)
    class Mine(NotScale):
        verb: ClassVar[str] = "testMine"

    @dataclass(frozen=True)
    class Mine2(NotScale):
        verb: ClassVar[str] = "testMine"

    register_action(Mine)
    try:
        register_action(Mine2)  # a plug-in verb registered again is replaced
        assert action_class("testMine") is Mine2 and "testMine" in action_verbs()
    finally:
        unregister_action("testMine")
    assert action_class("testMine") is None and action_class("apply") is not None
    assert ACTIONS.get("scale") is Scale


def test_sweep_executors_keep_built_ins_and_take_plug_ins() -> None:
    from statefulsim.sweep import EXECUTORS, SweepError, register_executor, unregister_executor
    from statefulsim.sweep.executors import ExecutorOptions, LocalExecutor, make_executor

    assert EXECUTORS.is_builtin("local") and EXECUTORS.is_builtin("dask")
    made: list[int] = []

    def inline(options: ExecutorOptions) -> LocalExecutor:
        made.append(options.worker_count())
        return LocalExecutor(1)

    register_executor("inline", inline)
    try:
        register_executor("inline", inline)  # a plug-in registered twice replaces itself
        assert isinstance(make_executor("inline", ExecutorOptions(workers=1)), LocalExecutor) and made == [1]
        with pytest.raises(ValueError, match="built-in sweep executor"):
            register_executor("local", inline)
        with pytest.raises(ValueError, match="cannot unregister the built-in"):
            unregister_executor("dask")
    finally:
        unregister_executor("inline")
    with pytest.raises(SweepError, match="unknown executor 'inline'; known: dask, local"):
        make_executor("inline", ExecutorOptions(workers=1))
