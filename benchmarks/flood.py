"""A well-behaved caller's latency through our router, unloaded and during a flood.

The router (wamp_anyio.serve, RawSocket on loopback) serves a callee and a caller (our
client, over TCP). The caller makes sequential calls and we take the latency of each:
first with nothing else going on, then while a publisher publishes as fast as it can to
a topic with two subscribers, one reading every event and one (a raw socket) that
stopped reading, which the router cuts off once max_queued bytes wait for it. The issue
asks that the others' latency stays within 2x of the unloaded run; this prints p50 and
p99 of both and their ratio.

    python benchmarks/flood.py [--backend asyncio|trio] [--calls 2000] [--payload 2000]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import wamp_anyio
from wamp_anyio import Listen
from wamp_core.types import PublishOptions

MAX_QUEUED = 256 * 1024


def _stop_reading(host: str, port: int, topic: str) -> socket.socket:
    """A raw RawSocket subscriber that joins, subscribes and then never reads again."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, port))
    sock.sendall(b"\x7f\xf1\x00\x00")  # json, 16 MiB
    frames = [b'[1,"realm1",{"roles":{"subscriber":{}}}]', b'[32,1,{},"' + topic.encode() + b'"]']
    sock.sendall(b"".join(len(f).to_bytes(4, "big") + f for f in frames))
    data = b""
    while data.count(b"[") < 2 or not data.rstrip().endswith(b"]"):  # WELCOME, SUBSCRIBED
        data += sock.recv(65536)
    return sock


async def _latencies(caller: Any, calls: int) -> list[float]:
    out = []
    for i in range(calls):
        start = time.perf_counter()
        await caller.call("com.echo", i)
        out.append(time.perf_counter() - start)
    return out


def _percentiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100)
    return cuts[49] * 1e6, cuts[98] * 1e6


async def main(backend: str, calls: int, payload_size: int) -> None:
    payload = "x" * payload_size
    async with wamp_anyio.serve([Listen("rawsocket", port=0)], max_queued=MAX_QUEUED) as server:
        url = server.url
        host, port = url.removeprefix("rs://").rsplit(":", 1)
        async with (
            wamp_anyio.connect(url, "realm1") as callee,
            wamp_anyio.connect(url, "realm1") as caller,
        ):
            await callee.register(lambda value: value, "com.echo")
            await _latencies(caller, 200)  # warm-up
            unloaded = await _latencies(caller, calls)

            before = set(server.router.connections)
            slow = await anyio.to_thread.run_sync(_stop_reading, host, int(port), "com.flood")
            (slow_connection,) = set(server.router.connections) - before
            received = 0

            def on_event(_: str) -> None:
                nonlocal received
                received += 1

            published = 0
            flooding = True
            async with (
                wamp_anyio.connect(url, "realm1") as fast,
                wamp_anyio.connect(url, "realm1") as publisher,
            ):
                await fast.subscribe(on_event, "com.flood")

                async def flood() -> None:
                    nonlocal published
                    acknowledged = PublishOptions(acknowledge=True)
                    while flooding:
                        for _ in range(99):  # as fast as it can, an answer now and then
                            publisher.publish("com.flood", payload)
                            await anyio.lowlevel.checkpoint()
                        ack = publisher.publish("com.flood", payload, options=acknowledged)
                        assert ack is not None
                        await ack
                        published += 100

                async with anyio.create_task_group() as tg:
                    tg.start_soon(flood)
                    loaded = await _latencies(caller, calls)
                    flooding = False
            cut = "was cut off" if slow_connection.closed else "was NOT cut off"
            slow.close()
    u50, u99 = _percentiles(unloaded)
    l50, l99 = _percentiles(loaded)
    print(f"{backend}: {calls} sequential calls each, our router over RawSocket on loopback")
    print(f"{'':24}{'p50 us':>10}{'p99 us':>10}")
    print(f"{'unloaded':24}{u50:>10.0f}{u99:>10.0f}")
    print(f"{'during the flood':24}{l50:>10.0f}{l99:>10.0f}")
    print(f"{'ratio':24}{l50 / u50:>10.2f}{l99 / u99:>10.2f}")
    print(
        f"flood: {published} events of {payload_size} B published, {received} received by the"
        f" reading subscriber; the non-reader {cut} (max_queued {MAX_QUEUED} B)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--payload", type=int, default=2000)
    args = parser.parse_args()
    anyio.run(main, args.backend, args.calls, args.payload, backend=args.backend)
