"""The router side of anonymous, ticket and WAMP-CRA authentication."""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Mapping
from typing import Any

from wamp_core.auth._util import RandomBytes, check_random
from wamp_core.auth._wampcra import compute_wcs, derive_key
from wamp_core.router._auth_principal import check_principal
from wamp_core.router._auth_types import (
    AUTHENTICATION_FAILED,
    NOT_AUTHORIZED,
    Accept,
    Ask,
    Context,
    Deny,
    Lookup,
    VerifierBase,
)

__all__ = ["AnonymousVerifier", "TicketVerifier", "WampCraVerifier", "anonymous_authid"]

# Crossbar.io's anonymous authids are autobahn serial numbers: 6 groups of 4
# characters from an alphabet without look-alikes (0/O/D, 1/I, 8/B, 2/Z).
_SERIAL_CHARS = "345679ACEFGHJKLMNPQRSTUVWXY"
_SERIAL_GROUPS, _SERIAL_GROUP_SIZE = 6, 4
_CRA_NONCE_BYTES = 48  # base64 of 48 bytes = the 64 characters of Crossbar.io's nonce


def _utf8(text: str) -> bytes:
    # A JSON decoder can hand us lone surrogates; they must compare unequal, not raise.
    return text.encode("utf-8", "surrogatepass")


def anonymous_authid(random_bytes: RandomBytes) -> str:
    """A fresh authid like Crossbar.io's ``XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`` (~114 bits)."""
    size = len(_SERIAL_CHARS)
    limit = 256 - 256 % size  # rejection sampling keeps the characters uniform
    count = _SERIAL_GROUPS * _SERIAL_GROUP_SIZE
    chars: list[str] = []
    while len(chars) < count:
        chars.extend(
            _SERIAL_CHARS[b % size] for b in check_random(random_bytes, count) if b < limit
        )
    groups = (chars[i : i + _SERIAL_GROUP_SIZE] for i in range(0, count, _SERIAL_GROUP_SIZE))
    return "-".join("".join(group) for group in groups)


class AnonymousVerifier(VerifierBase):
    """Anonymous: welcome at once.

    As in Crossbar.io the client cannot choose its identity: the authid is the
    principal's ``authid`` or a fresh random one, the role defaults to
    ``anonymous``, and a static principal echoes the HELLO authextra in WELCOME.
    """

    def _challenge(self) -> Accept | Deny:
        principal = dict(self._principal)
        principal.setdefault("authid", anonymous_authid(self._ctx.random_bytes))
        self._principal = principal
        default_role = "anonymous" if self._ctx.provider == "static" else None
        denied = self._assign(default_role)
        if denied is not None:
            return denied
        return self._accept(_echo(self._ctx))


def _echo(ctx: Context) -> dict[str, Any]:
    """The client's own authextra, which Crossbar.io's static anonymous and ticket send back."""
    return dict(ctx.authextra) if ctx.provider == "static" else {}


class TicketVerifier(VerifierBase):
    """Ticket: the signature is the ticket.

    Static: compared in constant time with the principal's ``ticket``.
    Dynamic: the principal is unknown until the authenticator has seen the
    ticket, so AUTHENTICATE answers a :class:`Lookup` whose ``finish`` takes
    the authenticator's answer.
    """

    def _challenge(self) -> Ask | Deny:
        if self._ctx.provider == "static":
            denied = self._assign()
            if denied is not None:
                return denied
        return Ask("ticket", {})

    def _authenticate(self, signature: object, extra: Mapping[str, Any]) -> Accept | Deny | Lookup:
        if not isinstance(signature, str):
            return Deny(NOT_AUTHORIZED, "ticket must be a string")
        if self._ctx.provider == "dynamic":
            return Lookup(self._ctx.realm, self._ctx.authid, signature, self._finish)
        if not hmac.compare_digest(_utf8(signature), _utf8(self._principal["ticket"])):
            return Deny(NOT_AUTHORIZED, "ticket in static WAMP-Ticket authentication is invalid")
        return self._accept(_echo(self._ctx))

    def _finish(self, answer: object) -> Accept | Deny:
        """Judge the dynamic authenticator's answer (a principal dict or a role string)."""
        try:
            self._principal = check_principal("ticket", answer, provider="dynamic")
        except ValueError as exc:
            return Deny(AUTHENTICATION_FAILED, f"dynamic authenticator answer: {exc}")
        denied = self._assign()
        return denied if denied is not None else self._accept()


class WampCraVerifier(VerifierBase):
    """WAMP-CRA: the client signs a JSON challenge with HMAC-SHA256 of the (salted) secret."""

    def __init__(self, ctx: Context, principal: Mapping[str, Any]) -> None:
        super().__init__(ctx, principal)
        self._expected = b""

    def _challenge(self) -> Ask | Deny:
        denied = self._assign()
        if denied is not None:
            return denied
        authid, authrole = self._who
        ctx = self._ctx
        nonce = base64.b64encode(check_random(ctx.random_bytes, _CRA_NONCE_BYTES)).decode("ascii")
        # The fields and their order are Crossbar.io's; the client signs the text as is.
        challenge = json.dumps(
            {
                "authid": authid,
                "authrole": authrole,
                "authmethod": "wampcra",
                "authprovider": ctx.provider,
                "session": ctx.session_id,
                "nonce": nonce,
                "timestamp": ctx.timestamp,
            },
            ensure_ascii=False,
        )
        extra: dict[str, Any] = {"challenge": challenge}
        key = _utf8(self._principal["secret"])
        if "salt" in self._principal:
            for name in ("salt", "iterations", "keylen"):
                extra[name] = self._principal[name]
            key = derive_key(key, extra["salt"], extra["iterations"], extra["keylen"])
        self._expected = compute_wcs(key, _utf8(challenge))
        return Ask("wampcra", extra)

    def _authenticate(self, signature: object, extra: Mapping[str, Any]) -> Accept | Deny:
        expected, self._expected = self._expected, b""
        if not isinstance(signature, str) or not hmac.compare_digest(_utf8(signature), expected):
            return Deny(NOT_AUTHORIZED, "WAMP-CRA client signature is invalid")
        return self._accept()
