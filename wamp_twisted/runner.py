"""ApplicationRunner: connect a session to a router over an endpoint built from the URL,
and reconnect with the seed's backoff if asked."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from twisted.internet import defer, task
from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.endpoints import (
    HostnameEndpoint,
    TCP4ClientEndpoint,
    TCP6ClientEndpoint,
    UNIXClientEndpoint,
    wrapClientTLS,
)
from twisted.logger import (
    FilteringLogObserver,
    Logger,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogBeginner,
    textFileLogObserver,
)
from twisted.python.failure import Failure

from wamp_core.application import Backoff
from wamp_core.application.proxy import proxy_timeout
from wamp_core.application.runner import RunnerBase, reconnect_loop
from wamp_core.application.url import TransportUrl
from wamp_core.types import ComponentConfig
from wamp_twisted._proxy import ProxyError, TunnelEndpoint, authority, proxy_address
from wamp_twisted.protocol import WampClientFactory, WampProtocol
from wamp_twisted.session import Session

__all__ = ["ApplicationRunner", "ProxyError", "endpoint_for", "start_logging", "tls_options"]

log = Logger(namespace="wamp_twisted")


def endpoint_for(
    target: TransportUrl, reactor: Any, ssl: Any = None, proxy: Mapping[str, Any] | None = None
) -> Any:
    """The client endpoint for a transport URL: TCP (any address family), Unix, or TLS
    around TCP; through an HTTP CONNECT ``proxy`` (``{"host": ..., "port": ...}``) for
    any TCP URL (ws, wss, rs, rss). ``ssl``: None/True verifies the server against the
    system's CAs; else a ``CertificateOptions`` or an ``IOpenSSLClientConnectionCreator``."""
    if target.unix_path is not None:
        if ssl not in (None, False):
            raise ValueError("TLS over a Unix socket is not supported")
        if proxy is not None:
            raise ValueError("an HTTP proxy cannot reach a Unix socket: use proxy=None")
        return UNIXClientEndpoint(reactor, target.unix_path)  # type: ignore[no-untyped-call]
    tls = tls_options(target, ssl)
    if proxy is not None:
        host, port = proxy_address(proxy)
        return TunnelEndpoint(
            tcp_endpoint(reactor, host, port),
            target.host,
            target.port,
            reactor,
            tls,
            timeout=proxy_timeout(proxy),
            proxy_name=authority(host, port),
        )
    endpoint: Any = tcp_endpoint(reactor, target.host, target.port)
    return endpoint if tls is None else wrapClientTLS(tls, endpoint)


def tcp_endpoint(reactor: Any, host: str, port: int) -> Any:
    """TCP to ``host``: an IP address straight (TCP4/TCP6ClientEndpoint), a name through
    HostnameEndpoint (resolved in a thread, then happy eyeballs over its addresses). An
    address needs neither: HostnameEndpoint held ~4 KB more per connection while it
    connected, which 50 connections at once left scattered over the heap (issue 15)."""
    if isIPAddress(host):
        return TCP4ClientEndpoint(reactor, host, port)
    if isIPv6Address(host):
        return TCP6ClientEndpoint(reactor, host, port)  # type: ignore[no-untyped-call]
    return HostnameEndpoint(reactor, host, port)


def tls_options(target: TransportUrl, ssl: Any) -> Any:
    """What TLS runs with for ``target``: None for a plain URL, else ``ssl`` or the
    default options (the system's CAs, the URL's host name checked)."""
    if not target.secure:
        if ssl not in (None, False):
            raise ValueError("ssl given for a URL that is not secure (use wss:// or rss://)")
        return None
    if ssl is None or ssl is True:
        from twisted.internet.ssl import optionsForClientTLS  # noqa: PLC0415 (needs pyOpenSSL)

        return optionsForClientTLS(target.host)
    if ssl is False:
        raise ValueError("a secure URL needs TLS: ssl=False is not allowed")
    return ssl


_observer_started = False


def start_logging(log_level: str | None) -> None:
    """Log to stdout from ``log_level`` up (once per process)."""
    global _observer_started
    if not log_level or _observer_started:
        return
    try:
        level = LogLevel.levelWithName(log_level.lower())
    except Exception:
        raise ValueError(f"unknown log_level {log_level!r}") from None
    predicate: Any = LogLevelFilterPredicate(defaultLogLevel=level)
    text: Any = textFileLogObserver(sys.stdout)
    observer: Any = FilteringLogObserver(text, [predicate])
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)
    _observer_started = True


class ApplicationRunner(RunnerBase):
    """Runs one session at a time against a router (Autobahn's runner, Twisted flavour;
    the settings are wamp_core.application.runner.RunnerBase's).

    ``proxy``: an HTTP proxy as ``{"host": ..., "port": ...}``; the runner tunnels
    through it with CONNECT for every TCP URL (ws, wss, rs, rss; TLS then runs inside
    the tunnel, checking the router's host name). A refusal is a ``ProxyError``."""

    log = Logger()
    session: Session | None = None
    _proto: WampProtocol[Session] | None = None
    _stopping = False
    _waiting: defer.Deferred[None] | None = None
    _leaving: tuple[WampProtocol[Session], defer.Deferred[Any]] | None = None  # by shutdown()
    done: defer.Deferred[None] | None = None  # fires when run()'s loop has ended

    def run(
        self,
        make: Callable[[ComponentConfig], Session],
        start_reactor: bool = True,
        auto_reconnect: bool = False,
        log_level: str | None = "info",
        endpoint: Any = None,
        reactor: Any = None,
    ) -> Any:
        """Connect and run ``make(config)`` sessions. With ``start_reactor`` run the
        reactor until the session ends (or ``stop()``) and re-raise a connection error;
        else return a Deferred that fires with the first protocol.

        Either way, when the reactor shuts down the current session leaves first (GOODBYE,
        ``wamp.close.normal``) and no reconnect follows. Unlike Autobahn, with
        ``start_reactor`` the reactor also stops when the run ends (the session left or
        was lost and is not reconnected), so ``run()`` returns instead of hanging."""
        if reactor is None:
            from twisted.internet import reactor as default_reactor  # noqa: PLC0415

            reactor = default_reactor
        if endpoint is None:
            endpoint = endpoint_for(self.target, reactor, self.ssl, self.proxy)
        self._stopping = False
        connected: defer.Deferred[WampProtocol[Session]] = defer.Deferred()
        done = defer.ensureDeferred(
            self._loop(make, reactor, endpoint, self.backoff if auto_reconnect else None, connected)
        )
        self.done = defer.Deferred()
        done.addBoth(_relay_to, self.done)
        self._leave_on_shutdown(reactor, done)
        if not start_reactor:
            done.addErrback(lambda f: None if connected.called else f)
            return connected
        start_logging(log_level)
        connected.addErrback(lambda _: None)  # the error is re-raised below
        outcome: list[Any] = []
        done.addBoth(outcome.append)
        done.addBoth(lambda _: _stop_reactor(reactor))
        if not outcome:  # still running (an immediate end, even a failure, needs no reactor)
            reactor.run()
        if outcome and isinstance(outcome[0], Failure):
            outcome[0].raiseException()
        return None

    def _leave_on_shutdown(self, reactor: Any, done: defer.Deferred[None]) -> None:
        """While this run goes on, a reactor shutdown leaves the session first (Autobahn
        does it for every connection). One trigger per run, removed when the run ends,
        so none pile up across reconnects or runs."""
        trigger: Any = None

        def fired() -> defer.Deferred[None] | None:
            nonlocal trigger
            trigger = None  # removing a trigger that fired is deprecated in Twisted
            return self.shutdown()

        def ended(result: Any) -> Any:
            if trigger is not None:
                reactor.removeSystemEventTrigger(trigger)
            return result

        trigger = reactor.addSystemEventTrigger("before", "shutdown", fired)
        done.addBoth(ended)

    async def _loop(
        self,
        make: Callable[[ComponentConfig], Session],
        reactor: Any,
        endpoint: Any,
        backoff: Backoff | None,
        connected: defer.Deferred[WampProtocol[Session]],
    ) -> None:
        config = self.session_config()

        async def connect_once() -> bool:
            factory = WampClientFactory(
                lambda: make(config),
                self.target,
                self.realm or "realm1",
                reactor,
                serializers=self.serializers,
                authentication=self.authentication,
                headers=self.headers,
                websocket_options=self.websocket_options,
            )
            proto: WampProtocol[Session] = await endpoint.connect(factory)
            self._proto, self.session = proto, proto.session
            if not connected.called:
                connected.callback(proto)
            await proto.lost
            self._proto = self.session = self._leaving = None
            failed = proto.open_error  # e.g. TLS: the router's certificate is not trusted
            if failed is not None and not self._stopping:
                raise failed
            return proto.session.details is not None

        async def sleep(delay: float) -> None:
            self._waiting = task.deferLater(reactor, delay, lambda: None)
            try:
                await self._waiting
            except defer.CancelledError:
                pass  # stop() or shutdown()
            finally:
                self._waiting = None

        def log(text: str) -> None:
            self.log.info("{text}", text=text)

        try:
            await reconnect_loop(
                connect_once, sleep, log, backoff, lambda: self._stopping, self.random, self.url
            )
        except Exception as exc:
            if not connected.called:
                connected.errback(exc)
            raise

    def stop(self) -> None:
        """Stop reconnecting and close the current session's transport."""
        self._stopping = True
        if self._waiting is not None:
            self._waiting.cancel()
        if self._proto is not None:
            self._proto.session.disconnect()

    def shutdown(self) -> defer.Deferred[None] | None:
        """The reactor stops (or a Service does): leave the session politely, then
        close; no reconnect follows. A second call while the session leaves (a Service
        and the reactor's shutdown both ask) waits for the same end instead of cutting
        the GOODBYE exchange short."""
        self._stopping = True
        if self._waiting is not None:
            self._waiting.cancel()
        proto = self._proto
        if proto is None:
            return None
        if self._leaving is None or self._leaving[0] is not proto:
            if not proto.session.is_attached():
                proto.session.disconnect()
                return None
            left = proto.session.leave()
            left.addBoth(lambda _: proto.session.disconnect())
            self._leaving = (proto, left)
        return _waiter_for(self._leaving[1])


def _waiter_for(running: defer.Deferred[Any]) -> defer.Deferred[None]:
    """A Deferred of its own for each caller, so none changes another's result."""
    waiter: defer.Deferred[None] = defer.Deferred()
    running.addBoth(_relay_to, waiter)
    return waiter


def _relay_to(value: Any, target: defer.Deferred[None]) -> Any:
    target.callback(None)
    return value


def _stop_reactor(reactor: Any) -> None:
    if reactor.running:
        try:
            reactor.stop()
        except Exception:  # stopped already (by the application)
            log.debug("the reactor was stopped already")
