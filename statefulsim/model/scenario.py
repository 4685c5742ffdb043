"""The typed scenario: everything a run needs, validated (built by :mod:`statefulsim.io.scenario`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from statefulsim.limits import Limits
from statefulsim.model.explore import ExploreSpec
from statefulsim.sim.api.objects import ApiObject
from statefulsim.sim.cluster import ClusterConfig
from statefulsim.sim.timing import Timing


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int = 0
    until: float = 600.0
    cluster: ClusterConfig = ClusterConfig()
    objects: tuple[ApiObject, ...] = ()
    timing: Timing = Timing()
    actions: tuple[Any, ...] = ()
    expectations: tuple[Any, ...] = ()
    description: str = ""
    source: str | None = None
    #: Things the user should know that are not errors (kinds not simulated, fields ignored).
    notices: tuple[str, ...] = field(default_factory=tuple)
    #: The ``explore:`` section (``statefulsim explore``; ignored by a run), None without one.
    explore: ExploreSpec | None = None
    #: The size limits it was checked against (``cluster.limits``; UNLIMITED with ``--allow-large``).
    limits: Limits = Limits()
