"""A tiny HTTP CONNECT proxy for the integration tests.

:class:`HttpConnectProxy` listens on 127.0.0.1 (an ephemeral port) and runs an
asyncio loop of its own in a daemon thread, so clients of any kind (asyncio, trio,
the Twisted reactor, another process) can use it. It opens tunnels to loopback
targets only, counts them (``tunnels``: the ``host:port`` of each one opened, so a
test can assert the proxy was used), and can refuse every request with a status of
the test's choosing (``refuse``). Use it as a context manager: it stops, and closes
every tunnel, when the block ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType

__all__ = ["HttpConnectProxy"]

MAX_REQUEST = 16 * 1024  # bytes of request header
START_TIMEOUT = 10.0  # seconds for the loop thread to listen
ALLOWED_HOSTS = ("127.0.0.1", "localhost", "[::1]")  # tests reach nothing else


class HttpConnectProxy:
    """See the module docstring. ``url``-free: clients take ``{"host", "port"}``."""

    host = "127.0.0.1"

    def __init__(self, refuse: str | None = None):
        self.refuse = refuse  # e.g. "407 Proxy Authentication Required"
        self.port = 0
        self.tunnels: list[str] = []  # the targets of the tunnels opened, in order
        self.requests: list[str] = []  # every request line received
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="http-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._error: BaseException | None = None

    @property
    def address(self) -> dict[str, object]:
        """The ``proxy`` argument for clients."""
        return {"host": self.host, "port": self.port}

    @property
    def tunnel_count(self) -> int:
        with self._lock:
            return len(self.tunnels)

    # ---- lifetime

    def start(self) -> HttpConnectProxy:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError("the HTTP proxy did not start")
        if self._error is not None:
            raise RuntimeError("the HTTP proxy did not start") from self._error
        return self

    def stop(self) -> None:
        """Close the listener and every tunnel, and end the thread."""
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(START_TIMEOUT)
            self._thread.join(START_TIMEOUT)
        if not self._loop.is_closed() and not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> HttpConnectProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---- in the loop thread

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._listen())
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accepted, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._loop.call_soon(self._loop.stop)

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client went away, or sent garbage: drop it
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_REQUEST:
            return
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        with self._lock:
            self.requests.append(request_line)
        parts = request_line.split()
        if len(parts) != 3 or parts[0] != "CONNECT" or not parts[2].startswith("HTTP/1."):
            await _answer(writer, "400 Bad Request")
            return
        if self.refuse is not None:
            await _answer(writer, self.refuse)
            return
        target = parts[1]
        host, _, port = target.rpartition(":")
        if host not in ALLOWED_HOSTS or not port.isdigit():
            await _answer(writer, "403 Forbidden")
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
        except OSError:
            await _answer(writer, "502 Bad Gateway")
            return
        with self._lock:
            self.tunnels.append(target)
        try:
            await _answer(writer, "200 Connection established")
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            up_writer.close()


async def _answer(writer: asyncio.StreamWriter, status: str) -> None:
    # A 2xx to CONNECT has no content and must not say so (RFC 9110, 9.3.6).
    length = "" if status.startswith("2") else "Content-Length: 0\r\n"
    writer.write(f"HTTP/1.1 {status}\r\n{length}\r\n".encode("latin-1"))
    await writer.drain()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Copy one direction until its end, then pass the end on (half-close)."""
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            if sink.can_write_eof():
                sink.write_eof()
