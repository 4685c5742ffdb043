"""The ``explore:`` section of a scenario: the choices ``statefulsim explore`` enumerates.

Built and validated by :mod:`statefulsim.io.explore_spec`; ``statefulsim run`` ignores it.
See docs/explore.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: A choice value meaning "the scenario's own value" (leave the field as it is).
KEEP = "keep"
#: A choice value meaning "remove the field or list item" (an optional action, say).
OMIT = "omit"
#: The scenario field the ``tieBreak`` dimension sets.
TIE_BREAK_PATH = "cluster.tieBreak"


@dataclass(frozen=True)
class Choice:
    """One dimension: a scenario field by its path (the sweep's syntax, docs/cli.md "Sweeps")
    and the values it takes, in order."""

    path: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class ExploreSpec:
    """Every dimension, in the order the runs vary them (the last one fastest)."""

    choices: tuple[Choice, ...] = ()

    @property
    def runs(self) -> int:
        """The number of combinations (1 without dimensions)."""
        return math.prod(len(c.values) for c in self.choices)
