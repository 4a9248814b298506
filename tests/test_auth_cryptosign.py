"""CryptosignKey loading and AuthCryptosign flows: channel binding and router authentication."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from wamp_core.auth import (
    AuthCryptosign,
    CryptosignKey,
    cryptosign_channel_id,
    cryptosign_sign,
    cryptosign_verify,
)
from wamp_core.exception import AuthenticationError

SEED_HEX = "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510"
PUBKEY_HEX = "1adfc8bfe1d35616e64dffbd900096f23b066f914c8c2ffbb66f6075b96e116d"
CHALLENGE = bytes.fromhex("ff" * 32)
VECTOR_SIGNATURE = (
    "b32675b221f08593213737bef8240e7c15228b07028e19595294678c90d11c0cae80a357331bfc5cc9fb71081464"
    "e6e75013517c2cf067ad566a6b7b728e5d03" + "ff" * 32
)
CLIENT = CryptosignKey.from_hex(SEED_HEX)
ROUTER = CryptosignKey.from_seed(bytes(range(32)))
HELLO_CHALLENGE = bytes(range(100, 132))
TLS_DATA = b"tls-unique finished"


def openssh_pem(key: Any) -> bytes:
    data: bytes = key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
    return data


def router_auth(**kwargs: Any) -> AuthCryptosign:
    auth = AuthCryptosign(
        key=CLIENT,
        router_pubkey=ROUTER.public_key_hex(),
        random_bytes=lambda n: HELLO_CHALLENGE[:n],
        **kwargs,
    )
    assert auth.authextra()["challenge"] == HELLO_CHALLENGE.hex()
    return auth


def router_challenge(channel_id: bytes | None = None, **overrides: Any) -> dict[str, Any]:
    extra: dict[str, Any] = {
        "challenge": CHALLENGE.hex(),
        "pubkey": ROUTER.public_key_hex(),
        "signature": cryptosign_sign(ROUTER, HELLO_CHALLENGE, channel_id),
    }
    extra.update(overrides)
    return extra


# --- keys -------------------------------------------------------------------


def test_key_from_generated_openssh_key(tmp_path: Path) -> None:
    private = Ed25519PrivateKey.generate()
    pem = openssh_pem(private)
    for data in (pem, pem.decode("ascii")):
        key = CryptosignKey.from_ssh_key(data)
        signature = key.sign(b"message")
        assert CryptosignKey.verify(key.public_key_hex(), signature, b"message")
    path = tmp_path / "id_ed25519"
    path.write_bytes(pem)
    assert CryptosignKey.from_file(path).public_key_hex() == key.public_key_hex()
    assert CryptosignKey(private).public_key_hex() == key.public_key_hex()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"garbage", "cannot load"),
        (b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n", "load"),
    ],
)
def test_bad_openssh_key(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CryptosignKey.from_ssh_key(data)


def test_openssh_key_must_be_ed25519() -> None:
    with pytest.raises(ValueError, match="needs an ed25519 key"):
        CryptosignKey.from_ssh_key(openssh_pem(generate_private_key(SECP256R1())))


def test_openssh_password_on_plain_key() -> None:
    with pytest.raises(ValueError, match="cannot load"):
        CryptosignKey.from_ssh_key(openssh_pem(Ed25519PrivateKey.generate()), b"pw")


@pytest.mark.parametrize(
    "content",
    [SEED_HEX.encode() + b"\n", bytes.fromhex(SEED_HEX)],
    ids=["hex", "raw"],
)
def test_key_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "key"
    path.write_bytes(content)
    assert CryptosignKey.from_file(str(path)).public_key_hex() == PUBKEY_HEX


@pytest.mark.parametrize("content", [b"z" * 64, b"short"], ids=["not-hex", "short"])
def test_bad_key_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "key"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not an OpenSSH private key"):
        CryptosignKey.from_file(path)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: CryptosignKey.from_seed("x" * 32), TypeError),  # type: ignore[arg-type]
        (lambda: CryptosignKey.from_seed(b"x" * 31), ValueError),
        (lambda: CryptosignKey.from_hex(b"00" * 32), TypeError),  # type: ignore[arg-type]
        (lambda: CryptosignKey.from_hex("zz" * 32), ValueError),
        (lambda: CryptosignKey.from_hex("00" * 31), ValueError),
        (lambda: CryptosignKey(b"\x00" * 32), TypeError),  # type: ignore[arg-type]
        (lambda: CryptosignKey.verify("00", b"", b""), ValueError),
        (lambda: cryptosign_sign(CLIENT, b"\x00" * 31), ValueError),
        (lambda: cryptosign_sign(CLIENT, CHALLENGE, b"\x00" * 12), ValueError),
        (lambda: cryptosign_channel_id(b""), ValueError),
    ],
)
def test_key_misuse(call: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        call()


def test_key_repr_hides_seed() -> None:
    text = repr(CLIENT)
    assert PUBKEY_HEX in text
    assert SEED_HEX not in text


def test_verify_rejects_malformed_signatures() -> None:
    assert cryptosign_verify(PUBKEY_HEX, VECTOR_SIGNATURE, CHALLENGE)
    assert not cryptosign_verify(PUBKEY_HEX, "not hex", CHALLENGE)
    assert not cryptosign_verify(PUBKEY_HEX, VECTOR_SIGNATURE[:-2], CHALLENGE)
    assert not cryptosign_verify(PUBKEY_HEX, None, CHALLENGE)  # type: ignore[arg-type]
    tampered = "00" + VECTOR_SIGNATURE[2:]
    assert not cryptosign_verify(PUBKEY_HEX, tampered, CHALLENGE)


def test_cryptography_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.asymmetric", None)
    with pytest.raises(ImportError, match=r"pip install wamp-sansio\[crypto\]"):
        CryptosignKey.from_hex(SEED_HEX)


# --- client authentication ------------------------------------------------


def test_flow_without_binding() -> None:
    auth = AuthCryptosign("client01", key=CLIENT, authrole="device", authextra={"x": 1})
    assert auth.authmethod == "cryptosign"
    assert auth.authextra() == {"x": 1, "pubkey": PUBKEY_HEX}
    signature, extra = auth.on_challenge({"challenge": CHALLENGE.hex()}, channel_id=b"ignored")
    assert (signature, extra) == (VECTOR_SIGNATURE, {})
    auth.on_welcome({"anything": True})
    # The spec's CHALLENGE example carries an explicit null channel_binding.
    assert auth.on_challenge({"challenge": CHALLENGE.hex(), "channel_binding": None})[0] == (
        VECTOR_SIGNATURE
    )


@pytest.mark.parametrize("binding", ["tls-unique", "tls-exporter"])
def test_flow_with_channel_binding(binding: str) -> None:
    auth = AuthCryptosign(key=CLIENT, channel_binding=binding)
    assert auth.authextra() == {"pubkey": PUBKEY_HEX, "channel_binding": binding}
    extra = {"challenge": CHALLENGE.hex(), "channel_binding": binding}
    signature, _ = auth.on_challenge(extra, channel_id=TLS_DATA)
    channel_id = hashlib.sha256(TLS_DATA).digest()
    assert channel_id == cryptosign_channel_id(TLS_DATA)
    assert signature == cryptosign_sign(CLIENT, CHALLENGE, channel_id)
    assert cryptosign_verify(PUBKEY_HEX, signature, CHALLENGE, channel_id)


@pytest.mark.parametrize(
    ("requested", "echoed"),
    [("tls-unique", None), ("tls-unique", "tls-exporter"), (None, "tls-unique")],
)
def test_channel_binding_mismatch(requested: str | None, echoed: str | None) -> None:
    auth = AuthCryptosign(key=CLIENT, channel_binding=requested)
    extra = {"challenge": CHALLENGE.hex(), "channel_binding": echoed}
    with pytest.raises(AuthenticationError, match="does not match"):
        auth.on_challenge(extra, channel_id=TLS_DATA)


def test_channel_binding_needs_transport_data() -> None:
    auth = AuthCryptosign(key=CLIENT, channel_binding="tls-unique")
    with pytest.raises(ValueError, match="no channel binding data"):
        auth.on_challenge({"challenge": CHALLENGE.hex(), "channel_binding": "tls-unique"})


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "'challenge' must be a string"),
        ({"challenge": 5}, "'challenge' must be a string"),
        ({"challenge": "xyz"}, "not hex"),
        ({"challenge": "00" * 16}, "must be 32 bytes"),
    ],
)
def test_malformed_challenge(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(AuthenticationError, match=message):
        AuthCryptosign(key=CLIENT).on_challenge(extra)


# --- router authentication --------------------------------------------------


def test_router_auth_passes() -> None:
    auth = router_auth()
    signature, _ = auth.on_challenge(router_challenge())
    assert signature == VECTOR_SIGNATURE


def test_router_auth_accepts_uppercase_hex() -> None:
    auth = AuthCryptosign(
        key=CLIENT,
        router_pubkey=ROUTER.public_key_hex().upper(),
        random_bytes=lambda n: HELLO_CHALLENGE[:n],
    )
    auth.authextra()
    auth.on_challenge(router_challenge(pubkey=ROUTER.public_key_hex().upper()))


def test_router_auth_with_channel_binding() -> None:
    auth = router_auth(channel_binding="tls-unique")
    channel_id = cryptosign_channel_id(TLS_DATA)
    extra = router_challenge(channel_id, channel_binding="tls-unique")
    signature, _ = auth.on_challenge(extra, channel_id=TLS_DATA)
    assert cryptosign_verify(PUBKEY_HEX, signature, CHALLENGE, channel_id)


def test_router_auth_binding_must_be_in_router_signature() -> None:
    auth = router_auth(channel_binding="tls-unique")
    extra = router_challenge(None, channel_binding="tls-unique")  # router signed unbound
    with pytest.raises(AuthenticationError, match="signature is invalid"):
        auth.on_challenge(extra, channel_id=TLS_DATA)


def test_router_auth_spec_example1() -> None:
    # Example 1 of the spec: the router's half verifies through the full flow.
    hello_challenge = bytes.fromhex(
        "bbae60ea44cdd7b20dc7010a618b0f0803fab25a817520b4b7f057299b524deb"
    )
    auth = AuthCryptosign(
        key=CLIENT,
        router_pubkey="4a3838f6fe75251e613329d53fc69b262d5eac97fb1d73bebbaed4015b53c862",
        random_bytes=lambda n: hello_challenge,
    )
    assert auth.authextra()["challenge"] == hello_challenge.hex()
    auth.on_challenge(
        {
            "challenge": "0e9192bc08512c8198da159c1ae600ba91729215f35d56102ee318558e773537",
            "channel_binding": None,
            "pubkey": "4a3838f6fe75251e613329d53fc69b262d5eac97fb1d73bebbaed4015b53c862",
            "signature": "fd5128d2d207ba58a9d1d6f41b72c747964ad9d1294077b3b1eee6130b05843ab12c53"
            "c7f2519f73d4feb82db19d8ca0fc26b62bde6518e79a882f5795bc9f00bbae60ea44cdd7b20dc701"
            "0a618b0f0803fab25a817520b4b7f057299b524deb",
        }
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pubkey": None}, "pubkey is missing"),
        ({"pubkey": CLIENT.public_key_hex()}, "not the trusted router key"),
        ({"signature": None}, "signature is missing"),
        ({"signature": cryptosign_sign(ROUTER, CHALLENGE)}, "signature is invalid"),
        ({"signature": cryptosign_sign(CLIENT, HELLO_CHALLENGE)}, "signature is invalid"),
    ],
)
def test_router_auth_fails(overrides: dict[str, Any], message: str) -> None:
    extra = router_challenge()
    for name, value in overrides.items():
        if value is None:
            del extra[name]
        else:
            extra[name] = value
    with pytest.raises(AuthenticationError, match=message):
        router_auth().on_challenge(extra)


def test_router_auth_needs_pending_challenge() -> None:
    auth = AuthCryptosign(key=CLIENT, router_pubkey=ROUTER.public_key_hex())
    with pytest.raises(AuthenticationError, match="no HELLO challenge is pending"):
        auth.on_challenge(router_challenge())
    # A second CHALLENGE after a verified one cannot reuse the consumed challenge.
    auth = router_auth()
    auth.on_challenge(router_challenge())
    with pytest.raises(AuthenticationError, match="no HELLO challenge is pending"):
        auth.on_challenge(router_challenge())


def test_router_challenge_is_fresh_per_hello() -> None:
    auth = AuthCryptosign(key=CLIENT, router_pubkey=ROUTER.public_key_hex())
    first = auth.authextra()["challenge"]
    assert auth.authextra()["challenge"] == first
    with pytest.raises(AuthenticationError):
        auth.on_challenge(router_challenge())  # signed over HELLO_CHALLENGE, not ours
    assert auth.authextra()["challenge"] != first


# --- configuration ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"key": SEED_HEX}, TypeError, "CryptosignKey"),
        ({"channel_binding": "tls-server-end-point"}, ValueError, "channel_binding"),
        ({"router_pubkey": b"\x00" * 32}, TypeError, "router_pubkey"),
        ({"router_pubkey": "xyz"}, ValueError, "not hex"),
        ({"router_pubkey": "00" * 31}, ValueError, "32 bytes"),
        ({"authextra": {"pubkey": PUBKEY_HEX}}, ValueError, "pubkey"),
        ({"authid": 5}, TypeError, "authid"),
    ],
)
def test_bad_configuration(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    arguments: dict[str, Any] = {"key": CLIENT}
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        AuthCryptosign(**arguments)


def test_short_random_source() -> None:
    auth = AuthCryptosign(key=CLIENT, router_pubkey=PUBKEY_HEX, random_bytes=lambda n: b"")
    with pytest.raises(ValueError, match="exactly 32 bytes"):
        auth.authextra()


def test_repr_shows_no_key_material() -> None:
    text = repr(AuthCryptosign("client01", key=CLIENT))
    assert text == "AuthCryptosign(authmethod='cryptosign', authid='client01')"
    assert SEED_HEX not in text
