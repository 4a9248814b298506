# An Autobahn|Python Twisted application, ported by changing the import lines only.
# The original import lines were:
#
#   from autobahn.twisted.util import sleep
#   from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
"""Slow calls run concurrently.

Each invocation of a procedure runs on its own (an inlineCallbacks function that
sleeps does not block the reactor), so several calls to a slow procedure are
served at the same time, and their results come back in the order they finish,
not in the order they were made. A DeferredList waits for all of them.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/twisted/rpc_slow.py
"""

import time
from os import environ

from twisted.internet import reactor
from twisted.internet.defer import DeferredList, inlineCallbacks

from wamp_twisted import ApplicationRunner, ApplicationSession
from wamp_twisted.util import sleep

PROCEDURE = "com.example.twisted.slow.square"
DELAYS = [(1, 0.9), (2, 0.3), (3, 0.6)]  # (x, seconds): the calls finish in the order 2, 3, 1


@inlineCallbacks
def slow_square(x, delay):
    yield sleep(delay)
    return x * x


class Component(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        yield self.register(slow_square, PROCEDURE)
        finished = []
        started = time.monotonic()

        @inlineCallbacks
        def call(x, delay):
            print(f"call  square({x}) taking {delay} s")
            result = yield self.call(PROCEDURE, x, delay)
            print(f"got   square({x}) = {result} after {time.monotonic() - started:.1f} s")
            finished.append(x)

        yield DeferredList([call(x, delay) for x, delay in DELAYS], fireOnOneErrback=True)
        total = time.monotonic() - started
        one_by_one = sum(delay for _, delay in DELAYS)
        print(f"finished in the order {finished}, in {total:.1f} s (not {one_by_one:.1f} s)")
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
