"""Complete scenario documents (:func:`scenarios`): manifests, timing, actions and ``until``."""

from __future__ import annotations

import math
from typing import Any, Sequence

from hypothesis import strategies as st

from statefulsim.testing.strategies.actions import DEFAULT_VERBS, action_timelines
from statefulsim.testing.strategies.delays import _timing_bound
from statefulsim.testing.strategies.helpers import _seconds_of, _uniform, format_seconds
from statefulsim.testing.strategies.manifests import (
    _BUDGETS,
    DEFAULT_IMAGES,
    _give_probes_time,
    headless_service,
    pod_disruption_budget,
    statefulset_specs,
    storage_class,
)
from statefulsim.testing.strategies.settling import MAX_SETTLE, settle_time
from statefulsim.testing.strategies.timing import timing_models

#: The DNS presets ``scenarios()`` draws for ``cluster.dns`` when a run has ``dnsQuery`` actions.
DNS_PRESETS: tuple[str, ...] = ("kubeadm", "kubeadm-legacy", "coredns-default", "no-cache")


@st.composite
def _scenarios(draw: st.DrawFn, name: str, policies: Sequence[str], min_replicas: int, max_replicas: int,
               min_nodes: int, max_nodes: int, min_actions: int, max_actions: int, verbs: Sequence[str],
               window: float, converging: bool, volume_claim_templates: bool | None,
               kubernetes_versions: Sequence[str], images: Sequence[str], settle: float | None,
               disruption_budget: bool | None) -> dict[str, Any]:
    # Draws that shape the run most come first (Hypothesis draws late choices of a long sequence
    # closer to their simplest values); timing last.
    seed = draw(st.integers(0, 2**32 - 1), label="seed")
    nodes = [f"node-{i + 1}" for i in range(draw(_uniform(min_nodes, max_nodes), label="nodes"))]
    sts = draw(statefulset_specs(name=name, min_replicas=min_replicas, max_replicas=max_replicas,
                                 policies=policies, image=images[0], volume_claim_templates=volume_claim_templates),
               label="statefulset")
    start = int((sts["spec"].get("ordinals") or {}).get("start", 0))
    # pods of the manifest's replicas and one more: most pod actions hit a pod that exists
    targets = min(max_replicas, int(sts["spec"]["replicas"]) + 1)
    actions = draw(action_timelines(name, max_replicas=max_replicas, start_ordinal=start, pod_ordinals=targets,
                                    nodes=nodes,
                                    images=images[1:], verbs=verbs, min_actions=min_actions,
                                    max_actions=max_actions, window=window, healing=converging, service=name),
                   label="actions")
    timing = draw(timing_models(statefulset=name, images=images, max_ordinal=max_replicas + 3,
                                allow_never=not converging), label="timing")
    if converging:
        # liveness/startup probes must give the slowest app start (and its probe) time to answer
        slowest = _timing_bound(timing, "appReady") + _timing_bound(timing, "probeDuration")
        _give_probes_time(sts, min(slowest, MAX_SETTLE) + 1.0)
    manifests: list[dict[str, Any]] = [headless_service(name)]
    if "volumeClaimTemplates" in sts["spec"]:
        mode = draw(st.sampled_from(["WaitForFirstConsumer", "Immediate"]), label="volumeBindingMode")
        manifests.append(storage_class(binding_mode=mode))
    evicting = any(v in verbs for v in ("evictPod", "drainNode"))
    if disruption_budget if disruption_budget is not None else (evicting and draw(st.booleans(), label="budget")):
        budget = dict(draw(st.sampled_from(_BUDGETS), label="budget spec"))
        if draw(st.booleans(), label="unhealthyPodEvictionPolicy"):
            budget["unhealthyPodEvictionPolicy"] = draw(st.sampled_from(["IfHealthyBudget", "AlwaysAllow"]),
                                                        label="unhealthyPodEvictionPolicy")
        manifests.append(pod_disruption_budget(name, **budget))
    manifests.append(sts)  # last: the StatefulSet is manifests[-1]
    last = max((_seconds_of(a["at"]) for a in actions), default=0.0)
    most = max([int(sts["spec"]["replicas"])] + [int(a["scale"]["replicas"]) for a in actions if "scale" in a])
    if settle is None:
        settle = settle_time(sts, timing, replicas=most, actions=actions) if converging else 300.0
    cluster: dict[str, Any] = {"nodes": len(nodes)}
    if kubernetes_versions:
        cluster["kubernetesVersion"] = draw(st.sampled_from(list(kubernetes_versions)), label="kubernetesVersion")
    if any("dnsQuery" in a for a in actions) and draw(st.booleans(), label="dns preset"):
        dns: dict[str, Any] = {"preset": draw(st.sampled_from(DNS_PRESETS), label="dns.preset")}
        if draw(st.booleans(), label="dns.nodeLocal"):
            dns["nodeLocal"] = True
        if draw(st.booleans(), label="dns.replicas"):
            dns["replicas"] = draw(st.integers(1, 3), label="dns.replicas")
        cluster["dns"] = dns
    return {
        "apiVersion": "statefulsim/v1",
        "kind": "Scenario",
        "metadata": {"name": f"generated-{name}",
                     "description": "generated by statefulsim.testing" + (" (converging)" if converging else "")},
        "seed": seed,
        "until": format_seconds(1000 * math.ceil(last + settle)),
        "cluster": cluster,
        "manifests": manifests,
        "timing": timing,
        "actions": actions,
    }


def scenarios(*, name: str = "web", policies: Sequence[str] = ("OrderedReady", "Parallel"), min_replicas: int = 0,
              max_replicas: int = 5, min_nodes: int = 1, max_nodes: int = 4, min_actions: int = 0,
              max_actions: int = 6, verbs: Sequence[str] = DEFAULT_VERBS, window: float = 300.0,
              converging: bool = True, volume_claim_templates: bool | None = None,
              kubernetes_versions: Sequence[str] = (), images: Sequence[str] = DEFAULT_IMAGES,
              settle: float | None = None, disruption_budget: bool | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Complete scenario documents (``apiVersion: statefulsim/v1``, ``kind: Scenario``,
    ``metadata.name``, ``seed``, ``until``, ``cluster.nodes`` (and, when there are ``dnsQuery``
    actions, maybe ``cluster.dns``: a preset of :data:`DNS_PRESETS`, ``nodeLocal``, ``replicas``),
    ``manifests`` with the headless Service ``name`` (the set's ``serviceName``), a default
    StorageClass when the set has claim templates, maybe a PodDisruptionBudget for the set
    (``disruption_budget``: None maybe, when ``verbs`` evict or drain; True always; False never),
    and the StatefulSet (always the last manifest) from
    :func:`statefulset_specs`, ``timing`` from :func:`timing_models`, ``actions`` from
    :func:`action_timelines`), ready for :func:`statefulsim.notebook.scenario_from_data` or
    :func:`statefulsim.testing.to_yaml`.  Each one passes ``statefulsim validate``.

    ``converging=True``: healing timelines, no ``never`` delays, probes that cannot kill a slow
    but healthy app, and ``until`` = the last action + :func:`settle_time`; every invariant,
    ``convergence`` included, should hold.  ``converging=False`` adds sets that stick on purpose
    (an image that never becomes ready, crash-looping apps, broken probes, nodes never
    recovered or uncordoned) and ends 5 minutes after the last action: check those with
    ``ignore=("convergence",)``.  ``images[0]`` is the manifest's image, ``setImage`` uses the
    others.  ``settle``: ``until`` is the last action plus this many seconds instead (shorter runs
    when only ordering invariants matter; ``convergence`` may then fail).  ``deleteStatefulSet``
    (only if ``verbs`` names it) deletes the set for good: ``convergence`` has nothing to check
    about it afterwards, and later actions on it fail (``ActionFailed``)."""
    if not 1 <= min_nodes <= max_nodes:
        raise ValueError(f"need 1 <= min_nodes <= max_nodes, got {min_nodes}, {max_nodes}")
    if not images:
        raise ValueError("images must name at least one image")
    return _scenarios(name, tuple(policies), min_replicas, max_replicas, min_nodes, max_nodes, min_actions,
                      max_actions, tuple(verbs), window, converging, volume_claim_templates,
                      tuple(kubernetes_versions), tuple(images), settle, disruption_budget)
