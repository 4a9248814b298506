"""What an idle connection holds in the router served by wamp_anyio: on asyncio no task
at all (its bytes are handled in its transport's callbacks, its deadlines by a loop
timer), and a connection that sends nothing still has its deadlines kept: the
keep-alive ping goes out (asyncio and trio)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import anyio
import pytest

import wamp_anyio
from wamp_anyio import Listen

pytestmark = pytest.mark.anyio

FAIL_SAFE = 10.0  # seconds: only a hang would take this long
RAWSOCKET_MSGPACK = bytes((0x7F, 0xF2, 0, 0))  # RawSocket opening: msgpack, longest messages
UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n"
)
PING = 0x89  # a WebSocket frame's first byte: FIN, opcode ping


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_idle_connections_hold_no_task_on_asyncio() -> None:
    async with wamp_anyio.serve([Listen("rawsocket", port=0)]) as server:
        tasks = len(asyncio.all_tasks())
        streams = []
        try:
            for _ in range(10):
                # anyio's asyncio socket stream runs no task of its own either
                stream = await anyio.connect_tcp(*_address(server.url))
                streams.append(stream)
                await stream.send(RAWSOCKET_MSGPACK)
                with anyio.fail_after(FAIL_SAFE):
                    assert (await stream.receive())[:1] == b"\x7f"  # the router serves it
            assert len(server.router.connections) == 10
            assert len(asyncio.all_tasks()) == tasks
        finally:
            for stream in streams:
                await stream.aclose()


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_a_connection_that_sends_nothing_is_pinged() -> None:
    listen = Listen("websocket", port=0, ping_interval=0.05, open_timeout=None)
    async with (
        wamp_anyio.serve([listen]) as server,
        await anyio.connect_tcp(*_address(server.url)) as stream,
    ):
        await stream.send(UPGRADE)
        received = b""
        with anyio.fail_after(FAIL_SAFE):
            while b"\r\n\r\n" not in received:
                received += await stream.receive()
            assert received.startswith(b"HTTP/1.1 101 ")
            frames = received.split(b"\r\n\r\n", 1)[1]
            while not frames:  # nothing more is sent: the router's own timer must ping
                frames = await stream.receive()
        assert frames[0] == PING
