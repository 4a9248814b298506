"""Progressive call results, on trio (structured style).

The callee registers with ``RegisterOptions(details_arg="details")`` and sends
intermediate results with ``details.progress(...)``; the caller passes
``CallOptions(on_progress=...)`` to receive them before the final result. A
caller that does not ask for progress sees ``details.progress`` as None.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/anyio/rpc_progress.py
"""

from __future__ import annotations

import os

import anyio

import wamp_anyio
from wamp_core.types import CallDetails, CallOptions, RegisterOptions

URL = os.environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
REALM = os.environ.get("WAMP_REALM", "realm1")
BACKEND = os.environ.get("WAMP_BACKEND", "trio")
PROCEDURE = "com.example.progress.longop"


async def longop(n: int, details: CallDetails) -> str:
    """Count down from n, reporting each step if the caller wants progress."""
    for i in range(n, 0, -1):
        if details.progress is not None:
            details.progress(i, remaining=i)
        await anyio.sleep(0.05)
    return "liftoff" if details.progress is not None else "liftoff (no progress asked)"


async def main() -> None:
    async with (
        wamp_anyio.connect(URL, REALM) as callee,
        wamp_anyio.connect(URL, REALM) as caller,
    ):
        await callee.register(longop, PROCEDURE, options=RegisterOptions(details_arg="details"))

        def on_progress(i: int, remaining: int) -> None:
            print(f"progress: {i} (remaining={remaining})")

        result = await caller.call(PROCEDURE, 3, options=CallOptions(on_progress=on_progress))
        print(f"final result: {result}")

        result = await caller.call(PROCEDURE, 2)
        print(f"final result: {result}")


if __name__ == "__main__":
    anyio.run(main, backend=BACKEND)
