"""HTTP CONNECT tunnels: an endpoint that reaches the router through an HTTP proxy.

:class:`TunnelEndpoint` connects to the proxy, asks it for a tunnel to the router
(``CONNECT host:port``, RFC 9110 section 9.3.6), reads the proxy's answer (at most
:data:`MAX_PROXY_RESPONSE` bytes, within ``timeout`` seconds), and then runs the
application's protocol inside the tunnel: directly, or behind TLS to the router
(``wss``/``rss``) with the router's host name. The tunnel carries bytes only, so
WebSocket and RawSocket both work through it.

What the proxy sends after its answer's header belongs to the tunnel: it is handed
to the protocol inside (the TLS layer for a secure URL) as the first bytes received.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.python.failure import Failure
from zope.interface import implementer  # type: ignore[import-untyped]

from wamp_core.application.proxy import (
    CONNECT_TIMEOUT,
    MAX_PROXY_RESPONSE,
    ProxyError,
    ProxyHandshake,
    authority,
    proxy_address,
)

__all__ = [
    "CONNECT_TIMEOUT",
    "MAX_PROXY_RESPONSE",
    "ProxyError",
    "TunnelEndpoint",
    "authority",
    "proxy_address",
]


@implementer(IStreamClientEndpoint)
class TunnelEndpoint:
    """Connects through an HTTP proxy to ``host:port`` (see the module docstring).

    ``proxy``: the endpoint of the proxy itself (e.g. a ``HostnameEndpoint``);
    ``tls``: None for a plain tunnel, else what ``TLSMemoryBIOFactory`` takes (an
    ``IOpenSSLClientConnectionCreator`` from ``optionsForClientTLS``, or
    ``CertificateOptions``); ``clock``: the reactor (``task.Clock`` in tests).
    ``connect()`` fires with the application's protocol once the tunnel is open."""

    def __init__(
        self,
        proxy: Any,
        host: str,
        port: int,
        clock: Any,
        tls: Any = None,
        timeout: float = CONNECT_TIMEOUT,
        proxy_name: str = "",
    ):
        self.proxy = proxy
        self.host, self.port = host, port
        self.target = authority(host, port)
        self.clock = clock
        self.tls = tls
        self.timeout = timeout
        self.proxy_name = proxy_name or repr(proxy)

    def connect(self, factory: Any) -> defer.Deferred[Any]:
        tunnels = _TunnelFactory(self, factory)
        connecting: defer.Deferred[Any] = self.proxy.connect(tunnels)
        # When the Deferred is canceled while the proxy answers, the cancel reaches
        # the tunnel's own Deferred (the one the callback returned), which aborts.
        return connecting.addCallback(lambda tunnel: tunnel.established)


class _TunnelFactory(Factory):
    """Builds the one :class:`_Tunnel` of a connect(); starts and stops the
    application's factory along with itself, as an endpoint's factory would."""

    noisy = False

    def __init__(self, endpoint: TunnelEndpoint, wrapped: Any):
        self.endpoint = endpoint
        self.wrapped = wrapped

    def startFactory(self) -> None:
        self.wrapped.doStart()

    def stopFactory(self) -> None:
        self.wrapped.doStop()

    def buildProtocol(self, addr: Any) -> _Tunnel:
        tunnel = _Tunnel(self.endpoint, self.wrapped)
        tunnel.factory = self
        return tunnel


class _Tunnel(Protocol):
    """The proxy connection: the CONNECT exchange (wamp_core's ProxyHandshake), then a
    pipe to the protocol inside.

    The protocol inside writes to the TCP transport directly; this one passes it
    what it receives and the connection's end."""

    def __init__(self, endpoint: TunnelEndpoint, wrapped: Any):
        self.endpoint = endpoint
        self.wrapped = wrapped
        self.established: defer.Deferred[Any] = defer.Deferred(self._cancel)
        self.inner: Any = None  # the protocol the tunnel carries
        self._handshake: ProxyHandshake | None = None
        self._timer: Any = None

    # ---- the CONNECT exchange

    def connectionMade(self) -> None:
        endpoint = self.endpoint
        self._handshake = ProxyHandshake(
            endpoint.host,
            endpoint.port,
            now=endpoint.clock.seconds(),
            timeout=endpoint.timeout,
            proxy_name=endpoint.proxy_name,
        )
        self._write(self._handshake.request())
        self._timer = endpoint.clock.callLater(endpoint.timeout, self._timed_out)

    def dataReceived(self, data: bytes) -> None:
        if self.inner is not None:
            self.inner.dataReceived(data)
            return
        handshake = self._handshake
        if self.established.called or handshake is None:
            return  # failed already: the connection is closing
        try:
            opened = handshake.receive_data(data)
        except ProxyError as error:
            self._fail(error)
            return
        if opened:
            self._open(handshake.leftover)

    def connectionLost(self, reason: Failure | None = None) -> None:
        self._stop_timer()
        if self.inner is not None:
            self.inner.connectionLost(reason)
        elif not self.established.called:
            handshake = self._handshake
            assert handshake is not None
            try:
                handshake.receive_data(b"")
            except ProxyError as error:
                self.established.errback(error)

    # ---- the tunnel is open

    def _open(self, rest: bytes) -> None:
        """Start the protocol inside the tunnel (behind TLS for a secure URL) and
        hand it what already came after the proxy's answer."""
        self._stop_timer()
        factory: Any = self.wrapped
        if self.endpoint.tls is not None:
            factory = TLSMemoryBIOFactory(
                self.endpoint.tls, True, factory, clock=self.endpoint.clock
            )
        transport: Any = self.transport
        inner = factory.buildProtocol(transport.getPeer())
        if inner is None:
            assert self._handshake is not None
            self._fail(
                self._handshake.error("opened the tunnel, but the protocol factory declined it")
            )
            return
        self.inner = inner
        inner.makeConnection(transport)
        app = getattr(inner, "wrappedProtocol", inner) if self.endpoint.tls else inner
        self.established.callback(app)
        if rest and not transport.disconnecting:
            inner.dataReceived(rest)

    # ---- failures

    def _fail(self, error: ProxyError) -> None:
        self._stop_timer()
        transport: Any = self.transport
        transport.abortConnection()
        if not self.established.called:
            self.established.errback(error)

    def _timed_out(self) -> None:
        self._timer = None
        assert self._handshake is not None
        self._fail(self._handshake.timed_out())

    def _cancel(self, _: defer.Deferred[Any]) -> None:
        """connect() was canceled while the proxy had not answered yet."""
        self._stop_timer()
        transport: Any = self.transport
        if transport is not None:
            transport.abortConnection()

    def _stop_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _write(self, data: bytes) -> None:
        transport: Any = self.transport
        transport.write(data)
