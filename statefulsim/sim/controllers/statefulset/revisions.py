"""ControllerRevisions: naming, hashing, current/update revision and history truncation
(upstream ``getStatefulSetRevisions``, ``truncateHistory`` and ``pkg/controller/history``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Mapping

from statefulsim.sim.api.objects import ControllerRevision, ObjectMeta, PodTemplate, StatefulSet
from statefulsim.sim.controllers.statefulset.utils import controller_ref_for

_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode(text: str) -> str:
    """``rand.SafeEncodeString``: map each character onto consonants and digits."""
    return "".join(_ALPHANUMS[ord(c) % len(_ALPHANUMS)] for c in text)


def revision_data(sts: StatefulSet) -> dict[str, Any]:
    """The patch a revision stores: only the pod template, with ``$patch: replace``."""
    tmpl = dict(sts.spec.template_raw)
    tmpl["$patch"] = "replace"
    return {"spec": {"template": tmpl}}


def canonical(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


#: Revision names per (set name, canonical data, collisionCount), per process, bounded: the
#: FNV hash is a pure-Python loop over the bytes, and a sweep names the same revisions in every run.
_NAMES: dict[tuple[str, str, int], str] = {}
_NAMES_LIMIT = 1024


def revision_name(set_name: str, data: Mapping[str, Any], collision_count: int) -> str:
    text = canonical(data)
    key = (set_name, text, collision_count)
    name = _NAMES.get(key)
    if name is None:
        raw = text.encode()
        if collision_count:
            raw += str(collision_count).encode()
        name = f"{set_name}-{safe_encode(str(fnv32a(raw)))}"
        if len(_NAMES) >= _NAMES_LIMIT:
            _NAMES.clear()
        _NAMES[key] = name
    return name


def template_of(rev: ControllerRevision) -> Mapping[str, Any]:
    tmpl = dict(rev.data["spec"]["template"])
    tmpl.pop("$patch", None)
    return tmpl


class RevisionCache:
    """Remembers the costly parts of revision planning (canonical JSON and its hash) per input
    object.  Store objects are never mutated, so an object's identity is a safe key; each entry
    holds its key object, so an ``id`` cannot be reused while the entry lives.  Bounded: cleared
    when full.  Results are the same as without it."""

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._canonical: dict[int, tuple[object, str]] = {}
        self._names: dict[tuple[int, str, int], tuple[object, dict[str, Any], str]] = {}
        self._plans: dict[tuple[object, ...], tuple[tuple[object, ...], RevisionPlan]] = {}
        #: plans answered from :meth:`plan`'s memo (tests check the fast path ran)
        self.plan_hits = 0

    def plan(self, sts: StatefulSet, revisions: list[ControllerRevision]) -> RevisionPlan:
        """:func:`plan_revisions` with this cache, remembered per input: a plan depends only on
        the set's spec, name, namespace and uid, its collisionCount and currentRevision, and the
        revision objects (all immutable), so a sync that sees the same ones gets the same plan
        back.  Each entry holds the objects whose ids it is keyed by."""
        meta, status = sts.metadata, sts.status
        held = (sts.spec, *revisions)
        key = (meta.name, meta.namespace, meta.uid, status.collision_count, status.current_revision,
               *map(id, held))
        hit = self._plans.get(key)
        if hit is not None and all(a is b for a, b in zip(hit[0], held)):
            self.plan_hits += 1
            return hit[1]
        plan = _plan_revisions(sts, revisions, self)
        if len(self._plans) >= self._limit:
            self._plans.clear()
        self._plans[key] = (held, plan)
        return plan

    def canonical(self, data: Mapping[str, Any]) -> str:
        hit = self._canonical.get(id(data))
        if hit is not None and hit[0] is data:
            return hit[1]
        text = canonical(data)
        if len(self._canonical) >= self._limit:
            self._canonical.clear()
        self._canonical[id(data)] = (data, text)
        return text

    def data_and_name(self, sts: StatefulSet, collision_count: int) -> tuple[dict[str, Any], str]:
        """``revision_data(sts)`` and the revision's name (the same data object on every hit)."""
        raw = sts.spec.template_raw
        key = (id(raw), sts.metadata.name, collision_count)
        hit = self._names.get(key)
        if hit is not None and hit[0] is raw:
            return hit[1], hit[2]
        data = revision_data(sts)
        name = revision_name(sts.metadata.name, data, collision_count)
        if len(self._names) >= self._limit:
            self._names.clear()
        self._names[key] = (raw, data, name)
        return data, name


def new_revision(sts: StatefulSet, number: int, collision_count: int,
                 cache: RevisionCache | None = None) -> ControllerRevision:
    if cache is None:
        data = revision_data(sts)
        name = revision_name(sts.metadata.name, data, collision_count)
    else:
        data, name = cache.data_and_name(sts, collision_count)
    labels = dict(sts.spec.template.labels)
    labels["controller.kubernetes.io/hash"] = name.rsplit("-", 1)[1]
    meta = ObjectMeta(
        name=name,
        namespace=sts.metadata.namespace,
        labels=labels,
        owner_references=(controller_ref_for(sts),),
    )
    return ControllerRevision(metadata=meta, data=data, revision=number)


def sort_revisions(revs: list[ControllerRevision]) -> list[ControllerRevision]:
    return sorted(revs, key=lambda r: (r.revision, r.metadata.creation_timestamp or 0.0, r.metadata.name))


@dataclass(frozen=True)
class RevisionPlan:
    """What ``getStatefulSetRevisions`` decided, before any API write."""

    current: ControllerRevision | None  # None: same as update
    update: ControllerRevision
    collision_count: int
    create: bool  # the update revision is new and must be created
    renumber: bool  # an older equal revision is reused (rollback): bump its number


def plan_revisions(sts: StatefulSet, revisions: list[ControllerRevision],
                   cache: RevisionCache | None = None) -> RevisionPlan:
    """Choose current and update revisions from the set and its revisions (in any order);
    with ``cache``, remembered per input (:meth:`RevisionCache.plan`)."""
    if cache is not None:
        return cache.plan(sts, revisions)
    return _plan_revisions(sts, revisions, None)


def _plan_revisions(sts: StatefulSet, revisions: list[ControllerRevision],
                    cache: RevisionCache | None) -> RevisionPlan:
    canon = canonical if cache is None else cache.canonical
    collision = sts.status.collision_count
    revisions = sort_revisions(revisions)
    next_number = revisions[-1].revision + 1 if revisions else 1
    candidate = new_revision(sts, next_number, collision, cache)
    key = canon(candidate.data)
    equal = [r for r in revisions if canon(r.data) == key]
    create = False
    renumber = False
    if equal and equal[-1] is revisions[-1]:
        update = revisions[-1]
    elif equal:
        update = replace(equal[-1], revision=next_number)
        renumber = True
    else:
        names = {r.metadata.name for r in revisions}
        while candidate.metadata.name in names:
            collision += 1
            candidate = new_revision(sts, next_number, collision, cache)
        update = candidate
        create = True
    current = None
    for r in revisions:
        if r.metadata.name == sts.status.current_revision:
            current = r
    if renumber and current is not None and current.metadata.name == update.metadata.name:
        current = update
    return RevisionPlan(current, update, collision, create, renumber)


def revisions_to_truncate(revisions: list[ControllerRevision], live: set[str], limit: int) -> list[ControllerRevision]:
    """Non-live revisions beyond ``revisionHistoryLimit``, oldest first (negative: keep all)."""
    if limit < 0:
        return []
    history = [r for r in sort_revisions(revisions) if r.metadata.name not in live]
    excess = len(history) - limit
    return history[:excess] if excess > 0 else []


class TemplateCache:
    """Parsed pod templates per revision name (parsing a template is not free)."""

    def __init__(self) -> None:
        self._cache: dict[str, PodTemplate] = {}

    def get(self, rev: ControllerRevision) -> PodTemplate:
        from statefulsim.problems import Problems
        from statefulsim.sim.api.convert import parse_pod_template

        tmpl = self._cache.get(rev.metadata.name)
        if tmpl is None:
            problems = Problems()
            tmpl = parse_pod_template(template_of(rev), ("spec", "template"), problems)
            self._cache[rev.metadata.name] = tmpl
        return tmpl
