"""RFC 6455 frames as each end writes them (a client masks, a server does not) and what
their headers may say.

The reading side lives in the transport itself (its hot loop); this module holds
the pieces both directions share and the writing side.
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

_POOL = 4096  # random bytes drawn at once: 1024 masks per call of the source


class MaskSource:
    """Fresh 4-byte masking keys (RFC 6455 section 5.3), drawn from ``random_bytes``
    in blocks: one call of a system CSPRNG per frame would cost more than the frame.
    Every key is used once and is unpredictable as long as the source is."""

    __slots__ = ("_at", "_pool", "_random_bytes")

    def __init__(self, random_bytes: RandomBytes) -> None:
        # Held as returning object: compiled code would otherwise reject a wrong
        # result with a bare TypeError before the check in draw() can explain it.
        self._random_bytes: Callable[[int], object] = random_bytes
        self._pool = b""
        self._at = 0

    def draw(self, count: int) -> bytes:
        """``count`` (at most the pool size) random bytes never handed out before."""
        at = self._at
        if at + count > len(self._pool):
            pool = self._random_bytes(_POOL)
            if not isinstance(pool, bytes) or len(pool) != _POOL:
                raise ValueError(f"random_bytes({_POOL}) must return exactly {_POOL} bytes")
            self._pool = pool
            at = 0
        self._at = at + count
        return self._pool[at : at + count]


def mask(payload: bytes, key: bytes) -> bytes:
    """``payload`` XOR the 4-byte ``key`` repeated (masking and unmasking alike)."""
    size = len(payload)
    if not size:
        return b""
    # One big-integer XOR does in C what a byte loop would do in Python (a compiled
    # loop too: measured 2-10 times slower); little-endian is CPython's own digit
    # order, so the conversions cost less than big-endian ones.
    repeated = (key * ((size + 3) >> 2))[:size]
    value = int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")
    return value.to_bytes(size, "little")


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
