"""Declaring a scenario verb: the ``Action`` protocol, :class:`Verb` and :func:`arg`.

A verb is a frozen dataclass whose fields, declared with :func:`arg`, give its ``parse`` and
``fields``; it implements ``execute`` (and may override ``describe`` and ``touches``).  The
built-in verbs are in :mod:`statefulsim.sim.actions` and the DNS verb in
:mod:`statefulsim.sim.dns.actions`; both build on this module, which imports neither.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Literal, Mapping, Protocol, Self

from statefulsim.durations import format_duration
from statefulsim.problems import Path, Problems, get_str
from statefulsim.sim.cluster import Cluster
from statefulsim.sim.process import Gen


class Action(Protocol):
    """A scenario verb.  ``describe`` and ``touches`` read an ``Action`` record's fields (a trace
    read from a file has no action objects), so reports and the happens-before graph handle a
    user-registered verb like a built-in one; :class:`Verb` gives defaults for both."""

    at: float
    verb: ClassVar[str]

    def fields(self) -> dict[str, Any]: ...

    def execute(self, cluster: Cluster) -> Gen: ...

    @classmethod
    def describe(cls, fields: Mapping[str, Any]) -> str:
        """What the action did, in words (the report's timeline)."""
        ...

    @classmethod
    def touches(cls, fields: Mapping[str, Any]) -> tuple[str, ...]:
        """The objects the action acts on, by the name their trace records carry (``web-0``,
        ``web``, ``node-1``): the happens-before graph links the action to the next milestone of each."""
        ...


def compact(value: Any) -> str:
    """A field value on one line: ``{replicas: 3}``, ``[a, b]``."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(compact(v) for v in value) + "]"
    return str(value)


def seconds_text(value: Any) -> str:
    """``30s`` for whole seconds, ``1.5s`` / ``2m05s`` otherwise, ``never`` for infinity (also
    for the string ``"inf"`` a trace file holds instead)."""
    if value == "inf":
        return "never"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if math.isinf(value):
        return "never"
    if float(value).is_integer() and value < 60:
        return f"{int(value)}s"
    return format_duration(float(value))


# --------------------------------------------------------------------------- declaring a verb by its fields

#: When a field goes into the ``Action`` record: always, only when it differs from its default, never.
Trace = Literal["always", "if_set", "never"]
_ARG = "statefulsim.arg"


@dataclass(frozen=True)
class Arg:
    """How a verb's field is read from the scenario and written to the trace (see :func:`arg`)."""

    read: Callable[..., Any]
    options: Mapping[str, Any]
    key: str | None
    trace: Trace
    trace_key: str | None


def arg(read: Callable[..., Any] = get_str, *, key: str | None = None, trace: Trace = "always",
        trace_key: str | None = None, **options: Any) -> dict[str, Arg]:
    """The ``metadata`` of a :class:`Verb`'s field: ``field(default=1, metadata=arg(get_int, minimum=0))``.

    ``read`` is a getter of :mod:`statefulsim.problems` (or one with its signature), called as
    ``read(mapping, key, path, problems, default, **options)`` for a field with a default and
    ``read(mapping, key, path, problems, required=True, **options)`` for one without.  ``key`` is
    the scenario's key (default: the field's name in camelCase, ``grace_period_seconds`` ->
    ``gracePeriodSeconds``); ``trace_key`` the record's (default: ``key``).  A plain ``str``
    field needs no ``arg``: it is read with ``get_str`` and always traced.
    """
    return {_ARG: Arg(read, dict(options), key, trace, trace_key)}


_PLAIN = arg()[_ARG]


def namespace_field() -> Any:
    """``namespace: str = namespace_field()``: an optional ``namespace`` key, kept out of the trace."""
    return field(default="default", metadata=arg(trace="never"))


@dataclass(frozen=True)
class _Field:
    name: str
    key: str
    arg: Arg
    default: Any
    required: bool

    def read(self, m: Mapping[str, Any], path: Path, problems: Problems) -> Any:
        if self.required:
            return self.arg.read(m, self.key, path, problems, required=True, **self.arg.options)
        return self.arg.read(m, self.key, path, problems, self.default, **self.arg.options)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _verb_fields(cls: type) -> tuple[_Field, ...]:
    out = []
    for f in dataclasses.fields(cls):
        if f.name == "at":
            continue
        if f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{f.name}: a Verb's field takes a default, not a default_factory")
        a = f.metadata.get(_ARG)
        if a is None and f.type not in ("str", str):
            raise TypeError(f"{cls.__name__}.{f.name}: say how to read it with field(metadata=arg(...))")
        a = a or _PLAIN
        required = f.default is dataclasses.MISSING
        out.append(_Field(f.name, a.key or _camel(f.name), a, None if required else f.default, required))
    return tuple(out)


@dataclass(frozen=True)
class Verb:
    """Base of a verb declared by its fields: each field after ``at`` is one key of the verb's
    mapping, required when it has no default, read and traced as its :func:`arg` says.  A verb
    that needs more (cross-field checks, nested mappings) overrides ``parse`` and builds it from
    :meth:`allowed_keys` and :meth:`read`."""

    at: float
    verb: ClassVar[str] = ""

    @classmethod
    def allowed_keys(cls) -> tuple[str, ...]:
        return tuple(f.key for f in _verb_fields(cls))

    @classmethod
    def read(cls, m: Mapping[str, Any], path: Path, problems: Problems, *names: str) -> dict[str, Any]:
        """The named fields (all of them by default) read from ``m`` in that order, by field name."""
        fields = _verb_fields(cls)
        if names:
            by_name = {f.name: f for f in fields}
            fields = tuple(by_name[n] for n in names)
        return {f.name: f.read(m, path, problems) for f in fields}

    @classmethod
    def parse(cls, at: float, m: Mapping[str, Any], path: Path, problems: Problems) -> Self:
        problems.unknown_keys(m, cls.allowed_keys(), path)
        return cls(at, **cls.read(m, path, problems))

    @classmethod
    def describe(cls, fields: Mapping[str, Any]) -> str:
        """By default the verb and its record's fields: ``myVerb {statefulset: web, count: 2}``."""
        rest = {k: v for k, v in fields.items() if k != "action"}
        return f"{cls.verb} {compact(rest)}".rstrip()

    @classmethod
    def touches(cls, fields: Mapping[str, Any]) -> tuple[str, ...]:
        """By default the record's ``pod``, ``statefulset`` and ``node`` fields."""
        return tuple(v for k in ("pod", "statefulset", "node") if isinstance(v := fields.get(k), str))

    def fields(self) -> dict[str, Any]:
        """The ``Action`` record's fields, in the order the dataclass declares them (a mapping is
        copied)."""
        out: dict[str, Any] = {}
        for f in _verb_fields(type(self)):
            value = getattr(self, f.name)
            if f.arg.trace == "always" or (f.arg.trace == "if_set" and value != f.default):
                out[f.arg.trace_key or f.key] = dict(value) if isinstance(value, Mapping) else value
        return out
