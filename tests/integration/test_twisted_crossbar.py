"""ApplicationRunner.run() with start_reactor=True, as an application runs it.

Twisted's global reactor runs once per process, so each scenario runs in a
subprocess of its own (this module, run with ``-m``): run() starts the reactor, the
session joins and works, and when it leaves the reactor stops and run() returns
(exit code 0); a connection error is re-raised once the reactor has stopped. The
child reports on stdout (``RESULT {json}``). Everything else about wamp_twisted
against Crossbar.io runs in one process: test_twisted_features.py and
test_twisted_reconnect.py.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.crossbar_node import CrossbarNode

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60.0


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.test_twisted_crossbar", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _run(*args: str) -> dict[str, Any]:
    proc = _start(*args)
    out, _ = proc.communicate(timeout=TIMEOUT)
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, out
    result: dict[str, Any] = json.loads(lines[-1].removeprefix("RESULT "))
    return result


@pytest.mark.parametrize("kind", ["ws", "rs"])
def test_rpc_and_pubsub_round_trip(crossbar: CrossbarNode, kind: str) -> None:
    result = _run("roundtrip", crossbar.urls[kind], crossbar.realm, kind)
    assert result == {
        "authrole": "anonymous",
        "sum": 5,
        "async": 12,
        "event": ["hi", 1],
        "error": "wamp.error.no_such_procedure",
        "left": "wamp.close.normal",
        "bystander_left": "wamp.close.normal",  # the reactor's shutdown made it leave
    }


def test_a_connection_error_is_raised_once_the_reactor_stopped() -> None:
    """Nothing listens on the port (bound, not listening: refused, and no other
    process can take it meanwhile)."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        result = _run("refused", f"rs://127.0.0.1:{port}", "realm1")
    assert result == {"error": "ConnectionRefusedError", "reactor_running": False}


# ---- the scenarios (run in the subprocess)


def _roundtrip(url: str, realm: str, tag: str) -> dict[str, Any]:
    from twisted.internet import defer

    from wamp_core.exception import ApplicationError
    from wamp_core.types import PublishOptions
    from wamp_twisted import ApplicationRunner, ApplicationSession
    from wamp_twisted.util import sleep

    prefix = f"com.twisted.{tag}.{os.getpid()}"
    result: dict[str, Any] = {}
    bystander_joined: defer.Deferred[None] = defer.Deferred()

    class Bystander(ApplicationSession):
        """A second runner, started with start_reactor=False: when the reactor stops, its
        session must leave (GOODBYE and the router's answer), not be dropped."""

        def onJoin(self, details: Any) -> None:
            bystander_joined.callback(None)

        def onLeave(self, details: Any) -> Any:
            result["bystander_left"] = details.reason
            return super().onLeave(details)

    connecting = ApplicationRunner(url, realm).run(Bystander, start_reactor=False)
    connecting.addErrback(bystander_joined.errback)

    class App(ApplicationSession):
        @defer.inlineCallbacks
        def onJoin(self, details: Any) -> Any:
            yield bystander_joined
            result["authrole"] = details.authrole
            yield self.register(lambda a, b: a + b, f"{prefix}.add")
            result["sum"] = yield self.call(f"{prefix}.add", 2, 3)

            async def slow_double(x: int) -> int:
                await sleep(0.01)
                return x * 2

            yield self.register(slow_double, f"{prefix}.double")
            result["async"] = yield self.call(f"{prefix}.double", 6)
            got: defer.Deferred[Any] = defer.Deferred()
            yield self.subscribe(lambda *a: got.callback(list(a)), f"{prefix}.topic")
            options = PublishOptions(acknowledge=True, exclude_me=False)
            yield self.publish(f"{prefix}.topic", "hi", 1, options=options)
            result["event"] = yield got
            try:
                yield self.call(f"{prefix}.missing")
            except ApplicationError as exc:
                result["error"] = exc.error
            yield self.leave()

        def onLeave(self, details: Any) -> None:
            result["left"] = details.reason
            self.disconnect()

    ApplicationRunner(url, realm).run(App, log_level="warn")
    return result


def _refused(url: str, realm: str) -> dict[str, Any]:
    from twisted.internet import reactor as global_reactor

    from wamp_twisted import ApplicationRunner, ApplicationSession

    reactor: Any = global_reactor
    try:
        ApplicationRunner(url, realm).run(ApplicationSession, log_level="critical")
    except Exception as exc:
        return {"error": type(exc).__name__, "reactor_running": reactor.running}
    return {"error": None}


def main(argv: list[str]) -> None:
    from twisted.internet import reactor as global_reactor

    reactor: Any = global_reactor
    timed_out: list[bool] = []

    def give_up() -> None:  # the run did not stop the reactor by itself
        timed_out.append(True)
        reactor.stop()

    reactor.callLater(TIMEOUT - 10, give_up)
    scenarios: dict[str, Callable[..., dict[str, Any]]] = {
        "roundtrip": _roundtrip,
        "refused": _refused,
    }
    result = scenarios[argv[0]](*argv[1:])
    if timed_out:
        result["timed_out"] = True  # no scenario expects it
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
