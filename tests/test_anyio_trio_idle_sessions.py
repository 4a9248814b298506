"""Client sessions that hold no task while idle on trio: ``ApplicationRunner.run(make,
start_loop=False)`` returns once connected, and one system task per trio run (the
multiplexer, wamp_anyio._trio_mux) reads every such session's socket."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

import anyio
import pytest
import trio
import trio.testing

import wamp_anyio
from wamp_anyio import ApplicationRunner, ApplicationSession, Listen
from wamp_anyio._trio_mux import HIGH_WATER, TrioStream
from wamp_core.types import PublishOptions

ON_TRIO = pytest.mark.parametrize("anyio_backend", ["trio"])

FAIL_SAFE = 10.0  # seconds: only a hang would take this long
SESSIONS = 10


class Recorder(ApplicationSession):
    """Tells what happened to it through events."""

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.joined = anyio.Event()
        self.left: list[str] = []
        self.disconnected = anyio.Event()

    def onJoin(self, details: Any) -> None:
        self.joined.set()

    def onLeave(self, details: Any) -> None:
        self.left.append(details.reason)
        self.disconnect()

    def onDisconnect(self) -> None:
        self.disconnected.set()


async def _start(url: str, **options: Any) -> tuple[TrioStream, Recorder]:
    stream, protocol = await ApplicationRunner(url, "realm1", **options).run(
        Recorder, start_loop=False, log_level=None
    )
    session = protocol._session
    assert isinstance(session, Recorder)
    assert isinstance(stream, TrioStream)
    return stream, session


def _tasks(top: trio.lowlevel.Task | None = None) -> int:
    """The tasks under ``top`` (default: every task of the run), ``top`` included."""

    def count(task: trio.lowlevel.Task) -> int:
        return 1 + sum(
            count(child) for nursery in task.child_nurseries for child in nursery.child_tasks
        )

    return count(top or trio.lowlevel.current_root_task())


async def _router_in_system_task() -> tuple[str, trio.lowlevel.Task]:
    """A router for the rest of the trio run, in a system task (canceled as the run
    ends, with the multiplexer): its URL, and the task (to count its tasks apart)."""
    url: list[str] = []
    started = trio.Event()

    async def router() -> None:
        async with wamp_anyio.serve([Listen("websocket", port=0)]) as server:
            url.append(server.url)
            started.set()
            await trio.sleep_forever()

    task = trio.lowlevel.spawn_system_task(router)
    await started.wait()
    return url[0], task


@pytest.mark.anyio
@ON_TRIO
async def test_idle_runner_sessions_add_no_task() -> None:
    with anyio.fail_after(FAIL_SAFE):
        url, router = await _router_in_system_task()
        _, first = await _start(url)  # starts the multiplexer
        await first.joined.wait()
        await trio.testing.wait_all_tasks_blocked()
        tasks = _tasks() - _tasks(router)
        sessions = [first]
        for _ in range(SESSIONS):
            _, session = await _start(url)
            await session.joined.wait()
            sessions.append(session)
        await trio.testing.wait_all_tasks_blocked()
        assert _tasks() - _tasks(router) == tasks
        assert all(session._driver._timer is None for session in sessions)  # type: ignore[union-attr]
        for session in sessions:
            await session.leave()
            await session.disconnected.wait()
        assert all(session.left == ["wamp.close.normal"] for session in sessions)


@pytest.mark.anyio
@ON_TRIO
async def test_the_session_works() -> None:
    async with wamp_anyio.serve([Listen("websocket", port=0)]) as server:
        with anyio.fail_after(FAIL_SAFE):
            _, session = await _start(server.url)
            await session.joined.wait()
            received = anyio.Event()
            events: list[int] = []

            async def on_event(n: int) -> None:  # a coroutine handler: a task's
                events.append(n)
                received.set()

            async def slow_double(x: int) -> int:
                await anyio.sleep(0)  # a coroutine endpoint runs in a task of its own
                return 2 * x

            await session.register(slow_double, "com.double")
            await session.subscribe(on_event, "com.topic")
            async with wamp_anyio.connect(server.url, "realm1") as other:
                assert await other.call("com.double", 21) == 42
                await other.publish("com.topic", 7, options=PublishOptions(acknowledge=True))
            assert await session.call("com.double", 2) == 4
            await received.wait()
            assert events == [7]
            await session.leave()
            await session.disconnected.wait()
        assert session.left == ["wamp.close.normal"]
        assert not session.is_attached()


@pytest.mark.anyio
@ON_TRIO
async def test_a_refused_connection_raises() -> None:
    with socket.socket() as unused:  # bound, never listening: the connection is refused
        unused.bind(("127.0.0.1", 0))
        url = f"ws://127.0.0.1:{unused.getsockname()[1]}/ws"
        with pytest.raises(OSError):
            await ApplicationRunner(url, "realm1").run(Recorder, start_loop=False, log_level=None)


@pytest.mark.anyio
@ON_TRIO
async def test_a_session_whose_router_goes_away_is_told_so() -> None:
    async with wamp_anyio.serve([Listen("websocket", port=0)]) as server:
        with anyio.fail_after(FAIL_SAFE):
            stream, session = await _start(server.url)
            await session.joined.wait()
    with anyio.fail_after(FAIL_SAFE):
        await session.disconnected.wait()
    assert not session.is_attached()
    assert stream.sock.fileno() == -1


@pytest.mark.anyio
@ON_TRIO
async def test_a_silent_peer_is_left_by_the_handshake_deadline() -> None:
    accepted: list[anyio.abc.SocketStream] = []

    async def keep(stream: anyio.abc.SocketStream) -> None:
        accepted.append(stream)  # never answers

    async with (
        await anyio.create_tcp_listener(local_host="127.0.0.1") as listener,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(listener.serve, keep)
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        with anyio.fail_after(FAIL_SAFE):
            _, session = await _start(
                f"ws://127.0.0.1:{port}/ws", websocket_options={"open_timeout": 0.05}
            )
            assert session._driver is not None and session._driver._timer is not None
            await session.disconnected.wait()
        assert not session.joined.is_set()
        tg.cancel_scope.cancel()
        for stream in accepted:
            await stream.aclose()


@pytest.mark.anyio
@ON_TRIO
async def test_a_big_write_drains_in_order() -> None:
    """What the socket does not take at once is held and flushed when it is writable;
    past HIGH_WATER the driver's pump task waits for it to drain (then ends)."""
    payload = "x" * 65536
    count = 256  # 16 MiB: more than the kernel buffers take at once
    async with wamp_anyio.serve([Listen("websocket", port=0)]) as server:
        with anyio.fail_after(FAIL_SAFE):
            stream, publisher = await _start(server.url)
            await publisher.joined.wait()
            received: list[int] = []
            done = anyio.Event()

            def on_big(n: int, _: str) -> None:
                received.append(n)
                if n == count:
                    done.set()

            held = 0
            async with wamp_anyio.connect(server.url, "realm1") as subscriber:
                await subscriber.subscribe(on_big, "com.big")
                for n in range(count):
                    publisher.publish("com.big", n, payload)
                    held = max(held, stream._out_size)
                    if n % 16 == 0:
                        await anyio.sleep(0)
                await publisher.publish(
                    "com.big", count, "", options=PublishOptions(acknowledge=True)
                )
                await done.wait()
            assert received == list(range(count + 1))
            assert held > 0  # the socket's buffer was full at some point
            assert stream._out is None
            assert held > HIGH_WATER  # ... over the mark: a writer waited for it to drain
            assert publisher._driver is not None and not publisher._driver._pumping
            await publisher.leave()
            await publisher.disconnected.wait()


def test_the_end_of_the_trio_run_closes_the_sessions() -> None:
    """The run ends with sessions connected: the multiplexer closes their sockets and
    they hear of it; nothing raises out of trio.run."""
    seen: list[tuple[Recorder, TrioStream]] = []

    async def main() -> None:
        with trio.fail_after(FAIL_SAFE):
            url, _ = await _router_in_system_task()
            for _ in range(3):
                stream, session = await _start(url)
                await session.joined.wait()
                seen.append((session, stream))

    trio.run(main)
    assert len(seen) == 3
    for session, stream in seen:
        assert session.disconnected.is_set()
        assert not session.is_attached()
        assert stream.sock.fileno() == -1


@pytest.mark.anyio
@ON_TRIO
async def test_a_callback_error_ends_that_session_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with wamp_anyio.serve([Listen("websocket", port=0)]) as server:
        with anyio.fail_after(FAIL_SAFE):
            broken_stream, broken = await _start(server.url)
            _, fine = await _start(server.url)
            await broken.joined.wait()
            await fine.joined.wait()
            driver = broken._driver
            assert driver is not None

            def fail(data: bytes) -> None:
                raise RuntimeError("a bug in a callback")

            await broken.subscribe(lambda: None, "com.topic")
            await fine.subscribe(lambda: None, "com.topic")
            broken_stream.deliver_to(_first_then(fail, driver._delivered))
            with caplog.at_level(logging.ERROR, logger="wamp_anyio"):
                await fine.publish("com.topic", options=PublishOptions(acknowledge=True))
                await broken.disconnected.wait()
            assert "a bug in a callback" in caplog.text
            assert broken_stream.sock.fileno() == -1
            assert fine.is_attached()
            await fine.register(lambda: 1, "com.one")
            assert await fine.call("com.one") == 1
            await fine.leave()
            await fine.disconnected.wait()


def _first_then(
    first: Callable[[bytes], None], then: Callable[[bytes], None]
) -> Callable[[bytes], None]:
    """``first`` for the first delivery (which raises), ``then`` for what follows (the end)."""
    calls: list[bytes] = []

    def receive(data: bytes) -> None:
        calls.append(data)
        (first if len(calls) == 1 else then)(data)

    return receive


def test_no_pollable_selector_reads_each_session_in_a_task(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where the selector has no descriptor to wait on (Windows' select()), a session
    is read by a task of the multiplexer's nursery, and works the same."""
    import selectors

    monkeypatch.setattr(selectors, "DefaultSelector", selectors.SelectSelector)

    async def main() -> None:
        async with wamp_anyio.serve([Listen("websocket", port=0)]) as server:
            with trio.fail_after(FAIL_SAFE):
                stream, protocol = await ApplicationRunner(server.url, "realm1").run(
                    Recorder, start_loop=False, log_level=None
                )
                assert not isinstance(stream, TrioStream)
                session = protocol._session
                await session.joined.wait()
                await session.register(lambda x: x, "com.echo")
                assert await session.call("com.echo", 3) == 3
                await session.leave()
                await session.disconnected.wait()

    trio.run(main)
