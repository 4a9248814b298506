"""Field checks for message parsing: ids, URIs, dicts, and the typed option keys.

Every check either returns the value or raises :class:`ProtocolError` whose text
names the message, the field and the rule broken. The checks are on the decode
hot path, so they test ``type(x) is ...`` (which also keeps ``True`` from passing
as an integer) and avoid work for empty dicts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wamp_core.exception import ProtocolError
from wamp_core.uri import is_valid_uri

MAX_ID = 9007199254740992  # 2^53: the largest id the spec allows

Checker = Callable[[Any], bool]
# key -> (checker, what the value must be): the second part goes into the error text.
Schema = dict[str, tuple[Checker, str]]


def fail(message: str, field: str, rule: str, value: Any = ...) -> ProtocolError:
    """Build the one error type parsing raises, with a text a person can act on."""
    text = f"{message}.{field}: {rule}"
    if value is not ...:
        text += f", got {type(value).__name__} {_short(value)}"
    return ProtocolError(text, message_type=message, field=field)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def arity(message: str, wmsg: list[Any], low: int, high: int) -> int:
    """Check the element count of a message list and return it."""
    n = len(wmsg)
    if n < low or n > high:
        expect = f"{low}" if low == high else f"{low} to {high}"
        raise ProtocolError(
            f"{message}: expected {expect} elements, got {n}", message_type=message
        )
    return n


def check_id(value: Any, message: str, field: str) -> int:
    if type(value) is not int or not 0 < value <= MAX_ID:
        raise fail(message, field, "must be an id (integer in [1, 2^53])", value)
    return value


def check_str(value: Any, message: str, field: str) -> str:
    if type(value) is not str:
        raise fail(message, field, "must be a string", value)
    return value


def check_uri(value: Any, message: str, field: str, strict: bool = False) -> str:
    if not is_valid_uri(value, strict=strict):
        rule = "strict" if strict else "loose"
        raise fail(message, field, f"must be a valid URI ({rule} rule)", value)
    return value  # type: ignore[no-any-return]


def check_pattern_uri(value: Any, match: Any, message: str, field: str, strict: bool) -> str:
    """A topic or procedure whose empty components depend on the ``match`` policy.

    Wildcards may have empty components anywhere; prefixes may end in a dot
    (``com.myapp.`` matches ``com.myapp.x``), as Autobahn and Crossbar accept.
    """
    if match == "wildcard":
        ok = is_valid_uri(value, strict=strict, allow_empty=True)
    elif match == "prefix" and type(value) is str and value.endswith("."):
        ok = is_valid_uri(value[:-1], strict=strict)
    else:
        ok = is_valid_uri(value, strict=strict)
    if not ok:
        raise fail(message, field, f"must be a valid URI for match={match or 'exact'}", value)
    return value  # type: ignore[no-any-return]


def check_dict(value: Any, message: str, field: str, schema: Schema) -> dict[str, Any]:
    """A dict with string keys whose known keys have the types ``schema`` says.

    Unknown keys are kept unchecked: the spec says unknown attributes MUST be ignored.
    """
    if type(value) is not dict:
        raise fail(message, field, "must be a dict", value)
    for key, item in value.items():
        if type(key) is not str:
            raise fail(message, field, "keys must be strings", key)
        rule = schema.get(key)
        if rule is not None and not rule[0](item):
            raise fail(message, f"{field}.{key}", f"must be {rule[1]}", item)
    return value


def check_args(value: Any, message: str) -> list[Any]:
    if type(value) is not list:
        raise fail(message, "Arguments", "must be a list", value)
    return value


def check_kwargs(value: Any, message: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise fail(message, "ArgumentsKw", "must be a dict", value)
    for key in value:
        if type(key) is not str:
            raise fail(message, "ArgumentsKw", "keys must be strings", key)
    return value


def payload(
    wmsg: list[Any], n: int, start: int, message: str, options: dict[str, Any]
) -> tuple[list[Any] | None, dict[str, Any] | None, bytes | str | None]:
    """The trailing Arguments/ArgumentsKw, or an end-to-end encrypted payload.

    Autobahn's ``enc_algo`` form puts the opaque payload (binary, or a string
    the application decodes) straight into the Arguments slot.
    """
    if n == start:
        return None, None, None
    first = wmsg[start]
    if n == start + 1 and "enc_algo" in options and type(first) in (bytes, str):
        return None, None, first
    args = check_args(first, message)
    if n == start + 1:
        return args, None, None
    return args, check_kwargs(wmsg[start + 1], message), None


# ---- value checkers used by the option schemas -------------------------------------------


def is_bool(value: Any) -> bool:
    return type(value) is bool


def is_str(value: Any) -> bool:
    return type(value) is str


def is_dict(value: Any) -> bool:
    return type(value) is dict


def is_id(value: Any) -> bool:
    return type(value) is int and 0 < value <= MAX_ID


def is_count(value: Any) -> bool:
    return type(value) is int and value >= 0


def is_positive(value: Any) -> bool:
    return type(value) is int and value > 0


def is_uri(value: Any) -> bool:
    return is_valid_uri(value)


def is_id_list(value: Any) -> bool:
    return type(value) is list and all(is_id(item) for item in value)


def is_str_list(value: Any) -> bool:
    return type(value) is list and all(type(item) is str for item in value)


def is_forward_for(value: Any) -> bool:
    """Router-to-router hops: a list of dicts, each naming a session and its auth."""
    return type(value) is list and all(
        type(hop) is dict
        and is_id(hop.get("session"))
        and type(hop.get("authid", "")) is str
        and type(hop.get("authrole", "")) is str
        for hop in value
    )


def one_of(*allowed: str) -> Checker:
    choices = frozenset(allowed)

    def check(value: Any) -> bool:
        return type(value) is str and value in choices

    return check


def standard_or_custom(*allowed: str) -> Checker:
    """A standard identifier, or an application's own one starting with ``x_``."""
    choices = frozenset(allowed)

    def check(value: Any) -> bool:
        return type(value) is str and (value in choices or value.startswith("x_"))

    return check


BOOL = (is_bool, "a boolean")
STR = (is_str, "a string")
DICT = (is_dict, "a dict")
ID = (is_id, "an id (integer in [1, 2^53])")
COUNT = (is_count, "a non-negative integer")
POSITIVE = (is_positive, "a positive integer")
URI = (is_uri, "a valid URI")
IDS = (is_id_list, "a list of ids")
STRS = (is_str_list, "a list of strings")
FORWARD_FOR = (is_forward_for, "a list of {session, authid, authrole} dicts")
MATCH = (one_of("exact", "prefix", "wildcard"), "one of exact, prefix, wildcard")

# Payload passthru (spec ``ppt_*``) and Autobahn's end-to-end encryption (``enc_*``).
PASSTHRU: Schema = {
    "ppt_scheme": (lambda v: type(v) is str and v != "", "a non-empty string"),
    "ppt_serializer": (
        standard_or_custom("native", "json", "msgpack", "cbor", "flatbuffers", "ubjson"),
        "native, json, msgpack, cbor, flatbuffers, ubjson or x_...",
    ),
    "ppt_cipher": (
        standard_or_custom("xsalsa20poly1305", "aes256gcm"),
        "xsalsa20poly1305, aes256gcm or x_...",
    ),
    "ppt_keyid": STR,
    "enc_algo": (
        standard_or_custom("null", "cryptobox", "mqtt", "xbr"),
        "null, cryptobox, mqtt, xbr or x_...",
    ),
    "enc_serializer": (
        standard_or_custom("json", "msgpack", "cbor", "ubjson", "flatbuffers", "opaque"),
        "json, msgpack, cbor, ubjson, flatbuffers, opaque or x_...",
    ),
    "enc_key": STR,
    "forward_for": FORWARD_FOR,
    "transaction_hash": STR,
}
