"""A Hypothesis state machine that drives one simulated cluster step by step.

:class:`StatefulSetMachine` draws a cluster with one StatefulSet (from
:func:`~statefulsim.testing.scenarios`), then each rule applies one action (scale, setImage,
deletePod, break/restore readiness, fail/recover a node, patch the partition, maxUnavailable or
minReadySeconds, crash a container, fail or evict a pod, drain/cordon/uncordon a node, a DNS
lookup) at the current simulated time and advances the clock by a drawn amount; after every step
the invariants that make sense on a trace cut short are checked, and at the end (after healing
what is still broken and letting the set settle) all of them, ``convergence`` included.

The steps are recorded as a scenario (``scenario()`` / ``scenario_yaml()``): actions with their
``at:`` times.  The machine fires actions exactly as ``statefulsim run`` does, so replaying that
file gives the same trace as the machine saw, and a failure raises
:class:`~statefulsim.testing.InvariantViolation` with the YAML in its message.
"""

from __future__ import annotations

import copy
from collections import deque
from typing import Any, ClassVar, Mapping

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from statefulsim.analysis.invariants import check
from statefulsim.model.scenario import Scenario
from statefulsim.problems import Problems
from statefulsim.sim.actions import ACTIONS, perform_action
from statefulsim.sim.cluster import Cluster
from statefulsim.sim.process import Gen
from statefulsim.sim.trace import Trace
from statefulsim.testing.checks import END_OF_RUN_INVARIANTS, InvariantViolation, chosen_invariants, load_data, to_yaml
from statefulsim.testing.strategies import DEFAULT_IMAGES, DEFAULT_VERBS, format_seconds, scenarios, settle_time
from statefulsim.testing.strategies.actions import API_HEAL_MIN_MS, _action_body, _gaps, _pods

__all__ = ["StatefulSetMachine"]


def parse_action(at_ms: int, body: Mapping[str, Any]) -> Any:
    """The action object for ``{VERB: {...}}`` at ``at_ms`` milliseconds, parsed as the scenario
    loader does; ValueError if it is invalid."""
    from statefulsim.io.scenario import as_json

    if len(body) != 1:
        raise ValueError(f"expected one verb, found {list(body)}")
    (verb, fields), = body.items()
    if verb not in ACTIONS:
        raise ValueError(f"unknown verb {verb!r}")
    problems = Problems()
    action = ACTIONS.get(verb).parse(at_ms / 1000, as_json(fields), (verb,), problems)
    if problems:
        raise ValueError("; ".join(str(p) for p in problems.items))
    return action


def _enabled(verb: str) -> Any:
    """The precondition of the rule that draws ``verb``: the machine's ``verbs`` name it."""
    return lambda self: verb in self.verbs


class StatefulSetMachine(RuleBasedStateMachine):
    """Random walks over actions on one StatefulSet ``web``, checking the invariants after every
    step.  Use ``StatefulSetMachine.TestCase`` (a ``unittest.TestCase``) or subclass and change
    the class attributes below.  Rules and checks never use wall-clock time.

    On failure the exception is :class:`~statefulsim.testing.InvariantViolation` (or the
    simulator's own error, with the scenario YAML added as a Hypothesis note); its message ends
    with a scenario YAML replaying every step up to the failure."""

    #: Pod management policies drawn for the set (any registered names).
    policies: ClassVar[tuple[str, ...]] = ("OrderedReady", "Parallel")
    #: Upper bound of ``replicas`` in the manifest and in scale actions.
    max_replicas: ClassVar[int] = 5
    #: Upper bound of the number of nodes.
    max_nodes: ClassVar[int] = 3
    #: The verbs the rules draw (as :data:`~statefulsim.testing.DEFAULT_VERBS`; leave one out to
    #: disable its rule).  restoreReadiness, recoverNode and uncordonNode follow breakReadiness,
    #: failNode and cordonNode/drainNode.
    verbs: ClassVar[tuple[str, ...]] = DEFAULT_VERBS
    #: Upper bound, in seconds, of the simulated time one step advances.
    max_step: ClassVar[float] = 120.0
    #: At the end: restore broken readiness, recover failed nodes, uncordon cordoned or drained
    #: ones, let the set settle and check ``convergence`` too.  False: the run ends after the last
    #: step (whose checks are the last) and the drawn timing may make pods never Ready.
    heal_at_end: ClassVar[bool] = True
    #: The invariants to check (None: every one that applies).
    checked_invariants: ClassVar[tuple[str, ...] | None] = None
    #: Invariants never checked.
    ignored_invariants: ClassVar[tuple[str, ...]] = ()
    #: Claim templates: None maybe, True always, False never.
    volume_claim_templates: ClassVar[bool | None] = None
    #: The images: the first is the manifest's, setImage draws from the others.
    images: ClassVar[tuple[str, ...]] = DEFAULT_IMAGES

    #: The StatefulSet's name.
    statefulset_name: ClassVar[str] = "web"

    def __init__(self) -> None:
        super().__init__()
        self._base: dict[str, Any] = {}
        self._sts: dict[str, Any] = {}  # the StatefulSet manifest of _base
        self._scenario: Scenario | None = None
        self._cluster: Cluster | None = None
        self._queue: deque[Any] = deque()  # parsed actions not fired yet
        self._actions: list[dict[str, Any]] = []  # the recorded actions, with their at
        self._pending_ms: int | None = None  # when the next action fires
        self._now_ms = 0  # how far the simulation has run
        self._finishing = False
        self._failed = False
        self._broken: set[str] = set()
        self._failed_nodes: set[str] = set()
        self._cordoned: set[str] = set()  # cordoned or drained, not uncordoned since
        self._ever_cordoned: set[str] = set()
        self._last_cordon_ms = -API_HEAL_MIN_MS  # when the last cordon or drain fired
        self._most_replicas = 0
        self._nodes: list[str] = []
        self._pods: list[str] = []
        self._service = self.statefulset_name

    # ------------------------------------------------------------------ public view

    @property
    def cluster(self) -> Cluster:
        """The simulated cluster (after the initial step)."""
        if self._cluster is None:
            raise RuntimeError("the machine has not built its cluster yet")
        return self._cluster

    @property
    def trace(self) -> Trace:
        """The trace so far."""
        return self.cluster.env.trace

    @property
    def now(self) -> float:
        """Simulated seconds the cluster has run."""
        return self._now_ms / 1000

    def scenario(self) -> dict[str, Any]:
        """The steps so far as scenario data: the drawn cluster, manifests and timing, the
        actions with their ``at`` times, ``until`` the current simulated time."""
        data = copy.deepcopy(self._base)
        data["metadata"] = {"name": "statefulset-machine",
                            "description": "recorded by statefulsim.testing.StatefulSetMachine"}
        data["until"] = format_seconds(max(self._now_ms, 1))
        data["actions"] = copy.deepcopy(self._actions)
        return data

    def scenario_yaml(self) -> str:
        """:meth:`scenario` as a YAML file for ``statefulsim run FILE --check``."""
        return to_yaml(self.scenario())

    # ------------------------------------------------------------------ driving the cluster

    def _build(self, base: dict[str, Any]) -> None:
        self._base = base
        self._scenario = scenario = load_data(base)
        # As runner.build_cluster, with this machine's action feeder instead of run_actions.
        cluster = Cluster(scenario.cluster, scenario.timing, scenario.seed)
        for obj in scenario.objects:
            cluster.add(obj)
        cluster.env.process(self._feeder(cluster))
        self._cluster = cluster
        self._sts = sts = next(m for m in base["manifests"] if m.get("kind") == "StatefulSet")
        start = int((sts["spec"].get("ordinals") or {}).get("start", 0))
        self._most_replicas = int(sts["spec"]["replicas"])
        self._service = str(sts["spec"].get("serviceName") or self.statefulset_name)
        self._nodes = [f"node-{i + 1}" for i in range(int(base["cluster"]["nodes"]))]
        self._pods = _pods(self.statefulset_name, start, self.max_replicas)

    def _feeder(self, cluster: Cluster) -> Gen:
        """Fires the queued actions at their times exactly as ``run_actions`` does (one process,
        the same events in the same order), learning each next time one step ahead."""
        env = cluster.env
        while True:
            if self._queue:
                at = self._queue[0].at
            elif self._pending_ms is not None:
                at = self._pending_ms / 1000
            else:
                return
            if at > env.now:
                yield env.timeout(at - env.now)
            if not self._queue:
                if self._finishing:
                    return
                raise RuntimeError(f"statefulsim.testing: no action queued at {at}s (internal error)")
            action = self._queue.popleft()
            env.emit("Action", action=action.verb, **action.fields())
            env.process(perform_action(cluster, action))

    def _advance_to(self, ms: int) -> None:
        if ms <= self._now_ms:
            return
        try:
            self.cluster.run(ms / 1000)
        except BaseException:
            self._failed = True
            self._now_ms = ms
            note("scenario to replay with `statefulsim run FILE`:\n" + self.scenario_yaml())
            raise
        self._now_ms = ms

    def _act(self, data: st.DataObject, body: dict[str, Any]) -> None:
        assert self._pending_ms is not None
        at = self._pending_ms
        self._queue.append(parse_action(at, body))
        self._actions.append({"at": format_seconds(at), **body})
        after = data.draw(_gaps(self.max_step), label="then advance (ms)")
        self._pending_ms = at + after
        self._advance_to(self._pending_ms)

    def _draw(self, data: st.DataObject, verb: str) -> dict[str, Any]:
        return data.draw(_action_body(verb, self.statefulset_name, self._pods, self._nodes, self.images[1:] or self.images[:1],
                                      "app", self.max_replicas, self._pending_ms or 0, self._service), label=verb)

    def _check(self, final: bool) -> None:
        skip = self.ignored_invariants if final else self.ignored_invariants + END_OF_RUN_INVARIANTS
        names = chosen_invariants(self.trace, self.checked_invariants, skip)
        violations = check(self.trace, names)
        if violations:
            self._failed = True
            where = "at the end, after healing and settling" if final else f"after the step ending at {self.now:g}s"
            raise InvariantViolation(violations, self.scenario(), context=f"StatefulSetMachine, {where}")

    # ------------------------------------------------------------------ rules

    def cluster_scenarios(self) -> st.SearchStrategy[dict[str, Any]]:
        """The strategy for the initial cluster: scenarios without actions, with one StatefulSet
        named ``statefulset_name`` and ``cluster.nodes`` a count (``until`` is ignored).  The
        default follows the class attributes; override it to narrow or widen the search."""
        return scenarios(name=self.statefulset_name, policies=self.policies, max_replicas=self.max_replicas,
                         max_nodes=self.max_nodes, max_actions=0, converging=self.heal_at_end,
                         volume_claim_templates=self.volume_claim_templates, images=self.images)

    @initialize(data=st.data())
    def build_cluster(self, data: st.DataObject) -> None:
        """Draw nodes, timing and the StatefulSet; run until the first action."""
        self._build(data.draw(self.cluster_scenarios(), label="cluster"))

        self._pending_ms = data.draw(_gaps(self.max_step), label="first action at (ms)")
        self._advance_to(self._pending_ms)

    @precondition(_enabled("scale"))
    @rule(data=st.data())
    def scale(self, data: st.DataObject) -> None:
        body = self._draw(data, "scale")
        self._most_replicas = max(self._most_replicas, int(body["scale"]["replicas"]))
        self._act(data, body)

    @precondition(_enabled("setImage"))
    @rule(data=st.data())
    def set_image(self, data: st.DataObject) -> None:
        self._act(data, self._draw(data, "setImage"))

    @precondition(_enabled("deletePod"))
    @rule(data=st.data())
    def delete_pod(self, data: st.DataObject) -> None:
        self._act(data, self._draw(data, "deletePod"))

    @precondition(_enabled("patch"))
    @rule(data=st.data())
    def patch(self, data: st.DataObject) -> None:
        self._act(data, self._draw(data, "patch"))

    @precondition(_enabled("breakReadiness"))
    @rule(data=st.data())
    def break_readiness(self, data: st.DataObject) -> None:
        body = self._draw(data, "breakReadiness")
        self._broken.add(body["breakReadiness"]["pod"])
        self._act(data, body)

    @precondition(lambda self: bool(self._broken))
    @rule(data=st.data())
    def restore_readiness(self, data: st.DataObject) -> None:
        pod = data.draw(st.sampled_from(sorted(self._broken)), label="pod")
        self._broken.discard(pod)
        self._act(data, {"restoreReadiness": {"pod": pod}})

    @precondition(_enabled("failNode"))
    @rule(data=st.data())
    def fail_node(self, data: st.DataObject) -> None:
        body = self._draw(data, "failNode")
        self._failed_nodes.add(body["failNode"]["node"])
        self._act(data, body)

    @precondition(lambda self: bool(self._failed_nodes))
    @rule(data=st.data())
    def recover_node(self, data: st.DataObject) -> None:
        node = data.draw(st.sampled_from(sorted(self._failed_nodes)), label="node")
        self._failed_nodes.discard(node)
        self._act(data, {"recoverNode": {"node": node}})

    @precondition(_enabled("crashContainer"))
    @rule(data=st.data())
    def crash_container(self, data: st.DataObject) -> None:
        self._act(data, self._draw(data, "crashContainer"))

    @precondition(_enabled("failPod"))
    @rule(data=st.data())
    def fail_pod(self, data: st.DataObject) -> None:
        self._act(data, self._draw(data, "failPod"))

    @precondition(_enabled("evictPod"))
    @rule(data=st.data())
    def evict_pod(self, data: st.DataObject) -> None:
        self._act(data, self._draw(data, "evictPod"))

    def _cordon(self, node: str) -> None:
        assert self._pending_ms is not None
        self._cordoned.add(node)
        self._ever_cordoned.add(node)
        self._last_cordon_ms = self._pending_ms

    @precondition(_enabled("drainNode"))
    @rule(data=st.data())
    def drain_node(self, data: st.DataObject) -> None:
        body = self._draw(data, "drainNode")
        self._cordon(body["drainNode"]["node"])
        self._act(data, body)

    @precondition(_enabled("cordonNode"))
    @rule(data=st.data())
    def cordon_node(self, data: st.DataObject) -> None:
        body = self._draw(data, "cordonNode")
        self._cordon(body["cordonNode"]["node"])
        self._act(data, body)

    @precondition(lambda self: bool(self._cordoned))
    @rule(data=st.data())
    def uncordon_node(self, data: st.DataObject) -> None:
        node = data.draw(st.sampled_from(sorted(self._cordoned)), label="node")
        self._cordoned.discard(node)
        self._act(data, {"uncordonNode": {"node": node}})

    @precondition(_enabled("dnsQuery"))
    @rule(data=st.data())
    def dns_query(self, data: st.DataObject) -> None:
        self._act(data, self._draw(data, "dnsQuery"))

    @invariant()
    def invariants_hold(self) -> None:
        """Every invariant that applies to the trace so far, except end-of-run ones."""
        if self._cluster is not None and not self._failed:
            self._check(final=False)

    def _heal(self, at: int, body: dict[str, Any]) -> None:
        self._queue.append(parse_action(at, body))
        self._actions.append({"at": format_seconds(at), **body})

    def teardown(self) -> None:
        """With ``heal_at_end``: heal, settle, and check every invariant on the whole run."""
        if self._cluster is None or self._failed or self._pending_ms is None:
            return
        at = self._pending_ms
        self._finishing = True
        self._pending_ms = None
        if not self.heal_at_end:
            return
        for pod in sorted(self._broken):
            self._heal(at, {"restoreReadiness": {"pod": pod}})
        for node in sorted(self._failed_nodes):
            self._heal(at, {"recoverNode": {"node": node}})
        # Every node ever cordoned or drained, not only those still cordoned as far as the rules
        # know: an uncordon drawn right after a drain may have reached the API server before the
        # drain's cordon.  A cordon or drain less than API_HEAL_MIN_MS ago may still be on its
        # way too, so those nodes are uncordoned once more after that (the queue fires in order).
        for node in sorted(self._ever_cordoned):
            self._heal(at, {"uncordonNode": {"node": node}})
        again = self._last_cordon_ms + API_HEAL_MIN_MS
        if self._ever_cordoned and again > at:
            for node in sorted(self._ever_cordoned):
                self._heal(again, {"uncordonNode": {"node": node}})
        self._broken.clear()
        self._failed_nodes.clear()
        self._cordoned.clear()
        settle = settle_time(self._sts, self._base.get("timing") or {}, replicas=self._most_replicas,
                             actions=self._actions)
        self._advance_to(max(at, again) + int(settle * 1000))
        self._check(final=True)
