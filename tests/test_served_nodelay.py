"""The served router's TCP connections have Nagle's algorithm off (TCP_NODELAY), under
asyncio, trio and Twisted, over RawSocket and WebSocket: with it on, a message written
while an earlier one was not yet acknowledged waited for the peer's delayed ACK (40 ms
on Linux): a call to a callee that had just received an event took 40 ms more
(benchmarks/flood.py found it). White box: the server's accepted sockets are read from
its per-connection state."""

from __future__ import annotations

import socket
from typing import Any

import anyio
import pytest

import wamp_anyio
from tests.integration import twisted_client
from tests.test_twisted_serve import reactor_thread, run, serving  # noqa: F401 (fixtures)
from wamp_anyio import Listen
from wamp_anyio.serve import Server
from wamp_anyio.serve import _Peer as Peer
from wamp_twisted.serve import Listen as TwistedListen

LISTENS = [Listen("rawsocket", port=0), Listen("websocket", port=0)]


def _no_delay(sock: Any) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def _peer_sockets(server: Server) -> list[Any]:
    peers: list[Peer] = list(server._peers.values())
    return [peer.stream.extra(anyio.abc.SocketAttribute.raw_socket) for peer in peers]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_anyio_router_connections_have_nagle_off(anyio_backend: str) -> None:
    with anyio.fail_after(20):
        async with wamp_anyio.serve(LISTENS) as server:
            rs, ws = server.urls[:2]
            async with wamp_anyio.connect(rs, "realm1"), wamp_anyio.connect(ws, "realm1"):
                sockets = _peer_sockets(server)
                assert len(sockets) == 2
                assert all(_no_delay(sock) for sock in sockets)


def test_twisted_router_connections_have_nagle_off(run: Any) -> None:  # noqa: F811
    async def scenario() -> list[bool]:
        listens = [TwistedListen("rawsocket", port=0), TwistedListen("websocket", port=0)]
        async with serving(listens) as service:
            rs, ws = service.urls[:2]
            async with (
                twisted_client.connect(rs, realm="realm1"),
                twisted_client.connect(ws, realm="realm1"),
            ):
                transports: list[Any] = [p.transport for p in service.protocols.values()]
                return [_no_delay(transport.getHandle()) for transport in transports]

    assert run(scenario) == [True, True]
