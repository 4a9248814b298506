"""wamp_twisted's HTTP CONNECT tunnel (wamp_twisted._proxy) on a StringTransport and a
task.Clock: the CONNECT exchange, refusals, bad answers, and the hand-over to the WAMP
protocol (plain, and TLS inside the tunnel)."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import defer, task
from twisted.internet.endpoints import HostnameEndpoint, UNIXClientEndpoint
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.protocols.tls import TLSMemoryBIOProtocol
from twisted.python.failure import Failure

from tests.harness import ROUTER_ROLES
from wamp_core.application.url import parse_url
from wamp_core.messages import Hello, Welcome
from wamp_core.testing.router import ScriptedRouter
from wamp_twisted import ApplicationRunner, Session, WampClientFactory, WampProtocol
from wamp_twisted._proxy import (
    CONNECT_TIMEOUT,
    MAX_PROXY_RESPONSE,
    ProxyError,
    TunnelEndpoint,
    proxy_address,
)
from wamp_twisted.runner import endpoint_for

OK = b"HTTP/1.1 200 Connection established\r\n\r\n"


class FakeProxyEndpoint:
    """Connects every factory at once to a StringTransport (the proxy's socket)."""

    def __init__(self) -> None:
        self.transports: list[StringTransport] = []
        self.protocols: list[Any] = []
        self.factories: list[Any] = []

    def connect(self, factory: Any) -> defer.Deferred[Any]:
        self.factories.append(factory)
        factory.doStart()
        proto = factory.buildProtocol(None)
        transport = StringTransport()
        proto.makeConnection(transport)
        self.transports.append(transport)
        self.protocols.append(proto)
        return defer.succeed(proto)

    @property
    def tunnel(self) -> Any:
        return self.protocols[-1]

    @property
    def transport(self) -> StringTransport:
        return self.transports[-1]


class Recording(Protocol):
    """A protocol inside the tunnel that records what reaches it."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.lost: list[Failure] = []

    def dataReceived(self, data: bytes) -> None:
        self.received.append(data)

    def connectionLost(self, reason: Failure = ConnectionDone()) -> None:  # noqa: B008
        self.lost.append(reason)


def fired(d: defer.Deferred[Any]) -> bool:
    """Has the Deferred a result? (``called`` is True too while it waits on another.)"""
    out: list[Any] = []
    d.addBoth(lambda value: out.append(value) or value)
    return bool(out)


def outcome(d: defer.Deferred[Any]) -> Any:
    """What a Deferred fired with (a Failure for an error); fails if it has not."""
    out: list[Any] = []
    d.addBoth(out.append)
    assert out, "the Deferred has not fired"
    return out[0]


def proxy_error(d: defer.Deferred[Any]) -> str:
    result = outcome(d)
    assert isinstance(result, Failure) and isinstance(result.value, ProxyError), result
    return str(result.value)


def tunnel_to(
    host: str = "router.example", port: int = 8080, tls: Any = None
) -> tuple[TunnelEndpoint, FakeProxyEndpoint, task.Clock]:
    clock = task.Clock()
    proxy = FakeProxyEndpoint()
    endpoint = TunnelEndpoint(proxy, host, port, clock, tls, proxy_name="proxy.test:3128")
    return endpoint, proxy, clock


def wamp_factory(url: str, clock: task.Clock) -> WampClientFactory:
    return WampClientFactory(Session, parse_url(url), "realm1", clock, serializers=["json"])


# ---- the CONNECT exchange


def test_a_websocket_session_joins_through_the_tunnel() -> None:
    endpoint, proxy, clock = tunnel_to("router.example", 8080)
    factory = wamp_factory("ws://router.example:8080/ws", clock)
    d = endpoint.connect(factory)
    assert proxy.transport.value() == (
        b"CONNECT router.example:8080 HTTP/1.1\r\nHost: router.example:8080\r\n\r\n"
    )
    proxy.transport.clear()
    proxy.tunnel.dataReceived(OK[:10])  # the answer may come in pieces
    assert not fired(d) and proxy.transport.value() == b""
    proxy.tunnel.dataReceived(OK[10:])
    proto = outcome(d)
    assert isinstance(proto, WampProtocol) and proto.transport is proxy.transport
    assert proxy.transport.value().startswith(b"GET /ws HTTP/1.1\r\n")

    router = ScriptedRouter("websocket", "json")
    for _ in range(5):  # the router's bytes reach the protocol through the tunnel
        router.receive_data(proxy.transport.value())
        proxy.transport.clear()
        answer = router.data_to_send()
        if answer:
            proxy.tunnel.dataReceived(answer)
    router.expect(Hello)
    router.send(Welcome(7, {"roles": ROUTER_ROLES}))
    proxy.tunnel.dataReceived(router.data_to_send())
    assert proto.session.is_attached() and proto.session.session_id == 7

    proxy.tunnel.connectionLost(Failure(ConnectionDone()))  # the end reaches it too
    assert proto.is_lost and outcome(proto.lost) is None
    assert clock.getDelayedCalls() == []


def test_bytes_after_the_answer_go_to_the_protocol_inside() -> None:
    endpoint, proxy, _ = tunnel_to()
    inner = Recording()
    d = endpoint.connect(Factory.forProtocol(lambda: inner))
    proxy.tunnel.dataReceived(b"HTTP/1.0 200 OK\r\nVia: test\r\n\r\nfirst bytes")
    assert outcome(d) is inner
    proxy.tunnel.dataReceived(b" and more")
    assert inner.received == [b"first bytes", b" and more"]


def test_a_rawsocket_handshake_in_the_same_read_as_the_answer_opens_the_session() -> None:
    endpoint, proxy, clock = tunnel_to()
    factory = wamp_factory("rs://router.example:8080", clock)
    # What the router answers to our RawSocket handshake (the same for every client).
    router = ScriptedRouter("rawsocket", "json")
    probe = wamp_factory("rs://router.example:8080", clock).buildProtocol(None)
    probe_transport = StringTransport()
    probe.makeConnection(probe_transport)
    router.receive_data(probe_transport.value())
    handshake_answer = router.data_to_send()

    d = endpoint.connect(factory)
    proxy.transport.clear()
    proxy.tunnel.dataReceived(OK + handshake_answer)
    proto = outcome(d)
    assert isinstance(proto, WampProtocol)
    # The session saw its transport open: it wrote its handshake, then HELLO.
    second = ScriptedRouter("rawsocket", "json")
    second.receive_data(proxy.transport.value())
    assert [type(m) for m in second.received()] == [Hello]


def test_the_tunnel_connection_ends_the_protocol_inside() -> None:
    endpoint, proxy, _ = tunnel_to()
    inner = Recording()
    endpoint.connect(Factory.forProtocol(lambda: inner))
    proxy.tunnel.dataReceived(OK)
    reason = Failure(ConnectionLost())
    proxy.tunnel.connectionLost(reason)
    assert inner.lost == [reason]


@pytest.mark.parametrize(
    "status",
    [
        b"HTTP/1.1 407 Proxy Authentication Required",
        b"HTTP/1.1 502 Bad Gateway",
        b"HTTP/1.1 2000 Odd",
        b"SSH-2.0-OpenSSH_9.6",
    ],
)
def test_a_refusal_fails_with_the_status_line(status: bytes) -> None:
    endpoint, proxy, clock = tunnel_to()
    factory = wamp_factory("ws://router.example:8080/ws", clock)
    d = endpoint.connect(factory)
    proxy.tunnel.dataReceived(status + b"\r\nContent-Length: 0\r\n\r\n")
    text = proxy_error(d)
    assert repr(status.decode()) in text
    assert "proxy.test:3128" in text and "CONNECT router.example:8080" in text
    assert proxy.transport.disconnecting  # closed by us
    assert factory.session is None  # no WAMP session was made
    assert clock.getDelayedCalls() == []
    proxy.tunnel.dataReceived(b"more")  # whatever still comes is ignored
    proxy.tunnel.connectionLost(Failure(ConnectionDone()))


@pytest.mark.parametrize("status", [b"HTTP/1.0 200 OK", b"HTTP/1.1 204 No Content"])
def test_any_2xx_opens_the_tunnel(status: bytes) -> None:
    endpoint, proxy, _ = tunnel_to()
    inner = Recording()
    d = endpoint.connect(Factory.forProtocol(lambda: inner))
    proxy.tunnel.dataReceived(status + b"\r\n\r\n")
    assert outcome(d) is inner


def test_an_answer_without_end_beyond_the_bound_fails() -> None:
    endpoint, proxy, _ = tunnel_to()
    d = endpoint.connect(Factory.forProtocol(Recording))
    proxy.tunnel.dataReceived(b"HTTP/1.1 200 OK\r\n")
    filler = b"X-Filler: " + b"a" * 1000 + b"\r\n"
    sent = 0
    while not fired(d) and sent <= 2 * MAX_PROXY_RESPONSE:
        proxy.tunnel.dataReceived(filler)
        sent += len(filler)
    assert MAX_PROXY_RESPONSE < sent <= MAX_PROXY_RESPONSE + len(filler)
    assert f"more than {MAX_PROXY_RESPONSE} bytes" in proxy_error(d)
    assert proxy.transport.disconnecting


def test_an_oversized_header_fails_even_when_complete() -> None:
    endpoint, proxy, _ = tunnel_to()
    d = endpoint.connect(Factory.forProtocol(Recording))
    header = b"HTTP/1.1 200 OK\r\nX-Big: " + b"b" * MAX_PROXY_RESPONSE + b"\r\n\r\n"
    proxy.tunnel.dataReceived(header)
    assert f"more than {MAX_PROXY_RESPONSE} bytes" in proxy_error(d)


def test_the_proxy_closing_during_connect_fails() -> None:
    endpoint, proxy, clock = tunnel_to()
    d = endpoint.connect(Factory.forProtocol(Recording))
    proxy.tunnel.dataReceived(b"HTTP/1.1 200")
    proxy.tunnel.connectionLost(Failure(ConnectionDone()))
    assert "closed the connection" in proxy_error(d)
    assert clock.getDelayedCalls() == []


def test_a_proxy_that_does_not_answer_times_out_on_the_clock() -> None:
    endpoint, proxy, clock = tunnel_to()
    d = endpoint.connect(Factory.forProtocol(Recording))
    clock.advance(CONNECT_TIMEOUT - 0.001)
    assert not fired(d)
    clock.advance(0.001)
    assert f"did not answer within {CONNECT_TIMEOUT:g} s" in proxy_error(d)
    assert proxy.transport.disconnecting


def test_canceling_connect_while_the_proxy_answers_aborts() -> None:
    endpoint, proxy, clock = tunnel_to()
    d = endpoint.connect(Factory.forProtocol(Recording))
    d.cancel()
    result = outcome(d)
    assert isinstance(result, Failure) and isinstance(result.value, defer.CancelledError)
    assert proxy.transport.disconnecting
    assert clock.getDelayedCalls() == []


def test_a_factory_that_declines_fails_the_connect() -> None:
    class Declining(Factory):
        def buildProtocol(self, addr: Any) -> None:
            return None

    endpoint, proxy, _ = tunnel_to()
    d = endpoint.connect(Declining())
    proxy.tunnel.dataReceived(OK)
    assert "declined" in proxy_error(d)


def test_an_ipv6_target_is_bracketed() -> None:
    endpoint, proxy, _ = tunnel_to("::1", 8443)
    endpoint.connect(Factory.forProtocol(Recording))
    assert proxy.transport.value().startswith(b"CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443")


def test_the_application_factory_starts_and_stops_with_the_tunnel() -> None:
    events: list[str] = []

    class Tracked(Factory):
        protocol = Recording

        def startFactory(self) -> None:
            events.append("start")

        def stopFactory(self) -> None:
            events.append("stop")

    endpoint, proxy, _ = tunnel_to()
    endpoint.connect(Tracked())
    assert events == ["start"]
    assert proxy.tunnel.factory is proxy.factories[0]
    proxy.factories[0].doStop()  # what the connector does when the connection ends
    assert events == ["start", "stop"]


# ---- TLS inside the tunnel


def test_wss_starts_tls_inside_the_tunnel_with_the_routers_name() -> None:
    from twisted.internet.ssl import optionsForClientTLS

    endpoint, proxy, clock = tunnel_to("router.example", 443, optionsForClientTLS("router.example"))
    d = endpoint.connect(wamp_factory("wss://router.example/ws", clock))
    proxy.transport.clear()
    assert not fired(d)
    proxy.tunnel.dataReceived(OK)
    proto = outcome(d)
    assert isinstance(proto, WampProtocol)  # the application's protocol, not the TLS layer
    assert isinstance(proto.transport, TLSMemoryBIOProtocol)
    hello = proxy.transport.value()
    assert hello[:1] == b"\x16"  # a TLS handshake record: the ClientHello
    assert b"router.example" in hello  # SNI: the router's name, not the proxy's
    assert b"GET /ws" not in hello  # nothing in clear text


# ---- the runner's use of it


def test_endpoint_for_tunnels_every_tcp_url() -> None:
    clock = MemoryReactorClock()
    proxy = {"host": "proxy.test", "port": 3128}
    for url, secure in [
        ("ws://router.example:8080/ws", False),
        ("rs://router.example:8081", False),
        ("wss://router.example/ws", True),
        ("rss://router.example:9443", True),
    ]:
        endpoint = endpoint_for(parse_url(url), clock, None, proxy)
        assert isinstance(endpoint, TunnelEndpoint)
        assert isinstance(endpoint.proxy, HostnameEndpoint)
        assert endpoint.proxy_name == "proxy.test:3128"
        assert endpoint.target.startswith("router.example:")
        assert (endpoint.tls is not None) == secure
    plain = endpoint_for(parse_url("ws+unix:///tmp/ws.sock:/ws"), clock)
    assert isinstance(plain, UNIXClientEndpoint)
    with pytest.raises(ValueError, match="Unix socket"):
        endpoint_for(parse_url("ws+unix:///tmp/ws.sock:/ws"), clock, None, proxy)


def test_the_runner_checks_its_proxy_before_connecting() -> None:
    runner = ApplicationRunner("ws://router.example/ws", "realm1", proxy={"host": "p", "port": "3"})
    assert runner.proxy == {"host": "p", "port": "3"}
    with pytest.raises(ValueError, match="Unix socket"):
        ApplicationRunner("rs+unix:///tmp/rs.sock", "realm1", proxy={"host": "p", "port": 3})
    with pytest.raises(ValueError, match="'port'"):
        ApplicationRunner("ws://router.example/ws", "realm1", proxy={"host": "p"})
    with pytest.raises(ValueError, match="'host'"):
        ApplicationRunner("ws://router.example/ws", "realm1", proxy={"port": 3128})
    with pytest.raises(TypeError):
        ApplicationRunner("ws://r/ws", "realm1", proxy="http://p:3128")  # type: ignore[arg-type]


def test_proxy_address() -> None:
    assert proxy_address({"host": "proxy.test", "port": "3128"}) == ("proxy.test", 3128)
    with pytest.raises(ValueError, match="out of range"):
        proxy_address({"host": "proxy.test", "port": 0})
