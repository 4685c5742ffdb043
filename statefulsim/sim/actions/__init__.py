"""Scenario actions: what a user (or an operator) does to the cluster at a given time.

Each action is a frozen dataclass with a ``verb``, a ``parse`` classmethod that validates its
fields (a plain mapping, no I/O), a ``fields`` method that gives its ``Action`` record's fields
and an ``execute`` generator that acts through the user's API client.  Most verbs subclass
:class:`Verb`, which derives ``parse`` and ``fields`` from the dataclass fields (see :func:`arg`).
Later features add verbs with :func:`register_action`.

The modules, by what the verbs act on: ``statefulset``, ``pods``, ``nodes``, ``evictions``
(``evictPod``, ``drainNode``) and ``apply``; ``common`` holds what they share, ``registry`` the
verbs by name (:data:`ACTIONS`, built-ins and plug-ins alike, the DNS verb of
:mod:`statefulsim.sim.dns.actions` and the rollout verbs of :mod:`statefulsim.sim.actions.rollout`
among them) and ``running`` runs a scenario's actions.
"""

from __future__ import annotations

from statefulsim.sim.actions.apply import Apply
from statefulsim.sim.actions.evictions import (
    DRAIN_EVICTION_RETRY,
    DRAIN_FILTER_ERRORS,
    DRAIN_POLL_INTERVAL,
    WAIT_TIMEOUT,
    DrainNode,
    EvictPod,
)
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
from statefulsim.sim.actions.registry import (
    ACTIONS,
    action_class,
    action_touches,
    action_verbs,
    describe_action,
    register_action,
    unregister_action,
)
from statefulsim.sim.actions.running import perform_action, run_actions
from statefulsim.sim.actions.statefulset import DeleteObject, DeleteStatefulSet, Patch, Scale, SetImage, statefulset_document

# RFC 7386, where it has always been imported from (now with the other patch types).
from statefulsim.sim.api.patch import merge_patch

# The verb-declaring names, re-exported where users and plug-ins have always imported them from.
from statefulsim.sim.verb import Action, Arg, Verb, arg, compact, namespace_field, seconds_text

__all__ = [
    "ACTIONS",
    "Action",
    "Apply",
    "Arg",
    "BreakLiveness",
    "BreakReadiness",
    "CordonNode",
    "CrashContainer",
    "DRAIN_EVICTION_RETRY",
    "DRAIN_FILTER_ERRORS",
    "DRAIN_POLL_INTERVAL",
    "DeleteNode",
    "DeleteObject",
    "DeletePod",
    "DeleteStatefulSet",
    "DrainNode",
    "EvictPod",
    "FailNode",
    "FailPod",
    "Patch",
    "RecoverNode",
    "RestoreLiveness",
    "RestoreReadiness",
    "Scale",
    "SetImage",
    "TaintOutOfService",
    "UncordonNode",
    "UntaintOutOfService",
    "Verb",
    "WAIT_TIMEOUT",
    "action_class",
    "action_touches",
    "action_verbs",
    "arg",
    "compact",
    "describe_action",
    "merge_patch",
    "namespace_field",
    "perform_action",
    "register_action",
    "run_actions",
    "seconds_text",
    "statefulset_document",
    "unregister_action",
]
