"""The router side of WAMP-Cryptosign: Ed25519 over a random challenge, maybe channel-bound.

Channel binding follows Crossbar.io: only ``tls-unique`` (the one type
Python's ``ssl`` module can give), and a client asking for it on a transport
without TLS channel data is refused rather than silently unbound. The host
passes the raw ``tls-unique`` data; like the client, the verifier hashes it
into the 32-byte id that is XOR'ed into the challenge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wamp_core.auth._cryptosign_key import (
    CHALLENGE_SIZE,
    _ed25519_private,
    cryptosign_channel_id,
    cryptosign_sign,
    cryptosign_verify,
)
from wamp_core.auth._util import check_random
from wamp_core.router._auth_types import NOT_AUTHORIZED, Accept, Ask, Context, Deny, VerifierBase

__all__ = ["CryptosignVerifier"]

_BINDING = "tls-unique"


def _hex32(value: object) -> bytes | None:
    """32 bytes from a hex string, or None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        return None
    return raw if len(raw) == CHALLENGE_SIZE else None


class CryptosignVerifier(VerifierBase):
    """Cryptosign: the HELLO pubkey must be one of the principal's and sign our challenge.

    A HELLO ``challenge`` asks the router to authenticate itself: answered
    with ``router_key`` (``create_verifier``'s), refused without one.
    """

    def __init__(self, ctx: Context, principal: Mapping[str, Any]) -> None:
        _ed25519_private()  # the "install the crypto extra" ImportError now, not mid-handshake
        super().__init__(ctx, principal)
        self._pubkey = ""
        self._challenge_raw = b""
        self._channel: bytes | None = None

    def _binding(self) -> Deny | None:
        """Check the requested channel binding and fix the channel id to XOR in."""
        requested = self._ctx.authextra.get("channel_binding")
        if requested is None:
            return None
        if requested != _BINDING:
            return Deny(NOT_AUTHORIZED, f"invalid channel binding type requested (only {_BINDING})")
        if self._ctx.channel_id is None:
            return Deny(
                NOT_AUTHORIZED,
                f"channel binding {_BINDING!r} requested, but the transport has none",
            )
        self._channel = cryptosign_channel_id(self._ctx.channel_id)
        return None

    def _key(self) -> Deny | None:
        """The client's pubkey, which must be one the principal lists."""
        raw = _hex32(self._ctx.authextra.get("pubkey"))
        if raw is None:
            return Deny(NOT_AUTHORIZED, "extra.pubkey is missing or not 32 bytes of hex")
        # check_principal made sure these are hex; normalise case and spacing.
        keys = list(self._principal.get("authorized_keys") or ())
        if "pubkey" in self._principal:
            keys.append(self._principal["pubkey"])
        allowed = {bytes.fromhex(key).hex() for key in keys}
        if raw.hex() not in allowed:
            return Deny(
                NOT_AUTHORIZED, "extra.pubkey is not one of the principal's authorized_keys"
            )
        self._pubkey = raw.hex()
        return None

    def _challenge(self) -> Ask | Deny:
        denied = self._binding() or self._key() or self._assign()
        if denied is not None:
            return denied
        self._challenge_raw = check_random(self._ctx.random_bytes, CHALLENGE_SIZE)
        extra: dict[str, Any] = {
            "challenge": self._challenge_raw.hex(),
            "channel_binding": self._ctx.authextra.get("channel_binding"),
        }
        if self._ctx.authextra.get("challenge"):
            denied = self._sign_for_client(extra)
            if denied is not None:
                return denied
        return Ask("cryptosign", extra)

    def _sign_for_client(self, extra: dict[str, Any]) -> Deny | None:
        """Router authentication: sign the client's HELLO challenge (XOR the channel id)."""
        client_challenge = _hex32(self._ctx.authextra["challenge"])
        if client_challenge is None:
            return Deny(NOT_AUTHORIZED, "extra.challenge is not 32 bytes of hex")
        key = self._ctx.router_key
        if key is None:
            return Deny(
                NOT_AUTHORIZED, "router authentication requested, but the router has no key"
            )
        extra["pubkey"] = key.public_key_hex()
        extra["signature"] = cryptosign_sign(key, client_challenge, self._channel)
        return None

    def _authenticate(self, signature: object, extra: Mapping[str, Any]) -> Accept | Deny:
        if not isinstance(signature, str) or not cryptosign_verify(
            self._pubkey, signature, self._challenge_raw, self._channel
        ):
            return Deny(NOT_AUTHORIZED, "cryptosign signature is invalid")
        return self._accept()
