"""Every router that runs the shared node configuration works, and our Sans-IO core
speaks to it: plain blocking sockets, no loop.

The ``router`` fixture runs each test against Crossbar.io and against our router
(served by asyncio, trio and Twisted) started from the same ``config.json``. Every
transport (WebSocket and RawSocket on TCP, TLS and Unix sockets), every serializer,
every authentication method (and one wrong credential of each; cryptosign also with
TLS channel binding), both realms (a principal assigned to realm2, realms kept
apart, a role that may not register or publish), and the router features the
adapters rely on: RPC with caller disclosure, pub/sub with publisher disclosure,
event retention, the session meta API, testaments, progressive results, call
canceling, call timeouts, shared and pattern-based registrations; and the node
itself (kill, restart, shutdown with sessions connected).

Where our router legitimately answers differently (an ABORT's message text, say),
the expectation is per router (:func:`per_router`), with the reason beside it.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.crossbar.config import REALM2
from tests.integration.blocking_client import BlockingClient
from tests.integration.crossbar_node import CrossbarNode, make_authenticator
from tests.integration.our_node import router_name
from wamp_core.auth import AuthCryptosign, AuthScram, CryptosignKey
from wamp_core.events import (
    Joined,
    Left,
    PublishAcknowledged,
    RegistrationCreated,
    RequestFailed,
    SubscriptionCreated,
)
from wamp_core.exception import ApplicationError
from wamp_core.messages import Event, Interrupt, Invocation, Result
from wamp_core.transports import TransportClosed, TransportOpened
from wamp_core.types import CallOptions, PublishOptions, RegisterOptions, SubscribeOptions

pytestmark = pytest.mark.integration

SERIALIZERS = ["json", "msgpack", "cbor"]
AUTH_PRINCIPALS = ["ticket", "wampcra", "wampcra_salted", "cryptosign", "scram"]

# What Crossbar 26.10.1 answers to a wrong credential: ABORT with this reason and
# Details.message (from crossbar/router/auth/*.py). Ours answers with the same reason;
# a message is free text, and ours words two of them differently (per_router).
NOT_AUTHORIZED = "wamp.error.not_authorized"
WRONG_CREDENTIAL_MESSAGES = {
    "ticket": "ticket in static WAMP-Ticket authentication is invalid",
    "wampcra": "WAMP-CRA client signature is invalid",
    "wampcra_salted": "WAMP-CRA client signature is invalid",
    "cryptosign": (
        "extra.pubkey provided does not match any one of authorized_keys for the principal"
    ),
    "scram": "SCRAM authentication failed",
}
OUR_WRONG_CREDENTIAL_MESSAGES = {
    **WRONG_CREDENTIAL_MESSAGES,
    "cryptosign": "extra.pubkey is not one of the principal's authorized_keys",
}


def per_router(node: CrossbarNode, crossbar: Any, ours: Any) -> Any:
    """What Crossbar.io answers, or what our router answers (any backend)."""
    return crossbar if router_name(node) == "crossbar" else ours


OpenClient = Callable[..., BlockingClient]
MAX_FLOOD_EVENTS = 2000  # 64 KiB events: far more than any router queues for one reader
ACKNOWLEDGED = PublishOptions(acknowledge=True)
REFUSALS = 60  # refused joins in a row (ours-trio once lost ~1 ABORT in 6 on a loaded box)


def unique(prefix: str = "com.example") -> str:
    """A URI no other test uses (the shared node keeps retained events and registrations)."""
    return f"{prefix}.t{uuid.uuid4().hex}"


@pytest.fixture
def open_client(router: CrossbarNode) -> Iterator[OpenClient]:
    """Open (and join) clients on the shared node; all are closed after the test."""
    clients: list[BlockingClient] = []

    def _open(
        url: str | None = None,
        *,
        serializer: str = "msgpack",
        principal: str | dict[str, Any] | None = None,
        authenticators: list[Any] | None = None,
        join: bool = True,
        realm: str | None = None,
        **options: Any,
    ) -> BlockingClient:
        if isinstance(principal, str):
            principal = router.principals[principal]
        if authenticators is None:
            authenticators = [] if principal is None else [make_authenticator(principal)]
        if realm is None:  # the principal's own realm, if it has one
            realm = router.realm if principal is None else principal.get("realm", router.realm)
        client = BlockingClient.open(
            url or router.rs_url,
            realm,
            serializer=serializer,
            authenticators=authenticators,
            ssl_context=router.ssl_context(),
            **options,
        )
        clients.append(client)
        if join:
            client.join()
        return client

    yield _open
    for client in clients:
        client.close()


def register(client: BlockingClient, procedure: str, **options: Any) -> int:
    request_id = client.session.register(procedure, RegisterOptions(**options) if options else None)
    client.flush()
    created = client.expect_request(request_id)
    assert isinstance(created, RegistrationCreated), created
    return created.registration_id


def subscribe(client: BlockingClient, topic: str, **options: Any) -> int:
    request_id = client.session.subscribe(topic, SubscribeOptions(**options) if options else None)
    client.flush()
    created = client.expect_request(request_id)
    assert isinstance(created, SubscriptionCreated), created
    return created.subscription_id


def call(client: BlockingClient, procedure: str, *args: Any, **options: Any) -> int:
    request_id = client.session.call(
        procedure,
        list(args),
        options=CallOptions(**options) if options else None,
        now=time.monotonic(),  # the clock BlockingClient gives the core
    )
    client.flush()
    return request_id


def call_result(client: BlockingClient, procedure: str, *args: Any) -> Result:
    result = client.expect_request(call(client, procedure, *args))
    assert isinstance(result, Result), result
    return result


def first_to_be_invoked(callees: list[BlockingClient], timeout: float = 10.0) -> int:
    """Which callee gets the next invocation (answered with "served")."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for index, callee in enumerate(callees):
            invocation = callee.poll_for(Invocation, timeout=0.02)
            if invocation is not None:
                callee.session.yield_result(invocation.request_id, ["served"])
                callee.flush()
                return index
    raise AssertionError("no callee was invoked")


def answer(client: BlockingClient, *args: Any) -> Invocation:
    """Wait for one invocation and answer it with ``args``."""
    invocation = client.expect(Invocation)
    assert client.session.yield_result(invocation.request_id, list(args))
    client.flush()
    return invocation


# ---- transports, serializers, TLS, Unix sockets


@pytest.mark.parametrize("serializer", SERIALIZERS)
@pytest.mark.parametrize("transport", ["ws", "rs"])
def test_join_anonymously(
    router: CrossbarNode, open_client: OpenClient, transport: str, serializer: str
) -> None:
    client = open_client(router.urls[transport], serializer=serializer, join=False)
    assert client.expect(TransportOpened).serializer == serializer
    joined = client.join()
    assert joined.realm == "realm1"
    assert (joined.authmethod, joined.authrole) == ("anonymous", "anonymous")
    # A nested result through the serializer: the meta API describes our session.
    details = call_result(client, "wamp.session.get", joined.session_id).args
    assert details is not None
    assert details[0]["session"] == joined.session_id
    assert details[0]["authrole"] == "anonymous"


@pytest.mark.parametrize("endpoint", ["wss", "rss", "ws_unix", "rs_unix"])
def test_join_over_tls_and_unix_sockets(
    router: CrossbarNode, open_client: OpenClient, endpoint: str
) -> None:
    client = open_client(router.urls[endpoint], serializer="cbor")
    if endpoint.endswith("ss"):
        assert client.sock.version() == "TLSv1.3"  # type: ignore[attr-defined]
    count = call_result(client, "wamp.session.count").args
    assert count is not None and count[0] >= 1


def test_tls_rejects_an_untrusted_certificate(router: CrossbarNode) -> None:
    untrusting = ssl.create_default_context()  # the system CAs only
    with pytest.raises(ssl.SSLCertVerificationError):
        BlockingClient.open(router.rss_url, router.realm, ssl_context=untrusting)


# ---- authentication


@pytest.mark.parametrize("name", ["anonymous", *AUTH_PRINCIPALS])
@pytest.mark.parametrize("transport", ["ws", "rs"])
def test_authenticate(
    router: CrossbarNode, open_client: OpenClient, transport: str, name: str
) -> None:
    principal = router.principals[name]
    client = open_client(router.urls[transport], principal=name)  # joined
    welcome = next(e for e in client.seen if isinstance(e, Joined))
    assert welcome.authmethod == principal["authmethod"]
    assert welcome.authrole == principal["role"]
    assert welcome.authprovider == "static"
    if principal["authid"] is not None:  # anonymous gets a random one
        assert welcome.authid == principal["authid"]
    if name == "scram":  # our AuthScram checked it against the server key
        assert "scram_server_signature" in welcome.authextra


def test_cryptosign_without_authid(router: CrossbarNode, open_client: OpenClient) -> None:
    """Crossbar finds the principal by the public key when HELLO has no authid."""
    alice = dict(router.principals["cryptosign"], authid=None)
    client = open_client(principal=alice)
    welcome = next(e for e in client.seen if isinstance(e, Joined))
    assert (welcome.authid, welcome.authrole) == ("alice", "user")


@pytest.mark.parametrize("endpoint", ["wss", "rss"])
def test_cryptosign_with_tls_channel_binding(
    router: CrossbarNode, open_client: OpenClient, endpoint: str
) -> None:
    """tls-unique works over TLS 1.3 (both sides use the Finished message)."""
    alice = router.principals["cryptosign"]
    key = CryptosignKey.from_hex(alice["private_seed_hex"])
    bound = AuthCryptosign("alice", key=key, channel_binding="tls-unique")
    client = open_client(router.urls[endpoint], authenticators=[bound])
    welcome = next(e for e in client.seen if isinstance(e, Joined))
    assert (welcome.authid, welcome.authmethod) == ("alice", "cryptosign")
    # Crossbar knows only tls-unique.
    exporter = AuthCryptosign("alice", key=key, channel_binding="tls-exporter")
    refused = open_client(router.urls[endpoint], authenticators=[exporter], join=False)
    left: Joined | Left = refused.expect((Joined, Left))
    expected = per_router(
        router,
        crossbar='invalid channel binding type "tls-exporter" requested',
        ours="invalid channel binding type requested (only tls-unique)",  # free text
    )
    assert left == Left(NOT_AUTHORIZED, expected, True, True)


@pytest.mark.parametrize("name", AUTH_PRINCIPALS)
def test_wrong_credential_is_rejected(
    router: CrossbarNode, open_client: OpenClient, name: str
) -> None:
    client = open_client(principal=router.wrong_principals[name], join=False)
    left: Joined | Left = client.expect((Joined, Left))
    messages = per_router(router, WRONG_CREDENTIAL_MESSAGES, OUR_WRONG_CREDENTIAL_MESSAGES)
    assert left == Left(NOT_AUTHORIZED, messages[name], True, True)


@pytest.mark.parametrize(
    "router",
    [
        "crossbar",
        "ours-asyncio",
        "ours-trio",
        "ours-twisted",
    ],
    indirect=True,
)
def test_every_refused_join_gets_its_abort(router: CrossbarNode, open_client: OpenClient) -> None:
    """Many refused joins (a wrong ticket) in a row, over RawSocket and WebSocket: each
    one ends with the router's ABORT, never with the connection just closing."""
    wrong = router.wrong_principals["ticket"]
    outcomes = set()
    for attempt in range(REFUSALS):
        url = router.rs_url if attempt % 2 else router.ws_url
        client = open_client(url, principal=wrong, join=False)
        left: Joined | Left = client.expect((Joined, Left))
        assert isinstance(left, Left), left
        outcomes.add((left.reason, left.by_router))
        client.close()
    assert outcomes == {(NOT_AUTHORIZED, True)}


def test_unknown_principal_is_rejected(router: CrossbarNode, open_client: OpenClient) -> None:
    nobody = dict(router.principals["ticket"], authid="nobody")
    client = open_client(principal=nobody, join=False)
    left: Joined | Left = client.expect((Joined, Left))
    # The same text; ours quotes the authid as Python's repr does.
    quote = per_router(router, crossbar='"nobody"', ours="'nobody'")
    assert left == Left(NOT_AUTHORIZED, f"no principal with authid {quote} exists", True, True)


def test_spec_scram_is_not_offered(router: CrossbarNode, open_client: OpenClient) -> None:
    """Both routers speak only Crossbar.io's SCRAM convention (authmethod ``scram``)."""
    scram = router.principals["scram"]
    spec = AuthScram(scram["authid"], scram["password"], convention="spec")
    client = open_client(authenticators=[spec], join=False)
    left: Joined | Left = client.expect((Joined, Left))
    # Refused by both; Crossbar.io says not_authorized, ours the URI Autobahn names
    # for "none of the offered methods is configured" (ApplicationError.NO_AUTH_METHOD).
    expected = per_router(
        router,
        crossbar=Left(NOT_AUTHORIZED, 'invalid authmethod "wamp-scram"', True, True),
        ours=Left(
            ApplicationError.NO_AUTH_METHOD,
            "cannot authenticate using any of the offered authmethods ['wamp-scram']",
            True,
            True,
        ),
    )
    assert left == expected


# ---- RPC


def test_rpc_round_trip_with_caller_disclosure(
    router: CrossbarNode, open_client: OpenClient
) -> None:
    procedure = unique()
    callee = open_client(router.ws_url, serializer="json", principal="cryptosign")
    caller = open_client(router.rs_url, serializer="cbor", principal="ticket")
    register(callee, procedure)
    request_id = call(caller, procedure, 2, 3)
    invocation = callee.expect(Invocation)
    assert invocation.args == [2, 3]
    assert invocation.details["caller"] == caller.session.session_id
    assert invocation.details["caller_authid"] == "joe"
    assert invocation.details["caller_authrole"] == "user"
    callee.session.yield_result(invocation.request_id, [5])
    callee.flush()
    result = caller.expect_request(request_id)
    assert isinstance(result, Result) and result.args == [5]


def test_progressive_results(open_client: OpenClient) -> None:
    procedure = unique()
    callee, caller = open_client(), open_client()
    register(callee, procedure)
    request_id = call(caller, procedure, on_progress=lambda *args: None)
    invocation = callee.expect(Invocation)
    assert invocation.details["receive_progress"] is True
    for chunk in (1, 2):
        callee.session.yield_result(invocation.request_id, [chunk], progress=True)
    callee.session.yield_result(invocation.request_id, ["done"])
    callee.flush()
    chunks = [caller.expect(Result, lambda r: r.progress) for _ in (1, 2)]
    assert [c.args for c in chunks] == [[1], [2]]
    final = caller.expect_request(request_id)
    assert isinstance(final, Result) and final.args == ["done"]


def test_call_cancel(open_client: OpenClient) -> None:
    procedure = unique()
    callee, caller = open_client(), open_client()
    register(callee, procedure)
    request_id = call(caller, procedure)
    invocation = callee.expect(Invocation)
    assert caller.session.cancel(request_id, "kill")
    caller.flush()
    interrupt = callee.expect(Interrupt)
    assert interrupt.request_id == invocation.request_id
    assert interrupt.options["mode"] == "kill"
    callee.session.yield_error(invocation.request_id, ApplicationError.CANCELED)
    callee.flush()
    failed = caller.expect_request(request_id)
    assert isinstance(failed, RequestFailed)
    assert isinstance(failed.error, ApplicationError)
    assert failed.error.error == ApplicationError.CANCELED


def test_call_timeout(router: CrossbarNode, open_client: OpenClient) -> None:
    """The call fails with wamp.error.timeout, and the callee is interrupted.

    Who fires first is not fixed: the caller's own deadline (it then sends CANCEL
    killnowait, and the callee gets the router's INTERRUPT) or, on Crossbar.io, the
    callee's deadline from INVOCATION.Details.timeout (it answers wamp.error.timeout).
    The router's own timeout is not what ends the call: the client sends whole seconds
    rounded up plus one, so the router's timer comes after the client's deadline.
    """
    procedure = unique()
    callee, caller = open_client(), open_client()
    register(callee, procedure)
    request_id = call(caller, procedure, timeout=0.2)
    invocation = callee.expect(Invocation)
    # Crossbar.io forwards the timeout (whole seconds: 0.2 rounded up, plus one) to the
    # callee; the spec leaves that to the dealer (MAY), and ours does not forward it.
    assert invocation.details.get("timeout") == per_router(router, crossbar=2, ours=None)
    # The caller first: its deadline fires only while it is driven, and without the
    # forwarded timeout its CANCEL is what gets the callee interrupted.
    failed = caller.expect_request(request_id)
    assert isinstance(failed, RequestFailed)
    assert isinstance(failed.error, ApplicationError)
    assert failed.error.error == ApplicationError.TIMEOUT
    interrupt = callee.expect(Interrupt)  # ours (local deadline) or the router's
    assert interrupt.request_id == invocation.request_id


def test_shared_registration_roundrobin(open_client: OpenClient) -> None:
    procedure = unique()
    callees = [open_client(), open_client()]
    caller = open_client()
    for callee in callees:
        register(callee, procedure, invoke="roundrobin")
    served: list[int] = []
    for n in range(4):
        request_id = call(caller, procedure, n)
        served.append(first_to_be_invoked(callees))
        assert caller.expect_request(request_id).args == ["served"]
    assert sorted(served) == [0, 0, 1, 1]


def test_pattern_based_registrations(open_client: OpenClient) -> None:
    base = unique()
    callee, caller = open_client(), open_client()
    register(callee, f"{base}.prefix", match="prefix")
    register(callee, f"{base}..op", match="wildcard")
    for procedure in (f"{base}.prefix.a.b", f"{base}.x.op"):
        request_id = call(caller, procedure)
        invocation = answer(callee, procedure)
        assert invocation.details["procedure"] == procedure
        assert caller.expect_request(request_id).args == [procedure]


# ---- pub/sub


def test_publish_subscribe_with_publisher_disclosure(
    router: CrossbarNode, open_client: OpenClient
) -> None:
    topic = unique()
    subscriber = open_client(router.ws_url, serializer="cbor")
    publisher = open_client(router.rs_url, serializer="json", principal="wampcra")
    subscribe(subscriber, topic)
    subscribe(publisher, topic)
    request_id = publisher.session.publish(
        topic, [1, "two"], {"three": 3.5}, PublishOptions(exclude_me=False, acknowledge=True)
    )
    publisher.flush()
    assert isinstance(publisher.expect_request(request_id), PublishAcknowledged)
    for client in (subscriber, publisher):  # exclude_me=False: the publisher gets it too
        event = client.expect(Event)
        assert (event.args, event.kwargs) == ([1, "two"], {"three": 3.5})
        assert event.details["publisher"] == publisher.session.session_id
        assert event.details["publisher_authid"] == "peter"


def test_event_retention(open_client: OpenClient) -> None:
    topic = unique()
    publisher = open_client()
    request_id = publisher.session.publish(
        topic, ["kept"], options=PublishOptions(retain=True, acknowledge=True)
    )
    publisher.flush()
    assert isinstance(publisher.expect_request(request_id), PublishAcknowledged)
    late = open_client(serializer="json")
    subscribe(late, topic, get_retained=True)
    event = late.expect(Event)
    assert event.args == ["kept"]
    assert event.details.get("retained") is True


# ---- session meta API


def test_session_meta_api(open_client: OpenClient) -> None:
    first, second = open_client(), open_client(serializer="json")
    count = call_result(first, "wamp.session.count").args
    assert count is not None and count[0] >= 2
    listed = call_result(second, "wamp.session.list").args
    assert listed is not None
    assert {first.session.session_id, second.session.session_id} <= set(listed[0])


# ---- testaments


def test_testament_is_published_when_the_session_is_lost(open_client: OpenClient) -> None:
    topic = unique()
    watcher = open_client(serializer="json")
    subscribe(watcher, topic)
    dying = open_client()
    call_result(dying, "wamp.session.add_testament", topic, ["gone"], {"who": "dying"})
    dying.sock.close()  # the connection drops: no GOODBYE
    event = watcher.expect(Event)
    assert (event.args, event.kwargs) == (["gone"], {"who": "dying"})


# ---- two realms; a role that may not do everything


@pytest.mark.parametrize("hello_realm", [REALM2, "realm1"])
def test_the_principal_assigns_the_realm(open_client: OpenClient, hello_realm: str) -> None:
    """mary's principal names realm2: she is in realm2 whatever realm HELLO asks for."""
    mary = open_client(principal="realm2", realm=hello_realm)
    welcome = next(e for e in mary.seen if isinstance(e, Joined))
    identity = (welcome.realm, welcome.authid, welcome.authrole, welcome.authmethod)
    assert identity == (REALM2, "mary", "guest", "cryptosign")


def test_realms_are_kept_apart(open_client: OpenClient) -> None:
    topic = unique()
    in_realm1, in_realm2 = open_client(), open_client(realm=REALM2, serializer="json")
    subscribe(in_realm1, topic)
    subscribe(in_realm2, topic)
    publisher1, publisher2 = open_client(), open_client(realm=REALM2, serializer="cbor")
    for publisher, payload in ((publisher1, 1), (publisher2, 2), (publisher1, 3), (publisher2, 4)):
        options = PublishOptions(acknowledge=True)
        request_id = publisher.session.publish(topic, [payload], options=options)
        publisher.flush()
        assert isinstance(publisher.expect_request(request_id), PublishAcknowledged)
    # Each router delivers an event before it acknowledges the publication, so 1 and 3
    # would have come before 4 had they leaked into realm2.
    assert [in_realm1.expect(Event).args for _ in range(2)] == [[1], [3]]
    assert [in_realm2.expect(Event).args for _ in range(2)] == [[2], [4]]
    # The meta API answers for the caller's realm only.
    listed = call_result(in_realm2, "wamp.session.list").args
    assert listed is not None
    assert in_realm2.session.session_id in listed[0]
    assert not {in_realm1.session.session_id, publisher1.session.session_id} & set(listed[0])


def test_authorization_denied(open_client: OpenClient) -> None:
    """realm2's guest (mary) may call and subscribe, but not register or publish."""
    procedure = unique()
    callee = open_client(realm=REALM2)
    register(callee, procedure)
    mary = open_client(principal="realm2", serializer="cbor")
    request_id = call(mary, procedure, 1)
    invocation = answer(callee, "allowed")
    assert invocation.details["caller_authid"] == "mary"
    assert mary.expect_request(request_id).args == ["allowed"]
    subscribe(mary, unique())
    denied = [
        mary.session.register(unique()),
        mary.session.publish(unique(), ["x"], options=PublishOptions(acknowledge=True)),
    ]
    mary.flush()
    for request_id in denied:
        failed = mary.expect_request(request_id)
        assert isinstance(failed, RequestFailed), failed
        assert isinstance(failed.error, ApplicationError)
        assert failed.error.error == NOT_AUTHORIZED


# ---- bad input on one connection


def flood(sock: socket.socket, chunk: bytes, total: int = 1 << 20) -> bool:
    """Send ``chunk`` until ``total`` bytes went or the router stopped taking them;
    then read until it closes. Whether it closed within the socket's timeout."""
    sent = 0
    with contextlib.suppress(ConnectionError):  # a reset or a broken pipe: it closed
        while sent < total:
            sock.sendall(chunk)
            sent += len(chunk)
    try:
        while sock.recv(65536):  # what it says before closing (an ABORT, a 400)
            pass
    except TimeoutError:
        return False
    except ConnectionError:
        pass
    return True


@pytest.mark.parametrize("transport", ["rs", "ws"])
def test_garbage_on_one_connection_leaves_the_others_alone(
    router: CrossbarNode, open_client: OpenClient, transport: str
) -> None:
    """A connection that sends malformed frames (RawSocket: framed bytes that are no
    msgpack message; WebSocket: no HTTP at all) is closed; the others go on."""
    bystander = open_client(router.ws_url, serializer="json")
    host, port = (
        router.host,
        router.endpoints.rs_port if transport == "rs" else router.endpoints.ws_port,
    )
    with socket.create_connection((host, port), timeout=10) as sock:
        if transport == "rs":
            sock.sendall(bytes([0x7F, 0xF2, 0, 0]))  # RawSocket: msgpack, 16 MiB frames
            assert sock.recv(4)[:2] == bytes([0x7F, 0xF2])  # accepted
            payload = b"\xc1" * 1000  # 0xc1 is never valid msgpack
            chunk = (bytes([0]) + len(payload).to_bytes(3, "big") + payload) * 64
        else:
            chunk = bytes(range(256)) * 256
        assert flood(sock, chunk), "the router did not close the connection"
    count = call_result(bystander, "wamp.session.count").args
    assert count is not None and count[0] >= 1
    newcomer = open_client(router.rs_url, serializer="cbor")
    assert newcomer.session.session_id is not None


@pytest.mark.parametrize("router", ["ours-asyncio", "ours-trio", "ours-twisted"], indirect=True)
def test_a_slow_consumer_is_cut_off_while_the_others_go_on(
    router: CrossbarNode, open_client: OpenClient
) -> None:
    """A subscriber that stops reading is disconnected once what our router queues for
    it passes its bound (4 MiB by default); a subscriber that reads gets every event.
    Ours only: the bound is our router's (Crossbar.io's configuration has none)."""
    topic, payload = unique(), "x" * 65536
    stalled = open_client(router.rs_url)
    subscribe(stalled, topic)  # and never read again
    reader, publisher = open_client(router.ws_url, serializer="json"), open_client()
    subscribe(reader, topic)
    stalled_id = stalled.session.session_id
    for sent in range(1, MAX_FLOOD_EVENTS + 1):
        request_id = publisher.session.publish(topic, [sent, payload], options=ACKNOWLEDGED)
        publisher.flush()
        assert isinstance(publisher.expect_request(request_id), PublishAcknowledged)
        assert reader.expect(Event).args == [sent, payload]
        if sent % 16 == 0 and stalled_id not in session_ids(publisher):
            break
    else:
        raise AssertionError(f"the stalled subscriber was not cut off after {sent} events")
    # The rest of the realm goes on.
    request_id = publisher.session.publish(topic, ["after"], options=ACKNOWLEDGED)
    publisher.flush()
    assert isinstance(publisher.expect_request(request_id), PublishAcknowledged)
    assert reader.expect(Event).args == ["after"]


def session_ids(client: BlockingClient) -> set[int]:
    listed = call_result(client, "wamp.session.list").args
    assert listed is not None
    return set(listed[0])


# ---- the node itself: restart on the same endpoints, crash


def test_kill_and_restart(fresh_router: CrossbarNode) -> None:
    node = fresh_router
    endpoints = (node.endpoints, node.urls)
    victim = BlockingClient.open(node.ws_url, node.realm)
    victim.join()
    node.stop(kill=True)  # a crash; a graceful stop looks the same to clients:
    # Crossbar 26.10.1 then drops connections without GOODBYE or a WebSocket close.
    assert not node.running
    left = victim.expect(Left)
    assert (left.reason, left.by_router) == ("wamp.close.transport_lost", False)
    victim.expect(TransportClosed)
    victim.close()
    node.restart()  # back on the same ports and socket paths
    assert (node.endpoints, node.urls) == endpoints
    for url in (node.ws_url, node.rs_unix_url, node.rss_url):
        with BlockingClient.open(url, node.realm, ssl_context=node.ssl_context()) as client:
            client.join()


def test_shutdown_with_sessions_connected(fresh_router: CrossbarNode) -> None:
    node = fresh_router
    clients = [
        BlockingClient.open(url, node.realm, ssl_context=node.ssl_context(), serializer=serializer)
        for url, serializer in ((node.ws_url, "json"), (node.rss_url, "msgpack"))
    ]
    for client in clients:
        client.join()
    # SIGTERM, and wait for the exit in a thread: meanwhile the clients read, so they
    # answer our router's GOODBYE, which lets it exit at once.
    stopping = threading.Thread(target=node.stop)
    stopping.start()
    # Ours says GOODBYE wamp.close.system_shutdown to every session before it closes;
    # Crossbar.io 26.10.1 drops the connections (see test_kill_and_restart).
    expected = per_router(
        node,
        crossbar=("wamp.close.transport_lost", False),
        ours=("wamp.close.system_shutdown", True),
    )
    for client in clients:
        left = client.expect(Left)
        assert (left.reason, left.by_router) == expected
        client.expect(TransportClosed)
        client.close()
    stopping.join()
    assert not node.running
