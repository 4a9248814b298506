"""Which transport to try next, and when: the reconnect decisions of ``Component``
(and the runners), as a state machine with time and randomness passed in.

The transports are tried in turn, as Autobahn's ``Component`` does: each keeps its own
retry count and delay (``RetrySettings``, with the defaults of Autobahn's code); a
transport that has used up its retries is skipped; when every one has, the plan is
over. A session that joined resets its transport (count and delay start again).
The first attempt of a transport is immediate; its n-th retry waits
``min(initial_retry_delay * retry_delay_growth ** (n - 1), max_retry_delay)`` plus
up to ``retry_delay_jitter`` times that in random jitter.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["Attempt", "ReconnectPlan", "RetrySettings"]


@dataclass(frozen=True, slots=True)
class RetrySettings:
    """One transport's retry settings (Autobahn ``Component``'s names and defaults).

    ``max_retries`` -1 (the default, as in Autobahn's code) retries for ever; 0 tries once."""

    max_retries: int = -1
    initial_retry_delay: float = 1.5
    max_retry_delay: float = 300.0
    retry_delay_growth: float = 1.5
    retry_delay_jitter: float = 0.1

    def __post_init__(self) -> None:
        if type(self.max_retries) is not int or self.max_retries < -1:
            raise ValueError(f"max_retries must be an int >= -1, got {self.max_retries!r}")
        for name in ("initial_retry_delay", "max_retry_delay", "retry_delay_jitter"):
            value = getattr(self, name)
            if not (type(value) in (int, float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a non-negative number, got {value!r}")
        growth = self.retry_delay_growth
        if not (type(growth) in (int, float) and math.isfinite(growth) and growth >= 1):
            raise ValueError(f"retry_delay_growth must be >= 1, got {growth!r}")

    def may_try(self, attempts: int) -> bool:
        """Whether a transport that was tried ``attempts`` times may be tried again."""
        return self.max_retries == -1 or attempts <= self.max_retries

    def delay(self, attempts: int, random: Callable[[], float]) -> float:
        """Seconds before the next try of a transport already tried ``attempts`` times."""
        if attempts == 0:
            return 0.0
        try:
            base = self.initial_retry_delay * self.retry_delay_growth ** (attempts - 1)
        except OverflowError:
            base = math.inf
        base = min(base, self.max_retry_delay)
        return base + base * self.retry_delay_jitter * random()


class Attempt(NamedTuple):
    """Try transport number ``transport`` after ``delay`` seconds."""

    transport: int
    delay: float


class ReconnectPlan:
    """The transports' retry state. ``random`` gives floats in [0, 1) (for jitter)."""

    def __init__(self, settings: Sequence[RetrySettings], random: Callable[[], float]) -> None:
        if not settings:
            raise ValueError("at least one transport is needed")
        self._settings = tuple(settings)
        self._random = random
        self._attempts = [0] * len(self._settings)
        self._next = 0  # the transport to consider first

    @property
    def attempts(self) -> tuple[int, ...]:
        """How often each transport was tried since it last joined."""
        return tuple(self._attempts)

    def next(self) -> Attempt | None:
        """The next attempt, in turn from the transport after the last one tried;
        None when every transport has used up its retries."""
        count = len(self._settings)
        for offset in range(count):
            index = (self._next + offset) % count
            settings = self._settings[index]
            tried = self._attempts[index]
            if settings.may_try(tried):
                self._attempts[index] = tried + 1
                self._next = (index + 1) % count
                return Attempt(index, settings.delay(tried, self._random))
        return None

    def joined(self, index: int) -> None:
        """A session joined over transport ``index``: its retries start again, and it
        is the one to try first next time."""
        self._attempts[index] = 0
        self._next = index

    def gave_up(self) -> bool:
        """Whether every transport has used up its retries."""
        return all(not s.may_try(n) for s, n in zip(self._settings, self._attempts, strict=True))
