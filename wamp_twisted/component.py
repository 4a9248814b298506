"""Autobahn's ``Component`` and ``run()`` on Twisted: ``from autobahn.twisted.component
import Component, run`` ports as ``from wamp_twisted.component import Component, run``.

Everything but connecting, waiting and logging is ``wamp_core.application.component``'s
(shared with wamp_anyio): see there for what it does better than Autobahn's.
``start(reactor)`` returns a Deferred that fires with what ``main`` returned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet import defer, task
from twisted.logger import Logger

from wamp_core.application.component import ComponentBase, LogLevel
from wamp_core.application.transports import TransportConfig
from wamp_core.application.url import parse_url
from wamp_twisted.protocol import WampClientFactory, WampProtocol
from wamp_twisted.runner import endpoint_for, start_logging
from wamp_twisted.session import Session

__all__ = ["Component", "run"]

log = Logger(namespace="wamp_twisted.component")
_LEVELS = {"warning": "warn"}


class Component(ComponentBase):
    """A WAMP application component (Autobahn's constructor, decorators and events)."""

    session_factory: Any = Session

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reactor: Any = None
        self._waiting: defer.Deferred[None] | None = None

    def start(self, reactor: Any = None) -> defer.Deferred[Any]:
        """Connect and run until done (see ComponentBase._run), on ``reactor``."""
        if reactor is None:
            from twisted.internet import reactor as default  # noqa: PLC0415

            reactor = default
        self._reactor = reactor
        return defer.ensureDeferred(self._run(reactor))

    async def _connect_and_run(self, config: TransportConfig, make: Callable[[], Any]) -> None:
        target = parse_url(config.url)
        endpoint = endpoint_for(target, self._reactor, config.tls, config.proxy)
        factory = WampClientFactory(
            make,
            target,
            self.realm,
            self._reactor,
            serializers=config.serializers,
            authentication=self.authentication(),
            headers=config.headers,
            **config.keepalive_options(),
        )
        proto: WampProtocol[Session] = await endpoint.connect(factory)
        await proto.lost
        if proto.open_error is not None:  # e.g. TLS: the router's certificate is not trusted
            raise proto.open_error

    async def _sleep(self, delay: float) -> None:
        self._waiting = task.deferLater(self._reactor, delay, lambda: None)
        try:
            await self._waiting
        except defer.CancelledError:
            pass  # stop() woke us
        finally:
            self._waiting = None

    def _wake(self) -> None:
        if self._waiting is not None:
            self._waiting.cancel()

    async def _pause(self, delay: float) -> None:
        await task.deferLater(self._reactor, delay, lambda: None)

    def _main_loop_argument(self) -> object:
        return self._reactor  # what Autobahn passes main first

    def _log(self, level: LogLevel, text: str) -> None:
        getattr(log, _LEVELS.get(level, level))("{text}", text=text)


def run(
    components: Component | Sequence[Component],
    log_level: str | None = "info",
    stop_at_close: bool = True,
) -> None:
    """Run the reactor with the components until every one is done (Ctrl-C makes them
    leave cleanly first). One that fails is logged and does not stop the others."""
    from twisted.internet import reactor as default  # noqa: PLC0415

    reactor: Any = default
    if isinstance(components, Component):
        components = [components]
    start_logging(log_level)
    done = start_all(list(components), reactor)
    if stop_at_close:
        done.addBoth(lambda _: _stop(reactor))
    reactor.run()


def _stop(reactor: Any) -> None:
    if reactor.running:
        reactor.stop()


def start_all(components: list[Component], reactor: Any) -> defer.Deferred[Any]:
    """Start every component; the Deferred fires once all are done. A reactor shutdown
    stops them first (they leave)."""

    def failed(failure: Any, component: Component) -> None:
        log.failure("component {component!r} failed", failure, component=component)

    running = [c.start(reactor).addErrback(failed, c) for c in components]
    trigger = reactor.addSystemEventTrigger(
        "before", "shutdown", lambda: defer.DeferredList([_stopped(c) for c in components])
    )
    done = defer.DeferredList(running)
    done.addBoth(lambda result: (reactor.removeSystemEventTrigger(trigger), result)[1])
    return done


def _stopped(component: Component) -> defer.Deferred[Any]:
    result = component.stop()
    return result if isinstance(result, defer.Deferred) else defer.succeed(None)
