# An Autobahn|Python Twisted application, ported by changing the import lines only.
# The original import lines were:
#
#   from autobahn import wamp
#   from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
#   from autobahn.wamp.exception import ApplicationError
"""RPC errors: ApplicationError with args/kwargs, custom exceptions mapped to error URIs.

* A procedure raises ``ApplicationError(uri, *args, **kwargs)``: the caller gets an
  ApplicationError with the same ``error``, ``args`` and ``kwargs``.
* ``session.define(MyError, uri)`` maps an exception class to an error URI, both
  ways: the callee raises ``MyError(...)``, the caller catches ``MyError``.
* ``@wamp.error(uri)`` on the class names the URI; ``session.define(MyError)`` then
  takes it from there.
* Any other exception becomes ``wamp.error.runtime_error``; calling a procedure
  nobody registered gives ``wamp.error.no_such_procedure``.

One component is callee and caller at once (Autobahn logs the procedures' errors).

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/twisted/rpc_errors.py
"""

import math
from os import environ

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks

import wamp_core as wamp
from wamp_core.exception import ApplicationError
from wamp_twisted import ApplicationRunner, ApplicationSession

PREFIX = "com.example.twisted.errors."


class OutOfStock(Exception):
    """Mapped with session.define(OutOfStock, uri)."""


@wamp.error("com.example.twisted.errors.too_small")
class TooSmall(Exception):
    """Mapped by its decorator; session.define(TooSmall) picks the URI up."""


def checkname(name):
    if name in ("foo", "bar"):
        raise ApplicationError(PREFIX + "reserved")
    if name.lower() != name:
        raise ApplicationError(PREFIX + "mixed_case", name.lower(), name.upper())
    if not 3 <= len(name) <= 10:
        raise ApplicationError(PREFIX + "invalid_length", min=3, max=10)
    return f"{name} is fine"


def order(item, quantity):
    if quantity > 3:
        raise OutOfStock(item, 3)
    return f"{quantity} x {item} ordered"


def compare(a, b):
    if a < b:
        raise TooSmall(b - a)


def sqrt(x):
    return math.sqrt(x)  # math.sqrt(-1) raises ValueError: not mapped to any URI


def describe(exc):
    if isinstance(exc, ApplicationError):
        return f"ApplicationError {exc.error} args={list(exc.args)} kwargs={exc.kwargs}"
    return f"{type(exc).__name__} args={list(exc.args)}"


class Component(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        self.define(OutOfStock, PREFIX + "out_of_stock")
        self.define(TooSmall)
        for fn in (checkname, order, compare, sqrt):
            yield self.register(fn, PREFIX + fn.__name__)

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
                result = yield self.call(PREFIX + name, *args)
            except OutOfStock as exc:  # the class we defined, raised by the procedure
                item, left = exc.args
                print(f"{shown} -> OutOfStock: only {left} {item}s left")
            except TooSmall as exc:
                print(f"{shown} -> TooSmall: off by {exc.args[0]}")
            except ApplicationError as exc:
                print(f"{shown} -> {describe(exc)}")
            else:
                print(f"{shown} -> {result!r}")
        self.leave()

    def onDisconnect(self):
        reactor.stop()


def main():
    url = environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
    realm = environ.get("WAMP_REALM", "realm1")
    runner = ApplicationRunner(url, realm)
    runner.run(Component)


if __name__ == "__main__":
    main()
