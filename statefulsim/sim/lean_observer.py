"""A lean trace observer for sweeps: only the records a sweep's metrics read (issue #20).

A sweep reduces every run to a few metrics (``statefulsim.sweep.metrics.run_metrics``), which read
the ``StatefulSet*`` records, the pod lifecycle records (``PodCreated`` ... ``PodDeleted``, read
by the replay), ``Action``, ``ControllerWaiting``/``ControllerResumed`` and ``DNSAnswer``.  The
full :class:`~statefulsim.sim.observer.TraceObserver` also turns every change of a Node,
PodDisruptionBudget, PersistentVolumeClaim, PersistentVolume or EndpointSlice into records and
computes the ``kubectl get pods`` row of every pod change for ``PodStatus``, and the components'
Event recorders write ``KubeEvent`` records; none of those is read by a metric.  Records are
observations only (nothing in a run reads them back, except ``when:`` triggers, so a scenario
with triggers keeps the full observer), so the run itself is the same.
"""

from __future__ import annotations

from statefulsim.sim.api.objects import Pod, StatefulSet
from statefulsim.sim.api.printers import NEWEST_RULES, PrinterRules
from statefulsim.sim.api.store import ObjectStore, WatchEvent
from statefulsim.sim.env import SimEnv
from statefulsim.sim.observer import TraceObserver

#: Records the full observer writes and the lean one does not.
LEAN_DROPPED = frozenset({
    "PodStatus", "NodeReady", "NodeNotReady", "NodeDeleted", "NodeCordoned", "NodeUncordoned", "NodeTainted",
    "NodeUntainted", "DisruptionBudgetStatus", "PVCCreated", "PVCBound", "PVCTerminating", "PVCDeleted",
    "PVCreated", "PVReleased", "PVDeleted", "EndpointSliceUpdated", "KubeEvent",
})


class LeanTraceObserver(TraceObserver):
    """:class:`TraceObserver` restricted to Pod and StatefulSet changes, without ``PodStatus``
    rows: every record it writes is the full observer's record, and it writes none of
    :data:`LEAN_DROPPED`.  It also turns the run's Event recorders off (``KubeEvent``: no metric
    reads Events; the recorders' state only shapes their own records)."""

    def __init__(self, env: SimEnv, store: ObjectStore, printer: PrinterRules = NEWEST_RULES) -> None:
        super().__init__(env, store, printer)
        env.kube_events = False

    def on_change(self, ev: WatchEvent) -> None:
        obj = ev.obj
        if isinstance(obj, Pod):
            self._pod(ev)
        elif isinstance(obj, StatefulSet):
            self._statefulset(ev)

    def _pod_status(self, pod: Pod) -> None:
        """No ``PodStatus`` rows (no metric reads them; computing the row is most of a pod change's cost)."""
