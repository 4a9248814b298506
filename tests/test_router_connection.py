"""RouterConnection: one client's connection to the router. Protocol violations end
that session only; GOODBYE both ways and rejoining; a reader that stops is cut off;
messages too big for a peer are dropped with an event; plus the small pieces the
connection stands on (roles and permissions, ids, the session record)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.router_harness import Net, RawPeer
from wamp_core.events import Left
from wamp_core.exception import InvalidUriError
from wamp_core.messages import (
    Abort,
    Authenticate,
    Call,
    Error,
    Event,
    Goodbye,
    Hello,
    Publish,
    Published,
    Register,
    Registered,
    Result,
    Subscribe,
    Subscribed,
    Welcome,
    Yield,
)
from wamp_core.router import (
    ALLOW_ALL,
    TRUSTED,
    ConnectionClosed,
    ConnectionState,
    MessageDropped,
    Permission,
    RealmConfig,
    Role,
    RoleSet,
    Router,
    RouterSession,
    SessionJoined,
    SessionLeft,
)
from wamp_core.router._ids import RandomIds, SequentialIds
from wamp_core.router.session import ROUTER_FEATURES, announced_features
from wamp_core.transports.rawsocket_server import RawSocketServerTransport


@pytest.fixture
def net() -> Net:
    return Net()


def violation(peer: object) -> str:
    (abort,) = peer.take()  # type: ignore[attr-defined]
    assert isinstance(abort, Abort), abort
    assert abort.reason == "wamp.error.protocol_violation"
    assert peer.closed  # type: ignore[attr-defined]
    return str(abort.details["message"])


def test_garbage_ends_only_that_session(net: Net) -> None:
    bad, good = net.raw_peer(), net.raw_peer()
    bad.join()
    good.join()
    bad.send_bytes(b"\xff not json")
    assert "invalid json" in violation(bad)
    good.send(Call(1, "wamp.session.count"))
    assert good.take() == [Result(1, [1])]


@pytest.mark.parametrize(
    "message",
    [
        Welcome(1, {}),  # a router's message
        Error(Call.CODE, 1, "com.error"),  # only an invocation's error comes from a client
        Hello("realm1", {}),  # joined already
        Authenticate("x"),
    ],
)
def test_what_a_joined_client_may_not_send(net: Net, message: object) -> None:
    peer = net.raw_peer()
    peer.join()
    peer.send(message)  # type: ignore[arg-type]
    violation(peer)
    net.assert_empty()


@pytest.mark.parametrize(
    "message",
    [Call(1, "com.x"), Goodbye("wamp.close.normal"), Welcome(1, {"roles": {"broker": {}}})],
)
def test_what_comes_before_hello_is_a_violation(net: Net, message: object) -> None:
    peer = net.raw_peer()
    peer.send(message)  # type: ignore[arg-type]
    assert "before the session is established" in violation(peer)
    net.assert_empty()


def test_a_second_hello_while_authenticating_is_a_violation(net: Net) -> None:
    auth = {
        "ticket": {"type": "static", "principals": {"joe": {"ticket": "s3", "role": "anonymous"}}}
    }
    peer = net.raw_peer(auth=auth)
    peer.send(
        Hello("realm1", {"roles": {"caller": {}}, "authmethods": ["ticket"], "authid": "joe"})
    )
    (challenge,) = peer.take()
    assert challenge.NAME == "CHALLENGE"
    peer.send(Hello("realm1", {"roles": {"caller": {}}}))
    violation(peer)
    net.assert_empty()


def test_a_violation_in_a_batch_stops_the_rest(net: Net) -> None:
    peer = net.raw_peer()
    peer.join()
    peer.transport.send_message(peer.serializer.encode(Welcome(1, {})))
    peer.transport.send_message(peer.serializer.encode(Publish(1, "com.t")))
    net.pump()
    violation(peer)


def test_abort_from_the_client_ends_its_session(net: Net) -> None:
    peer = net.raw_peer()
    peer.join()
    events = peer.server.events()
    assert [type(e) for e in events] == [SessionJoined]
    peer.send(Abort("com.app.bye"))
    assert peer.closed
    left, closed = peer.server.events()
    assert isinstance(left, SessionLeft) and left.reason == "com.app.bye"
    assert isinstance(closed, ConnectionClosed)
    net.assert_empty()


def test_goodbye_then_a_new_session_on_the_same_connection(net: Net) -> None:
    peer = net.raw_peer()
    first = peer.join()
    peer.send(Goodbye("wamp.close.normal"))
    assert peer.take() == [Goodbye("wamp.close.normal")]  # Crossbar.io's answer
    assert peer.server.state is ConnectionState.ESTABLISHING
    second = peer.join()
    assert second.session_id != first.session_id
    assert repr(peer.server) == f"RouterConnection(state=joined, session={second.session_id})"


def test_our_client_leaves_and_the_router_forgets_it(net: Net) -> None:
    client = net.client()
    client.session.leave()
    assert any(isinstance(e, Left) for e in client.events())
    client.conn.close()
    net.pump()
    net.assert_empty()
    assert client.server.closed


def test_a_killed_session_that_keeps_talking_is_ignored_until_goodbye(net: Net) -> None:
    victim, killer = net.raw_peer(), net.raw_peer()
    welcome = victim.join()
    killer.join()
    killer.send(Call(1, "wamp.session.kill", [welcome.session_id]))
    assert killer.take() == [Result(1, [])]
    assert victim.take() == [Goodbye("wamp.close.killed")]
    assert victim.server.state is ConnectionState.CLOSING
    victim.send(Publish(1, "com.t"), Goodbye("wamp.close.goodbye_and_out"))
    assert victim.take() == []
    assert victim.server.state is ConnectionState.ESTABLISHING
    victim.server.kill("wamp.close.killed", None)  # no session: nothing to do
    assert victim.take() == []


def test_shutdown_says_goodbye_and_closes_after_the_answer(net: Net) -> None:
    joined, idle = net.raw_peer(), net.raw_peer()
    joined.join()
    net.router.shutdown()
    assert joined.take() == [Goodbye("wamp.close.system_shutdown")]
    assert idle.closed
    joined.server.shut_down("wamp.close.system_shutdown")  # again, while closing
    joined.send(Goodbye("wamp.close.goodbye_and_out"))
    assert joined.closed
    net.assert_empty()


def test_a_peer_that_stops_reading_is_cut_off_and_the_others_go_on() -> None:
    router = Router(random_bytes=random.Random(3).randbytes)
    fast, slow, source = (
        router.connect(RawSocketServerTransport(open_timeout=None), max_queued=4096)
        for _ in range(3)
    )
    ends = [_Client(conn) for conn in (fast, slow, source)]
    for end in ends:
        end.hello()
    for end in ends[:2]:
        end.send(Subscribe(1, "com.flood"))
        end.pump()
    ends[0].drain()
    for request_id in range(1, 200):
        ends[2].send(Publish(request_id, "com.flood", ["x" * 100], options={"acknowledge": True}))
        ends[0].drain()  # the fast one reads as it goes; the slow one never does
        ends[2].drain()
    assert slow.closed
    events = slow.events()
    assert isinstance(events[-1], ConnectionClosed)
    assert "stopped reading" in events[-1].reason
    assert any(
        isinstance(e, SessionLeft) and e.reason == "wamp.close.slow_consumer" for e in events
    )
    assert not fast.closed
    assert sum(isinstance(m, Event) for m in ends[0].received) == 199
    assert sum(isinstance(m, Published) for m in ends[2].received) == 199
    slow.receive_data(b"more")  # ignored once closed
    slow.handle_timer(1.0)
    assert slow.next_deadline() is None


class _Client:
    """A RawSocket client end driven by hand against one RouterConnection."""

    def __init__(self, server: object) -> None:
        from wamp_core.serializers import get_serializer
        from wamp_core.transports import RawSocketClientTransport

        self.server = server
        self.transport = RawSocketClientTransport("json")
        self.serializer = get_serializer("json")
        self.received: list[object] = []
        self.pump()

    def pump(self) -> None:
        data = self.transport.data_to_send()
        if data:
            self.server.receive_data(data)  # type: ignore[attr-defined]
        self.drain()

    def drain(self) -> list[object]:
        data = self.server.data_to_send()  # type: ignore[attr-defined]
        if data:  # b"" would be the end of the stream
            self.transport.receive_data(data)
        new: list[object] = []
        for event in self.transport.events():
            data = getattr(event, "data", None)
            if data is not None:
                new.extend(self.serializer.decode(data))
        self.received.extend(new)
        return new

    def send(self, message: object) -> None:
        self.transport.send_message(self.serializer.encode(message))  # type: ignore[arg-type]
        self.server.receive_data(self.transport.data_to_send())  # type: ignore[attr-defined]

    def hello(self) -> None:
        self.send(Hello("realm1", {"roles": {"subscriber": {}, "publisher": {}}}))
        assert isinstance(self.drain()[0], Welcome)


# With another subscriber, the EVENT comes from the shared encoding (send_shared);
# alone, from the small client's own (send).
@pytest.mark.parametrize("other_subscriber", [False, True])
def test_messages_too_big_for_a_peer_are_dropped_with_an_event(
    net: Net, other_subscriber: bool
) -> None:
    small = net.client(max_message_size=2048)
    big = net.raw_peer()
    big.join()
    small.session.subscribe("com.big")
    small.events()
    if other_subscriber:
        other = net.client()
        other.session.subscribe("com.big")
        other.events()
    big.send(Register(1, "com.echo"))
    (registered,) = big.take()
    assert isinstance(registered, Registered)
    big.send(Publish(2, "com.big", ["x" * 3000]))
    assert small.events() == []
    if other_subscriber:
        net.pump()
        assert [type(e).__name__ for e in other.events()] == ["Event"]
    small.session.call("com.echo")
    net.pump()
    (invocation,) = big.take()
    big.send(Yield(invocation.request_id, ["y" * 3000]))
    small.events()
    dropped = [e for e in small.server.events() if isinstance(e, MessageDropped)]
    assert [(d.message, d.size > 3000) for d in dropped] == [("EVENT", True), ("RESULT", True)]


def test_a_closed_connection_takes_no_more_messages(net: Net) -> None:
    peer = net.raw_peer()
    peer.join()
    server = peer.server
    server.close()
    server.close()  # twice is fine
    assert server.closed
    server.send(Subscribed(1, 2))
    server.send_shared(Subscribed(1, 2), {})
    assert server.data_to_send() == b""
    assert repr(server) == "RouterConnection(state=closed)"


# -- roles, ids and the session record ------------------------------------------------


def test_roles_resolve_the_best_permission() -> None:
    exact = Permission("com.a.b", "exact", frozenset({"call"}))
    prefix = Permission("com.a", "prefix", frozenset({"publish"}))
    wildcard = Permission("com..b", "wildcard", frozenset({"subscribe"}))
    roles = RoleSet([Role("user", (exact, prefix, wildcard))])
    assert roles.allows("user", "com.a.b", "call") is exact
    assert roles.allows("user", "com.a.b", "publish") is None  # exact wins, and forbids it
    assert roles.allows("user", "com.a.c", "publish") is prefix
    assert roles.allows("user", "com.x.b", "subscribe") is wildcard
    assert roles.allows("nobody", "com.a.b", "call") is None
    assert roles.allows(TRUSTED, "anything", "register") is ALLOW_ALL
    assert "user" in roles and TRUSTED in roles and "nobody" not in roles
    assert set(roles.roles) == {"user"}
    assert roles.dynamic == frozenset()


def test_role_answers_are_remembered_within_a_bound() -> None:
    prefix = Permission("com.a", "prefix", frozenset({"publish"}))
    roles = RoleSet([Role("user", (prefix,)), Role("dyn", authorizer="com.auth")])
    assert roles.dynamic == {"dyn"}
    # Asked again (remembered) the answers stay the same, allowed or not.
    for _ in range(2):
        assert roles.allows("user", "com.a.b", "publish") is prefix
        assert roles.allows("user", "com.a.b", "call") is None
        assert roles.allows("user", "org.x", "publish") is None
    # More distinct questions than are remembered: the oldest are forgotten, and
    # every answer is still right.
    for i in range(10_001):
        assert roles.allows("user", f"com.a.n{i}", "publish") is prefix
    assert roles.allows("user", "com.a.b", "call") is None
    assert roles.allows("user", "com.a.n0", "publish") is prefix


def test_bad_roles_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown actions"):
        Permission("com.a", allow=frozenset({"fly"}))  # type: ignore[arg-type]
    with pytest.raises(InvalidUriError):
        Permission("com..a", "exact")
    twice = Permission("com.a", "exact")
    with pytest.raises(ValueError, match="two permissions"):
        Role("user", (twice, twice))
    with pytest.raises(ValueError, match="defined twice"):
        RoleSet([Role("user"), Role("user")])


def test_ids() -> None:
    first = bytes(7) + b"\xff" * 7 + bytes(6) + b"\x01" + bytes(6) + b"\x02"
    asked: list[int] = []

    def source(n: int) -> bytes:
        asked.append(n)
        return first.ljust(n, b"\0") if len(asked) == 1 else b"\0" * (n - 1) + b"\x05"

    ids = RandomIds(source)
    assert ids.draw() == 1
    assert ids.draw() == 2**53
    assert ids.unique({2}) == 3  # 2 was taken: drawn again
    for _ in range(64 - 4):  # the rest of the first batch: zeros
        assert ids.draw() == 1
    assert ids.draw() == 1  # the second batch's first id
    assert asked == [7 * 64, 7 * 64]  # 64 ids per call of the source
    with pytest.raises(ValueError, match="448 bytes"):
        RandomIds(lambda n: b"short").draw()
    counter = SequentialIds()
    assert [counter.next(), counter.next()] == [1, 2]
    counter._last = 2**53
    assert counter.next() == 1


def test_the_session_record() -> None:
    session = RouterSession(
        5,
        "realm1",
        peer=None,  # type: ignore[arg-type]
        authid="joe",
        authrole="user",
        roles={"callee": {"features": {"call_canceling": True}}, "caller": "junk"},
    )
    assert session.has_feature("callee", "call_canceling")
    assert not session.has_feature("caller", "call_canceling")
    assert not session.has_feature("publisher", "x")
    assert session.details()["authid"] == "joe"
    assert repr(session) == "RouterSession(id=5, realm='realm1', authid='joe', authrole='user')"
    assert not RouterSession(6, "realm1", None, authid="a", authrole="b").features  # type: ignore[arg-type]


def test_a_session_keeps_only_the_features_the_router_acts_on() -> None:
    hello_roles = {
        "callee": {"features": {"call_canceling": True, "progressive_call_results": True}},
        "subscriber": {"features": {"subscription_revocation": 1}},  # not True: not announced
        "caller": {"features": "junk"},
    }
    assert announced_features(hello_roles) == {("callee", "call_canceling")}
    # Equal announcements share one set: an idle session holds no copy of its own.
    again = {"callee": {"features": {"call_canceling": True}}}
    assert announced_features(again) is announced_features(hello_roles)
    assert announced_features(None) is announced_features({})
    every = {
        role: {"features": {f: True for r, f in ROUTER_FEATURES if r == role}}
        for role, _ in ROUTER_FEATURES
    }
    assert announced_features(every) == set(ROUTER_FEATURES)


def test_realm_configuration() -> None:
    with pytest.raises(ValueError, match="twice"):
        Router([RealmConfig("a"), RealmConfig("a")], random_bytes=random.Random(1).randbytes)
    assert repr(Net().router.realms["realm1"]) == "Realm('realm1', sessions=0)"


def test_an_unknown_message_type_for_the_realm_is_a_violation(net: Net) -> None:
    peer = net.raw_peer()
    peer.join()
    realm = net.router.realms["realm1"]
    session = peer.server.session
    assert session is not None
    with pytest.raises(Exception, match="does not send"):
        realm.receive(session, Result(1), 0.0)
    realm.leave(RouterSession(99, "realm1", peer.server, authid="x", authrole="y"))  # not there
    assert len(realm.sessions) == 1
    assert realm.sessions_by_authrole("anonymous") == [session]


def _callee_and_caller(net: Net) -> tuple[RawPeer, RawPeer]:
    callee, caller = net.raw_peer(), net.raw_peer()
    callee.join()
    caller.join()
    callee.send(Register(1, "com.slow"))
    callee.take()
    return callee, caller


@pytest.mark.parametrize("leaving", ["callee", "caller"])
def test_a_peer_cut_off_while_a_departure_is_reported_to_it(leaving: str) -> None:
    """The callee leaves and its two failed calls cut the caller off (or the caller
    leaves and the two interrupts cut the callee off): the departure goes on."""
    net = Net()
    callee, caller = _callee_and_caller(net)
    caller.send(Call(1, "com.slow"), Call(2, "com.slow"))
    assert len(callee.take()) == 2
    gone, told = (callee, caller) if leaving == "callee" else (caller, callee)
    told.server.max_queued = 1
    gone.server.close()
    net.pump()
    assert told.closed
    net.assert_empty()


# -- the remaining corners --------------------------------------------------------------


def test_the_internal_peer_answers_each_call_once() -> None:
    from wamp_core.router.realm import _InternalPeer

    answers: list[object] = []
    waiting = {
        1: lambda *a: answers.append(a),
        2: lambda *a: answers.append(a),
        3: lambda *a: answers.append(a),
    }
    peer = _InternalPeer(waiting)  # type: ignore[arg-type]
    peer.send_shared(Result(1, [5]), {})
    peer.send(Error(Call.CODE, 2, "com.err", ["text"]))
    peer.send(Error(Call.CODE, 3, "com.err", [7]))
    peer.send(Subscribed(4, 5))  # nothing else is expected; ignored
    peer.kill("wamp.close.killed", None)
    assert answers == [([5], None, ""), (None, "com.err", "text"), (None, "com.err", "com.err")]
    assert waiting == {}


def test_a_timer_on_an_open_connection_and_a_second_finish(net: Net) -> None:
    peer = net.raw_peer()
    peer.join()
    peer.server.handle_timer(5.0)
    assert net.router.now == 5.0
    peer.server._finish("done", None)
    peer.server._finish("again", None)
    assert [type(e) for e in peer.server.events()][-1:] == [ConnectionClosed]
    assert sum(isinstance(e, ConnectionClosed) for e in peer.server.events()) == 0


def test_messages_after_an_abort_in_the_same_read_are_ignored(net: Net) -> None:
    peer = net.raw_peer()
    peer.join()
    for message in (Abort("com.bye"), Publish(1, "com.t")):
        peer.transport.send_message(peer.serializer.encode(message))
    net.pump()
    assert peer.closed
    net.assert_empty()


def test_garbage_from_a_killed_session_closes_without_abort(net: Net) -> None:
    victim, killer = net.raw_peer(), net.raw_peer()
    welcome = victim.join()
    killer.join()
    killer.send(Call(1, "wamp.session.kill", [welcome.session_id]))
    assert victim.take() == [Goodbye("wamp.close.killed")]
    victim.send_bytes(b"\x00garbage")
    assert victim.take() == []
    assert victim.closed


def test_a_leaving_session_subscribed_to_its_own_meta_events(net: Net) -> None:
    peer = net.raw_peer()
    peer.join()
    peer.send(Subscribe(1, "wamp.registration.on_unregister"), Register(2, "com.mine"))
    assert len(peer.take()) == 2
    peer.server.close()  # its own on_unregister goes to a transport already closed
    net.pump()
    net.assert_empty()


def test_a_batch_is_cut_short_by_a_violation() -> None:
    from wamp_core.serializers import get_serializer
    from wamp_core.transports import WebSocketClientTransport
    from wamp_core.transports.websocket_server import WebSocketServerTransport

    router = Router(random_bytes=random.Random(5).randbytes)
    server = router.connect(WebSocketServerTransport(serializers=("json.batched",)))
    client = WebSocketClientTransport("127.0.0.1", "/", serializers=("json.batched",))

    def pump() -> None:
        server.receive_data(client.data_to_send())
        client.receive_data(server.data_to_send())

    pump()
    serializer = get_serializer("json.batched")
    hello = Hello("realm1", {"roles": {"caller": {}}})
    client.send_message(
        serializer.encode_batch([hello, Welcome(1, {"roles": {"broker": {}}}), hello])
    )
    pump()
    assert server.closed
    assert [type(e) for e in server.events()][-1:] == [ConnectionClosed]
    assert not router.live_session_ids


def test_an_abort_in_the_middle_of_a_batch_ends_it() -> None:
    from wamp_core.serializers import get_serializer
    from wamp_core.transports import WebSocketClientTransport
    from wamp_core.transports.websocket_server import WebSocketServerTransport

    router = Router(random_bytes=random.Random(5).randbytes)
    server = router.connect(WebSocketServerTransport(serializers=("json.batched",)))
    client = WebSocketClientTransport("127.0.0.1", "/", serializers=("json.batched",))
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    hello = Hello("realm1", {"roles": {"caller": {}}})
    batch = get_serializer("json.batched").encode_batch([hello, Abort("com.bye"), hello])
    client.send_message(batch)
    server.receive_data(client.data_to_send())
    assert server.closed
    assert not router.live_session_ids


def test_authentication_chosen_by_the_websocket_path() -> None:
    from wamp_core.transports import WebSocketClientTransport
    from wamp_core.transports.websocket_server import WebSocketServerTransport

    router = Router(
        [RealmConfig("realm1", (Role("anonymous", (ALLOW_ALL,)), Role("guest", (ALLOW_ALL,))))],
        random_bytes=random.Random(9).randbytes,
    )
    paths = {
        "/ws": {"anonymous": {"type": "static", "role": "anonymous"}},
        "/guest": {"anonymous": {"type": "static", "role": "guest"}},
    }
    asked: list[str] = []

    def auth_for(path: str) -> Any:
        asked.append(path)
        return paths[path]

    server = router.connect(WebSocketServerTransport(paths=tuple(paths)), auth=auth_for)
    client = WebSocketClientTransport("127.0.0.1", "/guest", serializers=("json",))
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    client.send_message(b'[1,"realm1",{"roles":{"caller":{}}}]')
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    (welcome,) = [e for e in client.events() if getattr(e, "data", None)]
    assert '"authrole":"guest"' in str(welcome.data)
    assert asked == ["/guest"]
