"""Field checks for message parsing: ids, URIs, dicts, and the typed option keys.

Every check either returns the value or raises :class:`ProtocolError` whose text
names the message, the field and the rule broken. The checks are on the decode
hot path, so they test ``type(x) is ...`` (which also keeps ``True`` from passing
as an integer) and avoid work for empty dicts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, cast

from wamp_core.exception import ProtocolError
from wamp_core.uri import _VALID, is_valid_uri
from wamp_core.vocabulary import MATCH_POLICIES, MAX_ID, PPT_CIPHERS, PPT_SERIALIZERS

# The URIs already known to pass the loose rule (the uri module's bounded cache):
# hot paths test membership inline and call check_uri only on a miss.
KNOWN_URIS = _VALID[(False, False)]

Checker = Callable[[Any], bool]


class Rule(NamedTuple):
    """What a known option key's value must be: an exact type, then an optional
    further check; ``text`` goes into the error message."""

    type: type
    check: Checker | None
    text: str


Schema = dict[str, Rule]


def fail(message: str, field: str, rule: str, value: Any = ...) -> ProtocolError:
    """Build the one error type parsing raises, with a text a person can act on."""
    text = f"{message}.{field}: {rule}"
    if value is not ...:
        text += f", got {type(value).__name__} {_short(value)}"
    return ProtocolError(text, message_type=message, field=field)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def arity_error(message: str, n: int, low: int, high: int) -> ProtocolError:
    expect = f"{low}" if low == high else f"{low} to {high}"
    return ProtocolError(f"{message}: expected {expect} elements, got {n}", message_type=message)


def id_error(message: str, field: str, value: Any) -> ProtocolError:
    return fail(message, field, "must be an id (integer in [1, 2^53])", value)


def check_id(value: Any, message: str, field: str) -> int:
    """For the rare ids; hot paths test ``type(v) is int and 0 < v <= MAX_ID`` inline:
    mypyc does not inline a function (a call costs ~3 ns compiled, ~50 ns pure)."""
    if type(value) is not int or not 0 < value <= MAX_ID:
        raise id_error(message, field, value)
    return value


def check_str(value: Any, message: str, field: str) -> str:
    if type(value) is not str:
        raise fail(message, field, "must be a string", value)
    return value


def check_uri(value: Any, message: str, field: str, strict: bool = False) -> str:
    """A URI under the loose (default) or strict rule."""
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
    checked: dict[Any, Any] = value  # typed, so that compiled code iterates it natively
    for key, item in checked.items():
        rule = schema.get(key)
        if rule is None:
            # Only unknown keys need the type test: a known key equals a str.
            if type(key) is not str:
                raise fail(message, field, "keys must be strings", key)
            continue
        if type(item) is rule[0]:
            if rule is ID:  # the commonest check (publisher, caller, ...), without a call
                if 0 < cast(int, item) <= MAX_ID:  # its type was just checked
                    continue
            else:
                check = rule[1]
                if check is None or check(item):
                    continue
        raise fail(message, f"{field}.{key}", f"must be {rule[2]}", item)
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
    the application decodes) straight into the Arguments slot. The caller has
    checked that the message has at least one element from ``start`` on.
    """
    first = wmsg[start]
    if n == start + 1 and "enc_algo" in options and type(first) in (bytes, str):
        return None, None, first
    args = check_args(first, message)
    if n == start + 1:
        return args, None, None
    return args, check_kwargs(wmsg[start + 1], message), None


# ---- the rules of option keys: a type, then a check of the value if the type says too little


def _ids(value: list[Any]) -> bool:
    return all(type(item) is int and 0 < item <= MAX_ID for item in value)


def _strs(value: list[Any]) -> bool:
    return all(type(item) is str for item in value)


def _uri(value: str) -> bool:
    return value in KNOWN_URIS or is_valid_uri(value)


def _forward_for(value: list[Any]) -> bool:
    """Router-to-router hops: a list of dicts, each naming a session and its auth."""
    return all(
        type(hop) is dict
        and type(hop.get("session")) is int
        and 0 < hop["session"] <= MAX_ID
        and type(hop.get("authid", "")) is str
        and type(hop.get("authrole", "")) is str
        for hop in value
    )


def one_of(*allowed: str) -> Rule:
    choices = frozenset(allowed)
    return Rule(str, choices.__contains__, "one of " + ", ".join(allowed))


def standard_or_custom(*allowed: str) -> Rule:
    """A standard identifier, or an application's own one starting with ``x_``."""
    choices = frozenset(allowed)

    def check(value: str) -> bool:
        return value in choices or value.startswith("x_")

    return Rule(str, check, ", ".join(allowed) + " or x_...")


BOOL = Rule(bool, None, "a boolean")
STR = Rule(str, None, "a string")
DICT = Rule(dict, None, "a dict")
ID = Rule(int, None, "an id (integer in [1, 2^53])")  # its range: checked inline in check_dict
COUNT = Rule(int, (0).__le__, "a non-negative integer")
POSITIVE = Rule(int, (0).__lt__, "a positive integer")
URI = Rule(str, _uri, "a valid URI")
IDS = Rule(list, _ids, "a list of ids")
STRS = Rule(list, _strs, "a list of strings")
FORWARD_FOR = Rule(list, _forward_for, "a list of {session, authid, authrole} dicts")
MATCH = one_of(*MATCH_POLICIES)

# Payload passthru (spec ``ppt_*``) and Autobahn's end-to-end encryption (``enc_*``).
PASSTHRU: Schema = {
    "ppt_scheme": Rule(str, bool, "a non-empty string"),
    "ppt_serializer": standard_or_custom(*PPT_SERIALIZERS),
    "ppt_cipher": standard_or_custom(*PPT_CIPHERS),
    "ppt_keyid": STR,
    "enc_algo": standard_or_custom("null", "cryptobox", "mqtt", "xbr"),
    "enc_serializer": standard_or_custom(
        "json", "msgpack", "cbor", "ubjson", "flatbuffers", "opaque"
    ),
    "enc_key": STR,
    "forward_for": FORWARD_FOR,
    "transaction_hash": STR,
}
