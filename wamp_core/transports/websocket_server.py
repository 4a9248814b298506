"""The WAMP-over-WebSocket server transport: the router's end of ``websocket``.

The client speaks first, with an HTTP/1.1 upgrade request; h11 parses it (bounded by
``max_request_size``) and ``_wsupgrade`` decides the answer: a 101 choosing the
client's first offered ``wamp.2.*`` subprotocol we accept, or an HTTP error (400,
404, 405, 426, 431, or the host's own from ``refuse``) after which the transport
closes with a HandshakeError saying what the client was told. ``open_timeout``
bounds the whole request, so that a client trickling it in cannot hold a
connection (the answer then is a 408).

The framing is the client's (``WebSocketTransport``) from the other side: the
client's frames must be masked and are unmasked as they are read; ours are not
masked, so one frame serves every connection that speaks the same subprotocol
(``frame_message`` / ``send_frame``, for a router sending one event to many).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import h11

from wamp_core.transports._wsframe import OP_BINARY, OP_TEXT, frame_header, unmasked_frame
from wamp_core.transports._wshandshake import shared_subprotocols
from wamp_core.transports._wsupgrade import (
    accept_response,
    check_request,
    http_response,
    refusal,
    refusal_response,
)
from wamp_core.transports.base import HandshakeError, TransportState
from wamp_core.transports.websocket import WebSocketTransport

__all__ = ["WebSocketServerTransport"]

_ALL_SERIALIZERS = (
    "json",
    "msgpack",
    "cbor",
    "json.batched",
    "msgpack.batched",
    "cbor.batched",
)


class WebSocketServerTransport(WebSocketTransport):
    """A WebSocket server accepting ``wamp.2.<name>`` for each of ``serializers``.

    ``paths`` (None: any) are the request paths served; others get a 404. Once the
    request is in, ``path``, ``query`` and ``request_headers`` (every header, names
    lower-case; also in TransportOpened.headers) describe it. Incoming messages over
    ``max_message_size`` bytes fail the transport (close code 1009);
    ``max_outgoing_size`` (default: the same) bounds what we send. With
    ``ping_interval`` we ping that long after opening / after the last answered
    ping; no pong within ``ping_timeout`` fails the transport (1011). ``close()``
    waits ``close_timeout`` for the client's close frame. ``now`` is the clock at
    construction, when ``open_timeout`` starts.
    """

    def __init__(
        self,
        serializers: Sequence[str] = _ALL_SERIALIZERS,
        *,
        paths: Collection[str] | None = None,
        max_message_size: int = 16 * 1024 * 1024,
        max_outgoing_size: int | None = None,
        max_request_size: int = 16 * 1024,
        ping_interval: float | None = None,
        ping_timeout: float = 10.0,
        close_timeout: float = 5.0,
        open_timeout: float | None = 10.0,
        now: float = 0.0,
    ):
        super().__init__(ping_interval, ping_timeout, open_timeout, now)
        self._configure(max_message_size, max_outgoing_size, close_timeout, mask_in=True)
        self._peer = "client"
        self._shared_frames = True
        self._accepted = shared_subprotocols(serializers)
        self._paths = None if paths is None else frozenset(paths)
        self._http: Any = h11.Connection(h11.SERVER, max_incomplete_event_size=max_request_size)
        self._max_request = max_request_size
        self._received = 0  # bytes given to h11
        self._path = ""
        self._query = ""
        self._request_headers: tuple[tuple[str, str], ...] = ()
        self._refusal: HandshakeError | None = None  # the host's, from refuse()
        self.open()

    @property
    def path(self) -> str:
        """The path of the upgrade request ("" until it is in)."""
        return self._path

    @property
    def query(self) -> str:
        """The query string of the upgrade request, without the '?'."""
        return self._query

    @property
    def request_headers(self) -> tuple[tuple[str, str], ...]:
        """The upgrade request's headers, as sent, names lower-case (latin-1 decoded)."""
        return self._request_headers

    def refuse(self, status_code: int = 503, text: str = "the router is at capacity") -> None:
        """Answer the upgrade request with an HTTP error instead of a 101, then close.

        Call it before the request is in (at once, for a connection over a limit):
        the answer is written when it is, so the client reads it as the answer.
        """
        if not 400 <= status_code <= 599:
            raise ValueError(f"a refusal is an HTTP 4xx or 5xx status, got {status_code}")
        if self._state is not TransportState.OPENING:
            raise RuntimeError(f"refuse() needs a request still to answer; it is {self._state}")
        self._refusal = refusal(status_code, text)

    def frame_message(self, payload: bytes | str) -> bytes:
        """One message frame carrying ``payload``, for ``send_frame``: the same bytes for
        every server transport whose ``serializer`` is this one's (text for JSON)."""
        return unmasked_frame(OP_BINARY if self._binary else OP_TEXT, self._payload(payload))

    # -- the opening handshake ----------------------------------------------------------

    def _send_handshake(self) -> None:
        """Nothing: the client speaks first and we answer (``_on_request``)."""

    def _receive_handshake(self, data: bytes) -> None:
        http = self._http
        http.receive_data(data)
        self._received += len(data)
        try:
            event = http.next_event()
        except h11.RemoteProtocolError as exc:
            if exc.error_status_hint == 431:
                self._refuse(self._too_long())
            else:
                self._refuse(refusal(exc.error_status_hint, f"invalid HTTP request: {exc}"))
            return
        if event is not h11.NEED_DATA:  # a server's first event is the request
            self._on_request(event)

    def _on_request(self, request: Any) -> None:
        # What followed the request's head: the client's first frames, if it did not
        # wait for our answer (a body is refused below).
        trailing = bytes(self._http.trailing_data[0])
        target = request.target.decode("latin-1")
        self._path, _, self._query = target.partition("?")
        self._request_headers = tuple(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers
        )
        if self._refusal is not None:
            self._refuse(self._refusal)
            return
        if self._received - len(trailing) > self._max_request:
            # h11 bounds only a head still incomplete; this one came in one piece.
            self._refuse(self._too_long())
            return
        try:
            subprotocol, key = check_request(request, self._accepted, self._paths)
        except HandshakeError as error:
            self._refuse(error)
            return
        self._http = None
        self._out.append(accept_response(key, subprotocol))
        self._subprotocol = subprotocol
        serializer, self._binary = self._accepted[subprotocol or "wamp.2.json"]
        self._framing = True
        self._opened(serializer, subprotocol, self._request_headers)
        if trailing:
            self._receive_frames(trailing)

    def _too_long(self) -> HandshakeError:
        return refusal(431, f"a request head over {self._max_request} bytes")

    def _refuse(self, error: HandshakeError) -> None:
        self._out.append(refusal_response(error))
        self._abort(error)

    def _open_timeout_error(self) -> Exception:
        # Still reading the request (the only time this deadline runs): say so in HTTP.
        self._out.append(http_response(408, (("Connection", "close"), ("Content-Length", "0"))))
        return super()._open_timeout_error()

    # -- frames -------------------------------------------------------------------------

    def _queue(self, opcode: int, payload: bytes) -> None:
        # Header and payload apart: the payload is not copied.
        self._out += (frame_header(opcode, len(payload), 0), payload)

    def _release(self) -> None:
        super()._release()
        self._http = None
