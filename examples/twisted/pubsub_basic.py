# An Autobahn|Python Twisted application, ported by changing the import lines only.
# The original import lines were:
#
#   from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
"""Publish and subscribe (a subscriber and a publisher component).

The subscriber subscribes a handler to a topic, the publisher publishes to it (a
publisher does not receive its own events by default, hence two sessions).
Handlers get the event's args and kwargs as Python arguments, and each handler
receives its events in the order they were published. Both components run in one
process and meet through Deferreds in ``extra``; the publisher leaves once the
subscriber has left, and stops the reactor.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/twisted/pubsub_basic.py
"""

from os import environ

from twisted.internet import reactor
from twisted.internet.defer import Deferred, inlineCallbacks

from wamp_twisted import ApplicationRunner, ApplicationSession

TOPIC = "com.example.twisted.basic.counter"
COUNT = 5


class Subscriber(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        self.received = []
        subscription = yield self.subscribe(self.on_counter, TOPIC)
        print(f"subscriber: subscribed to {TOPIC} (id {subscription.id})")
        self.config.extra["subscribed"].callback(None)

    def on_counter(self, value, unit=""):
        print(f"subscriber: got {value} {unit}".rstrip())
        self.received.append(value)
        if len(self.received) == COUNT:
            in_order = self.received == sorted(self.received)
            print(f"subscriber: received {self.received}, in order: {in_order}")
            self.leave()

    def onDisconnect(self):
        self.config.extra["subscriber_gone"].callback(None)


class Publisher(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        yield self.config.extra["subscribed"]
        for i in range(COUNT):
            if i % 2:
                self.publish(TOPIC, i, unit="apples")  # args and kwargs
            else:
                self.publish(TOPIC, i)
            print(f"publisher: published {i}")
        yield self.config.extra["subscriber_gone"]
        self.leave()

    def onDisconnect(self):
        print("publisher: disconnected")
        reactor.stop()


def main():
    url = environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
    realm = environ.get("WAMP_REALM", "realm1")
    extra = {"subscribed": Deferred(), "subscriber_gone": Deferred()}
    ApplicationRunner(url, realm, extra=extra).run(Subscriber, start_reactor=False)
    ApplicationRunner(url, realm, extra=extra).run(Publisher)


if __name__ == "__main__":
    main()
