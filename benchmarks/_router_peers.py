"""The client processes of benchmarks/router.py: our client (wamp_anyio on asyncio, msgpack),
several sessions in one process, against any router.

``python benchmarks/_router_peers.py ROLE URL [options]``

* ``rpc``: ``--callees`` sessions register ``com.bench.echo`` (shared, roundrobin,
  when there are several), ``--callers`` sessions call it with ``--inflight`` calls in
  flight in all (that many tasks, dealt to the callers in turn), a warm-up, then
  ``--calls`` measured calls;
* ``events``: ``--subscribers`` sessions subscribe to ``com.bench.topic``, one session
  publishes ``[seq, 21.5]`` (unacknowledged); at most ``--window`` events are out
  that not every subscriber has received (so no router queue grows without bound and
  no subscriber is cut off as a slow reader); a warm-up, then ``--events`` measured
  events; every subscriber must see every event, in order;
* ``idle``: ``--warm`` sessions join and leave; print ``"ready"``; after a line on
  stdin ``--sessions`` sessions join (``--connecting`` at a time) and stay; print
  ``"ready"``; leave when stdin closes.

``rpc`` and ``events`` read the router's CPU time (``--router-pid``, /proc) at both
edges of their measured window, and print one JSON line: ``ops`` (calls, or events
delivered to all subscribers together), ``wall``, ``client_cpu``, ``router_cpu``.
A failure prints ``{"error": "..."}`` (e.g. a router that refuses a shared
registration) and exits 1. Every process ends by itself (``--deadline``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import anyio
from _router_stats import Window
from _rpc_peers import emit, watchdog, worker, workers

import wamp_anyio
from wamp_core.types import RegisterOptions

PROCEDURE = "com.bench.echo"
TOPIC = "com.bench.topic"
REALM = "realm1"


async def sessions(stack: AsyncExitStack, url: str, count: int) -> list[wamp_anyio.Session]:
    return [
        await stack.enter_async_context(wamp_anyio.connect(url, REALM, serializers=["msgpack"]))
        for _ in range(count)
    ]


# ---- rpc


async def rpc(opts: argparse.Namespace) -> dict[str, Any]:
    async with AsyncExitStack() as stack:
        served = [0] * opts.callees
        options = RegisterOptions(invoke="roundrobin") if opts.callees > 1 else None
        for index, callee in enumerate(await sessions(stack, opts.url, opts.callees)):
            try:
                await callee.register(counting_echo(served, index), PROCEDURE, options)
            except Exception as error:
                policy = options.invoke if options else "single"
                raise RuntimeError(
                    f"callee {index + 1} of {opts.callees} could not register {PROCEDURE} "
                    f"(invoke={policy}): {describe(error)}"
                ) from error
        callers = await sessions(stack, opts.url, opts.callers)
        calls = [caller_of(session) for session in callers]

        async def concurrently(ranges: list[range]) -> None:
            async with anyio.create_task_group() as tg:
                for k, numbers in enumerate(ranges):
                    tg.start_soon(worker, calls[k % len(calls)], numbers)

        await concurrently(workers(0, opts.warmup, opts.inflight))
        window = Window(opts.router_pid)
        window.begin()
        await concurrently(workers(opts.warmup, opts.calls, opts.inflight))
        result = window.end(opts.calls, served=served)
    if min(served) == 0:
        raise RuntimeError(f"the registration was not shared: calls per callee {served}")
    return result


def counting_echo(served: list[int], index: int) -> Callable[[Any], Any]:
    def echo(value: Any) -> Any:
        served[index] += 1
        return value

    return echo


def caller_of(session: wamp_anyio.Session) -> Callable[[int], Awaitable[Any]]:
    call = session.call

    async def echo(i: int) -> Any:
        return await call(PROCEDURE, i)

    return echo


# ---- events


class Deliveries:
    """Events received by all subscribers together; the publisher waits on a count."""

    def __init__(self, subscribers: int) -> None:
        self.delivered = 0
        self.gaps = 0
        self.next_seq = [0] * subscribers
        self.target = -1
        self.reached = anyio.Event()

    def handler(self, index: int) -> Callable[..., None]:
        def hit(seq: int, *rest: Any) -> None:
            if seq != self.next_seq[index]:
                self.gaps += 1
            self.next_seq[index] = seq + 1
            self.delivered += 1
            if self.delivered == self.target:
                self.reached.set()

        return hit

    async def wait_for(self, count: int, idle: float) -> None:
        """Until ``count`` deliveries in all; raise if none come for ``idle`` seconds."""
        while self.delivered < count:
            seen = self.delivered
            self.target, self.reached = count, anyio.Event()
            with anyio.move_on_after(idle):
                await self.reached.wait()
            if self.delivered == seen:
                raise RuntimeError(
                    f"events lost: {self.delivered} of {count} delivered, none for {idle:.0f} s"
                )


async def events(opts: argparse.Namespace) -> dict[str, Any]:
    fanout = opts.subscribers
    deliveries = Deliveries(fanout)
    async with AsyncExitStack() as stack:
        for index, subscriber in enumerate(await sessions(stack, opts.url, fanout)):
            await subscriber.subscribe(deliveries.handler(index), TOPIC)
        (publisher,) = await sessions(stack, opts.url, 1)
        await publish(publisher, deliveries, 0, opts.warmup, opts)
        window = Window(opts.router_pid)
        window.begin()
        await publish(publisher, deliveries, opts.warmup, opts.events, opts)
        result = window.end(opts.events * fanout, gaps=deliveries.gaps)
    if deliveries.gaps:
        raise RuntimeError(f"{deliveries.gaps} events out of order")
    return result


async def publish(
    publisher: wamp_anyio.Session,
    deliveries: Deliveries,
    first: int,
    count: int,
    opts: argparse.Namespace,
) -> None:
    """Publish events first .. first + count, at most ``--window`` not yet everywhere;
    return once every subscriber has them all."""
    fanout, window = opts.subscribers, opts.window
    for seq in range(first, first + count):
        if (seq - window) * fanout > deliveries.delivered:
            # Let half the window drain: fewer wake-ups than waiting event by event.
            await deliveries.wait_for((seq - window // 2) * fanout, opts.idle)
        publisher.publish(TOPIC, seq, 21.5)
    await deliveries.wait_for((first + count) * fanout, opts.idle)


# ---- idle sessions


async def idle(opts: argparse.Namespace) -> dict[str, Any]:
    limiter = anyio.CapacityLimiter(opts.connecting)
    await join_all(opts.url, opts.warm, limiter, release=None)
    emit("ready")
    await anyio.to_thread.run_sync(sys.stdin.readline)
    release = anyio.Event()
    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        tg.start_soon(join_all, opts.url, opts.sessions, limiter, release)
        await anyio.to_thread.run_sync(sys.stdin.read)  # until the benchmark closes it
        release.set()
    return {"sessions": opts.sessions, "wall": time.perf_counter() - started}


async def join_all(
    url: str, count: int, limiter: anyio.CapacityLimiter, release: anyio.Event | None
) -> None:
    """Join ``count`` sessions, ``limiter`` at a time; print ``"ready"`` once all are
    joined and hold them until ``release`` (None: leave at once)."""
    joined = anyio.Event()
    done = [0]

    async def hold() -> None:
        async with AsyncExitStack() as stack:
            async with limiter:
                await sessions(stack, url, 1)
            done[0] += 1
            if done[0] == count:
                joined.set()
            if release is not None:
                await release.wait()

    async with anyio.create_task_group() as tg:
        for _ in range(count):
            tg.start_soon(hold)
        await joined.wait()
        if release is not None:
            emit("ready")


# ---- entry


def describe(error: BaseException) -> str:
    """The error, out of the task groups' exception groups that hold only it."""
    while len(getattr(error, "exceptions", ())) == 1:
        error = error.exceptions[0]  # type: ignore[attr-defined]
    return f"{type(error).__name__}: {error}"


ROLES = {"rpc": rpc, "events": events, "idle": idle}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("role", choices=sorted(ROLES))
    parser.add_argument("url")
    parser.add_argument("--router-pid", type=int, default=0)
    parser.add_argument("--callers", type=int, default=1)
    parser.add_argument("--callees", type=int, default=1)
    parser.add_argument("--inflight", type=int, default=64)
    parser.add_argument("--calls", type=int, default=10000)
    parser.add_argument("--subscribers", type=int, default=1)
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--window", type=int, default=256)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--warm", type=int, default=20)
    parser.add_argument("--connecting", type=int, default=32)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--deadline", type=float, default=120.0)
    opts = parser.parse_args()
    watchdog(opts.deadline, watch_stdin=False)
    try:
        result = anyio.run(ROLES[opts.role], opts, backend="asyncio")
    except Exception as error:  # reported to the benchmark, which names the router
        emit({"error": describe(error)})
        sys.exit(1)
    emit(result)


if __name__ == "__main__":
    main()
