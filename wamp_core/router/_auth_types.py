"""What the router's authentication steps answer, and the plumbing every method shares.

One verifier runs one authentication method for one HELLO. The acceptor asks
it for its :meth:`~Verifier.challenge` (an :class:`Accept` or :class:`Deny`
right away, or an :class:`Ask` to send as CHALLENGE) and hands it the
AUTHENTICATE that answers the CHALLENGE. Everything the client sent is
untrusted: a verifier answers malformed input with :class:`Deny`, never with an
exception. Only mistakes of the host (a bad argument to ``create_verifier``, a
broken ``random_bytes``) raise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from wamp_core.auth._cryptosign_key import CryptosignKey
from wamp_core.auth._util import RandomBytes

__all__ = [
    "AUTHENTICATION_FAILED",
    "NOT_AUTHORIZED",
    "NO_SUCH_PRINCIPAL",
    "NO_SUCH_ROLE",
    "Accept",
    "Ask",
    "Deny",
    "Lookup",
    "Verifier",
]

# Crossbar.io denies with autobahn's Deny() default (not_authorized) for every
# failed proof and unknown principal, with authentication_failed when a dynamic
# authenticator answered something unusable, and with no_such_principal /
# no_such_role when the principal leaves the authid / role unassigned.
NOT_AUTHORIZED: Final = "wamp.error.not_authorized"
AUTHENTICATION_FAILED: Final = "wamp.error.authentication_failed"
NO_SUCH_PRINCIPAL: Final = "wamp.error.no_such_principal"
NO_SUCH_ROLE: Final = "wamp.error.no_such_role"


@dataclass(frozen=True, slots=True)
class Accept:
    """Welcome the session: the WELCOME.Details authentication fields."""

    authid: str
    authrole: str
    authmethod: str
    authprovider: str
    authextra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Deny:
    """Refuse the session: ABORT with ``error`` (a URI) and ``message`` (never a secret)."""

    error: str
    message: str


@dataclass(frozen=True, slots=True)
class Ask:
    """Send CHALLENGE(method, extra) and pass the AUTHENTICATE to the same verifier."""

    method: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Lookup:
    """Dynamic ticket: call the authenticator now that the ticket is known.

    The host calls ``authenticate(realm, authid, details)`` with
    ``details["ticket"] = ticket`` (see ``authenticator_details``) and hands the
    answer to :attr:`finish`. When the call fails, the host denies by itself
    (Crossbar.io forwards the authenticator's error URI and message). The ticket is left
    out of the repr: reprs end up in logs.
    """

    realm: str
    authid: str | None
    ticket: str = field(repr=False)
    finish: Callable[[object], Accept | Deny] = field(repr=False)


class Verifier(Protocol):
    """The router side of one authentication method, for one HELLO."""

    def challenge(self) -> Accept | Deny | Ask:
        """After HELLO, with the principal known: welcome, refuse, or challenge."""

    def authenticate(self, signature: object, extra: Mapping[str, Any]) -> Accept | Deny | Lookup:
        """Check AUTHENTICATE(signature, extra), the answer to the :class:`Ask`."""


@dataclass(frozen=True, slots=True)
class Context:
    """What the acceptor knows about the HELLO being authenticated."""

    method: str
    realm: str
    authid: str | None
    authextra: Mapping[str, Any]  # HELLO.Details.authextra, {} when absent or not a dict
    provider: str
    session_id: int
    random_bytes: RandomBytes = field(repr=False)
    channel_id: bytes | None = field(repr=False)
    timestamp: str
    router_key: CryptosignKey | None = field(repr=False)


def identity(
    principal: Mapping[str, Any], authid: str | None, default_role: str | None = None
) -> tuple[str, str] | Deny:
    """(authid, authrole) the principal assigns, as Crossbar.io's _assign_principal does.

    The principal may override the authid (dynamic authenticators do); the
    role must come from the principal (or the method's default).
    """
    chosen = principal.get("authid", authid)
    if not chosen:
        return Deny(NO_SUCH_PRINCIPAL, "no authid assigned")
    role = principal.get("role", default_role)
    if not role:
        return Deny(NO_SUCH_ROLE, "no authrole assigned")
    return chosen, role


_NEW, _ASKED, _DONE = "new", "asked", "done"


class VerifierBase:
    """One pass through challenge() then authenticate(); anything out of order is a Deny.

    Subclasses implement ``_challenge`` and ``_authenticate``; ``_accept`` builds
    the Accept from the principal's identity and WELCOME authextra.
    """

    def __init__(self, ctx: Context, principal: Mapping[str, Any]) -> None:
        self._ctx = ctx
        self._principal = principal
        self._state = _NEW
        self._who: tuple[str, str] = ("", "")

    def challenge(self) -> Accept | Deny | Ask:
        """Run the method's first step once."""
        if self._state != _NEW:
            return Deny(NOT_AUTHORIZED, f"{self._ctx.method}: challenge already issued")
        self._state = _DONE
        result = self._challenge()
        if isinstance(result, Ask):
            self._state = _ASKED
        return result

    def authenticate(self, signature: object, extra: Mapping[str, Any]) -> Accept | Deny | Lookup:
        """Check the one AUTHENTICATE answering our CHALLENGE."""
        if self._state != _ASKED:
            return Deny(NOT_AUTHORIZED, f"{self._ctx.method}: AUTHENTICATE without a CHALLENGE")
        self._state = _DONE
        return self._authenticate(signature, extra)

    def _challenge(self) -> Accept | Deny | Ask:
        raise NotImplementedError

    def _authenticate(self, signature: object, extra: Mapping[str, Any]) -> Accept | Deny | Lookup:
        raise NotImplementedError

    def _assign(self, default_role: str | None = None) -> Deny | None:
        """Fix the identity first: no CHALLENGE goes out for a principal that cannot be welcomed."""
        who = identity(self._principal, self._ctx.authid, default_role)
        if isinstance(who, Deny):
            return who
        self._who = who
        return None

    def _accept(self, authextra: Mapping[str, Any] | None = None) -> Accept:
        extra = dict(self._principal.get("extra") or {})
        extra.update(authextra or {})
        authid, authrole = self._who
        return Accept(authid, authrole, self._ctx.method, self._ctx.provider, extra)

    def __repr__(self) -> str:
        # Never the principal: it holds the secrets.
        ctx = self._ctx
        return (
            f"{type(self).__name__}(method={ctx.method!r}, authid={ctx.authid!r}, "
            f"provider={ctx.provider!r}, state={self._state!r})"
        )


class Refused(VerifierBase):
    """The verifier for a principal that cannot be used: its challenge is the Deny."""

    def __init__(self, ctx: Context, deny: Deny) -> None:
        super().__init__(ctx, {})
        self._deny = deny

    def _challenge(self) -> Deny:
        return self._deny
