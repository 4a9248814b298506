"""WebSocketClientTransport against a router simulated with a wsproto server connection.

Every exchange is fed to the transport both in one chunk and one byte at a time.
Time is whatever ``now`` the test passes; nothing sleeps.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    Pong,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.utilities import generate_accept_token

from wamp_core.exception import ProtocolError, TransportLost
from wamp_core.transports import (
    ClosedByPeer,
    HandshakeError,
    MessageReceived,
    MessageTooBig,
    MessageTooBigToSend,
    Transport,
    TransportClosed,
    TransportEvent,
    TransportNotOpen,
    TransportOpened,
    TransportState,
    WebSocketClientTransport,
)
from wamp_core.transports.websocket import _DEFAULT_MASKS

Feed = Callable[..., None]


@pytest.fixture(params=["bulk", "bytewise"])
def feed(request: pytest.FixtureRequest) -> Feed:
    """Give data to a transport in one call, or one byte per call."""

    def feed(transport: WebSocketClientTransport, data: bytes, now: float | None = None) -> None:
        if request.param == "bulk":
            if data:  # b"" would mean EOF
                transport.receive_data(data, now)
        else:
            for i in range(len(data)):
                transport.receive_data(data[i : i + 1], now)

    return feed


class Router:
    """The server end: reads what the transport queued, writes wsproto events."""

    def __init__(self, transport: WebSocketClientTransport):
        self.transport = transport
        self.ws = WSConnection(ConnectionType.SERVER)

    def read(self) -> list[Event]:
        self.ws.receive_data(self.transport.data_to_send())
        return list(self.ws.events())

    def send(self, *events: Event) -> bytes:
        return b"".join(self.ws.send(event) for event in events)


def open_ws(
    feed: Feed, subprotocol: str = "wamp.2.json", **kwargs: object
) -> tuple[WebSocketClientTransport, Router]:
    transport = WebSocketClientTransport("router.test:8080", "/ws", **kwargs)  # type: ignore[arg-type]
    router = Router(transport)
    (request,) = router.read()
    assert isinstance(request, Request)
    feed(transport, router.send(AcceptConnection(subprotocol=subprotocol)), 1.0)
    (opened,) = transport.events()
    assert isinstance(opened, TransportOpened)
    return transport, router


def closed_event(transport: Transport) -> TransportClosed:
    events = transport.events()
    assert transport.closed
    assert isinstance(events[-1], TransportClosed)
    assert not any(isinstance(e, TransportClosed) for e in events[:-1])
    return events[-1]


def raw_response(transport: WebSocketClientTransport, *lines: str) -> bytes:
    """A hand-written 101 answer to the request the transport queued."""
    request = transport.data_to_send()
    key = next(
        line.split(b": ", 1)[1]
        for line in request.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key")
    )
    head = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Accept: {generate_accept_token(key).decode()}",
        *lines,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode()


def server_frame(first_byte: int, payload: bytes) -> bytes:
    """An unmasked server frame, built by hand (for frames wsproto would not write)."""
    assert len(payload) < 126
    return bytes((first_byte, len(payload))) + payload


# -- the opening handshake ----------------------------------------------------------------


def test_request_offers_subprotocols_in_order_with_extra_headers() -> None:
    transport = WebSocketClientTransport(
        "router.test:8080",
        "/ws?x=1",
        serializers=["cbor", "wamp.2.json", "msgpack.batched"],
        headers={"X-Token": "abc"},
        origin="https://app.test",
    )
    assert transport.state is TransportState.OPENING
    assert transport.serializer is None and transport.subprotocol is None
    (request,) = Router(transport).read()
    assert isinstance(request, Request)
    assert request.host == "router.test:8080"
    assert request.target == "/ws?x=1"
    assert request.subprotocols == ["wamp.2.cbor", "wamp.2.json", "wamp.2.msgpack.batched"]
    headers = dict(request.extra_headers)
    assert headers[b"x-token"] == b"abc"
    assert headers[b"origin"] == b"https://app.test"


def test_headers_as_pairs() -> None:
    transport = WebSocketClientTransport("h", headers=[("X-A", "1"), ("X-A", "2")])
    (request,) = Router(transport).read()
    assert isinstance(request, Request)
    assert [v for k, v in request.extra_headers if k == b"x-a"] == [b"1", b"2"]


@pytest.mark.parametrize(
    ("subprotocol", "name"),
    [
        ("wamp.2.json", "json"),
        ("wamp.2.msgpack", "msgpack"),
        ("wamp.2.cbor", "cbor"),
        ("wamp.2.msgpack.batched", "msgpack.batched"),
    ],
)
def test_handshake_success(feed: Feed, subprotocol: str, name: str) -> None:
    transport = WebSocketClientTransport(
        "h", serializers=["json", "msgpack", "cbor", "msgpack.batched"]
    )
    router = Router(transport)
    router.read()
    accept = AcceptConnection(subprotocol=subprotocol, extra_headers=[(b"Server", b"Crossbar")])
    feed(transport, router.send(accept))
    events = transport.events()
    assert events == [TransportOpened(name, subprotocol, (("server", "Crossbar"),))]
    assert isinstance(events[0], TransportEvent)
    assert transport.is_open and transport.state is TransportState.OPEN
    assert transport.serializer == name
    assert transport.subprotocol == subprotocol
    assert transport.response_headers == (("server", "Crossbar"),)
    assert transport.max_outgoing == 16 * 1024 * 1024
    assert transport.next_deadline() is None


def test_an_open_client_keeps_nothing_of_its_handshake(feed: Feed) -> None:
    """Memory per idle connection (issue 15): the request's parts are dropped once
    the upgrade succeeded; the subprotocol table, the negotiated names and the
    default mask source are shared by every connection; no receive buffer is held
    between frames."""
    first, _ = open_ws(feed, "wamp.2.msgpack", serializers=["json", "msgpack"], headers={"X": "y"})
    second, router = open_ws(feed, "wamp.2.msgpack", serializers=["json", "msgpack"])
    assert (first._host, first._resource, first._key, first._extra_headers) == ("", "", b"", [])
    assert first._offered is second._offered
    assert first.subprotocol is second.subprotocol
    assert first.serializer is second.serializer == "msgpack"
    assert first._masks is second._masks is _DEFAULT_MASKS
    assert second._buffer is None and second._parts == []
    message = router.send(BytesMessage(b"\x91\x01"))
    second.receive_data(message[:2])  # a frame's start waits in a buffer
    assert second._buffer == message[:2]
    second.receive_data(message[2:])
    assert second._buffer is None and second.events() == [MessageReceived(b"\x91\x01")]
    own = WebSocketClientTransport("h", random_bytes=bytes)
    assert own._masks is not _DEFAULT_MASKS


def test_handshake_and_messages_in_one_chunk(feed: Feed) -> None:
    transport = WebSocketClientTransport("h")
    router = Router(transport)
    router.read()
    data = router.send(AcceptConnection(subprotocol="wamp.2.json"), TextMessage("[1]"))
    feed(transport, data)
    assert transport.events() == [
        TransportOpened("json", "wamp.2.json", ()),
        MessageReceived("[1]"),
    ]


def test_no_subprotocol_fails_with_1002(feed: Feed) -> None:
    transport = WebSocketClientTransport("h")
    router = Router(transport)
    router.read()
    feed(transport, router.send(AcceptConnection()))
    closed = closed_event(transport)
    assert closed.code == 1002 and not closed.clean
    assert isinstance(closed.error, HandshakeError)
    assert "no WAMP subprotocol" in str(closed.error)
    (close,) = router.read()
    assert isinstance(close, CloseConnection) and close.code == 1002


def test_unoffered_subprotocol_fails(feed: Feed) -> None:
    transport = WebSocketClientTransport("h", serializers=["json"])
    feed(transport, raw_response(transport, "Sec-WebSocket-Protocol: wamp.2.cbor"))
    closed = closed_event(transport)
    assert isinstance(closed.error, HandshakeError)
    assert "wamp.2.cbor" in str(closed.error)
    assert closed.code is None and not closed.clean
    assert transport.data_to_send() == b""


def test_bad_accept_token_fails(feed: Feed) -> None:
    transport = WebSocketClientTransport("h")
    response = raw_response(transport, "Sec-WebSocket-Protocol: wamp.2.json")
    key = base64.b64encode(b"0123456789abcdef")
    feed(transport, response.replace(b"Accept: ", b"Accept: " + key + b"x", 1))
    closed = closed_event(transport)
    assert isinstance(closed.error, HandshakeError)
    assert "accept token" in str(closed.error)


def test_garbage_instead_of_http_fails(feed: Feed) -> None:
    transport = WebSocketClientTransport("h")
    feed(transport, b"\x00\x01garbage\r\n\r\n")
    closed = closed_event(transport)
    assert isinstance(closed.error, HandshakeError)
    assert "invalid HTTP answer from the router" in str(closed.error)


@pytest.mark.parametrize("status", [403, 426])
def test_rejection_without_body(feed: Feed, status: int) -> None:
    transport = WebSocketClientTransport("h")
    router = Router(transport)
    router.read()
    reject = RejectConnection(status_code=status, headers=[(b"X-Why", b"no")], has_body=False)
    feed(transport, router.send(reject))
    error = closed_event(transport).error
    assert isinstance(error, HandshakeError)
    assert error.status_code == status
    assert f"HTTP {status}" in str(error)
    assert ("x-why", "no") in error.headers
    assert error.body == b""


def test_rejection_with_body(feed: Feed) -> None:
    transport = WebSocketClientTransport("h")
    router = Router(transport)
    router.read()
    data = router.send(
        RejectConnection(status_code=404, has_body=True),
        RejectData(b"no such ", body_finished=False),
        RejectData(b"path"),
    )
    feed(transport, data)
    error = closed_event(transport).error
    assert isinstance(error, HandshakeError)
    assert error.status_code == 404
    assert error.body == b"no such path"
    assert "no such path" in str(error)


def test_rejection_body_is_bounded(feed: Feed) -> None:
    transport = WebSocketClientTransport("h")
    router = Router(transport)
    router.read()
    data = router.send(
        RejectConnection(status_code=500, has_body=True),
        RejectData(b"x" * 5000, body_finished=False),
    )
    feed(transport, data)
    error = closed_event(transport).error
    assert isinstance(error, HandshakeError)
    assert error.body == b"x" * 4096


def test_rejection_body_ended_by_eof(feed: Feed) -> None:
    transport = WebSocketClientTransport("h")
    transport.data_to_send()
    feed(transport, b"HTTP/1.1 503 Busy\r\nConnection: close\r\n\r\ntry later")
    assert transport.events() == []
    transport.receive_data(b"")
    error = closed_event(transport).error
    assert isinstance(error, HandshakeError)
    assert error.status_code == 503 and error.body == b"try later"


def test_rejection_body_never_ending_hits_open_timeout() -> None:
    transport = WebSocketClientTransport("h", open_timeout=10.0, now=100.0)
    assert transport.next_deadline() == 110.0
    transport.receive_data(b"HTTP/1.1 503 Busy\r\nContent-Length: 100\r\n\r\nslow", now=101.0)
    transport.handle_timer(110.0)
    error = closed_event(transport).error
    assert isinstance(error, HandshakeError)
    assert error.status_code == 503 and error.body == b"slow"


def test_informational_response_is_a_refusal(feed: Feed) -> None:
    transport = WebSocketClientTransport("h")
    transport.data_to_send()
    feed(transport, b"HTTP/1.1 100 Continue\r\n\r\n")
    error = closed_event(transport).error
    assert isinstance(error, HandshakeError) and error.status_code == 100


def test_open_timeout() -> None:
    transport = WebSocketClientTransport("h", open_timeout=5.0)
    transport.handle_timer(4.9)
    assert transport.events() == []
    transport.handle_timer(5.0)
    closed = closed_event(transport)
    assert isinstance(closed.error, TransportLost)
    assert "within 5.0s" in str(closed.error)
    assert transport.next_deadline() is None


def test_open_timeout_cleared_when_open(feed: Feed) -> None:
    transport, _ = open_ws(feed, open_timeout=5.0)
    assert transport.next_deadline() is None


def test_manual_open() -> None:
    transport = WebSocketClientTransport("h", auto_open=False, open_timeout=2.0)
    assert transport.state is TransportState.IDLE
    assert transport.data_to_send() == b""
    assert transport.next_deadline() is None
    transport.open(now=3.0)
    assert transport.data_to_send().startswith(b"GET / HTTP/1.1\r\n")
    assert transport.next_deadline() == 5.0
    with pytest.raises(RuntimeError, match="opening"):
        transport.open()


def test_data_before_open_is_a_protocol_error() -> None:
    transport = WebSocketClientTransport("h", auto_open=False)
    transport.receive_data(b"HTTP/1.1 101 ...")
    closed = closed_event(transport)
    assert isinstance(closed.error, ProtocolError)
    assert "before our opening handshake" in str(closed.error)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"serializers": "json"}, "non-empty list"),
        ({"serializers": []}, "non-empty list"),
        ({"serializers": ["json", "wamp.2.json"]}, "twice"),
        ({"serializers": ["ubjson"]}, "not supported"),
        ({"resource": "ws"}, "start with '/'"),
        ({"headers": {"Sec-WebSocket-Protocol": "x"}}, "set by the WebSocket handshake"),
        ({"headers": {"X-A": "\u2603"}}, "latin-1"),
        ({"headers": {"Bad Name": "1"}}, "cannot build"),
        ({"host": "bad\nhost"}, "cannot build"),
        ({"close_timeout": 0}, "close_timeout"),
        ({"ping_interval": -1}, "ping_interval"),
        ({"ping_timeout": 0}, "ping_timeout"),
        ({"open_timeout": 0}, "open_timeout"),
        ({"max_message_size": 0}, "at least 1 byte"),
        ({"max_outgoing_size": 0}, "at least 1 byte"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    args = {"host": "h", **kwargs}
    with pytest.raises(ValueError, match=match):
        WebSocketClientTransport(**args)  # type: ignore[arg-type]


# -- messages -------------------------------------------------------------------------


def test_json_sends_text_frames(feed: Feed) -> None:
    transport, router = open_ws(feed, "wamp.2.json")
    transport.send_message(b'["bytes", "\xc3\xa9"]')
    transport.send_message('["str"]')
    assert router.read() == [TextMessage('["bytes", "\u00e9"]'), TextMessage('["str"]')]


def test_text_subprotocol_refuses_invalid_utf8(feed: Feed) -> None:
    transport, _ = open_ws(feed, "wamp.2.json")
    with pytest.raises(ValueError, match="UTF-8"):
        transport.send_message(b"\xff")
    assert transport.data_to_send() == b""


@pytest.mark.parametrize("subprotocol", ["wamp.2.msgpack", "wamp.2.cbor.batched"])
def test_binary_serializers_send_binary_frames(feed: Feed, subprotocol: str) -> None:
    transport, router = open_ws(feed, subprotocol, serializers=["msgpack", "cbor.batched"])
    transport.send_message(b"\x93\x01")
    assert router.read() == [BytesMessage(b"\x93\x01")]
    with pytest.raises(TypeError, match="binary"):
        transport.send_message("text")
    assert transport.data_to_send() == b""


def test_receives_text_and_binary(feed: Feed) -> None:
    transport, router = open_ws(feed)
    feed(transport, router.send(TextMessage("[1,\u00e9]"), BytesMessage(b"\x00\xff")))
    assert transport.events() == [MessageReceived("[1,\u00e9]"), MessageReceived(b"\x00\xff")]


def test_fragmented_messages_are_assembled(feed: Feed) -> None:
    transport, router = open_ws(feed)
    data = router.send(
        TextMessage("[1,", message_finished=False),
        Ping(b"in between"),  # control frames may interleave with fragments
        TextMessage('"\u00e9",', message_finished=False),
        TextMessage("3]"),
        BytesMessage(b"ab", message_finished=False),
        BytesMessage(b""),
        TextMessage(""),
    )
    feed(transport, data)
    assert transport.events() == [
        MessageReceived('[1,"\u00e9",3]'),
        MessageReceived(b"ab"),
        MessageReceived(""),
    ]
    assert router.read() == [Pong(b"in between")]


@pytest.mark.parametrize(
    "message",
    [
        BytesMessage(b"x" * 11),
        TextMessage("\u00e9" * 6),  # 6 characters, 12 bytes
    ],
)
def test_oversized_message_closes_with_1009(feed: Feed, message: Event) -> None:
    transport, router = open_ws(feed, max_message_size=10)
    feed(transport, router.send(BytesMessage(b"x" * 10)))
    assert transport.events() == [MessageReceived(b"x" * 10)]
    feed(transport, router.send(message))
    closed = closed_event(transport)
    assert closed.code == 1009 and not closed.clean
    assert isinstance(closed.error, MessageTooBig)
    assert closed.error.limit == 10 and closed.error.size > 10
    assert "limit of 10" in str(closed.error)
    (close,) = router.read()
    assert isinstance(close, CloseConnection) and close.code == 1009


def test_oversized_fragmented_message_fails_before_the_end(feed: Feed) -> None:
    transport, router = open_ws(feed, max_message_size=10)
    feed(transport, router.send(BytesMessage(b"x" * 6, message_finished=False)))
    assert transport.events() == []
    feed(transport, router.send(BytesMessage(b"y" * 6, message_finished=False)))
    closed = closed_event(transport)
    assert isinstance(closed.error, MessageTooBig)
    # Byte by byte, the 11th byte already crosses the limit.
    assert re.search(r"at least 1[12] bytes", str(closed.error))


def test_huge_frame_fails_without_buffering_it() -> None:
    transport, router = open_ws(lambda t, d, now=None: t.receive_data(d, now), max_message_size=10)
    frame = router.send(BytesMessage(b"z" * 100_000))
    transport.receive_data(frame[:30])  # header + the first bytes of the payload
    closed = closed_event(transport)
    assert isinstance(closed.error, MessageTooBig)


def test_outgoing_limit(feed: Feed) -> None:
    transport, router = open_ws(feed, max_message_size=100, max_outgoing_size=4)
    assert transport.max_outgoing == 4
    transport.send_message("\u00e9\u00e9")  # 4 bytes
    with pytest.raises(MessageTooBigToSend, match="5 bytes"):
        transport.send_message("\u00e9\u00e9a")
    with pytest.raises(MessageTooBigToSend):
        transport.send_message(b"12345")
    assert router.read() == [TextMessage("\u00e9\u00e9")]


def test_outgoing_limit_defaults_to_incoming(feed: Feed) -> None:
    transport, _ = open_ws(feed, max_message_size=3)
    assert transport.max_outgoing == 3
    with pytest.raises(ValueError, match="over the outgoing limit of 3"):
        transport.send_message(b"1234")


# -- pings and keep-alive -------------------------------------------------------------


def test_ping_is_answered(feed: Feed) -> None:
    transport, router = open_ws(feed)
    feed(transport, router.send(Ping(b"are you there")))
    assert transport.events() == []
    assert router.read() == [Pong(b"are you there")]


def test_keepalive_ping_and_pong(feed: Feed) -> None:
    transport, router = open_ws(feed, ping_interval=5.0, ping_timeout=2.0)
    assert transport.next_deadline() == 6.0  # opened at now=1.0
    transport.handle_timer(5.9)
    assert transport.data_to_send() == b""
    transport.handle_timer(6.0)
    (ping,) = router.read()
    assert isinstance(ping, Ping)
    assert ping.payload.startswith(b"wamp-keepalive")
    assert transport.next_deadline() == 8.0
    feed(transport, router.send(Pong(b"unsolicited")), 6.5)
    assert transport.next_deadline() == 8.0
    feed(transport, router.send(ping.response()), 7.0)
    assert transport.next_deadline() == 12.0
    transport.handle_timer(12.0)
    (second,) = router.read()
    assert isinstance(second, Ping) and second.payload != ping.payload
    assert transport.events() == []


def test_keepalive_pong_timeout(feed: Feed) -> None:
    transport, router = open_ws(feed, ping_interval=5.0, ping_timeout=2.0)
    transport.handle_timer(6.0)
    router.read()
    transport.handle_timer(8.0)
    closed = closed_event(transport)
    assert closed.code == 1011 and not closed.clean
    assert isinstance(closed.error, TransportLost)
    assert "no pong within 2.0s" in str(closed.error)
    (close,) = router.read()
    assert isinstance(close, CloseConnection) and close.code == 1011
    assert transport.next_deadline() is None


# -- closing --------------------------------------------------------------------------


def test_close_handshake_answered(feed: Feed) -> None:
    transport, router = open_ws(feed, ping_interval=1.0, close_timeout=3.0)
    # Sent by the router before it sees our close frame: still delivered, the ping
    # unanswered (a pong cannot follow our close frame).
    late = router.send(TextMessage("[late]"), Ping(b"p"))
    transport.close(3001, "bye", now=10.0)
    assert transport.state is TransportState.CLOSING
    assert transport.next_deadline() == 13.0  # the keep-alive is off while closing
    transport.close(now=11.0)  # idempotent
    (close,) = router.read()
    assert close == CloseConnection(3001, "bye")
    assert transport.data_to_send() == b""
    with pytest.raises(TransportLost, match="closing"):
        transport.send_message("[]")
    feed(transport, late)
    assert transport.data_to_send() == b""
    feed(transport, router.send(close.response()), 12.0)
    events = transport.events()
    assert events == [MessageReceived("[late]"), TransportClosed(3001, "bye", None, True)]
    assert transport.next_deadline() is None


def test_close_handshake_timeout(feed: Feed) -> None:
    transport, router = open_ws(feed, close_timeout=3.0)
    transport.close(now=10.0)
    router.read()
    transport.handle_timer(12.9)
    assert transport.events() == []
    transport.handle_timer(13.0)
    closed = closed_event(transport)
    assert closed.code == 1006 and not closed.clean
    assert isinstance(closed.error, TransportLost)
    assert "within 3.0s" in str(closed.error)
    assert transport.data_to_send() == b""


def test_eof_while_closing_is_not_an_error(feed: Feed) -> None:
    transport, router = open_ws(feed)
    transport.close()
    router.read()
    transport.receive_data(b"")
    assert closed_event(transport) == TransportClosed(1006, "", None, False)


@pytest.mark.parametrize(("code", "reason"), [(999, ""), (1005, ""), (2999, ""), (1000, "x" * 124)])
def test_close_arguments_are_checked(feed: Feed, code: int, reason: str) -> None:
    transport, _ = open_ws(feed)
    with pytest.raises(ValueError, match="close"):
        transport.close(code, reason)
    assert transport.is_open


@pytest.mark.parametrize(
    ("code", "reason", "error"),
    [
        (1000, "", None),
        (1001, "shutting down", None),
        (None, "", None),  # a close frame with no code: 1005
        (1011, "boom", "1011 (internal error) 'boom'"),
        (4000, "", "4000 (application-defined)"),
    ],
)
def test_router_initiated_close(
    feed: Feed, code: int | None, reason: str, error: str | None
) -> None:
    transport, router = open_ws(feed)
    # wsproto cannot write a close frame without a code: build that one by hand.
    close = router.send(CloseConnection(code, reason)) if code else server_frame(0x88, b"")
    feed(transport, close)
    closed = closed_event(transport)
    assert closed.code == (code or 1005) and closed.reason == reason and closed.clean
    if error is None:
        assert closed.error is None
    else:
        assert isinstance(closed.error, ClosedByPeer)
        assert error in str(closed.error)
        assert closed.error.code == code and closed.error.reason == reason
    (reply,) = router.read()  # wsproto's answer, queued for us
    assert isinstance(reply, CloseConnection) and reply.code == (code or 1005)


def test_close_before_open() -> None:
    transport = WebSocketClientTransport("h")
    request = transport.data_to_send()
    assert request
    transport.close(reason="never mind")
    assert closed_event(transport) == TransportClosed(None, "never mind", None, True)
    assert transport.data_to_send() == b""
    idle = WebSocketClientTransport("h", auto_open=False)
    idle.close()
    assert idle.closed and idle.data_to_send() == b""


def test_send_before_open() -> None:
    transport = WebSocketClientTransport("h")
    transport.data_to_send()
    with pytest.raises(TransportNotOpen, match="opening"):
        transport.send_message(b"[]")
    assert transport.data_to_send() == b""


# -- EOF and framing errors -------------------------------------------------------------


def test_eof_before_open() -> None:
    transport = WebSocketClientTransport("h", auto_open=False)
    transport.receive_data(b"")
    closed = closed_event(transport)
    assert isinstance(closed.error, TransportLost) and not closed.clean


@pytest.mark.parametrize("received", [b"", b"HTTP/1.1 101 Swi"])
def test_eof_during_handshake(feed: Feed, received: bytes) -> None:
    transport = WebSocketClientTransport("h")
    feed(transport, received)
    transport.receive_data(b"")
    closed = closed_event(transport)
    assert closed.code is None and not closed.clean
    assert isinstance(closed.error, TransportLost)
    assert "opening handshake" in str(closed.error)


def test_eof_when_open(feed: Feed) -> None:
    transport, router = open_ws(feed)
    feed(transport, router.send(TextMessage("[1]"), BytesMessage(b"part", message_finished=False)))
    transport.receive_data(b"", now=9.0)
    events = transport.events()
    assert events[0] == MessageReceived("[1]")
    closed = events[1]
    assert isinstance(closed, TransportClosed)
    assert closed.code == 1006 and not closed.clean
    assert isinstance(closed.error, TransportLost)
    assert "without a WebSocket close frame" in str(closed.error)


def test_nothing_happens_after_close(feed: Feed) -> None:
    transport, router = open_ws(feed)
    feed(transport, router.send(CloseConnection(1000)))
    closed_event(transport)
    assert transport.data_to_send() != b""  # the close reply, drained once
    assert transport.data_to_send() == b""
    transport.receive_data(b"\x81\x01x")
    transport.receive_data(b"")
    transport.handle_timer(1000.0)
    transport.close()
    assert transport.events() == []
    assert transport.data_to_send() == b""
    assert transport.next_deadline() is None
    with pytest.raises(TransportLost, match="closed"):
        transport.send_message("[]")


# Hand-made frames a peer must not send: (the frames, our close code, the error text).
INVALID_FRAMES = [
    (server_frame(0x83, b"x"), 1002, "invalid opcode 0x3"),
    (server_frame(0x8B, b"x"), 1002, "invalid opcode 0xb"),
    (server_frame(0x81, b"\xff\xfe"), 1007, "not valid UTF-8"),
    (server_frame(0x01, b"\xff") + server_frame(0x80, b"\xfe"), 1007, "not valid UTF-8"),
    (server_frame(0xC1, b"x"), 1002, "reserved bits"),
    (server_frame(0x92, b"x"), 1002, "reserved bits"),
    (server_frame(0x80, b"x"), 1002, "continuation frame with no fragmented message"),
    (server_frame(0x02, b"x") + server_frame(0x82, b"y"), 1002, "a new message began"),
    (server_frame(0x01, b"x") + server_frame(0x81, b"y"), 1002, "a new message began"),
    (b"\x81\x81abcdx", 1002, "masked frame"),
    (server_frame(0x09, b"p"), 1002, "fragmented control frame"),
    (b"\x89\x7e\x00\x7e" + b"p" * 126, 1002, "control frame of 126 bytes"),
    (b"\x82\x7e\x00\x7d" + b"p" * 125, 1002, "length 125 not in its shortest"),
    (b"\x82\x7f" + (65535).to_bytes(8, "big"), 1002, "length 65535 not in its shortest"),
    (b"\x82\x7f" + (1 << 63).to_bytes(8, "big"), 1002, "not in its shortest"),
    (server_frame(0x88, b"\x03"), 1002, "1-byte payload"),
    (server_frame(0x88, b"\x03\xed"), 1002, "close code 1005 is not allowed"),
    (server_frame(0x88, b"\x03\xec"), 1002, "close code 1004 is not allowed"),
    (server_frame(0x88, b"\x0b\xb7"), 1002, "close code 2999 is not allowed"),
    (server_frame(0x88, b"\x13\x88"), 1002, "close code 5000 is not allowed"),
    (server_frame(0x88, b"\x03\xe8\xff"), 1007, "close reason that is not valid UTF-8"),
]


@pytest.mark.parametrize(("frame", "code", "text"), INVALID_FRAMES)
def test_invalid_frames(feed: Feed, frame: bytes, code: int, text: str) -> None:
    transport, router = open_ws(feed)
    feed(transport, frame)
    closed = closed_event(transport)
    assert closed.code == code and not closed.clean
    assert isinstance(closed.error, ProtocolError)
    assert text in str(closed.error)
    (close,) = router.read()
    assert isinstance(close, CloseConnection) and close.code == code


def test_invalid_frame_while_closing(feed: Feed) -> None:
    transport, router = open_ws(feed)
    transport.close()
    router.read()
    feed(transport, server_frame(0x83, b""))
    closed = closed_event(transport)
    assert closed.code == 1002 and isinstance(closed.error, ProtocolError)
    assert transport.data_to_send() == b""  # our close frame is already out


@given(data=st.lists(st.binary(min_size=1, max_size=40), max_size=10), opened=st.booleans())
def test_garbage_never_raises(data: list[bytes], opened: bool) -> None:
    transport = WebSocketClientTransport("h", max_message_size=64)
    if opened:
        router = Router(transport)
        router.read()
        transport.receive_data(router.send(AcceptConnection(subprotocol="wamp.2.json")))
    for chunk in [*data, b""]:
        transport.receive_data(chunk)
    events = transport.events()
    assert isinstance(events[-1], TransportClosed)
    assert sum(isinstance(e, TransportClosed) for e in events) == 1
