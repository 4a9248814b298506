"""wamp_core: a pure, deterministic (Sans-IO) WAMP client core.

The names here are the ones an Autobahn program imports from ``autobahn.wamp``.
"""

from wamp_core import exception, messages, serializers, uri
from wamp_core.exception import (
    ApplicationError,
    AuthenticationError,
    Error,
    InvalidUriError,
    ProtocolError,
    SerializationError,
    SessionNotReady,
    TransportLost,
)

__all__ = [
    "ApplicationError",
    "AuthenticationError",
    "Error",
    "InvalidUriError",
    "ProtocolError",
    "SerializationError",
    "SessionNotReady",
    "TransportLost",
    "exception",
    "messages",
    "serializers",
    "uri",
]
