"""The router's connection cap (``Router(max_connections=...)``): one connection more is
refused in its handshake (RawSocket error 4, WebSocket HTTP 503), the cap is reported
once when hit and once when connections are accepted again, refusals pending are
bounded too, and the serving log lines say so."""

from __future__ import annotations

import random

import pytest

from wamp_core.router import (
    CapacityReached,
    CapacityRecovered,
    ConnectionClosed,
    Router,
    RouterConnection,
    RouterEvent,
)
from wamp_core.router.serving import event_line
from wamp_core.transports import RawSocketClientTransport, TransportClosed
from wamp_core.transports.base import HandshakeError
from wamp_core.transports.rawsocket_server import RawSocketServerTransport
from wamp_core.transports.websocket_server import WebSocketServerTransport

HANDSHAKE = RawSocketClientTransport("json").data_to_send()
UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n"
)


def router(limit: int | None) -> Router:
    return Router(random_bytes=random.Random(3).randbytes, max_connections=limit)


def raw(r: Router) -> RouterConnection:
    return r.connect(RawSocketServerTransport(open_timeout=None))


def capacity_events(connection: RouterConnection) -> list[RouterEvent]:
    return [e for e in connection.events() if isinstance(e, CapacityReached | CapacityRecovered)]


def test_no_cap_by_default() -> None:
    r = router(None)
    connections = [raw(r) for _ in range(50)]
    assert r.served == 50 and r.max_connections is None
    for connection in connections:
        connection.receive_data(HANDSHAKE)
        assert connection.data_to_send()[:1] == b"\x7f"  # accepted, not refused
        assert not connection.closed


@pytest.mark.parametrize("limit", [0, -1])
def test_a_cap_is_at_least_one(limit: int) -> None:
    with pytest.raises(ValueError, match="max_connections must be at least 1"):
        router(limit)


def test_over_the_cap_a_rawsocket_client_gets_error_4() -> None:
    r = router(2)
    first, second = raw(r), raw(r)
    refused = raw(r)
    assert r.served == 2 and len(r.connections) == 3
    assert capacity_events(refused) == [CapacityReached(2)]
    refused.receive_data(HANDSHAKE)
    assert refused.data_to_send() == b"\x7f\x40\x00\x00"
    assert refused.closed
    (closed,) = refused.events()
    assert isinstance(closed, ConnectionClosed) and isinstance(closed.error, HandshakeError)
    assert "maximum connection count reached" in str(closed.error)
    assert refused not in r.connections and r.served == 2
    for served in (first, second):
        served.receive_data(HANDSHAKE)
        assert not served.closed


def test_over_the_cap_a_websocket_client_gets_503() -> None:
    r = router(1)
    r.connect(WebSocketServerTransport(paths=("/ws",), open_timeout=None))
    refused = r.connect(WebSocketServerTransport(paths=("/ws",), open_timeout=None))
    refused.receive_data(UPGRADE)
    answer = refused.data_to_send()
    assert answer.startswith(b"HTTP/1.1 503 ")
    assert b"the router is at capacity" in answer
    assert refused.closed


def test_the_cap_is_reported_once_and_its_end_once() -> None:
    r = router(1)
    served = raw(r)
    refusals = [raw(r) for _ in range(3)]
    assert [capacity_events(c) for c in refusals] == [[CapacityReached(1)], [], []]
    served.close()
    assert r.served == 0
    accepted = raw(r)
    assert capacity_events(accepted) == [CapacityRecovered(1)]
    again = raw(r)  # over the cap once more: reported again
    assert capacity_events(again) == [CapacityReached(1)]
    accepted.close()
    assert capacity_events(raw(r)) == [CapacityRecovered(1)]
    assert capacity_events(raw(r)) == [CapacityReached(1)]


def test_refusals_pending_are_bounded_too() -> None:
    """Sockets that never send their handshake could pile up refusals: past as many
    as the cap, a new connection is closed at once, with nothing to answer."""
    r = router(2)
    raw(r), raw(r)
    pending = [raw(r) for _ in range(2)]
    assert not any(c.closed for c in pending)
    dropped = raw(r)
    assert dropped.closed and dropped.data_to_send() == b""
    assert dropped not in r.connections
    assert len(r.connections) == 4 and r.served == 2
    # A pending refusal that ends (here, its client hung up) makes room for another.
    pending[0].receive_data(b"")
    assert pending[0].closed and len(r.connections) == 3
    assert not raw(r).closed


def test_a_refused_connection_that_times_out() -> None:
    r = router(1)
    raw(r)
    refused = r.connect(RawSocketServerTransport(open_timeout=0.5, now=0.0), now=0.0)
    deadline = refused.next_deadline()
    assert deadline == 0.5
    refused.handle_timer(0.5)
    assert refused.closed and r.served == 1 and len(r.connections) == 1


def test_a_router_shutdown_closes_refusals_too() -> None:
    r = router(1)
    raw(r)
    refused = raw(r)
    r.shutdown()
    assert refused.closed and not r.connections


def test_the_log_lines() -> None:
    assert event_line(CapacityReached(5)) == (
        "warning",
        "connection cap of 5 reached: refusing new connections",
    )
    assert event_line(CapacityRecovered(5)) == (
        "info",
        "below the connection cap of 5 again: accepting connections",
    )


def test_our_client_reads_the_refusal() -> None:
    r = router(1)
    raw(r)
    client = RawSocketClientTransport("json")
    refused = raw(r)
    refused.receive_data(client.data_to_send())
    client.receive_data(refused.data_to_send())
    (closed,) = [e for e in client.events() if isinstance(e, TransportClosed)]
    assert "maximum connection count reached" in str(closed.error)
