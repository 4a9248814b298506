"""The router side of WAMP authentication: anonymous, ticket, wampcra, cryptosign, scram.

Pure code for the acceptor, one HELLO at a time:

1. pick a method from HELLO's ``authmethods`` and get the principal: from the
   node configuration (:func:`find_principal`, checked at start-up with
   :func:`check_principal`) or from a dynamic authenticator the host calls as
   ``authenticate(realm, authid, details)`` (:func:`authenticator_details`);
2. ``verifier = create_verifier(...)``; ``verifier.challenge()`` is an
   :class:`Accept` (WELCOME), a :class:`Deny` (ABORT) or an :class:`Ask`
   (CHALLENGE);
3. ``verifier.authenticate(signature, extra)`` for the AUTHENTICATE is an
   Accept or a Deny, or for a dynamic ticket a :class:`Lookup`: call the
   authenticator with the ticket, then ``lookup.finish(answer)``.

Principals use Crossbar.io's node-configuration field names, and the
challenges, WELCOME authextra and error URIs are what Crossbar.io sends, so
Autobahn clients and ours both authenticate. Cryptosign and SCRAM's argon2
need the optional crypto extra, imported only when used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from wamp_core.auth._cryptosign_key import CryptosignKey
from wamp_core.auth._util import RandomBytes
from wamp_core.router._auth_cryptosign import CryptosignVerifier
from wamp_core.router._auth_methods import (
    AnonymousVerifier,
    TicketVerifier,
    WampCraVerifier,
    anonymous_authid,
)
from wamp_core.router._auth_principal import (
    METHODS,
    PROVIDERS,
    authenticator_details,
    check_principal,
    find_principal,
)
from wamp_core.router._auth_scram import SCRAM_METHODS, ScramVerifier, scram_principal
from wamp_core.router._auth_types import (
    AUTHENTICATION_FAILED,
    NO_SUCH_PRINCIPAL,
    NO_SUCH_ROLE,
    NOT_AUTHORIZED,
    Accept,
    Ask,
    Context,
    Deny,
    Lookup,
    Refused,
    Verifier,
    VerifierBase,
)

__all__ = [
    "AUTHENTICATION_FAILED",
    "METHODS",
    "NOT_AUTHORIZED",
    "NO_SUCH_PRINCIPAL",
    "NO_SUCH_ROLE",
    "PROVIDERS",
    "SCRAM_METHODS",
    "Accept",
    "Ask",
    "Deny",
    "Lookup",
    "Verifier",
    "anonymous_authid",
    "authenticator_details",
    "check_principal",
    "create_verifier",
    "find_principal",
    "scram_principal",
    "wampcra_principal",
]

_VERIFIERS: dict[str, Callable[[Context, Mapping[str, Any]], VerifierBase]] = {
    "anonymous": AnonymousVerifier,
    "ticket": TicketVerifier,
    "wampcra": WampCraVerifier,
    "cryptosign": CryptosignVerifier,
    "scram": ScramVerifier,
    "wamp-scram": ScramVerifier,
}


def create_verifier(
    method: str,
    *,
    realm: str,
    authid: str | None,
    hello_details: Mapping[str, Any],
    principal: object,
    provider: str,
    session_id: int,
    random_bytes: RandomBytes,
    channel_id: bytes | None = None,
    timestamp: str = "",
    router_key: CryptosignKey | None = None,
) -> Verifier:
    """The verifier for ``method`` and one HELLO.

    ``authid`` is the one the principal was found under (cryptosign may find
    it by pubkey; anonymous ignores it). ``principal`` is the configured one
    or the dynamic authenticator's answer, untrusted: one that fails
    :func:`check_principal` gives a verifier whose challenge() is a Deny. For
    a dynamic ticket it must be None: the authenticator is asked after
    AUTHENTICATE (see :class:`Lookup`). ``channel_id`` is the transport's raw
    ``tls-unique`` data or None; ``timestamp`` the ISO 8601 UTC time for the
    WAMP-CRA challenge (``2025-01-31T12:00:00.000Z``); ``router_key`` answers
    cryptosign router authentication.
    """
    if method not in _VERIFIERS:
        raise ValueError(f"unknown authmethod {method!r}; known: {', '.join(METHODS)}")
    if provider not in PROVIDERS:
        raise ValueError(f"provider must be one of {PROVIDERS}, got {provider!r}")
    authextra = hello_details.get("authextra")
    ctx = Context(
        method=method,
        realm=realm,
        authid=authid,
        authextra=authextra if isinstance(authextra, Mapping) else {},
        provider=provider,
        session_id=session_id,
        random_bytes=random_bytes,
        channel_id=channel_id,
        timestamp=timestamp,
        router_key=router_key,
    )
    if method == "ticket" and provider == "dynamic":
        # Accepting a principal here would let any ticket in: the authenticator
        # has not seen the ticket yet.
        if principal is not None:
            raise ValueError("a dynamic ticket principal comes from Lookup.finish, not from HELLO")
        return TicketVerifier(ctx, {})
    try:
        checked = check_principal(method, principal, provider=provider)
    except ValueError as exc:
        return Refused(ctx, Deny(AUTHENTICATION_FAILED, f"{provider} principal: {exc}"))
    return _VERIFIERS[method](ctx, checked)


def wampcra_principal(
    secret: str,
    *,
    salt: str | None = None,
    iterations: int = 1000,
    keylen: int = 32,
    role: str | None = None,
) -> dict[str, Any]:
    """A WAMP-CRA user in Crossbar.io's format, salted when ``salt`` is given.

    Crossbar.io keeps the secret itself and derives the salted key
    (``wamp_core.auth.derive_key``) for each challenge, so the secret is the
    one the client is configured with; a salt only changes what goes over the
    wire. ``iterations``/``keylen`` default to Crossbar.io's 1000 and 32.
    """
    user: dict[str, Any] = {"secret": secret}
    if salt is not None:
        user.update(salt=salt, iterations=iterations, keylen=keylen)
    if role is not None:
        user["role"] = role
    return check_principal("wampcra", user)
