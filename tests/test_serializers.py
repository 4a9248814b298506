"""Serializers: lookup, the JSON binary rule, batching, and errors."""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest
import ujson

from tests.conftest import VECTORS
from wamp_core import serializers
from wamp_core.exception import ProtocolError, SerializationError
from wamp_core.messages import Call, Event, Publish
from wamp_core.serializers import (
    RAWSOCKET_IDS,
    SUBPROTOCOLS,
    CborSerializer,
    JsonSerializer,
    MsgPackSerializer,
    Serializer,
    get_serializer,
)

CALL = Call(1, "com.p", args=[1, "x"], kwargs={"k": True})


@pytest.mark.parametrize(
    ("spec", "cls", "batched"),
    [
        ("json", JsonSerializer, False),
        ("wamp.2.json", JsonSerializer, False),
        ("wamp.2.json.batched", JsonSerializer, True),
        ("msgpack", MsgPackSerializer, False),
        ("msgpack.batched", MsgPackSerializer, True),
        ("wamp.2.cbor", CborSerializer, False),
        (1, JsonSerializer, False),
        (2, MsgPackSerializer, False),
        (3, CborSerializer, False),
    ],
)
def test_lookup(spec: str | int, cls: type[Serializer], batched: bool) -> None:
    codec = get_serializer(spec)
    assert type(codec) is cls
    assert codec.batched is batched
    assert codec.subprotocol in SUBPROTOCOLS
    assert repr(codec) == f"{cls.__name__}(batched={batched})"


def test_lookup_tables_and_flags() -> None:
    assert RAWSOCKET_IDS == {1: "json", 2: "msgpack", 3: "cbor"}
    assert not JsonSerializer.BINARY
    assert MsgPackSerializer.BINARY and CborSerializer.BINARY
    assert get_serializer("wamp.2.cbor.batched").subprotocol == "wamp.2.cbor.batched"
    assert len(SUBPROTOCOLS) == 6


@pytest.mark.parametrize("spec", ["ubjson", "wamp.2.flatbuffers", "", 4, 0])
def test_unsupported_serializers(spec: str | int) -> None:
    with pytest.raises(ValueError, match="supported"):
        get_serializer(spec)


def test_lookup_type_error() -> None:
    with pytest.raises(TypeError):
        get_serializer(2.0)  # type: ignore[arg-type]


def test_json_binary_vector() -> None:
    vector = json.loads((VECTORS / "auth.json").read_text())["json_binary"]["vectors"][0]
    codec = JsonSerializer()
    raw = bytes.fromhex(vector["bytes_hex"])
    data = codec.encode(Call(1, "p", args=[raw]))
    assert json.loads(data)[4][0] == vector["json_string"]
    (message,) = codec.decode(data)
    assert message.args == [raw]


def test_json_binary_at_any_depth_and_kind() -> None:
    codec = JsonSerializer()
    nested = [b"\x00\xff", {"a": [bytearray(b"x"), {"b": memoryview(b"yz")}]}, ("t", b"")]
    (message,) = codec.decode(codec.encode(Call(1, "p", args=nested, kwargs={"k": b"v"})))
    assert message.args == [b"\x00\xff", {"a": [b"x", {"b": b"yz"}]}, ["t", b""]]
    assert message.kwargs == {"k": b"v"}


def test_json_text_frames_and_escapes() -> None:
    codec = JsonSerializer()
    data = codec.encode(Call(1, "p", args=["a/b", "é", "\x00not binary?"]))
    assert b"a/b" in data and "é".encode() in data
    text = data.decode()
    with pytest.raises(SerializationError, match="invalid binary string"):
        codec.decode(text)
    (message,) = codec.decode('[48,1,{},"p",["\\u0000AAE="]]')
    assert message.args == [b"\x00\x01"]
    (message,) = codec.decode('[48,1,{},"p",["plain"]]')
    assert message.args == ["plain"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("json", object()),
        ("json", {1, 2}),
        ("json", "\ud800"),
        ("msgpack", object()),
        ("msgpack", "\ud800"),
        ("msgpack", 2**70),
        ("cbor", object()),
        ("cbor", "\ud800"),
    ],
)
def test_unencodable_values_raise_serialization_error(name: str, value: object) -> None:
    codec = get_serializer(name)
    with pytest.raises(SerializationError, match="cannot encode"):
        codec.encode(Call(1, "p", args=[value]))
    # The codec is still usable afterwards.
    assert codec.decode(codec.encode(CALL)) == [CALL]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("json", b"[48, 1"),
        ("json", b"\xff\xfe"),
        ("json", b"[" * 100000),
        ("msgpack", b"\xc1"),
        ("msgpack", b"\x92\x01"),
        ("msgpack", b"\x91" * 100000),
        ("msgpack", b"\x01\x02"),
        ("cbor", b"\x82\x01"),
        ("cbor", b"\xff"),
        ("cbor", b"\x81" * 100000),
    ],
)
def test_undecodable_bytes(name: str, data: bytes) -> None:
    with pytest.raises(SerializationError):
        get_serializer(name).decode(data)


@pytest.mark.parametrize("name", ["json", "msgpack", "cbor"])
def test_decoded_non_messages_are_protocol_errors(name: str) -> None:
    codec = get_serializer(name)
    with pytest.raises(ProtocolError) as info:
        codec.decode(codec.dumps({"a": 1}))
    assert type(info.value) is ProtocolError


@pytest.mark.parametrize("name", ["json", "msgpack", "cbor"])
def test_batches(name: str) -> None:
    codec = get_serializer(f"{name}.batched")
    messages = [CALL, Event(5, 6, args=[1]), Publish(2, "t", options={"acknowledge": True})]
    assert codec.decode(codec.encode_batch(messages)) == messages
    assert codec.decode(codec.encode(CALL)) == [CALL]


@pytest.mark.parametrize("name", ["msgpack", "cbor", "msgpack.batched", "cbor.batched"])
def test_binary_serializers_refuse_text(name: str) -> None:
    # A WebSocket text message on a binary subprotocol: an error, never a crash.
    codec = get_serializer(name)
    text = JsonSerializer().encode(CALL).decode()
    with pytest.raises(SerializationError):
        codec.decode(text)


def test_json_takes_text_and_bytes() -> None:
    codec = get_serializer("json.batched")
    data = codec.encode_batch([CALL, CALL])
    assert codec.decode(data) == codec.decode(data.decode()) == [CALL, CALL]


def test_batch_framings() -> None:
    assert JsonSerializer(batched=True).encode(Call(1, "p")) == b'[48,1,{},"p"]\x18'
    data = MsgPackSerializer(batched=True).encode(Call(1, "p"))
    assert struct.unpack("!I", data[:4])[0] == len(data) - 4
    codec = JsonSerializer(batched=True)
    assert codec.decode(b'[48,1,{},"p"]\x1e[48,2,{},"p"]\x1e') == [Call(1, "p"), Call(2, "p")]


def test_json_encoder_limits() -> None:
    deep: list[object] = []
    inner = deep
    for _ in range(2000):
        inner.append([])
        inner = inner[0]  # type: ignore[assignment]
    for payload in ([deep], [b"bytes", deep]):
        with pytest.raises(SerializationError, match="cannot encode"):
            JsonSerializer().encode(Call(1, "p", args=payload))


@pytest.mark.parametrize(
    ("spec", "data", "needle"),
    [
        ("msgpack.batched", b"\x00\x00\x00\x01\xc1", "invalid msgpack"),
        ("cbor.batched", b"\x00\x00\x00\x01\xff", "invalid cbor"),
        ("json.batched", b"", "no messages"),
        ("json.batched", b"\x18\x1e", "no messages"),
        ("msgpack.batched", b"", "no messages"),
        ("msgpack.batched", b"\x00\x00", "truncated length prefix"),
        ("cbor.batched", b"\x00\x00\x00\x09\x01", "longer than the data"),
    ],
)
def test_bad_batches(spec: str, data: bytes, needle: str) -> None:
    with pytest.raises(SerializationError, match=needle):
        get_serializer(spec).decode(data)


def test_encode_batch_needs_a_batched_serializer() -> None:
    with pytest.raises(ValueError, match="not batched"):
        get_serializer("json").encode_batch([CALL])


def test_base_serializer_is_abstract() -> None:
    codec = Serializer()
    with pytest.raises(NotImplementedError):
        codec.dumps([])
    with pytest.raises(NotImplementedError):
        codec.loads(b"")


def test_strict_uris_option() -> None:
    codec = get_serializer("json", strict_uris=True)
    with pytest.raises(ProtocolError, match="strict"):
        codec.decode(b'[48,1,{},"Com.P"]')
    assert get_serializer(1, strict_uris=True).strict_uris


# -- ujson called with positional arguments (checked once) ------------------------------


def test_ujson_is_called_positionally_where_it_takes_the_same_meaning() -> None:
    assert serializers._ujson_takes_positions(ujson.dumps)  # the installed ujson: the fast call

    def keywords_only(obj: Any, **options: Any) -> str:
        return ujson.dumps(obj, **options)

    def other_order(obj: Any, *flags: bool, **options: Any) -> str:
        return ujson.dumps(obj, ensure_ascii=not flags, escape_forward_slashes=False)

    def takes_bytes(obj: Any, *flags: bool, **options: Any) -> str:
        return ujson.dumps(obj, False, False, False, reject_bytes=False)

    for dumps in (keywords_only, other_order, takes_bytes):
        assert not serializers._ujson_takes_positions(dumps), dumps.__name__


@pytest.mark.parametrize("positional", [True, False])
def test_json_encodes_the_same_either_way(
    monkeypatch: pytest.MonkeyPatch, positional: bool
) -> None:
    monkeypatch.setattr(serializers, "_UJSON_POSITIONAL", positional)
    codec = get_serializer("json")
    message = Event(1, 2, ["a/b", "\u00e9t\u00e9", "<&>", b"\x00\xff"], {"k": 1.5})
    assert (
        codec.encode(message)
        == '[36,1,2,{},["a/b","\u00e9t\u00e9","<&>","\\u0000AP8="],{"k":1.5}]'.encode()
    )
    assert codec.decode(codec.encode(message)) == [message]


def test_msgpack_connections_share_packers_none_kept_at_a_big_message_s_size() -> None:
    # issue 15: a packer per connection held its biggest message's buffer (HELLO's
    # ~1 KiB for every idle session); the process's pool serves every serializer.
    pool = serializers._PACKERS
    pool.clear()
    first, second = get_serializer("msgpack"), get_serializer("msgpack")
    assert first.decode(first.encode(CALL)) == [CALL]
    assert len(pool) == 1
    packer = pool[0]
    assert second.decode(second.encode(CALL)) == [CALL]
    assert pool == [packer]  # the same packer, not one more per serializer
    big = Call(1, "p", args=[b"x" * (serializers._PACKER_KEEP + 1)])
    assert second.decode(second.encode(big)) == [big]
    assert pool == []  # its buffer grew past the bound: dropped, not kept that big
    assert first.decode(first.encode(CALL)) == [CALL]
    assert len(pool) == 1 and pool[0] is not packer


def test_msgpack_encodings_that_overlap_use_packers_of_their_own() -> None:
    # The codec runs a dict subclass's items(): an encoding made there (or by another
    # thread meanwhile) must not write into the buffer of the one under way.
    pool = serializers._PACKERS
    pool.clear()
    codec = get_serializer("msgpack")
    inner: list[bytes] = []

    class Nested(dict[str, int]):
        def items(self) -> Any:
            inner.append(codec.dumps(["inner", 1]))
            return super().items()

    outer = codec.dumps(["outer", Nested(a=1)])
    assert codec.loads(outer) == ["outer", {"a": 1}]
    assert [codec.loads(data) for data in inner] == [["inner", 1]]
    assert len(pool) == 2  # as many as ran at once, both kept for later


def test_msgpack_packer_that_failed_is_not_reused() -> None:
    pool = serializers._PACKERS
    pool.clear()
    codec = get_serializer("msgpack")
    codec.encode(CALL)
    packer = pool[0]
    with pytest.raises(SerializationError):
        codec.dumps(["ok so far", object()])  # a partial output stays in its buffer
    assert pool == []
    assert codec.decode(codec.encode(CALL)) == [CALL]
    assert pool[0] is not packer
