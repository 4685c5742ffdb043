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
