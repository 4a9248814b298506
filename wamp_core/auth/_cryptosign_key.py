"""Ed25519 keys for WAMP-Cryptosign, and the 96-byte signature format.

``cryptography`` is an optional extra: it is imported inside the functions
that need it, so ``import wamp_core`` works without it and only using
cryptosign raises the ImportError that says what to install.
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING

from wamp_core.auth._util import missing_extra, xor_bytes

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = [
    "CryptosignKey",
    "cryptosign_channel_id",
    "cryptosign_sign",
    "cryptosign_verify",
]

_OPENSSH_MARKER = b"-----BEGIN OPENSSH PRIVATE KEY-----"
CHALLENGE_SIZE = 32


def _ed25519_private() -> type[Ed25519PrivateKey]:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519  # noqa: PLC0415
    except ImportError as exc:
        raise missing_extra("WAMP-Cryptosign", exc) from exc
    return ed25519.Ed25519PrivateKey


def _check_32(value: object, name: str) -> bytes:
    if not isinstance(value, bytes):
        raise TypeError(f"{name} must be bytes, got {type(value).__name__}")
    if len(value) != CHALLENGE_SIZE:
        raise ValueError(f"{name} must be {CHALLENGE_SIZE} bytes, got {len(value)}")
    return value


def _hex_32(text: object, name: str) -> bytes:
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a hex string, got {type(text).__name__}")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"{name} is not hex") from None
    return _check_32(raw, name)


class CryptosignKey:
    """An Ed25519 private key used to answer cryptosign challenges.

    Build one with :meth:`from_seed`, :meth:`from_hex`, :meth:`from_ssh_key`
    or :meth:`from_file`. The repr shows the public key only.
    """

    __slots__ = ("_key",)

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        if not isinstance(private_key, _ed25519_private()):
            raise TypeError(f"expected an Ed25519PrivateKey, got {type(private_key).__name__}")
        self._key = private_key

    @classmethod
    def from_seed(cls, seed: bytes) -> CryptosignKey:
        """The key whose 32-byte private seed is ``seed``."""
        return cls(_ed25519_private().from_private_bytes(_check_32(seed, "seed")))

    @classmethod
    def from_hex(cls, seed_hex: str) -> CryptosignKey:
        """The key whose private seed is given as 64 hex characters."""
        if isinstance(seed_hex, str):
            seed_hex = seed_hex.strip()  # key files usually end with a newline
        return cls.from_seed(_hex_32(seed_hex, "seed_hex"))

    @classmethod
    def from_ssh_key(cls, data: str | bytes, password: bytes | None = None) -> CryptosignKey:
        """Load an OpenSSH (``-----BEGIN OPENSSH PRIVATE KEY-----``) ed25519 key.

        Encrypted keys need ``password`` (and the ``bcrypt`` package, which
        ``cryptography`` uses for them).
        """
        private_type = _ed25519_private()
        from cryptography.exceptions import UnsupportedAlgorithm  # noqa: PLC0415
        from cryptography.hazmat.primitives.serialization import (  # noqa: PLC0415
            load_ssh_private_key,
        )

        raw = data.encode("ascii") if isinstance(data, str) else data
        try:
            key = load_ssh_private_key(raw, password)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise ValueError(f"cannot load the OpenSSH private key: {exc}") from None
        if not isinstance(key, private_type):
            raise ValueError(f"cryptosign needs an ed25519 key, got {type(key).__name__}")
        return cls(key)

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], password: bytes | None = None
    ) -> CryptosignKey:
        """Load a key file: OpenSSH private key, 64 hex characters, or 32 raw bytes."""
        with open(path, "rb") as handle:
            data = handle.read()
        if _OPENSSH_MARKER in data:
            return cls.from_ssh_key(data, password)
        text = data.strip()
        if len(text) == 2 * CHALLENGE_SIZE:
            try:
                return cls.from_hex(text.decode("ascii"))
            except ValueError:  # includes UnicodeDecodeError
                pass  # not a hex seed after all; rejected below
        if len(data) == CHALLENGE_SIZE:
            return cls.from_seed(data)
        raise ValueError(
            f"{os.fspath(path)!r}: not an OpenSSH private key, a hex seed or a 32-byte raw seed"
        )

    def public_key_bytes(self) -> bytes:
        """The 32-byte raw public key."""
        from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

        return self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def public_key_hex(self) -> str:
        """The public key as 64 lowercase hex characters (HELLO authextra ``pubkey``)."""
        return self.public_key_bytes().hex()

    def sign(self, msg: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``msg``."""
        return self._key.sign(msg)

    @staticmethod
    def verify(pubkey_hex: str, signature: bytes, msg: bytes) -> bool:
        """Whether ``signature`` (64 bytes) is ``pubkey_hex``'s Ed25519 signature of ``msg``."""
        _ed25519_private()  # the clear ImportError before the imports below
        from cryptography.exceptions import InvalidSignature  # noqa: PLC0415
        from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: PLC0415
            Ed25519PublicKey,
        )

        public = Ed25519PublicKey.from_public_bytes(_hex_32(pubkey_hex, "pubkey_hex"))
        try:
            public.verify(signature, msg)
        except InvalidSignature:
            return False
        return True

    def __repr__(self) -> str:
        return f"CryptosignKey(public_key={self.public_key_hex()!r})"


def cryptosign_channel_id(binding_data: bytes) -> bytes:
    """The 32-byte channel id cryptosign XORs into the challenge.

    Autobahn and Crossbar.io hash the TLS channel-binding data (for
    ``tls-unique`` the first Finished message, 12 bytes in TLS 1.2) with
    SHA-256, which also gives the 32 bytes the XOR needs.
    """
    if not isinstance(binding_data, bytes) or not binding_data:
        raise ValueError("channel binding data must be non-empty bytes")
    return hashlib.sha256(binding_data).digest()


def _signed_message(challenge: bytes, channel_id: bytes | None) -> bytes:
    _check_32(challenge, "challenge")
    if channel_id is None:
        return challenge
    return xor_bytes(challenge, _check_32(channel_id, "channel_id"))


def cryptosign_sign(key: CryptosignKey, challenge: bytes, channel_id: bytes | None = None) -> str:
    """The AUTHENTICATE signature: hex(ed25519_sig(msg) || msg), 192 hex characters.

    ``msg`` is the 32-byte challenge, or challenge XOR ``channel_id`` (the
    32-byte id from :func:`cryptosign_channel_id`) with channel binding.
    """
    msg = _signed_message(challenge, channel_id)
    return (key.sign(msg) + msg).hex()


def cryptosign_verify(
    pubkey_hex: str, signature_hex: str, challenge: bytes, channel_id: bytes | None = None
) -> bool:
    """Whether ``signature_hex`` is a valid 96-byte cryptosign signature over ``challenge``.

    Checks both halves: the trailing message must be the challenge (XOR
    ``channel_id``), and the Ed25519 signature must verify under ``pubkey_hex``.
    """
    msg = _signed_message(challenge, channel_id)
    try:
        raw = bytes.fromhex(signature_hex)
    except (TypeError, ValueError):
        return False
    if len(raw) != 96 or raw[64:] != msg:
        return False
    return CryptosignKey.verify(pubkey_hex, raw[:64], msg)
