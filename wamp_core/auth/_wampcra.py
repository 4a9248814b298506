"""WAMP-CRA: HMAC-SHA256 over the router's challenge string, optionally salted.

The spec does not say how the salted key is derived or encoded; this follows
Autobahn and Crossbar.io (the only peers that matter for interop): PBKDF2 with
HMAC-SHA256 over the UTF-8 secret and the UTF-8 salt string (not base64
decoded), and the *base64 text* of the result is the HMAC key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from wamp_core.auth._base import AuthBase, require_authid
from wamp_core.auth._util import RandomBytes, require_int, require_str
from wamp_core.exception import AuthenticationError

__all__ = ["WCS_SECRET_CHARSET", "AuthWampCra", "compute_wcs", "derive_key", "generate_wcs"]

WCS_SECRET_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
"""The characters :func:`generate_wcs` draws from (Autobahn's set)."""

# A router choosing the PBKDF2 cost could make us spin for hours; Crossbar.io
# uses 1000 iterations and 32 bytes by default, so these bounds are generous.
MAX_ITERATIONS = 1 << 24
MAX_KEYLEN = 1024


def _as_bytes(value: str | bytes, name: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    raise TypeError(f"{name} must be str or bytes, got {type(value).__name__}")


def _check_count(value: int, name: str, maximum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not 1 <= value <= maximum:
        raise ValueError(f"{name} must be between 1 and {maximum}, got {value}")


def derive_key(
    secret: str | bytes, salt: str | bytes, iterations: int = 1000, keylen: int = 32
) -> bytes:
    """The salted WAMP-CRA key: base64 of PBKDF2-HMAC-SHA256, as ASCII bytes.

    Strings are UTF-8 encoded; the salt is used as given (Crossbar.io sends it
    as text and does not base64-decode it).
    """
    _check_count(iterations, "iterations", MAX_ITERATIONS)
    _check_count(keylen, "keylen", MAX_KEYLEN)
    raw = hashlib.pbkdf2_hmac(
        "sha256", _as_bytes(secret, "secret"), _as_bytes(salt, "salt"), iterations, keylen
    )
    return base64.b64encode(raw)


def compute_wcs(key: str | bytes, challenge: str | bytes) -> bytes:
    """The WAMP-CRA signature: base64 of HMAC-SHA256(key, challenge), as ASCII bytes."""
    digest = hmac.new(_as_bytes(key, "key"), _as_bytes(challenge, "challenge"), "sha256")
    return base64.b64encode(digest.digest())


def generate_wcs(length: int = 14, random_bytes: RandomBytes = secrets.token_bytes) -> bytes:
    """A random secret of ``length`` characters from :data:`WCS_SECRET_CHARSET`."""
    _check_count(length, "length", 1 << 16)
    size = len(WCS_SECRET_CHARSET)
    # Rejection sampling keeps the distribution uniform: only bytes below the
    # largest multiple of the charset size map onto it without bias.
    limit = 256 - 256 % size
    chars: list[str] = []
    while len(chars) < length:
        chars.extend(WCS_SECRET_CHARSET[b % size] for b in random_bytes(length) if b < limit)
    return "".join(chars[:length]).encode("ascii")


class AuthWampCra(AuthBase):
    """WAMP-CRA client: signs CHALLENGE.Extra.challenge with the (maybe salted) secret.

    Salting is used when CHALLENGE.Extra has a ``salt``; ``iterations`` and
    ``keylen`` must then be present too (Crossbar.io always sends all three).
    """

    authmethod = "wampcra"

    def __init__(
        self,
        authid: str,
        secret: str | bytes,
        *,
        authrole: str | None = None,
        authextra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(require_authid(authid, "wampcra"), authrole, authextra)
        self._secret = _as_bytes(secret, "secret")

    def on_challenge(
        self, extra: Mapping[str, Any], channel_id: bytes | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Sign the challenge string; WAMP-CRA has no channel binding, so channel_id is unused."""
        challenge = require_str(extra, "challenge", "wampcra")
        key = self._secret
        if extra.get("salt") is not None:
            salt = require_str(extra, "salt", "wampcra")
            iterations = require_int(extra, "iterations", "wampcra")
            keylen = require_int(extra, "keylen", "wampcra")
            if not 1 <= iterations <= MAX_ITERATIONS:
                raise AuthenticationError(
                    f"wampcra CHALLENGE: iterations {iterations} outside 1..{MAX_ITERATIONS}"
                )
            if not 1 <= keylen <= MAX_KEYLEN:
                raise AuthenticationError(
                    f"wampcra CHALLENGE: keylen {keylen} outside 1..{MAX_KEYLEN}"
                )
            key = derive_key(self._secret, salt, iterations, keylen)
        return compute_wcs(key, challenge).decode("ascii"), {}
