"""wamp_anyio: WAMP for asyncio and trio on the Sans-IO wamp_core.

Two styles:

- structured: ``async with wamp_anyio.connect(url, realm) as session: ...``
- Autobahn's façade: ``ApplicationSession``, ``ApplicationRunner``, ``Application``, ...
"""

from wamp_anyio.session import ReceivedEvent, Session, connect

__all__ = ["ReceivedEvent", "Session", "connect"]
