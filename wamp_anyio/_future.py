"""A one-shot result for anyio code: set once from synchronous code, awaited by a task."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio


class Future:
    """What ``SessionCore`` hands out for a request; ``await future.wait()``.

    Any backend: a waiting task sleeps on an ``anyio.Event``, made only when
    somebody waits before the result is there."""

    __slots__ = ("_done", "_error", "_value", "_waiting")

    def __init__(self) -> None:
        self._done = False
        self._value: Any = None
        self._error: BaseException | None = None
        self._waiting: Any = None  # what wakes the waiting tasks (see _wake)

    def set_result(self, value: Any) -> None:
        if not self._done:
            self._value = value
            self._done = True
            self._wake()

    def set_exception(self, error: BaseException) -> None:
        if not self._done:
            self._error = error
            self._done = True
            self._wake()

    def done(self) -> bool:
        return self._done

    def result(self) -> Any:
        """The value (or the exception, raised); only once done."""
        if not self._done:
            raise RuntimeError("the result is not ready")
        if self._error is not None:
            raise self._error
        return self._value

    def exception(self) -> BaseException | None:
        if not self._done:
            raise RuntimeError("the result is not ready")
        return self._error

    async def wait(self) -> Any:
        if not self._done:  # no needless trip through the event loop
            await self._sleep()
        if self._error is not None:
            raise self._error
        return self._value

    def __await__(self) -> Any:
        return self.wait().__await__()

    async def _sleep(self) -> None:
        if self._waiting is None:
            self._waiting = anyio.Event()
        await self._waiting.wait()

    def _wake(self) -> None:
        if self._waiting is not None:
            self._waiting.set()


class Sleepers:
    """How many tasks sleep on the futures that share it (see AsyncioFuture)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class AsyncioFuture(Future):
    """The same on the asyncio backend, lighter: each waiting task sleeps on an
    ``asyncio.Future`` of its own (a task canceled while it waits cancels only
    its own; the result stays for the others). ``sleepers`` counts the tasks
    that sleep on the futures of one session."""

    __slots__ = ("_sleepers",)

    def __init__(self, sleepers: Sleepers) -> None:
        super().__init__()
        self._sleepers = sleepers

    async def _sleep(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        if self._waiting is None:
            self._waiting = [waiter]
        else:
            self._waiting.append(waiter)
        sleepers = self._sleepers
        sleepers.count += 1
        try:
            await waiter
        finally:
            sleepers.count -= 1

    def _wake(self) -> None:
        if self._waiting is not None:
            for waiter in self._waiting:
                if not waiter.done():
                    waiter.set_result(None)
            self._waiting = None
