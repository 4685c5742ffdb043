"""``apply``: the scenario loader parses it (it carries manifests); this is how it runs."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Mapping

from statefulsim.sim.actions.common import _fail
from statefulsim.sim.api.objects import (
    ApiObject,
    evolve,
)
from statefulsim.sim.api.store import ApiError
from statefulsim.sim.cluster import Cluster
from statefulsim.sim.process import Gen


@dataclass(frozen=True)
class Apply:
    """``kubectl apply``: create the objects, or replace the spec of ones that exist."""

    at: float
    objects: tuple[ApiObject, ...] = field(default_factory=tuple)
    verb: ClassVar[str] = "apply"

    @classmethod
    def describe(cls, fields: Mapping[str, Any]) -> str:
        objs = fields.get("objects")
        return "apply " + (", ".join(map(str, objs)) if isinstance(objs, list) else str(objs))

    @classmethod
    def touches(cls, fields: Mapping[str, Any]) -> tuple[str, ...]:
        """The applied objects, ``kind/name``."""
        return tuple(str(o) for o in fields.get("objects") or ())

    def fields(self) -> dict[str, Any]:
        return {"objects": [f"{o.kind.lower()}/{o.metadata.name}" for o in self.objects]}

    def execute(self, cluster: Cluster) -> Gen:
        errors: list[str] = []
        for obj in self.objects:
            cur = cluster.store.get(obj.kind, obj.metadata.namespace, obj.metadata.name)
            try:
                if cur is None:
                    yield from cluster.user.create(obj)
                else:
                    new = evolve(obj, metadata=replace(obj.metadata, uid=cur.metadata.uid,
                                                       resource_version=cur.metadata.resource_version))
                    yield from cluster.user.update(new)
            except ApiError as e:
                errors.append(e.message)
        return _fail("; ".join(errors)) if errors else {}
