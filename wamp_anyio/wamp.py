"""Autobahn's façade on wamp_anyio: ApplicationSession, ApplicationSessionFactory,
ApplicationRunner and Application, with ``autobahn.asyncio.wamp``'s names and
signatures. ``run()`` starts asyncio by default, trio with ``backend="trio"``; with
``start_loop=False`` it returns a coroutine for code that already runs a loop: as
Autobahn's on asyncio, it completes once connected, with ``(transport, protocol)``
(on trio ``(stream, protocol)``), and the session then lives in the loop's callbacks,
holding no task."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import anyio

from wamp_anyio._asyncio_stream import AsyncioStream
from wamp_anyio._backend import on_asyncio
from wamp_anyio._future import Future
from wamp_anyio._run import Transport, reconnecting, run_session, start_in_callbacks
from wamp_anyio._spawn import LoopTasks
from wamp_anyio.session import Request, Session
from wamp_core.application.app import DEFAULT_URL, ApplicationDecorators
from wamp_core.application.hooks import AutobahnHooks
from wamp_core.application.runner import RunnerBase
from wamp_core.types import (
    ComponentConfig,
)

__all__ = ["Application", "ApplicationRunner", "ApplicationSession", "ApplicationSessionFactory"]

log = logging.getLogger("wamp_anyio")


class ApplicationSession(AutobahnHooks[Future, Request], Session):
    """A WAMP session with Autobahn's camelCase callbacks (override ``onJoin`` & co.;
    plain functions or coroutines)."""


class ApplicationSessionFactory:
    """Makes ApplicationSession instances for a runner (Autobahn's factory)."""

    session: type[ApplicationSession] = ApplicationSession

    def __init__(self, config: ComponentConfig | None = None):
        self.config = config or ComponentConfig(realm="realm1")

    def __call__(self, *args: Any) -> ApplicationSession:
        config = args[0] if args and isinstance(args[0], ComponentConfig) else self.config
        session = self.session(config)
        session.factory = self  # type: ignore[attr-defined]
        return session


def _configure_logging(log_level: str | None) -> None:
    if not log_level:
        return
    level = getattr(logging, log_level.upper(), None)
    if not isinstance(level, int):
        raise ValueError(f"unknown log_level {log_level!r}")
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("wamp_anyio", "wamp_core"):
        logging.getLogger(name).setLevel(level)


class ApplicationRunner(RunnerBase):
    """Connects one session to a router and runs it (reconnecting if asked); the
    settings are Autobahn's (wamp_core.application.runner.RunnerBase)."""

    session: Session | None = None
    _stopped: anyio.Event | None = None

    @property
    def transport(self) -> Transport:
        """Where and how the runner connects (built from its settings)."""
        return Transport(
            self.url,
            self.serializers,
            self.authentication,
            self.ssl,
            self.proxy,
            self.headers,
            self.websocket_options,
        )

    def run(
        self,
        make: Callable[[ComponentConfig], Session],
        start_loop: bool = True,
        log_level: str | None = "info",
        auto_reconnect: bool = False,
        backend: str = "asyncio",
    ) -> Any:
        """Run ``make(config)`` sessions until the session ends (or ``stop()``, with
        ``auto_reconnect``). Blocks with ``start_loop``.

        ``start_loop=False`` returns a coroutine, for code that runs a loop already. On
        asyncio it is Autobahn's: it completes once the transport is connected, with
        ``(transport, protocol)`` (the asyncio transport, and the protocol whose
        ``_session`` is the session); a refused connection raises from it. The session
        then joins and lives in the loop's callbacks, holding no task while idle
        (its hooks, handlers and invocations run in tasks of their own while they run);
        ``onDisconnect`` tells its end. On trio it also completes once connected, with
        ``(stream, protocol)``: over a plain socket both are our TrioStream (its
        ``_session`` is the session), read by one system task per trio run with every
        other such session's (wamp_anyio._trio_mux); over TLS or a proxy, anyio's stream
        and an object whose ``_session`` is the session, read by a task. With
        ``auto_reconnect`` there is nothing to hand back before the end: the coroutine
        runs the sessions until they end, as :meth:`run_async` does, and returns None."""
        _configure_logging(log_level)
        if not start_loop:
            return self._start(make, auto_reconnect)
        runner = self.run_async(make, auto_reconnect=auto_reconnect)
        if backend == "asyncio":
            return _run_asyncio(runner)
        return anyio.run(_await, runner, backend=backend)

    async def run_async(
        self, make: Callable[[ComponentConfig], Session], *, auto_reconnect: bool = False
    ) -> None:
        """The awaitable form of :meth:`run`."""
        self._stopped = anyio.Event()
        await reconnecting(
            make,
            self.session_config(),
            self.transport,
            self.backoff if auto_reconnect else None,
            self._stopped,
            on_session=self._set_session,
            rand=self.random,
        )

    async def _start(
        self, make: Callable[[ComponentConfig], Session], auto_reconnect: bool
    ) -> tuple[Any, Any] | None:
        if auto_reconnect:
            await self.run_async(make, auto_reconnect=auto_reconnect)
            return None
        return await self.connect(make)

    async def connect(self, make: Callable[[ComponentConfig], Session]) -> tuple[Any, Any]:
        """Connect one ``make(config)`` session and return once connected (what
        ``run(make, start_loop=False)`` returns, see :meth:`run`)."""
        transport = self.transport
        stream = await transport.open()
        try:
            session = make(self.session_config())
        except BaseException:
            await stream.aclose()
            raise
        self._stopped = None
        self.session = session
        realm = session.config.realm or "realm1"
        if not on_asyncio():
            return _connect_trio(session, transport, stream, realm)
        raw = _asyncio_stream_of(stream)
        if stream is raw:
            start_in_callbacks(session, transport, raw, realm, _TASKS)
        else:  # TLS, or through a proxy: one task reads
            _TASKS.start_soon(run_session, session, transport, stream, realm, _TASKS)
        protocol = raw._protocol
        protocol._session = session
        return raw._transport, protocol

    def _set_session(self, session: Session | None) -> None:
        self.session = session

    def stop(self) -> None:
        """Stop reconnecting and close the current session's transport."""
        if self._stopped is not None:
            self._stopped.set()
        if self.session is not None:
            self.session.disconnect()


# Where the tasks of the sessions connect() runs go, while they run (shared: a session
# holds none of its own; the loop's shutdown cancels what still runs).
_TASKS = LoopTasks()


def _connect_trio(
    session: Session, transport: Transport, stream: Any, realm: str
) -> tuple[Any, Any]:
    """On trio: over a plain socket the run's multiplexer reads it (no task of the
    session's own); else (TLS, a proxy, no pollable selector) a task of the
    multiplexer's nursery reads it. Gives ``(stream, protocol)``: the stream the
    session runs over, and an object whose ``_session`` is the session (over a plain
    socket, the TrioStream itself)."""
    from wamp_anyio import _trio_mux  # noqa: PLC0415 (trio is optional)

    mux = _trio_mux.current_mux()
    own = _trio_mux.adopt(stream, mux)
    if own is not None:
        own._session = session
        start_in_callbacks(session, transport, own, realm, mux)
        return own, own
    mux.start_soon(run_session, session, transport, stream, realm, mux)
    return stream, _Protocol(session)


class _Protocol:
    """What ``connect()`` gives on trio beside a stream that is not our own."""

    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        self._session = session


def _asyncio_stream_of(stream: Any) -> AsyncioStream:
    """The asyncio stream under ``stream`` (TLS and a proxy's leftover wrap it)."""
    while not isinstance(stream, AsyncioStream):
        stream = getattr(stream, "transport_stream", None) or stream._stream
    return stream


async def _await(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return await coroutine


def _run_asyncio(runner: Coroutine[Any, Any, Any]) -> Any:
    """Run on a fresh asyncio loop until the runner ends, or until the application
    stops the loop itself (as Autobahn asyncio apps do in onDisconnect)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        task = loop.create_task(runner)
        task.add_done_callback(lambda _: loop.stop())
        loop.run_forever()
        if not task.done():  # the application stopped the loop: wind down quietly
            task.cancel()
            loop.run_until_complete(asyncio.gather(task, return_exceptions=True))
            return None
        return task.result()
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()


class Application(ApplicationDecorators):
    """Autobahn's decorator-style application: procedures, handlers and signals
    collected with ``@app.register``, ``@app.subscribe``, ``@app.signal``; they are
    registered again on every session, so the application survives reconnects."""

    session: Session | None
    session_class = ApplicationSession

    def run(
        self,
        url: str = DEFAULT_URL,
        realm: str = "realm1",
        start_loop: bool = True,
        *,
        auto_reconnect: bool = True,
        backend: str = "asyncio",
        **runner_options: Any,
    ) -> Any:
        """Connect and run (reconnecting by default, unlike Autobahn's Application)."""
        runner = ApplicationRunner(url, realm, **runner_options)
        return runner.run(
            self, start_loop=start_loop, auto_reconnect=auto_reconnect, backend=backend
        )
