# An Autobahn|Python Twisted application, ported by changing the import lines only.
# The original import lines were:
#
#   from autobahn.twisted.util import sleep
#   from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
"""Canceling calls.

``Deferred.cancel()`` on the Deferred of ``session.call(...)`` cancels the call: the
session sends CANCEL, the router interrupts the callee, whose Deferred is canceled
in turn (its inlineCallbacks function sees CancelledError). Two ways to cancel here:

1. a deadline: ``d.addTimeout(0.3, reactor)`` cancels the call when it is late;
2. a race: ``twisted.internet.defer.race`` calls two mirrors at once, keeps the
   first answer and cancels the other call.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/twisted/rpc_cancel.py
"""

from functools import partial
from os import environ

from twisted.internet import reactor
from twisted.internet.defer import (
    CancelledError,
    DeferredQueue,
    TimeoutError,
    inlineCallbacks,
    race,
)

from wamp_twisted import ApplicationRunner, ApplicationSession
from wamp_twisted.util import sleep

PREFIX = "com.example.twisted.cancel."


class Component(ApplicationSession):
    @inlineCallbacks
    def fetch(self, mirror, delay, what):
        """Answer after ``delay`` seconds; say so when interrupted."""
        try:
            yield sleep(delay)
        except CancelledError:
            print(f"callee: {mirror} was interrupted while fetching {what}")
            self.interrupted.put(what)
            raise
        return f"{what} from {mirror}"

    @inlineCallbacks
    def onJoin(self, details):
        self.interrupted = DeferredQueue()
        yield self.register(partial(self.fetch, "slow-mirror", 10.0), PREFIX + "slow_mirror")
        yield self.register(partial(self.fetch, "fast-mirror", 0.2), PREFIX + "fast_mirror")

        # 1. a deadline
        call = self.call(PREFIX + "slow_mirror", "file.txt")
        call.addTimeout(0.3, reactor)
        try:
            result = yield call
        except TimeoutError:
            print("caller: gave up waiting after 0.3 s (TimeoutError)")
        else:
            print(f"caller: got {result} in time")
        yield self.interrupted.get()

        # 2. a race: the first answer wins, the other call is canceled
        calls = [self.call(PREFIX + name, "image.png") for name in ("slow_mirror", "fast_mirror")]
        index, result = yield race(calls)
        print(f"caller: first answer: {result} (call {index})")
        yield self.interrupted.get()

        # the session is fine afterwards
        result = yield self.call(PREFIX + "fast_mirror", "notes.md")
        print(f"caller: one more call: {result}")
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
