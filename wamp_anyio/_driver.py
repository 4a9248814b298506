"""The loop around one Connection: read, feed, dispatch, write, and the single timer.

The Driver is the ``Host`` of ``wamp_core.application.SessionCore``: it makes the
futures, runs invocations (a plain function in place, as Autobahn and wamp_twisted
do; a coroutine in a task of its own, canceled by INTERRUPT), and delivers events to
each handler in publication order (a plain function in place; a coroutine function
through a bounded queue).

Backpressure: a handler whose queue is full stops the reading of further
messages until it catches up (nothing is dropped, memory stays bounded). A
handler that awaits a call whose RESULT is behind its own full queue would wait
forever, so keep ``max_buffer`` above the events a handler can fall behind by.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from anyio.abc import ByteStream
from anyio.streams.memory import MemoryObjectSendStream

from wamp_anyio._backend import clock, on_trio
from wamp_anyio._callbacks import CallbackStream, Timer, enter_asyncio, leave_asyncio
from wamp_anyio._future import Future, Sleepers, future_class
from wamp_anyio._spawn import Starts
from wamp_anyio._trio_reader import trio_receiver
from wamp_core.application import (
    Endpoint,
    ErrorMapper,
    Handler,
    SessionCore,
    SessionEvent,
    run_direct,
)
from wamp_core.connection import DISPATCH_CHUNK, Connection
from wamp_core.exception import ApplicationError, TransportLost
from wamp_core.session import SessionState

log = logging.getLogger("wamp_anyio")

READ_SIZE = 65536
_NONE: dict[Any, Any] = {}  # the tables' shared empty start (see Driver.__init__)
_NONE_BLOCKED: list[Any] = []
DEFAULT_MAX_BUFFER = 1024


class Driver:
    """Drives one Connection over one byte stream: in a task (``run``), or in the
    callbacks of a CallbackStream (``start_in_callbacks``: asyncio, and trio over a
    plain socket). Its short-lived tasks (the
    pump, hooks, invocations, coroutine handlers) go to ``task_group``."""

    __slots__ = (
        "_armed",
        "_blocked",
        "_corkable",
        "_ended",
        "_future_class",
        "_in_callbacks",
        "_invocations",
        "_kick_due",
        "_on_end",
        "_pumping",
        "_queues",
        "_semaphores",
        "_send_lock",
        "_sleepers",
        "_timer",
        "_wakeup",
        "_writes_at_once",
        "_writing_soon",
        "_writing_soon_context",
        "connection",
        "core",
        "max_buffer",
        "now",
        "on_session_event",
        "stream",
        "task_group",
    )

    def __init__(
        self,
        connection: Connection,
        stream: ByteStream,
        task_group: Starts,
        on_session_event: Callable[[SessionEvent], None],
        *,
        errors: ErrorMapper | None = None,
        max_buffer: int = DEFAULT_MAX_BUFFER,
        on_end: Callable[[], None] | None = None,
    ):
        self.connection = connection
        self.stream = stream
        self.task_group = task_group
        self.on_session_event = on_session_event
        self.max_buffer = max_buffer
        self.core: SessionCore[Future] = SessionCore(connection, self, errors)
        self.now = clock()  # the backend's clock, looked up once
        # The lightest future the backend allows; this driver's one-shot signals too.
        self._future_class = future_class()
        self._sleepers = Sleepers()  # tasks awaiting an answer (asyncio)
        # Our asyncio stream can hold the bytes of one loop iteration for one send.
        self._corkable = stream if isinstance(stream, CallbackStream) else None
        # A stream that writes at once (no await before its bytes are in the transport)
        # keeps the order by itself: no lock, whose hand-over costs a loop iteration.
        self._writes_at_once = bool(getattr(stream, "writes_at_once", False))
        self._send_lock: anyio.Lock | None = None  # made by the first write that needs it
        # The pump task runs only while it has something to do: bytes to write, or a
        # deadline to wait for. An idle session has no task of its own but its reader.
        self._pumping = False
        self._wakeup: Future | None = None  # what the sleeping pump waits on
        self._ended: Future = self._future_class(None)  # the connection closed (deliveries end)
        self._armed = math.inf  # the deadline the pump sleeps towards
        self._writing_soon = False
        self._writing_soon_context = _WritingSoon(self)  # one for all (it holds no state)
        # These tables start as the shared empty ones (_NONE, _NONE_BLOCKED: never
        # written to); each gets a table of its own at its first entry.
        self._invocations: dict[int, anyio.CancelScope] = _NONE
        self._semaphores: dict[int, anyio.Semaphore] = _NONE
        self._queues: dict[int, MemoryObjectSendStream[tuple[Any, ...]]] = _NONE
        self._blocked: list[tuple[MemoryObjectSendStream[tuple[Any, ...]], tuple[Any, ...]]] = (
            _NONE_BLOCKED
        )
        # Driven in the stream's callbacks (no task): the deadline's loop timer, and
        # what hears of the end (run() returns instead).
        self._in_callbacks = False
        self._kick_due = False  # a _kick is scheduled for the next loop iteration
        self._timer: Timer | None = None
        self._on_end = on_end

    # ---- the loops

    async def run(self) -> None:
        """Read until the transport closes; the pump handles writes and the timer."""
        if self.connection.next_deadline() is not None:
            self._wake()  # e.g. the opening handshake's timeout
        try:
            await self.write()  # the opening handshake
            if self._corkable is not None:
                await self._take_deliveries(self._corkable)
            else:
                await self._read()
        finally:
            self._dispatch()  # what closing the connection itself produced
            self._finish()

    async def _read(self) -> None:
        receive = trio_receiver(self.stream) if on_trio() else None
        if receive is None:
            receive = self.stream.receive
        while not self.connection.closed:
            try:
                data = await receive(READ_SIZE)
            except (
                anyio.EndOfStream,
                anyio.BrokenResourceError,
                anyio.ClosedResourceError,
                OSError,
            ):
                data = b""
            self._feed(data)
            del data  # not kept while the next read waits (an idle session's last message)
            if self._blocked:
                await self._unblock()
            await self.write()

    async def _take_deliveries(self, stream: CallbackStream) -> None:
        """On our asyncio stream the bytes are handled in the transport's own callback,
        as they arrive: a reader task would cost a loop iteration per read."""
        stream.deliver_to(self._delivered)
        try:
            await self._ended.wait()
        finally:
            stream.deliver_to(None)

    def _delivered(self, data: bytes) -> None:
        # Outside any task: anyio finds its backend through sniffio's override.
        previous = self.enter()
        try:
            self._feed(data)
            if self._in_callbacks:
                self._after_input()
            elif self.connection.closed:
                self._ended.set_result(None)
            elif self._blocked:
                assert self._corkable is not None
                self._corkable.pause_delivery()
                self.task_group.start_soon(self._unblock, self._corkable)
            elif self.connection.has_data_to_send:
                self._wake()
        finally:
            self.leave(previous)

    def _feed(self, data: bytes) -> None:
        connection = self.connection
        if len(data) <= DISPATCH_CHUNK:
            connection.receive_data(data, now=self.now())
            self._dispatch()
            return
        # A big read is handled slice by slice (see DISPATCH_CHUNK: the GC's cost).
        now = self.now()
        session = connection.session
        for start in range(0, len(data), DISPATCH_CHUNK):
            if connection.closed or session.state is SessionState.FAILED:
                break  # what came after the end is nobody's any more
            connection.receive_data(data[start : start + DISPATCH_CHUNK], now=now)
            self._dispatch()

    def _dispatch(self) -> None:
        """Hand the connection's events to the core (whose host calls come back here)."""
        self._writing_soon = True
        try:
            self.core.handle(self.connection.events())
        finally:
            self._writing_soon = False

    def _wake(self) -> None:
        """Start the pump, or wake it if it sleeps (a pump that is busy looks again
        at what there is to write and at the deadline before it sleeps)."""
        if self._in_callbacks:
            # Once per loop iteration, for everything synchronous code queued in this
            # one (as the pump task did): one write, one look at the deadline.
            if not self._kick_due:
                self._kick_due = True
                self.call_soon(self._kick_soon)
        elif not self._pumping:
            self._pumping = True
            self.task_group.start_soon(self._pump)
        elif self._wakeup is not None:
            self._wakeup.set_result(None)

    async def _pump(self) -> None:
        """Writes what synchronous code queued, and fires the connection's timer; ends
        when neither is left (the next ``_wake`` starts it again)."""
        connection = self.connection
        while not connection.closed:
            deadline = connection.next_deadline()
            if not connection.has_data_to_send and (deadline is None or self._in_callbacks):
                self._pumping = False
                if self._in_callbacks:
                    self._kick()  # the timer keeps the deadline
                else:
                    self._armed = math.inf
                return
            self._armed = math.inf if deadline is None else deadline
            if deadline is not None and not connection.has_data_to_send:
                wakeup = self._wakeup = self._future_class(None)
                with anyio.move_on_after(max(0.0, deadline - self.now())):
                    await wakeup.wait()
                self._wakeup = None
                now = self.now()
                if now >= deadline:
                    connection.handle_timer(now)
                    self._dispatch()
            await self._write_now()
        self._pumping = False
        if self._in_callbacks:
            self._end_in_callbacks()
            return
        self._ended.set_result(None)
        # The transport ended (closed here, or by the router): its last bytes are out;
        # closing the stream also ends a reader still waiting for data.
        with anyio.CancelScope(shield=True):
            await self.stream.aclose()

    # ---- driven in the stream's callbacks (our asyncio stream, or our trio stream)

    def call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        """Call ``callback(*args)`` soon in the stream's loop (a callback-driven session)."""
        stream = self._corkable
        assert stream is not None
        stream.call_soon(callback, *args)

    def enter(self) -> Any:
        """Before anyio code that runs outside any task (see CallbackStream.enter)."""
        stream = self._corkable
        return stream.enter() if stream is not None else None

    def leave(self, token: Any) -> None:
        stream = self._corkable
        if stream is not None:
            stream.leave(token)

    def start_in_callbacks(self) -> None:
        """Drive the connection from the stream's callbacks from now on, holding no task:
        bytes are handled as they arrive, a loop timer keeps the connection's deadline
        (only while there is one), writes go to the transport at once; a task runs only
        while a write waits for the transport to drain. Our asyncio or trio stream
        only (a CallbackStream); the end is told to ``on_end``."""
        stream = self._corkable
        assert stream is not None, "start_in_callbacks() needs a CallbackStream"
        self._in_callbacks = True
        if self._on_end is None:
            self._on_end = _nothing
        self._kick()  # the opening handshake, and its deadline
        stream.deliver_to(self._delivered)

    def _after_input(self) -> None:
        if self._blocked and not self.connection.closed:
            stream = self._corkable
            assert stream is not None
            stream.pause_delivery()
            self.task_group.start_soon(self._unblock, stream)
        self._kick()

    def _kick_soon(self) -> None:
        self._kick_due = False
        previous = self.enter()
        try:
            self._kick()
        finally:
            self.leave(previous)

    def _kick(self) -> None:
        """Write what is queued (unless the pump writes), then end, or follow the deadline."""
        connection = self.connection
        stream = self._corkable
        assert stream is not None
        if connection.has_data_to_send and not self._pumping:
            if stream.writable():
                stream.write_soon(connection.data_to_send())
            else:  # the transport's buffer is full: a task waits for it to drain
                self._pumping = True
                self.task_group.start_soon(self._pump)
        if connection.closed:
            if not self._ended.done():
                # Not from within the dispatch that may have called us: a loop turn later.
                self._ended.set_result(None)
                self.call_soon(self._end_in_callbacks)
            return
        self._rearm()

    def _rearm(self) -> None:
        """The loop timer follows the connection's next deadline (none: no timer)."""
        deadline = self.connection.next_deadline()
        timer = self._timer
        if timer is not None:
            if deadline is not None and timer.when() == deadline:
                return
            timer.cancel()
            self._timer = None
        self._armed = math.inf if deadline is None else deadline
        if deadline is not None:
            stream = self._corkable
            assert stream is not None
            self._timer = stream.call_at(deadline, self._timed_out)

    def _timed_out(self) -> None:
        deadline, self._timer, self._armed = self._armed, None, math.inf
        previous = self.enter()
        try:
            if not self.connection.closed:
                # The loop may call a little early (its clock's resolution).
                self.connection.handle_timer(max(self.now(), deadline))
                self._dispatch()
            self._after_input()
        finally:
            self.leave(previous)

    def _end_in_callbacks(self) -> None:
        """The connection closed: fail what waits, tell ``on_end``, close the stream."""
        stream = self._corkable
        assert stream is not None
        previous = self.enter()
        try:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._on_end is not None:
                stream.deliver_to(None)
                self._ended.set_result(None)
                self._dispatch()  # what closing the connection itself produced
                self._finish()
                on_end, self._on_end = self._on_end, None
                on_end()
            # What the transport holds still goes out (see CallbackStream.close); a pump
            # waiting for it to drain wakes and ends.
            stream.close()
        finally:
            self.leave(previous)

    async def write(self) -> None:
        """Send everything the connection has queued, in order.

        While other tasks await answers, the answers come in batches and wake their
        tasks together, each to write: then one send after those tasks ran serves
        them all. On our asyncio stream that send comes at the end of the loop
        iteration; else the pump makes it (it runs after the tasks woken before it).
        """
        if not self.connection.has_data_to_send:
            return  # most awaits of a request find their bytes sent already
        if not self._sleepers.count:
            await self._write_now()
        elif self._corkable is None:
            self._wake()
        else:
            data = self.connection.data_to_send()
            if not self._corkable.write_soon(data):  # full or closed: send() waits or says why
                await self._send(data)

    async def _write_now(self) -> None:
        if not self.connection.has_data_to_send:
            return
        if self._writes_at_once:
            await self._send(self.connection.data_to_send())
            return
        if self._send_lock is None:
            self._send_lock = anyio.Lock(fast_acquire=True)
        async with self._send_lock:
            data = self.connection.data_to_send()
            if data:
                await self._send(data)

    async def _send(self, data: bytes) -> None:
        try:
            await self.stream.send(data)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            log.debug("write failed: %s", exc)
            self._feed(b"")  # the transport is gone: fail what is pending
            if self._in_callbacks:
                self._kick()  # ... and end

    def _finish(self) -> None:
        self.core.fail_waiters(TransportLost("the transport closed"))
        for scope in self._invocations.values():
            scope.cancel()
        for queue in self._queues.values():
            queue.close()
        self._blocked = _NONE_BLOCKED
        if self._wakeup is not None:  # a sleeping pump ends (the connection is closed)
            self._wakeup.set_result(None)

    async def aclose(self) -> None:
        await self.stream.aclose()

    def close(self) -> None:
        """Close the connection now (from synchronous code): the session ends with
        TransportLost, the hooks hear of it, and the pump sends what is left."""
        if not self.connection.closed:
            self.connection.close()
            self._dispatch()
            self._wake()

    # ---- Host: futures and flushing

    def create_future(self) -> Future:
        return self._future_class(self._sleepers)

    def resolve(self, future: Future, value: Any) -> None:
        future.set_result(value)

    def reject(self, future: Future, error: BaseException) -> None:
        future.set_exception(error)

    def flush(self) -> None:
        """Queued bytes must go out: wake the pump, unless an awaiting caller writes next
        (then only if the timer must be re-armed earlier)."""
        if not self._writing_soon:
            self._wake()
            return
        deadline = self.connection.next_deadline()
        if deadline is not None and deadline < self._armed:
            self._wake()

    def writing_soon(self) -> _WritingSoon:
        return self._writing_soon_context

    def user_error(self, error: BaseException, text: str) -> None:
        log.error("%s: %s", text, error, exc_info=error)

    def session_event(self, event: SessionEvent) -> None:
        self.on_session_event(event)

    # ---- Host: invocations

    def start_invocation(
        self, request_id: int, endpoint: Endpoint, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        """Run an endpoint. A plain function (not a coroutine function) is called right
        here, as Autobahn and wamp_twisted call it: a task would cost more than most
        procedures (~35 µs per call). It has finished before anything else runs, so an
        INTERRUPT finds nothing to cancel, and a plain function that blocks holds up
        this whole session (the application's to avoid, as in Autobahn: run blocking
        work in a thread, e.g. ``anyio.to_thread.run_sync``, from a coroutine). What it
        returns that is awaitable, and a coroutine function, run in a task of their own
        (canceled by INTERRUPT). ``RegisterOptions.concurrency`` holds either way: a
        plain function takes its slot while it runs; without a free slot it waits its
        turn in a task."""
        fn = endpoint.fn
        semaphore = self._semaphore(endpoint)
        if _is_async(fn):
            if semaphore is None:
                self._start(request_id, endpoint, functools.partial(fn, *args, **kwargs))
            else:
                self._start(
                    request_id, endpoint, functools.partial(_limited, semaphore, fn, args, kwargs)
                )
            return
        if semaphore is not None:
            try:
                semaphore.acquire_nowait()
            except anyio.WouldBlock:  # it waits for its turn in a task
                self._start(
                    request_id, endpoint, functools.partial(_limited, semaphore, fn, args, kwargs)
                )
                return
        try:
            value = fn(*args, **kwargs)
        except Exception as exc:
            if semaphore is not None:
                semaphore.release()
            self._raised(request_id, endpoint, exc)
            return
        if inspect.isawaitable(value):
            self._start(request_id, endpoint, functools.partial(_settle, value, semaphore))
            return
        if semaphore is not None:
            semaphore.release()
        self.core.invocation_returned(request_id, value)

    def _start(
        self, request_id: int, endpoint: Endpoint, run: Callable[[], Awaitable[Any]]
    ) -> None:
        scope = anyio.CancelScope()
        if self._invocations is _NONE:
            self._invocations = {}
        self._invocations[request_id] = scope
        self.task_group.start_soon(self._invoke, request_id, endpoint, run, scope)

    def cancel_invocation(self, request_id: int) -> None:
        scope = self._invocations.get(request_id)
        if scope is not None:
            scope.cancel()

    async def _invoke(
        self,
        request_id: int,
        endpoint: Endpoint,
        run: Callable[[], Awaitable[Any]],
        scope: anyio.CancelScope,
    ) -> None:
        core = self.core
        with scope:
            try:
                value = await run()
            except Exception as exc:
                self._invocations.pop(request_id, None)
                self._raised(request_id, endpoint, exc)
                await self.write()
                return
        self._invocations.pop(request_id, None)
        if scope.cancelled_caught:
            core.invocation_canceled(request_id)
        else:
            core.invocation_returned(request_id, value)
        await self.write()

    def _raised(self, request_id: int, endpoint: Endpoint, exc: Exception) -> None:
        if not isinstance(exc, ApplicationError):  # an ApplicationError is an answer
            log.info("procedure %s raised %r", endpoint.procedure, exc)
        self.core.invocation_raised(request_id, exc)

    def _semaphore(self, endpoint: Endpoint) -> anyio.Semaphore | None:
        """The registration's concurrency limit (None: no limit)."""
        limit = endpoint.concurrency
        if limit is None:
            return None
        registration_id = endpoint.registration.id if endpoint.registration else 0
        semaphore = self._semaphores.get(registration_id)
        if semaphore is None:
            if self._semaphores is _NONE:
                self._semaphores = {}
            semaphore = self._semaphores[registration_id] = anyio.Semaphore(limit)
        return semaphore

    # ---- Host: events, in order per handler

    def deliver_event(
        self, handler: Handler, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        key = id(handler)
        queue = self._queues.get(key)
        if queue is None:
            if not _is_async(handler.fn):
                # A plain function runs right here, in order (while it runs nothing else
                # is read: backpressure enough); from now on the core calls it itself.
                handler.direct = self._event_outcome
                run_direct(handler, args, kwargs, self._event_outcome)
                return
            size = handler.buffer if handler.buffer is not None else self.max_buffer
            queue, receive = anyio.create_memory_object_stream[tuple[Any, ...]](size)
            if self._queues is _NONE:
                self._queues = {}
            self._queues[key] = queue
            self.task_group.start_soon(self._consume, handler, receive)
        item = (args, kwargs)
        if self._blocked and any(q is queue for q, _ in self._blocked):
            self._blocked.append((queue, item))  # keep the order behind what waits already
            return
        try:
            queue.send_nowait(item)
        except anyio.WouldBlock:
            if self._blocked is _NONE_BLOCKED:
                self._blocked = []
            self._blocked.append((queue, item))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass  # the handler was removed

    def _event_outcome(self, handler: Handler, result: Any, error: Exception | None) -> None:
        """What a plain event handler raised, or returned other than None."""
        if error is not None:
            log.error("event handler for %s raised %r", handler.topic, error, exc_info=error)
        elif inspect.isawaitable(result):
            self.task_group.start_soon(_await_logged, result, handler.topic)

    async def _unblock(self, paused: CallbackStream | None = None) -> None:
        """Wait until the full queues take what the last read brought (backpressure);
        then let a ``paused`` stream deliver again."""
        blocked, self._blocked = self._blocked, _NONE_BLOCKED
        for queue, item in blocked:
            with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                await queue.send(item)
        if paused is not None:
            paused.resume_delivery()

    async def _consume(self, handler: Handler, receive: Any) -> None:
        async with receive:
            while True:
                try:  # take what waits without a trip through the event loop
                    args, kwargs = receive.receive_nowait()
                except anyio.WouldBlock:
                    try:
                        args, kwargs = await receive.receive()
                    except anyio.EndOfStream:
                        return
                except anyio.EndOfStream:
                    return
                try:
                    await _call(handler.fn, args, kwargs)
                except Exception as exc:
                    log.error("event handler for %s raised %r", handler.topic, exc, exc_info=exc)

    def drop_handler(self, handler: Handler) -> None:
        queue = self._queues.pop(id(handler), None)
        if queue is not None:
            queue.close()


class _WritingSoon:
    """``with driver.writing_soon():`` around a request whose caller writes right after."""

    __slots__ = ("driver",)

    def __init__(self, driver: Driver):
        self.driver = driver

    def __enter__(self) -> None:
        self.driver._writing_soon = True

    def __exit__(self, *exc: object) -> None:
        self.driver._writing_soon = False


def _nothing() -> None:
    pass


_enter_asyncio = enter_asyncio  # serve.py's names for them
_leave_asyncio = leave_asyncio


def _is_async(fn: Callable[..., Any]) -> bool:
    """Whether calling ``fn`` gives a coroutine (also through partials and __call__)."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    call = type(fn).__call__ if not inspect.isroutine(fn) else None
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(call)


async def _await_logged(awaitable: Any, topic: str) -> None:
    try:
        await awaitable
    except Exception as exc:
        log.error("event handler for %s raised %r", topic, exc, exc_info=exc)


async def _limited(
    semaphore: anyio.Semaphore,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Call ``fn`` once ``semaphore`` gives a slot (a concurrency-limited endpoint)."""
    async with semaphore:
        return await _call(fn, args, kwargs)


async def _settle(awaitable: Awaitable[Any], semaphore: anyio.Semaphore | None) -> Any:
    """Await what a plain endpoint returned; then give back the slot it took."""
    try:
        return await awaitable
    finally:
        if semaphore is not None:
            semaphore.release()


async def _call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Call a plain function or a coroutine function alike."""
    value = fn(*args, **kwargs)
    if inspect.isawaitable(value):
        value = await value
    return value
