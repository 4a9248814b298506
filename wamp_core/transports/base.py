"""What every transport shares: the events, the errors and the state machine skeleton.

A transport turns socket bytes into whole WAMP transport messages and back; it knows
nothing about WAMP messages themselves (the serializer and the session do). It is
Sans-IO: the caller feeds bytes in (``receive_data``), drains bytes out
(``data_to_send``), drains events (``events``) and owns the one timer
(``next_deadline``/``handle_timer``). Time only ever comes in through ``now``
arguments; a method given ``now=None`` uses the last time it was given (at first the
constructor's ``now``, 0.0 by default).

States, in order (``state``)::

    IDLE --open()--> OPENING --router accepts--> OPEN --close()--> CLOSING --> CLOSED

A server transport (``websocket_server``, ``rawsocket_server``) is the same machine
seen from the other end: it starts in OPENING, waiting for the client's handshake,
and "the router" below reads "the client" for it.

``close()`` in OPEN starts a WebSocket close handshake (CLOSING until the router's
close frame or ``close_timeout``); RawSocket has none and goes to CLOSED at once.
Any state can end in CLOSED directly: a failure, EOF, ``close()`` before open.
Entering CLOSED emits exactly one :class:`TransportClosed`, always the last event.
Data queued as it happens (a WebSocket close frame) is still returned by the next
``data_to_send()``; after that it returns ``b""`` for good, and ``receive_data``
ignores everything.

Buffers: what is kept of incoming data is bounded by the message size limit (a
message is refused as soon as it is known to be too big, before it is stored). The
outgoing queue holds what the application sent plus automatic replies (each reply
no bigger than the input that caused it) until the next ``data_to_send()``.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Final, NoReturn, TypeAlias

from wamp_core.exception import ProtocolError, TransportLost

# The errors live in a module of their own: this one is compiled by mypyc (see
# setup.py), which cannot compile subclasses of exceptions defined elsewhere.
from wamp_core.transports.errors import (
    ClosedByPeer,
    HandshakeError,
    MessageTooBig,
    MessageTooBigToSend,
    TransportNotOpen,
)

__all__ = [
    "ClientTransport",
    "ClosedByPeer",
    "HandshakeError",
    "MessageReceived",
    "MessageTooBig",
    "MessageTooBigToSend",
    "Transport",
    "TransportClosed",
    "TransportEvent",
    "TransportNotOpen",
    "TransportOpened",
    "TransportState",
]


class TransportState(enum.Enum):
    IDLE = "idle"  # built with auto_open=False; open() not called yet
    OPENING = "opening"  # our handshake is queued; waiting for the router's answer
    OPEN = "open"
    CLOSING = "closing"  # we sent a WebSocket close frame; waiting for the router's
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class TransportOpened:
    """The opening handshake succeeded.

    ``serializer`` is the negotiated serializer as ``get_serializer`` accepts it
    (``"json"``, ``"msgpack.batched"``); ``subprotocol`` the WebSocket subprotocol
    (None for RawSocket); ``headers`` the router's HTTP response headers (WebSocket),
    or on a server the client's upgrade request headers (lower-case names).
    """

    serializer: str
    subprotocol: str | None
    headers: tuple[tuple[str, str], ...] = ()


class MessageReceived:
    """One complete transport message: ``str`` for a WebSocket text message, else bytes.

    A plain class, not a frozen dataclass like its siblings: one is made per message,
    and a frozen dataclass's constructor costs several times more (compiled or not).
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes | str) -> None:
        self.data: Final = data

    def __eq__(self, other: object) -> bool:
        if type(other) is not MessageReceived:
            return NotImplemented
        return self.data == other.data

    def __hash__(self) -> int:
        return hash(self.data)

    def __repr__(self) -> str:
        return f"MessageReceived(data={self.data!r})"


@dataclass(frozen=True, slots=True)
class TransportClosed:
    """The transport ended; always the last event, emitted exactly once.

    ``code`` is the WebSocket close code (the router's, or the one we sent when we
    failed the connection; 1006 when no close frame was exchanged) and None for
    RawSocket. ``error`` is None when nothing went wrong; ``clean`` is True when the
    close was orderly (a completed close handshake, or a local close with nothing
    left to say).
    """

    code: int | None
    reason: str
    error: Exception | None
    clean: bool


# A real union (not a string), so isinstance(event, TransportEvent) works too.
TransportEvent: TypeAlias = TransportOpened | MessageReceived | TransportClosed


def _check_timeout(name: str, value: float | None, *, optional: bool) -> None:
    if value is None and optional:
        return
    if value is None or not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")


class Transport(ABC):
    """The interface Connection drives; subclasses supply the wire format and the side.

    Subclasses implement the ``_``-prefixed abstract methods; everything that is the
    same for both wire formats and both sides (states, clock, deadlines, keep-alive,
    queues) is here.
    """

    _close_timeout: float = 0.0  # only a WebSocket has a close handshake to wait for
    # Who is at the other end, for error messages; a server transport says "client".
    _peer: str = "router"
    # Whether a frame is the same bytes for every receiver (servers: no masking), so
    # that send_frame may queue one built once.
    _shared_frames: bool = False

    def __init__(
        self,
        *,
        ping_interval: float | None,
        ping_timeout: float,
        open_timeout: float | None,
        now: float,
    ):
        _check_timeout("ping_interval", ping_interval, optional=True)
        _check_timeout("ping_timeout", ping_timeout, optional=False)
        _check_timeout("open_timeout", open_timeout, optional=True)
        self._now = now
        self._state = TransportState.IDLE
        self._events: list[TransportEvent] = []
        self._out: list[bytes | bytearray] = []
        self._serializer: str | None = None
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._open_timeout = open_timeout
        # At most one group is armed at a time: open (OPENING), ping or pong (OPEN),
        # close (CLOSING); all are None once CLOSED.
        self._open_deadline: float | None = None
        self._ping_deadline: float | None = None
        self._pong_deadline: float | None = None
        self._close_deadline: float | None = None
        self._ping_payload: bytes | None = None
        self._pings_sent = 0
        self._max_out = 0  # see max_outgoing; the subclass sets it
        self._limit_text = "the outgoing limit"  # how MessageTooBigToSend names it

    # -- what the caller sees ---------------------------------------------------------

    @property
    def state(self) -> TransportState:
        return self._state

    @property
    def is_open(self) -> bool:
        return self._state is TransportState.OPEN

    @property
    def closed(self) -> bool:
        """True once TransportClosed was emitted (drain ``data_to_send`` once more)."""
        return self._state is TransportState.CLOSED

    @property
    def serializer(self) -> str | None:
        """The negotiated serializer name (``get_serializer`` accepts it); None before open."""
        return self._serializer

    @property
    def max_outgoing(self) -> int:
        """The largest message ``send_message`` accepts (the router's limit where known)."""
        return self._max_out

    def open(self, now: float | None = None) -> None:
        """Queue the opening handshake (only needed when built with ``auto_open=False``)."""
        if self._state is not TransportState.IDLE:
            raise RuntimeError(f"open() needs a transport never opened; it is {self._state.value}")
        if now is not None:
            self._now = now
        self._send_handshake()
        self._state = TransportState.OPENING
        if self._open_timeout is not None:
            self._open_deadline = self._now + self._open_timeout

    def receive_data(self, data: bytes | bytearray | memoryview, now: float | None = None) -> None:
        """Feed bytes from the router; ``b""`` means it closed the TCP stream (EOF).

        Never raises for bad input: that ends the transport with a TransportClosed event.
        """
        if now is not None:
            self._now = now
        state = self._state
        if state is TransportState.CLOSED:
            return
        if not data:
            self._on_eof()
        elif state is TransportState.IDLE:
            # The router speaks first only if it is not a WAMP router at all.
            self._abort(ProtocolError(f"the {self._peer} sent data before our opening handshake"))
        else:
            self._receive(data)

    @property
    def has_data_to_send(self) -> bool:
        """Whether ``data_to_send()`` would return something."""
        return bool(self._out)

    def data_to_send(self) -> bytes:
        """Everything queued for the router, including automatic replies (pong, close)."""
        out = self._out
        if not out:
            return b""
        data = b"".join(out)
        out.clear()
        return data

    def events(self) -> list[TransportEvent]:
        """The pending events, oldest first (TransportClosed is always last)."""
        events = self._events
        self._events = []
        return events

    def send_message(self, data: bytes | str, now: float | None = None) -> None:
        """Queue one transport message; raises (queueing nothing) unless the transport is open.

        :raises TransportNotOpen: before TransportOpened.
        :raises TransportLost: after close() or TransportClosed.
        :raises MessageTooBigToSend: ``data`` is over ``max_outgoing``.
        """
        if now is not None:
            self._now = now
        if self._state is not TransportState.OPEN:
            self._not_open()
        self._send(data)

    def send_frame(self, frame: bytes, length: int, now: float | None = None) -> None:
        """Queue a message framed beforehand (a server's ``frame_message``), so that one
        frame built once can go to many connections; ``length`` is its payload's size.

        Raises as ``send_message`` does; TypeError on a client, whose frames are masked
        afresh each time and so cannot be shared.
        """
        if not self._shared_frames:
            raise TypeError("only a server transport sends frames built beforehand")
        if now is not None:
            self._now = now
        if self._state is not TransportState.OPEN:
            self._not_open()
        self._check_outgoing(length)
        self._out.append(frame)

    def _not_open(self) -> NoReturn:
        state = self._state
        if state is TransportState.IDLE or state is TransportState.OPENING:
            raise TransportNotOpen(f"the transport is not open yet ({state.value})")
        raise TransportLost(f"the transport is {state.value}: the message was not sent")

    def close(self, code: int = 1000, reason: str = "", now: float | None = None) -> None:
        """Start closing; idempotent. Before open it ends the transport at once (clean)."""
        self._check_close(code, reason)
        if now is not None:
            self._now = now
        state = self._state
        if state is TransportState.OPEN:
            self._start_close(code, reason)
        elif state is TransportState.IDLE or state is TransportState.OPENING:
            self._finish(None, reason, None, clean=True)

    def next_deadline(self) -> float | None:
        """When ``handle_timer`` must be called next (None: no timer needed)."""
        # Asked after every read: compares in place rather than building a list.
        return _earlier(
            _earlier(self._open_deadline, self._ping_deadline),
            _earlier(self._pong_deadline, self._close_deadline),
        )

    def handle_timer(self, now: float) -> None:
        """Act on every deadline that is due at ``now`` (early calls do nothing)."""
        self._now = now
        # The groups are exclusive by state (see __init__), so one check suffices.
        if self._open_deadline is not None and now >= self._open_deadline:
            self._abort(self._open_timeout_error())
        elif self._close_deadline is not None and now >= self._close_deadline:
            text = f"the {self._peer} did not answer our close frame within {self._close_timeout}s"
            self._abort(TransportLost(text), 1006)
        elif self._pong_deadline is not None and now >= self._pong_deadline:
            text = f"no pong within {self._ping_timeout}s of our keep-alive ping"
            self._abort(TransportLost(text), 1011, "keep-alive ping timed out")
        elif self._ping_deadline is not None and now >= self._ping_deadline:
            self._pings_sent += 1
            payload = b"wamp-keepalive-%d" % self._pings_sent
            self._send_ping(payload)
            self._ping_payload = payload
            self._ping_deadline = None
            self._pong_deadline = now + self._ping_timeout

    # -- for subclasses ---------------------------------------------------------------

    def _opened(
        self, serializer: str, subprotocol: str | None, headers: tuple[tuple[str, str], ...]
    ) -> None:
        self._serializer = serializer
        self._state = TransportState.OPEN
        self._open_deadline = None
        if self._ping_interval is not None:
            self._ping_deadline = self._now + self._ping_interval
        self._events.append(TransportOpened(serializer, subprotocol, headers))

    def _pong_received(self, payload: bytes) -> None:
        # Only the answer to our own ping counts; unsolicited pongs are allowed and ignored.
        if self._ping_payload is not None and payload == self._ping_payload:
            self._ping_payload = None
            self._pong_deadline = None
            # _ping_interval is set: a ping payload exists only with keep-alive on.
            self._ping_deadline = self._now + (self._ping_interval or 0.0)

    def _check_outgoing(self, length: int) -> None:
        if length > self._max_out:
            raise MessageTooBigToSend(
                f"message of {length} bytes is over {self._limit_text} of {self._max_out}"
            )

    def _clear_deadlines(self) -> None:
        self._open_deadline = self._ping_deadline = None
        self._pong_deadline = self._close_deadline = None
        self._ping_payload = None

    def _finish(self, code: int | None, reason: str, error: Exception | None, clean: bool) -> None:
        self._state = TransportState.CLOSED
        self._clear_deadlines()
        self._release()
        self._events.append(TransportClosed(code, reason, error, clean))

    def _open_timeout_error(self) -> Exception:
        if self._shared_frames:  # a server, waiting for the client to speak
            text = f"the client did not complete its opening handshake within {self._open_timeout}s"
            return TransportLost(text)
        return TransportLost(f"no answer to the opening handshake within {self._open_timeout}s")

    @abstractmethod
    def _check_close(self, code: int, reason: str) -> None:
        """Raise ValueError for a close code/reason the wire format cannot carry."""
        raise NotImplementedError

    @abstractmethod
    def _release(self) -> None:
        """Drop receive buffers once CLOSED (nothing will read them again)."""
        raise NotImplementedError

    @abstractmethod
    def _send_handshake(self) -> None:
        raise NotImplementedError

    @abstractmethod
    def _receive(self, data: bytes | bytearray | memoryview) -> None:
        """Handle non-empty data in OPENING, OPEN or CLOSING."""
        raise NotImplementedError

    @abstractmethod
    def _on_eof(self) -> None:
        raise NotImplementedError

    @abstractmethod
    def _send(self, data: bytes | str) -> None:
        """Check and queue one message (the state is OPEN)."""
        raise NotImplementedError

    @abstractmethod
    def _send_ping(self, payload: bytes) -> None:
        raise NotImplementedError

    @abstractmethod
    def _start_close(self, code: int, reason: str) -> None:
        """close() in OPEN."""
        raise NotImplementedError

    @abstractmethod
    def _abort(self, error: Exception, code: int | None = None, reason: str = "") -> None:
        """Fail the transport: tell the router if the format can, then _finish."""
        raise NotImplementedError


# The name the client side and Connection have always used.
ClientTransport = Transport


def _earlier(a: float | None, b: float | None) -> float | None:
    """The earlier of two deadlines, None meaning none."""
    if a is None:
        return b
    if b is None or a <= b:
        return a
    return b
