"""Canceling calls (structured style).

Canceling the task that awaits ``session.call(...)`` cancels the call: the session
sends CANCEL, the router interrupts the callee, whose task is canceled in turn
(the callee answers ``wamp.error.canceled``). Two ways to cancel here:

1. a deadline around the call: ``with anyio.move_on_after(0.3): await session.call(...)``
2. a race: call two mirrors at once, keep the first answer, cancel the other.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/anyio/rpc_cancel.py
"""

from __future__ import annotations

import os
from functools import partial

import anyio

import wamp_anyio

URL = os.environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
REALM = os.environ.get("WAMP_REALM", "realm1")
BACKEND = os.environ.get("WAMP_BACKEND", "asyncio")
PREFIX = "com.example.cancel."


async def fetch(mirror: str, delay: float, what: str) -> str:
    """Answer after ``delay`` seconds; say so when interrupted."""
    try:
        await anyio.sleep(delay)
    except anyio.get_cancelled_exc_class():
        print(f"callee: {mirror} was interrupted while fetching {what}")
        raise
    return f"{what} from {mirror}"


async def main() -> None:
    async with (
        wamp_anyio.connect(URL, REALM) as callee,
        wamp_anyio.connect(URL, REALM) as caller,
    ):
        await callee.register(partial(fetch, "slow-mirror", 10.0), PREFIX + "slow_mirror")
        await callee.register(partial(fetch, "fast-mirror", 0.2), PREFIX + "fast_mirror")

        # 1. a deadline
        with anyio.move_on_after(0.3) as scope:
            await caller.call(PREFIX + "slow_mirror", "file.txt")
        print(f"caller: gave up waiting after 0.3 s: {scope.cancelled_caught}")
        await anyio.sleep(0.1)

        # 2. a race: the first answer wins, the other call is canceled
        winner: list[str] = []
        async with anyio.create_task_group() as tg:

            async def fetch_from(procedure: str) -> None:
                result = await caller.call(procedure, "image.png")
                winner.append(result)
                tg.cancel_scope.cancel()  # cancels the other call

            tg.start_soon(fetch_from, PREFIX + "slow_mirror")
            tg.start_soon(fetch_from, PREFIX + "fast_mirror")
        print(f"caller: first answer: {winner[0]}")
        await anyio.sleep(0.1)

        # the session is fine afterwards
        print("caller: one more call:", await caller.call(PREFIX + "fast_mirror", "notes.md"))


if __name__ == "__main__":
    anyio.run(main, backend=BACKEND)
