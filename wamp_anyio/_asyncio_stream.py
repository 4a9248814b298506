"""A byte stream straight over an asyncio transport, for the asyncio backend.

anyio's own asyncio socket stream costs a trip through the event loop for every
``send`` (a checkpoint, even when the kernel took every byte at once), and two
``epoll_ctl`` calls for every ``receive`` that waits (it pauses reading between
receives). With many requests in flight that is most of a client's CPU. This
stream writes at once and waits only when the transport's buffer is over its
high-water mark (asyncio's flow control), keeps reading while fewer than
``READ_LIMIT`` bytes wait for ``receive`` (past that it pauses reading: the same
backpressure), and hands ``receive`` everything that arrived in one piece.

It serves plain TCP and Unix sockets (TLS wraps it like any byte stream); trio
and every other backend use anyio's streams. A router serves over it too
(``serve_socket``): each accepted connection is one such stream, TLS done by
asyncio's own TLS transport.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import Callable, Mapping
from typing import Any

import anyio
from anyio.abc import SocketAttribute
from anyio.streams.tls import TLSAttribute

from wamp_anyio._callbacks import CallbackStream, Timer, enter_asyncio, leave_asyncio

__all__ = ["AsyncioStream", "connect_tcp", "connect_unix", "serve_socket"]

READ_LIMIT = 256 * 1024  # bytes waiting for receive() before reading pauses
CORK_LIMIT = 64 * 1024  # bytes write_soon() holds at most (asyncio's high-water mark)
BACKLOG = 65536  # connections waiting to be accepted, as anyio's listeners (the kernel caps it)
TLS_HANDSHAKE_TIMEOUT = 30.0  # seconds, as anyio's TLSListener
HAPPY_EYEBALLS_DELAY = 0.25  # as anyio.connect_tcp
FLUSH_ON_CLOSE = 5.0  # seconds aclose() lets unsent bytes go out before aborting


async def connect_tcp(host: str, port: int) -> AsyncioStream:
    loop = asyncio.get_running_loop()
    # Happy eyeballs only for a name, which may have several addresses: asyncio's race
    # costs tasks, locks and futures (~14 KiB while it runs) even for one address.
    delay = None if _is_address(host) else HAPPY_EYEBALLS_DELAY
    _, protocol = await loop.create_connection(
        _StreamProtocol, host, port, happy_eyeballs_delay=delay
    )
    return AsyncioStream(protocol)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def connect_unix(path: str) -> AsyncioStream:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_unix_connection(_StreamProtocol, path)
    return AsyncioStream(protocol)


class _StreamProtocol(asyncio.Protocol):
    """Buffers what arrives for one reader; tells writers when the transport drained."""

    transport: asyncio.Transport

    def __init__(self) -> None:
        # The session ApplicationRunner.connect() runs over it (Autobahn's protocols
        # have it), else None.
        self._session: Any = None
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.reading_paused = False
        self.at_eof = False
        self.lost = False
        self.exception: BaseException | None = None
        self.reader: asyncio.Future[None] | None = None
        self.writing_paused = False
        self.drainers: list[asyncio.Future[None]] = []
        # Set by deliver_to(): what arrives goes to it, right from the transport's
        # callback, and never waits for receive(). b"" means the stream ended.
        self.receiver: Callable[[bytes], None] | None = None
        self.end_told = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.receiver is not None:
            self.receiver(data)
            return
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > READ_LIMIT and not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()
        self.wake_reader()

    def eof_received(self) -> bool:
        self.at_eof = True
        self.wake_reader()
        self.tell_end()
        return True  # keep the sending half open; the session decides when to close

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.exception = exc
        self.wake_reader()
        self.wake_drainers()
        self.tell_end()

    def tell_end(self) -> None:
        """A receiver hears of the end once (EOF and the loss may both come)."""
        receiver = self.receiver
        if receiver is not None and not self.end_told:
            self.end_told = True
            receiver(b"")

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self.wake_drainers()

    def wake_reader(self) -> None:
        reader = self.reader
        if reader is not None and not reader.done():
            reader.set_result(None)

    def wake_drainers(self) -> None:
        drainers, self.drainers = self.drainers, []
        for drainer in drainers:
            if not drainer.done():
                drainer.set_result(None)


class _ServedProtocol(_StreamProtocol, asyncio.BufferedProtocol):
    """A connection a server accepted: its stream goes to ``accept`` once it is open
    (after the TLS handshake, if any).

    It reads at most ``len(buffer)`` bytes at a time (a BufferedProtocol: the
    transport reads into the buffer, once per readiness, TLS included), so one
    connection's turn in the event loop is bounded: a flooding peer's next bytes wait
    behind everybody else's (a plain Protocol is given up to 256 KiB per read). The
    buffer is the server's, shared by its connections: the transport fills it and
    calls ``buffer_updated`` at once, which copies the bytes out."""

    def __init__(
        self, accept: Callable[[AsyncioStream], None], tls: bool, buffer: bytearray
    ) -> None:
        super().__init__()
        self.accept = accept
        self.tls = tls
        self.buffer = buffer

    def get_buffer(self, sizehint: int) -> bytearray:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(bytes(memoryview(self.buffer)[:nbytes]))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.accept(AsyncioStream(self))

    def eof_received(self) -> bool:
        # Over TLS a half-closed connection cannot be kept (asyncio would warn).
        return super().eof_received() and not self.tls


async def serve_socket(
    sock: socket.socket,
    accept: Callable[[AsyncioStream], None],
    tls: ssl.SSLContext | None = None,
    read_turn: int = 65536,
) -> asyncio.Server:
    """Serve the listening ``sock`` (TCP or Unix): every connection accepted is given
    to ``accept`` as a stream, in the transport's callback (so ``accept`` must not
    block: it starts a task). Each connection is read ``read_turn`` bytes at a time at
    most. Close the returned server to stop accepting."""
    loop = asyncio.get_running_loop()
    buffer = bytearray(read_turn)
    factory = functools.partial(_ServedProtocol, accept, tls is not None, buffer)
    timeout = TLS_HANDSHAKE_TIMEOUT if tls is not None else None
    if sock.family == socket.AF_UNIX:
        return await loop.create_unix_server(
            factory, sock=sock, ssl=tls, backlog=BACKLOG, ssl_handshake_timeout=timeout
        )
    return await loop.create_server(
        factory, sock=sock, ssl=tls, backlog=BACKLOG, ssl_handshake_timeout=timeout
    )


class AsyncioStream(CallbackStream):
    """An anyio ByteStream over an asyncio transport (see the module docstring)."""

    writes_at_once = True  # send() puts the bytes in the transport before any await

    def __init__(self, protocol: _StreamProtocol) -> None:
        self._protocol = protocol
        self._transport = protocol.transport
        self._closed = False
        self._corked: list[bytes] = []  # what write_soon() holds until the iteration ends
        self._corked_size = 0

    async def receive(self, max_bytes: int = 65536) -> bytes:
        if max_bytes < 1:
            raise ValueError("max_bytes must be a positive integer")
        protocol = self._protocol
        while not protocol.chunks:
            self._check_open()
            if protocol.at_eof or protocol.lost:
                raise anyio.EndOfStream
            if protocol.reader is not None:
                raise anyio.BusyResourceError("reading from")
            protocol.reader = asyncio.get_running_loop().create_future()
            try:
                await protocol.reader
            finally:
                protocol.reader = None
        if self._closed:  # what arrived before a reset is still given out, as anyio does
            raise anyio.ClosedResourceError
        return self._take(max_bytes)

    def _take(self, max_bytes: int) -> bytes:
        protocol = self._protocol
        chunks = protocol.chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        if len(data) > max_bytes:
            chunks.append(data[max_bytes:])
            data = data[:max_bytes]
        protocol.buffered -= len(data)
        if protocol.reading_paused and protocol.buffered <= READ_LIMIT // 2:
            protocol.reading_paused = False
            self._transport.resume_reading()
        return data

    def deliver_to(self, receiver: Callable[[bytes], None] | None) -> None:
        """Hand what arrives to ``receiver`` as it arrives (what arrived already goes
        first); ``b""`` when the stream ends. None goes back to ``receive()``.

        A reader task wakes once per read, a loop iteration a callback does not cost;
        the receiver runs in the transport's callback, so it must not block. The end
        is told once, also when ``aclose()`` ends the stream from this side."""
        protocol = self._protocol
        protocol.receiver = receiver
        if receiver is None:
            return
        if protocol.chunks:
            receiver(self._take(protocol.buffered))
        if protocol.at_eof or protocol.lost or self._closed:
            protocol.tell_end()

    def pause_delivery(self) -> None:
        """Stop reading from the socket until ``resume_delivery()`` (backpressure)."""
        if not self._transport.is_closing():
            self._transport.pause_reading()

    def resume_delivery(self) -> None:
        if not self._transport.is_closing():
            self._transport.resume_reading()

    def writable(self) -> bool:
        """Whether ``write_soon`` takes bytes now (open, and the transport's buffer
        under its high-water mark)."""
        return not (self._closed or self._protocol.writing_paused or self._transport.is_closing())

    def write_soon(self, item: bytes) -> bool:
        """Write ``item`` with whatever else is written in this event loop iteration
        (one ``send`` for the lot, at the end of it); False, and nothing written, when
        the transport's buffer is full or the stream closed (use ``send``). At most
        ``CORK_LIMIT`` bytes are held: past that the transport takes them at once (and
        says when its buffer is full)."""
        if self._closed or self._protocol.writing_paused or self._transport.is_closing():
            return False
        if not self._corked:
            asyncio.get_running_loop().call_soon(self._uncork)
        self._corked.append(item)
        self._corked_size += len(item)
        if self._corked_size >= CORK_LIMIT:
            self._uncork()
        return True

    def write_now(self, item: bytes) -> bool:
        """Hand ``item`` to the transport at once (after what ``write_soon`` holds), so
        it goes out before this loop iteration's other callbacks run; False, and nothing
        written, when the transport's buffer is full or the stream closed."""
        if self._closed or self._protocol.writing_paused or self._transport.is_closing():
            return False
        if self._corked:
            self._uncork()
        self._transport.write(item)
        return True

    def _uncork(self) -> None:
        if self._corked:
            data = b"".join(self._corked)
            self._corked.clear()
            self._corked_size = 0
            if not self._transport.is_closing():  # else the reader hears of the loss
                self._transport.write(data)

    async def send(self, item: bytes) -> None:
        """Write now; wait only while the transport's buffer is over its high-water mark."""
        self._check_open()
        protocol = self._protocol
        if protocol.lost or self._transport.is_closing():
            raise anyio.BrokenResourceError from protocol.exception
        self._uncork()  # what write_soon() holds goes first
        self._transport.write(item)
        while protocol.writing_paused and not protocol.lost:
            drainer = asyncio.get_running_loop().create_future()
            protocol.drainers.append(drainer)
            await drainer
            self._check_open()
        if protocol.lost and protocol.exception is not None:
            raise anyio.BrokenResourceError from protocol.exception

    def call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        asyncio.get_running_loop().call_soon(callback, *args)

    def call_at(self, when: float, callback: Callable[[], object]) -> Timer:
        return asyncio.get_running_loop().call_at(when, callback)

    def enter(self) -> Any:
        return enter_asyncio()

    def leave(self, token: Any) -> None:
        leave_asyncio(token)

    def _check_open(self) -> None:
        if self._closed:
            raise anyio.ClosedResourceError
        if self._protocol.exception is not None:
            raise anyio.BrokenResourceError from self._protocol.exception

    async def send_eof(self) -> None:
        if not self._transport.is_closing() and self._transport.can_write_eof():
            self._transport.write_eof()

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        """Close: what is written still goes out (for up to ``FLUSH_ON_CLOSE`` seconds,
        then the connection is aborted: a peer that stopped reading cannot keep it);
        a reader or a waiting writer wakes. Needs no await (``aclose`` is the same)."""
        if self._closed:
            return
        self._uncork()
        self._closed = True
        transport = self._transport
        # Closed already (lost, or a TLS transport after the peer's EOF): a second
        # close() would break asyncio's TLS transport.
        if not transport.is_closing():
            transport.close()
            if transport.get_write_buffer_size():
                asyncio.get_running_loop().call_later(FLUSH_ON_CLOSE, transport.abort)
        self._protocol.wake_reader()
        self._protocol.wake_drainers()
        self._protocol.tell_end()

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        sock: socket.socket = self._transport.get_extra_info("socket")
        attributes: dict[Any, Callable[[], Any]] = {
            SocketAttribute.family: lambda: sock.family,
            SocketAttribute.local_address: sock.getsockname,
            SocketAttribute.remote_address: sock.getpeername,
            SocketAttribute.raw_socket: lambda: sock,
        }
        tls: ssl.SSLObject | None = self._transport.get_extra_info("ssl_object")
        if tls is not None:  # served over asyncio's TLS transport
            attributes[TLSAttribute.channel_binding_tls_unique] = functools.partial(
                tls.get_channel_binding, "tls-unique"
            )
        return attributes
