"""Authentication primitives against the vectors of tests/vectors/auth.json.

The vector file is read at test time and never copied into the project; the
``json_binary`` vectors belong to the serializer tests.
"""

from __future__ import annotations

import base64
import json
import sys
from functools import cache
from typing import Any

import pytest

from tests.conftest import VECTORS
from wamp_core.auth import (
    WCS_SECRET_CHARSET,
    CryptosignKey,
    compute_wcs,
    cryptosign_sign,
    cryptosign_verify,
    derive_key,
    generate_wcs,
    scram_auth_message,
    scram_client_proof,
    scram_escape,
    scram_salted_password,
    scram_server_key,
    scram_server_signature,
    scram_stored_key,
)

VECTORS_PATH = VECTORS / "auth.json"


@cache
def vectors() -> dict[str, Any]:
    with VECTORS_PATH.open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def cases(section: str) -> list[dict[str, Any]]:
    return list(vectors()[section]["vectors"])


# --- cryptosign -------------------------------------------------------------


@pytest.mark.parametrize("case", cases("cryptosign"))
def test_cryptosign_vector(case: dict[str, Any]) -> None:
    key = CryptosignKey.from_hex(case["private_key_seed"])
    assert key.public_key_hex() == case["public_key"]
    assert (
        CryptosignKey.from_seed(bytes.fromhex(case["private_key_seed"])).public_key_hex()
        == (case["public_key"])
    )
    challenge = bytes.fromhex(case["challenge"])
    channel_id = bytes.fromhex(case["channel_id"]) if case["channel_id"] else None
    signature = cryptosign_sign(key, challenge, channel_id)
    assert signature == case["signature"]
    assert cryptosign_verify(case["public_key"], signature, challenge, channel_id)


@pytest.mark.parametrize("case", cases("cryptosign"))
def test_cryptosign_vector_rejects_other_challenge(case: dict[str, Any]) -> None:
    other = bytes(32)
    channel_id = bytes.fromhex(case["channel_id"]) if case["channel_id"] else None
    assert not cryptosign_verify(case["public_key"], case["signature"], other, channel_id)


# The spec's "Example Message Exchanges": client 545efb0a..., router 4a3838f6...
# Example 2 uses tls-unique with the (already SHA-256 hashed) channel id below.
SPEC_CLIENT = "545efb0a2192db8d43f118e9bf9aee081466e1ef36c708b96ee6f62dddad9122"
SPEC_ROUTER = "4a3838f6fe75251e613329d53fc69b262d5eac97fb1d73bebbaed4015b53c862"
SPEC_CHANNEL_ID = "e973bee24dcea9e20625f949c0e3cd28d632ccbefe4907c2fac2728710f7b160"
SPEC_EXAMPLES = [
    pytest.param(
        SPEC_ROUTER,
        "bbae60ea44cdd7b20dc7010a618b0f0803fab25a817520b4b7f057299b524deb",
        "fd5128d2d207ba58a9d1d6f41b72c747964ad9d1294077b3b1eee6130b05843ab12c53c7f2519f73d4feb82d"
        "b19d8ca0fc26b62bde6518e79a882f5795bc9f00bbae60ea44cdd7b20dc7010a618b0f0803fab25a817520b4b7"
        "f057299b524deb",
        None,
        id="example1-router",
    ),
    pytest.param(
        SPEC_CLIENT,
        "0e9192bc08512c8198da159c1ae600ba91729215f35d56102ee318558e773537",
        "a3a178fe792ed772a8fc092f8341e455de96670c8901264a7c312dbf940d5743626fe9fbc29b23dcd2169b308e"
        "ca309de85a89ccd296b24835de3d95b16b77030e9192bc08512c8198da159c1ae600ba91729215f35d56102ee3"
        "18558e773537",
        None,
        id="example1-client",
    ),
    pytest.param(
        SPEC_ROUTER,
        "4f861f12796c2972b7b0026522a687aa851d90355122a61d4f1fdce4d06b564f",
        "aa05f4cd7747d36b79443f1d4703a681e107edc085d876b508714e2a3a8135bacaae1c018452c4acb3ad2818aa"
        "97a6d23e5ac7e3734c7b1f40e6232a70938205a6f5a1f034a28090b195fb2ce2454a82532f5c8baf6ba1dfb5dd"
        "ae63c09ce72f",
        SPEC_CHANNEL_ID,
        id="example2-router",
    ),
    pytest.param(
        SPEC_CLIENT,
        "358625312c6c3bf64ed51d17d210ce21af1639c774cabf5735a9651d7d91fc6a",
        "25114474580d6e99a6126b091b4565c23db567d686c5b8c3a94e3f2f09dc80300c5b40a124236733fa56396df7"
        "21eb12ac092362379bd5b27b4db9e2beaa1408dcf59bd361a2921448f0e45e12f303097924f5798a83b895cf6b"
        "179a6d664d0a",
        SPEC_CHANNEL_ID,
        id="example2-client",
    ),
]


@pytest.mark.parametrize(("pubkey", "challenge", "signature", "channel_id"), SPEC_EXAMPLES)
def test_cryptosign_spec_examples_verify(
    pubkey: str, challenge: str, signature: str, channel_id: str | None
) -> None:
    channel = bytes.fromhex(channel_id) if channel_id else None
    assert cryptosign_verify(pubkey, signature, bytes.fromhex(challenge), channel)
    # The same signature without (or with) the channel binding must not verify.
    flipped = None if channel else bytes.fromhex(SPEC_CHANNEL_ID)
    assert not cryptosign_verify(pubkey, signature, bytes.fromhex(challenge), flipped)


# --- WAMP-CRA ---------------------------------------------------------------


@pytest.mark.parametrize("case", cases("wampcra_salted"))
def test_wampcra_salted_vector(case: dict[str, Any]) -> None:
    key = derive_key(case["secret"], case["salt"], case["iterations"], case["keylen"])
    assert key == case["derived_key"].encode("ascii")
    assert compute_wcs(key, case["challenge"]) == case["signature"].encode("ascii")
    # bytes and str inputs agree
    assert derive_key(
        case["secret"].encode(), case["salt"].encode(), case["iterations"], case["keylen"]
    ) == (key)
    assert compute_wcs(key.decode(), case["challenge"].encode()) == case["signature"].encode()


@pytest.mark.parametrize("case", cases("wampcra_plain"))
def test_wampcra_plain_vector(case: dict[str, Any]) -> None:
    assert compute_wcs(case["secret"], case["challenge"]) == case["signature"].encode("ascii")


def test_protocol_md_salted_vector() -> None:
    assert derive_key("secret1", "salt123", 100, 16) == b"prq7+YkJ1/KlW1X0YczMHw=="


def test_derive_key_defaults() -> None:
    assert derive_key("s", "salt") == derive_key("s", "salt", 1000, 32)
    assert len(base64.b64decode(derive_key("s", "salt"))) == 32


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"secret": 1, "salt": "s"}, TypeError),
        ({"secret": "s", "salt": None}, TypeError),
        ({"secret": "s", "salt": "s", "iterations": 1.5}, TypeError),
        ({"secret": "s", "salt": "s", "iterations": True}, TypeError),
        ({"secret": "s", "salt": "s", "iterations": 0}, ValueError),
        ({"secret": "s", "salt": "s", "keylen": 0}, ValueError),
        ({"secret": "s", "salt": "s", "keylen": 4096}, ValueError),
    ],
)
def test_derive_key_misuse(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        derive_key(**kwargs)


def test_compute_wcs_misuse() -> None:
    with pytest.raises(TypeError):
        compute_wcs(None, "x")  # type: ignore[arg-type]


def test_generate_wcs_default() -> None:
    secret = generate_wcs()
    assert len(secret) == 14
    assert set(secret.decode("ascii")) <= set(WCS_SECRET_CHARSET)


def test_generate_wcs_rejection_sampling() -> None:
    # 248..255 would bias the mapping onto 62 characters, so they are skipped.
    draws = iter([bytes([255, 0, 61, 62]), bytes([250, 1, 2, 3])])
    secret = generate_wcs(4, random_bytes=lambda n: next(draws))
    assert secret == b"A9AB"


@pytest.mark.parametrize("length", [0, -1, 1 << 20])
def test_generate_wcs_bad_length(length: int) -> None:
    with pytest.raises(ValueError):
        generate_wcs(length)


# --- WAMP-SCRAM -------------------------------------------------------------

SCRAM_SALT = "MDEyMzQ1Njc4OWFiY2RlZg=="  # base64 of b"0123456789abcdef"


@cache
def salted_for(index: int) -> bytes:
    """The (slow for argon2) salted password of one SCRAM vector, computed once."""
    case = cases("scram")[index]
    return scram_salted_password(
        case["password"],
        case["salt"],
        case["kdf"],
        case["iterations"],
        case.get("memory"),
        convention=case["convention"],
    )


SCRAM_IDS = [case["convention"] for case in cases("scram")]


@pytest.mark.parametrize("index", range(len(SCRAM_IDS)), ids=SCRAM_IDS)
def test_scram_vector(index: int) -> None:
    case = cases("scram")[index]
    salted = salted_for(index)
    auth_message = scram_auth_message(
        case["authid"],
        case["client_nonce"],
        case["nonce"],
        case["salt"],
        case["iterations"],
        convention=case["convention"],
    )
    assert auth_message == case["auth_message"]
    assert scram_client_proof(salted, auth_message) == case["client_proof"]
    assert scram_server_signature(salted, auth_message) == case["server_signature"]
    assert scram_stored_key(salted).hex() == case["stored_key_hex"]
    assert scram_server_key(salted).hex() == case["server_key_hex"]


def test_scram_crossbar_key_is_unpadded_base64_text() -> None:
    raw = scram_salted_password("pw", SCRAM_SALT, "pbkdf2", 10)
    text = scram_salted_password("pw", SCRAM_SALT, "pbkdf2", 10, convention="crossbar")
    assert len(raw) == 32
    assert text == base64.b64encode(raw).rstrip(b"=")
    assert scram_salted_password(b"pw", SCRAM_SALT, "pbkdf2", 10) == raw


def test_scram_argon2_spellings_agree() -> None:
    one = scram_salted_password("pw", SCRAM_SALT, "argon2id13", 2, 64)
    other = scram_salted_password("pw", SCRAM_SALT, "argon2id-13", 2, 64)
    assert one == other
    assert len(one) == 32


def test_spec_auth_message_with_binding() -> None:
    message = scram_auth_message(
        "a,b=c", "cn", "cnsn", "c2FsdA==", 1, channel_binding="tls-unique", cbind_data=b"\x01"
    )
    cbind = base64.b64encode(b"p=tls-unique,,\x01").decode()
    assert message == f"n=a=2Cb=3Dc,r=cn,r=cnsn,s=c2FsdA==,i=1,c={cbind},r=cnsn"
    assert scram_escape("=2C") == "=3D2C"


# --- the pure functions' misuse ----------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("pw", SCRAM_SALT, "md5", 1), {}, "unknown SCRAM kdf"),
        (("pw", SCRAM_SALT, "argon2id13", 1), {}, "needs the memory cost"),
        (("pw", SCRAM_SALT, "argon2id13", 1, 1), {}, "argon2 rejected"),
        (("pw", "no base64", "pbkdf2", 1), {}, "base64"),
        (("pw", SCRAM_SALT, "pbkdf2", 1), {"convention": "x"}, "convention"),
    ],
)
def test_salted_password_misuse(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        scram_salted_password(*args, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"convention": "crossbar", "channel_binding": "tls-unique", "cbind_data": b"x"},
        {"convention": "crossbar", "cbind_data": b"x"},
        {"channel_binding": "tls-unique"},
        {"cbind_data": b"x"},
    ],
)
def test_auth_message_misuse(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        scram_auth_message("a", "c", "cs", SCRAM_SALT, 1, **kwargs)


def test_argon2_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "argon2.exceptions", None)
    with pytest.raises(ImportError, match=r"pip install wamp-sansio\[crypto\]"):
        scram_salted_password("pw", SCRAM_SALT, "argon2id13", 1, 512)
