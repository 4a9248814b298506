"""Events as an async iterator, on trio (structured style).

``async with session.events(topic, max_buffer=N) as events:`` subscribes for the
duration of the block; ``async for event in events`` yields each event (``args``,
``kwargs``, ``details``) in publication order. A slow consumer is fine: at most
``max_buffer`` events wait for it (beyond that the session stops reading from the
router until it catches up, so memory stays bounded and nothing is dropped).
Leaving the block unsubscribes.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/anyio/pubsub_events.py
"""

from __future__ import annotations

import os

import anyio

import wamp_anyio
from wamp_core.types import PublishOptions

URL = os.environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
REALM = os.environ.get("WAMP_REALM", "realm1")
BACKEND = os.environ.get("WAMP_BACKEND", "trio")
TOPIC = "com.example.events.temperature"
READINGS = [20.5, 20.7, 21.0, 21.4, 21.3, 21.9, 22.4, 22.1]


async def sensor(session: wamp_anyio.Session) -> None:
    """Publishes all readings at once, much faster than the consumer reads them."""
    for n, celsius in enumerate(READINGS):
        await session.publish(
            TOPIC, celsius, sensor="kitchen", n=n, options=PublishOptions(acknowledge=True)
        )
    print(f"sensor: published {len(READINGS)} readings")


async def main() -> None:
    async with (
        wamp_anyio.connect(URL, REALM) as consumer,
        wamp_anyio.connect(URL, REALM) as producer,
    ):
        seen: list[int] = []
        async with (
            consumer.events(TOPIC, max_buffer=4) as events,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(sensor, producer)
            async for event in events:
                (celsius,) = event.args
                n = event.kwargs["n"]
                from_producer = event.details.publisher == producer.session_id
                print(f"reading {n}: {celsius} C from {event.kwargs['sensor']} ({from_producer=})")
                seen.append(n)
                await anyio.sleep(0.05)  # a slow consumer
                if len(seen) == len(READINGS):
                    break
        print(f"in publication order: {seen == sorted(seen)}; the block unsubscribed")


if __name__ == "__main__":
    anyio.run(main, backend=BACKEND)
