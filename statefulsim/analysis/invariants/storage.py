"""Stable storage: ``claim-before-pod`` and ``stable-storage``."""

from __future__ import annotations

import re

from statefulsim.analysis.invariants.registry import Violation
from statefulsim.analysis.invariants.walk import _has, _pod_ref, _walk
from statefulsim.durations import format_clock
from statefulsim.sim.trace import Trace, TraceSource, as_trace

_CLAIM_EVENT = re.compile(r"^create Claim (\S+) Pod (\S+) in StatefulSet (\S+)")


def _claim_templates(trace: Trace) -> dict[tuple[str, int], set[str]]:
    """(set, incarnation) -> volumeClaimTemplate names, learned from claims tied to a pod of the
    set: a claim ``<template>-<pod>`` that the controller created for that pod (KubeEvent), that
    the pod mounted (VolumesMounted), or whose ``pod`` field names the pod (PVCCreated/PVCBound)."""
    out: dict[tuple[str, int], set[str]] = {}
    incarnations: dict[str, int] = {}
    pod_set: dict[str, tuple[str, int]] = {}  # uid -> (set, incarnation)
    latest: dict[str, tuple[str, int]] = {}  # pod name -> (set, incarnation) of its latest incarnation

    def learn(key: tuple[str, int] | None, claim: str, pod: str) -> None:
        if key is None or not claim.endswith("-" + pod) or len(claim) <= len(pod) + 1:
            return
        out.setdefault(key, set()).add(claim[: -len(pod) - 1])

    for r in trace:
        f = r.fields
        if r.event == "StatefulSetCreated":
            incarnations[f["statefulset"]] = incarnations.get(f["statefulset"], 0) + 1
        elif r.event == "PodCreated" and f.get("statefulset"):
            key = (f["statefulset"], incarnations.get(f["statefulset"], 0))
            pod_set[f["uid"]] = key
            latest[f["pod"]] = key
        elif r.event == "KubeEvent" and f.get("reason") == "SuccessfulCreate":
            m = _CLAIM_EVENT.match(str(f.get("message", "")))
            if m:
                learn((m.group(3), incarnations.get(m.group(3), 0)), m.group(1), m.group(2))
        elif r.event == "VolumesMounted":
            for claim in f.get("claims") or ():
                learn(pod_set.get(f.get("uid", "")), str(claim), f["pod"])
        elif r.event in ("PVCCreated", "PVCBound") and f.get("pod"):
            learn(latest.get(f["pod"]), str(f["pvc"]), f["pod"])
    return out


def _applies_storage(trace: Trace) -> bool:
    return _has(trace, "PVCCreated") or _has(trace, "VolumesMounted")


def check_claim_before_pod(trace: TraceSource) -> list[Violation]:
    """A pod of a set with volumeClaimTemplates is created only after every claim
    ``<template>-<pod>`` exists."""
    trace = as_trace(trace)
    templates = _claim_templates(trace)
    created: dict[str, list[float]] = {}
    for r in trace.of("PVCCreated"):
        created.setdefault(str(r.fields["pvc"]), []).append(r.t)
    out: list[Violation] = []
    for _, r, state in _walk(trace):
        if r.event != "PodCreated" or not r.fields.get("statefulset"):
            continue
        set_name = r.fields["statefulset"]
        st = state.sets.get(set_name)
        key = (set_name, st.incarnation if st is not None else 0)
        pod = r.fields["pod"]
        for tmpl in sorted(templates.get(key, ())):
            claim = f"{tmpl}-{pod}"
            if claim in state.claims:
                continue
            later = [c for c in created.get(claim, []) if c >= r.t]
            hist = state.claim_history.get(claim, [])
            if later:
                when = f"it was created only at {format_clock(later[0])}"
            elif hist:
                when = f"it was deleted at {format_clock(hist[-1][1] or 0)}"
            else:
                when = "it was never created"
            out.append(Violation("claim-before-pod", r.t, (_pod_ref(pod), f"pvc/{claim}"),
                                 f"{pod} was created before its claim {claim} existed ({when}); the controller "
                                 f"creates a pod's claims first"))
    return out


def check_stable_storage(trace: TraceSource) -> list[Violation]:
    """Every incarnation of a pod uses the claims ``<template>-<pod>`` of its own ordinal, and
    the same claims as the previous incarnations."""
    trace = as_trace(trace)
    templates = _claim_templates(trace)
    incarnations: dict[str, int] = {}
    pod_key: dict[str, tuple[str, int]] = {}  # uid -> (set, incarnation)
    pod_sets: dict[str, str] = {}  # pod name -> set
    mounted: dict[str, tuple[frozenset[str], str, float]] = {}  # pod name -> (claims, uid, t) first seen
    out: list[Violation] = []
    for r in trace:
        f = r.fields
        if r.event == "StatefulSetCreated":
            incarnations[f["statefulset"]] = incarnations.get(f["statefulset"], 0) + 1
        elif r.event == "PodCreated" and f.get("statefulset"):
            pod_key[f["uid"]] = (f["statefulset"], incarnations.get(f["statefulset"], 0))
            pod_sets[f["pod"]] = f["statefulset"]
        elif r.event == "VolumesMounted":
            pod, uid = f["pod"], f.get("uid", "")
            claims = frozenset(str(c) for c in (f.get("claims") or ()))
            key = pod_key.get(uid)
            if key is not None:
                tmpls = templates.get(key, set())
                missing = sorted(f"{t}-{pod}" for t in tmpls if f"{t}-{pod}" not in claims)
                foreign = sorted(c for c in claims for t in tmpls
                                 if c.startswith(f"{t}-{key[0]}-") and c != f"{t}-{pod}")
                if missing or foreign:
                    what = []
                    if missing:
                        what.append(f"without {', '.join(missing)}")
                    if foreign:
                        what.append(f"with another ordinal's {', '.join(foreign)}")
                    out.append(Violation("stable-storage", r.t, (_pod_ref(pod),) + tuple(f"pvc/{c}" for c in missing + foreign),
                                         f"{pod} (uid {uid[:8]}) mounted its volumes {' and '.join(what)}; a pod always "
                                         f"mounts <template>-{pod}"))
            first = mounted.get(pod)
            if first is None:
                mounted[pod] = (claims, uid, r.t)
            elif first[1] != uid and first[0] != claims:
                changed = tuple(f"pvc/{c}" for c in sorted(claims ^ first[0]))
                out.append(Violation("stable-storage", r.t, (_pod_ref(pod),) + changed,
                                     f"{pod} (uid {uid[:8]}) mounted {', '.join(sorted(claims)) or 'no claims'}, but its "
                                     f"incarnation {first[1][:8]} mounted {', '.join(sorted(first[0])) or 'no claims'} at "
                                     f"{format_clock(first[2])}; every incarnation must use the same claims"))
        elif r.event in ("PVCCreated", "PVCBound") and f.get("pod"):
            pod, claim = str(f["pod"]), str(f["pvc"])
            set_name = pod_sets.get(pod)
            if set_name is None:
                continue
            for (s, _), tmpls in templates.items():
                for t in tmpls:
                    prefix = f"{t}-{s}-"
                    owner = claim[len(t) + 1:]
                    if claim.startswith(prefix) and claim[len(prefix):].isdigit() and owner != pod:
                        out.append(Violation("stable-storage", r.t, (f"pvc/{claim}", _pod_ref(pod)),
                                             f"claim {claim} belongs to {owner} but {r.event} says pod {pod} uses it"))
    return out
