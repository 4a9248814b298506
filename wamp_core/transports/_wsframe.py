"""RFC 6455 frames as each end writes them (a client masks, a server does not) and what
their headers may say.

The reading side lives in the transport itself (its hot loop); this module holds
the pieces both directions share, the writing side, and the unmasking of a client's
frames (``unmask_run``, many small frames in one XOR).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeAlias

__all__ = [
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONTINUATION",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "MaskSource",
    "RandomBytes",
    "close_payload",
    "frame",
    "frame_header",
    "mask",
    "receivable_close_code",
    "unmask_run",
    "unmasked_frame",
]

OP_CONTINUATION: Final = 0x0
OP_TEXT: Final = 0x1
OP_BINARY: Final = 0x2
OP_CLOSE: Final = 0x8
OP_PING: Final = 0x9
OP_PONG: Final = 0xA

RandomBytes: TypeAlias = Callable[[int], bytes]
"""The injected randomness source: ``random_bytes(n)`` returns ``n`` random bytes."""

_FIRST_BLOCK = 64  # random bytes of the first draw: the handshake's key and a few masks
_POOL = 4096  # the most drawn at once: 1024 masks per call of the source


class MaskSource:
    """Fresh 4-byte masking keys (RFC 6455 section 5.3), drawn from ``random_bytes``
    in blocks: one call of a system CSPRNG per frame would cost more than the frame.
    Every key is used once and is unpredictable as long as the source is.

    The first block is small and each next one twice the last, up to ``_POOL``: an
    idle connection (its handshake, HELLO, a rare ping) holds 64 bytes, not 4 KiB,
    and a busy one soon draws the full block."""

    __slots__ = ("_at", "_block", "_pool", "_random_bytes")

    def __init__(self, random_bytes: RandomBytes) -> None:
        # Held as returning object: compiled code would otherwise reject a wrong
        # result with a bare TypeError before the check in draw() can explain it.
        self._random_bytes: Callable[[int], object] = random_bytes
        self._pool = b""
        self._at = 0
        self._block = _FIRST_BLOCK

    def draw(self, count: int) -> bytes:
        """``count`` (at most the first block's size) random bytes never handed out before."""
        at = self._at
        if at + count > len(self._pool):
            size = self._block
            pool = self._random_bytes(size)
            if not isinstance(pool, bytes) or len(pool) != size:
                raise ValueError(f"random_bytes({size}) must return exactly {size} bytes")
            self._pool = pool
            self._block = min(size * 2, _POOL)
            at = 0
        self._at = at + count
        return self._pool[at : at + count]


# Unmasking (a server reads every frame masked) is bound by per-frame overheads for the
# small frames WAMP mostly sends: one big-integer XOR per frame costs several times
# what parsing the frame does. So a run of small frames is unmasked in one XOR, and a
# large payload by translating each of its four byte lanes with a 256-byte table.
_LARGE: Final = 8192  # payload bytes from which a lane translation beats a big-integer XOR
_RUN: Final = 16384  # data bytes unmasked in one XOR at most (bigger integers cost more per byte)
# What goes in the key stream over a header and key: 3-8 bytes (see unmask_run).
_GAPS: Final = tuple(bytes(n) for n in range(9))


def _xor_int(payload: bytes, key: bytes) -> bytes:
    """``payload`` XOR ``key`` repeated, in one big-integer XOR (done in C, as one byte loop
    in Python is not; little-endian is CPython's own digit order, cheaper to convert)."""
    size = len(payload)
    stream = key * ((size + 3) >> 2)
    value = int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")
    return value.to_bytes(len(stream), "little")[:size]


# _XOR_TABLES[b] maps each byte to itself XOR b (bytes.translate does XOR per lane).
_XOR_TABLES: Final = tuple(_xor_int(bytes(range(256)), bytes((b,)) * 4) for b in range(256))


def mask(payload: bytes, key: bytes) -> bytes:
    """``payload`` XOR the 4-byte ``key`` repeated (masking and unmasking alike)."""
    if len(payload) < _LARGE:
        return _xor_int(payload, key)
    # Byte i is XORed with key[i % 4]: four strided lanes, each translated at C speed.
    out = bytearray(payload)
    tables = _XOR_TABLES
    out[0::4] = payload[0::4].translate(tables[key[0]])
    out[1::4] = payload[1::4].translate(tables[key[1]])
    out[2::4] = payload[2::4].translate(tables[key[2]])
    out[3::4] = payload[3::4].translate(tables[key[3]])
    return bytes(out)


def unmask_run(data: bytes, pos: int, end: int) -> tuple[bytes, int]:
    """Unmask the frames of ``data[pos:end]`` all at once: from ``pos``, each whole frame
    that is masked and under ``_LARGE`` bytes, up to the first that is not one (or
    about ``_RUN`` bytes). Returns where that run ends, ``stop``, and ``clear``: the
    run with its payloads unmasked, ``clear[i - pos]`` for ``data[i]``. Its headers and
    keys are not the run's (do not read them); nothing is checked but the lengths.

    One XOR for many frames: the key stream is the frames' keys repeated over their
    payloads, with zeros in between; a key repeated past its payload's end (up to 3
    bytes) runs into the next header, which is never read.
    """
    pieces: list[bytes] = []
    gaps = _GAPS
    at = pos  # how far the key stream reaches
    stop = pos
    while True:
        left = end - stop
        if left < 2:
            break
        second = data[stop + 1]
        if not second & 0x80:
            break  # unmasked: a frame the transport refuses
        length = second & 0x7F
        start = stop + 6  # of the payload, after 2 header bytes and the key
        if length == 126:
            if left < 4:
                break
            length = (data[stop + 2] << 8) | data[stop + 3]
            start = stop + 8
        elif length == 127:
            break  # a length of 65536 or more (else wrongly encoded): large
        if length >= _LARGE or start + length > end:
            break
        # The previous key ended 0-3 bytes past its frame: 3-8 bytes to this payload.
        pieces.append(gaps[start - at])
        count = (length + 3) >> 2
        pieces.append(data[start - 4 : start] * count)
        at = start + 4 * count
        stop = start + length
        if at - pos >= _RUN:
            break
    if not pieces:
        return b"", pos
    value = int.from_bytes(data[pos:stop], "little") ^ int.from_bytes(b"".join(pieces), "little")
    return value.to_bytes(at - pos, "little"), stop


def frame_header(opcode: int, size: int, mask_bit: int) -> bytes:
    """The header of one final (FIN) frame of ``opcode`` with a ``size``-byte payload;
    ``mask_bit`` is 0x80 for a masked frame (the key follows it), else 0."""
    first = 0x80 | opcode
    if size < 126:
        return bytes((first, mask_bit | size))
    if size < 65536:
        return bytes((first, mask_bit | 126, size >> 8, size & 0xFF))
    return bytes((first, mask_bit | 127)) + size.to_bytes(8, "big")


def frame(opcode: int, payload: bytes, key: bytes) -> bytes:
    """One final (FIN), masked frame of ``opcode`` carrying ``payload`` (a client's)."""
    return frame_header(opcode, len(payload), 0x80) + key + mask(payload, key)


def unmasked_frame(opcode: int, payload: bytes) -> bytes:
    """One final (FIN), unmasked frame of ``opcode`` carrying ``payload`` (a server's)."""
    return frame_header(opcode, len(payload), 0) + payload


def close_payload(code: int, reason: str) -> bytes:
    """A close frame's payload: the code, big-endian, then the reason in UTF-8."""
    return code.to_bytes(2, "big") + reason.encode()


def receivable_close_code(code: int) -> bool:
    """Whether a peer may put ``code`` in a close frame (RFC 6455 section 7.4 and the
    IANA registry): the defined protocol codes, and 3000-4999 for libraries and
    applications. 1004 is reserved; 1005, 1006 and 1015 only describe a close locally."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999
