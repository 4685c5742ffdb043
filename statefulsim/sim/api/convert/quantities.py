"""Manifest conversion: quantities (part of :mod:`statefulsim.sim.api.convert`)."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from statefulsim.problems import shown, type_name

_QUANTITY = re.compile(
    r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$"
)
_SUFFIX: dict[str, Fraction] = {
    "": Fraction(1),
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
    "Ki": Fraction(2**10),
    "Mi": Fraction(2**20),
    "Gi": Fraction(2**30),
    "Ti": Fraction(2**40),
    "Pi": Fraction(2**50),
    "Ei": Fraction(2**60),
}


def _quantity(value: Any, what: str) -> Fraction:
    """The exact value of a Kubernetes quantity (a number or a string such as ``1.5Gi``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected {what}, found {type_name(value)} {shown(value)}")
    if isinstance(value, int):
        result = Fraction(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"expected {what}, found {shown(value)}")
        result = Fraction(Decimal(repr(value)))
    else:
        m = _QUANTITY.match(value.strip())
        if m is None:
            hint = ""
            if value.strip()[-1:] in ("B", "b"):
                hint = ' (Kubernetes quantities have no "B": write 1G or 1Gi)'
            raise ValueError(f"expected {what}, found {shown(value)}{hint}")
        try:
            number = Fraction(Decimal(m.group(1)))
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only decimals
            raise ValueError(f"expected {what}, found {shown(value)}") from exc
        if m.group(2):
            result = _scaled(number, m.group(1), m.group(2)[1:])
        else:
            result = number * _SUFFIX[m.group(3) or ""]
    if result < 0:
        raise ValueError(f"expected a non-negative quantity, found {shown(value)}")
    if result > _QUANTITY_MAX:
        raise ValueError(f"expected {what}, at most 2^63-1 (the largest quantity Kubernetes represents), "
                         f"found {shown(value)}")
    return result


#: No quantity may exceed 2^63-1 in its base unit (apimachinery's resource.Quantity).
_QUANTITY_MAX = Fraction(2**63 - 1)
#: The API rounds a non-zero quantity up to at least 1n.
_NANO = Fraction(1, 10**9)


def _scaled(number: Fraction, mantissa: str, exponent_text: str) -> Fraction:
    """``mantissa`` × 10^exponent without computing powers that could never fit (``1e99999999``)."""
    if number == 0:
        return number
    digits = exponent_text.lstrip("+-")
    negative = exponent_text.startswith("-")
    exponent = int(exponent_text) if len(digits) <= 6 else (-(10**7) if negative else 10**7)
    magnitude = Decimal(mantissa).adjusted() + exponent
    if magnitude > 20:
        return _QUANTITY_MAX + 1 if number > 0 else -_QUANTITY_MAX - 1
    if magnitude < -12:
        return _NANO if number > 0 else -_NANO
    return number * Fraction(10) ** exponent


def parse_quantity_cpu(value: Any) -> int:
    """CPU millicores for ``500m``, ``0.5``, ``"2"`` or ``2`` (rounded up, as the API does)."""
    return math.ceil(_quantity(value, "a CPU quantity such as 500m, 0.5 or 2") * 1000)


def parse_quantity_memory(value: Any) -> int:
    """Bytes for ``128Mi``, ``1Gi``, ``1G``, ``512M``, ``100Ki``, ``1e3`` or a plain integer (rounded up)."""
    return math.ceil(_quantity(value, "a memory quantity such as 128Mi, 1Gi or 512M"))


def _parse_pod_count(value: Any) -> int:
    """A whole number of pods (``110`` or ``"110"``)."""
    amount = _quantity(value, "a number of pods such as 110")
    if amount.denominator != 1:
        raise ValueError(f"expected a whole number of pods, found {shown(value)}")
    return int(amount)
