"""The router's acceptor, Router and MemoryNetwork end to end: our client Connection with
its authenticators against Crossbar.io-style transport auth configurations (static and
dynamic), over real RawSocket bytes in memory.

Every session opening ends in WELCOME or ABORT; an ABORT leaves nothing behind (no
session in a realm, no live session id), whichever way the opening ended.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.router_harness import CLIENT_ROLES, Client, Net
from wamp_core.auth import (
    AuthAnonymous,
    AuthCryptosign,
    AuthScram,
    AuthTicket,
    AuthWampCra,
    CryptosignKey,
    ScramCostLimits,
)
from wamp_core.connection import Connection
from wamp_core.events import Joined, Left
from wamp_core.messages import (
    Abort,
    Authenticate,
    Goodbye,
    Hello,
    Interrupt,
    Invocation,
    Message,
    Publish,
    Welcome,
)
from wamp_core.router import (
    ALLOW_ALL,
    ANONYMOUS_AUTH,
    ConnectionClosed,
    ConnectionState,
    MemoryNetwork,
    RealmConfig,
    Role,
    Router,
    SessionJoined,
    SessionLeft,
)
from wamp_core.router.acceptor import Acceptor, Admitted, TransportAuth
from wamp_core.router.auth import scram_principal, wampcra_principal
from wamp_core.transports import TransportClosed

CHEAP = ScramCostLimits(min_pbkdf2_iterations=1, min_argon2_memory=8, min_argon2_work=1)
PBKDF2: dict[str, Any] = {"kdf": "pbkdf2", "iterations": 16}
ARGON2: dict[str, Any] = {"kdf": "argon2id-13", "iterations": 1, "memory": 64}
SALT = b"0123456789abcdef"
ALICE = CryptosignKey.from_seed(bytes(range(32)))
STRANGER = CryptosignKey.from_seed(bytes(range(1, 33)))

NOT_AUTHORIZED = "wamp.error.not_authorized"
AUTHENTICATION_FAILED = "wamp.error.authentication_failed"
AUTHENTICATOR = "com.example.auth"


def realms(*names: str) -> tuple[RealmConfig, ...]:
    """realm1 with the roles anonymous, user and public; plus ``names`` with the defaults."""
    roles = tuple(Role(name, (ALLOW_ALL,)) for name in ("anonymous", "user", "public"))
    return (RealmConfig("realm1", roles), *(RealmConfig(name) for name in names))


def net(*names: str) -> Net:
    return Net(realms(*names))


def join(
    network: Net, auth: TransportAuth, *authenticators: Any, realm: str = "realm1", **kw: Any
) -> Client:
    return network.client(realm, auth=auth, authenticators=list(authenticators), **kw)


def joined(client: Client) -> Joined:
    client.events()
    (event,) = [e for e in client.seen if isinstance(e, Joined | Left)]
    assert isinstance(event, Joined), event
    assert client.server.state is ConnectionState.JOINED
    return event


def aborted(client: Client, reason: str) -> Left:
    """The opening ended with ABORT ``reason``; both ends closed, nothing left behind."""
    client.events()
    (event,) = [e for e in client.seen if isinstance(e, Joined | Left)]
    assert isinstance(event, Left), event
    assert (event.reason, event.by_router, event.aborted) == (reason, True, True), event
    assert client.conn.closed and client.server.closed
    assert isinstance(client.seen[-1], TransportClosed)
    assert client.server not in client.net.router.connections
    assert client.server.session is None
    return event


def leave(network: Net, *clients: Client) -> None:
    for client in clients:
        client.session.leave()
        client.events()
        client.conn.close()
    network.pump()
    network.assert_empty()


# --- static ---------------------------------------------------------------------------

TICKETS: TransportAuth = {
    "ticket": {
        "type": "static",
        "principals": {
            "joe": {"ticket": "secret!!!", "role": "user"},
            "bad": {"ticket": "x", "role": "no-such-role"},
        },
    }
}
CRA: TransportAuth = {
    "wampcra": {
        "type": "static",
        "users": {
            "joe": wampcra_principal("wcs-SECRET", role="user"),
            "salty": wampcra_principal("salted", salt="NaCl", iterations=10, role="user"),
        },
    }
}
CRYPTOSIGN: TransportAuth = {
    "cryptosign": {
        "type": "static",
        "principals": {
            "alice": {"authorized_keys": [ALICE.public_key_hex()], "role": "user"},
        },
    }
}


def test_anonymous_default_and_with_a_role() -> None:
    network = net()
    default = network.client()  # ANONYMOUS_AUTH
    assert joined(default).authrole == "anonymous"
    public = join(network, {"anonymous": {"type": "static", "role": "public"}}, AuthAnonymous())
    event = joined(public)
    assert (event.authrole, event.authmethod, event.authprovider) == (
        "public",
        "anonymous",
        "static",
    )
    assert public.server.events()[0] == SessionJoined(
        event.session_id, "realm1", str(event.authid), "public", "anonymous", "static"
    )
    assert network.router.live_session_ids == {event.session_id, joined(default).session_id}
    leave(network, default, public)


def test_anonymous_role_defaults_to_anonymous_and_echoes_authextra() -> None:
    network = net()
    client = join(network, {"anonymous": {"type": "static"}}, AuthAnonymous(authextra={"a": 1}))
    event = joined(client)
    assert (event.authrole, event.authextra) == ("anonymous", {"a": 1})
    leave(network, client)


def test_static_ticket() -> None:
    network = net()
    client = join(network, TICKETS, AuthTicket("joe", "secret!!!"))
    event = joined(client)
    assert (event.authid, event.authrole, event.authmethod) == ("joe", "user", "ticket")
    leave(network, client)


@pytest.mark.parametrize(
    ("authenticator", "reason"),
    [
        (AuthTicket("joe", "wrong"), NOT_AUTHORIZED),
        (AuthTicket("nobody", "secret!!!"), NOT_AUTHORIZED),
        (AuthTicket("bad", "x"), "wamp.error.no_such_role"),
    ],
)
def test_static_ticket_refused(authenticator: AuthTicket, reason: str) -> None:
    network = net()
    aborted(join(network, TICKETS, authenticator), reason)
    network.assert_empty()


@pytest.mark.parametrize(
    ("authid", "secret"), [("joe", "wcs-SECRET"), ("salty", "salted")], ids=["plain", "salted"]
)
def test_static_wampcra(authid: str, secret: str) -> None:
    network = net()
    client = join(network, CRA, AuthWampCra(authid, secret))
    event = joined(client)
    assert (event.authid, event.authrole, event.authmethod) == (authid, "user", "wampcra")
    aborted(join(network, CRA, AuthWampCra(authid, "wrong")), NOT_AUTHORIZED)
    leave(network, client)


@pytest.mark.parametrize("authid", ["alice", None], ids=["authid", "by-pubkey"])
def test_static_cryptosign(authid: str | None) -> None:
    network = net()
    client = join(network, CRYPTOSIGN, AuthCryptosign(authid, key=ALICE))
    event = joined(client)
    assert (event.authid, event.authrole, event.authmethod) == ("alice", "user", "cryptosign")
    aborted(join(network, CRYPTOSIGN, AuthCryptosign(authid, key=STRANGER)), NOT_AUTHORIZED)
    leave(network, client)


@pytest.mark.parametrize("convention", ["crossbar", "spec"])
@pytest.mark.parametrize("cost", [PBKDF2, ARGON2], ids=["pbkdf2", "argon2"])
def test_static_scram(convention: str, cost: dict[str, Any]) -> None:
    method = "scram" if convention == "crossbar" else "wamp-scram"
    principal = scram_principal("pencil-PW", SALT, method=method, role="user", **cost)
    auth: TransportAuth = {method: {"type": "static", "principals": {"alice": principal}}}
    network = net()
    client = join(
        network, auth, AuthScram("alice", "pencil-PW", convention=convention, limits=CHEAP)
    )
    event = joined(client)
    assert (event.authid, event.authrole, event.authmethod) == ("alice", "user", method)
    assert event.authextra  # the server signature the client checked
    wrong = AuthScram("alice", "wrong", convention=convention, limits=CHEAP)
    aborted(join(network, auth, wrong), NOT_AUTHORIZED)
    leave(network, client)


def test_no_matching_authmethod() -> None:
    network = net()
    aborted(join(network, ANONYMOUS_AUTH, AuthTicket("joe", "x")), "wamp.error.no_auth_method")
    network.assert_empty()


def test_authmethods_must_be_a_list() -> None:
    network = net()
    peer = network.raw_peer()
    # The parser refuses it before the acceptor sees it...
    peer.send(Hello("realm1", {"authmethods": {"anonymous": True}}))
    (abort,) = peer.take()
    assert isinstance(abort, Abort) and abort.reason == "wamp.error.protocol_violation"
    assert peer.closed
    network.assert_empty()
    # ... and the acceptor by itself: iterating the dict would find "anonymous".
    sent: list[Message] = []
    outcomes: list[Admitted | Abort] = []
    acceptor = Acceptor(network.router, ANONYMOUS_AUTH, send=sent.append, done=outcomes.append)
    assert acceptor.receive(Hello("realm1", {"authmethods": {"anonymous": True}}))
    (done,) = outcomes
    assert sent == [done]
    assert isinstance(done, Abort) and done.reason == "wamp.error.no_auth_method"
    network.assert_empty()


def test_unknown_realm() -> None:
    network = net()
    aborted(network.client("nowhere"), "wamp.error.no_such_realm")
    network.assert_empty()


def test_role_unknown_to_the_realm() -> None:
    network = net()
    anonymous = {"anonymous": {"type": "static", "role": "admin"}}
    aborted(join(network, anonymous), "wamp.error.no_such_role")
    network.assert_empty()


def test_authmethods_in_the_clients_order() -> None:
    network = net()
    both: TransportAuth = {**TICKETS, **CRA}
    first_cra = join(
        network, both, AuthWampCra("joe", "wcs-SECRET"), AuthTicket("joe", "secret!!!")
    )
    assert joined(first_cra).authmethod == "wampcra"
    first_ticket = join(
        network, both, AuthTicket("joe", "secret!!!"), AuthWampCra("joe", "wcs-SECRET")
    )
    assert joined(first_ticket).authmethod == "ticket"
    # A method the transport does not have is skipped.
    skipped = join(network, CRA, AuthTicket("joe", "x"), AuthWampCra("joe", "wcs-SECRET"))
    assert joined(skipped).authmethod == "wampcra"
    leave(network, first_cra, first_ticket, skipped)


def test_messages_that_do_not_belong_to_the_opening() -> None:
    network = net()
    # AUTHENTICATE with no challenge pending.
    early = network.raw_peer(auth=TICKETS)
    early.send(Authenticate("secret!!!", {}))
    (abort,) = early.take()
    assert isinstance(abort, Abort) and abort.reason == "wamp.error.protocol_violation"
    # A second HELLO while the challenge is pending.
    twice = network.raw_peer(auth=TICKETS)
    hello = Hello("realm1", {"authmethods": ["ticket"], "authid": "joe", "roles": CLIENT_ROLES})
    twice.send(hello, hello)
    challenge, abort = twice.take()
    assert challenge.NAME == "CHALLENGE"
    assert isinstance(abort, Abort) and abort.reason == "wamp.error.protocol_violation"
    # Anything else before WELCOME.
    other = network.raw_peer()
    other.send(Publish(1, "com.example.topic"))
    (abort,) = other.take()
    assert isinstance(abort, Abort) and abort.reason == "wamp.error.protocol_violation"
    assert early.closed and twice.closed and other.closed
    network.assert_empty()


def test_join_again_after_goodbye() -> None:
    network = net()
    peer = network.raw_peer()
    first = peer.join()
    peer.send(Goodbye("wamp.close.normal"))
    (goodbye,) = peer.take()
    assert isinstance(goodbye, Goodbye)
    second = peer.join()
    assert first.session_id != second.session_id
    assert network.router.live_session_ids == {second.session_id}
    peer.send(Goodbye("wamp.close.normal"))
    peer.server.close()
    network.pump()
    network.assert_empty()


# --- dynamic --------------------------------------------------------------------------


class Authenticator:
    """A client in realm ``auth`` that registered ``com.example.auth`` and answers by hand."""

    def __init__(self, network: Net, procedure: str = AUTHENTICATOR) -> None:
        self.client = network.client("auth")
        self.client.session.register(procedure)
        self.client.events()

    def calls(self) -> list[Invocation]:
        return self.client.only(Invocation)

    def call(self) -> Invocation:
        (invocation,) = self.calls()
        return invocation

    def answer(self, answer: object, invocation: Invocation | None = None) -> None:
        invocation = invocation or self.call()
        assert self.client.session.yield_result(invocation.request_id, [answer])


def dynamic(method: str, realm: str | None = "auth", procedure: str | None = AUTHENTICATOR) -> Any:
    config: dict[str, Any] = {"type": "dynamic"}
    if procedure is not None:
        config["authenticator"] = procedure
    if realm is not None:
        config["authenticator-realm"] = realm
    return {method: config}


def test_dynamic_ticket_sees_the_ticket_after_authenticate() -> None:
    network = net("auth")
    auth = Authenticator(network)
    client = join(network, dynamic("ticket"), AuthTicket("joe", "secret!!!"))
    assert client.server.state is ConnectionState.ESTABLISHING
    invocation = auth.call()
    realm, authid, details = invocation.args or []
    assert (realm, authid) == ("realm1", "joe")
    assert details["ticket"] == "secret!!!"
    assert details["authmethod"] == "ticket"
    assert details["session"] in network.router.live_session_ids
    auth.client.session.yield_result(invocation.request_id, [{"role": "user", "authid": "joseph"}])
    event = joined(client)
    assert (event.authid, event.authrole, event.authprovider) == ("joseph", "user", "dynamic")
    assert event.session_id == details["session"]
    leave(network, client, auth.client)


def test_dynamic_ticket_answer_is_a_role() -> None:
    network = net("auth")
    auth = Authenticator(network)
    client = join(network, dynamic("ticket"), AuthTicket("joe", "s"))
    auth.answer("user")
    event = joined(client)
    assert (event.authid, event.authrole) == ("joe", "user")
    leave(network, client, auth.client)


def test_dynamic_wampcra_answers_at_hello() -> None:
    network = net("auth")
    auth = Authenticator(network)
    client = join(network, dynamic("wampcra"), AuthWampCra("joe", "wcs-SECRET"))
    invocation = auth.call()
    realm, authid, details = invocation.args or []
    assert (realm, authid, details["authmethod"]) == ("realm1", "joe", "wampcra")
    assert "ticket" not in details
    principal = wampcra_principal("wcs-SECRET", salt="NaCl", iterations=10, role="user")
    auth.client.session.yield_result(invocation.request_id, [principal])
    event = joined(client)
    assert (event.authid, event.authrole, event.authprovider) == ("joe", "user", "dynamic")
    wrong = join(network, dynamic("wampcra"), AuthWampCra("joe", "wrong"))
    auth.answer(principal)
    aborted(wrong, NOT_AUTHORIZED)
    leave(network, client, auth.client)


def test_dynamic_cryptosign() -> None:
    network = net("auth")
    auth = Authenticator(network)
    client = join(network, dynamic("cryptosign"), AuthCryptosign("alice", key=ALICE))
    invocation = auth.call()
    details = invocation.args[2]  # type: ignore[index]
    assert details["authextra"]["pubkey"] == ALICE.public_key_hex()
    auth.answer({"pubkey": ALICE.public_key_hex(), "role": "user"}, invocation)
    event = joined(client)
    assert (event.authid, event.authmethod, event.authprovider) == (
        "alice",
        "cryptosign",
        "dynamic",
    )
    leave(network, client, auth.client)


@pytest.mark.parametrize("convention", ["crossbar", "spec"])
def test_dynamic_scram(convention: str) -> None:
    method = "scram" if convention == "crossbar" else "wamp-scram"
    network = net("auth")
    auth = Authenticator(network)
    scram = AuthScram("alice", "pencil-PW", convention=convention, limits=CHEAP)
    client = join(network, dynamic(method), scram)
    auth.answer(scram_principal("pencil-PW", SALT, method=method, role="user", **PBKDF2))
    event = joined(client)
    assert (event.authid, event.authmethod, event.authprovider) == ("alice", method, "dynamic")
    leave(network, client, auth.client)


def test_dynamic_authenticator_in_the_same_realm() -> None:
    # No "authenticator-realm": the realm being joined.
    network = net()
    callee = network.client()
    callee.session.register(AUTHENTICATOR)
    callee.events()
    client = join(network, dynamic("wampcra", realm=None), AuthWampCra("joe", "pw"))
    (invocation,) = callee.only(Invocation)
    callee.session.yield_result(invocation.request_id, [{"secret": "pw", "role": "user"}])
    assert joined(client).authrole == "user"
    leave(network, client, callee)


@pytest.mark.parametrize(
    ("method", "authenticator", "answer"),
    [
        ("ticket", AuthTicket("joe", "s"), 42),
        ("ticket", AuthTicket("joe", "s"), None),
        ("wampcra", AuthWampCra("joe", "s"), {"role": "user"}),
        ("cryptosign", AuthCryptosign("alice", key=ALICE), ["user"]),
        ("scram", AuthScram("alice", "pw", limits=CHEAP), {"role": "user", "kdf": "md5"}),
    ],
)
def test_dynamic_unusable_answer(method: str, authenticator: Any, answer: object) -> None:
    network = net("auth")
    auth = Authenticator(network)
    client = join(network, dynamic(method), authenticator)
    invocation = auth.call()
    # None: the authenticator answers with no arguments at all.
    auth.client.session.yield_result(invocation.request_id, None if answer is None else [answer])
    event = aborted(client, AUTHENTICATION_FAILED)
    assert event.message and "dynamic" in event.message
    leave(network, auth.client)


def test_dynamic_principal_with_a_role_the_realm_does_not_have() -> None:
    network = net("auth")
    auth = Authenticator(network)
    client = join(network, dynamic("ticket"), AuthTicket("joe", "s"))
    auth.answer("admin")
    aborted(client, "wamp.error.no_such_role")
    leave(network, auth.client)


@pytest.mark.parametrize("method", ["ticket", "wampcra"])
def test_dynamic_error_answer(method: str) -> None:
    network = net("auth")
    auth = Authenticator(network)
    authenticator = AuthTicket("joe", "s") if method == "ticket" else AuthWampCra("joe", "s")
    client = join(network, dynamic(method), authenticator)
    invocation = auth.call()
    auth.client.session.yield_error(invocation.request_id, "com.example.no_way", ["go away"])
    event = aborted(client, "com.example.no_way")
    assert event.message == "go away"
    leave(network, auth.client)


@pytest.mark.parametrize(
    "auth",
    [
        dynamic("wampcra", realm="nowhere"),
        dynamic("wampcra", procedure=None),
        {"wampcra": {"type": "dynamic", "authenticator": 42}},
    ],
    ids=["no-realm", "no-uri", "bad-uri"],
)
def test_dynamic_authenticator_not_reachable(auth: TransportAuth) -> None:
    network = net("auth")
    aborted(join(network, auth, AuthWampCra("joe", "s")), AUTHENTICATION_FAILED)
    network.assert_empty()


@pytest.mark.parametrize("method", ["ticket", "cryptosign"])
def test_dynamic_authenticator_not_registered(method: str) -> None:
    network = net("auth")
    authenticator = AuthTicket("joe", "s") if method == "ticket" else AuthCryptosign(key=ALICE)
    aborted(join(network, dynamic(method), authenticator), "wamp.error.no_such_procedure")
    network.assert_empty()


@pytest.mark.parametrize("method", ["ticket", "wampcra"])
def test_client_leaves_while_the_authenticator_thinks(method: str) -> None:
    network = net("auth")
    auth = Authenticator(network)
    authenticator = AuthTicket("joe", "s") if method == "ticket" else AuthWampCra("joe", "s")
    client = join(network, dynamic(method), authenticator)
    invocation = auth.call()
    session_id = invocation.args[2]["session"]  # type: ignore[index]
    assert session_id in network.router.live_session_ids
    client.conn.close()
    network.pump()
    assert client.server.closed
    assert session_id not in network.router.live_session_ids
    # The late answer goes nowhere: no WELCOME, no session, no id.
    assert auth.client.session.yield_result(invocation.request_id, ["user"])
    network.pump()
    assert not [e for e in client.events() if isinstance(e, Joined)]
    leave(network, auth.client)


def test_the_authenticator_times_out() -> None:
    network = net("auth")
    auth = Authenticator(network)
    client = join(network, dynamic("wampcra"), AuthWampCra("joe", "s"))
    invocation = auth.call()
    assert network.router.next_deadline() == 30.0
    network.pump(now=29.0)
    assert client.server.state is ConnectionState.ESTABLISHING
    network.pump(now=30.0)
    event = aborted(client, "wamp.error.canceled")
    assert event.message == "timeout reached"
    interrupts = auth.client.only(Interrupt)
    assert [i.request_id for i in interrupts] == [invocation.request_id]
    assert network.router.next_deadline() is None
    leave(network, auth.client)


def test_a_message_while_the_authenticator_thinks_is_a_violation() -> None:
    network = net("auth")
    auth = Authenticator(network)
    peer = network.raw_peer(auth=dynamic("wampcra"))
    hello = Hello("realm1", {"authmethods": ["wampcra"], "authid": "joe", "roles": CLIENT_ROLES})
    peer.send(hello)
    auth.call()
    peer.send(hello)
    (abort,) = peer.take()
    assert isinstance(abort, Abort) and abort.reason == "wamp.error.protocol_violation"
    assert peer.closed
    assert not network.router.live_session_ids - {auth.client.server.session.id}  # type: ignore[union-attr]
    leave(network, auth.client)


def test_acceptor_cancel_after_the_end_does_nothing() -> None:
    router = Router(realms(), random_bytes=random.Random(1).randbytes)
    outcomes: list[Admitted | Abort] = []
    sent: list[Any] = []
    acceptor = Acceptor(router, ANONYMOUS_AUTH, send=sent.append, done=outcomes.append)
    assert not acceptor.waiting
    assert acceptor.receive(Hello("realm1", {}))
    (admitted,) = outcomes
    assert isinstance(admitted, Admitted) and isinstance(sent[0], Welcome)
    assert not acceptor.receive(Hello("realm1", {}))  # finished
    acceptor.cancel()  # the session id belongs to the session now
    assert router.live_session_ids == {admitted.session_id}
    pending = Acceptor(router, TICKETS, send=sent.append, done=outcomes.append)
    assert pending.receive(Hello("realm1", {"authmethods": ["ticket"], "authid": "joe"}))
    assert len(router.live_session_ids) == 2
    pending.cancel()
    pending.cancel()
    assert router.live_session_ids == {admitted.session_id}
    assert len(outcomes) == 1


# --- Router ---------------------------------------------------------------------------


def test_realm_config_defaults_and_router_construction() -> None:
    config = RealmConfig("realm1")
    assert [role.name for role in config.roles] == ["anonymous"]
    assert config.roles[0].permissions == (ALLOW_ALL,)
    router = Router(random_bytes=random.Random(1).randbytes)
    assert list(router.realms) == ["realm1"]
    assert router.timestamp() == "1970-01-01T00:00:00.000Z"
    assert repr(router) == "Router(realms=['realm1'], connections=0)"
    assert router.next_deadline() is None
    assert router.take_writable() == []
    with pytest.raises(ValueError, match="'a' is configured twice"):
        Router((RealmConfig("a"), RealmConfig("b"), RealmConfig("a")), random_bytes=bytes)


def test_connect_and_take_writable() -> None:
    network = net()
    router = network.router
    client = network.client(join=False)
    assert repr(router) == "Router(realms=['realm1'], connections=1)"
    assert router.connections == {client.server}
    network.pump()
    conn = Connection.rawsocket("realm1")
    server = network.network.attach(conn)
    # attach() moved the client's handshake in: the router has the answer to write.
    assert router.take_writable() == [server]
    assert router.take_writable() == []
    network.network.now = 5.0
    network.network.attach(Connection.rawsocket("realm1"))
    assert router.now == 5.0
    network.pump()
    assert joined(client)
    conn.close()
    network.pump()
    assert len(router.connections) == 2  # the one at time 5 and client
    router.shutdown()
    network.pump()
    assert not router.connections
    network.assert_empty()


def test_shutdown() -> None:
    network = net()
    alice, bob = network.client(), network.client()
    quiet = Connection.rawsocket("realm1")
    quiet.auto_join = False  # connected, no session
    waiting = Client(network, quiet, network.network.attach(quiet))
    raw = network.raw_peer()  # a raw peer that never says HELLO
    killed = network.client()
    killed.server.kill("wamp.close.killed", None)  # CLOSING: the GOODBYE is not answered yet
    ids = {alice.server.session.id, bob.server.session.id}  # type: ignore[union-attr]
    assert network.router.live_session_ids == ids
    network.router.shutdown()
    assert waiting.server.closed and raw.server.closed
    assert alice.server.state is ConnectionState.CLOSING
    assert not network.router.live_session_ids
    network.pump()
    for client in (alice, bob):
        left = [e for e in client.events() if isinstance(e, Left)]
        assert left == [Left("wamp.close.system_shutdown", None, by_router=True, aborted=False)]
        assert client.conn.closed and client.server.closed
    left = [e for e in killed.events() if isinstance(e, Left)]
    assert [e.reason for e in left] == ["wamp.close.killed"]
    assert killed.server.closed
    events = alice.server.events()
    assert isinstance(events[0], SessionJoined)
    assert isinstance(events[1], SessionLeft) and events[1].reason == "wamp.close.system_shutdown"
    assert isinstance(events[-1], ConnectionClosed)
    assert not network.router.connections
    network.assert_empty()


def test_shutdown_while_the_authenticator_thinks() -> None:
    network = net("auth")
    auth = Authenticator(network)
    client = join(network, dynamic("wampcra"), AuthWampCra("joe", "s"))
    invocation = auth.call()
    network.router.shutdown("wamp.close.maintenance")
    assert client.server.closed
    assert auth.client.server.state is ConnectionState.CLOSING
    auth.client.session.yield_result(invocation.request_id, ["user"])  # too late
    network.pump()
    assert not network.router.connections
    assert client.conn.closed
    assert not [e for e in client.events() if isinstance(e, Joined)]
    network.assert_empty()


# --- MemoryNetwork --------------------------------------------------------------------


def test_attach_wants_a_rawsocket_client() -> None:
    network = MemoryNetwork(Router(random_bytes=random.Random(1).randbytes))
    with pytest.raises(TypeError, match="RawSocket"):
        network.attach(Connection.websocket("realm1", "localhost"))
    assert not network.router.connections


def test_pump_moves_until_quiet_and_max_rounds() -> None:
    router = Router(random_bytes=random.Random(1).randbytes)
    network = MemoryNetwork(router)
    client = Connection.rawsocket("realm1")
    network.attach(client)
    assert network.pump(max_rounds=1) == 1
    assert not [e for e in client.events() if isinstance(e, Joined)]
    assert network.pump() >= 1
    assert [e for e in client.events() if isinstance(e, Joined)]
    assert network.pump() == 0


def test_pump_fires_due_timers_on_both_sides() -> None:
    from wamp_core.types import CallOptions

    network = net()
    callee = network.client()
    callee.session.register("com.example.slow")
    callee.events()
    caller = network.client()
    caller.session.call("com.example.slow", options=CallOptions(timeout=5.0), now=0.0)
    callee.events()
    assert caller.conn.next_deadline() == 5.0
    assert network.router.next_deadline() is not None
    network.pump(now=4.0)
    assert caller.conn.next_deadline() == 5.0
    network.network.pump(now=5.0)
    assert network.network.now == 5.0
    (failed,) = [e for e in caller.events() if type(e).__name__ == "RequestFailed"]
    assert callee.only(Interrupt)
    assert network.router.next_deadline() is None
    # A client's leave timeout: the router never answers a GOODBYE that is dropped.
    caller.session.leave()
    assert caller.conn.next_deadline() is not None
    caller.server.close()  # the router end goes away without answering
    network.pump(now=100.0)
    assert caller.conn.closed
    leave(network, callee)
    assert failed


def test_client_closes_its_end_and_closed_pairs_are_forgotten() -> None:
    network = net()
    client = network.client()
    session_id = client.server.session.id  # type: ignore[union-attr]
    client.conn.close()
    network.pump()
    assert client.server.closed
    first, *events = client.server.events()
    assert isinstance(first, SessionJoined) and first.session_id == session_id
    assert SessionLeft(session_id, "realm1", first.authid, "wamp.close.transport_lost") in events
    assert client.server not in network.network._clients
    network.assert_empty()


def test_router_closes_its_end() -> None:
    network = net()
    client = network.client()
    client.server.close()
    network.pump()
    assert client.conn.closed
    assert client.server not in network.network._clients
    left = [e for e in client.events() if isinstance(e, Left)]
    assert [e.reason for e in left] == ["wamp.close.transport_lost"]
    network.assert_empty()


# --- a principal's realm ----------------------------------------------------------------


def test_a_static_principal_assigns_the_realm() -> None:
    # As in Crossbar.io, the principal's "realm" overrides the one HELLO asked for.
    network = net("other")
    principals = {
        "joe": {"ticket": "s", "role": "anonymous", "realm": "other"},
        "ann": {"ticket": "s", "role": "user", "realm": "other"},  # no role user in "other"
        "bob": {"ticket": "s", "role": "anonymous", "realm": "nowhere"},
    }
    auth: TransportAuth = {"ticket": {"type": "static", "principals": principals}}
    client = join(network, auth, AuthTicket("joe", "s"))
    event = joined(client)
    assert event.realm == "other"
    assert client.server.session is not None and client.server.session.realm == "other"
    assert list(network.router.realms["other"].sessions) == [event.session_id]
    assert not network.router.realms["realm1"].sessions
    aborted(join(network, auth, AuthTicket("ann", "s")), "wamp.error.no_such_role")
    aborted(join(network, auth, AuthTicket("bob", "s")), "wamp.error.no_such_realm")
    leave(network, client)


@pytest.mark.parametrize("method", ["ticket", "wampcra"])
def test_a_dynamic_authenticator_assigns_the_realm(method: str) -> None:
    network = net("auth", "other")
    auth = Authenticator(network)
    authenticator = AuthTicket("joe", "s") if method == "ticket" else AuthWampCra("joe", "s")
    answer: dict[str, Any] = {"role": "anonymous", "realm": "other"}
    if method == "wampcra":
        answer["secret"] = "s"
    client = join(network, dynamic(method), authenticator)
    auth.answer(answer)
    event = joined(client)
    assert event.realm == "other"
    # An unknown realm, and an empty one (the verifier refuses the principal).
    for realm, reason in (("nowhere", "wamp.error.no_such_realm"), ("", AUTHENTICATION_FAILED)):
        refused = join(network, dynamic(method), authenticator)
        auth.answer({**answer, "realm": realm})
        aborted(refused, reason)
    leave(network, client, auth.client)
