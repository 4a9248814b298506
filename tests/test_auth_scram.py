"""AuthScram: full HELLO -> CHALLENGE -> WELCOME flows in both conventions, and every refusal."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import VECTORS
from wamp_core.auth import (
    AuthScram,
    ScramCostLimits,
    create_authenticator,
    scram_auth_message,
    scram_client_proof,
    scram_salted_password,
    scram_server_signature,
)
from wamp_core.exception import AuthenticationError

VECTORS_PATH = VECTORS / "auth.json"


def cases(section: str) -> list[dict[str, Any]]:
    with VECTORS_PATH.open(encoding="utf-8") as handle:
        return list(json.load(handle)[section]["vectors"])


SALT = base64.b64encode(b"0123456789abcdef").decode()
CLIENT_RAW = b"clientnonce12345"
CLIENT_NONCE = base64.b64encode(CLIENT_RAW).decode()
SERVER_NONCE = base64.b64encode(b"servernonce67890").decode()


def fixed(data: bytes) -> Callable[[int], bytes]:
    """A random_bytes stand-in that always returns ``data`` (checked for the size asked)."""

    def random_bytes(count: int) -> bytes:
        return data[:count]

    return random_bytes


def pbkdf2_challenge(**overrides: Any) -> dict[str, Any]:
    extra: dict[str, Any] = {
        "nonce": CLIENT_NONCE + SERVER_NONCE,
        "salt": SALT,
        "kdf": "pbkdf2",
        "iterations": 4096,
    }
    extra.update(overrides)
    return extra


def started(convention: str = "crossbar", **kwargs: Any) -> AuthScram:
    auth = AuthScram(
        "alice", "secret", convention=convention, random_bytes=fixed(CLIENT_RAW), **kwargs
    )
    assert auth.authextra()["nonce"] == CLIENT_NONCE
    return auth


def expected_answer(convention: str, nonce: str, **kw: Any) -> tuple[str, str]:
    salted = scram_salted_password("secret", SALT, "pbkdf2", 4096, convention=convention)
    message = scram_auth_message(
        "alice", CLIENT_NONCE, nonce, SALT, 4096, convention=convention, **kw
    )
    return scram_client_proof(salted, message), scram_server_signature(salted, message)


# --- the vectors as full flows ----------------------------------------------


def test_spec_vector_flow() -> None:
    case = cases("scram")[0]
    assert case["convention"] == "spec"
    auth = AuthScram(
        case["authid"], case["password"], convention="spec", nonce=case["client_nonce"]
    )
    assert auth.authmethod == case["authmethod"] == "wamp-scram"
    assert auth.authextra() == {"nonce": case["client_nonce"], "channel_binding": None}
    challenge = {
        "nonce": case["nonce"],
        "salt": case["salt"],
        "kdf": case["kdf"],
        "iterations": case["iterations"],
        "memory": None,
    }
    proof, extra = auth.on_challenge(challenge)
    assert proof == case["client_proof"]
    assert extra == {"nonce": case["nonce"], "channel_binding": None}
    auth.on_welcome({case["server_signature_field"]: case["server_signature"]})
    # The spec's WELCOME example prefixes the verifier with "v=".
    auth.authextra()
    auth.on_challenge(challenge)
    auth.on_welcome({"verifier": "v=" + case["server_signature"]})


def test_crossbar_vector_flow() -> None:
    case = cases("scram")[1]
    assert case["convention"] == "crossbar"
    client_raw = base64.b64decode(case["client_nonce"])
    auth = create_authenticator(
        "scram",
        authid=case["authid"],
        password=case["password"],
        random_bytes=fixed(client_raw),
    )
    assert auth.authmethod == case["authmethod"] == "scram"
    assert auth.authextra() == {"nonce": case["client_nonce"], "channel_binding": None}
    challenge = {
        "nonce": case["nonce"],
        "salt": case["salt"],
        "kdf": case["kdf"],
        "iterations": case["iterations"],
        "memory": case["memory"],
    }
    proof, extra = auth.on_challenge(challenge)
    assert (proof, extra) == (case["client_proof"], {})
    auth.on_welcome({case["server_signature_field"]: case["server_signature"]})


@pytest.mark.parametrize("convention", ["crossbar", "spec"])
def test_wrong_server_signature(convention: str) -> None:
    auth = started(convention)
    auth.on_challenge(pbkdf2_challenge())
    _, good = expected_answer(convention, CLIENT_NONCE + SERVER_NONCE)
    bad = base64.b64encode(bytes(32)).decode()
    field = "verifier" if convention == "spec" else "scram_server_signature"
    with pytest.raises(AuthenticationError, match="wrong server signature"):
        auth.on_welcome({field: bad})
    # The key material is gone after WELCOME, right or wrong: no second try.
    with pytest.raises(AuthenticationError, match="before our CHALLENGE"):
        auth.on_welcome({field: good})


@pytest.mark.parametrize("convention", ["crossbar", "spec"])
def test_either_signature_field_is_accepted(convention: str) -> None:
    auth = started(convention)
    proof, _ = auth.on_challenge(pbkdf2_challenge())
    expected_proof, signature = expected_answer(convention, CLIENT_NONCE + SERVER_NONCE)
    assert proof == expected_proof
    other = "scram_server_signature" if convention == "spec" else "verifier"
    auth.on_welcome({other: signature})


def test_crossbar_real_nonce_format() -> None:
    # Crossbar.io sends base64(our raw nonce + its raw nonce), which does not
    # start with our padded base64 text.
    nonce = base64.b64encode(CLIENT_RAW + b"servernonce67890").decode()
    assert not nonce.startswith(CLIENT_NONCE)
    auth = started()
    proof, _ = auth.on_challenge(pbkdf2_challenge(nonce=nonce))
    assert proof == expected_answer("crossbar", nonce)[0]


def test_crossbar_argon2_flow_cheap() -> None:
    auth = started(limits=ScramCostLimits(min_argon2_work=1))
    challenge = pbkdf2_challenge(kdf="argon2id-13", iterations=2, memory=512)
    proof, _ = auth.on_challenge(challenge)
    salted = scram_salted_password("secret", SALT, "argon2id-13", 2, 512, convention="crossbar")
    message = scram_auth_message(
        "alice", CLIENT_NONCE, challenge["nonce"], SALT, 2, convention="crossbar"
    )
    assert proof == scram_client_proof(salted, message)
    auth.on_welcome({"scram_server_signature": scram_server_signature(salted, message)})


def test_spec_channel_binding_flow() -> None:
    binding = b"tls-finished"
    auth = started("spec", channel_binding="tls-unique")
    assert auth.authextra()["channel_binding"] == "tls-unique"
    nonce = CLIENT_NONCE + SERVER_NONCE
    proof, extra = auth.on_challenge(
        pbkdf2_challenge(channel_binding="tls-unique"), channel_id=binding
    )
    assert extra == {
        "nonce": nonce,
        "channel_binding": "tls-unique",
        "cbind_data": base64.b64encode(binding).decode(),
    }
    expected, signature = expected_answer(
        "spec", nonce, channel_binding="tls-unique", cbind_data=binding
    )
    assert proof == expected
    auth.on_welcome({"verifier": signature})


def test_channel_binding_needs_transport_data() -> None:
    auth = started("spec", channel_binding="tls-server-end-point")
    with pytest.raises(ValueError, match="no channel binding data"):
        auth.on_challenge(pbkdf2_challenge())


# --- nonces ------------------------------------------------------------------


def test_nonce_drawn_per_hello() -> None:
    draws = iter([b"a" * 16, b"b" * 16])
    auth = AuthScram("alice", "secret", random_bytes=lambda n: next(draws))
    first = auth.authextra()["nonce"]
    assert auth.authextra()["nonce"] == first  # the same HELLO may be rebuilt
    auth.on_challenge(pbkdf2_challenge(nonce=first + SERVER_NONCE))
    assert auth.authextra()["nonce"] == base64.b64encode(b"b" * 16).decode()


def test_default_random_source() -> None:
    nonce = AuthScram("alice", "secret").authextra()["nonce"]
    assert len(base64.b64decode(nonce)) == 16


def test_challenge_without_hello_nonce() -> None:
    auth = AuthScram("alice", "secret")
    with pytest.raises(AuthenticationError, match="pending HELLO nonce"):
        auth.on_challenge(pbkdf2_challenge())


def test_second_challenge_refused() -> None:
    auth = started()
    auth.on_challenge(pbkdf2_challenge())
    with pytest.raises(AuthenticationError, match="second CHALLENGE"):
        auth.on_challenge(pbkdf2_challenge())


def test_short_random_source() -> None:
    auth = AuthScram("alice", "secret", random_bytes=lambda n: b"x")
    with pytest.raises(ValueError, match="exactly 16 bytes"):
        auth.authextra()


# --- malformed or hostile CHALLENGEs -----------------------------------------


BAD_CHALLENGES = [
    ({"nonce": None}, "'nonce' must be a string"),
    ({"nonce": "someone+elses+nonce"}, "does not extend"),
    ({"nonce": CLIENT_NONCE}, "does not extend"),  # no server part
    ({"nonce": CLIENT_NONCE + "x,y"}, "does not extend"),  # ',' breaks AuthMessage
    ({"nonce": CLIENT_NONCE[:-2] + "!!xyz"}, "does not extend"),  # not base64 any more
    ({"nonce": base64.b64encode(b"X" * 32).decode()}, "does not extend"),  # other raw bytes
    ({"salt": 5}, "'salt' must be a string"),
    ({"salt": "not base64!"}, "salt is not base64"),
    ({"salt": base64.b64encode(b"short").decode()}, "too short"),
    ({"kdf": "md5"}, "unknown kdf"),
    ({"kdf": None}, "'kdf' must be a string"),
    ({"iterations": "4096"}, "'iterations' must be an integer"),
    ({"iterations": True}, "'iterations' must be an integer"),
    ({"iterations": 1000}, "pbkdf2 iterations 1000 outside"),
    ({"iterations": 1 << 30}, "pbkdf2 iterations"),
    ({"kdf": "argon2id13", "iterations": 64}, "'memory' must be an integer"),
    ({"kdf": "argon2id13", "iterations": 0, "memory": 512}, "argon2 iterations 0"),
    ({"kdf": "argon2id13", "iterations": 4096, "memory": 64}, "argon2 memory"),
    ({"kdf": "argon2id13", "iterations": 1, "memory": 1 << 21}, "argon2 memory"),
    ({"kdf": "argon2id13", "iterations": 2, "memory": 512}, "iterations \\* memory"),
    ({"kdf": "argon2id-13", "iterations": 1 << 20, "memory": 512}, "iterations \\* memory"),
    ({"channel_binding": "tls-unique"}, "channel_binding 'tls-unique' does not match"),
]


@pytest.mark.parametrize(("override", "message"), BAD_CHALLENGES)
def test_bad_challenge(override: dict[str, Any], message: str) -> None:
    auth = started()
    with pytest.raises(AuthenticationError, match=message):
        auth.on_challenge(pbkdf2_challenge(**override))


def test_declined_channel_binding_refused() -> None:
    auth = started("spec", channel_binding="tls-unique")
    with pytest.raises(AuthenticationError, match="channel_binding None does not match"):
        auth.on_challenge(pbkdf2_challenge(channel_binding=None), channel_id=b"x")


def test_custom_limits_allow_cheap_pbkdf2() -> None:
    auth = started(limits=ScramCostLimits(min_pbkdf2_iterations=1))
    proof, _ = auth.on_challenge(pbkdf2_challenge(iterations=1))
    assert proof


# --- WELCOME ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authextra", "message"),
    [
        ({}, "no server signature"),
        ({"scram_server_signature": 7}, "no server signature"),
        ({"scram_server_signature": "???"}, "not base64"),
    ],
)
def test_bad_welcome(authextra: dict[str, Any], message: str) -> None:
    auth = started()
    auth.on_challenge(pbkdf2_challenge())
    with pytest.raises(AuthenticationError, match=message):
        auth.on_welcome(authextra)


def test_welcome_without_challenge() -> None:
    with pytest.raises(AuthenticationError, match="router unverified"):
        started().on_welcome({"scram_server_signature": "AAAA"})


# --- configuration ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"convention": "rfc"}, ValueError, "convention"),
        ({"channel_binding": "tls-unique"}, ValueError, "use convention='spec'"),
        ({"convention": "spec", "channel_binding": "tls-magic"}, ValueError, "channel_binding"),
        ({"password": b"bytes"}, TypeError, "password"),
        ({"nonce": "a,b"}, ValueError, "nonce"),
        ({"nonce": ""}, ValueError, "nonce"),
        ({"nonce": 5}, ValueError, "nonce"),
        ({"authid": ""}, ValueError, "authid"),
        ({"authid": None}, TypeError, "authid"),
        ({"authrole": 5}, TypeError, "authrole"),
        ({"authextra": {"nonce": "x"}}, ValueError, "nonce"),
        ({"authid": "bell\x07"}, ValueError, "control character"),
    ],
)
def test_bad_configuration(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    arguments: dict[str, Any] = {"authid": "alice", "password": "secret"}
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        AuthScram(**arguments)


def test_user_authextra_and_role_are_sent() -> None:
    auth = AuthScram("alice", "secret", nonce="abc", authrole="admin", authextra={"x": 1})
    assert auth.authextra() == {"x": 1, "nonce": "abc", "channel_binding": None}
    assert auth.authrole == "admin"


def test_saslprep_of_authid_and_spec_password() -> None:
    # U+2168 ROMAN NUMERAL NINE normalises to "IX"; U+00AD SOFT HYPHEN vanishes.
    extra = pbkdf2_challenge(nonce="n" + SERVER_NONCE)
    spec_a = AuthScram("I\u00adX", "\u2168", convention="spec", nonce="n")
    spec_b = AuthScram("IX", "IX", convention="spec", nonce="n")
    assert spec_a.on_challenge(extra) == spec_b.on_challenge(extra)
    # Crossbar.io derives its keys from the password as typed.
    cb_a = AuthScram("IX", "\u2168", nonce="n")
    cb_b = AuthScram("IX", "IX", nonce="n")
    assert cb_a.on_challenge(extra) != cb_b.on_challenge(extra)


def test_repr_hides_password() -> None:
    text = repr(AuthScram("alice", "hunter2-password"))
    assert "hunter2" not in text
    assert "alice" in text and "scram" in text
