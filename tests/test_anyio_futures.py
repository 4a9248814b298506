"""wamp_anyio's request futures on each backend: several waiters, a waiter canceled
while it sleeps, results and errors set before and after the wait."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from wamp_anyio._backend import on_asyncio
from wamp_anyio._future import AsyncioFuture, Future, Sleepers, TrioFuture

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def backend_future(sleepers: Sleepers | None = None) -> Future:
    return AsyncioFuture(sleepers) if on_asyncio() else TrioFuture(sleepers)


@pytest.mark.parametrize("kind", ["backend", "generic"])
async def test_a_canceled_waiter_leaves_the_result_to_the_others(kind: str) -> None:
    sleepers = Sleepers()
    future = backend_future(sleepers) if kind == "backend" else Future(sleepers)
    got: list[Any] = []

    async def waiter(name: str) -> None:
        got.append((name, await future.wait()))

    async with anyio.create_task_group() as tg:
        for name in "abc":
            tg.start_soon(waiter, name)
        async with anyio.create_task_group() as doomed:
            doomed.start_soon(waiter, "d")
            await anyio.wait_all_tasks_blocked()
            assert sleepers.count == 4
            doomed.cancel_scope.cancel()  # "d" is canceled while it sleeps
        assert sleepers.count == 3
        future.set_result(42)
        future.set_result(43)  # a second result is ignored
    assert sorted(got) == [("a", 42), ("b", 42), ("c", 42)]
    assert sleepers.count == 0
    assert await future.wait() == 42  # done: no sleep


async def test_an_error_reaches_every_waiter() -> None:
    future = backend_future()
    errors: list[BaseException] = []

    async def waiter() -> None:
        try:
            await future
        except KeyError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(2):
            tg.start_soon(waiter)
        await anyio.wait_all_tasks_blocked()
        future.set_exception(KeyError("x"))
    assert len(errors) == 2
    assert isinstance(future.exception(), KeyError)
    with pytest.raises(KeyError):
        future.result()


async def test_canceling_the_only_waiter_then_setting_the_result() -> None:
    future = backend_future(Sleepers())
    async with anyio.create_task_group() as tg:
        tg.start_soon(future.wait)
        await anyio.wait_all_tasks_blocked()
        tg.cancel_scope.cancel()
    future.set_result("late")  # nobody waits any more: nothing to wake, nothing fails
    assert future.done() and future.result() == "late"
