"""Property tests: every valid message round-trips on every serializer, and
nothing but ProtocolError comes out of decoding arbitrary bytes or lists."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import same
from wamp_core.exception import ProtocolError
from wamp_core.messages import Message, parse
from wamp_core.serializers import SUBPROTOCOLS, get_serializer
from wamp_core.testing import strategies as ws


@pytest.mark.parametrize("subprotocol", SUBPROTOCOLS)
@given(message=ws.messages())
def test_message_roundtrips(subprotocol: str, message: Message) -> None:
    codec = get_serializer(subprotocol)
    (decoded,) = codec.decode(codec.encode(message))
    assert type(decoded) is type(message)
    assert same(decoded.to_list(), message.to_list())
    assert decoded == message


@given(message=ws.messages())
def test_parse_of_to_list_is_identity(message: Message) -> None:
    assert same(parse(message.to_list()).to_list(), message.to_list())


@pytest.mark.parametrize("subprotocol", SUBPROTOCOLS)
@given(data=st.binary(max_size=64))
def test_random_bytes_raise_only_protocol_error(subprotocol: str, data: bytes) -> None:
    codec = get_serializer(subprotocol)
    try:
        messages = codec.decode(data)
    except ProtocolError:
        return
    assert all(isinstance(m, Message) for m in messages)


@given(wmsg=ws.malformed_lists())
def test_malformed_lists_raise_only_protocol_error(wmsg: Any) -> None:
    try:
        message = parse(wmsg)
    except ProtocolError:
        return
    assert same(message.to_list()[:2], wmsg[:2])


@pytest.mark.parametrize("name", ["json", "msgpack", "cbor"])
@given(wmsg=ws.malformed_lists())
def test_malformed_lists_through_each_codec(name: str, wmsg: Any) -> None:
    codec = get_serializer(name)
    with contextlib.suppress(ProtocolError):
        codec.decode(codec.dumps(wmsg))
