"""Publish and subscribe (structured style).

One session subscribes a handler to a topic, another publishes to it. Handlers
get the event's args and kwargs as Python arguments, and each handler receives
its events in the order they were published.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/anyio/pubsub_basic.py
"""

from __future__ import annotations

import os

import anyio

import wamp_anyio

URL = os.environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
REALM = os.environ.get("WAMP_REALM", "realm1")
BACKEND = os.environ.get("WAMP_BACKEND", "asyncio")
TOPIC = "com.example.basic.counter"
COUNT = 5


async def main() -> None:
    async with (
        wamp_anyio.connect(URL, REALM) as subscriber,
        wamp_anyio.connect(URL, REALM) as publisher,
    ):
        received: list[int] = []
        all_received = anyio.Event()

        def on_counter(value: int, unit: str = "") -> None:
            print(f"subscriber: got {value} {unit}".rstrip())
            received.append(value)
            if len(received) == COUNT:
                all_received.set()

        subscription = await subscriber.subscribe(on_counter, TOPIC)
        print(f"subscriber: subscribed to {subscription.topic} (id {subscription.id})")

        for i in range(COUNT):
            if i % 2:
                publisher.publish(TOPIC, i, unit="apples")  # args and kwargs
            else:
                publisher.publish(TOPIC, i)
            print(f"publisher: published {i}")

        with anyio.fail_after(5):
            await all_received.wait()
        print(f"subscriber: received {received}, in order: {received == sorted(received)}")


if __name__ == "__main__":
    anyio.run(main, backend=BACKEND)
