"""Action timelines (:func:`action_timelines`): the ``actions:`` list of a scenario."""

from __future__ import annotations

import functools
from typing import Any, Sequence

from hypothesis import strategies as st

from statefulsim.testing.strategies.helpers import _ms, _uniform, format_seconds
from statefulsim.testing.strategies.manifests import CONTAINER, DEFAULT_IMAGES

#: Verbs :func:`action_timelines` draws by default.  ``breakReadiness``, ``failNode``,
#: ``cordonNode`` and ``drainNode`` are paired with a later ``restoreReadiness`` /
#: ``recoverNode`` / ``uncordonNode`` when ``healing`` is on.
DEFAULT_VERBS: tuple[str, ...] = ("scale", "setImage", "deletePod", "breakReadiness", "failNode", "patch",
                                  "crashContainer", "failPod", "evictPod", "drainNode", "cordonNode", "dnsQuery")
#: Every verb :func:`action_timelines` knows: the defaults, the undo verbs (drawn on their own only
#: when ``healing`` is off) and ``deleteStatefulSet`` (opt-in: the set is gone afterwards).
ALL_VERBS: tuple[str, ...] = DEFAULT_VERBS + ("restoreReadiness", "recoverNode", "uncordonNode", "deleteStatefulSet")
#: Verbs that ``healing`` timelines pair with a later undo, and that undo.
HEALS: dict[str, str] = {"breakReadiness": "restoreReadiness", "failNode": "recoverNode",
                         "cordonNode": "uncordonNode", "drainNode": "uncordonNode"}
#: The undo of a disruption made through the API (cordon, drain) comes at least this many
#: milliseconds later: both are API requests with a random latency, and an uncordon that overtook
#: its cordon would leave the node cordoned for good.
API_HEAL_MIN_MS = 5_000


@functools.lru_cache(maxsize=64)
def _gaps(max_seconds: float) -> st.SearchStrategy[int]:

    """Milliseconds between two actions: often a few seconds (mid-rollout), sometimes minutes."""
    top = _ms(max_seconds)
    return st.one_of(st.integers(0, min(top, 5_000)), st.integers(0, min(top, 60_000)), st.integers(0, top))


def _pods(statefulset: str, start_ordinal: int, max_replicas: int) -> list[str]:
    return [f"{statefulset}-{n}" for n in range(start_ordinal, start_ordinal + max(1, max_replicas))]


#: Exit codes ``crashContainer`` draws: an error, a clean exit (restarted all the same), SIGKILL
#: (137, the OOM killer) and SIGTERM (143).
_EXIT_CODES = (1, 0, 2, 137, 143)
#: Reasons ``failPod`` draws (node-pressure eviction, admission rejections).
_FAIL_REASONS = ("Evicted", "OutOfmemory", "NodeAffinity", "UnexpectedAdmissionError")


@st.composite
def _grace(draw: st.DrawFn, body: dict[str, Any]) -> dict[str, Any]:
    """Maybe a ``gracePeriodSeconds`` in ``body`` (in place)."""
    if draw(st.booleans(), label="has gracePeriodSeconds"):
        body["gracePeriodSeconds"] = draw(st.integers(0, 30), label="gracePeriodSeconds")
    return body


@st.composite
def _dns_query(draw: st.DrawFn, at_ms: int, pods: Sequence[str], service: str) -> dict[str, Any]:
    """A ``dnsQuery`` body: a pod's name ``<pod>.<service>`` (A), the Service's name (A: every
    ready pod) or its SRV name ``_web._tcp.<service>``, from the client or from a pod; once, or
    every 1-10 s for up to a minute; maybe with a client-side cache (the JVM's 30 s / 10 s)."""
    what = draw(st.sampled_from(["pod", "service", "srv"]), label="dns name")
    body: dict[str, Any]
    if what == "pod":
        body = {"name": f"{draw(st.sampled_from(list(pods)), label='dns pod')}.{service}"}
    elif what == "service":
        body = {"name": service}
    else:
        body = {"name": f"_web._tcp.{service}", "type": "SRV"}
    source = draw(st.sampled_from(["client", "pod"]), label="dns from")
    if source == "pod":
        body["from"] = draw(st.sampled_from(list(pods)), label="dns from pod")
    if draw(st.booleans(), label="dns repeated"):
        every = draw(st.integers(1, 10), label="dns every (s)")
        body["every"] = f"{every}s"
        body["until"] = format_seconds(at_ms + 1000 * every * draw(st.integers(1, 60 // every), label="dns lookups"))
    if draw(st.booleans(), label="dns client cache"):
        body["clientCache"] = {"positiveTTL": "30s", "negativeTTL": "10s"}
    return {"dnsQuery": body}


@st.composite
def _action_body(draw: st.DrawFn, verb: str, statefulset: str, pods: Sequence[str], nodes: Sequence[str],
                 images: Sequence[str], container: str, max_replicas: int, at_ms: int = 0,
                 service: str | None = None) -> dict[str, Any]:
    """One action without its ``at``: ``{verb: {...}}``.  ``at_ms``: when it fires (``dnsQuery``
    repeats until a time after it); ``service``: the set's headless Service (default: the set's
    name), for ``dnsQuery``."""
    if verb == "scale":
        return {"scale": {"statefulset": statefulset, "replicas": draw(_uniform(0, max_replicas), label="replicas")}}
    if verb == "setImage":
        return {"setImage": {"statefulset": statefulset, "container": container,
                             "image": draw(st.sampled_from(list(images)), label="image")}}
    if verb == "deletePod":
        body: dict[str, Any] = {"pod": draw(st.sampled_from(list(pods)), label="pod")}
        how = draw(st.sampled_from(["default", "grace", "force"]), label="deletion")
        if how == "grace":
            body["gracePeriodSeconds"] = draw(st.integers(0, 30), label="gracePeriodSeconds")
        elif how == "force":
            body["force"] = True
        return {"deletePod": body}
    if verb in ("breakReadiness", "restoreReadiness"):
        return {verb: {"pod": draw(st.sampled_from(list(pods)), label="pod")}}
    if verb in ("failNode", "recoverNode"):
        return {verb: {"node": draw(st.sampled_from(list(nodes)), label="node")}}
    if verb == "patch":
        what = draw(st.sampled_from(["partition", "minReadySeconds", "maxUnavailable"]), label="patch")
        if what == "partition":
            patch: dict[str, Any] = {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {
                "partition": draw(st.integers(0, max_replicas), label="partition")}}}
        elif what == "maxUnavailable":
            patch = {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": draw(
                st.one_of(st.integers(1, 3), st.sampled_from(["25%", "50%", "100%"])), label="maxUnavailable")}}}
        else:
            patch = {"minReadySeconds": draw(st.integers(0, 10), label="minReadySeconds")}
        return {"patch": {"statefulset": statefulset, "patch": {"spec": patch}}}
    if verb == "crashContainer":
        crash: dict[str, Any] = {"pod": draw(st.sampled_from(list(pods)), label="pod")}
        if draw(st.booleans(), label="crash names the container"):
            crash["container"] = container
        if draw(st.booleans(), label="has exitCode"):
            crash["exitCode"] = draw(st.sampled_from(_EXIT_CODES), label="exitCode")
        return {"crashContainer": crash}
    if verb == "failPod":
        fail: dict[str, Any] = {"pod": draw(st.sampled_from(list(pods)), label="pod")}
        if draw(st.booleans(), label="has reason"):
            fail["reason"] = draw(st.sampled_from(_FAIL_REASONS), label="reason")
        return {"failPod": fail}
    if verb == "evictPod":
        return {"evictPod": draw(_grace({"pod": draw(st.sampled_from(list(pods)), label="pod")}))}
    if verb == "drainNode":
        drain = draw(_grace({"node": draw(st.sampled_from(list(nodes)), label="node")}))
        # every pod is a StatefulSet pod; force matters once deleteStatefulSet orphaned them
        if draw(st.booleans(), label="force"):
            drain["force"] = True
        return {"drainNode": drain}
    if verb in ("cordonNode", "uncordonNode"):
        return {verb: {"node": draw(st.sampled_from(list(nodes)), label="node")}}
    if verb == "dnsQuery":
        return draw(_dns_query(at_ms, pods, service or statefulset))
    if verb == "deleteStatefulSet":
        body = {"statefulset": statefulset}
        if draw(st.booleans(), label="has cascade"):
            body["cascade"] = draw(st.sampled_from(["background", "foreground", "orphan"]), label="cascade")
        return {"deleteStatefulSet": body}
    raise ValueError(f"unknown verb {verb!r}; known: {', '.join(ALL_VERBS)}")


#: Verbs that name a node: not drawn when there are no nodes.
_NODE_VERBS = ("failNode", "recoverNode", "drainNode", "cordonNode", "uncordonNode")


@st.composite
def _action_timelines(draw: st.DrawFn, statefulset: str, max_replicas: int, start_ordinal: int, pod_count: int,
                      nodes: Sequence[str], images: Sequence[str], container: str, verbs: Sequence[str],
                      min_actions: int, max_actions: int, window: float, healing: bool,
                      max_heal_after: float, service: str) -> list[dict[str, Any]]:
    pods = _pods(statefulset, start_ordinal, pod_count)
    usable = [v for v in verbs if not (v in _NODE_VERBS and not nodes)
              and not (v == "setImage" and not images)]
    if healing:
        usable = [v for v in usable if v not in HEALS.values()]
    if not usable:
        return []
    end = _ms(window)
    n = draw(_uniform(min_actions, max_actions), label="actions")
    items: list[tuple[int, int, dict[str, Any]]] = []  # (at ms, order, action)
    now = 0
    for i in range(n):
        now = min(end, now + draw(_gaps(window), label="gap"))
        verb = draw(st.sampled_from(usable), label="verb")
        body = draw(_action_body(verb, statefulset, pods, nodes, images, container, max_replicas, now, service))
        items.append((now, i, body))
        if healing and verb in HEALS:
            # failures last long enough to reach eviction (300 s after the taint) now and then
            least = API_HEAL_MIN_MS if verb in ("cordonNode", "drainNode") else 0
            later = now + least + draw(st.one_of(st.integers(0, 60_000), st.integers(0, _ms(max_heal_after))),
                                       label="heals after")
            target = body[verb]
            undo = {"node": target["node"]} if "node" in target else {"pod": target["pod"]}
            items.append((later, n + i, {HEALS[verb]: undo}))
    items.sort(key=lambda x: (x[0], x[1]))
    return [{"at": format_seconds(at), **action} for at, _, action in items]


def action_timelines(statefulset: str = "web", *, max_replicas: int = 5, start_ordinal: int = 0,
                     pod_ordinals: int | None = None, nodes: Sequence[str] = ("node-1", "node-2", "node-3"),
                     images: Sequence[str] = DEFAULT_IMAGES[1:],
                     container: str = CONTAINER, verbs: Sequence[str] = DEFAULT_VERBS, min_actions: int = 0,
                     max_actions: int = 6, window: float = 300.0, healing: bool = True,
                     max_heal_after: float = 480.0, service: str | None = None) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Time-ordered ``actions:`` lists (``{at: 12.5s, VERB: {...}}`` with ``at`` in whole
    milliseconds, formatted in seconds) of ``min_actions..max_actions`` actions from ``verbs``
    (see :data:`ALL_VERBS`) within ``[0, window]`` seconds on the set ``statefulset``: scale
    (``0..max_replicas``), setImage (one of ``images`` on ``container``), deletePod (default
    grace, a given grace or ``force``), breakReadiness / restoreReadiness, failNode / recoverNode
    (one of ``nodes``), patch (a strategic patch of ``spec``: ``partition`` or ``maxUnavailable``
    with ``type: RollingUpdate``, or ``minReadySeconds``), crashContainer (maybe naming the container, maybe an ``exitCode``),
    failPod (maybe a ``reason``), evictPod (maybe a grace period), drainNode (maybe a grace period
    and ``force``), cordonNode / uncordonNode, dnsQuery (``<pod>.<service>``, ``<service>`` or the
    SRV name ``_web._tcp.<service>``, from the client or a pod, once or repeated for up to a
    minute; ``service`` defaults to ``statefulset``) and, only when asked for,
    deleteStatefulSet.  Pods are ``<statefulset>-<k>`` for k in
    ``[start_ordinal, start_ordinal + pod_ordinals)`` (default: ``max_replicas`` of them); a pod
    that does not exist at that time makes the action fail at run time (``ActionFailed``), which is allowed.

    ``healing=True`` pairs every breakReadiness with a later restoreReadiness of the same pod,
    every failNode with a later recoverNode of the same node, and every cordonNode and drainNode
    with a later uncordonNode of the same node (at least :data:`API_HEAL_MIN_MS` later, so that
    it cannot overtake the cordon), up to ``max_heal_after`` seconds later (possibly after
    ``window``), and draws no unpaired restore, recover or uncordon; so the last word on every pod
    and node is a healthy one.  crashContainer, failPod and evictPod heal by themselves (the
    kubelet restarts the container, the controller replaces the pod)."""
    unknown = [v for v in verbs if v not in ALL_VERBS]
    if unknown:
        raise ValueError(f"unknown verbs {unknown}; known: {', '.join(ALL_VERBS)}")
    if not 0 <= min_actions <= max_actions:
        raise ValueError(f"need 0 <= min_actions <= max_actions, got {min_actions}, {max_actions}")
    count = max_replicas if pod_ordinals is None else pod_ordinals
    return _action_timelines(statefulset, max_replicas, start_ordinal, max(1, count), tuple(nodes), tuple(images), container,
                             tuple(verbs), min_actions, max_actions, window, healing, max_heal_after,
                             service or statefulset)
