"""Many calls in flight through a real Crossbar.io, under asyncio and trio: every
answer reaches its caller, on every transport, and the writes of the tasks woken
together leave together (fewer sends than calls)."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import pytest

from tests.integration.crossbar_node import CrossbarNode
from wamp_anyio import connect
from wamp_anyio._asyncio_stream import AsyncioStream

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

TASKS = 32
CALLS_PER_TASK = 20


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class WriteCounter:
    """Counts the writes to our asyncio stream's transport, or to any other stream."""

    def __init__(self, stream: Any):
        self.writes = 0
        if isinstance(stream, AsyncioStream):
            target, name = stream._transport, "write"
        else:
            target, name = stream, "send"
        write = getattr(target, name)

        def counted(data: bytes) -> Any:
            self.writes += 1
            return write(data)

        setattr(target, name, counted)


@pytest.mark.parametrize("transport", ["ws", "rs", "ws_unix", "rss"])
async def test_calls_in_flight_each_get_their_answer(
    crossbar: CrossbarNode, anyio_backend: str, transport: str
) -> None:
    procedure = f"com.anyio.concurrent.t{uuid.uuid4().hex}"
    url = crossbar.urls[transport]
    ssl = crossbar.ssl_context() if transport == "rss" else None
    with anyio.fail_after(20):
        async with (
            connect(url, "realm1", serializers=["msgpack"], ssl=ssl) as callee,
            connect(url, "realm1", serializers=["msgpack"], ssl=ssl) as caller,
        ):
            await callee.register(lambda task, i: (task, i), procedure)
            stream = caller._driver.stream  # type: ignore[union-attr]
            counter = WriteCounter(stream)
            answers: list[Any] = []

            async def calls(task: int) -> None:
                for i in range(CALLS_PER_TASK):
                    answers.append(tuple(await caller.call(procedure, task, i)))

            async with anyio.create_task_group() as tg:
                for task in range(TASKS):
                    tg.start_soon(calls, task)
    expected = {(task, i) for task in range(TASKS) for i in range(CALLS_PER_TASK)}
    assert sorted(answers) == sorted(expected)
    assert isinstance(stream, AsyncioStream) == (anyio_backend == "asyncio" and transport != "rss")
    assert counter.writes < TASKS * CALLS_PER_TASK
