"""The ``Application`` decorator model (Autobahn's ``autobahn.twisted.wamp.Application``):
procedures, handlers and signals collected by decorators, replayed on every session."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from wamp_core.types import RegisterOptions, SubscribeOptions
from wamp_core.uri import validate_pattern, validate_uri

__all__ = ["DEFAULT_URL", "ApplicationDecorators", "ApplicationModel", "Decorated"]

DEFAULT_URL: Final = "ws://127.0.0.1:8080/ws"
"""Where ``Application.run()`` connects unless told otherwise (both adapters)."""

F = TypeVar("F", bound=Callable[..., Any])
SIGNALS = ("onjoined", "onleave")


@dataclass(frozen=True, slots=True)
class Decorated:
    fn: Callable[..., Any]
    uri: str
    options: RegisterOptions | SubscribeOptions | None


@dataclass
class ApplicationModel:
    """What ``@app.register``, ``@app.subscribe`` and ``@app.signal`` collected."""

    prefix: str | None = None
    procedures: list[Decorated] = field(default_factory=list)
    handlers: list[Decorated] = field(default_factory=list)
    signals: dict[str, list[Callable[..., Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.prefix is not None:
            validate_uri(self.prefix, what="application prefix")

    def uri_for(self, fn: Callable[..., Any], uri: str | None) -> str:
        """An explicit URI as given; else the prefix and the function's name."""
        if uri is not None:
            return uri
        if self.prefix is None:
            raise ValueError(f"{fn.__name__}: no URI given and the application has no prefix")
        return f"{self.prefix}.{fn.__name__}"

    def register(
        self, uri: str | None = None, options: RegisterOptions | None = None
    ) -> Callable[[F], F]:
        def decorator(fn: F) -> F:
            full = self.uri_for(fn, uri)
            validate_pattern(
                full, (options.match if options else None) or "exact", what="procedure"
            )
            self.procedures.append(Decorated(fn, full, options))
            return fn

        return decorator

    def subscribe(
        self, uri: str | None = None, options: SubscribeOptions | None = None
    ) -> Callable[[F], F]:
        def decorator(fn: F) -> F:
            full = self.uri_for(fn, uri)
            validate_pattern(full, (options.match if options else None) or "exact", what="topic")
            self.handlers.append(Decorated(fn, full, options))
            return fn

        return decorator

    def signal(self, name: str) -> Callable[[F], F]:
        if name not in SIGNALS:
            raise ValueError(f"signal must be one of {', '.join(SIGNALS)}, not {name!r}")

        def decorator(fn: F) -> F:
            self.signals.setdefault(name, []).append(fn)
            return fn

        return decorator


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class ApplicationDecorators:
    """What both adapters' ``Application`` share: the prefix and the three decorators,
    collecting into ``self._model``, and what each session does with them
    (:meth:`joined`, :meth:`left`). ``session`` is the joined session, None between
    sessions. An adapter may wrap each decorated function first (``_wrap``:
    Twisted runs generator functions as inlineCallbacks)."""

    session_class: Any = None  # the adapter's ApplicationSession

    def __init__(self, prefix: str | None = None):
        self._model = ApplicationModel(prefix)
        self.session: Any = None

    def __call__(self, config: Any) -> Any:
        """A session for a runner (the application is the runner's session factory)."""
        app = self

        class _AppSession(self.session_class):  # type: ignore[misc,name-defined]
            async def onJoin(self, details: Any) -> None:
                await app.joined(self)

            async def onLeave(self, details: Any) -> None:
                await app.left(self)
                self.disconnect()

        return _AppSession(config)

    def _wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return fn

    async def joined(self, session: Any) -> None:
        """A session joined: register and subscribe everything, then the onjoined signals."""
        self.session = session
        for item in self._model.procedures:
            await _maybe_await(session.register(self._wrap(item.fn), item.uri, item.options))
        for item in self._model.handlers:
            await _maybe_await(session.subscribe(self._wrap(item.fn), item.uri, item.options))
        await self._signal(self._model.signals.get("onjoined", ()))

    async def left(self, session: Any) -> None:
        """The session left: the onleave signals; ``session`` is None until the next join."""
        await self._signal(self._model.signals.get("onleave", ()))
        if self.session is session:
            self.session = None

    async def _signal(self, handlers: Sequence[Callable[..., Any]]) -> None:
        for handler in handlers:
            await _maybe_await(self._wrap(handler)())

    def register(
        self, uri: str | None = None, options: RegisterOptions | None = None
    ) -> Callable[[F], F]:
        return self._model.register(uri, options)

    def subscribe(
        self, uri: str | None = None, options: SubscribeOptions | None = None
    ) -> Callable[[F], F]:
        return self._model.subscribe(uri, options)

    def signal(self, name: str) -> Callable[[F], F]:
        return self._model.signal(name)
