"""What the verbs share: readers of grace periods and optional strings, an action's failure, its one
API request."""

from __future__ import annotations

from typing import Any, Mapping

from statefulsim.problems import Path, Problems, get_int, get_str
from statefulsim.sim.api.store import ApiError
from statefulsim.sim.process import Gen


def _get_grace_seconds(m: Mapping[str, Any], key: str, path: Path, problems: Problems,
                      default: float | None = None) -> float | None:
    """A grace period as in the API: a whole number of seconds >= 0 (as a float), or ``default``."""
    if m.get(key) is None:
        return default
    return float(get_int(m, key, path, problems, 0, minimum=0))


def _get_str_or_none(m: Mapping[str, Any], key: str, path: Path, problems: Problems,
                     default: str | None = None) -> str | None:
    return get_str(m, key, path, problems) or default


def _fail(message: str) -> dict[str, Any]:
    return {"error": message}


def _request(call: Gen) -> Gen:
    """An action's one API request: ``{}``, or the API error as the action's failure."""
    try:
        yield from call
    except ApiError as e:
        return _fail(e.message)
    return {}
