"""The WAMP-SCRAM computations as pure functions, with every input explicit.

Two conventions exist and a client must speak the one its router speaks:

``"spec"`` (the WAMP spec text, RFC 5802/7677)
    the raw 32-byte KDF output is the HMAC key; AuthMessage has
    ``n=Escape(authid)`` and ``c=Base64(gs2-header [+ cbind data])``
    (``c=biws`` without channel binding).
``"crossbar"`` (what Crossbar.io and Autobahn|Python actually do)
    the HMAC key is the ASCII text of the unpadded base64 of the KDF output
    (the hash field of an argon2 encoded hash); AuthMessage has the authid
    unescaped and an empty ``c=``. Crossbar.io's own credential tool only
    makes argon2 keys; for pbkdf2 the same key encoding is used so the two
    KDFs stay interchangeable (Autobahn's pbkdf2 path is broken, so there is
    nothing to be compatible with).

In both, the salt travels as base64 and is decoded before the KDF.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from wamp_core.auth._util import b64decode_strict, missing_extra, xor_bytes

__all__ = [
    "ARGON2_KDFS",
    "CONVENTIONS",
    "PBKDF2_KDF",
    "scram_auth_message",
    "scram_client_proof",
    "scram_escape",
    "scram_salted_password",
    "scram_server_key",
    "scram_server_signature",
    "scram_stored_key",
]

ARGON2_KDFS = frozenset({"argon2id13", "argon2id-13"})
"""Both spellings of argon2id v1.3: the spec's and Crossbar.io's."""
PBKDF2_KDF = "pbkdf2"
CONVENTIONS = ("crossbar", "spec")
_KEY_SIZE = 32  # both KDFs produce SHA-256-sized keys


def _check_convention(convention: str) -> None:
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")


def _argon2id(password: bytes, salt: bytes, iterations: int, memory: int) -> bytes:
    try:
        from argon2.exceptions import HashingError  # noqa: PLC0415
        from argon2.low_level import Type, hash_secret_raw  # noqa: PLC0415
    except ImportError as exc:
        raise missing_extra("WAMP-SCRAM with argon2", exc) from exc
    try:
        raw: bytes = hash_secret_raw(
            secret=password,
            salt=salt,
            time_cost=iterations,
            memory_cost=memory,
            parallelism=1,  # fixed by WAMP-SCRAM: the client's core count is unknown
            hash_len=_KEY_SIZE,
            type=Type.ID,
            version=0x13,
        )
    except HashingError as exc:
        raise ValueError(f"argon2 rejected the parameters: {exc}") from None
    return raw


def scram_salted_password(
    password: str | bytes,
    salt: str,
    kdf: str,
    iterations: int,
    memory: int | None = None,
    *,
    convention: str = "spec",
) -> bytes:
    """SaltedPassword as the convention uses it: the key of the Client/Server Key HMACs.

    ``password`` is used as given (UTF-8 for str): SASLprep it first for the
    spec convention. ``salt`` is the base64 string from the CHALLENGE;
    ``memory`` (KiB) is required for argon2.
    """
    _check_convention(convention)
    secret = password.encode("utf-8") if isinstance(password, str) else password
    salt_raw = b64decode_strict(salt)
    if kdf in ARGON2_KDFS:
        if memory is None:
            raise ValueError(f"kdf {kdf!r} needs the memory cost")
        raw = _argon2id(secret, salt_raw, iterations, memory)
    elif kdf == PBKDF2_KDF:
        raw = hashlib.pbkdf2_hmac("sha256", secret, salt_raw, iterations, _KEY_SIZE)
    else:
        raise ValueError(f"unknown SCRAM kdf {kdf!r}")
    if convention == "crossbar":
        return base64.b64encode(raw).rstrip(b"=")
    return raw


def scram_escape(name: str) -> str:
    """RFC 5802 saslname escaping: ``=`` becomes ``=3D`` and ``,`` becomes ``=2C``."""
    # "=" first, or the "=" of every "=2C" would be escaped again.
    return name.replace("=", "=3D").replace(",", "=2C")


def scram_auth_message(
    authid: str,
    client_nonce: str,
    nonce: str,
    salt: str,
    iterations: int,
    *,
    convention: str = "spec",
    channel_binding: str | None = None,
    cbind_data: bytes | None = None,
) -> str:
    """The AuthMessage both sides sign: client-first-bare, server-first, client-final-without-proof.

    ``authid`` is used as given (SASLprep it first); the spec convention
    escapes it. ``cbind_data`` is the raw channel-binding data (spec only).
    """
    _check_convention(convention)
    if convention == "crossbar":
        if channel_binding is not None or cbind_data is not None:
            raise ValueError("the crossbar SCRAM convention has no channel binding")
        name, cbind = authid, ""
    else:
        if (channel_binding is None) != (cbind_data is None):
            raise ValueError("channel_binding and cbind_data go together")
        flag = b"n" if channel_binding is None else b"p=" + channel_binding.encode("ascii")
        name = scram_escape(authid)
        cbind = base64.b64encode(flag + b",," + (cbind_data or b"")).decode("ascii")
    return f"n={name},r={client_nonce},r={nonce},s={salt},i={iterations},c={cbind},r={nonce}"


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


def _client_key(salted_password: bytes) -> bytes:
    return _hmac(salted_password, b"Client Key")


def scram_stored_key(salted_password: bytes) -> bytes:
    """StoredKey = SHA256(HMAC(SaltedPassword, "Client Key")): what the router stores."""
    return hashlib.sha256(_client_key(salted_password)).digest()


def scram_server_key(salted_password: bytes) -> bytes:
    """ServerKey = HMAC(SaltedPassword, "Server Key"): what the router stores."""
    return _hmac(salted_password, b"Server Key")


def scram_client_proof(salted_password: bytes, auth_message: str) -> str:
    """Base64 ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage), sent in AUTHENTICATE."""
    client_key = _client_key(salted_password)
    signature = _hmac(hashlib.sha256(client_key).digest(), auth_message.encode("utf-8"))
    return base64.b64encode(xor_bytes(client_key, signature)).decode("ascii")


def scram_server_signature(salted_password: bytes, auth_message: str) -> str:
    """Base64 ServerSignature = HMAC(ServerKey, AuthMessage): what the router proves itself with."""
    signature = _hmac(scram_server_key(salted_password), auth_message.encode("utf-8"))
    return base64.b64encode(signature).decode("ascii")
