"""The loop-independent Component (wamp_core.application.component and .transports),
driven by a stand-in adapter whose "connections" are scripted: event order, main,
decorators, reconnect and give-up rules, stop, and the transports' forms."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from wamp_core.application.component import ComponentBase, Outcome, reregister_delays
from wamp_core.application.reconnect import RetrySettings
from wamp_core.application.transports import TransportConfig, transport_configs
from wamp_core.exception import ApplicationError
from wamp_core.types import CloseDetails, ComponentConfig, SessionDetails

DETAILS = SessionDetails(realm="realm1", session=1)


class FakeSession:
    """What the component needs of a session; it records what is done to it."""

    def __init__(self, config: ComponentConfig, log: list[str]) -> None:
        self.config = config
        self.log = log
        self.attached = False
        self.already_exists = 0  # REGISTERs to refuse with procedure_already_exists
        self.register_error: str | None = None

    def on_connect(self) -> None:
        self.log.append("session.on_connect")

    async def on_join(self, details: SessionDetails) -> None:
        self.log.append("session.on_join")

    def on_leave(self, details: CloseDetails) -> None:
        self.log.append("session.on_leave")

    def on_disconnect(self) -> None:
        self.log.append("session.on_disconnect")

    def is_attached(self) -> bool:
        return self.attached

    def leave(self) -> None:
        self.log.append("leave")
        if self.attached == "broken":
            raise RuntimeError("the transport is gone")
        self.attached = False

    def disconnect(self) -> None:
        self.log.append("disconnect")
        self.attached = False

    async def register(self, fn: Any, uri: str | None, options: Any) -> None:
        if self.already_exists:
            self.already_exists -= 1
            raise ApplicationError(ApplicationError.PROCEDURE_ALREADY_EXISTS)
        if self.register_error:
            raise ApplicationError(self.register_error)
        self.log.append(f"register {uri}")

    def subscribe(self, fn: Any, topic: str | None, options: Any) -> None:
        self.log.append(f"subscribe {topic}")


Script = Callable[[FakeSession], Any]


class Stub(ComponentBase):
    """A stand-in adapter: each connection attempt runs the next script (or fails
    with the next exception)."""

    def __init__(self, plan: list[Any], *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("session_factory", lambda config: FakeSession(config, self.log))
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.log: list[str] = []
        self.slept: list[float] = []
        self.logged: list[tuple[str, str]] = []
        self.on_sleep: Callable[[], None] | None = None

    async def _connect_and_run(self, config: TransportConfig, make: Callable[[], Any]) -> None:
        step = self.plan.pop(0)
        if isinstance(step, BaseException):
            raise step
        session = make()
        await step(session)

    async def _sleep(self, delay: float) -> None:
        self.slept.append(delay)
        if self.on_sleep is not None:
            self.on_sleep()

    def _wake(self) -> None:
        self.log.append("wake")

    async def _pause(self, delay: float) -> None:
        self.slept.append(delay)

    def _main_loop_argument(self) -> Any:
        return "loop"

    def _log(self, level: str, text: str) -> None:
        self.logged.append((level, text))


async def joined_then(session: FakeSession, reason: str | None, *, disconnect: bool = True) -> None:
    session.attached = True
    await session.on_connect()
    try:
        await session.on_join(DETAILS)
    except Exception as exc:  # a real session logs what its hooks raise
        session.log.append(f"on_join raised {exc!r}")
    if reason is not None and session.attached:
        session.attached = False
        await session.on_leave(CloseDetails(reason))
    if disconnect:
        await session.on_disconnect()


def run(component: Stub) -> Any:
    return asyncio.run(component._run("loop"))


def fast(n: int = 3) -> dict[str, Any]:
    return {"url": "ws://127.0.0.1:1/ws", "max_retries": n, "retry_delay_jitter": 0}


def test_main_and_the_order_of_events() -> None:
    order: list[str] = []

    async def main(loop: Any, session: FakeSession) -> str:
        order.append(f"main {loop}")
        return "result"

    async def script(session: FakeSession) -> None:
        await joined_then(session, None, disconnect=False)
        assert session.log[-1] == "leave"  # main returned: the component leaves
        await session.on_leave(CloseDetails("wamp.close.normal"))
        await session.on_disconnect()

    component = Stub([script], main=main, transports=[fast()])
    for event in ("start", "connect", "join", "ready", "leave", "disconnect"):
        component.on(event, lambda *args, event=event: order.append(event))
    component.register("com.x")(lambda: None)
    component.subscribe("com.t")(lambda: None)
    assert run(component) == "result"
    assert order == ["start", "connect", "join", "ready", "main loop", "leave", "disconnect"]
    assert component.log[:4] == [
        "session.on_connect",
        "session.on_join",
        "register com.x",
        "subscribe com.t",
    ]


def test_connect_failures_are_retried_then_a_clean_leave_ends_it() -> None:
    failures: list[BaseException] = []
    component = Stub(
        [OSError("refused"), lambda s: joined_then(s, "wamp.close.goodbye_and_out")],
        transports=[fast()],
    )
    component.on_connectfailure(lambda comp, error: failures.append(error))
    assert run(component) is None
    assert [str(f) for f in failures] == ["refused"]
    assert component.slept == [1.5]
    assert ("info", "cannot connect to websocket ws://127.0.0.1:1/ws: refused") in component.logged


def test_a_fatal_error_ends_it() -> None:
    component = Stub([ValueError("bad tls")], transports=[fast()], is_fatal=lambda e: True)
    with pytest.raises(ValueError, match="bad tls"):
        run(component)


def test_unclean_ends_reconnect_until_every_transport_gives_up() -> None:
    gave_up: list[BaseException] = []
    lost = [lambda s: joined_then(s, None), lambda s: joined_then(s, "wamp.close.system_shutdown")]
    component = Stub(lost + [OSError("down")] * 3, transports=[fast(2)])
    component.on_giveup(lambda comp, error: gave_up.append(error))
    with pytest.raises(ConnectionError, match="exhausted"):
        run(component)
    assert [type(e).__name__ for e in gave_up] == ["OSError"]
    assert not component.plan  # a join resets the transport: five attempts, not three


async def refused(session: FakeSession) -> None:
    await session.on_connect()
    await session.on_leave(CloseDetails("wamp.error.not_authorized"))
    await session.on_disconnect()


def test_giving_up_after_a_refused_join() -> None:
    never = Stub([refused], transports=[fast(0)])
    with pytest.raises(ConnectionError) as info:
        run(never)
    assert "not_authorized" in str(info.value.__cause__)
    assert never.logged == [("warning", "session refused: wamp.error.not_authorized ")]


def test_main_that_fails_fails_the_component() -> None:
    async def main(loop: Any, session: FakeSession) -> None:
        raise KeyError("oops")

    component = Stub([lambda s: joined_then(s, None)], main=main, transports=[fast()])
    with pytest.raises(KeyError):
        run(component)
    assert "disconnect" in component.log


def test_stop_while_waiting_and_while_joined() -> None:
    component = Stub([OSError("down")], transports=[fast()])
    component.on_sleep = component.stop
    assert run(component) is None
    assert "wake" in component.log

    async def stop_inside(session: FakeSession) -> None:
        session.attached = True
        component.stop()
        await session.on_disconnect()

    component = Stub([stop_inside], transports=[fast()])
    assert run(component) is None
    assert component.log[:2] == ["wake", "leave"]
    broken = Stub([], transports=[fast()])
    broken._session = FakeSession(ComponentConfig(), broken.log)
    broken._session.attached = "broken"
    broken.stop()
    assert broken.log[-2:] == ["leave", "disconnect"]
    assert Stub([], transports=[fast()]).stop() is None


def test_registrations_retry_a_procedure_that_still_exists() -> None:
    async def script(session: FakeSession) -> None:
        session.already_exists = 2
        await joined_then(session, "wamp.close.normal")

    component = Stub([script], transports=[fast()])
    component.register("com.x")(lambda: None)
    run(component)
    assert component.slept == [0.25, 0.5]
    assert "register com.x" in component.log

    async def refused_registration(session: FakeSession) -> None:
        session.register_error = ApplicationError.NOT_AUTHORIZED
        await joined_then(session, "wamp.close.normal")

    component = Stub([refused_registration], transports=[fast()])
    component.register("com.y")(lambda: None)
    run(component)
    assert any("not_authorized" in line for line in component.log)

    async def for_ever(session: FakeSession) -> None:
        session.already_exists = 1000
        await joined_then(session, "wamp.close.normal")

    component = Stub([for_ever], transports=[fast()])
    component.register("com.z")(lambda: None)
    run(component)
    assert any("procedure_already_exists" in line for line in component.log)
    assert sum(component.slept) <= 10.0


def test_a_listener_that_raises_is_logged_and_the_rest_goes_on() -> None:
    component = Stub([lambda s: joined_then(s, "wamp.close.normal")], transports=[fast()])

    def broken(*args: Any) -> None:
        raise RuntimeError("boom")

    component.on_join(broken)
    component.on_connect(lambda *a: None)
    component.on_ready(lambda *a: None)
    component.on_leave(lambda *a: None)
    component.on_disconnect(lambda *a: None)
    component.on_start(lambda *a: None)
    run(component)
    assert any("boom" in text for level, text in component.logged if level == "error")


def test_constructor_checks_and_configuration() -> None:
    with pytest.raises(TypeError):
        Stub([], main="not callable")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Stub([], is_fatal=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Stub([], authentication=["ticket"])  # type: ignore[arg-type]
    base = Stub(
        [], config=ComponentConfig(realm="r2", extra={"x": 1}), authentication=lambda: {"a": {}}
    )
    assert (base.realm, base.extra) == ("r2", {"x": 1})
    assert (base.session_config().realm, base.session_config().extra) == ("r2", {"x": 1})
    assert base.authentication() == {"a": {}}
    assert Stub([], authentication={"t": {}}).authentication() == {"t": {}}
    assert Stub([]).authentication() is None
    assert Stub([], session_factory=None).session_factory is None  # the class's (an adapter's)
    with pytest.raises(TypeError):
        Stub([], authentication=lambda: "x").authentication()
    with pytest.raises(ValueError, match="unknown event"):
        base.on("nope", print)
    with pytest.raises(TypeError):
        base.on("join", "not callable")  # type: ignore[arg-type]
    assert not base.fatal(OSError())
    assert Outcome().done is False
    with pytest.raises(TypeError, match="abstract"):
        ComponentBase()  # type: ignore[abstract]  # an adapter must provide its part


def test_reregister_delays_are_bounded() -> None:
    delays = list(reregister_delays())
    assert delays[:4] == [0.25, 0.5, 1.0, 2.0]
    assert sum(delays) <= 10.0 and max(delays) == 2.0


# -- the transports argument ------------------------------------------------------------


def test_transports_as_url_dict_and_list() -> None:
    assert transport_configs(None) == [TransportConfig("ws://127.0.0.1:8080/ws")]
    (one,) = transport_configs("rs://127.0.0.1:8081")
    assert one.kind == "rawsocket" and one.describe() == "rawsocket rs://127.0.0.1:8081"
    (two,) = transport_configs(
        {
            "type": "rawsocket",
            "endpoint": {"type": "tcp", "host": "::1", "port": 8081, "tls": True},
            "serializer": "cbor",
            "max_retries": 3,
        }
    )
    assert (two.url, two.tls, two.serializers, two.retry) == (
        "rss://[::1]:8081",
        True,
        ("cbor",),
        RetrySettings(max_retries=3),
    )
    ws, unix_ws, unix_rs = transport_configs(
        [
            {"url": "ws://example.com/path", "endpoint": {"host": "10.0.0.1", "port": 80}},
            {"url": "ws://x/ws2", "endpoint": {"type": "unix", "path": "/tmp/s"}},
            {
                "type": "rawsocket",
                "endpoint": {"type": "unix", "path": "/tmp/r"},
                "serializers": ["json"],
            },
        ]
    )
    assert ws.url == "ws://10.0.0.1:80/path"
    assert unix_ws.url == "ws+unix:///tmp/s:/ws2"
    assert (unix_rs.url, unix_rs.serializers) == ("rs+unix:///tmp/r", ("json",))


@pytest.mark.parametrize(
    "bad",
    [
        [],
        3,
        [3],
        {"url": "ws://x/ws", "colour": "red"},
        {"type": "http", "url": "ws://x/ws"},
        {"type": "rawsocket", "url": "ws://x/ws"},
        {"type": "websocket"},
        {"url": "ws://x/ws", "serializers": []},
        {"url": "ws://x/ws", "serializers": [1]},
        {"endpoint": "tcp"},
        {"endpoint": {"type": "unix"}},
        {"endpoint": {"type": "pipe"}},
        {"endpoint": {"type": "tcp", "host": "x", "port": "80"}},
        {"url": "ws://x/ws", "max_retries": -5},
        "ftp://x",
    ],
)
def test_bad_transports(bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        transport_configs(bad)


def test_main_that_left_by_itself() -> None:
    async def main(loop: Any, session: FakeSession) -> int:
        session.leave()
        return 1

    component = Stub(
        [lambda s: joined_then(s, "wamp.close.normal")], main=main, transports=[fast()]
    )
    assert run(component) == 1
    assert component.log.count("leave") == 1
