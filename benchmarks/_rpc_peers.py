"""The processes benchmarks/rpc.py starts: one measured caller or subscriber, or a helper.

``python benchmarks/_rpc_peers.py ROLE IMPL URL [options]``

* ``caller IMPL URL``: connect, warm up, then ``--calls`` sequential calls of
  ``com.bench.echo`` and ``--calls`` calls with ``--inflight`` of them in flight
  (that many tasks, each calling in a loop); prints one JSON line with
  (calls, wall seconds, CPU seconds of this process) per phase.
* ``subscriber IMPL URL``: subscribe to ``com.bench.topic``, print ``ready``, count
  events; measures from the ``--warmup``-th event to the ``--warmup + --events``-th;
  prints one JSON line (events, wall, CPU, received, gaps).
* ``callee IMPL URL``: register ``com.bench.echo`` (returns its argument), print
  ``ready``, serve until stdin closes.
* ``publisher floor URL``: publish ``--warmup + --events`` events ``[seq, 21.5]`` with
  an acknowledged PUBLISH every ``--ack-every`` and at most ``--window`` of those
  outstanding (so the router is never flooded); prints one JSON line.

IMPL is ``floor`` (asyncio, see _rpc_floor.py), ``ours-asyncio``, ``ours-trio``
(wamp_anyio on either backend) or ``autobahn`` (Autobahn|Python on asyncio). The
transport and serializer come from the URL (``ws://``/``rs://``), msgpack always.
Every process ends by itself: a watchdog exits after ``--deadline`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

PROCEDURE = "com.bench.echo"
TOPIC = "com.bench.topic"
REALM = "realm1"

Call = Callable[[int], Awaitable[Any]]


# ---- measuring (backend-neutral: plain coroutines)


async def sequential(call: Call, start: int, count: int) -> None:
    for i in range(start, start + count):
        if await call(i) != i:
            raise AssertionError(f"echo of {i} came back wrong")


async def worker(call: Call, numbers: range) -> None:
    for i in numbers:
        if await call(i) != i:
            raise AssertionError(f"echo of {i} came back wrong")


def workers(start: int, count: int, inflight: int) -> list[range]:
    """``inflight`` interleaved ranges covering start .. start + count."""
    return [range(start + k, start + count, inflight) for k in range(inflight)]


class Phases:
    """Wall and CPU time of the measured phases (and a cProfile of one, if asked)."""

    def __init__(self, profile: str | None = None, profile_phase: str = "") -> None:
        self.results: dict[str, list[float]] = {}
        self._start = (0.0, 0.0)
        self.profile = profile
        self.profile_phase = profile_phase
        self.profiler: Any = None

    def begin(self, name: str) -> None:
        gc.collect()
        if self.profile and name == self.profile_phase:
            import cProfile

            self.profiler = cProfile.Profile()
            self.profiler.enable()
        self._start = (time.perf_counter(), time.process_time())

    def end(self, name: str, count: int) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        if self.profiler is not None:
            self.profiler.disable()
            self.profiler.dump_stats(self.profile)
            self.profiler = None
        self.results[name] = [count, wall - self._start[0], cpu - self._start[1]]


async def run_calls(
    call: Call,
    concurrently: Callable[[list[range]], Awaitable[None]],
    opts: argparse.Namespace,
) -> dict[str, list[float]]:
    phases = Phases(opts.profile, opts.profile_phase)
    warm = opts.warmup
    await sequential(call, 0, warm)
    await concurrently(workers(warm, warm, opts.inflight))
    base = 2 * warm
    if not opts.skip_seq:
        phases.begin("seq")
        await sequential(call, base, opts.calls)
        phases.end("seq", opts.calls)
    phases.begin("inflight")
    await concurrently(workers(base + opts.calls, opts.calls, opts.inflight))
    phases.end("inflight", opts.calls)
    return phases.results


class Tally:
    """Counts events ``[seq, value]``; times the ``events`` after the first ``warmup``."""

    def __init__(self, warmup: int, events: int, done: Callable[[], None]) -> None:
        self.warmup = warmup
        self.total = warmup + events
        self.done = done
        self.received = 0
        self.gaps = 0
        self.next_seq = 0
        self.start = (0.0, 0.0)
        self.stop = (0.0, 0.0)
        self.woken = [0, 0]

    def hit(self, seq: int, *rest: Any) -> None:
        if seq != self.next_seq:
            self.gaps += 1
        self.next_seq = seq + 1
        self.received += 1
        if self.received == self.warmup:
            # As before each RPC phase: the start-up garbage is collected now, not by a
            # full collection that would land in the measured window of some variants
            # and not others (one costs more than a millisecond per thousand events).
            gc.collect()
            self.start = (time.perf_counter(), time.process_time())
            self.woken[0] = wakeups()
        elif self.received == self.total:
            self.stop = (time.perf_counter(), time.process_time())
            self.woken[1] = wakeups()
            self.done()

    def report(self) -> dict[str, Any]:
        complete = self.received >= self.total
        return {
            "events": self.total - self.warmup,
            "wall": self.stop[0] - self.start[0] if complete else None,
            "cpu": self.stop[1] - self.start[1] if complete else None,
            "received": self.received,
            "expected": self.total,
            "gaps": self.gaps,
            "wakeups": self.woken[1] - self.woken[0] if complete else 0,
        }


def wakeups() -> int:
    """How often this process went to sleep waiting so far (voluntary context switches;
    0 where unknown): events per wakeup tell how the router's output came batched, and
    that sets most of the CPU per event, as each wakeup costs a loop iteration."""
    try:
        import resource
    except ImportError:
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw


def emit(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


async def wait_tally(
    tally: Tally, wait_done: Callable[[float], Awaitable[bool]], idle: float
) -> None:
    """Until every event came, or none came for ``idle`` seconds (then some were lost)."""
    seen = -1
    while tally.received < tally.total:
        if await wait_done(idle):
            return
        if tally.received == seen:
            return
        seen = tally.received


# ---- the bare asyncio floor


async def floor_main(role: str, url: str, opts: argparse.Namespace) -> Any:
    import _rpc_floor

    peer = await _rpc_floor.connect(url, REALM, burst=opts.floor_writes == "burst")
    try:
        if role == "caller":

            async def call(i: int) -> Any:
                return await peer.call(PROCEDURE, i)

            return await run_calls(call, asyncio_gather(call), opts)
        if role == "callee":
            await peer.register_echo(PROCEDURE)
            emit("ready")
            await peer.lost  # until the router goes away or stdin closes (watchdog)
            return None
        if role == "subscriber":
            done = asyncio.Event()
            tally = Tally(opts.warmup, opts.events, done.set)
            await peer.subscribe(TOPIC, lambda args: tally.hit(*args))
            emit("ready")
            await wait_tally(tally, asyncio_waiter(done), opts.idle)
            return tally.report()
        if role == "publisher":
            return await floor_publish(peer, opts)
        raise ValueError(role)
    finally:
        await peer.leave()


async def floor_publish(peer: Any, opts: argparse.Namespace) -> dict[str, Any]:
    total = opts.warmup + opts.events
    acks: list[asyncio.Future[Any]] = []
    start = time.perf_counter()
    for seq in range(total):
        if seq % opts.ack_every == opts.ack_every - 1 or seq == total - 1:
            acks.append(peer.publish_acknowledged(TOPIC, [seq, 21.5]))
            if len(acks) >= opts.window:
                await acks.pop(0)
        else:
            peer.publish(TOPIC, [seq, 21.5])
    for ack in acks:
        await ack
    return {"published": total, "wall": time.perf_counter() - start}


def asyncio_gather(call: Call) -> Callable[[list[range]], Awaitable[None]]:
    async def concurrently(ranges: list[range]) -> None:
        await asyncio.gather(*(worker(call, numbers) for numbers in ranges))

    return concurrently


def asyncio_waiter(done: asyncio.Event) -> Callable[[float], Awaitable[bool]]:
    async def wait_done(timeout: float) -> bool:
        try:
            await asyncio.wait_for(done.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    return wait_done


# ---- ours: wamp_anyio on asyncio or trio


async def ours_main(role: str, url: str, opts: argparse.Namespace) -> Any:
    import anyio

    import wamp_anyio

    async with wamp_anyio.connect(url, REALM, serializers=["msgpack"]) as session:
        if role == "caller":
            call = session.call

            async def echo(i: int) -> Any:
                return await call(PROCEDURE, i)

            async def concurrently(ranges: list[range]) -> None:
                async with anyio.create_task_group() as tg:
                    for numbers in ranges:
                        tg.start_soon(worker, echo, numbers)

            return await run_calls(echo, concurrently, opts)
        if role == "callee":
            await session.register(lambda value: value, PROCEDURE)
            emit("ready")
            await anyio.sleep_forever()  # until stdin closes (watchdog)
        if role == "subscriber":
            done = anyio.Event()
            tally = Tally(opts.warmup, opts.events, done.set)
            await session.subscribe(tally.hit, TOPIC)
            emit("ready")

            async def wait_done(timeout: float) -> bool:
                with anyio.move_on_after(timeout):
                    await done.wait()
                return done.is_set()

            await wait_tally(tally, wait_done, opts.idle)
            return tally.report()
        raise ValueError(role)


# ---- Autobahn|Python on asyncio


async def autobahn_main(role: str, url: str, opts: argparse.Namespace) -> Any:
    import txaio

    txaio.use_asyncio()
    from autobahn.asyncio.rawsocket import WampRawSocketClientFactory
    from autobahn.asyncio.wamp import ApplicationSession
    from autobahn.asyncio.websocket import WampWebSocketClientFactory
    from autobahn.wamp.serializer import MsgPackSerializer
    from autobahn.wamp.types import ComponentConfig

    loop = asyncio.get_running_loop()
    txaio.config.loop = loop
    joined: asyncio.Future[Any] = loop.create_future()
    gone: asyncio.Future[None] = loop.create_future()

    class BenchSession(ApplicationSession):
        def onJoin(self, details: Any) -> None:
            if not joined.done():
                joined.set_result(self)

        def onDisconnect(self) -> None:
            if not joined.done():
                joined.set_exception(ConnectionError("closed before joining"))
            if not gone.done():
                gone.set_result(None)

    def make() -> BenchSession:
        return BenchSession(ComponentConfig(REALM))

    parts = urlsplit(url)
    factory: Any
    if parts.scheme == "rs":
        factory = WampRawSocketClientFactory(make, serializer=MsgPackSerializer())
    else:
        factory = WampWebSocketClientFactory(make, url=url, serializers=[MsgPackSerializer()])
    transport, _ = await loop.create_connection(factory, parts.hostname or "", parts.port or 80)
    session = await asyncio.wait_for(joined, 10)
    try:
        if role == "caller":
            ab_call = session.call

            async def call(i: int) -> Any:
                return await ab_call(PROCEDURE, i)

            return await run_calls(call, asyncio_gather(call), opts)
        if role == "callee":
            await session.register(lambda value: value, PROCEDURE)
            emit("ready")
            await gone
            return None
        if role == "subscriber":
            done = asyncio.Event()
            tally = Tally(opts.warmup, opts.events, done.set)
            await session.subscribe(tally.hit, TOPIC)
            emit("ready")
            await wait_tally(tally, asyncio_waiter(done), opts.idle)
            return tally.report()
        raise ValueError(role)
    finally:
        if session.is_attached():
            session.leave()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(gone), 2)
        transport.close()


# ---- entry


def watchdog(deadline: float, watch_stdin: bool) -> None:
    """Exit hard after ``deadline`` seconds, or when stdin closes (``watch_stdin``)."""

    def expire() -> None:
        sys.stderr.write(f"_rpc_peers: deadline of {deadline:.0f} s reached, exiting\n")
        os._exit(3)

    timer = threading.Timer(deadline, expire)
    timer.daemon = True
    timer.start()
    if watch_stdin:

        def read_stdin() -> None:
            sys.stdin.read()
            os._exit(0)

        threading.Thread(target=read_stdin, daemon=True).start()


def make_parser(description: str | None, impls: list[str]) -> argparse.ArgumentParser:
    """The options every peer process takes (benchmarks/rpc.py passes them all)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("role", choices=["caller", "callee", "subscriber", "publisher"])
    parser.add_argument("impl", choices=impls)
    parser.add_argument("url")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--inflight", type=int, default=64)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--ack-every", type=int, default=100)
    parser.add_argument("--window", type=int, default=4)
    parser.add_argument("--floor-writes", choices=["each", "burst"], default="each")
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--deadline", type=float, default=120.0)
    parser.add_argument("--profile", help="write a cProfile to this file (callers: of one phase)")
    parser.add_argument("--profile-phase", choices=["seq", "inflight"], default="inflight")
    parser.add_argument("--skip-seq", action="store_true", help="callers: in flight only")
    return parser


def main() -> None:
    parser = make_parser(__doc__, ["floor", "ours-asyncio", "ours-trio", "autobahn"])
    opts = parser.parse_args()
    watchdog(opts.deadline, watch_stdin=opts.role == "callee")

    def run() -> Any:
        if opts.impl == "floor":
            return asyncio.run(floor_main(opts.role, opts.url, opts))
        if opts.impl == "autobahn":
            return asyncio.run(autobahn_main(opts.role, opts.url, opts))
        import anyio

        backend = "trio" if opts.impl == "ours-trio" else "asyncio"
        return anyio.run(ours_main, opts.role, opts.url, opts, backend=backend)

    if opts.profile and opts.role != "caller":
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(run)
        profiler.dump_stats(opts.profile)
    else:
        result = run()
    if result is not None:
        emit(result)


if __name__ == "__main__":
    main()
