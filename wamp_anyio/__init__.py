"""wamp_anyio: WAMP for asyncio and trio on the Sans-IO wamp_core.

Two styles on one Session class:

- structured: ``async with wamp_anyio.connect(url, realm) as session: ...``
- the router, served: ``async with wamp_anyio.serve() as server: ...``
- Autobahn's façade: ``ApplicationSession``, ``ApplicationRunner``, ``Application``,
  ``ApplicationSessionFactory`` (an ``autobahn.asyncio.wamp`` program ports by
  changing its imports)
"""

from wamp_anyio._run import connect
from wamp_anyio.serve import Listen, Server, serve
from wamp_anyio.session import ReceivedEvent, Session
from wamp_anyio.wamp import (
    Application,
    ApplicationRunner,
    ApplicationSession,
    ApplicationSessionFactory,
)

__all__ = [
    "Application",
    "ApplicationRunner",
    "ApplicationSession",
    "ApplicationSessionFactory",
    "Listen",
    "ReceivedEvent",
    "Server",
    "Session",
    "connect",
    "serve",
]
