"""Floods, over real sockets, under asyncio and trio: a publisher publishing as fast as it
can while one subscriber (a raw RawSocket client) has stopped reading. The bytes the
router queues for the slow connection never pass its bound, the router's memory peak
(tracemalloc) stays bounded, the slow reader is cut off with its reason in the log, and
the other subscriber receives every event. (How the others' latency fares is a timing
matter: benchmarks/flood.py measures it.)"""

from __future__ import annotations

import logging
import tracemalloc

import anyio
import pytest

import wamp_anyio
from tests.test_anyio_serve import _subscribe_and_stop_reading
from wamp_anyio import Listen
from wamp_core.router import RouterConnection
from wamp_core.types import PublishOptions

pytestmark = pytest.mark.anyio

MAX_QUEUED = 64 * 1024
EVENTS, PAYLOAD = 3000, "x" * 2000  # 6 MB published: far more than the bound
# What may be held at the peak beyond the start (router and clients: the slow bound,
# events on their way to the fast subscriber, encodings), far from the 6 MB flood.
PEAK_BOUND = 1536 * 1024  # measured: 0.2-0.45 MB
TIMEOUT = 60.0


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_flood_to_a_subscriber_that_stopped_reading(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "wamp_anyio.router")
    received = 0
    most_queued = 0
    with anyio.fail_after(TIMEOUT):
        async with wamp_anyio.serve([Listen("rawsocket", port=0)], max_queued=MAX_QUEUED) as server:
            router = server.router
            host, port = server.url.removeprefix("rs://").rsplit(":", 1)
            before = set(router.connections)
            slow_socket = await anyio.to_thread.run_sync(
                _subscribe_and_stop_reading, host, int(port), "com.flood"
            )
            (slow,) = set(router.connections) - before
            async with (
                wamp_anyio.connect(server.url, "realm1") as fast,
                wamp_anyio.connect(server.url, "realm1") as publisher,
            ):
                all_received = anyio.Event()

                def on_event(payload: str) -> None:  # inline, as events arrive: no queue
                    nonlocal received
                    received += 1
                    if received == EVENTS:
                        all_received.set()

                await fast.subscribe(on_event, "com.flood")
                tracemalloc.start()
                try:
                    start, _ = tracemalloc.get_traced_memory()
                    for _ in range(EVENTS - 1):
                        publisher.publish("com.flood", PAYLOAD)  # no answer awaited
                        most_queued = max(most_queued, _queued(slow))
                        await anyio.lowlevel.checkpoint()
                    last = publisher.publish(
                        "com.flood", PAYLOAD, options=PublishOptions(acknowledge=True)
                    )
                    assert last is not None
                    await last
                    await all_received.wait()
                    _, peak = tracemalloc.get_traced_memory()
                finally:
                    tracemalloc.stop()
                assert slow.closed and slow not in router.connections
                assert await fast.call("wamp.session.count") == 2  # the slow one is gone
            slow_socket.close()
    assert received == EVENTS
    # Cut off on the message that passed the bound: never more than one frame beyond.
    assert 0 < most_queued <= MAX_QUEUED + len(PAYLOAD) + 64, most_queued
    assert peak - start < PEAK_BOUND, peak - start
    messages = [record.getMessage() for record in caplog.records]
    assert any("stopped reading: more than 65536 bytes queued" in m for m in messages), messages
    assert any("wamp.close.slow_consumer" in m for m in messages), messages


def _queued(connection: RouterConnection) -> int:
    """The bytes queued for ``connection`` since its last drain (white box: the count
    the router checks against max_queued)."""
    return int(connection._queued)
