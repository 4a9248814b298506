# An Autobahn|Python Twisted application, ported by changing the import lines only.
# The original import lines were:
#
#   from autobahn.twisted.util import sleep
#   from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
#   from autobahn.wamp.exception import ApplicationError
#   from autobahn.wamp.types import CallOptions, RegisterOptions
"""RPC options: call timeouts, caller disclosure, pattern-based registrations.

* ``CallOptions(timeout=1)``: the call fails with ``wamp.error.timeout`` and the slow
  procedure is interrupted (its Deferred is canceled). wamp_twisted reads the
  timeout in seconds and enforces it itself; Autobahn passes the number on as is,
  and the router reads it in milliseconds.
* ``RegisterOptions(details_arg="details")``: the callee sees who calls in
  ``details.caller`` / ``caller_authid`` / ``caller_authrole``, when the router
  discloses the caller (Crossbar: ``"disclose": {"caller": true}`` in the role;
  Autobahn has no ``disclose_me`` call option).
* ``RegisterOptions(match="prefix")``: one endpoint serves every procedure under a
  prefix; ``details.procedure`` is the URI actually called.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/twisted/rpc_options.py
"""

import time
from os import environ

from twisted.internet import reactor
from twisted.internet.defer import CancelledError, Deferred, inlineCallbacks

from wamp_core.exception import ApplicationError
from wamp_core.types import CallOptions, RegisterOptions
from wamp_twisted import ApplicationRunner, ApplicationSession
from wamp_twisted.util import sleep

PREFIX = "com.example.twisted.options."


def whoami(details=None):
    return {
        "caller": details.caller,
        "authid": details.caller_authid,
        "authrole": details.caller_authrole,
    }


def service(*args, details=None):
    action = details.procedure[len(PREFIX + "service.") :]
    return f"{action}{args}"


class Component(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        interrupted = Deferred()

        @inlineCallbacks
        def slow(seconds):
            try:
                yield sleep(seconds)
            except CancelledError:
                print("callee: slow() was interrupted")
                interrupted.callback(None)
                raise
            return f"slept {seconds} s"

        yield self.register(slow, PREFIX + "slow")
        yield self.register(whoami, PREFIX + "whoami", RegisterOptions(details_arg="details"))
        yield self.register(
            service, PREFIX + "service.", RegisterOptions(match="prefix", details_arg="details")
        )

        started = time.monotonic()
        try:
            yield self.call(PREFIX + "slow", 5, options=CallOptions(timeout=1))
        except ApplicationError as e:
            elapsed = time.monotonic() - started
            print(f"slow(5) with timeout 1 -> {e.error} after {elapsed:.1f} s")
        yield interrupted

        who = yield self.call(PREFIX + "whoami")
        me = who["caller"] == details.session
        print(f"whoami -> session {who['caller']} (the caller: {me}), authrole {who['authrole']}")

        for action in ("start", "stop"):
            result = yield self.call(f"{PREFIX}service.{action}", 1, 2)
            print(f"service.{action}(1, 2) -> {result}")
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
