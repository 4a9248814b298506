"""wamp_anyio's byte stream over an asyncio transport, against a loopback server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest
from anyio.abc import SocketAttribute

from wamp_anyio import _asyncio_stream
from wamp_anyio._asyncio_stream import AsyncioStream, connect_tcp, connect_unix
from wamp_anyio._backend import clock, on_asyncio, on_trio
from wamp_anyio._streams import open_stream
from wamp_core.application.url import parse_url

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Peer:
    """The server's side of one connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer
        assert isinstance(writer.transport, asyncio.Transport)
        self.transport: asyncio.Transport = writer.transport


@asynccontextmanager
async def served(unix_path: str | None = None) -> AsyncIterator[tuple[AsyncioStream, Peer]]:
    """A loopback server and our stream connected to it."""
    accepted: asyncio.Future[Peer] = asyncio.get_running_loop().create_future()

    def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not accepted.done():  # the first connection is the one the test talks to
            accepted.set_result(Peer(reader, writer))

    if unix_path is not None:
        server = await asyncio.start_unix_server(on_connect, unix_path)
        stream = await connect_unix(unix_path)
    else:
        server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        stream = await connect_tcp("127.0.0.1", port)
    peer = await accepted
    try:
        yield stream, peer
    finally:
        await stream.aclose()
        peer.writer.close()
        server.close()
        await server.wait_closed()


async def test_the_backend_is_recognised() -> None:
    assert on_asyncio()
    assert not on_trio()
    assert clock() == asyncio.get_running_loop().time


async def test_open_stream_uses_it_on_asyncio() -> None:
    async with served() as (stream, _):
        port = stream.extra(SocketAttribute.remote_address)[1]
        other = await open_stream(parse_url(f"rs://127.0.0.1:{port}"))
        try:
            assert isinstance(other, AsyncioStream)
        finally:
            await other.aclose()


async def test_bytes_both_ways_and_what_arrived_comes_in_one_piece() -> None:
    async with served() as (stream, peer):
        await stream.send(b"hello")
        assert await peer.reader.readexactly(5) == b"hello"
        peer.writer.write(b"abc")
        await peer.writer.drain()
        first = await stream.receive()
        peer.writer.write(b"def")
        peer.writer.write(b"ghi")
        await peer.writer.drain()
        rest = b""
        while len(first + rest) < 9:
            rest += await stream.receive()
        assert first + rest == b"abcdefghi"


async def test_receive_gives_at_most_max_bytes_and_keeps_the_rest() -> None:
    async with served() as (stream, peer):
        peer.writer.write(b"0123456789")
        await peer.writer.drain()
        got = b""
        while len(got) < 10:
            piece = await stream.receive(4)
            assert 0 < len(piece) <= 4
            got += piece
        assert got == b"0123456789"
        with pytest.raises(ValueError):
            await stream.receive(0)


async def test_end_of_stream_after_the_data() -> None:
    async with served() as (stream, peer):
        peer.writer.write(b"last")
        peer.writer.write_eof()
        got = b""
        with pytest.raises(anyio.EndOfStream):
            while True:
                got += await stream.receive()
        assert got == b"last"


async def test_aclose_ends_a_waiting_reader_and_later_sends() -> None:
    async with served() as (stream, _):
        async with anyio.create_task_group() as tg:

            async def read() -> None:
                with pytest.raises(anyio.ClosedResourceError):
                    await stream.receive()

            tg.start_soon(read)
            await anyio.wait_all_tasks_blocked()
            await stream.aclose()
        with pytest.raises(anyio.ClosedResourceError):
            await stream.send(b"x")
        await stream.aclose()  # twice is fine


async def test_a_second_reader_is_refused() -> None:
    async with served() as (stream, peer), anyio.create_task_group() as tg:
        tg.start_soon(stream.receive)
        await anyio.wait_all_tasks_blocked()
        with pytest.raises(anyio.BusyResourceError):
            await stream.receive()
        peer.writer.write(b"x")  # lets the first reader finish


async def test_send_after_the_peer_reset_fails() -> None:
    async with served() as (stream, peer):
        peer.writer.transport.abort()
        with pytest.raises(anyio.EndOfStream):
            await stream.receive()
        with pytest.raises(anyio.BrokenResourceError):
            for _ in range(100):  # the reset may take a write or two to be noticed
                await stream.send(b"x" * 65536)


async def test_a_full_send_buffer_makes_send_wait_until_it_drains() -> None:
    async with served() as (stream, peer):
        peer.transport.pause_reading()  # the peer stops reading: buffers fill
        chunk = b"x" * 65536
        total = 1000 * len(chunk)  # more than any kernel buffers on loopback
        done = anyio.Event()

        async def fill() -> None:
            for _ in range(total // len(chunk)):
                await stream.send(chunk)
            done.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(fill)
            await anyio.wait_all_tasks_blocked()
            assert stream._protocol.writing_paused  # send waits instead of buffering on
            assert not done.is_set()
            peer.transport.resume_reading()
            got = 0
            while got < total:
                got += len(await peer.reader.read(1 << 20))
        assert done.is_set()


async def test_reading_pauses_while_too_much_waits_for_receive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_asyncio_stream, "READ_LIMIT", 1000)
    async with served() as (stream, peer):
        protocol = stream._protocol
        peer.writer.write(b"y" * 5000)  # one segment on loopback: one data_received
        got = await stream.receive(1)
        assert protocol.reading_paused
        while len(got) < 5000:
            got += await stream.receive(400)
        assert got == b"y" * 5000
        assert not protocol.reading_paused


async def test_unix_socket_and_extra_attributes(short_tmp: object) -> None:
    path = f"{short_tmp}/s.sock"
    async with served(unix_path=path) as (stream, peer):
        assert stream.extra(SocketAttribute.raw_socket).fileno() >= 0
        assert stream.extra(SocketAttribute.family) is not None
        assert stream.extra(SocketAttribute.local_address) is not None
        await stream.send(b"unix")
        assert await peer.reader.readexactly(4) == b"unix"
        await stream.send_eof()
        assert await peer.reader.read() == b""


async def test_write_soon_sends_one_iteration_s_writes_together_and_in_order() -> None:
    async with served() as (stream, peer):
        assert stream.write_soon(b"a")
        assert stream.write_soon(b"b")
        assert stream._corked == [b"a", b"b"]  # held until the loop iteration ends
        await asyncio.sleep(0)
        assert stream._corked == []
        assert stream.write_soon(b"c")
        await stream.send(b"d")  # what is held goes first
        assert stream.write_soon(b"e")
        await stream.aclose()  # and is not lost on close
        assert await peer.reader.read() == b"abcde"
        assert not stream.write_soon(b"f")  # closed: the caller must send (and hear why)


async def test_write_soon_declines_while_the_transport_is_full() -> None:
    async with served() as (stream, _):
        stream._protocol.pause_writing()
        assert not stream.write_soon(b"x")
        stream._protocol.resume_writing()
        assert stream.write_soon(b"x")


async def test_write_now_hands_its_bytes_to_the_transport_at_once_after_what_is_held() -> None:
    """What the served router answers goes out in the callback that handled the request,
    not after the rest of the loop iteration (a flooding peer's turn)."""
    async with served() as (stream, peer):
        written: list[bytes] = []
        transport_write = stream._transport.write

        def write(data: bytes | bytearray | memoryview) -> None:
            written.append(bytes(data))
            transport_write(data)

        stream._transport.write = write  # type: ignore[method-assign]
        assert stream.write_soon(b"a")
        assert stream.write_now(b"b")
        assert written == [b"a", b"b"]  # no loop iteration ran in between
        assert stream._corked == []
        assert await peer.reader.readexactly(2) == b"ab"
        stream._protocol.pause_writing()
        assert not stream.write_now(b"x")  # the transport is full: the caller must send
        stream._protocol.resume_writing()
        await stream.aclose()
        assert not stream.write_now(b"y")


async def test_aclose_aborts_what_a_peer_that_stopped_reading_never_takes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_asyncio_stream, "FLUSH_ON_CLOSE", 0.0)
    async with served() as (stream, peer):
        peer.transport.pause_reading()
        protocol = stream._protocol
        stream._transport.write(b"z" * (32 << 20))  # more than the kernel buffers take
        assert stream._transport.get_write_buffer_size()
        lost: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
        original = protocol.connection_lost

        def connection_lost(exc: Exception | None) -> None:
            original(exc)
            lost.set_result(exc)

        protocol.connection_lost = connection_lost  # type: ignore[method-assign]
        await stream.aclose()
        with anyio.fail_after(5):
            await lost  # aborted, not left waiting for a reader that never comes


async def arrival(stream: AsyncioStream) -> None:
    """Until data is buffered for receive() (the stream's own wake-up, not polling)."""
    protocol = stream._protocol
    if not protocol.chunks:
        protocol.reader = asyncio.get_running_loop().create_future()
        await protocol.reader
        protocol.reader = None


class Delivered:
    """A receiver for ``deliver_to``: what it was handed, and an event set on each."""

    def __init__(self) -> None:
        self.got: list[bytes] = []
        self.arrived = asyncio.Event()

    def __call__(self, data: bytes) -> None:
        self.got.append(data)
        self.arrived.set()


async def test_deliver_to_hands_over_what_waits_then_what_arrives() -> None:
    async with served() as (stream, peer):
        peer.writer.write(b"early")
        await arrival(stream)
        receiver = Delivered()
        stream.deliver_to(receiver)
        assert receiver.got == [b"early"]
        receiver.arrived.clear()
        peer.writer.write(b"late")
        await receiver.arrived.wait()
        assert b"".join(receiver.got) == b"earlylate"
        stream.deliver_to(None)  # back to receive()
        peer.writer.write(b"pulled")
        assert await stream.receive() == b"pulled"


async def test_deliveries_pause_and_resume() -> None:
    async with served() as (stream, peer):
        receiver = Delivered()
        stream.deliver_to(receiver)
        stream.pause_delivery()
        assert not stream._transport.is_reading()
        peer.writer.write(b"held")
        await peer.writer.drain()
        stream.resume_delivery()
        await receiver.arrived.wait()
        assert receiver.got == [b"held"]


@pytest.mark.parametrize("ending", ["eof", "reset", "aclose", "before"])
async def test_the_end_is_told_once(ending: str) -> None:
    async with served() as (stream, peer):
        got: list[bytes] = []
        ended = asyncio.Event()

        def receiver(data: bytes) -> None:
            got.append(data)
            if not data:
                ended.set()

        if ending != "before":
            stream.deliver_to(receiver)
        if ending in ("eof", "before"):
            peer.writer.write(b"bye")
            peer.writer.write_eof()
            peer.writer.close()
        elif ending == "reset":
            peer.transport.abort()
        else:
            await stream.aclose()
        if ending == "before":  # the end came before the receiver
            assert await stream.receive() == b"bye"
            with pytest.raises(anyio.EndOfStream):
                await stream.receive()
            stream.deliver_to(receiver)
        await ended.wait()
        stream._protocol.connection_lost(None)  # a loss after the EOF is not told again
        assert got.count(b"") == 1 and got[-1] == b""
        assert b"".join(got) == (b"bye" if ending == "eof" else b"")
        stream.pause_delivery()  # no effect on a closed transport
        stream.resume_delivery()
