"""Drive a client session from the router's side, at the message level or through bytes.

The same session tests run through every harness: the message-level one (the
ClientSession alone) and the byte-level ones (a Connection over RawSocket or
WebSocket, with the router's bytes arriving in bulk or one byte at a time).
"""

from __future__ import annotations

from typing import Any, TypeVar

from wamp_core.connection import Connection
from wamp_core.events import SessionEvent
from wamp_core.messages import Hello, Message, Welcome
from wamp_core.session import ClientSession
from wamp_core.testing.router import ScriptedRouter
from wamp_core.transports import (
    ClientTransport,
    RawSocketClientTransport,
    TransportClosed,
    TransportOpened,
    WebSocketClientTransport,
)

M = TypeVar("M", bound=Message)
E = TypeVar("E")

ROUTER_FEATURES = {
    "progressive_call_results": True,
    "progressive_call_invocations": True,
    "call_canceling": True,
    "call_timeout": True,
    "caller_identification": True,
    "pattern_based_registration": True,
    "shared_registration": True,
    "registration_revocation": True,
    "payload_passthru_mode": True,
    "publisher_identification": True,
    "subscriber_blackwhite_listing": True,
    "publisher_exclusion": True,
    "pattern_based_subscription": True,
    "subscription_revocation": True,
    "event_retention": True,
}
ROUTER_ROLES = {
    "dealer": {"features": ROUTER_FEATURES},
    "broker": {"features": ROUTER_FEATURES},
}


class MessageHarness:
    """The ClientSession alone: the router's messages go straight in."""

    name = "messages"

    def __init__(self, **session_options: Any):
        self.session = ClientSession("realm1", **session_options)
        self._events: list[SessionEvent] = []

    def start(self, now: float = 0.0) -> None:
        """Open the transport (nothing to do here) and send HELLO."""
        self.session.join(now=now)

    def deliver(self, *messages: Message, now: float | None = None) -> None:
        for message in messages:
            self.session.receive_message(message, now=now)

    def sent(self) -> list[Message]:
        return self.session.messages_to_send()

    def events(self) -> list[SessionEvent]:
        return self.session.events()

    def timer(self, now: float) -> None:
        self.session.handle_timer(now)

    def next_deadline(self) -> float | None:
        return self.session.next_deadline()

    def lose_transport(self) -> None:
        self.session.transport_lost(None)

    # ---- helpers the tests share

    def expect(self, cls: type[M]) -> M:
        """The one message the client sent, which must be a ``cls``."""
        (message,) = self.sent()
        assert isinstance(message, cls), message
        return message

    def event(self, cls: type[E]) -> E:
        (event,) = self.events()
        assert isinstance(event, cls), event
        return event

    def join(self, roles: dict[str, Any] | None = None, session_id: int = 4242) -> Hello:
        """Open, send HELLO, deliver WELCOME; return the HELLO."""
        self.start()
        hello = self.expect(Hello)
        self.deliver(Welcome(session_id, {"roles": roles or ROUTER_ROLES, "authid": "anon"}))
        self.events()
        return hello


class ByteHarness(MessageHarness):
    """A Connection over real framing; the router's bytes in bulk or one at a time."""

    def __init__(self, transport: str, serializer: str, bytewise: bool, **session_options: Any):
        self.name = f"{transport}-{serializer}-{'bytewise' if bytewise else 'bulk'}"
        self.router = ScriptedRouter(transport, serializer)
        client: ClientTransport = (
            RawSocketClientTransport(serializer)
            if transport == "rawsocket"
            else WebSocketClientTransport("localhost:8080", "/ws", serializers=[serializer])
        )
        self.conn = Connection(client, ClientSession("realm1", **session_options))
        self.session = self.conn.session
        self.bytewise = bytewise

    def _to_client(self, data: bytes, now: float | None) -> None:
        if self.bytewise:
            for index in range(len(data)):
                self.conn.receive_data(data[index : index + 1], now)
        else:
            self.conn.receive_data(data, now)

    def start(self, now: float = 0.0) -> None:
        """The transport handshake; the Connection sends HELLO when it completes.
        On a transport that is open already: join again."""
        if self.conn.transport.is_open:
            self.session.join(now=now)
            return
        self.router.receive_data(self.conn.data_to_send())
        self._to_client(self.router.data_to_send(), now)
        opened = [e for e in self.conn.events() if isinstance(e, TransportOpened)]
        assert len(opened) == 1

    def deliver(self, *messages: Message, now: float | None = None) -> None:
        for message in messages:
            self.router.send(message)
            self._to_client(self.router.data_to_send(), now)

    def sent(self) -> list[Message]:
        self.router.receive_data(self.conn.data_to_send())
        return self.router.received()

    def events(self) -> list[SessionEvent]:
        return [
            e for e in self.conn.events() if not isinstance(e, (TransportOpened, TransportClosed))
        ]

    def timer(self, now: float) -> None:
        self.conn.handle_timer(now)

    def next_deadline(self) -> float | None:
        return self.conn.next_deadline()

    def lose_transport(self) -> None:
        self.conn.receive_data(b"")


HARNESSES = [
    "messages",
    "rawsocket-json-bulk",
    "rawsocket-msgpack-bytewise",
    "rawsocket-cbor-bulk",
    "websocket-json-bytewise",
    "websocket-msgpack-bulk",
    "websocket-cbor-bytewise",
]


def build_harness(kind: str, **session_options: Any) -> MessageHarness:
    """A harness by name: "messages", or "<transport>-<serializer>-<bulk|bytewise>"."""
    if kind == "messages":
        return MessageHarness(**session_options)
    transport, serializer, feeding = kind.split("-")
    return ByteHarness(transport, serializer, feeding == "bytewise", **session_options)
