# An Autobahn|Python Twisted application, ported by changing the import lines only.
# The original import lines were:
#
#   from autobahn.twisted.util import sleep
#   from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
#   from autobahn.wamp.types import CallOptions, RegisterOptions
"""Progressive call results.

The callee registers with ``RegisterOptions(details_arg="details")`` and sends
intermediate results with ``details.progress(...)``; the caller passes
``CallOptions(on_progress=...)`` to receive them before the final result. A
caller that does not ask for progress sees ``details.progress`` as None.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/twisted/rpc_progress.py
"""

from os import environ

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks

from wamp_core.types import CallOptions, RegisterOptions
from wamp_twisted import ApplicationRunner, ApplicationSession
from wamp_twisted.util import sleep

PROCEDURE = "com.example.twisted.progress.longop"


@inlineCallbacks
def longop(n, details=None):
    """Count down from n, reporting each step if the caller wants progress."""
    for i in range(n, 0, -1):
        if details.progress is not None:
            details.progress(i, remaining=i)
        yield sleep(0.05)
    return "liftoff" if details.progress is not None else "liftoff (no progress asked)"


class Component(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        yield self.register(longop, PROCEDURE, options=RegisterOptions(details_arg="details"))

        def on_progress(i, remaining=None):
            print(f"progress: {i} (remaining={remaining})")

        result = yield self.call(PROCEDURE, 3, options=CallOptions(on_progress=on_progress))
        print(f"final result: {result}")

        result = yield self.call(PROCEDURE, 2)
        print(f"final result: {result}")
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
