"""The router: realms, the live session ids, and the connections it serves.

Sans-IO like the rest of wamp_core: the host (an adapter) creates a server transport
per accepted socket, hands it to :meth:`Router.connect`, feeds the connection's
bytes in, and writes out what :meth:`Router.take_writable` lists after each input
(a message from one connection often produces output on others). Time comes in with
every input (``now``), and the router's one timer is :meth:`next_deadline` /
:meth:`handle_timer` (call timeouts); each connection has its own (its transport's
handshake timeout and keep-alive).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from wamp_core.router._ids import RandomBytes, RandomIds
from wamp_core.router.acceptor import TransportAuth
from wamp_core.router.authorization import ALLOW_ALL, Role, RoleSet
from wamp_core.router.connection import (
    CapacityReached,
    CapacityRecovered,
    RouterConnection,
    ServerTransport,
)
from wamp_core.router.realm import Realm

__all__ = ["ANONYMOUS_AUTH", "RealmConfig", "Router"]

ANONYMOUS_AUTH: Final[TransportAuth] = {"anonymous": {"type": "static", "role": "anonymous"}}
"""A transport's authentication when its configuration names none (Crossbar.io's default)."""


@dataclass(frozen=True, slots=True)
class RealmConfig:
    """A realm and its roles; by default one role, ``anonymous``, that may do everything."""

    name: str
    roles: tuple[Role, ...] = field(default=(Role("anonymous", (ALLOW_ALL,)),))


def _no_wall_clock() -> str:
    return "1970-01-01T00:00:00.000Z"


class Router:
    """Realms and their sessions. ``random_bytes`` is the random source (session and
    publication ids, challenges, nonces); ``timestamp`` returns the wall-clock time
    in ISO 8601 (for challenges and the meta API), from the host.

    ``max_connections`` (None: no cap) bounds the connections served at once; one
    more is refused in its handshake (RawSocket error 4, WebSocket HTTP 503), and
    once as many refusals are pending as the cap, further connections are closed at
    once, unanswered, so that a flood of sockets costs the router nothing more."""

    def __init__(
        self,
        realms: Iterable[RealmConfig] = (RealmConfig("realm1"),),
        *,
        random_bytes: RandomBytes,
        timestamp: Callable[[], str] = _no_wall_clock,
        max_retained: int = 10_000,
        max_connections: int | None = None,
    ) -> None:
        if max_connections is not None and max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, got {max_connections}")
        self.max_connections = max_connections
        self._refused: set[RouterConnection] = set()  # refusals not yet written and closed
        self._cap_reported: int | None = None  # CapacityReached's limit, until recovered
        self.random_bytes = random_bytes
        self.timestamp = timestamp
        self.ids = RandomIds(random_bytes)
        self.now = 0.0  # the latest time the host gave us
        self._session_ids: set[int] = set()
        self._writable: dict[RouterConnection, None] = {}  # ordered, no duplicates
        self.connections: set[RouterConnection] = set()
        self.realms: dict[str, Realm] = {}
        for config in realms:
            if config.name in self.realms:
                raise ValueError(f"realm {config.name!r} is configured twice")
            self.realms[config.name] = Realm(
                config.name,
                RoleSet(config.roles),
                self.ids,
                timestamp=timestamp,
                clock=self._clock,
                max_retained=max_retained,
            )

    def __repr__(self) -> str:
        return f"Router(realms={sorted(self.realms)}, connections={len(self.connections)})"

    def _clock(self) -> float:
        return self.now

    # -- connections ------------------------------------------------------------------

    def connect(
        self,
        transport: ServerTransport,
        *,
        auth: TransportAuth | Callable[[str], TransportAuth] = ANONYMOUS_AUTH,
        channel_id: bytes | None = None,
        transport_info: dict[str, Any] | None = None,
        max_queued: int = 4 * 1024 * 1024,
        now: float | None = None,
    ) -> RouterConnection:
        """Serve one accepted connection over ``transport`` (a server transport).

        ``auth`` is the transport's authentication, or a function of the WebSocket
        path that gives it (called once the handshake has named the path).

        ``max_queued`` bounds the bytes queued for it between two ``data_to_send()``:
        a peer that stops reading (the host stops draining) is cut off when it is
        passed, so that it cannot make the router buffer without end.

        Over ``max_connections`` the connection is refused (see the class); the host
        serves it as any other, until it closes."""
        if now is not None:
            self.now = now
        refused = self._over_capacity()
        if refused:
            transport.refuse()
        connection = RouterConnection(
            self,
            transport,
            auth=auth,
            channel_id=channel_id,
            transport_info=transport_info,
            max_queued=max_queued,
        )
        self.connections.add(connection)
        if refused:
            self._refuse(connection)
        elif self._cap_reported is not None:
            connection._events.append(CapacityRecovered(self._cap_reported))
            self._cap_reported = None
        return connection

    @property
    def served(self) -> int:
        """The connections served (not counting those being refused)."""
        return len(self.connections) - len(self._refused)

    def _over_capacity(self) -> bool:
        limit = self.max_connections
        return limit is not None and self.served >= limit

    def _refuse(self, connection: RouterConnection) -> None:
        limit = self.max_connections
        assert limit is not None
        if self._cap_reported is None:
            self._cap_reported = limit
            connection._events.append(CapacityReached(limit))
        if len(self._refused) >= limit:
            connection.close()  # forgets it: the host closes the socket at once
        else:
            self._refused.add(connection)

    def take_writable(self) -> list[RouterConnection]:
        """The connections that have something to send since the last call."""
        writable = list(self._writable)
        self._writable.clear()
        return writable

    def mark_writable(self, connection: RouterConnection) -> None:
        self._writable[connection] = None

    def forget(self, connection: RouterConnection) -> None:
        """A closed connection (the connection calls it once its transport closed)."""
        self.connections.discard(connection)
        self._refused.discard(connection)

    # -- ids --------------------------------------------------------------------------

    def new_session_id(self) -> int:
        session_id = self.ids.unique(self._session_ids)
        self._session_ids.add(session_id)
        return session_id

    def release_session_id(self, session_id: int) -> None:
        self._session_ids.discard(session_id)

    @property
    def live_session_ids(self) -> frozenset[int]:
        return frozenset(self._session_ids)

    # -- time and shutdown ------------------------------------------------------------

    def next_deadline(self) -> float | None:
        deadlines = [d for d in (r.next_deadline() for r in self.realms.values()) if d is not None]
        return min(deadlines, default=None)

    def handle_timer(self, now: float) -> None:
        self.now = now
        for realm in self.realms.values():
            realm.handle_timer(now)

    def shutdown(self, reason: str = "wamp.close.system_shutdown") -> None:
        """Say GOODBYE with ``reason`` to every session, and close every connection
        that has none; the host then writes what is queued and closes the sockets
        (or waits a little for the GOODBYE answers)."""
        for connection in sorted(self.connections, key=id):
            connection.shut_down(reason)
