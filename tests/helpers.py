"""Helpers for tests: a comparison stricter than ==."""

from __future__ import annotations

from typing import Any


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types, at any depth (``1 == True == 1.0`` is not enough)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)
