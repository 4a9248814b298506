"""RPC arguments: positional, keyword and mixed (structured style).

One session registers a few procedures, a second one calls them. Arguments travel
as WAMP ``args`` and ``kwargs`` and arrive as ordinary Python arguments.

    WAMP_URL=ws://127.0.0.1:8080/ws WAMP_REALM=realm1 python examples/anyio/rpc_arguments.py

(``WAMP_BACKEND=trio`` runs it on trio instead of asyncio.)
"""

from __future__ import annotations

import os

import anyio

import wamp_anyio

URL = os.environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
REALM = os.environ.get("WAMP_REALM", "realm1")
BACKEND = os.environ.get("WAMP_BACKEND", "asyncio")
PREFIX = "com.example.arguments."


def ping() -> None:
    """No arguments, no result: the caller gets None."""


def add2(a: int, b: int) -> int:
    return a + b


def stars(nick: str = "somebody", stars: int = 0) -> str:
    return f"{nick} starred {stars}x"


def orders(product: str, limit: int = 5) -> list[str]:
    return [f"{product} #{i}" for i in range(limit)]


def arglen(*args: object, **kwargs: object) -> list[int]:
    return [len(args), len(kwargs)]


async def main() -> None:
    async with (
        wamp_anyio.connect(URL, REALM) as callee,
        wamp_anyio.connect(URL, REALM) as caller,
    ):
        for fn in (ping, add2, stars, orders, arglen):
            await callee.register(fn, PREFIX + fn.__name__)
        print(f"callee: registered 5 procedures under {PREFIX}*")

        print("ping() ->", await caller.call(PREFIX + "ping"))
        print("add2(2, 3) ->", await caller.call(PREFIX + "add2", 2, 3))  # positional
        print("stars() ->", await caller.call(PREFIX + "stars"))  # defaults
        print("stars(nick='Homer') ->", await caller.call(PREFIX + "stars", nick="Homer"))
        print("stars(stars=5) ->", await caller.call(PREFIX + "stars", stars=5))
        print(
            "stars(nick='Homer', stars=5) ->",
            await caller.call(PREFIX + "stars", nick="Homer", stars=5),
        )
        print("orders('coffee') ->", await caller.call(PREFIX + "orders", "coffee"))
        print(  # mixed: positional and keyword
            "orders('coffee', limit=2) ->",
            await caller.call(PREFIX + "orders", "coffee", limit=2),
        )
        print("arglen() ->", await caller.call(PREFIX + "arglen"))
        print("arglen(1, 2, 3) ->", await caller.call(PREFIX + "arglen", 1, 2, 3))
        print("arglen(a=1, b=2) ->", await caller.call(PREFIX + "arglen", a=1, b=2))
        print(
            "arglen(1, 2, 3, a=1, b=2) ->", await caller.call(PREFIX + "arglen", 1, 2, 3, a=1, b=2)
        )
    print("done: both sessions left")


if __name__ == "__main__":
    anyio.run(main, backend=BACKEND)
