"""statefulsim: a discrete-event simulator of the Kubernetes StatefulSet controller and the
machinery around it (API server, scheduler, kubelet, probes).

Typical use::

    import statefulsim
    result = statefulsim.run("scenarios/quickstart.yaml", seed=1)
    result.ok, result.records()[:3]
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

from statefulsim import notebook as notebook
from statefulsim.analysis.expect import ExpectationResult, register_expectation
from statefulsim.analysis.happens_before import CriticalPath, MilestoneError, critical_path, happens_before_graph
from statefulsim.analysis.invariants import Violation, invariant_names
from statefulsim.analysis.invariants import check as check_invariants
from statefulsim.errors import Problem, ScenarioError, SimulationError, StatefulSimError, TraceFormatError
from statefulsim.io.scenario import load_scenario
from statefulsim.model.scenario import Scenario
from statefulsim.runner import RunResult, run
from statefulsim.sim.actions import register_action
from statefulsim.sim.api.store import ApiError
from statefulsim.sim.cluster import Cluster
from statefulsim.sim.controllers.statefulset.policies import (
    MaxInFlight,
    OrderedReady,
    Parallel,
    PodManagementPolicy,
    PolicyRound,
    register_policy,
    unregister_policy,
)
from statefulsim.sim.delays import Constant, DelayModel, Exponential, LogNormal, Uniform, register_delay_model
from statefulsim.sim.timing import Timing
from statefulsim.sim.trace import Trace, TraceRecord
from statefulsim.sim.verb import Verb, arg, namespace_field

__version__ = "0.1.0"

# One run, one loader, the results, the errors, and the types and registrations a plug-in needs;
# sorted, and guarded by an equality test (tests/api/test_public_api.py).  Notebook helpers live in
# statefulsim.notebook; everything else in its own module.
__all__ = [
    "ApiError",
    "Cluster",
    "Constant",
    "CriticalPath",
    "DelayModel",
    "ExpectationResult",
    "Exponential",
    "LogNormal",
    "MaxInFlight",
    "MilestoneError",
    "OrderedReady",
    "Parallel",
    "PodManagementPolicy",
    "PolicyRound",
    "Problem",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "SimulationError",
    "StatefulSimError",
    "Timing",
    "Trace",
    "TraceFormatError",
    "TraceRecord",
    "Uniform",
    "Verb",
    "Violation",
    "__version__",
    "arg",
    "check_invariants",
    "critical_path",
    "happens_before_graph",
    "invariant_names",
    "load_scenario",
    "namespace_field",
    "register_action",
    "register_delay_model",
    "register_expectation",
    "register_policy",
    "run",
    "unregister_policy",
]

#: Names that were top-level before the API was curated (issue #19): old name -> (module, name).
#: They still work, with a DeprecationWarning naming their home.
MOVED: dict[str, tuple[str, str]] = {
    "ClusterConfig": ("statefulsim.sim.cluster", "ClusterConfig"),
    "Milestone": ("statefulsim.analysis.happens_before", "Milestone"),
    "NodeConfig": ("statefulsim.sim.cluster", "NodeConfig"),
    "PathStep": ("statefulsim.analysis.happens_before", "PathStep"),
    "TimingOverride": ("statefulsim.sim.timing", "TimingOverride"),
    "WaitSummary": ("statefulsim.analysis.happens_before", "WaitSummary"),
    "build_cluster": ("statefulsim.runner", "build_cluster"),
    "live_pods": ("statefulsim.analysis.expect", "live_pods"),
    "load_scenario_text": ("statefulsim.io.scenario", "load_scenario_text"),
    "policy_names": ("statefulsim.sim.controllers.statefulset.policies", "policy_names"),
    "read_jsonl": ("statefulsim.io.trace_io", "read_jsonl"),
    "records_table": ("statefulsim.notebook", "records_table"),
    "run_scenario": ("statefulsim.runner", "run_scenario"),
    "scenario_from_data": ("statefulsim.notebook", "scenario_from_data"),
    "show_run": ("statefulsim.notebook", "show_run"),
    "side_by_side": ("statefulsim.notebook", "side_by_side"),
    "time_to_all_ready": ("statefulsim.notebook", "time_to_all_ready"),
    "write_jsonl": ("statefulsim.io.trace_io", "write_jsonl"),
}


def __getattr__(name: str) -> Any:
    moved = MOVED.get(name)
    if moved is None:
        raise AttributeError(f"module 'statefulsim' has no attribute {name!r}")
    module, attr = moved
    warnings.warn(f"statefulsim.{name} moved to {module}.{attr}; the top-level name will be removed",
                  DeprecationWarning, stacklevel=2)
    return getattr(importlib.import_module(module), attr)

