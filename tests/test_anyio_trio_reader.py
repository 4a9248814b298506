"""wamp_anyio under trio over TCP: the driver reads the socket through _trio_reader
(one wait for readability, then one recv), and ends cleanly however the socket ends."""

from __future__ import annotations

import socket
from typing import Any

import anyio
import anyio.abc
import pytest

from tests.anyio_router import AnyioTcpRouter
from tests.test_anyio_adapter import call_cut_off, joined
from wamp_anyio import _trio_reader
from wamp_anyio._trio_reader import trio_receiver
from wamp_core.messages import Call, Event, Result, Subscribe, Subscribed

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "trio"


async def test_calls_and_events_through_the_socket_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Any] = []
    make = _trio_reader.trio_receiver

    def spy(stream: anyio.abc.ByteStream) -> Any:
        made.append(make(stream))
        return made[-1]

    monkeypatch.setattr("wamp_anyio._driver.trio_receiver", spy)
    async with AnyioTcpRouter.serving() as (router, stream), anyio.create_task_group() as tg:
        session = await joined(tg, router, stream)
        assert made and made[0] is not None  # the driver reads through it
        received: list[int] = []
        all_in = anyio.Event()

        def on_event(n: int) -> None:
            received.append(n)
            if len(received) == 50:
                all_in.set()

        async def subscribed() -> None:
            subscribe = await router.expect(Subscribe)
            router.send(Subscribed(subscribe.request_id, 5))

        tg.start_soon(subscribed)
        await session.subscribe(on_event, "com.t")
        router.send(*(Event(5, n, [n]) for n in range(1, 51)))
        with anyio.fail_after(5):
            await all_in.wait()
        assert received == list(range(1, 51))

        async def answer() -> None:
            call = await router.expect(Call)
            assert call.args is not None
            router.send(Result(call.request_id, [call.args[0] * 2]))

        tg.start_soon(answer)
        assert await session.call("com.double", 21) == 42
        session.disconnect()
        with anyio.fail_after(5):
            await session.disconnected.wait()


async def test_the_router_going_away_ends_the_session() -> None:
    async with AnyioTcpRouter.serving() as (router, stream), anyio.create_task_group() as tg:
        session = await joined(tg, router, stream)
        assert len(await call_cut_off(tg, router, session)) == 1  # EOF for the reader


async def test_end_of_stream_and_closing_while_waiting() -> None:
    async with AnyioTcpRouter.serving() as (router, stream):
        receive = trio_receiver(stream)
        assert receive is not None
        router.send_bytes(b"abc")
        assert await receive(10) == b"abc"
        async with anyio.create_task_group() as tg:
            ended: list[type[BaseException]] = []

            async def reader() -> None:
                try:
                    await receive(10)
                except anyio.ClosedResourceError as exc:
                    ended.append(type(exc))

            tg.start_soon(reader)
            await anyio.wait_all_tasks_blocked()
            await stream.aclose()  # wakes the waiting reader
        assert ended == [anyio.ClosedResourceError]
        with pytest.raises(anyio.ClosedResourceError):
            await receive(10)  # the socket has no descriptor any more


async def test_end_of_stream() -> None:
    async with AnyioTcpRouter.serving() as (router, stream):
        receive = trio_receiver(stream)
        assert receive is not None
        router.close()
        with anyio.fail_after(5), pytest.raises(anyio.EndOfStream):
            await receive(10)


class _Spurious(socket.socket):
    """A socket whose first recv finds nothing although it was reported readable."""

    woken = 0

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        self.woken += 1
        if self.woken == 1:
            raise BlockingIOError
        return super().recv(bufsize, flags)


async def test_a_spurious_wakeup_waits_again() -> None:
    left, right = socket.socketpair()
    sock = _Spurious(fileno=left.detach())
    sock.setblocking(False)
    try:
        right.sendall(b"xy")
        receive = _trio_reader._SocketReader(sock).receive
        with anyio.fail_after(5):
            assert await receive(10) == b"xy"
        assert sock.woken == 2
    finally:
        sock.close()
        right.close()


class _Wrapping(anyio.abc.ByteStream):
    """A stream over a socket that is not the socket's own (as TLS is): it reports the
    raw socket among its attributes, but its bytes are not the socket's."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    async def receive(self, max_bytes: int = 65536) -> bytes:
        raise NotImplementedError

    async def send(self, item: bytes) -> None:
        raise NotImplementedError

    async def send_eof(self) -> None:
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError

    @property
    def extra_attributes(self) -> dict[Any, Any]:
        return {anyio.abc.SocketAttribute.raw_socket: lambda: self.sock}


async def test_only_plain_socket_streams_are_read_directly() -> None:
    left, right = socket.socketpair()
    with left, right:
        wrapping = _Wrapping(left)
        assert wrapping.extra(anyio.abc.SocketAttribute.raw_socket) is left
        assert trio_receiver(wrapping) is None
