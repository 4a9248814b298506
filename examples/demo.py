"""The demo behind ``./dev demo``: an asyncio app and a trio app talk WAMP through a router.

1. It starts our embedded router (``wamp_anyio.serve``) on loopback ports of its own;
   with ``--crossbar`` a Crossbar.io router instead (the ``crossbar`` executable from
   ``$WAMP_CROSSBAR``, else from PATH); or it uses the one given with ``--router URL``.
2. A backend written Autobahn-style (``ApplicationSession`` + ``ApplicationRunner``)
   runs on asyncio in a thread, over WebSocket with JSON: it registers procedures
   and publishes news.
3. A frontend written in the structured style (``async with wamp_anyio.connect()``)
   runs on trio, over RawSocket with MessagePack: it calls the procedures (plain,
   progressive, failing, timing out, canceled) and reads the news with
   ``session.events()``, then asks the backend to leave.
4. It stops the router and exits 0 if every check passed, 1 otherwise.

    python examples/demo.py                      # starts the embedded router
    python examples/demo.py --crossbar           # starts Crossbar.io
    python examples/demo.py --router ws://127.0.0.1:8080/ws   # uses a running one
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

import wamp_anyio
from wamp_anyio import ApplicationRunner, ApplicationSession
from wamp_core.exception import ApplicationError
from wamp_core.types import (
    CallDetails,
    CallOptions,
    CallResult,
    EventDetails,
    PublishOptions,
    RegisterOptions,
    SessionDetails,
    SubscribeOptions,
)

ROOT = Path(__file__).resolve().parents[1]
REALM = "realm1"
TIMEOUT = 20.0  # seconds for any one step: the demo fails rather than hangs


class InsufficientFunds(Exception):
    """An application error, mapped to a URI with define() on both sides."""


INSUFFICIENT_FUNDS = "com.demo.error.insufficient_funds"


_print_lock = threading.Lock()


def say(who: str, text: str) -> None:
    """One transcript line (whole lines only: two threads print)."""
    with _print_lock:
        sys.stdout.write(f"[{who:7}] {text}\n")
        sys.stdout.flush()


class Checks:
    """Counts what the demo verified; prints one line per check."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed: list[str] = []

    def check(self, who: str, text: str, ok: bool) -> None:
        if ok:
            self.passed += 1
        else:
            self.failed.append(text)
        say(who, f"{text:64} {'ok' if ok else 'FAILED'}")


# ------------------------------------------------------------------ the asyncio backend


class Backend(ApplicationSession):
    """Autobahn-style: procedures and publications, on asyncio in its own thread."""

    async def onJoin(self, details: SessionDetails) -> None:
        say(
            "asyncio",
            f"joined {details.realm} as session {details.session} "
            f"(ApplicationSession, {details.serializer})",
        )
        self.define(InsufficientFunds, INSUFFICIENT_FUNDS)
        procedures: dict[str, tuple[Callable[..., Any], RegisterOptions | None]] = {
            "add2": (self.add2, None),
            "split_name": (self.split_name, None),
            "countdown": (self.countdown, RegisterOptions(details_arg="details")),
            "withdraw": (self.withdraw, None),
            "slow": (self.slow, None),
            "broadcast": (self.broadcast, None),
        }
        for name, (fn, options) in procedures.items():
            await self.register(fn, f"com.demo.{name}", options=options)
        say("asyncio", f"registered com.demo.{{{','.join(procedures)}}}")
        await self.subscribe(
            self.on_control, "com.demo.control", options=SubscribeOptions(details_arg="details")
        )
        say("asyncio", "subscribed to com.demo.control")
        self.config.extra["ready"].set()  # the main thread waits for this

    def add2(self, a: int, b: int) -> int:
        return a + b

    def split_name(self, fullname: str) -> CallResult:
        forename, surname = fullname.split()
        return CallResult(forename, surname, length=len(fullname))

    async def countdown(self, n: int, details: CallDetails) -> str:
        for i in range(n, 0, -1):
            if details.progress is not None:
                details.progress(i)
            await anyio.sleep(0.05)
        return "liftoff"

    def withdraw(self, amount: int) -> int:
        balance = 100
        if amount > balance:
            raise InsufficientFunds(balance, amount)
        return balance - amount

    async def slow(self, seconds: float) -> str:
        try:
            await anyio.sleep(seconds)
        except anyio.get_cancelled_exc_class():
            say("asyncio", "slow() was interrupted by the router")
            raise
        return "done"

    def broadcast(self, count: int) -> int:
        for i in range(count):
            self.publish("com.demo.news", f"headline {i + 1}", number=i + 1)
        return count

    def on_control(self, command: str, details: EventDetails) -> None:
        say("asyncio", f"got {command!r} from session {details.publisher}: leaving")
        if command == "shutdown":
            self.leave()

    def onDisconnect(self) -> None:
        say("asyncio", "left and disconnected")


def run_backend(url: str, ready: threading.Event, errors: list[BaseException]) -> None:
    try:
        ApplicationRunner(url, REALM, extra={"ready": ready}, serializers=["json"]).run(
            Backend, backend="asyncio", log_level="warning"
        )
    except BaseException as exc:  # reported by the main thread
        errors.append(exc)
        ready.set()


# ------------------------------------------------------------------ the trio frontend


async def frontend(url: str, checks: Checks) -> None:
    async with wamp_anyio.connect(url, REALM, serializers=["msgpack"]) as session:
        assert session.details is not None
        say(
            "trio",
            f"joined {session.details.realm} as session {session.session_id} "
            f"(connect(), {session.details.serializer})",
        )
        session.define(InsufficientFunds, INSUFFICIENT_FUNDS)

        result = await session.call("com.demo.add2", 2, 3)
        checks.check("trio", f"add2(2, 3) -> {result}", result == 5)

        res = await session.call("com.demo.split_name", "Ada Lovelace")
        checks.check(
            "trio",
            f"split_name('Ada Lovelace') -> {list(res.results)} {res.kwresults}",
            list(res.results) == ["Ada", "Lovelace"] and res.kwresults == {"length": 12},
        )

        steps: list[int] = []
        result = await session.call(
            "com.demo.countdown", 3, options=CallOptions(on_progress=steps.append)
        )
        checks.check(
            "trio",
            f"countdown(3) -> progress {steps}, then {result!r}",
            steps == [3, 2, 1] and result == "liftoff",
        )

        try:
            await session.call("com.demo.withdraw", 250)
        except InsufficientFunds as exc:
            checks.check("trio", f"withdraw(250) -> raised InsufficientFunds{exc.args}", True)
        else:
            checks.check("trio", "withdraw(250) -> should have raised InsufficientFunds", False)

        started = time.monotonic()
        error = ""
        try:
            await session.call("com.demo.slow", 10, options=CallOptions(timeout=0.5))
        except ApplicationError as exc:
            error = exc.error
        elapsed = time.monotonic() - started
        await anyio.sleep(0.1)  # the backend reports the interruption
        checks.check(
            "trio",
            f"slow(10) with timeout 0.5 s -> {error} after {elapsed:.1f} s",
            error == ApplicationError.TIMEOUT and elapsed < 5,
        )

        with anyio.move_on_after(0.3) as scope:
            await session.call("com.demo.slow", 10)
        await anyio.sleep(0.1)
        checks.check("trio", "slow(10) canceled by the caller after 0.3 s", scope.cancelled_caught)

        async with session.events("com.demo.news", max_buffer=10) as news:
            count = await session.call("com.demo.broadcast", 3)
            headlines = []
            async for event in news:
                headlines.append((event.args[0], event.kwargs["number"]))
                if len(headlines) == count:
                    break
        checks.check(
            "trio",
            f"events('com.demo.news') -> {[n for _, n in headlines]} in order",
            [n for _, n in headlines] == [1, 2, 3],
        )

        publication = await session.publish(
            "com.demo.control", "shutdown", options=PublishOptions(acknowledge=True)
        )
        checks.check("trio", f"publish 'shutdown' -> acknowledged ({publication.id})", True)
    say("trio", "left and disconnected")


# ------------------------------------------------------------------ the router


class EmbeddedRouter:
    """wamp_anyio's router on free loopback ports, in a thread with a loop of its own."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._urls: list[str] = []
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="router", daemon=True)

    def start(self) -> EmbeddedRouter:
        started = time.monotonic()
        self._thread.start()
        if not self._ready.wait(TIMEOUT) or len(self._urls) != 2:
            raise RuntimeError("the embedded router did not start")
        self.ws_url, self.rs_url = self._urls
        say(
            "router",
            f"listening after {time.monotonic() - started:.2f} s: {self.ws_url}, {self.rs_url}",
        )
        return self

    def _main(self) -> None:
        anyio.run(self._serve)

    async def _serve(self) -> None:
        listeners = [wamp_anyio.Listen("websocket", port=0), wamp_anyio.Listen("rawsocket", port=0)]
        try:
            async with wamp_anyio.serve(listeners) as server:
                self._urls.extend(server.urls)
                self._ready.set()
                await anyio.to_thread.run_sync(self._stop.wait)
        finally:
            self._ready.set()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(TIMEOUT)


def start_router() -> Any:
    """A Crossbar.io node (the test suite's fixture class), started."""
    sys.path.insert(0, str(ROOT))  # the node comes from the test suite, beside this file
    from tests.integration.crossbar_node import (  # noqa: PLC0415
        ENV_VAR,
        CrossbarNode,
        find_crossbar,
    )

    executable = find_crossbar()
    if executable is None:
        raise SystemExit(
            f"demo: Crossbar.io not found: set ${ENV_VAR} to a crossbar executable, put "
            "crossbar on PATH, or pass --router URL (./dev demo installs it for you)"
        )
    say("router", f"starting Crossbar.io ({executable}) ...")
    started = time.monotonic()
    node = CrossbarNode(executable)
    node.start()
    say(
        "router",
        f"listening after {time.monotonic() - started:.1f} s: {node.ws_url}, {node.rs_url}",
    )
    return node


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--router", metavar="URL", help="use this router instead of starting one")
    parser.add_argument("--crossbar", action="store_true", help="start Crossbar.io, not ours")
    args = parser.parse_args(argv)

    which = "Crossbar.io" if args.crossbar else "the router" if args.router else "our router"
    print(f"wamp-sansio demo: an asyncio backend and a trio frontend, through {which}\n")
    node: Any = None
    if not args.router:
        node = start_router() if args.crossbar else EmbeddedRouter().start()
    ws_url = args.router or node.ws_url
    rs_url = node.rs_url if node is not None else args.router
    checks = Checks()
    try:
        ready = threading.Event()
        errors: list[BaseException] = []
        backend = threading.Thread(target=run_backend, args=(ws_url, ready, errors), daemon=True)
        backend.start()
        if not ready.wait(TIMEOUT) or errors:
            raise RuntimeError(f"the backend did not start: {errors}")
        anyio.run(_with_timeout, frontend, rs_url, checks, backend="trio")
        backend.join(TIMEOUT)
        checks.check(
            "asyncio", "the backend's ApplicationRunner.run() returned", not backend.is_alive()
        )
        if errors:
            raise errors[0]
    except BaseException as exc:
        traceback.print_exception(exc)
        checks.failed.append(f"{type(exc).__name__}: {exc}")
    finally:
        if node is not None:
            node.close()
            say("router", "stopped")

    if checks.failed:
        print(f"\n{len(checks.failed)} check(s) FAILED, {checks.passed} passed")
        return 1
    print(f"\nAll {checks.passed} checks passed.")
    return 0


async def _with_timeout(fn: Callable[..., Any], *args: Any) -> None:
    with anyio.fail_after(TIMEOUT * 2):
        await fn(*args)


if __name__ == "__main__":
    sys.exit(main())
