"""Small helpers shared by the authenticators: field checks, strict base64, XOR.

Everything a router sends is untrusted, so the field readers raise
:class:`~wamp_core.exception.AuthenticationError` (never ``KeyError`` or
``TypeError``) with a message that names the method and the field.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any

from wamp_core.exception import AuthenticationError

__all__ = [
    "CRYPTO_HINT",
    "RandomBytes",
    "b64decode_strict",
    "check_random",
    "missing_extra",
    "require_hex",
    "require_int",
    "require_str",
    "xor_bytes",
]

RandomBytes = Callable[[int], bytes]
"""The injectable randomness source: ``random_bytes(n)`` returns ``n`` random bytes."""

CRYPTO_HINT = "pip install wamp-sansio[crypto]"


def missing_extra(feature: str, exc: ImportError) -> ImportError:
    """The ImportError raised when the optional crypto extra is not installed."""
    error = ImportError(
        f"{feature} needs the optional 'cryptography' and 'argon2-cffi' packages "
        f"({exc.name or 'import failed'}): {CRYPTO_HINT}"
    )
    error.__cause__ = exc
    return error


def check_random(random_bytes: RandomBytes, count: int) -> bytes:
    """Draw ``count`` bytes and make sure an injected source did not short-change us."""
    data = random_bytes(count)
    if not isinstance(data, bytes) or len(data) != count:
        raise ValueError(f"random_bytes({count}) must return exactly {count} bytes")
    return data


def require_str(extra: Mapping[str, Any], field: str, method: str) -> str:
    """``extra[field]`` as a string, or AuthenticationError when missing or not a string."""
    value = extra.get(field)
    if not isinstance(value, str):
        raise AuthenticationError(
            f"{method} CHALLENGE: '{field}' must be a string, got {type(value).__name__}"
        )
    return value


def require_int(extra: Mapping[str, Any], field: str, method: str) -> int:
    """``extra[field]`` as an int (bool excluded), or AuthenticationError."""
    value = extra.get(field)
    # bool is an int subclass; a router sending true for a cost parameter is broken.
    if not isinstance(value, int) or isinstance(value, bool):
        raise AuthenticationError(
            f"{method} CHALLENGE: '{field}' must be an integer, got {type(value).__name__}"
        )
    return value


def require_hex(extra: Mapping[str, Any], field: str, method: str, length: int) -> bytes:
    """``extra[field]`` decoded from hex, exactly ``length`` bytes, or AuthenticationError."""
    text = require_str(extra, field, method)
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise AuthenticationError(f"{method} CHALLENGE: '{field}' is not hex") from None
    if len(raw) != length:
        raise AuthenticationError(
            f"{method} CHALLENGE: '{field}' must be {length} bytes, got {len(raw)}"
        )
    return raw


def b64decode_strict(text: str) -> bytes:
    """Decode canonical base64; ValueError on anything else.

    ``base64.b64decode`` without ``validate`` silently drops junk and stops at
    padding, which would let ``"abc==junk"`` pass for ``"abc=="``.
    """
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise ValueError(f"not canonical base64: {exc}") from None


def xor_bytes(left: bytes, right: bytes) -> bytes:
    """Bytewise XOR of two equally long byte strings."""
    if len(left) != len(right):
        raise ValueError(f"cannot XOR {len(left)} bytes with {len(right)} bytes")
    return bytes(a ^ b for a, b in zip(left, right, strict=True))
