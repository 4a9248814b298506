"""A scripted router peer: the router's side of one connection, driven by a test.

It speaks real bytes (RawSocket or WebSocket framing, any serializer), so a test
can drive a :class:`~wamp_core.connection.Connection` exactly as a socket would,
in bulk or one byte at a time, and script what the router answers::

    router = ScriptedRouter("rawsocket", "msgpack")
    conn = Connection.rawsocket("realm1", "msgpack")
    router.receive_data(conn.data_to_send())
    conn.receive_data(router.data_to_send())       # the handshake answer: HELLO follows
    router.receive_data(conn.data_to_send())
    hello = router.expect(Hello)
    router.send(Welcome(1, {"roles": {"dealer": {}}}))
    conn.receive_data(router.data_to_send())

It does not route anything by itself: the test decides every answer, which is
what makes wrong ids, wrong states, garbage and truncation easy to produce.
"""

from __future__ import annotations

from typing import Any, TypeVar

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Request,
    TextMessage,
)
from wsproto.events import Ping as WsPing

from wamp_core.messages import Message
from wamp_core.serializers import RAWSOCKET_IDS, get_serializer

__all__ = ["ScriptedRouter"]

M = TypeVar("M", bound=Message)


class ScriptedRouter:
    """The router's end of one transport; see the module docstring."""

    def __init__(
        self, transport: str = "rawsocket", serializer: str = "json", *, max_exponent: int = 15
    ):
        if transport not in ("rawsocket", "websocket"):
            raise ValueError(f"transport must be rawsocket or websocket, not {transport!r}")
        self.kind = transport
        self.codec = get_serializer(serializer)
        self.max_exponent = max_exponent
        self.open = False
        self.closed = False
        self._inbox: list[Message] = []
        self._raw_inbox: list[bytes | str] = []
        self._out = bytearray()
        self._buffer = bytearray()
        self._ws = WSConnection(ConnectionType.SERVER) if transport == "websocket" else None
        self._fragments: list[bytes | str] = []

    # ---- bytes from and to the client

    def receive_data(self, data: bytes) -> None:
        """Bytes from the client (``b""`` is nothing to read, not the end of the stream)."""
        if self.closed or not data:
            return
        if self._ws is not None:
            self._ws.receive_data(data)
            self._websocket_events()
        else:
            self._buffer += data
            self._rawsocket_frames()

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    # ---- what the client sent

    def received(self) -> list[Message]:
        """The client's messages so far, decoded and checked (drains)."""
        for payload in self._raw_inbox:
            self._inbox.extend(self.codec.decode(payload))
        self._raw_inbox.clear()
        out, self._inbox = self._inbox, []
        return out

    def expect(self, cls: type[M]) -> M:
        """The one message the client sent since the last look, which must be a ``cls``."""
        messages = self.received()
        if len(messages) != 1 or not isinstance(messages[0], cls):
            raise AssertionError(f"expected one {cls.__name__}, the client sent {messages!r}")
        return messages[0]

    # ---- what the router sends

    def send(self, *messages: Message) -> None:
        for message in messages:
            self.send_payload(self.codec.encode(message))

    def send_payload(self, payload: bytes | str) -> None:
        """One transport message with any content (e.g. garbage that does not decode).
        After the connection closed, nothing more is sent."""
        if self.closed:
            return
        if self._ws is not None:
            text = not self.codec.BINARY
            if text and isinstance(payload, bytes):
                payload = payload.decode("utf-8", "replace")
            self._out += self._ws.send(_ws_message(payload))
        else:
            data = payload.encode() if isinstance(payload, str) else payload
            self._out += len(data).to_bytes(4, "big") + data

    def send_bytes(self, data: bytes) -> None:
        """Bytes straight onto the stream: truncated frames, broken framing."""
        self._out += data

    def play(self, step: tuple[str, Any]) -> bool:
        """Do one step of :func:`~wamp_core.testing.strategies.router_steps`; True
        for "eof", which the test delivers as ``conn.receive_data(b"")``."""
        kind, value = step
        if kind == "message":
            self.send(value)
        elif kind == "payload":
            self.send_payload(value)
        elif kind == "bytes":
            self.send_bytes(value)
        else:
            return True
        return False

    def ping(self, payload: bytes = b"router") -> None:
        """A transport-level ping: the client must answer with a pong."""
        if self._ws is not None:
            self._out += self._ws.send(WsPing(payload))
        else:
            self._out += bytes([1]) + len(payload).to_bytes(3, "big") + payload

    def close(self, code: int = 1000, reason: str = "") -> None:
        """WebSocket: start the close handshake. RawSocket: nothing to send (EOF is the end)."""
        if self._ws is not None and not self.closed:
            self._out += self._ws.send(CloseConnection(code, reason))
        self.closed = True

    # ---- framing

    def _rawsocket_frames(self) -> None:
        buffer = self._buffer
        if not self.open:
            if len(buffer) < 4:
                return
            serializer_id = buffer[1] & 0x0F
            assert RAWSOCKET_IDS[serializer_id] == self.codec.NAME, (
                "client asked another serializer"
            )
            self._out += bytes([0x7F, (self.max_exponent << 4) | serializer_id, 0, 0])
            del buffer[:4]
            self.open = True
        while len(buffer) >= 4:
            kind, size = buffer[0] & 0x07, int.from_bytes(buffer[1:4], "big")
            if len(buffer) < 4 + size:
                return
            payload = bytes(buffer[4 : 4 + size])
            del buffer[: 4 + size]
            if kind == 0:
                self._raw_inbox.append(payload)
            elif kind == 1:  # PING: answer PONG with the same payload
                self._out += bytes([2]) + size.to_bytes(3, "big") + payload

    def _websocket_events(self) -> None:
        ws = self._ws
        assert ws is not None
        for event in ws.events():
            if isinstance(event, Request):
                offered = [p for p in event.subprotocols if p == self.codec.subprotocol]
                self._out += ws.send(AcceptConnection(subprotocol=offered[0] if offered else None))
                self.open = True
            elif isinstance(event, (TextMessage, BytesMessage)):
                data = event.data
                self._fragments.append(data if isinstance(data, str) else bytes(data))
                if event.message_finished:
                    parts, self._fragments = self._fragments, []
                    self._raw_inbox.append(parts[0][:0].join(parts))  # type: ignore[arg-type]
            elif isinstance(event, Ping):
                self._out += ws.send(event.response())
            elif isinstance(event, CloseConnection):
                self._out += ws.send(event.response())
                self.closed = True


def _ws_message(payload: bytes | str) -> TextMessage | BytesMessage:
    if isinstance(payload, str):
        return TextMessage(data=payload)
    return BytesMessage(data=payload)
