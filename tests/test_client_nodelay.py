"""The client's TCP connections have Nagle's algorithm off (TCP_NODELAY), as Autobahn's
clients set it: with it on, a small message written while an earlier one is not yet
acknowledged waits for the peer's delayed ACK (~40 ms on Linux). wamp_anyio on asyncio
and trio, wamp_twisted (ApplicationRunner and Component), over RawSocket and
WebSocket; a Unix socket (which has no such option) still connects. White box: the
socket is read from the joined session's transport."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import anyio
import pytest
from twisted.internet import defer

import wamp_anyio
from tests.integration import twisted_client
from tests.test_twisted_serve import reactor_thread, run, serving  # noqa: F401 (fixtures)
from wamp_anyio import Listen
from wamp_core.types import SessionDetails
from wamp_twisted.component import Component
from wamp_twisted.serve import Listen as TwistedListen


def _no_delay(sock: Any) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def _anyio_socket(session: wamp_anyio.Session) -> Any:
    driver = session._driver
    assert driver is not None
    return driver.stream.extra(anyio.abc.SocketAttribute.raw_socket)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_anyio_client_connections_have_nagle_off(anyio_backend: str) -> None:
    listens = [Listen("rawsocket", port=0), Listen("websocket", port=0)]
    with anyio.fail_after(20):
        async with wamp_anyio.serve(listens) as server:
            for url in server.urls[:2]:
                async with wamp_anyio.connect(url, "realm1") as session:
                    sock = _anyio_socket(session)
                    assert sock.family in (socket.AF_INET, socket.AF_INET6)
                    assert _no_delay(sock), url


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_anyio_client_over_a_unix_socket(anyio_backend: str, short_tmp: Path) -> None:
    path = str(short_tmp / "rs.sock")
    with anyio.fail_after(20):
        async with wamp_anyio.serve([Listen("rawsocket", unix=path)]) as server:
            url = server.urls[0]
            async with wamp_anyio.connect(url, "realm1") as session:
                assert _anyio_socket(session).family == socket.AF_UNIX


def _twisted_socket(session: Any) -> Any:
    return session._proto.transport.getHandle()


def test_twisted_runner_connections_have_nagle_off(run: Any, short_tmp: Path) -> None:  # noqa: F811
    async def scenario() -> list[tuple[int, bool]]:
        listens = [
            TwistedListen("rawsocket", port=0),
            TwistedListen("websocket", port=0),
            TwistedListen("rawsocket", unix=str(short_tmp / "rs.sock")),
        ]
        found = []
        async with serving(listens) as service:
            for url in service.urls:
                async with twisted_client.connect(url) as session:
                    sock = _twisted_socket(session)
                    tcp = sock.family != socket.AF_UNIX
                    found.append((sock.family, _no_delay(sock) if tcp else True))
        return found

    found = run(scenario)
    assert [family for family, _ in found[:2]] in (
        [socket.AF_INET, socket.AF_INET],
        [socket.AF_INET6, socket.AF_INET6],
    )
    assert found[2][0] == socket.AF_UNIX
    assert all(no_delay for _, no_delay in found)


def test_twisted_component_connections_have_nagle_off(run: Any) -> None:  # noqa: F811
    async def scenario() -> bool:
        async with serving([TwistedListen("rawsocket", port=0)]) as service:
            component = Component(transports=service.urls[0], realm="realm1")
            joined: defer.Deferred[bool] = defer.Deferred()

            @component.on_join
            def check(session: Any, details: SessionDetails) -> Any:
                joined.callback(_no_delay(_twisted_socket(session)))
                return session.leave()

            from twisted.internet import reactor

            done = component.start(reactor)
            result = await joined
            await done
            return result

    assert run(scenario) is True
