"""Shared set-up for the router tests: a router with a seeded random source, our client
``Connection`` objects joined to it in memory, and a raw peer that sends hand-made
messages (what our client would refuse to send)."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any, TypeVar

from wamp_core.connection import Connection
from wamp_core.messages import Authenticate, Challenge, Hello, Message, Welcome
from wamp_core.router import ANONYMOUS_AUTH, MemoryNetwork, RealmConfig, Router, RouterConnection
from wamp_core.router.acceptor import TransportAuth
from wamp_core.serializers import get_serializer
from wamp_core.transports import MessageReceived, RawSocketClientTransport

E = TypeVar("E")

CLIENT_ROLES: dict[str, Any] = {
    "caller": {"features": {"call_canceling": True, "progressive_call_results": True}},
    "callee": {
        "features": {
            "call_canceling": True,
            "progressive_call_results": True,
            "registration_revocation": True,
        }
    },
    "publisher": {"features": {}},
    "subscriber": {"features": {"subscription_revocation": True}},
}


class Client:
    """Our client Connection on the network, with its events kept in order."""

    def __init__(self, net: Net, conn: Connection, server: RouterConnection) -> None:
        self.net = net
        self.conn = conn
        self.server = server
        self.seen: list[Any] = []

    @property
    def session(self) -> Any:
        return self.conn.session

    def events(self) -> list[Any]:
        """The events since the last call (after pumping the network)."""
        self.net.pump()
        new = self.conn.events()
        self.seen.extend(new)
        return new

    def only(self, kind: type[E]) -> list[E]:
        return [e for e in self.events() if isinstance(e, kind)]


class RawPeer:
    """A RawSocket client speaking messages we build by hand (no client session)."""

    def __init__(self, net: Net, serializer: str = "json", *, auth: TransportAuth) -> None:
        self.net = net
        self.transport = RawSocketClientTransport(serializer)
        self.serializer = get_serializer(serializer)
        self.server = net.router.connect(self._server_transport(), auth=auth)
        net.raw.append(self)
        self.received: list[Message] = []
        self.closed = False
        net.pump()  # the RawSocket handshake
        assert self.transport.is_open

    @staticmethod
    def _server_transport() -> Any:
        from wamp_core.transports.rawsocket_server import RawSocketServerTransport

        return RawSocketServerTransport(open_timeout=None)

    def send(self, *messages: Message) -> None:
        for message in messages:
            self.transport.send_message(self.serializer.encode(message))
        self.net.pump()

    def send_bytes(self, payload: bytes) -> None:
        self.transport.send_message(payload)
        self.net.pump()

    def move(self) -> bool:
        moved = False
        data = self.transport.data_to_send()
        if data:
            self.server.receive_data(data)
            moved = True
        back = self.server.data_to_send()
        if back:
            self.transport.receive_data(back)
            moved = True
        for event in self.transport.events():
            if isinstance(event, MessageReceived):
                self.received.extend(self.serializer.decode(event.data))
        if self.server.closed and not self.closed:
            self.closed = True
            moved = True
        return moved

    def take(self) -> list[Message]:
        self.net.pump()
        received, self.received = self.received, []
        return received

    def join(self, realm: str = "realm1", **details: Any) -> Welcome:
        details.setdefault("roles", CLIENT_ROLES)
        self.send(Hello(realm, details))
        (welcome,) = self.take()
        assert isinstance(welcome, Welcome), welcome
        return welcome


class Net:
    """A router and its in-memory clients."""

    def __init__(self, realms: Iterable[RealmConfig] = (RealmConfig("realm1"),), **kw: Any) -> None:
        self.router = Router(realms, random_bytes=random.Random(7).randbytes, **kw)
        self.network = MemoryNetwork(self.router)
        self.raw: list[RawPeer] = []

    def pump(self, now: float | None = None) -> None:
        for _ in range(1000):
            self.network.pump(now)
            now = None
            moved = [peer.move() for peer in self.raw]  # every peer moves, not just the first
            if not any(moved):
                break
        self.network.pump()

    def client(
        self,
        realm: str = "realm1",
        serializer: str = "msgpack",
        *,
        auth: TransportAuth = ANONYMOUS_AUTH,
        join: bool = True,
        **session_options: Any,
    ) -> Client:
        conn = Connection.rawsocket(realm, serializer, **session_options)
        server = self.network.attach(conn, auth=auth)
        client = Client(self, conn, server)
        if join:
            client.events()
        return client

    def raw_peer(
        self, serializer: str = "json", *, auth: TransportAuth = ANONYMOUS_AUTH
    ) -> RawPeer:
        return RawPeer(self, serializer, auth=auth)

    def assert_empty(self) -> None:
        for realm in self.router.realms.values():
            assert realm.is_empty(), realm
        assert not self.router.live_session_ids


def joined(net: Net, authid: str | None = None, role: str = "anonymous", **kw: Any) -> RawPeer:
    """A raw peer joined with ``role``: anonymously, or with ``authid`` by ticket (an
    anonymous client cannot choose its authid)."""
    if authid is None:
        peer = net.raw_peer(auth={"anonymous": {"type": "static", "role": role}})
        peer.join(**kw)
        return peer
    principal = {"ticket": "secret", "role": role}
    peer = net.raw_peer(auth={"ticket": {"type": "static", "principals": {authid: principal}}})
    kw.setdefault("roles", CLIENT_ROLES)
    peer.send(Hello("realm1", {"authmethods": ["ticket"], "authid": authid, **kw}))
    (challenge,) = peer.take()
    assert isinstance(challenge, Challenge), challenge
    peer.send(Authenticate("secret", {}))
    (welcome,) = peer.take()
    assert isinstance(welcome, Welcome), welcome
    return peer


def session_id(peer: RawPeer) -> int:
    """The id of the session a raw peer has joined."""
    assert peer.server.session is not None
    return peer.server.session.id
