"""Exhaustive exploration: run every combination of a scenario's ``explore:`` choices and merge
what the runs went through into one graph of abstract states.

For small configurations this enumerates instead of sampling (docs/explore.md):

1. :func:`variants` applies every combination of the choices (the cartesian product, the last
   dimension varying fastest) to the scenario, with the sweep's path syntax
   (:func:`statefulsim.io.paths.set_path`), and validates each through the normal loader;
2. :func:`run_variant` runs one and reduces its trace to a sequence of abstract states
   (:func:`state_sequence`: per pod and per set what matters for convergence, no times, no uids);
3. :class:`StateGraph` merges identical states across runs into a ``networkx.DiGraph`` whose
   edges are the observed transitions, labelled by the trace events that caused them;
4. :func:`explore` adds the invariant violations of every run and the deadlocks: final states of
   runs that did not converge and from which no path in the graph, without a further scenario
   action, leads to a converged state.

This module sits outside the core: it loads scenarios through the normal loader, runs them with
:func:`statefulsim.runner.run` and reads traces.  Rendering and replay files are in
:mod:`statefulsim.present.explore_report`.
"""

from __future__ import annotations

import copy
import functools
import importlib
import itertools
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Sequence

from statefulsim.analysis.invariants import Violation, applicable, check
from statefulsim.analysis.replay import PodState, Replay, SetState
from statefulsim.analysis.stuck import stuck_statefulsets
from statefulsim.errors import ScenarioError, StatefulSimError
from statefulsim.io.paths import inline_files, parse_path, set_path
from statefulsim.io.scenario import load_scenario, load_scenario_text
from statefulsim.io.yamlsource import load_file
from statefulsim.model.explore import KEEP, OMIT, Choice, ExploreSpec
from statefulsim.plugins import load_plugins, workers_lack_registration
from statefulsim.runner import run
from statefulsim.sim.trace import TraceRecord, TraceSource, as_trace
from statefulsim.sweep import LocalExecutor, point_label, validated_variant

# networkx ships no type information (and types-networkx is not a dependency): load it as Any,
# which stays mypy-clean whether or not the stubs are installed.
nx: Any = importlib.import_module("networkx")

#: The default limit on the number of runs (``--max-runs``).
DEFAULT_MAX_RUNS = 2000
#: Invariants left to the deadlock analysis (a run that ends unconverged is judged by the graph).
GRAPH_JUDGED = ("convergence",)

#: Trace events that can change an abstract state (others are skipped without replaying them).
_STATE_EVENTS = frozenset({
    "PodCreated", "PodRunning", "PodReady", "PodNotReady", "PodTerminating", "PodFailed", "PodSucceeded",
    "PodDeleted", "StatefulSetCreated", "StatefulSetUpdated", "StatefulSetStatus", "RevisionCreated",
    "StatefulSetDeleted", "Action",
})


class ExploreError(StatefulSimError):
    """An exploration could not be set up (too many runs, an empty choice, ...)."""


# ---------------------------------------------------------------------------- variants

@dataclass(frozen=True)
class Variant:
    """One combination of choice values, applied: ``text`` is a self-contained scenario (manifest
    files inlined, no ``explore:`` section) that ``statefulsim run`` replays exactly."""

    index: int
    choices: tuple[tuple[str, Any], ...]
    text: str
    file: str
    base_dir: str

    @property
    def label(self) -> str:
        """``actions[3]=omit cluster.tieBreak=lifo`` (``(base)`` without choices)."""
        return point_label(dict(self.choices))


class _Omit:
    """Marks a field or list item to remove once every choice is applied (indices stay valid)."""


_OMIT_MARK = _Omit()


def _strip_omitted(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _strip_omitted(v) for k, v in data.items() if v is not _OMIT_MARK}
    if isinstance(data, list):
        return [_strip_omitted(v) for v in data if v is not _OMIT_MARK]
    return data


def _self_contained(data: dict[str, Any], base_dir: str) -> None:
    """Inline the ``{file: ...}`` manifests and make ``apply`` file references absolute, in place,
    so the scenario text runs the same from any directory."""
    if isinstance(data.get("manifests"), list):
        inline_files(data["manifests"], base_dir)
    for action in data.get("actions") or ():
        body = action.get("apply") if isinstance(action, dict) else None
        for item in (body if isinstance(body, list) else [body]):
            if isinstance(item, dict) and isinstance(item.get("file"), str) and "kind" not in item:
                if not os.path.isabs(item["file"]):
                    item["file"] = os.path.normpath(os.path.join(os.path.abspath(base_dir), item["file"]))


def combinations(spec: ExploreSpec) -> list[tuple[tuple[str, Any], ...]]:
    """Every combination of the spec's values, the last dimension varying fastest."""
    return [tuple(zip([c.path for c in spec.choices], combo))
            for combo in itertools.product(*(c.values for c in spec.choices))]


def size_text(choices: Sequence[Choice]) -> str:
    """The combinations as ``2 (path) × 3 (path)``."""
    return " × ".join(f"{len(c.values)} ({c.path})" for c in choices)


def variants(scenario_path: str | os.PathLike[str], *, max_runs: int = DEFAULT_MAX_RUNS) -> list[Variant]:
    """Apply every combination of the scenario's ``explore:`` choices and validate each.

    ``keep`` leaves a field as it is, ``omit`` removes it (``null`` at a list item too).  Raises
    :class:`ScenarioError` for an invalid scenario or a combination the loader rejects (naming
    the choices), :class:`ExploreError` above ``max_runs`` combinations."""
    name = os.fspath(scenario_path)
    spec = load_scenario(name).explore or ExploreSpec()  # the scenario and its section must be valid
    return _variants(name, spec, max_runs)


def _variants(name: str, spec: ExploreSpec, max_runs: int, allow_large: bool = False) -> list[Variant]:
    """:func:`variants` of the scenario file ``name``, whose loaded explore section is ``spec``."""
    base_dir = os.path.dirname(name) or "."
    if spec.runs > max_runs:
        raise ExploreError(f"{name}: the explore section has {spec.runs} combinations "
                           f"({size_text(spec.choices)}), more than --max-runs {max_runs}; "
                           "drop values or raise --max-runs")
    raw = load_file(name)[0].data
    out: list[Variant] = []
    for i, combo in enumerate(combinations(spec)):
        data = copy.deepcopy(dict(raw))
        data.pop("explore", None)
        for path, value in combo:
            if value == KEEP:
                continue
            omit = value == OMIT or (value is None and parse_path(path)[-1][0] == "sub")
            set_path(data, path, _OMIT_MARK if omit else copy.deepcopy(value), base_dir)
        data = _strip_omitted(data)
        _self_contained(data, base_dir)
        text, label = validated_variant(data, name, dict(combo), base_dir, allow_large=allow_large)
        out.append(Variant(i, combo, text, label, base_dir))
    return out


# ---------------------------------------------------------------------------- abstract states

@dataclass(frozen=True, order=True)
class PodView:
    """A live pod as the state sees it: no uid, no times.  ``revision`` is ``current`` or
    ``update`` (its set's current/update revision, whatever their names), ``other`` for any
    other revision (one the set has moved away from, e.g. a reverted template), ``none``."""

    name: str
    statefulset: str
    ordinal: int
    phase: str
    ready: bool
    revision: str
    terminating: bool

    def describe(self) -> str:
        ready = "Ready" if self.ready else "not Ready"
        text = f"{self.name} {self.phase} {ready} rev={self.revision}"
        return text + (" terminating" if self.terminating else "")


@dataclass(frozen=True, order=True)
class SetView:
    """A StatefulSet as the state sees it: the desired replicas, policy, start ordinal, partition
    (None when the trace does not say) and whether a rolling update is under way (the current
    and update revisions differ)."""

    name: str
    desired: int
    policy: str
    start: int
    partition: int | None
    updating: bool

    def describe(self) -> str:
        extra = f", partition {self.partition}" if self.partition else ""
        extra += f", start {self.start}" if self.start else ""
        return (f"{self.name}: {self.desired} desired ({self.policy}{extra}), "
                + ("rolling update under way" if self.updating else "current = update revision"))


@dataclass(frozen=True)
class State:
    """An abstract cluster state: the sets, the live pods and the scenario actions done so far
    (kind and object, not when).  Identical situations in different runs are equal states."""

    sets: tuple[SetView, ...]
    pods: tuple[PodView, ...]
    actions: tuple[str, ...]

    @property
    def converged(self) -> bool:
        """Every set has exactly its desired pods, each Running, Ready, not terminating, on the
        update revision (below a partition: the current one), and no rolling update is left
        (none terminating of a set that is gone)."""
        names = {s.name for s in self.sets}
        if any(p.terminating for p in self.pods if p.statefulset not in names):
            return False
        for s in self.sets:
            pods = [p for p in self.pods if p.statefulset == s.name]
            if sorted(p.ordinal for p in pods) != list(range(s.start, s.start + s.desired)):
                return False
            partition = s.partition or 0
            if partition == 0 and s.updating:
                return False
            for p in pods:
                if p.phase != "Running" or not p.ready or p.terminating:
                    return False
                updated = s.updating and p.ordinal >= s.start + partition
                if p.revision != ("update" if updated else "current"):
                    return False
        return True

    def describe(self) -> list[str]:
        """One line per set and per pod, then the actions done."""
        lines = [s.describe() for s in self.sets] + [p.describe() for p in self.pods]
        lines.append("actions done: " + (", ".join(self.actions) if self.actions else "none"))
        return lines


INITIAL = State((), (), ())


def describe_action(fields: Mapping[str, Any]) -> str:
    """``setImage web nginx registry.k8s.io/nginx-slim:broken``: the verb and its arguments."""
    parts = [str(fields.get("action"))]
    for k, v in fields.items():
        if k == "action" or v is None:
            continue
        parts.append(v if isinstance(v, str) else json.dumps(v, separators=(",", ":"), sort_keys=True, default=str))
    return " ".join(parts)


def _revision(pod: PodState, st: SetState | None) -> str:
    if pod.revision is None:
        return "none"
    if st is None or st.deleted is not None:
        return "other"
    if pod.revision == st.current_revision:
        return "current"
    if pod.revision == st.update_revision:
        return "update"
    return "other"


def abstract_state(replay: Replay, actions: tuple[str, ...]) -> State:
    """The state a :class:`~statefulsim.analysis.replay.Replay` describes."""
    sets: list[SetView] = []
    live: dict[str, SetState] = {}
    for st in replay.sets.values():
        if st.deleted is not None:
            continue
        live[st.name] = st
        cur, upd = st.current_revision, st.update_revision
        sets.append(SetView(st.name, st.spec.replicas, st.policy, st.spec.start or 0, st.spec.partition,
                            cur is not None and upd is not None and cur != upd))
    pods = [PodView(p.name, p.statefulset or "", p.ordinal, p.phase, p.ready,
                    _revision(p, live.get(p.statefulset or "")), p.terminating)
            for incarnations in replay.live.values() for p in incarnations]
    return State(tuple(sorted(sets)), tuple(sorted(pods)), actions)


def transition_label(r: TraceRecord, state: State | None = None) -> str:
    """How an edge names the record that caused it: the event, its object and, for some events,
    what changed (``PodCreated web-2 (revision update)``, ``StatefulSetUpdated web (replicas 3)``);
    ``state`` is the state after the record."""
    f = r.fields
    if r.event == "Action":
        return f"Action {describe_action(f)}"
    obj = f.get("pod") or f.get("statefulset") or ""
    label = f"{r.event} {obj}".strip()
    if r.event in ("StatefulSetCreated", "StatefulSetUpdated") and "replicas" in f:
        label += f" (replicas {f['replicas']})"
    elif r.event == "PodCreated" and state is not None:
        revs = [p.revision for p in state.pods if p.name == obj and not p.terminating]
        if revs:
            label += f" (revision {revs[-1]})"
    elif r.event == "StatefulSetStatus" and state is not None:
        views = [s for s in state.sets if s.name == obj]
        if views:
            label += " (rolling update under way)" if views[0].updating else " (current = update revision)"
    return label


@dataclass(frozen=True)
class Step:
    """One state of a run and the record that led to it (``label`` empty for the initial
    state); ``action``: the record was a scenario action."""

    label: str
    state: State
    action: bool = False


def state_sequence(trace: TraceSource) -> list[Step]:
    """The abstract states a trace goes through, starting with :data:`INITIAL`; a record that
    leaves the state as it was adds nothing."""
    trace = as_trace(trace)
    replay = Replay()
    actions: tuple[str, ...] = ()
    steps = [Step("", INITIAL)]
    for r in trace:
        replay.apply(r)
        if r.event not in _STATE_EVENTS:
            continue
        if r.event == "Action":
            actions = actions + (describe_action(r.fields),)
        state = abstract_state(replay, actions)
        if state != steps[-1].state:
            steps.append(Step(transition_label(r, state), state, r.event == "Action"))
    return steps


# ---------------------------------------------------------------------------- one run

@dataclass(frozen=True)
class RunOutcome:
    """What exploration keeps of one run: its states, its invariant violations (without
    :data:`GRAPH_JUDGED`) and why a set was stuck at the end (``Stuck.message()``)."""

    index: int
    steps: tuple[Step, ...]
    violations: tuple[Violation, ...]
    stuck: tuple[str, ...]
    records: int

    @property
    def final(self) -> State:
        return self.steps[-1].state


def run_variant(text: str, file: str, base_dir: str, index: int = 0) -> RunOutcome:
    """Load and run one variant; a module-level function so worker processes can run it."""
    # allow_large: explore() checked the size limits of every variant's text already
    result = run(load_scenario_text(text, file=file, base_dir=base_dir, allow_large=True))
    trace = result.trace
    names = [n for n in applicable(trace) if n not in GRAPH_JUDGED]
    return RunOutcome(index, tuple(state_sequence(trace)), tuple(check(trace, names)),
                      tuple(s.message() for s in stuck_statefulsets(trace)), len(trace))


# ---------------------------------------------------------------------------- the graph

class StateGraph:
    """Abstract states of every run merged into one ``networkx.DiGraph``.

    Nodes are :class:`State` objects with ``runs`` (the indices of the runs that were in it)
    and ``converged``; an edge is a transition some run made, with ``labels`` (a Counter of the
    records that caused it), ``runs`` (the runs that made it) and ``action`` (caused by a
    scenario action)."""

    def __init__(self) -> None:
        self.graph: Any = nx.DiGraph()
        self.graph.add_node(INITIAL, runs=set(), converged=INITIAL.converged)

    def add_run(self, outcome: RunOutcome) -> None:
        g = self.graph
        prev: State | None = None
        for step in outcome.steps:
            s = step.state
            if s not in g:
                g.add_node(s, runs=set(), converged=s.converged)
            g.nodes[s]["runs"].add(outcome.index)
            if prev is not None:
                if not g.has_edge(prev, s):
                    g.add_edge(prev, s, labels=Counter(), runs=set(), action=step.action)
                data = g.edges[prev, s]
                data["labels"][step.label] += 1
                data["runs"].add(outcome.index)
                data["action"] = data["action"] or step.action
            prev = s

    @property
    def states(self) -> int:
        return int(self.graph.number_of_nodes())

    @property
    def transitions(self) -> int:
        return int(self.graph.number_of_edges())

    def can_converge(self) -> set[State]:
        """States from which a path without scenario actions leads to a converged state."""
        g = self.graph
        good = {s for s, d in g.nodes(data=True) if d["converged"]}
        todo = list(good)
        while todo:
            v = todo.pop()
            for u in g.predecessors(v):
                if u not in good and not g.edges[u, v]["action"]:
                    good.add(u)
                    todo.append(u)
        return good

    def shortest_path(self, target: State) -> list[str]:
        """The events of a shortest path from the initial state to ``target`` (each edge named by
        its most frequent label)."""
        nodes = nx.shortest_path(self.graph, INITIAL, target)
        return [self.graph.edges[a, b]["labels"].most_common(1)[0][0] for a, b in zip(nodes, nodes[1:])]


# ---------------------------------------------------------------------------- findings

@dataclass(frozen=True)
class FoundViolation:
    """An invariant violation in one run."""

    run: int
    violation: Violation


@dataclass
class Deadlock:
    """A state some runs ended in, unconverged, from which no path without a further scenario
    action leads to a converged state."""

    state: State
    runs: list[int]
    path: list[str]
    stuck: tuple[str, ...]  # why the first of those runs was stuck, from the stuck report

    @property
    def example(self) -> int:
        """The run whose scenario the replay file holds (the first one)."""
        return self.runs[0]


@dataclass
class ExploreResult:
    """Every run, the merged graph and what was found.  ``ok``: no violation, no deadlock."""

    scenario: str
    spec: ExploreSpec
    variants: list[Variant]
    outcomes: list[RunOutcome]
    graph: StateGraph
    violations: list[FoundViolation] = field(default_factory=list)
    deadlocks: list[Deadlock] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations and not self.deadlocks

    @property
    def runs(self) -> int:
        return len(self.outcomes)

    def summary(self) -> str:
        """``explored N runs, M distinct states, E transitions``."""
        return (f"explored {self.runs} run{'' if self.runs == 1 else 's'}, {self.graph.states} distinct states, "
                f"{self.graph.transitions} transitions")


ProgressCallback = Callable[[int, int], None]


def _run(v: Variant, plugins: tuple[str, ...] = ()) -> RunOutcome:
    if plugins:
        load_plugins(plugins, " in a worker process")
    return run_variant(v.text, v.file, v.base_dir, v.index)


def _execute(todo: Sequence[Variant], workers: int, plugins: tuple[str, ...] = ()) -> Iterator[RunOutcome]:
    """The runs, on the sweep's local executor (this process, or ``workers`` processes that
    import ``plugins`` first)."""
    with LocalExecutor(workers) as executor:
        try:
            yield from executor.map(functools.partial(_run, plugins=plugins), todo)
        except ScenarioError as e:  # every variant loaded here: a worker lacks a registration
            if executor.in_process:
                raise
            raise workers_lack_registration(e) from None


def explore(scenario_path: str | os.PathLike[str], *, max_runs: int = DEFAULT_MAX_RUNS, workers: int = 1,
            progress: ProgressCallback | None = None, plugins: Sequence[str] = (),
            allow_large: bool = False) -> ExploreResult:
    """Run every combination of the scenario's choices and analyse them (see the module doc),
    after importing the ``plugins`` modules here and in every worker.

    The result does not depend on ``workers``: runs are merged in the order of their index.
    Raises :class:`ScenarioError` or :class:`ExploreError` for bad input."""
    if max_runs < 1:
        raise ExploreError("--max-runs must be at least 1")

    loaded = load_plugins(plugins)

    name = os.fspath(scenario_path)
    spec = load_scenario(name, allow_large=allow_large).explore or ExploreSpec()
    todo = _variants(name, spec, max_runs, allow_large)
    outcomes: list[RunOutcome] = []
    if progress is not None:
        progress(0, len(todo))
    for outcome in _execute(todo, workers, loaded):
        outcomes.append(outcome)
        if progress is not None:
            progress(len(outcomes), len(todo))
    outcomes.sort(key=lambda o: o.index)
    return analyse(name, spec, todo, outcomes)


def analyse(scenario: str, spec: ExploreSpec, runs: list[Variant], outcomes: list[RunOutcome]) -> ExploreResult:
    """Merge the runs' states into a graph and find violations and deadlocks."""
    graph = StateGraph()
    for o in outcomes:
        graph.add_run(o)
    result = ExploreResult(scenario, spec, runs, outcomes, graph)
    result.violations = [FoundViolation(o.index, v) for o in outcomes for v in o.violations]
    good = graph.can_converge()
    ended: dict[State, list[int]] = {}
    for o in outcomes:
        if not o.final.converged and o.final not in good:
            ended.setdefault(o.final, []).append(o.index)
    by_index = {o.index: o for o in outcomes}
    for state, idx in ended.items():
        result.deadlocks.append(Deadlock(state, idx, graph.shortest_path(state), by_index[idx[0]].stuck))
    return result


__all__ = [
    "DEFAULT_MAX_RUNS", "Deadlock", "ExploreError", "ExploreResult", "FoundViolation", "INITIAL", "PodView",
    "RunOutcome", "SetView", "State", "StateGraph", "Step", "Variant", "abstract_state", "analyse", "combinations",
    "describe_action", "explore", "run_variant", "size_text", "state_sequence", "transition_label", "variants",
]
