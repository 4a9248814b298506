"""A one-shot result for anyio code: set once from synchronous code, awaited by a task."""

from __future__ import annotations

from typing import Any

import anyio


class Future:
    """What ``SessionCore`` hands out for a request; ``await future.wait()``."""

    __slots__ = ("_done", "_error", "_value")

    def __init__(self) -> None:
        self._done = anyio.Event()
        self._value: Any = None
        self._error: BaseException | None = None

    def set_result(self, value: Any) -> None:
        if not self._done.is_set():
            self._value = value
            self._done.set()

    def set_exception(self, error: BaseException) -> None:
        if not self._done.is_set():
            self._error = error
            self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def result(self) -> Any:
        """The value (or the exception, raised); only once done."""
        if not self._done.is_set():
            raise RuntimeError("the result is not ready")
        if self._error is not None:
            raise self._error
        return self._value

    def exception(self) -> BaseException | None:
        if not self._done.is_set():
            raise RuntimeError("the result is not ready")
        return self._error

    async def wait(self) -> Any:
        if not self._done.is_set():  # no needless trip through the event loop
            await self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value

    def __await__(self) -> Any:
        return self.wait().__await__()
