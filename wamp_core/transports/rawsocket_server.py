"""The WAMP RawSocket server transport: the router's end of ``rawsocket``.

The client speaks first: ``7F (L<<4)|S 00 00``. We answer ``7F (ourL<<4)|S 00 00``
and the transport is open (our send limit is the client's ``2**(9+L)``), or we answer
``7F (E<<4) 00 00`` with an error code E and close: 1 serializer unsupported, 2 the
client's maximum message length is too small for us, 3 reserved bits used, 4 the
host's own refusal (``refuse``: maximum connection count reached). A first byte that
is not 0x7F gets no answer: that peer does not speak RawSocket at all.

Frames are the client's (``RawSocketTransport``); a server adds ``frame_message`` /
``send_frame``, so that a message for many connections is framed once.
"""

from __future__ import annotations

from collections.abc import Sequence

from wamp_core.transports.base import HandshakeError, TransportState
from wamp_core.transports.rawsocket import (
    HANDSHAKE_ERRORS,
    RawSocketTransport,
    rawsocket_serializer,
)

__all__ = ["RawSocketServerTransport"]

_MAGIC = 0x7F
_SERIALIZER_UNSUPPORTED = 1
_LENGTH_UNACCEPTABLE = 2
_RESERVED_BITS = 3
_SMALLEST_LIMIT = 512  # what L = 0 announces


class RawSocketServerTransport(RawSocketTransport):
    """A RawSocket server accepting any of ``serializers`` (``"json"``, ``"msgpack"``,
    ``"cbor"``); the client's choice is ``serializer`` once open.

    ``max_message_size`` (rounded up to a power of two, 512 B .. 16 MiB) is the limit
    we announce and enforce on incoming frames. ``max_outgoing`` is the client's limit,
    known once open; a client announcing less than ``min_outgoing_size`` is refused
    (E=2). ``open_timeout`` bounds the wait for the client's 4 bytes (a connection
    that never speaks must not stay forever); ``ping_interval``/``ping_timeout`` are
    the keep-alive, as on the client. ``now`` is the clock at construction.
    """

    def __init__(
        self,
        serializers: Sequence[str] = ("json", "msgpack", "cbor"),
        *,
        max_message_size: int = 16 * 1024 * 1024,
        min_outgoing_size: int = _SMALLEST_LIMIT,
        ping_interval: float | None = None,
        ping_timeout: float = 10.0,
        open_timeout: float | None = 10.0,
        now: float = 0.0,
    ):
        super().__init__(max_message_size, ping_interval, ping_timeout, open_timeout, now)
        self._peer = "client"
        self._shared_frames = True
        self._limit_text = "the client's limit"
        self._accepted = _accepted_ids(serializers)
        self._min_out = min_outgoing_size
        self._refusal = 0  # an error code to answer the handshake with (refuse())
        self.open()

    def refuse(self, code: int = 4) -> None:
        """Answer the client's handshake with error ``code`` (4: maximum connection
        count reached) and close, rather than open: a polite no for a host at capacity.

        Call it before the handshake completed (at once, for a connection over the
        limit); the answer is queued when the client's 4 bytes are in, so that the
        socket is not closed under a handshake still unread.
        """
        if not 1 <= code <= 15:
            raise ValueError(f"a RawSocket handshake error code is 1 .. 15, got {code}")
        if self._state is not TransportState.OPENING:
            raise RuntimeError(f"refuse() needs a handshake still to answer; it is {self._state}")
        self._refusal = code

    def _send_handshake(self) -> None:
        """Nothing: the client speaks first and we answer (``_check_handshake``)."""

    def _check_handshake(self, handshake: bytearray) -> bool:
        _, offer, reserved1, reserved2 = handshake
        serializer_id = offer & 0x0F
        max_out = 1 << (9 + (offer >> 4))
        name = self._accepted.get(serializer_id)
        if self._refusal:
            return self._refuse(self._refusal, "refused by the host")
        if reserved1 or reserved2:
            detail = f"reserved handshake bytes are not zero: {bytes(handshake).hex(' ')}"
            return self._refuse(_RESERVED_BITS, detail)
        if name is None:
            return self._refuse(_SERIALIZER_UNSUPPORTED, f"serializer id {serializer_id}")
        if max_out < self._min_out:
            detail = f"the client accepts {max_out} bytes, we need {self._min_out}"
            return self._refuse(_LENGTH_UNACCEPTABLE, detail)
        self._out.append(bytes((_MAGIC, (self._exponent << 4) | serializer_id, 0, 0)))
        self._max_out = max_out
        self._opened(name, None, ())
        return True

    def _refuse(self, code: int, detail: str) -> bool:
        self._out.append(bytes((_MAGIC, code << 4, 0, 0)))
        meaning = HANDSHAKE_ERRORS.get(code, "error")
        self._abort(HandshakeError(f"refused the client's handshake: {code} {meaning} ({detail})"))
        return False


def _accepted_ids(serializers: Sequence[str]) -> dict[int, str]:
    """RawSocket serializer id -> name, for the names a server accepts."""
    if isinstance(serializers, str) or not serializers:
        raise ValueError(f"serializers must be a non-empty list of names: {serializers!r}")
    return dict(rawsocket_serializer(spec) for spec in serializers)
