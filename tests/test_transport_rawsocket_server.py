"""The router's end of RawSocket: hand-written client bytes (whole, and byte by byte)
and our own client, over bytes in memory; the clock is the ``now`` each call is given."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import test_transport_rawsocket as client_tests
from tests.test_transport_rawsocket import Feed, closed_event, frame, message
from wamp_core.exception import ProtocolError, TransportLost
from wamp_core.messages import Call, Event, Hello
from wamp_core.serializers import get_serializer
from wamp_core.transports import (
    HandshakeError,
    MessageReceived,
    MessageTooBig,
    MessageTooBigToSend,
    RawSocketClientTransport,
    RawSocketServerTransport,
    TransportClosed,
    TransportNotOpen,
    TransportOpened,
    TransportState,
)

feed = client_tests.feed  # the fixture: bulk and bytewise


def hello(serializer_id: int = 2, exponent: int = 15) -> bytes:
    return bytes((0x7F, (exponent << 4) | serializer_id, 0, 0))


def open_server(
    feed: Feed, serializer_id: int = 2, exponent: int = 15, **kwargs: object
) -> RawSocketServerTransport:
    server = RawSocketServerTransport(**kwargs)  # type: ignore[arg-type]
    feed(server, hello(serializer_id, exponent), 1.0)
    (opened,) = server.events()
    assert isinstance(opened, TransportOpened) and opened.subprotocol is None
    server.data_to_send()
    return server


def pair(
    serializer: str = "msgpack", **server_kwargs: object
) -> tuple[RawSocketClientTransport, RawSocketServerTransport]:
    """Our client and our server, handshake done, events drained."""
    client = RawSocketClientTransport(serializer, max_message_size=4096)
    server = RawSocketServerTransport(**server_kwargs)  # type: ignore[arg-type]
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    assert client.events() == server.events() == [TransportOpened(serializer, None, ())]
    return client, server


# -- the handshake --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("serializer_id", "exponent", "size", "answer"),
    [(1, 0, 512, "7f010000"), (2, 15, 1000, "7f120000"), (3, 7, 512, "7f030000")],
)
def test_handshake_success(
    feed: Feed, serializer_id: int, exponent: int, size: int, answer: str
) -> None:
    server = RawSocketServerTransport(max_message_size=size)
    assert server.state is TransportState.OPENING and server.serializer is None
    assert not server.has_data_to_send  # the client speaks first
    feed(server, hello(serializer_id, exponent), 1.0)
    assert server.data_to_send().hex() == answer
    (opened,) = server.events()
    name = {1: "json", 2: "msgpack", 3: "cbor"}[serializer_id]
    assert opened == TransportOpened(name, None, ())
    assert server.is_open and server.serializer == name
    assert server.max_outgoing == 1 << (9 + exponent)
    assert server.max_message_size == 1 << (9 + int(answer[2], 16))
    assert server.next_deadline() is None


def test_handshake_and_frames_in_one_chunk(feed: Feed) -> None:
    server = RawSocketServerTransport()
    feed(server, hello(1) + message(b"[1]") + frame(1, b"hb"))
    assert server.events() == [
        TransportOpened("json", None, ()),
        MessageReceived(b"[1]"),
    ]
    assert server.data_to_send() == b"\x7f\xf1\x00\x00" + frame(2, b"hb")


@pytest.mark.parametrize(
    ("kwargs", "handshake", "answer", "text"),
    [
        ({}, b"\x7f\xf2\x00\x01", 0x30, "3 use of reserved bits"),
        ({}, b"\x7f\xf2\x01\x00", 0x30, "reserved handshake bytes are not zero: 7f f2 01 00"),
        ({}, hello(0), 0x10, "1 serializer unsupported (serializer id 0)"),
        ({}, hello(9), 0x10, "serializer id 9"),
        ({"serializers": ["json"]}, hello(2), 0x10, "serializer id 2"),
        ({"min_outgoing_size": 1024}, hello(2, 0), 0x20, "the client accepts 512 bytes"),
    ],
)
def test_refused_handshakes(
    feed: Feed, kwargs: dict[str, object], handshake: bytes, answer: int, text: str
) -> None:
    server = RawSocketServerTransport(**kwargs)  # type: ignore[arg-type]
    feed(server, handshake + message(b"ignored"))
    closed = closed_event(server)
    assert closed == TransportClosed(None, "", closed.error, False)
    assert isinstance(closed.error, HandshakeError)
    assert text in str(closed.error)
    assert server.data_to_send() == bytes((0x7F, answer, 0, 0))
    assert server.data_to_send() == b""


def test_the_minimum_outgoing_size_itself_is_accepted(feed: Feed) -> None:
    server = open_server(feed, 2, 1, min_outgoing_size=1024)
    assert server.max_outgoing == 1024


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"\x7e\xf2\x00\x00", "not a RawSocket handshake: b'~\\xf2\\x00\\x00'"),
        (b"GET /ws HTTP/1.1\r\n", "an HTTP request"),
    ],
)
def test_not_rawsocket_gets_no_answer(feed: Feed, data: bytes, text: str) -> None:
    server = RawSocketServerTransport()
    feed(server, data)
    closed = closed_event(server)
    assert isinstance(closed.error, HandshakeError) and text in str(closed.error)
    assert server.data_to_send() == b""


@pytest.mark.parametrize("received", [b"", b"\x7f\xf2"])
def test_refuse_answers_the_handshake_with_error_4(feed: Feed, received: bytes) -> None:
    server = RawSocketServerTransport()
    feed(server, received)
    server.refuse()
    assert server.data_to_send() == b""  # not before the client's handshake is read
    feed(server, hello()[len(received) :])
    assert server.data_to_send() == b"\x7f\x40\x00\x00"
    closed = closed_event(server)
    assert isinstance(closed.error, HandshakeError)
    assert "4 maximum connection count reached (refused by the host)" in str(closed.error)


def test_our_client_sees_the_refusal() -> None:
    client = RawSocketClientTransport()
    server = RawSocketServerTransport()
    server.refuse(4)
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    closed = closed_event(client)
    assert isinstance(closed.error, HandshakeError)
    assert "the router refused the handshake: 4 maximum connection count reached" in str(
        closed.error
    )
    assert server.closed


def test_refuse_with_another_code_and_bad_uses() -> None:
    server = RawSocketServerTransport()
    for bad in (0, 16):
        with pytest.raises(ValueError, match=r"1 \.\. 15"):
            server.refuse(bad)
    server.refuse(9)
    server.receive_data(hello())
    assert server.data_to_send() == b"\x7f\x90\x00\x00"
    assert "9 error" in str(closed_event(server).error)
    _, opened = pair()
    with pytest.raises(RuntimeError, match="still to answer"):
        opened.refuse()


@pytest.mark.parametrize(
    ("serializers", "match"),
    [
        ("json", "non-empty list"),
        ([], "non-empty list"),
        (["msgpack.batched"], "batched"),
        (["ubjson"], "not supported"),
    ],
)
def test_bad_serializers(serializers: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RawSocketServerTransport(serializers)  # type: ignore[arg-type]


def test_open_timeout(feed: Feed) -> None:
    server = RawSocketServerTransport(open_timeout=3.0, now=10.0)
    assert server.next_deadline() == 13.0
    feed(server, b"\x7f\xf2", 11.0)
    server.handle_timer(12.9)
    assert not server.events()
    server.handle_timer(13.0)
    closed = closed_event(server)
    assert isinstance(closed.error, TransportLost)
    assert "the client did not complete its opening handshake within 3.0s" in str(closed.error)
    assert server.next_deadline() is None


def test_no_open_timeout() -> None:
    assert RawSocketServerTransport(open_timeout=None).next_deadline() is None


@pytest.mark.parametrize("received", [b"", b"\x7f"])
def test_eof_during_handshake(feed: Feed, received: bytes) -> None:
    server = RawSocketServerTransport()
    feed(server, received)
    server.receive_data(b"")
    closed = closed_event(server)
    assert isinstance(closed.error, TransportLost)
    assert "the client closed the connection during the RawSocket handshake" in str(closed.error)


def test_eof_when_open(feed: Feed) -> None:
    server = open_server(feed)
    server.receive_data(b"")
    closed = closed_event(server)
    assert isinstance(closed.error, TransportLost) and "(EOF)" in str(closed.error)


def test_close_is_immediate() -> None:
    client, server = pair()
    server.close()
    assert closed_event(server) == TransportClosed(None, "", None, True)
    assert server.data_to_send() == b""
    client.receive_data(b"")  # the host closes the socket
    assert isinstance(closed_event(client).error, TransportLost)


def test_close_before_the_handshake() -> None:
    server = RawSocketServerTransport()
    server.close()
    assert closed_event(server) == TransportClosed(None, "", None, True)


# -- frames ---------------------------------------------------------------------------


def test_frames_over_our_limit_are_refused_from_the_header(feed: Feed) -> None:
    server = open_server(feed, max_message_size=512)
    feed(server, message(b"x" * 512))
    assert server.events() == [MessageReceived(b"x" * 512)]
    feed(server, b"\x00\x00\x02\x01" + b"x" * 10)
    closed = closed_event(server)
    assert isinstance(closed.error, MessageTooBig)
    assert closed.error.size == 513 and closed.error.limit == 512


@pytest.mark.parametrize(
    ("header", "error"),
    [(b"\x10\x00\x00\x01", "reserved bits"), (b"\x03\x00\x00\x01", "reserved type 3")],
)
def test_invalid_frames(feed: Feed, header: bytes, error: str) -> None:
    server = open_server(feed)
    feed(server, header + b"x")
    closed = closed_event(server)
    assert isinstance(closed.error, ProtocolError) and error in str(closed.error)


def test_ping_gets_a_pong_with_the_same_payload(feed: Feed) -> None:
    server = open_server(feed)
    feed(server, frame(1, b"are you there") + frame(1, b""))
    assert server.data_to_send() == frame(2, b"are you there") + frame(2, b"")
    assert server.events() == []


def test_keepalive(feed: Feed) -> None:
    server = open_server(feed, ping_interval=5.0, ping_timeout=2.0)
    assert server.next_deadline() == 6.0
    server.handle_timer(6.0)
    assert server.data_to_send() == frame(1, b"wamp-keepalive-1")
    assert server.next_deadline() == 8.0
    feed(server, frame(2, b"wamp-keepalive-1"), 7.0)
    assert server.next_deadline() == 12.0
    server.handle_timer(12.0)
    server.data_to_send()
    server.handle_timer(14.0)
    closed = closed_event(server)
    assert isinstance(closed.error, TransportLost) and "no pong within 2.0s" in str(closed.error)


def test_keepalive_both_ways_with_our_client() -> None:
    client, server = pair(ping_interval=1.0)
    server.handle_timer(1.0)
    client.receive_data(server.data_to_send())
    server.receive_data(client.data_to_send())
    assert server.next_deadline() == 2.0  # answered: the next ping is armed
    client.handle_timer(0.0)  # a client without keep-alive: nothing
    assert client.events() == server.events() == []


# -- sending --------------------------------------------------------------------------


@pytest.mark.parametrize("serializer", ["json", "msgpack", "cbor"])
def test_messages_both_ways_with_our_client(serializer: str) -> None:
    client, server = pair(serializer)
    codec = get_serializer(serializer)
    call = Call(1, "com.example.add", [2, 3])
    hello_msg = Hello("realm1", {"roles": {"caller": {}}})
    client.send_message(codec.encode(hello_msg))
    client.send_message(codec.encode(call))
    server.receive_data(client.data_to_send())
    received = [codec.decode(e.data)[0] for e in server.events() if isinstance(e, MessageReceived)]
    assert received == [hello_msg, call]
    event = Event(5, 6, ["hot"])
    server.send_message(codec.encode(event))
    server.send_message("text goes as UTF-8 bytes")
    client.receive_data(server.data_to_send())
    assert client.events() == [
        MessageReceived(codec.encode(event)),
        MessageReceived(b"text goes as UTF-8 bytes"),
    ]


def test_send_frame_fans_one_frame_out() -> None:
    pairs = [pair("cbor") for _ in range(3)]
    payload = get_serializer("cbor").encode(Event(1, 2, [3]))
    built = RawSocketServerTransport.frame_message(payload)
    assert built == message(payload)
    for _, server in pairs:
        server.send_frame(built, len(payload))
    for client, server in pairs:
        client.receive_data(server.data_to_send())
        assert client.events() == [MessageReceived(payload)]
    assert RawSocketServerTransport.frame_message("é") == message("é".encode())


def test_sending_over_the_clients_limit() -> None:
    _, server = pair()  # the client announced 4096
    server.send_message(b"x" * 4096)
    with pytest.raises(MessageTooBigToSend, match="4097 bytes is over the client's limit of 4096"):
        server.send_message(b"x" * 4097)
    with pytest.raises(MessageTooBigToSend, match="5000 bytes"):
        server.send_frame(b"", 5000)
    assert server.data_to_send() == message(b"x" * 4096)


def test_sending_before_open_and_after_close() -> None:
    server = RawSocketServerTransport()
    with pytest.raises(TransportNotOpen):
        server.send_message(b"x")
    with pytest.raises(TransportNotOpen):
        server.send_frame(message(b"x"), 1, now=1.0)
    server.close()
    with pytest.raises(TransportLost):
        server.send_frame(message(b"x"), 1)


def test_a_client_cannot_send_shared_frames() -> None:
    client, _ = pair()
    with pytest.raises(TypeError, match="only a server"):
        client.send_frame(message(b"x"), 1)


# -- any chunking ---------------------------------------------------------------------

stream_items = st.lists(
    st.one_of(
        st.binary(max_size=300).map(message),
        st.binary(max_size=20).map(lambda p: frame(1, p)),
    ),
    max_size=12,
)


@given(items=stream_items, cuts=st.lists(st.integers(min_value=0), max_size=20))
def test_any_chunking_gives_the_same_result(items: list[bytes], cuts: list[int]) -> None:
    stream = hello(3, 2) + b"".join(items)
    whole = RawSocketServerTransport()
    whole.receive_data(stream)
    chunked = RawSocketServerTransport()
    points = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    for start, stop in itertools.pairwise(points):
        if stop > start:
            chunked.receive_data(stream[start:stop])
    assert chunked.events() == whole.events()
    assert chunked.data_to_send() == whole.data_to_send()


@given(data=st.lists(st.binary(min_size=1, max_size=40), max_size=10))
def test_garbage_never_raises(data: list[bytes]) -> None:
    server = RawSocketServerTransport()
    for chunk in data:
        server.receive_data(chunk)
    events = server.events()
    assert all(not isinstance(e, TransportClosed) for e in events[:-1])
