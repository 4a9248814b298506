"""RFC 6455 frames as a client writes them (masked) and what their headers may say.

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
    "mask",
    "receivable_close_code",
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
    # One big-integer XOR does in C what a byte loop would do in Python.
    repeated = (key * ((size + 3) >> 2))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(size, "big")


def frame(opcode: int, payload: bytes, key: bytes) -> bytes:
    """One final (FIN), masked frame of ``opcode`` carrying ``payload``."""
    size = len(payload)
    first = 0x80 | opcode
    if size < 126:
        header = bytes((first, 0x80 | size))
    elif size < 65536:
        header = bytes((first, 0x80 | 126, size >> 8, size & 0xFF))
    else:
        header = bytes((first, 0x80 | 127)) + size.to_bytes(8, "big")
    return header + key + mask(payload, key)


def close_payload(code: int, reason: str) -> bytes:
    """A close frame's payload: the code, big-endian, then the reason in UTF-8."""
    return code.to_bytes(2, "big") + reason.encode()


def receivable_close_code(code: int) -> bool:
    """Whether a peer may put ``code`` in a close frame (RFC 6455 section 7.4 and the
    IANA registry): the defined protocol codes, and 3000-4999 for libraries and
    applications. 1004 is reserved; 1005, 1006 and 1015 only describe a close locally."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999
