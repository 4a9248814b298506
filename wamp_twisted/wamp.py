"""Autobahn's ``autobahn.twisted.wamp`` façade: Application and Service (the sessions
are in :mod:`wamp_twisted.session`, the runner in :mod:`wamp_twisted.runner`)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from twisted.application.service import MultiService
from twisted.internet import defer

from wamp_core.application.app import DEFAULT_URL, ApplicationDecorators
from wamp_core.types import (
    ComponentConfig,
)
from wamp_twisted.runner import ApplicationRunner
from wamp_twisted.session import ApplicationSession, Session

__all__ = ["Application", "Service"]


def _deferred_style(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Generator functions run as inlineCallbacks (Autobahn's Application does that)."""
    if inspect.isgeneratorfunction(fn):
        return defer.inlineCallbacks(fn)
    return fn


class Application(ApplicationDecorators):
    """Autobahn's decorator-style application: procedures, handlers and signals
    collected with ``@app.register``, ``@app.subscribe``, ``@app.signal``; they are
    registered again on every session, so the application survives reconnects."""

    session: Session | None
    session_class = ApplicationSession

    def _wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return _deferred_style(fn)

    def run(
        self,
        url: str = DEFAULT_URL,
        realm: str = "realm1",
        start_reactor: bool = True,
        *,
        auto_reconnect: bool = True,
        reactor: Any = None,
        **runner_options: Any,
    ) -> Any:
        """Connect and run (reconnecting by default, so the application survives a
        router restart; Autobahn's Application gives up instead)."""
        runner = ApplicationRunner(url, realm, **runner_options)
        return runner.run(
            self, start_reactor=start_reactor, auto_reconnect=auto_reconnect, reactor=reactor
        )


class Service(MultiService):
    """A Twisted service that runs ``make(config)`` sessions: it connects when started,
    reconnects while running, and leaves and disconnects when stopped."""

    def __init__(
        self,
        url: str,
        realm: str,
        make: Callable[[ComponentConfig], Session],
        extra: Any = None,
        context_factory: Any = None,
        *,
        reactor: Any = None,
        endpoint: Any = None,
        **runner_options: Any,
    ):
        super().__init__()  # type: ignore[no-untyped-call]
        self.url = url
        self.realm = realm
        self.make = make
        self.extra = extra
        self.context_factory = context_factory
        self.reactor = reactor
        self.endpoint = endpoint
        self.runner_options = runner_options
        self.runner: ApplicationRunner | None = None

    def startService(self) -> None:
        super().startService()  # type: ignore[no-untyped-call]
        self.runner = ApplicationRunner(
            self.url, self.realm, self.extra, ssl=self.context_factory, **self.runner_options
        )
        connected = self.runner.run(
            self.make,
            start_reactor=False,
            auto_reconnect=True,
            endpoint=self.endpoint,
            reactor=self.reactor,
        )
        connected.addErrback(lambda _: None)  # reported by the runner's log

    @defer.inlineCallbacks
    def stopService(self) -> Any:
        runner, self.runner = self.runner, None
        if runner is not None:
            left = runner.shutdown()
            if left is not None:
                yield left
            if runner.done is not None:
                yield runner.done
        yield super().stopService()  # type: ignore[no-untyped-call]
