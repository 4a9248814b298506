"""RPC errors: ApplicationError with args/kwargs, custom exceptions mapped to error URIs.

* A procedure raises ``ApplicationError(uri, *args, **kwargs)``: the caller gets an
  ApplicationError with the same ``error``, ``args`` and ``kwargs``.
* ``session.define(MyError, uri)`` maps an exception class to an error URI, on both
  sides: the callee raises ``MyError(...)``, the caller catches ``MyError``.
* ``@wamp.error(uri)`` on the class names the URI; ``session.define(MyError)`` then
  takes it from there.
* Any other exception becomes ``wamp.error.runtime_error``; calling a procedure
  nobody registered gives ``wamp.error.no_such_procedure``.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/anyio/rpc_errors.py
"""

from __future__ import annotations

import math
import os

import anyio

import wamp_anyio
import wamp_core as wamp
from wamp_core.exception import ApplicationError

URL = os.environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
REALM = os.environ.get("WAMP_REALM", "realm1")
BACKEND = os.environ.get("WAMP_BACKEND", "asyncio")
PREFIX = "com.example.errors."


class OutOfStock(Exception):
    """Mapped with session.define(OutOfStock, uri) on both sides."""


@wamp.error("com.example.errors.too_small")
class TooSmall(Exception):
    """Mapped by its decorator; session.define(TooSmall) picks the URI up."""


def checkname(name: str) -> str:
    if name in ("foo", "bar"):
        raise ApplicationError("com.example.errors.reserved")
    if name.lower() != name:
        raise ApplicationError("com.example.errors.mixed_case", name.lower(), name.upper())
    if not 3 <= len(name) <= 10:
        raise ApplicationError("com.example.errors.invalid_length", min=3, max=10)
    return f"{name} is fine"


def order(item: str, quantity: int) -> str:
    if quantity > 3:
        raise OutOfStock(item, 3)
    return f"{quantity} x {item} ordered"


def compare(a: int, b: int) -> None:
    if a < b:
        raise TooSmall(b - a)


def sqrt(x: float) -> float:
    return math.sqrt(x)  # math.sqrt(-1) raises ValueError: not mapped to any URI


def describe(exc: BaseException) -> str:
    if isinstance(exc, ApplicationError):
        return f"ApplicationError {exc.error} args={list(exc.args)} kwargs={exc.kwargs}"
    return f"{type(exc).__name__} args={list(exc.args)}"


async def main() -> None:
    async with (
        wamp_anyio.connect(URL, REALM) as callee,
        wamp_anyio.connect(URL, REALM) as caller,
    ):
        for session in (callee, caller):
            session.define(OutOfStock, "com.example.errors.out_of_stock")
            session.define(TooSmall)
        for fn in (checkname, order, compare, sqrt):
            await callee.register(fn, PREFIX + fn.__name__)

        attempts = [
            ("checkname", ("Homer",)),
            ("checkname", ("foo",)),
            ("checkname", ("homer",)),
            ("checkname", ("abcdefghijklm",)),
            ("order", ("donut", 2)),
            ("order", ("donut", 12)),
            ("compare", (1, 10)),
            ("sqrt", (-1,)),
            ("nonexistent", ()),
        ]
        for name, args in attempts:
            shown = f"{name}({', '.join(map(repr, args))})"
            try:
                result = await caller.call(PREFIX + name, *args)
            except OutOfStock as exc:  # the class we defined, raised in the callee
                item, left = exc.args
                print(f"{shown} -> OutOfStock: only {left} {item}s left")
            except TooSmall as exc:
                print(f"{shown} -> TooSmall: off by {exc.args[0]}")
            except ApplicationError as exc:
                print(f"{shown} -> {describe(exc)}")
            else:
                print(f"{shown} -> {result!r}")


if __name__ == "__main__":
    anyio.run(main, backend=BACKEND)
