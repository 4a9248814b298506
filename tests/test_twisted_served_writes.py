"""The Twisted-served router sends an answer in the reactor iteration that read the
request, not in the next one.

Twisted's ``transport.write`` only buffers: the socket is sent to when the reactor next
polls, after that iteration's delayed calls and every other ready connection's work
(under a flood, a turn of the flooder and the fan-out of it), so each hop of a call
through the router waited about one reactor iteration more. The test counts
iterations, not time: the reactor is held while a request is written, and a call
queued meanwhile runs at the start of the iteration after the one that reads the
request; in it, the reactor still held, the answer must already be on its way to the
client (nothing of the router's can send it while the reactor is held)."""

from __future__ import annotations

import select
import threading
from collections.abc import Iterator

import pytest

from tests.integration.twisted_reactor import ReactorThread
from tests.test_served_turns import TIMEOUT, _Client, _frame, _hold
from wamp_core.router.serving import Listen
from wamp_twisted.serve import RouterService

LOOK = 5.0  # seconds the held reactor waits for an answer that is on its way (a failure
# waits them out: an answer left buffered cannot come while the reactor is held)


@pytest.fixture(scope="session")
def reactor_thread() -> Iterator[ReactorThread]:
    thread = ReactorThread.shared()
    yield thread
    thread.stop()


@pytest.fixture
def service(reactor_thread: ReactorThread) -> Iterator[RouterService]:
    service = RouterService([Listen("rawsocket", port=0)])
    reactor_thread.run(service.startService, timeout=TIMEOUT)
    try:
        yield service
    finally:
        reactor_thread.run(service.stopService, timeout=TIMEOUT)


def test_an_answer_is_sent_in_the_iteration_that_read_the_request(
    reactor_thread: ReactorThread, service: RouterService
) -> None:
    host, port = service.url.removeprefix("rs://").rsplit(":", 1)
    client = _Client(host, int(port))
    try:
        (proto,) = service.protocols.values()
        router_end = proto.transport.socket  # type: ignore[union-attr]
        answered: list[bool] = []
        seen = threading.Event()

        def look() -> None:
            """The next iteration's first call: is the answer there, reactor held?"""
            readable, _, _ = select.select([client.sock], [], [], LOOK)
            answered.append(bool(readable))
            seen.set()

        for request_id in range(1, 4):
            with _hold(reactor_thread.reactor.callFromThread)():
                client.sock.sendall(_frame([16, request_id, {"acknowledge": True}, "com.t", []]))
                # The request is in the router's socket before its reactor polls again.
                assert select.select([router_end], [], [], TIMEOUT)[0]
                seen.clear()
                reactor_thread.reactor.callFromThread(look)
            assert seen.wait(TIMEOUT)
            assert client.next()[:2] == [17, request_id]  # PUBLISHED
        assert answered == [True, True, True]
    finally:
        client.close()
