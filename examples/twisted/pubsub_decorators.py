# An Autobahn|Python Twisted application, ported by changing the import lines only.
# The original import lines were:
#
#   from autobahn import wamp
#   from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
#   from autobahn.wamp.types import PublishOptions, SubscribeOptions
"""PubSub decorators: ``@wamp.subscribe`` on methods.

``session.subscribe(obj)`` subscribes every method of ``obj`` decorated with
``@wamp.subscribe(uri)``; here the object is the session itself. The component
publishes to its own topics with ``exclude_me=False`` (a publisher does not
receive its own events by default) and leaves once every event has arrived.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/twisted/pubsub_decorators.py
"""

from os import environ

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks

import wamp_core as wamp
from wamp_core.types import PublishOptions, SubscribeOptions
from wamp_twisted import ApplicationRunner, ApplicationSession

PREFIX = "com.example.twisted.decorators."
EXPECTED = 4


class Component(ApplicationSession):
    received = 0

    @wamp.subscribe(PREFIX + "temperature")
    def on_temperature(self, celsius):
        print(f"temperature: {celsius} C")
        self.count()

    @wamp.subscribe(PREFIX + "alarm", options=SubscribeOptions(details_arg="details"))
    async def on_alarm(self, level, room="?", details=None):
        print(f"alarm: {level} in {room} (on topic {details.topic})")
        self.count()

    def count(self):
        self.received += 1
        if self.received == EXPECTED:
            print("all events received, leaving")
            self.leave()

    @inlineCallbacks
    def onJoin(self, details):
        subscriptions = yield self.subscribe(self)
        for subscription in subscriptions:
            print(f"subscribed to {subscription.topic}")

        loopback = PublishOptions(exclude_me=False)
        self.publish(PREFIX + "temperature", 21.5, options=loopback)
        self.publish(PREFIX + "alarm", "low", room="kitchen", options=loopback)
        self.publish(PREFIX + "temperature", 22.0, options=loopback)
        self.publish(PREFIX + "alarm", "high", options=loopback)

    def onDisconnect(self):
        print("disconnected")
        reactor.stop()


def main():
    url = environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
    realm = environ.get("WAMP_REALM", "realm1")
    runner = ApplicationRunner(url, realm)
    runner.run(Component)


if __name__ == "__main__":
    main()
