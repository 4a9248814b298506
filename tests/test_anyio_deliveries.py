"""wamp_anyio on asyncio over TCP: the driver handles the bytes in the transport's own
callback (no reader task). Calls, events in order with backpressure, anyio used from a
plain handler (which runs outside any task), and the router going away."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
import sniffio

from tests.anyio_router import TcpRouter
from tests.test_anyio_adapter import answer_unsubscribe, call_cut_off, joined
from wamp_anyio._asyncio_stream import AsyncioStream
from wamp_core.messages import Call, Event, Result, Subscribe, Subscribed

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def subscribed(router: TcpRouter, subscription: int) -> None:
    subscribe = await router.expect(Subscribe)
    router.send(Subscribed(subscribe.request_id, subscription))


async def test_calls_and_results() -> None:
    async with TcpRouter.serving() as (router, stream), anyio.create_task_group() as tg:
        session = await joined(tg, router, stream)
        results: list[Any] = []
        answered = anyio.Event()

        async def caller(n: int) -> None:
            results.append(await session.call("com.add", n, 1))
            if len(results) == 3:
                answered.set()

        for n in range(3):
            tg.start_soon(caller, n)
        calls = [await router.expect(Call) for _ in range(3)]
        router.send(*(Result(c.request_id, [c.args[0] + c.args[1]]) for c in calls))
        with anyio.fail_after(5):
            await answered.wait()
        assert sorted(results) == [1, 2, 3]
        session.disconnect()


async def test_events_in_order_through_a_full_buffer(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[AsyncioStream] = []
    pause = AsyncioStream.pause_delivery
    monkeypatch.setattr(AsyncioStream, "pause_delivery", lambda s: (pauses.append(s), pause(s)))
    async with TcpRouter.serving() as (router, stream), anyio.create_task_group() as tg:
        session = await joined(tg, router, stream)
        tg.start_soon(subscribed, router, 5)
        received: list[int] = []
        async with session.events("com.t", max_buffer=2) as events:
            router.send(*(Event(5, n, [n]) for n in range(1, 41)))
            async for event in events:
                received.append(event.args[0])
                if len(received) == 40:
                    tg.start_soon(answer_unsubscribe, router)
                    break
        assert received == list(range(1, 41))
        assert pauses == [stream] * len(pauses) and pauses  # reading paused while full
        assert stream._transport.is_reading()  # and resumed
        session.disconnect()


async def test_a_plain_handler_may_use_anyio() -> None:
    # As under asyncio.run(): nothing in the context names the library (anyio's runner
    # would, and the transport's callbacks would inherit it).
    sniffio.current_async_library_cvar.set(None)
    async with TcpRouter.serving() as (router, stream), anyio.create_task_group() as tg:
        session = await joined(tg, router, stream)
        tg.start_soon(subscribed, router, 5)
        done = anyio.Event()
        seen: list[Any] = []

        async def later(n: int) -> None:
            seen.append(("task", n))
            done.set()

        def handler(n: int) -> None:
            # It runs in the transport's callback, outside any task (as Autobahn's
            # asyncio handlers do); what needs anyio's backend still finds it.
            anyio.CancelScope()
            seen.append(("handler", n, anyio.current_time() > 0))
            tg.start_soon(later, n)

        await session.subscribe(handler, "com.t")
        router.send(Event(5, 1, [7]))
        with anyio.fail_after(5):
            await done.wait()
        assert seen == [("handler", 7, True), ("task", 7)]
        session.disconnect()


async def test_the_router_going_away_fails_pending_calls() -> None:
    async with TcpRouter.serving() as (router, stream), anyio.create_task_group() as tg:
        session = await joined(tg, router, stream)
        assert len(await call_cut_off(tg, router, session)) == 1
