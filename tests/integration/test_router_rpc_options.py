"""Two REGISTER options Crossbar.io acts on, and our router the same way, seen from a
client (our Sans-IO core on blocking sockets) against every router of the ``router``
fixture: ``force_reregister`` (the existing registration is taken from its callees)
and callee ``concurrency`` (``crossbar.error.max_concurrency_reached`` beyond it)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.blocking_client import BlockingClient
from tests.integration.crossbar_node import CrossbarNode
from tests.integration.our_node import router_name
from tests.integration.test_router_smoke import (  # noqa: F401 (open_client: a fixture)
    OpenClient,
    call,
    open_client,
    register,
    subscribe,
    unique,
)
from wamp_core.events import RegistrationRemoved, RequestFailed
from wamp_core.exception import ApplicationError
from wamp_core.messages import Event, Invocation

pytestmark = pytest.mark.integration

MAX_CONCURRENCY = "crossbar.error.max_concurrency_reached"


def answer(callee: BlockingClient, invocation: Invocation, *args: Any) -> None:
    assert callee.session.yield_result(invocation.request_id, list(args))
    callee.flush()


def max_concurrency_reached(caller: BlockingClient, procedure: str) -> None:
    failed = caller.expect_request(call(caller, procedure))
    assert isinstance(failed, RequestFailed), failed
    assert isinstance(failed.error, ApplicationError)
    assert failed.error.error == MAX_CONCURRENCY


def registration_of(event: Event) -> Any:
    """The registration id a registration meta event is about."""
    about = (event.args or [None, None])[1]
    return about["id"] if isinstance(about, dict) else about


def test_force_reregister_takes_the_registration_from_its_callees(
    open_client: OpenClient,  # noqa: F811
) -> None:
    procedure = unique()
    caller, old, newcomer, watcher = (open_client() for _ in range(4))
    old_id = register(old, procedure)
    topics = {
        subscribe(watcher, f"wamp.registration.{name}"): name
        for name in ("on_create", "on_register", "on_unregister", "on_delete")
    }
    pending = call(caller, procedure, "pending")
    busy = old.expect(Invocation)
    new_id = register(newcomer, procedure, force_reregister=True)
    assert new_id != old_id
    removed = old.expect(RegistrationRemoved)
    assert (removed.request_id, removed.registration_id) == (0, old_id)
    assert removed.reason == "wamp.error.unregistered"
    # Calls now go to the newcomer; the invocation the old callee had still ends.
    request_id = call(caller, procedure, "new")
    answer(newcomer, newcomer.expect(Invocation), "from the newcomer")
    assert caller.expect_request(request_id).args == ["from the newcomer"]
    answer(old, busy, "from the old callee")
    assert caller.expect_request(pending).args == ["from the old callee"]
    # The meta events: the new registration's, and none for the callee taken off (as
    # Crossbar.io). The newcomer unregistering marks the end of what is to come.
    request_id = newcomer.session.unregister(new_id)
    newcomer.flush()
    assert isinstance(newcomer.expect_request(request_id), RegistrationRemoved)
    seen: list[tuple[str, int, Any]] = []
    while not seen or seen[-1][0] != "on_delete":
        event = watcher.expect(Event, lambda e: registration_of(e) in (old_id, new_id))
        assert event.args is not None
        seen.append((topics[event.subscription_id], event.args[0], registration_of(event)))
    newcomer_id = newcomer.session.session_id
    assert seen == [
        ("on_create", newcomer_id, new_id),
        ("on_register", newcomer_id, new_id),
        ("on_unregister", newcomer_id, new_id),
        ("on_delete", newcomer_id, new_id),
    ]


def test_force_reregister_of_a_shared_registration(
    router: CrossbarNode,
    open_client: OpenClient,  # noqa: F811
) -> None:
    if router_name(router) == "crossbar":
        # Crossbar.io 26.10.1 (router/dealer.py:503-513) drops each callee while it
        # iterates over the callees (observation.py's OrderedSet iterates over the
        # list it removes from): only every other callee is told, then deleting the
        # registration raises ValueError and the REGISTER is never answered.
        pytest.skip("Crossbar.io cannot force_reregister over two or more callees")
    procedure = unique()
    caller, one, two, newcomer = (open_client() for _ in range(4))
    old_id = register(one, procedure, invoke="roundrobin")
    assert register(two, procedure, invoke="roundrobin") == old_id
    # Another invocation policy is no conflict when forcing.
    new_id = register(newcomer, procedure, force_reregister=True)
    for kicked in (one, two):
        removed = kicked.expect(RegistrationRemoved)
        assert (removed.registration_id, removed.reason) == (old_id, "wamp.error.unregistered")
    for n in range(3):
        request_id = call(caller, procedure, n)
        invocation = newcomer.expect(Invocation)
        assert invocation.registration_id == new_id
        answer(newcomer, invocation, n)
        assert caller.expect_request(request_id).args == [n]


def test_a_single_callee_gets_at_most_its_concurrency(open_client: OpenClient) -> None:  # noqa: F811
    procedure = unique()
    caller, callee = open_client(), open_client()
    register(callee, procedure, concurrency=2)
    first, second = call(caller, procedure, 1), call(caller, procedure, 2)
    invocations = [callee.expect(Invocation), callee.expect(Invocation)]
    max_concurrency_reached(caller, procedure)
    answer(callee, invocations[0], "one")
    assert caller.expect_request(first).args == ["one"]
    third = call(caller, procedure, 3)
    invocations.append(callee.expect(Invocation))
    max_concurrency_reached(caller, procedure)
    # An ERROR frees a place too.
    assert callee.session.yield_error(invocations[1].request_id, "com.example.failed")
    callee.flush()
    assert isinstance(caller.expect_request(second), RequestFailed)
    fourth = call(caller, procedure, 4)
    invocations.append(callee.expect(Invocation))
    for invocation in invocations[2:]:
        answer(callee, invocation, "done")
    for request_id in (third, fourth):
        assert caller.expect_request(request_id).args == ["done"]


def test_roundrobin_passes_over_a_callee_without_room(open_client: OpenClient) -> None:  # noqa: F811
    procedure = unique()
    caller, one, two = open_client(), open_client(), open_client()
    register(one, procedure, invoke="roundrobin", concurrency=1)
    register(two, procedure, invoke="roundrobin", concurrency=2)
    requests = [call(caller, procedure, n) for n in range(3)]
    held = [one.expect(Invocation), two.expect(Invocation), two.expect(Invocation)]
    max_concurrency_reached(caller, procedure)
    answer(one, held[0], "one")
    assert caller.expect_request(requests[0]).args == ["one"]
    # The second callee is next in turn but full: the first gets it.
    request_id = call(caller, procedure, 3)
    answer(one, one.expect(Invocation), "one again")
    assert caller.expect_request(request_id).args == ["one again"]
    for invocation in held[1:]:
        answer(two, invocation, "two")
    for request_id in requests[1:]:
        assert caller.expect_request(request_id).args == ["two"]
