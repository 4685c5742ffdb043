"""Probe workers (upstream ``pkg/kubelet/prober/worker.go``): one per (pod, container, probe type).

A worker is created when the kubelet admits the pod, probes at once and then on a ticker of
``periodSeconds``; the kubelet can poke the readiness worker ("manual run"), which probes now
and resets the ticker.  Results only change after ``successThreshold``/``failureThreshold``
consecutive equal outcomes.

Probe ticks (and the end of a probe) are scheduled with a priority above :data:`LATE`: a probe
that fires at the same instant as another change (an action, a container exit seen by PLEG)
runs after it and sees it, and probes of different workers at the same instant run in the order
the workers were created.  That makes the order of simultaneous events independent of when each
was scheduled, which skip-ahead relies on.

**Skip-ahead.**  Most ticks change nothing: a Ready container keeps passing, a container that
is not started yet keeps being skipped, an app that never becomes ready keeps failing.  When
the probe's duration is a constant (the default), the outcome of every future tick is known as
long as the container does not change, so the worker works out the ticks that would have no
effect, sleeps past them on one timeout (or until woken, when none can ever have an effect) and
replays their bookkeeping when it wakes.  Any change to a field a probe reads wakes it
(:class:`ContainerRuntime` calls :meth:`ProbeWorker.wake`); it then resumes exactly where the
tick-by-tick worker would be: sleeping until the next tick, or in the middle of a probe.
``skip_ahead=False`` gives the tick-by-tick worker; both produce the same trace (a test runs
every bundled scenario both ways).
"""

from __future__ import annotations

import math
from collections import deque
from itertools import accumulate, repeat
from typing import TYPE_CHECKING, Any, Generator

import simpy
from simpy.events import EventPriority

from statefulsim.sim.api.objects import Probe
from statefulsim.sim.delays import Constant

if TYPE_CHECKING:
    from statefulsim.sim.kubelet.kubelet import ContainerRuntime, PodWorker

READINESS = "readiness"
LIVENESS = "liveness"
STARTUP = "startup"

SUCCESS = "Success"
FAILURE = "Failure"
UNKNOWN = "Unknown"

INITIAL_RESULT = {READINESS: FAILURE, LIVENESS: SUCCESS, STARTUP: UNKNOWN}

#: SimPy priority of probe ticks: after URGENT (0) and NORMAL (1) events of the same instant;
#: each worker adds its creation number, so simultaneous ticks of two workers keep one order.
LATE = 2
#: At most this many ticks are planned at once; a longer quiet stretch is planned again.
MAX_PLANNED_TICKS = 10_000

# What a tick does, given the container's state (see ProbeWorker._classify).
IDLE = 0  # returns without probing
FAIL_NOW = 1  # readiness of a container not seen running: the result is set to Failure
PROBE = 2  # runs the probe
RESET = 3  # a new container: the worker resets first (never planned over)


def late_timeout(sim: simpy.Environment, delay: float, order: int = 0) -> simpy.Event:
    """A timeout that fires after the NORMAL-priority events of its instant, and after the late
    timeouts of that instant with a smaller ``order``."""
    ev = simpy.Event(sim)
    ev._ok = True
    ev._value = None
    sim.schedule(ev, EventPriority(LATE + order), delay)
    return ev


class _Snapshot:
    """The container and worker fields a tick reads, frozen at one moment."""

    __slots__ = ("cid", "visible", "worker_cid", "on_hold", "seen_running", "terminating", "started_at",
                 "started", "running", "broken", "liveness_broken", "app_ready_at")

    def __init__(self, w: ProbeWorker) -> None:
        c = w.container
        self.cid = c.container_id
        self.visible = c.visible
        self.worker_cid = w._container_id
        self.on_hold = w.on_hold
        self.seen_running = c.seen.state == "running"
        self.terminating = w.pod.terminating
        self.started_at = c.started_at
        self.started = c.started
        self.running = c.state == "running"
        self.broken = c.readiness_broken
        self.liveness_broken = c.liveness_broken
        self.app_ready_at = c.app_ready_at

    def answers(self, kind: str, t: float) -> bool:
        """``ContainerRuntime.answers`` for this state."""
        return self.running and t >= self.app_ready_at and not (
            (kind == READINESS and self.broken) or (kind == LIVENESS and self.liveness_broken))


def _tick_after(t: float, end: float, period: float) -> float:
    """The first tick after ``end`` on the ticker through ``t``: ``t`` plus whole periods, added
    one by one as the worker's ticker adds them (the same float results on every path)."""
    while t <= end:
        t += period
    return t


def _add_periods(t: float, period: float, limit: float) -> tuple[float, int]:
    """``t`` plus whole periods, added one by one while it is below ``limit``, and how many were
    added: the loop ``while t < limit: t += period``, with the bulk of the additions done by
    :func:`itertools.accumulate` (the same additions in the same order, so the same float)."""
    n = 0
    bulk = int((limit - t) / period) - 2 if period > 0 else 0
    if bulk > 16:
        last = deque(accumulate(repeat(period, bulk), initial=t), maxlen=1)[0]
        if last < limit:  # always, but for rounding far beyond any real run's drift
            t, n = last, bulk
    while t < limit:
        t += period
        n += 1
    return t, n


class _Plan:
    """Ticks from ``ticks[0]`` on that have no visible effect, as (time, class, ok at start,
    outcome); after the last, either the tick at ``wake_at`` may have one (``forever`` False),
    or every later tick repeats ``steady`` (``forever`` True)."""

    __slots__ = ("ticks", "wake_at", "forever", "steady", "period", "dur")

    def __init__(self, ticks: list[tuple[float, int, bool, str]], wake_at: float, forever: bool,
                 steady: tuple[int, bool, str], period: float, dur: float) -> None:
        self.ticks = ticks
        self.wake_at = wake_at
        self.forever = forever
        self.steady = steady
        self.period = period
        self.dur = dur



class ProbeWorker:
    def __init__(self, pod: PodWorker, container: ContainerRuntime, kind: str, probe: Probe,
                 skip_ahead: bool = True) -> None:
        self.pod: PodWorker = pod
        self.env = pod.env
        self.container: ContainerRuntime = container
        self.kind = kind
        self.probe = probe
        self.result = INITIAL_RESULT[kind]
        self._last = UNKNOWN
        self._count = 0
        self._container_id: int = 0
        self.on_hold: bool = False
        self.stopped = False
        self.probes_run = 0
        self._sleeping = False
        self._poked = False
        self._pending_poke = False
        self._next_tick = self.env.now
        self._order = self.env.sequence("probe-worker")
        self._duration = self._constant_duration() if skip_ahead else None
        self._skipping = False
        self._wake_sent = False
        self._wake_poke = False
        container.probe_workers.append(self)
        self.process = self.env.process(self._run())

    def _constant_duration(self) -> float | None:
        model = self.pod.model("probeDuration", self.container)
        return model.seconds if isinstance(model, Constant) and not math.isinf(model.seconds) else None

    def poke(self) -> None:
        """Manual run: probe now and restart the ticker (readiness only).  A poke that arrives
        while a probe runs is kept and served right after it (one pending trigger)."""
        if self.wake(poke=True):
            return
        if self._sleeping:
            if not self._poked:
                self._poked = True
                self.process.interrupt("poke")
        else:
            self._pending_poke = True

    def stop(self) -> None:
        self.stopped = True
        self.poke()

    def wake(self, poke: bool = False) -> bool:
        """Something a probe reads changed: a skipping worker resumes tick by tick.  True when
        the worker was skipping (the wake, and the poke if any, are then taken care of)."""
        if not self._skipping:
            return False
        if poke:
            self._wake_poke = True
        if not self._wake_sent:
            self._wake_sent = True
            self.process.interrupt("wake")
        return True

    # ------------------------------------------------------------------ the loop
    def _run(self) -> Generator[simpy.Event, Any, None]:
        period = self.probe.period_seconds
        resume: tuple[float, bool] | None = None  # a probe to finish: (its start, answered at start)
        while not self.stopped:
            if resume is not None:
                yield from self._finish_probe(*resume)
                resume = None
            else:
                yield from self._do_probe()
            if self.stopped:
                return
            if self._pending_poke:
                self._pending_poke = False
                self._next_tick = self.env.now
                continue
            now = self.env.now
            self._next_tick = _tick_after(self._next_tick, now, period)
            plan = self._plan() if self._duration is not None else None
            if plan is not None:
                how = yield from self._skip(plan)
                if how == "stop":
                    return
                if isinstance(how, tuple):
                    resume = how
                    continue
                if how == "probe":
                    continue
                now = self.env.now  # "sleep": wait for the next tick as usual
            self._sleeping = True
            try:
                yield late_timeout(self.env.sim, self._next_tick - now, self._order)
            except simpy.Interrupt:
                self._next_tick = self.env.now  # the manual run restarts the ticker
            self._sleeping = False
            self._poked = False

    def _reset(self) -> None:
        self.result = INITIAL_RESULT[self.kind]
        self._last = UNKNOWN
        self._count = 0
        self.on_hold = False

    def _classify(self, t: float, s: _Snapshot) -> int:
        """What the tick at ``t`` does in state ``s`` (upstream worker.doProbe's early returns)."""
        if s.cid == 0 or not s.visible:
            return IDLE  # no container yet: keep waiting
        if s.cid != s.worker_cid:
            return RESET
        if s.on_hold:
            return IDLE
        if not s.seen_running:  # the status the kubelet has observed, as the prober reads it
            return FAIL_NOW if self.kind == READINESS else IDLE
        if s.terminating and self.kind != READINESS:
            return IDLE
        if s.started_at is None or t - s.started_at < self.probe.initial_delay_seconds:
            return IDLE
        if self.kind != STARTUP and not s.started:
            return IDLE
        if self.kind == STARTUP and s.started:
            return IDLE
        return PROBE

    def _do_probe(self) -> Generator[simpy.Event, Any, None]:
        now = self.env.now
        k = self._classify(now, _Snapshot(self))
        if k == RESET:
            self._container_id = self.container.container_id
            self._reset()
            k = self._classify(now, _Snapshot(self))
        if k == FAIL_NOW:
            self._set(FAILURE)
        if k != PROBE:
            return
        c = self.container
        self.probes_run += 1
        duration = self.pod.sample("probeDuration", c)
        outcome_ok = c.answers(self.kind, now)
        if duration >= self.probe.timeout_seconds:
            yield late_timeout(self.env.sim, self.probe.timeout_seconds, self._order)
            self._complete(FAILURE)
            return
        if duration > 0:
            yield late_timeout(self.env.sim, duration, self._order)
        self._complete(SUCCESS if outcome_ok and c.answers(self.kind, self.env.now) else FAILURE)

    def _finish_probe(self, start: float, outcome_ok: bool) -> Generator[simpy.Event, Any, None]:
        """The rest of a probe that started at ``start`` while the worker was skipping."""
        assert self._duration is not None
        timed_out = self._duration >= self.probe.timeout_seconds
        end = start + (self.probe.timeout_seconds if timed_out else self._duration)
        yield late_timeout(self.env.sim, end - self.env.now, self._order)
        c = self.container
        self._complete(FAILURE if timed_out or not (outcome_ok and c.answers(self.kind, self.env.now)) else SUCCESS)

    def _complete(self, outcome: str) -> None:
        c = self.container
        if self.stopped or c.container_id != self._container_id:
            return
        self._count_outcome(outcome)
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

    def _count_outcome(self, outcome: str) -> None:
        if outcome == self._last:
            self._count += 1
        else:
            self._last = outcome
            self._count = 1

    def _set(self, outcome: str) -> None:
        if outcome == self.result:
            return
        self.result = outcome
        self.pod.probe_result_changed(self.container, self.kind, outcome)

    # ------------------------------------------------------------------ skip-ahead
    def _visible(self, outcome: str, count: int) -> bool:
        """Whether a probe with ``outcome``, making ``count`` equal outcomes, changes anything
        beyond the worker's counters."""
        threshold = self.probe.failure_threshold if outcome == FAILURE else self.probe.success_threshold
        if count < threshold:
            return False
        return outcome != self.result or self.kind == STARTUP or (self.kind == LIVENESS and outcome == FAILURE)

    def _plan(self) -> _Plan | None:
        """The ticks from ``_next_tick`` on that cannot change anything while the container
        stays as it is now; None when the very next one may."""
        assert self._duration is not None
        s = _Snapshot(self)
        period = self.probe.period_seconds
        timed_out = self._duration >= self.probe.timeout_seconds
        dur = self.probe.timeout_seconds if timed_out else self._duration
        last, count = self._last, self._count
        ticks: list[tuple[float, int, bool, str]] = []
        t = self._next_tick
        for _ in range(MAX_PLANNED_TICKS):
            k = self._classify(t, s)
            ok = False
            outcome = ""
            if k == RESET or (k == FAIL_NOW and self.result != FAILURE):
                break
            if k == PROBE:
                ok = s.answers(self.kind, t)
                outcome = FAILURE if timed_out or not (ok and s.answers(self.kind, t + dur)) else SUCCESS
                count = count + 1 if outcome == last else 1
                last = outcome
                if self._visible(outcome, count):
                    break
            ticks.append((t, k, ok, outcome))
            t = _tick_after(t, t + dur if (k == PROBE and dur > 0) else t, period)
            # Nothing that depends on time can change any more, and the counters are saturated:
            # every later tick is this one again.
            t0 = ticks[-1][0]
            later_change = (s.started_at is not None and t0 - s.started_at < self.probe.initial_delay_seconds) or (
                s.app_ready_at > t0 and not math.isinf(s.app_ready_at))
            threshold = self.probe.failure_threshold if outcome == FAILURE else self.probe.success_threshold
            if not later_change and (k != PROBE or count >= threshold):
                return _Plan(ticks, t, True, (k, ok, outcome), period, dur)
        if not ticks:
            return None
        return _Plan(ticks, t, False, (IDLE, False, ""), period, dur)

    def _skip(self, plan: _Plan) -> Generator[simpy.Event, Any, str | tuple[float, bool]]:
        """Sleep over the planned ticks; return how to go on: "stop", "probe" (a tick is due
        now), "sleep" (wait for ``_next_tick``), or (start, ok) of a probe to finish."""
        self._skipping = True
        woken = True
        try:
            if plan.forever:
                yield self.env.event()  # only a wake ends this
            else:
                yield late_timeout(self.env.sim, plan.wake_at - self.env.now, self._order)
            woken = False
        except simpy.Interrupt:
            pass
        self._skipping = False
        self._wake_sent = False
        poked, self._wake_poke = self._wake_poke, False
        if self.stopped:
            return "stop"
        in_progress = self._catch_up(plan, self.env.now)
        if in_progress is not None:
            if poked:
                self._pending_poke = True
            return in_progress
        if poked:
            self._next_tick = self.env.now
            return "probe"
        return "sleep" if woken else "probe"

    def _catch_up(self, plan: _Plan, now: float) -> tuple[float, bool] | None:
        """Account for the planned ticks before ``now``: set ``_next_tick`` and the counters as
        the tick-by-tick worker would have them; return a probe still running at ``now``."""
        dur = plan.dur
        for t, k, ok, outcome in plan.ticks:
            if t >= now:  # a tick at this very instant runs after what woke us (NORMAL, or an earlier worker)
                self._next_tick = t
                return None
            if k != PROBE:
                continue
            self.probes_run += 1
            if dur > 0 and t + dur >= now:
                self._next_tick = t
                return (t, ok)
            self._count_outcome(outcome)
        if not plan.forever:
            self._next_tick = plan.wake_at
            return None
        return self._catch_up_steady(plan, now)

    def _catch_up_steady(self, plan: _Plan, now: float) -> tuple[float, bool] | None:
        """:meth:`_catch_up` over the endless steady ticks of ``plan``: the tick times the
        tick-by-tick worker would have (:func:`_tick_after`), with the counters added up once."""
        k, ok, outcome = plan.steady
        dur, period = plan.dur, plan.period
        probing = k == PROBE
        busy = dur if probing and dur > 0 else 0.0
        t = plan.wake_at
        n = 0
        running: tuple[float, bool] | None = None
        if not probing:
            t = _add_periods(t, period, now)[0]  # _tick_after(t, t, period) until now
        elif dur > 0:
            if dur < period / 2 and now < 2.0 ** 40:
                # Each probe tick is then exactly one period after the last (t + period > t + dur
                # in floats too): go in bulk to just before the tick whose probe runs into now.
                t, n = _add_periods(t, period, now - dur - 2 * period)
            while t < now:
                if t + dur >= now:
                    self.probes_run += 1
                    running = (t, ok)
                    break
                n += 1
                end = t + busy
                while t <= end:
                    t += period
        else:
            t, n = _add_periods(t, period, now)
        self._next_tick = t
        if n:
            self.probes_run += n
            if outcome == self._last:
                self._count += n
            else:
                self._last, self._count = outcome, n
        return running
