"""The Twisted protocol around one ``wamp_core.Connection``.

:class:`WampProtocol` is the ``Host`` of ``wamp_core.application.SessionCore``:
``dataReceived`` feeds the Connection, its events go through the core (which
calls back here to settle Deferreds, run endpoints and deliver events), what the
Connection queued is written, and one ``IDelayedCall`` follows ``next_deadline()``.

Invocations run through ``maybeDeferred`` (coroutines through ``ensureDeferred``);
INTERRUPT cancels their Deferred. Events reach each handler in publication order:
a plain function runs inline; a handler that returns a Deferred (or a coroutine)
holds back that handler's later events until it has finished.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from typing import Protocol as TypingProtocol

from twisted.internet import defer
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IHandshakeListener
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer  # type: ignore[import-untyped]

from wamp_core.application import Endpoint, ErrorMapper, Handler, SessionCore, SessionEvent
from wamp_core.application.connect import build_connection
from wamp_core.application.url import TransportUrl
from wamp_core.connection import DISPATCH_CHUNK, Connection
from wamp_core.exception import ApplicationError, TransportLost
from wamp_core.transports import TransportOpened

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "ProtocolSession",
    "RequestDeferred",
    "WampClientFactory",
    "WampProtocol",
    "call_deferred",
    "tls_unique",
]

log = Logger(namespace="wamp_twisted")

# The protocol's tables start as this shared empty dict; only the places that add to
# a table check for it (reads, pops and clears of an empty dict change nothing).
_EMPTY: dict[Any, Any] = {}


class Clock(TypingProtocol):
    """What the protocol needs of the reactor (``Clock``; ``task.Clock`` in tests)."""

    def seconds(self) -> float: ...
    def callLater(self, delay: float, f: Callable[..., Any], /, *args: Any) -> Any: ...


class Timer(TypingProtocol):
    """An ``IDelayedCall``."""

    def getTime(self) -> float: ...
    def active(self) -> bool: ...
    def cancel(self) -> None: ...
    def reset(self, delay: float) -> None: ...


def call_deferred(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
    """Call a plain function, an inlineCallbacks function or a coroutine function;
    the Deferred of its outcome."""
    try:
        value = fn(*args, **kwargs)
    except BaseException:
        return defer.fail()
    return as_deferred(value)


def as_deferred(value: Any) -> defer.Deferred[Any]:
    """What a function returned, as a Deferred (a coroutine runs with ensureDeferred)."""
    if isinstance(value, defer.Deferred):
        return value
    if inspect.iscoroutine(value):
        return defer.ensureDeferred(value)
    if inspect.isawaitable(value):
        return defer.Deferred.fromFuture(value)  # type: ignore[arg-type]
    return defer.succeed(value)


def _no_delay(transport: Any) -> None:
    """Nagle's algorithm off (TCP_NODELAY) on a TCP connection, as Autobahn's clients
    set it: with it on, a small message written while an earlier one is unacknowledged
    waits for the peer's delayed ACK (~40 ms on Linux). TLS passes the call on to the
    TCP transport below; a Unix socket has no such option (Twisted would log an error),
    nor has a test's in-memory transport."""
    set_no_delay = getattr(transport, "setTcpNoDelay", None)
    if set_no_delay is not None and isinstance(transport.getHost(), (IPv4Address, IPv6Address)):
        set_no_delay(True)


def tls_unique(transport: Any) -> bytes | None:
    """The tls-unique channel binding (RFC 5929) of a TLS transport, or None.

    It is the first Finished message of the latest handshake: ours in a full
    handshake. Twisted clients do not resume TLS sessions (and pyOpenSSL cannot tell
    if one was), so this is ``get_finished()``: what Python's ssl module gives a client
    (wamp_anyio) and what Crossbar takes from its side (``get_peer_finished()``)."""
    get_handle = getattr(transport, "getHandle", None)
    if get_handle is None:
        return None
    try:
        finished = get_handle().get_finished()
    except Exception:  # not a pyOpenSSL connection: no channel binding
        return None
    return finished if isinstance(finished, bytes) else None


class ProtocolSession(TypingProtocol):
    """What the protocol needs of the session it runs (``wamp_twisted.session.Session``).
    A Protocol, so that the dependency goes one way: the session module uses this
    one, this one never imports the session module."""

    def attach_protocol(self, proto: WampProtocol[Self]) -> None: ...
    def detach_protocol(self, proto: WampProtocol[Self]) -> None: ...
    def report_user_error(self, error: BaseException, text: str) -> None: ...
    def handle_session_event(self, event: SessionEvent) -> None: ...


SessionT = TypeVar("SessionT", bound=ProtocolSession)


class RequestDeferred(defer.Deferred[Any]):
    """The Deferred of one request. For a call, ``Session.call`` sets ``call_id`` and
    ``cancel_mode`` and ``cancel()`` sends CANCEL: the application gets the very
    Deferred the core settles (no second Deferred relaying it, on the hot path)."""

    call_id: int | None = None
    cancel_mode = "kill"


class _Chain:
    """One handler's events that wait while an earlier one still runs."""

    __slots__ = ("busy", "dropped", "queue")

    def __init__(self) -> None:
        self.queue: deque[tuple[tuple[Any, ...], dict[str, Any]]] = deque()
        self.busy = False
        self.dropped = False


@implementer(IHandshakeListener)
class WampProtocol(Protocol, Generic[SessionT]):
    """One WAMP transport: see the module docstring. Over TLS, the handshake gives
    the session its channel binding (for cryptosign/SCRAM channel binding)."""

    def __init__(
        self,
        session: SessionT,
        connection: Connection,
        reactor: Clock,
        errors: ErrorMapper | None = None,
    ):
        self.session = session
        self.connection = connection
        self.reactor = reactor
        self.core: SessionCore[RequestDeferred] = SessionCore(connection, self, errors)
        self._lost: defer.Deferred[None] | None = None  # made when first asked for
        self.is_lost = False
        self.opened = False  # the WAMP transport's opening handshake completed
        # Why the connection failed before the transport opened (a TLS handshake
        # error, a reset): for the runner, that is a connection error.
        self.open_error: BaseException | None = None
        self._timer: Timer | None = None
        self._pumping = False
        self._again = False
        self._closing = False
        # Shared empty tables until their first entry (the places that add check):
        # an idle session owns none (issue 15).
        self._invocations: dict[int, defer.Deferred[Any]] = _EMPTY
        self._semaphores: dict[int, defer.DeferredSemaphore] = _EMPTY
        self._chains: dict[int, _Chain] = _EMPTY
        # One bound method for every request's Deferred (not a new one per request),
        # made at the first request (an idle session has none).
        self._canceller: Callable[[defer.Deferred[Any]], None] | None = None

    @property
    def lost(self) -> defer.Deferred[None]:
        """Fires (with None) once the connection is gone: what the runner awaits."""
        if self._lost is None:
            self._lost = defer.Deferred()
        return self._lost

    # ---- IProtocol

    def connectionMade(self) -> None:
        _no_delay(self.transport)
        self.session.attach_protocol(self)
        self.pump()  # the opening handshake

    def handshakeCompleted(self) -> None:
        """TLS is up (IHandshakeListener): bind authentication to this channel. The
        router's CHALLENGE cannot come before this, as no data does."""
        self.connection.session.channel_id = tls_unique(self.transport)

    def dataReceived(self, data: bytes) -> None:
        if not data:
            return
        connection = self.connection
        now = self.reactor.seconds()
        if len(data) <= DISPATCH_CHUNK:
            connection.receive_data(data, now)  # positional: cheaper compiled
            self.pump()
            return
        # A big read is handled slice by slice (see DISPATCH_CHUNK: the GC's cost).
        for start in range(0, len(data), DISPATCH_CHUNK):
            if connection.closed:
                break  # what came after the end is nobody's any more
            connection.receive_data(data[start : start + DISPATCH_CHUNK], now)
            self.pump()

    def connectionLost(self, reason: Failure | None = None) -> None:
        if self.is_lost:
            return
        self.is_lost = True
        error = reason.value if reason is not None else None
        # A clean close is not an error; any other end before the transport opened is.
        if (
            not self.opened
            and isinstance(error, Exception)
            and not isinstance(error, ConnectionDone)
        ):
            self.open_error = error
        if not self.connection.closed:
            self.connection.receive_data(b"", now=self.reactor.seconds())
        self.pump()
        self._finish()

    def _finish(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        self.core.fail_waiters(TransportLost("the transport closed"))
        for invocation in list(self._invocations.values()):
            invocation.cancel()
        for chain in self._chains.values():
            chain.dropped = True
            chain.queue.clear()
        self._chains.clear()
        self.session.detach_protocol(self)
        if self._lost is None:
            self._lost = defer.succeed(None)
        else:
            self._lost.callback(None)

    # ---- the loop: events in, bytes out, the one timer

    def pump(self) -> None:
        """Dispatch the connection's events, write its bytes, re-arm the timer."""
        if self._pumping:
            self._again = True  # the running pump goes round once more
            return
        self._pumping = True
        self.core.batching = True  # what handle() makes, the loop below writes
        connection = self.connection
        try:
            while True:
                self._again = False
                events = connection.events()
                if events:
                    self.core.handle(events)
                if connection.has_data_to_send:
                    data = connection.data_to_send()
                    transport: Any = self.transport
                    if data and transport is not None and not self.is_lost:
                        transport.write(data)
                    continue  # writing can close the transport: its events come next
                if not events and not self._again:
                    break  # a round that found nothing to do
        finally:
            self._pumping = False
            self.core.batching = False
        self._arm()
        if connection.closed and not self._closing and self.transport is not None:
            self._closing = True
            self._lose()

    def _lose(self) -> None:
        transport: Any = self.transport
        transport.loseConnection()

    def _arm(self) -> None:
        if self.is_lost:
            return
        deadline = self.connection.next_deadline()
        timer = self._timer
        if deadline is None:
            if timer is not None and timer.active():
                timer.cancel()
            self._timer = None
            return
        delay = max(0.0, deadline - self.reactor.seconds())
        if timer is not None and timer.active():
            if timer.getTime() != deadline:
                timer.reset(delay)
            return
        self._timer = self.reactor.callLater(delay, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self.connection.handle_timer(self.reactor.seconds())
        self.pump()

    def close(self) -> None:
        """Close the connection now: a session still open ends with TransportLost."""
        if not self.connection.closed:
            self.connection.close()
        self.pump()

    # ---- Host: futures and flushing

    def create_future(self) -> RequestDeferred:
        canceller = self._canceller
        if canceller is None:
            canceller = self._canceller = self._cancel_request
        return RequestDeferred(canceller)

    def _cancel_request(self, request: defer.Deferred[Any]) -> None:
        """The application canceled a request's Deferred: a call sends CANCEL (other
        requests just stop being waited for)."""
        if isinstance(request, RequestDeferred) and request.call_id is not None:
            self.core.cancel(request.call_id, request.cancel_mode, abandon=True)

    def resolve(self, future: defer.Deferred[Any], value: Any) -> None:
        if not future.called:
            future.callback(value)

    def reject(self, future: defer.Deferred[Any], error: BaseException) -> None:
        if not future.called:
            future.errback(error)

    def flush(self) -> None:
        if self._pumping:  # pump()'s own test, without its call: a request made by a
            self._again = True  # callback of the running pump (the hot path)
            return
        self.pump()

    def user_error(self, error: BaseException, text: str) -> None:
        self.session.report_user_error(error, text)

    def session_event(self, event: SessionEvent) -> None:
        if isinstance(event, TransportOpened):
            self.opened = True
        self.session.handle_session_event(event)

    # ---- Host: invocations

    def start_invocation(
        self, request_id: int, endpoint: Endpoint, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        limit = endpoint.concurrency
        if limit is None:
            running = call_deferred(endpoint.fn, *args, **kwargs)
        else:
            key = endpoint.registration.id if endpoint.registration else 0
            semaphore = self._semaphores.get(key)
            if semaphore is None:
                if self._semaphores is _EMPTY:
                    self._semaphores = {}
                semaphore = self._semaphores[key] = defer.DeferredSemaphore(limit)
            running = semaphore.run(call_deferred, endpoint.fn, *args, **kwargs)
        if not running.called:
            if self._invocations is _EMPTY:
                self._invocations = {}
            self._invocations[request_id] = running
        running.addCallbacks(
            self._returned,
            self._raised,
            callbackArgs=(request_id,),
            errbackArgs=(request_id, endpoint),
        )

    def _returned(self, value: Any, request_id: int) -> None:
        self._invocations.pop(request_id, None)
        self.core.invocation_returned(request_id, value)

    def _raised(self, failure: Failure, request_id: int, endpoint: Endpoint) -> None:
        self._invocations.pop(request_id, None)
        error = failure.value
        if isinstance(error, defer.CancelledError):
            self.core.invocation_canceled(request_id)
            return
        assert isinstance(error, BaseException)
        if not isinstance(error, ApplicationError):  # an ApplicationError is an answer
            log.info(
                "procedure {procedure} raised {error!r}", procedure=endpoint.procedure, error=error
            )
        self.core.invocation_raised(request_id, error)

    def cancel_invocation(self, request_id: int) -> None:
        running = self._invocations.pop(request_id, None)
        if running is not None:
            running.cancel()

    # ---- Host: events, in order per handler

    def deliver_event(
        self, handler: Handler, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        chain = self._chains.get(id(handler))
        if chain is None:
            # The common case, inline: a handler that has never left work running.
            try:
                value = handler.fn(*args, **kwargs)
            except BaseException as error:
                self._handler_raised(error, handler)
                return
            if value is not None:
                self._follow(value, handler, None)
        elif chain.busy or chain.queue:
            chain.queue.append((args, kwargs))  # after the events still waiting
        else:
            self._run_handler(handler, args, kwargs, chain)

    def _run_handler(
        self, handler: Handler, args: tuple[Any, ...], kwargs: dict[str, Any], chain: _Chain | None
    ) -> bool:
        """Run the handler on one event; True if what it returned still runs (which
        holds back its later events). A plain function costs no Deferred."""
        try:
            value = handler.fn(*args, **kwargs)
        except BaseException as error:
            self._handler_raised(error, handler)
            return False
        if value is None:
            return False
        return self._follow(value, handler, chain)

    def _follow(self, value: Any, handler: Handler, chain: _Chain | None) -> bool:
        """Watch what a handler returned (a Deferred or coroutine): True while it still
        runs, which holds back the handler's later events."""
        running = as_deferred(value)
        running.addErrback(self._handler_failed, handler)
        if running.called:
            return False
        if chain is None:
            if self._chains is _EMPTY:
                self._chains = {}
            chain = self._chains[id(handler)] = _Chain()
        chain.busy = True
        running.addBoth(self._handler_done, chain, handler)
        return True

    def _drain(self, chain: _Chain, handler: Handler) -> None:
        """Run the handler's waiting events in order, until one keeps it busy."""
        while chain.queue and not chain.dropped:
            args, kwargs = chain.queue.popleft()
            if self._run_handler(handler, args, kwargs, chain):
                return

    def _handler_done(self, _: Any, chain: _Chain, handler: Handler) -> None:
        chain.busy = False
        self._drain(chain, handler)

    def _handler_failed(self, failure: Failure, handler: Handler) -> None:
        error = failure.value
        assert isinstance(error, BaseException)
        self._handler_raised(error, handler)

    def _handler_raised(self, error: BaseException, handler: Handler) -> None:
        self.session.report_user_error(error, f"event handler for {handler.topic} raised")

    def drop_handler(self, handler: Handler) -> None:
        chain = self._chains.pop(id(handler), None)
        if chain is not None:
            chain.dropped = True
            chain.queue.clear()


class WampClientFactory(Factory, Generic[SessionT]):
    """Builds a WampProtocol (with a fresh Connection and session) per connection."""

    noisy = False

    def __init__(
        self,
        make: Callable[[], SessionT],
        target: TransportUrl,
        realm: str,
        reactor: Clock,
        **connection_options: Any,
    ):
        self.make = make
        self.target = target
        self.realm = realm
        self.reactor = reactor
        self.connection_options = connection_options
        self.session: SessionT | None = None

    def buildProtocol(self, addr: Any) -> WampProtocol[SessionT]:
        connection = build_connection(
            self.target, self.realm, now=self.reactor.seconds(), **self.connection_options
        )
        connection.auto_join = False  # the session's on_connect joins
        session = self.make()
        self.session = session
        proto = WampProtocol(session, connection, self.reactor)
        proto.factory = self
        return proto
