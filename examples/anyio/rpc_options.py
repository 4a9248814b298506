"""RPC options: call timeouts, caller disclosure, pattern-based registrations.

* ``CallOptions(timeout=0.5)``: the call fails with ``wamp.error.timeout`` after half a
  second (enforced by this client, not only by the router), and the slow procedure
  is interrupted.
* ``CallOptions(disclose_me=True)`` + ``RegisterOptions(details_arg="details")``: the
  callee sees who calls in ``details.caller`` / ``caller_authid`` / ``caller_authrole``.
* ``RegisterOptions(match="prefix")``: one endpoint serves every procedure under a
  prefix; ``details.procedure`` is the URI actually called.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/anyio/rpc_options.py
"""

from __future__ import annotations

import os

import anyio

import wamp_anyio
from wamp_core.exception import ApplicationError
from wamp_core.types import CallDetails, CallOptions, RegisterOptions

URL = os.environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
REALM = os.environ.get("WAMP_REALM", "realm1")
BACKEND = os.environ.get("WAMP_BACKEND", "asyncio")
PREFIX = "com.example.options."


async def slow(seconds: float) -> str:
    try:
        await anyio.sleep(seconds)
    except anyio.get_cancelled_exc_class():
        print("callee: slow() was interrupted")
        raise
    return f"slept {seconds} s"


def whoami(details: CallDetails) -> dict[str, object]:
    return {
        "caller": details.caller,
        "authid": details.caller_authid,
        "authrole": details.caller_authrole,
    }


def service(*args: object, details: CallDetails) -> str:
    assert details.procedure is not None
    action = details.procedure.removeprefix(PREFIX + "service.")
    return f"{action}{args}"


async def main() -> None:
    async with (
        wamp_anyio.connect(URL, REALM) as callee,
        wamp_anyio.connect(URL, REALM) as caller,
    ):
        await callee.register(slow, PREFIX + "slow")
        await callee.register(
            whoami, PREFIX + "whoami", options=RegisterOptions(details_arg="details")
        )
        await callee.register(
            service,
            PREFIX + "service.",
            options=RegisterOptions(match="prefix", details_arg="details"),
        )

        print(
            "slow(0.1) with timeout 0.5 s ->",
            await caller.call(PREFIX + "slow", 0.1, options=CallOptions(timeout=0.5)),
        )
        started = anyio.current_time()
        try:
            await caller.call(PREFIX + "slow", 5, options=CallOptions(timeout=0.5))
        except ApplicationError as exc:
            elapsed = anyio.current_time() - started
            print(f"slow(5) with timeout 0.5 s -> {exc.error} after {elapsed:.1f} s")

        who = await caller.call(PREFIX + "whoami", options=CallOptions(disclose_me=True))
        me = who["caller"] == caller.session_id
        print(f"whoami -> session {who['caller']} (the caller: {me}), authrole {who['authrole']}")

        for action in ("start", "stop"):
            result = await caller.call(f"{PREFIX}service.{action}", 1, 2)
            print(f"service.{action}(1, 2) -> {result}")
        await anyio.sleep(0.1)  # let the interrupted callee print


if __name__ == "__main__":
    anyio.run(main, backend=BACKEND)
