"""The router's dealer, seen from raw peers: every message is built by hand and every
answer checked exactly (registrations, invocation policies, calls, progressive results
and invocations, canceling, timeouts, sessions leaving)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.router_harness import Net, RawPeer, joined
from wamp_core.messages import (
    Call,
    Cancel,
    Error,
    Event,
    Interrupt,
    Invocation,
    Register,
    Registered,
    Result,
    Subscribe,
    Subscribed,
    Unregister,
    Unregistered,
    Yield,
)
from wamp_core.router import ALLOW_ALL, Permission, RealmConfig, Role
from wamp_core.router.broker import MAX_ROUTES

NO_CANCELING: dict[str, Any] = {"caller": {}, "callee": {}}


def registered(callee: RawPeer, request_id: int, uri: str, **options: Any) -> int:
    callee.send(Register(request_id, uri, options))
    (answer,) = callee.take()
    assert isinstance(answer, Registered), answer
    return answer.registration_id


def invoked(caller: RawPeer, callee: RawPeer, call: Call) -> Invocation:
    caller.send(call)
    (invocation,) = callee.take()
    assert isinstance(invocation, Invocation), invocation
    return invocation


@pytest.fixture
def net() -> Net:
    return Net()


def test_a_call_is_routed_to_the_callee_and_its_result_back(net: Net) -> None:
    caller, callee = net.raw_peer(), net.raw_peer("msgpack")
    caller.join()
    callee.join()
    registration = registered(callee, 1, "com.add")
    invocation = invoked(caller, callee, Call(7, "com.add", [2, 3], {"k": 1}))
    assert invocation.registration_id == registration
    assert (invocation.args, invocation.kwargs, invocation.details) == ([2, 3], {"k": 1}, {})
    callee.send(Yield(invocation.request_id, [5]))
    assert caller.take() == [Result(7, [5])]
    assert net.router.realms["realm1"].dealer.calls_in_flight == 0


def test_calls_to_nothing_and_unauthorized_calls_fail() -> None:
    roles = (Role("anonymous", (Permission("com.open", "prefix", frozenset({"call"})),)),)
    net = Net((RealmConfig("realm1", roles),))
    caller = net.raw_peer()
    caller.join()
    caller.send(Call(1, "com.open.x"), Call(2, "com.closed"))
    first, second = caller.take()
    assert isinstance(first, Error) and first.error == "wamp.error.no_such_procedure"
    assert isinstance(second, Error) and second.error == "wamp.error.not_authorized"
    caller.send(Register(3, "com.open.y"))
    (denied,) = caller.take()
    assert isinstance(denied, Error) and denied.error == "wamp.error.not_authorized"


def test_registration_conflicts(net: Net) -> None:
    one, two = net.raw_peer(), net.raw_peer()
    one.join()
    two.join()
    registered(one, 1, "com.single")
    registered(one, 2, "com.shared", invoke="roundrobin")
    two.send(
        Register(1, "com.single"),
        Register(2, "com.shared", {"invoke": "random"}),
        Register(3, "com.shared"),
        Register(4, "wamp.session.mine"),
    )
    errors = [m.error for m in two.take() if isinstance(m, Error)]
    assert errors == [
        "wamp.error.procedure_already_exists",
        "wamp.error.procedure_exists_with_different_invocation_policy",
        "wamp.error.procedure_already_exists",
        "wamp.error.invalid_uri",
    ]
    one.send(Register(3, "com.shared", {"invoke": "roundrobin"}))  # the same callee twice
    (again,) = one.take()
    assert isinstance(again, Error) and again.error == "wamp.error.procedure_already_exists"


def test_unregister(net: Net) -> None:
    one, two = net.raw_peer(), net.raw_peer()
    one.join()
    two.join()
    registration = registered(one, 1, "com.x")
    two.send(Unregister(5, registration), Unregister(6, 12345))
    assert [m.error for m in two.take() if isinstance(m, Error)] == [
        "wamp.error.no_such_registration"
    ] * 2
    one.send(Unregister(2, registration))
    assert one.take() == [Unregistered(2)]
    two.send(Call(7, "com.x"))
    (gone,) = two.take()
    assert isinstance(gone, Error) and gone.error == "wamp.error.no_such_procedure"


@pytest.mark.parametrize(
    ("invoke", "expected"),
    [
        ("roundrobin", [0, 1, 2, 0]),
        ("first", [0, 0, 0, 0]),
        ("last", [2, 2, 2, 2]),
    ],
)
def test_shared_registrations_pick_callees_by_policy(
    net: Net, invoke: str, expected: list[int]
) -> None:
    caller = net.raw_peer()
    caller.join()
    callees = [net.raw_peer() for _ in range(3)]
    for callee in callees:
        callee.join()
        registered(callee, 1, "com.shared", invoke=invoke)
    picked = []
    for request_id in range(1, 5):
        caller.send(Call(request_id, "com.shared"))
        got = [i for i, callee in enumerate(callees) if callee.take()]
        picked.extend(got)
    assert picked == expected


def test_random_invocation_picks_among_the_callees(net: Net) -> None:
    caller = net.raw_peer()
    caller.join()
    callees = [net.raw_peer() for _ in range(3)]
    for callee in callees:
        callee.join()
        registered(callee, 1, "com.random", invoke="random")
    counts = [0, 0, 0]
    for request_id in range(1, 31):
        caller.send(Call(request_id, "com.random"))
        for i, callee in enumerate(callees):
            counts[i] += len(callee.take())
    assert sum(counts) == 30
    assert all(counts), counts  # seeded: every callee gets some


def test_pattern_registrations_resolve_exact_then_prefix_then_wildcard(net: Net) -> None:
    caller, exact, prefix, wildcard = (net.raw_peer() for _ in range(4))
    for peer in (caller, exact, prefix, wildcard):
        peer.join()
    registered(exact, 1, "com.a.b.c")
    registered(prefix, 1, "com.a", match="prefix")
    registered(wildcard, 1, "com..b.c", match="wildcard")
    assert invoked(caller, exact, Call(1, "com.a.b.c")).details == {}
    assert invoked(caller, prefix, Call(2, "com.a.x.c")).details == {"procedure": "com.a.x.c"}
    assert invoked(caller, wildcard, Call(3, "com.z.b.c")).details == {"procedure": "com.z.b.c"}


def test_caller_disclosure_by_request_and_by_role() -> None:
    disclosing = Permission("com.told", "prefix", frozenset({"call", "register"}), True)
    roles = (Role("anonymous", (ALLOW_ALL, disclosing)),)
    net = Net((RealmConfig("realm1", roles),))
    caller, callee = net.raw_peer(), net.raw_peer()
    welcome = caller.join()
    callee.join()
    registered(callee, 1, "com.asked")
    registered(callee, 2, "com.told")
    asked = invoked(caller, callee, Call(1, "com.asked", options={"disclose_me": True}))
    told = invoked(caller, callee, Call(2, "com.told"))
    expected = {
        "caller": welcome.session_id,
        "caller_authid": welcome.details["authid"],
        "caller_authrole": "anonymous",
    }
    assert asked.details == expected
    assert told.details == expected


def test_progressive_results_reach_a_caller_that_asked(net: Net) -> None:
    caller, callee = net.raw_peer(), net.raw_peer()
    caller.join()
    callee.join()
    registered(callee, 1, "com.slow")
    invocation = invoked(caller, callee, Call(1, "com.slow", options={"receive_progress": True}))
    assert invocation.details == {"receive_progress": True}
    callee.send(Yield(invocation.request_id, [1], options={"progress": True}))
    callee.send(Yield(invocation.request_id, [2], options={"ppt_scheme": "x"}))
    assert caller.take() == [
        Result(1, [1], details={"progress": True}),
        Result(1, [2], details={"ppt_scheme": "x"}),
    ]


def test_progressive_results_are_dropped_for_a_caller_that_did_not_ask(net: Net) -> None:
    caller, callee = net.raw_peer(), net.raw_peer()
    caller.join()
    callee.join()
    registered(callee, 1, "com.slow")
    invocation = invoked(caller, callee, Call(1, "com.slow"))
    callee.send(Yield(invocation.request_id, [1], options={"progress": True}))
    assert caller.take() == []
    callee.send(Yield(invocation.request_id, [2]))
    assert caller.take() == [Result(1, [2])]
    callee.send(Yield(invocation.request_id, [3]))  # late: the call has ended
    assert caller.take() == []


def test_progressive_call_invocations(net: Net) -> None:
    caller, callee = net.raw_peer(), net.raw_peer()
    caller.join()
    callee.join()
    registration = registered(callee, 1, "com.upload")
    first = invoked(caller, callee, Call(1, "com.upload", ["a"], options={"progress": True}))
    assert first.details == {"progress": True}
    caller.send(
        Call(1, "com.upload", ["b"], options={"progress": True}), Call(1, "com.upload", ["c"])
    )
    second, last = callee.take()
    assert second == Invocation(first.request_id, registration, ["b"], details={"progress": True})
    assert last == Invocation(first.request_id, registration, ["c"])
    callee.send(Yield(first.request_id, ["abc"]))
    assert caller.take() == [Result(1, ["abc"])]


def test_a_second_call_with_a_request_id_in_flight_is_a_violation(net: Net) -> None:
    caller, callee = net.raw_peer(), net.raw_peer()
    caller.join()
    callee.join()
    registered(callee, 1, "com.x")
    invoked(caller, callee, Call(1, "com.x"))
    caller.send(Call(1, "com.x"))
    (abort,) = caller.take()
    assert abort.NAME == "ABORT" and abort.reason == "wamp.error.protocol_violation"  # type: ignore[attr-defined]
    assert caller.closed
    (interrupt,) = callee.take()  # the caller is gone: its invocation is interrupted
    assert isinstance(interrupt, Interrupt) and interrupt.options == {"mode": "killnowait"}


def test_errors_from_the_callee_reach_the_caller(net: Net) -> None:
    caller, callee = net.raw_peer(), net.raw_peer()
    caller.join()
    callee.join()
    registered(callee, 1, "com.fail")
    invocation = invoked(caller, callee, Call(4, "com.fail"))
    callee.send(Error(Invocation.CODE, invocation.request_id, "com.oops", ["no"], {"k": 1}))
    assert caller.take() == [Error(Call.CODE, 4, "com.oops", ["no"], {"k": 1})]
    callee.send(Error(Invocation.CODE, invocation.request_id, "com.late"))
    assert caller.take() == []


@pytest.mark.parametrize("mode", ["skip", "killnowait"])
def test_cancel_answers_the_caller_at_once(net: Net, mode: str) -> None:
    caller, callee = net.raw_peer(), net.raw_peer()
    caller.join()
    callee.join()
    registered(callee, 1, "com.slow")
    invocation = invoked(caller, callee, Call(1, "com.slow"))
    caller.send(Cancel(1, {"mode": mode}))
    (error,) = caller.take()
    assert isinstance(error, Error) and error.error == "wamp.error.canceled"
    expected = [] if mode == "skip" else [Interrupt(invocation.request_id, {"mode": mode})]
    assert callee.take() == expected
    callee.send(Yield(invocation.request_id, [1]))  # too late
    caller.send(Cancel(1))  # nothing to cancel any more
    assert caller.take() == []


def test_cancel_kill_waits_for_the_callee(net: Net) -> None:
    caller, callee = net.raw_peer(), net.raw_peer()
    caller.join()
    callee.join()
    registered(callee, 1, "com.slow")
    invocation = invoked(caller, callee, Call(1, "com.slow"))
    caller.send(Cancel(1, {"mode": "kill"}), Cancel(1, {"mode": "kill"}))
    assert callee.take() == [Interrupt(invocation.request_id, {"mode": "kill"})]
    assert caller.take() == []
    callee.send(Error(Invocation.CODE, invocation.request_id, "wamp.error.canceled"))
    assert caller.take() == [Error(Call.CODE, 1, "wamp.error.canceled")]


def test_a_callee_that_cannot_be_interrupted_is_skipped(net: Net) -> None:
    caller, callee = net.raw_peer(), net.raw_peer()
    caller.join()
    callee.join(roles=NO_CANCELING)
    registered(callee, 1, "com.slow")
    invoked(caller, callee, Call(1, "com.slow"))
    caller.send(Cancel(1, {"mode": "kill"}))
    (error,) = caller.take()
    assert isinstance(error, Error) and error.error == "wamp.error.canceled"
    assert callee.take() == []


def test_call_timeouts_are_seconds_and_cancel_both_sides(net: Net) -> None:
    caller, callee, mute = net.raw_peer(), net.raw_peer(), net.raw_peer()
    caller.join()
    callee.join()
    mute.join(roles=NO_CANCELING)
    registered(callee, 1, "com.slow")
    registered(mute, 1, "com.mute")
    dealer = net.router.realms["realm1"].dealer
    net.pump(now=100.0)
    first = invoked(caller, callee, Call(1, "com.slow", options={"timeout": 3}))
    invoked(caller, mute, Call(2, "com.mute", options={"timeout": 2}))
    answered = invoked(caller, callee, Call(3, "com.slow", options={"timeout": 1}))
    callee.send(Yield(answered.request_id, ["in time"]))
    assert caller.take() == [Result(3, ["in time"])]
    assert net.router.next_deadline() == 102.0  # the answered call's deadline is skipped
    net.pump(now=102.5)
    (error,) = caller.take()
    assert error == Error(Call.CODE, 2, "wamp.error.canceled", ["timeout reached"])
    assert mute.take() == []  # it cannot be interrupted
    net.pump(now=103.0)
    assert caller.take() == [Error(Call.CODE, 1, "wamp.error.canceled", ["timeout reached"])]
    assert callee.take() == [Interrupt(first.request_id, {"mode": "killnowait"})]
    assert net.router.next_deadline() is None
    assert dealer.is_empty() is False  # registrations remain
    assert dealer.calls_in_flight == 0


def test_stale_deadlines_are_pruned(net: Net) -> None:
    caller, callee = net.raw_peer(), net.raw_peer()
    caller.join()
    callee.join()
    registered(callee, 1, "com.x")
    dealer = net.router.realms["realm1"].dealer
    pending = invoked(caller, callee, Call(100, "com.x", options={"timeout": 600}))
    for request_id in range(1, 41):
        invocation = invoked(caller, callee, Call(request_id, "com.x", options={"timeout": 60}))
        if request_id < 40:
            callee.send(Yield(invocation.request_id))
    assert len(dealer._deadlines) < 40  # ended calls' deadlines do not pile up
    callee.send(Yield(invocation.request_id))
    net.router.handle_timer(300.0)  # stale entries before the pending call's are skipped
    assert caller.take()[-1] == Result(40)
    callee.send(Yield(pending.request_id))
    assert dealer._deadlines == []


def test_a_departing_callee_fails_its_calls_and_a_departing_caller_interrupts_its_own(
    net: Net,
) -> None:
    caller, callee, other = net.raw_peer(), net.raw_peer(), net.raw_peer()
    caller.join()
    callee.join()
    other.join()
    registered(callee, 1, "com.a")
    registered(other, 1, "com.b")
    invoked(caller, callee, Call(1, "com.a"))
    invocation = invoked(caller, other, Call(2, "com.b"))
    callee.server.close()
    net.pump()
    (error,) = caller.take()
    assert error == Error(
        Call.CODE, 1, "wamp.error.canceled", ["callee disconnected from in-flight request"]
    )
    caller.server.close()
    net.pump()
    assert other.take() == [Interrupt(invocation.request_id, {"mode": "killnowait"})]
    other.server.close()
    net.pump()
    net.assert_empty()


def test_a_callee_calling_itself_and_leaving(net: Net) -> None:
    peer = net.raw_peer()
    peer.join()
    registered(peer, 1, "com.me")
    invoked(peer, peer, Call(2, "com.me"))
    peer.server.close()
    net.pump()
    net.assert_empty()


def test_a_departing_mute_caller_leaves_no_invocation_behind(net: Net) -> None:
    caller, mute = net.raw_peer(), net.raw_peer()
    caller.join()
    mute.join(roles=NO_CANCELING)
    registered(mute, 1, "com.mute")
    invoked(caller, mute, Call(1, "com.mute"))
    caller.server.close()
    net.pump()
    assert mute.take() == []
    assert net.router.realms["realm1"].dealer.calls_in_flight == 0


def test_passthru_options_reach_the_callee(net: Net) -> None:
    caller, callee = net.raw_peer(), net.raw_peer()
    caller.join()
    callee.join()
    registered(callee, 1, "com.x")
    options = {"ppt_scheme": "mqtt", "enc_algo": "cryptobox"}
    call = Call(1, "com.x", options=options, payload=b"opaque")
    invocation = invoked(caller, callee, call)
    assert invocation.details == options
    assert invocation.payload == b"opaque"


def test_removing_a_callee_without_revocation_and_with_other_registrations(net: Net) -> None:
    admin, callee = net.raw_peer(), net.raw_peer()
    admin.join()
    welcome = callee.join(roles=NO_CANCELING)
    one = registered(callee, 1, "com.one")
    registered(callee, 2, "com.two")
    admin.send(Call(1, "wamp.registration.remove_callee", [one, welcome.session_id]))
    assert admin.take() == [Result(1, [])]
    assert callee.take() == []  # it did not announce revocation: removed silently
    admin.send(Call(2, "com.two"))
    assert len(callee.take()) == 1


def test_a_revocation_without_a_reason(net: Net) -> None:
    admin, callee = net.raw_peer(), net.raw_peer()
    admin.join()
    welcome = callee.join()
    registration = registered(callee, 1, "com.one")
    admin.send(Call(1, "wamp.registration.remove_callee", [registration, welcome.session_id]))
    assert admin.take() == [Result(1, [])]
    assert callee.take() == [Unregistered(0, {"registration": registration})]


def test_routes_are_remembered_until_registrations_change(net: Net) -> None:
    caller, callee = net.raw_peer(), net.raw_peer()
    caller.join()
    callee.join()
    caller.send(Call(1, "com.later"))  # no callee: remembered as such
    (missing,) = caller.take()
    assert isinstance(missing, Error) and missing.error == "wamp.error.no_such_procedure"
    registration = registered(callee, 1, "com.later")  # created: what was remembered goes
    callee.send(Yield(invoked(caller, callee, Call(2, "com.later")).request_id))
    assert caller.take() == [Result(2)]
    # More procedures than are remembered: the oldest are forgotten, routing stays right.
    caller.send(*[Call(10 + i, f"com.none.n{i}") for i in range(MAX_ROUTES)])
    assert len(caller.take()) == MAX_ROUTES
    callee.send(Yield(invoked(caller, callee, Call(3, "com.later")).request_id))
    assert caller.take() == [Result(3)]
    callee.send(Unregister(2, registration))  # deleted: forgotten again
    assert callee.take() == [Unregistered(2)]
    caller.send(Call(4, "com.later"))
    (missing,) = caller.take()
    assert isinstance(missing, Error) and missing.error == "wamp.error.no_such_procedure"


# ---- force_reregister (Crossbar.io's processRegister)

KICKED = "wamp.error.unregistered"
MAX_CONCURRENCY = "crossbar.error.max_concurrency_reached"
REGISTRATION_META = (
    "wamp.registration.on_create",
    "wamp.registration.on_register",
    "wamp.registration.on_unregister",
    "wamp.registration.on_delete",
)


def meta_watcher(net: Net) -> tuple[RawPeer, dict[int, str]]:
    """A peer subscribed to the registration meta events, and subscription id -> topic."""
    watcher = net.raw_peer()
    watcher.join()
    watcher.send(*[Subscribe(i, topic) for i, topic in enumerate(REGISTRATION_META, 1)])
    acks = [a for a in watcher.take() if isinstance(a, Subscribed)]
    assert len(acks) == len(REGISTRATION_META)
    return watcher, {a.subscription_id: REGISTRATION_META[a.request_id - 1] for a in acks}


def meta_seen(watcher: RawPeer, topics: dict[int, str]) -> list[tuple[str, Any]]:
    return [(topics[e.subscription_id], e.args) for e in watcher.take() if isinstance(e, Event)]


def test_force_reregister_takes_a_shared_registration_from_all_its_callees(net: Net) -> None:
    caller, one, two, mute, newcomer = (net.raw_peer() for _ in range(5))
    for peer in (caller, one, two):
        peer.join()
    mute.join(roles=NO_CANCELING)  # no registration_revocation: removed silently
    newcomer_id = newcomer.join().session_id
    old = registered(one, 1, "com.shared", invoke="roundrobin")
    registered(two, 1, "com.shared", invoke="roundrobin")
    registered(mute, 1, "com.shared", invoke="roundrobin")
    watcher, topics = meta_watcher(net)
    # Another invocation policy is no conflict when forcing.
    new = registered(newcomer, 1, "com.shared", force_reregister=True)
    assert new != old
    for kicked in (one, two):
        assert kicked.take() == [Unregistered(0, {"registration": old, "reason": KICKED})]
    assert mute.take() == []
    dealer = net.router.realms["realm1"].dealer
    assert list(dealer.registrations) == [new]
    assert dealer.registrations[new].invoke == "single"
    # As Crossbar.io: no on_unregister / on_delete for the callees taken off.
    assert [topic for topic, _ in meta_seen(watcher, topics)] == [
        "wamp.registration.on_create",
        "wamp.registration.on_register",
    ]
    for request_id in (1, 2):
        invoked(caller, newcomer, Call(request_id, "com.shared"))
    one.send(Unregister(2, old))
    (gone,) = one.take()
    assert isinstance(gone, Error) and gone.error == "wamp.error.no_such_registration"
    for peer in (one, two, mute):  # leaving leaves the new registration alone
        peer.server.close()
    net.pump()
    assert meta_seen(watcher, topics) == []
    assert dealer.registrations[new].callees[0].id == newcomer_id


def test_force_reregister_of_ones_own_registration_and_of_nothing(net: Net) -> None:
    callee = net.raw_peer()
    callee.join()
    fresh = registered(callee, 1, "com.fresh", force_reregister=True)  # nothing to take
    callee.send(Register(2, "com.fresh", {"force_reregister": True}))
    revoked, answer = callee.take()  # its old registration goes first, then the new one
    assert revoked == Unregistered(0, {"registration": fresh, "reason": KICKED})
    assert isinstance(answer, Registered) and answer.registration_id != fresh
    assert list(net.router.realms["realm1"].dealer.registrations) == [answer.registration_id]
    callee.send(Register(3, "com.fresh", {"force_reregister": False}))  # not forced: refused
    (refused,) = callee.take()
    assert isinstance(refused, Error) and refused.error == "wamp.error.procedure_already_exists"


def test_force_reregister_comes_after_authorization() -> None:
    closed = Permission("com.closed", "prefix", frozenset({"call"}))
    roles = (
        Role("anonymous", (ALLOW_ALL,)),
        Role("guest", (closed, Permission("com.open", "prefix", frozenset({"register"})))),
    )
    net = Net((RealmConfig("realm1", roles),))
    owner = net.raw_peer()
    owner.join()
    guest = joined(net, role="guest")
    kept = registered(owner, 1, "com.closed.x")
    guest.send(
        Register(1, "com.closed.x", {"force_reregister": True}),
        Register(2, "wamp.x", {"force_reregister": True}),
    )
    assert [m.error for m in guest.take() if isinstance(m, Error)] == [
        "wamp.error.not_authorized",
        "wamp.error.invalid_uri",
    ]
    assert owner.take() == []
    assert list(net.router.realms["realm1"].dealer.registrations) == [kept]


def test_invocations_in_flight_on_a_callee_taken_off_still_end(net: Net) -> None:
    caller, old, new = net.raw_peer(), net.raw_peer(), net.raw_peer()
    for peer in (caller, old, new):
        peer.join()
    registered(old, 1, "com.job", concurrency=1)
    first = invoked(caller, old, Call(1, "com.job"))
    registered(new, 1, "com.job", force_reregister=True, concurrency=1)
    assert len(old.take()) == 1  # UNREGISTERED
    second = invoked(caller, new, Call(2, "com.job"))  # the new callee's count starts at 0
    old.send(Yield(first.request_id, ["old"]))
    new.send(Yield(second.request_id, ["new"]))
    assert caller.take() == [Result(1, ["old"]), Result(2, ["new"])]
    assert net.router.realms["realm1"].dealer.calls_in_flight == 0
    invoked(caller, new, Call(3, "com.job"))


# ---- callee concurrency (Crossbar.io's Dealer._call)


def max_concurrency_reached(caller: RawPeer, request_id: int, procedure: str) -> str:
    caller.send(Call(request_id, procedure))
    (error,) = caller.take()
    assert isinstance(error, Error), error
    assert (error.request_type, error.request_id, error.error) == (
        Call.CODE,
        request_id,
        MAX_CONCURRENCY,
    )
    assert error.args is not None
    return str(error.args[0])


def test_a_single_callee_gets_at_most_its_concurrency(net: Net) -> None:
    caller, callee = net.raw_peer(), net.raw_peer()
    caller.join()
    callee.join()
    registered(callee, 1, "com.job", concurrency=2)
    first = invoked(caller, callee, Call(1, "com.job"))
    invoked(caller, callee, Call(2, "com.job"))
    text = max_concurrency_reached(caller, 3, "com.job")
    assert (
        text
        == "maximum concurrency 2 of callee/endpoint reached (on non-shared/single registration)"
    )
    callee.send(Yield(first.request_id, [1], options={"progress": True}))  # not final
    caller.send(Call(4, "com.job", options={"receive_progress": True}))
    assert len(caller.take()) == 1  # the progressive result; the call was refused
    callee.send(Yield(first.request_id, [1]))
    caller.take()
    invoked(caller, callee, Call(5, "com.job"))


@pytest.mark.parametrize("ending", ["error", "killnowait", "skip", "timeout", "caller leaves"])
def test_the_concurrency_count_drops_when_a_call_ends(net: Net, ending: str) -> None:
    caller, other, callee = net.raw_peer(), net.raw_peer(), net.raw_peer()
    caller.join()
    other.join()
    if ending == "skip":
        callee.join(roles=NO_CANCELING)
    else:
        callee.join()
    registered(callee, 1, "com.job", concurrency=1)
    net.pump(now=10.0)
    invocation = invoked(caller, callee, Call(1, "com.job", options={"timeout": 1}))
    max_concurrency_reached(other, 1, "com.job")
    if ending == "error":
        callee.send(Error(Invocation.CODE, invocation.request_id, "com.failed"))
    elif ending == "timeout":
        net.pump(now=11.5)
    elif ending == "caller leaves":
        caller.server.close()
    else:
        caller.send(Cancel(1, {"mode": ending}))
    callee.take()  # the INTERRUPT, if any
    invoked(other, callee, Call(2, "com.job"))


def test_a_kill_cancel_holds_the_count_until_the_callee_answers(net: Net) -> None:
    caller, callee = net.raw_peer(), net.raw_peer()
    caller.join()
    callee.join()
    registered(callee, 1, "com.job", concurrency=1)
    invocation = invoked(caller, callee, Call(1, "com.job"))
    caller.send(Cancel(1, {"mode": "kill"}))
    assert callee.take() == [Interrupt(invocation.request_id, {"mode": "kill"})]
    max_concurrency_reached(caller, 2, "com.job")
    callee.send(Error(Invocation.CODE, invocation.request_id, "wamp.error.canceled"))
    assert caller.take() == [Error(Call.CODE, 1, "wamp.error.canceled")]
    invoked(caller, callee, Call(3, "com.job"))


def test_roundrobin_passes_over_callees_without_room(net: Net) -> None:
    caller = net.raw_peer()
    caller.join()
    callees = [net.raw_peer() for _ in range(3)]
    limits = [1, 2, 1]
    for callee, limit in zip(callees, limits, strict=True):
        callee.join()
        registered(callee, 1, "com.rr", invoke="roundrobin", concurrency=limit)
    picked: list[int] = []
    invocations: list[Invocation] = []
    for request_id in range(1, 5):
        caller.send(Call(request_id, "com.rr"))
        for index, callee in enumerate(callees):
            for message in callee.take():
                assert isinstance(message, Invocation)
                picked.append(index)
                invocations.append(message)
    assert picked == [0, 1, 2, 1]
    text = max_concurrency_reached(caller, 5, "com.rr")
    # Crossbar.io's text names the limit of the last callee it looked at: it started
    # from the third (after the second), so the second.
    assert (
        text
        == "maximum concurrency 2 of all callee/endpoints reached (on round-robin registration)"
    )
    callees[0].send(Yield(invocations[0].request_id))
    caller.take()
    # The third is still full; the first, next in turn after it, has room again.
    assert invoked(caller, callees[0], Call(6, "com.rr")).registration_id


def test_roundrobin_always_finds_a_callee_without_a_limit(net: Net) -> None:
    caller, limited, free = net.raw_peer(), net.raw_peer(), net.raw_peer()
    for peer in (caller, limited, free):
        peer.join()
    registered(limited, 1, "com.rr", invoke="roundrobin", concurrency=1)
    registration = registered(free, 1, "com.rr", invoke="roundrobin")
    invoked(caller, limited, Call(1, "com.rr"))
    for request_id in (2, 3, 4):
        invoked(caller, free, Call(request_id, "com.rr"))
    # The callee without a limit leaves the registration; the limited one is full.
    free.send(Unregister(2, registration))
    assert free.take() == [Unregistered(2)]
    max_concurrency_reached(caller, 5, "com.rr")


@pytest.mark.parametrize(("invoke", "picked"), [("first", 0), ("last", 1)])
def test_first_and_last_look_only_at_their_callee(net: Net, invoke: str, picked: int) -> None:
    caller = net.raw_peer()
    caller.join()
    callees = [net.raw_peer() for _ in range(2)]
    for callee in callees:
        callee.join()
        registered(callee, 1, "com.fl", invoke=invoke, concurrency=1)
    invoked(caller, callees[picked], Call(1, "com.fl"))
    # The other callee has room, but Crossbar.io does not look further.
    text = max_concurrency_reached(caller, 2, "com.fl")
    assert text.endswith("(on non-shared/single registration)")
    # The full callee leaves: its slot goes with it, and the other one is picked.
    callees[picked].server.close()
    net.pump()
    caller.take()  # the canceled call
    invoked(caller, callees[1 - picked], Call(3, "com.fl"))


def test_random_draws_among_the_callees_with_room(net: Net) -> None:
    caller = net.raw_peer()
    caller.join()
    callees = [net.raw_peer() for _ in range(3)]
    for callee, limit in zip(callees, [1, 1, None], strict=True):
        callee.join()
        options: dict[str, Any] = {"invoke": "random"}
        if limit is not None:
            options["concurrency"] = limit
        callee.send(Register(1, "com.random", options))
        assert isinstance(callee.take()[0], Registered)
    counts = [0, 0, 0]
    for request_id in range(1, 21):
        caller.send(Call(request_id, "com.random"))
        for index, callee in enumerate(callees):
            counts[index] += len(callee.take())
    assert counts[0] == counts[1] == 1  # each limited callee got one, the rest went free
    assert counts[2] == 18
    callees[2].server.close()  # the callee without a limit leaves: the others are full
    net.pump()
    caller.take()
    text = max_concurrency_reached(caller, 30, "com.random")
    assert text == "maximum concurrency of all callee/endpoints reached (on random registration)"
