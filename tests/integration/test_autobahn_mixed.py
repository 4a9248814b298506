"""Autobahn's own client and ours on one router, talking to each other.

An Autobahn (asyncio) program runs as a subprocess, the way its user runs it; our
``wamp_anyio`` session runs in the test. Both directions: an Autobahn callee and
publisher with our caller and subscriber (both over WebSocket), and our callee
and subscriber with an Autobahn caller and publisher (both over RawSocket), each with caller
or publisher disclosure and an application error crossing over. The ``router``
fixture runs both against every router of the shared node configuration: Crossbar.io
(the reference) and ours.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import anyio
import pytest

import wamp_anyio
from tests.integration.crossbar_node import CrossbarNode
from wamp_core.exception import ApplicationError
from wamp_core.types import CallDetails, RegisterOptions

pytestmark = [
    pytest.mark.integration,
    pytest.mark.anyio,
    pytest.mark.skipif(
        importlib.util.find_spec("autobahn") is None, reason="Autobahn is not installed"
    ),
]

TIMEOUT = 60.0  # seconds for a whole test (the Autobahn process starts in ~1 s)

AUTOBAHN_CALLEE = """
import asyncio, os, sys
from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions, RegisterOptions

PREFIX = sys.argv[1]


class Callee(ApplicationSession):
    async def onJoin(self, details):
        def add2(a, b, details=None):
            return [a + b, details.caller, details.caller_authrole]

        def fail(name):
            raise ApplicationError(PREFIX + ".error.reserved", name, why="reserved")

        with_details = RegisterOptions(details_arg="details")
        await self.register(add2, PREFIX + ".add2", options=with_details)
        await self.register(fail, PREFIX + ".fail")
        await self.subscribe(self.leave, PREFIX + ".bye")
        await self.publish(PREFIX + ".ready", "autobahn", options=PublishOptions(acknowledge=True))
        print("autobahn: ready", details.session, flush=True)

    def onLeave(self, details):
        print("autobahn: left", details.reason, flush=True)
        self.disconnect()

    def onDisconnect(self):
        asyncio.get_event_loop().stop()


ApplicationRunner(os.environ["WAMP_URL"], os.environ["WAMP_REALM"]).run(Callee)
"""

AUTOBAHN_CALLER = """
import asyncio, os, sys
from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions

PREFIX = sys.argv[1]


class Caller(ApplicationSession):
    async def onJoin(self, details):
        print("autobahn: session", details.session, flush=True)
        result = await self.call(PREFIX + ".mul", 6, 7)
        print("autobahn: mul(6, 7) =", result, flush=True)
        try:
            await self.call(PREFIX + ".fail", "foo")
        except ApplicationError as error:
            print("autobahn: fail('foo') ->", error.error, error.args, error.kwargs, flush=True)
        await self.publish(PREFIX + ".done", result, options=PublishOptions(acknowledge=True))
        self.leave()

    def onDisconnect(self):
        asyncio.get_event_loop().stop()


ApplicationRunner(os.environ["WAMP_RS_URL"], os.environ["WAMP_REALM"]).run(Caller)
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # our side; the router's own backend is the router fixture's


def unique() -> str:
    return f"com.mixed.t{uuid.uuid4().hex}"


async def start_autobahn(
    source: str, prefix: str, node: CrossbarNode, workdir: Path
) -> tuple[anyio.abc.Process, Path]:
    """The Autobahn program as its user runs it; its output goes to a file."""
    script = workdir / "autobahn_program.py"
    script.write_text(source)
    out = workdir / "autobahn.out"
    env = dict(os.environ, WAMP_URL=node.ws_url, WAMP_RS_URL=node.rs_url, WAMP_REALM=node.realm)
    env["PYTHONUNBUFFERED"] = "1"
    with open(out, "wb") as sink:
        process = await anyio.open_process(
            [sys.executable, str(script), prefix], stdout=sink, stderr=sink, env=env
        )
    return process, out


async def finished(process: anyio.abc.Process, out: Path) -> str:
    """Wait for the Autobahn program to exit by itself; its output."""
    code = await process.wait()
    text = out.read_text(errors="replace")
    assert code == 0, text
    assert "Traceback" not in text, text
    return text


async def stop(process: anyio.abc.Process) -> None:
    """Kill the program if a failed test left it running."""
    if process.returncode is None:
        process.kill()
    await process.aclose()


async def test_autobahn_callee_our_caller(router: CrossbarNode, tmp_path: Path) -> None:
    prefix = unique()
    with anyio.fail_after(TIMEOUT):
        async with (
            wamp_anyio.connect(router.ws_url, router.realm) as session,
            session.events(f"{prefix}.ready") as ready,
        ):
            process, out = await start_autobahn(AUTOBAHN_CALLEE, prefix, router, tmp_path)
            try:
                event = await ready.__anext__()
                assert tuple(event.args) == ("autobahn",)
                assert isinstance(event.details.publisher, int)  # disclosed by the role
                total, caller, authrole = await session.call(f"{prefix}.add2", 2, 3)
                assert (total, caller, authrole) == (5, session.session_id, "anonymous")
                with pytest.raises(ApplicationError) as raised:
                    await session.call(f"{prefix}.fail", "foo")
                assert raised.value.error == f"{prefix}.error.reserved"
                assert tuple(raised.value.args) == ("foo",)
                assert raised.value.kwargs == {"why": "reserved"}
                session.publish(f"{prefix}.bye")  # it leaves when it hears this
                text = await finished(process, out)
            finally:
                await stop(process)
    assert f"autobahn: ready {event.details.publisher}" in text
    assert "autobahn: left wamp.close." in text


async def test_our_callee_autobahn_caller(router: CrossbarNode, tmp_path: Path) -> None:
    prefix = unique()
    callers: list[Any] = []

    def mul(a: int, b: int, details: CallDetails) -> int:
        callers.append(details.caller)
        return a * b

    def fail(name: str) -> None:
        raise ApplicationError(f"{prefix}.error.reserved", name, why="reserved")

    with anyio.fail_after(TIMEOUT):
        async with wamp_anyio.connect(router.rs_url, router.realm) as session:
            await session.register(mul, f"{prefix}.mul", RegisterOptions(details_arg="details"))
            await session.register(fail, f"{prefix}.fail")
            async with session.events(f"{prefix}.done") as done:
                process, out = await start_autobahn(AUTOBAHN_CALLER, prefix, router, tmp_path)
                try:
                    event = await done.__anext__()
                    text = await finished(process, out)
                finally:
                    await stop(process)
    assert tuple(event.args) == (42,)
    assert f"autobahn: session {callers[0]}" in text  # the caller was disclosed
    assert event.details.publisher == callers[0]
    assert "autobahn: mul(6, 7) = 42" in text
    assert (
        f"autobahn: fail('foo') -> {prefix}.error.reserved ('foo',) {{'why': 'reserved'}}" in text
    )
