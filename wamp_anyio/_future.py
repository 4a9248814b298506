"""A one-shot result for anyio code: set once from synchronous code, awaited by a task."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio

from wamp_anyio._backend import on_asyncio, on_trio


class Sleepers:
    """How many tasks sleep on the futures that share it (those of one session)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class Future:
    """What ``SessionCore`` hands out for a request; ``await future.wait()``.

    Any backend: a waiting task sleeps on an ``anyio.Event``, made only when
    somebody waits before the result is there. ``sleepers`` (optional) counts
    the sleeping tasks."""

    __slots__ = ("_done", "_error", "_sleepers", "_value", "_waiting")

    def __init__(self, sleepers: Sleepers | None = None) -> None:
        self._done = False
        self._value: Any = None
        self._error: BaseException | None = None
        self._waiting: Any = None  # what wakes the sleeping tasks (see _wake)
        self._sleepers = sleepers

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
            sleepers = self._sleepers
            if sleepers is None:
                await self._sleep()
            else:
                sleepers.count += 1
                try:
                    await self._sleep()
                finally:
                    sleepers.count -= 1
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


class AsyncioFuture(Future):
    """The same on the asyncio backend, lighter: each sleeping task waits on an
    ``asyncio.Future`` of its own (a task canceled while it waits cancels only
    its own; the result stays for the others)."""

    __slots__ = ()

    async def wait(self) -> Any:  # Future.wait with _sleep inlined: one coroutine less
        if not self._done:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiting is None:
                self._waiting = [waiter]
            else:
                self._waiting.append(waiter)
            sleepers = self._sleepers
            if sleepers is None:
                await waiter
            else:
                sleepers.count += 1
                try:
                    await waiter
                finally:
                    sleepers.count -= 1
        if self._error is not None:
            raise self._error
        return self._value

    def _wake(self) -> None:
        if self._waiting is not None:
            for waiter in self._waiting:
                if not waiter.done():
                    waiter.set_result(None)
            self._waiting = None


class TrioFuture(Future):
    """The same on the trio backend, lighter: a sleeping task parks itself with
    trio's low-level API and is rescheduled by the result (no Event, no parking lot);
    a task canceled while it waits leaves the list, the result stays for the others."""

    __slots__ = ()

    async def _sleep(self) -> None:
        lowlevel = _trio_lowlevel or _load_trio_lowlevel()
        task = lowlevel.current_task()
        if self._waiting is None:
            self._waiting = [task]
        else:
            self._waiting.append(task)
        waiting: list[Any] = self._waiting

        def abort(_: Any) -> Any:  # only while still parked: _wake has not run
            waiting.remove(task)
            return lowlevel.Abort.SUCCEEDED

        await lowlevel.wait_task_rescheduled(abort)

    def _wake(self) -> None:
        if self._waiting is not None:
            reschedule = (_trio_lowlevel or _load_trio_lowlevel()).reschedule
            for task in self._waiting:
                reschedule(task)
            self._waiting = None


def future_class() -> type[Future]:
    """The lightest Future of the running backend (an anyio Event costs a backend
    lookup, and on asyncio 900 bytes)."""
    return AsyncioFuture if on_asyncio() else TrioFuture if on_trio() else Future


_trio_lowlevel: Any = None  # trio.lowlevel once a TrioFuture is used (trio is optional)


def _load_trio_lowlevel() -> Any:
    global _trio_lowlevel  # a lazy import, done once
    import trio.lowlevel  # noqa: PLC0415 (trio is optional; only imported under trio)

    _trio_lowlevel = trio.lowlevel
    return _trio_lowlevel
