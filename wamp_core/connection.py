"""Connection: a transport, a serializer and a client session behind one object.

This is all an adapter drives::

    conn = Connection.rawsocket("realm1", serializer="msgpack")
    sock.sendall(conn.data_to_send())          # handshake (HELLO follows the router's answer)
    while not conn.closed:
        conn.receive_data(sock.recv(65536), now=clock())   # b"" on EOF
        for event in conn.events():
            ...                                  # Joined, Result, Invocation, Event, Left, ...
        sock.sendall(conn.data_to_send())
        # and call conn.handle_timer(clock()) at conn.next_deadline()

Requests go to ``conn.session`` (``conn.session.call(...)``); their messages leave
with the next ``data_to_send()``. Bytes that do not decode to a valid message are a
protocol violation: the session sends ABORT, fails everything pending, and the
transport is closed after the ABORT.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from wamp_core.auth import Authenticator
from wamp_core.events import SessionEvent
from wamp_core.exception import ProtocolError, TransportLost
from wamp_core.messages import Message
from wamp_core.serializers import Serializer, get_serializer
from wamp_core.session import ClientSession, SessionState
from wamp_core.transports import (
    ClientTransport,
    MessageReceived,
    MessageTooBigToSend,
    RawSocketClientTransport,
    TransportClosed,
    TransportOpened,
    WebSocketClientTransport,
)

__all__ = ["DISPATCH_CHUNK", "Connection", "ConnectionEvent"]

DISPATCH_CHUNK: Final = 4096
"""Hosts feed a bigger read in slices of this many bytes and take the events after
each. Every message decoded but not yet handled holds a few objects that Python's
cyclic GC tracks; a 64 KiB read of small messages holds thousands, enough to start
collections that walk them and promote them to older generations (and so bring on
full collections of the whole heap): that cost as much as everything else here. A
slice holds at most about 150 messages: their objects are freed before the GC's
threshold (700 net allocations) is reached, as in a loop that handles each message
as it decodes it."""

ConnectionEvent = SessionEvent | TransportOpened | TransportClosed


class Connection:
    """Bytes in, events out; requests in, bytes out. See the module docstring."""

    def __init__(
        self,
        transport: ClientTransport,
        session: ClientSession,
        *,
        auto_join: bool = True,
        strict_uris: bool = False,
    ):
        self.transport = transport
        self.session = session
        self.auto_join = auto_join
        self.strict_uris = strict_uris
        self.serializer: Serializer | None = None
        self._events: list[ConnectionEvent] = []
        self._now = 0.0
        self._process_transport()

    # ---- construction for the usual cases

    @classmethod
    def rawsocket(
        cls,
        realm: str,
        serializer: str = "msgpack",
        *,
        max_message_size: int = 16 * 1024 * 1024,
        **session_options: Any,
    ) -> Connection:
        transport = RawSocketClientTransport(serializer, max_message_size=max_message_size)
        return cls(transport, _session(realm, session_options))

    @classmethod
    def websocket(
        cls,
        realm: str,
        host: str,
        resource: str = "/",
        *,
        serializers: Sequence[str] = ("cbor", "msgpack", "json"),
        headers: Mapping[str, str] | None = None,
        origin: str | None = None,
        max_message_size: int = 16 * 1024 * 1024,
        ping_interval: float | None = None,
        ping_timeout: float = 10.0,
        **session_options: Any,
    ) -> Connection:
        transport = WebSocketClientTransport(
            host,
            resource,
            serializers=serializers,
            headers=headers,
            origin=origin,
            max_message_size=max_message_size,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
        )
        return cls(transport, _session(realm, session_options))

    # ---- input

    def receive_data(self, data: bytes | bytearray | memoryview, now: float | None = None) -> None:
        """Bytes from the router; ``b""`` means the router closed the stream."""
        if now is not None:
            self._now = self.session.now = now
        self.transport.receive_data(data, now)
        self._process_transport()

    def handle_timer(self, now: float) -> None:
        self._now = now
        self.transport.handle_timer(now)
        self.session.handle_timer(now)
        self._process_transport()
        self._collect()

    # ---- output

    def data_to_send(self) -> bytes:
        """All bytes queued for the router (drains): the session's messages, framed."""
        session = self.session
        if self.transport.is_open:
            send = self.transport.send_message
            for payload in session.messages_to_send():
                send(payload)
            if session.state is SessionState.FAILED:
                # The spec: after a protocol violation, drop the transport (after the ABORT).
                self.transport.close(1002, "WAMP protocol violation", now=self._now)
                self._process_transport()
        self._collect()
        return self.transport.data_to_send()

    @property
    def has_data_to_send(self) -> bool:
        """Whether ``data_to_send()`` would return something (cheap: no encoding)."""
        return self.session.has_messages_to_send or self.transport.has_data_to_send

    def events(self) -> list[ConnectionEvent]:
        """What happened, oldest first (drains): transport and session events."""
        self._collect()
        out, self._events = self._events, []
        return out

    def next_deadline(self) -> float | None:
        transport_due = self.transport.next_deadline()
        session_due = self.session.next_deadline()
        if transport_due is None:
            return session_due
        if session_due is None or transport_due <= session_due:
            return transport_due
        return session_due

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the transport. A session still open ends now, with TransportLost:
        nothing can be sent any more while the close handshake runs."""
        if self.transport.is_open:  # what the session queued still leaves (an ABORT, ...)
            send = self.transport.send_message
            for payload in self.session.messages_to_send():
                send(payload)
        self.session.transport_lost(TransportLost(f"the connection was closed ({code})"))
        self.transport.close(code, reason, now=self._now)
        self._process_transport()

    @property
    def closed(self) -> bool:
        return self.transport.closed

    # ---- inside

    def _process_transport(self) -> None:
        events = self.transport.events()
        if not events:
            return
        session = self.session
        for event in events:
            if type(event) is MessageReceived:  # the hot path: one WAMP message (or a batch)
                serializer = self.serializer
                assert serializer is not None  # messages come only after TransportOpened
                try:
                    messages = serializer.decode(event.data)
                except ProtocolError as exc:
                    self.session.protocol_violation(str(exc))
                    continue
                for message in messages:
                    session.receive_message(message)  # a direct call when compiled
            elif type(event) is TransportOpened:
                self._opened(event)
            else:
                assert type(event) is TransportClosed
                self.session.transport_lost(event.error or TransportLost(event.reason or "closed"))
                self._collect()
                self._events.append(event)

    def _opened(self, event: TransportOpened) -> None:
        self.serializer = get_serializer(event.serializer, strict_uris=self.strict_uris)
        self.session.encoder = self._encode
        self._events.append(event)
        if self.auto_join:
            self.session.join(now=self._now)

    def _encode(self, message: Message) -> bytes:
        """The session encodes each message as it is made, so that a payload too big
        for the router fails the request that made it, and nothing else."""
        assert self.serializer is not None
        payload = self.serializer.encode(message)
        limit = self.transport.max_outgoing
        if len(payload) > limit:
            raise MessageTooBigToSend(
                f"{message.NAME} of {len(payload)} bytes exceeds the router's limit ({limit} bytes)"
            )
        return payload

    def _collect(self) -> None:
        session_events = self.session.events()
        if session_events:
            self._events.extend(session_events)


def _session(realm: str, options: dict[str, Any]) -> ClientSession:
    authenticators: Sequence[Authenticator] = options.pop("authenticators", ())
    return ClientSession(realm, authenticators=authenticators, **options)
