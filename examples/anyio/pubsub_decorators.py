"""PubSub decorators (Autobahn style): ``@wamp.subscribe`` on methods.

``session.subscribe(obj)`` subscribes every method of ``obj`` decorated with
``@wamp.subscribe(uri)``; here the object is the session itself. The component
publishes to its own topics with ``exclude_me=False`` (a publisher does not
receive its own events by default) and leaves once every event has arrived.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/anyio/pubsub_decorators.py
"""

from __future__ import annotations

import os

import wamp_core as wamp
from wamp_anyio import ApplicationRunner, ApplicationSession
from wamp_core.types import EventDetails, PublishOptions, SessionDetails, SubscribeOptions

URL = os.environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
REALM = os.environ.get("WAMP_REALM", "realm1")
BACKEND = os.environ.get("WAMP_BACKEND", "asyncio")
EXPECTED = 4


class Component(ApplicationSession):
    received = 0

    @wamp.subscribe("com.example.decorators.temperature")
    def on_temperature(self, celsius: float) -> None:
        print(f"temperature: {celsius} C")
        self.count()

    @wamp.subscribe("com.example.decorators.alarm", options=SubscribeOptions(details_arg="details"))
    async def on_alarm(self, level: str, room: str = "?", *, details: EventDetails) -> None:
        print(f"alarm: {level} in {room} (on topic {details.topic})")
        self.count()

    def count(self) -> None:
        self.received += 1
        if self.received == EXPECTED:
            print("all events received, leaving")
            self.leave()

    async def onJoin(self, details: SessionDetails) -> None:
        subscriptions = await self.subscribe(self)
        for subscription in subscriptions:
            print(f"subscribed to {subscription.topic}")

        loopback = PublishOptions(exclude_me=False)
        self.publish("com.example.decorators.temperature", 21.5, options=loopback)
        self.publish("com.example.decorators.alarm", "low", room="kitchen", options=loopback)
        self.publish("com.example.decorators.temperature", 22.0, options=loopback)
        self.publish("com.example.decorators.alarm", "high", options=loopback)

    def onDisconnect(self) -> None:
        print("disconnected")


def main() -> None:
    ApplicationRunner(URL, REALM).run(Component, backend=BACKEND)


if __name__ == "__main__":
    main()
