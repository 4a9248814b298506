"""The Autobahn-compatible value types: validation, wire dicts, reprs, handles."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wamp_core.exception import SessionNotReady
from wamp_core.types import (
    INVOKE_POLICIES,
    CallDetails,
    CallOptions,
    CallResult,
    Challenge,
    CloseDetails,
    ComponentConfig,
    EventDetails,
    Publication,
    PublishOptions,
    RegisterOptions,
    Registration,
    SessionDetails,
    SubscribeOptions,
    Subscription,
    TransportDetails,
)

FORWARD_FOR = [{"session": 1, "authid": "a", "authrole": "r"}, {"session": 2, "authrole": "r"}]


def positional_names(cls: type) -> list[str]:
    params = inspect.signature(cls).parameters.values()
    return [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]


# ------------------------------------------------------------ Autobahn signatures


@pytest.mark.parametrize(
    ("cls", "names"),
    [
        (ComponentConfig, ["realm", "extra", "keyring", "controller", "shared", "runner"]),
        (CloseDetails, ["reason", "message"]),
        (Challenge, ["method", "extra"]),
        (
            SessionDetails,
            [
                "realm",
                "session",
                "authid",
                "authrole",
                "authmethod",
                "authprovider",
                "authextra",
                "serializer",
                "transport",
                "resumed",
                "resumable",
                "resume_token",
            ],
        ),
        (
            CallOptions,
            [
                "on_progress",
                "timeout",
                "transaction_hash",
                "caller",
                "caller_authid",
                "caller_authrole",
                "forward_for",
                "correlation_id",
                "correlation_uri",
                "correlation_is_anchor",
                "correlation_is_last",
                "details",
            ],
        ),
        (
            RegisterOptions,
            [
                "match",
                "invoke",
                "concurrency",
                "force_reregister",
                "forward_for",
                "details",
                "details_arg",
                "correlation_id",
                "correlation_uri",
                "correlation_is_anchor",
                "correlation_is_last",
            ],
        ),
        (
            SubscribeOptions,
            [
                "match",
                "details",
                "details_arg",
                "forward_for",
                "get_retained",
                "correlation_id",
                "correlation_uri",
                "correlation_is_anchor",
                "correlation_is_last",
            ],
        ),
        (
            PublishOptions,
            [
                "acknowledge",
                "exclude_me",
                "exclude",
                "exclude_authid",
                "exclude_authrole",
                "eligible",
                "eligible_authid",
                "eligible_authrole",
                "retain",
                "forward_for",
                "transaction_hash",
                "correlation_id",
                "correlation_uri",
                "correlation_is_anchor",
                "correlation_is_last",
            ],
        ),
        (
            CallDetails,
            [
                "registration",
                "progress",
                "caller",
                "caller_authid",
                "caller_authrole",
                "procedure",
                "transaction_hash",
                "enc_algo",
                "forward_for",
            ],
        ),
        (
            EventDetails,
            [
                "subscription",
                "publication",
                "publisher",
                "publisher_authid",
                "publisher_authrole",
                "topic",
                "retained",
                "transaction_hash",
                "enc_algo",
                "forward_for",
            ],
        ),
        (Publication, ["publication_id", "was_encrypted"]),
        (Subscription, ["subscription_id", "topic", "session", "handler"]),
        (Registration, ["session", "registration_id", "procedure", "endpoint"]),
    ],
)
def test_positional_parameters_match_autobahn(cls: type, names: list[str]) -> None:
    """Autobahn's positional order is kept; our additions are keyword-only."""
    assert positional_names(cls) == names


# ----------------------------------------------------------------- session values


def test_component_config() -> None:
    runner = object()
    config = ComponentConfig("realm1", {"k": 1}, runner=runner)
    assert (config.realm, config.extra, config.runner) == ("realm1", {"k": 1}, runner)
    assert config.keyring is None and config.controller is None and config.shared is None
    config.controller = "ctl"  # mutable, as in Autobahn
    assert config.controller == "ctl"
    assert config != ComponentConfig("realm1", {"k": 1}, runner=runner)  # identity
    assert hash(config) == hash(config)
    assert "realm='realm1'" in repr(config)
    assert ComponentConfig().realm is None
    with pytest.raises(TypeError, match="ComponentConfig: realm must be a str or None, not int"):
        ComponentConfig(realm=1)  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        config.other = 1  # type: ignore[attr-defined]  # __slots__


def test_transport_details() -> None:
    t = TransportDetails(
        channel_type=TransportDetails.CHANNEL_TYPE_TLS,
        channel_framing=TransportDetails.CHANNEL_FRAMING_WEBSOCKET,
        channel_serializer=TransportDetails.CHANNEL_SERIALIZER_MSGPACK,
        peer="tcp4:127.0.0.1:8080",
        is_secure=True,
        channel_id={"tls-unique": b"\x00" * 32},
    )
    assert t.channel_typeid == "tls-websocket-msgpack"
    assert TransportDetails().channel_typeid == "null-null-null"
    assert TransportDetails(channel_type=99).channel_typeid == "null-null-null"
    assert TransportDetails.CHANNEL_TYPE_TCP == 4
    assert TransportDetails.CHANNEL_FRAMING_RAWSOCKET == 3
    assert TransportDetails.CHANNEL_SERIALIZER_CBOR == 3
    assert TransportDetails.CHANNEL_TYPE_TO_STR[7] == "dtls"
    assert repr(TransportDetails(peer="x")) == "TransportDetails(peer='x')"
    assert t == dataclasses.replace(t)
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.peer = "y"  # type: ignore[misc]


def test_session_details() -> None:
    d = SessionDetails("realm1", 123, authid="joe", authrole="user", authextra={"x": 1})
    assert (d.realm, d.session, d.authid, d.authrole, d.authextra) == (
        "realm1",
        123,
        "joe",
        "user",
        {"x": 1},
    )
    assert d.transport is None and d.resumed is None and d.resume_token is None
    assert d == SessionDetails("realm1", 123, authid="joe", authrole="user", authextra={"x": 1})
    assert d != SessionDetails("realm1", 124)
    assert repr(SessionDetails("r", 1)) == "SessionDetails(realm='r', session=1)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.realm = "x"  # type: ignore[misc]


def test_close_details() -> None:
    assert CloseDetails.REASON_DEFAULT == "wamp.close.normal"
    assert CloseDetails.REASON_TRANSPORT_LOST == "wamp.close.transport_lost"
    d = CloseDetails("wamp.close.goodbye_and_out", "bye")
    assert (d.reason, d.message) == ("wamp.close.goodbye_and_out", "bye")
    assert CloseDetails() == CloseDetails(None, None)
    assert hash(d) == hash(CloseDetails("wamp.close.goodbye_and_out", "bye"))
    assert "reason='wamp.close.goodbye_and_out'" in repr(d)
    with pytest.raises(TypeError, match="CloseDetails: reason must be a str or None, not int"):
        CloseDetails(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="CloseDetails: message"):
        CloseDetails("r", b"m")  # type: ignore[arg-type]


def test_challenge() -> None:
    c = Challenge("wampcra", {"challenge": "x"})
    assert (c.method, c.extra) == ("wampcra", {"challenge": "x"})
    assert Challenge("ticket").extra == {}
    assert Challenge("ticket") == Challenge("ticket", {})
    assert "method='ticket'" in repr(Challenge("ticket"))
    with pytest.raises(TypeError, match="Challenge: method must be a str, not NoneType"):
        Challenge(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Challenge: extra must be a dict or None, not list"):
        Challenge("ticket", [])  # type: ignore[arg-type]


# ---------------------------------------------------------------------- CallOptions


def test_call_options_wire() -> None:
    assert CallOptions().message_attr() == {}
    # Whole seconds, rounded up, as Crossbar.io reads them (the client keeps the fraction).
    # Plus one: the router's timer (1-second buckets on Crossbar.io) must not fire first.
    assert CallOptions(timeout=2.5).message_attr() == {"timeout": 4}
    assert CallOptions(timeout=3).message_attr() == {"timeout": 4}
    assert CallOptions(timeout=0).message_attr() == {"timeout": 0}
    assert CallOptions(timeout=0.0001).message_attr() == {"timeout": 2}
    assert CallOptions(timeout=1.5).wire_timeout == 3
    assert CallOptions().wire_timeout is None
    opts = CallOptions(
        on_progress=print,
        transaction_hash="h",
        caller=5,
        caller_authid="a",
        caller_authrole="r",
        forward_for=FORWARD_FOR,
        correlation_id="c",
        correlation_uri="u",
        correlation_is_anchor=True,
        correlation_is_last=False,
        details=True,
        disclose_me=True,
        progress=True,
        ppt_scheme="x_custom",
        ppt_serializer="cbor",
        ppt_cipher="aes256gcm",
        ppt_keyid="k",
    )
    assert opts.message_attr() == {
        "receive_progress": True,
        "transaction_hash": "h",
        "caller": 5,
        "caller_authid": "a",
        "caller_authrole": "r",
        "forward_for": FORWARD_FOR,
        "disclose_me": True,
        "progress": True,
        "ppt_scheme": "x_custom",
        "ppt_serializer": "cbor",
        "ppt_cipher": "aes256gcm",
        "ppt_keyid": "k",
    }
    assert opts.details is True and opts.on_progress is print
    # The wire dict is a fresh copy each time: mutating it cannot change the option.
    attr = opts.message_attr()
    attr["forward_for"][0]["session"] = 99
    assert opts.message_attr()["forward_for"] == FORWARD_FOR


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_call_timeout_on_the_wire_is_whole_seconds_never_shorter(seconds: float) -> None:
    wire = CallOptions(timeout=seconds).message_attr()["timeout"]
    assert type(wire) is int
    assert (wire == 0) == (seconds == 0)
    if seconds:
        assert wire - 2 < seconds <= wire - 1


def test_call_options_are_immutable_and_comparable() -> None:
    a = CallOptions(timeout=1)
    assert a == CallOptions(timeout=1)
    assert hash(a) == hash(CallOptions(timeout=1))
    assert a != CallOptions(timeout=2)
    assert repr(a) == "CallOptions(timeout=1)"
    assert repr(CallOptions(disclose_me=False)) == "CallOptions(disclose_me=False)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.timeout = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        CallOptions(None, None, None, None, None, None, None, None, None, None, None, None, True)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"on_progress": 1}, TypeError, "on_progress must be callable or None, not int"),
        ({"timeout": "1"}, TypeError, "timeout must be an int or float (seconds), not str"),
        ({"timeout": True}, TypeError, "timeout must be an int or float"),
        ({"timeout": -1}, ValueError, "timeout must be finite and >= 0, got -1"),
        ({"timeout": float("nan")}, ValueError, "timeout must be finite"),
        ({"timeout": float("inf")}, ValueError, "timeout must be finite"),
        ({"transaction_hash": 1}, TypeError, "transaction_hash must be a str or None"),
        ({"caller": "5"}, TypeError, "caller must be an int session ID, not str"),
        ({"caller": True}, TypeError, "caller must be an int session ID, not bool"),
        ({"caller": 0}, ValueError, "caller must be in [1, 2**53], got 0"),
        ({"caller": 2**53 + 1}, ValueError, "caller must be in [1, 2**53]"),
        ({"caller_authid": 1}, TypeError, "caller_authid must be a str or None"),
        ({"caller_authrole": 1}, TypeError, "caller_authrole must be a str or None"),
        ({"details": 1}, TypeError, "details must be a bool or None, not int"),
        ({"disclose_me": "yes"}, TypeError, "disclose_me must be a bool or None, not str"),
        ({"progress": 1}, TypeError, "progress must be a bool or None"),
        ({"correlation_id": 1}, TypeError, "correlation_id must be a str or None"),
        ({"correlation_uri": 1}, TypeError, "correlation_uri must be a str or None"),
        ({"correlation_is_anchor": 1}, TypeError, "correlation_is_anchor must be a bool"),
        ({"correlation_is_last": 1}, TypeError, "correlation_is_last must be a bool"),
        ({"ppt_scheme": ""}, ValueError, "ppt_scheme must not be empty"),
        ({"ppt_scheme": 1}, TypeError, "ppt_scheme must be a str or None"),
        (
            {"ppt_scheme": "mqtt", "ppt_serializer": "xml"},
            ValueError,
            "ppt_serializer must be one of",
        ),
        ({"ppt_scheme": "wamp", "ppt_cipher": "rot13"}, ValueError, "ppt_cipher must be one of"),
        ({"ppt_scheme": "wamp", "ppt_cipher": 1}, TypeError, "ppt_cipher must be a str or None"),
        ({"ppt_scheme": "wamp", "ppt_keyid": 1}, TypeError, "ppt_keyid must be a str or None"),
        ({"ppt_serializer": "cbor"}, ValueError, "need ppt_scheme"),
        ({"ppt_keyid": "k"}, ValueError, "need ppt_scheme"),
        (
            {"forward_for": {"session": 1}},
            TypeError,
            "forward_for must be a list of dicts, not dict",
        ),
        ({"forward_for": [1]}, TypeError, "forward_for item must be a dict, not int"),
        ({"forward_for": [{"authrole": "r"}]}, TypeError, "forward_for session must be an int"),
        (
            {"forward_for": [{"session": 0, "authrole": "r"}]},
            ValueError,
            "forward_for session must be in",
        ),
        (
            {"forward_for": [{"session": 1, "authid": 1, "authrole": "r"}]},
            TypeError,
            "forward_for authid",
        ),
        (
            {"forward_for": [{"session": 1}]},
            TypeError,
            "forward_for authrole must be a str, not NoneType",
        ),
    ],
)
def test_call_options_validation(kwargs: dict[str, Any], error: type[Exception], text: str) -> None:
    with pytest.raises(error) as info:
        CallOptions(**kwargs)
    assert str(info.value).startswith("CallOptions: ")
    assert text in str(info.value)


def test_call_options_accept_tuple_forward_for_and_store_tuples() -> None:
    opts = CallOptions(forward_for=tuple(FORWARD_FOR))
    assert isinstance(opts.forward_for, tuple)
    assert opts.message_attr()["forward_for"] == FORWARD_FOR
    hops = [dict(FORWARD_FOR[0])]
    opts = CallOptions(forward_for=hops)
    hops[0]["session"] = 7  # later mutation of the caller's list does not leak in
    assert opts.message_attr()["forward_for"][0]["session"] == 1


# ------------------------------------------------------------------ RegisterOptions


def test_register_options_wire_and_local() -> None:
    assert RegisterOptions().message_attr() == {}
    opts = RegisterOptions(
        match="prefix",
        invoke="roundrobin",
        concurrency=3,
        force_reregister=True,
        forward_for=FORWARD_FOR,
        details_arg="call_details",
        correlation_id="c",
        disclose_caller=True,
        forward_timeout=False,
    )
    assert opts.message_attr() == {
        "match": "prefix",
        "invoke": "roundrobin",
        "concurrency": 3,
        "force_reregister": True,
        "forward_for": FORWARD_FOR,
        "disclose_caller": True,
        "forward_timeout": False,
    }
    assert opts.details_arg == "call_details" and opts.details is None


@pytest.mark.parametrize(
    ("details", "details_arg", "expected"),
    [
        (None, None, None),
        (True, None, "details"),
        (True, "details", "details"),  # what dataclasses.replace passes back in
        (False, None, None),
        (None, "d", "d"),
    ],
)
def test_details_flag(details: bool | None, details_arg: str | None, expected: str | None) -> None:
    for cls in (RegisterOptions, SubscribeOptions):
        opts = cls(details=details, details_arg=details_arg)
        assert opts.details_arg == expected
        assert dataclasses.replace(opts).details_arg == expected
        assert "details" not in opts.message_attr()


def test_every_invoke_policy_and_match() -> None:
    for invoke in INVOKE_POLICIES:
        assert RegisterOptions(invoke=invoke).message_attr() == {"invoke": invoke}
    for match in ("exact", "prefix", "wildcard"):
        assert RegisterOptions(match=match).message_attr() == {"match": match}
        assert SubscribeOptions(match=match).message_attr() == {"match": match}


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        (
            {"match": "regex"},
            ValueError,
            "match must be one of 'exact', 'prefix', 'wildcard', got 'regex'",
        ),
        ({"match": 1}, TypeError, "match must be a str or None, not int"),
        ({"invoke": "all"}, ValueError, "invoke must be one of 'first', 'last', 'random'"),
        ({"concurrency": 0}, ValueError, "concurrency must be >= 1, got 0"),
        ({"concurrency": 1.0}, TypeError, "concurrency must be an int or None, not float"),
        ({"concurrency": True}, TypeError, "concurrency must be an int or None, not bool"),
        ({"force_reregister": 1}, TypeError, "force_reregister must be a bool or None"),
        ({"details": "yes"}, TypeError, "details must be a bool or None, not str"),
        ({"details_arg": 1}, TypeError, "details_arg must be a str or None, not int"),
        ({"details_arg": "not ok"}, ValueError, "details_arg must be an identifier, got 'not ok'"),
        (
            {"details": True, "details_arg": "d"},
            ValueError,
            "give details=True or details_arg, not both",
        ),
        (
            {"details": False, "details_arg": "d"},
            ValueError,
            "details=False contradicts details_arg='d'",
        ),
        ({"disclose_caller": 1}, TypeError, "disclose_caller must be a bool or None"),
        ({"forward_timeout": "no"}, TypeError, "forward_timeout must be a bool or None"),
        ({"correlation_is_last": 0}, TypeError, "correlation_is_last must be a bool"),
        ({"forward_for": "x"}, TypeError, "forward_for must be a list of dicts"),
    ],
)
def test_register_options_validation(
    kwargs: dict[str, Any], error: type[Exception], text: str
) -> None:
    with pytest.raises(error) as info:
        RegisterOptions(**kwargs)
    assert str(info.value).startswith("RegisterOptions: ")
    assert text in str(info.value)


# ----------------------------------------------------------------- SubscribeOptions


def test_subscribe_options() -> None:
    assert SubscribeOptions().message_attr() == {}
    opts = SubscribeOptions(
        match="wildcard", details=True, forward_for=FORWARD_FOR, get_retained=True
    )
    assert opts.message_attr() == {
        "match": "wildcard",
        "get_retained": True,
        "forward_for": FORWARD_FOR,
    }
    assert opts.details_arg == "details"
    assert repr(SubscribeOptions(match="prefix")) == "SubscribeOptions(match='prefix')"


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"match": "all"}, ValueError, "match must be one of"),
        ({"get_retained": 1}, TypeError, "get_retained must be a bool or None"),
        ({"details_arg": "1x"}, ValueError, "details_arg must be an identifier"),
        ({"forward_for": [None]}, TypeError, "forward_for item must be a dict"),
        ({"correlation_uri": 5}, TypeError, "correlation_uri must be a str"),
    ],
)
def test_subscribe_options_validation(
    kwargs: dict[str, Any], error: type[Exception], text: str
) -> None:
    with pytest.raises(error) as info:
        SubscribeOptions(**kwargs)
    assert str(info.value).startswith("SubscribeOptions: ")
    assert text in str(info.value)


# ------------------------------------------------------------------- PublishOptions


def test_publish_options_scalars_become_lists_on_the_wire() -> None:
    opts = PublishOptions(
        acknowledge=True,
        exclude_me=False,
        exclude=5,
        exclude_authid="bob",
        exclude_authrole="guest",
        eligible=[1, 2],
        eligible_authid=("alice",),
        eligible_authrole=["admin", "user"],
        retain=True,
        forward_for=FORWARD_FOR,
        transaction_hash="h",
        correlation_is_anchor=True,
        disclose_me=True,
        ppt_scheme="mqtt",
        ppt_serializer="native",
    )
    assert opts.message_attr() == {
        "acknowledge": True,
        "exclude_me": False,
        "exclude": [5],
        "exclude_authid": ["bob"],
        "exclude_authrole": ["guest"],
        "eligible": [1, 2],
        "eligible_authid": ["alice"],
        "eligible_authrole": ["admin", "user"],
        "retain": True,
        "forward_for": FORWARD_FOR,
        "transaction_hash": "h",
        "disclose_me": True,
        "ppt_scheme": "mqtt",
        "ppt_serializer": "native",
    }
    # Lists are stored as tuples, scalars as given.
    assert opts.exclude == 5 and opts.eligible == (1, 2)
    assert opts.exclude_authid == "bob" and opts.eligible_authrole == ("admin", "user")
    assert PublishOptions().message_attr() == {}
    assert PublishOptions(exclude=[]).message_attr() == {"exclude": []}
    assert PublishOptions(acknowledge=True) == PublishOptions(acknowledge=True)
    assert repr(PublishOptions(exclude=[3])) == "PublishOptions(exclude=(3,))"


def test_publish_options_copy_lists() -> None:
    ids = [1, 2]
    opts = PublishOptions(exclude=ids)
    ids.append(3)
    assert opts.message_attr()["exclude"] == [1, 2]
    opts.message_attr()["exclude"].append(4)
    assert opts.message_attr()["exclude"] == [1, 2]


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"acknowledge": 1}, TypeError, "acknowledge must be a bool or None, not int"),
        ({"exclude_me": "no"}, TypeError, "exclude_me must be a bool or None"),
        ({"retain": 0}, TypeError, "retain must be a bool or None"),
        ({"disclose_me": 1}, TypeError, "disclose_me must be a bool or None"),
        ({"exclude": "5"}, TypeError, "exclude must be an int or a list of ints, not str"),
        ({"exclude": True}, TypeError, "exclude must be an int or a list of ints, not bool"),
        ({"exclude": 0}, ValueError, "exclude must be in [1, 2**53], got 0"),
        ({"exclude": [1, "2"]}, TypeError, "exclude must be an int session ID, not str"),
        ({"eligible": [2**53 + 1]}, ValueError, "eligible must be in [1, 2**53]"),
        ({"eligible": {1}}, TypeError, "eligible must be an int or a list of ints, not set"),
        (
            {"exclude_authid": 1},
            TypeError,
            "exclude_authid must be a str or a list of str, not int",
        ),
        (
            {"exclude_authrole": ["a", 1]},
            TypeError,
            "exclude_authrole must be a str or a list of str",
        ),
        ({"eligible_authid": [None]}, TypeError, "eligible_authid must be a str or a list of str"),
        ({"eligible_authrole": b"r"}, TypeError, "eligible_authrole must be a str or a list"),
        ({"transaction_hash": 1}, TypeError, "transaction_hash must be a str or None"),
        ({"forward_for": [{"session": 1, "authrole": 2}]}, TypeError, "forward_for authrole"),
        ({"correlation_id": 1}, TypeError, "correlation_id must be a str"),
        ({"ppt_cipher": "aes256gcm"}, ValueError, "need ppt_scheme"),
    ],
)
def test_publish_options_validation(
    kwargs: dict[str, Any], error: type[Exception], text: str
) -> None:
    with pytest.raises(error) as info:
        PublishOptions(**kwargs)
    assert str(info.value).startswith("PublishOptions: ")
    assert text in str(info.value)


@given(st.lists(st.integers(1, 2**53), max_size=5) | st.integers(1, 2**53))
def test_publish_exclude_any_valid_ids(ids: int | list[int]) -> None:
    wire = PublishOptions(exclude=ids).message_attr()["exclude"]
    assert wire == (ids if isinstance(ids, list) else [ids])


# -------------------------------------------------------------------------- details


def test_call_and_event_details() -> None:
    reg = Registration(None, 7, "com.app.")
    progress = print
    cd = CallDetails(reg, progress=progress, caller=3, procedure="com.app.x")
    assert (cd.registration, cd.progress, cd.caller, cd.procedure) == (reg, print, 3, "com.app.x")
    assert cd.caller_authid is None and cd.enc_algo is None and cd.forward_for is None
    assert cd == CallDetails(reg, progress=progress, caller=3, procedure="com.app.x")
    assert repr(CallDetails(reg)).startswith("CallDetails(registration=Registration(id=7")

    sub = Subscription(9, "com.app..x")
    ed = EventDetails(sub, 100, publisher=4, topic="com.app.y.x", retained=True)
    assert (ed.subscription, ed.publication, ed.publisher, ed.topic, ed.retained) == (
        sub,
        100,
        4,
        "com.app.y.x",
        True,
    )
    assert ed.publisher_authrole is None and ed.transaction_hash is None
    assert "publication=100" in repr(ed) and "publisher_authid" not in repr(ed)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ed.topic = "z"  # type: ignore[misc]


# ------------------------------------------------------------------------- CallResult


def test_call_result() -> None:
    r = CallResult(1, 2, a=3)
    assert r.results == (1, 2) and r.args == (1, 2)
    assert r.kwresults == {"a": 3} and r.kwargs == {"a": 3}
    assert r.callee is None and r.callee_authid is None and r.callee_authrole is None
    assert r.enc_algo is None and r.forward_for is None
    assert repr(r) == "CallResult(results=(1, 2), kwresults={'a': 3})"
    assert r == CallResult(1, 2, a=3)
    assert r != CallResult(1, 2)
    assert r != (1, 2)
    with pytest.raises(TypeError):
        hash(r)
    # Every keyword is a result, even the names Autobahn would swallow.
    assert CallResult(callee=1, enc_algo="x").kwresults == {"callee": 1, "enc_algo": "x"}


def test_call_result_with_details() -> None:
    r = CallResult.with_details(
        [1],
        {"k": 2},
        callee=5,
        callee_authid="c",
        callee_authrole="r",
        enc_algo="cryptobox",
        forward_for=FORWARD_FOR,
    )
    assert (r.results, r.kwresults) == ((1,), {"k": 2})
    assert (r.callee, r.callee_authid, r.callee_authrole, r.enc_algo) == (5, "c", "r", "cryptobox")
    assert r.forward_for == FORWARD_FOR
    assert repr(r).startswith("CallResult(results=(1,), kwresults={'k': 2}, callee=5, ")
    assert r != CallResult(1, k=2)
    empty = CallResult.with_details()
    assert (empty.results, empty.kwresults, empty.callee) == ((), {}, None)
    assert empty == CallResult()


# ---------------------------------------------------------------------------- handles


def test_publication() -> None:
    p = Publication(42)
    assert (p.id, p.was_encrypted) == (42, False)
    assert Publication(42, True).was_encrypted is True
    assert p == Publication(42) and p != Publication(43) and p != 42
    assert hash(p) == hash(Publication(42))
    assert repr(p) == "Publication(id=42, was_encrypted=False)"
    with pytest.raises(AttributeError):
        p.id = 1  # type: ignore[misc]


def test_subscription_unsubscribe_delegates_once() -> None:
    calls: list[Subscription] = []

    def release(sub: Subscription) -> str:
        calls.append(sub)
        return "deferred"

    def handler() -> None:
        pass

    sub = Subscription(1, "com.t", "session", handler, on_unsubscribe=release)
    assert (sub.id, sub.topic, sub.session, sub.handler, sub.active) == (
        1,
        "com.t",
        "session",
        handler,
        True,
    )
    assert repr(sub) == "Subscription(id=1, topic='com.t', active=True)"
    assert sub.unsubscribe() == "deferred"
    assert calls == [sub]
    assert not sub.active
    with pytest.raises(ValueError, match="subscription 1 is no longer active"):
        sub.unsubscribe()
    assert calls == [sub]
    assert sub != Subscription(1, "com.t", "session", handler)  # identity


def test_release_failure_keeps_handle_active() -> None:
    def release(sub: Subscription) -> None:
        raise SessionNotReady("not joined")

    sub = Subscription(1, "t", on_unsubscribe=release)
    with pytest.raises(SessionNotReady):
        sub.unsubscribe()
    assert sub.active


def test_unattached_handles_and_deactivate() -> None:
    sub = Subscription(2, "t")
    with pytest.raises(SessionNotReady, match="subscription 2 is not attached to a session"):
        sub.unsubscribe()
    sub.deactivate()
    assert not sub.active
    with pytest.raises(ValueError, match="no longer active"):
        sub.unsubscribe()
    reg = Registration(None, 3, "p")
    with pytest.raises(SessionNotReady, match="registration 3 is not attached"):
        reg.unregister()


def test_registration_unregister_delegates() -> None:
    seen: list[Registration] = []

    def endpoint() -> None:
        pass

    reg = Registration("s", 5, "com.p", endpoint, on_unregister=seen.append)
    assert (reg.session, reg.id, reg.procedure, reg.endpoint, reg.active) == (
        "s",
        5,
        "com.p",
        endpoint,
        True,
    )
    assert repr(reg) == "Registration(id=5, procedure='com.p', active=True)"
    assert reg.unregister() is None
    assert seen == [reg] and not reg.active
    with pytest.raises(ValueError, match="registration 5 is no longer active"):
        reg.unregister()
    with pytest.raises(AttributeError):
        reg.procedure = "x"  # type: ignore[misc]


def test_types_reexports_handles() -> None:
    from wamp_core import request, types

    for name in ("Publication", "Subscription", "Registration"):
        assert getattr(types, name) is getattr(request, name)
        assert name in types.__all__
