"""wamp_core: a pure, deterministic (Sans-IO) WAMP client core.

The names here are the ones an Autobahn program imports from ``autobahn.wamp``
(``from autobahn.wamp import ApplicationError, auth`` becomes
``from wamp_core import ApplicationError, auth``), and ``import wamp_core as wamp``
gives the ``@wamp.register`` / ``@wamp.subscribe`` / ``@wamp.error`` decorators.
"""

from wamp_core import auth, exception, messages, protocol, serializers, types, uri
from wamp_core.connection import Connection
from wamp_core.decorators import error, register, subscribe
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
from wamp_core.types import (
    CallDetails,
    CallOptions,
    CallResult,
    Challenge,
    CloseDetails,
    ComponentConfig,
    EventDetails,
    PublishOptions,
    RegisterOptions,
    SessionDetails,
    SubscribeOptions,
)

__all__ = [
    "ApplicationError",
    "AuthenticationError",
    "CallDetails",
    "CallOptions",
    "CallResult",
    "Challenge",
    "CloseDetails",
    "ComponentConfig",
    "Connection",
    "Error",
    "EventDetails",
    "InvalidUriError",
    "ProtocolError",
    "PublishOptions",
    "RegisterOptions",
    "SerializationError",
    "SessionDetails",
    "SessionNotReady",
    "SubscribeOptions",
    "TransportLost",
    "auth",
    "error",
    "exception",
    "messages",
    "protocol",
    "register",
    "serializers",
    "subscribe",
    "types",
    "uri",
]
