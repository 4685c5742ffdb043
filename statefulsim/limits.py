"""Size limits: what a scenario may ask for, checked when it loads, before anything is built.

Two kinds (docs/scenario.md, "Limits"):

* the API server's own ranges, which no flag lifts: ``spec.replicas`` and the other int32
  fields of a StatefulSet are 0..2147483647, other integers fit an int64, quantities (CPU,
  memory) are at most 2^63-1 in their base unit, and simulated time stops at
  :data:`MAX_SIMULATED_SECONDS`;
* simulation sizes (:class:`Limits`), chosen so that each one alone at its limit runs in about
  a minute on a laptop (figures in docs/scenario.md).  A scenario raises them with
  ``cluster.limits: {KEY: VALUE}``; ``--allow-large`` (run, validate, sweep, explore) lifts them.

Pure code: the loader calls :meth:`Limits.problem` and reports what it returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Mapping

from statefulsim.errors import Problem

#: The API's int32 fields (``spec.replicas``, ``minReadySeconds``, ...).
INT32_MAX = 2**31 - 1
#: The API's int64 fields and every other integer of a scenario.
INT64_MAX = 2**63 - 1
#: Simulated time never goes beyond this (about 31 700 years), limits lifted or not: a trace's
#: ``t`` is at most this, so clocks and plots can always format it.
MAX_SIMULATED_SECONDS = 1e12


@dataclass(frozen=True)
class Limits:
    """The simulation-size limits of one scenario (``cluster.limits``)."""

    #: Desired replicas of all StatefulSets together, at the start and after every action.
    replicas: int = 10_000
    #: ``cluster.nodes``: each node runs a kubelet that renews its Lease every 10 s.
    nodes: int = 5_000
    #: ``cluster.dns.replicas``: CoreDNS pods, each with its own cache.
    dns_replicas: int = 1_000
    #: ``cluster.controller.workers``: StatefulSet controller workers.
    controller_workers: int = 1_000
    #: Lookups of all ``dnsQuery`` actions together (``every`` repeats one).
    dns_queries: int = 100_000
    #: ``until`` (and ``run --until``), in seconds.
    until: float = 7 * 86400.0

    def problem(self, key: str, value: float, path: tuple[str | int, ...], what: str) -> Problem | None:
        """A Problem at ``path`` when ``value`` exceeds the limit named ``key`` (a
        :data:`LIMIT_KEYS` key), else None.  ``what`` describes the value ("5000 nodes")."""
        limit = getattr(self, LIMIT_KEYS[key])
        if value <= limit:
            return None
        if key == "until" and value > MAX_SIMULATED_SECONDS:
            return Problem(path, f"{what} is more than simulated time goes ({MAX_SIMULATED_SECONDS:g}s, about "
                                 "31 700 years), with or without --allow-large")
        shown = _duration(limit) if key == "until" else f"{int(limit)}"
        return Problem(path, f"{what} is more than the limit of {shown} (cluster.limits.{key}); raise it "
                             f"with cluster.limits.{key} or --allow-large")


#: No simulation-size limit (``--allow-large``); the API's ranges and MAX_SIMULATED_SECONDS stay.
UNLIMITED = Limits(replicas=INT64_MAX, nodes=INT64_MAX, dns_replicas=INT64_MAX, controller_workers=INT64_MAX,
                   dns_queries=INT64_MAX, until=MAX_SIMULATED_SECONDS)

#: ``cluster.limits`` keys and the :class:`Limits` attribute of each.
LIMIT_KEYS: Mapping[str, str] = {"replicas": "replicas", "nodes": "nodes", "dnsReplicas": "dns_replicas",
                                 "controllerWorkers": "controller_workers", "dnsQueries": "dns_queries",
                                 "until": "until"}
assert sorted(LIMIT_KEYS.values()) == sorted(f.name for f in fields(Limits))


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def duration_text(seconds: float) -> str:
    """``604800`` → ``7d``: how limits and runs are named in messages."""
    return "never" if math.isinf(seconds) else _duration(seconds)


def with_values(base: Limits, values: Mapping[str, Any]) -> Limits:
    """``base`` with the given ``cluster.limits`` keys replaced (values already validated)."""
    return Limits(**{**{f.name: getattr(base, f.name) for f in fields(Limits)},
                     **{LIMIT_KEYS[k]: v for k, v in values.items()}})


__all__ = ["INT32_MAX", "INT64_MAX", "LIMIT_KEYS", "Limits", "MAX_SIMULATED_SECONDS", "UNLIMITED", "duration_text",
           "with_values"]
