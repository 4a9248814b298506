"""wamp_twisted's ApplicationRunner with a fake endpoint and a fake reactor (a task.Clock
with system event triggers)."""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet import defer, task
from twisted.internet.endpoints import (
    HostnameEndpoint,
    TCP4ClientEndpoint,
    TCP6ClientEndpoint,
    UNIXClientEndpoint,
)
from twisted.internet.error import ConnectionDone, ConnectionLost, ConnectionRefusedError
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from tests.harness import ROUTER_ROLES
from wamp_core.application.url import parse_url
from wamp_core.messages import Goodbye, Hello, Welcome
from wamp_core.testing.router import ScriptedRouter
from wamp_core.types import ComponentConfig
from wamp_twisted import ApplicationSession
from wamp_twisted.protocol import WampProtocol
from wamp_twisted.runner import ApplicationRunner, endpoint_for


class FakeReactor(task.Clock):
    """A task.Clock with a reactor's system event triggers: kept until fired or removed
    (removing one that is gone is an error, as in Twisted); ``run()`` and ``stop()``
    only record."""

    running = False

    def __init__(self) -> None:
        super().__init__()
        self.triggers: dict[int, tuple[str, str, Callable[[], Any]]] = {}
        self._last_trigger = 0
        self.ran = False

    def run(self) -> None:
        self.ran = True

    def stop(self) -> None:
        self.running = False

    def addSystemEventTrigger(
        self, phase: str, event: str, trigger: Callable[..., Any], *args: Any
    ) -> int:
        self._last_trigger += 1
        self.triggers[self._last_trigger] = (phase, event, functools.partial(trigger, *args))
        return self._last_trigger

    def removeSystemEventTrigger(self, handle: int) -> None:
        del self.triggers[handle]

    def shutdown_triggers(self) -> int:
        return sum(1 for phase, event, _ in self.triggers.values() if event == "shutdown")

    def fire_shutdown(self) -> list[Any]:
        """What reactor.stop() does first: run (and drop) the "before shutdown" triggers."""
        results = []
        for handle, (phase, event, trigger) in list(self.triggers.items()):
            if (phase, event) == ("before", "shutdown"):
                del self.triggers[handle]
                results.append(trigger())
        return results


class FakeEndpoint:
    """Refuses the first ``refuse`` attempts, then connects to a StringTransport."""

    def __init__(self, clock: task.Clock, refuse: int = 0) -> None:
        self.clock = clock
        self.refuse = refuse
        self.attempts: list[float] = []
        self.protocols: list[WampProtocol] = []

    def connect(self, factory: Any) -> defer.Deferred[Any]:
        self.attempts.append(self.clock.seconds())
        if len(self.attempts) <= self.refuse:
            return defer.fail(ConnectionRefusedError("no router"))
        proto = factory.buildProtocol(None)
        proto.makeConnection(StringTransport())
        self.protocols.append(proto)
        return defer.succeed(proto)


def join(proto: WampProtocol, session_id: int = 1) -> ScriptedRouter:
    """Play the router up to WELCOME over the protocol's StringTransport."""
    router = ScriptedRouter("rawsocket", "msgpack")
    transport: Any = proto.transport
    for _ in range(5):
        router.receive_data(transport.value())
        transport.clear()
        answer = router.data_to_send()
        if answer:
            proto.dataReceived(answer)
    assert isinstance(router.received()[0], Hello)
    router.send(Welcome(session_id, {"roles": ROUTER_ROLES}))
    proto.dataReceived(router.data_to_send())
    return router


def runner(**kwargs: Any) -> ApplicationRunner:
    r = ApplicationRunner("rs://127.0.0.1:8081", "realm1", **kwargs)
    r.random = lambda: 0.5
    return r


def test_never_reachable_router_backs_off_with_exact_delays_then_fails() -> None:
    clock = FakeReactor()
    endpoint = FakeEndpoint(clock, refuse=100)
    r = runner(max_retries=3, initial_retry_delay=1, retry_delay_growth=2, retry_delay_jitter=0.2)
    d = r.run(
        ApplicationSession,
        start_reactor=False,
        auto_reconnect=True,
        endpoint=endpoint,
        reactor=clock,
    )
    for delay in (1.1 - 1e-6, 1e-6, 2.1, 4.1, 100):
        clock.advance(delay)
        if delay < 0.001:
            assert len(endpoint.attempts) == 2  # not a moment before 1.1 s
    assert endpoint.attempts == pytest.approx([0, 1.1, 1.1 + 2.1, 1.1 + 2.1 + 4.1])
    failures: list[Failure] = []
    d.addErrback(failures.append)
    assert failures and failures[0].check(ConnectionRefusedError)


def test_seeded_jitter_gives_exact_reconnect_delays() -> None:
    # The jitter comes from the runner's random source: seeded, every delay is known
    # in advance (delay n = min(1 * 3**n, 5) + 0.5 * random()).
    clock = FakeReactor()
    endpoint = FakeEndpoint(clock, refuse=100)
    r = ApplicationRunner(
        "rs://127.0.0.1:8081",
        "realm1",
        max_retries=4,
        initial_retry_delay=1,
        max_retry_delay=5,
        retry_delay_growth=3,
        retry_delay_jitter=0.5,
    )
    r.random = random.Random(2026).random
    draws = random.Random(2026)
    delays = [base + 0.5 * draws.random() for base in (1, 3, 5, 5)]
    d = r.run(
        ApplicationSession,
        start_reactor=False,
        auto_reconnect=True,
        endpoint=endpoint,
        reactor=clock,
    )
    for attempt, delay in enumerate(delays, start=1):
        clock.advance(delay - 1e-6)
        assert len(endpoint.attempts) == attempt  # not a moment early
        clock.advance(1e-6)
        assert len(endpoint.attempts) == attempt + 1
    waited = [b - a for a, b in itertools.pairwise(endpoint.attempts)]
    assert waited == pytest.approx(delays)
    clock.advance(100)
    assert len(endpoint.attempts) == 5  # max_retries
    failures: list[Failure] = []
    d.addErrback(failures.append)
    assert failures and failures[0].check(ConnectionRefusedError)


def test_only_max_retries_given() -> None:
    clock = FakeReactor()
    endpoint = FakeEndpoint(clock, refuse=1)
    r = ApplicationRunner("rs://127.0.0.1:8081", "realm1", max_retries=2)
    r.random = lambda: 0.0
    d = r.run(
        ApplicationSession,
        start_reactor=False,
        auto_reconnect=True,
        endpoint=endpoint,
        reactor=clock,
    )
    assert not d.called
    clock.advance(1.0)  # the default initial delay, no jitter from random() == 0
    assert len(endpoint.attempts) == 2
    protos: list[Any] = []
    d.addCallback(protos.append)
    assert protos == endpoint.protocols


def test_without_auto_reconnect_a_connect_error_fails_at_once() -> None:
    clock = FakeReactor()
    d = runner().run(
        ApplicationSession, start_reactor=False, endpoint=FakeEndpoint(clock, 1), reactor=clock
    )
    failures: list[Failure] = []
    d.addErrback(failures.append)
    assert failures[0].check(ConnectionRefusedError)


def test_reconnects_after_a_lost_session_and_restarts_the_backoff() -> None:
    clock = FakeReactor()
    endpoint = FakeEndpoint(clock)
    joined: list[int] = []

    class App(ApplicationSession):
        def onJoin(self, details: Any) -> None:
            joined.append(details.session)

    r = runner(initial_retry_delay=2, retry_delay_jitter=0)
    configs: list[ComponentConfig] = []

    def make(config: ComponentConfig) -> App:
        configs.append(config)
        return App(config)

    r.run(make, start_reactor=False, auto_reconnect=True, endpoint=endpoint, reactor=clock)
    join(endpoint.protocols[0], 1)
    assert joined == [1] and r.session is not None and r.session.is_attached()
    assert configs[0].realm == "realm1" and configs[0].runner is r
    endpoint.protocols[0].connectionLost(Failure(ConnectionDone()))
    assert r.session is None
    clock.advance(1.9)
    assert len(endpoint.attempts) == 1
    clock.advance(0.1)
    assert len(endpoint.attempts) == 2
    join(endpoint.protocols[1], 2)
    assert joined == [1, 2]

    r.stop()  # closes the transport; no further attempt
    endpoint.protocols[1].connectionLost(Failure(ConnectionDone()))
    clock.advance(100)
    assert len(endpoint.attempts) == 2


def test_stop_cancels_the_wait_between_attempts() -> None:
    clock = FakeReactor()
    endpoint = FakeEndpoint(clock, refuse=100)
    r = runner()
    r.run(
        ApplicationSession,
        start_reactor=False,
        auto_reconnect=True,
        endpoint=endpoint,
        reactor=clock,
    )
    r.stop()
    clock.advance(100)
    assert len(endpoint.attempts) == 1


def test_endpoint_without_reactor() -> None:
    clock = FakeReactor()
    endpoint = FakeEndpoint(clock)
    d = runner().run(ApplicationSession, start_reactor=False, endpoint=endpoint)
    protos: list[Any] = []
    d.addCallback(protos.append)
    assert protos == endpoint.protocols and len(protos) == 1
    protos[0].connectionLost(Failure(ConnectionDone()))


def test_start_reactor_reraises_the_connect_error() -> None:
    reactor = FakeReactor()
    with pytest.raises(ConnectionRefusedError):
        runner().run(
            ApplicationSession, endpoint=FakeEndpoint(reactor, 1), reactor=reactor, log_level=None
        )
    # The run had ended before the reactor would start: a real reactor, started then,
    # would have nothing left to stop it.
    assert not reactor.ran


def test_endpoints_from_urls() -> None:
    clock = task.Clock()
    assert isinstance(endpoint_for(parse_url("ws://localhost:8080/ws"), clock), HostnameEndpoint)
    assert isinstance(endpoint_for(parse_url("rs+unix:///tmp/x.sock"), clock), UNIXClientEndpoint)
    with pytest.raises(ValueError, match="not secure"):
        endpoint_for(parse_url("ws://localhost:8080/ws"), clock, ssl=object())
    with pytest.raises(ValueError):
        endpoint_for(parse_url("wss://localhost/ws"), clock, ssl=False)
    with pytest.raises(ValueError):
        ApplicationRunner("http://x", "realm1")


def test_an_ip_address_is_connected_to_without_name_resolution() -> None:
    """HostnameEndpoint resolves in a thread and races addresses; an address needs
    neither (issue 15: its state was ~4 KB per connection while connecting)."""
    clock = task.Clock()
    four = endpoint_for(parse_url("ws://127.0.0.1:8080/ws"), clock)
    assert isinstance(four, TCP4ClientEndpoint)
    assert (four._host, four._port) == ("127.0.0.1", 8080)
    six = endpoint_for(parse_url("rs://[::1]:9000"), clock)
    assert isinstance(six, TCP6ClientEndpoint)
    assert (six._host, six._port) == ("::1", 9000)
    secure = endpoint_for(parse_url("wss://10.0.0.1/ws"), clock)
    assert isinstance(secure._wrappedEndpoint, TCP4ClientEndpoint)
    by_name = endpoint_for(parse_url("wss://router.example/ws"), clock)
    assert isinstance(by_name._wrappedEndpoint, HostnameEndpoint)


class TlsFailed(Exception):
    """Stands for OpenSSL.SSL.Error (certificate verify failed): the transport was
    connected, and lost before its opening handshake completed."""


def test_a_connection_lost_before_the_transport_opened_is_a_connect_error() -> None:
    reactor = FakeReactor()
    endpoint = FakeEndpoint(reactor)

    def run() -> None:  # while the reactor "runs", the TLS handshake fails
        endpoint.protocols[0].connectionLost(Failure(TlsFailed("certificate verify failed")))

    reactor.run = run  # type: ignore[method-assign]
    with pytest.raises(TlsFailed, match="certificate verify failed"):
        runner().run(ApplicationSession, endpoint=endpoint, reactor=reactor, log_level=None)
    assert endpoint.protocols[0].open_error is not None


def test_a_connection_lost_before_the_transport_opened_is_retried() -> None:
    clock = FakeReactor()
    endpoint = FakeEndpoint(clock)
    r = runner(max_retries=1, initial_retry_delay=1, retry_delay_jitter=0)
    r.run(
        ApplicationSession,
        start_reactor=False,
        auto_reconnect=True,
        endpoint=endpoint,
        reactor=clock,
    )
    endpoint.protocols[0].connectionLost(Failure(TlsFailed()))
    clock.advance(1)
    assert len(endpoint.attempts) == 2
    endpoint.protocols[1].connectionLost(Failure(TlsFailed()))
    clock.advance(100)
    assert len(endpoint.attempts) == 2  # max_retries reached
    assert r.done is not None and r.done.called


def test_losing_an_open_transport_is_not_a_connect_error() -> None:
    clock = FakeReactor()
    endpoint = FakeEndpoint(clock)
    runner().run(ApplicationSession, start_reactor=False, endpoint=endpoint, reactor=clock)
    proto = endpoint.protocols[0]
    join(proto)
    proto.connectionLost(Failure(ConnectionLost()))
    assert proto.opened and proto.open_error is None


def test_start_reactor_removes_its_shutdown_trigger_when_the_run_ends() -> None:
    reactor = FakeReactor()
    with pytest.raises(ConnectionRefusedError):
        runner().run(
            ApplicationSession, endpoint=FakeEndpoint(reactor, 1), reactor=reactor, log_level=None
        )
    assert reactor.triggers == {}


class Leaver(ApplicationSession):
    """Records how its session ended."""

    def onLeave(self, details: Any) -> Any:
        self.config.extra.setdefault("left", []).append(details.reason)
        return super().onLeave(details)


def test_reactor_shutdown_leaves_a_session_run_without_start_reactor() -> None:
    """Autobahn's cleanup for every connection: GOODBYE, the router's answer, then the
    transport closes; onLeave sees wamp.close.normal, not transport_lost."""
    reactor = FakeReactor()
    endpoint = FakeEndpoint(reactor)
    extra: dict[str, Any] = {}
    r = runner(extra=extra)
    r.run(Leaver, start_reactor=False, auto_reconnect=True, endpoint=endpoint, reactor=reactor)
    proto = endpoint.protocols[0]
    router = join(proto)
    assert reactor.shutdown_triggers() == 1

    (leaving,) = reactor.fire_shutdown()
    transport: Any = proto.transport
    router.receive_data(transport.value())
    assert router.expect(Goodbye).reason == "wamp.close.normal"
    assert not leaving.called and not transport.disconnecting  # waits for the router
    router.send(Goodbye("wamp.close.normal"))
    proto.dataReceived(router.data_to_send())
    assert extra["left"] == ["wamp.close.normal"]
    assert transport.disconnecting and leaving.called
    proto.connectionLost(Failure(ConnectionDone()))
    reactor.advance(100)
    assert len(endpoint.attempts) == 1  # the reactor stops: no reconnect
    assert r.done is not None and r.done.called


def test_one_shutdown_trigger_per_run_across_reconnects() -> None:
    reactor = FakeReactor()
    endpoint = FakeEndpoint(reactor, refuse=1)
    r = runner(initial_retry_delay=1, retry_delay_jitter=0)
    r.run(
        ApplicationSession,
        start_reactor=False,
        auto_reconnect=True,
        endpoint=endpoint,
        reactor=reactor,
    )
    for attempt in range(2, 5):
        reactor.advance(1)
        assert len(endpoint.attempts) == attempt
        join(endpoint.protocols[-1])
        endpoint.protocols[-1].connectionLost(Failure(ConnectionDone()))
        assert reactor.shutdown_triggers() == 1
    r.stop()
    assert reactor.triggers == {}  # the run ended: its trigger is gone


def test_reactor_shutdown_between_attempts_ends_the_run() -> None:
    reactor = FakeReactor()
    endpoint = FakeEndpoint(reactor, refuse=100)
    r = runner()
    r.run(
        ApplicationSession,
        start_reactor=False,
        auto_reconnect=True,
        endpoint=endpoint,
        reactor=reactor,
    )
    assert reactor.fire_shutdown() == [None]  # nothing to leave
    reactor.advance(100)
    assert len(endpoint.attempts) == 1
    assert r.done is not None and r.done.called


def test_shutdown_twice_sends_one_goodbye_and_both_wait_for_the_answer() -> None:
    """A Service's stopService and the reactor's trigger both call shutdown()."""
    reactor = FakeReactor()
    endpoint = FakeEndpoint(reactor)
    r = runner()
    r.run(ApplicationSession, start_reactor=False, endpoint=endpoint, reactor=reactor)
    proto = endpoint.protocols[0]
    router = join(proto)
    first = r.shutdown()
    (second,) = reactor.fire_shutdown()
    transport: Any = proto.transport
    router.receive_data(transport.value())
    assert [type(m) for m in router.received()] == [Goodbye]  # one, not two
    assert first is not None and not first.called and not second.called
    assert not transport.disconnecting  # the second call did not cut the exchange short
    router.send(Goodbye("wamp.close.normal"))
    proto.dataReceived(router.data_to_send())
    assert first.called and second.called and transport.disconnecting
    proto.connectionLost(Failure(ConnectionDone()))
    assert r.shutdown() is None  # nothing left to end


def test_shutdown_of_a_session_not_joined_closes_the_transport() -> None:
    reactor = FakeReactor()
    endpoint = FakeEndpoint(reactor)
    runner().run(ApplicationSession, start_reactor=False, endpoint=endpoint, reactor=reactor)
    transport: Any = endpoint.protocols[0].transport
    assert reactor.fire_shutdown() == [None]
    assert transport.disconnecting


def test_start_reactor_with_auto_reconnect_runs_until_stop() -> None:
    """The reactor runs across reconnects; stop() ends the run, the run's end stops the
    reactor, and run() returns."""
    reactor = FakeReactor()
    endpoint = FakeEndpoint(reactor)
    r = runner(initial_retry_delay=1, retry_delay_jitter=0)
    joined: list[int] = []

    class App(ApplicationSession):
        def onJoin(self, details: Any) -> None:
            joined.append(details.session)

    def run() -> None:  # what happens while the reactor runs
        reactor.running = True
        join(endpoint.protocols[0], 1)
        endpoint.protocols[0].connectionLost(Failure(ConnectionDone()))
        reactor.advance(1)
        join(endpoint.protocols[1], 2)
        assert reactor.running  # a reconnect does not stop it
        r.stop()
        endpoint.protocols[1].connectionLost(Failure(ConnectionDone()))
        assert not reactor.running  # the run ended: it stopped the reactor

    reactor.run = run  # type: ignore[method-assign]
    done = r.run(App, auto_reconnect=True, endpoint=endpoint, reactor=reactor, log_level=None)
    assert done is None and joined == [1, 2] and len(endpoint.attempts) == 2
    assert reactor.triggers == {}
