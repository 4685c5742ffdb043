"""Small English wording shared by messages, reports and the command line."""

from __future__ import annotations


def plural(n: object, word: str) -> str:
    """``1 pod``, ``3 pods``: ``word`` with an ``s`` unless ``n`` is exactly 1."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
