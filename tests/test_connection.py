"""Connection: transport + serializer + session, through real bytes."""

from __future__ import annotations

import pytest

from tests.harness import ROUTER_ROLES
from wamp_core.connection import Connection
from wamp_core.events import Joined, Left, RequestFailed
from wamp_core.exception import ProtocolError, TransportLost
from wamp_core.messages import Abort, Call, Hello, Result, Welcome
from wamp_core.session import ClientSession, SessionState
from wamp_core.testing.router import ScriptedRouter
from wamp_core.transports import (
    MessageTooBigToSend,
    RawSocketClientTransport,
    TransportClosed,
    TransportOpened,
    WebSocketClientTransport,
)
from wamp_core.types import CallOptions


def handshake(conn: Connection, router: ScriptedRouter) -> None:
    router.receive_data(conn.data_to_send())
    conn.receive_data(router.data_to_send())


def join(conn: Connection, router: ScriptedRouter) -> None:
    handshake(conn, router)
    router.receive_data(conn.data_to_send())
    router.expect(Hello)
    router.send(Welcome(5, {"roles": ROUTER_ROLES}))
    conn.receive_data(router.data_to_send())


@pytest.mark.parametrize("serializer", ["json", "msgpack", "cbor"])
def test_rawsocket_factory_joins(serializer: str) -> None:
    conn = Connection.rawsocket("realm1", serializer, authid="joe")
    router = ScriptedRouter("rawsocket", serializer)
    join(conn, router)
    opened, joined = conn.events()
    assert isinstance(opened, TransportOpened) and opened.serializer == serializer
    assert isinstance(joined, Joined) and joined.session_id == 5
    assert conn.serializer is not None and serializer == conn.serializer.NAME


def test_websocket_factory_negotiates_the_first_serializer_the_router_takes() -> None:
    conn = Connection.websocket("realm1", "localhost:8080", "/ws", headers={"X-Key": "1"})
    router = ScriptedRouter("websocket", "msgpack")
    join(conn, router)
    opened = conn.events()[0]
    assert isinstance(opened, TransportOpened) and opened.subprotocol == "wamp.2.msgpack"


def test_batched_json_over_websocket_text_frames() -> None:
    conn = Connection(
        WebSocketClientTransport("localhost", "/", serializers=["json.batched"]),
        ClientSession("realm1"),
    )
    router = ScriptedRouter("websocket", "json.batched")
    join(conn, router)
    assert conn.session.is_joined
    conn.session.call("com.p")
    router.receive_data(conn.data_to_send())
    call = router.expect(Call)
    router.send(Result(call.request_id, [1]))
    conn.receive_data(router.data_to_send())
    assert [type(e) for e in conn.events()][-1] is Result


def test_without_auto_join_the_application_joins() -> None:
    conn = Connection(RawSocketClientTransport("json"), ClientSession("realm1"), auto_join=False)
    router = ScriptedRouter("rawsocket", "json")
    handshake(conn, router)
    router.receive_data(conn.data_to_send())
    assert router.received() == []
    conn.session.join()
    router.receive_data(conn.data_to_send())
    router.expect(Hello)


def test_undecodable_message_is_a_violation_then_the_transport_closes() -> None:
    conn = Connection.rawsocket("realm1", "json")
    router = ScriptedRouter("rawsocket", "json")
    join(conn, router)
    conn.session.call("com.p")
    router.receive_data(conn.data_to_send())
    router.received()
    router.send_payload(b"[50, 1, {}")  # truncated JSON
    conn.receive_data(router.data_to_send())
    router.receive_data(conn.data_to_send())
    (abort,) = router.received()
    assert isinstance(abort, Abort) and abort.reason == "wamp.error.protocol_violation"
    assert "invalid json" in (abort.message or "")
    events = conn.events()
    failed = [e for e in events if isinstance(e, RequestFailed)]
    assert len(failed) == 1 and isinstance(failed[0].error, ProtocolError)
    assert isinstance(events[-1], TransportClosed)
    assert conn.closed and conn.data_to_send() == b""
    assert conn.session.state is SessionState.FAILED


def test_message_too_big_for_the_router_fails_only_its_request() -> None:
    conn = Connection.rawsocket("realm1", "msgpack")
    router = ScriptedRouter("rawsocket", "msgpack", max_exponent=1)  # the router takes 1 KiB
    join(conn, router)
    conn.events()
    with pytest.raises(MessageTooBigToSend, match="exceeds the router's limit"):
        conn.session.call("com.p", [b"x" * 1100])
    assert conn.session.call("com.p", [1]) == 1  # no request id was used up
    router.receive_data(conn.data_to_send())
    assert router.expect(Call).args == [1]


def test_close_ends_the_session_with_transport_lost() -> None:
    conn = Connection.rawsocket("realm1", "json")
    router = ScriptedRouter("rawsocket", "json")
    join(conn, router)
    conn.session.call("com.p")
    conn.events()
    conn.close()
    failed, left, closed = conn.events()
    assert isinstance(failed, RequestFailed) and isinstance(failed.error, TransportLost)
    assert isinstance(left, Left) and left.reason == "wamp.close.transport_lost"
    assert isinstance(closed, TransportClosed) and closed.clean
    assert conn.closed


def test_timers_reach_transport_and_session() -> None:
    transport = RawSocketClientTransport("json", ping_interval=10.0, ping_timeout=5.0)
    conn = Connection(transport, ClientSession("realm1"))
    router = ScriptedRouter("rawsocket", "json")
    join(conn, router)
    assert conn.next_deadline() == 10.0
    conn.handle_timer(10.0)
    router.receive_data(conn.data_to_send())  # a PING: the router answers PONG
    conn.receive_data(router.data_to_send(), now=10.5)
    assert conn.next_deadline() == 20.5
    assert not conn.closed
    # A call's timeout before the next keep-alive ping comes first.
    conn.session.call("com.p", options=CallOptions(timeout=2.0), now=11.0)
    assert conn.next_deadline() == 13.0


def test_websocket_pings_and_close_with_the_scripted_router() -> None:
    transport = WebSocketClientTransport("localhost", "/", serializers=["json"], ping_interval=1.0)
    conn = Connection(transport, ClientSession("realm1"))
    router = ScriptedRouter("websocket", "json")
    join(conn, router)
    conn.handle_timer(1.0)
    router.receive_data(conn.data_to_send())
    conn.receive_data(router.data_to_send(), now=1.1)
    assert not conn.closed
    conn.close()
    router.receive_data(conn.data_to_send())
    conn.receive_data(router.data_to_send())
    assert conn.closed and router.closed
    assert isinstance(conn.events()[-1], TransportClosed)


def test_router_closes_websocket() -> None:
    conn = Connection.websocket("realm1", "localhost", serializers=["cbor"])
    router = ScriptedRouter("websocket", "cbor")
    join(conn, router)
    router.close(1001, "going away")
    router.close()  # twice is harmless
    router.send(Result(1))  # nothing is sent after close
    conn.receive_data(router.data_to_send())
    closed = conn.events()[-1]
    assert isinstance(closed, TransportClosed) and closed.code == 1001
    router.receive_data(conn.data_to_send())  # the client's close reply
    router.receive_data(b"ignored after close")


def test_scripted_router_misuse() -> None:
    with pytest.raises(ValueError, match="rawsocket or websocket"):
        ScriptedRouter("tcp")
    router = ScriptedRouter("rawsocket", "json")
    router.close()
    with pytest.raises(AssertionError, match="expected one Hello"):
        router.expect(Hello)
    assert router.play(("eof", None)) is True


@pytest.mark.parametrize("kind", ["rawsocket", "websocket"])
def test_scripted_router_reads_the_client_byte_by_byte_and_pings(kind: str) -> None:
    transport = (
        RawSocketClientTransport("json")
        if kind == "rawsocket"
        else WebSocketClientTransport("localhost", "/", serializers=["json"])
    )
    conn = Connection(transport, ClientSession("realm1"))
    router = ScriptedRouter(kind, "json")

    def to_router() -> None:
        for byte in conn.data_to_send():
            router.receive_data(bytes([byte]))

    to_router()
    conn.receive_data(router.data_to_send())
    to_router()
    router.expect(Hello)
    router.ping()
    conn.receive_data(router.data_to_send())
    to_router()  # the client's pong, which the router takes and ignores
    assert router.received() == [] and router.data_to_send() == b""


def test_scripted_router_plays_misbehaviour_steps() -> None:
    conn = Connection.rawsocket("realm1", "json")
    router = ScriptedRouter("rawsocket", "json")
    join(conn, router)
    conn.events()
    assert router.play(("message", Result(99))) is False
    assert router.play(("payload", b"\xff")) is False
    assert router.play(("bytes", b"\x00")) is False
    assert router.data_to_send().startswith(b"\x00\x00\x00")


@pytest.mark.parametrize("kind", ["rawsocket", "websocket"])
def test_close_still_sends_what_the_session_queued(kind: str) -> None:
    transport = (
        RawSocketClientTransport("json")
        if kind == "rawsocket"
        else WebSocketClientTransport("localhost", "/", serializers=["json"])
    )
    conn = Connection(transport, ClientSession("realm1"))
    router = ScriptedRouter(kind, "json")
    join(conn, router)
    conn.session.abort("wamp.close.killed", "bye")
    conn.close()
    router.receive_data(conn.data_to_send())
    (abort,) = router.received()
    assert isinstance(abort, Abort) and abort.reason == "wamp.close.killed"


def test_close_before_the_transport_opened() -> None:
    conn = Connection.rawsocket("realm1", "json")
    conn.close()
    (closed,) = conn.events()
    assert isinstance(closed, TransportClosed) and conn.closed
