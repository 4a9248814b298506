"""wamp_anyio runs a plain-function endpoint in place (as Autobahn and wamp_twisted do)
and a coroutine, or an awaitable a plain function returns, in a task of its own:
order, errors, concurrency limits, progressive results and INTERRUPT, under asyncio
and trio (and on asyncio over TCP, where the bytes are handled in the transport's own
callback, outside any task)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import anyio
import pytest

from tests.anyio_router import LoopbackRouter, TcpRouter
from tests.test_anyio_adapter import TRANSPORT, Recorder, start
from wamp_anyio._run import run_session
from wamp_anyio.session import Session
from wamp_core.messages import (
    Error,
    Event,
    Interrupt,
    Invocation,
    Register,
    Registered,
    Subscribe,
    Subscribed,
    Yield,
)
from wamp_core.types import CallDetails, RegisterOptions

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def registered(
    session: Session, router: LoopbackRouter, fn: Any, registration_id: int, **options: Any
) -> None:
    session.register(fn, f"com.p{registration_id}", RegisterOptions(**options) if options else None)
    register = await router.expect(Register)
    router.send(Registered(register.request_id, registration_id))


async def test_a_plain_endpoint_runs_while_its_invocation_is_read() -> None:
    """Event, INVOCATION, Event in one read: a plain endpoint runs between the two plain
    handlers (in place); a task would have run it after both."""
    seen: list[str] = []

    def endpoint(x: int) -> int:
        seen.append(f"call {x}")
        return x

    async with anyio.create_task_group() as tg:
        session, router = await start(tg)
        await registered(session, router, endpoint, 1)
        session.subscribe(lambda x: seen.append(f"event {x}"), "com.t")
        subscribe = await router.expect(Subscribe)
        router.send(Subscribed(subscribe.request_id, 5))
        router.send(Event(5, 1, [1]), Invocation(10, 1, [2]), Event(5, 2, [3]))
        answer = await router.expect(Yield)
        assert (answer.request_id, answer.args) == (10, [2])
        assert seen == ["event 1", "call 2", "event 3"]
        session.disconnect()


async def test_a_coroutine_endpoint_still_runs_in_a_task() -> None:
    seen: list[str] = []

    async def endpoint(x: int) -> int:
        seen.append(f"call {x}")
        return x

    async with anyio.create_task_group() as tg:
        session, router = await start(tg)
        await registered(session, router, endpoint, 1)
        session.subscribe(lambda x: seen.append(f"event {x}"), "com.t")
        subscribe = await router.expect(Subscribe)
        router.send(Subscribed(subscribe.request_id, 5))
        router.send(Event(5, 1, [1]), Invocation(10, 1, [2]), Event(5, 2, [3]))
        answer = await router.expect(Yield)
        assert answer.args == [2] and seen == ["event 1", "event 3", "call 2"]
        session.disconnect()


async def test_what_a_plain_endpoint_returns_is_awaited_and_can_be_interrupted() -> None:
    started = anyio.Event()
    release = anyio.Event()

    async def work(x: int) -> int:
        started.set()
        await release.wait()
        return x * 2

    async def forever() -> None:
        await anyio.sleep_forever()

    def returns_awaitable(x: int) -> Awaitable[Any]:
        return work(x) if x else forever()

    async with anyio.create_task_group() as tg:
        session, router = await start(tg)
        await registered(session, router, returns_awaitable, 1)
        router.send(Invocation(10, 1, [21]))
        await started.wait()
        release.set()
        answer = await router.expect(Yield)
        assert (answer.request_id, answer.args) == (10, [42])
        router.send(Invocation(11, 1, [0]))
        await anyio.wait_all_tasks_blocked()
        router.send(Interrupt(11, {"mode": "kill"}))
        error = await router.expect(Error)
        assert (error.request_id, error.error) == (11, "wamp.error.canceled")
        session.disconnect()


async def test_an_interrupt_after_a_plain_endpoint_answered_changes_nothing() -> None:
    async with anyio.create_task_group() as tg:
        session, router = await start(tg)
        await registered(session, router, lambda: "done", 1)
        router.send(Invocation(10, 1))
        assert (await router.expect(Yield)).args == ["done"]
        router.send(Interrupt(10, {"mode": "kill"}), Invocation(11, 1))
        answer = await router.expect(Yield)  # no ERROR for 10 came before it
        assert (answer.request_id, answer.args) == (11, ["done"])
        assert session.errors == []
        session.disconnect()


async def test_a_plain_endpoint_keeps_the_concurrency_limit() -> None:
    """concurrency=1: while what one call returned still runs, the next call waits for
    the slot (in a task); a call that raised gives its slot back."""
    calls: list[int] = []
    release = anyio.Event()

    async def finish(x: int) -> int:
        await release.wait()
        return x

    def endpoint(x: int) -> Any:
        calls.append(x)
        if x < 0:
            raise ValueError(x)
        return finish(x) if x == 1 else x

    async with anyio.create_task_group() as tg:
        session, router = await start(tg)
        await registered(session, router, endpoint, 1, concurrency=1)
        router.send(Invocation(10, 1, [-1]), Invocation(11, 1, [-2]))
        assert [(await router.expect(Error)).request_id for _ in range(2)] == [10, 11]
        router.send(Invocation(12, 1, [1]), Invocation(13, 1, [2]))
        await anyio.wait_all_tasks_blocked()
        assert calls == [-1, -2, 1]  # 2 waits for 1's slot
        release.set()
        answers = [await router.expect(Yield) for _ in range(2)]
        assert [(a.request_id, a.args) for a in answers] == [(12, [1]), (13, [2])]
        assert calls == [-1, -2, 1, 2]
        router.send(Invocation(14, 1, [3]))
        assert (await router.expect(Yield)).args == [3]  # in place again: the slot is free
        session.disconnect()


async def test_a_coroutine_endpoint_keeps_the_concurrency_limit() -> None:
    running = 0
    peak = 0
    release = anyio.Event()

    async def endpoint() -> str:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1
        return "ok"

    async with anyio.create_task_group() as tg:
        session, router = await start(tg)
        await registered(session, router, endpoint, 1, concurrency=2)
        router.send(Invocation(10, 1), Invocation(11, 1), Invocation(12, 1))
        await anyio.wait_all_tasks_blocked()
        assert (running, peak) == (2, 2)
        release.set()
        answers = [await router.expect(Yield) for _ in range(3)]
        assert sorted(a.request_id for a in answers) == [10, 11, 12] and peak == 2
        session.disconnect()


async def test_a_plain_endpoint_sends_progress_and_gets_details() -> None:
    def endpoint(n: int, details: CallDetails) -> str:
        assert details.progress is not None and details.procedure == "com.p1"
        for i in range(n):
            details.progress(i)
        return "end"

    async with anyio.create_task_group() as tg:
        session, router = await start(tg)
        await registered(session, router, endpoint, 1, details_arg="details")
        router.send(Invocation(10, 1, [2], details={"receive_progress": True}))
        answers = [await router.expect(Yield) for _ in range(3)]
        assert [(a.args, a.options.get("progress", False)) for a in answers] == [
            ([0], True),
            ([1], True),
            (["end"], False),
        ]
        session.disconnect()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_plain_endpoints_in_the_asyncio_transport_callback(anyio_backend: str) -> None:
    """On asyncio over TCP the bytes are handled outside any task: the in-place call, its
    concurrency slot and the task for what it returned work there too."""
    release = anyio.Event()

    async def finish() -> str:
        await release.wait()
        return "later"

    def endpoint(later: bool) -> Any:
        return finish() if later else "now"

    async with TcpRouter.serving() as (router, stream), anyio.create_task_group() as tg:
        session = Recorder()
        tg.start_soon(run_session, session, TRANSPORT, stream, "realm1")
        await router.welcome()
        with anyio.fail_after(5):
            await session.joined.wait()
        await registered(session, router, endpoint, 1, concurrency=1)
        router.send(Invocation(10, 1, [True]), Invocation(11, 1, [False]))
        await anyio.wait_all_tasks_blocked()
        release.set()
        answers = [await router.expect(Yield) for _ in range(2)]
        assert [(a.request_id, a.args) for a in answers] == [(10, ["later"]), (11, ["now"])]
        router.send(Invocation(12, 1, [False]))
        assert (await router.expect(Yield)).args == ["now"]
        session.disconnect()
