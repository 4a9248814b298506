"""Serializers: JSON (with the binary rule), MessagePack and CBOR, plain and batched.

A serializer turns one message into the bytes of one transport message and back.
``decode`` returns a list because a batched transport message carries several.
Decoding never raises anything but :class:`~wamp_core.exception.ProtocolError`:
its subclass :class:`~wamp_core.exception.SerializationError` for bytes that do
not decode, ProtocolError itself for a decoded value that is not a valid message.
Encoding a value the format cannot carry raises SerializationError, before
anything is sent.

Serializers are cheap objects; :func:`get_serializer` returns a new one per call.
The CBOR serializer keeps per-instance codec state (its encoder and buffer); the
MessagePack packers are shared by the whole process (see ``_PACKERS``).
"""

from __future__ import annotations

import base64
import binascii
import io
import struct
from collections.abc import Callable
from typing import Any, ClassVar, Final

import cbor2
import msgpack
import ujson

from wamp_core.exception import SerializationError
from wamp_core.messages import Message, parse

__all__ = [
    "RAWSOCKET_IDS",
    "SUBPROTOCOLS",
    "CborSerializer",
    "JsonSerializer",
    "MsgPackSerializer",
    "Serializer",
    "get_serializer",
]

_cbor_loads = cbor2.loads
_unpackb = msgpack.unpackb  # raw=False is its default: str as str, bin as bytes
_CODEC_ERRORS = (TypeError, ValueError, OverflowError, RecursionError, cbor2.CBORError)


class Serializer:
    """The shape every serializer has; subclasses supply ``dumps``/``loads``."""

    NAME: ClassVar[str]
    RAWSOCKET_ID: ClassVar[int]
    BINARY: ClassVar[bool]  # WebSocket: binary frames (True) or text frames (False)

    def __init__(self, batched: bool = False, *, strict_uris: bool = False):
        self.batched = batched
        self.strict_uris = strict_uris

    @property
    def subprotocol(self) -> str:
        """The WebSocket subprotocol, e.g. ``wamp.2.json`` or ``wamp.2.cbor.batched``."""
        return f"wamp.2.{self.NAME}" + (".batched" if self.batched else "")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(batched={self.batched})"

    def dumps(self, obj: Any) -> bytes:
        """Encode one plain message list (or any value the codec takes); raise
        SerializationError if it cannot be."""
        raise NotImplementedError

    def loads(self, data: bytes | str) -> Any:
        """Decode one plain message; raise SerializationError if the bytes are bad.

        ``data`` is ``str`` only from a WebSocket text message, which only JSON accepts.
        """
        raise NotImplementedError

    def encode(self, message: Message) -> bytes:
        """The bytes of one transport message carrying ``message``."""
        data = self.dumps(message.to_list())
        return self._frame(data) if self.batched else data

    def encode_batch(self, messages: list[Message]) -> bytes:
        """Several messages in one transport message (batched serializers only)."""
        if not self.batched:
            raise ValueError(f"{self.subprotocol} is not batched: encode one message at a time")
        return b"".join(self._frame(self.dumps(m.to_list())) for m in messages)

    def decode(self, data: bytes | str) -> list[Message]:
        """The messages of one transport message, each checked strictly."""
        if not self.batched:
            return [parse(self.loads(data), self.strict_uris)]
        return [parse(self.loads(part), self.strict_uris) for part in self._split(data)]

    # Batch framing: a uint32 big-endian length before each message (MessagePack, CBOR).
    def _frame(self, data: bytes) -> bytes:
        return struct.pack("!I", len(data)) + data

    def _split(self, data: bytes | str) -> list[bytes]:
        if type(data) is not bytes:
            raise SerializationError(f"{self.subprotocol}: a batch must be binary")
        parts = []
        pos, end = 0, len(data)
        while pos < end:
            if end - pos < 4:
                raise SerializationError(f"{self.subprotocol}: truncated length prefix in batch")
            (size,) = struct.unpack_from("!I", data, pos)
            pos += 4
            if end - pos < size:
                raise SerializationError(f"{self.subprotocol}: batch item longer than the data")
            parts.append(data[pos : pos + size])
            pos += size
        if not parts:
            raise SerializationError(f"{self.subprotocol}: a batch of no messages")
        return parts


def _ujson_takes_positions(dumps: Callable[..., Any]) -> bool:
    """Whether ``dumps(obj, False, False, False)`` encodes as ``dumps(obj, ensure_ascii=False,
    escape_forward_slashes=False)``, bytes still refused. ujson matches keyword arguments
    by name on every call, a third of a small message's encoding; its positional order
    (obj, ensure_ascii, encode_html_chars, escape_forward_slashes) is checked once, here."""
    probe = ["a/b", "\u00e9", "<&>"]
    try:
        positional = dumps(probe, False, False, False)
    except TypeError:
        return False
    if positional != dumps(probe, ensure_ascii=False, escape_forward_slashes=False):
        return False
    try:
        dumps([b"\0"], False, False, False)
    except TypeError:
        return True
    return False


_UJSON_POSITIONAL = _ujson_takes_positions(ujson.dumps)


class JsonSerializer(Serializer):
    """JSON (text frames). Binary values travel as ``"\\u0000" + base64`` at any depth.

    Batches separate messages with ``\\x18``, as Crossbar.io and Autobahn do;
    ``\\x1e`` (the spec's separator) is accepted on receive as well.
    """

    NAME = "json"
    RAWSOCKET_ID = 1
    BINARY = False
    SEPARATOR = b"\x18"

    def dumps(self, obj: Any) -> bytes:
        try:
            if _UJSON_POSITIONAL:
                text = ujson.dumps(obj, False, False, False)
            else:
                text = ujson.dumps(obj, ensure_ascii=False, escape_forward_slashes=False)
        except TypeError:
            # ujson refuses bytes: only then pay for a walk that replaces them.
            text = self._dumps_binary(obj)
        except _CODEC_ERRORS as exc:
            raise SerializationError(f"json cannot encode this message: {exc}") from None
        try:
            return text.encode()
        except UnicodeEncodeError as exc:
            raise SerializationError(f"json cannot encode this message: {exc}") from None

    def _dumps_binary(self, obj: Any) -> str:
        try:
            return ujson.dumps(
                _binary_to_text(obj), ensure_ascii=False, escape_forward_slashes=False
            )
        except _CODEC_ERRORS as exc:
            raise SerializationError(f"json cannot encode this message: {exc}") from None

    def loads(self, data: bytes | str) -> Any:
        """Decode one message from UTF-8 bytes, or from the text of a WebSocket text frame."""
        try:
            obj = ujson.loads(data)
        except _CODEC_ERRORS as exc:
            raise SerializationError(f"invalid json: {exc}") from None
        # A JSON text holds a binary string only if it holds an escaped NUL.
        escaped_nul = b"\\u0000" in data if type(data) is bytes else "\\u0000" in data
        if escaped_nul:
            try:
                return _text_to_binary(obj)
            except (ValueError, binascii.Error, RecursionError) as exc:
                raise SerializationError(f"invalid binary string in json: {exc}") from None
        return obj

    def _frame(self, data: bytes) -> bytes:
        return data + self.SEPARATOR

    def _split(self, data: bytes | str) -> list[bytes]:
        if isinstance(data, str):  # a WebSocket text message
            data = data.encode()
        parts = [p for p in data.replace(b"\x1e", b"\x18").split(b"\x18") if p]
        if not parts:
            raise SerializationError(f"{self.subprotocol}: a batch of no messages")
        return parts


def _binary_to_text(obj: Any) -> Any:
    if type(obj) is list or type(obj) is tuple:
        return [_binary_to_text(item) for item in obj]
    if type(obj) is dict:
        return {key: _binary_to_text(value) for key, value in obj.items()}
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return "\x00" + base64.b64encode(obj).decode("ascii")
    return obj


def _text_to_binary(obj: Any) -> Any:
    if type(obj) is str:
        if obj[:1] == "\x00":
            return base64.b64decode(obj[1:], validate=True)
        return obj
    if type(obj) is list:
        return [_text_to_binary(item) for item in obj]
    if type(obj) is dict:
        return {key: _text_to_binary(value) for key, value in obj.items()}
    return obj


# MessagePack packers are shared by every connection of the process, not owned by
# each: a Packer's buffer grows to the biggest message it encoded and stays that big
# (msgpack cannot shrink it), so one per connection held HELLO's ~1 KiB for every idle
# session (issue 15). Encoding is synchronous, so one packer serves everything but an
# encoding that overlaps another (a payload's own code run by the codec, another
# thread): the pool then makes one more, so it holds as many packers as encodings ever
# ran at once. A packer that encoded more than _PACKER_KEEP bytes is dropped, not kept
# at that size: each one kept holds at most ~2 * _PACKER_KEEP.
_PACKERS: Final[list[Any]] = []
_PACKER_KEEP: Final = 256 * 1024  # msgpack's own default first buffer
_PACKER_START: Final = 1024  # a fresh packer's buffer; it grows by doubling


class MsgPackSerializer(Serializer):
    """MessagePack (binary frames), strings as str and bytes as bin."""

    NAME = "msgpack"
    RAWSOCKET_ID = 2
    BINARY = True

    def dumps(self, obj: Any) -> bytes:
        # A packer from the process's pool (see _PACKERS): taken out while it encodes,
        # so a nested or concurrent encoding never shares its buffer.
        pool = _PACKERS
        try:
            packer = pool.pop()
        except IndexError:
            packer = msgpack.Packer(use_bin_type=True, buf_size=_PACKER_START)
        try:
            data: bytes = packer.pack(obj)
        except _CODEC_ERRORS as exc:
            # Not returned to the pool: a failed pack leaves its partial output behind.
            raise SerializationError(f"msgpack cannot encode this message: {exc}") from None
        if len(data) <= _PACKER_KEEP:
            pool.append(packer)
        return data

    def loads(self, data: bytes | str) -> Any:
        try:
            return _unpackb(data)
        except _CODEC_ERRORS as exc:
            raise SerializationError(f"invalid msgpack: {exc!r}") from None

    def decode(self, data: bytes | str) -> list[Message]:
        if self.batched:
            return super().decode(data)
        # The hot path of every MessagePack connection: one call less than loads().
        try:
            wmsg = _unpackb(data)
        except _CODEC_ERRORS as exc:
            raise SerializationError(f"invalid msgpack: {exc!r}") from None
        return [parse(wmsg, self.strict_uris)]


class CborSerializer(Serializer):
    """CBOR (binary frames, RFC 8949).

    ``cbor2.loads`` stops after the first complete item: bytes after it are not
    detected. Checking for them would need a stream decoder per message, which
    costs as much as the decoding itself, and a framed transport message holds
    exactly one item from a well-behaved peer.
    """

    NAME = "cbor"
    RAWSOCKET_ID = 3
    BINARY = True

    def __init__(self, batched: bool = False, *, strict_uris: bool = False):
        super().__init__(batched, strict_uris=strict_uris)
        # One encoder and buffer for the connection: cheaper than cbor2.dumps's per call.
        self._buffer = io.BytesIO()
        self._encoder = cbor2.CBOREncoder(self._buffer)

    def dumps(self, obj: Any) -> bytes:
        buffer = self._buffer
        buffer.seek(0)
        buffer.truncate()
        try:
            self._encoder.encode(obj)
        except _CODEC_ERRORS as exc:
            raise SerializationError(f"cbor cannot encode this message: {exc}") from None
        return buffer.getvalue()

    def loads(self, data: bytes | str) -> Any:
        if isinstance(data, str):
            raise SerializationError("invalid cbor: a text message, not binary")
        try:
            return _cbor_loads(data)
        except _CODEC_ERRORS as exc:
            raise SerializationError(f"invalid cbor: {exc}") from None


_BY_NAME: dict[str, type[Serializer]] = {
    cls.NAME: cls for cls in (JsonSerializer, MsgPackSerializer, CborSerializer)
}
RAWSOCKET_IDS: dict[int, str] = {cls.RAWSOCKET_ID: name for name, cls in _BY_NAME.items()}
SUBPROTOCOLS: tuple[str, ...] = tuple(
    f"wamp.2.{name}{suffix}" for name in _BY_NAME for suffix in ("", ".batched")
)


def get_serializer(spec: str | int, *, strict_uris: bool = False) -> Serializer:
    """A new serializer for a name (``"json"``, ``"cbor.batched"``), a WebSocket
    subprotocol (``"wamp.2.msgpack"``) or a RawSocket serializer id (``1`` .. ``3``).
    """
    if type(spec) is int:
        if spec not in RAWSOCKET_IDS:
            raise ValueError(f"no serializer has RawSocket id {spec} (supported: 1, 2, 3)")
        return _BY_NAME[RAWSOCKET_IDS[spec]](strict_uris=strict_uris)
    if not isinstance(spec, str):
        raise TypeError(f"serializer must be a name or RawSocket id, got {type(spec).__name__}")
    name = spec.removeprefix("wamp.2.")
    batched = name.endswith(".batched")
    name = name.removesuffix(".batched")
    if name not in _BY_NAME:
        supported = ", ".join(_BY_NAME)
        raise ValueError(f"serializer {spec!r} is not supported (supported: {supported})")
    return _BY_NAME[name](batched, strict_uris=strict_uris)
