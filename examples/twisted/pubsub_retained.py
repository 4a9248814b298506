# An Autobahn|Python Twisted application, ported by changing the import lines only.
# The original import lines were:
#
#   from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
#   from autobahn.wamp.types import PublishOptions, SubscribeOptions
"""Retained events (a publisher and a latecomer component).

The broker keeps the last event published with ``PublishOptions(retain=True)`` on a
topic; a later subscriber that asks with ``SubscribeOptions(get_retained=True)``
receives it at once (``details.retained`` is true), then the live events.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/twisted/pubsub_retained.py
"""

from os import environ

from twisted.internet import reactor
from twisted.internet.defer import Deferred, inlineCallbacks

from wamp_core.types import PublishOptions, SubscribeOptions
from wamp_twisted import ApplicationRunner, ApplicationSession

TOPIC = "com.example.twisted.retained.status"


class Publisher(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        for status in ("booting", "starting", "ready"):
            yield self.publish(TOPIC, status, options=PublishOptions(retain=True, acknowledge=True))
            print(f"publisher: published {status!r} (retained)")
        self.config.extra["published"].callback(None)

        yield self.config.extra["subscribed"]
        yield self.publish(TOPIC, "busy", options=PublishOptions(acknowledge=True))
        print("publisher: published 'busy' (live)")
        yield self.config.extra["latecomer_gone"]
        self.leave()

    def onDisconnect(self):
        reactor.stop()


class Latecomer(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        self.received = []
        yield self.config.extra["published"]
        yield self.subscribe(
            self.on_status,
            TOPIC,
            options=SubscribeOptions(get_retained=True, details_arg="details"),
        )
        print("latecomer: subscribed after the publications")
        self.config.extra["subscribed"].callback(None)

    def on_status(self, status, details=None):
        kind = "retained" if details.retained else "live"
        print(f"latecomer: got {status!r} ({kind})")
        self.received.append(status)
        if len(self.received) == 2:
            print(f"latecomer: received {self.received}")
            self.leave()

    def onDisconnect(self):
        self.config.extra["latecomer_gone"].callback(None)


def main():
    url = environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
    realm = environ.get("WAMP_REALM", "realm1")
    extra = {"published": Deferred(), "subscribed": Deferred(), "latecomer_gone": Deferred()}
    ApplicationRunner(url, realm, extra=extra).run(Latecomer, start_reactor=False)
    ApplicationRunner(url, realm, extra=extra).run(Publisher)


if __name__ == "__main__":
    main()
