"""Which anyio backend runs us, and its clock: looked up once per session, not per call."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import anyio

__all__ = ["clock", "on_asyncio", "on_trio"]


def on_asyncio() -> bool:
    """Whether the running anyio backend is asyncio."""
    return anyio.get_cancelled_exc_class() is asyncio.CancelledError


def on_trio() -> bool:
    """Whether the running anyio backend is trio."""
    return anyio.get_cancelled_exc_class().__module__.startswith("trio")


def clock() -> Callable[[], float]:
    """The running backend's clock (what ``anyio.current_time`` reads, without the lookup)."""
    if on_asyncio():
        return asyncio.get_running_loop().time
    if on_trio():
        import trio  # noqa: PLC0415 (trio is optional; only asked under trio)

        return trio.current_time
    return anyio.current_time  # pragma: no cover - anyio has no third backend today
