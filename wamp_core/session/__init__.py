"""The client session state machine (Sans-IO): see :class:`ClientSession`."""

from wamp_core.session._base import SessionState
from wamp_core.session._client import ClientSession
from wamp_core.session._roles import CLIENT_ROLES

__all__ = ["CLIENT_ROLES", "ClientSession", "SessionState"]
