# An Autobahn|Python Twisted application, ported by changing the import lines only.
# The original import lines were:
#
#   from autobahn import wamp
#   from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
#   from autobahn.wamp.exception import ApplicationError
#   from autobahn.wamp.types import CallResult
"""A calculator backend and its frontend in one Autobahn Twisted component.

It registers procedures (plain results, CallResult with several results and
keyword results, errors: ApplicationError and an exception class mapped with
``@wamp.error`` + ``define``), calls them (also in parallel, with a DeferredList),
and leaves; onDisconnect stops the reactor, as Autobahn programs do (wamp_twisted's
runner would stop it by itself when the session is over; Autobahn's does not).

    WAMP_URL=rs://127.0.0.1:8081 python examples/twisted/rpc_calculator.py
"""

import math
from os import environ

from twisted.internet import reactor
from twisted.internet.defer import DeferredList, inlineCallbacks

import wamp_core as wamp
from wamp_core.exception import ApplicationError
from wamp_core.types import CallResult
from wamp_twisted import ApplicationRunner, ApplicationSession


@wamp.error("com.myapp.txcalc.error.negative")
class NegativeNumber(Exception):
    """Raised by sqrt() for a negative argument; automapped by its URI."""


class Calculator(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        print(f"session joined: realm {details.realm}")

        def add2(x, y):
            return x + y

        def split_name(fullname):
            forename, surname = fullname.split()
            return CallResult(forename, surname)

        def add_complex(a, ai, b, bi):
            return CallResult(c=a + b, ci=ai + bi)

        def sqrt(x):
            if x < 0:
                raise NegativeNumber(x)
            return math.sqrt(x)

        def checkname(name):
            if name in ["foo", "bar"]:
                raise ApplicationError("com.myapp.txcalc.error.reserved", name, why="reserved")
            return f"{name} is a fine name"

        self.define(NegativeNumber)
        yield self.register(add2, "com.myapp.txcalc.add2")
        yield self.register(split_name, "com.myapp.txcalc.split_name")
        yield self.register(add_complex, "com.myapp.txcalc.add_complex")
        yield self.register(sqrt, "com.myapp.txcalc.sqrt")
        yield self.register(checkname, "com.myapp.txcalc.checkname")
        print("procedures registered")

        res = yield self.call("com.myapp.txcalc.add2", 2, 3)
        print(f"add2(2, 3) = {res}")

        res = yield self.call("com.myapp.txcalc.split_name", "Homer Simpson")
        print(f"Forename: {res.results[0]}, Surname: {res.results[1]}")

        res = yield self.call("com.myapp.txcalc.add_complex", 2, 3, 4, 5)
        print(f"Result: {res.kwresults['c']} + {res.kwresults['ci']}i")

        res = yield self.call("com.myapp.txcalc.sqrt", 16)
        print(f"sqrt(16) = {res}")
        try:
            yield self.call("com.myapp.txcalc.sqrt", -4)
        except NegativeNumber as e:
            print(f"sqrt(-4) failed: NegativeNumber{e.args}")

        try:
            yield self.call("com.myapp.txcalc.checkname", "foo")
        except ApplicationError as e:
            print(f"checkname('foo') failed: {e.error} {e.args} {e.kwargs}")

        results = yield DeferredList([self.call("com.myapp.txcalc.add2", i, i) for i in range(5)])
        print(f"in parallel: {[value for _, value in results]}")

        self.leave()

    def onLeave(self, details):
        print(f"session left: {details.reason}")
        self.disconnect()

    def onDisconnect(self):
        print("transport disconnected")
        reactor.stop()


def main():
    url = environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
    realm = environ.get("WAMP_REALM", "realm1")
    runner = ApplicationRunner(url, realm)
    runner.run(Calculator)


if __name__ == "__main__":
    main()
