"""Where a session's short-lived tasks run: a task group, or bare asyncio tasks.

A session driven in its transport's callbacks (asyncio, see ``Driver.start_in_callbacks``)
has no task group to start its hooks, invocations and coroutine handlers in: a group
needs a task that waits in it for as long as the session lives, which is what an idle
session must not hold. ``LoopTasks`` starts each of them as a task of the loop, kept
only while it runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from anyio.abc import TaskGroup

if TYPE_CHECKING:
    from wamp_anyio._trio_mux import Mux

__all__ = ["LoopTasks", "Starts"]

log = logging.getLogger("wamp_anyio")


class LoopTasks:
    """Starts tasks on the running asyncio loop, holding each until it ends (the loop
    keeps only weak references). What a task raises is logged: nobody awaits it."""

    __slots__ = ("_running",)

    def __init__(self) -> None:
        self._running: set[asyncio.Task[Any]] | None = None  # made with the first task

    def start_soon(
        self, func: Callable[..., Awaitable[Any]], *args: object, name: object = None
    ) -> None:
        task = asyncio.get_running_loop().create_task(_run(func, args))
        running = self._running
        if running is None:
            running = self._running = set()
        running.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        running = self._running
        if running is not None:
            running.discard(task)
            if not running:
                self._running = None  # an idle session holds not even the empty set
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            log.error("a session task raised %r", error, exc_info=error)

    async def cancel_and_wait(self) -> None:
        """Cancel every task still running, and wait until they all ended (as a task
        group's exit does); what they raise is logged."""
        while self._running:
            running = list(self._running)
            for task in running:
                task.cancel()
            await asyncio.wait(running)

    @property
    def running(self) -> int:
        return len(self._running or ())


# What the driver and the session start tasks with (Mux: trio's multiplexer nursery).
Starts: TypeAlias = "TaskGroup | LoopTasks | Mux"


async def _run(func: Callable[..., Awaitable[Any]], args: tuple[object, ...]) -> Any:
    return await func(*args)
