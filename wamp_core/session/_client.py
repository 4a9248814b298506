"""ClientSession: the WAMP client state machine, messages in and events out."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from typing import Any

from wamp_core.auth import Authenticator
from wamp_core.events import Left, RequestFailed, SessionEvent
from wamp_core.exception import ApplicationError, ProtocolError, TransportLost
from wamp_core.messages import (
    Abort,
    Cancel,
    Challenge,
    Error,
    Event,
    Goodbye,
    Interrupt,
    Invocation,
    Message,
    Published,
    Registered,
    Result,
    Subscribed,
    Unregistered,
    Unsubscribed,
    Welcome,
)
from wamp_core.session._base import (
    CALL,
    DISPATCH,
    EMPTY_DICT,
    EMPTY_LIST,
    EMPTY_SET,
    IN_SESSION,
    INVOCATION,
    NOTHING,
    SessionState,
)
from wamp_core.session._incoming import IncomingMixin

Handler = Callable[[Any, Any], None]


class ClientSession(IncomingMixin):
    """A WAMP client session with all four roles, without any I/O.

    Feed it the router's messages with :meth:`receive_message`; take what to send
    with :meth:`messages_to_send` and what happened with :meth:`events`. Requests
    (:meth:`call`, :meth:`register`, ...) return their request id. Time comes in as
    ``now`` arguments and :meth:`handle_timer`; :meth:`next_deadline` says when to
    call it. The Connection class wraps this with a transport and a serializer.
    """

    def __init__(
        self,
        realm: str,
        *,
        authenticators: Sequence[Authenticator] = (),
        authmethods: Sequence[str] = (),
        authid: str | None = None,
        authrole: str | None = None,
        authextra: dict[str, Any] | None = None,
        agent: str = "wamp-sansio",
        close_timeout: float = 5.0,
        encoder: Callable[[Message], Any] | None = None,
    ):
        self.realm = realm
        self.authenticators = tuple(authenticators)
        self.authmethods = tuple(authmethods)
        self.authid = authid
        self.authrole = authrole
        self.authextra = authextra
        self.agent = agent
        self.close_timeout = close_timeout
        self.state = SessionState.CLOSED
        self.session_id = None
        self.router_roles = {}
        self.now = 0.0
        self.transport_gone = False
        self.channel_id = None
        self.encoder = encoder
        self._outgoing = EMPTY_LIST
        self._events = []
        self._next_id = 1
        self._pending = EMPTY_DICT
        self._settled = EMPTY_DICT
        self._known_uris = EMPTY_SET
        self._registrations = EMPTY_DICT
        self._subscriptions = EMPTY_DICT
        self._invocations = EMPTY_DICT
        self._max_invocation_id = 0
        self._timers = EMPTY_LIST
        self._timer_seq = 0
        self._leave_deadline = None
        self._authenticator = None
        self._dispatch = DISPATCH[SessionState.CLOSED]

    def __repr__(self) -> str:
        state, session_id = self.state.value, self.session_id
        return f"ClientSession(realm={self.realm!r}, state={state}, session_id={session_id})"

    # ---- input

    def receive_message(self, message: Message, *, now: float | None = None) -> None:
        """Process one message from the router."""
        if now is not None:
            self.now = now
        try:
            # The hot paths first: a joined session's dispatch table sends these two
            # there anyway, and compiled, a direct call is much cheaper than a call
            # through the table's bound method.
            if type(message) is Result and self.state is SessionState.JOINED:
                self._on_result(message)
            elif type(message) is Event and self.state is SessionState.JOINED:
                self._on_event(message)
            else:
                handler = self._dispatch.get(message.CODE)
                if handler is None:
                    self._unexpected(message)
                else:
                    handler(self, message)
        except ProtocolError as exc:
            self.protocol_violation(str(exc))

    def _unexpected(self, message: Message) -> None:
        state = self.state
        if state is SessionState.FAILED or state is SessionState.LEAVING or self.transport_gone:
            return  # after GOODBYE the spec ignores all but GOODBYE; after the end, everything
        self.protocol_violation(f"{message.NAME} is not allowed when the session is {state.value}")

    def transport_lost(self, error: Exception | None = None) -> None:
        """The transport is gone: fail everything pending with TransportLost."""
        if self.transport_gone:
            return
        text = str(error) if error is not None else "the transport closed"
        if self.state is not SessionState.FAILED:
            self._fail_all(lambda: TransportLost(text))
            left = Left("wamp.close.transport_lost", text, by_router=False, aborted=True)
            self._end(left, SessionState.CLOSED)
        self.transport_gone = True
        self._dispatch = NOTHING
        self._outgoing.clear()

    # ---- output

    def messages_to_send(self) -> list[Any]:
        """Everything queued for the router, oldest first (drains the queue): the
        messages, or their encoded payloads when the session has an ``encoder``."""
        out = self._outgoing
        if out is EMPTY_LIST:
            return []  # the caller's own list: the shared empty one must stay empty
        self._outgoing = EMPTY_LIST
        return out

    @property
    def has_messages_to_send(self) -> bool:
        """Whether ``messages_to_send()`` would return something."""
        return bool(self._outgoing)

    def events(self) -> list[SessionEvent]:
        """Everything that happened, oldest first (drains the queue)."""
        out, self._events = self._events, []
        return out

    def next_event(self) -> SessionEvent | None:
        return self._events.pop(0) if self._events else None

    @property
    def pending_requests(self) -> int:
        return len(self._pending)

    @property
    def registrations(self) -> dict[int, str]:
        return dict(self._registrations)

    @property
    def subscriptions(self) -> dict[int, str]:
        return dict(self._subscriptions)

    @property
    def is_joined(self) -> bool:
        return self.state is SessionState.JOINED

    @property
    def in_session(self) -> bool:
        return self.state in IN_SESSION

    # ---- time

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timer` should be called next, or None."""
        timers = self._timers
        while timers and not self._timer_live(timers[0]):
            heapq.heappop(timers)
        return timers[0][0] if timers else None

    def handle_timer(self, now: float) -> None:
        """Let the deadlines that have come pass: call and invocation timeouts, leaving."""
        self.now = now
        timers = self._timers
        while timers and timers[0][0] <= now:
            entry = heapq.heappop(timers)
            if self._timer_live(entry):
                self._expire(entry[2], entry[3])

    def _timer_live(self, entry: tuple[float, int, str, int]) -> bool:
        deadline, _, kind, key = entry
        if kind == "call":
            pending = self._pending.get(key)
            return pending is not None and pending.deadline == deadline
        if kind == "invocation":
            invocation = self._invocations.get(key)
            return invocation is not None and invocation.deadline == deadline
        return self.state is SessionState.LEAVING and self._leave_deadline == deadline

    def _expire(self, kind: str, key: int) -> None:
        if kind == "call":
            pending = self._pending.pop(key)
            self._settle(key)
            if self._router_has("dealer", "call_canceling"):
                self._send(Cancel(key, {"mode": "killnowait"}))
            error = ApplicationError(
                ApplicationError.TIMEOUT, f"no result within {pending.timeout} s"
            )
            self._events.append(RequestFailed(key, CALL, error))
        elif kind == "invocation":
            # The caller's timeout passed: answer for the callee and tell it to stop.
            del self._invocations[key]
            self._send(Error(INVOCATION, key, ApplicationError.TIMEOUT))
            self._events.append(
                Interrupt(key, {"mode": "killnowait", "reason": ApplicationError.TIMEOUT})
            )
        else:
            text = f"the router did not answer GOODBYE within {self.close_timeout} s"
            self._end(
                Left("wamp.close.timeout", text, by_router=False, aborted=True), SessionState.CLOSED
            )


# The tables every session dispatches through (see DISPATCH): unbound methods, called
# with the session, made once here rather than bound per session.
_OPENING: dict[int, Handler] = {
    Welcome.CODE: ClientSession._on_welcome,
    Challenge.CODE: ClientSession._on_challenge,
    Abort.CODE: ClientSession._on_abort,
}
DISPATCH.update(
    {
        SessionState.JOINING: _OPENING,
        SessionState.AUTHENTICATING: _OPENING,
        SessionState.JOINED: {
            Abort.CODE: ClientSession._on_abort,
            Goodbye.CODE: ClientSession._on_goodbye,
            Error.CODE: ClientSession._on_error,
            Published.CODE: ClientSession._on_published,
            Subscribed.CODE: ClientSession._on_subscribed,
            Unsubscribed.CODE: ClientSession._on_unsubscribed,
            Event.CODE: ClientSession._on_event,
            Result.CODE: ClientSession._on_result,
            Registered.CODE: ClientSession._on_registered,
            Unregistered.CODE: ClientSession._on_unregistered,
            Invocation.CODE: ClientSession._on_invocation,
            Interrupt.CODE: ClientSession._on_interrupt,
        },
        SessionState.LEAVING: {
            Goodbye.CODE: ClientSession._on_goodbye_reply,
            Abort.CODE: ClientSession._on_abort,
        },
        SessionState.CLOSED: NOTHING,
        SessionState.FAILED: NOTHING,
    }
)
