"""The Sans-IO WAMP router: realms, broker, dealer, authentication, authorization, meta API.

No sockets, loops, clocks or global randomness: the host passes time and a random
source in, feeds each connection's bytes to its :class:`RouterConnection` and writes
what :meth:`Router.take_writable` lists. :class:`MemoryNetwork` joins client
``Connection`` objects to a router in memory (tests, embedding).
"""

from __future__ import annotations

from wamp_core.router.authorization import ALLOW_ALL, TRUSTED, Permission, Role, RoleSet
from wamp_core.router.config import (
    ConfigError,
    ListenerConfig,
    NodeConfig,
    TcpEndpoint,
    TlsConfig,
    UnixEndpoint,
    default_config,
    load_config,
    parse_config,
)
from wamp_core.router.connection import (
    CapacityReached,
    CapacityRecovered,
    ConnectionClosed,
    ConnectionState,
    MessageDropped,
    RouterConnection,
    RouterEvent,
    ServerTransport,
    SessionJoined,
    SessionLeft,
)
from wamp_core.router.memory import MemoryNetwork
from wamp_core.router.realm import Realm
from wamp_core.router.router import ANONYMOUS_AUTH, RealmConfig, Router
from wamp_core.router.session import Peer, RouterSession

__all__ = [
    "ALLOW_ALL",
    "ANONYMOUS_AUTH",
    "TRUSTED",
    "CapacityReached",
    "CapacityRecovered",
    "ConfigError",
    "ConnectionClosed",
    "ConnectionState",
    "ListenerConfig",
    "MemoryNetwork",
    "MessageDropped",
    "NodeConfig",
    "Peer",
    "Permission",
    "Realm",
    "RealmConfig",
    "Role",
    "RoleSet",
    "Router",
    "RouterConnection",
    "RouterEvent",
    "RouterSession",
    "ServerTransport",
    "SessionJoined",
    "SessionLeft",
    "TcpEndpoint",
    "TlsConfig",
    "UnixEndpoint",
    "default_config",
    "load_config",
    "parse_config",
]
