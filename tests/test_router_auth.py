"""The router side of authentication, driven by our client authenticators as a session drives them.

Each flow: HELLO.Details from the client (authid, authextra()), the verifier's
challenge(), the client's on_challenge() answer, the verifier's authenticate(),
and the client's on_welcome() check of WELCOME.Details.authextra.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import VECTORS
from wamp_core.auth import (
    AuthAnonymous,
    Authenticator,
    AuthScram,
    AuthTicket,
    AuthWampCra,
    CryptosignKey,
    ScramCostLimits,
    compute_wcs,
    cryptosign_sign,
)
from wamp_core.auth._util import RandomBytes
from wamp_core.router._auth_scram import check_client_proof
from wamp_core.router.auth import (
    AUTHENTICATION_FAILED,
    NO_SUCH_PRINCIPAL,
    NO_SUCH_ROLE,
    NOT_AUTHORIZED,
    Accept,
    Ask,
    Deny,
    Lookup,
    Verifier,
    anonymous_authid,
    authenticator_details,
    check_principal,
    create_verifier,
    find_principal,
    scram_principal,
    wampcra_principal,
)

TIMESTAMP = "2025-01-31T12:00:00.000Z"
SESSION = 4242
TLS = b"tls-unique finished message"
OTHER_TLS = b"another channel"
CLIENT = CryptosignKey.from_seed(bytes(range(32)))
INTRUDER = CryptosignKey.from_seed(bytes(range(1, 33)))
ROUTER = CryptosignKey.from_seed(bytes(range(2, 34)))
SALT = b"0123456789abcdef"
CHEAP = ScramCostLimits(min_pbkdf2_iterations=1, min_argon2_memory=8, min_argon2_work=1)
# Cheap KDF costs: the tests are about the protocol, not about slowing attackers.
PBKDF2: dict[str, Any] = {"kdf": "pbkdf2", "iterations": 16}
ARGON2: dict[str, Any] = {"kdf": "argon2id-13", "iterations": 1, "memory": 64}
SECRETS = ("secret!!!", "wcs-SECRET", "pencil-PW", SALT.hex())


def vectors(section: str) -> list[dict[str, Any]]:
    with (VECTORS / "auth.json").open(encoding="utf-8") as handle:
        return list(json.load(handle)[section]["vectors"])


def counter_bytes(seed: int = 0) -> RandomBytes:
    """Deterministic, never-repeating 'random' bytes."""
    counter = itertools.count(seed)

    def random_bytes(count: int) -> bytes:
        out = b""
        while len(out) < count:
            out += hashlib.sha256(next(counter).to_bytes(8, "big")).digest()
        return out[:count]

    return random_bytes


def verifier(
    method: str,
    principal: object,
    *,
    authid: str | None = "joe",
    authextra: object = None,
    provider: str = "static",
    channel_id: bytes | None = None,
    router_key: CryptosignKey | None = None,
    random_bytes: RandomBytes | None = None,
) -> Verifier:
    hello: dict[str, Any] = {"authmethods": [method], "authid": authid}
    if authextra is not None:
        hello["authextra"] = authextra
    return create_verifier(
        method,
        realm="realm1",
        authid=authid,
        hello_details=hello,
        principal=principal,
        provider=provider,
        session_id=SESSION,
        random_bytes=random_bytes or counter_bytes(),
        channel_id=channel_id,
        timestamp=TIMESTAMP,
        router_key=router_key,
    )


def client_verifier(
    client: Authenticator, principal: object, method: str | None = None, **kwargs: Any
) -> Verifier:
    return verifier(
        method or client.authmethod,
        principal,
        authid=client.authid,
        authextra=client.authextra(),
        **kwargs,
    )


def run(
    client: Authenticator, check: Verifier, channel_id: bytes | None = None
) -> Accept | Deny | Lookup:
    """One handshake as the acceptor and the client session run it."""
    result = check.challenge()
    if isinstance(result, Ask):
        signature, extra = client.on_challenge(result.extra, channel_id)
        final = check.authenticate(signature, extra)
        if isinstance(final, Accept):
            client.on_welcome(final.authextra)
        return final
    return result


def asked(check: Verifier) -> Ask:
    result = check.challenge()
    assert isinstance(result, Ask), result
    return result


def denied(result: object, error: str = NOT_AUTHORIZED) -> Deny:
    assert isinstance(result, Deny), result
    assert result.error == error, result
    return result


# --- anonymous ----------------------------------------------------------------

SERIAL = re.compile(r"^([345679ACEFGHJKLMNPQRSTUVWXY]{4}-){5}[345679ACEFGHJKLMNPQRSTUVWXY]{4}$")


def test_anonymous_static_gets_a_random_authid_and_echoes_authextra() -> None:
    client = AuthAnonymous("wants-to-be-admin", authextra={"x": 1})
    result = run(client, client_verifier(client, {"type": "static", "role": "public"}))
    assert isinstance(result, Accept)
    # As in Crossbar.io the client cannot pick its anonymous identity.
    assert SERIAL.match(result.authid)
    assert (result.authrole, result.authmethod, result.authprovider) == (
        "public",
        "anonymous",
        "static",
    )
    assert result.authextra == {"x": 1}


def test_anonymous_configured_authid_and_default_role() -> None:
    result = verifier("anonymous", {"type": "static", "authid": "guest"}).challenge()
    assert isinstance(result, Accept)
    assert (result.authid, result.authrole) == ("guest", "anonymous")


def test_anonymous_dynamic_answers() -> None:
    result = verifier("anonymous", "frontend", provider="dynamic").challenge()
    assert isinstance(result, Accept)
    assert (result.authrole, result.authprovider, result.authextra) == ("frontend", "dynamic", {})
    # A dynamic answer gets no default role.
    denied(verifier("anonymous", {}, provider="dynamic").challenge(), NO_SUCH_ROLE)


def test_anonymous_authid_rejection_samples() -> None:
    draws = iter([b"\xff" * 24, bytes(range(24))])
    authid = anonymous_authid(lambda n: next(draws))
    assert SERIAL.match(authid)
    assert authid.startswith("3456")


# --- ticket -------------------------------------------------------------------

TICKETS = {"joe": {"ticket": "secret!!!", "role": "frontend"}}


def ticket_verifier(client: AuthTicket) -> Verifier:
    found = find_principal("ticket", TICKETS, client.authid)
    assert isinstance(found, tuple)
    authid, principal = found
    return verifier("ticket", principal, authid=authid, authextra=client.authextra())


def test_ticket_static() -> None:
    client = AuthTicket("joe", "secret!!!", authextra={"a": "b"})
    result = run(client, ticket_verifier(client))
    assert result == Accept("joe", "frontend", "ticket", "static", {"a": "b"})
    denied(run(AuthTicket("joe", "wrong"), ticket_verifier(AuthTicket("joe", "wrong"))))


def test_ticket_unknown_or_missing_authid() -> None:
    denied(find_principal("ticket", TICKETS, "jim"))
    denied(find_principal("ticket", TICKETS, None))
    denied(find_principal("ticket", TICKETS, 42))


@pytest.mark.parametrize("signature", [None, 1, b"secret!!!", "secret!!!\ud800", "\ud800"])
def test_ticket_malformed_signature(signature: object) -> None:
    check = verifier("ticket", TICKETS["joe"])
    asked(check)
    denied(check.authenticate(signature, {}))


def test_ticket_dynamic_lookup() -> None:
    check = verifier("ticket", None, provider="dynamic")
    assert asked(check) == Ask("ticket", {})
    lookup = check.authenticate("t0ken", {})
    assert isinstance(lookup, Lookup)
    assert (lookup.realm, lookup.authid, lookup.ticket) == ("realm1", "joe", "t0ken")
    assert "t0ken" not in repr(lookup)
    assert lookup.finish("frontend") == Accept("joe", "frontend", "ticket", "dynamic", {})


def test_ticket_dynamic_answers() -> None:
    def finish(answer: object) -> Accept | Deny:
        check = verifier("ticket", None, provider="dynamic")
        asked(check)
        lookup = check.authenticate("t0ken", {})
        assert isinstance(lookup, Lookup)
        return lookup.finish(answer)

    renamed = finish({"role": "user", "authid": "joe@example", "extra": {"k": 1}})
    assert renamed == Accept("joe@example", "user", "ticket", "dynamic", {"k": 1})
    denied(finish(None), AUTHENTICATION_FAILED)
    denied(finish({"role": 7}), AUTHENTICATION_FAILED)
    denied(finish({}), NO_SUCH_ROLE)


def test_ticket_dynamic_refuses_an_early_principal() -> None:
    with pytest.raises(ValueError, match=r"Lookup\.finish"):
        verifier("ticket", {"role": "x"}, provider="dynamic")


def test_identity_must_be_assigned() -> None:
    denied(verifier("ticket", {"ticket": "t"}).challenge(), NO_SUCH_ROLE)
    denied(
        verifier("ticket", {"ticket": "t", "role": "r"}, authid=None).challenge(), NO_SUCH_PRINCIPAL
    )


def test_out_of_order_calls_deny() -> None:
    check = verifier("ticket", TICKETS["joe"])
    denied(check.authenticate("secret!!!", {}))
    asked(check)
    denied(check.challenge())
    assert isinstance(check.authenticate("secret!!!", {}), Accept)
    denied(check.authenticate("secret!!!", {}))


def test_authenticator_details_like_crossbar() -> None:
    hello = {"authid": "joe", "authrole": None, "authextra": {"a": 1}}
    details = authenticator_details(
        "ticket", session_id=SESSION, hello_details=hello, transport={"type": "websocket"}
    )
    assert details == {
        "authmethod": "ticket",
        "authid": "joe",
        "authrole": None,
        "authextra": {"a": 1},
        "session": SESSION,
        "transport": {"type": "websocket"},
    }
    with_ticket = authenticator_details("ticket", session_id=1, hello_details={}, ticket="t")
    assert with_ticket["ticket"] == "t"
    assert with_ticket["transport"] == {}


# --- wampcra ------------------------------------------------------------------


def test_wampcra_plain_challenge_is_crossbars() -> None:
    client = AuthWampCra("joe", "wcs-SECRET")
    check = client_verifier(client, wampcra_principal("wcs-SECRET", role="frontend"))
    ask = asked(check)
    assert list(ask.extra) == ["challenge"]
    challenge = json.loads(ask.extra["challenge"])
    assert list(challenge) == [
        "authid",
        "authrole",
        "authmethod",
        "authprovider",
        "session",
        "nonce",
        "timestamp",
    ]
    assert challenge["authid"] == "joe" and challenge["authrole"] == "frontend"
    assert challenge["session"] == SESSION and challenge["timestamp"] == TIMESTAMP
    assert len(challenge["nonce"]) == 64
    signature, extra = client.on_challenge(ask.extra)
    assert check.authenticate(signature, extra) == Accept("joe", "frontend", "wampcra", "static")


def test_wampcra_salted() -> None:
    principal = wampcra_principal("wcs-SECRET", salt="salt123", iterations=100, keylen=16, role="r")
    client = AuthWampCra("joe", "wcs-SECRET")
    check = client_verifier(client, principal)
    ask = asked(check)
    assert (ask.extra["salt"], ask.extra["iterations"], ask.extra["keylen"]) == ("salt123", 100, 16)
    signature, extra = client.on_challenge(ask.extra)
    assert isinstance(check.authenticate(signature, extra), Accept)


@pytest.mark.parametrize("case", vectors("wampcra_salted"))
def test_wampcra_salted_vectors(case: dict[str, Any]) -> None:
    # The router expects exactly HMAC(the vector's derived key, its own challenge).
    principal = wampcra_principal(
        case["secret"], salt=case["salt"], iterations=case["iterations"], keylen=case["keylen"]
    )
    check = verifier("wampcra", {**principal, "role": "r"})
    ask = asked(check)
    signature = compute_wcs(case["derived_key"], ask.extra["challenge"]).decode()
    assert isinstance(check.authenticate(signature, {}), Accept)


@pytest.mark.parametrize("case", vectors("wampcra_plain"))
def test_wampcra_plain_vectors(case: dict[str, Any]) -> None:
    check = verifier("wampcra", {"secret": case["secret"], "role": "r"})
    ask = asked(check)
    assert isinstance(
        check.authenticate(compute_wcs(case["secret"], ask.extra["challenge"]).decode(), {}), Accept
    )


def test_wampcra_failures() -> None:
    principal = wampcra_principal("wcs-SECRET", role="r")
    denied(run(AuthWampCra("joe", "wrong"), verifier("wampcra", principal)))
    salted = wampcra_principal("wcs-SECRET", salt="s", iterations=10, keylen=32, role="r")
    # The salted key is the HMAC key: the bare secret no longer signs.
    check = verifier("wampcra", salted)
    ask = asked(check)
    denied(check.authenticate(compute_wcs("wcs-SECRET", ask.extra["challenge"]).decode(), {}))
    denied(verifier("wampcra", {"secret": "wcs-SECRET"}).challenge(), NO_SUCH_ROLE)
    for signature in (None, 12, "\ud800"):
        check = verifier("wampcra", principal)
        asked(check)
        denied(check.authenticate(signature, {}))


def test_wampcra_each_challenge_is_fresh() -> None:
    principal = wampcra_principal("wcs-SECRET", role="r")
    first, second = (
        asked(verifier("wampcra", principal, random_bytes=counter_bytes(n))) for n in (0, 9)
    )
    assert first.extra["challenge"] != second.extra["challenge"]
    # A signature for one challenge does not open another.
    check = verifier("wampcra", principal, random_bytes=counter_bytes(9))
    asked(check)
    denied(check.authenticate(compute_wcs("wcs-SECRET", first.extra["challenge"]).decode(), {}))


# --- cryptosign ---------------------------------------------------------------

CRYPTOSIGN = {
    "alice": {"authorized_keys": [CLIENT.public_key_hex().upper()], "role": "user"},
    "bob": {"authorized_keys": [INTRUDER.public_key_hex()], "role": "user"},
}


def cryptosign_flow(
    client: Any, *, channel_id: bytes | None = None, client_channel: Any = "same", **kw: Any
) -> Accept | Deny | Lookup:
    authextra = client.authextra()
    found = find_principal("cryptosign", CRYPTOSIGN, client.authid, authextra)
    if isinstance(found, Deny):
        return found
    authid, principal = found
    check = verifier(
        "cryptosign", principal, authid=authid, authextra=authextra, channel_id=channel_id, **kw
    )
    return run(client, check, channel_id if client_channel == "same" else client_channel)


def test_cryptosign_by_authid_and_by_pubkey() -> None:
    from wamp_core.auth import AuthCryptosign

    result = cryptosign_flow(AuthCryptosign("alice", key=CLIENT))
    assert result == Accept("alice", "user", "cryptosign", "static")
    # No authid: Crossbar.io finds the principal by the HELLO pubkey.
    result = cryptosign_flow(AuthCryptosign(key=CLIENT))
    assert isinstance(result, Accept) and result.authid == "alice"


def test_cryptosign_principal_lookup_refusals() -> None:
    from wamp_core.auth import AuthCryptosign

    stranger = CryptosignKey.from_seed(b"\x07" * 32)
    denied(cryptosign_flow(AuthCryptosign(key=stranger)))
    denied(cryptosign_flow(AuthCryptosign("carol", key=CLIENT)))
    # alice's principal, bob's key
    denied(cryptosign_flow(AuthCryptosign("alice", key=INTRUDER)))
    denied(find_principal("cryptosign", CRYPTOSIGN, None, {}))
    denied(find_principal("cryptosign", CRYPTOSIGN, None, "not a dict"))
    twice = {**CRYPTOSIGN, "alias": CRYPTOSIGN["alice"]}
    denied(find_principal("cryptosign", twice, None, {"pubkey": CLIENT.public_key_hex()}))


def test_cryptosign_signature_by_another_key() -> None:
    check = verifier(
        "cryptosign", CRYPTOSIGN["alice"], authextra={"pubkey": CLIENT.public_key_hex()}
    )
    ask = asked(check)
    forged = cryptosign_sign(INTRUDER, bytes.fromhex(ask.extra["challenge"]))
    denied(check.authenticate(forged, {}))


@pytest.mark.parametrize(
    "authextra",
    [{}, {"pubkey": 5}, {"pubkey": "zz"}, {"pubkey": "ab" * 31}],
)
def test_cryptosign_bad_pubkey(authextra: dict[str, Any]) -> None:
    denied(verifier("cryptosign", CRYPTOSIGN["alice"], authextra=authextra).challenge())


def test_cryptosign_dynamic_pubkey_principal() -> None:
    from wamp_core.auth import AuthCryptosign

    client = AuthCryptosign(key=CLIENT)
    answer = {"pubkey": CLIENT.public_key_hex(), "role": "user", "authid": "alice"}
    result = run(client, client_verifier(client, answer, provider="dynamic"))
    assert result == Accept("alice", "user", "cryptosign", "dynamic")
    bad = client_verifier(client, {"pubkey": "nothex", "role": "user"}, provider="dynamic")
    denied(bad.challenge(), AUTHENTICATION_FAILED)


def test_cryptosign_channel_binding() -> None:
    from wamp_core.auth import AuthCryptosign

    bound = AuthCryptosign("alice", key=CLIENT, channel_binding="tls-unique")
    assert isinstance(cryptosign_flow(bound, channel_id=TLS), Accept)
    # The client signed for another channel (a relaying attacker's view): refused.
    bound = AuthCryptosign("alice", key=CLIENT, channel_binding="tls-unique")
    denied(cryptosign_flow(bound, channel_id=TLS, client_channel=OTHER_TLS))
    # Asked for binding on a transport without TLS channel data: never silently unbound.
    bound = AuthCryptosign("alice", key=CLIENT, channel_binding="tls-unique")
    denied(cryptosign_flow(bound, channel_id=None))
    exporter = AuthCryptosign("alice", key=CLIENT, channel_binding="tls-exporter")
    denied(cryptosign_flow(exporter, channel_id=TLS))
    # Not asked for: no binding even though the transport has TLS.
    assert isinstance(cryptosign_flow(AuthCryptosign("alice", key=CLIENT), channel_id=TLS), Accept)


def test_cryptosign_challenge_echoes_binding() -> None:
    extra = {"pubkey": CLIENT.public_key_hex(), "channel_binding": "tls-unique"}
    ask = asked(verifier("cryptosign", CRYPTOSIGN["alice"], authextra=extra, channel_id=TLS))
    assert ask.method == "cryptosign"
    assert ask.extra["channel_binding"] == "tls-unique"
    assert len(bytes.fromhex(ask.extra["challenge"])) == 32


@pytest.mark.parametrize("channel_id", [None, TLS])
def test_cryptosign_router_authentication(channel_id: bytes | None) -> None:
    from wamp_core.auth import AuthCryptosign

    binding = "tls-unique" if channel_id else None
    client = AuthCryptosign(
        "alice",
        key=CLIENT,
        channel_binding=binding,
        router_pubkey=ROUTER.public_key_hex(),
        random_bytes=counter_bytes(100),
    )
    assert isinstance(cryptosign_flow(client, channel_id=channel_id, router_key=ROUTER), Accept)
    client = AuthCryptosign("alice", key=CLIENT, router_pubkey=ROUTER.public_key_hex())
    denied(cryptosign_flow(client, channel_id=channel_id))


def test_cryptosign_router_authentication_bad_challenge() -> None:
    extra = {"pubkey": CLIENT.public_key_hex(), "challenge": "abcd"}
    denied(
        verifier("cryptosign", CRYPTOSIGN["alice"], authextra=extra, router_key=ROUTER).challenge()
    )


@pytest.mark.parametrize("case", vectors("cryptosign"))
def test_cryptosign_vectors(case: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The router accepts each vector's signature for the vector's challenge."""
    import wamp_core.router._auth_cryptosign as module

    extra: dict[str, Any] = {"pubkey": case["public_key"]}
    channel_id = None
    if case["channel_id"] is not None:
        # The vector gives the hashed channel id; stand in for the hash of the TLS data.
        monkeypatch.setattr(
            module, "cryptosign_channel_id", lambda _: bytes.fromhex(case["channel_id"])
        )
        extra["channel_binding"] = "tls-unique"
        channel_id = TLS
    principal = {"authorized_keys": [case["public_key"]], "role": "r"}
    check = verifier(
        "cryptosign",
        principal,
        authextra=extra,
        channel_id=channel_id,
        random_bytes=lambda n: bytes.fromhex(case["challenge"]),
    )
    asked(check)
    assert isinstance(check.authenticate(case["signature"], {}), Accept)


# --- scram --------------------------------------------------------------------


def scram_client(convention: str, password: str = "pencil-PW", **kwargs: Any) -> AuthScram:
    return AuthScram("alice", password, convention=convention, limits=CHEAP, **kwargs)


def scram_method(convention: str) -> str:
    return "scram" if convention == "crossbar" else "wamp-scram"


@pytest.mark.parametrize("convention", ["crossbar", "spec"])
@pytest.mark.parametrize("cost", [PBKDF2, ARGON2], ids=["pbkdf2", "argon2"])
def test_scram_flows(convention: str, cost: dict[str, Any]) -> None:
    method = scram_method(convention)
    principal = scram_principal("pencil-PW", SALT, method=method, role="user", **cost)
    client = scram_client(convention)
    result = run(client, client_verifier(client, principal))
    assert isinstance(result, Accept)
    assert (result.authid, result.authrole, result.authmethod) == ("alice", "user", method)
    field = "scram_server_signature" if convention == "crossbar" else "verifier"
    assert list(result.authextra) == [field]


@pytest.mark.parametrize("convention", ["crossbar", "spec"])
def test_scram_challenge_fields(convention: str) -> None:
    method = scram_method(convention)
    # Either argon2 spelling in the principal; the CHALLENGE uses the convention's.
    principal = {
        **scram_principal("pw", SALT, method=method, **ARGON2),
        "kdf": "argon2id13",
        "role": "r",
    }
    client = scram_client(convention)
    extra = asked(client_verifier(client, principal)).extra
    assert set(extra) == {"nonce", "salt", "kdf", "iterations", "memory"}
    assert extra["kdf"] == ("argon2id-13" if convention == "crossbar" else "argon2id13")
    assert base64.b64decode(extra["salt"]) == SALT
    client_nonce = client.authextra()["nonce"]
    if convention == "spec":
        assert extra["nonce"].startswith(client_nonce)
    else:  # Crossbar.io's: base64(client raw nonce + server raw nonce)
        assert base64.b64decode(extra["nonce"]).startswith(base64.b64decode(client_nonce))
    pbkdf2 = asked(
        client_verifier(client, scram_principal("pw", SALT, method=method, role="r", **PBKDF2))
    )
    assert "memory" not in pbkdf2.extra


@pytest.mark.parametrize("convention", ["crossbar", "spec"])
def test_scram_wrong_password_or_authid(convention: str) -> None:
    method = scram_method(convention)
    principal = scram_principal("pencil-PW", SALT, method=method, role="user", **PBKDF2)
    client = scram_client(convention, "wrong")
    denied(run(client, client_verifier(client, principal)))
    # Another authid signs another AuthMessage.
    bob = AuthScram("bob", "pencil-PW", convention=convention, limits=CHEAP)
    denied(run(bob, verifier(method, principal, authid="alice", authextra=bob.authextra())))


def test_scram_keys_serve_one_convention() -> None:
    spec_keys = scram_principal("pencil-PW", SALT, method="wamp-scram", role="user", **PBKDF2)
    client = scram_client("crossbar")
    denied(run(client, client_verifier(client, spec_keys)))


def test_scram_spec_channel_binding() -> None:
    principal = scram_principal("pencil-PW", SALT, method="wamp-scram", role="user", **PBKDF2)
    client = scram_client("spec", channel_binding="tls-unique")
    assert isinstance(run(client, client_verifier(client, principal, channel_id=TLS), TLS), Accept)
    client = scram_client("spec", channel_binding="tls-unique")
    denied(run(client, client_verifier(client, principal, channel_id=TLS), OTHER_TLS))
    client = scram_client("spec", channel_binding="tls-unique")
    denied(client_verifier(client, principal).challenge())
    client = scram_client("spec", channel_binding="tls-exporter")
    denied(client_verifier(client, principal, channel_id=TLS).challenge())


def test_scram_crossbar_has_no_channel_binding() -> None:
    principal = scram_principal("pw", SALT, role="r", **PBKDF2)
    extra = {"nonce": "bm9uY2U=", "channel_binding": "tls-unique"}
    denied(
        verifier("scram", principal, authid="alice", authextra=extra, channel_id=TLS).challenge()
    )


@pytest.mark.parametrize(
    ("method", "authid", "authextra"),
    [
        ("scram", None, {"nonce": "bm9uY2U="}),
        ("scram", 42, {"nonce": "bm9uY2U="}),
        ("scram", "al\u0007ice", {"nonce": "bm9uY2U="}),
        ("scram", "alice", {}),
        ("scram", "alice", {"nonce": 5}),
        ("scram", "alice", {"nonce": "a,b"}),
        ("scram", "alice", {"nonce": "not-base64!"}),
        ("wamp-scram", "alice", {"nonce": "n\u00e9"}),
    ],
)
def test_scram_bad_hello(method: str, authid: Any, authextra: dict[str, Any]) -> None:
    principal = scram_principal("pw", SALT, method=method, role="r", **PBKDF2)
    denied(verifier(method, principal, authid=authid, authextra=authextra).challenge())


def test_scram_spec_authenticate_extra_must_match() -> None:
    principal = scram_principal("pencil-PW", SALT, method="wamp-scram", role="user", **PBKDF2)
    client = scram_client("spec")
    check = client_verifier(client, principal)
    signature, extra = client.on_challenge(asked(check).extra)
    denied(check.authenticate(signature, {**extra, "nonce": extra["nonce"] + "x"}))
    check = client_verifier(client, principal)
    signature, extra = client.on_challenge(asked(check).extra)
    denied(check.authenticate(signature, {**extra, "channel_binding": "tls-unique"}))
    # The fields may be left out; the proof still binds them.
    check = client_verifier(client, principal)
    signature, extra = client.on_challenge(asked(check).extra)
    assert isinstance(check.authenticate(signature, {"channel_binding": None}), Accept)


@pytest.mark.parametrize(
    "signature", [None, 7, "", "not base64!", base64.b64encode(b"short").decode(), "\ud800"]
)
def test_scram_malformed_proof(signature: object) -> None:
    principal = scram_principal("pw", SALT, role="r", **PBKDF2)
    check = verifier("scram", principal, authid="alice", authextra={"nonce": "bm9uY2U="})
    asked(check)
    denied(check.authenticate(signature, {}))


@pytest.mark.parametrize("case", vectors("scram"))
def test_scram_vectors_router_view(case: dict[str, Any]) -> None:
    """The vector's stored keys: scram_principal makes them, and they check its proof."""
    method = case["authmethod"]
    cost = {"kdf": case["kdf"], "iterations": case["iterations"], "memory": case.get("memory", 512)}
    salt = base64.b64decode(case["salt"])
    principal = scram_principal(case["password"], salt, method=method, **cost)
    assert principal["stored-key"] == case["stored_key_hex"]
    assert principal["server-key"] == case["server_key_hex"]
    server_signature = check_client_proof(
        bytes.fromhex(case["stored_key_hex"]),
        bytes.fromhex(case["server_key_hex"]),
        case["auth_message"].encode(),
        base64.b64decode(case["client_proof"]),
    )
    assert server_signature == base64.b64decode(case["server_signature"])
    wrong = bytes(32)
    assert check_client_proof(bytes.fromhex(case["stored_key_hex"]), b"", b"m", wrong) is None


def test_scram_principal_arguments() -> None:
    with pytest.raises(ValueError, match="method"):
        scram_principal("pw", SALT, method="cram")
    with pytest.raises(TypeError):
        scram_principal("pw", b"")
    assert "role" not in scram_principal("pw", SALT, **PBKDF2)


# --- principals ---------------------------------------------------------------

GOOD_SCRAM = scram_principal("pw", SALT, role="r", **PBKDF2)
NO_MEMORY = {key: value for key, value in GOOD_SCRAM.items() if key != "memory"}


@pytest.mark.parametrize(
    ("method", "principal", "key"),
    [
        ("ticket", {"role": "r"}, "ticket"),
        ("ticket", {"ticket": 5}, "ticket"),
        ("ticket", {"ticket": "t", "role": ""}, "role"),
        ("ticket", {"ticket": "t", "extra": []}, "extra"),
        ("wampcra", {}, "secret"),
        ("wampcra", {"secret": "s", "salt": "x"}, "iterations"),
        ("wampcra", {"secret": "s", "keylen": 3}, "salt"),
        ("wampcra", {"secret": "s", "salt": "x", "iterations": 0, "keylen": 3}, "iterations"),
        ("wampcra", {"secret": "s", "salt": "x", "iterations": True, "keylen": 3}, "iterations"),
        ("cryptosign", {"role": "r"}, "authorized_keys"),
        ("cryptosign", {"authorized_keys": "ab"}, "authorized_keys"),
        ("cryptosign", {"authorized_keys": [5]}, "authorized_keys"),
        ("cryptosign", {"authorized_keys": ["ab"]}, "authorized_keys"),
        ("cryptosign", {"pubkey": "xyz"}, "pubkey"),
        ("scram", {**GOOD_SCRAM, "kdf": "md5"}, "kdf"),
        ("scram", {**NO_MEMORY, "kdf": "argon2id-13"}, "memory"),
        ("scram", {**GOOD_SCRAM, "salt": ""}, "salt"),
        ("scram", {**GOOD_SCRAM, "stored-key": "SECRETKEY"}, "stored-key"),
        ("scram", {**GOOD_SCRAM, "server-key": "abcd"}, "server-key"),
        ("anonymous", ["role"], "principal"),
    ],
)
def test_check_principal_names_the_bad_key(method: str, principal: object, key: str) -> None:
    with pytest.raises(ValueError, match=key) as info:
        check_principal(method, principal)
    assert "SECRETKEY" not in str(info.value)


def test_check_principal_accepts() -> None:
    assert check_principal("ticket", "frontend", provider="dynamic") == {"role": "frontend"}
    assert check_principal("ticket", {"role": "r"}, provider="dynamic") == {"role": "r"}
    assert check_principal("cryptosign", {"authorized_keys": [CLIENT.public_key_hex()]})
    assert check_principal("wamp-scram", GOOD_SCRAM) == GOOD_SCRAM
    with pytest.raises(ValueError, match="authmethod"):
        check_principal("tls", {})
    with pytest.raises(ValueError, match="provider"):
        check_principal("ticket", {}, provider="function")


def test_create_verifier_arguments() -> None:
    with pytest.raises(ValueError, match="authmethod"):
        verifier("tls", {})
    with pytest.raises(ValueError, match="provider"):
        verifier("ticket", {}, provider="function")
    # A non-dict HELLO authextra counts as none.
    result = verifier("anonymous", {"role": "r"}, authextra=["x"]).challenge()
    assert isinstance(result, Accept) and result.authextra == {}


# --- untrusted input ----------------------------------------------------------

garbage = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=300) | st.binary(max_size=100),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
signatures = (
    garbage
    | st.text(alphabet="0123456789abcdef", min_size=190, max_size=194)
    | st.from_regex(r"\A[A-Za-z0-9+/]{43}=\Z")
)
extras = st.dictionaries(
    st.sampled_from(["nonce", "channel_binding", "cbind_data", "x"]) | st.text(max_size=5),
    garbage,
    max_size=4,
)


def pending(method: str) -> Verifier:
    """A verifier that has sent its CHALLENGE."""
    setups: dict[str, tuple[object, dict[str, Any]]] = {
        "ticket": (TICKETS["joe"], {}),
        "wampcra": ({"secret": "wcs-SECRET", "role": "r"}, {}),
        "cryptosign": (CRYPTOSIGN["alice"], {"pubkey": CLIENT.public_key_hex()}),
        "scram": (GOOD_SCRAM, {"nonce": "bm9uY2U="}),
        "wamp-scram": (
            scram_principal("pw", SALT, method="wamp-scram", role="r", **PBKDF2),
            {"nonce": "abc", "channel_binding": "tls-unique"},
        ),
    }
    principal, authextra = setups[method]
    check = verifier(method, principal, authid="alice", authextra=authextra, channel_id=TLS)
    asked(check)
    return check


@pytest.mark.parametrize("method", ["ticket", "wampcra", "cryptosign", "scram", "wamp-scram"])
@given(signature=signatures, extra=extras)
def test_garbage_authenticate_is_denied(
    method: str, signature: object, extra: dict[str, Any]
) -> None:
    denied(pending(method).authenticate(signature, extra))


@pytest.mark.parametrize(
    "method", ["anonymous", "ticket", "wampcra", "cryptosign", "scram", "wamp-scram"]
)
@given(principal=garbage, authextra=garbage, authid=st.none() | st.text(max_size=20))
def test_garbage_hello_and_principal_never_raise(
    method: str, principal: object, authextra: object, authid: str | None
) -> None:
    check = verifier(
        method,
        principal,
        authid=authid,
        authextra=authextra,
        provider="dynamic" if method != "ticket" else "static",
    )
    assert isinstance(check.challenge(), (Accept, Deny, Ask))


@given(principal=garbage)
def test_check_principal_raises_only_value_error(principal: object) -> None:
    for method in ("anonymous", "ticket", "wampcra", "cryptosign", "scram"):
        with contextlib.suppress(ValueError):
            check_principal(method, principal)


# --- secrets stay out of reprs and messages -----------------------------------


def test_no_secret_in_repr_or_deny() -> None:
    texts: list[str] = []
    ticket = verifier("ticket", {"ticket": "secret!!!", "role": "r"})
    texts.append(repr(ticket))
    asked(ticket)
    texts.append(repr(ticket.authenticate("secret!!", {})))
    cra = verifier(
        "wampcra", wampcra_principal("wcs-SECRET", salt="s", iterations=5, keylen=8, role="r")
    )
    texts.append(repr(asked(cra)))
    texts.append(repr(cra))
    texts.append(repr(cra.authenticate("nope", {})))
    scram = scram_principal("pencil-PW", SALT, role="r", **PBKDF2)
    client = scram_client("crossbar", "wrong")
    check = client_verifier(client, scram)
    texts.append(repr(check))
    texts.append(repr(denied(run(client, check))))
    bad = verifier("scram", {**scram, "stored-key": "secret!!!"})
    texts.append(repr(bad))
    texts.append(repr(bad.challenge()))
    lookup = verifier("ticket", None, provider="dynamic")
    asked(lookup)
    texts.append(repr(lookup.authenticate("secret!!!", {})))
    joined = "\n".join(texts)
    for secret in (*SECRETS, scram["stored-key"], scram["server-key"]):
        assert secret not in joined
