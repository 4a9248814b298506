"""RawSocketClientTransport against hand-written router bytes.

Every exchange is fed to the transport both in one chunk and one byte at a time.
Time is whatever ``now`` the test passes; nothing sleeps.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wamp_core.exception import ProtocolError, TransportLost
from wamp_core.transports import (
    HandshakeError,
    MessageReceived,
    MessageTooBig,
    MessageTooBigToSend,
    RawSocketClientTransport,
    TransportClosed,
    TransportNotOpen,
    TransportOpened,
    TransportState,
    rawsocket_length_exponent,
)
from wamp_core.transports.base import Transport, _earlier

Feed = Callable[..., None]


@pytest.fixture(params=["bulk", "bytewise"])
def feed(request: pytest.FixtureRequest) -> Feed:
    """Give data to a transport in one call, or one byte per call."""

    def feed(transport: RawSocketClientTransport, data: bytes, now: float | None = None) -> None:
        if request.param == "bulk":
            if data:  # b"" would mean EOF
                transport.receive_data(data, now)
        else:
            for i in range(len(data)):
                transport.receive_data(data[i : i + 1], now)

    return feed


def frame(kind: int, payload: bytes) -> bytes:
    return bytes((kind,)) + len(payload).to_bytes(3, "big") + payload


def message(payload: bytes) -> bytes:
    return frame(0, payload)


def reply(serializer_id: int = 2, exponent: int = 15) -> bytes:
    return bytes((0x7F, (exponent << 4) | serializer_id, 0, 0))


def open_rs(
    feed: Feed, serializer: str = "msgpack", exponent: int = 15, **kwargs: object
) -> RawSocketClientTransport:
    transport = RawSocketClientTransport(serializer, **kwargs)  # type: ignore[arg-type]
    transport.data_to_send()
    ids = {"json": 1, "msgpack": 2, "cbor": 3}
    feed(transport, reply(ids[serializer], exponent), 1.0)
    (opened,) = transport.events()
    assert opened == TransportOpened(serializer, None, ())
    return transport


def closed_event(transport: Transport) -> TransportClosed:
    events = transport.events()
    assert transport.closed
    assert isinstance(events[-1], TransportClosed)
    assert not any(isinstance(e, TransportClosed) for e in events[:-1])
    return events[-1]


# -- the handshake --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("serializer", "size", "sent"),
    [
        ("json", 512, "7f010000"),
        ("msgpack", 16 * 1024 * 1024, "7ff20000"),
        ("cbor", 1000, "7f130000"),
        ("wamp.2.cbor", 1, "7f030000"),
        ("json", 513, "7f110000"),
        ("msgpack", 65536, "7f720000"),
        ("msgpack", 65537, "7f820000"),
    ],
)
def test_client_handshake_bytes(serializer: str, size: int, sent: str) -> None:
    transport = RawSocketClientTransport(serializer, max_message_size=size)
    assert transport.data_to_send().hex() == sent
    assert transport.state is TransportState.OPENING
    assert transport.max_message_size == 1 << (9 + int(sent[2], 16))
    assert transport.max_outgoing == 0 and transport.serializer is None


def test_length_exponent() -> None:
    assert [rawsocket_length_exponent(n) for n in (1, 512, 513, 1024, 2**24)] == [0, 0, 1, 1, 15]
    for bad in (0, 2**24 + 1):
        with pytest.raises(ValueError, match="max_message_size"):
            rawsocket_length_exponent(bad)


@pytest.mark.parametrize(
    ("serializer", "match"),
    [("json.batched", "batched"), ("ubjson", "not supported")],
)
def test_bad_serializer(serializer: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RawSocketClientTransport(serializer)


@pytest.mark.parametrize("exponent", [0, 7, 15])
def test_handshake_success(feed: Feed, exponent: int) -> None:
    transport = open_rs(feed, "cbor", exponent)
    assert transport.is_open and transport.serializer == "cbor"
    assert transport.max_outgoing == 1 << (9 + exponent)
    assert transport.next_deadline() is None


def test_handshake_reply_and_frames_in_one_chunk(feed: Feed) -> None:
    transport = RawSocketClientTransport("json")
    feed(transport, reply(1) + message(b"[1]") + message(b"[2]"))
    assert transport.events() == [
        TransportOpened("json", None, ()),
        MessageReceived(b"[1]"),
        MessageReceived(b"[2]"),
    ]


@pytest.mark.parametrize(
    ("second_byte", "text"),
    [
        (0x10, "1 serializer unsupported"),
        (0x20, "2 maximum message length unacceptable"),
        (0x30, "3 use of reserved bits"),
        (0x40, "4 maximum connection count reached"),
        (0x00, "0 illegal error code"),
        (0x50, "5 illegal error code"),
    ],
)
def test_handshake_error_codes(feed: Feed, second_byte: int, text: str) -> None:
    transport = RawSocketClientTransport()
    feed(transport, bytes((0x7F, second_byte, 0, 0)) + message(b"ignored"))
    closed = closed_event(transport)
    assert closed == TransportClosed(None, "", closed.error, False)
    assert isinstance(closed.error, HandshakeError)
    assert text in str(closed.error)


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"\x7e\xf2\x00\x00", "not a RawSocket handshake reply"),
        (b"HTTP/1.1 400 Bad Request\r\n", "an HTTP server"),
        (reply(1), "router answered serializer 1 (json), we asked for 2 (msgpack)"),
        (reply(9), "router answered serializer 9 (unknown)"),
        (b"\x7f\xf2\x00\x01", "reserved handshake bytes"),
        (b"\x7f\xf2\x01\x00", "reserved handshake bytes"),
    ],
)
def test_bad_handshake_replies(feed: Feed, data: bytes, text: str) -> None:
    transport = RawSocketClientTransport()
    feed(transport, data)
    closed = closed_event(transport)
    assert isinstance(closed.error, HandshakeError) and not closed.clean
    assert text in str(closed.error)
    assert transport.data_to_send() == b"\x7f\xf2\x00\x00"  # only our handshake, ever


def test_manual_open_and_open_timeout() -> None:
    transport = RawSocketClientTransport(auto_open=False, open_timeout=4.0, now=50.0)
    assert transport.data_to_send() == b""
    assert transport.next_deadline() is None
    transport.open()
    assert transport.data_to_send() == b"\x7f\xf2\x00\x00"
    assert transport.next_deadline() == 54.0
    with pytest.raises(RuntimeError, match="never opened"):
        transport.open()
    transport.receive_data(b"\x7f", now=51.0)
    transport.handle_timer(54.0)
    closed = closed_event(transport)
    assert isinstance(closed.error, TransportLost)
    assert "no answer to the opening handshake within 4.0s" in str(closed.error)


def test_data_before_open_is_a_protocol_error() -> None:
    transport = RawSocketClientTransport(auto_open=False)
    transport.receive_data(reply())
    closed = closed_event(transport)
    assert isinstance(closed.error, ProtocolError)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ping_interval": 0}, "ping_interval"),
        ({"ping_timeout": -1.0}, "ping_timeout"),
        ({"open_timeout": 0.0}, "open_timeout"),
        ({"max_message_size": 0}, "max_message_size"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RawSocketClientTransport(**kwargs)  # type: ignore[arg-type]


# -- frames -----------------------------------------------------------------------------


def test_many_frames_split_anywhere(feed: Feed) -> None:
    transport = open_rs(feed)
    payloads = [b"", b"a", b"\x93\x01\x02\x03", b"x" * 1000, b"y" * 70000]
    feed(transport, b"".join(message(p) for p in payloads))
    assert transport.events() == [MessageReceived(p) for p in payloads]
    assert all(type(e.data) is bytes for e in transport.events() if isinstance(e, MessageReceived))


def test_frames_across_chunk_boundaries() -> None:
    transport = RawSocketClientTransport()
    transport.receive_data(reply())
    transport.events()
    stream = b"".join(message(bytes([i]) * i) for i in range(40))
    received: list[object] = []
    # Chunks of every size from 1 to 9 bytes, so boundaries land in headers and payloads.
    pos, size = 0, 1
    while pos < len(stream):
        transport.receive_data(stream[pos : pos + size])
        received += transport.events()
        pos += size
        size = size % 9 + 1
    assert received == [MessageReceived(bytes([i]) * i) for i in range(40)]


def test_accepts_bytearray_and_memoryview() -> None:
    transport = RawSocketClientTransport()
    transport.receive_data(bytearray(reply()))
    transport.receive_data(memoryview(message(b"abc") + message(b"d")[:3]))
    transport.receive_data(bytearray(message(b"d")[3:]))
    events = transport.events()
    assert events[1:] == [MessageReceived(b"abc"), MessageReceived(b"d")]
    assert all(type(e.data) is bytes for e in events[1:] if isinstance(e, MessageReceived))


def test_ping_answered_with_one_pong(feed: Feed) -> None:
    transport = open_rs(feed)
    feed(transport, message(b"1") + frame(1, b"hello") + frame(1, b"") + message(b"2"))
    assert transport.events() == [MessageReceived(b"1"), MessageReceived(b"2")]
    assert transport.data_to_send() == frame(2, b"hello") + frame(2, b"")


def test_unsolicited_pong_is_ignored(feed: Feed) -> None:
    transport = open_rs(feed)
    feed(transport, frame(2, b"whatever") + message(b"1"))
    assert transport.events() == [MessageReceived(b"1")]
    assert transport.data_to_send() == b""


@pytest.mark.parametrize(
    ("header", "error", "text"),
    [
        (b"\x10\x00\x00\x01", ProtocolError, "reserved bits"),
        (b"\x80\x00\x00\x00", ProtocolError, "reserved bits"),
        (b"\x03\x00\x00\x00", ProtocolError, "reserved type 3"),
        (b"\x07\x00\x00\x01", ProtocolError, "reserved type 7"),
        (b"\x08\x00\x00\x01", ProtocolError, "over 2**24"),
        (b"\x09\x80\x00\x00", ProtocolError, "over 2**24"),
        (b"\x08\x00\x00\x00", MessageTooBig, "16777216 bytes exceeds the limit of 1024"),
        (b"\x00\x00\x04\x01", MessageTooBig, "1025 bytes exceeds the limit of 1024"),
        (b"\x01\x00\x04\x01", MessageTooBig, "1025 bytes"),  # a PING is bounded too
    ],
)
def test_invalid_headers_fail_before_any_payload(
    feed: Feed, header: bytes, error: type[Exception], text: str
) -> None:
    transport = open_rs(feed, max_message_size=1024)
    feed(transport, message(b"ok") + header)  # no payload: refused from the header alone
    events = transport.events()
    assert events[0] == MessageReceived(b"ok")
    closed = events[1]
    assert isinstance(closed, TransportClosed) and not closed.clean
    assert type(closed.error) is error
    assert text in str(closed.error)
    assert transport.data_to_send() == b""


def test_message_at_the_limit(feed: Feed) -> None:
    transport = open_rs(feed, max_message_size=512)
    feed(transport, message(b"m" * 512))
    assert transport.events() == [MessageReceived(b"m" * 512)]


def test_length_of_exactly_2_24_uses_the_x_bit() -> None:
    # Too big for byte-by-byte feeding; the split path is covered by a chunk boundary.
    transport = RawSocketClientTransport()
    transport.receive_data(reply())
    transport.events()
    transport.data_to_send()
    payload = bytes(1 << 24)
    data = b"\x08\x00\x00\x00" + payload + message(b"after")
    transport.receive_data(data[:1000])
    transport.receive_data(data[1000:])
    events = transport.events()
    assert len(events) == 2 and events[1] == MessageReceived(b"after")
    first = events[0]
    assert isinstance(first, MessageReceived) and len(first.data) == 1 << 24
    transport.receive_data(data)
    assert len(transport.events()) == 2
    # And a PING of that size gets its PONG with the X bit too.
    transport.receive_data(b"\x09\x00\x00\x00" + payload)
    pong = transport.data_to_send()
    assert pong[:4] == b"\x0a\x00\x00\x00" and len(pong) == 4 + (1 << 24)


# -- sending --------------------------------------------------------------------------


def test_send_message(feed: Feed) -> None:
    transport = open_rs(feed, "json", exponent=0)
    transport.send_message(b"[1]", now=2.0)
    transport.send_message("[\u00e9]")
    assert transport.data_to_send() == message(b"[1]") + message("[\u00e9]".encode())
    assert transport.data_to_send() == b""


def test_send_over_the_routers_limit(feed: Feed) -> None:
    transport = open_rs(feed, exponent=0)
    transport.send_message(b"x" * 512)
    transport.data_to_send()
    with pytest.raises(MessageTooBigToSend, match="513 bytes is over the router's limit of 512"):
        transport.send_message(b"x" * 513)
    with pytest.raises(ValueError):
        transport.send_message("\u00e9" * 257)
    assert transport.data_to_send() == b""


def test_send_2_24_bytes_sets_the_x_bit(feed: Feed) -> None:
    transport = open_rs(feed, exponent=15)
    transport.send_message(bytes(1 << 24))
    data = transport.data_to_send()
    assert data[:4] == b"\x08\x00\x00\x00" and len(data) == 4 + (1 << 24)


def test_send_before_open_and_after_close() -> None:
    transport = RawSocketClientTransport()
    with pytest.raises(TransportNotOpen):
        transport.send_message(b"x")
    transport.close()
    with pytest.raises(TransportLost):
        transport.send_message(b"x")
    assert transport.data_to_send() == b"\x7f\xf2\x00\x00"


# -- keep-alive -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "earlier"),
    [(None, None, None), (None, 2.0, 2.0), (1.0, None, 1.0), (1.0, 2.0, 1.0), (3.0, 2.0, 2.0)],
)
def test_the_earlier_of_two_deadlines(
    a: float | None, b: float | None, earlier: float | None
) -> None:
    assert _earlier(a, b) == earlier


def test_keepalive(feed: Feed) -> None:
    transport = open_rs(feed, ping_interval=10.0, ping_timeout=3.0)
    assert transport.next_deadline() == 11.0
    transport.handle_timer(11.0)
    ping = transport.data_to_send()
    assert ping[:1] == b"\x01" and ping[4:].startswith(b"wamp-keepalive")
    assert transport.next_deadline() == 14.0
    feed(transport, frame(2, b"not ours"), 12.0)
    assert transport.next_deadline() == 14.0
    feed(transport, frame(2, ping[4:]), 13.0)
    assert transport.next_deadline() == 23.0
    assert transport.events() == []
    transport.handle_timer(23.0)
    transport.data_to_send()
    transport.handle_timer(25.9)
    assert transport.events() == []
    transport.handle_timer(26.0)
    closed = closed_event(transport)
    assert closed.code is None and not closed.clean
    assert isinstance(closed.error, TransportLost)
    assert "no pong within 3.0s" in str(closed.error)
    assert transport.data_to_send() == b""
    assert transport.next_deadline() is None


# -- closing and EOF ----------------------------------------------------------------------


def test_close_is_immediate_and_clean(feed: Feed) -> None:
    transport = open_rs(feed, ping_interval=5.0)
    feed(transport, message(b"a") + b"\x00\x00")  # a frame begun, never finished
    transport.close(reason="done")
    assert closed_event(transport) == TransportClosed(None, "done", None, True)
    assert transport.next_deadline() is None
    transport.close()
    transport.receive_data(message(b"b"))
    transport.receive_data(b"")
    transport.handle_timer(100.0)
    assert transport.events() == []
    assert transport.data_to_send() == b""
    assert transport.state is TransportState.CLOSED


def test_close_during_handshake() -> None:
    transport = RawSocketClientTransport()
    transport.close(4000, "any code is fine")
    assert closed_event(transport) == TransportClosed(None, "any code is fine", None, True)


@pytest.mark.parametrize("received", [b"", b"\x7f\xf2"])
def test_eof_during_handshake(feed: Feed, received: bytes) -> None:
    transport = RawSocketClientTransport()
    feed(transport, received)
    transport.receive_data(b"")
    closed = closed_event(transport)
    assert isinstance(closed.error, TransportLost) and not closed.clean
    assert "during the RawSocket handshake" in str(closed.error)


@pytest.mark.parametrize("received", [b"", message(b"abc"), message(b"abc")[:5]])
def test_eof_when_open(feed: Feed, received: bytes) -> None:
    transport = open_rs(feed)
    feed(transport, received)
    transport.receive_data(b"")
    closed = closed_event(transport)
    assert closed.code is None and not closed.clean
    assert isinstance(closed.error, TransportLost)


# -- properties -------------------------------------------------------------------------

frames_strategy = st.lists(
    st.tuples(st.sampled_from([0, 0, 0, 1, 2]), st.binary(max_size=600)), max_size=12
)


@given(frames=frames_strategy, cuts=st.lists(st.integers(min_value=0), max_size=20))
def test_any_chunking_gives_the_same_result(
    frames: list[tuple[int, bytes]], cuts: list[int]
) -> None:
    stream = reply() + b"".join(frame(kind, payload) for kind, payload in frames)
    points = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    transport = RawSocketClientTransport(max_message_size=512)
    transport.data_to_send()
    for start, stop in itertools.pairwise(points):
        transport.receive_data(stream[start:stop])
    expected: list[object] = [TransportOpened("msgpack", None, ())]
    pongs = b""
    for kind, payload in frames:
        if len(payload) > 512:
            break
        if kind == 0:
            expected.append(MessageReceived(payload))
        elif kind == 1:
            pongs += frame(2, payload)
    events = transport.events()
    assert events[: len(expected)] == expected
    if any(len(p) > 512 for _, p in frames):
        assert len(events) == len(expected) + 1
        closed = events[-1]
        assert isinstance(closed, TransportClosed) and isinstance(closed.error, MessageTooBig)
    else:
        assert len(events) == len(expected)
    assert transport.data_to_send() == pongs


@given(data=st.lists(st.binary(min_size=1, max_size=40), max_size=10))
def test_garbage_never_raises(data: list[bytes]) -> None:
    transport = RawSocketClientTransport(max_message_size=512)
    for chunk in [reply(), *data, b""]:
        transport.receive_data(chunk)
    events = transport.events()
    assert isinstance(events[-1], TransportClosed)
    assert sum(isinstance(e, TransportClosed) for e in events) == 1


def test_message_received_is_a_value() -> None:
    # Compared, hashed and shown by its data, like the dataclass events beside it.
    assert MessageReceived(b"a") == MessageReceived(b"a") != MessageReceived("a")
    assert MessageReceived(b"a") != b"a"
    assert len({MessageReceived(b"a"), MessageReceived(b"a"), MessageReceived(b"b")}) == 2
    assert repr(MessageReceived(b"a")) == "MessageReceived(data=b'a')"
