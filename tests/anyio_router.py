"""An in-memory router for wamp_anyio tests: the adapter talks real bytes to a
ScriptedRouter through a pair of anyio memory streams; the test plays the router."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import anyio.abc
from anyio.abc import ByteStream

from tests.harness import ROUTER_ROLES
from wamp_anyio._asyncio_stream import AsyncioStream, connect_tcp
from wamp_core.messages import Hello, Message, Welcome
from wamp_core.testing.router import ScriptedRouter

M = TypeVar("M", bound=Message)


class LoopbackStream(ByteStream):
    """The client's end: bytes it sends reach the router, the router's come back."""

    def __init__(self, router: LoopbackRouter):
        self.router = router
        self.closed = False

    async def receive(self, max_bytes: int = 65536) -> bytes:
        try:
            return await self.router._to_client_receive.receive()
        except anyio.EndOfStream:
            raise anyio.EndOfStream from None

    async def send(self, item: bytes) -> None:
        if self.closed:
            raise anyio.ClosedResourceError
        self.router._feed(item)

    async def send_eof(self) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self.closed = True
        await self.router._to_client_send.aclose()

    @property
    def extra_attributes(self) -> dict[Any, Any]:
        return {}


class LoopbackRouter:
    """The router's end, scripted by the test (``await router.expect(Call)``)."""

    def __init__(self, transport: str = "rawsocket", serializer: str = "json"):
        self.scripted = ScriptedRouter(transport, serializer)
        self._to_client_send, self._to_client_receive = anyio.create_memory_object_stream[bytes](
            1000
        )
        self._inbox_send, self._inbox = anyio.create_memory_object_stream[Message](1000)
        self.stream = LoopbackStream(self)

    def _feed(self, data: bytes) -> None:
        self.scripted.receive_data(data)
        self._pass_on()
        for message in self.scripted.received():
            self._inbox_send.send_nowait(message)

    def _pass_on(self) -> None:
        data = self.scripted.data_to_send()
        if data:
            self._to_client_send.send_nowait(data)

    async def expect(self, cls: type[M]) -> M:
        with anyio.fail_after(5):
            message = await self._inbox.receive()
        assert isinstance(message, cls), message
        return message

    def send(self, *messages: Message) -> None:
        self.scripted.send(*messages)
        self._pass_on()

    def send_bytes(self, data: bytes) -> None:
        self.scripted.send_bytes(data)
        self._pass_on()

    def close(self) -> None:
        """The router goes away (EOF for the client)."""
        self._to_client_send.close()

    async def welcome(self, session_id: int = 1) -> Hello:
        hello = await self.expect(Hello)
        self.send(
            Welcome(session_id, {"roles": ROUTER_ROLES, "authid": "anon", "authrole": "anonymous"})
        )
        return hello


class TcpRouter(LoopbackRouter):
    """The same router behind a loopback TCP connection, for asyncio: the client gets
    wamp_anyio's AsyncioStream, whose bytes the driver handles in the transport's
    own callback (see ``Driver._take_deliveries``)."""

    def __init__(self, writer: asyncio.StreamWriter):
        super().__init__()
        self.writer = writer

    @classmethod
    @asynccontextmanager
    async def serving(cls) -> AsyncIterator[tuple[TcpRouter, AsyncioStream]]:
        accepted: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
        accepted = asyncio.get_running_loop().create_future()
        server = await asyncio.start_server(
            lambda r, w: accepted.set_result((r, w)), "127.0.0.1", 0
        )
        port = server.sockets[0].getsockname()[1]
        stream = await connect_tcp("127.0.0.1", port)
        reader, writer = await accepted
        router = cls(writer)
        reading = asyncio.ensure_future(router._read(reader))
        try:
            yield router, stream
        finally:
            reading.cancel()
            writer.close()
            server.close()
            await server.wait_closed()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while data := await reader.read(65536):
            self._feed(data)

    def _pass_on(self) -> None:
        data = self.scripted.data_to_send()
        if data and not self.writer.is_closing():
            self.writer.write(data)

    def close(self) -> None:
        self.writer.close()


class AnyioTcpRouter(LoopbackRouter):
    """The same router behind a loopback TCP connection made with anyio, on any
    backend: under trio the client's stream is anyio's socket stream, which the
    driver reads through wamp_anyio._trio_reader."""

    def __init__(self, peer: anyio.abc.SocketStream):
        super().__init__()
        self.peer = peer

    @classmethod
    @asynccontextmanager
    async def serving(cls) -> AsyncIterator[tuple[AnyioTcpRouter, anyio.abc.SocketStream]]:
        async with await anyio.create_tcp_listener(local_host="127.0.0.1") as listeners:
            listener = listeners.listeners[0]  # one address: 127.0.0.1
            assert isinstance(listener, anyio.abc.SocketListener)
            port = listener.extra(anyio.abc.SocketAttribute.local_port)
            stream = await anyio.connect_tcp("127.0.0.1", port)
            router = cls(await listener.accept())
            async with anyio.create_task_group() as tg:
                tg.start_soon(router._read)
                tg.start_soon(router._write)
                try:
                    yield router, stream
                finally:
                    tg.cancel_scope.cancel()
                    await stream.aclose()
                    await router.peer.aclose()

    async def _read(self) -> None:
        with contextlib.suppress(
            anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError
        ):
            while True:
                self._feed(await self.peer.receive())

    async def _write(self) -> None:
        """What ``_pass_on`` queued goes out in order; ``close`` ends it with EOF."""
        async for data in self._to_client_receive:
            await self.peer.send(data)
        await self.peer.aclose()
