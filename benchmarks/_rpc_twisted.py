"""The Twisted processes benchmarks/rpc.py starts: one measured caller or subscriber.

``python benchmarks/_rpc_twisted.py ROLE IMPL URL [options]`` with ROLE ``caller`` or
``subscriber`` (the same options and JSON output as _rpc_peers.py, whose measuring
code it reuses: the calling tasks are coroutines run with ``ensureDeferred`` that
``await`` the Deferred of each call). IMPL is

* ``floor-twisted``: a bare ``twisted.internet.protocol.Protocol`` with no validation
  and no abstraction, the Twisted twin of _rpc_floor.py (wsproto for WebSocket, a
  length-prefixed frame loop for RawSocket, msgpack, a plain ``if`` on the message
  type). Each message goes to its own ``transport.write``; Twisted's TCP transport
  buffers what is written and sends it when the reactor next polls, so the writes of
  one reactor iteration leave in one ``send`` anyway;
* ``ours-twisted``: wamp_twisted, connected as its users do (``ApplicationRunner.run``
  with ``start_reactor=False``, an ``ApplicationSession``), Deferreds from ``call``;
* ``autobahn-twisted``: Autobahn|Python's ``autobahn.twisted.wamp.ApplicationSession``
  over its Twisted WebSocket / RawSocket client factories.

Every variant runs on the reactor a Twisted program gets by default
(``from twisted.internet import reactor``: epoll on Linux); the JSON line names it.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import msgpack
from _rpc_floor import (
    ABORT,
    CALL,
    ERROR,
    EVENT,
    GOODBYE,
    HELLO,
    RESULT,
    ROLES,
    RS_MAX_EXPONENT,
    RS_MSGPACK,
    SUBSCRIBE,
    SUBSCRIBED,
    WELCOME,
    rawsocket_received,
    websocket_received,
)
from _rpc_peers import (
    PROCEDURE,
    REALM,
    TOPIC,
    Call,
    Tally,
    emit,
    make_parser,
    run_calls,
    wait_tally,
    watchdog,
    worker,
)
from twisted.internet import defer
from twisted.internet.endpoints import HostnameEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.python.failure import Failure
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    BytesMessage,
    Request,
)

IMPLS = ["floor-twisted", "ours-twisted", "autobahn-twisted"]


# ---- shared by the three variants


def gather(call: Call) -> Callable[[list[range]], Awaitable[None]]:
    """Run one calling coroutine per range, all at once; until all are done."""

    async def concurrently(ranges: list[range]) -> None:
        running = [defer.ensureDeferred(worker(call, numbers)) for numbers in ranges]
        await defer.gatherResults(running, consumeErrors=True)

    return concurrently


class Done:
    """Set once (the last event came); ``wait(timeout)`` says whether it is set."""

    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor
        self.is_set = False
        self.waiters: list[defer.Deferred[bool]] = []

    def set(self) -> None:
        self.is_set = True
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            if not waiter.called:
                waiter.callback(True)

    async def wait(self, timeout: float) -> bool:
        if self.is_set:
            return True
        waiter: defer.Deferred[bool] = defer.Deferred()
        self.waiters.append(waiter)
        timer = self.reactor.callLater(timeout, lambda: waiter.called or waiter.callback(False))
        result = await waiter
        if timer.active():
            timer.cancel()
        return result


async def count_events(
    subscribe: Callable[[Callable[..., None]], Awaitable[Any]],
    opts: argparse.Namespace,
    reactor: Any,
) -> dict[str, Any]:
    """Subscribe a Tally, say ``ready``, count until done or idle; the tally's report."""
    done = Done(reactor)
    tally = Tally(opts.warmup, opts.events, done.set)
    await subscribe(tally.hit)
    emit("ready")
    await wait_tally(tally, done.wait, opts.idle)
    return tally.report()


def endpoint(reactor: Any, url: str) -> Any:
    parts = urlsplit(url)
    return HostnameEndpoint(reactor, parts.hostname or "127.0.0.1", parts.port or 80)


def within(deferred: defer.Deferred[Any], seconds: float, reactor: Any) -> defer.Deferred[Any]:
    """``deferred``, failing with TimeoutError after ``seconds``; cancelling it then."""
    return deferred.addTimeout(seconds, reactor)


# ---- the bare Twisted floor


class FloorPeer(Protocol):
    """The WAMP part, shared by both transports (which implement ``send_payload``)."""

    def __init__(self, realm: str) -> None:
        self.realm = realm
        self.joined: defer.Deferred[int] = defer.Deferred()
        self.lost: defer.Deferred[None] = defer.Deferred()
        self.pending: dict[int, defer.Deferred[Any]] = {}
        self.ids = itertools.count(1)
        self.packb = msgpack.Packer().pack
        self.on_event: Callable[[list[Any]], None] = lambda args: None
        self.closed = False

    def send_payload(self, payload: bytes) -> None:
        raise NotImplementedError

    def opened(self) -> None:
        self.send_payload(self.packb([HELLO, self.realm, {"roles": ROLES}]))

    def on_payload(self, payload: bytes) -> None:
        msg = msgpack.unpackb(payload)
        kind = msg[0]
        if kind == RESULT:
            waiter = self.pending.pop(msg[1], None)
            if waiter is not None:
                args = msg[3] if len(msg) > 3 else None
                waiter.callback(args[0] if args else None)
        elif kind == EVENT:
            self.on_event(msg[4] if len(msg) > 4 else [])
        elif kind == SUBSCRIBED:
            waiter = self.pending.pop(msg[1], None)
            if waiter is not None:
                waiter.callback(msg[2])
        elif kind == WELCOME:
            if not self.joined.called:
                self.joined.callback(msg[1])
        elif kind == ERROR:
            waiter = self.pending.pop(msg[2], None)
            if waiter is not None:
                waiter.errback(RuntimeError(f"WAMP error {msg[4]}"))
        elif kind == ABORT:
            if not self.joined.called:
                self.joined.errback(RuntimeError(f"ABORT {msg[2]}"))
            self.close()
        elif kind == GOODBYE:
            self.send_payload(self.packb([GOODBYE, {}, "wamp.close.goodbye_and_out"]))
            self.close()

    def connectionLost(self, reason: Failure = Failure(ConnectionError("lost"))) -> None:  # noqa: B008
        self.closed = True
        error = ConnectionError("the transport closed")
        waiters = [self.joined, *self.pending.values()]
        self.pending.clear()
        for waiter in waiters:
            if not waiter.called:
                waiter.errback(error)
        self.lost.callback(None)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.loseConnection()

    def call(self, procedure: str, arg: Any) -> defer.Deferred[Any]:
        request_id = next(self.ids)
        waiter: defer.Deferred[Any] = defer.Deferred()
        self.pending[request_id] = waiter
        self.send_payload(self.packb([CALL, request_id, {}, procedure, [arg]]))
        return waiter

    def subscribe(self, topic: str, on_event: Callable[[list[Any]], None]) -> defer.Deferred[Any]:
        self.on_event = on_event
        request_id = next(self.ids)
        waiter: defer.Deferred[Any] = defer.Deferred()
        self.pending[request_id] = waiter
        self.send_payload(self.packb([SUBSCRIBE, request_id, {}, topic]))
        return waiter

    async def leave(self, reactor: Any, timeout: float = 2.0) -> None:
        """GOODBYE, wait for the router's GOODBYE (which closes), bounded by ``timeout``."""
        if self.closed:
            return
        self.send_payload(self.packb([GOODBYE, {}, "wamp.close.normal"]))
        try:
            await within(self.lost, timeout, reactor)
        except defer.TimeoutError:
            self.close()


class RawSocketFloor(FloorPeer):
    """WAMP over RawSocket: handshake, then 4-byte-header frames."""

    def __init__(self, realm: str) -> None:
        super().__init__(realm)
        self.buffer = bytearray()
        self.handshaken = False

    def connectionMade(self) -> None:
        self.transport.write(bytes([0x7F, (RS_MAX_EXPONENT << 4) | RS_MSGPACK, 0, 0]))

    def send_payload(self, payload: bytes) -> None:
        self.transport.write(len(payload).to_bytes(4, "big") + payload)  # type byte 0

    def dataReceived(self, data: bytes) -> None:
        rawsocket_received(self, data)


class WebSocketFloor(FloorPeer):
    """WAMP over WebSocket with wsproto (binary messages, subprotocol wamp.2.msgpack)."""

    def __init__(self, realm: str, host: str, path: str) -> None:
        super().__init__(realm)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.host = host
        self.path = path
        self.parts: list[bytes] = []

    def connectionMade(self) -> None:
        request = Request(host=self.host, target=self.path, subprotocols=["wamp.2.msgpack"])
        self.transport.write(self.ws.send(request))

    def send_payload(self, payload: bytes) -> None:
        self.transport.write(self.ws.send(BytesMessage(data=payload)))

    def dataReceived(self, data: bytes) -> None:
        websocket_received(self, data)


async def floor_connect(url: str, reactor: Any) -> FloorPeer:
    parts = urlsplit(url)
    build: Callable[[], FloorPeer]
    if parts.scheme == "rs":
        build = lambda: RawSocketFloor(REALM)  # noqa: E731
    elif parts.scheme == "ws":
        authority = f"{parts.hostname}:{parts.port}"
        build = lambda: WebSocketFloor(REALM, authority, parts.path or "/")  # noqa: E731
    else:
        raise ValueError(f"the floor speaks rs:// and ws:// only, not {url!r}")
    peer: FloorPeer = await endpoint(reactor, url).connect(Factory.forProtocol(build))
    await within(peer.joined, 10, reactor)
    return peer


async def floor_main(role: str, url: str, opts: argparse.Namespace, reactor: Any) -> Any:
    peer = await floor_connect(url, reactor)
    try:
        if role == "caller":
            call = peer.call

            def echo(i: int) -> defer.Deferred[Any]:
                return call(PROCEDURE, i)

            return await run_calls(echo, gather(echo), opts)
        if role == "subscriber":
            return await count_events(
                lambda hit: peer.subscribe(TOPIC, lambda a: hit(*a)), opts, reactor
            )
        raise ValueError(role)
    finally:
        await peer.leave(reactor)


# ---- ours: wamp_twisted


async def ours_main(role: str, url: str, opts: argparse.Namespace, reactor: Any) -> Any:
    from wamp_twisted import ApplicationRunner, ApplicationSession

    joined: defer.Deferred[Any] = defer.Deferred()

    class BenchSession(ApplicationSession):
        def onJoin(self, details: Any) -> None:
            if not joined.called:
                joined.callback(self)

        def onDisconnect(self) -> None:
            if not joined.called:
                joined.errback(ConnectionError("closed before joining"))

    runner = ApplicationRunner(url, REALM, serializers=["msgpack"])
    await runner.run(BenchSession, start_reactor=False, reactor=reactor)
    session = await within(joined, 10, reactor)
    try:
        if role == "caller":
            call = session.call

            def echo(i: int) -> defer.Deferred[Any]:
                return call(PROCEDURE, i)  # type: ignore[no-any-return]

            return await run_calls(echo, gather(echo), opts)
        if role == "subscriber":
            return await count_events(lambda hit: session.subscribe(hit, TOPIC), opts, reactor)
        raise ValueError(role)
    finally:
        if session.is_attached():
            with contextlib.suppress(defer.TimeoutError):
                await within(session.leave(), 2, reactor)
        runner.stop()


# ---- Autobahn|Python on Twisted


async def autobahn_main(role: str, url: str, opts: argparse.Namespace, reactor: Any) -> Any:
    import txaio

    txaio.use_twisted()
    from autobahn.twisted.rawsocket import WampRawSocketClientFactory
    from autobahn.twisted.wamp import ApplicationSession
    from autobahn.twisted.websocket import WampWebSocketClientFactory
    from autobahn.wamp.serializer import MsgPackSerializer
    from autobahn.wamp.types import ComponentConfig

    joined: defer.Deferred[Any] = defer.Deferred()
    gone: defer.Deferred[None] = defer.Deferred()

    class BenchSession(ApplicationSession):  # type: ignore[misc]
        def onJoin(self, details: Any) -> None:
            if not joined.called:
                joined.callback(self)

        def onDisconnect(self) -> None:
            if not joined.called:
                joined.errback(ConnectionError("closed before joining"))
            if not gone.called:
                gone.callback(None)

    def make() -> Any:
        return BenchSession(ComponentConfig(REALM))

    factory: Any
    if urlsplit(url).scheme == "rs":
        factory = WampRawSocketClientFactory(make, serializer=MsgPackSerializer())
    else:
        factory = WampWebSocketClientFactory(make, url=url, serializers=[MsgPackSerializer()])
    proto = await endpoint(reactor, url).connect(factory)
    session = await within(joined, 10, reactor)
    try:
        if role == "caller":
            ab_call = session.call

            def echo(i: int) -> defer.Deferred[Any]:
                return ab_call(PROCEDURE, i)  # type: ignore[no-any-return]

            return await run_calls(echo, gather(echo), opts)
        if role == "subscriber":
            return await count_events(lambda hit: session.subscribe(hit, TOPIC), opts, reactor)
        raise ValueError(role)
    finally:
        if session.is_attached():
            session.leave()
            with contextlib.suppress(defer.TimeoutError):
                await within(gone, 2, reactor)
        proto.transport.loseConnection()


# ---- entry

MAINS = {"floor-twisted": floor_main, "ours-twisted": ours_main, "autobahn-twisted": autobahn_main}


def run(opts: argparse.Namespace) -> Any:
    """Run the role on the default reactor until it is done; its result (or raise)."""
    from twisted.internet import reactor

    outcome: list[Any] = []

    def start() -> None:
        running = defer.ensureDeferred(MAINS[opts.impl](opts.role, opts.url, opts, reactor))
        running.addBoth(outcome.append)
        running.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(start)
    reactor.run()
    if not outcome:
        raise RuntimeError("the reactor stopped before the peer finished")
    if isinstance(outcome[0], Failure):
        outcome[0].raiseException()
    result = outcome[0]
    if isinstance(result, dict):
        result["reactor"] = type(reactor).__name__
    return result


def main() -> None:
    opts = make_parser(__doc__, IMPLS).parse_args()
    if opts.role not in ("caller", "subscriber"):
        sys.exit(f"_rpc_twisted: the Twisted peers measure; {opts.role} is not one of them")
    watchdog(opts.deadline, watch_stdin=False)
    if opts.profile and opts.role != "caller":
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(run, opts)
        profiler.dump_stats(opts.profile)
    else:
        result = run(opts)
    if result is not None:
        emit(result)


if __name__ == "__main__":
    main()
