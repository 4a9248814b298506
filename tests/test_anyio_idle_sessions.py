"""Client sessions that hold no task while idle (asyncio), and the Autobahn contract of
``ApplicationRunner.run(make, start_loop=False)``: on asyncio the coroutine completes once
connected, with ``(transport, protocol)``, and the session lives in the loop's callbacks."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import anyio
import pytest

import wamp_anyio
from tests.crossbar.config import make_tls_files
from wamp_anyio import ApplicationRunner, ApplicationSession, Listen
from wamp_core.types import PublishOptions

pytestmark = pytest.mark.anyio

FAIL_SAFE = 10.0  # seconds: only a hang would take this long
SESSIONS = 10


class Recorder(ApplicationSession):
    """Tells what happened to it through asyncio futures."""

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        loop = asyncio.get_running_loop()
        self.joined: asyncio.Future[None] = loop.create_future()
        self.left: asyncio.Future[str] = loop.create_future()
        self.disconnected: asyncio.Future[None] = loop.create_future()

    def onJoin(self, details: Any) -> None:
        self.joined.set_result(None)

    def onLeave(self, details: Any) -> None:
        self.left.set_result(details.reason)
        self.disconnect()

    def onDisconnect(self) -> None:
        self.disconnected.set_result(None)


async def _start(url: str) -> tuple[Any, Any, Recorder]:
    transport, protocol = await ApplicationRunner(url, "realm1").run(
        Recorder, start_loop=False, log_level=None
    )
    session = protocol._session
    assert isinstance(session, Recorder)
    return transport, protocol, session


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_runner_sessions_hold_no_task_while_idle() -> None:
    async with wamp_anyio.serve([Listen("websocket", port=0)]) as server:
        tasks = len(asyncio.all_tasks())
        sessions = []
        with anyio.fail_after(FAIL_SAFE):
            for _ in range(SESSIONS):
                _, _, session = await _start(server.url)
                await session.joined
                sessions.append(session)
            await anyio.sleep(0)  # the hooks' tasks end
            assert len(asyncio.all_tasks()) == tasks
            assert all(session._driver._timer is None for session in sessions)  # type: ignore[union-attr]
            for session in sessions:
                await session.leave()
                await session.disconnected
        assert len(asyncio.all_tasks()) == tasks


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_connect_blocks_hold_only_the_callers_task() -> None:
    async with wamp_anyio.serve([Listen("websocket", port=0)]) as server:
        tasks = len(asyncio.all_tasks())
        async with contextlib.AsyncExitStack() as stack:
            with anyio.fail_after(FAIL_SAFE):
                sessions = [
                    await stack.enter_async_context(wamp_anyio.connect(server.url, "realm1"))
                    for _ in range(SESSIONS)
                ]
                await anyio.sleep(0)
            assert all(session.is_attached() for session in sessions)
            assert len(asyncio.all_tasks()) == tasks
        assert len(asyncio.all_tasks()) == tasks
        assert not any(session.is_attached() for session in sessions)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_runner_returns_once_connected_and_the_session_works() -> None:
    async with wamp_anyio.serve([Listen("websocket", port=0)]) as server:
        tasks = len(asyncio.all_tasks())
        with anyio.fail_after(FAIL_SAFE):
            transport, protocol, session = await _start(server.url)
            assert isinstance(transport, asyncio.Transport)
            assert isinstance(protocol, asyncio.Protocol)
            await session.joined
            events: list[int] = []

            async def slow_double(x: int) -> int:
                await anyio.sleep(0)  # a coroutine endpoint runs in a task of its own
                return 2 * x

            await session.register(slow_double, "com.double")
            await session.subscribe(events.append, "com.topic")
            async with wamp_anyio.connect(server.url, "realm1") as other:
                assert await other.call("com.double", 21) == 42
                await other.publish("com.topic", 7, options=PublishOptions(acknowledge=True))
            assert await session.call("com.double", 2) == 4
            while not events:
                await anyio.sleep(0.01)
            assert events == [7]
            assert len(asyncio.all_tasks()) == tasks  # the endpoint's task ended
            await session.leave()
            assert await session.left == "wamp.close.normal"
            await session.disconnected
            while not transport.is_closing():
                await anyio.sleep(0.01)
        assert not session.is_attached()
        assert len(asyncio.all_tasks()) == tasks


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_refused_connection_raises_from_the_coroutine() -> None:
    async with wamp_anyio.serve([Listen("websocket", port=0)]) as server:
        url = server.url  # nobody listens there once the router stopped
    with pytest.raises(OSError):
        await ApplicationRunner(url, "realm1").run(Recorder, start_loop=False, log_level=None)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_session_whose_router_goes_away_is_told_so() -> None:
    async with wamp_anyio.serve([Listen("websocket", port=0)]) as server:
        with anyio.fail_after(FAIL_SAFE):
            _, _, session = await _start(server.url)
            await session.joined
    with anyio.fail_after(FAIL_SAFE):
        await session.disconnected
    assert not session.is_attached()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_silent_peer_is_left_by_the_loop_timer() -> None:
    """The opening handshake's deadline, kept by a loop timer (no task waits for it)."""
    accepted: list[anyio.abc.SocketStream] = []

    async def keep(stream: anyio.abc.SocketStream) -> None:
        accepted.append(stream)  # never answers

    async with (
        await anyio.create_tcp_listener(local_host="127.0.0.1") as listener,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(listener.serve, keep)
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        runner = ApplicationRunner(
            f"ws://127.0.0.1:{port}/ws", "realm1", websocket_options={"open_timeout": 0.05}
        )
        with anyio.fail_after(FAIL_SAFE):
            _, protocol = await runner.run(Recorder, start_loop=False, log_level=None)
            session = protocol._session
            assert session._driver._timer is not None
            await session.disconnected
        assert not session.joined.done()
        tg.cancel_scope.cancel()
        for stream in accepted:
            await stream.aclose()


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_on_trio_auto_reconnect_runs_until_the_end() -> None:
    """With auto_reconnect there is nothing to hand back: the coroutine runs the
    sessions until they end (without it, on trio as on asyncio, it returns once
    connected: tests/test_anyio_trio_idle_sessions.py)."""
    joined = anyio.Event()
    runner = ApplicationRunner("ws://127.0.0.1:1/ws", "realm1")

    class Leaves(ApplicationSession):
        def onJoin(self, details: Any) -> None:
            joined.set()
            runner.stop()
            self.leave()

        def onLeave(self, details: Any) -> None:
            self.disconnect()

    async with wamp_anyio.serve([Listen("websocket", port=0)]) as server:
        runner.url = server.url
        with anyio.fail_after(FAIL_SAFE):
            coroutine = runner.run(Leaves, start_loop=False, log_level=None, auto_reconnect=True)
            assert await coroutine is None
        assert joined.is_set()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_full_transport_is_drained_by_a_task_that_then_ends() -> None:
    """Driven in callbacks, what the transport cannot take at once waits for a task that
    writes it once the transport drained, in order, and then ends."""
    payload = "x" * 65536
    count = 256  # 16 MiB: more than the kernel buffers take at once
    async with wamp_anyio.serve([Listen("websocket", port=0)]) as server:
        tasks = len(asyncio.all_tasks())
        with anyio.fail_after(FAIL_SAFE):
            _, _, publisher = await _start(server.url)
            await publisher.joined
            received: list[int] = []
            async with wamp_anyio.connect(server.url, "realm1") as subscriber:
                await subscriber.subscribe(lambda n, _: received.append(n), "com.big")
                driver = publisher._driver
                assert driver is not None
                for n in range(count):
                    publisher.publish("com.big", n, payload)
                    if n % (count // 2) == 0:
                        await anyio.sleep(0)  # what was queued goes to the transport
                await anyio.sleep(0)
                assert driver._pumping  # the transport's buffer is over its high-water mark
                await publisher.publish(
                    "com.big", count, "", options=PublishOptions(acknowledge=True)
                )
                while len(received) < count + 1:
                    await anyio.sleep(0.01)
            assert received == list(range(count + 1))
            assert not driver._pumping
            await publisher.leave()
            await publisher.disconnected
        assert len(asyncio.all_tasks()) == tasks


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_session_that_cannot_start_closes_its_socket() -> None:
    async with wamp_anyio.serve([Listen("websocket", port=0)]) as server:
        runner = ApplicationRunner(server.url, "realm1", websocket_options={"no_such": 1})
        with anyio.fail_after(FAIL_SAFE):
            with pytest.raises(ValueError, match="no_such"):
                await runner.run(Recorder, start_loop=False, log_level=None)
            while server.router.connections:  # the router sees the socket close
                await anyio.sleep(0.01)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_runner_over_tls_reads_in_one_task(tmp_path: Path) -> None:
    """TLS wraps our stream: the session is read by one task, and works the same."""
    import ssl

    files = make_tls_files(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert_file, files.key_file)
    client = ssl.create_default_context(cafile=str(files.ca_file))
    listen = Listen("websocket", host="127.0.0.1", port=0, tls=context)
    async with wamp_anyio.serve([listen]) as server:
        tasks = len(asyncio.all_tasks())
        with anyio.fail_after(FAIL_SAFE):
            runner = ApplicationRunner(server.url, "realm1", ssl=client)
            transport, protocol = await runner.run(Recorder, start_loop=False, log_level=None)
            assert isinstance(transport, asyncio.Transport)  # the socket's, under TLS
            session = protocol._session
            await session.joined
            assert len(asyncio.all_tasks()) == tasks + 1  # the reader
            await session.register(lambda x: x + 1, "com.inc")
            assert await session.call("com.inc", 1) == 2
            await session.leave()
            await session.disconnected
            while len(asyncio.all_tasks()) > tasks:
                await anyio.sleep(0.01)
