"""The router side of WAMP-SCRAM, in both conventions the client speaks.

The authmethod names the convention (as in the client's factory): ``scram``
is Crossbar.io's (what Autobahn and our ``AuthScram(convention="crossbar")``
send), ``wamp-scram`` the spec's. The router needs no other switch: the
AuthMessage layout, the KDF spelling, the WELCOME field and channel binding
all follow from the name. What it cannot follow from the name is the stored
key material: the two conventions derive different StoredKey/ServerKey from
one password (Crossbar.io's HMAC key is the base64 text of the KDF output, the
spec's the raw bytes), so a principal's keys serve the convention they were
made for. Configure ``scram`` principals with Crossbar.io's credential tool or
:func:`scram_principal` (``method="scram"``), ``wamp-scram`` ones with
``method="wamp-scram"``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any, Final

from wamp_core.auth._saslprep import saslprep
from wamp_core.auth._scram import _valid_nonce
from wamp_core.auth._scram_math import (
    ARGON2_KDFS,
    scram_salted_password,
    scram_server_key,
    scram_stored_key,
)
from wamp_core.auth._scram_math import scram_auth_message as _auth_message
from wamp_core.auth._util import b64decode_strict, check_random, xor_bytes
from wamp_core.router._auth_principal import check_principal
from wamp_core.router._auth_types import NOT_AUTHORIZED, Accept, Ask, Context, Deny, VerifierBase

__all__ = ["SCRAM_METHODS", "ScramVerifier", "scram_principal"]

SCRAM_METHODS: Final = {"scram": "crossbar", "wamp-scram": "spec"}
"""authmethod -> the client's SCRAM convention."""
_SIGNATURE_FIELD = {"crossbar": "scram_server_signature", "spec": "verifier"}
_ARGON2_NAME = {"crossbar": "argon2id-13", "spec": "argon2id13"}
_BINDING = "tls-unique"  # the only type Python's ssl module gives
_SERVER_NONCE_BYTES = 16
_PROOF_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class ScramVerifier(VerifierBase):
    """SCRAM: checks the ClientProof against StoredKey, proves itself with ServerKey."""

    def __init__(self, ctx: Context, principal: Mapping[str, Any]) -> None:
        super().__init__(ctx, principal)
        self._convention = SCRAM_METHODS[ctx.method]
        self._username = ""
        self._client_nonce = ""
        self._nonce = ""
        self._salt = ""
        self._binding: str | None = None

    def _hello(self) -> Deny | None:
        """SASLprep the authid; check the client nonce and channel binding."""
        authid: object = self._ctx.authid
        if not isinstance(authid, str) or not authid:
            return Deny(NOT_AUTHORIZED, "cannot identify client: no authid requested")
        try:
            self._username = saslprep(authid)
        except ValueError:
            return Deny(NOT_AUTHORIZED, "authid is not a valid SASLprep string")
        nonce = self._ctx.authextra.get("nonce")
        # ',' would let the client forge AuthMessage attributes.
        if not isinstance(nonce, str) or not _valid_nonce(nonce):
            return Deny(NOT_AUTHORIZED, "client must send a nonce (printable ASCII without ',')")
        self._client_nonce = nonce
        requested = self._ctx.authextra.get("channel_binding")
        if requested is not None:
            if self._convention == "crossbar" or requested != _BINDING:
                return Deny(
                    NOT_AUTHORIZED,
                    f"unsupported channel binding (only {_BINDING}, with wamp-scram)",
                )
            if self._ctx.channel_id is None:
                return Deny(
                    NOT_AUTHORIZED,
                    f"channel binding {_BINDING!r} requested, but the transport has none",
                )
            self._binding = requested
        return None

    def _server_nonce(self) -> Deny | None:
        server = check_random(self._ctx.random_bytes, _SERVER_NONCE_BYTES)
        if self._convention == "spec":
            self._nonce = self._client_nonce + _b64(server)
            return None
        # Crossbar.io sends base64(client raw nonce + server raw nonce).
        try:
            client = b64decode_strict(self._client_nonce)
        except ValueError:
            return Deny(NOT_AUTHORIZED, "client nonce must be base64")
        self._nonce = _b64(client + server)
        return None

    def _challenge(self) -> Ask | Deny:
        denied = self._hello() or self._assign() or self._server_nonce()
        if denied is not None:
            return denied
        principal = self._principal
        extra: dict[str, Any] = {
            "nonce": self._nonce,
            "salt": _b64(bytes.fromhex(principal["salt"])),
            "kdf": principal["kdf"],
            "iterations": principal["iterations"],
        }
        if principal["kdf"] in ARGON2_KDFS:
            # Each convention's own spelling; the principal may use either.
            extra["kdf"] = _ARGON2_NAME[self._convention]
            extra["memory"] = principal["memory"]
        self._salt = extra["salt"]
        return Ask(self._ctx.method, extra)

    def _extra_matches(self, extra: Mapping[str, Any]) -> bool:
        """The spec's AUTHENTICATE.Extra repeats nonce and channel binding; Crossbar's is {}."""
        if self._convention == "crossbar":
            return True
        return extra.get("nonce", self._nonce) == self._nonce and (
            extra.get("channel_binding") == self._binding
        )

    def _authenticate(self, signature: object, extra: Mapping[str, Any]) -> Accept | Deny:
        if not self._extra_matches(extra):
            return Deny(NOT_AUTHORIZED, "AUTHENTICATE nonce or channel_binding does not match")
        try:
            proof = b64decode_strict(signature) if isinstance(signature, str) else b""
        except ValueError:
            proof = b""
        if len(proof) != _PROOF_BYTES:
            return Deny(NOT_AUTHORIZED, "SCRAM ClientProof must be 32 bytes of base64")
        # Our own channel data goes into the AuthMessage: a client on another
        # channel signed other data, and its proof fails.
        message = _auth_message(
            self._username,
            self._client_nonce,
            self._nonce,
            self._salt,
            self._principal["iterations"],
            convention=self._convention,
            channel_binding=self._binding,
            cbind_data=self._ctx.channel_id if self._binding is not None else None,
        ).encode("utf-8")
        server_signature = check_client_proof(
            bytes.fromhex(self._principal["stored-key"]),
            bytes.fromhex(self._principal["server-key"]),
            message,
            proof,
        )
        if server_signature is None:
            return Deny(NOT_AUTHORIZED, "SCRAM authentication failed")
        return self._accept({_SIGNATURE_FIELD[self._convention]: _b64(server_signature)})


def check_client_proof(
    stored_key: bytes, server_key: bytes, auth_message: bytes, proof: bytes
) -> bytes | None:
    """The ServerSignature if ``proof`` (32 bytes) is right for the AuthMessage, else None.

    ClientKey = proof XOR HMAC(StoredKey, AuthMessage) must hash to StoredKey:
    only someone who knew the password (or ClientKey) can make that proof.
    """
    client_key = xor_bytes(proof, hmac.digest(stored_key, auth_message, "sha256"))
    if not hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key):
        return None
    return hmac.digest(server_key, auth_message, "sha256")


def scram_principal(
    password: str,
    salt: bytes,
    *,
    method: str = "scram",
    kdf: str = "argon2id-13",
    iterations: int = 4096,
    memory: int = 512,
    role: str | None = None,
) -> dict[str, Any]:
    """A SCRAM principal for ``password``, in Crossbar.io's format (hex salt and keys).

    ``method`` is the authmethod it will serve (``scram`` or ``wamp-scram``:
    the keys differ, see the module docstring). The defaults are Crossbar.io's
    credential tool's (argon2id, 4096 iterations, 512 KiB); ``salt`` should be
    16 random bytes. ``memory`` is written for pbkdf2 too, as Crossbar.io's
    configuration check wants it.
    """
    if method not in SCRAM_METHODS:
        raise ValueError(f"method must be one of {tuple(SCRAM_METHODS)}, got {method!r}")
    convention = SCRAM_METHODS[method]
    if not isinstance(password, str) or not isinstance(salt, bytes) or not salt:
        raise TypeError("password must be a string and salt non-empty bytes")
    # The spec prepares the password (the client does the same); Crossbar.io does not.
    secret = saslprep(password) if convention == "spec" else password
    salted = scram_salted_password(
        secret,
        _b64(salt),
        kdf,
        iterations,
        memory if kdf in ARGON2_KDFS else None,
        convention=convention,
    )
    principal: dict[str, Any] = {
        "kdf": kdf,
        "iterations": iterations,
        "memory": memory,
        "salt": salt.hex(),
        "stored-key": scram_stored_key(salted).hex(),
        "server-key": scram_server_key(salted).hex(),
    }
    if role is not None:
        principal["role"] = role
    return check_principal(method, principal)
