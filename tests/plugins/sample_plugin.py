"""A plug-in module for the tests (docs/cli.md, Plug-ins): importing it registers the policy
``SampleBatch2`` (ordered, two pods starting at a time) and the verb ``sampleDeleteLowest``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Generator, Mapping

from statefulsim import ApiError, MaxInFlight, Verb, arg, namespace_field, register_action, register_policy
from statefulsim.problems import get_int


@dataclass(frozen=True)
class SampleDeleteLowest(Verb):
    """sampleDeleteLowest: {statefulset: web, count: 2} deletes web-0 and web-1 at once."""

    statefulset: str
    count: int = field(default=1, metadata=arg(get_int, minimum=1))
    namespace: str = namespace_field()
    verb: ClassVar[str] = "sampleDeleteLowest"

    @classmethod
    def describe(cls, fields: Mapping[str, Any]) -> str:
        pods = ", ".join(cls.touches(fields))
        return f"delete {pods} (the {fields.get('count')} lowest pods of {fields.get('statefulset')})"

    @classmethod
    def touches(cls, fields: Mapping[str, Any]) -> tuple[str, ...]:
        count = fields.get("count")
        return tuple(f"{fields.get('statefulset')}-{i}" for i in range(count if isinstance(count, int) else 1))

    def execute(self, cluster: Any) -> Generator[Any, Any, dict[str, Any]]:
        for ordinal in range(self.count):
            try:
                yield from cluster.user.delete("Pod", self.namespace, f"{self.statefulset}-{ordinal}")
            except ApiError as e:
                return {"error": e.message}
        return {}


register_policy("SampleBatch2", lambda: MaxInFlight(2, name="SampleBatch2"))
register_action(SampleDeleteLowest)
