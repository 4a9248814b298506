"""wamp_anyio.blocking against the embedded router (in a thread of its own): many threads
calling at once with no leaked thread, a call timeout, the router going away during a
call, handlers in worker threads, errors as the async API raises them, and the
interpreter exiting with a session still open."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import pytest

from tests.conftest import ROOT
from tests.threaded_router import SEED, RunningRouter, threaded_router
from wamp_anyio import blocking
from wamp_core.exception import ApplicationError, SessionNotReady, TransportLost
from wamp_core.types import PublishOptions, SubscribeOptions

TIMEOUT = 30.0


@pytest.fixture
def router() -> Iterator[RunningRouter]:
    with threaded_router() as running:
        yield running


async def _add(session: Any) -> None:
    await session.register(lambda a, b: a + b, "com.add")


def test_eight_threads_two_hundred_calls_each_and_no_thread_left(router: RunningRouter) -> None:
    with router.callee(_add):
        before = set(threading.enumerate())
        with blocking.connect(router.rs, "realm1", timeout=TIMEOUT) as session:

            def two_hundred(n: int) -> list[int]:
                return [session.call("com.add", n, i) for i in range(200)]

            with ThreadPoolExecutor(8) as pool:
                results = list(pool.map(two_hundred, range(8)))
        assert results == [[n + i for i in range(200)] for n in range(8)]
        assert set(threading.enumerate()) <= before  # none left (an older one may end)


def test_a_call_timeout_cancels_the_call(router: RunningRouter) -> None:
    canceled = threading.Event()

    async def never(session: Any) -> None:
        async def slow() -> None:
            try:
                await anyio.sleep_forever()
            finally:
                canceled.set()

        await session.register(slow, "com.slow")

    with router.callee(never), blocking.connect(router.ws, "realm1") as session:
        with pytest.raises(TimeoutError):
            session.call("com.slow", timeout=0.2)
        assert canceled.wait(TIMEOUT)  # the router interrupted the callee
        assert session.call("wamp.session.count") == 2  # the session goes on


def test_the_router_going_away_fails_a_pending_call_at_once() -> None:
    with threaded_router() as running:
        invoked = threading.Event()

        async def hang(session: Any) -> None:
            async def wait() -> None:
                invoked.set()
                await anyio.sleep_forever()

            await session.register(wait, "com.hang")

        session = blocking.connect(running.rs, "realm1", timeout=TIMEOUT)
        with ThreadPoolExecutor(1) as pool:
            with running.callee(hang):
                pending = pool.submit(session.call, "com.hang", timeout=600)
                assert invoked.wait(TIMEOUT)
                running.portal.call(running.server.shutdown)
            error = pending.exception(timeout=TIMEOUT)  # long before the call's own timeout
    assert isinstance(error, (TransportLost, ApplicationError)), error
    with pytest.raises(SessionNotReady):
        session.call("com.hang")
    session.close()


def test_errors_as_the_async_api_raises_them(router: RunningRouter) -> None:
    with blocking.connect(router.ws, "realm1") as session:
        with pytest.raises(ApplicationError) as error:
            session.call("com.nobody")
        assert error.value.error == "wamp.error.no_such_procedure"
    with pytest.raises(SessionNotReady):
        session.call("com.nobody")
    session.close()  # twice is fine
    with pytest.raises(ApplicationError, match="no_such_realm"):
        blocking.connect(router.ws, "nowhere")
    with pytest.raises(OSError):
        blocking.connect("rs://127.0.0.1:1", "realm1")


def test_handlers_run_in_worker_threads_and_may_use_the_session(router: RunningRouter) -> None:
    threads: list[threading.Thread] = []
    events: list[tuple[Any, ...]] = []
    got = threading.Event()

    with blocking.connect(router.ws, "realm1", authentication=None) as session:

        def double(x: int) -> int:
            threads.append(threading.current_thread())
            return 2 * int(session.call("com.one")) * x  # a handler may call back in

        def on_event(*args: Any, details: Any) -> None:
            events.append((*args, details.topic))
            if len(events) == 3:
                got.set()

        session.register(lambda: 1, "com.one")
        registration = session.register(double, "com.double")
        session.subscribe(
            on_event, "com.t.", SubscribeOptions(match="prefix", details_arg="details")
        )
        with blocking.connect(router.rs, "realm1") as other:
            assert other.call("com.double", 21) == 42
            for n in range(3):
                other.publish("com.t.x", n, options=PublishOptions(acknowledge=True))
        assert got.wait(TIMEOUT)
        assert events == [(0, "com.t.x"), (1, "com.t.x"), (2, "com.t.x")]
        assert threads[0] is not threading.main_thread()
        session.unregister(registration)
        with pytest.raises(ApplicationError, match="no_such_procedure"):
            session.call("com.double", 1)
        assert session.is_attached() and session.session_id == session.details.session  # type: ignore[union-attr]


def test_authentication_through_connect_options(router: RunningRouter) -> None:
    key = {"cryptosign": {"authid": "cy", "privkey": SEED.hex()}}
    with blocking.connect(router.secure, "secure", authentication=key) as session:
        assert session.details is not None and session.details.authid == "cy"


def test_the_interpreter_exits_with_a_session_open(router: RunningRouter) -> None:
    script = (
        "import sys; from wamp_anyio import blocking\n"
        "session = blocking.connect(sys.argv[1], 'realm1')\n"
        "print(session.call('wamp.session.count'), flush=True)\n"
    )
    count = len(router.leaves)
    done = subprocess.run(
        [sys.executable, "-c", script, router.ws],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "1\n"), done.stderr
    assert router.wait_for_leave("wamp.close.normal", after=count)
