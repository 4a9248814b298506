"""WAMP-SCRAM client, in the spec's convention or in the one Crossbar.io speaks.

See :mod:`wamp_core.auth._scram_math` for what differs between the two.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from wamp_core.auth._base import AuthBase, require_authid
from wamp_core.auth._saslprep import saslprep
from wamp_core.auth._scram_math import (
    ARGON2_KDFS,
    CONVENTIONS,
    PBKDF2_KDF,
    scram_auth_message,
    scram_client_proof,
    scram_salted_password,
    scram_server_signature,
)
from wamp_core.auth._util import (
    RandomBytes,
    b64decode_strict,
    check_random,
    require_int,
    require_str,
)
from wamp_core.exception import AuthenticationError

__all__ = ["SCRAM_CHANNEL_BINDINGS", "AuthScram", "ScramCostLimits"]

SCRAM_CHANNEL_BINDINGS = ("tls-unique", "tls-server-end-point", "tls-exporter")
"""Channel-binding types the spec convention may request."""

_NONCE_BYTES = 16  # the spec's recommended client nonce size
_SERVER_SIGNATURE_FIELDS = {"crossbar": "scram_server_signature", "spec": "verifier"}


@dataclass(frozen=True)
class ScramCostLimits:
    """The KDF costs a router may ask for; outside them the CHALLENGE is refused.

    Minimums stop a rogue router from harvesting a cheaply crackable hash of
    the password (the spec says the client SHOULD abort on low costs);
    maximums stop it from tying the client up for minutes or exhausting its
    memory. Defaults:

    * pbkdf2: 4096 iterations at least (RFC 7677 section 4), 2**24 at most;
    * argon2id: memory 512 KiB (what Crossbar.io's credential tool uses) to
      1 GiB, and ``iterations * memory`` at least 32768 KiB (every argon2id
      setting OWASP recommends, e.g. 19 MiB x 2, is above it; Crossbar.io's
      4096 x 512 KiB is far above) and at most 2**25 KiB (16 times Crossbar.io's);
    * salt: 8 bytes at least (RFC 2898; argon2's own minimum).
    """

    min_pbkdf2_iterations: int = 4096
    max_pbkdf2_iterations: int = 1 << 24
    min_argon2_memory: int = 512
    max_argon2_memory: int = 1 << 20
    min_argon2_work: int = 32768
    max_argon2_work: int = 1 << 25
    min_salt_bytes: int = 8

    def check_pbkdf2(self, iterations: int) -> None:
        """AuthenticationError unless the pbkdf2 iteration count is acceptable."""
        _within(
            "pbkdf2 iterations", iterations, self.min_pbkdf2_iterations, self.max_pbkdf2_iterations
        )

    def check_argon2(self, iterations: int, memory: int) -> None:
        """AuthenticationError unless the argon2id time and memory costs are acceptable."""
        _within("argon2 iterations", iterations, 1, self.max_argon2_work)
        _within("argon2 memory (KiB)", memory, self.min_argon2_memory, self.max_argon2_memory)
        _within(
            "argon2 iterations * memory",
            iterations * memory,
            self.min_argon2_work,
            self.max_argon2_work,
        )


def _within(what: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise AuthenticationError(f"SCRAM CHALLENGE: {what} {value} outside {low}..{high}")


def _valid_nonce(nonce: str) -> bool:
    """SCRAM nonces are printable ASCII without ',' (it separates AuthMessage attributes)."""
    return bool(nonce) and all(0x21 <= ord(ch) <= 0x7E and ch != "," for ch in nonce)


def _extends(nonce: str, client_nonce: str) -> bool:
    """Whether the router's nonce is our nonce plus a non-empty part of its own.

    The spec concatenates the two base64 strings; Crossbar.io instead sends
    base64(our raw nonce + its raw nonce), whose text does not start with our
    padded string. Either way our random bytes are committed, so accept both.
    """
    if nonce.startswith(client_nonce) and len(nonce) > len(client_nonce):
        return True
    try:
        ours, theirs = b64decode_strict(client_nonce), b64decode_strict(nonce)
    except ValueError:
        return False
    return theirs.startswith(ours) and len(theirs) > len(ours)


class _Challenge(NamedTuple):
    nonce: str
    salt: str
    kdf: str
    iterations: int
    memory: int | None


class AuthScram(AuthBase):
    """WAMP-SCRAM client.

    ``convention="crossbar"`` (the default, authmethod ``scram``) talks to
    Crossbar.io; ``convention="spec"`` (authmethod ``wamp-scram``) follows the
    spec text and may use ``channel_binding``. ``nonce`` fixes the client
    nonce (for tests only: a fixed nonce allows replay); otherwise each HELLO
    gets 16 fresh random bytes. ``limits`` bounds the KDF costs accepted.
    """

    def __init__(
        self,
        authid: str,
        password: str,
        *,
        convention: str = "crossbar",
        channel_binding: str | None = None,
        nonce: str | None = None,
        limits: ScramCostLimits | None = None,
        authrole: str | None = None,
        authextra: Mapping[str, Any] | None = None,
        random_bytes: RandomBytes = secrets.token_bytes,
    ) -> None:
        if convention not in CONVENTIONS:
            raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
        self.convention = convention
        self.authmethod = "scram" if convention == "crossbar" else "wamp-scram"
        super().__init__(
            require_authid(authid, self.authmethod),
            authrole,
            authextra,
            ("nonce", "channel_binding"),
        )
        if not isinstance(password, str):
            raise TypeError(f"password must be a string, got {type(password).__name__}")
        self._check_binding(channel_binding)
        if nonce is not None and not (isinstance(nonce, str) and _valid_nonce(nonce)):
            raise ValueError("nonce must be non-empty printable ASCII without ','")
        self.channel_binding = channel_binding
        self.limits = limits if limits is not None else ScramCostLimits()
        self._username = saslprep(authid)
        # Crossbar.io derives its stored keys from the unnormalised password.
        self._password = saslprep(password) if convention == "spec" else password
        self._fixed_nonce = nonce
        self._client_nonce = nonce
        self._random_bytes = random_bytes
        self._salted: bytes | None = None
        self._auth_message: str | None = None

    def _check_binding(self, channel_binding: str | None) -> None:
        if channel_binding is None:
            return
        if self.convention == "crossbar":
            raise ValueError("Crossbar.io's SCRAM has no channel binding; use convention='spec'")
        if channel_binding not in SCRAM_CHANNEL_BINDINGS:
            raise ValueError(
                f"channel_binding must be None or one of {SCRAM_CHANNEL_BINDINGS}, "
                f"got {channel_binding!r}"
            )

    def authextra(self) -> dict[str, Any]:
        """``nonce`` (base64 of 16 random bytes, drawn once per HELLO) and ``channel_binding``."""
        extra = super().authextra()
        if self._client_nonce is None:
            raw = check_random(self._random_bytes, _NONCE_BYTES)
            self._client_nonce = base64.b64encode(raw).decode("ascii")
        extra["nonce"] = self._client_nonce
        extra["channel_binding"] = self.channel_binding
        return extra

    def _take_nonce(self) -> str:
        """Our pending nonce; consumed so the next HELLO draws a new one."""
        pending = self._client_nonce
        self._client_nonce = self._fixed_nonce
        if pending is None:
            raise AuthenticationError(
                "SCRAM CHALLENGE without a pending HELLO nonce "
                "(authextra() was not sent, or the router sent a second CHALLENGE)"
            )
        return pending

    def _parse(self, extra: Mapping[str, Any], client_nonce: str) -> _Challenge:
        """Validate CHALLENGE.Extra: nonce, salt, kdf and costs."""
        method = self.authmethod
        nonce = require_str(extra, "nonce", method)
        if not _valid_nonce(nonce) or not _extends(nonce, client_nonce):
            raise AuthenticationError(f"{method} CHALLENGE: nonce does not extend our nonce")
        salt = require_str(extra, "salt", method)
        try:
            salt_size = len(b64decode_strict(salt))
        except ValueError:
            raise AuthenticationError(f"{method} CHALLENGE: salt is not base64") from None
        if salt_size < self.limits.min_salt_bytes:
            raise AuthenticationError(f"{method} CHALLENGE: salt of {salt_size} bytes is too short")
        kdf = require_str(extra, "kdf", method)
        iterations = require_int(extra, "iterations", method)
        memory: int | None = None
        if kdf in ARGON2_KDFS:
            memory = require_int(extra, "memory", method)
            self.limits.check_argon2(iterations, memory)
        elif kdf == PBKDF2_KDF:
            self.limits.check_pbkdf2(iterations)
        else:
            raise AuthenticationError(f"{method} CHALLENGE: unknown kdf {kdf!r}")
        if "channel_binding" in extra and extra["channel_binding"] != self.channel_binding:
            raise AuthenticationError(
                f"{method} CHALLENGE: channel_binding {extra['channel_binding']!r} does not "
                f"match the requested {self.channel_binding!r}"
            )
        return _Challenge(nonce, salt, kdf, iterations, memory)

    def on_challenge(
        self, extra: Mapping[str, Any], channel_id: bytes | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Base64 ClientProof and AUTHENTICATE.Extra (``channel_id``: raw TLS binding data)."""
        client_nonce = self._take_nonce()
        challenge = self._parse(extra, client_nonce)
        if self.channel_binding is not None and channel_id is None:
            raise ValueError(
                f"SCRAM was configured with channel_binding={self.channel_binding!r} "
                "but the transport supplied no channel binding data"
            )
        cbind_data = channel_id if self.channel_binding is not None else None
        salted = scram_salted_password(
            self._password,
            challenge.salt,
            challenge.kdf,
            challenge.iterations,
            challenge.memory,
            convention=self.convention,
        )
        auth_message = scram_auth_message(
            self._username,
            client_nonce,
            challenge.nonce,
            challenge.salt,
            challenge.iterations,
            convention=self.convention,
            channel_binding=self.channel_binding,
            cbind_data=cbind_data,
        )
        self._salted, self._auth_message = salted, auth_message
        return scram_client_proof(salted, auth_message), self._reply_extra(challenge, cbind_data)

    def _reply_extra(self, challenge: _Challenge, cbind_data: bytes | None) -> dict[str, Any]:
        """AUTHENTICATE.Extra: empty for Crossbar.io (as Autobahn), the spec's fields otherwise."""
        if self.convention == "crossbar":
            return {}
        reply: dict[str, Any] = {"nonce": challenge.nonce, "channel_binding": self.channel_binding}
        if cbind_data is not None:
            reply["cbind_data"] = base64.b64encode(cbind_data).decode("ascii")
        return reply

    def on_welcome(self, authextra: Mapping[str, Any]) -> None:
        """Verify the router's ServerSignature; AuthenticationError when missing or wrong."""
        salted, auth_message = self._salted, self._auth_message
        # Forget the key material whatever the outcome: it is not needed again.
        self._salted = self._auth_message = None
        if salted is None or auth_message is None:
            raise AuthenticationError(
                "SCRAM WELCOME before our CHALLENGE answer: router unverified"
            )
        field = _SERVER_SIGNATURE_FIELDS[self.convention]
        other = _SERVER_SIGNATURE_FIELDS["spec" if self.convention == "crossbar" else "crossbar"]
        # Accept the other convention's field name too: the value still has to match.
        value = authextra.get(field, authextra.get(other))
        if not isinstance(value, str):
            raise AuthenticationError(f"SCRAM WELCOME: no server signature in authextra.{field}")
        # The spec's example prefixes the value with "v=" (as in RFC 5802); tolerate it.
        value = value.removeprefix("v=")
        expected = base64.b64decode(scram_server_signature(salted, auth_message))
        try:
            received = b64decode_strict(value)
        except ValueError:
            raise AuthenticationError("SCRAM WELCOME: server signature is not base64") from None
        if not hmac.compare_digest(received, expected):
            raise AuthenticationError("SCRAM WELCOME: wrong server signature: router not verified")
