"""The scenario verbs by name (:data:`ACTIONS`), what an ``Action`` record's verb did and touched."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from statefulsim.registry import Registry
from statefulsim.sim.actions.apply import Apply
from statefulsim.sim.actions.evictions import DrainNode, EvictPod
from statefulsim.sim.actions.nodes import (
    CordonNode,
    DeleteNode,
    FailNode,
    RecoverNode,
    TaintOutOfService,
    UncordonNode,
    UntaintOutOfService,
)
from statefulsim.sim.actions.pods import (
    BreakLiveness,
    BreakReadiness,
    CrashContainer,
    DeletePod,
    FailPod,
    RestoreLiveness,
    RestoreReadiness,
)
from statefulsim.sim.actions.rollout import RolloutRestart, RolloutUndo
from statefulsim.sim.actions.statefulset import DeleteObject, DeleteStatefulSet, Patch, Scale, SetImage
from statefulsim.sim.dns.actions import DnsQuery
from statefulsim.sim.verb import Verb, compact, seconds_text

#: The scenario verbs by name: verb -> class with a ``parse(at, mapping, path, problems)``
#: classmethod (``apply`` is parsed by the scenario loader because it carries manifests, so it is
#: not here).  The built-ins cannot be replaced or removed.
ACTIONS: Registry[Any] = Registry("verb")
for _cls in (Scale, Patch, SetImage, DeleteStatefulSet, DeleteObject, DeletePod, BreakReadiness, RestoreReadiness,
             BreakLiveness, RestoreLiveness, CrashContainer, FailPod, FailNode, RecoverNode, TaintOutOfService,
             UntaintOutOfService, DeleteNode, CordonNode, UncordonNode, EvictPod, DrainNode, DnsQuery, RolloutUndo,
             RolloutRestart):
    ACTIONS.register(_cls.verb, _cls, builtin=True)


def register_action(cls: Any) -> None:
    """Add a scenario verb: ``cls.verb`` names it; ``cls.parse``, ``cls.fields`` and ``cls.execute``
    implement it (a subclass of :class:`Verb` has ``parse`` and ``fields`` from its dataclass fields).
    Registering a plug-in verb again replaces it; a built-in verb raises ``ValueError``."""
    ACTIONS.register(cls.verb, cls, replace=True)


def unregister_action(verb: str) -> None:
    """Remove a plug-in verb (not a built-in one); an unknown verb is ignored."""
    ACTIONS.unregister(verb)


def action_verbs() -> Sequence[str]:
    return sorted(list(ACTIONS) + ["apply"])


def action_class(verb: str) -> Any:
    """The class registered for ``verb``, None for a verb not registered here (a trace from
    another version or plug-in set)."""
    if verb == "apply":
        return Apply
    return ACTIONS.get(verb) if verb in ACTIONS else None


def describe_action(fields: Mapping[str, Any]) -> str:
    """What an ``Action`` record's verb did, in words (``scale web to 3``): its class's
    ``describe``; without one, the verb and the record's fields.  A ``when:`` action's condition
    follows in parentheses (``scale web to 3 (when {rolloutComplete: {statefulset: web}})``)."""
    when = {k: fields[k] for k in ("when", "after") if k in fields}
    fields = {k: v for k, v in fields.items() if k not in when}
    describe = getattr(action_class(str(fields.get("action"))), "describe", None)
    if describe is None:  # unregistered, or a class that implements only parse/fields/execute
        rest = {k: v for k, v in fields.items() if k != "action"}
        text = f"{fields.get('action')} {compact(rest)}".rstrip()
    else:
        text = str(describe(fields))
    if "when" in when:
        after = f", {seconds_text(when['after'])} after" if "after" in when else ""
        text += f" (when {compact(when['when'])}{after})"
    return text


def action_touches(fields: Mapping[str, Any]) -> tuple[str, ...]:
    """The objects an ``Action`` record's verb acts on: its class's ``touches`` (without one,
    :meth:`Verb.touches`)."""
    touches = getattr(action_class(str(fields.get("action"))), "touches", Verb.touches)
    return tuple(touches(fields))
