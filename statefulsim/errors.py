"""The error hierarchy.  Every error a user can cause is a :class:`StatefulSimError`."""

from __future__ import annotations

import reprlib
from dataclasses import dataclass
from typing import Any, Sequence

PathItem = "str | int"


def format_path(path: Sequence[str | int]) -> str:
    """Render a key path the way users write it: ``spec.template.spec.containers[0].image``."""
    out = ""
    for item in path:
        if isinstance(item, int):
            out += f"[{item}]"
        elif out:
            out += "." + item
        else:
            out = item
    return out or "(top level)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where (file, line, key path) and what."""

    path: tuple[str | int, ...]
    message: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        if not self.path:
            return f"{where}{self.message}"
        return f"{where}{format_path(self.path)}: {self.message}"


class StatefulSimError(Exception):
    """Base class for every error statefulsim reports to a user."""


class ScenarioError(StatefulSimError):
    """The scenario (or a manifest it names) is invalid.  Carries every problem found."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        lines = [str(p) for p in self.problems]
        super().__init__("\n".join(lines) if lines else "invalid scenario")

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from the problems, not the message (the default), so that an error raised in a
        # sweep's or explore's worker process arrives whole.
        return (type(self), (self.problems,), self.__dict__)


class SimulationError(StatefulSimError):
    """The simulation could not continue (an action named an object that does not exist, ...)."""


class TraceFormatError(StatefulSimError):
    """A trace file could not be read."""


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxdict, _SHORT.maxlist, _SHORT.maxstring, _SHORT.maxother = 3, 4, 6, 60, 60
_SHORT.maxlong = 40


def shown(value: Any) -> str:
    """A short rendering of a found value (bounded work: huge or deeply nested values are cut)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"<about {int(value.bit_length() * 0.30103)} digits>"
    text = _SHORT.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
