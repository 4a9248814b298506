"""wamp_anyio against an in-memory scripted router, under asyncio and trio."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from anyio.abc import ByteStream

from tests.anyio_router import LoopbackRouter
from tests.helpers import FeedSpy
from wamp_anyio import ApplicationSession, Session
from wamp_anyio._run import Transport, reconnecting, run_session
from wamp_core.application import Backoff
from wamp_core.connection import DISPATCH_CHUNK
from wamp_core.exception import SessionNotReady, TransportLost
from wamp_core.messages import (
    Abort,
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
    Register,
    Registered,
    Result,
    Subscribe,
    Subscribed,
    Unsubscribe,
    Unsubscribed,
    Welcome,
    Yield,
)
from wamp_core.types import (
    CallOptions,
    CallResult,
    CloseDetails,
    ComponentConfig,
    RegisterOptions,
    SessionDetails,
)

pytestmark = pytest.mark.anyio

TRANSPORT = Transport("rs://127.0.0.1:1", serializers=["json"])


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Recorder(Session):
    """A Session that records its hooks."""

    def __init__(self) -> None:
        super().__init__(ComponentConfig(realm="realm1"))
        self.joined = anyio.Event()
        self.disconnected = anyio.Event()
        self.hooks: list[str] = []
        self.errors: list[tuple[BaseException, str]] = []

    def on_join(self, details: SessionDetails) -> None:
        self.hooks.append("join")
        self.joined.set()

    def on_leave(self, details: CloseDetails) -> None:
        self.hooks.append(f"leave:{details.reason}")
        self.disconnect()

    def on_disconnect(self) -> None:
        self.hooks.append("disconnect")
        self.disconnected.set()

    def on_user_error(self, fail: BaseException, msg: str) -> None:
        self.errors.append((fail, msg))


async def joined(tg: Any, router: LoopbackRouter, stream: ByteStream) -> Recorder:
    """A Recorder session joined through ``stream``, whose other end ``router`` plays."""
    session = Recorder()
    tg.start_soon(run_session, session, TRANSPORT, stream, "realm1")
    await router.welcome()
    with anyio.fail_after(5):
        await session.joined.wait()
    return session


async def call_cut_off(tg: Any, router: LoopbackRouter, session: Recorder) -> list[BaseException]:
    """A call is pending when the router goes away: the TransportLost errors it raised,
    once the session is gone and every task has settled."""
    failures: list[BaseException] = []

    async def caller() -> None:
        try:
            await session.call("com.slow")
        except TransportLost as exc:
            failures.append(exc)

    tg.start_soon(caller)
    await router.expect(Call)
    router.close()
    with anyio.fail_after(5):
        await session.disconnected.wait()
    await anyio.wait_all_tasks_blocked()
    return failures


async def start(tg: Any, session: Session | None = None) -> tuple[Recorder, LoopbackRouter]:
    router = LoopbackRouter("rawsocket", "json")
    recorder = session or Recorder()
    tg.start_soon(run_session, recorder, TRANSPORT, router.stream, "realm1")
    await router.welcome()
    with anyio.fail_after(5):
        await recorder.joined.wait()  # type: ignore[union-attr]
    return recorder, router  # type: ignore[return-value]


async def test_call_register_and_invocation() -> None:
    async with anyio.create_task_group() as tg:
        session, router = await start(tg)
        assert session.is_attached() and session.details is not None

        async def call() -> Any:
            return await session.call("com.add", 2, 3, options=CallOptions(timeout=10))

        results: list[Any] = []

        async def run_call() -> None:
            results.append(await call())

        tg.start_soon(run_call)
        sent = await router.expect(Call)
        assert sent.args == [2, 3] and sent.options == {"timeout": 11}
        router.send(Result(sent.request_id, [5]))

        async def add(a: int, b: int) -> int:
            await anyio.sleep(0)
            return a + b

        registered: list[Any] = []

        async def run_register() -> None:
            registered.append(await session.register(add, "com.add"))

        tg.start_soon(run_register)
        register = await router.expect(Register)
        router.send(Registered(register.request_id, 10))
        router.send(Invocation(100, 10, [4, 5]))
        answer = await router.expect(Yield)
        assert (answer.request_id, answer.args) == (100, [9])
        assert results == [5] and registered[0].procedure == "com.add"
        session.disconnect()


async def test_canceling_an_awaiting_call_sends_cancel() -> None:
    async with anyio.create_task_group() as tg:
        session, router = await start(tg)
        session.cancel_mode = "killnowait"
        with anyio.CancelScope() as scope:

            async def cancel_when_sent() -> None:
                await router.expect(Call)
                scope.cancel()

            tg.start_soon(cancel_when_sent)
            await session.call("com.slow")
        cancel = await router.expect(Cancel)
        assert cancel.mode == "killnowait"
        router.send(Error(48, cancel.request_id, "wamp.error.canceled"))  # dropped quietly
        session.disconnect()


async def test_interrupt_cancels_the_endpoint_and_answers_canceled() -> None:
    started = anyio.Event()

    async def slow() -> None:
        started.set()
        await anyio.sleep_forever()

    async with anyio.create_task_group() as tg:
        session, router = await start(tg)
        session.register(slow, "com.slow")  # sent at once, awaited or not
        register = await router.expect(Register)
        router.send(Registered(register.request_id, 1), Invocation(7, 1))
        await started.wait()
        router.send(Interrupt(7, {"mode": "kill"}))
        error = await router.expect(Error)
        assert (error.request_id, error.error) == (7, "wamp.error.canceled")
        session.disconnect()


async def test_endpoint_errors_and_concurrency() -> None:
    class Oops(Exception):
        pass

    running = 0
    peak = 0
    release = anyio.Event()

    async def limited() -> str:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1
        return "ok"

    def failing() -> None:
        raise Oops("no", 2)

    async with anyio.create_task_group() as tg:
        session, router = await start(tg)
        session.define(Oops, "com.example.oops")
        session.register(limited, "com.limited", RegisterOptions(concurrency=1))
        register = await router.expect(Register)
        router.send(Registered(register.request_id, 1))
        session.register(failing, "com.failing")
        register = await router.expect(Register)
        router.send(Registered(register.request_id, 2))
        router.send(Invocation(1, 2))
        error = await router.expect(Error)
        assert (error.error, error.args) == ("com.example.oops", ["no", 2])
        router.send(Invocation(2, 1), Invocation(3, 1))
        await anyio.wait_all_tasks_blocked()
        assert peak == 1
        release.set()
        first, second = await router.expect(Yield), await router.expect(Yield)
        assert {first.request_id, second.request_id} == {2, 3} and peak == 1
        session.disconnect()


async def test_events_in_order_with_a_bounded_buffer() -> None:
    async with anyio.create_task_group() as tg:
        session, router = await start(tg)
        received: list[int] = []

        async def play_router() -> None:
            subscribe = await router.expect(Subscribe)
            router.send(Subscribed(subscribe.request_id, 5))
            router.send(*(Event(5, n, [n]) for n in range(1, 21)))

        tg.start_soon(play_router)
        async with session.events("com.t", max_buffer=2) as events:
            async for event in events:
                received.append(event.args[0])
                driver = session._driver
                assert driver is not None
                assert all(q.statistics().current_buffer_used <= 2 for q in driver._queues.values())
                if len(received) == 20:
                    tg.start_soon(answer_unsubscribe, router)
                    break
        assert received == list(range(1, 21))
        session.disconnect()


async def test_plain_event_handlers_run_in_place_errors_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with anyio.create_task_group() as tg:
        session, router = await start(tg)
        seen: list[int] = []
        awaited = anyio.Event()

        async def later(n: int) -> None:
            seen.append(n)
            awaited.set()

        def handler(n: int) -> Any:
            if n == 2:
                raise ValueError("two")
            if n == 4:
                return later(n)  # a plain function may hand back an awaitable
            seen.append(n)
            return None

        async def play_router() -> None:
            subscribe = await router.expect(Subscribe)
            router.send(Subscribed(subscribe.request_id, 5))

        tg.start_soon(play_router)
        await session.subscribe(handler, "com.t")
        router.send(*(Event(5, n, [n]) for n in range(1, 6)))
        await awaited.wait()
        await anyio.wait_all_tasks_blocked()
        assert seen in ([1, 3, 4, 5], [1, 3, 5, 4])  # 4 is awaited in a task of its own
        assert "event handler for com.t raised ValueError('two')" in caplog.text
        driver = session._driver
        assert driver is not None and not driver._queues  # no task, no queue for it
        session.disconnect()


async def test_a_big_read_is_handled_slice_by_slice() -> None:
    async with anyio.create_task_group() as tg:
        session, router = await start(tg)
        seen: list[int] = []
        all_in = anyio.Event()

        def handler(n: int, padding: str) -> None:
            seen.append(n)
            if n == 500:
                all_in.set()

        async def play_router() -> None:
            subscribe = await router.expect(Subscribe)
            router.send(Subscribed(subscribe.request_id, 5))

        tg.start_soon(play_router)
        await session.subscribe(handler, "com.t")
        driver = session._driver
        assert driver is not None
        spy = FeedSpy(driver.connection, seen)
        driver.connection = spy
        router.send(*(Event(5, n, [n, "x" * 30]) for n in range(1, 501)))  # one read
        with anyio.fail_after(5):
            await all_in.wait()
        assert seen == list(range(1, 501))
        assert len(spy.sizes) > 4 and max(spy.sizes) == DISPATCH_CHUNK
        assert spy.fed[1][1] > 0  # the first slice's events ran before the second was fed
        session.disconnect()


async def test_what_follows_a_violation_in_a_big_read_is_not_fed() -> None:
    async with anyio.create_task_group() as tg:
        session, router = await start(tg)
        driver = session._driver
        assert driver is not None
        spy = FeedSpy(driver.connection)
        driver.connection = spy
        # No such subscription: a protocol violation, then more than a slice of events.
        router.send(Event(99, 1, [1]), *(Event(99, n, ["x" * 40]) for n in range(2, 400)))
        with anyio.fail_after(5):
            await session.disconnected.wait()
        assert spy.sizes == [DISPATCH_CHUNK]  # no slice after the violation
        assert spy.inner.closed


async def answer_unsubscribe(router: LoopbackRouter) -> None:
    unsubscribe = await router.expect(Unsubscribe)
    router.send(Unsubscribed(unsubscribe.request_id))


async def test_router_going_away_fails_pending_calls_and_runs_hooks() -> None:
    async with anyio.create_task_group() as tg:
        session, router = await start(tg)
        assert len(await call_cut_off(tg, router, session)) == 1
        assert session.hooks == ["join", "leave:wamp.close.transport_lost", "disconnect"]
        with pytest.raises(SessionNotReady):
            await session.call("com.p")


async def test_leave_waits_for_goodbye() -> None:
    async with anyio.create_task_group() as tg:
        session, router = await start(tg)
        done = session.leave("wamp.close.close_realm")
        goodbye = await router.expect(Goodbye)
        assert goodbye.reason == "wamp.close.close_realm"
        router.send(Goodbye("wamp.close.goodbye_and_out"))
        with anyio.fail_after(5):
            await done
            await session.disconnected.wait()
        assert session.hooks[1] == "leave:wamp.close.goodbye_and_out"


async def test_on_challenge_answers_and_hook_errors_reach_on_user_error() -> None:
    class Ticketing(Recorder):
        def on_connect(self) -> None:
            self.join("realm1", authmethods=["ticket"], authid="joe")

        async def on_challenge(self, challenge: Any) -> str:
            return "secret"

        def on_join(self, details: SessionDetails) -> None:
            super().on_join(details)
            raise RuntimeError("broken onJoin")

    session = Ticketing()
    router = LoopbackRouter("rawsocket", "json")
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_session, session, TRANSPORT, router.stream, "realm1")
        hello = await router.expect(Hello)
        assert hello.details["authmethods"] == ["ticket"] and hello.details["authid"] == "joe"
        router.send(Challenge("ticket", {}))
        assert (await router.expect(Authenticate)).signature == "secret"
        router.send(Welcome(1, {"roles": {"dealer": {}}}))
        await session.joined.wait()
        await anyio.wait_all_tasks_blocked()
        assert session.errors and "on_join raised" in session.errors[0][1]
        session.disconnect()


async def test_unanswerable_challenge_aborts() -> None:
    class Plain(Recorder):
        def on_connect(self) -> None:
            self.join("realm1", authmethods=["x-custom"])

    session = Plain()
    router = LoopbackRouter("rawsocket", "json")
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_session, session, TRANSPORT, router.stream, "realm1")
        await router.expect(Hello)
        router.send(Challenge("x-custom", {}))
        abort = await router.expect(Abort)
        assert abort.reason == "wamp.error.authentication_failed"
        with anyio.fail_after(5):
            await session.disconnected.wait()


class BytesAnswer(Recorder):
    """Answers a wampcra challenge with bytes, as Autobahn's auth.compute_wcs returns."""

    def __init__(self, answer: bytes) -> None:
        super().__init__()
        self.answer = answer

    def on_connect(self) -> None:
        self.join("realm1", authmethods=["wampcra"], authid="joe")

    def on_challenge(self, challenge: Any) -> bytes:
        return self.answer


async def test_on_challenge_may_answer_with_utf8_bytes() -> None:
    session = BytesAnswer(b"c2lnbmF0dXJl")
    router = LoopbackRouter("rawsocket", "json")
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_session, session, TRANSPORT, router.stream, "realm1")
        await router.expect(Hello)
        router.send(Challenge("wampcra", {"challenge": "{}"}))
        assert (await router.expect(Authenticate)).signature == "c2lnbmF0dXJl"
        router.send(Welcome(1, {"roles": {"dealer": {}}}))
        with anyio.fail_after(5):
            await session.joined.wait()
        assert session.errors == []
        session.disconnect()


async def test_on_challenge_answering_bytes_that_are_not_utf8_aborts() -> None:
    session = BytesAnswer(b"\xff")
    router = LoopbackRouter("rawsocket", "json")
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_session, session, TRANSPORT, router.stream, "realm1")
        await router.expect(Hello)
        router.send(Challenge("wampcra", {"challenge": "{}"}))
        abort = await router.expect(Abort)
        assert abort.reason == "wamp.error.authentication_failed"
        assert abort.details["message"] == "signature bytes are not UTF-8 text"
        with anyio.fail_after(5):
            await session.disconnected.wait()
        ((error, text),) = session.errors
        assert isinstance(error, ValueError) and text == "on_challenge raised"


async def test_application_session_camel_case_callbacks() -> None:
    calls: list[str] = []

    class Component(ApplicationSession):
        async def onJoin(self, details: SessionDetails) -> None:
            calls.append("onJoin")
            self.leave()

        def onLeave(self, details: CloseDetails) -> None:
            calls.append("onLeave")
            self.disconnect()

        def onDisconnect(self) -> None:
            calls.append("onDisconnect")

    router = LoopbackRouter("rawsocket", "json")
    async with anyio.create_task_group() as tg:
        tg.start_soon(
            run_session,
            Component(ComponentConfig(realm="realm1")),
            TRANSPORT,
            router.stream,
            "realm1",
        )
        await router.welcome()
        await router.expect(Goodbye)
        router.send(Goodbye("wamp.close.goodbye_and_out"))
    assert calls == ["onJoin", "onLeave", "onDisconnect"]


async def test_reconnecting_backs_off_and_stops() -> None:
    attempts: list[str] = []
    stopped = anyio.Event()
    routers: list[LoopbackRouter] = []

    class Flaky(Transport):
        async def open(self) -> Any:
            attempts.append("open")
            if len(attempts) < 3:
                raise ConnectionRefusedError("not yet")
            router = LoopbackRouter("rawsocket", "json")
            routers.append(router)
            return router.stream

    class OneShot(Recorder):
        def on_join(self, details: SessionDetails) -> None:
            super().on_join(details)
            stopped.set()
            self.disconnect()

    backoff = Backoff(max_retries=5, initial_retry_delay=0.001, retry_delay_jitter=0.0)
    async with anyio.create_task_group() as tg:
        tg.start_soon(
            reconnecting,
            lambda config: OneShot(),
            ComponentConfig(realm="realm1"),
            Flaky("rs://127.0.0.1:1", serializers=["json"]),
            backoff,
            stopped,
        )
        while not routers:
            await anyio.wait_all_tasks_blocked()
            await anyio.sleep(0.001)
        await routers[0].welcome()
    assert attempts == ["open", "open", "open"]


async def test_reconnecting_gives_up_after_max_retries() -> None:
    class Refused(Transport):
        async def open(self) -> Any:
            raise ConnectionRefusedError("down")

    backoff = Backoff(max_retries=2, initial_retry_delay=0.001, retry_delay_jitter=0.0)
    with pytest.raises(ConnectionRefusedError):
        await reconnecting(
            lambda config: Recorder(),
            ComponentConfig(realm="r"),
            Refused("rs://h:1"),
            backoff,
            anyio.Event(),
        )


async def test_requests_need_a_joined_session() -> None:
    session = Recorder()
    with pytest.raises(SessionNotReady):
        await session.call("com.p")
    with pytest.raises(SessionNotReady):
        session.publish("com.t")
    session.define(ValueError, "com.value")  # kept until a transport comes
    assert not session.is_connected() and session.session_id is None


async def test_call_with_details_gives_call_results() -> None:
    """CallOptions(details=True): the result and each progressive result are
    CallResults with the callee's identity, whatever their shape."""
    async with anyio.create_task_group() as tg:
        session, router = await start(tg)
        progress: list[Any] = []
        results: list[Any] = []
        answered = anyio.Event()

        async def run_call() -> None:
            options = CallOptions(on_progress=progress.append, details=True)
            results.append(await session.call("com.p", options=options))
            answered.set()

        tg.start_soon(run_call)
        sent = await router.expect(Call)
        identity = {"callee": 7, "callee_authid": "bob", "callee_authrole": "user"}
        router.send(Result(sent.request_id, [1], details={"progress": True, **identity}))
        router.send(Result(sent.request_id, [2], details=identity))
        with anyio.fail_after(5):
            await answered.wait()
        (chunk,) = progress
        (final,) = results
        for value, arg in ((chunk, 1), (final, 2)):
            assert isinstance(value, CallResult) and value.results == (arg,)
            assert (value.callee, value.callee_authid, value.callee_authrole) == (7, "bob", "user")
        session.disconnect()
