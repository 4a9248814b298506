"""wamp_twisted against a real Crossbar.io node.

Each scenario runs in a subprocess of its own (this module, run with ``-m``), which
starts the global reactor through ``ApplicationRunner.run()`` exactly as an
application does, and reports on stdout (``JOINED ...`` / ``RESULT {json}``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


def test_ticket_authentication(crossbar: CrossbarNode) -> None:
    ticket = crossbar.principals["ticket"]
    result = _run("ticket", crossbar.ws_url, crossbar.realm, ticket["authid"], ticket["ticket"])
    assert result == {"authid": ticket["authid"], "authmethod": "ticket"}


def test_reconnects_after_a_router_restart(fresh_crossbar: CrossbarNode) -> None:
    proc = _start("reconnect", fresh_crossbar.rs_url, fresh_crossbar.realm)
    assert proc.stdout is not None
    seen: list[str] = []
    try:
        for line in proc.stdout:
            seen.append(line)
            if line.startswith("JOINED 1"):
                fresh_crossbar.restart()
            if line.startswith("JOINED 2"):
                break
        assert proc.wait(timeout=TIMEOUT) == 0, "".join(seen)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    joined = [line.split() for line in seen if line.startswith("JOINED")]
    assert joined == [["JOINED", "1", "2"], ["JOINED", "2", "4"]], "".join(seen)


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


def _ticket(url: str, realm: str, authid: str, ticket: str) -> dict[str, Any]:
    from twisted.internet import defer

    from wamp_twisted import ApplicationRunner, ApplicationSession

    result: dict[str, Any] = {}

    class App(ApplicationSession):
        def onConnect(self) -> None:
            self.join(realm, authmethods=["ticket"], authid=authid)

        def onChallenge(self, challenge: Any) -> str:
            return ticket

        @defer.inlineCallbacks
        def onJoin(self, details: Any) -> Any:
            result.update(authid=details.authid, authmethod=details.authmethod)
            yield self.leave()

    ApplicationRunner(url, realm).run(App, log_level="warn")
    return result


def _reconnect(url: str, realm: str) -> dict[str, Any]:
    from twisted.internet import defer

    from wamp_twisted import ApplicationRunner, ApplicationSession

    prefix = f"com.twisted.reconnect.{os.getpid()}"
    runner = ApplicationRunner(
        url, realm, initial_retry_delay=0.2, max_retry_delay=1.0, retry_delay_jitter=0.1
    )
    joins: list[int] = []

    class App(ApplicationSession):
        @defer.inlineCallbacks
        def onJoin(self, details: Any) -> Any:
            joins.append(details.session)
            yield self.register(lambda x: x * 2, f"{prefix}.double")
            value = yield self.call(f"{prefix}.double", len(joins))
            print(f"JOINED {len(joins)} {value}", flush=True)
            if len(joins) == 2:
                runner.stop()

    runner.run(App, auto_reconnect=True, log_level="warn")
    return {"joins": len(joins)}


def main(argv: list[str]) -> None:
    from twisted.internet import reactor

    reactor.callLater(TIMEOUT - 10, reactor.stop)  # type: ignore[attr-defined]
    scenarios = {"roundtrip": _roundtrip, "ticket": _ticket, "reconnect": _reconnect}
    result = scenarios[argv[0]](*argv[1:])
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
