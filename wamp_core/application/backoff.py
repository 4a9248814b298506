"""Reconnect backoff with the seed's parameters, and the random source passed in."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """``delay(n)`` before reconnect attempt ``n`` (0 = the first retry).

    delay = min(initial_retry_delay * retry_delay_growth ** n, max_retry_delay)
            + retry_delay_jitter * random()

    as Twisted's ``backoffPolicy`` (which Autobahn's runner uses) computes it;
    ``retry_delay_jitter`` may also be a 0-argument callable giving the jitter in
    seconds. ``max_retries`` None or -1: retry forever; 0: never.
    """

    max_retries: int | None = None
    initial_retry_delay: float = 1.0
    max_retry_delay: float = 60.0
    retry_delay_growth: float = 1.5
    retry_delay_jitter: float | Callable[[], float] = 0.1

    def __post_init__(self) -> None:
        if self.max_retries is not None and self.max_retries < -1:
            raise ValueError(f"max_retries must be >= -1 or None, got {self.max_retries}")
        for name in ("initial_retry_delay", "max_retry_delay"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a non-negative number of seconds, got {value!r}")
        if not (isinstance(self.retry_delay_growth, (int, float)) and self.retry_delay_growth >= 1):
            raise ValueError(f"retry_delay_growth must be >= 1, got {self.retry_delay_growth!r}")
        jitter = self.retry_delay_jitter
        if not callable(jitter) and not (isinstance(jitter, (int, float)) and jitter >= 0):
            raise ValueError(f"retry_delay_jitter must be >= 0 or a callable, got {jitter!r}")

    def may_retry(self, attempt: int) -> bool:
        """Whether reconnect attempt ``attempt`` (0-based) is allowed."""
        return self.max_retries is None or self.max_retries == -1 or attempt < self.max_retries

    def delay(self, attempt: int, random: Callable[[], float]) -> float:
        """Seconds to wait before reconnect attempt ``attempt``; ``random`` gives [0, 1)."""
        try:
            base = self.initial_retry_delay * self.retry_delay_growth**attempt
        except OverflowError:
            base = math.inf
        base = min(base, self.max_retry_delay)
        jitter = self.retry_delay_jitter
        return base + (jitter() if callable(jitter) else jitter * random())
