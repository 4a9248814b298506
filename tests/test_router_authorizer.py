"""Dynamic authorization: a role whose actions a procedure decides (Crossbar.io's
``"authorizer"``), called as ``authorize(session, uri, action, options)``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.router_harness import Net, RawPeer
from wamp_core.exception import InvalidUriError, ProtocolError
from wamp_core.messages import (
    Abort,
    Call,
    Error,
    Invocation,
    Publish,
    Published,
    Register,
    Registered,
    Result,
    Subscribe,
    Subscribed,
    Unsubscribe,
    Welcome,
    Yield,
)
from wamp_core.router import ALLOW_ALL, RealmConfig, Role

DYNAMIC = {"anonymous": {"type": "static", "role": "dyn"}}
ROLES = (Role("anonymous", (ALLOW_ALL,)), Role("dyn", authorizer="com.example.authorize"))


def setup() -> tuple[Net, RawPeer, RawPeer]:
    net = Net((RealmConfig("realm1", ROLES),))
    authorizer = net.raw_peer()
    authorizer.join()
    authorizer.send(Register(1, "com.example.authorize"))
    assert isinstance(authorizer.take()[0], Registered)
    client = net.raw_peer(auth=DYNAMIC)
    client.join()
    return net, authorizer, client


def asked(authorizer: RawPeer) -> Invocation:
    (invocation,) = authorizer.take()
    assert isinstance(invocation, Invocation), invocation
    return invocation


def answer(authorizer: RawPeer, invocation: Invocation, value: Any) -> None:
    authorizer.send(Yield(invocation.request_id, [value]))


def test_each_action_is_asked_and_answered() -> None:
    _net, authorizer, client = setup()
    client.send(Subscribe(1, "com.news"))
    question = asked(authorizer)
    details, uri, action, options = question.args  # type: ignore[misc]
    assert (details["authrole"], uri, action, options) == ("dyn", "com.news", "subscribe", {})
    assert client.take() == []  # waiting
    answer(authorizer, question, True)
    assert [type(m) for m in client.take()] == [Subscribed]
    client.send(Publish(2, "com.news", options={"acknowledge": True}))
    answer(authorizer, asked(authorizer), False)
    (denied,) = client.take()
    assert isinstance(denied, Error) and denied.error == "wamp.error.not_authorized"


def test_later_messages_wait_in_order_behind_the_question() -> None:
    net, authorizer, client = setup()
    client.send(
        Subscribe(1, "com.a"),
        Unsubscribe(2, 999),  # needs no decision, but waits its turn
        Publish(3, "com.b", options={"acknowledge": True}),
    )
    first = asked(authorizer)
    assert client.take() == []
    answer(authorizer, first, {"allow": True})
    replies = client.take()
    assert [type(m) for m in replies] == [Subscribed, Error]  # the PUBLISH waits again
    answer(authorizer, asked(authorizer), {"allow": True})
    assert [type(m) for m in client.take()] == [Published]
    assert net.router.realms["realm1"].authorize.is_empty()


def test_cached_decisions_and_disclosure() -> None:
    net, authorizer, client = setup()
    callee = net.raw_peer()
    callee.join()
    callee.send(Register(1, "com.echo"))
    callee.take()
    client.send(Call(1, "com.echo"))
    answer(authorizer, asked(authorizer), {"allow": True, "disclose": True, "cache": True})
    (invocation,) = callee.take()
    assert isinstance(invocation, Invocation) and "caller" in invocation.details
    callee.send(Yield(invocation.request_id))
    client.send(Call(2, "com.echo"))  # decided already: not asked again
    assert authorizer.take() == []
    assert len(callee.take()) == 1
    client.send(Call(3, "wamp.session.count"))  # a meta procedure is asked as well
    answer(authorizer, asked(authorizer), True)
    assert client.take()[-1] == Result(3, [3])


def test_a_cache_that_is_full_starts_again() -> None:
    net, authorizer, client = setup()
    net.router.realms["realm1"].authorize.max_cached = 1
    for request_id, topic in enumerate(("com.a", "com.b", "com.a"), start=1):
        client.send(Subscribe(request_id, topic))
        answer(authorizer, asked(authorizer), {"allow": True, "cache": True})
    client.send(Subscribe(4, "com.a"))
    assert authorizer.take() == []  # the last one is cached
    assert len(client.take()) == 4


def test_errors_and_strange_answers_deny() -> None:
    _net, authorizer, client = setup()
    client.send(Subscribe(1, "com.a"))
    question = asked(authorizer)
    authorizer.send(Error(Invocation.CODE, question.request_id, "com.example.broken"))
    client.send(Subscribe(2, "com.b"))
    answer(authorizer, asked(authorizer), "yes")
    client.send(Subscribe(3, "com.c"))
    answer(authorizer, asked(authorizer), {"allow": "yes"})
    errors = [m.error for m in client.take() if isinstance(m, Error)]
    assert errors == ["wamp.error.not_authorized"] * 3


def test_no_authorizer_registered_denies() -> None:
    net = Net((RealmConfig("realm1", ROLES),))
    client = net.raw_peer(auth=DYNAMIC)
    client.join()
    client.send(Register(1, "com.x"))
    (denied,) = client.take()
    assert isinstance(denied, Error) and denied.error == "wamp.error.not_authorized"


def test_a_progressive_call_is_asked_once() -> None:
    net, authorizer, client = setup()
    callee = net.raw_peer()
    callee.join()
    callee.send(Register(1, "com.upload"))
    callee.take()
    client.send(Call(1, "com.upload", ["a"], options={"progress": True}))
    answer(authorizer, asked(authorizer), True)
    client.send(Call(1, "com.upload", ["b"]))
    assert authorizer.take() == []
    assert len(callee.take()) == 2


def test_too_many_waiting_messages_end_the_session() -> None:
    net, authorizer, client = setup()
    net.router.realms["realm1"].authorize.max_waiting = 2
    client.send(Subscribe(1, "com.a"), Subscribe(2, "com.b"), Subscribe(3, "com.c"))
    (abort,) = client.take()
    assert isinstance(abort, Abort) and abort.reason == "wamp.error.protocol_violation"
    answer(authorizer, asked(authorizer), True)  # too late: ignored
    assert net.router.realms["realm1"].authorize.is_empty()


def test_a_violation_found_after_waiting_ends_only_that_session() -> None:
    net, authorizer, client = setup()
    client.send(Subscribe(1, "com.a"), Welcome(1, {"roles": {"broker": {}}}))
    answer(authorizer, asked(authorizer), True)
    replies = client.take()
    assert isinstance(replies[-1], Abort)
    assert replies[-1].reason == "wamp.error.protocol_violation"
    assert client.closed and not authorizer.closed
    assert net.router.realms["realm1"].authorize.is_empty()


def test_a_session_that_ends_while_waiting_is_forgotten() -> None:
    net, authorizer, client = setup()
    client.send(Subscribe(1, "com.a"))
    question = asked(authorizer)
    client.server.close()
    net.pump()
    answer(authorizer, question, True)
    realm = net.router.realms["realm1"]
    assert len(realm.sessions) == 1
    assert realm.authorize.is_empty()


def test_a_dynamic_testament_needs_a_cached_decision() -> None:
    net, authorizer, client = setup()
    watcher = net.raw_peer()
    watcher.join()
    watcher.send(Subscribe(1, "com.will"), Subscribe(2, "com.gone"))
    watcher.take()
    client.send(Call(1, "wamp.session.add_testament", ["com.will", [1], {}]))
    answer(authorizer, asked(authorizer), True)
    client.send(Call(2, "wamp.session.add_testament", ["com.gone", [2], {}]))
    answer(authorizer, asked(authorizer), True)
    client.send(Publish(3, "com.gone"))  # allowed and cached for this session
    answer(authorizer, asked(authorizer), {"allow": True, "cache": True})
    watcher.take()
    client.server.close()
    net.pump()
    events = watcher.take()
    assert [m.args for m in events if m.NAME == "EVENT"] == [[2]]  # com.will was never decided


def test_the_authorizer_uri_is_checked() -> None:
    with pytest.raises(InvalidUriError):
        Role("dyn", authorizer="not a uri")


def test_the_router_session_never_fails() -> None:
    from wamp_core.router.realm import _InternalPeer

    _InternalPeer({}).fail(ProtocolError("ignored"))


def test_a_session_cut_off_while_its_waiting_messages_are_replayed() -> None:
    net, authorizer, client = setup()
    client.send(Subscribe(1, "com.a"), Subscribe(2, "com.b"))
    question = asked(authorizer)
    client.server.max_queued = 1  # its SUBSCRIBED will be too much
    answer(authorizer, question, True)
    assert client.closed
    assert net.router.realms["realm1"].authorize.is_empty()
    client.server.fail(ProtocolError("late"))  # nothing left to fail
