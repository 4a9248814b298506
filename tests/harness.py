"""Drive a client session from the router's side, at the message level or through bytes.

The same session tests run through every harness: the message-level one (the
ClientSession alone) and the byte-level ones (a Connection over RawSocket or
WebSocket, with the router's bytes arriving in bulk or one byte at a time).
"""

from __future__ import annotations

from typing import Any, TypeVar

from wamp_core.events import SessionEvent
from wamp_core.messages import Hello, Message, Welcome
from wamp_core.session import ClientSession

M = TypeVar("M", bound=Message)
E = TypeVar("E")

ROUTER_FEATURES = {
    "progressive_call_results": True,
    "progressive_call_invocations": True,
    "call_canceling": True,
    "call_timeout": True,
    "caller_identification": True,
    "pattern_based_registration": True,
    "shared_registration": True,
    "registration_revocation": True,
    "payload_passthru_mode": True,
    "publisher_identification": True,
    "subscriber_blackwhite_listing": True,
    "publisher_exclusion": True,
    "pattern_based_subscription": True,
    "subscription_revocation": True,
    "event_retention": True,
}
ROUTER_ROLES = {
    "dealer": {"features": ROUTER_FEATURES},
    "broker": {"features": ROUTER_FEATURES},
}


class MessageHarness:
    """The ClientSession alone: the router's messages go straight in."""

    name = "messages"

    def __init__(self, **session_options: Any):
        self.session = ClientSession("realm1", **session_options)
        self._events: list[SessionEvent] = []

    def start(self, now: float = 0.0) -> None:
        """Open the transport (nothing to do here) and send HELLO."""
        self.session.join(now=now)

    def deliver(self, *messages: Message, now: float | None = None) -> None:
        for message in messages:
            self.session.receive_message(message, now=now)

    def sent(self) -> list[Message]:
        return self.session.messages_to_send()

    def events(self) -> list[SessionEvent]:
        return self.session.events()

    def timer(self, now: float) -> None:
        self.session.handle_timer(now)

    def next_deadline(self) -> float | None:
        return self.session.next_deadline()

    def lose_transport(self) -> None:
        self.session.transport_lost(None)

    # ---- helpers the tests share

    def expect(self, cls: type[M]) -> M:
        """The one message the client sent, which must be a ``cls``."""
        (message,) = self.sent()
        assert isinstance(message, cls), message
        return message

    def event(self, cls: type[E]) -> E:
        (event,) = self.events()
        assert isinstance(event, cls), event
        return event

    def join(self, roles: dict[str, Any] | None = None, session_id: int = 4242) -> Hello:
        """Open, send HELLO, deliver WELCOME; return the HELLO."""
        self.start()
        hello = self.expect(Hello)
        self.deliver(Welcome(session_id, {"roles": roles or ROUTER_ROLES, "authid": "anon"}))
        self.events()
        return hello
