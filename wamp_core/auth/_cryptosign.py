"""WAMP-Cryptosign client: Ed25519 challenge signing, channel binding, router authentication."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from wamp_core.auth._base import AuthBase
from wamp_core.auth._cryptosign_key import (
    CHALLENGE_SIZE,
    CryptosignKey,
    cryptosign_channel_id,
    cryptosign_sign,
    cryptosign_verify,
)
from wamp_core.auth._util import RandomBytes, check_random, require_hex
from wamp_core.exception import AuthenticationError

__all__ = ["CHANNEL_BINDINGS", "AuthCryptosign"]

CHANNEL_BINDINGS = ("tls-unique", "tls-exporter")
"""The channel-binding types cryptosign may request."""


def _trusted_pubkey(router_pubkey: object) -> str | None:
    """Validate the configured router key; lowercase so comparisons ignore hex case."""
    if router_pubkey is None:
        return None
    if not isinstance(router_pubkey, str):
        raise TypeError(f"router_pubkey must be a hex string, got {type(router_pubkey).__name__}")
    try:
        raw = bytes.fromhex(router_pubkey)
    except ValueError:
        raise ValueError("router_pubkey is not hex") from None
    if len(raw) != CHALLENGE_SIZE:
        raise ValueError(f"router_pubkey must be {CHALLENGE_SIZE} bytes, got {len(raw)}")
    return raw.hex()


class AuthCryptosign(AuthBase):
    """WAMP-Cryptosign client.

    ``channel_binding`` (``"tls-unique"`` or ``"tls-exporter"``) asks the router
    to bind the signature to the TLS channel; the router must echo the same
    type in CHALLENGE.Extra, and anything else (including declining) fails,
    because silently signing without binding would hand a relaying attacker
    exactly the signature it needs.

    ``router_pubkey`` (hex) turns on router authentication: HELLO carries a
    fresh random ``challenge``, and the CHALLENGE must carry that very
    ``pubkey`` and its ``signature`` over our challenge (XOR the channel id).
    """

    authmethod = "cryptosign"

    def __init__(
        self,
        authid: str | None = None,
        *,
        key: CryptosignKey,
        channel_binding: str | None = None,
        router_pubkey: str | None = None,
        authrole: str | None = None,
        authextra: Mapping[str, Any] | None = None,
        random_bytes: RandomBytes = secrets.token_bytes,
    ) -> None:
        super().__init__(authid, authrole, authextra, ("pubkey", "channel_binding", "challenge"))
        if not isinstance(key, CryptosignKey):
            raise TypeError(f"key must be a CryptosignKey, got {type(key).__name__}")
        if channel_binding is not None and channel_binding not in CHANNEL_BINDINGS:
            raise ValueError(
                f"channel_binding must be None or one of {CHANNEL_BINDINGS}, "
                f"got {channel_binding!r}"
            )
        self.key = key
        self.channel_binding = channel_binding
        self.router_pubkey = _trusted_pubkey(router_pubkey)
        self._random_bytes = random_bytes
        # Drawn when HELLO is built and consumed by the CHALLENGE, so a reconnect
        # never reuses a challenge whose router signature someone may have seen.
        self._router_challenge: bytes | None = None

    def authextra(self) -> dict[str, Any]:
        """``pubkey``, plus ``channel_binding`` and the router ``challenge`` when enabled."""
        extra = super().authextra()
        extra["pubkey"] = self.key.public_key_hex()
        if self.channel_binding is not None:
            extra["channel_binding"] = self.channel_binding
        if self.router_pubkey is not None:
            if self._router_challenge is None:
                self._router_challenge = check_random(self._random_bytes, CHALLENGE_SIZE)
            extra["challenge"] = self._router_challenge.hex()
        return extra

    def on_challenge(
        self, extra: Mapping[str, Any], channel_id: bytes | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Sign CHALLENGE.Extra.challenge (``channel_id``: the raw TLS binding data, or None)."""
        challenge = require_hex(extra, "challenge", "cryptosign", CHALLENGE_SIZE)
        echoed = extra.get("channel_binding")
        if echoed != self.channel_binding:
            raise AuthenticationError(
                f"cryptosign CHALLENGE: channel_binding {echoed!r} does not match the "
                f"requested {self.channel_binding!r}"
            )
        bound = self._bound_channel_id(channel_id)
        if self.router_pubkey is not None:
            self._verify_router(extra, self.router_pubkey, bound)
        return cryptosign_sign(self.key, challenge, bound), {}

    def _bound_channel_id(self, channel_id: bytes | None) -> bytes | None:
        """The 32-byte id to XOR in, or None without channel binding."""
        if self.channel_binding is None:
            return None
        if channel_id is None:
            raise ValueError(
                f"cryptosign was configured with channel_binding={self.channel_binding!r} "
                "but the transport supplied no channel binding data"
            )
        return cryptosign_channel_id(channel_id)

    def _verify_router(self, extra: Mapping[str, Any], trusted: str, bound: bytes | None) -> None:
        """Check the router signed our HELLO challenge with the trusted key."""
        pending, self._router_challenge = self._router_challenge, None
        if pending is None:
            raise AuthenticationError(
                "cryptosign router authentication: no HELLO challenge is pending "
                "(authextra() was not sent, or the router sent a second CHALLENGE)"
            )
        pubkey = extra.get("pubkey")
        if not isinstance(pubkey, str) or pubkey.lower() != trusted:
            raise AuthenticationError(
                "cryptosign router authentication: CHALLENGE.Extra.pubkey is missing or "
                "not the trusted router key"
            )
        signature = extra.get("signature")
        if not isinstance(signature, str):
            raise AuthenticationError(
                "cryptosign router authentication: CHALLENGE.Extra.signature is missing"
            )
        if not cryptosign_verify(trusted, signature, pending, bound):
            raise AuthenticationError(
                "cryptosign router authentication: the router's signature is invalid"
            )
