"""The router's meta API: every procedure of META_PROCEDURES with good and bad
arguments, killing sessions, testaments, the registration and subscription
introspection, the session meta events, authorization of meta calls, and
arguments that do not fit a procedure."""

from __future__ import annotations

from typing import Any

import pytest

from tests.router_harness import Net, RawPeer, joined, session_id
from wamp_core.events import Left, RequestFailed
from wamp_core.exception import ApplicationError
from wamp_core.messages import (
    Abort,
    Call,
    Error,
    Event,
    Goodbye,
    Message,
    Publish,
    Register,
    Registered,
    Result,
    Subscribe,
    Subscribed,
    Unregistered,
    Unsubscribed,
)
from wamp_core.router import ALLOW_ALL, Permission, RealmConfig, Role
from wamp_core.router.meta import META_PROCEDURES
from wamp_core.types import CallOptions

ROLES = RealmConfig("realm1", (Role("anonymous", (ALLOW_ALL,)), Role("user", (ALLOW_ALL,))))
INVALID_ARGUMENT = ApplicationError.INVALID_ARGUMENT
NO_SUCH_SESSION = ApplicationError.NO_SUCH_SESSION
NO_SUCH_REGISTRATION = ApplicationError.NO_SUCH_REGISTRATION
NO_SUCH_SUBSCRIPTION = ApplicationError.NO_SUCH_SUBSCRIPTION
INVALID_URI = ApplicationError.INVALID_URI
TESTAMENT_ERROR = "wamp.error.testament_error"


class Caller:
    """Calls meta procedures from a raw peer and returns the answer."""

    def __init__(self, peer: RawPeer) -> None:
        self.peer = peer
        self.request_id = 0

    def answer(self, procedure: str, *args: Any, **kwargs: Any) -> Message:
        self.request_id += 1
        self.peer.send(Call(self.request_id, procedure, list(args), kwargs or None))
        received = self.peer.take()
        (answer,) = [m for m in received if isinstance(m, (Result, Error))]
        self.peer.received[:0] = [m for m in received if m is not answer]
        assert answer.request_id == self.request_id
        return answer

    def __call__(self, procedure: str, *args: Any, **kwargs: Any) -> Any:
        answer = self.answer(procedure, *args, **kwargs)
        assert isinstance(answer, Result), answer
        assert answer.kwargs is None
        if not answer.args:
            return None
        (value,) = answer.args
        return value

    def error(self, procedure: str, *args: Any, **kwargs: Any) -> str:
        answer = self.answer(procedure, *args, **kwargs)
        assert isinstance(answer, Error), answer
        assert answer.request_type == Call.CODE
        assert answer.args and isinstance(answer.args[0], str)
        return answer.error


@pytest.fixture
def net() -> Net:
    return Net([ROLES])


# -- sessions --------------------------------------------------------------------------


def test_session_count_list_and_filter(net: Net) -> None:
    a, b = joined(net), joined(net)
    u = joined(net, role="user")
    call = Caller(a)
    assert call("wamp.session.count") == 3
    assert call("wamp.session.count", None) == 3
    assert call("wamp.session.count", ["user"]) == 1
    assert call("wamp.session.count", filter_authroles=["anonymous", "user"]) == 3
    assert call("wamp.session.count", ["nobody"]) == 0
    assert call("wamp.session.count", []) == 0
    assert call("wamp.session.list") == [session_id(a), session_id(b), session_id(u)]
    assert call("wamp.session.list", ["anonymous"]) == [session_id(a), session_id(b)]
    assert call("wamp.session.list", ["user"]) == [session_id(u)]
    for bad in ("user", [1], {"user": 1}, ["user", None]):
        assert call.error("wamp.session.count", bad) == INVALID_ARGUMENT
        assert call.error("wamp.session.list", bad) == INVALID_ARGUMENT


def test_session_get(net: Net) -> None:
    a = joined(net)
    b = joined(net, "bob", role="user")
    call = Caller(a)
    details = call("wamp.session.get", session_id(b))
    assert details == {
        "session": session_id(b),
        "realm": "realm1",
        "authid": "bob",
        "authrole": "user",
        "authmethod": "ticket",
        "authprovider": "static",
        "authextra": details["authextra"],
        "transport": {},
    }
    assert call("wamp.session.get", session_id(a))["session"] == session_id(a)  # its own: allowed
    assert call.error("wamp.session.get", 1) == NO_SUCH_SESSION
    for bad in ("1", 1.0, None, True):
        assert call.error("wamp.session.get", bad) == INVALID_ARGUMENT


def test_kill_says_goodbye_and_the_session_may_rejoin(net: Net) -> None:
    admin, victim = joined(net), joined(net)
    call = Caller(admin)
    gone = session_id(victim)
    assert call("wamp.session.kill", gone) is None
    assert victim.take() == [Goodbye("wamp.close.killed", {})]
    realm = net.router.realms["realm1"]
    assert gone not in realm.sessions  # removed at once, before the client answers
    assert call("wamp.session.count") == 1
    assert call.error("wamp.session.kill", gone) == NO_SUCH_SESSION
    victim.send(Goodbye("wamp.close.goodbye_and_out"))
    assert victim.take() == []
    assert not victim.closed
    victim.join()
    assert call("wamp.session.count") == 2
    call("wamp.session.kill", session_id(victim), "com.example.bye", "go away")
    assert victim.take() == [Goodbye("com.example.bye", {"message": "go away"})]


def test_kill_our_client(net: Net) -> None:
    admin = joined(net)
    client = net.client()
    assert client.session.session_id is not None
    Caller(admin)("wamp.session.kill", client.session.session_id, message="maintenance")
    (left,) = client.only(Left)
    assert (left.reason, left.message, left.by_router) == (
        "wamp.close.killed",
        "maintenance",
        True,
    )
    assert not client.server.closed
    client.session.join()
    client.events()
    assert client.session.is_joined


def test_kill_refuses_bad_arguments(net: Net) -> None:
    admin, victim = joined(net), joined(net)
    call = Caller(admin)
    assert call.error("wamp.session.kill", session_id(admin)) == NO_SUCH_SESSION  # not itself
    assert call.error("wamp.session.kill", 12345) == NO_SUCH_SESSION
    assert call.error("wamp.session.kill", "x") == INVALID_ARGUMENT
    assert call.error("wamp.session.kill", session_id(victim), "not a uri!") == INVALID_URI
    assert call.error("wamp.session.kill", session_id(victim), 7) == INVALID_ARGUMENT
    assert call.error("wamp.session.kill", session_id(victim), None, 7) == INVALID_ARGUMENT
    assert victim.take() == []
    assert call("wamp.session.count") == 2


def test_kill_by_authid_and_authrole(net: Net) -> None:
    admin = joined(net, "alice", role="user")
    alice1, alice2 = joined(net, "alice", role="user"), joined(net, "alice")
    bob = joined(net, "bob", role="user")
    other = joined(net)
    call = Caller(admin)
    alices, bob_id = sorted([session_id(alice1), session_id(alice2)]), session_id(bob)
    assert call("wamp.session.kill_by_authid", "nobody") == []
    assert call.error("wamp.session.kill_by_authid", "alice", "bad reason") == INVALID_URI
    assert call.error("wamp.session.kill_by_authid", 1) == INVALID_ARGUMENT
    killed = call("wamp.session.kill_by_authid", "alice", message="dup")
    assert sorted(killed) == alices  # never the caller
    for peer in (alice1, alice2):
        assert peer.take() == [Goodbye("wamp.close.killed", {"message": "dup"})]
    assert call.error("wamp.session.kill_by_authrole", ["user"]) == INVALID_ARGUMENT
    assert call("wamp.session.kill_by_authrole", "user", "com.example.roles") == [bob_id]
    assert bob.take() == [Goodbye("com.example.roles", {})]
    assert call("wamp.session.list") == [session_id(admin), session_id(other)]
    assert call("wamp.session.kill_by_authrole", "user") == []  # only the caller is left
    assert other.take() == []


def test_session_join_and_leave_events(net: Net) -> None:
    observer = joined(net)
    observer.send(
        Subscribe(1, "wamp.session.on_join", {}), Subscribe(2, "wamp.session.on_leave", {})
    )
    on_join, on_leave = (m.subscription_id for m in observer.take() if isinstance(m, Subscribed))
    peer = joined(net, "carl", role="user")
    assert peer.server.session is not None
    (event,) = observer.take()
    assert isinstance(event, Event)
    assert (event.subscription_id, event.args) == (on_join, [peer.server.session.details()])
    assert event.args is not None and event.args[0]["authid"] == "carl"
    assert peer.take() == []  # the joining session is not told about itself
    gone = session_id(peer)
    peer.send(Goodbye("wamp.close.normal"))
    (event,) = observer.take()
    assert isinstance(event, Event)
    assert (event.subscription_id, event.args) == (on_leave, [gone, "carl", "user"])


# -- testaments ------------------------------------------------------------------------


def _watch(net: Net, topic: str = "com.will") -> RawPeer:
    watcher = joined(net)
    watcher.send(Subscribe(1, topic, {}))
    assert [type(m) for m in watcher.take()] == [Subscribed]
    return watcher


@pytest.mark.parametrize("how", ["goodbye", "abort", "transport"])
def test_a_testament_is_published_when_the_session_ends(net: Net, how: str) -> None:
    watcher = _watch(net)
    dying = joined(net, "dan")
    call = Caller(dying)
    options = {"acknowledge": True, "exclude_me": False, "disclose_me": True}
    publication = call("wamp.session.add_testament", "com.will", [1], {"k": 2}, options)
    assert isinstance(publication, int)
    (testament,) = net.router.realms["realm1"].testaments[session_id(dying)]
    assert testament.scope == "destroyed"
    assert testament.message.options == {"disclose_me": True}  # acknowledge, exclude_me gone
    assert watcher.take() == []
    me = session_id(dying)
    if how == "goodbye":
        dying.send(Goodbye("wamp.close.normal"))
        assert dying.take() == [Goodbye("wamp.close.normal")]  # no PUBLISHED
    elif how == "abort":
        dying.send(Abort("com.example.crash"))
    else:
        dying.server.receive_data(b"")
        net.pump()
    (event,) = watcher.take()
    assert isinstance(event, Event)
    assert (event.args, event.kwargs) == ([1], {"k": 2})
    assert event.details == {
        "publisher": me,
        "publisher_authid": "dan",
        "publisher_authrole": "anonymous",
    }
    assert me not in net.router.realms["realm1"].testaments


def test_testament_scopes_and_flush(net: Net) -> None:
    watcher = joined(net)
    watcher.send(Subscribe(1, "com.", {"match": "prefix"}))
    watcher.take()
    peer = joined(net)
    call = Caller(peer)
    call("wamp.session.add_testament", "com.a")
    call("wamp.session.add_testament", "com.b", scope="destroyed")
    call("wamp.session.add_testament", "com.c", None, None, None, "detached")
    realm = net.router.realms["realm1"]
    assert [t.scope for t in realm.testaments[session_id(peer)]] == [
        "destroyed",
        "destroyed",
        "detached",
    ]
    assert call("wamp.session.flush_testaments", "detached") == 1
    assert call("wamp.session.flush_testaments", "detached") == 0
    call("wamp.session.add_testament", "com.d", scope="detached")
    assert call("wamp.session.flush_testaments") == 2
    assert [t.message.topic for t in realm.testaments[session_id(peer)]] == ["com.d"]
    assert call("wamp.session.flush_testaments", "detached") == 1
    assert session_id(peer) not in realm.testaments
    assert call("wamp.session.flush_testaments") == 0
    call("wamp.session.add_testament", "com.e", ["last"])
    peer.send(Goodbye("wamp.close.normal"))
    events = [m for m in watcher.take() if isinstance(m, Event)]
    assert [(e.args, e.details) for e in events] == [(["last"], {"topic": "com.e"})]


def test_testament_bad_arguments_and_limit(net: Net) -> None:
    peer = joined(net)
    call = Caller(peer)
    add = "wamp.session.add_testament"
    assert call.error(add, "com.t", scope="forever") == TESTAMENT_ERROR
    assert call.error("wamp.session.flush_testaments", "forever") == TESTAMENT_ERROR
    assert call.error("wamp.session.flush_testaments", None) == TESTAMENT_ERROR
    assert call.error(add, "not a uri!") == INVALID_URI
    assert call.error(add, 5) == INVALID_URI
    assert call.error(add, "com.t", "x") == INVALID_ARGUMENT
    assert call.error(add, "com.t", None, ["x"]) == INVALID_ARGUMENT
    assert call.error(add, "com.t", None, None, ["x"]) == INVALID_ARGUMENT
    realm = net.router.realms["realm1"]
    assert realm.testaments.get(session_id(peer), []) == []
    realm.max_testaments = 2
    call(add, "com.t")
    call(add, "com.t", scope="detached")
    assert call.error(add, "com.t") == TESTAMENT_ERROR
    assert len(realm.testaments[session_id(peer)]) == 2
    assert call("wamp.session.flush_testaments") == 1
    call(add, "com.t")
    peer.send(Goodbye("wamp.close.normal"))
    net.assert_empty()


# -- registrations ---------------------------------------------------------------------


def _registered(peer: RawPeer, request_id: int, uri: str, **options: Any) -> int:
    peer.send(Register(request_id, uri, options))
    (answer,) = peer.take()
    assert isinstance(answer, Registered), answer
    return answer.registration_id


def test_registration_introspection(net: Net) -> None:
    admin, callee, callee2 = joined(net), joined(net), joined(net)
    call = Caller(admin)
    assert call("wamp.registration.list") == {"exact": [], "prefix": [], "wildcard": []}
    exact = _registered(callee, 1, "com.add")
    prefix = _registered(callee, 2, "com.p", match="prefix")
    wildcard = _registered(callee, 3, "com..x", match="wildcard")
    shared = _registered(callee, 4, "com.shared", invoke="roundrobin")
    assert _registered(callee2, 1, "com.shared", invoke="roundrobin") == shared
    assert call("wamp.registration.list") == {
        "exact": [exact, shared],
        "prefix": [prefix],
        "wildcard": [wildcard],
    }
    lookup = "wamp.registration.lookup"
    assert call(lookup, "com.add") == exact
    assert call(lookup, "com.add", {}) == exact
    assert call(lookup, "com.add", {"match": "exact"}) == exact
    assert call(lookup, "com.p", {"match": "prefix"}) == prefix
    assert call(lookup, "com..x", {"match": "wildcard"}) == wildcard
    assert call(lookup, "com.p") is None
    assert call(lookup, "com.nothing") is None
    for bad in ({"match": "fuzzy"}, "prefix", ["exact"]):
        assert call.error(lookup, "com.p", bad) == INVALID_ARGUMENT
    assert call.error(lookup, 1) == INVALID_ARGUMENT
    match = "wamp.registration.match"
    assert call(match, "com.add") == exact
    assert call(match, "com.p.q") == prefix
    assert call(match, "com.y.x") == wildcard
    assert call(match, "org.nothing") is None
    assert call.error(match, None) == INVALID_ARGUMENT
    details = call("wamp.registration.get", prefix)
    assert {k: details[k] for k in ("id", "uri", "match")} == {
        "id": prefix,
        "uri": "com.p",
        "match": "prefix",
    }
    assert details["created"] == "1970-01-01T00:00:00.000Z"
    assert call("wamp.registration.list_callees", shared) == [
        session_id(callee),
        session_id(callee2),
    ]
    assert call("wamp.registration.count_callees", shared) == 2
    assert call("wamp.registration.count_callees", exact) == 1
    for name in ("get", "list_callees", "count_callees"):
        assert call.error(f"wamp.registration.{name}", 999) == NO_SUCH_REGISTRATION
        assert call.error(f"wamp.registration.{name}", "1") == INVALID_ARGUMENT


def test_registration_remove_callee(net: Net) -> None:
    admin, callee, callee2 = joined(net), joined(net), joined(net)
    call = Caller(admin)
    reg = _registered(callee, 1, "com.shared", invoke="first")
    _registered(callee2, 1, "com.shared", invoke="first")
    remove = "wamp.registration.remove_callee"
    assert call(remove, reg, session_id(callee), "com.example.moved") is None
    assert callee.take() == [Unregistered(0, {"registration": reg, "reason": "com.example.moved"})]
    assert call("wamp.registration.list_callees", reg) == [session_id(callee2)]
    assert call.error(remove, reg, session_id(callee)) == NO_SUCH_REGISTRATION  # no callee any more
    assert call.error(remove, 999, session_id(callee)) == NO_SUCH_REGISTRATION
    assert call.error(remove, reg, "x") == INVALID_ARGUMENT
    assert call.error(remove, reg, session_id(callee2), 5) == INVALID_ARGUMENT
    assert call(remove, reg, session_id(callee2)) is None
    assert callee2.take() == [Unregistered(0, {"registration": reg})]
    assert call.error("wamp.registration.get", reg) == NO_SUCH_REGISTRATION


# -- subscriptions ---------------------------------------------------------------------


def _subscribed(peer: RawPeer, request_id: int, topic: str, **options: Any) -> int:
    peer.send(Subscribe(request_id, topic, options))
    (answer,) = peer.take()
    assert isinstance(answer, Subscribed), answer
    return answer.subscription_id


def test_subscription_introspection(net: Net) -> None:
    admin, sub, sub2 = joined(net), joined(net), joined(net)
    call = Caller(admin)
    assert call("wamp.subscription.list") == {"exact": [], "prefix": [], "wildcard": []}
    exact = _subscribed(sub, 1, "com.a.b")
    prefix = _subscribed(sub, 2, "com.a", match="prefix")
    wildcard = _subscribed(sub, 3, "com..b", match="wildcard")
    assert _subscribed(sub2, 1, "com.a.b") == exact
    assert call("wamp.subscription.list") == {
        "exact": [exact],
        "prefix": [prefix],
        "wildcard": [wildcard],
    }
    lookup = "wamp.subscription.lookup"
    assert call(lookup, "com.a.b") == exact
    assert call(lookup, "com.a", {"match": "prefix"}) == prefix
    assert call(lookup, "com..b", options={"match": "wildcard"}) == wildcard
    assert call(lookup, "com.a") is None
    assert call.error(lookup, "com.a", {"match": 1}) == INVALID_ARGUMENT
    assert call.error(lookup, ["com.a"]) == INVALID_ARGUMENT
    match = "wamp.subscription.match"
    assert sorted(call(match, "com.a.b")) == sorted([exact, prefix, wildcard])
    assert call(match, "com.a.c") == [prefix]
    assert call(match, "org.x") is None
    assert call.error(match, 3) == INVALID_ARGUMENT
    assert call("wamp.subscription.get", wildcard) == {
        "id": wildcard,
        "created": "1970-01-01T00:00:00.000Z",
        "uri": "com..b",
        "match": "wildcard",
    }
    assert call("wamp.subscription.list_subscribers", exact) == [session_id(sub), session_id(sub2)]
    assert call("wamp.subscription.count_subscribers", exact) == 2
    assert call("wamp.subscription.count_subscribers", prefix) == 1
    for name in ("get", "list_subscribers", "count_subscribers"):
        assert call.error(f"wamp.subscription.{name}", 999) == NO_SUCH_SUBSCRIPTION
        assert call.error(f"wamp.subscription.{name}", None) == INVALID_ARGUMENT


def test_subscription_remove_subscriber(net: Net) -> None:
    admin, sub, sub2 = joined(net), joined(net), joined(net)
    call = Caller(admin)
    topic = _subscribed(sub, 1, "com.t")
    _subscribed(sub2, 1, "com.t")
    remove = "wamp.subscription.remove_subscriber"
    assert call(remove, topic, session_id(sub), "com.example.out") is None
    assert sub.take() == [Unsubscribed(0, {"subscription": topic, "reason": "com.example.out"})]
    assert call("wamp.subscription.list_subscribers", topic) == [session_id(sub2)]
    assert call.error(remove, topic, session_id(sub)) == NO_SUCH_SUBSCRIPTION
    assert call.error(remove, 999, session_id(sub2)) == NO_SUCH_SUBSCRIPTION
    assert call.error(remove, topic, "x") == INVALID_ARGUMENT
    assert call.error(remove, topic, session_id(sub2), 1) == INVALID_ARGUMENT
    assert call(remove, topic, session_id(sub2)) is None
    assert sub2.take() == [Unsubscribed(0, {"subscription": topic})]
    assert call.error("wamp.subscription.get", topic) == NO_SUCH_SUBSCRIPTION


# -- authorization and signatures ------------------------------------------------------

ONLY_COM = RealmConfig(
    "realm1",
    (
        Role("anonymous", (ALLOW_ALL,)),
        Role(
            "user",
            (
                Permission("com.", "prefix", frozenset({"call", "register"})),
                Permission("wamp.session.count", "exact", frozenset({"call"})),
            ),
        ),
    ),
)


@pytest.mark.parametrize("procedure", sorted(META_PROCEDURES))
def test_meta_procedures_need_permission(procedure: str) -> None:
    net = Net([ONLY_COM])
    call = Caller(joined(net, role="user"))
    if procedure == "wamp.session.count":
        assert call(procedure) == 1
    else:
        assert call.error(procedure) == ApplicationError.NOT_AUTHORIZED


def test_meta_call_with_our_client_not_authorized() -> None:
    net = Net([ONLY_COM])
    client = net.client(auth={"anonymous": {"type": "static", "role": "user"}})
    request = client.session.call("wamp.session.list", options=CallOptions(timeout=5))
    (failed,) = client.only(RequestFailed)
    assert failed.request_id == request
    assert isinstance(failed.error, ApplicationError)
    assert failed.error.error == ApplicationError.NOT_AUTHORIZED


ARITY: dict[str, tuple[int, int]] = {  # (required, most) positional arguments
    "wamp.session.count": (0, 1),
    "wamp.session.list": (0, 1),
    "wamp.session.get": (1, 1),
    "wamp.session.kill": (1, 3),
    "wamp.session.kill_by_authid": (1, 3),
    "wamp.session.kill_by_authrole": (1, 3),
    "wamp.session.add_testament": (1, 5),
    "wamp.session.flush_testaments": (0, 1),
    "wamp.registration.list": (0, 0),
    "wamp.registration.lookup": (1, 2),
    "wamp.registration.match": (1, 1),
    "wamp.registration.get": (1, 1),
    "wamp.registration.list_callees": (1, 1),
    "wamp.registration.count_callees": (1, 1),
    "wamp.registration.remove_callee": (2, 3),
    "wamp.subscription.list": (0, 0),
    "wamp.subscription.lookup": (1, 2),
    "wamp.subscription.match": (1, 1),
    "wamp.subscription.get": (1, 1),
    "wamp.subscription.list_subscribers": (1, 1),
    "wamp.subscription.count_subscribers": (1, 1),
    "wamp.subscription.remove_subscriber": (2, 3),
}


def test_arity_table_is_complete() -> None:
    assert set(ARITY) == set(META_PROCEDURES)


@pytest.mark.parametrize("procedure", sorted(META_PROCEDURES))
def test_arguments_that_do_not_fit(procedure: str) -> None:
    net = Net()
    call = Caller(joined(net))
    required, most = ARITY[procedure]
    assert call.error(procedure, *range(1, most + 2)) == INVALID_ARGUMENT  # one too many
    assert call.error(procedure, bogus=1) == INVALID_ARGUMENT  # an unknown keyword
    if required:
        assert call.error(procedure) == INVALID_ARGUMENT  # too few
    assert net.router.realms["realm1"].sessions  # the caller is still there


def test_an_ordinary_call_is_not_answered_by_the_meta_api(net: Net) -> None:
    caller = joined(net)
    answer = Caller(caller).answer("wamp.session.nothing")
    assert isinstance(answer, Error)
    assert answer.error == "wamp.error.no_such_procedure"


def test_publication_to_meta_topics_is_ordinary(net: Net) -> None:
    # a client publishing to a wamp.* topic goes through the broker like any other
    watcher = _watch(net, "wamp.session.on_join")
    pub = joined(net)
    watcher.take()
    pub.send(Publish(1, "wamp.session.on_join", ["fake"]))
    events = watcher.take()
    assert [e.args for e in events if isinstance(e, Event)] == [["fake"]]
