"""RouterConnection: a server transport, a serializer and the router's side of one
session, behind the same Sans-IO surface as the client's Connection.

States (``state``)::

    OPENING --transport open--> ESTABLISHING --WELCOME--> JOINED --GOODBYE--> ESTABLISHING
        (HELLO, CHALLENGE/AUTHENTICATE)        |  (the router's GOODBYE)
                                               +--------------------------> CLOSING
    any --ABORT either way, a violation, the transport closing--> CLOSED

A client that breaks the protocol gets ABORT ``wamp.error.protocol_violation`` and
its transport is closed; nobody else notices anything but its leaving. Output for
this connection is queued in the transport and the router is told
(``Router.take_writable``); the bytes queued between two ``data_to_send()`` are
bounded (``max_queued``): a peer that stops reading is cut off, not buffered for ever.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from wamp_core.exception import ProtocolError, TransportLost
from wamp_core.messages import Abort, Goodbye, Message
from wamp_core.router.acceptor import Acceptor, Admitted, TransportAuth
from wamp_core.router.session import EncodingCache, RouterSession
from wamp_core.serializers import Serializer, get_serializer
from wamp_core.transports import (
    MessageReceived,
    MessageTooBigToSend,
    TransportClosed,
    TransportEvent,
    TransportOpened,
)

if TYPE_CHECKING:
    from wamp_core.router.realm import Realm
    from wamp_core.router.router import Router

__all__ = [
    "CapacityReached",
    "CapacityRecovered",
    "ConnectionClosed",
    "ConnectionState",
    "MessageDropped",
    "RouterConnection",
    "RouterEvent",
    "ServerTransport",
    "SessionJoined",
    "SessionLeft",
]

PROTOCOL_VIOLATION = "wamp.error.protocol_violation"
# A client's GOODBYE is answered with this, as Crossbar.io answers it (the spec says
# wamp.close.goodbye_and_out): Autobahn's on_leave shows the answer's reason.
GOODBYE_REPLY = "wamp.close.normal"


class ServerTransport(Protocol):
    """What the connection needs of a server transport (RawSocket or WebSocket)."""

    @property
    def serializer(self) -> str | None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def has_data_to_send(self) -> bool: ...
    def receive_data(
        self, data: bytes | bytearray | memoryview, now: float | None = None
    ) -> None: ...
    def events(self) -> list[TransportEvent]: ...
    def data_to_send(self) -> bytes: ...
    def send_message(self, data: bytes | str) -> None: ...
    def frame_message(self, payload: bytes | str) -> bytes: ...
    def send_frame(self, frame: bytes, length: int) -> None: ...
    def close(self, *, now: float | None = None) -> None: ...
    def refuse(self) -> None: ...
    def next_deadline(self) -> float | None: ...
    def handle_timer(self, now: float) -> None: ...


class ConnectionState(enum.Enum):
    OPENING = "opening"
    ESTABLISHING = "establishing"
    JOINED = "joined"
    CLOSING = "closing"  # we said GOODBYE; waiting for the client's
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class SessionJoined:
    """A session was welcomed (one log line: never a secret here)."""

    session_id: int
    realm: str
    authid: str
    authrole: str
    authmethod: str
    authprovider: str


@dataclass(frozen=True, slots=True)
class SessionLeft:
    """A joined session ended: ``reason`` is the GOODBYE/ABORT URI, or why it was cut."""

    session_id: int
    realm: str
    authid: str
    reason: str


@dataclass(frozen=True, slots=True)
class MessageDropped:
    """A message was too big for this peer's announced limit and was not sent."""

    message: str
    size: int
    limit: str


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The connection ended (always the last event); ``error`` says why when not clean."""

    reason: str
    error: Exception | None


@dataclass(frozen=True, slots=True)
class CapacityReached:
    """The router serves ``limit`` connections and refuses the next ones (reported once,
    on the first refused connection, until :class:`CapacityRecovered`)."""

    limit: int


@dataclass(frozen=True, slots=True)
class CapacityRecovered:
    """Below the connection cap again: reported on the first connection accepted after
    :class:`CapacityReached`."""

    limit: int


RouterEvent = (
    SessionJoined
    | SessionLeft
    | MessageDropped
    | ConnectionClosed
    | CapacityReached
    | CapacityRecovered
)


class RouterConnection:
    """One client connection of the router. Built by :meth:`Router.connect`."""

    def __init__(
        self,
        router: Router,
        transport: ServerTransport,
        *,
        auth: TransportAuth | Callable[[str], TransportAuth],
        channel_id: bytes | None,
        transport_info: dict[str, Any] | None,
        max_queued: int,
    ) -> None:
        self.router = router
        self.transport = transport
        self._auth_choice = auth
        self.auth: TransportAuth = auth if isinstance(auth, Mapping) else {}
        self.channel_id = channel_id
        self.transport_info = dict(transport_info or {})
        self.max_queued = max_queued
        self.state = ConnectionState.OPENING
        self.session: RouterSession | None = None
        self.serializer: Serializer | None = None
        self._realm: Realm | None = None  # the session's, while joined
        self._frame_key = ""
        self._acceptor: Acceptor | None = None
        self._events: list[RouterEvent] = []
        self._queued = 0
        self._close_after_goodbye = False
        self._handle_transport()

    def __repr__(self) -> str:
        who = "" if self.session is None else f", session={self.session.id}"
        return f"RouterConnection(state={self.state.value}{who})"

    @property
    def closed(self) -> bool:
        return self.state is ConnectionState.CLOSED

    # -- the host's side --------------------------------------------------------------

    def receive_data(self, data: bytes | bytearray | memoryview, now: float | None = None) -> None:
        """Bytes from the client; ``b""`` when it closed the stream."""
        if now is not None:
            self.router.now = now
        if self.state is ConnectionState.CLOSED:
            return
        transport = self.transport
        transport.receive_data(data, now)
        # Listed for the host only if the transport answered by itself (handshake,
        # PONG, close frame) or closed: take_writable lists the connections that have
        # something to send, and a message's answers mark their own connections.
        if transport.has_data_to_send or transport.closed:
            self._mark()
        self._handle_transport()

    def data_to_send(self) -> bytes:
        self._queued = 0
        return self.transport.data_to_send()

    def events(self) -> list[RouterEvent]:
        events, self._events = self._events, []
        return events

    def next_deadline(self) -> float | None:
        return None if self.closed else self.transport.next_deadline()

    def handle_timer(self, now: float) -> None:
        self.router.now = now
        if self.state is ConnectionState.CLOSED:
            return
        self.transport.handle_timer(now)
        self._mark()
        self._handle_transport()

    def close(self) -> None:
        """Close at once (the host's decision): the session, if any, leaves."""
        if self.state is not ConnectionState.CLOSED:
            self.transport.close()
            self._mark()
            self._handle_transport()

    def shut_down(self, reason: str) -> None:
        """GOODBYE ``reason`` to the session and close once it answers; close at once
        when there is no session."""
        if self.state is ConnectionState.JOINED:
            self._close_after_goodbye = True
            self.kill(reason, None)
        elif self.state is ConnectionState.CLOSING:
            self._close_after_goodbye = True
        else:
            self.close()

    # -- the peer the realm writes to -------------------------------------------------

    def send(self, message: Message) -> None:
        if self.state is ConnectionState.CLOSED or self.serializer is None:
            return
        payload = self.serializer.encode(message)
        try:
            self.transport.send_message(payload)
        except MessageTooBigToSend as error:
            self._events.append(MessageDropped(message.NAME, len(payload), str(error)))
            return
        except TransportLost:
            return  # closing already: its session is on its way out of the realm
        # Counted and marked inline : once per message sent.
        self._queued += len(payload)
        self.router._writable[self] = None
        if self._queued > self.max_queued:
            self._cut_off()

    def send_shared(self, message: Message, cache: EncodingCache) -> None:
        if self.state is ConnectionState.CLOSED or self.serializer is None:
            return
        framed = cache.get(self._frame_key)
        if framed is None:
            payload = self.serializer.encode(message)
            framed = cache[self._frame_key] = (self.transport.frame_message(payload), len(payload))
        frame, length = framed
        try:
            self.transport.send_frame(frame, length)
        except MessageTooBigToSend as error:
            self._events.append(MessageDropped(message.NAME, length, str(error)))
            return
        except TransportLost:
            return
        self._queued += len(frame)
        self.router._writable[self] = None
        if self._queued > self.max_queued:
            self._cut_off()

    def fail(self, error: ProtocolError) -> None:
        if self.state is ConnectionState.JOINED:
            self._violation(error)

    def kill(self, reason: str, message: str | None) -> None:
        """The realm ends this session: GOODBYE, leave at once, wait for the answer."""
        if self.state is not ConnectionState.JOINED:
            return
        details = {} if message is None else {"message": message}
        self.send(Goodbye(reason, details))
        self._leave(reason)
        self.state = ConnectionState.CLOSING

    # -- what comes in ----------------------------------------------------------------

    def _handle_transport(self) -> None:
        for event in self.transport.events():
            if isinstance(event, MessageReceived):
                if self.state is not ConnectionState.CLOSED:
                    self._on_payload(event.data)
            elif isinstance(event, TransportOpened):
                self._on_open(event.serializer)
            else:  # TransportClosed, the last of the three kinds
                self._on_closed(event)

    def _on_open(self, serializer: str) -> None:
        choice = self._auth_choice
        if not isinstance(choice, Mapping):
            # Per WebSocket path (a Crossbar.io "web" transport): known now.
            self.auth = choice(getattr(self.transport, "path", ""))
        self.serializer = get_serializer(serializer)
        self._frame_key = f"{type(self.transport).__name__}/{serializer}"
        self._new_acceptor()

    def _new_acceptor(self) -> None:
        self.state = ConnectionState.ESTABLISHING
        self._acceptor = Acceptor(
            self.router,
            self.auth,
            send=self.send,
            done=self._admitted,
            channel_id=self.channel_id,
            transport=self.transport_info,
        )

    def _on_payload(self, data: bytes | str) -> None:
        assert self.serializer is not None
        try:
            messages = self.serializer.decode(data)
        except ProtocolError as error:
            self._violation(error)
            return
        for message in messages:
            if self.state is ConnectionState.CLOSED:
                return
            try:
                self._on_message(message)
            except ProtocolError as error:
                self._violation(error)
                return

    def _on_message(self, message: Message) -> None:
        kind = type(message)
        if kind is Abort:
            self._abort_received(message)  # type: ignore[arg-type]
        elif self.state is ConnectionState.JOINED:
            assert self.session is not None
            if kind is Goodbye:
                self._goodbye_received()
            else:
                assert self._realm is not None
                self._realm.receive(self.session, message, self.router.now)
        elif self.state is ConnectionState.ESTABLISHING:
            assert self._acceptor is not None
            if not self._acceptor.receive(message):
                raise ProtocolError(f"{message.NAME} before the session is established")
        elif self.state is ConnectionState.CLOSING and kind is Goodbye:
            if self._close_after_goodbye:
                self._close_transport()
            else:
                self._new_acceptor()
        # else CLOSING: what the client sent before it read our GOODBYE is ignored

    def _admitted(self, outcome: Admitted | Abort) -> None:
        self._acceptor = None
        if isinstance(outcome, Abort):
            self._close_transport()
            return
        accept = outcome.accept
        self.session = RouterSession(
            outcome.session_id,
            outcome.realm.name,
            self,
            authid=accept.authid,
            authrole=accept.authrole,
            authmethod=accept.authmethod,
            authprovider=accept.authprovider,
            authextra=accept.authextra,
            roles=outcome.roles,
            transport=self.transport_info,
        )
        self.state = ConnectionState.JOINED
        self._realm = outcome.realm
        outcome.realm.join(self.session)
        self._events.append(
            SessionJoined(
                outcome.session_id,
                outcome.realm.name,
                accept.authid,
                accept.authrole,
                accept.authmethod,
                accept.authprovider,
            )
        )

    def _goodbye_received(self) -> None:
        self.send(Goodbye(GOODBYE_REPLY))
        self._leave("wamp.close.normal")
        self._new_acceptor()

    def _abort_received(self, abort: Abort) -> None:
        self._leave(abort.reason)
        self._close_transport()

    def _violation(self, error: ProtocolError) -> None:
        if self.state in (ConnectionState.ESTABLISHING, ConnectionState.JOINED):
            self.send(Abort(PROTOCOL_VIOLATION, {"message": str(error)}))
        self._leave(PROTOCOL_VIOLATION)
        self._close_transport()

    # -- what goes out ----------------------------------------------------------------

    def _mark(self) -> None:
        self.router.mark_writable(self)

    def _cut_off(self) -> None:
        """The client does not read what we send: stop queuing for it, and close."""
        reason = f"the client stopped reading: more than {self.max_queued} bytes queued"
        self._leave("wamp.close.slow_consumer")
        self._finish(reason, ConnectionError(reason))
        self.transport.close()

    # -- the end ----------------------------------------------------------------------

    def _leave(self, reason: str) -> None:
        """The session (if joined) leaves its realm; the connection may go on."""
        if self._acceptor is not None:
            self._acceptor.cancel()
            self._acceptor = None
        session, self.session = self.session, None
        self._realm = None
        if session is None:
            return
        self.router.realms[session.realm].leave(session)
        self.router.release_session_id(session.id)
        self._events.append(SessionLeft(session.id, session.realm, session.authid, reason))

    def _close_transport(self) -> None:
        self.transport.close()
        self._mark()
        self._handle_transport()
        # A WebSocket closes with a handshake: the connection is over for the router
        # at once (the host drains the close frame and then closes the socket).
        self._finish("closed by the router", None)

    def _on_closed(self, event: TransportClosed) -> None:
        self._leave("wamp.close.transport_lost")
        self._finish(event.reason or "closed", event.error)

    def _finish(self, reason: str, error: Exception | None) -> None:
        if self.state is ConnectionState.CLOSED:
            return
        self.state = ConnectionState.CLOSED
        self._events.append(ConnectionClosed(reason, error))
        self.router.forget(self)
