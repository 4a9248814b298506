"""RPC with complex results (Autobahn style): several results and keyword results.

A procedure returns ``CallResult(*results, **kwresults)`` to send more than one
value; the caller then gets a CallResult back (``.results``/``.kwresults``, also
called ``.args``/``.kwargs``). A single plain value comes back as that value.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/anyio/rpc_complex.py
"""

from __future__ import annotations

import os

from wamp_anyio import ApplicationRunner, ApplicationSession
from wamp_core.types import CallResult, SessionDetails

URL = os.environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
REALM = os.environ.get("WAMP_REALM", "realm1")
BACKEND = os.environ.get("WAMP_BACKEND", "asyncio")
PREFIX = "com.example.complex."


def add_complex(a: float, ai: float, b: float, bi: float) -> CallResult:
    """(a + ai*i) + (b + bi*i): two keyword results."""
    return CallResult(c=a + b, ci=ai + bi)


def split_name(fullname: str) -> CallResult:
    """Two positional results."""
    forename, surname = fullname.split()
    return CallResult(forename, surname)


def stats(*values: float) -> CallResult:
    """Positional and keyword results together."""
    return CallResult(min(values), max(values), mean=sum(values) / len(values))


class Component(ApplicationSession):
    async def onJoin(self, details: SessionDetails) -> None:
        print(f"joined realm {details.realm} as session {details.session}")
        try:
            for fn in (add_complex, split_name, stats):
                await self.register(fn, PREFIX + fn.__name__)

            res = await self.call(PREFIX + "add_complex", 2, 3, 4, 5)
            print(f"add_complex: {res.kwresults['c']} + {res.kwresults['ci']}i")

            res = await self.call(PREFIX + "split_name", "Homer Simpson")
            print(f"split_name: forename {res.results[0]}, surname {res.results[1]}")

            res = await self.call(PREFIX + "stats", 3, 1, 4, 1, 5)
            print(f"stats: args={list(res.args)} kwargs={res.kwargs}")
            print(f"(answered by callee session {res.callee})")
        finally:
            self.leave()

    def onDisconnect(self) -> None:
        print("disconnected")


def main() -> None:
    ApplicationRunner(URL, REALM).run(Component, backend=BACKEND)


if __name__ == "__main__":
    main()
