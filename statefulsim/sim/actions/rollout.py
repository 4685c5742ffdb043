"""``kubectl rollout undo`` and ``kubectl rollout restart`` for a StatefulSet.

Both change the set's pod template, so the controller makes (or reuses) a ControllerRevision and
rolls the pods as for any template change.  Sources: kubectl ``pkg/polymorphichelpers/rollback.go``
(``StatefulSetRollbacker``), ``objectrestarter.go`` and ``pkg/cmd/rollout/rollout_restart.go``;
the choices are in docs/design.md, "Rollout verbs".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, ClassVar, Mapping

from statefulsim.problems import Problems, get_int
from statefulsim.sim.actions.common import _fail
from statefulsim.sim.api.objects import ControllerRevision, StatefulSet
from statefulsim.sim.api.store import ApiError
from statefulsim.sim.cluster import Cluster
from statefulsim.sim.controllers.statefulset.revisions import canonical, revision_data, sort_revisions, template_of
from statefulsim.sim.process import Gen
from statefulsim.sim.verb import Verb, arg, namespace_field

#: The wall-clock time of simulated t = 0 in Unix seconds, 2026-01-01T00:00:00Z (what ``kubectl``
#: would read from its clock then; the epoch of ``io/kubectl_export.py`` too).
SIM_EPOCH_SECONDS = 1_767_225_600
#: The pod-template annotation ``kubectl rollout restart`` sets.
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def rfc3339(t: float) -> str:
    """Simulated time ``t`` as kubectl's ``time.Now().Format(time.RFC3339)`` (seconds, UTC).
    The core reads no clock: the date is computed (days to civil date, H. Hinnant's algorithm)."""
    days, secs = divmod(SIM_EPOCH_SECONDS + int(t // 1), 86400)
    z = days + 719468
    era, doe = divmod(z, 146097)
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (month <= 2)
    return f"{year:04d}-{month:02d}-{day:02d}T{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}Z"


def with_template(sts: StatefulSet, template: Mapping[str, Any]) -> StatefulSet | str:
    """The set with ``spec.template`` replaced wholesale (a strategic merge patch with
    ``$patch: replace``, as a ControllerRevision's data is); the API server's error text if the
    template is invalid."""
    from statefulsim.sim.api.convert import parse_statefulset_spec
    from statefulsim.sim.controllers.statefulset.policies import policy_names

    raw = dict(sts.spec_raw)
    raw["template"] = dict(template)
    problems = Problems()
    spec = parse_statefulset_spec(raw, sts.api_version, ("spec",), problems, metadata_labels=sts.metadata.labels,
                                  known_policies=policy_names())
    if spec is None:
        return "; ".join(str(p) for p in problems.items)
    return replace(sts, spec=spec, spec_raw=raw)


def _patch_template(cluster: Cluster, sts: StatefulSet,
                    template: Callable[[StatefulSet], Mapping[str, Any]]) -> Gen:
    """PATCH the set (no resourceVersion precondition) with the template ``template`` makes of
    the set as the API server has it: ``{}`` or the failure."""
    invalid: list[str] = []

    def apply(cur: Any) -> Any:
        new = with_template(cur, template(cur))
        if isinstance(new, str):
            invalid.append(new)
            return cur
        return new

    try:
        yield from cluster.user.patch("StatefulSet", sts.metadata.namespace, sts.metadata.name, apply)
    except ApiError as e:
        return _fail(e.message if e.reason != "NotFound" else f'statefulsets.apps "{sts.metadata.name}" not found')
    return _fail(invalid[0]) if invalid else {}


def _get_set(cluster: Cluster, namespace: str, name: str) -> Gen:
    """GET the set as kubectl does first: the object, or a failure mapping."""
    try:
        return (yield from cluster.user.get("StatefulSet", namespace, name))
    except ApiError:
        return _fail(f'statefulsets.apps "{name}" not found')


def controlled_history(sts: StatefulSet, revisions: list[ControllerRevision]) -> list[ControllerRevision]:
    """kubectl's ``controlledHistoryV1``: the revisions matching the set's selector whose
    controller is the set, by ``revision`` number."""
    return sort_revisions([r for r in revisions if sts.spec.selector.matches(r.metadata.labels)
                           and (ref := r.metadata.controller_ref()) is not None and ref.uid == sts.metadata.uid])


def undo_target(history: list[ControllerRevision], to_revision: int) -> ControllerRevision | str:
    """kubectl's ``findHistory``: revision ``to_revision``, or for 0 the one with the second-highest
    number; kubectl's error text when there is none."""
    if to_revision == 0:
        if len(history) < 2:
            return "no last revision to roll back to"
        return history[-2]
    for r in history:
        if r.revision == to_revision:
            return r
    return f"unable to find specified revision {to_revision} in history"


@dataclass(frozen=True)
class RolloutUndo(Verb):
    """``kubectl rollout undo statefulset/NAME [--to-revision=N]``: GET the set, LIST its
    ControllerRevisions, choose the target as kubectl does (default: the second-highest revision
    number) and PATCH the set's template back to that revision's.  Records ``RolledBack``, or
    ``RollbackSkipped`` when the template already matches."""

    statefulset: str
    to_revision: int = field(default=0, metadata=arg(get_int, minimum=0, trace="if_set"))
    namespace: str = namespace_field()
    verb: ClassVar[str] = "rolloutUndo"

    @classmethod
    def describe(cls, fields: Mapping[str, Any]) -> str:
        to = fields.get("toRevision")
        return f"rollout undo {fields.get('statefulset')}" + (f" to revision {to}" if to else "")

    def execute(self, cluster: Cluster) -> Gen:
        sts = yield from _get_set(cluster, self.namespace, self.statefulset)
        if isinstance(sts, dict):
            return sts
        listed = yield from cluster.user.list("ControllerRevision", self.namespace)
        target = undo_target(controlled_history(sts, listed), self.to_revision)
        if isinstance(target, str):
            return _fail(target)
        if canonical(revision_data(sts)) == canonical(target.data):
            cluster.env.emit("RollbackSkipped", statefulset=self.statefulset, revision=target.revision,
                             message=f"current template already matches revision {target.revision}")
            return {}
        restored = template_of(target)
        result = yield from _patch_template(cluster, sts, lambda _: restored)
        if not result:
            cluster.env.emit("RolledBack", statefulset=self.statefulset, revision=target.revision,
                             controllerRevision=target.metadata.name)
        return result


def restarted_template(sts: StatefulSet, stamp: str) -> dict[str, Any]:
    """The set's pod template with the ``restartedAt`` annotation set to ``stamp``."""
    template = dict(sts.spec.template_raw)
    meta = dict(template.get("metadata") or {})
    meta["annotations"] = {**(meta.get("annotations") or {}), RESTARTED_AT: stamp}
    template["metadata"] = meta
    return template


@dataclass(frozen=True)
class RolloutRestart(Verb):
    """``kubectl rollout restart statefulset/NAME``: GET the set and PATCH its pod template's
    ``kubectl.kubernetes.io/restartedAt`` annotation to the simulated time (RFC 3339, seconds), so
    a new revision and a rolling restart.  A second restart within the same second changes
    nothing and fails as kubectl's does."""

    statefulset: str
    namespace: str = namespace_field()
    verb: ClassVar[str] = "rolloutRestart"

    @classmethod
    def describe(cls, fields: Mapping[str, Any]) -> str:
        return f"rollout restart {fields.get('statefulset')}"

    def execute(self, cluster: Cluster) -> Gen:
        sts = yield from _get_set(cluster, self.namespace, self.statefulset)
        if isinstance(sts, dict):
            return sts
        stamp = rfc3339(cluster.env.now)
        if restarted_template(sts, stamp) == sts.spec.template_raw:
            return _fail(f"failed to create patch for {self.statefulset}: if restart has already been triggered "
                         "within the past second, please wait before attempting to trigger another")
        return (yield from _patch_template(cluster, sts, lambda cur: restarted_template(cur, stamp)))
