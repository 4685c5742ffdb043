"""The invariants' public types (:class:`Violation`, :class:`Unjudged`, :class:`Invariant`) and
their registry: register, look up, run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from statefulsim.durations import format_clock
from statefulsim.registry import Registry
from statefulsim.sim.trace import Trace, TraceSource, as_trace


@dataclass(frozen=True)
class _Finding:
    invariant: str
    t: float
    objects: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return f"{format_clock(self.t)} {self.invariant}: {self.message}"


@dataclass(frozen=True)
class Violation(_Finding):
    """One broken guarantee: which invariant, when (simulated seconds), the objects involved
    (``kind/name`` strings such as ``pod/web-1``) and a one-line explanation."""


@dataclass(frozen=True)
class Unjudged(_Finding):
    """Something an invariant could not decide because the trace does not show it: an imported
    recording that starts while the pods already exist (``PodFirstSeen``).  ``t`` is the moment
    the check is about; ``message`` says what is unknown."""


CheckFn = Callable[[Trace], list[Violation]]
GapsFn = Callable[[Trace], list[Unjudged]]


@dataclass(frozen=True)
class Invariant:
    """A registered check: ``check(trace)`` returns the violations, ``applies(trace)`` says
    whether the trace has anything the check is about (``check`` then runs it by default);
    ``gaps(trace)``, when given, returns what it could not judge."""

    name: str
    summary: str
    check: CheckFn
    applies: Callable[[Trace], bool]
    gaps: GapsFn | None = None


INVARIANTS: Registry[Invariant] = Registry("invariant")


def register_invariant(name: str, summary: str, check_fn: CheckFn,
                       applies: Callable[[Trace], bool] | None = None, gaps: GapsFn | None = None, *,
                       builtin: bool = False) -> Invariant:
    """Add (or replace) an invariant.  ``applies`` defaults to "always"; ``gaps`` to none.  The
    built-in ones (``builtin=True``, this module's) cannot be replaced or removed."""
    inv = Invariant(name, summary, check_fn, applies or (lambda trace: True), gaps)
    INVARIANTS.register(name, inv, replace=True, builtin=builtin)
    return inv


def unregister_invariant(name: str) -> None:
    """Remove a registered invariant (not a built-in one); an unknown name is ignored."""
    INVARIANTS.unregister(name)


def invariant_names() -> list[str]:
    """The names of every registered invariant, in registration order."""
    return INVARIANTS.names()


def get_invariant(name: str) -> Invariant:
    if name in INVARIANTS:
        return INVARIANTS.get(name)
    else:
        raise ValueError(f"unknown invariant {name!r}; known: {', '.join(INVARIANTS)}") from None


def applicable(trace: TraceSource) -> list[str]:
    """The invariants that have something to check in ``trace``."""
    trace = as_trace(trace)
    return [name for name, inv in INVARIANTS.items() if inv.applies(trace)]


def check(trace: TraceSource, names: Iterable[str] | None = None) -> list[Violation]:
    """Run the named invariants (default: every one that applies to ``trace``) and return all
    violations, ordered by time then invariant name."""
    trace = as_trace(trace)
    chosen = applicable(trace) if names is None else [get_invariant(n).name for n in names]
    out: list[Violation] = []
    for name in chosen:
        out.extend(INVARIANTS.get(name).check(trace))
    out.sort(key=lambda v: (v.t, chosen.index(v.invariant) if v.invariant in chosen else 0))
    return out


def not_judged(trace: TraceSource, names: Iterable[str] | None = None) -> list[Unjudged]:
    """What the named invariants (default: every one that applies) could not judge on ``trace``,
    ordered by time.  Empty for a simulator trace: it starts at t=0 and shows everything."""
    trace = as_trace(trace)
    chosen = applicable(trace) if names is None else [get_invariant(n).name for n in names]
    out: list[Unjudged] = []
    for name in chosen:
        gaps = INVARIANTS.get(name).gaps
        if gaps is not None:
            out.extend(gaps(trace))
    out.sort(key=lambda u: (u.t, chosen.index(u.invariant)))
    return out


def describe(names: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """(name, one-line summary) of the registered invariants."""
    return [(n, INVARIANTS.get(n).summary) for n in (names if names is not None else INVARIANTS)]
