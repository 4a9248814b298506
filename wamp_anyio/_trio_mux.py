"""Idle sessions on trio without a task each: one system task per trio run reads
every such session's socket.

A trio task blocked in ``wait_readable`` costs several KiB; a session that waits for
traffic needs none. ``Mux`` keeps a ``selectors.DefaultSelector`` (epoll, kqueue),
whose own descriptor is pollable: its one system task waits for that descriptor to
become readable (with a trio deadline: the earliest of its timers), then asks the
selector which sockets are ready and hands each one's bytes to its ``TrioStream``'s
receiver, right there. Sends go straight to the socket from the caller (non-blocking);
what the socket does not take is held (bounded: ``send`` waits while more than
``HIGH_WATER`` bytes wait, ``write_soon`` refuses) and flushed when the selector says
the socket is writable. The sessions' hooks, invocations and coroutine handlers run in
transient tasks of a nursery the system task owns.

The system task never raises (trio would turn that into TrioInternalError): what a
callback raises is logged and ends the session whose callback it was. When the trio
run ends, the task is canceled: it closes every socket, and the sessions hear of the
end (``onDisconnect``) before it returns.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import selectors
import socket
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import trio
from anyio.abc import SocketAttribute

from wamp_anyio._callbacks import CallbackStream, Timer

__all__ = ["HIGH_WATER", "Mux", "TrioStream", "current_mux"]

log = logging.getLogger("wamp_anyio")

READ_SIZE = 65536
HIGH_WATER = 64 * 1024  # bytes held unsent before writers wait (asyncio's default)
FLUSH_ON_CLOSE = 5.0  # seconds close() lets unsent bytes go out before aborting
END_GRACE = 1.0  # seconds the sessions' last hooks may run as the trio run ends

_MUX: trio.lowlevel.RunVar[Mux] = trio.lowlevel.RunVar("wamp_anyio_mux")


def current_mux() -> Mux:
    """The running trio run's multiplexer (its system task starts with the first call)."""
    try:
        return _MUX.get()
    except LookupError:
        mux = Mux()
        _MUX.set(mux)
        trio.lowlevel.spawn_system_task(mux.serve, name="wamp_anyio multiplexer")
        return mux


class _Timer:
    __slots__ = ("_when", "callback", "canceled", "owner")

    def __init__(self, when: float, callback: Callable[[], object], owner: TrioStream) -> None:
        self._when = when
        self.callback = callback
        self.owner = owner
        self.canceled = False

    def when(self) -> float:
        return self._when

    def cancel(self) -> None:
        self.canceled = True


class Mux:
    """One trio run's multiplexer (see the module docstring); ``start_soon`` starts a
    transient task (a task group's surface, for the sessions' Driver)."""

    def __init__(self) -> None:
        selector = selectors.DefaultSelector()
        fileno = getattr(selector, "fileno", None)  # epoll, kqueue, devpoll
        self._fd: int | None = fileno() if fileno is not None else None
        self._selector: selectors.BaseSelector | None = selector
        if self._fd is None:  # select() or poll(): nothing to wait on (e.g. Windows)
            selector.close()
            self._selector = None
        self.streams: set[TrioStream] = set()
        self._soon: list[tuple[TrioStream | None, Callable[..., object], tuple[Any, ...]]] = []
        self._starts: list[tuple[Callable[..., Awaitable[Any]], tuple[Any, ...]]] = []
        self._timers: list[tuple[float, int, _Timer]] = []
        self._order = itertools.count()
        self._nursery: trio.Nursery | None = None
        self._waiting: trio.CancelScope | None = None
        self.ended = False

    @property
    def pollable(self) -> bool:
        """Whether sockets can be multiplexed here (else a task reads each)."""
        return self._selector is not None and not self.ended

    # ---- what the streams and the driver call

    def call_soon(
        self, owner: TrioStream | None, callback: Callable[..., object], args: tuple[Any, ...]
    ) -> None:
        self._soon.append((owner, callback, args))
        self._wake()

    def call_at(self, when: float, callback: Callable[[], object], owner: TrioStream) -> Timer:
        timer = _Timer(when, callback, owner)
        heapq.heappush(self._timers, (when, next(self._order), timer))
        waiting = self._waiting
        if waiting is not None and when < waiting.deadline:
            waiting.deadline = when
        return timer

    def start_soon(
        self, func: Callable[..., Awaitable[Any]], *args: object, name: object = None
    ) -> None:
        if self._nursery is not None:
            self._nursery.start_soon(_logged, func, args)
            return
        if self.ended:
            log.debug("the trio run ended: %r is not started", func)
            return
        self._starts.append((func, args))  # before the system task ran
        self._wake()

    def watch(self, stream: TrioStream, events: int) -> None:
        """Follow ``stream``'s socket for ``events`` (0: not at all)."""
        selector = self._selector
        assert selector is not None
        registered = stream.registered
        if events == registered:
            return
        if not registered:
            selector.register(stream.sock, events, stream)
        elif not events:
            selector.unregister(stream.sock)
        else:
            selector.modify(stream.sock, events, stream)
        stream.registered = events

    def _wake(self) -> None:
        if self._waiting is not None:
            self._waiting.cancel()

    # ---- the system task

    async def serve(self) -> None:
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                starts, self._starts = self._starts, []
                for func, args in starts:
                    nursery.start_soon(_logged, func, args)
                await self._loop()
        except BaseException as exc:
            if not _canceled(exc):  # pragma: no cover - a bug here must not kill trio
                log.critical("the trio multiplexer failed: %r", exc, exc_info=exc)
            # Canceled: the run ends (returning is a system task's way out).
        finally:
            await self._end()

    async def _loop(self) -> None:
        selector = self._selector
        while True:
            if self._soon:
                await trio.lowlevel.checkpoint()
            else:
                deadline = self._timers[0][0] if self._timers else math.inf
                with trio.CancelScope(deadline=deadline) as waiting:
                    self._waiting = waiting
                    if self._soon:  # queued while the scope was made
                        waiting.cancel()
                    if self._fd is not None:
                        await trio.lowlevel.wait_readable(self._fd)
                    else:
                        await trio.sleep_forever()
                self._waiting = None
            if selector is not None and selector.get_map():
                for key, events in selector.select(0):
                    stream: TrioStream = key.data
                    _guarded(stream, stream.ready, (events,))
            self._run_soon()
            self._fire_timers()

    def _run_soon(self) -> None:
        soon, self._soon = self._soon, []
        for owner, callback, args in soon:
            _guarded(owner, callback, args)

    def _fire_timers(self) -> None:
        timers = self._timers
        now = trio.current_time()
        while timers and timers[0][0] <= now:
            timer = heapq.heappop(timers)[2]
            if not timer.canceled:
                _guarded(timer.owner, timer.callback, ())
        while timers and timers[0][2].canceled:
            heapq.heappop(timers)

    async def _end(self) -> None:
        """The run ends: close every socket; the sessions hear of it and wind down (their
        last hooks run in a nursery shielded from the run's end, for END_GRACE at most)."""
        self.ended = True
        self._timers.clear()
        with trio.CancelScope(shield=True, deadline=trio.current_time() + END_GRACE):
            async with trio.open_nursery() as ending:
                self._nursery = ending
                for stream in list(self.streams):
                    _guarded(stream, stream.abort, ())
                while self._soon or ending.child_tasks:
                    self._run_soon()
                    await trio.sleep(0)  # the hooks' tasks run (their sockets are closed)
        self._nursery = None
        if self._selector is not None:
            self._selector.close()


def _canceled(exc: BaseException) -> bool:
    """Whether ``exc`` is trio's Cancelled, alone or in an exception group."""
    inner = getattr(exc, "exceptions", None)  # an exception group (3.10: the backport's)
    if isinstance(inner, tuple):
        return all(_canceled(one) for one in inner)
    return isinstance(exc, trio.Cancelled)


def _guarded(
    owner: TrioStream | None, callback: Callable[..., object], args: tuple[Any, ...]
) -> None:
    """Run a callback of the system task: its error ends its own session only."""
    try:
        callback(*args)
    except Exception as exc:
        log.error("a session callback raised %r: its session ends", exc, exc_info=exc)
        if owner is not None:
            try:
                owner.abort()
            except Exception as again:  # pragma: no cover - closing a socket
                log.error("closing after that failed: %r", again)


async def _logged(func: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
    try:
        await func(*args)
    except Exception as exc:
        log.error("a session task raised %r", exc, exc_info=exc)


class TrioStream(CallbackStream):
    """A plain TCP or Unix socket read by the run's ``Mux`` (see the module docstring).
    ``_session`` is the session ApplicationRunner.connect() runs over it."""

    writes_at_once = True  # send() puts the bytes in the socket (or its buffer) before any await

    __slots__ = (
        "_closed",
        "_drained",
        "_end_told",
        "_error",
        "_mux",
        "_out",
        "_out_size",
        "_paused",
        "_receiver",
        "_session",
        "registered",
        "sock",
    )

    def __init__(self, sock: socket.socket, mux: Mux) -> None:
        sock.setblocking(False)
        self.sock = sock
        self._mux = mux
        self._receiver: Callable[[bytes], None] | None = None
        self._paused = False
        self._closed = False
        self._end_told = False
        self._error: OSError | None = None
        self._out: list[bytes] | None = None  # what the socket did not take yet
        self._out_size = 0
        self._drained: trio.Event | None = None  # a waiting send() sleeps on it
        self._session: Any = None
        self.registered = 0
        mux.streams.add(self)

    # ---- reading

    def deliver_to(self, receiver: Callable[[bytes], None] | None) -> None:
        self._receiver = receiver
        if receiver is not None and (self._closed or self._error is not None):
            self._tell_end()
        self._follow()

    def pause_delivery(self) -> None:
        self._paused = True
        self._follow()

    def resume_delivery(self) -> None:
        self._paused = False
        self._follow()

    def _follow(self) -> None:
        if self._closed and self._out is None:
            return
        events = 0
        if self._receiver is not None and not self._paused and not self._closed:
            events = selectors.EVENT_READ
        if self._out is not None:
            events |= selectors.EVENT_WRITE
        self._mux.watch(self, events)

    def ready(self, events: int) -> None:
        """The selector's word: the socket can be read and/or written."""
        if events & selectors.EVENT_WRITE:
            self._flush()
        if events & selectors.EVENT_READ and self._receiver is not None and not self._paused:
            try:
                data = self.sock.recv(READ_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._error = exc
                data = b""
            if data:
                self._receiver(data)
            else:
                self._tell_end()
                self._follow()  # no more reading (the sending half stays, as on asyncio)

    def _tell_end(self) -> None:
        receiver = self._receiver
        if receiver is not None and not self._end_told:
            self._end_told = True
            self._receiver = None
            receiver(b"")

    async def receive(self, max_bytes: int = READ_SIZE) -> bytes:
        """Read in the calling task (a stream not delivering to a receiver)."""
        while True:
            if self._closed:
                raise anyio.ClosedResourceError
            try:
                await trio.lowlevel.wait_readable(self.sock)
            except (trio.ClosedResourceError, ValueError):
                raise anyio.ClosedResourceError from None
            try:
                data = self.sock.recv(max_bytes)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as exc:
                raise anyio.BrokenResourceError from exc
            if not data:
                raise anyio.EndOfStream
            return data

    # ---- writing

    def writable(self) -> bool:
        return not self._closed and self._error is None and self._out_size < HIGH_WATER

    def write_soon(self, item: bytes) -> bool:
        if not self.writable():
            return False
        self._write(item)
        return True

    async def send(self, item: bytes) -> None:
        if self._closed:
            raise anyio.ClosedResourceError
        if self._error is not None:
            raise anyio.BrokenResourceError from self._error
        self._write(item)
        await trio.lowlevel.checkpoint_if_cancelled()
        while self._out_size > HIGH_WATER and not self._closed and self._error is None:
            drained = self._drained
            if drained is None:
                drained = self._drained = trio.Event()
            await drained.wait()
        if self._error is not None:
            raise anyio.BrokenResourceError from self._error

    def _write(self, data: bytes) -> None:
        if self._out is not None:
            self._out.append(data)
            self._out_size += len(data)
            return
        sent = self._send_some(data)
        if sent is None:
            return
        if sent < len(data):
            rest = data[sent:]
            self._out = [rest]
            self._out_size = len(rest)
            self._follow()

    def _send_some(self, data: bytes) -> int | None:
        """What the socket took of ``data`` without blocking; None once it is broken."""
        try:
            return self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError as exc:
            self._broken(exc)
            return None

    def _flush(self) -> None:
        out = self._out
        if out is None:
            return
        data = out[0] if len(out) == 1 else b"".join(out)
        sent = self._send_some(data)
        if sent is None:
            return
        if sent < len(data):
            self._out = [data[sent:]]
            self._out_size = len(data) - sent
        else:
            self._out = None
            self._out_size = 0
        if self._out_size <= HIGH_WATER:
            self._wake_writers()
        if self._out is None:
            if self._closed:
                self._shut()
            else:
                self._follow()

    def _wake_writers(self) -> None:
        drained, self._drained = self._drained, None
        if drained is not None:
            drained.set()

    def _broken(self, exc: OSError) -> None:
        self._error = exc
        self._out = None
        self._out_size = 0
        self._wake_writers()
        self._tell_end()
        if self._closed:
            self._shut()

    # ---- closing

    def close(self) -> None:
        """Close: what is held still goes out (for up to ``FLUSH_ON_CLOSE`` seconds, then
        the socket is aborted); a waiting writer wakes; the receiver hears of the end."""
        if self._closed:
            return
        self._closed = True
        self._wake_writers()
        if self._out is None:
            self._shut()
        else:
            self._follow()
            self._mux.call_at(trio.current_time() + FLUSH_ON_CLOSE, self.abort, self)
        self._tell_end()

    def abort(self) -> None:
        """Close at once, dropping what is held."""
        self._closed = True
        self._out = None
        self._out_size = 0
        self._wake_writers()
        self._shut()
        self._tell_end()

    def _shut(self) -> None:
        if self.registered:
            self._mux.watch(self, 0)
        self._mux.streams.discard(self)
        if self.sock.fileno() >= 0:
            trio.lowlevel.notify_closing(self.sock)  # trio forgets the descriptor too
            self.sock.close()

    async def aclose(self) -> None:
        self.close()

    async def send_eof(self) -> None:
        if not self._closed and self._error is None and self._out is None:
            self.sock.shutdown(socket.SHUT_WR)

    # ---- the driver's scheduling

    def call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        self._mux.call_soon(self, callback, args)

    def call_at(self, when: float, callback: Callable[[], object]) -> Timer:
        return self._mux.call_at(when, callback, self)

    def enter(self) -> Any:
        return None  # the system task is a trio task: anyio finds trio by itself

    def leave(self, token: Any) -> None:
        pass

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        sock = self.sock
        return {
            SocketAttribute.family: lambda: sock.family,
            SocketAttribute.local_address: sock.getsockname,
            SocketAttribute.remote_address: sock.getpeername,
            SocketAttribute.raw_socket: lambda: sock,
        }


def adopt(stream: Any, mux: Mux) -> TrioStream | None:
    """A TrioStream over the socket of anyio's plain trio socket stream ``stream``
    (which is not to be used any more), or None (TLS, a proxy's tunnel, no selector)."""
    if not mux.pollable or not isinstance(stream, anyio.abc.SocketStream):
        return None
    sock = stream.extra(SocketAttribute.raw_socket, None)
    if not isinstance(sock, socket.socket):
        return None  # pragma: no cover - anyio's socket streams all have one
    return TrioStream(sock, mux)
