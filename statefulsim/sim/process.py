"""The type of a simulation process: a SimPy generator that yields events."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

__all__ = ["Gen"]

Gen = Generator[simpy.Event, Any, Any]
"""What every ``def run(self) -> Gen`` in the core returns: SimPy drives it by the events it yields."""
