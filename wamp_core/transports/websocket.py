"""The WAMP-over-WebSocket transport (RFC 6455): what both ends share
(``WebSocketTransport``) and the client; the server is ``websocket_server``.

h11 writes the client's HTTP upgrade request and parses the answer (``_wshandshake``);
the framing is done here, with what WAMP needs on top: subprotocol negotiation
(``wamp.2.<serializer>``), text or binary messages by serializer, reassembly of
fragmented messages under a size limit (checked on each frame header, before its
payload is stored), keep-alive pings, and a close handshake with a deadline.

Frames from the peer are parsed straight out of the received bytes (a client's
unmasked on the way); only an incomplete frame is kept for the next call. Everything
a peer may get wrong fails the connection with the close code RFC 6455 names: 1002
for framing (masked frames from a server, unmasked ones from a client, reserved
bits, unknown opcodes, fragmented or long control frames, continuations out of
order, lengths not minimally encoded, bad close codes), 1007 for text that is not
UTF-8, 1009 for a message over the limit.

Randomness (the handshake key, the frame masks RFC 6455 requires to be
unpredictable) comes from the ``random_bytes`` source passed in.
"""

from __future__ import annotations

import base64
import secrets
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Final

import h11

from wamp_core.exception import ProtocolError, TransportLost
from wamp_core.transports._wsframe import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    MaskSource,
    RandomBytes,
    close_payload,
    frame,
    mask,
    receivable_close_code,
    unmask_run,
)
from wamp_core.transports._wshandshake import (
    HeadersArg,
    build_request,
    check_upgrade,
    request_headers,
    shared_subprotocols,
)
from wamp_core.transports.base import (
    ClosedByPeer,
    HandshakeError,
    MessageReceived,
    MessageTooBig,
    Transport,
    TransportState,
)

__all__ = ["SENDABLE_CLOSE_CODES", "WebSocketClientTransport", "WebSocketTransport"]

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
SENDABLE_CLOSE_CODES = frozenset((1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011))
_MAX_REASON = 123  # a close frame's payload is at most 125 bytes, 2 of them the code
_MAX_CONTROL = 125  # payload bytes of a ping, pong or close frame
_REJECT_BODY_LIMIT = 4096  # of a refused upgrade's body, kept for the error
_KEY_BYTES = 16  # the nonce of Sec-WebSocket-Key
# The masks of every client whose randomness is the default CSPRNG come from one
# pool (each mask is still used once): a pool per connection was 170 bytes of every
# idle session (issue 15). A client given its own source draws from it alone.
_DEFAULT_MASKS: Final = MaskSource(secrets.token_bytes)
_NO_HEADERS: Final[list[tuple[bytes, bytes]]] = []  # never appended to
_NO_PARTS: Final[list[bytes]] = []  # no fragmented message in progress; never appended to


class WebSocketTransport(Transport):
    """The framing both ends share; the subclass does the opening handshake, then sets
    ``_framing``, ``_subprotocol`` and ``_binary`` and calls ``_opened``.

    ``mask_in`` (given to ``_configure``) says whether the peer's frames are masked
    (it is a client): they must be, and are unmasked as they are read; else they must
    not be. ``_frame``
    writes our frames (masked by a client only).
    """

    def __init__(
        self,
        ping_interval: float | None,
        ping_timeout: float,
        open_timeout: float | None,
        now: float,
    ):
        super().__init__(
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            open_timeout=open_timeout,
            now=now,
        )
        self._max_in = 0
        self._mask_in = False
        self._framing = False  # the upgrade succeeded: frames flow both ways
        self._close_sent = False
        self._subprotocol: str | None = None
        self._binary = False
        # Only while something is held (issue 15: an idle connection holds neither).
        self._buffer: bytearray | None = None  # the start of a frame not fully arrived
        self._need = 0  # the bytes that frame needs before parsing is worth trying
        self._parts = _NO_PARTS  # fragments of the message being received
        self._size = 0  # their size in bytes
        self._fragmented = 0  # the opcode of that message (0: none in progress)

    def _configure(
        self,
        max_message_size: int,
        max_outgoing_size: int | None,
        close_timeout: float,
        mask_in: bool,
    ) -> None:
        """Check and set what a subclass's constructor was given beyond the timers."""
        if not close_timeout > 0:
            raise ValueError(f"close_timeout must be a positive number, got {close_timeout!r}")
        if max_message_size < 1 or (max_outgoing_size is not None and max_outgoing_size < 1):
            raise ValueError("message size limits must be at least 1 byte")
        self._max_in = max_message_size
        self._max_out = max_message_size if max_outgoing_size is None else max_outgoing_size
        self._close_timeout = close_timeout
        self._mask_in = mask_in

    @property
    def subprotocol(self) -> str | None:
        """The negotiated subprotocol (``"wamp.2.json"``); None before open."""
        return self._subprotocol

    @abstractmethod
    def _queue(self, opcode: int, payload: bytes) -> None:
        """Queue one whole frame of ours."""
        raise NotImplementedError

    @abstractmethod
    def _receive_handshake(self, data: bytes) -> None:
        raise NotImplementedError

    # -- receiving --------------------------------------------------------------------

    def _receive(self, data: bytes | bytearray | memoryview) -> None:
        chunk = data if type(data) is bytes else bytes(data)
        if self._framing:
            self._receive_frames(chunk)
        else:
            self._receive_handshake(chunk)

    def _receive_frames(self, data: bytes) -> None:
        buffer = self._buffer
        if buffer is not None:
            buffer += data
            if len(buffer) < self._need:
                return  # a big frame still arriving: no re-parsing of what is here
            data = bytes(buffer)
            self._buffer = None
        end = len(data)
        pos = self._parse(data, end)
        if pos < end and self._state is not TransportState.CLOSED:
            self._buffer = bytearray(memoryview(data)[pos:])

    def _parse(self, data: bytes, end: int) -> int:
        """Handle every whole frame of ``data``; where the first incomplete one starts."""
        pos = 0
        key_size = 4 if self._mask_in else 0  # a client's frames carry a masking key
        # A client's frames are unmasked a run at a time (unmask_run): ``clear`` holds
        # the run from ``base`` to ``covered`` unmasked.
        clear = b""
        base = covered = 0
        while True:
            left = end - pos
            if left < 2:
                self._need = 2
                return pos
            first = data[pos]
            second = data[pos + 1]
            length = second & 0x7F
            start = pos + 2
            if length == 126:
                if left < 4:
                    self._need = 4
                    return pos
                length = (data[pos + 2] << 8) | data[pos + 3]
                start = pos + 4
                minimum = 126
            elif length == 127:
                if left < 10:
                    self._need = 10
                    return pos
                length = int.from_bytes(data[pos + 2 : pos + 10], "big")
                start = pos + 10
                minimum = 65536
            else:
                minimum = 0
            if not self._header_ok(first, second, length, minimum):
                return end
            stop = start + key_size + length
            if stop > end:
                self._need = stop - pos
                return pos
            if key_size:
                if stop > covered and stop < end:  # more frames follow: one XOR for a run
                    clear, covered = unmask_run(data, pos, end)
                    base = pos
                if stop <= covered:
                    payload = clear[start + 4 - base : stop - base]
                else:  # the chunk's last frame (often its only one), or a large payload
                    payload = mask(data[start + 4 : stop], data[start : start + 4])
            else:
                payload = data[start:stop]
            pos = stop
            if first == 0x82 and not self._fragmented and not self._parts:
                self._events.append(MessageReceived(payload))  # the usual binary message
            else:
                self._on_frame(first, payload)
                if self._state is TransportState.CLOSED:
                    return end

    def _header_ok(self, first: int, second: int, length: int, minimum: int) -> bool:
        """Check what a frame header says before its payload is stored; fail if wrong."""
        opcode = first & 0x0F
        if second & 0x80:
            if not self._mask_in:
                return self._fail("the router sent a masked frame (a server never masks)")
        elif self._mask_in:
            return self._fail("the client sent an unmasked frame (a client must mask)")
        if first & 0x70:
            return self._fail("reserved bits set in a frame header (no extension was agreed)")
        if length < minimum or length >> 63:
            return self._fail(f"frame length {length} not in its shortest encoding")
        if opcode >= OP_CLOSE:
            if opcode > OP_PONG:
                return self._fail(f"invalid opcode {opcode:#x}")
            if not first & 0x80:
                return self._fail(f"fragmented control frame (opcode {opcode:#x})")
            if length > _MAX_CONTROL:
                return self._fail(f"control frame of {length} bytes (the limit is 125)")
            return True
        if opcode > OP_BINARY:
            return self._fail(f"invalid opcode {opcode:#x}")
        if opcode == OP_CONTINUATION:
            if not self._fragmented:
                return self._fail("a continuation frame with no fragmented message to continue")
        elif self._fragmented:
            return self._fail("a new message began before the fragmented one ended")
        size = self._size + length
        if size > self._max_in:
            # Refused on its header: nothing past the limit is ever buffered.
            error = MessageTooBig(size, self._max_in, at_least=not first & 0x80)
            self._abort(error, 1009, "message too big")
            return False
        return True

    def _fail(self, text: str, code: int = 1002) -> bool:
        error = ProtocolError(f"invalid WebSocket frame from the {self._peer}: {text}")
        self._abort(error, code, text)
        return False

    def _on_frame(self, first: int, payload: bytes) -> None:
        opcode = first & 0x0F
        if opcode < OP_CLOSE:
            self._on_data(opcode, bool(first & 0x80), payload)
        elif opcode == OP_PING:
            # A pong cannot follow our close frame: the peer now waits for its answer.
            if not self._close_sent:
                self._queue(OP_PONG, payload)
        elif opcode == OP_PONG:
            self._pong_received(payload)
        else:
            self._on_close(payload)

    def _on_data(self, opcode: int, final: bool, payload: bytes) -> None:
        if not final:
            if opcode != OP_CONTINUATION:
                self._fragmented = opcode
                self._parts = []
            self._parts.append(payload)
            self._size += len(payload)
            return
        if opcode == OP_CONTINUATION:
            opcode = self._fragmented
            self._parts.append(payload)
            payload = b"".join(self._parts)
            self._parts = _NO_PARTS
            self._size = 0
            self._fragmented = 0
        if opcode == OP_BINARY:
            self._events.append(MessageReceived(payload))
            return
        try:
            text = payload.decode()
        except UnicodeDecodeError:
            self._fail("a text message that is not valid UTF-8", 1007)
            return
        self._events.append(MessageReceived(text))

    def _on_close(self, payload: bytes) -> None:
        if not payload:
            code, reason = 1005, ""
        elif len(payload) == 1:
            self._fail("a close frame with a 1-byte payload")
            return
        else:
            code = (payload[0] << 8) | payload[1]
            if not receivable_close_code(code):
                self._fail(f"close code {code} is not allowed in a close frame")
                return
            try:
                reason = payload[2:].decode()
            except UnicodeDecodeError:
                self._fail("a close reason that is not valid UTF-8", 1007)
                return
        if self._close_sent:  # the answer to ours
            self._finish(code, reason, None, clean=True)
            return
        # The peer started closing: echo its code (RFC 6455 section 5.5.1).
        self._send_close(payload[:2])
        failure = None
        if code not in _NORMAL_CLOSE:
            meaning = _CLOSE_MEANINGS.get(code, "application-defined")
            text = f"the {self._peer} closed the WebSocket: {code} ({meaning}) {reason!r}"
            failure = ClosedByPeer(text, code, reason)
        self._finish(code, reason, failure, clean=True)

    def _on_eof(self) -> None:
        if self._state is TransportState.CLOSING:
            # We were closing anyway; the peer just skipped its close frame.
            self._finish(1006, "", None, clean=False)
        elif self._state is TransportState.OPEN:
            text = f"the {self._peer} closed the TCP connection without a WebSocket close frame"
            self._finish(1006, "", TransportLost(text), clean=False)
        else:
            text = f"the {self._peer} closed the connection during the WebSocket opening handshake"
            self._finish(None, "", TransportLost(text), clean=False)

    # -- sending and closing ----------------------------------------------------------

    def _send(self, data: bytes | str) -> None:
        payload = self._payload(data)
        self._check_outgoing(len(payload))
        self._queue(OP_BINARY if self._binary else OP_TEXT, payload)

    def _payload(self, data: bytes | str) -> bytes:
        """The bytes of a message for our subprotocol (text must be UTF-8)."""
        if isinstance(data, str):
            if self._binary:
                raise TypeError(f"{self._subprotocol} sends binary messages: give bytes")
            return data.encode()
        payload = data if type(data) is bytes else bytes(data)
        if not self._binary:
            try:
                payload.decode()
            except UnicodeDecodeError as exc:
                raise ValueError(f"{self._subprotocol} sends text; not UTF-8: {exc}") from None
        return payload

    def _send_ping(self, payload: bytes) -> None:
        self._queue(OP_PING, payload)

    def _send_close(self, payload: bytes) -> None:
        self._close_sent = True
        self._queue(OP_CLOSE, payload)

    def _check_close(self, code: int, reason: str) -> None:
        if code not in SENDABLE_CLOSE_CODES and not 3000 <= code <= 4999:
            raise ValueError(f"WebSocket close code {code} cannot be sent (1000-1011, 3000-4999)")
        if len(reason.encode()) > _MAX_REASON:
            raise ValueError(f"close reason over {_MAX_REASON} bytes of UTF-8")

    def _start_close(self, code: int, reason: str) -> None:
        self._send_close(close_payload(code, reason))
        self._clear_deadlines()
        self._state = TransportState.CLOSING
        self._close_deadline = self._now + self._close_timeout

    def _abort(self, error: Exception, code: int | None = None, reason: str = "") -> None:
        if code in SENDABLE_CLOSE_CODES and self._framing and not self._close_sent:
            self._send_close(close_payload(code, reason[:_MAX_REASON]))
        self._finish(code, reason, error, clean=False)

    def _release(self) -> None:
        self._buffer = None
        self._parts = _NO_PARTS


class WebSocketClientTransport(WebSocketTransport):
    """A WebSocket client offering ``wamp.2.<name>`` for each of ``serializers``.

    ``host`` is the Host header (``"example.com:8080"``); ``resource`` the request
    path. Incoming messages over ``max_message_size`` bytes fail the transport
    (close code 1009); ``max_outgoing_size`` (default: the same) bounds
    ``send_message``, since WebSocket does not tell us the router's limit. With
    ``ping_interval`` a ping is sent that long after opening / after the last
    answered ping; no pong within ``ping_timeout`` fails the transport (close code
    1011). ``close()`` waits ``close_timeout`` for the router's close frame.
    ``open_timeout`` bounds the wait for the HTTP response. ``now`` is the clock at
    construction (it starts ``open_timeout`` when ``auto_open``). ``random_bytes``
    supplies the handshake key and the frame masks (a CSPRNG by default).
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
        random_bytes: RandomBytes = secrets.token_bytes,
    ):
        super().__init__(ping_interval, ping_timeout, open_timeout, now)
        self._configure(max_message_size, max_outgoing_size, close_timeout, mask_in=False)
        if not resource.startswith("/"):
            raise ValueError(f"resource must start with '/', got {resource!r}")
        # Shared by the connections offering the same list (read-only).
        self._offered: Mapping[str, tuple[str, bool]] = shared_subprotocols(serializers)
        # What only the handshake needs; dropped once it succeeded (see _upgraded).
        self._host = host
        self._resource = resource
        self._extra_headers = request_headers(headers, origin)
        self._key = b""  # our Sec-WebSocket-Key, once the request is built
        self._masks = (
            _DEFAULT_MASKS if random_bytes is secrets.token_bytes else MaskSource(random_bytes)
        )
        self._http: Any = None  # the h11 connection while the handshake runs
        self._response_headers: tuple[tuple[str, str], ...] = ()
        self._rejection: Any = None  # the h11 answer that refused the upgrade
        self._reject_body = b""  # the start of its body (bounded)
        if auto_open:
            self.open()

    @property
    def response_headers(self) -> tuple[tuple[str, str], ...]:
        """The router's 101 response headers (lower-case names), minus the handshake's own."""
        return self._response_headers

    # -- handshake --------------------------------------------------------------------

    def _send_handshake(self) -> None:
        nonce = self._masks.draw(_KEY_BYTES)
        self._key = base64.b64encode(nonce)
        self._http = h11.Connection(h11.CLIENT)
        request = build_request(
            self._http,
            self._host,
            self._resource,
            self._key,
            list(self._offered),
            self._extra_headers,
        )
        self._out.append(request)

    def _receive_handshake(self, data: bytes) -> None:
        http = self._http
        http.receive_data(data)
        while True:
            try:
                event = http.next_event()
            except h11.RemoteProtocolError as exc:
                self._abort(HandshakeError(f"invalid HTTP answer from the router: {exc}"))
                return
            if event is h11.NEED_DATA:
                return
            if isinstance(event, h11.InformationalResponse):
                if event.status_code == 101:
                    self._upgraded(event)
                else:  # a 1xx that is no upgrade: the router did not take it
                    self._rejection = event
                    self._refused()
                return
            if isinstance(event, h11.Response):  # a refusal; its body may follow
                self._rejection = event
            elif isinstance(event, h11.Data):
                if self._on_reject_data(bytes(event.data)):
                    return
            else:  # EndOfMessage: the whole refusal is here
                self._refused()
                return

    def _upgraded(self, response: Any) -> None:
        trailing = bytes(self._http.trailing_data[0])  # frames sent right after the 101
        self._http = None
        key = self._key
        # The request's parts are not needed again: an idle connection keeps none.
        self._host = self._resource = ""
        self._extra_headers = _NO_HEADERS
        self._key = b""
        try:
            subprotocol, headers = check_upgrade(response, key, self._offered)
        except HandshakeError as refusal:
            self._abort(refusal)
            return
        self._framing = True
        if subprotocol is None:
            # A WebSocket without a subprotocol is valid; WAMP over it is not.
            offered = ", ".join(self._offered)
            error = HandshakeError(f"the router chose no WAMP subprotocol (we offered {offered})")
            self._abort(error, 1002, "no WAMP subprotocol")
            return
        self._subprotocol = subprotocol
        serializer, self._binary = self._offered[subprotocol]
        self._response_headers = headers
        self._opened(serializer, subprotocol, headers)
        if trailing:
            self._receive_frames(trailing)

    def _on_reject_data(self, data: bytes) -> bool:
        """Keep the start of a refusal's body; True once the refusal is reported."""
        room = _REJECT_BODY_LIMIT - len(self._reject_body)
        self._reject_body += data[:room]  # bytes: a refusal is rare, and its body small
        # Stop at the bound rather than wait for a body we would not keep.
        if len(self._reject_body) >= _REJECT_BODY_LIMIT:
            self._refused()
            return True
        return False

    def _refused(self) -> None:
        self._abort(self._refusal())

    def _refusal(self) -> HandshakeError:
        rejection = self._rejection
        body = self._reject_body
        text = f"the router refused the WebSocket upgrade: HTTP {rejection.status_code}"
        if body:
            text += f": {body[:200].decode('utf-8', 'replace')!r}"
        headers = tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in rejection.headers)
        return HandshakeError(text, status_code=rejection.status_code, headers=headers, body=body)

    def _open_timeout_error(self) -> Exception:
        if self._rejection is not None:  # refused, and the body is still coming
            return self._refusal()
        return super()._open_timeout_error()

    def _on_eof(self) -> None:
        if self._rejection is not None:  # a refusal whose body ends with the connection
            self._refused()
        else:
            super()._on_eof()

    def _queue(self, opcode: int, payload: bytes) -> None:
        self._out.append(frame(opcode, payload, self._masks.draw(4)))

    def _release(self) -> None:
        super()._release()
        self._http = None
        self._reject_body = b""
