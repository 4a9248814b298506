"""The authenticator interface, a shared base, and the two trivial methods.

An authenticator is the client half of one WAMP authentication method. The
session asks it for ``authmethod``/``authid``/``authrole``/``authextra()`` when
it builds HELLO, hands it each CHALLENGE.Extra (plus the TLS channel-binding
data, when the transport has some) and sends back the returned signature and
AUTHENTICATE.Extra, then shows it WELCOME.Details.authextra so methods with
mutual authentication can check the router. Any failure is an
:class:`~wamp_core.exception.AuthenticationError`; the session turns it into
an ABORT.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from wamp_core.exception import AuthenticationError

__all__ = ["AuthAnonymous", "AuthTicket", "Authenticator"]


@runtime_checkable
class Authenticator(Protocol):
    """What the session needs from the client side of an authentication method.

    ``channel_id`` given to :meth:`on_challenge` is the raw TLS channel-binding
    data of the transport (``ssl.SSLObject.get_channel_binding(type)``), or
    None. Each method turns it into what its protocol signs, so the session
    never needs to know which method is running.
    """

    @property
    def authmethod(self) -> str:
        """The name announced in HELLO.Details.authmethods."""

    @property
    def authid(self) -> str | None:
        """HELLO.Details.authid, or None to let the router choose."""

    @property
    def authrole(self) -> str | None:
        """HELLO.Details.authrole, or None."""

    def authextra(self) -> dict[str, Any]:
        """HELLO.Details.authextra (a fresh dict)."""

    def on_challenge(
        self, extra: Mapping[str, Any], channel_id: bytes | None = None
    ) -> tuple[str, dict[str, Any]]:
        """(AUTHENTICATE.Signature, AUTHENTICATE.Extra) answering CHALLENGE.Extra."""

    def on_welcome(self, authextra: Mapping[str, Any]) -> None:
        """Check WELCOME.Details.authextra; raise AuthenticationError to refuse the router."""


class AuthBase:
    """Shared plumbing: identity fields, user-supplied authextra, a secret-free repr.

    ``reserved`` names the authextra keys the method itself fills in; a user
    value for one of them would silently break the handshake, so it is refused.
    """

    authmethod: str = ""

    def __init__(
        self,
        authid: str | None,
        authrole: str | None,
        authextra: Mapping[str, Any] | None,
        reserved: Iterable[str] = (),
    ) -> None:
        for name, value in (("authid", authid), ("authrole", authrole)):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} must be a string or None, got {type(value).__name__}")
        self.authid: str | None = authid
        self.authrole: str | None = authrole
        extra = dict(authextra) if authextra is not None else {}
        clash = sorted(set(extra) & set(reserved))
        if clash:
            raise ValueError(f"authextra keys {clash} are set by {self.authmethod} itself")
        self._extra = extra

    def authextra(self) -> dict[str, Any]:
        """The user-supplied authextra (a copy: callers may mutate it)."""
        return dict(self._extra)

    def on_welcome(self, authextra: Mapping[str, Any]) -> None:
        """Methods without router authentication accept any WELCOME."""

    def __repr__(self) -> str:
        # Never include secrets here: reprs end up in logs and tracebacks.
        return f"{type(self).__name__}(authmethod={self.authmethod!r}, authid={self.authid!r})"


def require_authid(authid: object, method: str) -> str:
    """The authid a method cannot work without, as a non-empty string."""
    if not isinstance(authid, str):
        raise TypeError(f"{method} needs an authid string, got {type(authid).__name__}")
    if not authid:
        raise ValueError(f"{method} needs a non-empty authid")
    return authid


class AuthAnonymous(AuthBase):
    """Anonymous authentication: nothing to prove, so a CHALLENGE is a router error."""

    authmethod = "anonymous"

    def __init__(
        self,
        authid: str | None = None,
        *,
        authrole: str | None = None,
        authextra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(authid, authrole, authextra)

    def on_challenge(
        self, extra: Mapping[str, Any], channel_id: bytes | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Refuse: anonymous authentication has no challenge to answer."""
        raise AuthenticationError("router sent a CHALLENGE for anonymous authentication")


class AuthTicket(AuthBase):
    """Ticket authentication: the ticket (a password or token) is the signature."""

    authmethod = "ticket"

    def __init__(
        self,
        authid: str,
        ticket: str,
        *,
        authrole: str | None = None,
        authextra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(require_authid(authid, "ticket"), authrole, authextra)
        if not isinstance(ticket, str):
            raise TypeError(f"ticket must be a string, got {type(ticket).__name__}")
        self._ticket = ticket

    def on_challenge(
        self, extra: Mapping[str, Any], channel_id: bytes | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Send the ticket; the CHALLENGE.Extra of ticket auth carries nothing we need."""
        return self._ticket, {}
