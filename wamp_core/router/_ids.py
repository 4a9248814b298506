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


class RandomIds:
    """Random ids in [1, 2^53] from ``random_bytes`` (7 bytes per draw)."""

    __slots__ = ("_random_bytes",)

    def __init__(self, random_bytes: RandomBytes) -> None:
        self._random_bytes = random_bytes

    def draw(self) -> int:
        data = self._random_bytes(7)
        if type(data) is not bytes or len(data) != 7:
            raise ValueError(f"the random source must return 7 bytes, got {data!r:.40}")
        # 53 bits give [0, 2^53 - 1]; shifting by one lands in [1, 2^53].
        return (int.from_bytes(data, "big") & (MAX_ID - 1)) + 1

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
