"""Principals: checking them, finding them in a static configuration, asking for them.

A principal is what the router knows about one authid, with Crossbar.io's node
configuration field names: ``role``, optional ``authid`` (a dynamic
authenticator may rename the client), ``realm`` and ``extra`` (sent in
WELCOME.Details.authextra), plus the method's credentials. Unknown keys are
ignored, as Crossbar.io ignores them in a dynamic authenticator's answer.

Error texts name the bad key and never its value: values may be secrets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from wamp_core.auth._scram_math import ARGON2_KDFS, PBKDF2_KDF
from wamp_core.auth._wampcra import MAX_ITERATIONS, MAX_KEYLEN
from wamp_core.router._auth_types import NOT_AUTHORIZED, Deny

__all__ = ["METHODS", "PROVIDERS", "authenticator_details", "check_principal", "find_principal"]

METHODS: Final = ("anonymous", "ticket", "wampcra", "cryptosign", "scram", "wamp-scram")
"""The authmethods verified (``scram``: Crossbar.io's SCRAM; ``wamp-scram``: the spec's)."""
PROVIDERS: Final = ("static", "dynamic")
"""Where a principal came from: the node configuration, or a dynamic authenticator."""

_PUBKEY_BYTES = 32
_SCRAM_KEY_BYTES = 32


def _typed(principal: Mapping[str, Any], key: str, kind: type, required: bool) -> Any:
    """``principal[key]`` if it has the type (bool is no int); ValueError naming the key."""
    if key not in principal:
        if required:
            raise ValueError(f"principal: '{key}' is missing")
        return None
    value = principal[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"principal: '{key}' must be {kind.__name__}, got {type(value).__name__}")
    return value


def _count(principal: Mapping[str, Any], key: str, maximum: int, required: bool = True) -> None:
    value = _typed(principal, key, int, required)
    if value is not None and not 1 <= value <= maximum:
        raise ValueError(f"principal: '{key}' must be between 1 and {maximum}")


def _hex(value: str, key: str, size: int | None) -> bytes:
    """Decode a hex field; ``size`` None means any non-empty length."""
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise ValueError(f"principal: '{key}' is not hex") from None
    if not raw or (size is not None and len(raw) != size):
        wanted = f"{size} bytes" if size is not None else "non-empty"
        raise ValueError(f"principal: '{key}' must be {wanted} of hex")
    return raw


def _check_ticket(principal: Mapping[str, Any], provider: str) -> None:
    # A dynamic authenticator has already judged the ticket; it need not return it.
    _typed(principal, "ticket", str, required=provider == "static")


def _check_wampcra(principal: Mapping[str, Any], provider: str) -> None:
    _typed(principal, "secret", str, required=True)
    salted = [key for key in ("salt", "iterations", "keylen") if key in principal]
    if salted:
        # Crossbar.io silently ignores a partial set; that would downgrade to unsalted.
        _typed(principal, "salt", str, required=True)
        _count(principal, "iterations", MAX_ITERATIONS)
        _count(principal, "keylen", MAX_KEYLEN)


def _check_cryptosign(principal: Mapping[str, Any], provider: str) -> None:
    # Static configurations list "authorized_keys"; Crossbar.io's dynamic
    # authenticators answer with one "pubkey". Either (or both) will do.
    keys = _typed(principal, "authorized_keys", list, required=False)
    pubkey = _typed(principal, "pubkey", str, required=False)
    if keys is None and pubkey is None:
        raise ValueError("principal: 'authorized_keys' (or 'pubkey') is missing")
    for key in keys or ():
        if not isinstance(key, str):
            raise ValueError("principal: 'authorized_keys' must hold hex strings")
        _hex(key, "authorized_keys", _PUBKEY_BYTES)
    if pubkey is not None:
        _hex(pubkey, "pubkey", _PUBKEY_BYTES)


def _check_scram(principal: Mapping[str, Any], provider: str) -> None:
    # Crossbar.io's format: salt and keys in hex (its credential tool writes them so).
    kdf = _typed(principal, "kdf", str, required=True)
    if kdf not in ARGON2_KDFS and kdf != PBKDF2_KDF:
        raise ValueError("principal: 'kdf' must be 'argon2id-13', 'argon2id13' or 'pbkdf2'")
    _count(principal, "iterations", MAX_ITERATIONS)
    _count(principal, "memory", 1 << 30, required=kdf in ARGON2_KDFS)
    _hex(_typed(principal, "salt", str, required=True), "salt", None)
    for key in ("stored-key", "server-key"):
        _hex(_typed(principal, key, str, required=True), key, _SCRAM_KEY_BYTES)


def _check_nothing(principal: Mapping[str, Any], provider: str) -> None:
    """Anonymous has no credentials."""


_CHECKS: dict[str, Callable[[Mapping[str, Any], str], None]] = {
    "anonymous": _check_nothing,
    "ticket": _check_ticket,
    "wampcra": _check_wampcra,
    "cryptosign": _check_cryptosign,
    "scram": _check_scram,
    "wamp-scram": _check_scram,
}


def check_principal(method: str, principal: object, *, provider: str = "static") -> dict[str, Any]:
    """The principal as a checked dict; ValueError naming the first bad key.

    Use it on the node configuration at start-up and on every dynamic
    authenticator answer. A bare string is a role (the old dynamic answer,
    which Crossbar.io still accepts). ``provider="dynamic"`` relaxes what a
    dynamic authenticator need not repeat (the ticket it has already checked).
    """
    if method not in _CHECKS:
        raise ValueError(f"unknown authmethod {method!r}; known: {', '.join(METHODS)}")
    if provider not in PROVIDERS:
        raise ValueError(f"provider must be one of {PROVIDERS}, got {provider!r}")
    if isinstance(principal, str):
        principal = {"role": principal}
    if not isinstance(principal, Mapping):
        raise ValueError(
            f"principal must be a dict or a role string, got {type(principal).__name__}"
        )
    for key in ("role", "authid", "realm"):
        if _typed(principal, key, str, required=False) == "":
            raise ValueError(f"principal: '{key}' must not be empty")
    _typed(principal, "extra", dict, required=False)
    _CHECKS[method](principal, provider)
    return dict(principal)


def _by_pubkey(
    principals: Mapping[str, Mapping[str, Any]], pubkey: object
) -> tuple[str, Mapping[str, Any]] | Deny:
    """The one principal listing ``pubkey`` among its authorized_keys (Crossbar.io's search)."""
    if not isinstance(pubkey, str) or not pubkey:
        return Deny(NOT_AUTHORIZED, "cannot identify client: no authid requested and no pubkey")
    wanted = pubkey.lower()
    found = [
        (authid, principal)
        for authid, principal in principals.items()
        if wanted in (str(key).lower() for key in principal.get("authorized_keys") or ())
    ]
    if len(found) > 1:
        return Deny(
            NOT_AUTHORIZED, "cannot infer client identity: several authids have this pubkey"
        )
    if not found:
        return Deny(NOT_AUTHORIZED, "cannot identify client: no principal has this pubkey")
    return found[0]


def find_principal(
    method: str,
    principals: Mapping[str, Mapping[str, Any]],
    authid: object,
    authextra: object = None,
) -> tuple[str, Mapping[str, Any]] | Deny:
    """(authid, principal) from a static configuration's principals (``users`` for wampcra).

    ``authid`` and ``authextra`` are HELLO.Details' (untrusted). Cryptosign
    without an authid finds the principal by ``authextra["pubkey"]``, as
    Crossbar.io does; the verifier then checks that key anyway.
    """
    if authid is None and method == "cryptosign":
        pubkey = authextra.get("pubkey") if isinstance(authextra, Mapping) else None
        return _by_pubkey(principals, pubkey)
    if not isinstance(authid, str) or not authid:
        return Deny(NOT_AUTHORIZED, "cannot identify client: no authid requested")
    principal = principals.get(authid)
    if principal is None:
        return Deny(NOT_AUTHORIZED, f"no principal with authid {authid!r} exists")
    return authid, principal


def authenticator_details(
    method: str,
    *,
    session_id: int,
    hello_details: Mapping[str, Any],
    transport: Mapping[str, Any] | None = None,
    ticket: str | None = None,
) -> dict[str, Any]:
    """The ``details`` argument of a dynamic authenticator call, as Crossbar.io builds it.

    The call is ``authenticate(realm, authid, details)``; ``ticket`` is set
    for the ticket method's call (made after AUTHENTICATE, see ``Lookup``).
    """
    details: dict[str, Any] = {
        "authmethod": method,
        "authid": hello_details.get("authid"),
        "authrole": hello_details.get("authrole"),
        "authextra": hello_details.get("authextra"),
        "session": session_id,
        "transport": dict(transport or {}),
    }
    if ticket is not None:
        details["ticket"] = ticket
    return details
