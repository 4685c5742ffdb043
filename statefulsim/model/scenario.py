"""The typed scenario: everything a run needs, validated (built by :mod:`statefulsim.io.scenario`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from statefulsim.limits import Limits
from statefulsim.model.explore import ExploreSpec
from statefulsim.sim.api.objects import ApiObject
from statefulsim.sim.cluster import ClusterConfig
from statefulsim.sim.timing import Timing
from statefulsim.sim.triggers import Trigger


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int = 0
    until: float = 600.0
    cluster: ClusterConfig = ClusterConfig()
    objects: tuple[ApiObject, ...] = ()
    timing: Timing = Timing()
    actions: tuple[Any, ...] = ()
    #: The ``when:`` actions: index in ``actions`` -> what makes it fire (the others fire ``at:``).
    triggers: Mapping[int, Trigger] = field(default_factory=dict)
    expectations: tuple[Any, ...] = ()
    description: str = ""
    source: str | None = None
    #: Things the user should know that are not errors (kinds not simulated, fields ignored).
    notices: tuple[str, ...] = field(default_factory=tuple)
    #: The ``explore:`` section (``statefulsim explore``; ignored by a run), None without one.
    explore: ExploreSpec | None = None
    #: The size limits it was checked against (``cluster.limits``; UNLIMITED with ``--allow-large``).
    limits: Limits = Limits()

    def __repr__(self) -> str:
        def n(count: int, what: str) -> str:
            return f"{count} {what}{'' if count == 1 else 's'}"

        return (f"<Scenario {self.name!r}: {n(len(self.objects), 'object')}, {n(len(self.actions), 'action')}, "
                f"{n(len(self.expectations), 'expectation')}, seed {self.seed}, until {self.until:g}s>")

    def _repr_html_(self) -> str:
        """Jupyter: name, description, source, seed and run length, then the objects it creates."""
        import html

        e = html.escape
        head = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{e(str(v))}</td></tr>" for k, v in (
            ("scenario", self.name), ("description", self.description), ("source", self.source or "(text)"),
            ("seed", self.seed), ("until", f"{self.until:g} s"), ("nodes", len(self.cluster.nodes)),
            ("actions", len(self.actions)), ("expectations", len(self.expectations))))
        objects = "".join(f"<tr><td>{e(o.kind)}</td><td>{e(o.metadata.name)}</td></tr>" for o in self.objects)
        return (f"<table>{head}</table><table><tr><th>kind</th><th>name</th></tr>{objects}</table>")
