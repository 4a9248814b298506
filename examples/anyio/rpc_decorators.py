"""RPC decorators (Autobahn style): ``@wamp.register`` on the methods of a class.

``session.register(obj)`` registers every method of ``obj`` decorated with
``@wamp.register(uri)`` and returns the list of registrations. The decorator may
carry RegisterOptions too (here: the call details for one method).

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/anyio/rpc_decorators.py
"""

from __future__ import annotations

import os

import anyio

import wamp_core as wamp
from wamp_anyio import ApplicationRunner, ApplicationSession
from wamp_core.types import CallDetails, RegisterOptions, SessionDetails

URL = os.environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
REALM = os.environ.get("WAMP_REALM", "realm1")
BACKEND = os.environ.get("WAMP_BACKEND", "asyncio")


class MathService:
    """A plain class: its decorated methods become procedures."""

    def __init__(self) -> None:
        self.calls = 0

    @wamp.register("com.example.decorators.add2")
    def add2(self, x: int, y: int) -> int:
        self.calls += 1
        return x + y

    @wamp.register("com.example.decorators.square")
    async def square(self, x: int) -> int:  # coroutines work alike
        self.calls += 1
        await anyio.sleep(0.01)
        return x * x

    @wamp.register("com.example.decorators.whoami", options=RegisterOptions(details_arg="details"))
    def whoami(self, details: CallDetails) -> int | None:
        self.calls += 1
        return details.caller

    def helper(self) -> None:
        """Not decorated: not registered."""


class Component(ApplicationSession):
    async def onJoin(self, details: SessionDetails) -> None:
        service = MathService()
        try:
            registrations = await self.register(service)
            for registration in registrations:
                print(f"registered {registration.procedure}")

            print("add2(2, 3) ->", await self.call("com.example.decorators.add2", 2, 3))
            print("square(7) ->", await self.call("com.example.decorators.square", 7))
            caller = await self.call("com.example.decorators.whoami")
            print("whoami() -> this session:", caller == details.session)
            print(f"the service answered {service.calls} calls")
        finally:
            self.leave()


def main() -> None:
    ApplicationRunner(URL, REALM).run(Component, backend=BACKEND)


if __name__ == "__main__":
    main()
