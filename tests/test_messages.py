"""Unit tests of message parsing and building: every rule, every message type."""

from __future__ import annotations

from typing import Any

import pytest

from wamp_core.exception import ProtocolError
from wamp_core.messages import (
    MAX_ID,
    MESSAGE_CLASSES,
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
    parse,
)

ROLES = {"roles": {"caller": {}}}
ROUTER = {"roles": {"dealer": {}}}

# One valid wire list per message type, with every optional part present.
FULL: list[list[Any]] = [
    [1, "realm1", {"roles": {"caller": {"features": {"x": True}}}, "authmethods": ["ticket"]}],
    [2, 12345, {"roles": {"broker": {}}, "authid": "alice", "realm": "realm1"}],
    [3, {"message": "no"}, "wamp.error.no_such_realm", ["a"], {"k": 1}],
    [4, "wampcra", {"challenge": "{}"}],
    [5, "signature", {}],
    [6, {"message": "bye"}, "wamp.close.close_realm"],
    [8, 48, 7, {}, "com.error", ["a"], {"k": 1}],
    [16, 7, {"acknowledge": True, "exclude": [1, 2]}, "com.topic", [1], {"k": 1}],
    [17, 7, 99],
    [32, 7, {"match": "wildcard"}, "com..topic"],
    [33, 7, 99],
    [34, 7, 99],
    [35, 7],
    [35, 0, {"subscription": 99, "reason": "gone"}],
    [36, 1, 2, {"publisher": 3, "topic": "com.t", "retained": True}, [1], {"k": 1}],
    [337, 2],
    [48, 7, {"timeout": 1000, "receive_progress": True}, "com.proc", [1], {"k": 1}],
    [49, 7, {"mode": "killnowait"}],
    [50, 7, {"progress": True}, [1], {"k": 1}],
    [64, 7, {"match": "prefix", "invoke": "roundrobin"}, "com.proc."],
    [65, 7, 99],
    [66, 7, 99],
    [67, 7],
    [67, 0, {"registration": 99, "reason": "gone"}],
    [68, 7, 99, {"caller": 3, "procedure": "com.proc.x"}, [1], {"k": 1}],
    [69, 7, {"mode": "kill", "reason": "caller left"}],
    [70, 7, {"progress": True}, [1], {"k": 1}],
]


@pytest.mark.parametrize("wmsg", FULL, ids=lambda w: str(w[0]))
def test_full_messages_round_trip(wmsg: list[Any]) -> None:
    message = parse(wmsg)
    assert message.to_list() == wmsg
    assert type(message) is MESSAGE_CLASSES[wmsg[0]]
    assert wmsg[0] == message.CODE
    assert parse(message.to_list()) == message
    assert repr(message).startswith(type(message).__name__ + "(")


def test_every_message_type_is_covered() -> None:
    assert {w[0] for w in FULL} == set(MESSAGE_CLASSES)
    assert len(MESSAGE_CLASSES) == 25


@pytest.mark.parametrize(
    ("message", "wire"),
    [
        (Hello("realm1", ROLES), [1, "realm1", ROLES]),
        (Welcome(5, ROUTER), [2, 5, ROUTER]),
        (Abort("wamp.error.x"), [3, {}, "wamp.error.x"]),
        (Abort("wamp.error.x", args=[], kwargs={}), [3, {}, "wamp.error.x"]),
        (Abort("wamp.error.x", kwargs={"a": 1}), [3, {}, "wamp.error.x", [], {"a": 1}]),
        (Abort("wamp.error.x", args=[1]), [3, {}, "wamp.error.x", [1]]),
        (Challenge("ticket"), [4, "ticket", {}]),
        (Authenticate("secret"), [5, "secret", {}]),
        (Goodbye("wamp.close.normal"), [6, {}, "wamp.close.normal"]),
        (Error(48, 1, "com.e"), [8, 48, 1, {}, "com.e"]),
        (Publish(1, "com.t"), [16, 1, {}, "com.t"]),
        (Publish(1, "com.t", args=[], kwargs={}), [16, 1, {}, "com.t"]),
        (Publish(1, "com.t", kwargs={"a": 1}), [16, 1, {}, "com.t", [], {"a": 1}]),
        (
            Publish(1, "com.t", options={"enc_algo": "xbr"}, payload=b"\x01"),
            [16, 1, {"enc_algo": "xbr"}, "com.t", b"\x01"],
        ),
        (Published(1, 2), [17, 1, 2]),
        (Subscribe(1, "com.t"), [32, 1, {}, "com.t"]),
        (Subscribed(1, 2), [33, 1, 2]),
        (Unsubscribe(1, 2), [34, 1, 2]),
        (Unsubscribed(1), [35, 1]),
        (Event(1, 2), [36, 1, 2, {}]),
        (EventReceived(2), [337, 2]),
        (Call(1, "com.p"), [48, 1, {}, "com.p"]),
        (Call(1, "com.p", args=[1]), [48, 1, {}, "com.p", [1]]),
        (Cancel(1), [49, 1, {}]),
        (Result(1), [50, 1, {}]),
        (Register(1, "com.p"), [64, 1, {}, "com.p"]),
        (Registered(1, 2), [65, 1, 2]),
        (Unregister(1, 2), [66, 1, 2]),
        (Unregistered(1), [67, 1]),
        (Invocation(1, 2), [68, 1, 2, {}]),
        (Invocation(1, 2, args=[1]), [68, 1, 2, {}, [1]]),
        (Invocation(1, 2, kwargs={"a": 1}), [68, 1, 2, {}, [], {"a": 1}]),
        (Interrupt(1), [69, 1, {}]),
        (Yield(1), [70, 1, {}]),
        (Yield(1, args=[1]), [70, 1, {}, [1]]),
        (Yield(1, kwargs={"a": 1}), [70, 1, {}, [], {"a": 1}]),
        (Error(48, 1, "com.e", args=[1]), [8, 48, 1, {}, "com.e", [1]]),
        (Error(48, 1, "com.e", kwargs={"a": 1}), [8, 48, 1, {}, "com.e", [], {"a": 1}]),
        (Result(1, args=[1]), [50, 1, {}, [1]]),
        (Result(1, kwargs={"a": 1}), [50, 1, {}, [], {"a": 1}]),
        (Event(1, 2, args=[1]), [36, 1, 2, {}, [1]]),
        (Event(1, 2, kwargs={"a": 1}), [36, 1, 2, {}, [], {"a": 1}]),
        (Call(1, "com.p", kwargs={"a": 1}), [48, 1, {}, "com.p", [], {"a": 1}]),
        (Publish(1, "com.t", args=[1]), [16, 1, {}, "com.t", [1]]),
    ],
)
def test_constructors_build_the_spec_layout(message: Message, wire: list[Any]) -> None:
    assert message.to_list() == wire
    assert parse(wire) == message


def test_properties() -> None:
    assert Hello("r", ROLES).roles == {"caller": {}}
    assert Welcome(1, ROUTER).roles == {"dealer": {}}
    assert Abort("wamp.e", {"message": "m"}).message == "m"
    assert Goodbye("wamp.e").message is None
    assert Subscribe(1, "t").match == "exact"
    assert Register(1, "t", {"match": "prefix"}).match == "prefix"
    assert Cancel(1, {"mode": "skip"}).mode == "skip"
    assert Interrupt(1).mode is None
    assert Result(1, details={"progress": True}).progress
    assert not Yield(1).progress
    assert Unsubscribed(0, {"subscription": 1}).revoked
    assert not Unregistered(3).revoked


def test_equality_and_hash() -> None:
    assert Call(1, "a", args=[]) == Call(1, "a")
    assert Call(1, "a") != Call(2, "a")
    assert Call(1, "a") != Publish(1, "a")
    assert Call(1, "a") != [48, 1, {}, "a"]
    with pytest.raises(TypeError):
        hash(Call(1, "a"))


def test_base_class_is_abstract() -> None:
    with pytest.raises(NotImplementedError):
        Message.from_list([0])
    with pytest.raises(NotImplementedError):
        Message().to_list()


def test_encrypted_payload_takes_the_arguments_slot() -> None:
    for payload in (b"\x00\x01", "opaque text"):
        wire = [36, 1, 2, {"enc_algo": "cryptobox"}, payload]
        message = parse(wire)
        assert isinstance(message, Event)
        assert message.payload == payload
        assert message.args is None
        assert message.to_list() == wire


@pytest.mark.parametrize(
    ("wmsg", "needle"),
    [
        ({}, "non-empty list"),
        ([], "non-empty list"),
        ("[1]", "non-empty list"),
        ([999], "unknown message type 999"),
        ([True, "realm", ROLES], "unknown message type True"),
        (["1"], "unknown message type '1'"),
        ([1.0], "unknown message type 1.0"),
        # arity, for every type
        *[
            ([code, *([1] * extra)], "elements, got")
            for code, extra in [
                (1, 1),
                (1, 3),
                (2, 1),
                (3, 1),
                (3, 5),
                (4, 1),
                (5, 3),
                (6, 1),
                (8, 3),
                (8, 7),
                (16, 2),
                (16, 6),
                (17, 1),
                (32, 4),
                (33, 3),
                (34, 1),
                (35, 0),
                (35, 3),
                (36, 2),
                (36, 6),
                (337, 2),
                (48, 2),
                (48, 6),
                (49, 1),
                (50, 1),
                (50, 5),
                (64, 2),
                (65, 1),
                (66, 3),
                (67, 0),
                (67, 3),
                (68, 2),
                (68, 6),
                (69, 3),
                (70, 1),
                (70, 5),
            ]
        ],
        # ids
        ([2, 0, ROUTER], "WELCOME.Session: must be an id"),
        ([2, MAX_ID + 1, ROUTER], "WELCOME.Session: must be an id"),
        ([2, True, ROUTER], "got bool True"),
        ([2, 1.0, ROUTER], "got float 1.0"),
        ([17, "1", 2], "PUBLISHED.Request"),
        ([17, 1, -2], "PUBLISHED.Publication"),
        ([33, 0, 2], "SUBSCRIBED.Request"),
        ([33, 1, None], "SUBSCRIBED.Subscription"),
        ([34, 1, 0], "UNSUBSCRIBE.Subscription"),
        ([35, -1], "UNSUBSCRIBED.Request"),
        ([35, 5, "x"], "UNSUBSCRIBED.Details: must be a dict"),
        ([35, 0], "UNSUBSCRIBED.Request"),
        ([35, 0, {}], "UNSUBSCRIBED.Details.subscription: required"),
        ([35, 0, {"subscription": 0}], "UNSUBSCRIBED.Details.subscription: must be an id"),
        ([35, False, {"subscription": 1}], "UNSUBSCRIBED.Request"),
        ([36, 0, 2, {}], "EVENT.Subscription"),
        ([36, 1, 0, {}], "EVENT.Publication"),
        ([337, 0], "EVENT_RECEIVED.Publication"),
        ([48, 0, {}, "a"], "CALL.Request"),
        ([49, 0, {}], "CANCEL.Request"),
        ([50, 0, {}], "RESULT.Request"),
        ([64, 0, {}, "a"], "REGISTER.Request"),
        ([65, 1, 0], "REGISTERED.Registration"),
        ([66, 0, 1], "UNREGISTER.Request"),
        ([67, 0, {}], "UNREGISTERED.Details.registration: required"),
        ([67, 0], "UNREGISTERED.Request"),
        ([67, 1, []], "UNREGISTERED.Details: must be a dict"),
        ([68, 0, 1, {}], "INVOCATION.Request"),
        ([68, 1, 0, {}], "INVOCATION.Registration"),
        ([69, 0, {}], "INTERRUPT.Request"),
        ([70, 0, {}], "YIELD.Request"),
        ([8, 48, 0, {}, "e"], "ERROR.REQUEST.Request"),
        ([16, 0, {}, "t"], "PUBLISH.Request"),
        # ERROR request types
        ([8, 49, 1, {}, "e"], "ERROR.REQUEST.Type"),
        ([8, True, 1, {}, "e"], "ERROR.REQUEST.Type"),
        ([8, "48", 1, {}, "e"], "ERROR.REQUEST.Type"),
        # URIs
        ([1, "a b", ROLES], "HELLO.Realm: must be a valid URI (loose rule)"),
        ([3, {}, "a..b"], "ABORT.Reason"),
        ([6, {}, 5], "GOODBYE.Reason"),
        ([8, 48, 1, {}, "bad uri"], "ERROR.Error"),
        ([16, 1, {}, "a#b"], "PUBLISH.Topic"),
        ([16, 1, {}, ["t"]], "PUBLISH.Topic"),
        ([32, 1, {}, "a..b"], "SUBSCRIBE.Topic: must be a valid URI for match=exact"),
        ([32, 1, {"match": "prefix"}, "a..b"], "match=prefix"),
        ([32, 1, {"match": "prefix"}, "a..b."], "match=prefix"),
        ([32, 1, {"match": "wildcard"}, "a b"], "match=wildcard"),
        ([48, 1, {}, ""], "CALL.Procedure"),
        ([48, 1, {}, {"p": 1}], "CALL.Procedure"),
        ([64, 1, {}, "a."], "REGISTER.Procedure"),
        # dicts and their keys
        ([1, "r", []], "HELLO.Details: must be a dict"),
        ([1, "r", {}], "HELLO.Details.roles: must be a dict naming one of callee, caller"),
        ([1, "r", {"roles": {"broker": {}}}], "HELLO.Details.roles"),
        ([1, "r", {"roles": {"caller": []}}], "HELLO.Details.roles"),
        (
            [2, 1, {"roles": {"caller": {}}}],
            "WELCOME.Details.roles: must be a dict naming one of broker",
        ),
        (
            [2, 1, {"roles": {"dealer": {}}, "authid": 5}],
            "WELCOME.Details.authid: must be a string",
        ),
        ([3, {"message": 1}, "e"], "ABORT.Details.message"),
        ([3, {}, "e", {}], "ABORT.Arguments: must be a list"),
        ([3, {}, "e", [], []], "ABORT.ArgumentsKw: must be a dict"),
        ([4, 1, {}], "CHALLENGE.AuthMethod: must be a string"),
        ([4, "m", {1: 2}], "CHALLENGE.Extra: keys must be strings"),
        ([5, None, {}], "AUTHENTICATE.Signature"),
        ([5, "s", None], "AUTHENTICATE.Extra: must be a dict"),
        ([6, {"resumable": 1}, "e"], "GOODBYE.Details.resumable: must be a boolean"),
        ([16, 1, {"acknowledge": 1}, "t"], "PUBLISH.Options.acknowledge: must be a boolean"),
        ([16, 1, {"exclude": [0]}, "t"], "PUBLISH.Options.exclude: must be a list of ids"),
        ([16, 1, {"eligible_authid": [1]}, "t"], "PUBLISH.Options.eligible_authid"),
        ([16, 1, [], "t"], "PUBLISH.Options: must be a dict"),
        ([16, 1, {}, "t", [], {b"k": 1}], "PUBLISH.ArgumentsKw: keys must be strings"),
        ([16, 1, {}, "t", "payload"], "PUBLISH.Arguments: must be a list"),
        ([16, 1, {"enc_algo": "bad"}, "t", b"x"], "PUBLISH.Options.enc_algo"),
        ([16, 1, {"forward_for": [{"session": 0}]}, "t"], "forward_for"),
        ([16, 1, {"forward_for": [{"session": 1, "authid": 2}]}, "t"], "forward_for"),
        ([16, 1, {"ppt_scheme": ""}, "t"], "ppt_scheme: must be a non-empty string"),
        ([16, 1, {"ppt_cipher": "rot13"}, "t"], "ppt_cipher"),
        (
            [32, 1, {"match": "regex"}, "t"],
            "SUBSCRIBE.Options.match: must be one of exact, prefix, wildcard",
        ),
        ([36, 1, 2, {"topic": "a b"}], "EVENT.Details.topic: must be a valid URI"),
        (
            [36, 1, 2, {"trustlevel": -1}],
            "EVENT.Details.trustlevel: must be a non-negative integer",
        ),
        ([36, 1, 2, {1: 2}], "EVENT.Details: keys must be strings"),
        ([36, 1, 2, None], "EVENT.Details: must be a dict"),
        ([36, 1, 2, {}, [], {1: 2}], "EVENT.ArgumentsKw"),
        ([48, 1, {"timeout": 1.5}, "p"], "CALL.Options.timeout: must be a non-negative integer"),
        ([48, 1, {"timeout": -1}, "p"], "CALL.Options.timeout"),
        ([48, 1, {}, "p", {}], "CALL.Arguments: must be a list"),
        ([49, 1, {"mode": "stop"}], "CANCEL.Options.mode: must be one of skip, kill, killnowait"),
        ([50, 1, {"progress": "yes"}], "RESULT.Details.progress"),
        ([50, 1, {}, None], "RESULT.Arguments"),
        ([64, 1, {"invoke": "all"}, "p"], "REGISTER.Options.invoke"),
        (
            [64, 1, {"concurrency": 0}, "p"],
            "REGISTER.Options.concurrency: must be a positive integer",
        ),
        ([68, 1, 2, {"caller": "x"}], "INVOCATION.Details.caller: must be an id"),
        ([68, 1, 2, {}, 5], "INVOCATION.Arguments"),
        ([69, 1, {"reason": 1}], "INTERRUPT.Options.reason"),
        ([70, 1, {"progress": 0}], "YIELD.Options.progress"),
        ([70, 1, {}, "x"], "YIELD.Arguments"),
        ([8, 48, 1, {"enc_algo": 5}, "e"], "ERROR.Details.enc_algo"),
        ([8, 48, 1, {}, "e", 5], "ERROR.Arguments"),
    ],
)
def test_rejections_name_the_rule(wmsg: Any, needle: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse(wmsg)
    assert needle in str(info.value)


def test_errors_carry_message_and_field() -> None:
    with pytest.raises(ProtocolError) as info:
        parse([36, 1, 2, {"publisher": "x"}])
    assert info.value.message_type == "EVENT"
    assert info.value.field == "Details.publisher"


def test_long_values_are_shortened_in_errors() -> None:
    with pytest.raises(ProtocolError) as info:
        parse([17, "x" * 500, 2])
    assert "..." in str(info.value)
    assert len(str(info.value)) < 200


@pytest.mark.parametrize(
    "wmsg",
    [
        [32, 1, {"match": "prefix"}, "com.myapp."],
        [32, 1, {"match": "prefix"}, "com.myapp"],
        [32, 1, {"match": "wildcard"}, ".a."],
        [64, 1, {"match": "wildcard"}, "com..x"],
        [16, 1, {"x_custom": object(), "_impl": [1]}, "t"],
        [16, 1, {"ppt_scheme": "mqtt", "ppt_serializer": "native", "ppt_cipher": "x_mine"}, "t"],
        [36, 1, 2, {"enc_algo": "x_mine", "enc_serializer": "x_fmt"}, "opaque"],
        [48, 1, {"timeout": 0}, "a.b", [], {}],
        [1, "realm1", {"roles": {"caller": {}, "router": {}}}],
        [2, MAX_ID, ROUTER],
        [35, 5, {}],
        [67, 5, {"reason": "x"}],
    ],
)
def test_acceptances(wmsg: list[Any]) -> None:
    assert parse(wmsg).to_list()[:2] == wmsg[:2]


def test_strict_uris_apply_the_strict_rule() -> None:
    assert parse([48, 1, {}, "com.My-App"]).procedure == "com.My-App"
    with pytest.raises(ProtocolError, match="strict rule"):
        parse([48, 1, {}, "com.My-App"], strict_uris=True)
    with pytest.raises(ProtocolError, match="strict rule"):
        parse([16, 1, {}, "com.Topic"], strict_uris=True)
    assert parse([48, 1, {}, "com.app"], strict_uris=True).procedure == "com.app"


@pytest.mark.parametrize("code", [36.0, 50.0, 68.0, True])
def test_a_message_type_must_be_an_int(code: object) -> None:
    # The direct dispatch of the commonest types compares with ==: 36.0 == 36 must not pass.
    with pytest.raises(ProtocolError, match="unknown message type"):
        parse([code, 1, 2, {}])
