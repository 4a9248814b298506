"""wamp_anyio when the router goes away in the middle of traffic, under asyncio and trio.

Each test has a Crossbar.io node of its own (``fresh_crossbar``), kills or stops it
while calls are pending, and starts it again on the same endpoints: pending calls
must fail at once with TransportLost, and a reconnecting application (the
ApplicationRunner, or ``reconnecting()``) must join again and serve again.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import anyio
import pytest

import wamp_anyio
from tests.integration.crossbar_node import CrossbarNode
from wamp_anyio import ApplicationRunner, ApplicationSession, Session
from wamp_anyio._run import Transport, reconnecting
from wamp_core.application import Backoff
from wamp_core.exception import SessionNotReady, TransportLost
from wamp_core.types import CloseDetails, ComponentConfig, SessionDetails

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

REALM = "realm1"
TIMEOUT = 90.0  # two node starts (a few seconds each) and the traffic
PENDING = 3  # calls pending when the router goes
PROMPT = 2.0  # seconds within which pending calls must fail once the router is gone


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Callee:
    """What the callee application does on every session: register a slow and a
    quick procedure, and count joins and the invocations it had to give up."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.joins: list[int | None] = []
        self.joined = [anyio.Event(), anyio.Event()]  # the first and the second join
        self.running = 0
        self.all_running = anyio.Event()
        self.canceled = 0

    async def setup(self, session: Session, details: SessionDetails) -> None:
        await session.register(self.slow, f"{self.prefix}.slow")
        await session.register(lambda x: x * 2, f"{self.prefix}.double")
        self.joins.append(details.session)
        self.joined[min(len(self.joins), 2) - 1].set()

    async def slow(self) -> None:
        self.running += 1
        if self.running == PENDING:
            self.all_running.set()
        try:
            await anyio.sleep(60)
        except anyio.get_cancelled_exc_class():
            self.canceled += 1
            raise


async def fail_pending_calls(
    node: CrossbarNode, caller: Session, callee: Callee, *, kill: bool
) -> list[tuple[BaseException, float]]:
    """Start PENDING slow calls, stop the node once the callee runs them all, and
    return how each call ended and when, relative to the end of the stop (negative:
    while the node was stopping; a graceful stop takes a while)."""
    outcomes: list[tuple[BaseException, float]] = []

    async def pending_call() -> None:
        try:
            await caller.call(f"{callee.prefix}.slow")
        except Exception as exc:
            outcomes.append((exc, anyio.current_time()))

    async with anyio.create_task_group() as tg:
        for _ in range(PENDING):
            tg.start_soon(pending_call)
        await callee.all_running.wait()
        await anyio.to_thread.run_sync(functools.partial(node.stop, kill=kill))
        stopped_at = anyio.current_time()
    return [(exc, when - stopped_at) for exc, when in outcomes]


async def test_runner_reconnects_after_the_router_is_killed(
    fresh_crossbar: CrossbarNode,
) -> None:
    """ApplicationRunner(auto_reconnect=True): kill the router while calls are pending
    (they fail with TransportLost at once), start it again (onJoin runs again and the
    procedure is served again), and stop() ends the runner."""
    node = fresh_crossbar
    callee = Callee("com.reconnect.runner")

    class CalleeSession(ApplicationSession):
        async def onJoin(self, details: SessionDetails) -> None:
            await callee.setup(self, details)

    runner = ApplicationRunner(
        node.ws_url,
        REALM,
        max_retries=100,
        initial_retry_delay=0.2,
        max_retry_delay=0.5,
        retry_delay_jitter=0.05,
    )
    ended = anyio.Event()

    async def run() -> None:
        await runner.run_async(CalleeSession, auto_reconnect=True)
        ended.set()

    with anyio.fail_after(TIMEOUT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await callee.joined[0].wait()
            async with wamp_anyio.connect(node.rs_url, REALM) as caller:
                assert await caller.call("com.reconnect.runner.double", 21) == 42
                outcomes = await fail_pending_calls(node, caller, callee, kill=True)
                assert len(outcomes) == PENDING
                for error, after in outcomes:
                    assert isinstance(error, TransportLost), repr(error)
                    assert after < PROMPT, f"failed {after:.2f} s after the kill"
                assert not caller.is_attached()
                with pytest.raises(SessionNotReady):
                    caller.call("com.reconnect.runner.double", 1)
            # The callee's invocations ended with its transport.
            assert callee.canceled == PENDING

            await anyio.to_thread.run_sync(node.start)
            await callee.joined[1].wait()  # the runner reconnected: onJoin ran again
            assert len(callee.joins) == 2 and callee.joins[0] != callee.joins[1]
            async with wamp_anyio.connect(node.ws_url, REALM) as caller:
                assert await caller.call("com.reconnect.runner.double", 4) == 8
            runner.stop()
            await ended.wait()
    assert len(callee.joins) == 2


async def test_reconnecting_after_a_graceful_stop(fresh_crossbar: CrossbarNode) -> None:
    """``reconnecting()`` with a plain Session subclass, over RawSocket: a graceful
    stop (Crossbar 26 drops connections without GOODBYE) fails the pending calls with
    TransportLost at once, the session hears on_leave and on_disconnect, and a new
    session joins once the router is back."""
    node = fresh_crossbar
    callee = Callee("com.reconnect.plain")
    hooks: list[str] = []

    class CalleeSession(Session):
        async def on_join(self, details: SessionDetails) -> None:
            hooks.append("join")
            await callee.setup(self, details)

        def on_leave(self, details: CloseDetails) -> None:
            hooks.append(f"leave:{details.reason}")
            self.disconnect()

        def on_disconnect(self) -> None:
            hooks.append("disconnect")

    sessions: list[Session | None] = []
    stopped = anyio.Event()
    transport = Transport(node.rs_url, serializers=["cbor"])
    backoff = Backoff(max_retries=100, initial_retry_delay=0.2, max_retry_delay=0.5)

    def make(config: ComponentConfig) -> Session:
        return CalleeSession(config)

    with anyio.fail_after(TIMEOUT):
        async with anyio.create_task_group() as tg:
            run = functools.partial(
                reconnecting,
                make,
                ComponentConfig(realm=REALM),
                transport,
                backoff,
                stopped,
                on_session=sessions.append,
            )
            tg.start_soon(run)
            await callee.joined[0].wait()
            async with wamp_anyio.connect(node.ws_url, REALM) as caller:
                outcomes = await fail_pending_calls(node, caller, callee, kill=False)
            assert len(outcomes) == PENDING
            for error, after in outcomes:
                assert isinstance(error, TransportLost), repr(error)
                assert after < PROMPT, f"failed {after:.2f} s after the stop"
            assert callee.canceled == PENDING

            await anyio.to_thread.run_sync(node.start)
            await callee.joined[1].wait()
            assert hooks[:3] == ["join", "leave:wamp.close.transport_lost", "disconnect"]
            async with wamp_anyio.connect(node.rs_unix_url, REALM) as caller:
                assert await caller.call("com.reconnect.plain.double", 5) == 10
            stopped.set()
            current: Any = sessions[-1]
            assert current is not None
            current.disconnect()
    assert sessions[-1] is None  # the last session ended and nothing followed


async def test_stop_does_not_announce_a_reconnect(
    crossbar: CrossbarNode, caplog: pytest.LogCaptureFixture
) -> None:
    """ApplicationRunner.stop() ends the runner without a word about reconnecting."""
    joined = anyio.Event()

    class Joiner(ApplicationSession):
        def onJoin(self, details: SessionDetails) -> None:
            joined.set()

    runner = ApplicationRunner(crossbar.ws_url, REALM, initial_retry_delay=0.2)
    with anyio.fail_after(15), caplog.at_level(logging.INFO, logger="wamp_anyio"):
        async with anyio.create_task_group() as tg:
            tg.start_soon(functools.partial(runner.run_async, Joiner, auto_reconnect=True))
            await joined.wait()
            runner.stop()
    assert not [r.getMessage() for r in caplog.records if "reconnecting" in r.getMessage()]
