"""What Autobahn's ``Component`` is, apart from any event loop: its configuration, the
listeners of its lifecycle events, the procedures and handlers its decorators
collect, and the rules that decide, once a session has ended, whether the component
is done or connects again. ``wamp_anyio.component`` and ``wamp_twisted.component``
drive it with their own sockets, tasks and sleeps.

Events and their listeners' arguments (Autobahn's): ``start(loop, component)``,
``connect(session, transport)``, ``join(session, details)``, ``ready(session)``,
``leave(session, details)``, ``disconnect(session, was_clean)``,
``connectfailure(component, error)``, and, ours, ``giveup(component, error)`` when
every transport has used up its retries.
"""

from __future__ import annotations

import functools
import inspect
import random as _random
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final, Literal, TypeAlias, TypeVar

from wamp_core.application.reconnect import ReconnectPlan
from wamp_core.application.transports import TransportConfig, transport_configs
from wamp_core.exception import ApplicationError, TransportLost
from wamp_core.types import CloseDetails, ComponentConfig, SessionDetails

__all__ = [
    "CLEAN_REASONS",
    "EVENTS",
    "ComponentBase",
    "LogLevel",
    "Outcome",
    "reregister_delays",
]

F = TypeVar("F", bound=Callable[..., Any])
LogLevel: TypeAlias = Literal["info", "warning", "error"]

EVENTS: Final = (
    "start",
    "connect",
    "join",
    "ready",
    "leave",
    "disconnect",
    "connectfailure",
    "giveup",
)
CLEAN_REASONS: Final = frozenset({"wamp.close.normal", "wamp.close.goodbye_and_out"})
"""A session that left with one of these ended on purpose: the component is done.
Any other end (a router restarting says ``wamp.close.system_shutdown``; a lost
transport says nothing) connects again."""


def reregister_delays(
    total: float = 10.0, first: float = 0.25, cap: float = 2.0
) -> Iterator[float]:
    """Waits between attempts to register a procedure the router still holds for our
    previous session (``procedure_already_exists`` just after a reconnect): doubling
    from ``first`` up to ``cap``, for ``total`` seconds in all."""
    spent, delay = 0.0, first
    while spent + delay <= total:
        yield delay
        spent += delay
        delay = min(delay * 2, cap)


class Outcome:
    """How one session ended, as the component's rules need to know."""

    def __init__(self) -> None:
        self.joined = False
        self.reason: str | None = None  # the leave reason; None if it never left
        self.main_done = False
        self.result: Any = None
        self.error: BaseException | None = None

    @property
    def done(self) -> bool:
        """The component is done: main returned or failed, or the session left on purpose."""
        return self.main_done or self.error is not None or self.reason in CLEAN_REASONS


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class ComponentBase(ABC):
    """``Component`` apart from the event loop (Autobahn's constructor, decorators and
    events), and its run as a coroutine the adapter drives. An adapter provides
    ``_connect_and_run`` (open the transport and run the session until it closes;
    raise if it cannot connect), ``_sleep`` and ``_wake`` (a wait that ``stop()``
    cuts short), ``_pause`` (a plain wait), ``_main_loop_argument`` and ``_log``.
    Every other rule is here, once: the order of the lifecycle events, the
    decorated registrations and subscriptions on each join (with
    ``procedure_already_exists`` retried), ``main``, and when to connect again."""

    session_factory: Any = None

    def __init__(
        self,
        main: Callable[..., Any] | None = None,
        transports: object = None,
        config: ComponentConfig | None = None,
        realm: str = "realm1",
        extra: Any = None,
        authentication: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None,
        session_factory: Any = None,
        is_fatal: Callable[[BaseException], bool] | None = None,
    ) -> None:
        if main is not None and not callable(main):
            raise TypeError("main must be callable")
        if is_fatal is not None and not callable(is_fatal):
            raise TypeError("is_fatal must be callable")
        if authentication is not None and not (
            callable(authentication) or isinstance(authentication, Mapping)
        ):
            raise TypeError("authentication must be a dict or a callable returning one")
        self._main = main
        self.transports: list[TransportConfig] = transport_configs(transports)
        self._config = config
        self.realm = (config.realm if config is not None and config.realm else None) or realm
        self.extra = config.extra if config is not None and config.extra is not None else extra
        self._authentication = authentication
        if session_factory is not None:
            self.session_factory = session_factory
        self.is_fatal = is_fatal
        self._listeners: dict[str, list[Callable[..., Any]]] = {name: [] for name in EVENTS}
        self.registrations: list[tuple[Callable[..., Any], str | None, Any]] = []
        self.subscriptions: list[tuple[Callable[..., Any], str | None, Any]] = []

    # -- listeners --------------------------------------------------------------------

    def on(self, event: str, handler: Callable[..., Any]) -> None:
        """Call ``handler`` on ``event`` (one of EVENTS), after those added before it."""
        if event not in self._listeners:
            raise ValueError(f"unknown event {event!r}; known: {', '.join(EVENTS)}")
        if not callable(handler):
            raise TypeError(f"the {event} handler must be callable")
        self._listeners[event].append(handler)

    def listeners(self, event: str) -> list[Callable[..., Any]]:
        return list(self._listeners[event])

    def on_start(self, fn: F) -> F:
        self.on("start", fn)
        return fn

    def on_connect(self, fn: F) -> F:
        self.on("connect", fn)
        return fn

    def on_join(self, fn: F) -> F:
        self.on("join", fn)
        return fn

    def on_ready(self, fn: F) -> F:
        self.on("ready", fn)
        return fn

    def on_leave(self, fn: F) -> F:
        self.on("leave", fn)
        return fn

    def on_disconnect(self, fn: F) -> F:
        self.on("disconnect", fn)
        return fn

    def on_connectfailure(self, fn: F) -> F:
        self.on("connectfailure", fn)
        return fn

    def on_giveup(self, fn: F) -> F:
        self.on("giveup", fn)
        return fn

    # -- what every join sets up ------------------------------------------------------

    def register(
        self, uri: str | None = None, options: Any = None, check_types: bool | None = None
    ) -> Callable[[F], F]:
        """Decorator: register the function as ``uri`` on every join."""

        def decorator(fn: F) -> F:
            self.registrations.append((fn, uri, options))
            return fn

        return decorator

    def subscribe(
        self, topic: str | None = None, options: Any = None, check_types: bool | None = None
    ) -> Callable[[F], F]:
        """Decorator: subscribe the function to ``topic`` on every join."""

        def decorator(fn: F) -> F:
            self.subscriptions.append((fn, topic, options))
            return fn

        return decorator

    # -- what each connection attempt needs -------------------------------------------

    @property
    def main(self) -> Callable[..., Any] | None:
        return self._main

    def session_config(self) -> ComponentConfig:
        return ComponentConfig(realm=self.realm, extra=self.extra)

    def authentication(self) -> Mapping[str, Any] | None:
        """The credentials for this attempt: a callable is called every time (fresh
        tickets and tokens)."""
        value = self._authentication
        if callable(value):
            value = value()
            if value is not None and not isinstance(value, Mapping):
                raise TypeError("the authentication callable must return a dict")
        return value

    def reconnect_plan(self, random: Callable[[], float] = _random.random) -> ReconnectPlan:
        return ReconnectPlan([t.retry for t in self.transports], random)

    def fatal(self, error: BaseException) -> bool:
        """Whether a connect failure ends the component (``is_fatal``)."""
        return self.is_fatal is not None and bool(self.is_fatal(error))

    # -- the run, driven by the adapter -------------------------------------------------

    _stopping: bool = False
    _session: Any = None

    async def _run(self, loop: Any) -> Any:
        """Connect (again and again, as the transports allow) until done: ``main``
        returned (its result), the session left on purpose, or ``stop()``. Raises
        ConnectionError when every transport has given up, or what ``main`` raised."""
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
            if attempt.delay:
                await self._sleep(attempt.delay)
                if self._stopping:
                    break
            config = self.transports[attempt.transport]
            outcome = Outcome()
            try:
                make = functools.partial(self._new_session, config, outcome)
                await self._connect_and_run(config, make)
            except Exception as exc:  # could not connect: OSError, TLS, proxy, ...
                failure = exc
                self._log("info", f"cannot connect to {config.describe()}: {exc}")
                await self._fire("connectfailure", self, exc)
                if self.fatal(exc):
                    raise
                continue
            finally:
                self._session = None
            if outcome.joined:
                plan.joined(attempt.transport)
            if outcome.error is not None:
                raise outcome.error
            if outcome.done:
                return outcome.result
            failure = TransportLost(f"the session ended ({outcome.reason or 'connection lost'})")
        return None

    def stop(self) -> Any:
        """Leave (if joined) and do not connect again."""
        self._stopping = True
        self._wake()
        session = self._session
        if session is not None and session.is_attached():
            try:
                return session.leave()
            except Exception:  # leaving already, or the transport is gone
                session.disconnect()
        return None

    # -- what the adapter provides (its part of the Host interface) ---------------------

    @abstractmethod
    async def _connect_and_run(self, config: TransportConfig, make: Callable[[], Any]) -> None:
        """Open ``config``'s transport and run the session ``make()`` gives on it until
        the transport closes; raise if it cannot connect. (The session is whatever
        ``session_factory`` makes, the adapter's Session by default.)"""

    @abstractmethod
    async def _sleep(self, delay: float) -> None:
        """Wait ``delay`` seconds, or less if ``_wake()`` is called meanwhile."""

    @abstractmethod
    def _wake(self) -> None:
        """End a ``_sleep`` in progress (``stop()``)."""

    @abstractmethod
    async def _pause(self, delay: float) -> None:
        """Wait ``delay`` seconds."""

    @abstractmethod
    def _main_loop_argument(self) -> object:
        """What ``main`` gets first (Autobahn's: the reactor, or the asyncio loop)."""

    @abstractmethod
    def _log(self, level: LogLevel, text: str) -> None:
        """Log ``text`` at ``level``."""

    # -- one session, with the component's listeners on its hooks --------------------

    def _new_session(self, config: TransportConfig, outcome: Outcome) -> Any:
        session = self.session_factory(self.session_config())
        self._session = session
        connected, joined, left = session.on_connect, session.on_join, session.on_leave
        disconnected = session.on_disconnect

        async def on_connect() -> None:
            await self._fire("connect", session, config)
            await _maybe_await(connected())

        async def on_join(details: SessionDetails) -> None:
            outcome.joined = True
            await _maybe_await(joined(details))
            await self._set_up(session)
            await self._fire("join", session, details)
            await self._fire("ready", session)
            if self.main is not None:
                await self._run_main(session, outcome)

        async def on_leave(details: CloseDetails) -> None:
            outcome.reason = details.reason
            if not outcome.joined and details.reason not in CLEAN_REASONS:
                self._log("warning", f"session refused: {details.reason} {details.message or ''}")
            await self._fire("leave", session, details)
            await _maybe_await(left(details))

        async def on_disconnect() -> None:
            await _maybe_await(disconnected())
            await self._fire("disconnect", session, outcome.reason in CLEAN_REASONS)

        session.on_connect = on_connect
        session.on_join = on_join
        session.on_leave = on_leave
        session.on_disconnect = on_disconnect
        return session

    async def _run_main(self, session: Any, outcome: Outcome) -> None:
        assert self.main is not None
        try:
            outcome.result = await _maybe_await(self.main(self._main_loop_argument(), session))
        except Exception as exc:
            outcome.error = exc
            session.disconnect()
            return
        outcome.main_done = True
        if session.is_attached():
            session.leave()

    async def _set_up(self, session: Any) -> None:
        """The decorated procedures and handlers, on every join."""
        for fn, uri, options in self.registrations:
            await self._register(session, fn, uri, options)
        for fn, topic, options in self.subscriptions:
            await _maybe_await(session.subscribe(fn, topic, options))

    async def _register(
        self, session: Any, fn: Callable[..., Any], uri: str | None, options: Any
    ) -> None:
        """Register, retrying ``procedure_already_exists`` for a while: just after a
        reconnect the router may not have noticed yet that our previous session died."""
        delays = reregister_delays()
        while True:
            try:
                await _maybe_await(session.register(fn, uri, options))
                return
            except ApplicationError as error:
                delay = next(delays, None)
                if error.error != ApplicationError.PROCEDURE_ALREADY_EXISTS or delay is None:
                    raise
                self._log("info", f"{uri} is still registered (our previous session?): retrying")
                await self._pause(delay)

    async def _fire(self, event: str, *args: Any) -> None:
        for listener in self.listeners(event):
            try:
                await _maybe_await(listener(*args))
            except Exception as exc:
                self._log("error", f"the {event} listener {listener!r} raised {exc!r}")
