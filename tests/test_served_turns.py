"""Every served connection's turn is bounded, on asyncio, trio and Twisted: a peer that
sends a burst of many messages at once cannot make the router finish them all before
it answers another connection's request that arrived at the same time.

The router's event loop is held (blocked in a call of ours) while the flooder's burst
and the other connection's request are written, so both are waiting in the kernel when
the loop goes on; no timing is involved. The other connection is also subscribed to
the flooded topic, and the router writes to it in the order it handles things: the
events it receives before the answer to its request are the flooder's publications the
router handled before that request. They must be at most one turn's worth (READ_TURN
bytes of them); before turns, a read of 64 KiB (trio, Twisted) or 256 KiB (asyncio)
was handled at once. Then every publication of the burst still arrives."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal

import wamp_anyio
from tests.integration.twisted_reactor import ReactorThread
from wamp_anyio import Listen
from wamp_core.router.serving import READ_TURN
from wamp_twisted.serve import RouterService

TIMEOUT = 30.0
TOPIC, OTHER_TOPIC = "com.burst", "com.other"
FRAME_SIZE = 256  # bytes of each flooded PUBLISH frame
TURNS = 32  # the burst: this many turns' worth of publications
ROUNDS = 8
MAX_QUEUED = 64 * 2**20  # the test reads the other connection as it goes: never reached

Hold = Callable[[], AbstractContextManager[None]]


def _hold(schedule: Callable[[Callable[[], None]], Any]) -> Hold:
    """A context manager that blocks the router's loop for as long as it is entered:
    ``schedule`` runs a blocking function in the loop's thread."""

    @contextmanager
    def hold() -> Iterator[None]:
        held, released = threading.Event(), threading.Event()

        def block() -> None:
            held.set()
            released.wait(TIMEOUT)

        schedule(block)
        assert held.wait(TIMEOUT), "the router's loop did not run our call"
        try:
            yield
        finally:
            released.set()

    return hold


@contextmanager
def _anyio_router(backend: str) -> Iterator[tuple[str, int, Hold]]:
    with start_blocking_portal(backend) as portal:
        serving = wamp_anyio.serve([Listen("rawsocket", port=0)], max_queued=MAX_QUEUED)
        with portal.wrap_async_context_manager(serving) as server:
            host, port = server.url.removeprefix("rs://").rsplit(":", 1)

            async def call(block: Callable[[], None]) -> None:
                block()  # blocks the loop: no await

            yield host, int(port), _hold(lambda block: portal.start_task_soon(call, block))


@pytest.fixture(scope="session")
def reactor_thread() -> Iterator[ReactorThread]:
    thread = ReactorThread.shared()
    yield thread
    thread.stop()


@contextmanager
def _twisted_router(thread: ReactorThread) -> Iterator[tuple[str, int, Hold]]:
    service = RouterService([Listen("rawsocket", port=0)], max_queued=MAX_QUEUED)
    (url,) = thread.run(service.startService, timeout=TIMEOUT)
    host, port = url.removeprefix("rs://").rsplit(":", 1)
    try:
        yield host, int(port), _hold(thread.reactor.callFromThread)
    finally:
        thread.run(service.stopService, timeout=TIMEOUT)


@pytest.fixture(params=["asyncio", "trio", "twisted"])
def router(request: pytest.FixtureRequest) -> Iterator[tuple[str, int, Hold]]:
    if request.param == "twisted":
        with _twisted_router(request.getfixturevalue("reactor_thread")) as running:
            yield running
    else:
        with _anyio_router(request.param) as running:
            yield running


def _frame(message: list[Any]) -> bytes:
    data = json.dumps(message, separators=(",", ":")).encode()
    return len(data).to_bytes(4, "big") + data


def _publication(request_id: int) -> bytes:
    """A PUBLISH to TOPIC of exactly FRAME_SIZE bytes."""
    head = _frame([16, request_id, {}, TOPIC, [""]])
    return _frame([16, request_id, {}, TOPIC, ["x" * (FRAME_SIZE - len(head))]])


class _Client:
    """A blocking RawSocket JSON client, joined to realm1."""

    def __init__(self, host: str, port: int, *, send_buffer: int | None = None) -> None:
        self.sock = socket.socket()
        if send_buffer is not None:  # before connecting: the kernel takes a whole burst
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect((host, port))
        self.sock.sendall(b"\x7f\xf1\x00\x00")  # json, messages up to 16 MiB
        self.buffer = b""
        while len(self.buffer) < 4:
            self.buffer += self.sock.recv(4)
        assert self.buffer[:2] == b"\x7f\xf1", self.buffer
        self.buffer = self.buffer[4:]
        self.sock.sendall(_frame([1, "realm1", {"roles": {"publisher": {}, "subscriber": {}}}]))
        assert self.next()[0] == 2  # WELCOME

    def next(self) -> list[Any]:
        """The next message the router sends."""
        while len(self.buffer) < 4 or len(self.buffer) < 4 + int.from_bytes(
            self.buffer[1:4], "big"
        ):
            chunk = self.sock.recv(1 << 20)
            assert chunk, "the router closed the connection"
            self.buffer += chunk
        length = int.from_bytes(self.buffer[1:4], "big")
        message = json.loads(self.buffer[4 : 4 + length])
        self.buffer = self.buffer[4 + length :]
        assert isinstance(message, list)
        return message

    def close(self) -> None:
        self.sock.close()


def test_a_burst_on_one_connection_waits_its_turns(router: tuple[str, int, Hold]) -> None:
    host, port, hold = router
    other = _Client(host, port)
    flooder = _Client(host, port, send_buffer=4 * 2**20)
    try:
        other.sock.sendall(_frame([32, 1, {}, TOPIC]))
        assert other.next()[0] == 33  # SUBSCRIBED
        per_turn = READ_TURN // FRAME_SIZE
        count = TURNS * per_turn
        burst = b"".join(_publication(i) for i in range(1, count + 1))
        # Which of two connections ready at once trio runs first is random: a few rounds.
        handled_first = [
            _round(hold, flooder, other, burst, count, answer_id)
            for answer_id in range(2, 2 + ROUNDS)
        ]
        # One turn's worth at most (a turn may end within a frame, so one more).
        assert max(handled_first) <= per_turn + 1, (handled_first, per_turn)
    finally:
        other.close()
        flooder.close()


def _round(
    hold: Hold, flooder: _Client, other: _Client, burst: bytes, count: int, answer_id: int
) -> int:
    """The burst from ``flooder`` and a request from ``other`` waiting together: how
    many publications of the burst the router handled before answering ``other``."""
    with hold():
        flooder.sock.setblocking(False)
        sent = flooder.sock.send(burst)  # all of it waits in the kernel for the router
        flooder.sock.setblocking(True)
        other.sock.sendall(_frame([16, answer_id, {"acknowledge": True}, OTHER_TOPIC, []]))
    assert sent > 8 * READ_TURN, sent  # a burst of many turns was there
    flooder.sock.sendall(burst[sent:])
    before = 0
    while (message := other.next())[0] == 36:  # EVENT
        before += 1
    assert message[:2] == [17, answer_id], message  # PUBLISHED
    events = before
    while events < count:  # and the whole burst was handled
        assert other.next()[0] == 36
        events += 1
    return before
