"""Probe workers (upstream ``pkg/kubelet/prober/worker.go``): one per (pod, container, probe type).

A worker is created when the kubelet admits the pod, probes at once and then on a ticker of
``periodSeconds``; the kubelet can poke the readiness worker ("manual run"), which probes now
and resets the ticker.  Results only change after ``successThreshold``/``failureThreshold``
consecutive equal outcomes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generator

import simpy

from statefulsim.sim.api.objects import Probe

if TYPE_CHECKING:
    from statefulsim.sim.kubelet.kubelet import ContainerRuntime, PodWorker

READINESS = "readiness"
LIVENESS = "liveness"
STARTUP = "startup"

SUCCESS = "Success"
FAILURE = "Failure"
UNKNOWN = "Unknown"

INITIAL_RESULT = {READINESS: FAILURE, LIVENESS: SUCCESS, STARTUP: UNKNOWN}


class ProbeWorker:
    def __init__(self, pod: PodWorker, container: ContainerRuntime, kind: str, probe: Probe) -> None:
        self.pod = pod
        self.env = pod.env
        self.container = container
        self.kind = kind
        self.probe = probe
        self.result = INITIAL_RESULT[kind]
        self._last = UNKNOWN
        self._count = 0
        self._container_id = 0
        self.on_hold = False
        self.stopped = False
        self.probes_run = 0
        self._sleeping = False
        self._poked = False
        self._pending_poke = False
        self._next_tick = self.env.now
        self.process = self.env.process(self._run())

    def poke(self) -> None:
        """Manual run: probe now and restart the ticker (readiness only).  A poke that arrives
        while a probe runs is kept and served right after it (one pending trigger)."""
        if self._sleeping:
            if not self._poked:
                self._poked = True
                self.process.interrupt("poke")
        else:
            self._pending_poke = True

    def stop(self) -> None:
        self.stopped = True
        self.poke()

    def _run(self) -> Generator[simpy.Event, Any, None]:
        period = self.probe.period_seconds
        while not self.stopped:
            yield from self._do_probe()
            if self.stopped:
                return
            if self._pending_poke:
                self._pending_poke = False
                self._next_tick = self.env.now
                continue
            now = self.env.now
            while self._next_tick <= now:
                self._next_tick += period
            self._sleeping = True
            try:
                yield self.env.timeout(self._next_tick - now)
            except simpy.Interrupt:
                self._next_tick = self.env.now  # the manual run restarts the ticker
            self._sleeping = False
            self._poked = False

    def _reset(self) -> None:
        self.result = INITIAL_RESULT[self.kind]
        self._last = UNKNOWN
        self._count = 0
        self.on_hold = False

    def _do_probe(self) -> Generator[simpy.Event, Any, None]:
        c = self.container
        if c.container_id == 0 or not c.visible:
            return  # no container yet: keep waiting
        if c.container_id != self._container_id:
            self._container_id = c.container_id
            self._reset()
        if self.on_hold:
            return
        if c.seen.state != "running":  # the status the kubelet has observed, as the prober reads it
            if self.kind == READINESS:
                self._set(FAILURE)
            return
        if self.pod.terminating and self.kind != READINESS:
            return
        if c.started_at is None or self.env.now - c.started_at < self.probe.initial_delay_seconds:
            return
        if self.kind != STARTUP and not c.started:
            return
        if self.kind == STARTUP and c.started:
            return
        self.probes_run += 1
        duration = self.pod.sample("probeDuration", c)
        outcome_ok = c.answers(self.kind, self.env.now)
        if duration >= self.probe.timeout_seconds:
            yield self.env.timeout(self.probe.timeout_seconds)
            outcome = FAILURE
        else:
            if duration > 0:
                yield self.env.timeout(duration)
            outcome = SUCCESS if outcome_ok and c.answers(self.kind, self.env.now) else FAILURE
        if self.stopped or c.container_id != self._container_id:
            return
        if outcome == self._last:
            self._count += 1
        else:
            self._last = outcome
            self._count = 1
        threshold = self.probe.failure_threshold if outcome == FAILURE else self.probe.success_threshold
        if self._count < threshold:
            return
        self._set(outcome)
        if self.kind == LIVENESS and outcome == FAILURE:
            self.on_hold = True
            self.pod.probe_failed(c, self.kind, self.probe)
        elif self.kind == STARTUP:
            self.on_hold = True
            if outcome == FAILURE:
                self.pod.probe_failed(c, self.kind, self.probe)

    def _set(self, outcome: str) -> None:
        if outcome == self.result:
            return
        self.result = outcome
        self.pod.probe_result_changed(self.container, self.kind, outcome)
