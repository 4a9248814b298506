"""Slow calls run concurrently (structured style, on trio).

The callee runs each invocation in its own task, so several calls to a slow
procedure are served at the same time and their results come back in the order
they finish, not in the order they were made.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/anyio/rpc_slow.py
"""

from __future__ import annotations

import os

import anyio

import wamp_anyio

URL = os.environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
REALM = os.environ.get("WAMP_REALM", "realm1")
BACKEND = os.environ.get("WAMP_BACKEND", "trio")
PROCEDURE = "com.example.slow.square"
DELAYS = [(1, 0.9), (2, 0.3), (3, 0.6)]  # (x, seconds): the calls finish in the order 2, 3, 1


async def slow_square(x: int, delay: float) -> int:
    await anyio.sleep(delay)
    return x * x


async def main() -> None:
    async with (
        wamp_anyio.connect(URL, REALM) as callee,
        wamp_anyio.connect(URL, REALM) as caller,
    ):
        await callee.register(slow_square, PROCEDURE)
        finished: list[int] = []
        started = anyio.current_time()

        async def call(x: int, delay: float) -> None:
            print(f"call  square({x}) taking {delay} s")
            result = await caller.call(PROCEDURE, x, delay)
            elapsed = anyio.current_time() - started
            print(f"got   square({x}) = {result} after {elapsed:.1f} s")
            finished.append(x)

        async with anyio.create_task_group() as tg:
            for x, delay in DELAYS:
                tg.start_soon(call, x, delay)

        total = anyio.current_time() - started
        one_by_one = sum(delay for _, delay in DELAYS)
        print(f"finished in the order {finished}, in {total:.1f} s (not {one_by_one:.1f} s)")


if __name__ == "__main__":
    anyio.run(main, backend=BACKEND)
