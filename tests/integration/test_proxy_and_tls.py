"""HTTP CONNECT proxies and TLS against a real Crossbar.io node.

* wamp_anyio: ``connect(url, realm, proxy=...)`` over ws and wss through the
  test proxy (:mod:`tests.integration.http_proxy`), under asyncio and trio.
* wamp_twisted: ``ApplicationRunner(..., proxy=...)`` over ws, wss, rs and rss
  through the proxy; a proxy's refusal; TLS (wss, rss) trusting the node's CA, as
  ``optionsForClientTLS`` and as ``CertificateOptions``; an untrusted certificate
  refused by default; cryptosign with TLS channel binding (tls-unique) over wss
  and rss, and a wrong binding refused by the router.

Twisted scenarios run in the reactor thread of ``twisted_reactor.py`` (one per
process); each is an ``async def`` that the test hands over and waits for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from twisted.internet import defer

from tests.integration.crossbar_node import CrossbarNode
from tests.integration.http_proxy import HttpConnectProxy
from tests.integration.twisted_reactor import ReactorThread
from wamp_core.application.url import parse_url
from wamp_core.exception import ApplicationError, TransportLost
from wamp_core.types import CloseDetails, ComponentConfig, SessionDetails

pytestmark = pytest.mark.integration

REALM = "realm1"
TIMEOUT = 15.0  # seconds for any one test; they take well under one


@pytest.fixture
def http_proxy() -> Iterator[HttpConnectProxy]:
    with HttpConnectProxy() as proxy:
        yield proxy


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def reactor_thread() -> Iterator[ReactorThread]:
    thread = ReactorThread.shared()
    yield thread
    thread.stop()


@pytest.fixture
def run(reactor_thread: ReactorThread) -> Callable[..., Any]:
    """``run(scenario, *args)``: the scenario in the reactor thread, within TIMEOUT."""
    return functools.partial(reactor_thread.run, timeout=TIMEOUT)


def target_of(url: str) -> str:
    """``host:port`` of a URL: what the proxy records for its tunnel."""
    parsed = parse_url(url)
    return f"{parsed.host}:{parsed.port}"


def cryptosign_credentials(node: CrossbarNode) -> dict[str, Any]:
    alice = node.principals["cryptosign"]
    return {
        "cryptosign": {
            "authid": alice["authid"],
            "privkey": alice["private_seed_hex"],
            "channel_binding": "tls-unique",
        }
    }


# ---- wamp_anyio through the proxy


@pytest.mark.anyio
@pytest.mark.parametrize("endpoint", ["ws", "wss"])
async def test_anyio_through_the_proxy(
    crossbar: CrossbarNode, http_proxy: HttpConnectProxy, endpoint: str
) -> None:
    from wamp_anyio import connect

    url = crossbar.urls[endpoint]
    secure = endpoint == "wss"
    with anyio.fail_after(TIMEOUT):
        async with connect(
            url,
            REALM,
            ssl=crossbar.ssl_context() if secure else None,
            proxy=http_proxy.address,
        ) as session:
            info = await session.call("wamp.session.get", session.session_id)
    transport = info["transport"]
    assert (transport["channel_framing"], transport["is_secure"]) == ("websocket", secure)
    assert http_proxy.tunnels == [target_of(url)]


@pytest.mark.anyio
async def test_anyio_proxy_refusal_is_a_clear_error(crossbar: CrossbarNode) -> None:
    from wamp_anyio import connect
    from wamp_anyio._streams import ProxyError

    with HttpConnectProxy(refuse="407 Proxy Authentication Required") as proxy:
        with anyio.fail_after(TIMEOUT), pytest.raises(ProxyError, match="407"):
            async with connect(crossbar.ws_url, REALM, proxy=proxy.address):
                pytest.fail("connected through a proxy that refused")
        assert proxy.tunnels == [] and len(proxy.requests) == 1


# ---- wamp_twisted: scenarios (run in the reactor thread)


def _make_app() -> type[Any]:
    from wamp_twisted import ApplicationSession

    class App(ApplicationSession):
        """Reports its join, or why there was none."""

        def __init__(self, config: ComponentConfig | None = None) -> None:
            super().__init__(config)
            self.joined: defer.Deferred[SessionDetails] = defer.Deferred()
            self.refusal: ApplicationError | None = None

        def onJoin(self, details: SessionDetails) -> None:
            self.joined.callback(details)

        def onLeave(self, details: CloseDetails) -> None:
            if not self.joined.called:
                self.refusal = ApplicationError(details.reason or "", details.message)
            self.disconnect()

    return App


def _when_fired(d: defer.Deferred[Any]) -> defer.Deferred[None]:
    """A Deferred that fires when ``d`` does, leaving ``d``'s own result alone."""
    out: defer.Deferred[None] = defer.Deferred()

    def relay(result: Any) -> Any:
        if not out.called:
            out.callback(None)
        return result

    d.addBoth(relay)
    return out


async def _joined(url: str, **options: Any) -> tuple[Any, Any]:
    """A joined session (and its protocol) from ApplicationRunner; raises why not."""
    from wamp_twisted import ApplicationRunner

    runner = ApplicationRunner(url, REALM, **options)
    proto = await runner.run(_make_app(), start_reactor=False)
    session = proto.session
    await defer.DeferredList(
        [_when_fired(session.joined), _when_fired(proto.lost)], fireOnOneCallback=True
    )
    if session.details is None:
        if proto.open_error is not None:
            raise proto.open_error
        if session.refusal is not None:
            raise session.refusal
        raise TransportLost("the transport closed before the session joined")
    return session, proto


async def _close(session: Any, proto: Any) -> None:
    if session.is_attached():
        await session.leave()
    session.disconnect()
    await _when_fired(proto.lost)


async def _session_info(url: str, **options: Any) -> dict[str, Any]:
    """Join, ask the router about our own session, leave; the router's answer."""
    session, proto = await _joined(url, **options)
    try:
        info: dict[str, Any] = await session.call("wamp.session.get", session.session_id)
        info["details"] = session.details
        return info
    finally:
        await _close(session, proto)


def _trusting(node_ca: Path, host: str, form: str) -> Any:
    """Twisted TLS options that trust the node's CA (and nothing else)."""
    from twisted.internet.ssl import Certificate, CertificateOptions, optionsForClientTLS

    ca = Certificate.loadPEM(node_ca.read_bytes())
    if form == "optionsForClientTLS":
        return optionsForClientTLS(host, trustRoot=ca)
    return CertificateOptions(trustRoot=ca)  # checks the chain, not the host name


async def _through_proxy(url: str, proxy: dict[str, Any], ca: str | None) -> dict[str, Any]:
    ssl = _trusting(Path(ca), parse_url(url).host, "optionsForClientTLS") if ca else None
    info = await _session_info(url, proxy=proxy, ssl=ssl)
    transport: dict[str, Any] = info["transport"]
    return transport


async def _proxy_refusal(url: str, proxy: dict[str, Any]) -> str:
    from wamp_twisted.runner import ProxyError

    try:
        await _joined(url, proxy=proxy)
    except ProxyError as exc:
        return str(exc)
    raise AssertionError("connected through a proxy that refused")


async def _tls(url: str, ca: str, form: str) -> dict[str, Any]:
    info = await _session_info(url, ssl=_trusting(Path(ca), parse_url(url).host, form))
    transport: dict[str, Any] = info["transport"]
    return transport


async def _untrusted(url: str) -> BaseException:
    try:
        await _joined(url)  # the system's CAs only
    except Exception as exc:
        return exc
    raise AssertionError("joined a router whose certificate nobody trusts")


async def _channel_binding(url: str, ca: str, authentication: dict[str, Any]) -> SessionDetails:
    ssl = _trusting(Path(ca), parse_url(url).host, "optionsForClientTLS")
    info = await _session_info(url, ssl=ssl, authentication=authentication)
    details: SessionDetails = info["details"]
    return details


async def _wrong_channel_binding(url: str, ca: str, authentication: dict[str, Any]) -> str:
    """The session binds its signature to another channel: the router must refuse."""
    from wamp_twisted import ApplicationRunner

    ssl = _trusting(Path(ca), parse_url(url).host, "optionsForClientTLS")
    runner = ApplicationRunner(url, REALM, ssl=ssl, authentication=authentication)
    proto = await runner.run(_make_app(), start_reactor=False)
    # Set before the TLS handshake completes (it needs the router's answers).
    assert proto.connection.session.channel_id is None
    proto.handshakeCompleted = lambda: setattr(proto.connection.session, "channel_id", b"\0" * 12)
    await _when_fired(proto.lost)
    session = proto.session
    assert session.details is None and session.refusal is not None
    return str(session.refusal.error)


# ---- wamp_twisted: the tests


@pytest.mark.parametrize("endpoint", ["ws", "wss", "rs", "rss"])
def test_twisted_through_the_proxy(
    crossbar: CrossbarNode, http_proxy: HttpConnectProxy, run: Any, endpoint: str
) -> None:
    url = crossbar.urls[endpoint]
    secure = endpoint in ("wss", "rss")
    ca = str(crossbar.ca_file) if secure else None
    transport = run(_through_proxy, url, http_proxy.address, ca)
    framing = "websocket" if endpoint.startswith("ws") else "rawsocket"
    assert (transport["channel_framing"], transport["is_secure"]) == (framing, secure)
    assert http_proxy.tunnels == [target_of(url)]


@pytest.mark.parametrize(
    "status", ["407 Proxy Authentication Required", "502 Bad Gateway"], ids=["407", "502"]
)
def test_twisted_proxy_refusal_is_a_clear_error(
    crossbar: CrossbarNode, run: Any, status: str
) -> None:
    with HttpConnectProxy(refuse=status) as proxy:
        text = run(_proxy_refusal, crossbar.wss_url, proxy.address)
        assert proxy.tunnels == [] and len(proxy.requests) == 1
    assert f"'HTTP/1.1 {status}'" in text and target_of(crossbar.wss_url) in text


@pytest.mark.parametrize(
    ("endpoint", "form"),
    [
        ("wss", "optionsForClientTLS"),
        ("rss", "optionsForClientTLS"),
        ("wss", "CertificateOptions"),
    ],
)
def test_twisted_tls_trusting_the_nodes_ca(
    crossbar: CrossbarNode, run: Any, endpoint: str, form: str
) -> None:
    transport = run(_tls, crossbar.urls[endpoint], str(crossbar.ca_file), form)
    assert transport["is_secure"] is True


@pytest.mark.parametrize("endpoint", ["wss", "rss"])
def test_twisted_untrusted_certificate_is_refused(
    crossbar: CrossbarNode, run: Any, endpoint: str
) -> None:
    from OpenSSL.SSL import Error as TlsError

    error = run(_untrusted, crossbar.urls[endpoint])
    assert isinstance(error, TlsError), error
    assert "certificate verify failed" in str(error)


@pytest.mark.parametrize("endpoint", ["wss", "rss"])
def test_twisted_cryptosign_with_tls_channel_binding(
    crossbar: CrossbarNode, run: Any, endpoint: str
) -> None:
    credentials = cryptosign_credentials(crossbar)
    details = run(_channel_binding, crossbar.urls[endpoint], str(crossbar.ca_file), credentials)
    assert (details.authid, details.authmethod) == ("alice", "cryptosign")


def test_twisted_cryptosign_with_a_wrong_channel_binding_is_refused(
    crossbar: CrossbarNode, run: Any
) -> None:
    credentials = cryptosign_credentials(crossbar)
    reason = run(_wrong_channel_binding, crossbar.wss_url, str(crossbar.ca_file), credentials)
    assert reason in (ApplicationError.NOT_AUTHORIZED, ApplicationError.AUTHENTICATION_FAILED)
