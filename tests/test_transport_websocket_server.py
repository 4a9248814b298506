"""The router's end of WebSocket: hand-written requests and frames (whole, and byte by
byte), wsproto as an independent client, and our own client, over bytes in memory.
The clock is the ``now`` each call is given."""

from __future__ import annotations

import itertools
import random

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
    Request,
    TextMessage,
)

from tests import test_transport_websocket as client_tests
from tests.test_transport_websocket import INVALID_FRAMES, Feed, closed_event
from wamp_core.exception import ProtocolError, TransportLost
from wamp_core.messages import Event as EventMessage
from wamp_core.messages import Publish
from wamp_core.serializers import get_serializer
from wamp_core.transports import (
    ClosedByPeer,
    HandshakeError,
    MessageReceived,
    MessageTooBig,
    MessageTooBigToSend,
    TransportClosed,
    TransportNotOpen,
    TransportOpened,
    TransportState,
    WebSocketClientTransport,
    WebSocketServerTransport,
    _wshandshake,
)
from wamp_core.transports._wsframe import _LARGE, _RUN, frame, mask, unmasked_frame

feed = client_tests.feed  # the fixture: bulk and bytewise

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3's example, and its answer:
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
MASK = b"\x37\xfa\x21\x3d"


def request(*lines: str, method: str = "GET /ws HTTP/1.1", protocols: str = "wamp.2.json") -> bytes:
    """An upgrade request; ``lines`` replace the default header of the same name."""
    headers = {
        "host": "router.test",
        "upgrade": "websocket",
        "connection": "Upgrade",
        "sec-websocket-key": KEY,
        "sec-websocket-version": "13",
        "sec-websocket-protocol": protocols,
    }
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.lower()] = value.strip()
    head = [method, *(f"{name}: {value}" for name, value in headers.items() if value)]
    return ("\r\n".join(head) + "\r\n\r\n").encode()


def masked(data: bytes, key: bytes = MASK) -> bytes:
    """The frames of ``data`` (unmasked, as a server writes them) as a client writes them."""
    out = b""
    pos = 0
    while pos < len(data):
        length = data[pos + 1] & 0x7F
        head = {126: 4, 127: 10}.get(length, 2)
        if head > 2:
            length = int.from_bytes(data[pos + 2 : pos + head], "big")
        payload = data[pos + head : pos + head + length]
        out += bytes((data[pos], data[pos + 1] | 0x80)) + data[pos + 2 : pos + head]
        out += key + mask(payload, key)
        pos += head + length
    return out


def client_frame(first_byte: int, payload: bytes) -> bytes:
    """A masked frame with any first byte (FIN, opcode), payload under 126 bytes."""
    return masked(bytes((first_byte, len(payload))) + payload)


def open_server(
    feed: Feed, protocols: str = "wamp.2.json", **kwargs: object
) -> WebSocketServerTransport:
    server = WebSocketServerTransport(**kwargs)  # type: ignore[arg-type]
    feed(server, request(protocols=protocols), 1.0)
    (opened,) = server.events()
    assert isinstance(opened, TransportOpened)
    assert server.data_to_send().startswith(b"HTTP/1.1 101 ")
    return server


def refusal(server: WebSocketServerTransport) -> tuple[int, bytes, HandshakeError]:
    """The status and the bytes of a refused upgrade, and the error the host saw."""
    answer = server.data_to_send()
    closed = closed_event(server)
    assert closed.code is None and not closed.clean
    assert isinstance(closed.error, HandshakeError)
    assert server.data_to_send() == b""
    return int(answer[9:12]), answer, closed.error


class Client:
    """wsproto as the client: writes what it is given, reads what the server queued."""

    def __init__(self, server: WebSocketServerTransport, feed: Feed, *protocols: str):
        self.server = server
        self.feed = feed
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.send(Request(host="router.test", target="/ws?token=1", subprotocols=list(protocols)))

    def send(self, *events: Event, now: float | None = None) -> None:
        self.feed(self.server, b"".join(self.ws.send(event) for event in events), now)

    def read(self) -> list[Event]:
        self.ws.receive_data(self.server.data_to_send())
        return list(self.ws.events())


# -- the opening handshake ------------------------------------------------------------


def test_answer_to_the_rfc_example(feed: Feed) -> None:
    server = WebSocketServerTransport(paths=["/ws", "/other"])
    assert server.state is TransportState.OPENING and server.next_deadline() == 10.0
    assert not server.has_data_to_send and server.subprotocol is None and server.path == ""
    feed(server, request("Origin: https://app.test", method="GET /ws?a=1&b=2 HTTP/1.1"))
    assert server.data_to_send() == (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + ACCEPT.encode() + b"\r\n"
        b"Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n"
    )
    (opened,) = server.events()
    assert opened == TransportOpened("json", "wamp.2.json", server.request_headers)
    assert ("origin", "https://app.test") in server.request_headers
    assert ("host", "router.test") in server.request_headers
    assert (server.path, server.query) == ("/ws", "a=1&b=2")
    assert server.is_open and server.serializer == "json" and server.subprotocol == "wamp.2.json"
    assert server.next_deadline() is None
    assert server.max_outgoing == 16 * 1024 * 1024


@pytest.mark.parametrize(
    ("offer", "serializers", "subprotocol", "serializer"),
    [
        ("wamp.2.cbor, wamp.2.json", None, "wamp.2.cbor", "cbor"),  # the client's order
        ("x.other, wamp.2.msgpack.batched", None, "wamp.2.msgpack.batched", "msgpack.batched"),
        ("wamp.2.json, wamp.2.cbor", ["cbor", "json"], "wamp.2.json", "json"),
        ("", ["msgpack", "json"], None, "json"),  # no offer: JSON, as Crossbar.io does
    ],
)
def test_subprotocol_choice(
    feed: Feed, offer: str, serializers: list[str] | None, subprotocol: str | None, serializer: str
) -> None:
    server = WebSocketServerTransport(serializers or ("json", "msgpack", "cbor", "msgpack.batched"))
    feed(server, request(protocols=offer))
    answer = server.data_to_send()
    assert (b"Sec-WebSocket-Protocol" in answer) is (subprotocol is not None)
    assert server.events() == [TransportOpened(serializer, subprotocol, server.request_headers)]


def test_a_listener_s_connections_share_one_subprotocol_table(feed: Feed) -> None:
    serializers = ["cbor", "json"]
    first, second = WebSocketServerTransport(serializers), WebSocketServerTransport(serializers)
    assert first._accepted is second._accepted  # not one table per idle connection
    for server in (first, second):
        feed(server, request(protocols="wamp.2.json"))
        assert server.subprotocol == "wamp.2.json"
    # Past the bound, a table is built for each connection, and still right.
    orders = itertools.permutations(["json", "msgpack", "cbor", "json.batched", "cbor.batched"])
    for order in itertools.islice(orders, 70):
        server = WebSocketServerTransport(order)
        feed(server, request(protocols=f"wamp.2.{order[0]}"))
        assert server.subprotocol == f"wamp.2.{order[0]}"
    assert len(_wshandshake._TABLES) == _wshandshake._MAX_TABLES


def test_repeated_protocol_headers_are_one_list(feed: Feed) -> None:
    server = WebSocketServerTransport(["cbor"])
    feed(
        server,
        request("X-A: 1", protocols="wamp.2.json").replace(
            b"x-a: 1", b"Sec-WebSocket-Protocol: wamp.2.cbor"
        ),
    )
    assert server.serializer == "cbor"


@pytest.mark.parametrize(
    ("data", "kwargs", "status", "text"),
    [
        (request(method="POST /ws HTTP/1.1"), {}, 405, "a WebSocket upgrade is a GET"),
        (request(method="GET /ws HTTP/1.0"), {}, 400, "needs HTTP/1.1"),
        (
            request(method="GET /nope?x HTTP/1.1"),
            {"paths": ["/ws"]},
            404,
            "no WebSocket endpoint at /nope",
        ),
        (request("Upgrade:", "Connection: keep-alive"), {}, 426, "this is a WebSocket endpoint"),
        (request("Upgrade: h2c"), {}, 426, "this is a WebSocket endpoint"),
        (request("Connection: keep-alive"), {}, 400, "'Connection: Upgrade'"),
        (request("Sec-WebSocket-Version: 8"), {}, 426, "only WebSocket version 13"),
        (request("Sec-WebSocket-Version:"), {}, 426, "only WebSocket version 13"),
        (request("Sec-WebSocket-Key:"), {}, 400, "Sec-WebSocket-Key is not 16 bytes"),
        (request("Sec-WebSocket-Key: abc"), {}, 400, "Sec-WebSocket-Key is not 16 bytes"),
        (request("Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAAAAAA"), {}, 400, "not 16 bytes"),
        (request("Content-Length: 2") + b"{}", {}, 400, "has no body"),
        (request("Transfer-Encoding: chunked") + b"0\r\n\r\n", {}, 400, "has no body"),
        (request(protocols="wamp.2.ubjson, WAMP.2.JSON"), {}, 400, "none of the subprotocols"),
        (request(protocols=""), {"serializers": ["cbor"]}, 400, "no WAMP subprotocol offered"),
        (request("Host:"), {}, 400, "Missing mandatory Host"),
        (b"\x16\x03\x01\x00\xa5\x01\x00\x00\r\n\r\n", {}, 400, "invalid HTTP request"),
        (request("X-Big: " + "b" * 2000), {"max_request_size": 1024}, 431, "over 1024 bytes"),
        (request("X-Big: " + "b" * 900), {"max_request_size": 1024}, 431, "over 1024 bytes"),
    ],
)
def test_refused_requests(
    feed: Feed, data: bytes, kwargs: dict[str, object], status: int, text: str
) -> None:
    server = WebSocketServerTransport(**kwargs)  # type: ignore[arg-type]
    feed(server, data + masked(unmasked_frame(1, b"[]")))
    got, answer, error = refusal(server)
    assert got == status == error.status_code and text in str(error)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert body == error.body and text.encode() in body
    assert b"\r\nConnection: close\r\n" in head + b"\r\n"
    assert f"Content-Length: {len(body)}".encode() in head
    if status == 426:
        assert b"\r\nUpgrade: websocket" in head and b"Sec-WebSocket-Version: 13" in head


def test_a_refusal_reaches_our_client() -> None:
    client = WebSocketClientTransport("router.test", "/wrong")
    server = WebSocketServerTransport(paths=["/ws"])
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    closed = closed_event(client)
    assert isinstance(closed.error, HandshakeError) and closed.error.status_code == 404
    assert closed.error.body == b"no WebSocket endpoint at /wrong\n"
    assert server.closed and server.path == "/wrong"


@pytest.mark.parametrize("received", [b"", b"GET /ws HT"])
def test_refuse_answers_the_request(feed: Feed, received: bytes) -> None:
    server = WebSocketServerTransport()
    feed(server, received)
    server.refuse()
    assert server.data_to_send() == b""  # not before the request is read
    feed(server, request()[len(received) :])
    status, answer, error = refusal(server)
    assert status == 503 and answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert error.body == b"the router is at capacity\n"
    assert server.path == "/ws"  # the host can still see what was asked


def test_refuse_with_an_unnamed_status_and_bad_uses(feed: Feed) -> None:
    server = WebSocketServerTransport()
    for bad in (200, 600):
        with pytest.raises(ValueError, match="4xx or 5xx"):
            server.refuse(bad)
    server.refuse(499, "go away")
    feed(server, request())
    _, answer, error = refusal(server)
    assert answer.startswith(b"HTTP/1.1 499 \r\n") and error.body == b"go away\n"
    opened = open_server(feed)
    with pytest.raises(RuntimeError, match="still to answer"):
        opened.refuse()


def test_frames_right_after_the_request(feed: Feed) -> None:
    server = WebSocketServerTransport()
    feed(server, request() + masked(unmasked_frame(1, b"[1]") + unmasked_frame(9, b"p")))
    assert server.events()[1:] == [MessageReceived("[1]")]
    assert server.data_to_send().endswith(unmasked_frame(0xA, b"p"))


def test_open_timeout_answers_408(feed: Feed) -> None:
    server = WebSocketServerTransport(open_timeout=2.0, now=5.0)
    feed(server, request()[:30], 6.0)
    server.handle_timer(6.9)
    assert server.events() == []
    server.handle_timer(7.0)
    closed = closed_event(server)
    assert isinstance(closed.error, TransportLost) and closed.code is None
    assert "the client did not complete its opening handshake within 2.0s" in str(closed.error)
    assert server.data_to_send().startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert WebSocketServerTransport(open_timeout=None).next_deadline() is None


@pytest.mark.parametrize("received", [b"", b"GET /"])
def test_eof_during_the_request(feed: Feed, received: bytes) -> None:
    server = WebSocketServerTransport()
    feed(server, received)
    server.receive_data(b"")
    closed = closed_event(server)
    assert isinstance(closed.error, TransportLost) and closed.code is None
    assert "the client closed the connection during the WebSocket opening" in str(closed.error)
    assert server.data_to_send() == b""


def test_close_before_the_request() -> None:
    server = WebSocketServerTransport()
    server.close()
    assert closed_event(server) == TransportClosed(None, "", None, True)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"serializers": "json"}, "non-empty list"),
        ({"serializers": ["json", "wamp.2.json"]}, "listed twice"),
        ({"close_timeout": 0}, "close_timeout"),
        ({"max_message_size": 0}, "at least 1 byte"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        WebSocketServerTransport(**kwargs)  # type: ignore[arg-type]


# -- frames from the client -----------------------------------------------------------


def test_wsproto_client_messages_fragments_and_ping(feed: Feed) -> None:
    server = WebSocketServerTransport(["cbor", "json"])
    client = Client(server, feed, "wamp.2.json")
    (accepted,) = client.read()
    assert isinstance(accepted, AcceptConnection) and accepted.subprotocol == "wamp.2.json"
    assert server.events() == [TransportOpened("json", "wamp.2.json", server.request_headers)]
    assert server.query == "token=1"
    client.send(
        TextMessage("[1, \u00e9"),
        TextMessage("part one ", message_finished=False),
        Ping(b"in the middle"),
        TextMessage("part two", message_finished=True),
        BytesMessage(b"\x00\x01"),
        BytesMessage(b"ab", message_finished=False),
        BytesMessage(b"cd"),
    )
    assert server.events() == [
        MessageReceived("[1, \u00e9"),
        MessageReceived("part one part two"),
        MessageReceived(b"\x00\x01"),
        MessageReceived(b"abcd"),
    ]
    assert client.read() == [Pong(b"in the middle")]


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 70000])
def test_every_length_encoding(feed: Feed, size: int) -> None:
    server = open_server(feed, "wamp.2.cbor")
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    feed(server, frame(2, payload, MASK))
    assert server.events() == [MessageReceived(payload)]


CLIENT_INVALID_FRAMES = [
    (masked(data), code, text) for data, code, text in INVALID_FRAMES if text != "masked frame"
]


@pytest.mark.parametrize(
    ("data", "code", "text"),
    [
        *CLIENT_INVALID_FRAMES,
        (unmasked_frame(1, b"[]"), 1002, "the client sent an unmasked frame"),
    ],
)
def test_invalid_frames(feed: Feed, data: bytes, code: int, text: str) -> None:
    server = open_server(feed)
    feed(server, data)
    closed = closed_event(server)
    assert closed.code == code and not closed.clean
    assert isinstance(closed.error, ProtocolError)
    assert "invalid WebSocket frame from the client" in str(closed.error)
    assert text in str(closed.error)
    reason = closed.reason.encode()[:123]
    assert server.data_to_send() == unmasked_frame(8, code.to_bytes(2, "big") + reason)


@pytest.mark.parametrize(
    "header", [b"\x82\xff" + (1 << 20).to_bytes(8, "big"), b"\x02\xfe\x03\xe9"]
)
def test_too_big_is_refused_from_the_header(feed: Feed, header: bytes) -> None:
    server = open_server(feed, "wamp.2.cbor", max_message_size=1000)
    feed(server, header)  # no payload at all: the header says enough
    closed = closed_event(server)
    assert closed.code == 1009 and isinstance(closed.error, MessageTooBig)
    assert server.data_to_send() == unmasked_frame(8, b"\x03\xf1message too big")


def test_fragments_over_the_limit_together(feed: Feed) -> None:
    server = open_server(feed, "wamp.2.cbor", max_message_size=10)
    feed(server, client_frame(0x02, b"x" * 6) + client_frame(0x80, b"y" * 5)[:2])
    closed = closed_event(server)
    assert closed.code == 1009 and isinstance(closed.error, MessageTooBig)
    assert closed.error.size == 11


# -- keep-alive and closing -----------------------------------------------------------


def test_keepalive(feed: Feed) -> None:
    server = open_server(feed, ping_interval=5.0, ping_timeout=2.0)
    assert server.next_deadline() == 6.0
    server.handle_timer(6.0)
    assert server.data_to_send() == unmasked_frame(9, b"wamp-keepalive-1")
    feed(server, masked(unmasked_frame(0xA, b"wamp-keepalive-1")), 7.0)
    assert server.next_deadline() == 12.0
    server.handle_timer(12.0)
    server.data_to_send()
    server.handle_timer(14.0)
    closed = closed_event(server)
    assert closed.code == 1011 and isinstance(closed.error, TransportLost)
    assert server.data_to_send() == unmasked_frame(8, b"\x03\xf3keep-alive ping timed out")


def test_server_closes_and_client_answers(feed: Feed) -> None:
    server = WebSocketServerTransport()
    client = Client(server, feed)
    client.read()
    server.events()
    server.close(1001, "bye", now=3.0)
    assert server.state is TransportState.CLOSING and server.next_deadline() == 8.0
    with pytest.raises(TransportLost, match="closing"):
        server.send_message("[]")
    (close,) = client.read()
    assert isinstance(close, CloseConnection) and (close.code, close.reason) == (1001, "bye")
    client.send(close.response())
    assert closed_event(server) == TransportClosed(1001, "bye", None, True)


def test_close_timeout(feed: Feed) -> None:
    server = open_server(feed)
    server.close(now=2.0)
    server.handle_timer(7.0)
    closed = closed_event(server)
    assert closed.code == 1006 and isinstance(closed.error, TransportLost)
    assert "the client did not answer our close frame within 5.0s" in str(closed.error)


@pytest.mark.parametrize(("code", "failed"), [(1000, False), (4000, True)])
def test_client_closes(feed: Feed, code: int, failed: bool) -> None:
    server = WebSocketServerTransport()
    client = Client(server, feed, "wamp.2.json")
    client.read()
    server.events()
    client.send(CloseConnection(code, "done"))
    closed = closed_event(server)
    assert (closed.code, closed.reason, closed.clean) == (code, "done", True)
    assert isinstance(closed.error, ClosedByPeer) is failed
    if failed:
        assert "the client closed the WebSocket: 4000" in str(closed.error)
    (echo,) = client.read()
    assert isinstance(echo, CloseConnection) and echo.code == code


def test_eof_when_open(feed: Feed) -> None:
    server = open_server(feed)
    server.receive_data(b"")
    closed = closed_event(server)
    assert closed.code == 1006 and isinstance(closed.error, TransportLost)
    assert "the client closed the TCP connection" in str(closed.error)


# -- with our client, every serializer ------------------------------------------------

SERIALIZERS = ["json", "msgpack", "cbor", "json.batched", "msgpack.batched", "cbor.batched"]


@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_our_client_and_server(serializer: str) -> None:
    client = WebSocketClientTransport("router.test", "/ws", serializers=[serializer])
    server = WebSocketServerTransport(SERIALIZERS, paths=["/ws"], ping_interval=1.0)
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    subprotocol = f"wamp.2.{serializer}"
    assert client.events() == [TransportOpened(serializer, subprotocol, ())]
    assert server.events() == [TransportOpened(serializer, subprotocol, server.request_headers)]
    codec = get_serializer(serializer)
    publish = Publish(7, "com.example.topic", ["é", b"\x00binary"])
    event = EventMessage(1, 2, ["é", b"\x00binary"])
    sent = codec.encode(publish)
    client.send_message(sent.decode() if serializer.startswith("json") else sent)
    server.receive_data(client.data_to_send())
    (received,) = server.events()
    assert isinstance(received, MessageReceived) and codec.decode(received.data) == [publish]
    server.send_message(codec.encode(event))
    server.handle_timer(2.0)  # a keep-alive ping the client answers
    client.receive_data(server.data_to_send())
    (got,) = client.events()
    assert isinstance(got, MessageReceived) and codec.decode(got.data) == [event]
    server.receive_data(client.data_to_send(), now=2.5)
    assert server.next_deadline() == 3.5
    client.close()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    assert closed_event(server) == closed_event(client) == TransportClosed(1000, "", None, True)


def test_one_frame_for_many_connections() -> None:
    servers: dict[str, list[WebSocketServerTransport]] = {}
    clients = []
    for serializer in ("json", "cbor"):
        for _ in range(3):
            client = WebSocketClientTransport("router.test", serializers=[serializer])
            server = WebSocketServerTransport()
            server.receive_data(client.data_to_send())
            client.receive_data(server.data_to_send())
            client.events()
            servers.setdefault(serializer, []).append(server)
            clients.append((client, serializer))
    payloads = {s: get_serializer(s).encode(EventMessage(1, 2, [3])) for s in servers}
    for serializer, group in servers.items():
        built = group[0].frame_message(payloads[serializer])
        for server in group:
            server.send_frame(built, len(payloads[serializer]))
    for (client, serializer), server in zip(
        clients, itertools.chain(*servers.values()), strict=True
    ):
        client.receive_data(server.data_to_send())
        expected = payloads[serializer]
        assert client.events() == [
            MessageReceived(expected.decode() if serializer == "json" else expected)
        ]


def test_sending_rules() -> None:
    server = WebSocketServerTransport(max_outgoing_size=3)
    with pytest.raises(TransportNotOpen):
        server.send_frame(b"", 0)
    server.receive_data(request(protocols="wamp.2.json"))
    server.data_to_send()
    assert server.frame_message("é") == unmasked_frame(1, "é".encode())
    with pytest.raises(ValueError, match="not UTF-8"):
        server.frame_message(b"\xff")
    with pytest.raises(MessageTooBigToSend, match="4 bytes is over the outgoing limit of 3"):
        server.send_message("[12]")
    with pytest.raises(MessageTooBigToSend, match="4 bytes"):
        server.send_frame(b"", 4)
    binary = WebSocketServerTransport()
    binary.receive_data(request(protocols="wamp.2.msgpack"))
    with pytest.raises(TypeError, match="binary"):
        binary.frame_message("text")
    client = WebSocketClientTransport("h")
    with pytest.raises(TypeError, match="only a server"):
        client.send_frame(b"", 0)


# -- any chunking ---------------------------------------------------------------------

client_frames = st.lists(
    st.one_of(
        st.binary(max_size=300).map(lambda p: frame(2, p, MASK)),
        st.text(max_size=50).map(lambda t: frame(1, t.encode(), MASK)),
        st.binary(max_size=20).map(lambda p: frame(9, p, MASK)),
        st.binary(max_size=20).map(lambda p: client_frame(0x02, p) + client_frame(0x80, p)),
    ),
    max_size=10,
)


@given(frames=client_frames, cuts=st.lists(st.integers(min_value=0), max_size=20))
def test_any_chunking_gives_the_same_result(frames: list[bytes], cuts: list[int]) -> None:
    stream = request(protocols="wamp.2.cbor") + b"".join(frames) + frame(8, b"\x03\xe8", MASK)
    whole = WebSocketServerTransport()
    whole.receive_data(stream)
    chunked = WebSocketServerTransport()
    points = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    for start, stop in itertools.pairwise(points):
        if stop > start:
            chunked.receive_data(stream[start:stop])
    events = whole.events()
    assert chunked.events() == events
    assert events[-1] == TransportClosed(1000, "", None, True)
    assert chunked.data_to_send() == whole.data_to_send()


# -- unmasking: many frames at once, each with its own key ----------------------------


def patterned(size: int, seed: int) -> bytes:
    return bytes((seed + i * 7 + i // 256) % 256 for i in range(size))


SIZES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 50, 125, 126, 127, 1000, _LARGE - 1, _LARGE, 65536]


def keyed_frames(sizes: list[int]) -> tuple[bytes, list[bytes]]:
    """Binary frames of ``sizes`` bytes, each masked with a key of its own."""
    payloads = [patterned(size, n) for n, size in enumerate(sizes)]
    keys = [bytes((n % 256, n // 256, n * 3 % 256, 0x5A)) for n in range(len(sizes))]
    return b"".join(map(frame, [2] * len(sizes), payloads, keys)), payloads


@given(
    sizes=st.lists(st.sampled_from(SIZES[:13]), max_size=30),
    large=st.lists(st.sampled_from(SIZES[13:]), max_size=2),
    order=st.randoms(use_true_random=False),
    cuts=st.lists(st.integers(min_value=0), max_size=30),
)
def test_masked_frames_in_any_chunking(
    sizes: list[int], large: list[int], order: random.Random, cuts: list[int]
) -> None:
    sizes = sizes + large
    order.shuffle(sizes)
    frames, payloads = keyed_frames(sizes)
    server = WebSocketServerTransport(serializers=["msgpack"])
    server.receive_data(request(protocols="wamp.2.msgpack"))
    server.events()
    points = sorted({c % (len(frames) + 1) for c in cuts} | {0, len(frames)})
    for start, stop in itertools.pairwise(points):
        server.receive_data(frames[start:stop])
    assert server.events() == [MessageReceived(p) for p in payloads]
    assert server.state is TransportState.OPEN


def test_masked_frames_of_every_length_one_by_one_and_in_one_chunk(feed: Feed) -> None:
    frames, payloads = keyed_frames(SIZES[:13] * 3)
    server = open_server(feed, "wamp.2.msgpack")
    feed(server, frames)
    assert server.events() == [MessageReceived(p) for p in payloads]
    # The same with the large ones, in one chunk (bytewise would take a while).
    frames, payloads = keyed_frames(SIZES * 2)
    server.receive_data(frames)
    assert server.events() == [MessageReceived(p) for p in payloads]


def test_a_chunk_of_more_frames_than_one_run(feed: Feed) -> None:
    frames, payloads = keyed_frames([60] * (2 * _RUN // 66 + 7))
    server = open_server(feed, "wamp.2.msgpack")
    feed(server, frames)
    assert server.events() == [MessageReceived(p) for p in payloads]


def test_control_and_text_frames_between_binary_ones_are_unmasked_too(feed: Feed) -> None:
    server = open_server(feed)
    stream = (
        frame(1, b"[1]", b"\x01\x02\x03\x04")
        + frame(9, b"ping!", b"\xff\xfe\xfd\xfc")
        + client_frame(0x01, b'["frag')
        + client_frame(0x80, b'ment"]')
        + frame(1, "é".encode() * 70, b"\x10\x20\x30\x40")
    )
    feed(server, stream)
    assert server.events() == [
        MessageReceived("[1]"),
        MessageReceived('["fragment"]'),
        MessageReceived("é" * 70),
    ]
    assert server.data_to_send() == unmasked_frame(0xA, b"ping!")


def test_an_unmasked_frame_after_masked_ones_in_one_chunk(feed: Feed) -> None:
    server = open_server(feed, "wamp.2.msgpack")
    frames, payloads = keyed_frames([3, 200, 5])
    server.receive_data(frames + unmasked_frame(2, b"plain") + frames)
    events = server.events()
    assert events[:3] == [MessageReceived(p) for p in payloads]
    closed = events[3]
    assert isinstance(closed, TransportClosed) and closed.code == 1002
    assert "the client sent an unmasked frame" in str(closed.error)


@given(data=st.lists(st.binary(min_size=1, max_size=40), max_size=10), opened=st.booleans())
def test_garbage_never_raises(data: list[bytes], opened: bool) -> None:
    server = WebSocketServerTransport(max_message_size=64)
    if opened:
        server.receive_data(request())
    for chunk in [*data, b""]:
        server.receive_data(chunk)
    events = server.events()
    assert isinstance(events[-1], TransportClosed)
    assert sum(isinstance(e, TransportClosed) for e in events) == 1


def test_rejection_is_what_wsproto_reads() -> None:
    ws = WSConnection(ConnectionType.CLIENT)
    server = WebSocketServerTransport(paths=["/ws"])
    server.receive_data(
        ws.send(Request(host="h", target="/elsewhere", subprotocols=["wamp.2.json"]))
    )
    ws.receive_data(server.data_to_send())
    (rejected, *_) = ws.events()
    assert isinstance(rejected, RejectConnection) and rejected.status_code == 404
