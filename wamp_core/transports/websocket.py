"""The WAMP-over-WebSocket client transport, on wsproto.

wsproto does the HTTP upgrade and the RFC 6455 framing; this module adds what WAMP
needs on top: subprotocol negotiation (``wamp.2.<serializer>``), text or binary
messages by serializer, reassembly of fragmented messages under a size limit,
keep-alive pings, and a close handshake with a deadline.

wsproto draws the handshake nonce and the frame masks from ``os.urandom`` (RFC 6455
requires unpredictable masks); that is the only randomness, and it never changes what
the transport does, only the bytes it writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

import h11
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    Pong,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.utilities import ProtocolError as WsProtocolError

from wamp_core.exception import ProtocolError, TransportLost
from wamp_core.serializers import get_serializer
from wamp_core.transports.base import (
    ClientTransport,
    ClosedByPeer,
    HandshakeError,
    MessageReceived,
    MessageTooBig,
    MessageTooBigToSend,
    TransportState,
)

__all__ = ["WebSocketClientTransport"]

_NORMAL_CLOSE = frozenset((1000, 1001, 1005))  # 1005: the close frame gave no code
_CLOSE_MEANINGS = {
    1000: "normal closure",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1007: "invalid payload data",
    1008: "policy violation",
    1009: "message too big",
    1010: "mandatory extension",
    1011: "internal error",
    1012: "service restart",
    1013: "try again later",
    1014: "bad gateway",
}
# Codes an endpoint may put in a close frame (RFC 6455 section 7.4); 1005/1006/1015
# only describe a close locally.
_SENDABLE_CODES = frozenset((1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011))
_MAX_REASON = 123  # a close frame's payload is at most 125 bytes, 2 of them the code
_REJECT_BODY_LIMIT = 4096  # of a refused upgrade's body, kept for the error
# Headers the handshake itself sets; a second copy would break it.
_RESERVED_HEADERS = frozenset(
    (
        "host",
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-protocol",
        "sec-websocket-extensions",
    )
)

HeadersArg: TypeAlias = Mapping[str, str] | Sequence[tuple[str, str]] | None


def _utf8_len(text: str) -> int:
    # isascii() is O(1) in CPython, so the usual ASCII JSON costs no encoding.
    return len(text) if text.isascii() else len(text.encode())


def _describe(exc: Exception) -> str:
    # wsproto wraps h11's precise complaint as "Bad HTTP message"; keep both.
    cause = exc.__context__
    return f"{exc}: {cause}" if cause is not None else str(exc)


def _request_headers(headers: HeadersArg, origin: str | None) -> list[tuple[bytes, bytes]]:
    items = list(headers.items() if isinstance(headers, Mapping) else headers or ())
    if origin is not None:
        items.append(("Origin", origin))
    result = []
    for name, value in items:
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"header {name!r} is set by the WebSocket handshake itself")
        result.append((name.encode("ascii"), value.encode("latin-1")))
    return result


class WebSocketClientTransport(ClientTransport):
    """A WebSocket client offering ``wamp.2.<name>`` for each of ``serializers``.

    ``host`` is the Host header (``"example.com:8080"``); ``resource`` the request
    path. Incoming messages over ``max_message_size`` bytes fail the transport
    (close code 1009); ``max_outgoing_size`` (default: the same) bounds
    ``send_message``, since WebSocket does not tell us the router's limit. With
    ``ping_interval`` a ping is sent that long after opening / after the last
    answered ping; no pong within ``ping_timeout`` fails the transport (close code
    1011). ``close()`` waits ``close_timeout`` for the router's close frame.
    ``open_timeout`` bounds the wait for the HTTP response. ``now`` is the clock at
    construction (it starts ``open_timeout`` when ``auto_open``).
    """

    def __init__(
        self,
        host: str,
        resource: str = "/",
        *,
        serializers: Sequence[str] = ("json", "msgpack", "cbor"),
        headers: HeadersArg = None,
        origin: str | None = None,
        max_message_size: int = 16 * 1024 * 1024,
        max_outgoing_size: int | None = None,
        ping_interval: float | None = None,
        ping_timeout: float = 10.0,
        close_timeout: float = 5.0,
        open_timeout: float | None = None,
        auto_open: bool = True,
        now: float = 0.0,
    ):
        super().__init__(
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            open_timeout=open_timeout,
            now=now,
        )
        if not close_timeout > 0:
            raise ValueError(f"close_timeout must be a positive number, got {close_timeout!r}")
        if max_message_size < 1 or (max_outgoing_size is not None and max_outgoing_size < 1):
            raise ValueError("message size limits must be at least 1 byte")
        if not resource.startswith("/"):
            raise ValueError(f"resource must start with '/', got {resource!r}")
        self._offered = self._offer(serializers)
        self._host = host
        self._resource = resource
        self._extra_headers = _request_headers(headers, origin)
        self._max_in = max_message_size
        self._max_out = max_message_size if max_outgoing_size is None else max_outgoing_size
        self._close_timeout = close_timeout
        self._ws = WSConnection(ConnectionType.CLIENT)
        self._subprotocol: str | None = None
        self._binary = False
        self._response_headers: tuple[tuple[str, str], ...] = ()
        self._parts: list[Any] = []  # fragments of the message being received
        self._size = 0  # their size in bytes
        self._rejection: RejectConnection | None = None
        self._reject_body = bytearray()
        if auto_open:
            self.open()

    @staticmethod
    def _offer(serializers: Sequence[str]) -> dict[str, tuple[str, bool]]:
        """subprotocol -> (serializer name, binary?), in order of preference."""
        if isinstance(serializers, str) or not serializers:
            raise ValueError(f"serializers must be a non-empty list of names: {serializers!r}")
        offered: dict[str, tuple[str, bool]] = {}
        for spec in serializers:
            codec = get_serializer(spec)
            subprotocol = codec.subprotocol
            if subprotocol in offered:
                raise ValueError(f"serializer {spec!r} is listed twice")
            offered[subprotocol] = (subprotocol.removeprefix("wamp.2."), codec.BINARY)
        return offered

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the router chose (``"wamp.2.json"``); None before open."""
        return self._subprotocol

    @property
    def response_headers(self) -> tuple[tuple[str, str], ...]:
        """The router's 101 response headers (lower-case names), minus the handshake's own."""
        return self._response_headers

    @property
    def max_outgoing(self) -> int:
        return self._max_out

    # -- handshake --------------------------------------------------------------------

    def _send_handshake(self) -> None:
        request = Request(
            host=self._host,
            target=self._resource,
            subprotocols=list(self._offered),
            extra_headers=self._extra_headers,
        )
        try:
            self._out.append(self._ws.send(request))
        except (h11.LocalProtocolError, UnicodeError) as exc:
            raise ValueError(f"cannot build the WebSocket upgrade request: {exc}") from None

    def _on_accept(self, event: AcceptConnection) -> None:
        chosen = self._offered.get(event.subprotocol or "")
        if chosen is None:
            # wsproto already refuses a subprotocol we did not offer; WAMP also needs one.
            offered = ", ".join(self._offered)
            error = HandshakeError(f"the router chose no WAMP subprotocol (we offered {offered})")
            self._abort(error, 1002, "no WAMP subprotocol")
            return
        self._subprotocol = event.subprotocol
        self._binary = chosen[1]
        self._response_headers = tuple(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in event.extra_headers
        )
        self._opened(chosen[0], self._subprotocol, self._response_headers)

    def _on_reject(self, event: RejectConnection) -> None:
        self._rejection = event
        if not event.has_body:
            self._refused()

    def _on_reject_data(self, event: RejectData) -> None:
        room = _REJECT_BODY_LIMIT - len(self._reject_body)
        self._reject_body += event.data[:room]
        # Stop at the bound rather than wait for a body we would not keep.
        if event.body_finished or len(self._reject_body) >= _REJECT_BODY_LIMIT:
            self._refused()

    def _refused(self) -> None:
        self._abort(self._refusal())

    def _refusal(self) -> HandshakeError:
        rejection = self._rejection
        assert rejection is not None
        body = bytes(self._reject_body)
        text = f"the router refused the WebSocket upgrade: HTTP {rejection.status_code}"
        if body:
            text += f": {body[:200].decode('utf-8', 'replace')!r}"
        headers = tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in rejection.headers)
        return HandshakeError(text, status_code=rejection.status_code, headers=headers, body=body)

    def _open_timeout_error(self) -> Exception:
        if self._rejection is not None:  # refused, and the body is still coming
            return self._refusal()
        return super()._open_timeout_error()

    # -- receiving --------------------------------------------------------------------

    def _receive(self, data: bytes | bytearray | memoryview) -> None:
        ws = self._ws
        try:
            ws.receive_data(data if type(data) is bytes else bytes(data))
            for event in ws.events():
                _HANDLERS[type(event)](self, event)
                if self._state is TransportState.CLOSED:
                    return
        except WsProtocolError as exc:
            # Raised for a bad HTTP response (the handshake); framing errors come as
            # CloseConnection events instead.
            kind = HandshakeError if self._state is TransportState.OPENING else ProtocolError
            self._abort(kind(f"invalid WebSocket data from the router: {_describe(exc)}"))

    def _on_data(self, event: TextMessage | BytesMessage) -> None:
        data = event.data
        size = self._size + (_utf8_len(data) if isinstance(data, str) else len(data))
        if size > self._max_in:
            # Refused while still arriving: nothing past the limit is ever buffered.
            self._abort(MessageTooBig(size, self._max_in, at_least=True), 1009, "message too big")
            return
        if not event.message_finished:
            self._parts.append(data)
            self._size = size
            return
        if self._parts:
            self._parts.append(data)
            parts = self._parts
            data = "".join(parts) if isinstance(data, str) else b"".join(parts)
            self._parts = []
            self._size = 0
        self._events.append(MessageReceived(data if isinstance(data, str) else bytes(data)))

    def _on_ping(self, event: Ping) -> None:
        # wsproto can only answer while OPEN; once we sent our close frame the router
        # is waiting for its own close reply, not for a pong.
        if self._ws.state is ConnectionState.OPEN:
            self._out.append(self._ws.send(event.response()))

    def _on_pong(self, event: Pong) -> None:
        self._pong_received(bytes(event.payload))

    def _on_close(self, event: CloseConnection) -> None:
        code = int(event.code)
        reason = event.reason or ""
        ws_state = self._ws.state
        if ws_state is ConnectionState.REMOTE_CLOSING:  # the router started closing
            self._out.append(self._ws.send(event.response()))
            error = None
            if code not in _NORMAL_CLOSE:
                meaning = _CLOSE_MEANINGS.get(code, "application-defined")
                text = f"the router closed the WebSocket: {code} ({meaning}) {reason!r}"
                error = ClosedByPeer(text, code, reason)
            self._finish(code, reason, error, clean=True)
        elif ws_state is ConnectionState.CLOSED:  # the answer to our close frame
            self._finish(code, reason, None, clean=True)
        else:
            # wsproto turns a framing error into a CloseConnection event without
            # changing its state: the code (1002, 1007) is the one to send back.
            failure = ProtocolError(f"invalid WebSocket frame from the router: {reason}")
            self._abort(failure, code, reason)

    def _on_eof(self) -> None:
        if self._rejection is not None:  # a refusal whose body ends with the connection
            self._refused()
        elif self._state is TransportState.CLOSING:
            # We were closing anyway; the router just skipped its close frame.
            self._finish(1006, "", None, clean=False)
        elif self._state is TransportState.OPEN:
            text = "the router closed the TCP connection without a WebSocket close frame"
            self._finish(1006, "", TransportLost(text), clean=False)
        else:
            text = "the router closed the connection during the WebSocket opening handshake"
            self._finish(None, "", TransportLost(text), clean=False)

    # -- sending and closing ----------------------------------------------------------

    def _send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            if self._binary:
                raise TypeError(f"{self._subprotocol} sends binary messages: give bytes")
            self._check_size(_utf8_len(data))
            text = data
        else:
            self._check_size(len(data))
            if self._binary:
                self._out.append(self._ws.send(BytesMessage(data=data)))
                return
            try:
                text = bytes(data).decode()
            except UnicodeDecodeError as exc:
                raise ValueError(f"{self._subprotocol} sends text; not UTF-8: {exc}") from None
        self._out.append(self._ws.send(TextMessage(data=text)))

    def _check_size(self, size: int) -> None:
        if size > self._max_out:
            raise MessageTooBigToSend(
                f"message of {size} bytes is over the outgoing limit of {self._max_out}"
            )

    def _send_ping(self, payload: bytes) -> None:
        self._out.append(self._ws.send(Ping(payload=payload)))

    def _check_close(self, code: int, reason: str) -> None:
        if code not in _SENDABLE_CODES and not 3000 <= code <= 4999:
            raise ValueError(f"WebSocket close code {code} cannot be sent (1000-1011, 3000-4999)")
        if len(reason.encode()) > _MAX_REASON:
            raise ValueError(f"close reason over {_MAX_REASON} bytes of UTF-8")

    def _start_close(self, code: int, reason: str) -> None:
        self._out.append(self._ws.send(CloseConnection(code=code, reason=reason)))
        self._clear_deadlines()
        self._state = TransportState.CLOSING
        self._close_deadline = self._now + self._close_timeout

    def _abort(self, error: Exception, code: int | None = None, reason: str = "") -> None:
        if code is not None and self._ws.state is ConnectionState.OPEN:
            self._out.append(self._ws.send(CloseConnection(code=code, reason=reason)))
        self._finish(code, reason, error, clean=False)

    def _release(self) -> None:
        self._parts = []
        self._reject_body = bytearray()


_HANDLERS: dict[type[Event], Callable[[WebSocketClientTransport, Any], None]] = {
    TextMessage: WebSocketClientTransport._on_data,
    BytesMessage: WebSocketClientTransport._on_data,
    Ping: WebSocketClientTransport._on_ping,
    Pong: WebSocketClientTransport._on_pong,
    CloseConnection: WebSocketClientTransport._on_close,
    AcceptConnection: WebSocketClientTransport._on_accept,
    RejectConnection: WebSocketClientTransport._on_reject,
    RejectData: WebSocketClientTransport._on_reject_data,
}
