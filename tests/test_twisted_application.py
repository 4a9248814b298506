"""wamp_twisted's Application and Service."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure

from tests.test_twisted_protocol import Wire
from tests.test_twisted_runner import FakeEndpoint, FakeReactor, join
from wamp_core.messages import (
    Event,
    Goodbye,
    Invocation,
    Register,
    Registered,
    Subscribe,
    Subscribed,
    Yield,
)
from wamp_core.types import ComponentConfig
from wamp_twisted import Application, ApplicationSession, Service


def test_application_registers_subscribes_and_signals_on_every_session() -> None:
    app = Application("com.example")
    seen: list[Any] = []

    @app.register()
    def add(a: int, b: int) -> int:
        return a + b

    @app.register("com.example.gen")
    def gen(a: int) -> Any:
        value = yield defer.succeed(a * 10)
        return value

    @app.subscribe()
    def news(text: str) -> None:
        seen.append(text)

    @app.signal("onjoined")
    def joined() -> None:
        seen.append("joined")

    @app.signal("onleave")
    def left() -> None:
        seen.append("left")

    for round_ in range(2):  # a new session (after a reconnect) registers again
        wire = Wire(app(ComponentConfig(realm="realm1")))
        wire.welcome(round_ + 1)
        for n in range(2):
            register = wire.expect(Register)
            assert register.procedure == ["com.example.add", "com.example.gen"][n]
            wire.send(Registered(register.request_id, 10 + n))
        subscribe = wire.expect(Subscribe)
        assert subscribe.topic == "com.example.news"
        wire.send(Subscribed(subscribe.request_id, 20))
        assert seen[-1] == "joined" and app.session is wire.session
        wire.send(Invocation(1, 10, [1, 2]))
        assert wire.expect(Yield).args == [3]
        wire.send(Invocation(2, 11, [4]))
        assert wire.expect(Yield).args == [40]
        wire.send(Event(20, 1, ["hello"]))
        assert seen[-1] == "hello"
        wire.send(Goodbye("wamp.close.system_shutdown"))
        assert seen[-1] == "left" and app.session is None
        assert wire.transport.disconnecting
        wire.lose()


def test_service_connects_reconnects_and_leaves_on_stop() -> None:
    clock = FakeReactor()
    endpoint = FakeEndpoint(clock, refuse=1)
    service = Service(
        "rs://127.0.0.1:8081",
        "realm1",
        ApplicationSession,
        reactor=clock,
        endpoint=endpoint,
        retry_delay_jitter=0,
    )
    service.startService()
    assert len(endpoint.attempts) == 1
    clock.advance(1)
    assert len(endpoint.attempts) == 2
    proto = endpoint.protocols[0]
    join(proto)
    assert proto.session.is_attached()
    proto.connectionLost(Failure(ConnectionDone()))
    clock.advance(1)
    proto = endpoint.protocols[1]
    join(proto)

    stopped = service.stopService()
    assert not stopped.called  # GOODBYE sent, waiting for the router (or the timeout)
    clock.advance(proto.connection.session.close_timeout + 0.1)
    assert proto.transport.disconnecting  # type: ignore[union-attr]
    proto.connectionLost(Failure(ConnectionDone()))
    assert stopped.called
    clock.advance(100)
    assert len(endpoint.attempts) == 3  # no reconnect after stopService
    assert clock.triggers == {}  # nor a shutdown trigger left behind
