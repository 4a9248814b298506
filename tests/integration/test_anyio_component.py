"""wamp_anyio's Component (Autobahn's API) against a real Crossbar.io node, under
asyncio and trio: main and decorators, a transports list whose first entry is
unreachable, RawSocket with a serializer list, ticket and cryptosign authentication
(given as a callable), the lifecycle events in order, giving up, and a router restart
in the middle."""

from __future__ import annotations

import socket
from typing import Any

import anyio
import pytest

from tests.integration.crossbar_node import CrossbarNode
from wamp_anyio.component import Component
from wamp_core.types import SessionDetails

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

TIMEOUT = 60.0


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"ws://127.0.0.1:{port}/ws"


async def test_main_decorators_and_an_unreachable_first_transport(crossbar: CrossbarNode) -> None:
    order: list[str] = []
    failures: list[BaseException] = []

    async def main(loop: Any, session: Any) -> int:
        order.append("main")
        return int(await session.call("com.component.anyio.double", 21))

    component = Component(
        main=main,
        transports=[
            {"url": closed_port(), "max_retries": 0},
            {"type": "rawsocket", "url": crossbar.rs_url, "serializers": ["msgpack", "json"]},
        ],
        realm=crossbar.realm,
    )

    @component.register("com.component.anyio.double")
    def double(x: int) -> int:
        return x * 2

    @component.on_connectfailure
    def failed(comp: Component, error: BaseException) -> None:
        failures.append(error)

    @component.on_join
    async def joined(session: Any, details: SessionDetails) -> None:
        order.append("join")

    @component.on_ready
    def ready(session: Any) -> None:
        order.append("ready")

    @component.on_leave
    def left(session: Any, details: Any) -> None:
        order.append(f"leave {details.reason}")

    @component.on_disconnect
    def disconnected(session: Any, was_clean: bool) -> None:
        order.append(f"disconnect {was_clean}")

    with anyio.fail_after(TIMEOUT):
        assert await component.start() == 42
    assert len(failures) == 1 and isinstance(failures[0], OSError)
    assert order == ["join", "ready", "main", "leave wamp.close.normal", "disconnect True"]


@pytest.mark.parametrize("method", ["ticket", "cryptosign"])
async def test_authentication_given_as_a_callable(crossbar: CrossbarNode, method: str) -> None:
    principal = crossbar.principals[method]
    calls = []

    def credentials() -> dict[str, Any]:
        calls.append(1)
        if method == "ticket":
            return {"ticket": {"authid": principal["authid"], "ticket": principal["ticket"]}}
        return {
            "cryptosign": {"authid": principal["authid"], "privkey": principal["private_seed_hex"]}
        }

    async def main(loop: Any, session: Any) -> str:
        return str(session.details.authrole)

    component = Component(
        main=main, transports=crossbar.ws_url, realm=crossbar.realm, authentication=credentials
    )
    with anyio.fail_after(TIMEOUT):
        assert await component.start() == principal["role"]
    assert calls == [1]


async def test_every_transport_giving_up(anyio_backend: str) -> None:
    gave_up: list[BaseException] = []
    component = Component(
        transports=[{"url": closed_port(), "max_retries": 1, "initial_retry_delay": 0.01}],
    )
    component.on("giveup", lambda comp, error: gave_up.append(error))
    with anyio.fail_after(TIMEOUT), pytest.raises(ConnectionError, match="exhausted"):
        await component.start()
    assert len(gave_up) == 1 and isinstance(gave_up[0], OSError)


async def test_a_router_restart_in_the_middle(fresh_crossbar: CrossbarNode) -> None:
    joins: list[int] = []
    second = anyio.Event()
    component = Component(
        transports={"url": fresh_crossbar.ws_url, "initial_retry_delay": 0.2, "max_retry_delay": 1},
        realm=fresh_crossbar.realm,
    )

    @component.register("com.component.anyio.restart")
    def ping() -> str:
        return "pong"

    @component.on_join
    async def joined(session: Any, details: SessionDetails) -> None:
        joins.append(details.session)
        assert await session.call("com.component.anyio.restart") == "pong"
        if len(joins) == 1:
            await anyio.to_thread.run_sync(fresh_crossbar.restart)
        else:
            second.set()

    with anyio.fail_after(TIMEOUT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(component.start)
            await second.wait()
            component.stop()
    assert len(joins) == 2 and joins[0] != joins[1]
