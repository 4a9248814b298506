"""The client session, feature by feature, driven from the router's side."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import pytest

from tests.harness import HARNESSES, ROUTER_ROLES, MessageHarness, build_harness
from wamp_core.auth import AuthTicket, AuthWampCra
from wamp_core.events import (
    Challenged,
    Joined,
    Left,
    PublishAcknowledged,
    RegistrationCreated,
    RegistrationRemoved,
    RequestFailed,
    SubscriptionCreated,
    SubscriptionRemoved,
)
from wamp_core.exception import (
    ApplicationError,
    FeatureNotSupported,
    InvalidUriError,
    ProtocolError,
    SessionNotReady,
    TransportLost,
)
from wamp_core.messages import (
    MAX_ID,
    Abort,
    Authenticate,
    Call,
    Cancel,
    Challenge,
    Error,
    Event,
    Goodbye,
    Hello,
    Interrupt,
    Invocation,
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
from wamp_core.session import CLIENT_ROLES, SessionState
from wamp_core.session._base import EMPTY_DICT, EMPTY_LIST, KNOWN_URIS_LIMIT
from wamp_core.session._incoming import (
    _SHARED_ROLES,
    SHARED_ROLES_LIMIT,
    shared_roles,
    shared_text,
)
from wamp_core.types import CallOptions, PublishOptions, RegisterOptions, SubscribeOptions

Harness = MessageHarness
Make = Callable[..., Harness]


@pytest.fixture(params=HARNESSES)
def make(request: pytest.FixtureRequest) -> Make:
    """Build a harness of this run's kind (see tests/harness.py)."""
    return functools.partial(build_harness, request.param)


@pytest.fixture
def h(make: Make) -> Harness:
    return make()


def joined(make: Make, roles: dict[str, Any] | None = None, **options: Any) -> Harness:
    harness = make(**options)
    harness.join(roles)
    return harness


def assert_violation(h: Harness, needle: str) -> None:
    """The client sent ABORT protocol_violation and the session ended."""
    abort = h.sent()[-1]
    assert isinstance(abort, Abort)
    assert abort.reason == "wamp.error.protocol_violation"
    assert needle in (abort.message or "")
    assert h.session.state is SessionState.FAILED


# ---------------------------------------------------------------- opening


def test_hello_announces_roles_features_and_agent(h: Harness) -> None:
    h.start()
    hello = h.expect(Hello)
    assert hello.realm == "realm1"
    assert hello.roles == CLIENT_ROLES
    assert hello.roles["caller"]["features"]["call_canceling"] is True
    assert hello.roles["callee"]["features"]["pattern_based_registration"] is True
    assert hello.details["agent"] == "wamp-sansio"
    assert "authmethods" not in hello.details
    assert h.session.state is SessionState.JOINING


def test_welcome_joins_and_keeps_router_roles(h: Harness) -> None:
    h.start()
    h.sent()
    h.deliver(
        Welcome(77, {"roles": ROUTER_ROLES, "authid": "joe", "authrole": "user", "realm": "realm1"})
    )
    joined_event = h.event(Joined)
    assert (joined_event.session_id, joined_event.authid, joined_event.authrole) == (
        77,
        "joe",
        "user",
    )
    assert joined_event.roles == ROUTER_ROLES
    assert h.session.is_joined and h.session.session_id == 77
    assert h.session.router_roles == ROUTER_ROLES


def test_sessions_welcomed_with_the_same_roles_share_one_dict(make: Make) -> None:
    """Memory per idle session: equal announcements are kept once; any difference
    (also one equality would not see: 1 and True) keeps its own; the memory of them
    is bounded."""
    _SHARED_ROLES.clear()  # what earlier tests left could reach the limit half-way
    first, second, third = make(), make(), make()
    for harness, roles in (
        (first, ROUTER_ROLES),
        (second, {**ROUTER_ROLES}),
        (third, {**ROUTER_ROLES, "broker": {"features": {"x": 1}}}),
    ):
        harness.join(roles)
    assert first.session.router_roles == second.session.router_roles == ROUTER_ROLES
    assert first.session.router_roles is second.session.router_roles
    fourth = make()
    fourth.start()
    fourth.sent()
    fourth.deliver(Welcome(5, {"roles": {**ROUTER_ROLES}}))
    assert fourth.event(Joined).roles is first.session.router_roles
    assert third.session.router_roles is not first.session.router_roles
    true_roles = {**ROUTER_ROLES, "broker": {"features": {"x": True}}}
    assert shared_roles(true_roles) is true_roles  # 1 == True, yet not the same
    for n in range(SHARED_ROLES_LIMIT + 1):  # past the limit the memory starts afresh
        shared_roles({"dealer": {"n": n}})
    assert shared_roles({**ROUTER_ROLES}) is not first.session.router_roles


def test_an_idle_joined_session_owns_no_request_tables(make: Make) -> None:
    """Memory per idle session (issue 15): the tables of requests, timers and queued
    messages are shared empty ones until something goes in, and no authenticator
    list is kept when there is none."""
    h = joined(make)
    session = h.session
    assert session.authenticators == () and session.authmethods == ()
    assert session._pending is EMPTY_DICT and session._timers is EMPTY_LIST
    assert session._outgoing is EMPTY_LIST
    drained = session.messages_to_send()
    assert drained == [] and drained is not EMPTY_LIST  # the caller's own list
    drained.append("theirs")
    assert EMPTY_LIST == []
    request_id = session.call("com.p", options=CallOptions(timeout=5))
    assert request_id in session._pending and len(session._timers) == 1
    assert session.messages_to_send() != []
    assert session._outgoing is EMPTY_LIST
    other = joined(make).session
    other.call("com.q")  # the call path that takes no options
    assert list(other._pending) == [other._next_id - 1]
    assert EMPTY_DICT == {} and EMPTY_LIST == []


def test_welcome_names_that_sessions_share_are_interned(h: Harness) -> None:
    """The realm, authrole, authmethod and authprovider every session of an
    application has are kept once (SessionDetails holds them while the session
    lives); the authid is each session's own."""

    def fresh(text: str) -> str:
        return "".join(list(text))  # equal, but not the interned object

    h.start()
    h.sent()
    names = {"realm": "realm1", "authrole": "anonymous", "authmethod": "anonymous"}
    details = {key: fresh(value) for key, value in names.items()}
    h.deliver(Welcome(5, {"roles": ROUTER_ROLES, "authprovider": fresh("static"), **details}))
    event = h.event(Joined)
    assert (event.realm, event.authrole, event.authmethod) == tuple(names.values())
    assert event.realm is sys.intern("realm1")
    assert event.authrole is event.authmethod is sys.intern("anonymous")
    assert event.authprovider is sys.intern("static")
    assert shared_text(None) is None and shared_text(7) == 7


def test_abort_on_join_ends_with_reason(h: Harness) -> None:
    h.start()
    h.sent()
    h.deliver(Abort("wamp.error.no_such_realm", {"message": "no realm1"}))
    left = h.event(Left)
    assert (left.reason, left.message, left.by_router, left.aborted) == (
        "wamp.error.no_such_realm",
        "no realm1",
        True,
        True,
    )
    assert h.session.state is SessionState.CLOSED


def test_authenticator_answers_challenges_over_several_rounds(make: Make) -> None:
    h = make(authenticators=[AuthTicket("joe", "secret!")], authrole="user")
    h.start()
    hello = h.expect(Hello)
    assert hello.details["authmethods"] == ["ticket"]
    assert hello.details["authid"] == "joe"
    assert hello.details["authrole"] == "user"
    for _ in range(2):  # two-factor: the router may challenge again
        h.deliver(Challenge("ticket", {}))
        assert h.expect(Authenticate).signature == "secret!"
        assert h.session.state is SessionState.AUTHENTICATING
    h.deliver(Welcome(1, {"roles": ROUTER_ROLES, "authmethod": "ticket"}))
    assert h.event(Joined).authmethod == "ticket"


def test_unknown_challenge_goes_to_the_application(h: Harness) -> None:
    h.start()
    h.sent()
    h.deliver(Challenge("x-custom", {"nonce": "n"}))
    assert h.event(Challenged) == Challenged("x-custom", {"nonce": "n"})
    h.session.authenticate("my-answer", {"k": 1})
    auth = h.expect(Authenticate)
    assert (auth.signature, auth.extra) == ("my-answer", {"k": 1})
    with pytest.raises(TypeError):
        h.session.authenticate(5)  # type: ignore[arg-type]


def test_authenticate_takes_utf8_bytes(h: Harness) -> None:
    """Autobahn's auth.compute_wcs returns bytes; an answer made with it works as is."""
    h.start()
    h.sent()
    h.deliver(Challenge("wampcra", {}))
    h.session.authenticate("sig-é".encode())
    assert h.expect(Authenticate).signature == "sig-é"


def test_authenticate_refuses_bytes_that_are_not_utf8(h: Harness) -> None:
    h.start()
    h.sent()
    h.deliver(Challenge("wampcra", {}))
    with pytest.raises(ValueError, match="not UTF-8"):
        h.session.authenticate(b"\xff\xfe")
    assert h.sent() == []  # nothing queued: the application may still answer
    assert h.session.state is SessionState.AUTHENTICATING


def test_authenticate_without_challenge_is_refused(h: Harness) -> None:
    with pytest.raises(SessionNotReady):
        h.session.authenticate("x")


def test_failing_authenticator_aborts(make: Make) -> None:
    h = make(authenticators=[AuthWampCra("joe", "pw")])
    h.start()
    h.sent()
    h.deliver(Challenge("wampcra", {}))  # no "challenge" in extra
    abort = h.expect(Abort)
    assert abort.reason == "wamp.error.authentication_failed"
    left = h.event(Left)
    assert left.aborted and not left.by_router
    assert h.session.state is SessionState.CLOSED


def test_router_that_fails_to_prove_itself_is_aborted(make: Make) -> None:
    from wamp_core.auth import AuthScram

    scram = AuthScram("user", "pencil", convention="spec", nonce="rOprNGfwEbeRWgbNEkqO")
    h = make(authenticators=[scram])
    h.start()
    h.sent()
    h.deliver(
        Challenge(
            "wamp-scram",
            {
                "nonce": "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
                "salt": "W22ZaJ0SNY7soEsUEjb6gQ==",
                "kdf": "pbkdf2",
                "iterations": 4096,
            },
        )
    )
    h.expect(Authenticate)
    h.deliver(Welcome(1, {"roles": ROUTER_ROLES, "authextra": {"verifier": "AAAA"}}))
    assert h.expect(Abort).reason == "wamp.error.authentication_failed"
    assert h.event(Left).aborted


def test_join_twice_is_refused(h: Harness) -> None:
    h.start()
    with pytest.raises(SessionNotReady, match="joining"):
        h.session.join()


# ---------------------------------------------------------------- closing


def test_leave_sends_goodbye_and_ignores_all_but_goodbye(make: Make) -> None:
    h = joined(make)
    call_id = h.session.call("com.p")
    h.sent()
    h.session.leave("wamp.close.close_realm", "bye")
    goodbye = h.expect(Goodbye)
    assert (goodbye.reason, goodbye.message) == ("wamp.close.close_realm", "bye")
    failed = h.event(RequestFailed)
    assert failed.request_id == call_id
    assert isinstance(failed.error, ApplicationError)
    assert failed.error.error == "wamp.close.close_realm"
    h.deliver(Result(call_id, [1]), Event(1, 2))  # ignored while leaving, not violations
    assert h.sent() == [] and h.events() == []
    h.deliver(Goodbye("wamp.close.normal"))  # Crossbar's reply reason
    left = h.event(Left)
    assert (left.reason, left.by_router, left.aborted) == ("wamp.close.normal", False, False)
    assert h.session.state is SessionState.CLOSED


def test_leave_then_rejoin_on_the_same_transport(make: Make) -> None:
    h = joined(make)
    h.session.call("com.p")
    h.sent()
    h.session.leave()
    h.sent()
    h.events()
    h.deliver(Goodbye("wamp.close.goodbye_and_out"))
    h.events()
    h.join(session_id=99)
    assert h.session.session_id == 99
    assert h.session.call("com.p") == 1  # request ids start again at 1


def test_leave_deadline(make: Make) -> None:
    h = joined(make, close_timeout=2.0)
    h.session.leave(now=10.0)
    h.sent()
    assert h.next_deadline() == 12.0
    h.timer(11.9)
    assert h.events() == []
    h.timer(12.0)
    left = h.event(Left)
    assert left.reason == "wamp.close.timeout" and left.aborted
    assert h.next_deadline() is None


def test_router_goodbye_is_answered_goodbye_and_out(make: Make) -> None:
    h = joined(make)
    sub = h.session.subscribe("com.t")
    h.sent()
    h.deliver(Goodbye("wamp.close.system_shutdown", {"message": "restart"}))
    (reply,) = h.sent()
    assert isinstance(reply, Goodbye) and reply.reason == "wamp.close.goodbye_and_out"
    failed, left = h.events()
    assert isinstance(failed, RequestFailed) and failed.request_id == sub
    assert isinstance(failed.error, ApplicationError) and failed.error.args == ("restart",)
    assert isinstance(left, Left) and left.by_router and not left.aborted


def test_abort_while_joined_and_while_leaving(make: Make) -> None:
    h = joined(make)
    h.session.call("com.p")
    h.sent()
    h.deliver(Abort("wamp.close.killed"))
    failed, left = h.events()
    assert isinstance(failed, RequestFailed) and isinstance(left, Left)
    h = joined(make)
    h.session.leave()
    h.sent()
    h.deliver(Abort("wamp.error.x"))
    assert h.event(Left).reason == "wamp.error.x"


def test_leave_needs_a_session_and_a_valid_reason(make: Make) -> None:
    with pytest.raises(SessionNotReady):
        make().session.leave()
    h = joined(make)
    with pytest.raises(InvalidUriError):
        h.session.leave("not a uri")
    assert h.sent() == []


def test_transport_lost_fails_everything_with_transport_lost(make: Make) -> None:
    h = joined(make)
    call_id = h.session.call("com.p")
    h.sent()
    h.lose_transport()
    failed, left = h.events()
    assert isinstance(failed, RequestFailed) and isinstance(failed.error, TransportLost)
    assert failed.request_id == call_id
    assert isinstance(left, Left) and left.reason == "wamp.close.transport_lost"
    with pytest.raises(SessionNotReady, match="transport is gone"):
        h.session.join()
    h.deliver(Result(call_id))
    h.lose_transport()  # twice is harmless
    assert h.events() == [] and h.sent() == []


# ---------------------------------------------------------------- local misuse


@pytest.mark.parametrize(
    "request_",
    [
        lambda s: s.call("com.p"),
        lambda s: s.register("com.p"),
        lambda s: s.subscribe("com.t"),
        lambda s: s.publish("com.t"),
        lambda s: s.unregister(1),
        lambda s: s.unsubscribe(1),
        lambda s: s.call_progress(1),
    ],
)
def test_requests_before_joining_raise_and_send_nothing(h: Harness, request_: Any) -> None:
    with pytest.raises(SessionNotReady):
        request_(h.session)
    h.start()
    h.sent()
    with pytest.raises(SessionNotReady):
        request_(h.session)
    assert h.sent() == []


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        (lambda s: s.call("bad uri"), InvalidUriError),
        (lambda s: s.call("com.p", args={"a": 1}), TypeError),
        (lambda s: s.call("com.p", kwargs=[1]), TypeError),
        (lambda s: s.call("com.p", kwargs={1: 2}), TypeError),
        (lambda s: s.publish("com..t"), InvalidUriError),
        (lambda s: s.register("com..p"), InvalidUriError),
        (lambda s: s.subscribe("a b"), InvalidUriError),
        (lambda s: s.unregister(5), ValueError),
        (lambda s: s.unsubscribe(5), ValueError),
        (lambda s: s.call_progress(1), ValueError),
        (lambda s: s.cancel(1, "nuke"), ValueError),
        (lambda s: s.yield_error(1, "bad uri"), InvalidUriError),
    ],
)
def test_local_misuse_raises_before_sending(
    make: Make, request_: Any, error: type[Exception]
) -> None:
    h = joined(make)
    with pytest.raises(error):
        request_(h.session)
    assert h.sent() == []


def test_valid_uris_are_remembered_within_a_bound(make: Make) -> None:
    h = joined(make)
    for n in range(KNOWN_URIS_LIMIT + 5):
        h.session.publish(f"com.topic{n}")
    assert 0 < len(h.session._known_uris) <= KNOWN_URIS_LIMIT
    for _ in range(2):  # an invalid URI is never remembered as valid
        with pytest.raises(InvalidUriError):
            h.session.call("com..p")
    assert "com..p" not in h.session._known_uris
    h.session.call("com.p")
    h.session.call("com.p")
    assert [m.procedure for m in h.sent() if isinstance(m, Call)] == ["com.p", "com.p"]


# ---------------------------------------------------------------- caller


def test_call_and_result(make: Make) -> None:
    h = joined(make)
    request_id = h.session.call("com.add", (2, 3), {"round": True})
    call = h.expect(Call)
    assert (call.request_id, call.procedure, call.args, call.kwargs) == (
        1,
        "com.add",
        [2, 3],
        {"round": True},
    )
    h.deliver(Result(request_id, [5], details={"callee": 7}))
    result = h.event(Result)
    assert result.args == [5] and not result.progress
    assert h.session.pending_requests == 0


def test_request_ids_are_sequential_and_wrap(make: Make) -> None:
    h = joined(make)
    assert [h.session.call("com.p") for _ in range(3)] == [1, 2, 3]
    h.session._next_id = MAX_ID
    assert h.session.call("com.p") == MAX_ID
    assert h.session.call("com.p") == 1


def test_call_options_on_the_wire(make: Make) -> None:
    h = joined(make)
    h.session.call("com.p", options=CallOptions(timeout=2.5, on_progress=print, disclose_me=True))
    options = h.expect(Call).options
    assert options == {"timeout": 4, "receive_progress": True, "disclose_me": True}


def test_progressive_results(make: Make) -> None:
    h = joined(make)
    request_id = h.session.call("com.p", options=CallOptions(on_progress=print))
    h.sent()
    h.deliver(Result(request_id, [1], details={"progress": True}))
    h.deliver(Result(request_id, [], details={"progress": True}))
    h.deliver(Result(request_id, [3]))
    results = h.events()
    assert [r.progress for r in results if isinstance(r, Result)] == [True, True, False]
    assert h.session.pending_requests == 0


def test_progress_without_asking_is_a_violation(make: Make) -> None:
    h = joined(make)
    request_id = h.session.call("com.p")
    h.sent()
    h.deliver(Result(request_id, [1], details={"progress": True}))
    assert_violation(h, "did not ask for progress")


def test_progressive_call_invocations(make: Make) -> None:
    h = joined(make)
    request_id = h.session.call("com.upload", [b"chunk1"], options=CallOptions(progress=True))
    first = h.expect(Call)
    assert first.options == {"progress": True}
    h.session.call_progress(request_id, [b"chunk2"])
    h.session.call_progress(request_id, [b"last"], final=True)
    second, last = h.sent()
    assert (
        isinstance(second, Call)
        and second.request_id == request_id
        and second.options == {"progress": True}
    )
    assert isinstance(last, Call) and last.options == {}
    with pytest.raises(ValueError):
        h.session.call_progress(request_id, [b"more"])


def test_progressive_call_invocations_need_the_router_feature(make: Make) -> None:
    h = joined(make, roles={"dealer": {}})
    with pytest.raises(FeatureNotSupported):
        h.session.call("com.p", options=CallOptions(progress=True))
    assert h.sent() == []


def test_call_error_with_args_and_kwargs(make: Make) -> None:
    h = joined(make)
    request_id = h.session.call("com.p")
    h.sent()
    h.deliver(Error(48, request_id, "com.app.oops", ["a"], {"callee": 1, "n": 2}, {"callee": 9}))
    failed = h.event(RequestFailed)
    error = failed.error
    assert isinstance(error, ApplicationError)
    assert (error.error, error.args, error.kwargs, error.callee) == (
        "com.app.oops",
        ("a",),
        {"callee": 1, "n": 2},
        9,
    )


@pytest.mark.parametrize("mode", ["skip", "kill", "killnowait"])
def test_cancel_modes(make: Make, mode: str) -> None:
    h = joined(make)
    request_id = h.session.call("com.slow")
    h.sent()
    assert h.session.cancel(request_id, mode)
    cancel = h.expect(Cancel)
    assert (cancel.request_id, cancel.mode) == (request_id, mode)
    h.deliver(Error(48, request_id, "wamp.error.canceled"))
    assert h.event(RequestFailed).error.error == "wamp.error.canceled"  # type: ignore[attr-defined]
    assert not h.session.cancel(request_id)  # no longer pending


def test_abandoned_call_drops_the_late_answer(make: Make) -> None:
    h = joined(make)
    first, second = h.session.call("com.a"), h.session.call("com.b")
    h.sent()
    assert h.session.cancel(first, "killnowait", abandon=True)
    assert h.session.cancel(second, "kill", abandon=True)
    assert [type(m) for m in h.sent()] == [Cancel, Cancel]
    h.deliver(
        Error(48, first, "wamp.error.canceled"), Result(second, [1], details={"progress": True})
    )
    h.deliver(Result(second, [2]))
    assert h.events() == []
    h.deliver(Result(second, [3]))  # now a duplicate
    assert_violation(h, "no pending CALL")


def test_cancel_needs_the_router_feature_unless_abandoning(make: Make) -> None:
    h = joined(make, roles={"dealer": {}})
    request_id = h.session.call("com.p")
    h.sent()
    with pytest.raises(FeatureNotSupported):
        h.session.cancel(request_id)
    assert h.session.cancel(request_id, abandon=True)
    assert h.sent() == []


def test_call_timeout_is_forwarded_and_enforced(make: Make) -> None:
    h = joined(make)
    request_id = h.session.call("com.slow", options=CallOptions(timeout=1.5), now=100.0)
    assert h.expect(Call).options["timeout"] == 3  # whole seconds + 1; the client keeps 1.5
    assert h.next_deadline() == 101.5
    h.timer(101.5)
    failed = h.event(RequestFailed)
    assert isinstance(failed.error, ApplicationError) and failed.error.error == "wamp.error.timeout"
    cancel = h.expect(Cancel)
    assert (cancel.request_id, cancel.mode) == (request_id, "killnowait")
    h.deliver(Error(48, request_id, "wamp.error.canceled"))  # the router's late answer
    assert h.events() == [] and h.session.state is SessionState.JOINED


def test_call_timeout_restarts_with_each_progressive_result(make: Make) -> None:
    h = joined(make)
    request_id = h.session.call("com.p", options=CallOptions(timeout=1, on_progress=print), now=0.0)
    h.sent()
    h.deliver(Result(request_id, [1], details={"progress": True}), now=0.8)
    assert h.next_deadline() == 1.8
    h.timer(1.0)
    assert [type(e) for e in h.events()] == [Result]
    h.deliver(Result(request_id, [2]), now=1.5)
    h.events()
    assert h.next_deadline() is None


def test_timer_skips_deadlines_of_calls_already_answered(make: Make) -> None:
    h = joined(make)
    answered = h.session.call("com.p", options=CallOptions(timeout=1), now=0.0)
    slow = h.session.call("com.p", options=CallOptions(timeout=2), now=0.0)
    h.sent()
    h.deliver(Result(answered, [1]), now=0.5)
    h.events()
    h.timer(5.0)  # the answered call's deadline is still queued first: it must be skipped
    failed = h.event(RequestFailed)
    assert failed.request_id == slow


def test_call_timeout_without_router_canceling(make: Make) -> None:
    h = joined(make, roles={"dealer": {}})
    h.session.call("com.p", options=CallOptions(timeout=1), now=0.0)
    h.sent()
    h.timer(5.0)
    h.event(RequestFailed)
    assert h.sent() == []


# ---------------------------------------------------------------- callee


def register(
    h: Harness, procedure: str = "com.p", registration_id: int = 500, **options: Any
) -> int:
    request_id = h.session.register(procedure, RegisterOptions(**options) if options else None)
    h.sent()
    h.deliver(Registered(request_id, registration_id))
    created = h.event(RegistrationCreated)
    assert (created.registration_id, created.procedure) == (registration_id, procedure)
    return registration_id


def test_register_options_on_the_wire(make: Make) -> None:
    h = joined(make)
    h.session.register(
        "com.p.",
        RegisterOptions(
            match="prefix",
            invoke="roundrobin",
            concurrency=2,
            force_reregister=True,
            disclose_caller=True,
        ),
    )
    register_msg = h.expect(Register)
    assert register_msg.options == {
        "match": "prefix",
        "invoke": "roundrobin",
        "concurrency": 2,
        "force_reregister": True,
        "disclose_caller": True,
    }


def test_invocation_yield_and_error(make: Make) -> None:
    h = joined(make)
    registration = register(h, "com.p.", match="prefix")
    assert h.session.registrations == {registration: "com.p."}
    h.deliver(Invocation(1, registration, [2], details={"caller": 7, "procedure": "com.p.add"}))
    invocation = h.event(Invocation)
    assert invocation.details["procedure"] == "com.p.add"
    assert h.session.yield_result(1, [4])
    assert h.expect(Yield).args == [4]
    assert not h.session.yield_result(1, [4])  # answered already: dropped
    h.deliver(Invocation(2, registration, []))
    h.events()
    assert h.session.yield_error(2, "com.app.failed", ["why"], {"k": 1})
    error = h.expect(Error)
    assert (error.request_type, error.request_id, error.error, error.args) == (
        68,
        2,
        "com.app.failed",
        ["why"],
    )
    assert not h.session.yield_error(2, "com.app.failed")


def test_progressive_yield(make: Make) -> None:
    h = joined(make)
    registration = register(h)
    h.deliver(Invocation(1, registration, details={"receive_progress": True}))
    h.events()
    assert h.session.yield_result(1, [1], progress=True)
    assert h.session.yield_result(1, [2])
    first, last = h.sent()
    assert (
        isinstance(first, Yield)
        and first.progress
        and isinstance(last, Yield)
        and not last.progress
    )
    h.deliver(Invocation(2, registration))
    h.events()
    with pytest.raises(ValueError, match="did not ask for progress"):
        h.session.yield_result(2, [1], progress=True)


def test_interrupt_then_canceled(make: Make) -> None:
    h = joined(make)
    registration = register(h)
    h.deliver(Invocation(1, registration))
    h.events()
    h.deliver(Interrupt(1, {"mode": "kill"}))
    assert h.event(Interrupt).mode == "kill"
    assert h.session.yield_error(1, ApplicationError.CANCELED)
    assert h.expect(Error).error == "wamp.error.canceled"
    h.deliver(Interrupt(1, {"mode": "kill"}))  # crossed our answer: ignored
    assert h.events() == [] and h.session.state is SessionState.JOINED
    h.deliver(Interrupt(9, {}))
    assert_violation(h, "never invoked")


def test_forwarded_timeout_answers_for_the_callee(make: Make) -> None:
    h = joined(make)
    registration = register(h)
    # Seconds, as Crossbar.io forwards what an Autobahn caller sent (not the spec's ms).
    h.deliver(Invocation(1, registration, details={"timeout": 5}), now=10.0)
    h.events()
    assert h.next_deadline() == 15.0
    h.timer(15.0)
    assert h.expect(Error).error == "wamp.error.timeout"
    interrupt = h.event(Interrupt)
    assert (interrupt.request_id, interrupt.mode) == (1, "killnowait")
    assert not h.session.yield_result(1, [1])


def test_progressive_invocation_chunks(make: Make) -> None:
    h = joined(make)
    registration = register(h)
    h.deliver(Invocation(1, registration, [1], details={"progress": True}))
    h.deliver(Invocation(1, registration, [2], details={"progress": True}))
    h.deliver(Invocation(1, registration, [3]))
    assert [e.args for e in h.events() if isinstance(e, Invocation)] == [[1], [2], [3]]
    h.session.yield_result(1, ["done"])
    h.sent()
    h.deliver(
        Invocation(1, registration, [4], details={"progress": True})
    )  # after the end: dropped
    assert h.events() == [] and h.session.state is SessionState.JOINED
    h.deliver(Invocation(1, registration, [5]))
    assert_violation(h, "INVOCATION request 1 is not above the last one (1)")


def test_duplicate_invocation_is_a_violation(make: Make) -> None:
    h = joined(make)
    registration = register(h)
    h.deliver(Invocation(1, registration), Invocation(1, registration))
    assert_violation(h, "second INVOCATION")


def test_unregister_and_revocation(make: Make) -> None:
    h = joined(make)
    first = register(h, "com.a", 1)
    second = register(h, "com.b", 2)
    request_id = h.session.unregister(first)
    assert h.expect(Unregister).registration_id == first
    h.deliver(Unregistered(request_id))
    assert h.event(RegistrationRemoved) == RegistrationRemoved(request_id, first)
    h.deliver(Unregistered(0, {"registration": second, "reason": "wamp.close.killed"}))
    assert h.event(RegistrationRemoved) == RegistrationRemoved(0, second, "wamp.close.killed")
    assert h.session.registrations == {}
    h.deliver(Invocation(1, second))
    assert_violation(h, "registration 2")


def test_revocation_of_an_unknown_registration_is_a_violation(make: Make) -> None:
    h = joined(make)
    h.deliver(Unregistered(0, {"registration": 3}))
    assert_violation(h, "registration 3")


# ---------------------------------------------------------------- publisher


def test_publish_options_and_acknowledge(make: Make) -> None:
    h = joined(make)
    assert h.session.publish("com.t", [1]) == 1
    assert h.expect(Publish).options == {}
    options = PublishOptions(
        acknowledge=True, exclude_me=False, exclude=[5], eligible_authrole="admin", retain=True
    )
    request_id = h.session.publish("com.t", [1], {"k": 2}, options)
    publish = h.expect(Publish)
    assert publish.options == {
        "acknowledge": True,
        "exclude_me": False,
        "exclude": [5],
        "eligible_authrole": ["admin"],
        "retain": True,
    }
    h.deliver(Published(request_id, 9001))
    assert h.event(PublishAcknowledged) == PublishAcknowledged(request_id, 9001)
    again = h.session.publish("com.t", options=PublishOptions(acknowledge=True))
    h.sent()
    h.deliver(Error(16, again, "wamp.error.not_authorized"))
    assert h.event(RequestFailed).request_type == 16


def test_unacknowledged_publish_gets_no_answer(make: Make) -> None:
    h = joined(make)
    request_id = h.session.publish("com.t")
    h.sent()
    h.deliver(Published(request_id, 5))
    assert_violation(h, "no pending PUBLISH")


def test_payload_passthru_needs_the_router_feature(make: Make) -> None:
    h = joined(make, roles={"broker": {}, "dealer": {}})
    with pytest.raises(FeatureNotSupported):
        h.session.publish("com.t", [b"x"], options=PublishOptions(ppt_scheme="mqtt"))
    h = joined(make)
    h.session.publish(
        "com.t", [b"x"], options=PublishOptions(ppt_scheme="mqtt", ppt_serializer="native")
    )
    publish = h.expect(Publish)
    assert publish.options == {"ppt_scheme": "mqtt", "ppt_serializer": "native"}
    assert publish.args == [b"x"]


# ---------------------------------------------------------------- subscriber


def subscribe(h: Harness, topic: str = "com.t", subscription_id: int = 700, **options: Any) -> int:
    request_id = h.session.subscribe(topic, SubscribeOptions(**options) if options else None)
    h.sent()
    h.deliver(Subscribed(request_id, subscription_id))
    assert h.event(SubscriptionCreated).topic == topic
    return subscription_id


def test_subscribe_options_and_events(make: Make) -> None:
    h = joined(make)
    h.session.subscribe("com..t", SubscribeOptions(match="wildcard", get_retained=True))
    assert h.expect(Subscribe).options == {"match": "wildcard", "get_retained": True}
    subscription = subscribe(h)
    details = {"publisher": 3, "topic": "com.x.t", "retained": True}
    h.deliver(Event(subscription, 1, [1], {"k": 2}, details))
    event = h.event(Event)
    assert (event.args, event.kwargs, event.details) == ([1], {"k": 2}, details)


def test_unsubscribe_and_revocation(make: Make) -> None:
    h = joined(make)
    first = subscribe(h, "com.a", 1)
    second = subscribe(h, "com.b", 2)
    request_id = h.session.unsubscribe(first)
    assert h.expect(Unsubscribe).subscription_id == first
    h.deliver(Unsubscribed(request_id))
    assert h.event(SubscriptionRemoved) == SubscriptionRemoved(request_id, first)
    h.deliver(Unsubscribed(0, {"subscription": second, "reason": "gone"}))
    assert h.event(SubscriptionRemoved) == SubscriptionRemoved(0, second, "gone")
    assert h.session.subscriptions == {}
    h.deliver(Event(second, 1))
    assert_violation(h, "subscription 2")


def test_revocation_of_an_unknown_subscription_is_a_violation(make: Make) -> None:
    h = joined(make)
    h.deliver(Unsubscribed(0, {"subscription": 3}))
    assert_violation(h, "subscription 3")


# ---------------------------------------------------------------- violations


@pytest.mark.parametrize(
    ("messages", "needle"),
    [
        ([Result(5)], "RESULT for request 5"),
        ([Error(48, 5, "e")], "ERROR for request 5"),
        ([Registered(5, 1)], "REGISTERED for request 5"),
        ([Subscribed(5, 1)], "SUBSCRIBED for request 5"),
        ([Unsubscribed(5)], "UNSUBSCRIBED for request 5"),
        ([Unregistered(5)], "UNREGISTERED for request 5"),
        (
            [Welcome(1, {"roles": ROUTER_ROLES})],
            "WELCOME is not allowed when the session is joined",
        ),
        ([Challenge("ticket")], "CHALLENGE is not allowed"),
        ([Hello("realm1", {"roles": {"caller": {}}})], "HELLO is not allowed"),
        ([Call(1, "com.p")], "CALL is not allowed"),
        ([Yield(1)], "YIELD is not allowed"),
        ([Event(1, 1)], "EVENT for subscription 1"),
        ([Invocation(1, 1)], "INVOCATION of registration 1"),
    ],
)
def test_router_violations_abort(make: Make, messages: list[Any], needle: str) -> None:
    h = joined(make)
    h.deliver(*messages)
    assert_violation(h, needle)
    assert h.event(Left).reason == "wamp.error.protocol_violation"
    h.deliver(Result(1))  # nothing is processed any more
    assert h.sent() == [] and h.events() == []


def test_violation_fails_every_pending_request_with_protocol_error(make: Make) -> None:
    h = joined(make)
    ids = [h.session.call("com.p"), h.session.subscribe("com.t"), h.session.register("com.q")]
    h.sent()
    h.deliver(Result(99))
    failures = [e for e in h.events() if isinstance(e, RequestFailed)]
    assert [f.request_id for f in failures] == ids
    assert all(isinstance(f.error, ProtocolError) for f in failures)
    assert h.session.pending_requests == 0


def test_wrong_error_request_type_is_a_violation(make: Make) -> None:
    h = joined(make)
    request_id = h.session.subscribe("com.t")
    h.sent()
    h.deliver(Error(48, request_id, "wamp.error.x"))
    assert_violation(h, "which is a SUBSCRIBE")


@pytest.mark.parametrize(
    "message", [Result(1), Event(1, 1), Goodbye("wamp.close.normal"), Error(48, 1, "e")]
)
def test_messages_before_welcome_are_violations(h: Harness, message: Any) -> None:
    h.start()
    h.sent()
    h.deliver(message)
    assert_violation(h, "not allowed when the session is joining")


def test_messages_when_no_session_is_open_are_violations() -> None:
    h = MessageHarness()  # a byte-level harness cannot deliver before its transport opens
    h.deliver(Welcome(1, {"roles": ROUTER_ROLES}))
    abort = h.expect(Abort)
    assert abort.reason == "wamp.error.protocol_violation"
    assert h.events() == []  # there was no session to leave


# ---------------------------------------------------------------- odds and ends


def test_session_introspection() -> None:
    h = MessageHarness()
    assert repr(h.session) == "ClientSession(realm='realm1', state=closed, session_id=None)"
    assert h.session.next_event() is None
    h.join()
    assert h.session.in_session and h.session.is_joined
    h.session.leave()
    assert h.session.next_event() is None
    h.deliver(Goodbye("wamp.close.goodbye_and_out"))
    assert isinstance(h.session.next_event(), Left)
    assert not h.session.in_session


def test_router_without_a_dealer_role() -> None:
    h = MessageHarness()
    h.join({"broker": {}})
    request_id = h.session.call("com.p")
    h.sent()
    with pytest.raises(FeatureNotSupported):
        h.session.cancel(request_id)


def test_settled_calls_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from wamp_core.session import _base

    monkeypatch.setattr(_base, "SETTLED_LIMIT", 2)
    h = MessageHarness()
    h.join()
    ids = [h.session.call("com.p") for _ in range(3)]
    for request_id in ids:
        h.session.cancel(request_id, abandon=True)
    h.sent()
    h.deliver(Result(ids[2]))  # remembered: dropped quietly
    assert h.session.state is SessionState.JOINED
    h.deliver(Result(ids[0]))  # forgotten: a violation
    assert_violation(h, "no pending CALL")


def test_protocol_violation_only_once() -> None:
    h = MessageHarness()
    h.join()
    h.session.protocol_violation("first")
    h.session.protocol_violation("second")
    (abort,) = h.sent()
    assert isinstance(abort, Abort) and abort.message == "first"


def test_misconfigured_authenticator_aborts_instead_of_raising() -> None:
    from wamp_core.auth import AuthCryptosign, CryptosignKey

    key = CryptosignKey.from_seed(bytes(32))
    h = MessageHarness(
        authenticators=[AuthCryptosign("alice", key=key, channel_binding="tls-unique")]
    )
    h.start()
    h.sent()
    h.deliver(Challenge("cryptosign", {"challenge": "ab" * 32, "channel_binding": "tls-unique"}))
    abort = h.expect(Abort)
    assert abort.reason == "wamp.error.authentication_failed"
    assert (abort.message or "").startswith("ValueError: ")
    assert h.event(Left).aborted
