"""Retained events (structured style).

The broker keeps the last event published with ``PublishOptions(retain=True)`` on a
topic; a later subscriber that asks with ``SubscribeOptions(get_retained=True)``
receives it at once (``details.retained`` is true), then the live events.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/anyio/pubsub_retained.py
"""

from __future__ import annotations

import os

import anyio

import wamp_anyio
from wamp_core.types import EventDetails, PublishOptions, SubscribeOptions

URL = os.environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
REALM = os.environ.get("WAMP_REALM", "realm1")
BACKEND = os.environ.get("WAMP_BACKEND", "asyncio")
TOPIC = "com.example.retained.status"


async def main() -> None:
    async with wamp_anyio.connect(URL, REALM) as publisher:
        for status in ("booting", "starting", "ready"):
            await publisher.publish(
                TOPIC, status, options=PublishOptions(retain=True, acknowledge=True)
            )
            print(f"publisher: published {status!r} (retained)")

        async with wamp_anyio.connect(URL, REALM) as latecomer:
            received: list[str] = []
            two = anyio.Event()

            def on_status(status: str, details: EventDetails) -> None:
                kind = "retained" if details.retained else "live"
                print(f"latecomer: got {status!r} ({kind})")
                received.append(status)
                if len(received) == 2:
                    two.set()

            await latecomer.subscribe(
                on_status,
                TOPIC,
                options=SubscribeOptions(get_retained=True, details_arg="details"),
            )
            print("latecomer: subscribed after the publications")
            await publisher.publish(TOPIC, "busy", options=PublishOptions(acknowledge=True))
            print("publisher: published 'busy' (live)")
            with anyio.fail_after(5):
                await two.wait()
            print(f"latecomer: received {received}")


if __name__ == "__main__":
    anyio.run(main, backend=BACKEND)
