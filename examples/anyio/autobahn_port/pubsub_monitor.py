# An Autobahn|Python asyncio application, ported by changing the import lines only.
# The original import lines were:
#
#   from autobahn import wamp
#   from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession
#   from autobahn.wamp.types import PublishOptions, SubscribeOptions
"""A monitor that publishes to itself, in one Autobahn asyncio component.

Handlers come from ``@wamp.subscribe`` methods (``self.subscribe(self)``) and from a
plain function with ``SubscribeOptions(details_arg="details")``; publications are
acknowledged and sent back to the publisher (``exclude_me=False``). After three
heartbeats the heartbeat handler unsubscribes; the component leaves when done.
"""

import asyncio
from os import environ

import wamp_core as wamp
from wamp_anyio import ApplicationRunner, ApplicationSession
from wamp_core.types import PublishOptions, SubscribeOptions


class Monitor(ApplicationSession):
    @wamp.subscribe("com.myapp.monitor.alert")
    def on_alert(self, level, message=None):
        print(f"alert: {level} {message}")
        self.alerts.append(level)
        if len(self.alerts) == 2:
            self.finished.set_result(True)

    async def onJoin(self, details):
        self.alerts = []
        self.heartbeats = 0
        self.finished = asyncio.get_event_loop().create_future()

        subs = await self.subscribe(self)
        for sub in subs:
            print(f"subscribed to {sub.topic}")

        def on_heartbeat(count, details=None):
            print(f"heartbeat {count} (publication {details.publication})")
            self.heartbeats += 1

        heartbeat_sub = await self.subscribe(
            on_heartbeat,
            "com.myapp.monitor.heartbeat",
            options=SubscribeOptions(details_arg="details"),
        )

        options = PublishOptions(acknowledge=True, exclude_me=False)
        for count in range(3):
            pub = await self.publish("com.myapp.monitor.heartbeat", count, options=options)
            print(f"published heartbeat {count} as publication {pub.id}")
        while self.heartbeats < 3:
            await asyncio.sleep(0.05)

        await heartbeat_sub.unsubscribe()
        print(f"unsubscribed from heartbeats: active={heartbeat_sub.active}")
        await self.publish("com.myapp.monitor.heartbeat", 3, options=options)

        await self.publish("com.myapp.monitor.alert", "warning", options=options)
        await self.publish(
            "com.myapp.monitor.alert", "critical", message="disk full", options=options
        )
        await self.finished
        print(f"got {self.heartbeats} heartbeats and alerts {self.alerts}")
        self.leave()

    def onDisconnect(self):
        asyncio.get_event_loop().stop()


def main():
    url = environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
    realm = environ.get("WAMP_REALM", "realm1")
    runner = ApplicationRunner(url, realm)
    runner.run(Monitor)


if __name__ == "__main__":
    main()
