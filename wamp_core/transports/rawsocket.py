"""The WAMP RawSocket transport (``advanced/transport_rawsocket.md``): the frames both
ends share (``RawSocketTransport``) and the client; the server is ``rawsocket_server``.

Handshake: we send ``7F (L<<4)|S 00 00`` (L: our receive limit is ``2**(9+L)``, S: the
serializer id); the router answers the same shape echoing S with its own L (our send
limit), or ``7F E<<4 00 00`` with an error code E. Frames: a 4-byte big-endian header
``RRRR XTTT`` + 24-bit length, then the payload. R must be 0; TTT is 0 message, 1 PING,
2 PONG; X is the 25th length bit, set only for a length of exactly ``2**24``.

RawSocket has no close handshake: ``close()`` ends the transport at once (cleanly) and
the caller closes the socket.

Receiving is the hot path, so it parses frames straight out of the chunk it was given
(one ``bytes`` slice per payload, no copy of the chunk) and only buffers the one frame
that straddles two chunks; that buffer is bounded by our limit because oversized
lengths are refused from the header, before any payload is kept.
"""

from __future__ import annotations

import struct
from abc import abstractmethod
from collections.abc import Callable
from typing import Final

from wamp_core.exception import ProtocolError, TransportLost
from wamp_core.serializers import RAWSOCKET_IDS, get_serializer
from wamp_core.transports.base import (
    HandshakeError,
    MessageReceived,
    MessageTooBig,
    Transport,
)

__all__ = [
    "HANDSHAKE_ERRORS",
    "RawSocketClientTransport",
    "RawSocketTransport",
    "frame_header",
    "rawsocket_length_exponent",
    "rawsocket_serializer",
]

_MAGIC = 0x7F
_MESSAGE, _PING, _PONG = 0, 1, 2
_MAX_LENGTH = 1 << 24  # the largest length a frame can carry (with the X bit)
_X_BIT = 0x08000000  # in the 32-bit header
HANDSHAKE_ERRORS: Final = {
    1: "serializer unsupported",
    2: "maximum message length unacceptable",
    3: "use of reserved bits (unsupported feature)",
    4: "maximum connection count reached",
}

_header = struct.Struct(">I")
# Final and precisely typed: compiled code then calls it without a globals lookup and
# reads the result tuple natively.
_unpack_header: Final[Callable[[bytes | bytearray, int], tuple[int]]] = _header.unpack_from
_pack_header = _header.pack


def rawsocket_length_exponent(max_message_size: int) -> int:
    """L for a limit: the smallest ``2**(9+L) >= max_message_size``, L in 0..15."""
    if not 1 <= max_message_size <= _MAX_LENGTH:
        raise ValueError(
            f"RawSocket max_message_size must be 1 .. 2**24 bytes, got {max_message_size}"
        )
    return max(0, (max_message_size - 1).bit_length() - 9)


def rawsocket_serializer(spec: str) -> tuple[int, str]:
    """The RawSocket id and the name of a serializer; ValueError for one RawSocket
    cannot carry."""
    codec = get_serializer(spec)
    if codec.batched:
        raise ValueError("RawSocket frames carry one message each: no batched serializers")
    return codec.RAWSOCKET_ID, codec.NAME


def frame_header(kind: int, length: int) -> bytes:
    # Only 2**24 itself needs the X bit; below it the 24 length bits suffice.
    if length < _MAX_LENGTH:
        return _pack_header((kind << 24) | length)
    return _pack_header(_X_BIT | (kind << 24))


class RawSocketTransport(Transport):
    """What both ends of a RawSocket share: the frames are the same in each direction.

    The subclass writes and checks the 4-byte handshake (``_check_handshake``), then
    sets ``_max_out`` and calls ``_opened``.
    """

    def __init__(
        self,
        max_message_size: int,
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
        self._exponent = rawsocket_length_exponent(max_message_size)
        self._max_in = 1 << (9 + self._exponent)
        # Headers at or under this go straight to the message path: a plain message
        # within our limit. Everything else (control frames, X bit, reserved bits,
        # too long) takes the careful path; capped below 2**24 so a PING (type 1) of
        # length 0, whose header is 2**24, is never mistaken for a message.
        self._fast_limit = min(self._max_in, _MAX_LENGTH - 1)
        self._handshake = bytearray()  # the peer's handshake, until 4 bytes
        self._pending = bytearray()  # the start of a frame split across chunks

    @property
    def max_message_size(self) -> int:
        """The incoming limit we announced (``max_message_size`` rounded up)."""
        return self._max_in

    @staticmethod
    def frame_message(payload: bytes | str) -> bytes:
        """One message frame carrying ``payload``, for ``send_frame``: the same bytes
        for every connection, so a message sent to many is framed once."""
        data = payload.encode() if isinstance(payload, str) else payload
        return frame_header(_MESSAGE, len(data)) + data

    def _receive(self, chunk: bytes | bytearray | memoryview) -> None:
        # Payloads are slices of the data, and must be bytes.
        data = chunk if type(chunk) is bytes else bytes(chunk)
        pos = 0
        if self._max_out == 0:  # still in the handshake
            handshake = self._handshake
            pos = min(4 - len(handshake), len(data))
            handshake += data[:pos]
            if len(handshake) < 4:
                return
            if handshake[0] != _MAGIC:
                self._not_rawsocket(bytes(handshake))
                return
            if not self._check_handshake(handshake):
                return
            self._handshake = bytearray()
        self._receive_frames(data, pos)

    def _not_rawsocket(self, handshake: bytes) -> None:
        # No answer: whoever sent that does not speak RawSocket.
        what = "handshake" if self._shared_frames else "handshake reply"
        hint = ""
        if handshake == b"HTTP":
            hint = " (an HTTP server: a WebSocket endpoint?)"
        elif handshake == b"GET ":
            hint = " (an HTTP request: for a WebSocket endpoint?)"
        self._abort(HandshakeError(f"not a RawSocket {what}: {handshake!r}{hint}"))

    @abstractmethod
    def _check_handshake(self, handshake: bytearray) -> bool:
        """Act on the peer's 4 handshake bytes (the first is 0x7F): True once open,
        else the transport was closed."""
        raise NotImplementedError

    # -- frames -----------------------------------------------------------------------

    def _receive_frames(self, data: bytes, pos: int) -> None:
        if self._pending:
            pos = self._continue_pending(data, pos)
            if pos < 0:
                return
        end = len(data)
        fast_limit = self._fast_limit
        events = self._events
        while end - pos >= 4:
            # Byte by byte: compiled, four native index operations cost less than a call.
            header = (
                (data[pos] << 24) | (data[pos + 1] << 16) | (data[pos + 2] << 8) | data[pos + 3]
            )
            if header <= fast_limit:
                stop = pos + 4 + header
                if stop > end:
                    break
                events.append(MessageReceived(data[pos + 4 : stop]))
            else:
                length = self._check_header(header)
                if length < 0:
                    return
                stop = pos + 4 + length
                if stop > end:
                    break
                self._on_frame((header >> 24) & 7, data[pos + 4 : stop])
            pos = stop
        if pos < end:
            self._pending += memoryview(data)[pos:]

    def _continue_pending(self, data: bytes, pos: int) -> int:
        """Complete the frame begun in an earlier chunk; the new position, or -1 if
        the data ran out first or the frame is invalid."""
        buf = self._pending
        view = memoryview(data)
        if len(buf) < 4:
            take = min(4 - len(buf), len(data) - pos)
            buf += view[pos : pos + take]
            pos += take
            if len(buf) < 4:
                return -1
        # Checked again on every chunk while pending: cheap, and keeps no extra state.
        header = _unpack_header(buf, 0)[0]
        length = self._check_header(header)
        if length < 0:
            return -1
        take = min(4 + length - len(buf), len(data) - pos)
        buf += view[pos : pos + take]
        pos += take
        if len(buf) < 4 + length:
            return -1
        del buf[:4]
        payload = bytes(buf)
        buf.clear()
        self._on_frame((header >> 24) & 7, payload)
        return pos

    def _check_header(self, header: int) -> int:
        """The payload length of a valid header, else fail the transport and return -1."""
        length = header & 0xFFFFFF
        if header >> 28:
            text = f"RawSocket frame header with reserved bits set: {header:#010x}"
            self._abort(ProtocolError(text))
            return -1
        if header & _X_BIT:
            if length:
                text = f"RawSocket frame length over 2**24 (X bit and length {length})"
                self._abort(ProtocolError(text))
                return -1
            length = _MAX_LENGTH
        kind = (header >> 24) & 7
        if kind > _PONG:
            self._abort(ProtocolError(f"RawSocket frame of reserved type {kind}"))
            return -1
        if length > self._max_in:
            self._abort(MessageTooBig(length, self._max_in))
            return -1
        return length

    def _on_frame(self, kind: int, payload: bytes) -> None:
        if kind == _MESSAGE:
            self._events.append(MessageReceived(payload))
        elif kind == _PING:
            # Exactly one PONG per PING, at once, echoing the payload (even during close:
            # RawSocket has no closing state).
            self._out += (frame_header(_PONG, len(payload)), payload)
        else:
            self._pong_received(payload)

    # -- sending and closing ----------------------------------------------------------

    def _send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode()
        self._check_outgoing(len(data))
        # Header and payload queued apart: no copy of the payload.
        self._out += (frame_header(_MESSAGE, len(data)), data)

    def _send_ping(self, payload: bytes) -> None:
        self._out += (frame_header(_PING, len(payload)), payload)

    def _check_close(self, code: int, reason: str) -> None:
        """Anything goes: RawSocket carries neither a close code nor a reason."""

    def _start_close(self, code: int, reason: str) -> None:
        self._finish(None, reason, None, clean=True)

    def _on_eof(self) -> None:
        # close() already ended the transport, so EOF here always means the peer left.
        where = "during the RawSocket handshake" if self._max_out == 0 else "(EOF)"
        text = f"the {self._peer} closed the connection {where}"
        self._finish(None, "", TransportLost(text), False)

    def _abort(self, error: Exception, code: int | None = None, reason: str = "") -> None:
        # Nothing to tell the peer: RawSocket has no way to say why.
        self._finish(None, reason, error, clean=False)

    def _release(self) -> None:
        self._pending = bytearray()
        self._handshake = bytearray()


class RawSocketClientTransport(RawSocketTransport):
    """A RawSocket client speaking one serializer (``"json"``, ``"msgpack"`` or ``"cbor"``).

    ``max_message_size`` is rounded up to a power of two from 512 B to 16 MiB: the
    limit we announce and enforce on incoming frames (``max_message_size`` property).
    ``max_outgoing`` is the router's limit, known once open (0 before). With
    ``ping_interval`` a PING is sent that long after opening / after the last answered
    PING; no PONG within ``ping_timeout`` fails the transport. ``now`` is the clock
    at construction (it starts ``open_timeout`` when ``auto_open``).
    """

    def __init__(
        self,
        serializer: str = "msgpack",
        *,
        max_message_size: int = 16 * 1024 * 1024,
        ping_interval: float | None = None,
        ping_timeout: float = 10.0,
        open_timeout: float | None = None,
        auto_open: bool = True,
        now: float = 0.0,
    ):
        super().__init__(max_message_size, ping_interval, ping_timeout, open_timeout, now)
        self._serializer_id, self._name = rawsocket_serializer(serializer)
        self._limit_text = "the router's limit"
        if auto_open:
            self.open()

    # -- handshake --------------------------------------------------------------------

    def _send_handshake(self) -> None:
        self._out.append(bytes((_MAGIC, (self._exponent << 4) | self._serializer_id, 0, 0)))

    def _check_handshake(self, handshake: bytearray) -> bool:
        _, answer, reserved1, reserved2 = handshake
        if answer & 0x0F == 0:
            code = answer >> 4
            meaning = HANDSHAKE_ERRORS.get(code, "illegal error code")
            self._abort(HandshakeError(f"the router refused the handshake: {code} {meaning}"))
            return False
        if answer & 0x0F != self._serializer_id:
            theirs = RAWSOCKET_IDS.get(answer & 0x0F, "unknown")
            text = (
                f"router answered serializer {answer & 0x0F} ({theirs}), "
                f"we asked for {self._serializer_id} ({self._name})"
            )
            self._abort(HandshakeError(text))
            return False
        if reserved1 or reserved2:
            text = f"reserved handshake bytes are not zero: {bytes(handshake).hex(' ')}"
            self._abort(HandshakeError(text))
            return False
        self._max_out = 1 << (9 + (answer >> 4))
        self._opened(self._name, None, ())
        return True
