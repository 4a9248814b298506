"""The client processes of benchmarks/flood.py, one role each, against any router.

``python benchmarks/_flood_peers.py ROLE HOST PORT [options]`` (RawSocket, json)

* ``publish``: a raw RawSocket publisher that publishes ``--payload`` bytes to
  ``TOPIC`` (no acknowledgement) as fast as the router takes them: pre-encoded
  frames, sent in batches, paced by TCP alone (it blocks only while the router does
  not read). Prints ``{"ready": true}`` once joined, floods until a line (or the end)
  on stdin, then prints ``{"published": N}``.
* ``read``: a raw subscriber to ``TOPIC`` that reads everything (frames counted,
  nothing decoded): the subscriber that keeps up. Prints ready, then, after a line on
  stdin, ``{"events": N, "closed": bool}``.
* ``stall``: a raw subscriber to ``TOPIC`` with a 4 KiB receive buffer that stops
  reading once subscribed. After a line on stdin it reads again (at most
  ``--drain`` seconds) and prints ``{"eof": bool, "bytes": N, "last": TEXT}``: whether
  the router had closed the connection, and the last whole message it had sent (the
  GOODBYE with the reason, when it cut the reader off).
* ``probe``: our client (wamp_anyio on asyncio, json): a callee session registering
  ``PROCEDURE`` and subscribing ``PROBE_TOPIC``, and a caller session. For each line
  ``measure N`` on stdin it makes N sequential round trips of each kind, alternating
  (a call to PROCEDURE, an acknowledged publication to PROBE_TOPIC), and prints
  ``{"call": [seconds...], "publish": [seconds...]}``.

Every process ends by itself (``--deadline``).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REALM = "realm1"
TOPIC = "com.flood.topic"
PROCEDURE = "com.flood.echo"
PROBE_TOPIC = "com.flood.probe"
HANDSHAKE = b"\x7f\xf1\x00\x00"  # RawSocket: json, messages up to 16 MiB
BATCH = 32  # frames per send of the publisher


def emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def frame(message: bytes) -> bytes:
    return len(message).to_bytes(4, "big") + message


class Frames:
    """RawSocket frames out of a byte stream (payloads of regular messages)."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self.buffer += data
        out = []
        while len(self.buffer) >= 4:
            kind, size = self.buffer[0], int.from_bytes(self.buffer[1:4], "big")
            if len(self.buffer) < 4 + size:
                break
            if kind == 0:  # a message (1, 2: PING, PONG)
                out.append(bytes(self.buffer[4 : 4 + size]))
            del self.buffer[: 4 + size]
        return out


def join_raw(host: str, port: int, *, subscribe: bool, rcvbuf: int | None = None) -> socket.socket:
    """A raw RawSocket session on realm1 (subscribed to TOPIC if asked), blocking."""
    sock = socket.socket()
    if rcvbuf is not None:  # before connect: the window the router may fill
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(HANDSHAKE)
    answer = b""
    while len(answer) < 4:
        answer += _recv(sock)
    if answer[:2] != b"\x7f\xf1":
        raise RuntimeError(f"RawSocket handshake refused: {answer[:4]!r}")
    roles = b'{"publisher":{},"subscriber":{}}'
    messages = [b'[1,"' + REALM.encode() + b'",{"roles":' + roles + b"}]"]
    if subscribe:
        messages.append(b'[32,1,{},"' + TOPIC.encode() + b'"]')
    sock.sendall(b"".join(frame(m) for m in messages))
    frames = Frames()
    got: list[bytes] = frames.feed(answer[4:])
    while len(got) < len(messages):
        got += frames.feed(_recv(sock))
    if not got[0].startswith(b"[2,") or (subscribe and not got[1].startswith(b"[33,")):
        raise RuntimeError(f"not joined: {got!r}")
    return sock


def _recv(sock: socket.socket) -> bytes:
    data = sock.recv(65536)
    if not data:
        raise RuntimeError("the router closed the connection")
    return data


def wait_line() -> threading.Event:
    """An event set once a line (or the end) arrives on stdin."""
    event = threading.Event()

    def read() -> None:
        sys.stdin.readline()
        event.set()

    threading.Thread(target=read, daemon=True).start()
    return event


# ---- the raw roles


def publish(opts: argparse.Namespace) -> None:
    sock = join_raw(opts.host, opts.port, subscribe=False)
    sock.setblocking(False)
    payload = json.dumps(["x" * opts.payload]).encode()
    head = b"[16,"
    tail = b',{},"' + TOPIC.encode() + b'",' + payload + b"]"
    emit({"ready": True})
    stop = wait_line()
    published = 0
    request = 1
    while not stop.is_set():
        batch = b"".join(frame(head + str(request + i).encode() + tail) for i in range(BATCH))
        request += BATCH
        view = memoryview(batch)
        while view and not stop.is_set():
            _, writable, _ = select.select([], [sock], [], 0.2)
            if writable:
                try:
                    view = view[sock.send(view) :]
                except BlockingIOError:
                    continue
        if not view:
            published += BATCH
    emit({"published": published})
    sock.close()


def read(opts: argparse.Namespace) -> None:
    sock = join_raw(opts.host, opts.port, subscribe=True)
    emit({"ready": True})
    stop = wait_line()
    sock.settimeout(0.2)
    events = 0
    closed = False
    buffer = b""
    while not stop.is_set() and not closed:
        try:
            data = sock.recv(1 << 20)
        except TimeoutError:
            continue
        closed = not data
        # Count frames by walking their headers (no decoding): cheap enough to keep up.
        buffer += data
        at = 0
        while len(buffer) - at >= 4:
            size = int.from_bytes(buffer[at + 1 : at + 4], "big")
            if len(buffer) - at < 4 + size:
                break
            events += buffer[at] == 0
            at += 4 + size
        buffer = buffer[at:]
    emit({"events": events, "closed": closed})
    sock.close()


def stall(opts: argparse.Namespace) -> None:
    sock = join_raw(opts.host, opts.port, subscribe=True, rcvbuf=4096)
    emit({"ready": True})
    wait_line().wait()
    sock.settimeout(0.5)
    frames = Frames()
    last = b""
    total = 0
    eof = False
    deadline = time.monotonic() + opts.drain
    while time.monotonic() < deadline:
        try:
            data = sock.recv(1 << 20)
        except TimeoutError:
            continue
        except ConnectionResetError:
            eof = True
            break
        if not data:
            eof = True
            break
        total += len(data)
        got = frames.feed(data)
        if got:
            last = got[-1]
        if len(frames.buffer) > 1 << 20:  # an EVENT never is this big: keep the tail only
            frames.buffer.clear()
    emit({"eof": eof, "bytes": total, "last": last[:200].decode(errors="replace")})
    sock.close()


# ---- the probe: our client


def probe(opts: argparse.Namespace) -> None:
    import anyio

    import wamp_anyio
    from wamp_core.types import PublishOptions

    url = f"rs://{opts.host}:{opts.port}"

    async def main() -> None:
        async with (
            wamp_anyio.connect(url, REALM, serializers=["json"]) as callee,
            wamp_anyio.connect(url, REALM, serializers=["json"]) as caller,
        ):
            await callee.register(lambda value: value, PROCEDURE)
            await callee.subscribe(lambda value: None, PROBE_TOPIC)
            acknowledged = PublishOptions(acknowledge=True)
            emit({"ready": True})
            while line := await anyio.to_thread.run_sync(sys.stdin.readline):
                count = int(line.split()[1])
                calls, publishes = [], []
                for i in range(count):
                    start = time.perf_counter()
                    if await caller.call(PROCEDURE, i) != i:
                        raise RuntimeError("a call answered with a wrong result")
                    middle = time.perf_counter()
                    ack = caller.publish(PROBE_TOPIC, i, options=acknowledged)
                    assert ack is not None  # acknowledged: an answer to await
                    await ack
                    end = time.perf_counter()
                    calls.append(middle - start)
                    publishes.append(end - middle)
                emit({"call": calls, "publish": publishes})

    anyio.run(main)


ROLES = {"publish": publish, "read": read, "stall": stall, "probe": probe}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("role", choices=sorted(ROLES))
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--payload", type=int, default=2000)
    parser.add_argument("--drain", type=float, default=3.0)
    parser.add_argument("--deadline", type=float, default=600.0)
    opts = parser.parse_args()

    def expire() -> None:
        sys.stderr.write(f"_flood_peers {opts.role}: deadline of {opts.deadline:.0f} s\n")
        os._exit(3)

    timer = threading.Timer(opts.deadline, expire)
    timer.daemon = True
    timer.start()
    ROLES[opts.role](opts)


if __name__ == "__main__":
    main()
