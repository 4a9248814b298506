"""Session: the WAMP session object of wamp_anyio, for both API styles.

``async with connect(url, realm) as session`` yields a joined Session. The Autobahn
façade subclasses it (ApplicationSession, with camelCase callbacks); a Session
subclass may override the snake_case hooks (``on_join``, ``on_leave``, ...). Hooks
may be plain functions or coroutines; each runs after the event that fired it was
handled: a coroutine (or what a plain hook returns that is awaitable) in a task of its
own, a plain hook in a task too, or, on asyncio over a plain socket (the session driven
in its transport's callbacks), in a loop callback of its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
from collections.abc import AsyncIterator, Callable, Generator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectSendStream

from wamp_anyio._driver import Driver, _is_async
from wamp_anyio._future import Future
from wamp_anyio._log import Logger
from wamp_core.application import SessionCore
from wamp_core.application.hooks import SessionHooks
from wamp_core.application.host import HookName, SessionEvent
from wamp_core.connection import Connection
from wamp_core.exception import ApplicationError, SessionNotReady
from wamp_core.request import Registration, Subscription
from wamp_core.types import (
    CallOptions,
    Challenge,
    CloseDetails,
    ComponentConfig,
    EventDetails,
    PublishOptions,
    SessionDetails,
    SubscribeOptions,
)

__all__ = ["ReceivedEvent", "Request", "Session"]

DEFAULT_CANCEL_MODE = "kill"
UNSUBSCRIBE_TIMEOUT = 5.0


@dataclasses.dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """One event from :meth:`Session.events`."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    details: EventDetails


class Request:
    """What a request returns. The request is queued when made; its bytes leave when
    it is awaited (in the awaiting task, with no detour through the writer task; but
    while other requests await answers, once the tasks woken with this one ran, in
    one send with their requests: at the end of the event loop iteration on our
    asyncio stream, else by the writer task), or as soon as the Request is dropped
    unawaited (CPython frees it at once), or with any earlier write. Awaiting gives
    the result; canceling the awaiting task cancels a call."""

    __slots__ = ("_cancel_mode", "_driver", "_futures", "_request_id", "_unflushed")

    def __init__(
        self,
        driver: Driver,
        futures: Future | list[Future],
        request_id: int | None = None,
        cancel_mode: str = DEFAULT_CANCEL_MODE,
    ):
        self._driver = driver
        self._futures = futures
        self._request_id = request_id
        self._cancel_mode = cancel_mode
        self._unflushed = True

    def __await__(self) -> Generator[Any, None, Any]:
        return self._wait().__await__()

    def __del__(self) -> None:
        if self._unflushed:  # never awaited: let the writer task send it
            self._driver.flush()

    # A little of asyncio.Future's surface, for Autobahn code that uses it.

    def done(self) -> bool:
        futures = self._futures if isinstance(self._futures, list) else [self._futures]
        return all(future.done() for future in futures)

    def result(self) -> Any:
        if isinstance(self._futures, list):
            return [future.result() for future in self._futures]
        return self._futures.result()

    def exception(self) -> BaseException | None:
        futures = self._futures if isinstance(self._futures, list) else [self._futures]
        return next((e for e in (f.exception() for f in futures) if e is not None), None)

    def add_done_callback(self, callback: Callable[[Request], Any]) -> None:
        """Call ``callback(self)`` once the request is done (as asyncio futures do)."""
        self._driver.task_group.start_soon(self._call_back, callback)

    async def _call_back(self, callback: Callable[[Request], Any]) -> None:
        with contextlib.suppress(Exception):
            await self._wait()
        callback(self)

    async def _wait(self) -> Any:
        driver = self._driver
        self._unflushed = False
        try:  # a cancellation may come while the request is written, too
            await driver.write()
            if isinstance(self._futures, list):
                return [await future.wait() for future in self._futures]
            return await self._futures.wait()
        except anyio.get_cancelled_exc_class():
            if self._request_id is not None:
                with anyio.CancelScope(shield=True):
                    driver.core.cancel(self._request_id, self._cancel_mode, abandon=True)
                    await driver.write()
            raise


class Session(SessionHooks[Future, "Request"]):
    """A WAMP session on wamp_anyio. See the module docstring."""

    def __init__(self, config: ComponentConfig | None = None):
        self.config = config or ComponentConfig(realm="realm1")
        self.log = _logger_for(type(self))
        self.cancel_mode = DEFAULT_CANCEL_MODE
        self.details: SessionDetails | None = None
        self._driver: Driver | None = None
        # Whether the session attached last has ended, and the futures leave() handed out
        # meanwhile (settled then): no Event nor task per session for a rare call.
        self._left = False
        # Made when first needed (an idle session of thousands holds none of them).
        self._leave_waiters: list[Future] | None = None
        self._pending_errors: tuple[tuple[type[BaseException], str | None], ...] = ()
        self._hooks: dict[anyio.CancelScope, str] | None = None
        self._leave_done: anyio.Event | None = None
        self._event_streams: set[MemoryObjectSendStream[ReceivedEvent]] | None = None

    # ---- hooks (override; plain or async)

    def on_user_error(self, fail: BaseException, msg: str) -> None:
        """Application code raised where nobody awaits it (a handler, a hook)."""
        self.log.error("%s: %r", msg, fail, exc_info=fail)

    # ---- state

    def _clock(self) -> float:
        assert self._driver is not None
        return self._driver.now()

    def _flush(self) -> None:
        assert self._driver is not None
        self._driver.flush()

    def _joined_core(self, what: str) -> SessionCore[Future]:
        return self._attached_driver(what).core

    def _issue(self, make: Callable[[], list[Future]], many: bool) -> Request:
        driver = self._driver
        assert driver is not None
        if many:
            return Request(driver, make())
        with driver.writing_soon():
            return Request(driver, make()[0])

    def _connection(self) -> Connection | None:
        return self._driver.connection if self._driver is not None else None

    @property
    def _core(self) -> SessionCore[Future]:
        if self._driver is None:
            raise SessionNotReady("the session has no transport")
        return self._driver.core

    # ---- actions

    def leave(self, reason: str | None = None, message: str | None = None) -> Future:
        """Send GOODBYE; the returned future resolves when the session has ended."""
        self._core.leave(reason, message)
        done = Future()
        if self._left:
            done.set_result(None)
        else:
            if self._leave_waiters is None:
                self._leave_waiters = []
            self._leave_waiters.append(done)
        return done

    def disconnect(self) -> None:
        """Close the transport (a session still open ends with TransportLost)."""
        if self._driver is not None:
            self._driver.close()

    def define(self, exception: type[BaseException], error: str | None = None) -> None:
        """Map an exception class to an error URI, both ways (Autobahn's ``define``)."""
        if self._driver is None:
            self._pending_errors = (*self._pending_errors, (exception, error))
        else:
            self._driver.core.define(exception, error)

    def call(
        self, procedure: str, *args: Any, options: CallOptions | None = None, **kwargs: Any
    ) -> Request:
        """Send CALL now; awaiting gives the single result, a CallResult, or None.
        Canceling the awaiting task sends CANCEL (mode ``self.cancel_mode``)."""
        driver = self._attached_driver("call")
        with driver.writing_soon():
            request_id, future = driver.core.call(
                procedure, args, kwargs, options, now=driver.now()
            )
        return Request(driver, future, request_id, self.cancel_mode)

    def publish(
        self, topic: str, *args: Any, options: PublishOptions | None = None, **kwargs: Any
    ) -> Request | None:
        """Publish now; with ``PublishOptions(acknowledge=True)`` awaiting gives the Publication."""
        driver = self._attached_driver("publish")
        future = driver.core.publish(topic, args, kwargs, options)
        return None if future is None else Request(driver, future)

    async def unregister(self, registration: Registration) -> None:
        await _maybe_await(registration.unregister())

    async def unsubscribe(self, subscription: Subscription) -> None:
        self._attached_driver("unsubscribe")
        await _maybe_await(subscription.unsubscribe())

    @asynccontextmanager
    async def events(
        self, topic: str, *, max_buffer: int = 100, options: SubscribeOptions | None = None
    ) -> AsyncIterator[AsyncIterator[ReceivedEvent]]:
        """Subscribe for the block's duration and iterate over the events, in order.

        At most ``max_buffer`` events wait for the iterator; beyond that the session
        stops reading (backpressure) until the iterator catches up.
        """
        driver = self._attached_driver("subscribe")
        send, receive = anyio.create_memory_object_stream[ReceivedEvent](0)

        async def handler(*args: Any, details: EventDetails, **kwargs: Any) -> None:
            with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                await send.send(ReceivedEvent(args, kwargs, details))  # unless the block ended

        options = dataclasses.replace(options or SubscribeOptions(), details_arg="details")
        subscription: Subscription = await Request(
            driver, driver.core.subscribe(handler, topic, options, buffer=max_buffer)
        )
        streams = self._event_streams
        if streams is None:
            streams = self._event_streams = set()
        streams.add(send)  # closed when the session ends: the iteration ends
        try:
            async with receive:
                yield receive
        finally:
            streams.discard(send)
            send.close()
            if subscription.active and self.is_attached():
                # Bounded: a router that never answers must not hang the block's exit.
                with anyio.CancelScope(shield=True), anyio.move_on_after(UNSUBSCRIBE_TIMEOUT):
                    await self.unsubscribe(subscription)

    def _attached_driver(self, what: str) -> Driver:
        driver = self._driver
        if driver is None or not driver.connection.session.is_joined:
            raise SessionNotReady(f"cannot {what}: the session is not joined")
        return driver

    # ---- what the driver tells us

    def _attach(self, driver: Driver) -> None:
        self._driver = driver
        self._left = False
        self._leave_waiters = None
        for exception, error in self._pending_errors:
            driver.core.define(exception, error)

    def _session_event(self, event: SessionEvent) -> None:
        self.lifecycle_event(event)

    def _session_over(self, details: CloseDetails | None) -> None:
        self._left = True
        waiters, self._leave_waiters = self._leave_waiters or (), None
        for done in waiters:
            done.set_result(None)
        self._end_event_streams()

    def _end_event_streams(self) -> None:
        if self._event_streams is None:
            return
        for send in self._event_streams:
            send.close()
        self._event_streams.clear()

    def _run_hook(
        self, hook: Callable[..., object], name: HookName, *args: object, after_leave: bool = False
    ) -> None:
        driver = self._driver
        assert driver is not None
        if name == "on_leave":
            self._leave_done = anyio.Event()
        after = self._leave_done if after_leave else None
        if driver._in_callbacks and not _is_async(hook) and (after is None or after.is_set()):
            # Driven in callbacks (asyncio, trio): a plain hook runs in a loop callback of its
            # own, in order with the tasks started before and after it; a task would
            # cost ~2 KiB for the time it runs, and many sessions joining at once leave
            # that memory scattered behind them.
            driver.call_soon(self._call_hook, hook, name, args)
            return
        driver.task_group.start_soon(self._hook_task, hook, name, args, after)

    def _call_hook(self, hook: Callable[..., object], name: str, args: tuple[object, ...]) -> None:
        entered = self._driver  # the session may be detached by the hook
        previous = entered.enter() if entered is not None else None
        try:
            try:
                result = hook(*args)
            except Exception as exc:
                self.on_user_error(exc, f"{name} raised")
                result = None
            driver = self._driver
            if inspect.isawaitable(result):  # what it returned runs in a task, as a hook
                assert driver is not None
                driver.task_group.start_soon(self._hook_task, _returning(result), name, ())
                return
            if name == "on_leave" and self._leave_done is not None:
                self._leave_done.set()
            if driver is not None:
                driver.flush()
        finally:
            if entered is not None:
                entered.leave(previous)

    async def _hook_task(
        self,
        hook: Callable[..., object],
        name: str,
        args: tuple[object, ...],
        after: anyio.Event | None = None,
    ) -> None:
        if after is not None:
            await after.wait()
        with anyio.CancelScope() as scope:
            hooks = self._hooks
            if hooks is None:
                hooks = self._hooks = {}
            hooks[scope] = name
            try:
                result = hook(*args)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                self.on_user_error(exc, f"{name} raised")
            finally:
                del hooks[scope]
                if not hooks and self._hooks is hooks:
                    self._hooks = None  # none runs: an idle session holds no table
                if name == "on_leave" and self._leave_done is not None:
                    self._leave_done.set()
            if self._driver is not None:
                await self._driver.write()

    def _end_hooks(self) -> None:
        """The transport closed: stop what still runs of this session's hooks (an
        on_join that never returns), but let on_leave and on_disconnect finish."""
        for scope, name in list((self._hooks or {}).items()):
            if name not in ("on_leave", "on_disconnect"):
                scope.cancel()

    def _run_challenge(self, challenge: Challenge) -> None:
        driver = self._driver
        assert driver is not None

        async def answer() -> None:
            session = driver.connection.session
            try:
                signature = self.on_challenge(challenge)
                if inspect.isawaitable(signature):
                    signature = await signature
                session.authenticate(signature)
            except Exception as exc:
                self.on_user_error(exc, "on_challenge raised")
                if session.in_session:
                    session.abort(ApplicationError.AUTHENTICATION_FAILED, str(exc))
                    driver.core.handle(driver.connection.events())
            await driver.write()

        driver.task_group.start_soon(answer)


_LOGGERS: dict[str, Logger] = {}  # one per session class name: they hold no state


def _logger_for(cls: type) -> Logger:
    name = f"wamp_anyio.{cls.__name__}"
    logger = _LOGGERS.get(name)
    if logger is None:
        logger = _LOGGERS[name] = Logger(name)
    return logger


def _returning(value: object) -> Callable[[], object]:
    return lambda: value


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value
