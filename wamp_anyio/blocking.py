"""WAMP for code without an event loop (Flask, Django, scripts, cron jobs).

::

    from wamp_anyio import blocking

    with blocking.connect("ws://127.0.0.1:8080/ws", "realm1") as session:
        print(session.call("com.example.add", 2, 3))          # 5
        session.publish("com.example.news", "hello")
        session.register(lambda x: x * 2, "com.example.double")

:func:`connect` starts one event loop thread (anyio's blocking portal) that runs an
ordinary ``wamp_anyio`` session; every method hands its request to that thread and
waits for the answer. Any number of threads may use one session at once.

- Every request has a timeout (``timeout=`` per request, else the one given to
  :func:`connect`): it raises ``TimeoutError`` and cancels the call at the router.
- Exceptions are those of the async API: ``ApplicationError`` for an ERROR answer,
  ``TransportLost`` when the router goes away (pending requests fail at once),
  ``SessionNotReady`` after that.
- Handlers given to :meth:`BlockingSession.register` and :meth:`BlockingSession.subscribe`
  run in worker threads (anyio's default thread pool), never in the loop thread: they
  may block, and they may use the session themselves. Each subscription's events reach
  its handler one at a time, in order; calls run concurrently.
- :meth:`BlockingSession.close` (or leaving the ``with`` block) says GOODBYE, closes
  the connection and ends the loop thread. A session still open when the interpreter
  exits is closed the same way first, so nothing is left running.
"""

from __future__ import annotations

import contextlib
import math
import threading
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from types import TracebackType
from typing import Any

import anyio
import anyio.to_thread
from anyio.abc import TaskStatus
from anyio.from_thread import BlockingPortal, start_blocking_portal

from wamp_anyio._run import connect as connect_async
from wamp_anyio.session import Session
from wamp_core.exception import SessionNotReady
from wamp_core.request import Publication, Registration, Subscription
from wamp_core.types import (
    CallOptions,
    PublishOptions,
    RegisterOptions,
    SessionDetails,
    SubscribeOptions,
)

__all__ = ["DEFAULT_TIMEOUT", "BlockingSession", "connect"]

DEFAULT_TIMEOUT = 30.0
CLOSE_TIMEOUT = 10.0


def connect(
    url: str,
    realm: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    backend: str = "asyncio",
    **options: Any,
) -> BlockingSession:
    """Connect and join ``realm``; the joined session, to use as a context manager or
    to :meth:`~BlockingSession.close` when done. ``options`` are those of
    ``wamp_anyio.connect`` (serializers, authentication, ssl, proxy, ...);
    ``timeout`` bounds the join and, by default, every request. Raises as
    ``wamp_anyio.connect`` does (``ApplicationError`` when the router refuses,
    ``OSError`` when it cannot be reached), or ``TimeoutError``."""
    return BlockingSession(url, realm, timeout=timeout, backend=backend, options=options)


class BlockingSession:
    """A joined session driven from threads without an event loop (see the module)."""

    def __init__(
        self,
        url: str,
        realm: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        backend: str = "asyncio",
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._closed = False
        self._portal_cm = start_blocking_portal(backend)
        self._portal: BlockingPortal = self._portal_cm.__enter__()
        try:
            self._stop: anyio.Event = self._portal.call(anyio.Event)
            self._running: Future[None]
            self._session: Session
            self._running, self._session = self._portal.start_task(
                self._run, url, realm, dict(options or {})
            )
        except BaseException:
            self._portal_cm.__exit__(None, None, None)
            raise
        _register_exit_hook(self)

    async def _run(
        self,
        url: str,
        realm: str,
        options: dict[str, Any],
        *,
        task_status: TaskStatus[Session],
    ) -> None:
        # The deadline covers the join only; the scope encloses connect()'s own.
        with anyio.CancelScope(deadline=anyio.current_time() + self.timeout) as scope:
            async with connect_async(url, realm, **options) as session:
                scope.deadline = math.inf
                task_status.started(session)
                await self._stop.wait()
        if scope.cancelled_caught:
            raise TimeoutError(f"no session within {self.timeout:g} s")

    # ---- the session

    @property
    def details(self) -> SessionDetails | None:
        """What the router said in WELCOME."""
        return self._session.details

    @property
    def session_id(self) -> int | None:
        return self._session.session_id

    def is_attached(self) -> bool:
        return not self._closed and self._session.is_attached()

    def call(
        self,
        procedure: str,
        *args: Any,
        options: CallOptions | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        """Call ``procedure`` and wait for its result (as ``await session.call`` gives it).
        After ``timeout`` seconds: TimeoutError, and the call is canceled."""

        async def call() -> Any:
            return await self._session.call(procedure, *args, options=options, **kwargs)

        return self._request(call, timeout)

    def publish(
        self,
        topic: str,
        *args: Any,
        options: PublishOptions | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Publication | None:
        """Publish; with ``PublishOptions(acknowledge=True)`` wait for the Publication."""

        async def publish() -> Publication | None:
            request = self._session.publish(topic, *args, options=options, **kwargs)
            return None if request is None else await request

        result: Publication | None = self._request(publish, timeout)
        return result

    def register(
        self,
        endpoint: Callable[..., Any],
        procedure: str,
        options: RegisterOptions | None = None,
        *,
        timeout: float | None = None,
    ) -> Registration:
        """Register a plain function; each call runs it in a worker thread."""

        async def in_worker(*args: Any, **kwargs: Any) -> Any:
            return await anyio.to_thread.run_sync(lambda: endpoint(*args, **kwargs))

        async def register() -> Registration:
            registration: Registration = await self._session.register(in_worker, procedure, options)
            return registration

        result: Registration = self._request(register, timeout)
        return result

    def subscribe(
        self,
        handler: Callable[..., Any],
        topic: str,
        options: SubscribeOptions | None = None,
        *,
        timeout: float | None = None,
    ) -> Subscription:
        """Subscribe a plain function; it gets the events in order, in a worker thread
        (``details=`` too if ``options.details_arg`` says so)."""

        async def in_worker(*args: Any, **kwargs: Any) -> None:
            await anyio.to_thread.run_sync(lambda: handler(*args, **kwargs))

        async def subscribe() -> Subscription:
            subscription: Subscription = await self._session.subscribe(in_worker, topic, options)
            return subscription

        result: Subscription = self._request(subscribe, timeout)
        return result

    def unregister(self, registration: Registration, *, timeout: float | None = None) -> None:
        self._request(lambda: self._session.unregister(registration), timeout)

    def unsubscribe(self, subscription: Subscription, *, timeout: float | None = None) -> None:
        self._request(lambda: self._session.unsubscribe(subscription), timeout)

    def _request(self, make: Callable[[], Any], timeout: float | None) -> Any:
        limit = self.timeout if timeout is None else timeout

        async def bounded() -> Any:
            with anyio.fail_after(limit):
                return await make()

        with self._lock:
            if self._closed:
                raise SessionNotReady("the blocking session is closed")
            portal = self._portal
        try:
            return portal.call(bounded)
        except RuntimeError as error:  # the portal stopped between our check and the call
            if self._closed:
                raise SessionNotReady("the blocking session is closed") from error
            raise

    # ---- closing

    def close(self) -> None:
        """Leave (GOODBYE), close the connection and stop the loop thread. Idempotent;
        requests still waiting in other threads fail."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            # The session may have ended already (the router went away): close regardless.
            with contextlib.suppress(Exception):
                self._portal.call(self._stop.set)
                self._running.result(timeout=CLOSE_TIMEOUT)
        finally:
            self._portal_cm.__exit__(None, None, None)

    def __enter__(self) -> BlockingSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# Sessions still open when the interpreter exits. The loop thread is a worker of a
# ThreadPoolExecutor, which the interpreter joins before ``atexit`` handlers run, so
# the hook is registered with threading's own exit hooks (called before that join,
# the latest registered first).
_open: weakref.WeakSet[BlockingSession] = weakref.WeakSet()
_hook_lock = threading.Lock()
_hooked = False


def _close_all() -> None:
    for session in list(_open):
        session.close()


def _register_exit_hook(session: BlockingSession) -> None:
    global _hooked
    with _hook_lock:
        _open.add(session)
        if not _hooked:
            register = getattr(threading, "_register_atexit", None)
            if register is None:  # pragma: no cover  (every CPython since 3.9 has it)
                import atexit  # noqa: PLC0415

                register = atexit.register
            register(_close_all)
            _hooked = True
