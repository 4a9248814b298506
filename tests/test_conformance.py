"""The wamp-proto test suite's per-message samples, kept in tests/vectors.

For json, msgpack and cbor: at least one listed byte variant decodes to the
expected attributes, and encoding the decoded message gives one of the listed
variants exactly. Every negative sample (``wmsg``) is accepted or rejected with
a ProtocolError naming the field, as the sample says.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import VECTORS
from wamp_core.exception import ProtocolError
from wamp_core.messages import Message, parse
from wamp_core.serializers import get_serializer

SUITE = VECTORS / "wamp-proto-testsuite" / "singlemessage"
SERIALIZERS = ("json", "msgpack", "cbor")

# The suite's attribute names where ours differ (ours are the spec's field names).
ATTRIBUTE_NAMES = {"subscription": "subscription_id", "publication": "publication_id"}


def _files() -> list[Path]:
    files = sorted(SUITE.glob("*/*.json"))
    assert files, f"no conformance vectors under {SUITE}"
    return files


def _samples(kind: str) -> list[Any]:
    cases = []
    for path in _files():
        for index, sample in enumerate(json.loads(path.read_text())["samples"]):
            negative = "wmsg" in sample
            if (kind == "negative") == negative:
                cases.append(pytest.param(sample, id=f"{path.parent.name}/{path.stem}#{index}"))
    return cases


def _variants(sample: dict[str, Any], serializer: str) -> list[bytes]:
    return [bytes.fromhex(v["bytes_hex"]) for v in sample["serializers"].get(serializer, [])]


def _matches(message: Message, expected: dict[str, Any]) -> bool:
    for name, want in expected.items():
        if name == "message_type":
            got: Any = message.CODE
        else:
            got = getattr(message, ATTRIBUTE_NAMES.get(name, name))
        if name == "payload" and isinstance(got, bytes):
            got = got.hex()
        if got != want:
            return False
    return True


@pytest.mark.parametrize("serializer", SERIALIZERS)
@pytest.mark.parametrize("sample", _samples("positive"))
def test_positive_sample(sample: dict[str, Any], serializer: str) -> None:
    variants = _variants(sample, serializer)
    assert variants, "every positive sample lists bytes for json, msgpack and cbor"
    codec = get_serializer(serializer)
    decoded = []
    for data in variants:
        try:
            decoded.extend(codec.decode(data))
        except ProtocolError:
            continue  # "at least one variant decodes": undecodable ones are skipped
    assert decoded, "no listed variant decodes"
    expected = sample["expected_attributes"]
    assert any(_matches(m, expected) for m in decoded), (decoded, expected)
    for message in decoded:
        assert codec.encode(message) in variants


@pytest.mark.parametrize("serializer", SERIALIZERS)
@pytest.mark.parametrize("sample", _samples("negative"))
def test_negative_sample(sample: dict[str, Any], serializer: str) -> None:
    codec = get_serializer(serializer)
    data = codec.dumps(sample["wmsg"])
    expected = sample.get("expected_error")
    if expected is None:
        (message,) = codec.decode(data)
        assert message.to_list() == parse(sample["wmsg"]).to_list()
        return
    assert expected["type"] == "protocol_violation"
    with pytest.raises(ProtocolError) as info:
        codec.decode(data)
    assert expected["contains"] in str(info.value)
    assert type(info.value) is ProtocolError  # a broken rule, not an undecodable text
