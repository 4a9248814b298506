# An Autobahn|Python Twisted application, ported by changing the import lines only.
# The original import lines were:
#
#   from autobahn import wamp
#   from autobahn.twisted.util import sleep
#   from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
#   from autobahn.wamp.types import RegisterOptions
"""RPC decorators: ``@wamp.register`` on the methods of a class.

``session.register(obj)`` registers every method of ``obj`` decorated with
``@wamp.register(uri)`` and gives the list of registrations. The decorator may
carry RegisterOptions too (here: the call details for one method). Methods may be
plain, inlineCallbacks generators or coroutines.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/twisted/rpc_decorators.py
"""

from os import environ

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks

import wamp_core as wamp
from wamp_core.types import RegisterOptions
from wamp_twisted import ApplicationRunner, ApplicationSession
from wamp_twisted.util import sleep


class MathService:
    """A plain class: its decorated methods become procedures."""

    def __init__(self):
        self.calls = 0

    @wamp.register("com.example.twisted.decorators.add2")
    def add2(self, x, y):
        self.calls += 1
        return x + y

    @wamp.register("com.example.twisted.decorators.square")
    @inlineCallbacks
    def square(self, x):
        self.calls += 1
        yield sleep(0.01)
        return x * x

    @wamp.register("com.example.twisted.decorators.cube")
    async def cube(self, x):
        self.calls += 1
        await sleep(0.01)
        return x * x * x

    @wamp.register(
        "com.example.twisted.decorators.whoami", options=RegisterOptions(details_arg="details")
    )
    def whoami(self, details=None):
        self.calls += 1
        return details.caller

    def helper(self):
        """Not decorated: not registered."""


class Component(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        service = MathService()
        try:
            registrations = yield self.register(service)
            for registration in registrations:
                print(f"registered {registration.procedure}")

            res = yield self.call("com.example.twisted.decorators.add2", 2, 3)
            print(f"add2(2, 3) -> {res}")
            res = yield self.call("com.example.twisted.decorators.square", 7)
            print(f"square(7) -> {res}")
            res = yield self.call("com.example.twisted.decorators.cube", 3)
            print(f"cube(3) -> {res}")
            caller = yield self.call("com.example.twisted.decorators.whoami")
            print(f"whoami() -> this session: {caller == details.session}")
            print(f"the service answered {service.calls} calls")
        finally:
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
