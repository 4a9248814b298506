"""Hostile input: whatever one client sends (valid messages out of place, malformed
message lists, undecodable payloads, broken frames, fed in bulk or byte by byte), the
router raises nothing, answers a violation with ABORT protocol_violation to that
client only, and everyone else goes on."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.router_harness import Net
from wamp_core.messages import (
    Abort,
    Call,
    Goodbye,
    Hello,
    Message,
    Publish,
    Register,
    Registered,
    Result,
    Subscribe,
    Subscribed,
    Welcome,
    Yield,
)
from wamp_core.router import Router
from wamp_core.serializers import get_serializer
from wamp_core.testing import strategies as ws
from wamp_core.transports import (
    MessageReceived,
    RawSocketClientTransport,
    WebSocketClientTransport,
)
from wamp_core.transports.rawsocket_server import RawSocketServerTransport
from wamp_core.transports.websocket_server import WebSocketServerTransport

hostile = st.one_of(
    st.tuples(st.just("message"), ws.messages()),
    st.tuples(st.just("list"), ws.malformed_lists()),
    st.tuples(st.just("payload"), st.binary(max_size=40)),
    st.tuples(st.just("bytes"), st.binary(min_size=1, max_size=12)),
)


@given(st.lists(hostile, min_size=1, max_size=6), st.booleans())
def test_one_hostile_client_ends_only_its_own_session(
    steps: list[tuple[str, Any]], joined_first: bool
) -> None:
    net = Net()
    good, bad = net.raw_peer("msgpack"), net.raw_peer("json")
    good.join()
    good.send(Register(1, "com.good"), Subscribe(2, "com.news"))
    assert [type(m) for m in good.take()] == [Registered, Subscribed]
    if joined_first:
        bad.join()
    for kind, value in steps:
        if bad.closed:
            break
        if kind == "message":
            bad.transport.send_message(bad.serializer.encode(value))
        elif kind == "list":
            bad.transport.send_message(bad.serializer.dumps(value))
        elif kind == "payload":
            bad.transport.send_message(value)
        else:
            bad.server.receive_data(value)
        net.pump()
    answers = bad.take()
    ended_by_client = any(
        kind == "message" and isinstance(value, Abort | Goodbye) for kind, value in steps
    )
    # A malformed list may still be a HELLO the router reads (and refuses, say, for its
    # realm).
    said_hello = any(
        (kind == "message" and isinstance(value, Hello))
        or (kind == "list" and isinstance(value, list) and value[:1] == [Hello.CODE])
        for kind, value in steps
    )
    broke_framing = any(kind == "bytes" for kind, _ in steps)  # closes with no ABORT
    if bad.closed and not ended_by_client and not broke_framing and answers:
        last = answers[-1]
        assert isinstance(last, Abort)
        if not said_hello:  # a HELLO may also be refused (no such realm, ...)
            assert last.reason == "wamp.error.protocol_violation"
    good.send(Call(3, "wamp.session.count"))
    (count,) = good.take()
    assert isinstance(count, Result)
    bad.server.close()
    good.send(Goodbye("wamp.close.normal"))
    net.pump()
    realm = net.router.realms["realm1"]
    assert not realm.sessions
    assert realm.dealer.is_empty() and realm.broker.is_empty()


# -- one byte at a time ----------------------------------------------------------------


def _script() -> list[Message]:
    return [
        Hello("realm1", {"roles": {"caller": {}, "callee": {}, "publisher": {}, "subscriber": {}}}),
        Register(1, "com.echo"),
        Subscribe(2, "com.news"),
        Call(3, "com.echo", ["hi"]),
        Yield(1, ["hi"]),
        Publish(4, "com.news", ["x"], options={"exclude_me": False, "acknowledge": True}),
        Goodbye("wamp.close.normal"),
    ]


def _play(kind: str, serializer: str, bytewise: bool) -> list[Any]:
    router = Router(random_bytes=random.Random(11).randbytes)
    if kind == "rawsocket":
        server = router.connect(RawSocketServerTransport(open_timeout=None))
        client: Any = RawSocketClientTransport(serializer)
    else:
        server = router.connect(WebSocketServerTransport(open_timeout=None))
        client = WebSocketClientTransport("127.0.0.1", "/ws", serializers=[serializer])
    codec = get_serializer(serializer)
    received: list[Any] = []

    def feed(data: bytes) -> None:
        if bytewise:
            for i in range(len(data)):
                server.receive_data(data[i : i + 1])
        else:
            server.receive_data(data)
        client.receive_data(server.data_to_send())
        for event in client.events():
            if isinstance(event, MessageReceived):
                received.extend(codec.decode(event.data))

    feed(client.data_to_send())
    for message in _script():
        client.send_message(codec.encode(message))
        feed(client.data_to_send())
    return received


@given(
    kind=st.sampled_from(["rawsocket", "websocket"]),
    serializer=st.sampled_from(["json", "msgpack", "cbor"]),
)
def test_a_session_fed_byte_by_byte_is_the_session_fed_in_bulk(kind: str, serializer: str) -> None:
    bulk = _play(kind, serializer, bytewise=False)
    assert [type(m).__name__ for m in bulk] == [
        "Welcome",
        "Registered",
        "Subscribed",
        "Invocation",
        "Result",
        "Published",
        "Event",
        "Goodbye",
    ]
    assert isinstance(bulk[0], Welcome)
    bytewise = _play(kind, serializer, bytewise=True)
    assert [m.to_list() for m in bytewise] == [m.to_list() for m in bulk]
