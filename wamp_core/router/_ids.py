"""Identifiers the router hands out (``basic/building_blocks.md`` "IDs").

Session and publication ids are drawn at random from the whole range [1, 2^53], so
that one session cannot guess another's; the random source is injected. Ids in
the router scope (subscriptions, registrations) and in a session's scope (the
requests the router sends it) only have to be unique there: a counter does.
"""

from __future__ import annotations

from collections.abc import Callable, Container

from wamp_core.vocabulary import MAX_ID

__all__ = ["RandomBytes", "RandomIds", "SequentialIds"]

RandomBytes = Callable[[int], bytes]


_DRAW = 7  # bytes per id: 56 bits, of which 53 are used
_BATCH = 64  # ids per call of the random source: one call per 64 publications


class RandomIds:
    """Random ids in [1, 2^53] from ``random_bytes``, asked for 64 ids' worth of bytes
    at a time (calling it costs more than an id; the ids are as unpredictable)."""

    __slots__ = ("_pool", "_pos", "_random_bytes")

    def __init__(self, random_bytes: RandomBytes) -> None:
        self._random_bytes = random_bytes
        self._pool = b""
        self._pos = 0

    def draw(self) -> int:
        pos = self._pos
        if pos == len(self._pool):
            self._pool = self._refill()
            pos = 0
        self._pos = pos + _DRAW
        # 53 bits give [0, 2^53 - 1]; shifting by one lands in [1, 2^53].
        return (int.from_bytes(self._pool[pos : pos + _DRAW], "big") & (MAX_ID - 1)) + 1

    def _refill(self) -> bytes:
        size = _DRAW * _BATCH
        data = self._random_bytes(size)
        if type(data) is not bytes or len(data) != size:
            raise ValueError(f"the random source must return {size} bytes, got {data!r:.40}")
        return data

    def unique(self, taken: Container[int]) -> int:
        """A random id not in ``taken`` (a collision is one draw in 2^53: draw again)."""
        while True:
            value = self.draw()
            if value not in taken:
                return value


class SequentialIds:
    """1, 2, 3, ... wrapping after 2^53, as the spec's router and session scopes allow."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last = self._last + 1 if self._last < MAX_ID else 1
        return self._last
