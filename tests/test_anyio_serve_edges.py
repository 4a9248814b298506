"""The served router's edges: under a bare ``asyncio.run()`` (no ``anyio.run``) its
connections are handled in transport callbacks, which run in no task, so anyio cannot
tell the loop from the current task there, and it must work all the same; after
``serve()`` its ports are closed."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

import wamp_anyio
from wamp_core.router.serving import Listen


def test_the_router_and_a_client_under_a_bare_asyncio_run() -> None:
    loop_errors: list[dict[str, Any]] = []
    answers: list[Any] = []
    refused: list[bytes] = []
    left: list[int] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _, ctx: loop_errors.append(ctx))
        listen = Listen("rawsocket", port=0, path=None)
        async with wamp_anyio.serve([listen]) as server:
            async with wamp_anyio.connect(server.url, "realm1") as session:
                await session.register(lambda: 42, "com.example.answer")
                answers.append(await session.call("com.example.answer"))
            host, port = server.url.removeprefix("rs://").rsplit(":", 1)
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"GET / HTTP/1.1\r\n\r\n")  # not a RawSocket handshake
            refused.append(await reader.read())  # until the router closes it
            writer.close()
            left.append(len(server._peers))

    asyncio.run(main())
    assert answers == [42]
    assert refused == [b""]
    assert left == [0]
    assert loop_errors == []


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.parametrize("kind", ["rawsocket", "websocket"])
async def test_after_serve_its_ports_refuse_connections(kind: str) -> None:
    """Once serve()'s block is over, nothing listens on its ports (on trio the accepting
    tasks were canceled with their sockets still listening: the kernel went on
    completing connections nobody served)."""
    async with wamp_anyio.serve([Listen(kind, port=0, path=None)]) as server:
        host, port = server.url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
    with pytest.raises(OSError):
        await anyio.connect_tcp(host, int(port))
