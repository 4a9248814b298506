"""wamp_twisted's protocol and session on a StringTransport and a task.Clock, with the
byte-level ScriptedRouter playing the router (RawSocket and WebSocket)."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import defer, task
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from tests.harness import ROUTER_ROLES
from tests.helpers import FeedSpy
from wamp_core.application.url import parse_url
from wamp_core.connection import DISPATCH_CHUNK
from wamp_core.exception import ApplicationError, SessionNotReady, TransportLost
from wamp_core.messages import (
    Authenticate,
    Call,
    Cancel,
    Challenge,
    Error,
    Event,
    Goodbye,
    Hello,
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
    Welcome,
    Yield,
)
from wamp_core.testing.router import ScriptedRouter
from wamp_core.types import (
    CallOptions,
    CallResult,
    CloseDetails,
    ComponentConfig,
    PublishOptions,
    RegisterOptions,
    SessionDetails,
)
from wamp_twisted import ApplicationSession, Session, WampClientFactory
from wamp_twisted.util import sleep

CALL, INVOCATION = 48, 68


class Recorder(Session):
    """A Session that records its hooks."""

    def __init__(self, config: ComponentConfig | None = None) -> None:
        super().__init__(config or ComponentConfig(realm="realm1"))
        self.hooks: list[str] = []
        self.errors: list[tuple[BaseException, str]] = []

    def on_join(self, details: SessionDetails) -> None:
        self.hooks.append("join")

    def on_leave(self, details: CloseDetails) -> None:
        self.hooks.append(f"leave:{details.reason}")
        self.disconnect()

    def on_disconnect(self) -> None:
        self.hooks.append("disconnect")

    def on_user_error(self, fail: BaseException, msg: str) -> None:
        self.errors.append((fail, msg))


class Wire:
    """A session on a StringTransport, the ScriptedRouter at the other end."""

    def __init__(
        self, session: Session, url: str = "rs://127.0.0.1:1", serializer: str = "json"
    ) -> None:
        self.clock = task.Clock()
        target = parse_url(url)
        self.router = ScriptedRouter(target.kind, serializer)
        factory = WampClientFactory(
            lambda: session, target, "realm1", self.clock, serializers=[serializer]
        )
        self.session = session
        self.proto = factory.buildProtocol(None)
        self.transport = StringTransport()
        self.proto.makeConnection(self.transport)
        self.pump()

    def pump(self) -> None:
        for _ in range(50):
            data = self.transport.value()
            self.transport.clear()
            if data:
                self.router.receive_data(data)
            answer = self.router.data_to_send()
            if answer and not self.proto.is_lost:
                self.proto.dataReceived(answer)
            if not data and not answer:
                return

    def expect(self, cls: type[Any]) -> Any:
        self.pump()
        return self.router.expect(cls)

    def received(self) -> list[Message]:
        self.pump()
        return self.router.received()

    def send(self, *messages: Message) -> None:
        self.router.send(*messages)
        self.pump()

    def welcome(self, session_id: int = 1) -> Hello:
        hello: Hello = self.expect(Hello)
        self.send(
            Welcome(session_id, {"roles": ROUTER_ROLES, "authid": "anon", "authrole": "anonymous"})
        )
        return hello

    def lose(self) -> None:
        self.proto.connectionLost(Failure(ConnectionDone()))


def joined(session: Session | None = None, **kwargs: Any) -> Wire:
    wire = Wire(session or Recorder(), **kwargs)
    wire.welcome()
    assert wire.session.is_attached()
    return wire


def result_of(d: defer.Deferred[Any]) -> Any:
    out: list[Any] = []
    d.addBoth(out.append)
    assert out, "the Deferred has not fired"
    if isinstance(out[0], Failure):
        out[0].raiseException()
    return out[0]


def failure_of(d: defer.Deferred[Any]) -> BaseException:
    out: list[Any] = []
    d.addBoth(out.append)
    assert out and isinstance(out[0], Failure), out
    error = out[0].value
    assert isinstance(error, BaseException)
    return error


@pytest.mark.parametrize("url", ["rs://127.0.0.1:1", "ws://127.0.0.1:8080/ws"])
@pytest.mark.parametrize("serializer", ["json", "msgpack", "cbor"])
def test_join_call_result_register_invocation_yield(url: str, serializer: str) -> None:
    wire = joined(url=url, serializer=serializer)
    session = wire.session
    assert session.details is not None and session.details.session == 1
    assert session.hooks == ["join"]  # type: ignore[attr-defined]

    d = session.call("com.add", 2, 3, options=CallOptions(timeout=10))
    sent = wire.expect(Call)
    assert sent.args == [2, 3] and sent.options == {"timeout": 11}
    wire.send(Result(sent.request_id, [5]))
    assert result_of(d) == 5

    d = session.call("com.multi")
    wire.send(Result(wire.expect(Call).request_id, [1, 2], {"x": 3}))
    value = result_of(d)
    assert (
        isinstance(value, CallResult)
        and list(value.results) == [1, 2]
        and value.kwresults == {"x": 3}
    )

    def add(a: int, b: int) -> int:
        return a + b

    @defer.inlineCallbacks
    def twice(a: int) -> Any:
        yield sleep(1, wire.clock)
        return a * 2

    async def neg(a: int) -> int:
        await sleep(1, wire.clock)
        return -a

    registrations = []
    for n, (fn, uri) in enumerate([(add, "com.add"), (twice, "com.twice"), (neg, "com.neg")]):
        d = session.register(fn, uri)
        wire.send(Registered(wire.expect(Register).request_id, 10 + n))
        registrations.append(result_of(d))
    assert registrations[0].procedure == "com.add"

    wire.send(Invocation(100, 10, [4, 5]))
    answer = wire.expect(Yield)
    assert (answer.request_id, answer.args) == (100, [9])
    wire.send(Invocation(101, 11, [4]), Invocation(102, 12, [4]))
    assert wire.received() == []
    wire.clock.advance(1)
    answers = {m.request_id: m.args for m in wire.received()}
    assert answers == {101: [8], 102: [-4]}

    d = registrations[0].unregister()
    unregister = wire.expect(Unregister)
    assert unregister.registration_id == 10
    wire.send(Unregistered(unregister.request_id))
    assert result_of(d) is None and not registrations[0].active
    session.disconnect()
    wire.pump()  # WebSocket: the close handshake
    assert wire.transport.disconnecting
    wire.lose()
    hooks = ["join", "leave:wamp.close.transport_lost", "disconnect"]
    assert session.hooks == hooks  # type: ignore[attr-defined]


def test_error_mapping_and_endpoint_errors() -> None:
    class Oops(Exception):
        pass

    wire = joined()
    session = wire.session
    session.define(Oops, "com.error.oops")

    d = session.call("com.fail")
    wire.send(Error(CALL, wire.expect(Call).request_id, "com.error.oops", ["bad"]))
    assert isinstance(failure_of(d), Oops)

    d = session.call("com.fail")
    wire.send(Error(CALL, wire.expect(Call).request_id, "wamp.error.no_such_procedure"))
    error = failure_of(d)
    assert isinstance(error, ApplicationError) and error.error == "wamp.error.no_such_procedure"

    def raises(kind: str) -> None:
        if kind == "oops":
            raise Oops("no")
        if kind == "app":
            raise ApplicationError("com.error.mine", 1, x=2)
        raise ValueError("plain")

    session.register(raises, "com.raises")
    wire.send(Registered(wire.expect(Register).request_id, 5))
    for n, kind in enumerate(["oops", "app", "plain"]):
        wire.send(Invocation(n + 1, 5, [kind]))
    errors = [(m.request_id, m.error, m.args) for m in wire.received()]
    assert errors[0][:2] == (1, "com.error.oops")
    assert errors[1] == (2, "com.error.mine", [1])
    assert errors[2][1] == "wamp.error.runtime_error"


def test_cancel_sends_cancel_with_the_session_mode() -> None:
    wire = joined()
    session = wire.session
    session.cancel_mode = "killnowait"
    d = session.call("com.slow")
    call = wire.expect(Call)
    d.cancel()
    assert isinstance(failure_of(d), defer.CancelledError)
    cancel = wire.expect(Cancel)
    assert cancel.request_id == call.request_id and cancel.mode == "killnowait"
    wire.send(Error(CALL, call.request_id, "wamp.error.canceled"))  # dropped quietly
    assert session.is_attached()


def test_interrupt_cancels_the_endpoint_and_answers_canceled() -> None:
    wire = joined()
    canceled: list[bool] = []

    def slow() -> defer.Deferred[None]:
        return defer.Deferred(lambda _: canceled.append(True))

    wire.session.register(slow, "com.slow")
    wire.send(Registered(wire.expect(Register).request_id, 1), Invocation(7, 1))
    assert wire.received() == []
    wire.send(Interrupt(7, {"mode": "kill"}))
    error = wire.expect(Error)
    assert (error.request_type, error.request_id, error.error) == (
        INVOCATION,
        7,
        "wamp.error.canceled",
    )
    assert canceled == [True]


def test_concurrency_limit_and_progressive_results() -> None:
    wire = joined()
    gates: list[defer.Deferred[int]] = []

    def gated() -> defer.Deferred[int]:
        gates.append(defer.Deferred())
        return gates[-1]

    wire.session.register(gated, "com.gated", RegisterOptions(concurrency=1))
    wire.send(Registered(wire.expect(Register).request_id, 1))
    wire.send(Invocation(1, 1), Invocation(2, 1))
    assert len(gates) == 1
    gates[0].callback(10)
    assert [m.request_id for m in wire.received()] == [1]
    assert len(gates) == 2
    gates[1].callback(20)
    assert wire.expect(Yield).args == [20]

    progress: list[Any] = []
    d = wire.session.call("com.progress", options=CallOptions(on_progress=progress.append))
    call = wire.expect(Call)
    assert call.options == {"receive_progress": True}
    wire.send(Result(call.request_id, [1], details={"progress": True}))
    wire.send(Result(call.request_id, [2]))
    assert progress == [1] and result_of(d) == 2


def test_call_with_details_gives_call_results() -> None:
    """CallOptions(details=True): the result and each progressive result are
    CallResults with the callee's identity, whatever their shape."""
    wire = joined()
    progress: list[Any] = []
    options = CallOptions(on_progress=progress.append, details=True)
    d = wire.session.call("com.p", options=options)
    call = wire.expect(Call)
    identity = {"callee": 7, "callee_authid": "bob", "callee_authrole": "user"}
    wire.send(Result(call.request_id, [1], details={"progress": True, **identity}))
    wire.send(Result(call.request_id, details=identity))
    (chunk,) = progress
    final = result_of(d)
    assert isinstance(chunk, CallResult) and chunk.results == (1,)
    assert isinstance(final, CallResult) and final.results == () and final.kwresults == {}
    for value in (chunk, final):
        assert (value.callee, value.callee_authid, value.callee_authrole) == (7, "bob", "user")


def test_events_in_order_per_handler() -> None:
    wire = joined()
    seen: list[Any] = []
    gates: dict[int, defer.Deferred[None]] = {}

    def plain(n: int) -> None:
        seen.append(("plain", n))

    def deferred(n: int) -> defer.Deferred[None]:
        seen.append(("start", n))
        gates[n] = defer.Deferred()
        return gates[n].addCallback(lambda _: seen.append(("end", n)))

    async def coroutine(n: int) -> None:
        await sleep(1, wire.clock)
        seen.append(("async", n))

    for fn in [plain, deferred, coroutine]:
        wire.session.subscribe(fn, "com.topic")
        wire.send(Subscribed(wire.expect(Subscribe).request_id, 1))
    for n in range(3):
        wire.send(Event(1, 100 + n, [n]))
    assert [s for s in seen if s[0] == "plain"] == [("plain", 0), ("plain", 1), ("plain", 2)]
    assert [s for s in seen if s[0] == "start"] == [("start", 0)]
    gates[0].callback(None)
    assert ("start", 1) in seen and ("start", 2) not in seen
    gates[1].callback(None)
    gates[2].callback(None)
    ordered = [s for s in seen if s[0] in ("start", "end")]
    assert ordered == [(k, n) for n in range(3) for k in ("start", "end")]
    for _ in range(3):
        wire.clock.advance(1)
    assert [s for s in seen if s[0] == "async"] == [("async", 0), ("async", 1), ("async", 2)]

    def broken(n: int) -> None:
        raise ValueError(n)

    wire.session.subscribe(broken, "com.broken")
    wire.send(Subscribed(wire.expect(Subscribe).request_id, 2))
    wire.send(Event(2, 200, [7]))
    errors = wire.session.errors  # type: ignore[attr-defined]
    assert isinstance(errors[0][0], ValueError) and "com.broken" in errors[0][1]


def test_a_big_read_is_handled_slice_by_slice() -> None:
    wire = joined()
    seen: list[int] = []

    def on_event(n: int, padding: str) -> None:
        seen.append(n)

    wire.session.subscribe(on_event, "com.topic")
    wire.send(Subscribed(wire.expect(Subscribe).request_id, 1))
    spy = FeedSpy(wire.proto.connection, seen)
    wire.proto.connection = spy
    wire.router.send(*(Event(1, 100 + n, [n, "x" * 30]) for n in range(1, 501)))
    data = wire.router.data_to_send()
    assert len(data) > 4 * DISPATCH_CHUNK
    wire.proto.dataReceived(data)  # one read: frames split across the slices
    assert seen == list(range(1, 501))  # every event, in order
    assert sum(spy.sizes) == len(data) and max(spy.sizes) == DISPATCH_CHUNK
    assert len(spy.sizes) == -(-len(data) // DISPATCH_CHUNK)
    assert spy.fed[1][1] > 0  # the first slice's events ran before the second came


def test_what_follows_a_violation_in_a_big_read_is_not_fed() -> None:
    wire = joined()
    spy = FeedSpy(wire.proto.connection)
    wire.proto.connection = spy
    wire.router.send(Event(99, 1, [1]))  # no such subscription: a protocol violation
    wire.router.send(*(Event(1, 100 + n, ["x" * 40]) for n in range(400)))
    wire.proto.dataReceived(wire.router.data_to_send())
    assert spy.sizes == [DISPATCH_CHUNK]  # the connection closed on the first slice
    assert spy.inner.closed


def test_publish_acknowledged_and_not() -> None:
    wire = joined()
    assert wire.session.publish("com.topic", 1) is None
    assert wire.expect(Publish).args == [1]
    d = wire.session.publish("com.topic", 2, options=PublishOptions(acknowledge=True))
    assert d is not None
    wire.send(Published(wire.expect(Publish).request_id, 55))
    assert result_of(d).id == 55


def test_lost_asked_for_before_the_end_fires_at_the_end() -> None:
    wire = joined()
    lost = wire.proto.lost
    assert wire.proto.lost is lost and not lost.called
    wire.lose()
    assert result_of(lost) is None


def test_connection_lost_fails_pending_and_runs_hooks_in_order() -> None:
    wire = joined()
    session = wire.session
    d = session.call("com.pending")
    wire.expect(Call)
    wire.lose()
    assert isinstance(failure_of(d), TransportLost)
    assert session.hooks == ["join", "leave:wamp.close.transport_lost", "disconnect"]  # type: ignore[attr-defined]
    assert not session.is_connected()
    assert result_of(wire.proto.lost) is None
    with pytest.raises(SessionNotReady):
        session.call("com.after")


def test_leave_sends_goodbye_and_fires_when_the_router_answers() -> None:
    wire = joined()
    d = wire.session.leave("wamp.close.system_shutdown", "bye")
    goodbye = wire.expect(Goodbye)
    assert goodbye.reason == "wamp.close.system_shutdown"
    wire.send(Goodbye("wamp.close.goodbye_and_out"))
    assert result_of(d).reason == "wamp.close.goodbye_and_out"
    assert wire.transport.disconnecting  # the default on_leave disconnects
    wire.lose()
    assert wire.session.hooks[-1] == "disconnect"  # type: ignore[attr-defined]


def test_leave_times_out_on_the_clock() -> None:
    wire = joined()
    d = wire.session.leave()
    wire.expect(Goodbye)
    assert not d.called
    wire.clock.advance(wire.proto.connection.session.close_timeout + 0.1)
    wire.pump()
    assert d.called and wire.transport.disconnecting


def test_call_timeout_on_the_clock() -> None:
    wire = joined()
    d = wire.session.call("com.slow", options=CallOptions(timeout=2))
    wire.expect(Call)
    wire.clock.advance(1.9)
    assert not d.called
    wire.clock.advance(0.2)
    error = failure_of(d)
    assert isinstance(error, ApplicationError) and error.error == "wamp.error.timeout"
    assert wire.proto._timer is None


def test_calls_made_by_result_callbacks_leave_in_one_write_after_the_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wire = joined()
    first = [wire.session.call("com.a", n) for n in range(3)]
    calls = [m for m in wire.received() if isinstance(m, Call)]
    batching: list[bool] = []

    def again(value: Any) -> None:
        batching.append(wire.proto.core.batching)  # no flush asked per request
        wire.session.call("com.b", value)

    for d in first:
        d.addCallback(again)
    writes: list[bytes] = []
    monkeypatch.setattr(wire.transport, "write", writes.append)
    wire.router.send(*(Result(call.request_id, [n]) for n, call in enumerate(calls)))
    wire.proto.dataReceived(wire.router.data_to_send())
    assert batching == [True, True, True]
    assert not wire.proto.core.batching
    assert len(writes) == 1  # the three CALLs, written once the results were handled
    wire.router.receive_data(writes[0])
    sent = [m for m in wire.router.received() if isinstance(m, Call)]
    assert [(m.procedure, m.args) for m in sent] == [
        ("com.b", [0]),
        ("com.b", [1]),
        ("com.b", [2]),
    ]


def test_on_challenge_answers_and_hook_errors_reach_on_user_error() -> None:
    class Ticketed(Recorder):
        def on_connect(self) -> None:
            self.join("realm1", authmethods=["ticket"], authid="joe")

        @defer.inlineCallbacks
        def on_challenge(self, challenge: Any) -> Any:
            yield sleep(0.5, wire.clock)
            return f"secret-for-{challenge.method}"

        def on_join(self, details: SessionDetails) -> None:
            raise RuntimeError("join hook broke")

    wire = Wire(Ticketed())
    hello = wire.expect(Hello)
    assert hello.details["authmethods"] == ["ticket"] and hello.details["authid"] == "joe"
    wire.send(Challenge("ticket", {}))
    assert wire.received() == []
    wire.clock.advance(0.5)
    assert wire.expect(Authenticate).signature == "secret-for-ticket"
    wire.send(Welcome(3, {"roles": ROUTER_ROLES, "authid": "joe", "authmethod": "ticket"}))
    errors = wire.session.errors  # type: ignore[attr-defined]
    assert isinstance(errors[0][0], RuntimeError) and errors[0][1] == "on_join raised"


def test_unanswerable_challenge_aborts() -> None:
    class Cra(Recorder):
        def on_connect(self) -> None:
            self.join("realm1", authmethods=["wampcra"])

    wire = Wire(Cra())
    session = wire.session
    wire.expect(Hello)
    wire.send(Challenge("wampcra", {"challenge": "x"}))
    messages = wire.received()
    assert messages and messages[0].reason == "wamp.error.authentication_failed"  # type: ignore[attr-defined]
    assert session.errors[0][1] == "on_challenge raised"  # type: ignore[attr-defined]


def test_application_session_camel_case_callbacks() -> None:
    calls: list[str] = []

    class App(ApplicationSession):
        @defer.inlineCallbacks
        def onJoin(self, details: SessionDetails) -> Any:
            calls.append(f"join:{details.realm}")
            value = yield self.call("com.x")
            calls.append(f"result:{value}")
            yield self.leave()

        def onLeave(self, details: CloseDetails) -> None:
            calls.append(f"leave:{details.reason}")
            self.disconnect()

        def onDisconnect(self) -> None:
            calls.append("disconnect")

    wire = Wire(App(ComponentConfig(realm="realm1")))
    assert wire.expect(Hello).realm == "realm1"
    wire.send(Welcome(9, {"roles": ROUTER_ROLES, "realm": "realm1"}))
    wire.send(Result(wire.expect(Call).request_id, ["ok"]))
    wire.expect(Goodbye)
    wire.send(Goodbye("wamp.close.goodbye_and_out"))
    wire.lose()
    assert calls == ["join:realm1", "result:ok", "leave:wamp.close.goodbye_and_out", "disconnect"]


def test_requests_need_a_joined_session() -> None:
    session = Recorder()
    with pytest.raises(SessionNotReady):
        session.call("com.x")
    with pytest.raises(SessionNotReady):
        session.publish("com.x")
    wire = Wire(session)
    with pytest.raises(SessionNotReady):
        session.register(lambda: None, "com.x")
    wire.welcome()
    session.publish("com.x")
    assert wire.expect(Publish)


def test_websocket_ping_timer_and_bytewise_input() -> None:
    session = Recorder()
    wire = Wire(session, url="ws://127.0.0.1:8080/ws")
    wire.pump()
    hello = wire.expect(Hello)
    assert hello.realm == "realm1"
    welcome = ScriptedRouter("websocket", "json")
    del welcome
    wire.router.send(Welcome(1, {"roles": ROUTER_ROLES}))
    data = wire.router.data_to_send()
    for byte in data:  # one byte at a time
        wire.proto.dataReceived(bytes([byte]))
    assert session.is_attached()


# ---- hooks canceled with the transport; TLS channel binding


def logged_failures() -> tuple[list[dict[str, Any]], Any]:
    """Collect what is logged with a failure or at error level (and the observer)."""
    from twisted.logger import LogLevel, globalLogPublisher

    events: list[dict[str, Any]] = []

    def observe(event: dict[str, Any]) -> None:
        if "log_failure" in event or event.get("log_level") in (LogLevel.error, LogLevel.critical):
            events.append(event)

    globalLogPublisher.addObserver(observe)
    return events, observe


@pytest.mark.parametrize("style", ["async", "inlineCallbacks"])
def test_on_join_still_running_is_canceled_when_the_transport_closes(style: str) -> None:
    import gc

    from twisted.logger import globalLogPublisher

    never: defer.Deferred[None] = defer.Deferred()
    seen: list[str] = []

    class Waiting(ApplicationSession):
        async def awaits(self) -> None:
            try:
                await never
            except defer.CancelledError:
                seen.append("canceled")
                raise

        @defer.inlineCallbacks
        def yields(self) -> Any:
            try:
                yield never
            except defer.CancelledError:
                seen.append("canceled")
                raise

        def onJoin(self, details: SessionDetails) -> Any:
            return self.awaits() if style == "async" else self.yields()

        def onDisconnect(self) -> None:
            seen.append("disconnect")

    events, observer = logged_failures()
    try:
        wire = joined(Waiting(ComponentConfig(realm="realm1")))
        assert seen == []
        wire.lose()
        gc.collect()  # an unhandled failure in a Deferred is logged when it is collected
    finally:
        globalLogPublisher.removeObserver(observer)
    assert seen == ["disconnect", "canceled"]
    assert events == []
    assert wire.session._hooks == {}


def test_a_finished_hook_is_not_canceled_and_errors_still_reach_on_user_error() -> None:
    class Broken(Recorder):
        def on_join(self, details: SessionDetails) -> Any:
            return sleep(1.0, wire.clock).addCallback(lambda _: 1 / 0)

    wire = Wire(Broken())
    wire.welcome()
    wire.clock.advance(1.0)
    errors = wire.session.errors  # type: ignore[attr-defined]
    assert isinstance(errors[0][0], ZeroDivisionError) and errors[0][1] == "on_join raised"
    wire.lose()
    assert len(errors) == 1


class FakeTls:
    """What ``transport.getHandle()`` gives over TLS: a pyOpenSSL Connection."""

    def __init__(self, finished: bytes | None) -> None:
        self.finished = finished

    def get_finished(self) -> bytes | None:
        return self.finished


def test_tls_unique_is_the_finished_message_of_the_handshake() -> None:
    from wamp_twisted.protocol import tls_unique

    class Transport:
        def __init__(self, handle: Any) -> None:
            self.handle = handle

        def getHandle(self) -> Any:
            return self.handle

    assert tls_unique(Transport(FakeTls(b"\x01" * 12))) == b"\x01" * 12
    assert tls_unique(Transport(FakeTls(None))) is None  # no handshake (yet)
    assert tls_unique(Transport(object())) is None  # a socket: not TLS
    assert tls_unique(StringTransport()) is None


def test_cryptosign_binds_to_the_tls_channel_after_the_handshake() -> None:
    from twisted.internet.interfaces import IHandshakeListener

    from wamp_core.auth import CryptosignKey
    from wamp_core.auth import cryptosign_channel_id as channel_id_of
    from wamp_core.auth._cryptosign_key import cryptosign_sign

    seed = "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510"
    finished = bytes(range(12))
    clock = task.Clock()
    router = ScriptedRouter("rawsocket", "json")
    credentials = {"authid": "alice", "privkey": seed, "channel_binding": "tls-unique"}
    factory = WampClientFactory(
        Recorder,
        parse_url("rss://127.0.0.1:1"),
        "realm1",
        clock,
        serializers=["json"],
        authentication={"cryptosign": credentials},
    )
    proto = factory.buildProtocol(None)
    assert IHandshakeListener.providedBy(proto)
    transport = StringTransport()
    transport.getHandle = lambda: FakeTls(finished)  # type: ignore[attr-defined]
    proto.makeConnection(transport)
    proto.handshakeCompleted()  # what TLSMemoryBIOProtocol calls
    assert proto.connection.session.channel_id == finished

    def exchange() -> None:
        for _ in range(5):
            router.receive_data(transport.value())
            transport.clear()
            answer = router.data_to_send()
            if answer:
                proto.dataReceived(answer)

    exchange()
    hello = router.expect(Hello)
    assert hello.details["authextra"]["channel_binding"] == "tls-unique"
    challenge = "ab" * 32
    router.send(Challenge("cryptosign", {"challenge": challenge, "channel_binding": "tls-unique"}))
    proto.dataReceived(router.data_to_send())
    exchange()
    signature = router.expect(Authenticate).signature
    key = CryptosignKey.from_hex(seed)
    assert signature == cryptosign_sign(key, bytes.fromhex(challenge), channel_id_of(finished))
    assert signature != cryptosign_sign(key, bytes.fromhex(challenge))


def test_the_protocol_module_never_imports_the_session_module() -> None:
    """The dependency goes one way (session -> protocol), type-checking imports
    included: the protocol knows its session only as a ProtocolSession."""
    import ast
    import inspect

    import wamp_twisted.protocol
    import wamp_twisted.session

    def imported(module: Any) -> set[str]:
        names: set[str] = set()
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        return names

    assert not any(
        name.startswith("wamp_twisted.session") for name in imported(wamp_twisted.protocol)
    )
    assert "wamp_twisted.protocol" in imported(wamp_twisted.session)
