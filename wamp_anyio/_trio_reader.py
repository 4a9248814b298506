"""Reading a plain socket under trio with one trip through trio's scheduler per read.

anyio's trio stream reads through ``trio.socket``, which first tries ``recv`` (on an
idle connection a wasted system call), then waits, reads again, and after a read that
found data yields once more (its checkpoint): two scheduler passes and often two
system calls per arrival. Waiting for readability first and then reading once keeps
trio's rule (every read is a checkpoint: ``wait_readable`` is one) for half the cost.
Writes keep going through the anyio stream, whose ``aclose`` wakes a waiting reader.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable

import anyio
import anyio.abc

__all__ = ["trio_receiver"]

Receive = Callable[[int], Awaitable[bytes]]


def trio_receiver(stream: anyio.abc.ByteStream) -> Receive | None:
    """A ``receive(max_bytes)`` reading ``stream``'s socket directly, when ``stream`` is
    anyio's plain trio socket stream (TCP or Unix; TLS and others read as usual)."""
    if not isinstance(stream, anyio.abc.SocketStream):
        return None
    sock = stream.extra(anyio.abc.SocketAttribute.raw_socket, None)
    if not isinstance(sock, socket.socket):
        return None  # pragma: no cover - anyio's socket streams all have one
    return _SocketReader(sock).receive


class _SocketReader:
    __slots__ = ("_closed_error", "_sock", "_wait_readable")

    def __init__(self, sock: socket.socket) -> None:
        import trio  # noqa: PLC0415 (trio is optional: only imported when it runs us)

        self._sock = sock
        self._wait_readable = trio.lowlevel.wait_readable
        self._closed_error = trio.ClosedResourceError

    async def receive(self, max_bytes: int) -> bytes:
        """The next bytes; anyio's exceptions at the end, as its streams raise them."""
        sock = self._sock
        while True:
            try:
                await self._wait_readable(sock)
            except (self._closed_error, ValueError):
                # Closed while we waited, or before (no descriptor any more: ValueError).
                raise anyio.ClosedResourceError from None
            try:
                data = sock.recv(max_bytes)
            except (BlockingIOError, InterruptedError):
                continue  # a spurious wakeup: wait again
            if not data:
                raise anyio.EndOfStream
            return data
