"""One registry type for every plug-in family (policies, delay models, verbs, expectations, ...).

A ``Registry`` maps a name, as written in a manifest or scenario, to one entry. Built-in entries
are marked so a plug-in cannot remove them; registering an existing name replaces it only when
asked, so two plug-ins cannot silently shadow each other. Lookups of unknown names raise
``KeyError`` with the registered names in the message, ready to show to a user.

The module imports nothing from the package: every layer may use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one plug-in family; ``what`` names the family in error messages."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, T] = {}
        self._builtin: set[str] = set()

    def register(self, name: str, entry: T, *, replace: bool = False, builtin: bool = False) -> None:
        """Add ``entry`` under ``name``; an existing name needs ``replace=True`` (not for built-ins)."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"a {self.what} name must be a non-empty string, not {name!r}")
        if name in self._builtin:
            raise ValueError(f"{name!r} is a built-in {self.what} and cannot be replaced")
        if name in self._entries and not replace:
            raise ValueError(f"a {self.what} named {name!r} is already registered "
                             f"(pass replace=True to replace it)")
        self._entries[name] = entry
        if builtin:
            self._builtin.add(name)

    def unregister(self, name: str) -> None:
        """Remove a plug-in entry; removing a built-in raises ``ValueError``, an unknown name is ignored."""
        if name in self._builtin:
            raise ValueError(f"cannot unregister the built-in {self.what} {name!r}")
        self._entries.pop(name, None)

    def get(self, name: str) -> T:
        """The entry for ``name``; ``KeyError`` naming the registered ones if there is none."""
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none"
            raise KeyError(f"unknown {self.what} {name!r}; registered: {known}") from None

    def names(self) -> list[str]:
        """Registered names, in registration order (built-ins first)."""
        return list(self._entries)

    def is_builtin(self, name: str) -> bool:
        return name in self._builtin

    def items(self) -> list[tuple[str, T]]:
        return list(self._entries.items())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.what!r}, {self.names()!r})"
