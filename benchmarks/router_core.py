"""The router core alone, in memory, encoding included, next to wampproto's router.

(a) RPC round trips per second, 1 caller and 1 callee: CALL in -> INVOCATION out
    -> YIELD in -> RESULT out, for msgpack and json.
(b) EVENTs delivered per second, 1 publisher and 1 / 10 / 100 subscribers:
    PUBLISH in -> EVENTs out; and 100 subscribers of mixed serializers (50 msgpack
    + 50 json).
(c) The server transports next to the client's, per message each way (the server
    receives a client's frame and sends one; the client sends one and receives the
    server's), for RawSocket and WebSocket, small and large payloads. WebSocket's
    masking makes the client pay on sending and the server on receiving, so the
    fair unit is the exchange. Target: the server side at least as fast.

Ours: a ``Router`` whose connections (``RawSocketServerTransport``) are fed
RawSocket frames by hand; what it writes (``take_writable`` / ``data_to_send``) is
drained as a host would, and kept to be checked after the timed window. The
clients cost next to nothing: their CALL/YIELD/PUBLISH frames are encoded and
framed before the clock starts, and nothing they receive is decoded while it runs
(a callee's INVOCATION ids are predictable: 1, 2, 3, ...).

wampproto: its ``Dealer`` and ``Broker`` with a session table around them (it has no
router class of its own; xconn's ``Realm`` is built the same way), its serializers
decoding what comes in and encoding what goes out, over the same input bytes, with
plain ``int.from_bytes`` RawSocket framing (not its per-byte helpers). EVENTs are
measured twice: encoded once per subscriber, as xconn sends them, and encoded once
per serializer, as ours does (what wampproto would do with the same cache).

Both run in the same process, pinned to one CPU, the best of ``--rounds`` rounds;
each round builds a fresh router and its sessions outside the timed window.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import time
from collections.abc import Callable
from typing import Any

from _variant import wamp_core_build
from wampproto import messages as wp
from wampproto.broker import Broker as WpBroker
from wampproto.dealer import Dealer as WpDealer
from wampproto.serializers import JSONSerializer, MsgPackSerializer
from wampproto.types import SessionDetails

from wamp_core.connection import Connection
from wamp_core.messages import Call, Event, Invocation, Message, Publish, Result, Yield
from wamp_core.router import MemoryNetwork, Router, RouterConnection
from wamp_core.serializers import Serializer, get_serializer
from wamp_core.transports import (
    MessageReceived,
    RawSocketClientTransport,
    Transport,
    WebSocketClientTransport,
)
from wamp_core.transports.rawsocket_server import RawSocketServerTransport
from wamp_core.transports.websocket_server import WebSocketServerTransport

PROCEDURE = "com.example.add2"
TOPIC = "com.example.sensor"
TARGET = 3.0  # the target: ours >= 3x wampproto

# A round's input and output: the frames fed in, and where the output bytes go.
Frames = list[bytes]
Run = Callable[[], int]  # one timed window; returns the messages it routed
Prepare = Callable[[int], tuple[Run, Callable[[], None]]]  # count -> (run, check)


# -- the clients' side: frames made before the clock starts ------------------------------


def framer(serializer: str) -> tuple[Serializer, RawSocketClientTransport]:
    """Our serializer and an open RawSocket client transport, to encode and frame with."""
    ours = get_serializer(serializer)
    transport = RawSocketClientTransport(serializer)
    transport.data_to_send()  # the handshake
    transport.receive_data(bytes((0x7F, 0xF0 | ours.RAWSOCKET_ID, 0, 0)))
    assert transport.is_open
    transport.events()  # TransportOpened
    return ours, transport


def frames(serializer: str, items: list[Message]) -> Frames:
    """One RawSocket frame per message, as a client would write them."""
    codec, transport = framer(serializer)
    out = []
    for message in items:
        transport.send_message(codec.encode(message))
        out.append(transport.data_to_send())
    return out


def received(serializer: str, chunks: list[bytes]) -> list[Message]:
    """What a client reads from ``chunks`` (for the checks after the timed window)."""
    codec, transport = framer(serializer)
    messages: list[Message] = []
    for chunk in chunks:
        if not chunk:
            continue  # a connection listed as writable with nothing to send (b"" is EOF)
        transport.receive_data(chunk)
        for event in transport.events():
            assert isinstance(event, MessageReceived), event
            messages.extend(codec.decode(event.data))
    return messages


def calls(serializer: str, count: int) -> Frames:
    return frames(serializer, [Call(i, PROCEDURE, [2, 3]) for i in range(1, count + 1)])


def yields(serializer: str, first_id: int, count: int) -> Frames:
    return frames(serializer, [Yield(first_id + i, [5]) for i in range(count)])


def publishes(serializer: str, count: int) -> Frames:
    items = [Publish(i, TOPIC, [21.5, "kitchen"]) for i in range(1, count + 1)]
    return frames(serializer, items)


def check_results(serializer: str, chunks: list[bytes], count: int) -> None:
    results = received(serializer, chunks)
    assert len(results) == count, (len(results), count)
    for i, result in enumerate(results, 1):
        assert isinstance(result, Result) and result.request_id == i, result
        assert result.args == [5], result


def check_events(serializer: str, chunks: list[bytes], count: int) -> None:
    events = received(serializer, chunks)
    assert len(events) == count, (len(events), count)
    assert all(isinstance(e, Event) and e.args == [21.5, "kitchen"] for e in events), events[0]


# -- ours --------------------------------------------------------------------------------


class Ours:
    """A router and joined clients (our Connections, over a MemoryNetwork for the set-up
    only); the timed loops then speak to the router's connections directly."""

    def __init__(self) -> None:
        self.router = Router(random_bytes=random.Random(7).randbytes)
        self.network = MemoryNetwork(self.router)

    def client(self, serializer: str) -> tuple[Connection, RouterConnection]:
        conn = Connection.rawsocket("realm1", serializer)
        server = self.network.attach(conn)
        self.network.pump()
        conn.events()
        assert conn.session.is_joined, conn
        return conn, server

    def settle(self, *conns: Connection) -> None:
        self.network.pump()
        for conn in conns:
            conn.events()


def ours_rpc(serializer: str) -> Prepare:
    def prepare(count: int) -> tuple[Run, Callable[[], None]]:
        ours = Ours()
        _, to_caller = ours.client(serializer)
        callee, to_callee = ours.client(serializer)
        callee.session.register(PROCEDURE)  # answered below, by hand
        ours.settle(callee)
        call_frames = calls(serializer, count)
        yield_frames = yields(serializer, 1, count)  # INVOCATION ids 1, 2, 3, ...
        router = ours.router
        to_caller_out: list[bytes] = []
        to_callee_out: list[bytes] = []
        outputs = {to_caller: to_caller_out, to_callee: to_callee_out}

        def run() -> int:
            take_writable = router.take_writable
            for call, answer in zip(call_frames, yield_frames, strict=True):
                to_caller.receive_data(call)
                for conn in take_writable():
                    outputs[conn].append(conn.data_to_send())
                to_callee.receive_data(answer)
                for conn in take_writable():
                    outputs[conn].append(conn.data_to_send())
            return count

        def check() -> None:
            check_results(serializer, to_caller_out, count)
            invocations = received(serializer, to_callee_out)
            assert [i.request_id for i in invocations] == list(range(1, count + 1))
            assert all(type(i) is Invocation for i in invocations)

        return run, check

    return prepare


def ours_events(serializers: list[str]) -> Prepare:
    """One publisher (msgpack) and a subscriber in each of ``serializers``."""

    def prepare(count: int) -> tuple[Run, Callable[[], None]]:
        ours = Ours()
        _, to_publisher = ours.client("msgpack")
        subscribers = [ours.client(s) for s in serializers]
        for conn, _ in subscribers:
            conn.session.subscribe(TOPIC)
        ours.settle(*(conn for conn, _ in subscribers))
        publications = max(1, count // len(serializers))
        publish_frames = publishes("msgpack", publications)
        router = ours.router
        outputs: dict[RouterConnection, list[bytes]] = {s: [] for _, s in subscribers}
        outputs[to_publisher] = []  # listed as writable after each input, with nothing

        def run() -> int:
            take_writable = router.take_writable
            for frame in publish_frames:
                to_publisher.receive_data(frame)
                for conn in take_writable():
                    outputs[conn].append(conn.data_to_send())
            return publications * len(serializers)

        def check() -> None:
            for serializer, (_, server) in zip(serializers, subscribers, strict=True):
                check_events(serializer, outputs[server], publications)

        return run, check

    return prepare


class CountingTransport:
    """A connection's server transport, counting the frames built for it with
    ``frame_message`` (stands in for the connection's ``transport``). A connection
    builds a frame only from an encoding it did not find in the message's shared
    cache: one frame per serializer is one encoding per serializer. (Wrapping the
    transport, not the serializer: a compiled connection accepts only a real
    Serializer there, but any object as its transport.)"""

    def __init__(self, inner: Any, counter: list[int]) -> None:
        self.inner = inner
        self.counter = counter

    def frame_message(self, payload: bytes | str) -> bytes:
        self.counter[0] += 1
        frame: bytes = self.inner.frame_message(payload)
        return frame

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def assert_encoded_once_per_serializer(serializers: list[str]) -> None:
    """An EVENT to every subscriber is encoded once per serializer, not once per
    subscriber (checked, not timed)."""
    ours = Ours()
    _, to_publisher = ours.client("msgpack")
    subscribers = [ours.client(s) for s in serializers]
    for conn, _ in subscribers:
        conn.session.subscribe(TOPIC)
    ours.settle(*(conn for conn, _ in subscribers))
    counters = {name: [0] for name in set(serializers)}
    for name, (_, server) in zip(serializers, subscribers, strict=True):
        server.transport = CountingTransport(server.transport, counters[name])
    for frame in publishes("msgpack", 3):
        to_publisher.receive_data(frame)
    ours.settle(*(conn for conn, _ in subscribers))
    for name, counter in counters.items():
        assert counter[0] == 3, f"{name}: {counter[0]} encodings of 3 EVENTs"
    for conn, _ in subscribers:
        assert len(conn.session.subscriptions) == 1  # still subscribed, nothing went wrong


# -- wampproto ---------------------------------------------------------------------------

WP_SERIALIZERS: dict[str, Callable[[], Any]] = {
    "json": JSONSerializer,
    "msgpack": MsgPackSerializer,
}


class WpRouter:
    """wampproto's Dealer and Broker behind a session table: RawSocket frames in, each
    message decoded and routed, the answers encoded and framed for their sessions."""

    def __init__(self, *, shared_encoding: bool = False) -> None:
        self.shared_encoding = shared_encoding
        self.dealer = WpDealer()
        self.broker = WpBroker()
        self.serializers: dict[int, Any] = {}
        self.kinds: dict[int, str] = {}
        self.out: dict[int, list[bytes]] = {}
        self.writable: dict[int, None] = {}

    def join(self, session_id: int, serializer: str) -> int:
        details = SessionDetails(session_id, "realm1", "anonymous", "anonymous")
        self.dealer.add_session(details)
        self.broker.add_session(details)
        self.serializers[session_id] = WP_SERIALIZERS[serializer]()
        self.kinds[session_id] = serializer
        self.out[session_id] = []
        return session_id

    def receive_data(self, session_id: int, data: bytes) -> None:
        """Whole frames, as the benchmark feeds them."""
        serializer = self.serializers[session_id]
        pos, end = 0, len(data)
        while pos < end:
            size = int.from_bytes(data[pos + 1 : pos + 4], "big")
            message = serializer.deserialize(data[pos + 4 : pos + 4 + size])
            pos += 4 + size
            if isinstance(message, wp.Publish):
                self._publish(session_id, message)
            else:
                routed = self.dealer.receive_message(session_id, message)
                self._send(routed.recipient, routed.message)

    def _publish(self, session_id: int, message: wp.Publish) -> None:
        publication = self.broker.receive_publish(session_id, message)
        if publication.ack is not None:
            self._send(publication.ack.recipient, publication.ack.message)
        event = publication.event
        if event is None:
            return
        if not self.shared_encoding:  # as xconn: each subscriber's EVENT encoded for it
            for recipient in publication.recipients:
                self._send(recipient, event)
            return
        encoded: dict[str, bytes] = {}
        for recipient in publication.recipients:
            kind = self.kinds[recipient]
            frame = encoded.get(kind)
            if frame is None:
                frame = encoded[kind] = self._frame(recipient, event)
            self.out[recipient].append(frame)
            self.writable[recipient] = None

    def _send(self, recipient: int, message: Any) -> None:
        self.out[recipient].append(self._frame(recipient, message))
        self.writable[recipient] = None

    def _frame(self, recipient: int, message: Any) -> bytes:
        payload = self.serializers[recipient].serialize(message)
        if type(payload) is str:
            payload = payload.encode()
        return len(payload).to_bytes(4, "big") + payload  # type 0 (WAMP) and a 24-bit length

    def take_writable(self) -> list[int]:
        writable = list(self.writable)
        self.writable.clear()
        return writable

    def data_to_send(self, session_id: int) -> bytes:
        out = self.out[session_id]
        data = b"".join(out)
        out.clear()
        return data


def wp_rpc(serializer: str) -> Prepare:
    def prepare(count: int) -> tuple[Run, Callable[[], None]]:
        router = WpRouter()
        caller = router.join(101, serializer)
        callee = router.join(102, serializer)
        register = wp.Register(wp.RegisterFields(1, PROCEDURE))
        router.dealer.receive_message(callee, register)
        first = router.dealer.idgen.id + 1  # its INVOCATION ids come from the same counter
        call_frames = calls(serializer, count)
        yield_frames = yields(serializer, first, count)
        outputs: dict[int, list[bytes]] = {caller: [], callee: []}

        def run() -> int:
            take_writable, data_to_send = router.take_writable, router.data_to_send
            receive_data = router.receive_data
            for call, answer in zip(call_frames, yield_frames, strict=True):
                receive_data(caller, call)
                for session_id in take_writable():
                    outputs[session_id].append(data_to_send(session_id))
                receive_data(callee, answer)
                for session_id in take_writable():
                    outputs[session_id].append(data_to_send(session_id))
            return count

        def check() -> None:
            check_results(serializer, outputs[caller], count)
            invocations = received(serializer, outputs[callee])
            assert [i.request_id for i in invocations] == list(range(first, first + count))

        return run, check

    return prepare


def wp_events(serializers: list[str], *, shared_encoding: bool) -> Prepare:
    def prepare(count: int) -> tuple[Run, Callable[[], None]]:
        router = WpRouter(shared_encoding=shared_encoding)
        publisher = router.join(1, "msgpack")
        subscribers = [router.join(10 + i, s) for i, s in enumerate(serializers)]
        for subscriber in subscribers:
            router.broker.receive_message(subscriber, wp.Subscribe(wp.SubscribeFields(1, TOPIC)))
        publications = max(1, count // len(serializers))
        publish_frames = publishes("msgpack", publications)
        outputs: dict[int, list[bytes]] = {s: [] for s in subscribers}
        outputs[publisher] = []

        def run() -> int:
            take_writable, data_to_send = router.take_writable, router.data_to_send
            receive_data = router.receive_data
            for frame in publish_frames:
                receive_data(publisher, frame)
                for session_id in take_writable():
                    outputs[session_id].append(data_to_send(session_id))
            return publications * len(serializers)

        def check() -> None:
            for serializer, subscriber in zip(serializers, subscribers, strict=True):
                check_events(serializer, outputs[subscriber], publications)

        return run, check

    return prepare


# -- server and client transports ----------------------------------------------------------


def open_pair(kind: str) -> tuple[Transport, Transport]:
    """A client transport and a server transport, their handshakes done in memory."""
    client: Transport
    server: Transport
    if kind == "websocket":
        masks = random.Random(3).randbytes
        client = WebSocketClientTransport(
            "127.0.0.1:8080", "/ws", serializers=["msgpack"], random_bytes=masks
        )
        server = WebSocketServerTransport()
    else:
        client = RawSocketClientTransport("msgpack")
        server = RawSocketServerTransport(("msgpack",))
    while not (client.is_open and server.is_open):
        server.receive_data(client.data_to_send())
        client.receive_data(server.data_to_send())
    client.events()
    server.events()
    return client, server


def exchange(kind: str, size: int, side: str) -> Prepare:
    """``side`` receives ``count`` frames of the other side and sends ``count``."""
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)

    def prepare(count: int) -> tuple[Run, Callable[[], None]]:
        client, server = open_pair(kind)
        me, peer = (server, client) if side == "server" else (client, server)
        peer.send_message(payload)
        incoming = peer.data_to_send()  # the same frame each time (a client's mask too)
        out: list[bytes] = []
        got: list[Any] = []

        def run() -> int:
            receive, events = me.receive_data, me.events
            send, data_to_send = me.send_message, me.data_to_send
            for _ in range(count):
                receive(incoming)
                got.extend(events())
                send(payload)
                out.append(data_to_send())
            return count

        def check() -> None:
            assert len(got) == count and all(
                isinstance(e, MessageReceived) and e.data == payload for e in got
            )
            peer.receive_data(out[-1])
            (last,) = peer.events()
            assert isinstance(last, MessageReceived) and last.data == payload

        return run, check

    return prepare


def transports_table(rounds: int) -> None:
    print()
    print("Messages exchanged/s by one transport (one received + one sent), msgpack")
    print("(target: server >= client)")
    print("| transport | payload | server | client | server / client |")
    print("|---|---:|---:|---:|---:|")
    for kind in ("rawsocket", "websocket"):
        for size, count in ((40, 50_000), (1024, 50_000), (65536, 2_000)):
            server = best_rate(exchange(kind, size, "server"), count, rounds)
            client = best_rate(exchange(kind, size, "client"), count, rounds)
            mark = "" if server >= client else " (below)"
            print(
                f"| {kind} | {size:,} B | {server:,.0f} | {client:,.0f} "
                f"| {server / client:.2f}x{mark} |"
            )


# -- measuring ---------------------------------------------------------------------------


def best_rate(prepare: Prepare, count: int, rounds: int) -> float:
    """Messages per second of the fastest of ``rounds`` timed windows, each on a fresh
    router; every round's output is checked afterwards."""
    best = 0.0
    for _ in range(rounds):
        run, check = prepare(count)
        gc.collect()
        start = time.perf_counter()
        routed = run()
        elapsed = time.perf_counter() - start
        check()
        best = max(best, routed / elapsed)
    return best


def pin_to_one_cpu() -> str:
    """One process does everything here: one CPU keeps the rounds comparable."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned"
    cpu = sorted(os.sched_getaffinity(0))[-1]
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def ratio(ours: float, theirs: float) -> str:
    value = ours / theirs
    return f"{value:.2f}x" + ("" if value >= TARGET else " (below)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--count",
        type=int,
        default=10_000,
        help="messages routed per round: round trips, or EVENTs delivered",
    )
    opts = parser.parse_args()
    pinned = pin_to_one_cpu()
    print(f"router core benchmark: {opts.count} per round, best of {opts.rounds}, {pinned}")
    print(wamp_core_build())

    mixed = ["msgpack", "json"] * 50
    assert_encoded_once_per_serializer(mixed)
    print("checked: an EVENT to 100 subscribers (50 msgpack + 50 json) is encoded twice")

    print()
    print(f"RPC round trips/s, 1 caller, 1 callee (target: ours >= {TARGET:.0f}x wampproto)")
    print("| serializer | ours | wampproto | ours / wampproto |")
    print("|---|---:|---:|---:|")
    for serializer in ("msgpack", "json"):
        ours = best_rate(ours_rpc(serializer), opts.count, opts.rounds)
        theirs = best_rate(wp_rpc(serializer), opts.count, opts.rounds)
        print(f"| {serializer} | {ours:,.0f} | {theirs:,.0f} | {ratio(ours, theirs)} |")

    print()
    print(f"EVENTs delivered/s, 1 publisher (target: ours >= {TARGET:.0f}x wampproto)")
    print(
        "| subscribers | ours | wampproto, encoded per subscriber (xconn) | ours / that "
        "| wampproto, encoded per serializer | ours / that |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    cases: list[tuple[str, list[str]]] = [
        (f"{n} {serializer}", [serializer] * n)
        for serializer in ("msgpack", "json")
        for n in (1, 10, 100)
    ]
    cases.append(("100 mixed (50 msgpack + 50 json)", mixed))
    for name, serializers in cases:
        ours = best_rate(ours_events(serializers), opts.count, opts.rounds)
        each = best_rate(wp_events(serializers, shared_encoding=False), opts.count, opts.rounds)
        shared = best_rate(wp_events(serializers, shared_encoding=True), opts.count, opts.rounds)
        print(
            f"| {name} | {ours:,.0f} | {each:,.0f} | {ratio(ours, each)} "
            f"| {shared:,.0f} | {ratio(ours, shared)} |"
        )
    transports_table(opts.rounds)


if __name__ == "__main__":
    main()
