"""Encode/decode throughput of one realistic message mix, ours next to the peers.

For each serializer, in one run: the raw serializer on plain lists (the floor),
Autobahn's serializer, wampproto's serializer, and ours. Encode is
"message object -> bytes"; decode is "bytes -> validated message object".
Each figure is the best of several repeats, in messages per second.

Autobahn caches a message's serialized bytes on the message object; the
benchmark clears that cache before every encode so it measures the work.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from typing import Any

import cbor2
import msgpack
import txaio
import ujson

txaio.use_asyncio()  # Autobahn's serializers need a txaio framework chosen

from _variant import wamp_core_build
from autobahn.wamp import serializer as ab_serializer
from wampproto import serializers as wp_serializers
from wampproto.serializers.serializer import to_message as wp_to_message

from wamp_core.messages import parse
from wamp_core.serializers import get_serializer

SERIALIZERS = ("json", "msgpack", "cbor")

# A mix of the messages a busy client sends and receives, with small payloads.
WORKLOAD: list[list[Any]] = [
    [48, 101, {}, "com.example.add2", [23, 7]],
    [48, 102, {"timeout": 1000}, "com.example.user.get", [], {"user_id": 42, "fields": ["name"]}],
    [50, 101, {}, [30]],
    [50, 102, {}, [], {"name": "Alice", "email": "alice@example.com", "age": 31}],
    [16, 103, {"acknowledge": True}, "com.example.sensors.temp", [21.5], {"unit": "C"}],
    [36, 5512315355, 4429313566, {}, ["Hello, world!"]],
    [36, 5512315355, 4429313567, {"publisher": 1234, "topic": "com.example.sensors.temp"}, [21.5]],
    [68, 6131533, 9823526, {"caller": 77, "procedure": "com.example.add2"}, [23, 7]],
    [70, 6131533, {}, [30]],
]

# The floor: the fastest plain use of each codec on plain lists.
RAW: dict[str, tuple[Callable[[Any], bytes], Callable[[bytes], Any]]] = {
    "json": (lambda obj: ujson.dumps(obj).encode(), ujson.loads),
    "msgpack": (msgpack.Packer().pack, msgpack.unpackb),
    "cbor": (cbor2.dumps, cbor2.loads),
}


def measure(run: Callable[[], None], count: int, repeats: int) -> float:
    """Messages per second of the best of ``repeats`` runs of ``run`` (``count`` messages)."""
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return count / best


def loop(fn: Callable[[Any], Any], items: list[Any], rounds: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(rounds):
            for item in items:
                fn(item)

    return run


def codecs(name: str) -> dict[str, tuple[Callable[[Any], Any], list[Any], Callable[[Any], Any]]]:
    """For each implementation: (encode, its message objects, decode)."""
    raw_dumps, raw_loads = RAW[name]
    ours = get_serializer(name)
    ab = {
        "json": ab_serializer.JsonSerializer,
        "msgpack": ab_serializer.MsgPackSerializer,
        "cbor": ab_serializer.CBORSerializer,
    }[name]()
    wp = {
        "json": wp_serializers.JSONSerializer,
        "msgpack": wp_serializers.MsgPackSerializer,
        "cbor": wp_serializers.CBORSerializer,
    }[name]()
    ab_messages = [ab_serializer.Serializer.MESSAGE_TYPE_MAP[m[0]].parse(list(m)) for m in WORKLOAD]

    def ab_encode(msg: Any) -> bytes:
        msg.uncache()
        return ab.serialize(msg)[0]  # type: ignore[no-any-return]

    def ab_decode(data: bytes) -> Any:
        return ab.unserialize(data, isBinary=name != "json")

    return {
        "raw": (raw_dumps, [list(m) for m in WORKLOAD], raw_loads),
        "autobahn": (ab_encode, ab_messages, ab_decode),
        "wampproto": (wp.serialize, [wp_to_message(list(m)) for m in WORKLOAD], wp.deserialize),
        "ours": (ours.encode, [parse(list(m)) for m in WORKLOAD], ours.decode),
    }


def bench(name: str, rounds: int, repeats: int) -> dict[str, tuple[float, float]]:
    """Round-robin over the implementations in every repeat, so that a slow
    moment of the machine does not fall on one of them only."""
    count = rounds * len(WORKLOAD)
    runs = []
    for impl, (encode, objects, decode) in codecs(name).items():
        encoded = [encode(obj) for obj in objects]
        runs.append((impl, loop(encode, objects, rounds), loop(decode, encoded, rounds)))
    best: dict[str, list[float]] = {impl: [0.0, 0.0] for impl, _, _ in runs}
    for _ in range(repeats):
        for impl, encode_run, decode_run in runs:
            best[impl][0] = max(best[impl][0], measure(encode_run, count, 1))
            best[impl][1] = max(best[impl][1], measure(decode_run, count, 1))
    return {impl: (enc, dec) for impl, (enc, dec) in best.items()}


def report(name: str, results: dict[str, tuple[float, float]]) -> list[str]:
    ours_enc, ours_dec = results["ours"]
    peer_enc = max(results["autobahn"][0], results["wampproto"][0])
    peer_dec = max(results["autobahn"][1], results["wampproto"][1])
    lines = []
    for impl, (enc, dec) in results.items():
        lines.append(
            f"| {name:7} | {impl:9} | {enc:12,.0f} | {dec:12,.0f} "
            f"| {ours_enc / enc:9.2f}x | {ours_dec / dec:9.2f}x |"
        )
    targets = [
        f"decode vs faster peer {ours_dec / peer_dec:.2f}x (target >= 2)",
        f"encode vs faster peer {ours_enc / peer_enc:.2f}x (target >= 1.5)",
    ]
    if name == "msgpack":
        targets.append(f"decode vs raw floor {ours_dec / results['raw'][1]:.2f}x (target >= 0.35)")
    lines.append(f"|         | targets: {'; '.join(targets)}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--serializer", choices=SERIALIZERS, action="append")
    opts = parser.parse_args()
    print(
        f"codec benchmark: {len(WORKLOAD)} message kinds x {opts.rounds} rounds, best of "
        f"{opts.repeats}; msgs/s; ratio = ours / that row"
    )
    print(wamp_core_build())
    print("| serializer | impl | encode msg/s | decode msg/s | ours/enc | ours/dec |")
    print("|---|---|---:|---:|---:|---:|")
    for name in opts.serializer or SERIALIZERS:
        for line in report(name, bench(name, opts.rounds, opts.repeats)):
            print(line)


if __name__ == "__main__":
    main()
