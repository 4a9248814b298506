"""wamp_anyio through an HTTP CONNECT proxy, under asyncio and trio: the same rules as
wamp_twisted's TunnelEndpoint (tests/test_twisted_proxy.py), since both run
wamp_core's ProxyHandshake: bytes after the answer go to the tunnel, any 2xx opens
it, a refusal or an early end is a ProxyError naming the proxy, and a proxy that does
not answer in time is one too. The proxy here is a listener in the test's own loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from anyio.abc import SocketStream

from wamp_anyio._streams import ProxyError, open_stream
from wamp_core.application.url import parse_url

pytestmark = pytest.mark.anyio

Serve = Callable[[SocketStream], Awaitable[None]]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def through(serve: Serve, **proxy: Any) -> tuple[Any, list[bytes]]:
    """Open a stream to ws://router.example:9000 through a proxy that ``serve`` plays;
    return the stream's first bytes (or the error) and what the proxy received."""
    received: list[bytes] = []
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)

    async def handle(client: SocketStream) -> None:
        async with client:
            received.append(await client.receive())
            await serve(client)

    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handle)
        outcome: Any
        with anyio.fail_after(10):
            try:
                stream = await open_stream(
                    parse_url("ws://router.example:9000/ws"),
                    proxy={"host": "127.0.0.1", "port": port, **proxy},
                )
                outcome = await stream.receive()
                await stream.aclose()
            except ProxyError as error:
                outcome = error
        tg.cancel_scope.cancel()
    return outcome, received


async def test_bytes_after_the_answer_are_the_tunnels_first_bytes() -> None:
    async def serve(client: SocketStream) -> None:
        await client.send(b"HTTP/1.1 200 Connection established\r\n\r\nfirst")
        await anyio.sleep_forever()

    first, received = await through(serve)
    assert first == b"first"
    assert received == [
        b"CONNECT router.example:9000 HTTP/1.1\r\nHost: router.example:9000\r\n\r\n"
    ]


async def test_any_2xx_opens_and_later_bytes_follow() -> None:
    async def serve(client: SocketStream) -> None:
        await client.send(b"HTTP/1.1 204 OK\r\n\r\n")
        await client.send(b"later")
        await anyio.sleep_forever()

    first, _ = await through(serve)
    assert first == b"later"


async def test_a_refusal_names_the_proxy_and_the_status() -> None:
    async def serve(client: SocketStream) -> None:
        await client.send(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
        await anyio.sleep_forever()

    error, _ = await through(serve)
    assert isinstance(error, ProxyError) and "407" in str(error) and "127.0.0.1:" in str(error)


async def test_the_proxy_closing_during_connect() -> None:
    async def serve(client: SocketStream) -> None:
        await client.send(b"HTTP/1.1 200")

    error, _ = await through(serve)
    assert isinstance(error, ProxyError) and "closed the connection" in str(error)


async def test_a_proxy_that_does_not_answer_times_out() -> None:
    async def serve(client: SocketStream) -> None:
        await anyio.sleep_forever()

    error, _ = await through(serve, timeout=0.2)
    assert isinstance(error, ProxyError) and "did not answer within 0.2 s" in str(error)
