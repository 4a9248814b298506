"""The Sans-IO core under load, next to the floor of the same bytes.

(a) EVENTs received per second through ``Connection.receive_data`` (framing,
    decoding, validation, session dispatch, events drained) for RawSocket+msgpack
    and WebSocket+json, next to the floor: the same bytes through bare framing
    and ``msgpack.unpackb`` / ``ujson.loads`` with no validation at all.
(b) In-memory RPC round trips per second: caller Connection -> scripted router
    -> callee Connection -> back, everything through real bytes.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

import msgpack
import ujson
from _variant import wamp_core_build
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage

from wamp_core.connection import Connection
from wamp_core.events import SubscriptionCreated
from wamp_core.messages import (
    Event,
    Hello,
    Invocation,
    Result,
    Subscribe,
    Subscribed,
    Welcome,
    Yield,
)
from wamp_core.testing.router import ScriptedRouter

ROLES = {"broker": {"features": {}}, "dealer": {"features": {"call_canceling": True}}}
CHUNK = 65536  # what one socket read returns under load


def best_rate(run: Callable[[], int], repeats: int) -> float:
    """Items per second of the fastest of ``repeats`` runs."""
    best = 0.0
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        count = run()
        best = max(best, count / (time.perf_counter() - start))
    return best


def joined_pair(transport: str, serializer: str) -> tuple[Connection, ScriptedRouter]:
    router = ScriptedRouter(transport, serializer)
    if transport == "rawsocket":
        conn = Connection.rawsocket("realm1", serializer)
    else:
        conn = Connection.websocket("realm1", "localhost", "/ws", serializers=[serializer])
    router.receive_data(conn.data_to_send())  # the transport handshake
    conn.receive_data(router.data_to_send())  # its answer: the Connection sends HELLO
    router.receive_data(conn.data_to_send())
    router.expect(Hello)
    router.send(Welcome(1, {"roles": ROLES}))
    conn.receive_data(router.data_to_send())
    conn.events()
    return conn, router


def event_stream(
    transport: str, serializer: str, count: int
) -> tuple[Callable[[], Connection], list[bytes]]:
    """A factory of subscribed connections, and the router's bytes of ``count`` EVENTs."""

    def fresh() -> Connection:
        conn, router = joined_pair(transport, serializer)
        conn.session.subscribe("com.example.sensor")
        router.receive_data(conn.data_to_send())
        request = router.expect(Subscribe)
        router.send(Subscribed(request.request_id, 700))
        conn.receive_data(router.data_to_send())
        assert any(isinstance(e, SubscriptionCreated) for e in conn.events())
        return conn

    _, router = joined_pair(transport, serializer)
    router.send(
        *(Event(700, 1000 + i, [21.5, "kitchen"], details={"publisher": 42}) for i in range(count))
    )
    data = router.data_to_send()
    return fresh, [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]


def ours(fresh: Callable[[], Connection], chunks: list[bytes], count: int) -> Callable[[], int]:
    def run() -> int:
        conn = fresh()
        received = 0
        for chunk in chunks:
            conn.receive_data(chunk)
            received += len(conn.events())
        assert received == count, received
        return received

    return run


def rawsocket_floor(chunks: list[bytes], count: int) -> Callable[[], int]:
    """Bare RawSocket framing + msgpack.unpackb: the least a Python client can do."""
    unpackb = msgpack.unpackb

    def run() -> int:
        buffer = bytearray()
        received = 0
        for chunk in chunks:
            buffer += chunk
            pos, end = 0, len(buffer)
            while end - pos >= 4:
                size = int.from_bytes(buffer[pos + 1 : pos + 4], "big")
                if end - pos - 4 < size:
                    break
                unpackb(buffer[pos + 4 : pos + 4 + size])
                pos += 4 + size
                received += 1
            del buffer[:pos]
        assert received == count, received
        return received

    return run


def websocket_floor(chunks: list[bytes], count: int) -> Callable[[], int]:
    """Bare wsproto client framing + ujson.loads."""
    loads = ujson.loads

    def run() -> int:
        client = WSConnection(ConnectionType.CLIENT)
        server = WSConnection(ConnectionType.SERVER)
        server.receive_data(
            client.send(Request(host="localhost", target="/ws", subprotocols=["wamp.2.json"]))
        )
        next(iter(server.events()))
        client.receive_data(server.send(AcceptConnection(subprotocol="wamp.2.json")))
        list(client.events())
        received = 0
        parts: list[str] = []
        for chunk in chunks:
            client.receive_data(chunk)
            for event in client.events():
                if isinstance(event, TextMessage):
                    parts.append(event.data)
                    if event.message_finished:  # a read can end inside a frame
                        loads(parts[0] if len(parts) == 1 else "".join(parts))
                        parts.clear()
                        received += 1
        assert received == count, received
        return received

    return run


def rpc_round_trips(serializer: str, calls: int) -> Callable[[], int]:
    """Caller -> router -> callee -> router -> caller, one call at a time."""

    def run() -> int:
        caller, to_caller = joined_pair("rawsocket", serializer)
        callee, to_callee = joined_pair("rawsocket", serializer)
        callee.session._registrations[9] = "com.example.add2"  # registered earlier
        for _ in range(calls):
            caller.session.call("com.example.add2", [2, 3])
            to_caller.receive_data(caller.data_to_send())
            (call,) = to_caller.received()
            to_callee.send(Invocation(call.request_id, 9, call.args))  # type: ignore[attr-defined]
            callee.receive_data(to_callee.data_to_send())
            for invocation in callee.events():
                args = invocation.args  # type: ignore[union-attr]
                callee.session.yield_result(invocation.request_id, [args[0] + args[1]])  # type: ignore[union-attr]
            to_callee.receive_data(callee.data_to_send())
            (answer,) = to_callee.received()
            assert isinstance(answer, Yield)
            to_caller.send(Result(answer.request_id, answer.args))
            caller.receive_data(to_caller.data_to_send())
            (result,) = caller.events()
            assert isinstance(result, Result) and result.args == [5]
        return calls

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    opts = parser.parse_args()
    print(f"core benchmark: {opts.events} EVENTs in {CHUNK}-byte reads, best of {opts.repeats}")
    print(wamp_core_build())
    print("| path | ours events/s | floor events/s | ours / floor (target >= 0.35) |")
    print("|---|---:|---:|---:|")
    for transport, serializer, floor in (
        ("rawsocket", "msgpack", rawsocket_floor),
        ("websocket", "json", websocket_floor),
    ):
        fresh, chunks = event_stream(transport, serializer, opts.events)
        ours_rate = best_rate(ours(fresh, chunks, opts.events), opts.repeats)
        floor_rate = best_rate(floor(chunks, opts.events), opts.repeats)
        print(
            f"| {transport}+{serializer} | {ours_rate:,.0f} | {floor_rate:,.0f} "
            f"| {ours_rate / floor_rate:.2f}x |"
        )
    for serializer in ("msgpack", "json"):
        rate = best_rate(rpc_round_trips(serializer, opts.calls), opts.repeats)
        print(f"| in-memory RPC round trips, rawsocket+{serializer} | {rate:,.0f} calls/s | | |")


if __name__ == "__main__":
    main()
