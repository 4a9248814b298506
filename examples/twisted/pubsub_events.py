# An Autobahn|Python Twisted application, ported by changing the import lines only.
# The original import lines were:
#
#   from autobahn.twisted.util import sleep
#   from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
#   from autobahn.wamp.types import PublishOptions, SubscribeOptions
"""Events as a stream: a handler feeds a DeferredQueue, a slow consumer reads it.

The Twisted way to process events one at a time, at the consumer's pace: the event
handler only puts each event into a ``twisted.internet.defer.DeferredQueue``, and an
inlineCallbacks loop takes them out with ``yield queue.get()``, in publication
order. (The queue holds what the consumer has not read yet; wamp_anyio's
``session.events(topic, max_buffer=...)`` bounds that instead.) The component is
the sensor too: it publishes its readings to itself (``exclude_me=False``).

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/twisted/pubsub_events.py
"""

from os import environ

from twisted.internet import reactor
from twisted.internet.defer import DeferredQueue, inlineCallbacks

from wamp_core.types import PublishOptions, SubscribeOptions
from wamp_twisted import ApplicationRunner, ApplicationSession
from wamp_twisted.util import sleep

TOPIC = "com.example.twisted.events.temperature"
READINGS = [20.5, 20.7, 21.0, 21.4, 21.3, 21.9, 22.4, 22.1]


class Component(ApplicationSession):
    @inlineCallbacks
    def sensor(self):
        """Publishes all readings at once, much faster than the consumer reads them."""
        options = PublishOptions(acknowledge=True, exclude_me=False)
        for n, celsius in enumerate(READINGS):
            yield self.publish(TOPIC, celsius, sensor="kitchen", n=n, options=options)
        print(f"sensor: published {len(READINGS)} readings")

    @inlineCallbacks
    def onJoin(self, details):
        queue = DeferredQueue()

        def on_reading(celsius, sensor=None, n=None, details=None):
            queue.put((n, celsius, sensor, details.publisher))

        subscription = yield self.subscribe(
            on_reading, TOPIC, options=SubscribeOptions(details_arg="details")
        )
        publishing = self.sensor()

        seen = []
        while len(seen) < len(READINGS):
            n, celsius, sensor, publisher = yield queue.get()
            from_me = publisher == details.session
            print(f"reading {n}: {celsius} C from {sensor} (from_me={from_me})")
            seen.append(n)
            yield sleep(0.05)  # a slow consumer

        yield publishing
        yield subscription.unsubscribe()
        print(f"in publication order: {seen == sorted(seen)}; unsubscribed")
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
