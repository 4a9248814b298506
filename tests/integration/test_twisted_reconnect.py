"""wamp_twisted's long-lived runners against a real Crossbar.io router: Service
start/stop, and a router restart in the middle of traffic.

The restart test has a Crossbar.io node of its own (``fresh_crossbar``) and stops
it while calls are pending: they must fail at once with TransportLost, and an
ApplicationRunner with auto_reconnect, an Application and a Service must join
again and serve again once the node is back (the Application registers and
subscribes again: Autobahn's gives up instead).

Scenarios run in the reactor thread (:mod:`tests.integration.twisted_reactor`);
the node stops and starts in the reactor's thread pool (``deferToThread``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from twisted.internet import defer
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.threads import deferToThread

from tests.integration.crossbar_node import CrossbarNode
from tests.integration.twisted_client import (
    REALM,
    Client,
    Inbox,
    Latch,
    connect,
    publish,
    unique,
)
from tests.integration.twisted_reactor import ReactorThread
from wamp_core.exception import ApplicationError, SessionNotReady, TransportLost
from wamp_core.types import CloseDetails, SessionDetails
from wamp_twisted import Application, ApplicationRunner, Service
from wamp_twisted.util import sleep

pytestmark = pytest.mark.integration

TIMEOUT = 15.0  # seconds for a scenario on the shared node
RESTART_TIMEOUT = 90.0  # a node stop and start (a few seconds each) and the traffic
PENDING = 3  # calls pending when the router goes
# Reconnect soon (the defaults wait seconds).
RETRY: dict[str, Any] = {
    "initial_retry_delay": 0.2,
    "max_retry_delay": 0.5,
    "retry_delay_jitter": 0.05,
}


@pytest.fixture(scope="session")
def reactor_thread() -> Iterator[ReactorThread]:
    thread = ReactorThread.shared()
    yield thread
    thread.stop()


@pytest.fixture
def run(reactor_thread: ReactorThread) -> Callable[..., Any]:
    """``run(scenario, *args)``: the scenario in the reactor thread, within TIMEOUT."""
    return functools.partial(reactor_thread.run, timeout=TIMEOUT)


class Joins:
    """The sessions of a (reconnecting) application, in the order they joined."""

    def __init__(self) -> None:
        self.sessions: list[Any] = []
        self._latches: dict[int, Latch[Any]] = {}

    def joined(self, session: Any) -> None:
        self.sessions.append(session)
        self._latch(len(self.sessions)).set(session)

    def nth(self, n: int) -> Deferred[Any]:
        """Fires with the n-th session (from 1) once it has joined."""
        return self._latch(n).wait()

    def _latch(self, n: int) -> Latch[Any]:
        return self._latches.setdefault(n, Latch())


@dataclass
class Backend:
    """What a Callee shares across its sessions (its ``config.extra``)."""

    prefix: str
    joins: Joins = field(default_factory=Joins)
    running: int = 0
    all_running: Latch[None] = field(default_factory=Latch)
    canceled: int = 0


class Callee(Client):
    """Registers ``<prefix>.double`` and ``<prefix>.slow`` on every join, then
    counts as joined."""

    async def onJoin(self, details: SessionDetails) -> None:
        backend: Backend = self.config.extra
        await self.register(self.slow, f"{backend.prefix}.slow")
        await self.register(lambda x: x * 2, f"{backend.prefix}.double")
        super().onJoin(details)
        backend.joins.joined(self)

    async def slow(self) -> None:
        backend: Backend = self.config.extra
        backend.running += 1
        if backend.running == PENDING:
            backend.all_running.set(None)
        try:
            await sleep(60)
        except CancelledError:
            backend.canceled += 1
            raise


def test_service_start_and_stop(crossbar: CrossbarNode, run: Callable[..., Any]) -> None:
    """startService connects and joins; stopService leaves (GOODBYE answered: the
    router has forgotten the session and its registrations) and disconnects, and
    nothing reconnects."""
    backend = Backend(unique())

    async def scenario() -> None:
        service = Service(crossbar.rs_unix_url, REALM, Callee, extra=backend, **RETRY)
        service.startService()
        try:
            assert service.running
            session = await backend.joins.nth(1)
            session_id = session.details.session
            async with connect(crossbar.ws_url) as caller:
                assert await caller.call(f"{backend.prefix}.double", 21) == 42
                await service.stopService()
                assert not service.running
                assert await session.left.wait() == CloseDetails("wamp.close.normal", None)
                await session.disconnected.wait()
                with pytest.raises(ApplicationError) as caught:
                    await caller.call(f"{backend.prefix}.double", 1)
                assert caught.value.error == ApplicationError.NO_SUCH_PROCEDURE
                with pytest.raises(ApplicationError) as caught:
                    await caller.call("wamp.session.get", session_id)
                assert caught.value.error == ApplicationError.NO_SUCH_SESSION
            assert backend.joins.sessions == [session]  # stopService ended the runner
            assert session.user_errors == []
        finally:
            if service.running:
                await service.stopService()

    run(scenario)


def calculator(prefix: str, joins: Joins, news: Inbox, leaves: list[None]) -> Application:
    """An Autobahn-style Application: a procedure and a handler named after their
    functions, and signals that count its joins and leaves."""
    app = Application(prefix)

    @app.register()
    def triple(x: int) -> int:
        return 3 * x

    @app.subscribe()
    def headlines(text: str) -> None:
        news.receive(text)

    @app.signal("onjoined")
    def onjoined() -> None:
        joins.joined(app.session)

    @app.signal("onleave")
    def onleave() -> None:
        leaves.append(None)

    return app


async def fail_pending_calls(node: CrossbarNode, caller: Client, callee: Backend) -> list[Any]:
    """Start PENDING slow calls, stop the router once the callee runs them all, and
    return how each call ended."""
    pending = [caller.call(f"{callee.prefix}.slow") for _ in range(PENDING)]
    await callee.all_running.wait()
    await deferToThread(node.stop)
    ended = await defer.DeferredList(pending, consumeErrors=True)
    return [outcome.value if not ok else outcome for ok, outcome in ended]


def test_router_restart(fresh_crossbar: CrossbarNode, reactor_thread: ReactorThread) -> None:
    """The router stops while calls are pending and starts again. The pending calls
    fail with TransportLost at once, and the callee's invocations are canceled; an
    ApplicationRunner with auto_reconnect, an Application (reconnecting by default)
    and a Service all join again and serve again: the Application registers and
    subscribes again. stop() and stopService() end them."""
    node = fresh_crossbar
    runner_backend, service_backend = Backend(unique()), Backend(unique())
    app_prefix, app_joins, news = unique(), Joins(), Inbox()
    app_leaves: list[None] = []
    app = calculator(app_prefix, app_joins, news, app_leaves)

    async def scenario() -> None:
        runner = ApplicationRunner(node.ws_url, REALM, extra=runner_backend, **RETRY)
        runner.run(Callee, start_reactor=False, auto_reconnect=True)
        app.run(node.rs_url, REALM, start_reactor=False, **RETRY)
        service = Service(node.ws_unix_url, REALM, Callee, extra=service_backend, **RETRY)
        service.startService()
        try:
            callee = await runner_backend.joins.nth(1)
            await app_joins.nth(1)
            await service_backend.joins.nth(1)
            async with connect(node.rs_url) as caller:
                assert await caller.call(f"{runner_backend.prefix}.double", 4) == 8
                outcomes = await fail_pending_calls(node, caller, runner_backend)
                assert [type(error) for error in outcomes] == [TransportLost] * PENDING
                await caller.disconnected.wait()
                assert not caller.is_attached()
                with pytest.raises(SessionNotReady):
                    caller.call(f"{runner_backend.prefix}.double", 1)
            await callee.disconnected.wait()
            assert runner_backend.canceled == PENDING  # ended with the callee's transport

            await deferToThread(node.start)
            await runner_backend.joins.nth(2)
            await app_joins.nth(2)
            await service_backend.joins.nth(2)
            assert len(app_leaves) == 1
            async with connect(node.ws_url) as caller:
                assert await caller.call(f"{runner_backend.prefix}.double", 5) == 10
                assert await caller.call(f"{service_backend.prefix}.double", 6) == 12
                assert await caller.call(f"{app_prefix}.triple", 7) == 21
                await publish(caller, f"{app_prefix}.headlines", "back")
                assert [e.args for e in await news.take(1)] == [("back",)]
        finally:
            runner.stop()
            app_runner = app_joins.sessions[0].config.runner if app_joins.sessions else None
            if app_runner is not None:
                app_runner.stop()
            await service.stopService()
        for stopped in (runner, app_joins.sessions[0].config.runner):
            assert stopped.done is not None
            await stopped.done  # no more reconnecting
        assert len({session.details.session for session in app_joins.sessions}) == 2
        assert len(app_leaves) == 2 and app.session is None
        sessions = runner_backend.joins.sessions + service_backend.joins.sessions
        assert len(sessions) == 4 and len({s.details.session for s in sessions}) == 4
        assert all(s.user_errors == [] for s in sessions)

    reactor_thread.run(scenario, timeout=RESTART_TIMEOUT)
