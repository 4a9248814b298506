"""Hypothesis strategies for WAMP values and messages, valid and malformed.

For property tests of this library and of applications built on it::

    from hypothesis import given
    from wamp_core.testing import strategies as ws

    @given(ws.messages())
    def test_roundtrip(message): ...

Valid messages use only values every serializer carries exactly: no NaN or
infinities, integers within +-2^53, and no text starting with NUL (in JSON that
marks a binary string). This module needs ``hypothesis`` installed.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from wamp_core.messages import (
    Abort,
    Authenticate,
    Call,
    Cancel,
    Challenge,
    Error,
    Event,
    EventReceived,
    Goodbye,
    Hello,
    Interrupt,
    Invocation,
    Message,
    Publish,
    Published,
    Register,
    Registered,
    Result,
    Subscribe,
    Subscribed,
    Unregister,
    Unregistered,
    Unsubscribe,
    Unsubscribed,
    Welcome,
    Yield,
)
from wamp_core.vocabulary import CANCEL_MODES, INVOKE_POLICIES, MAX_ID

__all__ = [
    "args",
    "ids",
    "kwargs",
    "malformed_lists",
    "messages",
    "router_steps",
    "texts",
    "uris",
    "values",
]

Strategy = st.SearchStrategy

ids: Strategy[int] = st.integers(1, MAX_ID)
texts: Strategy[str] = st.text(max_size=16).filter(lambda s: not s.startswith("\x00"))
_component = st.text(
    st.characters(categories=("Ll", "Lu", "Nd"), include_characters="_-"), min_size=1, max_size=8
)
uris: Strategy[str] = st.lists(_component, min_size=1, max_size=4).map(".".join)
wildcard_uris: Strategy[str] = st.lists(_component | st.just(""), min_size=1, max_size=4).map(
    ".".join
)

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-MAX_ID, MAX_ID)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
    | st.binary(max_size=24)
)
values: Strategy[Any] = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
args: Strategy[list[Any]] = st.lists(values, max_size=4)
kwargs: Strategy[dict[str, Any]] = st.dictionaries(texts, values, max_size=4)

# Implementation-specific keys (``_name``) must be kept untouched by the parser.
_custom = st.dictionaries(st.from_regex(r"_[a-z]{3,8}", fullmatch=True), values, max_size=2)


def _options(known: dict[str, Strategy[Any]]) -> Strategy[dict[str, Any]]:
    known_part = st.fixed_dictionaries({}, optional=known)
    return st.tuples(known_part, _custom).map(lambda parts: {**parts[1], **parts[0]})


_id_lists = st.lists(ids, max_size=3)
_str_lists = st.lists(texts, max_size=3)
_forward_for = st.lists(
    st.fixed_dictionaries({"session": ids, "authid": texts, "authrole": texts}), max_size=2
)
_common = {"forward_for": _forward_for, "transaction_hash": texts}

CALL_OPTIONS = _options(
    {
        **_common,
        "timeout": st.integers(0, 10**9),
        "receive_progress": st.booleans(),
        "progress": st.booleans(),
        "disclose_me": st.booleans(),
        "rkey": texts,
    }
)
PUBLISH_OPTIONS = _options(
    {
        **_common,
        "acknowledge": st.booleans(),
        "exclude_me": st.booleans(),
        "exclude": _id_lists,
        "exclude_authid": _str_lists,
        "exclude_authrole": _str_lists,
        "eligible": _id_lists,
        "eligible_authid": _str_lists,
        "eligible_authrole": _str_lists,
        "disclose_me": st.booleans(),
        "retain": st.booleans(),
    }
)
EVENT_DETAILS = _options(
    {
        **_common,
        "publisher": ids,
        "publisher_authid": texts,
        "publisher_authrole": texts,
        "topic": uris,
        "retained": st.booleans(),
        "trustlevel": st.integers(0, 10),
    }
)
INVOCATION_DETAILS = _options(
    {
        **_common,
        "caller": ids,
        "caller_authid": texts,
        "caller_authrole": texts,
        "procedure": uris,
        "receive_progress": st.booleans(),
        "progress": st.booleans(),
        "timeout": st.integers(0, 10**9),
    }
)
PROGRESS = _options({"progress": st.booleans()})
# The messages an ERROR may answer (its REQUEST.Type).
_REQUESTS = (Publish, Subscribe, Unsubscribe, Call, Register, Unregister, Invocation)
_match = st.sampled_from(["exact", "prefix"])
REGISTER_OPTIONS = _options(
    {
        "match": _match,
        "invoke": st.sampled_from(INVOKE_POLICIES),
        "disclose_caller": st.booleans(),
        "concurrency": st.integers(1, 100),
        "force_reregister": st.booleans(),
    }
)
SUBSCRIBE_OPTIONS = _options({"match": _match, "get_retained": st.booleans()})
CANCEL_OPTIONS = _options({"mode": st.sampled_from(CANCEL_MODES)})
CLOSE_DETAILS = _options({"message": texts})
_ENCRYPTED = st.fixed_dictionaries(
    {"enc_algo": st.sampled_from(["cryptobox", "mqtt", "xbr", "x_custom"])},
    optional={"enc_serializer": st.sampled_from(["json", "msgpack", "cbor"])},
)
_CLIENT_ROLES = st.dictionaries(
    st.sampled_from(["publisher", "subscriber", "caller", "callee"]),
    st.fixed_dictionaries({}, optional={"features": st.dictionaries(texts, st.booleans())}),
    min_size=1,
)
_ROUTER_ROLES: Strategy[dict[str, dict[str, Any]]] = st.dictionaries(
    st.sampled_from(["broker", "dealer"]), st.just({}), min_size=1
)
_extra = st.dictionaries(texts, values, max_size=3)


def _session_messages() -> Strategy[Message]:
    hello_details = st.fixed_dictionaries(
        {"roles": _CLIENT_ROLES},
        optional={"agent": texts, "authid": texts, "authmethods": _str_lists, "authextra": _extra},
    )
    welcome_details = st.fixed_dictionaries(
        {"roles": _ROUTER_ROLES},
        optional={"authid": texts, "authrole": texts, "authmethod": texts, "realm": uris},
    )
    return st.one_of(
        st.builds(Hello, uris, hello_details),
        st.builds(Welcome, ids, welcome_details),
        st.builds(Abort, uris, CLOSE_DETAILS, args | st.none(), kwargs | st.none()),
        st.builds(Challenge, texts, _extra),
        st.builds(Authenticate, texts, _extra),
        st.builds(Goodbye, uris, CLOSE_DETAILS),
    )


def _pubsub_messages() -> Strategy[Message]:
    return st.one_of(
        st.builds(Publish, ids, uris, args | st.none(), kwargs | st.none(), PUBLISH_OPTIONS),
        st.builds(Publish, ids, uris, options=_ENCRYPTED, payload=st.binary()),
        st.builds(Published, ids, ids),
        st.builds(Subscribe, ids, uris, SUBSCRIBE_OPTIONS),
        st.builds(Subscribe, ids, wildcard_uris, st.just({"match": "wildcard"})),
        st.builds(Subscribed, ids, ids),
        st.builds(Unsubscribe, ids, ids),
        st.builds(Unsubscribed, ids),
        st.builds(
            Unsubscribed, st.just(0), st.fixed_dictionaries({"subscription": ids, "reason": texts})
        ),
        st.builds(Event, ids, ids, args | st.none(), kwargs | st.none(), EVENT_DETAILS),
        st.builds(Event, ids, ids, details=_ENCRYPTED, payload=st.binary()),
        st.builds(EventReceived, ids),
    )


def _rpc_messages() -> Strategy[Message]:
    return st.one_of(
        st.builds(Call, ids, uris, args | st.none(), kwargs | st.none(), CALL_OPTIONS),
        st.builds(Call, ids, uris, options=_ENCRYPTED, payload=st.binary()),
        st.builds(Cancel, ids, CANCEL_OPTIONS),
        st.builds(Result, ids, args | st.none(), kwargs | st.none(), PROGRESS),
        st.builds(Register, ids, uris, REGISTER_OPTIONS),
        st.builds(Registered, ids, ids),
        st.builds(Unregister, ids, ids),
        st.builds(Unregistered, ids),
        st.builds(
            Unregistered, st.just(0), st.fixed_dictionaries({"registration": ids, "reason": texts})
        ),
        st.builds(Invocation, ids, ids, args | st.none(), kwargs | st.none(), INVOCATION_DETAILS),
        st.builds(Interrupt, ids, CANCEL_OPTIONS),
        st.builds(Yield, ids, args | st.none(), kwargs | st.none(), PROGRESS),
        st.builds(
            Error,
            st.sampled_from([m.CODE for m in _REQUESTS]),
            ids,
            uris,
            args | st.none(),
            kwargs | st.none(),
            _options(_common),
        ),
    )


def messages() -> Strategy[Message]:
    """Any valid message of the 25 types, with random payloads and options."""
    return st.one_of(_session_messages(), _pubsub_messages(), _rpc_messages())


@st.composite
def _replace_one(draw: st.DrawFn) -> list[Any]:
    wmsg = draw(messages()).to_list()
    index = draw(st.integers(0, len(wmsg) - 1))
    wmsg[index] = draw(values | ids | st.sampled_from([0, MAX_ID + 1, True, -1]))
    return wmsg


@st.composite
def _resize(draw: st.DrawFn) -> list[Any]:
    wmsg = draw(messages()).to_list()
    keep = draw(st.integers(0, len(wmsg) + 1))
    return wmsg[:keep] + draw(st.lists(values, max_size=2))


def malformed_lists() -> Strategy[Any]:
    """Mostly-invalid decoded messages: valid ones with a field replaced, cut or
    extended, and arbitrary values. Parsing any of them must give a message or
    a ProtocolError, never another exception."""
    return st.one_of(_replace_one(), _resize(), values, st.lists(values, max_size=8))


def router_steps() -> Strategy[tuple[str, Any]]:
    """What a misbehaving router may do next, as ``(kind, value)`` for
    :meth:`ScriptedRouter.play <wamp_core.testing.router.ScriptedRouter.play>`:
    any message (valid or not in the session's state), a transport message that
    does not decode, raw bytes that break the framing, or the end of the stream."""
    return st.one_of(
        st.tuples(st.just("message"), messages()),
        st.tuples(st.just("payload"), st.binary(max_size=40)),
        st.tuples(st.just("bytes"), st.binary(min_size=1, max_size=12)),
        st.tuples(st.just("eof"), st.none()),
    )
