"""Unsubscribing (structured style).

Two handlers of one session on one topic share a single router subscription
(the same subscription id). ``await subscription.unsubscribe()`` removes one
handler; the router subscription ends with the last one, and subscribing again
starts a new one.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/anyio/pubsub_unsubscribe.py
"""

from __future__ import annotations

import os

import anyio

import wamp_anyio
from wamp_core.types import PublishOptions

URL = os.environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
REALM = os.environ.get("WAMP_REALM", "realm1")
BACKEND = os.environ.get("WAMP_BACKEND", "asyncio")
TOPIC = "com.example.unsubscribe.ticks"


class Recorder:
    """An event handler that remembers what it got and lets us wait for a value."""

    def __init__(self, name: str):
        self.name = name
        self.values: list[int] = []
        self._arrived = anyio.Event()

    def __call__(self, value: int) -> None:
        self.values.append(value)
        self._arrived.set()

    async def wait_for(self, value: int) -> None:
        with anyio.fail_after(5):
            while value not in self.values:
                await self._arrived.wait()
                self._arrived = anyio.Event()


async def main() -> None:
    async with (
        wamp_anyio.connect(URL, REALM) as subscriber,
        wamp_anyio.connect(URL, REALM) as publisher,
    ):

        async def publish(*values: int) -> None:
            for value in values:
                await publisher.publish(TOPIC, value, options=PublishOptions(acknowledge=True))
            print(f"published {list(values)}")

        a, b = Recorder("a"), Recorder("b")
        sub_a = await subscriber.subscribe(a, TOPIC)
        sub_b = await subscriber.subscribe(b, TOPIC)
        print(f"a and b share the router subscription: {sub_a.id == sub_b.id}")

        await publish(1, 2, 3)
        await b.wait_for(3)

        await sub_a.unsubscribe()
        print(f"unsubscribed a (active: {sub_a.active}); b stays subscribed")
        await publish(4, 5)
        await b.wait_for(5)
        print(f"a got {a.values}, b got {b.values}")

        await sub_b.unsubscribe()
        print(f"unsubscribed b (active: {sub_b.active}): the router subscription is gone")
        await publish(6)
        await anyio.sleep(0.2)  # nothing may arrive now
        print(f"a got {a.values}, b got {b.values}")

        sub_a = await subscriber.subscribe(a, TOPIC)
        print(f"subscribed a again: a new subscription: {sub_a.id != sub_b.id}")
        await publish(7)
        await a.wait_for(7)
        print(f"a got {a.values}, b got {b.values}")


if __name__ == "__main__":
    anyio.run(main, backend=BACKEND)
