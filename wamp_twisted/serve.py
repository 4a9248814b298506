"""wamp_core's router served by Twisted, as a ``twisted.application.service.Service``.

::

    service = RouterService([Listen("websocket", port=0), Listen("rawsocket", port=0)])
    urls = await service.startService()   # also service.urls; ports bound at once
    session = await service.connect("realm1")   # joined, over memory: no socket
    ...
    await service.stopService()   # GOODBYE wamp.close.system_shutdown to all, close

In a ``.tac`` file, ``RouterService(...).setServiceParent(application)``; from the
command line, ``python -m wamp_twisted serve`` or ``twistd -n wamp-sansio`` (the
plugin in ``twisted/plugins``), with the flags of ``python -m wamp_anyio serve``.

Each connection is a protocol that feeds the router its bytes and writes what the
router queued for it; each has its own timer (handshake timeout, keep-alive), and the
router has one (call timeouts), all ``reactor.callLater``. The protocol is the push
producer of its transport: when a peer stops reading, Twisted pauses it and nothing
more is handed to the transport, so what the router queues for that peer grows in the
connection until ``max_queued`` and the router cuts it off (the reason is logged).
Bad input ends that connection only.
"""

from __future__ import annotations

import os
import secrets
import socket
import stat
import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from twisted.application import service
from twisted.internet import defer
from twisted.internet.abstract import FileDescriptor
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import (
    IHandshakeListener,
    IOpenSSLServerConnectionCreator,
    IPushProducer,
)
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger, LogLevel
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.python.failure import Failure
from zope.interface import implementer  # type: ignore[import-untyped]

from wamp_core.application.url import parse_url
from wamp_core.connection import DISPATCH_CHUNK
from wamp_core.exception import ApplicationError, TransportLost
from wamp_core.router import ANONYMOUS_AUTH, RealmConfig, Router, RouterConnection, serving
from wamp_core.router.acceptor import TransportAuth
from wamp_core.router.command import LOG_LEVELS
from wamp_core.router.config import NodeConfig, TlsConfig, load_config
from wamp_core.router.serving import Listen
from wamp_core.types import CloseDetails, ComponentConfig, SessionDetails
from wamp_twisted.protocol import WampClientFactory
from wamp_twisted.session import Session

__all__ = ["Listen", "RouterService", "log_level", "server_tls"]

log = Logger(namespace="wamp_twisted.router")
_LEVELS: dict[str, LogLevel] = {
    "debug": LogLevel.debug,
    "info": LogLevel.info,
    "warning": LogLevel.warn,
    "error": LogLevel.error,
}


def log_level(name: str) -> LogLevel:
    """Twisted's LogLevel for a ``--log-level`` name (debug, info, warning, error)."""
    return _LEVELS[name]


def server_tls(files: TlsConfig) -> Any:
    """A server TLS context factory from a listener's files (what ``Listen.tls`` takes
    for wamp_twisted): its key and certificate (with the chain in the certificate file),
    ``chain_certificates`` sent along, and with ``ca_certificates`` a client certificate
    signed by one of them required (Crossbar.io's ``ca_certificates``). TLS 1.2 at
    least; no session resumption, so every handshake is a full one and tls-unique is the
    client's Finished. Files that cannot be read or do not fit raise OSError."""
    return _ServerTLS(files)


@implementer(IOpenSSLServerConnectionCreator)
class _ServerTLS:
    """An OpenSSL context made once from the files; a connection of its own for each
    client (what ``TLSMemoryBIOFactory`` asks of a server's TLS)."""

    def __init__(self, files: TlsConfig) -> None:
        from cryptography.x509 import load_pem_x509_certificates  # noqa: PLC0415
        from OpenSSL import SSL  # noqa: PLC0415 (pyOpenSSL: the tls extra)

        context = SSL.Context(SSL.TLS_SERVER_METHOD)
        context.set_min_proto_version(SSL.TLS1_2_VERSION)
        context.set_options(SSL.OP_NO_TICKET)
        context.set_session_cache_mode(SSL.SESS_CACHE_OFF)
        try:
            context.use_certificate_chain_file(files.certificate)
            context.use_privatekey_file(files.key)
            context.check_privatekey()
            for path in files.chain_certificates:
                for certificate in load_pem_x509_certificates(_read(path)):
                    context.add_extra_chain_cert(certificate)
            if files.ca_certificates is not None:
                for path in files.ca_certificates:
                    context.load_verify_locations(path)
                    for certificate in load_pem_x509_certificates(_read(path)):
                        context.add_client_ca(certificate)
                context.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT)
        except (SSL.Error, ValueError) as error:
            raise OSError(f"TLS files {files.certificate}, {files.key}: {error}") from None
        self._context = context

    def serverConnectionForTLS(self, protocol: Any) -> Any:
        from OpenSSL import SSL  # noqa: PLC0415

        return SSL.Connection(self._context, None)


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def _pause_reading(transport: Any, paused: bool) -> None:
    """Stop (or resume) reading from ``transport`` (TLS passes it to its TCP one); an
    in-memory transport has no such thing."""
    change = getattr(transport, "pauseProducing" if paused else "resumeProducing", None)
    if change is not None:
        change()


def _socket_end(transport: Any) -> Any:
    """The reactor's descriptor of the socket under ``transport`` (TLS writes through
    its TCP transport at once); None in memory."""
    for candidate in (transport, getattr(transport, "transport", None)):
        if isinstance(candidate, FileDescriptor):
            return candidate
    return None


def _tls_unique_of_client(transport: Any) -> bytes | None:
    """tls-unique as the server sees it: the client's Finished (a full handshake)."""
    finished = transport.getHandle().get_peer_finished()
    return finished if isinstance(finished, bytes) else None


@implementer(IPushProducer, IHandshakeListener)
class _RouterProtocol(Protocol):
    """One client connection of the router (see the module docstring)."""

    def __init__(self, server: RouterService, listen: Listen) -> None:
        self.server = server
        self.listen = listen
        self.connection: RouterConnection | None = None
        self.paused = False  # the transport's buffer is full: hand it nothing more
        self._timer: Any = None
        self._ending = False
        # Input past this turn's READ_TURN bytes, and where the next turn starts in it;
        # the transport does not read meanwhile.
        self._backlog = b""
        self._backlog_at = 0
        self._socket_end: Any = None  # the socket's FileDescriptor: see _send_now

    # -- IProtocol

    def connectionMade(self) -> None:
        transport: Any = self.transport
        transport.registerProducer(self, True)
        # Twisted leaves Nagle on: a message written while an earlier one is not yet
        # acknowledged would wait for the peer's delayed ACK (40 ms on Linux). A TLS
        # transport passes the call on to its TCP one; a Unix socket has no such call.
        no_delay = getattr(transport, "setTcpNoDelay", None)
        if no_delay is not None:
            no_delay(True)
        self._socket_end = _socket_end(transport)
        server = self.server
        self.connection = connection = self.listen.connect(
            server.router, server.reactor.seconds(), channel_id=None, max_queued=server.max_queued
        )
        server.protocols[connection] = self
        server.handled(connection)

    def handshakeCompleted(self) -> None:
        """TLS is up, before any data: the channel binding for cryptosign and SCRAM."""
        assert self.connection is not None
        self.connection.channel_id = _tls_unique_of_client(self.transport)

    def dataReceived(self, data: bytes) -> None:
        if self._backlog:  # a transport that does not pause (in memory) gave more
            self._backlog = self._backlog[self._backlog_at :] + data
            self._backlog_at = 0
            return
        self._turn(data, 0)

    def _turn(self, data: bytes, start: int) -> None:
        """Handle ``READ_TURN`` bytes of ``data`` from ``start``; the rest in the next
        reactor iteration, after the other ready connections' reads, with reading
        paused meanwhile. Twisted reads 64 KiB at a time and one socket's read is all
        handled before the next socket's: a flooding peer held the others up for it."""
        connection = self.connection
        assert connection is not None
        end = min(len(data), start + serving.READ_TURN)
        self._handle(connection, data, start, end)
        transport: Any = self.transport
        if end < len(data) and not connection.closed:
            if not self._backlog:
                _pause_reading(transport, True)
            self._backlog, self._backlog_at = data, end
            self.server.reactor.callLater(0, self._next_turn)
        elif self._backlog:
            self._backlog, self._backlog_at = b"", 0
            if not self._ending:
                _pause_reading(transport, False)
        self.server.handled(connection)

    def _next_turn(self) -> None:
        if self._backlog and not self._ending:
            self._turn(self._backlog, self._backlog_at)

    def _handle(self, connection: RouterConnection, data: bytes, start: int, end: int) -> None:
        now = self.server.reactor.seconds()
        # In slices (see DISPATCH_CHUNK: what a big read of small messages costs the GC).
        for at in range(start, end, DISPATCH_CHUNK):
            connection.receive_data(data[at : min(at + DISPATCH_CHUNK, end)], now)

    def connectionLost(self, reason: Failure | None = None) -> None:
        connection = self.connection
        assert connection is not None  # connectionMade came first
        self._ending = True
        if self._backlog and not connection.closed:  # what came before the end counts
            self._handle(connection, self._backlog, self._backlog_at, len(self._backlog))
        self._backlog = b""
        if not connection.closed:
            connection.receive_data(b"", self.server.reactor.seconds())
        self._cancel_timer()
        self.server.lost(self, connection)

    # -- IPushProducer: the transport tells us whether the peer keeps up

    def pauseProducing(self) -> None:
        self.paused = True

    def resumeProducing(self) -> None:
        self.paused = False
        self.flush()

    def stopProducing(self) -> None:
        """The transport is going away: connectionLost follows."""

    # -- output and time

    def flush(self) -> None:
        """Hand the transport what the router queued (unless paused), close if the
        connection is over, and follow the connection's next deadline."""
        connection = self.connection
        if connection is None or self._ending:
            return
        transport: Any = self.transport
        if not self.paused:
            data = connection.data_to_send()
            if data:
                transport.write(data)
                self._send_now()
        if connection.closed:
            self._ending = True
            self._cancel_timer()
            transport.unregisterProducer()  # else Twisted waits for the producer
            # A peer that does not read would hold a polite close open for ever.
            if self.paused:
                transport.abortConnection()
            else:
                transport.loseConnection()
            return
        self._arm(connection.next_deadline())

    def _send_now(self) -> None:
        """Send what the transport holds now rather than when the reactor next polls:
        Twisted's write only buffers, and the send waited for the next iteration, after
        the delayed calls and every other ready connection (a flooding peer's turn, the
        fan-out to its subscribers), so each hop of a request through the router cost
        about a reactor iteration more under load. The socket's own ``doWrite`` sends the
        buffer's head, in order; what the socket does not take stays buffered and
        goes out when it is writable, as before. Its result is not ours to act on: a
        send that failed leaves the data buffered, and the reactor finds the error when
        it polls."""
        socket_end = self._socket_end
        if socket_end is not None and socket_end.connected and not socket_end.disconnecting:
            socket_end.doWrite()

    def _arm(self, deadline: float | None) -> None:
        timer = self._timer
        if deadline is None:
            self._cancel_timer()
            return
        delay = max(0.0, deadline - self.server.reactor.seconds())
        if timer is not None and timer.active():
            if timer.getTime() != deadline:
                timer.reset(delay)
            return
        self._timer = self.server.reactor.callLater(delay, self._fire)

    def _fire(self) -> None:
        self._timer = None
        connection = self.connection
        assert connection is not None
        connection.handle_timer(self.server.reactor.seconds())
        self.server.handled(connection)

    def _cancel_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None


class _RouterFactory(Factory):
    noisy = False

    def __init__(self, server: RouterService, listen: Listen) -> None:
        self.server = server
        self.listen = listen

    def buildProtocol(self, addr: Any) -> _RouterProtocol:
        return _RouterProtocol(self.server, self.listen)

    def logPrefix(self) -> str:
        return "wamp-router"  # Twisted's "... starting on PORT" lines


class RouterService(service.Service):
    """The router on ``listens`` (default: WebSocket on 127.0.0.1:8080/ws, RawSocket on
    127.0.0.1:8081; port 0 picks a free one) for ``realms``.

    The ports are bound when the service starts (``privilegedStartService`` under
    twistd); ``startService()`` returns a Deferred (already fired) with ``urls``.
    ``stopService()`` says GOODBYE ``wamp.close.system_shutdown`` to every session,
    gives them ``SHUTDOWN_GRACE`` seconds to answer and closes every connection; its
    Deferred fires once they are all closed. ``max_connections`` caps the connections
    served at once (in-memory ones included): the next are refused in their handshake.
    ``log_level`` (``info``, ``warning``, ``error``) is the least level of the router's
    own log lines."""

    name = "wamp-router"

    def __init__(
        self,
        listens: Sequence[Listen] | None = None,
        realms: Sequence[RealmConfig] = (RealmConfig("realm1"),),
        *,
        max_queued: int = serving.DEFAULT_MAX_QUEUED,
        max_connections: int | None = None,
        reactor: Any = None,
        log_level: str = "info",
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor as default_reactor  # noqa: PLC0415

            reactor = default_reactor
        if log_level not in LOG_LEVELS:
            raise ValueError(f"log_level must be one of {LOG_LEVELS}, got {log_level!r}")
        self.listens = tuple(serving.default_listens() if listens is None else listens)
        self.reactor = reactor
        self.max_queued = max_queued
        self.router = Router(
            realms,
            random_bytes=secrets.token_bytes,
            timestamp=_timestamp,
            max_connections=max_connections,
        )
        self.urls: list[str] = []
        self.protocols: dict[RouterConnection, _RouterProtocol] = {}
        self._least_level = _LEVELS[log_level]
        self._ports: list[Any] = []
        self._timer: Any = None
        self._all_closed: defer.Deferred[None] | None = None

    @classmethod
    def from_config(
        cls, config: NodeConfig | str | os.PathLike[str], **options: Any
    ) -> RouterService:
        """The service of a Crossbar.io node configuration (a NodeConfig, or a file to
        load); its warnings are logged. ``options`` as for the constructor."""
        node = config if isinstance(config, NodeConfig) else load_config(config)
        for warning in node.warnings:
            log.warn("configuration: {warning}", warning=warning)
        return cls(serving.listens_from(node, server_tls), node.realms, **options)

    @property
    def url(self) -> str:
        """The first listener's URL."""
        return self.urls[0]

    # -- the service ----------------------------------------------------------------

    def privilegedStartService(self) -> None:
        """Bind the listening ports (before twistd drops privileges)."""
        if self._ports:
            return
        try:
            for listen in self.listens:
                port = self._listen(listen)
                self._ports.append(port)
                self.urls.append(listen.url(0 if listen.unix else port.getHost().port))
                self._emit("info", f"listening on {self.urls[-1]}")
        except BaseException:
            for port in self._ports:
                port.stopListening()
            self._ports, self.urls = [], []
            raise

    def startService(self) -> defer.Deferred[list[str]]:
        self.privilegedStartService()
        super().startService()  # type: ignore[no-untyped-call]
        return defer.succeed(list(self.urls))

    def stopService(self) -> defer.Deferred[None]:
        super().stopService()  # type: ignore[no-untyped-call]
        stopped = [defer.maybeDeferred(port.stopListening) for port in self._ports]
        self._ports, self.urls = [], []
        self._emit("info", f"shutting down: {len(self.protocols)} connections")
        closed: defer.Deferred[None] = defer.Deferred()
        self._all_closed = closed
        self.router.shutdown("wamp.close.system_shutdown")
        self._write_queued()
        if self.protocols:
            grace = self.reactor.callLater(serving.SHUTDOWN_GRACE, self._abort_all)
            closed.addBoth(_cancel_call, grace)
        else:
            closed.callback(None)
        done = defer.gatherResults([*stopped, closed], consumeErrors=True)
        return done.addCallback(self._stopped)

    def _stopped(self, _: Any) -> None:
        self._all_closed = None
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _abort_all(self) -> None:
        for proto in list(self.protocols.values()):
            transport: Any = proto.transport
            transport.abortConnection()

    def _listen(self, listen: Listen) -> Any:
        factory: Any = _RouterFactory(self, listen)
        if listen.tls is not None:  # what listenSSL does, over TCP and Unix alike
            factory = TLSMemoryBIOFactory(listen.tls, False, factory)
        if listen.unix is not None:
            _remove_stale_socket(listen.unix)
            return self.reactor.listenUNIX(listen.unix, factory)
        return self.reactor.listenTCP(listen.port, factory, interface=listen.host)

    # -- connections ----------------------------------------------------------------

    def handled(self, source: RouterConnection) -> None:
        """After input or a timer on ``source``: log what happened, write what the
        router queued (on any connection), and follow the router's next deadline."""
        self._log_events(source)
        self._write_queued()
        proto = self.protocols.get(source)
        if proto is not None:
            proto.flush()  # also when it queued nothing: its own deadline moved

    def lost(self, proto: _RouterProtocol, connection: RouterConnection) -> None:
        """A connection's transport is gone."""
        self.protocols.pop(connection, None)
        self._log_events(connection)
        self._write_queued()
        if not self.protocols and self._all_closed is not None and not self._all_closed.called:
            self._all_closed.callback(None)

    def _write_queued(self) -> None:
        for connection in self.router.take_writable():
            self._log_events(connection)
            proto = self.protocols.get(connection)
            if proto is not None:
                proto.flush()
        self._arm()

    def _log_events(self, connection: RouterConnection) -> None:
        for event in connection.events():
            line = serving.event_line(event)
            if line is not None:
                self._emit(*line)

    def _emit(self, level: str, text: str) -> None:
        twisted_level = _LEVELS[level]
        if twisted_level >= self._least_level:
            log.emit(twisted_level, "{text}", text=text)

    # -- the router's timer ---------------------------------------------------------

    def _arm(self) -> None:
        deadline = self.router.next_deadline()
        timer = self._timer
        if deadline is None:
            if timer is not None and timer.active():
                timer.cancel()
            self._timer = None
        elif timer is not None and timer.active():
            if timer.getTime() != deadline:
                timer.reset(max(0.0, deadline - self.reactor.seconds()))
        else:
            delay = max(0.0, deadline - self.reactor.seconds())
            self._timer = self.reactor.callLater(delay, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self.router.handle_timer(self.reactor.seconds())
        self._write_queued()

    # -- in memory ------------------------------------------------------------------

    def connect(
        self,
        realm: str = "realm1",
        *,
        authentication: Mapping[str, Any] | None = None,
        extra: Any = None,
        serializer: str = "msgpack",
        auth: TransportAuth = ANONYMOUS_AUTH,
    ) -> defer.Deferred[Session]:
        """A wamp_twisted Session joined to ``realm`` over an in-memory RawSocket
        connection (no socket), with the client's ``authentication`` and ``extra``;
        ``auth`` is that connection's authentication on the router's side. A refused
        join fails with ApplicationError. Leave with ``session.leave()`` (or
        ``session.disconnect()``)."""
        session = _JoiningSession(ComponentConfig(realm=realm, extra=extra))
        factory: WampClientFactory[Session] = WampClientFactory(
            lambda: session,
            parse_url(serving.MEMORY_URL),
            realm,
            self.reactor,
            serializers=[serializer],
            authentication=authentication,
        )
        router_end = _RouterProtocol(self, serving.memory_listen(auth))
        _MemoryPipe(self.reactor).join(router_end, factory.buildProtocol(None))
        return session.joined


def _remove_stale_socket(path: str) -> None:
    """A Unix socket file that nobody listens on any more (a router that crashed left
    it) is removed, as wamp_anyio's listener does; one in use is left for listenUNIX to
    refuse (address in use)."""
    try:
        is_socket = stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return  # not there (or not ours to see): listenUNIX says what is wrong
    if not is_socket:
        return
    with socket.socket(socket.AF_UNIX) as probe:
        probe.setblocking(False)  # a full backlog answers at once too
        try:
            probe.connect(path)
        except ConnectionRefusedError:
            os.unlink(path)
        except OSError:
            pass  # alive but busy, or not ours: leave it


def _timestamp() -> str:
    return serving.iso_timestamp(time.time())


def _cancel_call(result: Any, call: Any) -> Any:
    if call.active():
        call.cancel()
    return result


class _JoiningSession(Session):
    """The session ``connect()`` gives: ``joined`` fires with it, or fails with the
    router's refusal (or TransportLost)."""

    def __init__(self, config: ComponentConfig) -> None:
        super().__init__(config)
        self.joined: defer.Deferred[Session] = defer.Deferred()

    def on_join(self, details: SessionDetails) -> None:
        if not self.joined.called:
            self.joined.callback(self)

    def on_leave(self, details: CloseDetails) -> Any:
        if not self.joined.called:
            why = (details.message,) if details.message else ()
            self.joined.errback(ApplicationError(details.reason or "wamp.error.canceled", *why))
        return super().on_leave(details)

    def on_disconnect(self) -> None:
        if not self.joined.called:
            self.joined.errback(TransportLost("the transport closed before the session joined"))


class _MemoryPipe:
    """Two protocols joined by in-memory transports: what one writes, the other
    receives in a later reactor turn, in order; closing either end closes both."""

    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor
        self.ends: list[_MemoryTransport] = []
        self._queue: deque[tuple[Protocol, bytes | None]] = deque()
        self._scheduled = False
        self.closed = False

    def join(self, first: Protocol, second: Protocol) -> None:
        a, b = _MemoryTransport(self, second), _MemoryTransport(self, first)
        self.ends = [a, b]
        first.makeConnection(a)  # type: ignore[no-untyped-call]
        second.makeConnection(b)  # type: ignore[no-untyped-call]

    def put(self, receiver: Protocol, data: bytes | None) -> None:
        """``data`` for ``receiver`` (None: close both ends, after what came before)."""
        self._queue.append((receiver, data))
        if not self._scheduled:
            self._scheduled = True
            self.reactor.callLater(0, self._deliver)

    def _deliver(self) -> None:
        self._scheduled = False
        while self._queue and not self.closed:
            receiver, data = self._queue.popleft()
            if data is None:
                self.closed = True
                for end in self.ends:
                    end.receiver.connectionLost(Failure(ConnectionDone()))  # type: ignore[no-untyped-call]
            else:
                receiver.dataReceived(data)
        self._queue.clear()


class _MemoryTransport:
    """One end of a :class:`_MemoryPipe` (the parts of ITransport the protocols use)."""

    disconnecting = False

    def __init__(self, pipe: _MemoryPipe, receiver: Protocol) -> None:
        self.pipe = pipe
        self.receiver = receiver  # the protocol at the other end
        self.producer: Any = None

    def write(self, data: bytes) -> None:
        if not self.disconnecting:
            self.pipe.put(self.receiver, bytes(data))

    def loseConnection(self) -> None:
        if not self.disconnecting:
            self.disconnecting = True
            self.pipe.put(self.receiver, None)

    abortConnection = loseConnection

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        self.producer = producer  # memory never fills up: it is never paused

    def unregisterProducer(self) -> None:
        self.producer = None
