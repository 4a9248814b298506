# An Autobahn|Python Twisted application, ported by changing the import lines only.
# The original import lines were:
#
#   from autobahn import wamp
#   from autobahn.twisted.util import sleep
#   from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
#   from autobahn.wamp.types import PublishOptions, SubscribeOptions
"""A monitor that publishes to itself, in one Autobahn Twisted component.

Handlers come from ``@wamp.subscribe`` methods (``self.subscribe(self)``) and from a
plain function with ``SubscribeOptions(details_arg="details")``; publications are
acknowledged and sent back to the publisher (``exclude_me=False``). After three
heartbeats the heartbeat handler unsubscribes; the component leaves when done and
stops the reactor in onDisconnect, as Autobahn programs do.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/twisted/pubsub_monitor.py
"""

from os import environ

from twisted.internet import reactor
from twisted.internet.defer import Deferred, inlineCallbacks

import wamp_core as wamp
from wamp_core.types import PublishOptions, SubscribeOptions
from wamp_twisted import ApplicationRunner, ApplicationSession
from wamp_twisted.util import sleep


class Monitor(ApplicationSession):
    @wamp.subscribe("com.myapp.txmonitor.alert")
    def on_alert(self, level, message=None):
        print(f"alert: {level} {message}")
        self.alerts.append(level)
        if len(self.alerts) == 2:
            self.finished.callback(True)

    @inlineCallbacks
    def onJoin(self, details):
        self.alerts = []
        self.heartbeats = 0
        self.finished = Deferred()

        subs = yield self.subscribe(self)
        for sub in subs:
            print(f"subscribed to {sub.topic}")

        def on_heartbeat(count, details=None):
            print(f"heartbeat {count} (publication {details.publication})")
            self.heartbeats += 1

        heartbeat_sub = yield self.subscribe(
            on_heartbeat,
            "com.myapp.txmonitor.heartbeat",
            options=SubscribeOptions(details_arg="details"),
        )

        options = PublishOptions(acknowledge=True, exclude_me=False)
        for count in range(3):
            pub = yield self.publish("com.myapp.txmonitor.heartbeat", count, options=options)
            print(f"published heartbeat {count} as publication {pub.id}")
        while self.heartbeats < 3:
            yield sleep(0.05)

        yield heartbeat_sub.unsubscribe()
        print(f"unsubscribed from heartbeats: active={heartbeat_sub.active}")
        yield self.publish("com.myapp.txmonitor.heartbeat", 3, options=options)

        yield self.publish("com.myapp.txmonitor.alert", "warning", options=options)
        yield self.publish(
            "com.myapp.txmonitor.alert", "critical", message="disk full", options=options
        )
        yield self.finished
        print(f"got {self.heartbeats} heartbeats and alerts {self.alerts}")
        self.leave()

    def onDisconnect(self):
        reactor.stop()


def main():
    url = environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
    realm = environ.get("WAMP_REALM", "realm1")
    runner = ApplicationRunner(url, realm)
    runner.run(Monitor)


if __name__ == "__main__":
    main()
