"""The state every part of the client session shares, and the few moves they all make."""

from __future__ import annotations

import enum
import heapq
from collections.abc import Callable, Sequence
from typing import Any, Final

from wamp_core.auth import Authenticator
from wamp_core.events import Left, RequestFailed, SessionEvent
from wamp_core.exception import ApplicationError, ProtocolError, SessionNotReady
from wamp_core.messages import (
    Abort,
    Call,
    Invocation,
    Message,
    Publish,
    Register,
    Subscribe,
    Unregister,
    Unsubscribe,
)
from wamp_core.uri import validate_uri
from wamp_core.vocabulary import MAX_ID

# Request kinds are the codes of the request messages (what an ERROR's REQUEST.Type says).
# Final: compiled, each is a C static rather than a global looked up by name.
PUBLISH: Final = Publish.CODE
SUBSCRIBE: Final = Subscribe.CODE
UNSUBSCRIBE: Final = Unsubscribe.CODE
CALL: Final = Call.CODE
REGISTER: Final = Register.CODE
UNREGISTER: Final = Unregister.CODE
INVOCATION: Final = Invocation.CODE  # the kind of the ERROR that answers an invocation
KIND_NAMES = {
    cls.CODE: cls.NAME for cls in (Publish, Subscribe, Unsubscribe, Call, Register, Unregister)
}

# How many locally-ended calls still wait for the router's final answer, at most.
SETTLED_LIMIT = 10_000

# How many URIs a session remembers as valid (a program calls a few procedures and
# publishes to a few topics, over and over; past this, the memory starts afresh).
KNOWN_URIS_LIMIT = 1024
# A session's tables that most sessions never fill start as these shared empty ones
# and get their own at the first entry (issue 15: an idle session's memory). Only the
# places that add check; reads, pops, deletes of found keys and clears change nothing.
EMPTY_DICT: dict[Any, Any] = {}
EMPTY_SET: set[Any] = set()
EMPTY_LIST: list[Any] = []


class SessionState(enum.Enum):
    """Where the session is. Transitions are in ``_client.py`` (one method per message)."""

    CLOSED = "closed"  # no session: join() starts one (again)
    JOINING = "joining"  # HELLO sent; WELCOME, CHALLENGE or ABORT expected
    AUTHENTICATING = "authenticating"  # a CHALLENGE was answered (or is with the application)
    JOINED = "joined"
    LEAVING = "leaving"  # GOODBYE sent; everything but the router's GOODBYE is ignored
    FAILED = "failed"  # a protocol violation ended it: nothing more is processed


IN_SESSION = frozenset(
    {SessionState.JOINING, SessionState.AUTHENTICATING, SessionState.JOINED, SessionState.LEAVING}
)


# The router messages each state accepts: message code -> the ClientSession method
# that handles it, called with the session. The same tables serve every session (filled
# in by _client.py once the class exists): bound methods per session cost 4 KiB each.
DISPATCH: Final[dict[SessionState, dict[int, Callable[[Any, Any], None]]]] = {}
NOTHING: Final[dict[int, Callable[[Any, Any], None]]] = {}  # no message is accepted


# Plain classes, not dataclasses: one is made per request (and per invocation), and
# a dataclass's generated __init__ stays a Python function even in the compiled build.
class Pending:
    """A request of ours waiting for the router's answer."""

    __slots__ = (
        "deadline",
        "kind",
        "progressive_input",
        "receive_progress",
        "target",
        "timeout",
        "uri",
    )

    def __init__(
        self,
        kind: int,
        uri: str | None = None,  # the procedure or topic
        target: int | None = None,  # the registration or subscription to remove
        receive_progress: bool = False,
        timeout: float | None = None,  # seconds, for calls
        progressive_input: bool = False,  # a progressive call invocation still open
    ) -> None:
        self.kind = kind
        self.uri = uri
        self.target = target
        self.receive_progress = receive_progress
        self.timeout = timeout
        self.deadline: float | None = None
        self.progressive_input = progressive_input


class ActiveInvocation:
    """An INVOCATION of ours that has not been answered yet."""

    __slots__ = ("deadline", "progressive_input", "receive_progress", "registration_id")

    def __init__(
        self, registration_id: int, receive_progress: bool, progressive_input: bool
    ) -> None:
        self.registration_id = registration_id
        self.receive_progress = receive_progress
        self.progressive_input = progressive_input
        self.deadline: float | None = None


class SessionBase:
    """Shared state (set up by ClientSession.__init__); the mixins add the behaviour."""

    realm: str
    # Tuples unless the application sets lists: most sessions have none, and () is
    # one shared object.
    authenticators: Sequence[Authenticator]
    authmethods: Sequence[str]  # announced too; their challenges go to the application
    authid: str | None
    authrole: str | None
    authextra: dict[str, Any] | None
    agent: str
    close_timeout: float
    state: SessionState
    session_id: int | None
    router_roles: dict[str, Any]
    now: float
    transport_gone: bool
    channel_id: bytes | None  # TLS channel binding data, for authenticators that use it
    encoder: Callable[[Message], Any] | None
    _outgoing: list[Any]
    _events: list[SessionEvent]  # a list, not a deque: appended natively when compiled
    _next_id: int
    _pending: dict[int, Pending]
    _settled: dict[int, None]
    _known_uris: set[str]  # procedures and topics already validated
    _registrations: dict[int, str]
    _subscriptions: dict[int, str]
    _invocations: dict[int, ActiveInvocation]
    _max_invocation_id: int
    _timers: list[tuple[float, int, str, int]]
    _timer_seq: int
    _leave_deadline: float | None
    _authenticator: Authenticator | None
    # The table of the current state (see DISPATCH; kept so the hot path does no enum
    # hashing).
    _dispatch: dict[int, Callable[[Any, Any], None]]

    # ---- small moves shared by all parts

    def _set_state(self, state: SessionState) -> None:
        self.state = state
        self._dispatch = DISPATCH[state]

    def _tick(self, now: float | None) -> float:
        if now is not None:
            self.now = now
        return self.now

    def _send(self, message: Message) -> None:
        """Queue a message; with an encoder, encode it now, so that a payload the
        serializer cannot carry raises in the request that made it."""
        encoder = self.encoder
        outgoing = self._outgoing
        if outgoing is EMPTY_LIST:  # nothing queued since the last drain
            outgoing = self._outgoing = []
        outgoing.append(message if encoder is None else encoder(message))

    def _send_request(self, message: Message) -> None:
        """Queue a request built with ``self._next_id``; only then is the id used up,
        so a request that fails to encode leaves no gap in the sequence."""
        self._send(message)
        request_id = self._next_id
        self._next_id = 1 if request_id >= MAX_ID else request_id + 1

    def _validate_uri(self, uri: str, what: str) -> None:
        """``validate_uri`` (loose rule), remembered: a request to a URI this session
        has already checked costs a set lookup, not the validator's Python calls."""
        known = self._known_uris
        if type(uri) is str and uri in known:
            return
        validate_uri(uri, what=what)
        if known is EMPTY_SET:
            known = self._known_uris = set()
        elif len(known) >= KNOWN_URIS_LIMIT:
            known.clear()
        known.add(uri)

    def _require_joined(self, what: str) -> None:
        if self.state is not SessionState.JOINED:
            raise SessionNotReady(f"cannot {what}: the session is {self.state.value}, not joined")

    def _router_has(self, role: str, feature: str) -> bool:
        role_info = self.router_roles.get(role)
        if type(role_info) is not dict:
            return False
        features = role_info.get("features")
        return type(features) is dict and features.get(feature) is True

    def _arm(self, deadline: float, kind: str, key: int) -> None:
        self._timer_seq += 1
        if self._timers is EMPTY_LIST:
            self._timers = []
        heapq.heappush(self._timers, (deadline, self._timer_seq, kind, key))

    def _add_pending(self, request_id: int, pending: Pending) -> None:
        table = self._pending
        if table is EMPTY_DICT:
            table = self._pending = {}
        table[request_id] = pending

    def _settle(self, request_id: int) -> None:
        """Remember a call that ended here, so the router's late answer is dropped quietly."""
        if self._settled is EMPTY_DICT:
            self._settled = {}
        self._settled[request_id] = None
        if len(self._settled) > SETTLED_LIMIT:
            del self._settled[next(iter(self._settled))]

    def _fail_all(self, error_for: Any) -> None:
        """End every pending request with the error ``error_for()`` makes, in request order."""
        pending, self._pending = self._pending, EMPTY_DICT
        for request_id, request in pending.items():
            self._events.append(RequestFailed(request_id, request.kind, error_for()))
        self._invocations.clear()
        self._settled.clear()

    def _end(self, left: Left, state: SessionState) -> None:
        """The session is over: drop what belonged to it and say so once."""
        was_in_session = self.state in IN_SESSION
        self._set_state(state)
        self.session_id = None
        self.router_roles = {}
        self._registrations.clear()
        self._subscriptions.clear()
        self._leave_deadline = None
        self._authenticator = None
        if was_in_session:
            self._events.append(left)

    def protocol_violation(self, text: str) -> None:
        """The router broke the protocol: ABORT, fail everything pending, and stop.

        Also for the Connection, when bytes do not decode to a valid message.
        """
        if self.state is SessionState.FAILED or self.transport_gone:
            return
        self._send(Abort(ApplicationError.PROTOCOL_VIOLATION, {"message": text}))
        self._fail_all(lambda: ProtocolError(text))
        left = Left(ApplicationError.PROTOCOL_VIOLATION, text, by_router=False, aborted=True)
        self._end(left, SessionState.FAILED)
