# An Autobahn|Python Twisted application, ported by changing the import lines only.
# The original import lines were:
#
#   from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
"""RPC arguments: positional, keyword and mixed (a backend and a frontend component).

The backend registers a few procedures, the frontend calls them. Arguments travel
as WAMP ``args`` and ``kwargs`` and arrive as ordinary Python arguments. Both
components run in one process: each has a runner of its own (the backend's with
``start_reactor=False``), and they meet through Deferreds in ``extra``. When the
frontend is done, the backend leaves and stops the reactor in onDisconnect.

    WAMP_URL=ws://127.0.0.1:8080/ws WAMP_REALM=realm1 python examples/twisted/rpc_arguments.py
"""

from os import environ

from twisted.internet import reactor
from twisted.internet.defer import Deferred, inlineCallbacks

from wamp_twisted import ApplicationRunner, ApplicationSession

PREFIX = "com.example.twisted.arguments."


def ping():
    """No arguments, no result: the caller gets None."""


def add2(a, b):
    return a + b


def stars(nick="somebody", stars=0):
    return f"{nick} starred {stars}x"


def orders(product, limit=5):
    return [f"{product} #{i}" for i in range(limit)]


def arglen(*args, **kwargs):
    return [len(args), len(kwargs)]


class Backend(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        for fn in (ping, add2, stars, orders, arglen):
            yield self.register(fn, PREFIX + fn.__name__)
        print(f"backend: registered 5 procedures under {PREFIX}*")
        self.config.extra["registered"].callback(None)
        yield self.config.extra["frontend_gone"]
        self.leave()

    def onDisconnect(self):
        print("done: both sessions left")
        reactor.stop()


class Frontend(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        yield self.config.extra["registered"]
        try:
            res = yield self.call(PREFIX + "ping")
            print(f"ping() -> {res}")
            res = yield self.call(PREFIX + "add2", 2, 3)  # positional
            print(f"add2(2, 3) -> {res}")
            res = yield self.call(PREFIX + "stars")  # defaults
            print(f"stars() -> {res}")
            res = yield self.call(PREFIX + "stars", nick="Homer")  # keyword
            print(f"stars(nick='Homer') -> {res}")
            res = yield self.call(PREFIX + "stars", stars=5)
            print(f"stars(stars=5) -> {res}")
            res = yield self.call(PREFIX + "stars", nick="Homer", stars=5)
            print(f"stars(nick='Homer', stars=5) -> {res}")
            res = yield self.call(PREFIX + "orders", "coffee")
            print(f"orders('coffee') -> {res}")
            res = yield self.call(PREFIX + "orders", "coffee", limit=2)  # mixed
            print(f"orders('coffee', limit=2) -> {res}")
            res = yield self.call(PREFIX + "arglen")
            print(f"arglen() -> {res}")
            res = yield self.call(PREFIX + "arglen", 1, 2, 3)
            print(f"arglen(1, 2, 3) -> {res}")
            res = yield self.call(PREFIX + "arglen", a=1, b=2)
            print(f"arglen(a=1, b=2) -> {res}")
            res = yield self.call(PREFIX + "arglen", 1, 2, 3, a=1, b=2)
            print(f"arglen(1, 2, 3, a=1, b=2) -> {res}")
        finally:
            self.leave()

    def onDisconnect(self):
        self.config.extra["frontend_gone"].callback(None)


def main():
    url = environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
    realm = environ.get("WAMP_REALM", "realm1")
    extra = {"registered": Deferred(), "frontend_gone": Deferred()}
    frontend = ApplicationRunner(url, realm, extra=extra)
    frontend.run(Frontend, start_reactor=False)
    backend = ApplicationRunner(url, realm, extra=extra)
    backend.run(Backend)


if __name__ == "__main__":
    main()
