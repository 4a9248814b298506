"""The router's broker: subscriptions (exact, prefix, wildcard), publications and their
receiver rules, acknowledgement, authorization, publisher disclosure, retained events,
payload passthru, revocation, sessions leaving, the subscription meta events, and one
encoding of an EVENT per serializer however many subscribers receive it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.router_harness import Net, RawPeer, joined, session_id
from wamp_core.events import PublishAcknowledged, RequestFailed, SubscriptionCreated
from wamp_core.exception import ApplicationError
from wamp_core.messages import (
    Call,
    Error,
    Event,
    Goodbye,
    Message,
    Publish,
    Published,
    Result,
    Subscribe,
    Subscribed,
    Unsubscribe,
    Unsubscribed,
)
from wamp_core.router import ALLOW_ALL, Permission, RealmConfig, Role
from wamp_core.router.broker import MAX_ROUTES
from wamp_core.serializers import get_serializer
from wamp_core.types import PublishOptions, SubscribeOptions

ROLES = RealmConfig("realm1", (Role("anonymous", (ALLOW_ALL,)), Role("user", (ALLOW_ALL,))))
USER_AUTH: dict[str, Any] = {"anonymous": {"type": "static", "role": "user"}}
NOT_AUTHORIZED = "wamp.error.not_authorized"
NO_SUCH_SUBSCRIPTION = "wamp.error.no_such_subscription"
META_TOPICS = (
    "wamp.subscription.on_create",
    "wamp.subscription.on_subscribe",
    "wamp.subscription.on_unsubscribe",
    "wamp.subscription.on_delete",
)


def subscribed(peer: RawPeer, request_id: int, topic: str, **options: Any) -> int:
    """SUBSCRIBE; what follows SUBSCRIBED (a retained event) stays to be taken."""
    peer.send(Subscribe(request_id, topic, options))
    received = peer.take()
    (answer,) = [m for m in received if isinstance(m, Subscribed)]
    peer.received[:0] = [m for m in received if m is not answer]
    return answer.subscription_id


def events(peer: RawPeer) -> list[Event]:
    received = peer.take()
    assert all(isinstance(m, Event) for m in received), received
    return received  # type: ignore[return-value]


@pytest.fixture
def net() -> Net:
    return Net()


# -- routing ---------------------------------------------------------------------------


def test_exact_prefix_and_wildcard_each_get_one_event(net: Net) -> None:
    sub, pub = joined(net), joined(net)
    exact = subscribed(sub, 1, "com.a.b")
    prefix = subscribed(sub, 2, "com.a", match="prefix")
    wildcard = subscribed(sub, 3, "com..b", match="wildcard")
    assert len({exact, prefix, wildcard}) == 3
    broker = net.router.realms["realm1"].broker
    assert {s.id for s in broker.matching("com.a.b")} == {exact, prefix, wildcard}
    assert broker.lookup("com.a", "prefix") is broker.subscriptions[prefix]
    assert broker.lookup("com.a", "exact") is None
    pub.send(Publish(1, "com.a.b", [1], {"k": "v"}))
    got = {e.subscription_id: e for e in events(sub)}
    assert set(got) == {exact, prefix, wildcard}
    assert got[exact].details == {}
    assert got[prefix].details == {"topic": "com.a.b"}
    assert got[wildcard].details == {"topic": "com.a.b"}
    assert all((e.args, e.kwargs) == ([1], {"k": "v"}) for e in got.values())
    assert len({e.publication_id for e in got.values()}) == 1  # one publication
    pub.send(Publish(2, "com.a.c", [2]))
    (only,) = events(sub)
    assert (only.subscription_id, only.details) == (prefix, {"topic": "com.a.c"})
    pub.send(Publish(3, "org.x", [3]))
    assert sub.take() == []


def test_subscribing_twice_gives_the_same_subscription(net: Net) -> None:
    observer, first, second = joined(net), joined(net), joined(net)
    for n, topic in enumerate(META_TOPICS, 1):
        subscribed(observer, n, topic)
    one = subscribed(first, 1, "com.t")
    again = subscribed(first, 2, "com.t")
    other = subscribed(second, 1, "com.t")
    assert one == again == other
    meta = events(observer)
    # created once; subscribed once per session (the repeat is no new subscriber)
    assert [e.args for e in meta] == [
        [session_id(first), net.router.realms["realm1"].broker.subscriptions[one].details()],
        [session_id(first), one],
        [session_id(second), one],
    ]
    assert net.router.realms["realm1"].broker.subscriptions[one].details() == {
        "id": one,
        "created": "1970-01-01T00:00:00.000Z",
        "uri": "com.t",
        "match": "exact",
    }
    publisher = joined(net)
    publisher.send(Publish(1, "com.t"))
    assert len(events(first)) == len(events(second)) == 1


# Alone, the publisher is its subscription's only subscriber (the broker's no-sharing
# path); with others, the EVENT's encoding is shared.
@pytest.mark.parametrize("others", [0, 1, 2])
def test_the_publisher_is_excluded_unless_it_says_otherwise(net: Net, others: int) -> None:
    me = joined(net)
    rest = [joined(net) for _ in range(others)]
    for peer in [me, *rest]:
        subscribed(peer, 1, "com.t")
    me.send(Publish(2, "com.t", [1]))
    assert me.take() == []
    assert [len(events(peer)) for peer in rest] == [1] * others
    me.send(Publish(3, "com.t", [2], options={"exclude_me": False}))
    assert [e.args for e in events(me)] == [[2]]
    me.send(Publish(4, "com.t", [3], options={"exclude_me": True}))
    assert me.take() == []


def test_the_receiver_rules_hold_for_a_lone_subscriber(net: Net) -> None:
    publisher, alone = joined(net), joined(net)
    subscribed(alone, 1, "com.t")
    publisher.send(Publish(2, "com.t", [1], options={"exclude": [session_id(alone)]}))
    publisher.send(Publish(3, "com.t", [2], options={"eligible": [session_id(alone)]}))
    publisher.send(Publish(4, "com.t", [3], options={"eligible": [session_id(publisher)]}))
    assert [e.args for e in events(alone)] == [[2]]


RECEIVER_CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({}, {"alice", "bob", "carol", "dave"}),
    ({"exclude": ["bob"]}, {"alice", "carol", "dave"}),
    ({"exclude_authid": ["alice", "nobody"]}, {"bob", "carol", "dave"}),
    ({"exclude_authrole": ["user"]}, {"alice", "bob"}),
    ({"eligible": ["alice", "carol"]}, {"alice", "carol"}),
    ({"eligible": []}, set()),
    ({"eligible_authid": ["dave"]}, {"dave"}),
    ({"eligible_authrole": ["anonymous"]}, {"alice", "bob"}),
    ({"eligible_authrole": ["user"], "exclude": ["carol"]}, {"dave"}),
    ({"eligible": ["alice", "bob"], "eligible_authid": ["bob", "carol"]}, {"bob"}),
    ({"eligible_authid": ["alice"], "exclude_authrole": ["anonymous"]}, set()),
]


@pytest.mark.parametrize(("rules", "expected"), RECEIVER_CASES)
def test_black_and_white_listing(rules: dict[str, Any], expected: set[str]) -> None:
    net = Net([ROLES])
    peers = {
        "alice": joined(net, "alice"),
        "bob": joined(net, "bob"),
        "carol": joined(net, "carol", role="user"),
        "dave": joined(net, "dave", role="user"),
    }
    assert peers["carol"].server.session is not None
    assert peers["carol"].server.session.authrole == "user"
    assert peers["carol"].server.session.authid == "carol"
    for peer in peers.values():
        subscribed(peer, 1, "com.t")
    options = {
        key: [session_id(peers[name]) for name in value]
        if key in ("exclude", "eligible")
        else value
        for key, value in rules.items()
    }
    publisher = joined(net, "zed")
    publisher.send(Publish(1, "com.t", [1], options=options))
    got = {name for name, peer in peers.items() if peer.take()}
    assert got == expected


def test_acknowledged_publish_with_our_client(net: Net) -> None:
    client, sub = net.client(), joined(net)
    subscribed(sub, 1, "com.t")
    request = client.session.publish("com.t", [1], options=PublishOptions(acknowledge=True))
    (ack,) = client.only(PublishAcknowledged)
    assert ack.request_id == request
    (event,) = events(sub)
    assert event.publication_id == ack.publication_id
    client.session.publish("com.t", [2])  # no answer without acknowledge
    assert client.events() == []
    assert [e.args for e in events(sub)] == [[2]]


# -- authorization ---------------------------------------------------------------------

LIMITED = RealmConfig(
    "realm1",
    (
        Role("anonymous", (ALLOW_ALL,)),
        Role(
            "user",
            (
                Permission("com.", "prefix", frozenset({"subscribe", "call"})),
                Permission("com.open", "exact", frozenset({"publish", "subscribe"})),
                Permission("com.shown", "exact", frozenset({"publish"}), disclose_publisher=True),
            ),
        ),
    ),
)


def test_publish_without_permission() -> None:
    net = Net([LIMITED])
    sub = joined(net)
    subscribed(sub, 1, "com.t")
    raw = joined(net, role="user")
    raw.send(Publish(5, "com.t", [1]))  # not acknowledged: no answer at all
    assert raw.take() == []
    raw.send(Publish(6, "com.t", [1], options={"acknowledge": True}))
    (error,) = raw.take()
    assert isinstance(error, Error)
    assert (error.request_type, error.request_id, error.error) == (Publish.CODE, 6, NOT_AUTHORIZED)
    assert sub.take() == []
    client = net.client(auth=USER_AUTH)
    request = client.session.publish("com.t", [1], options=PublishOptions(acknowledge=True))
    (failed,) = client.only(RequestFailed)
    assert failed.request_id == request
    assert isinstance(failed.error, ApplicationError)
    assert failed.error.error == NOT_AUTHORIZED
    client.session.publish("com.open", [1], options=PublishOptions(acknowledge=True))
    assert len(client.only(PublishAcknowledged)) == 1
    assert sub.take() == []  # it is not subscribed to com.open


def test_subscribe_without_permission() -> None:
    net = Net([LIMITED])
    raw = joined(net, role="user")
    raw.send(Subscribe(3, "org.t", {}))
    (error,) = raw.take()
    assert isinstance(error, Error)
    assert (error.request_type, error.request_id, error.error) == (
        Subscribe.CODE,
        3,
        NOT_AUTHORIZED,
    )
    assert net.router.realms["realm1"].broker.is_empty()
    subscribed(raw, 4, "com.t")


def test_publisher_disclosure() -> None:
    net = Net([LIMITED])
    sub = joined(net)
    subscribed(sub, 1, "com.", match="prefix")
    pub = joined(net, "pete", role="user")
    me = {
        "publisher": session_id(pub),
        "publisher_authid": "pete",
        "publisher_authrole": "user",
    }
    pub.send(Publish(1, "com.open", [1]))
    pub.send(Publish(2, "com.open", [2], options={"disclose_me": True}))
    pub.send(Publish(3, "com.open", [3], options={"disclose_me": False}))
    pub.send(Publish(4, "com.shown", [4]))  # the role's permission discloses
    got = events(sub)
    assert [e.details for e in got] == [
        {"topic": "com.open"},
        {"topic": "com.open", **me},
        {"topic": "com.open"},
        {"topic": "com.shown", **me},
    ]


# -- retained events -------------------------------------------------------------------


def test_retained_event_goes_to_a_later_subscriber_that_asks(net: Net) -> None:
    pub = joined(net, "pete")
    pub.send(Publish(1, "com.t", [1], options={"retain": True, "acknowledge": True}))
    (ack,) = pub.take()
    assert isinstance(ack, Published)
    pub.send(Publish(2, "com.t", [2], {"k": 1}, options={"retain": True, "disclose_me": True}))
    pub.send(Publish(3, "com.other", [3]))  # not retained
    late = joined(net)
    sub_id = subscribed(late, 1, "com.t", get_retained=True)
    (event,) = events(late)
    assert (event.subscription_id, event.args, event.kwargs) == (sub_id, [2], {"k": 1})
    assert event.details == {
        "retained": True,
        "publisher": session_id(pub),
        "publisher_authid": "pete",
        "publisher_authrole": "anonymous",
    }
    # asking again (the same subscription) gets it again; not asking gets nothing
    assert subscribed(late, 2, "com.t", get_retained=True) == sub_id
    assert len(events(late)) == 1
    other = joined(net)
    subscribed(other, 1, "com.t")
    subscribed(other, 2, "com.other", get_retained=True)
    subscribed(other, 3, "com.", match="prefix", get_retained=True)  # exact only
    subscribed(other, 4, "com.never", get_retained=True)
    assert other.take() == []
    # the retained event outlives its publisher, and stays when the subscribers go
    pub.send(Goodbye("wamp.close.normal"))
    assert [type(m) for m in pub.take()] == [Goodbye]
    for peer in (late, other):
        peer.send(Goodbye("wamp.close.normal"))
    net.assert_empty()
    again = joined(net)
    subscribed(again, 1, "com.t", get_retained=True)
    assert [e.args for e in events(again)] == [[2]]


def test_retained_event_keeps_its_receiver_rules() -> None:
    net = Net([ROLES])
    pub = joined(net)
    pub.send(Publish(1, "com.a", [1], options={"retain": True, "eligible_authid": ["alice"]}))
    pub.send(Publish(2, "com.b", [2], options={"retain": True, "exclude_authrole": ["user"]}))
    # the publisher itself may get its retained event (exclusion applies at publication)
    subscribed(pub, 1, "com.a", get_retained=True)
    assert pub.take() == []
    subscribed(pub, 2, "com.b", get_retained=True)
    assert [e.args for e in events(pub)] == [[2]]
    alice, carol = joined(net, "alice"), joined(net, "carol", role="user")
    subscribed(alice, 1, "com.a", get_retained=True)
    subscribed(alice, 2, "com.b", get_retained=True)
    assert [e.args for e in events(alice)] == [[1], [2]]
    subscribed(carol, 1, "com.a", get_retained=True)
    subscribed(carol, 2, "com.b", get_retained=True)
    assert carol.take() == []


def test_max_retained_forgets_the_oldest_topic() -> None:
    net = Net(max_retained=2)
    pub = joined(net)

    def retained(topic: str) -> list[Any]:
        peer = joined(net)
        subscribed(peer, 1, topic, get_retained=True)
        got = [e.args for e in events(peer)]
        peer.send(Goodbye("wamp.close.normal"))
        return got

    pub.send(Publish(1, "com.a", [1], options={"retain": True}))
    pub.send(Publish(2, "com.b", [2], options={"retain": True}))
    pub.send(Publish(3, "com.a", [3], options={"retain": True}))  # com.a is now the newest
    pub.send(Publish(4, "com.c", [4], options={"retain": True}))  # com.b goes
    assert retained("com.a") == [[3]]
    assert retained("com.b") == []
    assert retained("com.c") == [[4]]
    pub.send(Publish(5, "com.c", [5], options={"retain": True}))  # replaced, nothing evicted
    assert retained("com.a") == [[3]]
    assert retained("com.c") == [[5]]


# -- unsubscribing and leaving ---------------------------------------------------------


def test_unsubscribe(net: Net) -> None:
    first, second, pub = joined(net), joined(net), joined(net)
    topic = subscribed(first, 1, "com.t")
    other = subscribed(first, 2, "com.u")
    assert subscribed(second, 1, "com.t") == topic
    first.send(Unsubscribe(3, topic))
    assert first.take() == [Unsubscribed(3)]
    pub.send(Publish(1, "com.t", [1]))
    assert first.take() == []
    assert len(events(second)) == 1
    broker = net.router.realms["realm1"].broker
    assert topic in broker.subscriptions  # second still holds it
    for request_id, target in ((4, topic), (5, 12345)):
        first.send(Unsubscribe(request_id, target))
        (error,) = first.take()
        assert isinstance(error, Error)
        assert (error.request_type, error.request_id, error.error) == (
            Unsubscribe.CODE,
            request_id,
            NO_SUCH_SUBSCRIPTION,
        )
    second.send(Unsubscribe(2, topic))
    assert second.take() == [Unsubscribed(2)]
    assert topic not in broker.subscriptions
    assert broker.lookup("com.t", "exact") is None
    first.send(Unsubscribe(6, other))
    assert first.take() == [Unsubscribed(6)]
    assert broker.is_empty()


def test_unsubscribe_unknown_with_our_client(net: Net) -> None:
    client = net.client()
    client.session.subscribe("com.t")
    (created,) = client.only(SubscriptionCreated)
    raw = joined(net)
    raw.send(Unsubscribe(1, created.subscription_id))  # not raw's subscription
    (error,) = raw.take()
    assert isinstance(error, Error)
    assert error.error == NO_SUCH_SUBSCRIPTION
    client.session.unsubscribe(created.subscription_id)
    client.events()
    assert net.router.realms["realm1"].broker.is_empty()


def test_a_leaving_session_loses_its_subscriptions(net: Net) -> None:
    observer, leaver, stayer = joined(net), joined(net), joined(net)
    for n, topic in enumerate(META_TOPICS, 1):
        subscribed(observer, n, topic)
    shared = subscribed(stayer, 1, "com.shared")
    mine = subscribed(leaver, 1, "com.mine")
    assert subscribed(leaver, 2, "com.shared") == shared
    pattern = subscribed(leaver, 3, "com.", match="prefix")
    observer.take()
    gone = session_id(leaver)
    leaver.send(Goodbye("wamp.close.normal"))
    meta = [(e.subscription_id, e.args) for e in events(observer)]
    ids = dict(zip(META_TOPICS, (subscribed(observer, 9, t) for t in META_TOPICS), strict=True))
    on_unsubscribe, on_delete = (
        ids["wamp.subscription.on_unsubscribe"],
        ids["wamp.subscription.on_delete"],
    )
    expected: list[tuple[int, list[Any]]] = []
    for sub in sorted((shared, mine, pattern)):
        expected.append((on_unsubscribe, [gone, sub]))
        if sub != shared:
            expected.append((on_delete, [gone, sub]))
    assert meta == expected
    broker = net.router.realms["realm1"].broker
    assert set(broker.subscriptions) == {shared} | set(ids.values())
    stayer.send(Goodbye("wamp.close.normal"))
    observer.send(Goodbye("wamp.close.normal"))
    net.assert_empty()


def test_transport_loss_removes_subscriptions(net: Net) -> None:
    peer, pub = joined(net), joined(net)
    subscribed(peer, 1, "com.t")
    peer.server.receive_data(b"")  # the client's end of the stream
    net.pump()
    assert peer.closed
    pub.send(Publish(1, "com.t", [1], options={"acknowledge": True}))
    assert [type(m) for m in pub.take()] == [Published]
    pub.send(Goodbye("wamp.close.normal"))
    net.assert_empty()


# -- meta events -----------------------------------------------------------------------


def test_subscription_meta_events(net: Net) -> None:
    observer, sub = joined(net), joined(net)
    meta_ids = [subscribed(observer, n, topic) for n, topic in enumerate(META_TOPICS, 1)]
    assert observer.take() == []  # wamp.* subscriptions are not reported
    first = subscribed(sub, 1, "com.t", match="prefix")
    second = subscribed(sub, 2, "com.t", match="prefix")
    assert first == second
    (create, subscribe) = events(observer)
    me = session_id(sub)
    assert (create.subscription_id, create.args) == (
        meta_ids[0],
        [
            me,
            {
                "id": first,
                "created": "1970-01-01T00:00:00.000Z",
                "uri": "com.t",
                "match": "prefix",
            },
        ],
    )
    assert (subscribe.subscription_id, subscribe.args) == (meta_ids[1], [me, first])
    sub.send(Unsubscribe(3, first))
    sub.take()
    (unsubscribe, delete) = events(observer)
    assert (unsubscribe.subscription_id, unsubscribe.args) == (meta_ids[2], [me, first])
    assert (delete.subscription_id, delete.args) == (meta_ids[3], [me, first])
    # none for the meta topics themselves, either way
    on_join = subscribed(sub, 4, "wamp.session.on_join")
    sub.send(Unsubscribe(5, on_join))
    assert sub.take() == [Unsubscribed(5)]
    assert observer.take() == []


def test_publish_internal_leaves_out_the_excluded_session(net: Net) -> None:
    first, second = joined(net), joined(net)
    subscribed(first, 1, "com.meta")
    subscribed(second, 1, "com.meta")
    broker = net.router.realms["realm1"].broker
    broker.publish_internal("com.meta", [1], exclude=session_id(first))
    net.pump()
    assert first.take() == []
    (event,) = events(second)
    assert (event.args, event.details) == ([1], {})


# -- payload passthru ------------------------------------------------------------------


def test_payload_passthru_options_go_with_an_opaque_payload() -> None:
    net = Net()
    raw = net.raw_peer("msgpack")
    raw.join()
    client = net.client("realm1", "msgpack")
    client.session.subscribe("com.", SubscribeOptions(match="prefix"))
    (created,) = client.only(SubscriptionCreated)
    sub = net.raw_peer("msgpack")
    sub.join()
    subscribed(sub, 1, "com.t")
    options = {
        "enc_algo": "cryptobox",
        "enc_serializer": "json",
        "enc_key": "key-1",
        "ppt_scheme": "wamp",
        "ppt_serializer": "cbor",
        "ppt_cipher": "xsalsa20poly1305",
        "ppt_keyid": "k1",
        "acknowledge": True,
        "retain": False,
    }
    raw.send(Publish(1, "com.t", payload=b"\x00opaque", options=options))
    assert [type(m) for m in raw.take()] == [Published]
    passed = {k: v for k, v in options.items() if k.startswith(("ppt_", "enc_"))}
    (event,) = events(sub)
    assert (event.args, event.kwargs, event.payload) == (None, None, b"\x00opaque")
    assert event.details == passed
    # our client decodes it too (the payload is only read as one with enc_algo)
    (got,) = [e for e in client.events() if isinstance(e, Event)]
    assert got.subscription_id == created.subscription_id
    assert got.payload == b"\x00opaque"
    assert got.details == {"topic": "com.t", **passed}
    raw.send(Publish(2, "com.t", payload="text", options={"enc_algo": "null"}))
    (event,) = events(sub)
    assert (event.payload, event.details) == ("text", {"enc_algo": "null"})


def test_passthru_options_without_a_payload_are_not_forwarded(net: Net) -> None:
    sub, pub = joined(net), joined(net)
    subscribed(sub, 1, "com.t")
    pub.send(Publish(1, "com.t", [1], options={"ppt_scheme": "x", "ppt_serializer": "json"}))
    (event,) = events(sub)
    assert (event.args, event.details, event.payload) == ([1], {}, None)


# -- revocation ------------------------------------------------------------------------


def _remove(admin: RawPeer, request_id: int, *args: Any) -> Message:
    admin.send(Call(request_id, "wamp.subscription.remove_subscriber", list(args)))
    (answer,) = admin.take()
    return answer


def test_revocation_tells_a_subscriber_that_understands_it(net: Net) -> None:
    admin, sub, pub = joined(net), joined(net), joined(net)
    first = subscribed(sub, 1, "com.a")
    second = subscribed(sub, 2, "com.b")
    assert _remove(admin, 1, first, session_id(sub), "com.example.gone") == Result(1, [])
    assert sub.take() == [Unsubscribed(0, {"subscription": first, "reason": "com.example.gone"})]
    assert _remove(admin, 2, second, session_id(sub)) == Result(2, [])
    assert sub.take() == [Unsubscribed(0, {"subscription": second})]
    pub.send(Publish(1, "com.a", [1]))
    pub.send(Publish(2, "com.b", [1]))
    assert sub.take() == []
    assert net.router.realms["realm1"].broker.is_empty()


def test_revocation_is_silent_for_a_subscriber_that_does_not_understand_it(net: Net) -> None:
    admin, pub = joined(net), joined(net)
    sub = net.raw_peer()
    sub.join(roles={"subscriber": {"features": {"subscription_revocation": False}}})
    mine = subscribed(sub, 1, "com.a")
    assert _remove(admin, 1, mine, session_id(sub)) == Result(1, [])
    assert sub.take() == []
    pub.send(Publish(1, "com.a", [1]))
    assert sub.take() == []
    # again: it is no subscriber any more (and the subscription is gone)
    answer = _remove(admin, 2, mine, session_id(sub))
    assert isinstance(answer, Error)
    assert answer.error == NO_SUCH_SUBSCRIPTION


def test_revoking_a_session_that_is_not_a_subscriber(net: Net) -> None:
    admin, sub = joined(net), joined(net)
    mine = subscribed(sub, 1, "com.a")
    answer = _remove(admin, 1, mine, session_id(admin))
    assert isinstance(answer, Error)
    assert answer.error == NO_SUCH_SUBSCRIPTION
    broker = net.router.realms["realm1"].broker
    assert broker.revoke(session_id(sub), 999) is False
    assert broker.revoke(session_id(admin), mine) is False
    assert sub.take() == []


# -- encoding once per serializer ------------------------------------------------------


class CountingTransport:
    """Wraps a router connection's transport and keeps the payloads it frames for
    sharing (``frame_message``): a connection frames only what it encoded itself,
    not what it found in the message's shared cache. (The transport, not the
    serializer, is wrapped: a compiled connection takes only a real Serializer.)"""

    def __init__(self, inner: Any, serializer: str, framed: list[Message]) -> None:
        self._inner = inner
        self._serializer = get_serializer(serializer)
        self._framed = framed

    def frame_message(self, payload: bytes | str) -> bytes:
        self._framed.extend(self._serializer.decode(payload))
        frame: bytes = self._inner.frame_message(payload)
        return frame

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_an_event_is_encoded_once_per_serializer(net: Net) -> None:
    encoded: list[Message] = []
    clients = [net.client(serializer="msgpack") for _ in range(5)]
    clients += [net.client(serializer="json") for _ in range(3)]
    for index, client in enumerate(clients):
        client.session.subscribe("com.t")
        assert len(client.only(SubscriptionCreated)) == 1
        serializer = "msgpack" if index < 5 else "json"
        client.server.transport = CountingTransport(client.server.transport, serializer, encoded)
    publisher = net.client(serializer="cbor")
    publisher.session.publish("com.t", [1, "x"], {"k": [1.5]})
    net.pump()
    assert len(encoded) == 2
    assert all(isinstance(m, Event) for m in encoded)
    for client in clients:
        (event,) = [e for e in client.events() if isinstance(e, Event)]
        assert (event.args, event.kwargs) == ([1, "x"], {"k": [1.5]})
    # two subscriptions matching: one encoding per subscription and serializer
    encoded.clear()
    clients[0].session.subscribe("com.", SubscribeOptions(match="prefix"))
    clients[5].session.subscribe("com.", SubscribeOptions(match="prefix"))
    net.pump()
    encoded.clear()
    publisher.session.publish("com.t", [2])
    net.pump()
    assert len([m for m in encoded if isinstance(m, Event)]) == 4


def test_routes_are_remembered_until_subscriptions_change(net: Net) -> None:
    publisher, subscriber = net.raw_peer(), net.raw_peer()
    publisher.join()
    subscriber.join()
    publisher.send(Publish(1, "com.later", [0]))  # no subscriber: remembered as such
    subscription = subscribed(subscriber, 1, "com.later")  # created: what was remembered goes
    publisher.send(Publish(2, "com.later", [1]))
    assert [e.args for e in events(subscriber)] == [[1]]
    # More topics than are remembered: the oldest are forgotten, routing stays right.
    publisher.send(*[Publish(10 + i, f"com.none.n{i}") for i in range(MAX_ROUTES)])
    publisher.send(Publish(3, "com.later", [2]))
    assert [e.args for e in events(subscriber)] == [[2]]
    subscriber.send(Unsubscribe(2, subscription))  # deleted: forgotten again
    assert subscriber.take() == [Unsubscribed(2)]
    publisher.send(Publish(4, "com.later", [3]))
    assert subscriber.take() == []
