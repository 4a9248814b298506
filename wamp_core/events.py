"""What a session tells its application: the events that ``ClientSession.events()`` returns.

The messages that carry application data are delivered as they were parsed,
without a copy into another object: :class:`~wamp_core.messages.Event` (a
publication on one of our subscriptions), :class:`~wamp_core.messages.Invocation`
(a call of one of our procedures), :class:`~wamp_core.messages.Result` (a result,
progressive when ``result.progress``), :class:`~wamp_core.messages.Interrupt` (the
caller canceled an invocation). Everything else the session says is one of the
small classes below. Every request the application made ends in exactly one
final event: its acknowledgement, a final Result, or :class:`RequestFailed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wamp_core.messages import Event, Interrupt, Invocation, Result

__all__ = [
    "Challenged",
    "Joined",
    "Left",
    "PublishAcknowledged",
    "RegistrationCreated",
    "RegistrationRemoved",
    "RequestFailed",
    "SessionEvent",
    "SubscriptionCreated",
    "SubscriptionRemoved",
]


@dataclass(frozen=True, slots=True)
class Joined:
    """WELCOME: the session is open. ``roles`` are the router's roles and features."""

    session_id: int
    realm: str
    authid: str | None
    authrole: str | None
    authmethod: str | None
    authprovider: str | None
    authextra: dict[str, Any]
    roles: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Challenged:
    """A CHALLENGE no configured authenticator answers: call ``session.authenticate()``."""

    method: str
    extra: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Left:
    """The session ended (the transport may stay open for another join).

    ``reason`` is the URI of the GOODBYE or ABORT that ended it (or one the
    session chose: ``wamp.error.protocol_violation``, ``wamp.close.transport_lost``,
    ``wamp.close.timeout``); ``by_router`` tells who started it; ``aborted`` is true
    when the session ended without a GOODBYE exchange.
    """

    reason: str
    message: str | None
    by_router: bool
    aborted: bool


@dataclass(frozen=True, slots=True)
class RequestFailed:
    """A request ended without success. ``error`` is an ApplicationError (an ERROR
    from the router or callee, a call timeout, the session leaving), TransportLost,
    or ProtocolError (the router broke the protocol)."""

    request_id: int
    request_type: int  # the code of the request message: 48 CALL, 64 REGISTER, ...
    error: Exception


@dataclass(frozen=True, slots=True)
class RegistrationCreated:
    request_id: int
    registration_id: int
    procedure: str


@dataclass(frozen=True, slots=True)
class RegistrationRemoved:
    """Our UNREGISTER was answered, or the router revoked it (request 0, with a reason)."""

    request_id: int
    registration_id: int
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionCreated:
    request_id: int
    subscription_id: int
    topic: str


@dataclass(frozen=True, slots=True)
class SubscriptionRemoved:
    """Our UNSUBSCRIBE was answered, or the router revoked it (request 0, with a reason)."""

    request_id: int
    subscription_id: int
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class PublishAcknowledged:
    request_id: int
    publication_id: int


SessionEvent = (
    Joined
    | Challenged
    | Left
    | RequestFailed
    | RegistrationCreated
    | RegistrationRemoved
    | SubscriptionCreated
    | SubscriptionRemoved
    | PublishAcknowledged
    | Event
    | Invocation
    | Result
    | Interrupt
)
