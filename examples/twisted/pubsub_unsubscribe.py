# An Autobahn|Python Twisted application, ported by changing the import lines only.
# The original import lines were:
#
#   from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
#   from autobahn.wamp.types import PublishOptions
"""Unsubscribing.

Two handlers of one session on one topic share a single router subscription
(the same subscription id). ``yield subscription.unsubscribe()`` removes one
handler; the router subscription ends with the last one, and subscribing again
starts a new one. The component publishes to itself (``exclude_me=False``).

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/twisted/pubsub_unsubscribe.py
"""

from os import environ

from twisted.internet import reactor
from twisted.internet.defer import Deferred, gatherResults, inlineCallbacks, succeed

from wamp_core.types import PublishOptions
from wamp_twisted import ApplicationRunner, ApplicationSession

TOPIC = "com.example.twisted.unsubscribe.ticks"


class Recorder:
    """An event handler that remembers what it got and lets us wait for a value."""

    def __init__(self, name):
        self.name = name
        self.values = []
        self.waiting = {}

    def __call__(self, value):
        self.values.append(value)
        for waiter in self.waiting.pop(value, []):
            waiter.callback(None)

    def wait_for(self, value):
        if value in self.values:
            return succeed(None)
        waiter = Deferred()
        self.waiting.setdefault(value, []).append(waiter)
        return waiter


class Component(ApplicationSession):
    @inlineCallbacks
    def publish_ticks(self, *values):
        for value in values:
            options = PublishOptions(acknowledge=True, exclude_me=False)
            yield self.publish(TOPIC, value, options=options)
        print(f"published {list(values)}")

    @inlineCallbacks
    def onJoin(self, details):
        a, b = Recorder("a"), Recorder("b")
        sub_a = yield self.subscribe(a, TOPIC)
        sub_b = yield self.subscribe(b, TOPIC)
        print(f"a and b share the router subscription: {sub_a.id == sub_b.id}")

        yield self.publish_ticks(1, 2, 3)
        yield gatherResults([a.wait_for(3), b.wait_for(3)])

        yield sub_a.unsubscribe()
        print(f"unsubscribed a (active: {sub_a.active}); b stays subscribed")
        yield self.publish_ticks(4, 5)
        yield b.wait_for(5)
        print(f"a got {a.values}, b got {b.values}")

        yield sub_b.unsubscribe()
        print(f"unsubscribed b (active: {sub_b.active}): the router subscription is gone")
        yield self.publish_ticks(6)  # reaches nobody

        old_id = sub_b.id
        sub_a = yield self.subscribe(a, TOPIC)
        print(f"subscribed a again: a new subscription: {sub_a.id != old_id}")
        yield self.publish_ticks(7)
        yield a.wait_for(7)
        print(f"a got {a.values}, b got {b.values}")
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
