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

import random as _random
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final, TypeVar

from wamp_core.application.reconnect import ReconnectPlan
from wamp_core.application.transports import TransportConfig, transport_configs
from wamp_core.types import ComponentConfig

__all__ = [
    "CLEAN_REASONS",
    "EVENTS",
    "ComponentBase",
    "reregister_delays",
]

F = TypeVar("F", bound=Callable[..., Any])

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


class ComponentBase:
    """The loop-independent part of ``Component`` (Autobahn's constructor)."""

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
