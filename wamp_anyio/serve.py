"""Serving wamp_core's router on asyncio or trio: listeners, one task pair per
connection, the router's timer, in-memory client sessions, graceful shutdown.

::

    async with wamp_anyio.serve() as server:            # ws://127.0.0.1:8080/ws, rs://...:8081
        async with server.connect("realm1") as session:  # joined, over memory: no socket
            ...

On asyncio the loop's own server accepts, each connection an AsyncioStream (TLS by
asyncio's TLS transport), and a connection has no task at all: its bytes are handled
in the transport's own callback as they arrive, its timer (handshake timeout,
keep-alive) is a loop timer armed only while it has a deadline. On trio (and for
in-memory sessions) each connection has one task, its reader, which holds a cancel
scope only while the connection has a deadline. What the router queues for a
connection is written at once when its stream takes it without waiting (asyncio's
transport, trio's plain socket, the in-memory pipe); a task exists only while output
waits for the stream, and to close it. An idle session thus costs little more than
the router's own objects.
A connection whose peer stops reading blocks only its own writer; what is queued for
it meanwhile is bounded (``max_queued``): past it the router cuts the connection off
and says why in the log. Bad input on one connection ends that connection only.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any

import anyio
from anyio.abc import ByteStream, Listener, SocketAttribute, SocketListener, TaskGroup
from anyio.streams.stapled import MultiListener
from anyio.streams.tls import TLSAttribute, TLSListener

from wamp_anyio import _asyncio_stream
from wamp_anyio._backend import on_asyncio, on_trio
from wamp_anyio._driver import _enter_asyncio, _leave_asyncio
from wamp_anyio._run import Transport, connect_over
from wamp_anyio._trio_reader import trio_receiver
from wamp_anyio.session import Session
from wamp_core.connection import DISPATCH_CHUNK
from wamp_core.router import ANONYMOUS_AUTH, RealmConfig, Router, RouterConnection
from wamp_core.router.acceptor import TransportAuth
from wamp_core.router.serving import (
    DEFAULT_MAX_QUEUED,
    MEMORY_URL,
    READ_TURN,
    SHUTDOWN_GRACE,
    Listen,
    default_listens,
    event_line,
    iso_timestamp,
    memory_listen,
)

__all__ = ["Listen", "Server", "serve"]

log = logging.getLogger("wamp_anyio.router")

# Seconds a closing connection may take to send what is left (to a peer that reads).
CLOSE_GRACE = 5.0
# What a stream raises when the other side has gone (or we closed it meanwhile).
_GONE = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError)


def _timestamp() -> str:
    return iso_timestamp(time.time())


class _Peer:
    """One connection's state: the stream, how to write without waiting, and whether
    a writer task is busy with it (it exists only while output waits for the stream)."""

    __slots__ = (
        "closing",
        "connection",
        "done",
        "ended",
        "sending",
        "stream",
        "timer",
        "write_now",
        "writing",
    )

    def __init__(self, connection: RouterConnection, stream: ByteStream) -> None:
        self.connection = connection
        self.stream = stream
        self.write_now = _direct_writer(stream)
        self.writing = False  # a writer task sends (and the queue is its to take)
        self.ended = False  # the stream is closed (or being closed) by the writer
        self.done: anyio.Event | None = None  # set when the writer ends, if awaited
        self.sending: anyio.CancelScope | None = None  # the writer's, while it sends
        # Served in callbacks (asyncio): the connection's timer while it has a deadline,
        # and whether the task that closes the connection was started.
        self.timer: asyncio.TimerHandle | None = None
        self.closing = False


class Server:
    """A running router: its listeners' URLs, in-memory sessions, shutdown."""

    def __init__(self, router: Router, group: TaskGroup, *, max_queued: int) -> None:
        self.router = router
        self.urls: list[str] = []
        self._group = group
        self._max_queued = max_queued
        self._peers: dict[RouterConnection, _Peer] = {}
        self._timer_changed = anyio.Event()
        self._armed: float | None = None  # the deadline run_timer waits for
        self._closing = False
        self._all_closed = anyio.Event()

    @property
    def url(self) -> str:
        """The first listener's URL."""
        return self.urls[0]

    # -- connections ------------------------------------------------------------------

    async def handle(self, stream: ByteStream, listen: Listen) -> None:
        """Serve one accepted stream until it closes (in this task)."""
        peer = self._open(stream, listen, anyio.current_time())
        try:
            await self._read(peer)
        finally:
            await self._close_peer(peer)

    def serve_in_callbacks(
        self, stream: _asyncio_stream.AsyncioStream, listen: Listen, loop: asyncio.AbstractEventLoop
    ) -> None:
        """Serve an accepted asyncio stream with no task: its bytes are handled in its
        transport's callback, its deadlines by a loop timer; a task closes it at the end."""
        peer = self._open(stream, listen, loop.time())

        def received(data: bytes) -> None:
            if not peer.closing:
                previous = _enter_asyncio()
                try:
                    self._take(peer, data, loop.time())
                    self._rearm(peer, loop)
                finally:
                    _leave_asyncio(previous)

        stream.deliver_to(received)
        self._rearm(peer, loop)  # the handshake's deadline runs before any input

    def _open(self, stream: ByteStream, listen: Listen, now: float) -> _Peer:
        _no_delay(stream)
        connection = listen.connect(
            self.router,
            now,
            channel_id=_channel_id(stream),
            max_queued=self._max_queued,
        )
        peer = _Peer(connection, stream)
        self._peers[connection] = peer
        return peer

    async def _close_peer(self, peer: _Peer) -> None:
        """The connection is closed: what the router queued last goes out, then the
        stream closes."""
        connection = peer.connection
        try:
            self._flush(peer)
            if peer.writing:  # what was queued last goes out before the close
                peer.done = anyio.Event()
                # ... but a peer that stopped reading does not hold the connection
                # open: closing the stream below wakes a writer stuck in send().
                with anyio.move_on_after(CLOSE_GRACE):
                    await peer.done.wait()
        finally:
            del self._peers[connection]
            self._after(connection)
            await _close(peer.stream)
            if self._closing and not self._peers:
                self._all_closed.set()

    async def _read(self, peer: _Peer) -> None:
        connection, stream = peer.connection, peer.stream
        receive = trio_receiver(stream) or stream.receive
        while not connection.closed:
            deadline = connection.next_deadline()
            data: bytes | None = None
            try:
                # READ_TURN at a time: every read waits its turn (a checkpoint), so a
                # flooding peer's next bytes come after the other connections' reads.
                if deadline is None:  # no cancel scope: an idle connection holds none
                    data = await receive(READ_TURN)
                else:
                    with anyio.move_on_after(max(0.0, deadline - anyio.current_time())):
                        data = await receive(READ_TURN)
            except _GONE:
                data = b""
            self._take(peer, data, anyio.current_time())

    def _take(self, peer: _Peer, data: bytes | None, now: float) -> None:
        """Input (``b""``: the stream ended) or, for None, the connection's deadline."""
        connection = peer.connection
        if data is None:
            connection.handle_timer(now)
        elif not data:
            connection.receive_data(b"", now)
        else:
            for start in range(0, len(data), DISPATCH_CHUNK):
                connection.receive_data(data[start : start + DISPATCH_CHUNK], now)
        self._after(connection)

    def _rearm(self, peer: _Peer, loop: asyncio.AbstractEventLoop) -> None:
        """Served in callbacks: once the connection is closed, a task closes it;
        else its timer follows its next deadline (none: no timer)."""
        connection = peer.connection
        if connection.closed:
            if not peer.closing:
                peer.closing = True
                if peer.timer is not None:
                    peer.timer.cancel()
                    peer.timer = None
                self._group.start_soon(self._close_peer, peer)
            return
        deadline = connection.next_deadline()
        timer = peer.timer
        if timer is not None:
            if timer.when() == deadline:
                return
            timer.cancel()
            peer.timer = None
        if deadline is not None:
            peer.timer = loop.call_at(deadline, self._timed_out, peer, loop)

    def _timed_out(self, peer: _Peer, loop: asyncio.AbstractEventLoop) -> None:
        peer.timer = None
        if not peer.closing:
            previous = _enter_asyncio()
            try:
                self._take(peer, None, loop.time())
                self._rearm(peer, loop)
            finally:
                _leave_asyncio(previous)

    def _flush(self, peer: _Peer) -> None:
        """Hand what the router queued for ``peer`` to its stream: at once when the
        stream takes it without waiting, else (and to close) through a writer task."""
        if peer.writing or peer.ended:
            # The writer takes what is queued before it ends; once the connection is
            # closed (a reader cut off), within CLOSE_GRACE whether the peer reads or not.
            if peer.sending is not None and peer.connection.closed:
                limit = anyio.current_time() + CLOSE_GRACE
                peer.sending.deadline = min(peer.sending.deadline, limit)
            return
        connection = peer.connection
        data = connection.data_to_send()
        lost = False
        if data and peer.write_now is not None:
            try:
                data = data[peer.write_now(data) :]
            except _GONE:
                data, lost = b"", True
                connection.close()
        if data or connection.closed:
            peer.writing = True
            self._group.start_soon(self._write, peer, data, lost)

    async def _write(self, peer: _Peer, data: bytes, lost: bool) -> None:
        connection, stream = peer.connection, peer.stream
        try:
            if lost:
                self._after(connection)
            # Until nothing is left: what the router queued while we were sending
            # (an ABORT, before it closed the connection) goes out before the close.
            with anyio.CancelScope() as peer.sending:
                if connection.closed:
                    peer.sending.deadline = anyio.current_time() + CLOSE_GRACE
                while data:
                    try:
                        await stream.send(data)
                    except _GONE:
                        connection.close()
                        self._after(connection)
                        break
                    data = connection.data_to_send()
            peer.sending = None
            if connection.closed:
                peer.ended = True
                await _close(stream)
        finally:
            peer.writing = False
            if peer.done is not None:
                peer.done.set()

    def _after(self, source: RouterConnection) -> None:
        """After input (or a timer): wake the writers the router gave work, log what
        happened, and move the router's timer if it changed."""
        touched = self.router.take_writable()
        for connection in [source, *touched]:
            for event in connection.events():
                _log_event(event)
            peer = self._peers.get(connection)
            if peer is not None:
                self._flush(peer)
        # Only a new deadline wakes the timer task (not every input: that is a task
        # switch per message).
        if self.router.next_deadline() != self._armed:
            self._timer_changed.set()

    async def run_timer(self) -> None:
        """The router's own timer (call timeouts), re-armed when its next deadline changes."""
        while True:
            self._timer_changed = anyio.Event()
            deadline = self._armed = self.router.next_deadline()
            delay = None if deadline is None else max(0.0, deadline - anyio.current_time())
            with anyio.move_on_after(delay):
                await self._timer_changed.wait()
                continue
            self.router.handle_timer(anyio.current_time())
            for connection in self.router.take_writable():
                peer = self._peers.get(connection)
                if peer is not None:
                    self._flush(peer)

    # -- in memory --------------------------------------------------------------------

    @asynccontextmanager
    async def connect(
        self,
        realm: str = "realm1",
        *,
        serializer: str = "msgpack",
        authentication: Mapping[str, Any] | None = None,
        auth: TransportAuth = ANONYMOUS_AUTH,
        extra: Any = None,
    ) -> AsyncIterator[Session]:
        """A session joined to ``realm`` over an in-memory RawSocket connection (no
        socket); it leaves when the block ends."""
        client_end, server_end = _memory_pipe()
        self._group.start_soon(self.handle, server_end, memory_listen(auth))
        transport = Transport(MEMORY_URL, [serializer], authentication)
        async with connect_over(transport, client_end, realm, extra=extra) as session:
            yield session

    # -- the end ----------------------------------------------------------------------

    async def shutdown(self, reason: str = "wamp.close.system_shutdown") -> None:
        """GOODBYE to every session, a little time for the answers, then close all."""
        if self._closing:
            return
        self._closing = True
        log.info("shutting down: %d connections", len(self._peers))
        self.router.shutdown(reason)
        for peer in list(self._peers.values()):
            self._flush(peer)
        if self._peers:
            with anyio.move_on_after(SHUTDOWN_GRACE):
                await self._all_closed.wait()
        for peer in list(self._peers.values()):
            peer.connection.close()
            await _close(peer.stream)


def _log_event(event: Any) -> None:
    line = event_line(event)
    if line is not None:
        level, text = line
        log.log(logging.INFO if level == "info" else logging.WARNING, "%s", text)


def _no_delay(stream: ByteStream) -> None:
    """TCP_NODELAY on an accepted TCP socket: without it a message written while an
    earlier one is not yet acknowledged waits for the peer's delayed ACK (40 ms on
    Linux): an INVOCATION after an EVENT to the same callee did. asyncio sets it only
    on sockets made with ``proto=IPPROTO_TCP``, and anyio's listeners make theirs with
    0 (trio sets it on every TCP stream)."""
    sock = stream.extra(SocketAttribute.raw_socket, None)
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _direct_writer(stream: ByteStream) -> Callable[[bytes], int] | None:
    """How to write to ``stream`` without waiting (the count of bytes it took), when
    it can: asyncio's transport (through AsyncioStream) or trio's plain socket."""
    if isinstance(stream, _asyncio_stream.AsyncioStream):
        return functools.partial(_write_now, stream)
    if isinstance(stream, _MemoryEnd):
        return stream.send_now
    if isinstance(stream, anyio.abc.SocketStream):
        sock = stream.extra(SocketAttribute.raw_socket, None)
        if isinstance(sock, socket.socket):
            return functools.partial(_send_now, sock)
    return None


def _write_now(stream: _asyncio_stream.AsyncioStream, data: bytes) -> int:
    return len(data) if stream.write_now(data) else 0


def _send_now(sock: socket.socket, data: bytes) -> int:
    try:
        return sock.send(data)
    except (BlockingIOError, InterruptedError):
        return 0


def _channel_id(stream: ByteStream) -> bytes | None:
    try:
        value = stream.extra(TLSAttribute.channel_binding_tls_unique, None)
    except Exception:  # not TLS
        return None
    return value if isinstance(value, bytes) else None


async def _close(stream: ByteStream) -> None:
    # A TLS stream's close sends close_notify, which waits on a peer that does not read.
    with anyio.move_on_after(CLOSE_GRACE, shield=True) as scope, suppress(*_GONE):
        await stream.aclose()
    if scope.cancelled_caught:
        with anyio.CancelScope(shield=True), suppress(*_GONE):
            await anyio.aclose_forcefully(stream)


class _MemoryEnd(ByteStream):
    """One end of an in-memory byte pipe."""

    def __init__(self, send: Any, receive: Any) -> None:
        self._send = send
        self._receive = receive

    async def receive(self, max_bytes: int = 65536) -> bytes:
        try:
            return bytes(await self._receive.receive())
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise anyio.EndOfStream from None

    async def send(self, item: bytes) -> None:
        try:
            await self._send.send(bytes(item))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            raise anyio.BrokenResourceError from None

    def send_now(self, item: bytes) -> int:
        """Send without waiting: the count of bytes taken (all, or none when the pipe
        is full)."""
        try:
            self._send.send_nowait(bytes(item))
        except anyio.WouldBlock:
            return 0
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            raise anyio.BrokenResourceError from None
        return len(item)

    async def send_eof(self) -> None:
        await self._send.aclose()

    async def aclose(self) -> None:
        await self._send.aclose()
        await self._receive.aclose()


def _memory_pipe() -> tuple[_MemoryEnd, _MemoryEnd]:
    a_send, b_receive = anyio.create_memory_object_stream[bytes](1024)
    b_send, a_receive = anyio.create_memory_object_stream[bytes](1024)
    return _MemoryEnd(a_send, a_receive), _MemoryEnd(b_send, b_receive)


async def _listen(listen: Listen) -> tuple[Listener[Any], int]:
    """The listener bound for ``listen`` (TLS not yet applied) and its port."""
    listener: Listener[Any]
    if listen.unix is not None:
        listener = await anyio.create_unix_listener(listen.unix)
        port = 0
    else:
        tcp = await anyio.create_tcp_listener(local_host=listen.host, local_port=listen.port)
        port = tcp.extra(anyio.abc.SocketAttribute.local_port)
        listener = tcp
    return listener, port


async def _serve_listener(
    listener: Listener[Any], listen: Listen, server: Server, tg: TaskGroup
) -> list[asyncio.Server]:
    """Accept on ``listener``: on asyncio through the loop's own server (each
    connection an AsyncioStream served in its callbacks: no task, writes at once); on
    trio (plain sockets) each connection's task in a trio nursery; else (trio's TLS)
    with anyio's listener in the task group. The asyncio servers are returned, to
    close."""
    handle = functools.partial(server.handle, listen=listen)
    parts = listener.listeners if isinstance(listener, MultiListener) else [listener]
    sockets = [part for part in parts if isinstance(part, SocketListener)]
    if on_trio() and listen.tls is None and len(sockets) == len(parts):
        for part in sockets:
            tg.start_soon(_serve_in_nursery, part, handle)
        return []
    if not on_asyncio():
        if listen.tls is not None:
            listener = TLSListener(listener, listen.tls, standard_compatible=False)
        tg.start_soon(listener.serve, handle)
        return []

    loop = asyncio.get_running_loop()

    def accept(stream: _asyncio_stream.AsyncioStream) -> None:
        # Transport callbacks run in no task: under a bare asyncio.run() (no anyio.run)
        # sniffio could not tell the loop, and the anyio calls below would fail.
        previous = _enter_asyncio()
        try:
            server.serve_in_callbacks(stream, listen, loop)
        finally:
            _leave_asyncio(previous)

    return [
        await _asyncio_stream.serve_socket(
            part.extra(SocketAttribute.raw_socket), accept, listen.tls, READ_TURN
        )
        for part in parts
    ]


async def _serve_in_nursery(
    listener: SocketListener, handle: Callable[[ByteStream], Awaitable[None]]
) -> None:
    """Accept on trio, each connection's task started in a nursery of our own: a task
    of anyio's task group also holds an anyio TaskHandle, a cancel scope (and trio's
    cancel status) and an Event for as long as it runs, ~1.2 KB per idle connection."""
    import trio  # noqa: PLC0415 (trio is optional; only asked under trio)

    async with trio.open_nursery() as nursery:
        while True:
            nursery.start_soon(handle, await listener.accept())


@asynccontextmanager
async def serve(
    listeners: Sequence[Listen] | None = None,
    realms: Sequence[RealmConfig] = (RealmConfig("realm1"),),
    *,
    max_queued: int = DEFAULT_MAX_QUEUED,
    max_connections: int | None = None,
) -> AsyncIterator[Server]:
    """Run the router with ``listeners`` (default: WebSocket on 127.0.0.1:8080/ws and
    RawSocket on 127.0.0.1:8081; port 0 picks a free one: see ``server.urls``) while the
    block runs; on the way out, GOODBYE to every session and close. ``max_connections``
    caps the connections served at once (in-memory sessions included): the next are
    refused in their handshake, and the cap is logged when hit."""
    if listeners is None:
        listeners = default_listens()
    router = Router(
        realms,
        random_bytes=secrets.token_bytes,
        timestamp=_timestamp,
        max_connections=max_connections,
    )
    # The task group is entered by hand, so that what the caller's block raises comes
    # out as it is, not wrapped in an ExceptionGroup.
    tg = anyio.create_task_group()
    await tg.__aenter__()
    server = Server(router, tg, max_queued=max_queued)
    accepting: list[asyncio.Server] = []
    listening: list[Listener[Any]] = []  # served by tasks: closed once they are done
    try:
        for listen in listeners:
            listener, port = await _listen(listen)
            listening.append(listener)
            server.urls.append(listen.url(port))
            served = await _serve_listener(listener, listen, server, tg)
            if served:  # the asyncio servers close their sockets themselves
                listening.remove(listener)
                accepting += served
            log.info("listening on %s", server.urls[-1])
        tg.start_soon(server.run_timer)
        yield server
    finally:
        with anyio.CancelScope(shield=True):
            await server.shutdown()
        for accepted in accepting:
            accepted.close()
        tg.cancel_scope.cancel()
        try:
            await tg.__aexit__(None, None, None)
        finally:
            # Canceling the accepting tasks leaves their sockets listening: the kernel
            # would go on completing connections nobody serves.
            with anyio.CancelScope(shield=True):
                for listener in listening:
                    await listener.aclose()
