"""One process of benchmarks/sessions.py: ``--count`` client sessions on one event loop.

``python benchmarks/_sessions_peer.py IMPL URL [--count N] [--connecting K]``, IMPL one of
(the API each holds its sessions with in brackets)

* ``ours-asyncio``, ``ours-trio`` [``connect()``]: ``async with wamp_anyio.connect()`` in a
  task per session, the task waiting in the block;
* ``ours-asyncio-runner``, ``autobahn-asyncio-runner`` [``runner``]: one program, its
  imports from wamp_anyio or from autobahn.asyncio.wamp: per session an
  ``ApplicationRunner(url, realm).run(S, start_loop=False)`` awaited (it returns once
  connected; the session then lives in the loop's callbacks, no task of the program's),
  and a future its ``onJoin`` resolves;
* ``ours-trio-runner`` [``runner``]: the same program on trio (there is no Autobahn on
  trio: compared with ``autobahn-asyncio-runner``); the sessions' sockets are read by
  one trio system task per run;
* ``ours-twisted`` [``factory``]: wamp_twisted's ApplicationSession over its
  WampClientFactory, as its Component connects;
* ``autobahn-asyncio``, ``autobahn-twisted`` [``factory``]: Autobahn|Python's
  ApplicationSession over its WampWebSocketClientFactory, connected by hand.

Every session: WebSocket, msgpack, realm1.

1. RLIMIT_NOFILE's soft limit is raised to the hard limit (1,000 sessions need 1,000
   sockets); ``--warm`` sessions join and leave (imports and one-off allocations are
   then behind us), the garbage collector runs, RSS is read;
2. ``--count`` sessions join, ``--connecting`` at a time: the time until all have
   joined; gc, RSS again: (RSS after - RSS before) / count is the memory per idle
   session; ``{"ev": "joined"}`` is printed and a line on stdin awaited (the parent
   reads the router's RSS meanwhile);
3. every session subscribes to one topic; one more session publishes ``--events``
   events, one at a time, each once the previous one has reached every subscriber:
   the time from publishing to its delivery at the last subscriber, per event;
4. a JSON line with the figures; the sessions leave (bounded) and the process exits.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

REALM = "realm1"
TOPIC = "com.sessions.fanout"
DEADLINE = 600.0  # the process exits by itself after this many seconds


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss() -> int:
    gc.collect()
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


class Fanout:
    """Counts one event's deliveries; ``done`` once all ``expected`` arrived."""

    def __init__(self, expected: int, on_done: Any) -> None:
        self.expected = expected
        self.on_done = on_done
        self.received = 0
        self.sent = 0.0
        self.last = 0.0

    def start(self) -> None:
        self.received = 0
        self.sent = time.perf_counter()

    def hit(self, *args: Any, **kwargs: Any) -> None:
        self.received += 1
        if self.received == self.expected:
            self.last = time.perf_counter() - self.sent
            self.on_done()


class Figures:
    def __init__(self, opts: argparse.Namespace) -> None:
        self.opts = opts
        self.out: dict[str, Any] = {"impl": opts.impl, "count": opts.count}

    def before(self) -> None:
        self.out["rss_before"] = rss()
        self.t0 = time.perf_counter()

    def joined(self) -> None:
        self.out["connect_s"] = time.perf_counter() - self.t0
        self.out["rss_after"] = rss()
        self.out["per_session"] = (self.out["rss_after"] - self.out["rss_before"]) / self.opts.count
        emit({"ev": "joined"})

    def report(self, fanouts: list[float]) -> None:
        self.out["fanout_s"] = fanouts
        self.out["fds"] = len(os.listdir("/proc/self/fd"))
        emit({"ev": "report", **self.out})


async def hold_on_asyncio(
    one: Callable[[], Awaitable[tuple[Any, Any]]],
    figures: Figures,
    opts: argparse.Namespace,
    await_leave: bool,
) -> None:
    """What every asyncio program here does with the sessions ``one()`` joins (each
    ``(session, transport)``): warm up, join ``--count`` (``--connecting`` at a time),
    fan events out to them, leave. ``await_leave``: a warm-up session's leave() is
    awaited (ours: it ends once the GOODBYE is answered)."""
    import asyncio

    loop = asyncio.get_running_loop()
    for _ in range(opts.warm):
        session, transport = await one()
        left = session.leave()
        if await_leave:
            await left
        transport.close()
    await asyncio.sleep(0.1)  # the warm-up's transports close
    figures.before()
    gate = asyncio.Semaphore(opts.connecting)

    async def gated() -> tuple[Any, Any]:
        async with gate:
            return await one()

    pairs = await asyncio.gather(*(gated() for _ in range(opts.count)))
    figures.joined()
    await loop.run_in_executor(None, sys.stdin.readline)
    delivered = loop.create_future()
    fanout = Fanout(opts.count, lambda: delivered.done() or delivered.set_result(None))
    for session, _ in pairs:
        await session.subscribe(fanout.hit, TOPIC)
    publisher, pub_transport = await one()
    times = []
    for n in range(opts.events):
        delivered = loop.create_future()
        fanout.start()
        publisher.publish(TOPIC, n)
        await asyncio.wait_for(delivered, 60)
        times.append(fanout.last)
    figures.report(times)
    for session, transport in [*pairs, (publisher, pub_transport)]:
        if session.is_attached():
            session.leave()
        transport.close()
    await asyncio.sleep(0.1)  # the GOODBYEs go out


# ---- ours on anyio (asyncio, trio)


def ours_anyio(opts: argparse.Namespace, backend: str) -> None:
    import anyio

    import wamp_anyio

    figures = Figures(opts)

    async def main() -> None:
        async def warm() -> None:
            for _ in range(opts.warm):
                async with wamp_anyio.connect(opts.url, REALM, serializers=["msgpack"]):
                    pass

        await warm()
        figures.before()
        sessions: list[Any] = []
        all_joined = anyio.Event()
        release = anyio.Event()
        gate = anyio.Semaphore(opts.connecting)

        async def hold() -> None:
            await gate.acquire()
            connecting = True
            try:
                async with wamp_anyio.connect(opts.url, REALM, serializers=["msgpack"]) as s:
                    gate.release()
                    connecting = False
                    sessions.append(s)
                    if len(sessions) == opts.count:
                        all_joined.set()
                    await release.wait()
            finally:
                if connecting:
                    gate.release()

        async with anyio.create_task_group() as tg:
            for _ in range(opts.count):
                tg.start_soon(hold)
            await all_joined.wait()
            figures.joined()
            await anyio.to_thread.run_sync(sys.stdin.readline)
            delivered = anyio.Event()

            def done() -> None:
                nonlocal delivered
                delivered.set()

            fanout = Fanout(opts.count, done)
            for session in sessions:
                await session.subscribe(fanout.hit, TOPIC)
            times = []
            async with wamp_anyio.connect(opts.url, REALM, serializers=["msgpack"]) as pub:
                for n in range(opts.events):
                    delivered = anyio.Event()
                    fanout.start()
                    pub.publish(TOPIC, n)
                    with anyio.fail_after(60):
                        await delivered.wait()
                    times.append(fanout.last)
            figures.report(times)
            release.set()

    anyio.run(main, backend=backend)


# ---- Autobahn on asyncio


def autobahn_asyncio(opts: argparse.Namespace) -> None:
    import asyncio

    import txaio

    txaio.use_asyncio()
    from autobahn.asyncio.wamp import ApplicationSession
    from autobahn.asyncio.websocket import WampWebSocketClientFactory
    from autobahn.wamp.serializer import MsgPackSerializer
    from autobahn.wamp.types import ComponentConfig

    figures = Figures(opts)
    parts = urlsplit(opts.url)

    class S(ApplicationSession):  # type: ignore[misc]
        joined: asyncio.Future[Any]

        def onJoin(self, details: Any) -> None:
            if not self.joined.done():
                self.joined.set_result(self)

        def onDisconnect(self) -> None:
            if not self.joined.done():
                self.joined.set_exception(ConnectionError("closed before joining"))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        txaio.config.loop = loop

        async def one() -> tuple[Any, Any]:
            joined: asyncio.Future[Any] = loop.create_future()

            def make() -> S:
                session = S(ComponentConfig(REALM))
                session.joined = joined
                return session

            factory = WampWebSocketClientFactory(
                make, url=opts.url, serializers=[MsgPackSerializer()]
            )
            transport, _ = await loop.create_connection(factory, parts.hostname, parts.port)
            return await asyncio.wait_for(joined, 30), transport

        await hold_on_asyncio(one, figures, opts, await_leave=False)

    asyncio.run(main())


# ---- ApplicationRunner(...).run(start_loop=False) on asyncio: ours and Autobahn's


def runner_asyncio(opts: argparse.Namespace, autobahn: bool) -> None:
    """The same program for both: only the imports (and the serializer's spelling) differ."""
    import asyncio

    if autobahn:
        import txaio

        txaio.use_asyncio()
        from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession
        from autobahn.wamp.serializer import MsgPackSerializer

        serializers: list[Any] = [MsgPackSerializer()]
    else:
        from wamp_anyio import ApplicationRunner, ApplicationSession

        serializers = ["msgpack"]

    figures = Figures(opts)

    class S(ApplicationSession):  # type: ignore[misc,valid-type]
        joined: asyncio.Future[Any]

        def onJoin(self, details: Any) -> None:
            if not self.joined.done():
                self.joined.set_result(self)

        def onDisconnect(self) -> None:
            if not self.joined.done():
                self.joined.set_exception(ConnectionError("closed before joining"))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        if autobahn:
            txaio.config.loop = loop

        async def one() -> tuple[Any, Any]:
            joined: asyncio.Future[Any] = loop.create_future()

            def make(config: Any) -> S:
                session = S(config)
                session.joined = joined
                return session

            runner = ApplicationRunner(opts.url, REALM, serializers=serializers)
            transport, _ = await runner.run(make, start_loop=False, log_level=None)
            return await asyncio.wait_for(joined, 30), transport

        await hold_on_asyncio(one, figures, opts, await_leave=True)

    asyncio.run(main())


def runner_trio(opts: argparse.Namespace) -> None:
    """``ours-trio-runner``: runner_asyncio's program on trio (there is no Autobahn on
    trio: it is compared with autobahn-asyncio-runner). On trio ``run(start_loop=False)``
    also returns once connected; one system task per run reads every session's socket."""
    import trio

    from wamp_anyio import ApplicationRunner, ApplicationSession

    figures = Figures(opts)

    class S(ApplicationSession):
        joined: trio.Event
        failed: bool = False

        def onJoin(self, details: Any) -> None:
            self.joined.set()

        def onDisconnect(self) -> None:
            if not self.joined.is_set():
                self.failed = True
                self.joined.set()

    async def one() -> tuple[Any, Any]:
        joined = trio.Event()

        def make(config: Any) -> S:
            session = S(config)
            session.joined = joined
            return session

        runner = ApplicationRunner(opts.url, REALM, serializers=["msgpack"])
        stream, protocol = await runner.run(make, start_loop=False, log_level=None)
        with trio.fail_after(30):
            await joined.wait()
        session = protocol._session
        if session.failed:
            raise ConnectionError("closed before joining")
        return session, stream

    async def main() -> None:
        for _ in range(opts.warm):
            session, stream = await one()
            await session.leave()
            stream.close()
        await trio.sleep(0.1)  # the warm-up's sockets close
        figures.before()
        gate = trio.Semaphore(opts.connecting)
        pairs: list[tuple[Any, Any]] = []

        async def gated() -> None:
            async with gate:
                pairs.append(await one())

        async with trio.open_nursery() as nursery:
            for _ in range(opts.count):
                nursery.start_soon(gated)
        figures.joined()
        await trio.to_thread.run_sync(sys.stdin.readline)
        delivered = trio.Event()
        fanout = Fanout(opts.count, lambda: delivered.set())  # noqa: PLW0108 (rebound below)
        for session, _ in pairs:
            await session.subscribe(fanout.hit, TOPIC)
        publisher, pub_stream = await one()
        times = []
        for n in range(opts.events):
            delivered = trio.Event()
            fanout.start()
            publisher.publish(TOPIC, n)
            with trio.fail_after(60):
                await delivered.wait()
            times.append(fanout.last)
        figures.report(times)
        for session, _ in [*pairs, (publisher, pub_stream)]:
            if session.is_attached():
                session.leave()
        await trio.sleep(0.1)  # the GOODBYEs go out
        for _, stream in [*pairs, (publisher, pub_stream)]:
            stream.close()

    trio.run(main)


# ---- Twisted: ours and Autobahn's


def on_twisted(opts: argparse.Namespace, autobahn: bool) -> None:
    from twisted.internet import defer, reactor, threads

    clock: Any = reactor
    figures = Figures(opts)

    if autobahn:
        import txaio

        txaio.use_twisted()
        from autobahn.twisted.wamp import ApplicationSession
        from autobahn.twisted.websocket import WampWebSocketClientFactory
        from autobahn.wamp.serializer import MsgPackSerializer
        from autobahn.wamp.types import ComponentConfig
        from twisted.internet.endpoints import TCP4ClientEndpoint

        parts = urlsplit(opts.url)

        def connector(make: Any) -> defer.Deferred[Any]:
            factory = WampWebSocketClientFactory(
                make, url=opts.url, serializers=[MsgPackSerializer()]
            )
            endpoint = TCP4ClientEndpoint(clock, parts.hostname, parts.port)
            return endpoint.connect(factory)

    else:
        from wamp_core.application.url import parse_url
        from wamp_core.types import ComponentConfig
        from wamp_twisted import ApplicationSession
        from wamp_twisted.protocol import WampClientFactory
        from wamp_twisted.runner import endpoint_for

        target = parse_url(opts.url)

        def connector(make: Any) -> defer.Deferred[Any]:
            factory = WampClientFactory(make, target, REALM, clock, serializers=["msgpack"])
            return endpoint_for(target, clock, None, None).connect(factory)

    class S(ApplicationSession):  # type: ignore[misc,valid-type]
        joined: defer.Deferred[Any]

        def onJoin(self, details: Any) -> None:
            if not self.joined.called:
                self.joined.callback(self)

        def onDisconnect(self) -> None:
            if not self.joined.called:
                self.joined.errback(ConnectionError("closed before joining"))

    async def one() -> tuple[Any, Any]:
        joined: defer.Deferred[Any] = defer.Deferred()

        def make() -> S:
            session = S(ComponentConfig(REALM))
            session.joined = joined
            return session

        proto = await connector(make)
        return await joined, proto

    async def main() -> None:
        for _ in range(opts.warm):
            session, proto = await one()
            session.leave()
            proto.transport.loseConnection()
        figures.before()
        gate = defer.DeferredSemaphore(opts.connecting)

        def gated() -> defer.Deferred[Any]:
            return gate.run(lambda: defer.ensureDeferred(one()))

        pairs = await defer.gatherResults([gated() for _ in range(opts.count)])
        figures.joined()
        await threads.deferToThread(sys.stdin.readline)
        delivered: defer.Deferred[None] = defer.Deferred()

        def done() -> None:
            if not delivered.called:
                delivered.callback(None)

        fanout = Fanout(opts.count, done)
        for session, _ in pairs:
            await session.subscribe(fanout.hit, TOPIC)
        publisher, pub_proto = await one()
        times = []
        for n in range(opts.events):
            delivered = defer.Deferred()
            fanout.start()
            publisher.publish(TOPIC, n)
            await delivered
            times.append(fanout.last)
        figures.report(times)
        for session, proto in [*pairs, (publisher, pub_proto)]:
            if session.is_attached():
                session.leave()
            proto.transport.loseConnection()

    def finish(result: Any) -> None:
        if hasattr(result, "getTraceback"):
            sys.stderr.write(result.getTraceback())
            emit({"ev": "report", "error": result.getErrorMessage()})
        clock.callLater(0.5, clock.stop)  # let the GOODBYEs go out

    clock.callWhenRunning(lambda: defer.ensureDeferred(main()).addBoth(finish))
    clock.run()


def main() -> None:
    impls = [
        "ours-asyncio",
        "ours-trio",
        "ours-asyncio-runner",
        "ours-trio-runner",
        "ours-twisted",
        "autobahn-asyncio",
        "autobahn-asyncio-runner",
        "autobahn-twisted",
    ]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("impl", choices=impls)
    parser.add_argument("url")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--connecting", type=int, default=50)
    parser.add_argument("--warm", type=int, default=20)
    parser.add_argument("--events", type=int, default=3)
    opts = parser.parse_args()
    timer = threading.Timer(DEADLINE, lambda: os._exit(3))
    timer.daemon = True
    timer.start()
    limit = raise_fd_limit()
    if limit < opts.count + 100:
        raise SystemExit(f"RLIMIT_NOFILE is {limit}: too low for {opts.count} sessions")
    if opts.impl in ("ours-asyncio", "ours-trio"):
        ours_anyio(opts, opts.impl.split("-")[1])
    elif opts.impl == "ours-trio-runner":
        runner_trio(opts)
    elif opts.impl.endswith("-runner"):
        runner_asyncio(opts, autobahn=opts.impl.startswith("autobahn"))
    elif opts.impl == "autobahn-asyncio":
        autobahn_asyncio(opts)
    else:
        on_twisted(opts, autobahn=opts.impl == "autobahn-twisted")


if __name__ == "__main__":
    main()
