"""Loading scenario files: YAML → :class:`~statefulsim.model.scenario.Scenario`.

Every problem is collected in one pass and reported with file, line, key path, what was expected
and what was found.  Manifests load unchanged from ``{file: path}`` entries or inline.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import os
from typing import Any, Mapping, Sequence

import yaml

from statefulsim.analysis.conditions import parse_condition
from statefulsim.analysis.expect import parse_expectations
from statefulsim.durations import DurationError, parse_duration
from statefulsim.errors import Problem, ScenarioError
from statefulsim.io.bundled import resolve_bundled
from statefulsim.io.explore_spec import parse_explore
from statefulsim.io.yamlsource import Document, load_documents, load_file, locate, safe_load
from statefulsim.limits import INT32_MAX, LIMIT_KEYS, MAX_SIMULATED_SECONDS, UNLIMITED, Limits, duration_text, with_values
from statefulsim.model.scenario import Scenario
from statefulsim.problems import (
    Path,
    Problems,
    get_bool,
    get_duration,
    get_int,
    get_list,
    get_mapping,
    get_str,
    get_str_map,
    plugin_hint,
    shown,
    suggest,
)
from statefulsim.sim.actions import (
    ACTIONS,
    Apply,
    DeleteStatefulSet,
    FailNode,
    Patch,
    RecoverNode,
    Scale,
    SetImage,
    action_verbs,
)
from statefulsim.sim.api.convert import object_from_manifest, parse_quantity_cpu, parse_quantity_memory
from statefulsim.sim.api.names import dns1123_subdomain
from statefulsim.sim.api.objects import ApiObject, GenericObject, Node, StatefulSet
from statefulsim.sim.cluster import DEFAULT_REGION, ClusterConfig, NodeConfig, in_zones, nodes_named
from statefulsim.sim.controllers.statefulset.controller import ControllerSettings
from statefulsim.sim.controllers.statefulset.policies import policy_names
from statefulsim.sim.delays import NEVER, Constant, DelayModel, delay_kinds, delay_model
from statefulsim.sim.dns.actions import DnsQuery
from statefulsim.sim.dns.cache import CacheSettings
from statefulsim.sim.dns.server import PRESETS as DNS_PRESETS
from statefulsim.sim.dns.server import DnsConfig
from statefulsim.sim.kubelet.images import PULL_FAILURES, ImagePullRule
from statefulsim.sim.tiebreak import parse_tie_break
from statefulsim.sim.timing import CLUSTER_KEYS, DEFAULTS, MATCH_KEYS, POD_KEYS, VOLUME_KEYS, Timing, TimingOverride
from statefulsim.sim.triggers import Trigger
from statefulsim.sim.versions import NEWEST, feature_gates

API_VERSION = "statefulsim/v1"
#: The keys of an action item besides its verb.
TRIGGER_KEYS = ("at", "when", "after", "timeout")
TOP_KEYS = ("apiVersion", "kind", "metadata", "seed", "until", "cluster", "manifests", "timing", "actions", "expect",
            "explore", "images")


# libyaml when available (same output and safety, much faster): load_scenario_data runs for
# every example a property test draws.
SAFE_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


#: What ``{file: DIR}`` reads from a directory, as ``kubectl apply -f DIR`` does.
MANIFEST_SUFFIXES = (".json", ".yaml", ".yml")
#: At most this many manifest files from one directory (each is bounded by statefulsim.io.files).
MAX_MANIFEST_FILES = 1000


def load_scenario(path: str | os.PathLike[str], *, allow_large: bool = False) -> Scenario:
    """Read and validate a scenario file; raises :class:`ScenarioError` listing every problem.

    ``path`` may also be the name of a bundled scenario (``quickstart``; see ``statefulsim
    examples``) when no file of that name exists.

    Sizes beyond the scenario's limits (statefulsim.limits, ``cluster.limits``) are problems
    unless ``allow_large`` (the ``--allow-large`` flag)."""
    name = os.fspath(path)
    # A bare name that is not a file here is a bundled scenario's: `statefulsim run quickstart`.
    bundled = resolve_bundled(name)
    if bundled is None and not os.path.lexists(name) and os.path.basename(name) == name:
        raise ScenarioError([Problem((), "no such file, nor a bundled scenario of that name "
                                         "(`statefulsim examples` lists them)", file=name)])
    name = bundled or name
    docs = load_file(name)
    return _from_documents(docs, name, os.path.dirname(name), allow_large)


def load_scenario_text(text: str, *, file: str = "<scenario>", base_dir: str = ".",
                       allow_large: bool = False) -> Scenario:
    """Like :func:`load_scenario` for YAML text (manifest files resolve against ``base_dir``)."""
    return _from_documents(load_documents(text, file), file, base_dir, allow_large)


def load_scenario_data(data: Mapping[str, Any], *, file: str = "<scenario data>", base_dir: str = ".",
                       allow_large: bool = False) -> Scenario:
    """Like :func:`load_scenario` for a dict shaped like a scenario file.  The data goes through
    a safe YAML round trip (so it is exactly what a file would hold); problems have key paths but
    no line numbers, there being no file to point into."""
    try:
        text = yaml.dump(dict(data), Dumper=SAFE_DUMPER, sort_keys=False)
    except (ValueError, RecursionError) as e:  # an int too long to print, data nested too deeply
        reason = "the data is nested too deeply" if isinstance(e, RecursionError) else str(e).split(";")[0]
        raise ScenarioError([Problem((), reason, file=file)]) from None
    plain = safe_load(text, file)
    return _from_documents([Document(plain, {}, file, 0)], file, base_dir, allow_large)


def _from_documents(docs: list[Document], file: str, base_dir: str, allow_large: bool = False) -> Scenario:
    if not docs:
        raise ScenarioError([Problem((), "the file is empty; expected a Scenario document", file=file)])
    scenarios = [d for d in docs if _kind_of(d) == "Scenario"]
    if len(docs) > 1 and scenarios and scenarios[0] is not docs[0]:
        raise ScenarioError([Problem((), "the Scenario document must come first in the file; it is "
                                         f"document {docs.index(scenarios[0]) + 1}", file=file,
                                     line=scenarios[0].positions.get(()))])
    if len(docs) > 1 and not scenarios:
        raise ScenarioError([Problem((), f"expected a Scenario document first, found {len(docs)} documents "
                                         "and none of kind Scenario", file=file, line=docs[0].positions.get(()))])
    if len(scenarios) > 1:
        raise ScenarioError([Problem((), "expected one Scenario document, found "
                                         f"{len(scenarios)}; the second one starts here", file=file,
                                     line=scenarios[1].positions.get(()))])
    doc = docs[0]
    # Like one `kubectl apply -f` file: the documents after the Scenario are its manifests.
    builder = _Builder(doc, file, base_dir, allow_large, extra=docs[1:])
    scenario = builder.build()
    located = locate(builder.problems.items, doc)
    if located:
        raise ScenarioError(located)
    assert scenario is not None
    return scenario


def _kind_of(doc: Document) -> Any:
    return doc.data.get("kind") if isinstance(doc.data, Mapping) else None


def as_json(value: Any) -> Any:
    """Data as JSON would carry it to the API: YAML timestamps become RFC 3339 strings, as
    kubectl sends them (so patches and actions never see date objects)."""
    if isinstance(value, Mapping):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, datetime.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def parse_delay(value: Any, path: Path, problems: Problems) -> DelayModel | None:
    """``5s`` / ``never`` / ``{lognormal: {median: 2s, p99: 10s}}`` → a delay model."""
    if isinstance(value, Mapping):
        kinds = delay_kinds()
        if len(value) != 1:
            problems.add(path, f"expected one delay model such as {{constant: 5s}}; known: {', '.join(kinds)}")
            return None
        (name, params), = value.items()
        if name not in kinds:
            problems.add(path + (str(name),), f"unknown delay model{suggest(str(name), kinds)}; known: {', '.join(kinds)}"
                                              f"{plugin_hint(str(name), kinds, 'delay model')}")
            return None
        kind = kinds[name]
        if not isinstance(params, Mapping):
            if len(kind.params) == 1:
                params = {kind.params[0]: params}
            else:
                problems.expected(path + (name,), f"a mapping with {', '.join(kind.params)}", params)
                return None
        problems.unknown_keys(params, kind.params, path + (name,))
        values: dict[str, float] = {}
        for p in kind.params:
            if p not in params:
                problems.add(path + (name, p), "required key is missing")
                continue
            try:
                values[p] = parse_duration(params[p])
            except DurationError as e:
                problems.add(path + (name, p), str(e))
        if len(values) != len(kind.params):
            return None
        try:
            return delay_model(name, values)
        except ValueError as e:
            problems.add(path + (name,), str(e))
            return None
    try:
        seconds = parse_duration(value)
    except DurationError as e:
        problems.add(path, f"{e}, or a distribution such as {{lognormal: {{median: 2s, p99: 10s}}}}")
        return None
    return NEVER if math.isinf(seconds) else Constant(seconds)


def _is_replicas(value: Any) -> bool:
    """A valid spec.replicas (a patch with another value is reported by its own check)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= INT32_MAX


class _Builder:
    def __init__(self, doc: Document, file: str, base_dir: str, allow_large: bool = False,
                 extra: Sequence[Document] = ()) -> None:
        self.doc = doc
        #: Manifest documents that follow the Scenario in its own file.
        self.extra = list(extra)
        self.file = file
        self.base_dir = base_dir
        self.allow_large = allow_large
        self.limits = Limits()
        self.problems = Problems()
        self.notices: list[str] = []
        self.external: list[Problem] = []
        #: Where each StatefulSet's spec.replicas was written: (document, key path in it).
        self.replicas_at: dict[int, tuple[Document, Path]] = {}
        #: ``when:`` actions: index in the actions -> trigger.
        self.triggers: dict[int, Trigger] = {}
        #: The simulated release, for warnings about manifests it would not serve.
        self.kubernetes_version = NEWEST

    def build(self) -> Scenario | None:
        data = self.doc.data
        p = self.problems
        if not isinstance(data, Mapping):
            p.expected((), "a mapping (a statefulsim Scenario)", data)
            return None
        p.unknown_keys(data, TOP_KEYS, ())
        api = get_str(data, "apiVersion", (), p, required=True)
        if api and api != API_VERSION:
            p.add(("apiVersion",), f"expected {API_VERSION!r}, found {api!r}")
        kind = get_str(data, "kind", (), p, required=True)
        if kind and kind != "Scenario":
            p.add(("kind",), f"expected 'Scenario', found {kind!r}")
        meta = get_mapping(data, "metadata", (), p, required=True)
        p.unknown_keys(meta, ("name", "description"), ("metadata",))
        name = get_str(meta, "name", ("metadata",), p, required="metadata" in data)
        description = get_str(meta, "description", ("metadata",), p)
        seed = get_int(data, "seed", (), p, 0, minimum=0)
        cluster_data = get_mapping(data, "cluster", (), p)
        self.limits = self._limits(cluster_data)
        until = 600.0
        if "until" in data:
            try:
                until = parse_duration(data["until"])
            except DurationError as e:
                p.add(("until",), str(e))
            if math.isinf(until) or until <= 0:
                p.add(("until",), f"expected a positive, finite duration, found {shown(data['until'])}")
                until = 600.0
            self._limit("until", until, ("until",), f"a run of {duration_text(until)}")
        cluster = self._cluster(cluster_data)
        images = self._images(get_list(data, "images", (), p))
        if images:
            cluster = dataclasses.replace(cluster, images=images)
        self.kubernetes_version = cluster.kubernetes_version
        objects = self._manifests(get_list(data, "manifests", (), p))
        timing = self._timing(get_mapping(data, "timing", (), p))
        actions = self._actions(get_list(data, "actions", (), p), until)
        expectations = parse_expectations(get_list(data, "expect", (), p), ("expect",), p)
        explore = parse_explore(data["explore"], data, self.base_dir, p) if data.get("explore") is not None else None
        self._cross_check(objects, actions, expectations)
        self._check_nodes(cluster, objects, actions)
        self._check_sizes(objects, actions, until)
        if self.external:
            p.items.extend(self.external)
        for w in locate(p.warnings, self.doc):
            self.notices.append(f"warning: {w}")
        if p:
            return None
        return Scenario(name=name, seed=seed, until=until, cluster=cluster, objects=tuple(objects), timing=timing,
                        actions=tuple(actions), triggers=dict(self.triggers), expectations=tuple(expectations),
                        description=description,
                        source=self.file, notices=tuple(self.notices), explore=explore, limits=self.limits)

    # ------------------------------------------------------------------ cluster
    def _cluster(self, m: Mapping[str, Any]) -> ClusterConfig:
        p = self.problems
        path: Path = ("cluster",)
        p.unknown_keys(m, ("nodes", "zones", "region", "kubernetesVersion", "controller", "dns", "tieBreak", "limits"),
                       path)
        version = NEWEST
        if "kubernetesVersion" in m:
            raw = m["kubernetesVersion"]
            version = str(raw) if isinstance(raw, (str, float, int)) and not isinstance(raw, bool) else ""
            try:
                feature_gates(version)
            except ValueError as e:
                p.add(path + ("kubernetesVersion",), f"{e} (write it quoted, e.g. \"1.37\")")
                version = NEWEST
        nodes = nodes_named(3)
        raw_nodes = m.get("nodes")
        if isinstance(raw_nodes, bool):
            p.expected(path + ("nodes",), "a node count or a list of nodes", raw_nodes)
        elif isinstance(raw_nodes, int):
            if raw_nodes < 1:
                p.add(path + ("nodes",), f"expected at least 1 node, found {shown(raw_nodes)}")
            elif self._limit("nodes", raw_nodes, path + ("nodes",), f"{raw_nodes} nodes"):
                nodes = nodes_named(raw_nodes)
        elif isinstance(raw_nodes, list):
            if self._limit("nodes", len(raw_nodes), path + ("nodes",), f"{len(raw_nodes)} nodes"):
                nodes = self._node_list(raw_nodes, path + ("nodes",))
        elif raw_nodes is not None:
            p.expected(path + ("nodes",), "a node count or a list of nodes", raw_nodes)
        nodes = in_zones(nodes, self._zones(m, path), get_str(m, "region", path, p, DEFAULT_REGION))
        ctl = get_mapping(m, "controller", path, p)
        cpath = path + ("controller",)
        p.unknown_keys(ctl, ("workers", "apiQPS", "apiBurst"), cpath)
        workers = get_int(ctl, "workers", cpath, p, 5, minimum=1)
        self._limit("controllerWorkers", workers, cpath + ("workers",), f"{workers} workers")
        settings = ControllerSettings(
            workers=workers,
            api_qps=(float(ctl["apiQPS"]) if isinstance(ctl.get("apiQPS"), (int, float))
                     and not isinstance(ctl.get("apiQPS"), bool) and 0 < ctl["apiQPS"] < 1e300
                     else self._bad_number(ctl, "apiQPS", cpath, 20.0)),
            api_burst=get_int(ctl, "apiBurst", cpath, p, 30, minimum=1),
        )
        dns = self._dns(get_mapping(m, "dns", path, p), path + ("dns",)) if "dns" in m else None
        tie_break = get_str(m, "tieBreak", path, p, "fifo")
        try:
            parse_tie_break(tie_break)
        except ValueError as e:
            p.add(path + ("tieBreak",), str(e))
            tie_break = "fifo"
        return ClusterConfig(nodes=nodes, kubernetes_version=version, controller=settings, dns=dns,
                             tie_break=tie_break)

    def _zones(self, m: Mapping[str, Any], path: Path) -> tuple[str, ...]:
        """``cluster.zones``: distinct zone names, the nodes spread over them in turn."""
        zones: list[str] = []
        for i, z in enumerate(get_list(m, "zones", path, self.problems)):
            if not isinstance(z, str) or not z:
                self.problems.expected(path + ("zones", i), "a zone name", z)
            elif z in zones:
                self.problems.add(path + ("zones", i), f"duplicate zone {z!r}")
            else:
                zones.append(z)
        if m.get("zones") == []:
            self.problems.add(path + ("zones",), "expected at least one zone")
        return tuple(zones)

    # ------------------------------------------------------------------ limits
    def _limits(self, cluster: Mapping[str, Any]) -> Limits:
        """``cluster.limits``: raised (or lowered) simulation-size limits; UNLIMITED with --allow-large."""
        p = self.problems
        path: Path = ("cluster", "limits")
        m = get_mapping(cluster, "limits", ("cluster",), p)
        p.unknown_keys(m, LIMIT_KEYS, path)
        values: dict[str, Any] = {}
        for key in LIMIT_KEYS:
            if key == "until" and key in m:
                seconds = get_duration(m, key, path, p, Limits.until)
                if not 0 < seconds <= MAX_SIMULATED_SECONDS:
                    p.add(path + (key,), f"expected a positive duration of at most {MAX_SIMULATED_SECONDS:g}s, "
                                         f"found {shown(m[key])}")
                else:
                    values[key] = seconds
            elif key in m:
                values[key] = get_int(m, key, path, p, 1, minimum=1)
        return UNLIMITED if self.allow_large else with_values(Limits(), values)

    def _limit(self, key: str, value: float, path: Path, what: str) -> bool:
        """Whether ``value`` is within the limit ``key``; records the problem if not."""
        problem = self.limits.problem(key, value, path, what)
        if problem is None:
            return True
        self.problems.items.append(problem)
        return False

    def _check_sizes(self, objects: list[ApiObject], actions: list[Any], until: float) -> None:
        """The desired replicas of all StatefulSets together, at the start and after every action,
        and the lookups of every dnsQuery, against the limits."""
        desired = {o.metadata.name: o.spec.replicas for o in objects if isinstance(o, StatefulSet)}
        for o in objects:
            if isinstance(o, StatefulSet) and o.spec.replicas:
                longest = f"{o.metadata.name}-{(o.spec.ordinals_start or 0) + o.spec.replicas - 1}"
                if len(longest) > 63:
                    doc, at = self.replicas_at.get(id(o), (self.doc, ("manifests", "spec", "replicas")))
                    self.notices.extend(f"warning: {w}" for w in locate([Problem(
                        at[:-2] + ("metadata", "name"),
                        f"pod {longest} has a name of {len(longest)} characters: the API server refuses pods whose "
                        "hostname (and statefulset.kubernetes.io/pod-name label) is longer than 63, so a real "
                        "cluster would not create it (FailedCreate); the simulation does")], doc))
        if not self._limit_replicas(desired, self._replicas_path(objects, desired)):
            return
        queries = 0
        for i, a in enumerate(actions):
            path: Path = ("actions", i, a.verb)
            if isinstance(a, Scale) and a.statefulset in desired:
                desired[a.statefulset] = a.replicas
                where: tuple[Document | None, Path] = (None, path + ("replicas",))
            elif isinstance(a, Patch) and a.statefulset in desired and (written := a.replicas_set()) is not None \
                    and _is_replicas(written[0]):
                desired[a.statefulset] = written[0]
                where = (None, path + written[1])
            elif isinstance(a, Apply):
                sets = [o for o in a.objects if isinstance(o, StatefulSet)]
                desired.update((o.metadata.name, o.spec.replicas) for o in sets)
                where = self._replicas_path(sets, desired) if sets else (None, path)
            elif isinstance(a, DeleteStatefulSet):
                desired.pop(a.statefulset, None)
                continue
            elif isinstance(a, DnsQuery):
                end = min(until, a.until) if a.until is not None else until
                queries += 1 + (int((end - a.at) // a.every) if a.every and end > a.at else 0)
                self._limit("dnsQueries", queries, path, f"{queries} DNS lookups in all")
                continue
            else:
                continue
            if not self._limit_replicas(desired, where):
                return

    def _limit_replicas(self, desired: Mapping[str, int], where: tuple[Document | None, Path]) -> bool:
        total = sum(desired.values())
        problem = self.limits.problem("replicas", total, where[1], f"{total} replicas in all (the StatefulSets' "
                                                                    "spec.replicas together)")
        if problem is None:
            return True
        doc, _ = where
        if doc is None or doc is self.doc:
            self.problems.items.append(problem)
        else:
            self.external.extend(locate([problem], doc))
        return False

    def _replicas_path(self, sets: Sequence[ApiObject], desired: Mapping[str, int]) -> tuple[Document | None, Path]:
        """Where the largest StatefulSet of ``sets`` wrote its spec.replicas."""
        biggest = max((o for o in sets if isinstance(o, StatefulSet)), key=lambda o: desired.get(o.metadata.name, 0),
                      default=None)
        if biggest is None:
            return None, ("manifests",)
        return self.replicas_at.get(id(biggest), (None, ("manifests",)))

    def _dns(self, m: Mapping[str, Any], path: Path) -> DnsConfig:
        """``cluster.dns``: a preset (see docs/dns.md) and optional overrides of its settings."""
        p = self.problems
        p.unknown_keys(m, ("preset", "replicas", "ttl", "cache", "nodeLocal", "zone"), path)
        preset = get_str(m, "preset", path, p, "", choices=tuple(DNS_PRESETS)) if "preset" in m else ""
        base = DNS_PRESETS[preset] if preset else DnsConfig()
        cache = base.cache
        if "cache" in m:
            raw = m["cache"]
            if raw in (None, False, "none"):
                cache = None
            elif isinstance(raw, Mapping):
                cpath = path + ("cache",)
                p.unknown_keys(raw, ("successTTL", "denialTTL", "minTTL", "disable"), cpath)
                cur = cache or CacheSettings()
                disable = get_str(raw, "disable", cpath, p, "", choices=("success", "denial", "both")) if "disable" in raw else ""
                zone = get_str(m, "zone", path, p, base.zone)
                cache = CacheSettings(
                    success_ttl=get_duration(raw, "successTTL", cpath, p, cur.success_ttl),
                    denial_ttl=get_duration(raw, "denialTTL", cpath, p, cur.denial_ttl),
                    success_min_ttl=get_duration(raw, "minTTL", cpath, p, cur.success_min_ttl),
                    denial_min_ttl=get_duration(raw, "minTTL", cpath, p, cur.denial_min_ttl),
                    disable_success=(zone,) if disable in ("success", "both") else cur.disable_success,
                    disable_denial=(zone,) if disable in ("denial", "both") else cur.disable_denial)
            else:
                p.expected(path + ("cache",), "a mapping (successTTL, denialTTL, minTTL, disable) or none", raw)
        replicas = get_int(m, "replicas", path, p, base.replicas, minimum=1)
        self._limit("dnsReplicas", replicas, path + ("replicas",), f"{replicas} CoreDNS replicas")
        return DnsConfig(
            preset=preset or "custom", zone=get_str(m, "zone", path, p, base.zone),
            replicas=replicas,
            ttl=get_duration(m, "ttl", path, p, base.ttl), cache=cache,
            node_local=get_bool(m, "nodeLocal", path, p, base.node_local))

    def _bad_number(self, m: Mapping[str, Any], key: str, path: Path, default: float) -> float:
        if key in m:
            self.problems.expected(path + (key,), "a positive number", m[key])
        return default

    def _node_list(self, items: list[Any], path: Path) -> tuple[NodeConfig, ...]:
        p = self.problems
        out: list[NodeConfig] = []
        seen: set[str] = set()
        for i, item in enumerate(items):
            ipath = path + (i,)
            if not isinstance(item, Mapping):
                p.expected(ipath, "a mapping with name, labels, maxPods, cpu, memory", item)
                continue
            p.unknown_keys(item, ("name", "labels", "maxPods", "cpu", "memory"), ipath)
            name = get_str(item, "name", ipath, p, required=True)
            invalid = dns1123_subdomain(name) if name else None
            if invalid:
                p.add(ipath + ("name",), invalid)
            if name in seen:
                p.add(ipath + ("name",), f"duplicate node name {name!r}")
            seen.add(name)
            cpu, mem = 4000, 16 * 1024**3
            for key, parse in (("cpu", parse_quantity_cpu), ("memory", parse_quantity_memory)):
                if key in item:
                    try:
                        value = parse(item[key])
                    except ValueError as e:
                        p.add(ipath + (key,), str(e))
                        continue
                    if key == "cpu":
                        cpu = value
                    else:
                        mem = value
            out.append(NodeConfig(name=name, labels=get_str_map(item, "labels", ipath, p),
                                  max_pods=get_int(item, "maxPods", ipath, p, 110, minimum=0),
                                  cpu_millis=cpu, memory_bytes=mem))
        if not items:
            p.add(path, "expected at least one node")
        return tuple(out) or nodes_named(1)

    # ------------------------------------------------------------------ manifests
    def _manifests(self, items: list[Any]) -> list[ApiObject]:
        out: list[ApiObject] = []
        for i, item in enumerate(items):
            out.extend(self._manifest_item(item, ("manifests", i)))
        for d in self.extra:
            out.extend(self._document_objects(d))
        seen: dict[tuple[str, str, str], int] = {}
        for obj in out:
            key = (obj.kind, obj.metadata.namespace, obj.metadata.name)
            seen[key] = seen.get(key, 0) + 1
        for (kind, ns, name), n in seen.items():
            if n > 1:
                self.problems.add(("manifests",), f"{kind} {ns}/{name} is defined {n} times")
        return out

    def _manifest_item(self, item: Any, path: Path) -> list[ApiObject]:
        p = self.problems
        if isinstance(item, Mapping) and "file" in item and "kind" not in item:
            p.unknown_keys(item, ("file",), path)
            rel = get_str(item, "file", path, p, required=True)
            if not rel:
                if item.get("file") == "":
                    p.add(path + ("file",), "expected a file path, found an empty string")
                return []
            full = rel if os.path.isabs(rel) else os.path.normpath(os.path.join(self.base_dir, rel))
            files = self._manifest_files(full, rel, path)
            out: list[ApiObject] = []
            for name in files:
                try:
                    docs = load_file(name)
                except ScenarioError as e:
                    if any(pr.line is None and "cannot read file" in pr.message for pr in e.problems):
                        p.add(path + ("file",), f"cannot read manifest file {rel!r}: "
                                                f"{e.problems[0].message.split(': ', 1)[-1]}")
                    else:
                        self.external.extend(e.problems)
                    continue
                for d in docs:
                    out.extend(self._document_objects(d))
            return out
        if not isinstance(item, Mapping):
            p.expected(path, "a Kubernetes object or {file: path}", item)
            return []
        if item.get("kind") == "List":
            return [obj for i, entry in enumerate(self._list_items(item, path, p))
                    for obj in self._manifest_item(entry, path + ("items", i))]
        obj = object_from_manifest(item, path, p, known_policies=policy_names(),
                                   kubernetes_version=self.kubernetes_version)
        if obj is not None:
            self.replicas_at[id(obj)] = (self.doc, path + ("spec", "replicas"))
        return [self._notice_kind(obj, "manifests")] if obj is not None else []

    def _manifest_files(self, full: str, rel: str, path: Path) -> list[str]:
        """``full`` itself, or for a directory its .json/.yaml/.yml files in lexical order, as
        ``kubectl apply -f DIR`` reads them (not recursive)."""
        if not os.path.isdir(full):
            return [full]
        try:
            names = sorted(os.listdir(full))
        except OSError as e:
            self.problems.add(path + ("file",), f"cannot read manifest directory {rel!r}: {e.strerror}")
            return []
        files = [os.path.join(full, n) for n in names
                 if n.endswith(MANIFEST_SUFFIXES) and os.path.isfile(os.path.join(full, n))]
        if not files:
            self.problems.add(path + ("file",), f"the directory {rel!r} holds no manifest file "
                                                f"(expected names ending in {', '.join(MANIFEST_SUFFIXES)})")
        if len(files) > MAX_MANIFEST_FILES:
            self.problems.add(path + ("file",), f"the directory {rel!r} holds {len(files)} manifest files; "
                                                f"at most {MAX_MANIFEST_FILES} are read")
            return []
        return files

    @staticmethod
    def _list_items(data: Mapping[str, Any], path: Path, p: Problems) -> list[Any]:
        items = data.get("items")
        if not isinstance(items, list):
            p.expected(path + ("items",), "a list of Kubernetes objects (kind: List)", items)
            return []
        return items

    def _document_objects(self, d: Document) -> list[ApiObject]:
        """The objects of one manifest document (a ``kind: List`` gives its items)."""
        local = Problems()
        entries: list[tuple[Any, Path]] = [(d.data, ())]
        if isinstance(d.data, Mapping) and d.data.get("kind") == "List":
            entries = [(item, ("items", i)) for i, item in enumerate(self._list_items(d.data, (), local))]
        out: list[ApiObject] = []
        for data, where in entries:
            obj = object_from_manifest(data, where, local, known_policies=policy_names(),
                                       kubernetes_version=self.kubernetes_version)
            if obj is not None:
                self.replicas_at[id(obj)] = (d, where + ("spec", "replicas"))
                out.append(self._notice_kind(obj, f"{d.file} document {d.index + 1}"))
        self.external.extend(locate(local.items, d))
        for w in locate(local.warnings, d):
            self.notices.append(f"warning: {w}")
        return out

    def _notice_kind(self, obj: ApiObject, where: str) -> ApiObject:
        if isinstance(obj, GenericObject):
            self.notices.append(f"{obj.kind} {obj.metadata.name} ({where}) is loaded but not simulated")
        return obj

    # ------------------------------------------------------------------ images
    def _images(self, items: list[Any]) -> tuple[ImagePullRule, ...]:
        """``images:``: ``{image, pull: notFound|unauthorized|timeout, message?}`` entries."""
        p = self.problems
        out: list[ImagePullRule] = []
        for i, item in enumerate(items):
            path: Path = ("images", i)
            if not isinstance(item, Mapping):
                p.expected(path, "a mapping with image and pull keys", item)
                continue
            p.unknown_keys(item, ("image", "pull", "message"), path)
            image = get_str(item, "image", path, p, required=True)
            pull = get_str(item, "pull", path, p, required=True, choices=PULL_FAILURES)
            message = get_str(item, "message", path, p)
            if image and pull:
                out.append(ImagePullRule(image, pull, message))
        return tuple(out)

    # ------------------------------------------------------------------ timing
    def _timing(self, m: Mapping[str, Any]) -> Timing:
        p = self.problems
        path: Path = ("timing",)
        if "file" in m:  # timing: {file: timing.yaml} (docs/calibrate.md)
            from statefulsim.io.timing_file import load_timing_include
            m = load_timing_include(m, self.base_dir, path, p.add)
        keys = list(CLUSTER_KEYS) + list(POD_KEYS) + list(VOLUME_KEYS)
        overridable = list(POD_KEYS) + list(VOLUME_KEYS)
        p.unknown_keys(m, keys + ["overrides", "podWorkerJitter"], path)
        models = dict(DEFAULTS)
        for key in keys:
            if key in m:
                model = parse_delay(m[key], path + (key,), p)
                if model is not None:
                    models[key] = model
        overrides: list[TimingOverride] = []
        for i, ov in enumerate(get_list(m, "overrides", path, p)):
            opath = path + ("overrides", i)
            if not isinstance(ov, Mapping):
                p.expected(opath, "a mapping with match and delay keys", ov)
                continue
            p.unknown_keys(ov, ["match"] + overridable, opath)
            match = get_mapping(ov, "match", opath, p, required=True)
            p.unknown_keys(match, MATCH_KEYS, opath + ("match",))
            clean: dict[str, str | int] = {}
            for k, v in match.items():
                if k == "ordinal":
                    if isinstance(v, bool) or not isinstance(v, int):
                        p.expected(opath + ("match", k), "an integer", v)
                        continue
                    clean[k] = v
                elif k in MATCH_KEYS:
                    if not isinstance(v, str):
                        p.expected(opath + ("match", k), "a string", v)
                        continue
                    clean[k] = v
            ov_models: dict[str, DelayModel] = {}
            for key in overridable:
                if key in ov:
                    model = parse_delay(ov[key], opath + (key,), p)
                    if model is not None:
                        ov_models[key] = model
            if not ov_models:
                p.add(opath, f"an override needs at least one of {', '.join(overridable)}")
            overrides.append(TimingOverride(clean, ov_models))
        jitter = get_bool(m, "podWorkerJitter", path, p, True)
        return Timing(models=models, overrides=tuple(overrides), pod_worker_jitter=jitter)

    # ------------------------------------------------------------------ actions
    def _actions(self, items: list[Any], until: float) -> list[Any]:
        p = self.problems
        out: list[Any] = []
        last = 0.0
        verbs = action_verbs()
        for i, item in enumerate(items):
            ipath: Path = ("actions", i)
            if not isinstance(item, Mapping):
                p.expected(ipath, "a mapping such as {at: 30s, scale: {statefulset: web, replicas: 5}}", item)
                continue
            trigger = self._trigger(item, ipath, len(out))
            if trigger is None:
                at = get_duration(item, "at", ipath, p, last, required=True)
                if at < last:
                    p.add(ipath + ("at",), f"actions must be in time order: {shown(item['at'])} comes after an action "
                                           f"at {last:g}s")
                last = max(last, at)
                if at > until:
                    p.warn(ipath + ("at",), f"the action is after the end of the run ({until:g}s) and will not happen")
            else:
                at = last  # it cannot fire before the action it follows
            rest = [k for k in item if k not in TRIGGER_KEYS]
            if len(rest) != 1:
                if not rest:
                    p.add(ipath, f"expected one action verb: {', '.join(verbs)}")
                else:
                    unknown = [k for k in rest if k not in verbs]
                    if unknown:
                        p.unknown_keys({k: None for k in unknown}, list(TRIGGER_KEYS) + list(verbs), ipath, plugin="verb")
                    else:
                        p.add(ipath, f"expected one action verb per item, found {', '.join(map(str, rest))}")
                continue
            verb = rest[0]
            if verb not in verbs:
                p.unknown_keys({verb: None}, list(TRIGGER_KEYS) + list(verbs), ipath, plugin="verb")
                continue
            vpath = ipath + (verb,)
            if verb == "apply":
                out.append(self._apply(at, item[verb], vpath))
                continue
            body = item[verb]
            if not isinstance(body, Mapping):
                p.expected(vpath, "a mapping", body)
                continue
            out.append(ACTIONS.get(verb).parse(at, as_json(body), vpath, p))
        return out

    def _trigger(self, item: Mapping[str, Any], path: Path, index: int) -> Trigger | None:
        """The ``when:`` of an action item (None for an ``at:`` action), kept in ``self.triggers``
        under the index the action will have."""
        p = self.problems
        if "when" not in item:
            for key in ("after", "timeout"):
                if key in item:
                    p.add(path + (key,), "only an action with when: waits; an at: action fires at its time")
            return None
        if "at" in item:
            p.add(path, "give at: (a time) or when: (a condition), not both")
        condition = parse_condition(item["when"], path + ("when",), p)
        after = get_duration(item, "after", path, p, 0.0)
        timeout = get_duration(item, "timeout", path, p, math.inf)
        if math.isinf(after):
            p.add(path + ("after",), f"expected a finite duration, found {shown(item['after'])}")
        if condition is None:
            return None
        trigger = Trigger(condition, after, None if math.isinf(timeout) else timeout)
        self.triggers[index] = trigger
        return trigger

    def _apply(self, at: float, body: Any, path: Path) -> Apply:
        items = body if isinstance(body, list) else [body]
        objs: list[ApiObject] = []
        for i, item in enumerate(items):
            objs.extend(self._manifest_item(item, path + ((i,) if isinstance(body, list) else ())))
        return Apply(at, tuple(objs))

    # ------------------------------------------------------------------ cross checks
    def _check_nodes(self, cluster: ClusterConfig, objects: list[ApiObject], actions: list[Any]) -> None:
        """Node actions must name a node: one of the cluster's (with a kubelet) for failNode and
        recoverNode, or also a Node from the manifests for the others."""
        with_kubelet = [n.name for n in cluster.nodes]
        known = with_kubelet + sorted(o.metadata.name for o in objects if isinstance(o, Node))
        for i, a in enumerate(actions):
            name = getattr(a, "node", None)
            if not isinstance(name, str) or not name:
                continue
            names = with_kubelet if isinstance(a, (FailNode, RecoverNode)) else known
            if name not in names:
                self.problems.add(("actions", i, a.verb, "node"),
                                  f"no node named {name!r}{suggest(name, names)}; nodes: {', '.join(names)}")

    def _cross_check(self, objects: list[ApiObject], actions: list[Any], expectations: list[Any]) -> None:
        p = self.problems
        sets = {o.metadata.name for o in objects if isinstance(o, StatefulSet)}
        for a in actions:
            if isinstance(a, Apply):
                sets |= {o.metadata.name for o in a.objects if isinstance(o, StatefulSet)}
        # Each patch and setImage is checked against the set as the actions before it leave it.
        manifests: dict[str, StatefulSet | None] = {o.metadata.name: o for o in objects if isinstance(o, StatefulSet)}
        for i, a in enumerate(actions):
            name = getattr(a, "statefulset", None)
            if isinstance(a, (Patch, SetImage, Scale)) and name in manifests:
                current = manifests[name]
                manifests[name] = None if current is None else a.check_against(current, ("actions", i, a.verb), p)
            elif isinstance(a, DeleteStatefulSet) and name in manifests:
                manifests[name] = None  # later actions on it fail at run time (ActionFailed), or follow an apply
            elif isinstance(a, Apply):
                manifests.update((o.metadata.name, o) for o in a.objects if isinstance(o, StatefulSet))
            if name is not None and name not in sets:
                p.add(("actions", i, a.verb, "statefulset"),
                      f"no StatefulSet named {name!r} in manifests{suggest(name, sets)}"
                      + (f"; defined: {', '.join(sorted(sets))}" if sets else ""))
        for i, trigger in self.triggers.items():
            for name in trigger.condition.statefulsets():
                if name not in sets:
                    p.add(("actions", i, "when", next(iter(trigger.condition.as_fields())), "statefulset"),
                          f"no StatefulSet named {name!r} in manifests{suggest(name, sets)}")
        for i, e in enumerate(expectations):
            for name in e.statefulsets():
                if name not in sets:
                    p.add(("expect", i, e.kind, "statefulset"),
                          f"no StatefulSet named {name!r} in manifests{suggest(name, sets)}")
        if not sets and not p:
            p.add(("manifests",), "the scenario defines no StatefulSet (add one inline or with {file: path})")
