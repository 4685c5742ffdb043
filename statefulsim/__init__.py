"""statefulsim: a discrete-event simulator of the Kubernetes StatefulSet controller and the
machinery around it (API server, scheduler, kubelet, probes).

Typical use::

    import statefulsim
    result = statefulsim.run("scenarios/quickstart.yaml", seed=1)
    result.ok, result.records()[:3]
"""

from __future__ import annotations

from statefulsim.analysis.expect import ExpectationResult, live_pods, register_expectation
from statefulsim.analysis.happens_before import (
    CriticalPath, Milestone, MilestoneError, PathStep, WaitSummary, critical_path, happens_before_graph,
)
from statefulsim.analysis.invariants import Violation, invariant_names
from statefulsim.analysis.invariants import check as check_invariants
from statefulsim.errors import Problem, ScenarioError, SimulationError, StatefulSimError, TraceFormatError
from statefulsim.io.scenario import load_scenario, load_scenario_text
from statefulsim.io.trace_io import read_jsonl, write_jsonl
from statefulsim.model.scenario import Scenario
from statefulsim.notebook import records_table, scenario_from_data, show_run, side_by_side, time_to_all_ready
from statefulsim.runner import RunResult, build_cluster, run, run_scenario
from statefulsim.sim.actions import Verb, arg, namespace_field, register_action
from statefulsim.sim.api.store import ApiError
from statefulsim.sim.cluster import Cluster, ClusterConfig, NodeConfig
from statefulsim.sim.controllers.statefulset.policies import (
    MaxInFlight, OrderedReady, Parallel, PodManagementPolicy, PolicyRound, policy_names, register_policy,
    unregister_policy,
)
from statefulsim.sim.delays import (
    Constant, DelayModel, Exponential, LogNormal, Uniform, register_delay_model,
)
from statefulsim.sim.timing import Timing, TimingOverride
from statefulsim.sim.trace import Trace, TraceRecord

__version__ = "0.1.0"

__all__ = [
    "Cluster",
    "ClusterConfig",
    "Constant",
    "CriticalPath",
    "DelayModel",
    "ExpectationResult",
    "Exponential",
    "LogNormal",
    "MaxInFlight",
    "Milestone",
    "MilestoneError",
    "NodeConfig",
    "OrderedReady",
    "Parallel",
    "PathStep",
    "PodManagementPolicy",
    "PolicyRound",
    "Problem",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "SimulationError",
    "StatefulSimError",
    "Timing",
    "TimingOverride",
    "Trace",
    "TraceFormatError",
    "TraceRecord",
    "Uniform",
    "Violation",
    "WaitSummary",
    "__version__",
    "build_cluster",
    "check_invariants",
    "critical_path",
    "happens_before_graph",
    "invariant_names",
    "live_pods",
    "load_scenario",
    "load_scenario_text",
    "policy_names",
    "read_jsonl",
    "records_table",
    "register_action",
    "Verb",
    "arg",
    "namespace_field",
    "ApiError",
    "register_delay_model",
    "register_expectation",
    "register_policy",
    "run",
    "run_scenario",
    "scenario_from_data",
    "show_run",
    "side_by_side",
    "time_to_all_ready",
    "unregister_policy",
    "write_jsonl",
]
