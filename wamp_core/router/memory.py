"""Client connections joined to a router in memory: no socket, no event loop.

The test fixture users have asked for, and a way to embed a client beside the router
in one process::

    router = Router(random_bytes=random.Random(1).randbytes)
    network = MemoryNetwork(router)
    alice = Connection.rawsocket("realm1", "msgpack")
    network.attach(alice)
    network.pump()                       # alice is joined now
    alice.session.call("com.example.add", [2, 3])
    network.pump()
    print(alice.events())                # ... Result(...)

The bytes are real RawSocket frames in the client's serializer, moved between the
client's transport and a server transport by :meth:`MemoryNetwork.pump` until
nothing moves any more: every rule of the wire applies.
"""

from __future__ import annotations

from wamp_core.connection import Connection
from wamp_core.router.acceptor import TransportAuth
from wamp_core.router.connection import RouterConnection
from wamp_core.router.router import ANONYMOUS_AUTH, Router
from wamp_core.transports import RawSocketClientTransport
from wamp_core.transports.rawsocket_server import RawSocketServerTransport

__all__ = ["MemoryNetwork"]


class MemoryNetwork:
    """Client :class:`~wamp_core.connection.Connection` objects (RawSocket transports)
    joined to ``router`` over in-memory bytes."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._clients: dict[RouterConnection, Connection] = {}
        self.now = 0.0

    def attach(
        self, client: Connection, *, auth: TransportAuth = ANONYMOUS_AUTH
    ) -> RouterConnection:
        """Serve ``client`` (built with ``Connection.rawsocket``); returns the router's end."""
        if not isinstance(client.transport, RawSocketClientTransport):
            raise TypeError("MemoryNetwork joins RawSocket clients (Connection.rawsocket)")
        transport = RawSocketServerTransport(open_timeout=None, now=self.now)
        server = self.router.connect(transport, auth=auth, now=self.now)
        self._clients[server] = client
        self._deliver(client, server)
        return server

    def pump(self, now: float | None = None, *, max_rounds: int = 10_000) -> int:
        """Move bytes both ways until nothing moves (or ``max_rounds`` rounds have gone:
        two peers that keep talking forever); the time, if given, goes to every timer
        that is due. Returns the number of rounds that moved something."""
        if now is not None:
            self.now = self.router.now = now
            self._timers(now)
        rounds = 0
        while rounds < max_rounds:
            moved = False
            for server, client in list(self._clients.items()):
                moved |= self._deliver(client, server)
            for server in self.router.take_writable():
                peer = self._clients.get(server)
                if peer is not None:
                    moved |= self._to_client(server, peer)
            if not moved:
                break
            rounds += 1
        self._forget_closed()
        return rounds

    def _timers(self, now: float) -> None:
        deadline = self.router.next_deadline()
        if deadline is not None and deadline <= now:
            self.router.handle_timer(now)
        for server, client in self._clients.items():
            for conn in (server, client):
                due = conn.next_deadline()
                if due is not None and due <= now:
                    conn.handle_timer(now)

    def _deliver(self, client: Connection, server: RouterConnection) -> bool:
        data = client.data_to_send()
        if client.closed and not server.closed:
            server.receive_data(data, self.now)
            server.receive_data(b"", self.now)
            return True
        if data:
            server.receive_data(data, self.now)
        return bool(data)

    def _to_client(self, server: RouterConnection, client: Connection) -> bool:
        data = server.data_to_send()
        if data:
            client.receive_data(data, self.now)
        if server.closed and not client.closed:
            client.receive_data(b"", self.now)
            return True
        return bool(data)

    def _forget_closed(self) -> None:
        for server, client in list(self._clients.items()):
            if server.closed and client.closed:
                del self._clients[server]
