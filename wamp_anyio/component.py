"""Autobahn's ``Component`` and ``run()`` on wamp_anyio (asyncio by default, trio by
choice): ``from autobahn.asyncio.component import Component, run`` ports as
``from wamp_anyio.component import Component, run``.

The configuration, listeners, decorators and reconnect decisions are
``wamp_core.application.component``'s; this module connects, runs the sessions, and
sleeps between attempts. Better than Autobahn's: a router that comes up late is
retried; a component that fails does not stop the others in ``run()``; ``start()``
runs in the loop that awaits it; the ``giveup`` event says when every transport has
given up; ``authentication`` may be a callable called before each attempt; after a
reconnect, ``procedure_already_exists`` (the router has not yet seen our previous
session die) is retried for a while; keep-alive pings are on by default.
"""

from __future__ import annotations

import inspect
import logging
import signal
from collections.abc import Callable, Sequence
from typing import Any

import anyio

from wamp_anyio._run import Transport, run_session
from wamp_anyio.session import Session
from wamp_core.application.component import CLEAN_REASONS, ComponentBase, reregister_delays
from wamp_core.application.transports import DEFAULT_KEEPALIVE, TransportConfig
from wamp_core.exception import ApplicationError, TransportLost
from wamp_core.types import CloseDetails, SessionDetails

__all__ = ["Component", "run"]

log = logging.getLogger("wamp_anyio.component")


class _Outcome:
    """How one session ended, as the component's rules need to know."""

    def __init__(self) -> None:
        self.joined = False
        self.reason: str | None = None  # the leave reason, None if it never left
        self.main_done = False
        self.result: Any = None
        self.error: BaseException | None = None

    @property
    def done(self) -> bool:
        return self.main_done or self.error is not None or self.reason in CLEAN_REASONS


class Component(ComponentBase):
    """A WAMP application component (Autobahn's constructor and decorators)."""

    session_factory: Any = Session

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._session: Session | None = None
        self._stopping = False
        self._stopped: anyio.Event | None = None

    # -- running ----------------------------------------------------------------------

    async def start(self, loop: Any = None) -> Any:
        """Connect (again and again, as the transports allow) until done: ``main``
        returned (its result is returned), the session left on purpose, or ``stop()``.
        Raises when every transport has given up, or what ``main`` raised."""
        self._stopped = anyio.Event()
        self._stopping = False
        await self._fire("start", loop, self)
        plan = self.reconnect_plan()
        failure: BaseException | None = None
        while not self._stopping:
            attempt = plan.next()
            if attempt is None:
                error = failure or TransportLost("every transport has given up")
                await self._fire("giveup", self, error)
                raise ConnectionError(
                    "Component failed: exhausted all transport connect attempts"
                ) from error
            if attempt.delay and await self._sleep(attempt.delay):
                break
            config = self.transports[attempt.transport]
            try:
                outcome = await self._connect_once(config)
            except Exception as exc:  # could not connect: OSError, TLS, proxy, ...
                failure = exc
                log.info("cannot connect to %s: %s", config.describe(), exc)
                await self._fire("connectfailure", self, exc)
                if self.fatal(exc):
                    raise
                continue
            if outcome.joined:
                plan.joined(attempt.transport)
            if outcome.error is not None:
                raise outcome.error
            if outcome.done:
                return outcome.result
            failure = TransportLost(f"the session ended ({outcome.reason or 'connection lost'})")
        return None

    def stop(self) -> None:
        """Leave (if joined) and do not connect again."""
        self._stopping = True
        if self._stopped is not None:
            self._stopped.set()
        session = self._session
        if session is not None and session.is_attached():
            try:
                session.leave()
            except Exception:  # already leaving, or the transport is gone
                session.disconnect()

    async def _sleep(self, delay: float) -> bool:
        """Wait ``delay`` seconds; True if ``stop()`` came first."""
        assert self._stopped is not None
        with anyio.move_on_after(delay):
            await self._stopped.wait()
        return self._stopping

    async def _connect_once(self, config: TransportConfig) -> _Outcome:
        transport = _transport(config, self.authentication())
        stream = await transport.open()
        outcome = _Outcome()
        session = self._new_session(config, outcome)
        self._session = session
        try:
            await run_session(session, transport, stream, self.realm)
        finally:
            self._session = None
        return outcome

    # -- the session's hooks, with the component's listeners -------------------------

    def _new_session(self, config: TransportConfig, outcome: _Outcome) -> Session:
        session: Session = self.session_factory(self.session_config())
        component = self
        connected, joined, left = session.on_connect, session.on_join, session.on_leave
        disconnected = session.on_disconnect

        async def on_connect() -> None:
            await component._fire("connect", session, config)
            await _maybe_await(connected())

        async def on_join(details: SessionDetails) -> None:
            outcome.joined = True
            await _maybe_await(joined(details))
            await component._set_up(session)
            await component._fire("join", session, details)
            await component._fire("ready", session)
            if component.main is not None:
                await component._run_main(session, outcome)

        async def on_leave(details: CloseDetails) -> None:
            outcome.reason = details.reason
            if not outcome.joined and details.reason not in CLEAN_REASONS:
                log.warning("session refused: %s %s", details.reason, details.message or "")
            await component._fire("leave", session, details)
            await _maybe_await(left(details))

        async def on_disconnect() -> None:
            await _maybe_await(disconnected())
            await component._fire("disconnect", session, outcome.reason in CLEAN_REASONS)

        session.on_connect = on_connect  # type: ignore[method-assign]
        session.on_join = on_join  # type: ignore[method-assign]
        session.on_leave = on_leave  # type: ignore[method-assign]
        session.on_disconnect = on_disconnect  # type: ignore[method-assign]
        return session

    async def _run_main(self, session: Session, outcome: _Outcome) -> None:
        assert self.main is not None
        try:
            outcome.result = await _maybe_await(self.main(_loop(), session))
        except Exception as exc:
            outcome.error = exc
            session.disconnect()
            return
        outcome.main_done = True
        if session.is_attached():
            session.leave()

    async def _set_up(self, session: Session) -> None:
        """The decorated procedures and handlers, on every join."""
        for fn, uri, options in self.registrations:
            await _register(session, fn, uri, options)
        for fn, topic, options in self.subscriptions:
            await session.subscribe(fn, topic, options)

    async def _fire(self, event: str, *args: Any) -> None:
        for listener in self.listeners(event):
            try:
                await _maybe_await(listener(*args))
            except Exception:
                log.exception("the %s listener %r raised", event, listener)


async def _register(
    session: Session, fn: Callable[..., Any], uri: str | None, options: Any
) -> None:
    """Register, retrying ``procedure_already_exists`` for a while: just after a
    reconnect the router may not have noticed yet that our previous session died."""
    delays = reregister_delays()
    while True:
        try:
            await session.register(fn, uri, options)
            return
        except ApplicationError as error:
            delay = next(delays, None)
            if error.error != ApplicationError.PROCEDURE_ALREADY_EXISTS or delay is None:
                raise
            log.info("%s is still registered (our previous session?): retrying", uri)
            await anyio.sleep(delay)


def _transport(config: TransportConfig, authentication: Any) -> Transport:
    """Our Transport for one of the component's; keep-alive on unless turned off."""
    options = dict(config.options)
    interval, timeout = DEFAULT_KEEPALIVE
    options.setdefault("ping_interval", interval)
    options.setdefault("ping_timeout", timeout)
    websocket_options: dict[str, Any] | None = None
    session_options: dict[str, Any] = {}
    if config.kind == "websocket":
        websocket_options = options
    else:
        session_options = options  # ping_interval, ping_timeout, max_message_size
    return Transport(
        config.url,
        serializers=config.serializers,
        authentication=authentication,
        ssl=config.tls,
        proxy=config.proxy,
        headers=config.headers,
        websocket_options=websocket_options,
        session_options=session_options,
    )


def _loop() -> Any:
    """What Autobahn passes ``main`` as its first argument: the asyncio loop (None on trio)."""
    try:
        import asyncio  # noqa: PLC0415 (only meaningful under asyncio)

        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def run(
    components: Component | Sequence[Component],
    log_level: str | None = "info",
    *,
    backend: str = "asyncio",
    stop_at_close: bool = True,
) -> None:
    """Start the components and run until every one is done (SIGINT or SIGTERM make
    them leave cleanly). One that fails is logged and does not stop the others."""
    if isinstance(components, Component):
        components = [components]
    if log_level:
        logging.basicConfig(level=getattr(logging, log_level.upper()))
    anyio.run(_run_all, list(components), backend=backend)


async def _run_all(components: list[Component]) -> None:
    async with anyio.create_task_group() as tg:

        async def one(component: Component) -> None:
            try:
                await component.start()
            except Exception:
                log.exception("component %r failed", component)

        async def signals(scope: anyio.CancelScope) -> None:
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as received:
                async for _ in received:
                    for component in components:
                        component.stop()

        async with anyio.create_task_group() as inner:
            inner.start_soon(signals, inner.cancel_scope)
            async with anyio.create_task_group() as running:
                for component in components:
                    running.start_soon(one, component)
            inner.cancel_scope.cancel()
        tg.cancel_scope.cancel()
