"""Helpers for tests: a comparison stricter than ==, a spy on what an adapter feeds."""

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


class FeedSpy:
    """Stands in for an adapter's Connection (compiled ones cannot be patched): records
    the size of each ``receive_data`` and what ``seen`` held then, forwards the rest."""

    def __init__(self, connection: Any, seen: list[Any] | None = None) -> None:
        self.inner = connection
        self.seen = seen if seen is not None else []
        self.fed: list[tuple[int, int]] = []  # (bytes fed, items in seen before)

    def receive_data(self, data: bytes, now: float | None = None) -> None:
        self.fed.append((len(data), len(self.seen)))
        self.inner.receive_data(data, now)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def sizes(self) -> list[int]:
        return [size for size, _ in self.fed]
