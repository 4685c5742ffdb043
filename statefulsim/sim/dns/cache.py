"""DNS caches: CoreDNS's ``cache`` plugin, NodeLocal DNSCache, and client-side caches
(reference pods §4.3–§4.6).  A cache is any object with the :class:`DnsCache` interface; there
is no registry of cache kinds (``register_cache`` was removed, see docs/design.md).  Which cache
runs where is fixed by the code: a CoreDNS replica's :class:`TtlCache` (or :class:`NoCache`) comes
from the scenario's DNS ``cache:`` settings (``server._cache_for``), NodeLocal DNSCache is a
:class:`TtlCache` per node (``nodeLocal: true``), and a ``dnsQuery`` action's ``clientCache:``
builds a :class:`FixedTtlCache`.  Code that makes a :class:`~statefulsim.sim.dns.resolver.Resolver`
itself can pass it any :class:`DnsCache` as ``cache=``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from statefulsim.sim.dns.records import Answer, normalize

#: CoreDNS cache defaults: success max 3600 s, denial max 1800 s, minimum 5 s.
DEFAULT_SUCCESS_TTL = 3600.0
DEFAULT_DENIAL_TTL = 1800.0
DEFAULT_MIN_TTL = 5.0


class DnsCache(Protocol):
    """Remembers answers for a while.  ``get`` returns the answer with its TTL counted down."""

    def get(self, qname: str, qtype: str, now: float) -> Answer | None: ...

    def put(self, qname: str, qtype: str, answer: Answer, now: float) -> None: ...


class NoCache:
    def get(self, qname: str, qtype: str, now: float) -> Answer | None:
        return None

    def put(self, qname: str, qtype: str, answer: Answer, now: float) -> None:
        return None


@dataclass(frozen=True)
class CacheSettings:
    """``cache`` plugin settings: max TTLs per kind, the minimum clamp, and zones excluded from
    caching (``disable success|denial ZONE``)."""

    success_ttl: float = DEFAULT_SUCCESS_TTL
    denial_ttl: float = DEFAULT_DENIAL_TTL
    success_min_ttl: float = DEFAULT_MIN_TTL
    denial_min_ttl: float = DEFAULT_MIN_TTL
    disable_success: tuple[str, ...] = ()
    disable_denial: tuple[str, ...] = ()


def _in_zone(name: str, zones: tuple[str, ...]) -> bool:
    """``zones`` normalized (see :func:`_zones`)."""
    if not zones:
        return False
    n = normalize(name)
    return any(n == z or n.endswith("." + z) for z in zones)


def _zones(zones: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(normalize(z) for z in zones)


class TtlCache:
    """The CoreDNS cache plugin's timing: an answer is kept for
    ``clamp(answer TTL, minTTL, maxTTL)`` of its kind (success or denial) and served with the TTL
    counting down (``computeTTL`` clamps even a TTL of 0 up to the minimum).  Capacity (9984
    entries per kind) and eviction are not modelled."""

    def __init__(self, settings: CacheSettings = CacheSettings()) -> None:
        self.settings = settings
        self._items: dict[tuple[str, str], tuple[Answer, float, float]] = {}  # -> (answer, stored, keep)
        self._no_success, self._no_denial = _zones(settings.disable_success), _zones(settings.disable_denial)
        self._disabled: dict[tuple[str, bool], bool] = {}  # (qname, success) -> caching disabled

    def get(self, qname: str, qtype: str, now: float) -> Answer | None:
        key = (normalize(qname), qtype)
        item = self._items.get(key)
        if item is None:
            return None
        ans, stored, keep = item
        left = int(keep) - int(now - stored)  # CoreDNS: origTTL - whole seconds elapsed
        if left <= 0:
            del self._items[key]
            return None
        return Answer(ans.rcode, ans.records, float(left))

    def put(self, qname: str, qtype: str, answer: Answer, now: float) -> None:
        s = self.settings
        success = answer.positive
        if answer.rcode not in ("NOERROR", "NXDOMAIN", "NODATA"):
            return
        disabled = self._disabled.get((qname, success))
        if disabled is None:
            disabled = self._disabled[(qname, success)] = _in_zone(qname, self._no_success if success else self._no_denial)
        if disabled:
            return
        lo, hi = (s.success_min_ttl, s.success_ttl) if success else (s.denial_min_ttl, s.denial_ttl)
        keep = min(max(answer.ttl, lo), hi)
        self._items[(normalize(qname), qtype)] = (answer, now, keep)


class FixedTtlCache:
    """A resolver library's own cache: positive answers are kept ``positive_ttl`` and negative ones
    ``negative_ttl`` seconds, whatever the DNS TTL (the JVM: ``networkaddress.cache.ttl`` 30 s,
    ``networkaddress.cache.negative.ttl`` 10 s)."""

    def __init__(self, positive_ttl: float, negative_ttl: float) -> None:
        self.positive_ttl = positive_ttl
        self.negative_ttl = negative_ttl
        self._items: dict[tuple[str, str], tuple[Answer, float, float]] = {}

    def get(self, qname: str, qtype: str, now: float) -> Answer | None:
        item = self._items.get((normalize(qname), qtype))
        if item is None or now - item[1] >= item[2]:
            return None
        return item[0]

    def put(self, qname: str, qtype: str, answer: Answer, now: float) -> None:
        keep = self.positive_ttl if answer.positive else self.negative_ttl
        if keep > 0:
            self._items[(normalize(qname), qtype)] = (answer, now, keep)
