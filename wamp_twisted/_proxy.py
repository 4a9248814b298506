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

from collections.abc import Mapping
from typing import Any

from twisted.internet import defer
from twisted.internet.error import ConnectError
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.python.failure import Failure
from zope.interface import implementer  # type: ignore[import-untyped]

__all__ = [
    "CONNECT_TIMEOUT",
    "MAX_PROXY_RESPONSE",
    "ProxyError",
    "TunnelEndpoint",
    "proxy_address",
]

MAX_PROXY_RESPONSE = 16 * 1024  # bytes of the proxy's answer header we read at most
CONNECT_TIMEOUT = 30.0  # seconds for the proxy to answer CONNECT

_END_OF_HEADER = b"\r\n\r\n"


class ProxyError(ConnectError):
    """The HTTP proxy refused or botched the CONNECT (a ``ConnectError``, so the
    runner retries it like any other connection failure)."""

    MESSAGE = "HTTP proxy error"

    def __init__(self, message: str):
        super().__init__(string=message)  # type: ignore[no-untyped-call]
        self.message = message

    def __str__(self) -> str:
        return self.message


def proxy_address(proxy: Mapping[str, Any]) -> tuple[str, int]:
    """``(host, port)`` of Autobahn's ``proxy`` argument, a dict with ``host`` and ``port``."""
    if not isinstance(proxy, Mapping):
        raise TypeError(f"proxy must be a dict with 'host' and 'port', got {proxy!r}")
    host, port = proxy.get("host"), proxy.get("port")
    if not isinstance(host, str) or not host:
        raise ValueError(f"proxy needs a 'host' (a non-empty string), got {host!r}")
    try:
        number = int(port)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"proxy needs a 'port' (an integer), got {port!r}") from None
    if not 0 < number < 65536:
        raise ValueError(f"proxy port out of range: {number}")
    return host, number


def authority(host: str, port: int) -> str:
    """``host:port`` as CONNECT's request target (IPv6 addresses in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


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
    """The proxy connection: CONNECT, then a pipe to the protocol inside.

    The protocol inside writes to the TCP transport directly; this one passes it
    what it receives and the connection's end."""

    def __init__(self, endpoint: TunnelEndpoint, wrapped: Any):
        self.endpoint = endpoint
        self.wrapped = wrapped
        self.established: defer.Deferred[Any] = defer.Deferred(self._cancel)
        self.inner: Any = None  # the protocol the tunnel carries
        self._answer = b""
        self._timer: Any = None

    # ---- the CONNECT exchange

    def connectionMade(self) -> None:
        target = self.endpoint.target
        request = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n"
        self._write(request.encode("ascii"))
        self._timer = self.endpoint.clock.callLater(self.endpoint.timeout, self._timed_out)

    def dataReceived(self, data: bytes) -> None:
        if self.inner is not None:
            self.inner.dataReceived(data)
            return
        if self.established.called:
            return  # failed already: the connection is closing
        self._answer += data
        head, found, rest = self._answer.partition(_END_OF_HEADER)
        if not found or len(head) > MAX_PROXY_RESPONSE:
            if len(self._answer) > MAX_PROXY_RESPONSE:
                self._fail(f"answered CONNECT with more than {MAX_PROXY_RESPONSE} bytes of header")
            return  # else wait for the rest of the header
        self._answer = b""
        status = head.split(b"\r\n", 1)[0]
        if not _is_success(status):
            self._fail(f"refused the tunnel: {status.decode('latin-1')!r}")
            return
        self._open(rest)

    def connectionLost(self, reason: Failure | None = None) -> None:
        self._stop_timer()
        if self.inner is not None:
            self.inner.connectionLost(reason)
        elif not self.established.called:
            self.established.errback(ProxyError(self._say("closed the connection")))

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
            self._fail("opened the tunnel, but the protocol factory declined it")
            return
        self.inner = inner
        inner.makeConnection(transport)
        app = getattr(inner, "wrappedProtocol", inner) if self.endpoint.tls else inner
        self.established.callback(app)
        if rest and not transport.disconnecting:
            inner.dataReceived(rest)

    # ---- failures

    def _fail(self, text: str) -> None:
        self._stop_timer()
        transport: Any = self.transport
        transport.abortConnection()
        if not self.established.called:
            self.established.errback(ProxyError(self._say(text)))

    def _timed_out(self) -> None:
        self._timer = None
        self._fail(f"did not answer within {self.endpoint.timeout:g} s")

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

    def _say(self, text: str) -> str:
        """The error text: which proxy, which tunnel, what happened."""
        return f"HTTP proxy {self.endpoint.proxy_name} (CONNECT {self.endpoint.target}) {text}"


def _is_success(status_line: bytes) -> bool:
    """``HTTP/1.x 2xx ...``: the tunnel is open (RFC 9110: any 2xx to CONNECT)."""
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        return False
    code = parts[1]
    return len(code) == 3 and code.isdigit() and code.startswith(b"2")
