"""The RFC 6455 details of WebSocketClientTransport: masks, frame lengths, the 101 checks,
and random messages in random chunks both ways against wsproto as the independent peer."""

from __future__ import annotations

import base64
import hashlib
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    TextMessage,
)

from tests import test_transport_websocket as websocket_tests
from tests.test_transport_websocket import Feed, Router, closed_event, open_ws, raw_response
from wamp_core.transports import (
    HandshakeError,
    MessageReceived,
    TransportOpened,
    WebSocketClientTransport,
)
from wamp_core.transports._wsframe import _LARGE, _RUN, MaskSource, frame, mask, unmask_run

feed = websocket_tests.feed  # the fixture: bulk and bytewise


class CountingSource:
    """A predictable random source (bytes 0, 1, 2, ... mod 256) that counts its calls."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.counter = itertools.count()

    def __call__(self, count: int) -> bytes:
        self.calls.append(count)
        return bytes(next(self.counter) % 256 for _ in range(count))


def test_key_and_masks_come_from_the_source_in_blocks() -> None:
    source = CountingSource()
    transport = WebSocketClientTransport("h", serializers=["msgpack"], random_bytes=source)
    request = transport.data_to_send()
    key = base64.b64encode(bytes(range(16)))
    assert b"Sec-WebSocket-Key: " + key + b"\r\n" in request
    accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    answer = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\nSec-WebSocket-Protocol: wamp.2.msgpack\r\n\r\n"
    )
    transport.receive_data(answer)
    assert isinstance(transport.events()[0], TransportOpened)
    transport.send_message(b"\x00\x01\x02\x03\x04")
    # The mask is the pool's next 4 bytes (16-19); the payload is XORed with it.
    expected = bytes((0x82, 0x85, 16, 17, 18, 19, 16, 16, 16, 16, 20))
    assert transport.data_to_send() == expected
    # The first block (64 bytes) holds the key and 12 masks; each next block is twice
    # the last (an idle connection keeps little), up to 4096 bytes (1024 masks).
    for _ in range(11):
        transport.send_message(b"x")
    assert source.calls == [64]
    transport.send_message(b"x")
    assert source.calls == [64, 128]
    for _ in range((128 + 256 + 512 + 1024 + 2048 + 4096) // 4 - 1):  # those blocks used up
        transport.send_message(b"x")
    assert source.calls == [64, 128, 256, 512, 1024, 2048, 4096]
    for _ in range(1024):
        transport.send_message(b"x")
    assert source.calls == [64, 128, 256, 512, 1024, 2048, 4096, 4096]


def test_a_short_random_source_is_refused() -> None:
    with pytest.raises(ValueError, match=r"random_bytes\(64\) must return exactly 64"):
        WebSocketClientTransport("h", random_bytes=lambda n: b"\x00" * (n - 1))
    source = MaskSource(bytearray)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exactly"):
        source.draw(4)


@given(payload=st.binary(max_size=70), key=st.binary(min_size=4, max_size=4))
def test_mask_is_xor_with_the_repeated_key(payload: bytes, key: bytes) -> None:
    expected = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    assert mask(payload, key) == expected
    assert mask(expected, key) == payload


@pytest.mark.parametrize("size", [_LARGE - 1, _LARGE, _LARGE + 1, _LARGE + 2, _LARGE + 3, 70001])
def test_large_payloads_are_masked_by_lanes_alike(size: int) -> None:
    payload = bytes((i * 7 + i // 256) % 256 for i in range(size))
    key = b"\x9c\x01\xff\x5a"
    expected = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    assert mask(payload, key) == expected
    assert mask(expected, key) == payload


def unmasked_header(size: int) -> bytes:
    """A binary frame's header without the mask bit (unmask_run stops there)."""
    return bytes((0x82, size))


# A frame as it sits in a run: (header length, payload size, key, masked).
run_frames = st.lists(
    st.tuples(
        st.sampled_from([0, 1, 2, 3, 4, 5, 7, 8, 9, 124, 125, 126, 127, 300]),
        st.binary(min_size=4, max_size=4),
        st.sampled_from(["masked", "masked", "masked", "unmasked", "large"]),
    ),
    max_size=12,
)


@given(frames=run_frames, lead=st.binary(max_size=3), cut=st.integers(min_value=0))
def test_unmask_run_unmasks_each_payload_with_its_own_key(
    frames: list[tuple[int, bytes, str]], lead: bytes, cut: int
) -> None:
    data = bytearray(lead)  # what comes before pos: never read
    pos = len(data)
    spans = []  # (payload start, payload, kind) of each frame
    for size, key, kind in frames:
        payload = bytes((size + i) % 256 for i in range(size))
        if kind == "unmasked":
            head = unmasked_header(min(size, 125))
            payload = payload[:125]
            whole = head + payload
            start = len(data) + 2
        else:
            if kind == "large":
                payload = bytes(_LARGE)
            whole = frame(2, payload, key)
            start = len(data) + len(whole) - len(payload)
        spans.append((start, payload, kind))
        data += whole
    end = pos + cut % (len(data) - pos + 1)
    clear, stop = unmask_run(bytes(data), pos, end)
    # The run: the frames up to the first that is not masked, small and whole.
    expected_stop = pos
    for start, payload, kind in spans:
        if kind != "masked" or start + len(payload) > end:
            break
        assert clear[start - pos : start - pos + len(payload)] == payload
        expected_stop = start + len(payload)
    assert stop == expected_stop
    assert (clear == b"") == (stop == pos)


def test_unmask_run_stops_after_about_run_bytes() -> None:
    payload = bytes(range(60))
    data = b"".join(frame(2, payload, bytes((i % 256, i // 256, 1, 2))) for i in range(400))
    clear, stop = unmask_run(data, 0, len(data))
    assert _RUN - 3 <= stop < _RUN + 66
    assert stop % 66 == 0  # a frame boundary
    for i in range(stop // 66):
        assert clear[i * 66 + 6 : i * 66 + 66] == payload
    rest, stop = unmask_run(data, stop, len(data))
    assert stop == len(data) and rest[-60:] == payload


def test_unmask_run_needs_a_whole_extended_header() -> None:
    first = frame(2, b"abc", b"\x01\x02\x03\x04")
    long = frame(2, bytes(200), b"\x05\x06\x07\x08")
    data = first + long
    for end in (len(first), len(first) + 1, len(first) + 2, len(first) + 3):
        clear, stop = unmask_run(data, 0, end)
        assert stop == len(first) and clear[6:9] == b"abc"
    clear, stop = unmask_run(data, 0, len(data))
    assert stop == len(data) and clear[len(first) + 8 :][:200] == bytes(200)


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 70000])
def test_every_length_encoding_both_ways(feed: Feed, size: int) -> None:
    transport, router = open_ws(feed, "wamp.2.msgpack", serializers=["msgpack"])
    payload = bytes(i % 251 for i in range(size))
    transport.send_message(payload)
    (received,) = router.read()
    assert isinstance(received, BytesMessage) and received.data == payload
    if size > 5000:  # the bytewise feed is quadratic in the test's own slicing
        transport.receive_data(router.send(BytesMessage(payload)))
    else:
        feed(transport, router.send(BytesMessage(payload)))
    assert transport.events() == [MessageReceived(payload)]


def test_a_big_frame_in_chunks_is_assembled_once() -> None:
    transport, router = open_ws(lambda t, d, now=None: t.receive_data(d, now))
    data = router.send(BytesMessage(b"z" * 300_000), TextMessage("[1]"))
    for start in range(0, len(data), 1000):
        transport.receive_data(data[start : start + 1000])
    assert transport.events() == [MessageReceived(b"z" * 300_000), MessageReceived("[1]")]


def test_the_router_close_code_is_echoed(feed: Feed) -> None:
    transport, router = open_ws(feed)
    feed(transport, router.send(CloseConnection(3000, "going home")))
    closed = closed_event(transport)
    assert closed.code == 3000 and closed.reason == "going home" and closed.clean
    assert router.read() == [CloseConnection(3000, "")]


def test_pongs_and_pings_carry_their_payload(feed: Feed) -> None:
    transport, router = open_ws(feed)
    feed(transport, router.send(Ping(b"x" * 125), Pong(b"ignored")))
    assert router.read() == [Pong(b"x" * 125)]
    assert transport.events() == []


@pytest.mark.parametrize(
    ("lines", "text"),
    [
        (["Sec-WebSocket-Protocol: wamp.2.json", "Sec-WebSocket-Extensions: x"], "extensions"),
    ],
)
def test_answers_that_break_the_upgrade(feed: Feed, lines: list[str], text: str) -> None:
    transport = WebSocketClientTransport("h")
    feed(transport, raw_response(transport, *lines))
    closed = closed_event(transport)
    assert isinstance(closed.error, HandshakeError) and text in str(closed.error)
    assert closed.code is None and transport.data_to_send() == b""


@pytest.mark.parametrize(
    ("replace", "text"),
    [
        ((b"Upgrade: websocket\r\n", b"Upgrade: h2c\r\n"), "Upgrade: websocket"),
        ((b"Upgrade: websocket\r\n", b""), "Upgrade: websocket"),
        ((b"Connection: Upgrade\r\n", b"Connection: keep-alive\r\n"), "Connection: Upgrade"),
        ((b"Connection: Upgrade\r\n", b""), "Connection: Upgrade"),
    ],
)
def test_upgrade_headers_are_required(feed: Feed, replace: tuple[bytes, bytes], text: str) -> None:
    transport = WebSocketClientTransport("h")
    answer = raw_response(transport, "Sec-WebSocket-Protocol: wamp.2.json")
    feed(transport, answer.replace(*replace))
    error = closed_event(transport).error
    assert isinstance(error, HandshakeError) and text in str(error)


def test_header_tokens_and_repeats_are_read_as_lists(feed: Feed) -> None:
    transport = WebSocketClientTransport("h")
    answer = raw_response(transport, "Sec-WebSocket-Protocol: wamp.2.json", "X-Extra: 1")
    answer = answer.replace(
        b"Connection: Upgrade", b"Connection: keep-alive\r\nConnection: UPGRADE"
    )
    feed(transport, answer)
    (opened,) = transport.events()
    assert opened == TransportOpened("json", "wamp.2.json", (("x-extra", "1"),))


def test_an_endless_header_is_refused(feed: Feed) -> None:
    transport = WebSocketClientTransport("h")
    transport.data_to_send()
    feed(transport, b"HTTP/1.1 101 Switching Protocols\r\nX-Big: " + b"a" * 20_000)
    error = closed_event(transport).error
    assert isinstance(error, HandshakeError) and "invalid HTTP answer" in str(error)


Message = BytesMessage | TextMessage

messages = st.lists(
    st.one_of(
        st.binary(max_size=300).map(BytesMessage),
        st.text(max_size=100).map(TextMessage),
    ),
    max_size=8,
)


@settings(max_examples=60)
@given(
    sent=messages,
    fragment_at=st.integers(min_value=1, max_value=50),
    cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=20),
)
def test_random_messages_in_random_chunks(
    sent: list[Message], fragment_at: int, cuts: list[int]
) -> None:
    transport = WebSocketClientTransport("h", serializers=["msgpack"])
    router = Router(transport)
    router.read()
    data = router.send(AcceptConnection(subprotocol="wamp.2.msgpack"))
    data += b"".join(router.send(*fragments(m, fragment_at)) for m in sent)
    start = 0
    for cut in [*cuts, len(data)]:
        if data[start : start + cut]:  # b"" would mean EOF
            transport.receive_data(data[start : start + cut])
        start += cut
    received = transport.events()
    assert isinstance(received[0], TransportOpened)
    assert received[1:] == [MessageReceived(m.data) for m in sent]


def fragments(message: Message, size: int) -> list[Message]:
    """``message`` as frames of at most ``size`` bytes or characters."""
    data = message.data
    pieces = [data[i : i + size] for i in range(0, len(data), size)] or [data[:0]]
    last = len(pieces) - 1
    if isinstance(message, TextMessage):
        return [TextMessage(str(p), message_finished=i == last) for i, p in enumerate(pieces)]
    return [BytesMessage(bytes(p), message_finished=i == last) for i, p in enumerate(pieces)]
