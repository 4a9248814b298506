"""Autobahn's Component on all three loops (asyncio, trio, Twisted), against a real
Crossbar.io node: one behaviour suite, each scenario written once with the loop's
Component and primitives passed in. main and decorators with a transports list whose
first entry is unreachable, RawSocket with a serializer list, ticket and cryptosign
authentication given as a callable, the lifecycle events in order, giving up, and a
router restart in the middle."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest

from tests.integration.crossbar_node import CrossbarNode
from tests.integration.twisted_reactor import ReactorThread
from wamp_core.types import SessionDetails

pytestmark = pytest.mark.integration

TIMEOUT = 60.0


class AnyioLoop:
    def __init__(self, backend: str) -> None:
        from wamp_anyio.component import Component

        self.backend = backend
        self.Component = Component
        self._group: Any = None

    def run(self, scenario: Callable[..., Any], *args: Any) -> Any:
        async def bounded() -> Any:
            with anyio.fail_after(TIMEOUT):
                async with anyio.create_task_group() as self._group:
                    return await scenario(self, *args)

        return anyio.run(bounded, backend=self.backend)

    async def blocking(self, fn: Callable[[], Any]) -> Any:
        return await anyio.to_thread.run_sync(fn)

    def spawn(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn()`` in a task of its own; awaiting the result waits for it."""
        done = anyio.Event()
        outcome: list[Any] = []

        async def task() -> None:
            outcome.append(await fn())
            done.set()

        self._group.start_soon(task)

        async def result() -> Any:
            await done.wait()
            return outcome[0]

        return result()

    def event(self) -> Any:
        return anyio.Event()


class TwistedLoop:
    def __init__(self, thread: ReactorThread) -> None:
        from wamp_twisted.component import Component

        self.thread = thread
        self.Component = Component
        self.backend = "twisted"

    def run(self, scenario: Callable[..., Any], *args: Any) -> Any:
        return self.thread.run(scenario, self, *args, timeout=TIMEOUT)

    async def blocking(self, fn: Callable[[], Any]) -> Any:
        from twisted.internet.threads import deferToThread

        return await deferToThread(fn)

    def spawn(self, fn: Callable[[], Any]) -> Any:
        from twisted.internet.defer import ensureDeferred

        return ensureDeferred(fn())

    def event(self) -> Any:
        return _Latch()


class _Latch:
    def __init__(self) -> None:
        from twisted.internet.defer import Deferred

        self._waiters: list[Deferred[None]] = []
        self._set = False

    def set(self) -> None:
        self._set = True
        for waiter in self._waiters:
            waiter.callback(None)
        self._waiters.clear()

    async def wait(self) -> None:
        from twisted.internet.defer import Deferred

        if not self._set:
            waiter: Deferred[None] = Deferred()
            self._waiters.append(waiter)
            await waiter


@pytest.fixture(scope="module")
def reactor_thread() -> Iterator[ReactorThread]:
    thread = ReactorThread.shared()
    yield thread


@pytest.fixture(params=["asyncio", "trio", "twisted"])
def loop(request: pytest.FixtureRequest) -> Any:
    if request.param == "twisted":
        return TwistedLoop(request.getfixturevalue("reactor_thread"))
    return AnyioLoop(request.param)


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"ws://127.0.0.1:{port}/ws"


async def main_and_decorators(
    loop: Any, crossbar: CrossbarNode
) -> tuple[Any, list[str], list[Any]]:
    order: list[str] = []
    failures: list[BaseException] = []
    uri = f"com.component.{loop.backend}.double"

    async def main(reactor: Any, session: Any) -> int:
        order.append("main")
        return int(await session.call(uri, 21))

    component = loop.Component(
        main=main,
        transports=[
            {"url": closed_port(), "max_retries": 0},
            {"type": "rawsocket", "url": crossbar.rs_url, "serializers": ["msgpack", "json"]},
        ],
        realm=crossbar.realm,
    )

    @component.register(uri)
    def double(x: int) -> int:
        return x * 2

    component.on_connectfailure(lambda comp, error: failures.append(error))

    @component.on_join
    async def joined(session: Any, details: SessionDetails) -> None:
        order.append("join")

    component.on_ready(lambda session: order.append("ready"))
    component.on_leave(lambda session, details: order.append(f"leave {details.reason}"))
    component.on_disconnect(lambda session, clean: order.append(f"disconnect {clean}"))
    result = await component.start()
    return result, order, failures


def test_main_decorators_and_an_unreachable_first_transport(
    loop: Any, crossbar: CrossbarNode
) -> None:
    result, order, failures = loop.run(main_and_decorators, crossbar)
    assert result == 42
    assert len(failures) == 1 and isinstance(failures[0], Exception)
    assert order == ["join", "ready", "main", "leave wamp.close.normal", "disconnect True"]


async def authenticated(loop: Any, crossbar: CrossbarNode, method: str) -> tuple[Any, int]:
    principal = crossbar.principals[method]
    calls: list[int] = []

    def credentials() -> dict[str, Any]:
        calls.append(1)
        if method == "ticket":
            return {"ticket": {"authid": principal["authid"], "ticket": principal["ticket"]}}
        key = principal["private_seed_hex"]
        return {"cryptosign": {"authid": principal["authid"], "privkey": key}}

    async def main(reactor: Any, session: Any) -> str:
        return str(session.details.authrole)

    component = loop.Component(
        main=main, transports=crossbar.ws_url, realm=crossbar.realm, authentication=credentials
    )
    return await component.start(), len(calls)


@pytest.mark.parametrize("method", ["ticket", "cryptosign"])
def test_authentication_given_as_a_callable(loop: Any, crossbar: CrossbarNode, method: str) -> None:
    role, calls = loop.run(authenticated, crossbar, method)
    assert role == crossbar.principals[method]["role"]
    assert calls == 1


async def giving_up(loop: Any) -> list[BaseException]:
    gave_up: list[BaseException] = []
    transport = {"url": closed_port(), "max_retries": 1, "initial_retry_delay": 0.01}
    component = loop.Component(transports=[transport])
    component.on("giveup", lambda comp, error: gave_up.append(error))
    with pytest.raises(ConnectionError, match="exhausted"):
        await component.start()
    return gave_up


def test_every_transport_giving_up(loop: Any) -> None:
    gave_up = loop.run(giving_up)
    assert len(gave_up) == 1 and isinstance(gave_up[0], Exception)


async def restarted(loop: Any, node: CrossbarNode) -> list[int]:
    joins: list[int] = []
    second = loop.event()
    uri = f"com.component.{loop.backend}.restart"
    component = loop.Component(
        transports={"url": node.ws_url, "initial_retry_delay": 0.2, "max_retry_delay": 1},
        realm=node.realm,
    )
    component.register(uri)(lambda: "pong")

    @component.on_join
    async def joined(session: Any, details: SessionDetails) -> None:
        joins.append(details.session)
        assert await session.call(uri) == "pong"
        if len(joins) == 1:
            await loop.blocking(node.restart)
        else:
            second.set()

    running = loop.spawn(component.start)
    await second.wait()
    await _maybe(component.stop())
    await running
    return joins


async def _maybe(value: Any) -> Any:
    import inspect

    return await value if inspect.isawaitable(value) else value


def test_a_router_restart_in_the_middle(loop: Any, fresh_crossbar: CrossbarNode) -> None:
    joins = loop.run(restarted, fresh_crossbar)
    assert len(joins) == 2 and joins[0] != joins[1]
