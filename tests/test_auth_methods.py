"""Anonymous, ticket and WAMP-CRA flows, the factory, SASLprep and the shared helpers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import VECTORS
from wamp_core.auth import (
    AUTHMETHODS,
    AuthAnonymous,
    AuthCryptosign,
    Authenticator,
    AuthScram,
    AuthTicket,
    AuthWampCra,
    CryptosignKey,
    create_authenticator,
    saslprep,
)
from wamp_core.auth._util import check_random, require_hex, xor_bytes
from wamp_core.exception import AuthenticationError

VECTORS_PATH = VECTORS / "auth.json"
SEED_HEX = "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510"


def cases(section: str) -> list[dict[str, Any]]:
    with VECTORS_PATH.open(encoding="utf-8") as handle:
        return list(json.load(handle)[section]["vectors"])


# --- anonymous and ticket ---------------------------------------------------


def test_anonymous() -> None:
    auth = AuthAnonymous(authextra={"client": "x"})
    assert (auth.authmethod, auth.authid, auth.authrole) == ("anonymous", None, None)
    extra = auth.authextra()
    extra["mutated"] = True
    assert auth.authextra() == {"client": "x"}
    auth.on_welcome({})
    with pytest.raises(AuthenticationError, match="anonymous"):
        auth.on_challenge({})


def test_ticket_flow() -> None:
    auth = AuthTicket("joe", "secret-ticket-123", authrole="user")
    assert (auth.authmethod, auth.authid, auth.authrole) == ("ticket", "joe", "user")
    assert auth.authextra() == {}
    assert auth.on_challenge({}) == ("secret-ticket-123", {})
    auth.on_welcome({"whatever": 1})
    assert "secret-ticket" not in repr(auth)
    assert repr(auth) == "AuthTicket(authmethod='ticket', authid='joe')"


@pytest.mark.parametrize(
    ("args", "error"),
    [(("joe", b"bytes"), TypeError), ((None, "t"), TypeError), (("", "t"), ValueError)],
)
def test_ticket_misuse(args: tuple[Any, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        AuthTicket(*args)


# --- WAMP-CRA ---------------------------------------------------------------


@pytest.mark.parametrize("case", cases("wampcra_plain"))
def test_wampcra_plain_flow(case: dict[str, Any]) -> None:
    auth = AuthWampCra("peter", case["secret"])
    assert auth.authmethod == "wampcra"
    assert auth.on_challenge({"challenge": case["challenge"]}) == (case["signature"], {})
    # A null salt is no salt.
    assert auth.on_challenge({"challenge": case["challenge"], "salt": None})[0] == case["signature"]


@pytest.mark.parametrize("case", cases("wampcra_salted"))
def test_wampcra_salted_flow(case: dict[str, Any]) -> None:
    auth = AuthWampCra("peter", case["secret"].encode("utf-8"))
    extra = {
        "challenge": case["challenge"],
        "salt": case["salt"],
        "iterations": case["iterations"],
        "keylen": case["keylen"],
    }
    assert auth.on_challenge(extra) == (case["signature"], {})


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "'challenge' must be a string"),
        ({"challenge": 1}, "'challenge' must be a string"),
        ({"challenge": "c", "salt": 1, "iterations": 1, "keylen": 32}, "'salt'"),
        ({"challenge": "c", "salt": "s", "keylen": 32}, "'iterations'"),
        ({"challenge": "c", "salt": "s", "iterations": 10}, "'keylen'"),
        ({"challenge": "c", "salt": "s", "iterations": 0, "keylen": 32}, "iterations 0"),
        ({"challenge": "c", "salt": "s", "iterations": 1 << 30, "keylen": 32}, "iterations"),
        ({"challenge": "c", "salt": "s", "iterations": 10, "keylen": 0}, "keylen 0"),
        ({"challenge": "c", "salt": "s", "iterations": 10, "keylen": 1 << 20}, "keylen"),
    ],
)
def test_wampcra_bad_challenge(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(AuthenticationError, match=message):
        AuthWampCra("peter", "secret").on_challenge(extra)


def test_wampcra_misuse_and_repr() -> None:
    with pytest.raises(TypeError):
        AuthWampCra("peter", 123)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        AuthWampCra(None, "secret")  # type: ignore[arg-type]
    text = repr(AuthWampCra("peter", "very-secret-value"))
    assert "very-secret" not in text and "peter" in text


# --- the factory and the protocol -------------------------------------------


def test_create_each_method() -> None:
    built = [
        create_authenticator("anonymous"),
        create_authenticator("ticket", authid="a", ticket="t"),
        create_authenticator("wampcra", authid="a", secret="s"),
        create_authenticator("cryptosign", privkey=SEED_HEX),
        create_authenticator("cryptosign", key=CryptosignKey.from_hex(SEED_HEX)),
        create_authenticator("scram", authid="a", password="p"),
        create_authenticator("wamp-scram", authid="a", password="p", convention="spec"),
    ]
    kinds = [AuthAnonymous, AuthTicket, AuthWampCra, AuthCryptosign, AuthCryptosign]
    kinds += [AuthScram, AuthScram]
    for auth, kind in zip(built, kinds, strict=True):
        assert isinstance(auth, kind)
        assert isinstance(auth, Authenticator)
    assert {auth.authmethod for auth in built} == set(AUTHMETHODS)


@pytest.mark.parametrize(
    ("name", "kwargs", "error"),
    [
        ("kerberos", {}, ValueError),
        ("cryptosign", {"privkey": SEED_HEX, "key": None}, ValueError),
        ("scram", {"authid": "a", "password": "p", "convention": "spec"}, ValueError),
        ("wamp-scram", {"authid": "a", "password": "p", "convention": "crossbar"}, ValueError),
        ("ticket", {"authid": "a", "ticket": "t", "bogus": 1}, TypeError),
    ],
)
def test_create_misuse(name: str, kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        create_authenticator(name, **kwargs)


# --- SASLprep (RFC 4013 section 3 examples and the rest of the rules) -------------


@pytest.mark.parametrize(
    ("text", "prepared"),
    [
        ("I\u00adX", "IX"),  # soft hyphen is mapped to nothing
        ("user", "user"),
        ("USER", "USER"),
        ("\u00aa", "a"),  # NFKC
        ("\u2168", "IX"),  # NFKC
        ("a\u00a0b", "a b"),  # non-ASCII space becomes SPACE
        ("\u0627\u0628", "\u0627\u0628"),  # right-to-left only is fine
    ],
)
def test_saslprep(text: str, prepared: str) -> None:
    assert saslprep(text) == prepared


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\u0007", "control character"),
        ("a\ue000", "private use"),
        ("\u0627\u0031", "start and end"),  # RFC 4013's bidi example
        ("\u0627a\u0628", "mixes right-to-left"),
    ],
)
def test_saslprep_prohibited(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        saslprep(text)


def test_saslprep_type() -> None:
    with pytest.raises(TypeError):
        saslprep(b"bytes")  # type: ignore[arg-type]


# --- helpers ----------------------------------------------------------------


def test_helpers() -> None:
    assert xor_bytes(b"\x0f\xf0", b"\xff\xff") == b"\xf0\x0f"
    with pytest.raises(ValueError):
        xor_bytes(b"a", b"ab")
    with pytest.raises(ValueError):
        check_random(lambda n: "x" * n, 4)  # type: ignore[arg-type,return-value]
    assert require_hex({"h": "00ff"}, "h", "m", 2) == b"\x00\xff"
