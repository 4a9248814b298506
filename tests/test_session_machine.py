"""A hypothesis state machine drives a Connection with random application requests
and random router behaviour: valid replies, wrong ids, wrong states, garbage and
truncated frames, EOF at any point, timers at any time.

Invariants: no exception escapes except the documented local-misuse errors; every
request is resolved exactly once, and none is left pending once the session is
over; after a violation the client's last message is ABORT protocol_violation;
nothing is sent after the transport closed.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tests.conftest import MACHINE_EXAMPLES
from tests.harness import ROUTER_ROLES
from wamp_core.connection import Connection
from wamp_core.events import (
    Left,
    PublishAcknowledged,
    RegistrationCreated,
    RegistrationRemoved,
    RequestFailed,
    SubscriptionCreated,
    SubscriptionRemoved,
)
from wamp_core.exception import FeatureNotSupported, InvalidUriError, SessionNotReady
from wamp_core.messages import (
    Abort,
    Call,
    Error,
    Event,
    Goodbye,
    Interrupt,
    Invocation,
    Message,
    Publish,
    Published,
    Register,
    Registered,
    Result,
    Subscribe,
    Subscribed,
    Unregister,
    Unregistered,
    Unsubscribe,
    Unsubscribed,
    Welcome,
)
from wamp_core.session import ClientSession
from wamp_core.testing import strategies as ws
from wamp_core.testing.router import ScriptedRouter
from wamp_core.transports import RawSocketClientTransport, TransportClosed, WebSocketClientTransport
from wamp_core.types import CallOptions, PublishOptions

LOCAL_MISUSE = (SessionNotReady, InvalidUriError, FeatureNotSupported, ValueError)
REQUEST_KINDS = (Call, Register, Unregister, Subscribe, Unsubscribe, Publish)


class SessionMachine(RuleBasedStateMachine):
    @initialize(
        kind=st.sampled_from(["rawsocket", "websocket"]),
        serializer=st.sampled_from(["json", "msgpack", "cbor"]),
        bytewise=st.booleans(),
        welcome=st.booleans(),
    )
    def connect(self, kind: str, serializer: str, bytewise: bool, welcome: bool) -> None:
        self.router = ScriptedRouter(kind, serializer)
        transport = (
            RawSocketClientTransport(serializer)
            if kind == "rawsocket"
            else WebSocketClientTransport("localhost", "/ws", serializers=[serializer])
        )
        self.conn = Connection(transport, ClientSession("realm1", close_timeout=3.0))
        self.bytewise = bytewise
        self.now = 0.0
        self.outstanding: set[int] = set()  # requests whose final event has not come
        self.resolved: set[int] = set()
        self.client_requests: list[Message] = []  # what the router received, to answer
        self.invocations: list[int] = []
        self.registrations: list[int] = []
        self.subscriptions: list[int] = []
        self.transport_closed = False
        self.drained_after_close = False
        self.expect_abort = False
        self.next_id = 1000
        self.flush()
        if welcome:  # most interesting paths start in a joined session
            self.welcome()

    # ---- plumbing

    def flush(self) -> None:
        """Move bytes both ways until nothing is left, checking what the client sends."""
        for _ in range(4):
            data = self.conn.data_to_send()
            if self.drained_after_close:
                assert data == b"", "the client sent bytes after its transport closed"
            # What was queued when the transport closed (a close frame) leaves once.
            self.drained_after_close = self.transport_closed
            self.router.receive_data(data)
            sent = self.router.received()
            for message in sent:
                if isinstance(message, REQUEST_KINDS):
                    self.client_requests.append(message)
            if self.expect_abort:
                # The violation's ABORT leaves with the next bytes and is the last message,
                # unless the transport broke at the same time (then nothing can leave).
                if sent or not self.transport_closed:
                    assert isinstance(sent[-1], Abort), sent
                    assert sent[-1].reason == "wamp.error.protocol_violation"
                self.expect_abort = False
            self.deliver_bytes(self.router.data_to_send())
            self.collect()

    def deliver_bytes(self, data: bytes) -> None:
        if self.bytewise:
            for index in range(len(data)):
                self.conn.receive_data(data[index : index + 1], now=self.now)
        elif data:
            self.conn.receive_data(data, now=self.now)

    def collect(self) -> None:
        for event in self.conn.events():
            request_id = _final_request_id(event)
            if request_id is not None:
                assert request_id not in self.resolved, f"request {request_id} resolved twice"
                assert request_id in self.outstanding, f"event for unknown request {request_id}"
                self.outstanding.discard(request_id)
                self.resolved.add(request_id)
            if isinstance(event, RegistrationCreated):
                self.registrations.append(event.registration_id)
            elif isinstance(event, SubscriptionCreated):
                self.subscriptions.append(event.subscription_id)
            elif isinstance(event, Invocation):
                self.invocations.append(event.request_id)
            elif isinstance(event, Left) and event.reason == "wamp.error.protocol_violation":
                self.expect_abort = True
            elif isinstance(event, TransportClosed):
                assert not self.transport_closed, "two TransportClosed events"
                self.transport_closed = True

    def request(self, make: Any) -> None:
        """An application request: it may be refused, but only as documented."""
        try:
            request_id = make(self.conn.session)
        except LOCAL_MISUSE:
            return
        if request_id is not None:
            assert request_id not in self.outstanding
            self.outstanding.add(request_id)
            self.resolved.discard(request_id)  # ids may be reused by a new session
        self.flush()

    def fresh_id(self) -> int:
        self.next_id += 1
        return self.next_id

    # ---- the router's side: valid behaviour

    @rule()
    def welcome(self) -> None:
        self.router.send(Welcome(self.fresh_id(), {"roles": ROUTER_ROLES}))
        self.flush()

    @precondition(lambda self: self.client_requests)
    @rule(data=st.data(), fail=st.booleans())
    def answer_a_request(self, data: st.DataObject, fail: bool) -> None:
        message = data.draw(st.sampled_from(self.client_requests))
        self.client_requests.remove(message)
        self.router.send(_answer(type(message), message.request_id, fail, self.fresh_id()))  # type: ignore[attr-defined]
        self.flush()

    @precondition(lambda self: self.subscriptions)
    @rule(data=st.data())
    def publish_event(self, data: st.DataObject) -> None:
        subscription = data.draw(st.sampled_from(self.subscriptions))
        self.router.send(Event(subscription, self.fresh_id(), data.draw(ws.args)))
        self.flush()

    @precondition(lambda self: self.registrations)
    @rule(data=st.data(), timeout=st.sampled_from([0, 0, 1000]))
    def invoke(self, data: st.DataObject, timeout: int) -> None:
        registration = data.draw(st.sampled_from(self.registrations))
        details = {"timeout": timeout} if timeout else {}
        self.router.send(Invocation(self.fresh_id(), registration, [1], details=details))
        self.flush()

    @precondition(lambda self: self.invocations)
    @rule(data=st.data())
    def interrupt(self, data: st.DataObject) -> None:
        self.router.send(Interrupt(data.draw(st.sampled_from(self.invocations)), {"mode": "kill"}))
        self.flush()

    @rule(reason=st.sampled_from(["wamp.close.system_shutdown", "wamp.close.normal"]))
    def router_goodbye(self, reason: str) -> None:
        self.router.send(Goodbye(reason))
        self.flush()

    @rule()
    def router_abort(self) -> None:
        self.router.send(Abort("wamp.close.killed"))
        self.flush()

    # ---- the router's side: anything at all (one rule, so the session often lives on)

    @rule(step=ws.router_steps())
    def router_misbehaves(self, step: tuple[str, Any]) -> None:
        if self.router.play(step):
            self.conn.receive_data(b"", now=self.now)
        self.flush()

    @rule(kind=st.sampled_from(REQUEST_KINDS), fail=st.booleans())
    def answer_a_request_never_made(self, kind: type[Message], fail: bool) -> None:
        self.router.send(_answer(kind, self.fresh_id(), fail, self.fresh_id()))
        self.flush()

    @rule(seconds=st.sampled_from([0.1, 1.0, 5.0]))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds
        self.conn.handle_timer(self.now)
        self.collect()
        self.flush()

    # ---- the application's side

    @rule(timeout=st.sampled_from([None, 0.5, 2.0]), progress=st.booleans())
    def call(self, timeout: float | None, progress: bool) -> None:
        options = CallOptions(timeout=timeout, on_progress=print if progress else None)
        self.request(lambda s: s.call("com.example.p", [1], options=options, now=self.now))

    @rule(procedure=st.sampled_from(["com.example.p", "com.example.", "bad uri"]))
    def register(self, procedure: str) -> None:
        self.request(lambda s: s.register(procedure))

    @rule(topic=st.sampled_from(["com.example.t", "bad topic"]))
    def subscribe(self, topic: str) -> None:
        self.request(lambda s: s.subscribe(topic))

    @rule(acknowledge=st.booleans())
    def publish(self, acknowledge: bool) -> None:
        options = PublishOptions(acknowledge=acknowledge)
        self.request(lambda s: _publish(s, options))

    @precondition(lambda self: self.registrations)
    @rule(data=st.data())
    def unregister(self, data: st.DataObject) -> None:
        registration = data.draw(st.sampled_from(self.registrations))
        self.request(lambda s: s.unregister(registration))

    @precondition(lambda self: self.subscriptions)
    @rule(data=st.data())
    def unsubscribe(self, data: st.DataObject) -> None:
        subscription = data.draw(st.sampled_from(self.subscriptions))
        self.request(lambda s: s.unsubscribe(subscription))

    @precondition(lambda self: self.outstanding)
    @rule(
        data=st.data(), mode=st.sampled_from(["skip", "kill", "killnowait"]), abandon=st.booleans()
    )
    def cancel(self, data: st.DataObject, mode: str, abandon: bool) -> None:
        request_id = data.draw(st.sampled_from(sorted(self.outstanding)))
        try:
            canceled = self.conn.session.cancel(request_id, mode, abandon=abandon)
        except LOCAL_MISUSE:
            return
        if canceled and abandon:
            self.outstanding.discard(request_id)  # the application stopped waiting
        self.flush()

    @precondition(lambda self: self.invocations)
    @rule(data=st.data(), as_error=st.booleans())
    def answer_invocation(self, data: st.DataObject, as_error: bool) -> None:
        request_id = data.draw(st.sampled_from(self.invocations))
        session = self.conn.session
        if as_error:
            session.yield_error(request_id, "wamp.error.canceled")
        else:
            session.yield_result(request_id, [2])
        self.flush()

    @rule()
    def leave(self) -> None:
        self.request(lambda s: s.leave(now=self.now))

    @rule()
    def join_again(self) -> None:
        self.request(lambda s: s.join(now=self.now))

    # ---- invariants

    @invariant()
    def nothing_pending_outside_a_session(self) -> None:
        session = self.conn.session
        if not session.is_joined:
            assert not self.outstanding, f"requests left pending: {sorted(self.outstanding)}"
        assert session.pending_requests <= len(self.outstanding)

    @invariant()
    def closed_means_silent(self) -> None:
        if self.drained_after_close:
            assert self.conn.data_to_send() == b""


def _publish(session: ClientSession, options: PublishOptions) -> int | None:
    request_id = session.publish("com.example.t", [1], options=options)
    return request_id if options.acknowledge else None


def _final_request_id(event: Any) -> int | None:
    if isinstance(event, Result):
        return None if event.progress else event.request_id
    if isinstance(
        event, (RequestFailed, RegistrationCreated, SubscriptionCreated, PublishAcknowledged)
    ):
        return event.request_id
    if isinstance(event, (RegistrationRemoved, SubscriptionRemoved)):
        return event.request_id or None  # 0 is a revocation, not an answer
    return None


def _answer(kind: type[Message], request_id: int, fail: bool, new_id: int) -> Message:
    """A correct answer (an ERROR if ``fail``) to a request of type ``kind`` with
    ``request_id``, which may be one the client made or one it never made."""
    if fail:
        return Error(kind.CODE, request_id, "wamp.error.not_authorized")
    if kind is Call:
        return Result(request_id, [3])
    if kind is Register:
        return Registered(request_id, new_id)
    if kind is Unregister:
        return Unregistered(request_id)
    if kind is Subscribe:
        return Subscribed(request_id, new_id)
    if kind is Unsubscribe:
        return Unsubscribed(request_id)
    return Published(request_id, new_id)


TestSessionMachine = SessionMachine.TestCase
TestSessionMachine.settings = settings(
    max_examples=MACHINE_EXAMPLES,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
