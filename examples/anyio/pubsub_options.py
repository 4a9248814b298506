"""Publish options (structured style): acknowledge, exclude_me, eligible, exclude.

Three sessions: a publisher and two subscribers, alice and bob (the publisher
subscribes too). Each publication below reaches a different set of them.

* ``PublishOptions(acknowledge=True)``: ``publish()`` returns something to await,
  the broker's Publication (with its id), or the error if the broker refused it.
* ``exclude_me=False``: the publisher receives its own event (it does not by default).
* ``eligible=[id, ...]`` / ``exclude=[id, ...]``: only / all but these sessions.
* ``SubscribeOptions(details_arg="details")``: the handler learns the publication id
  and, when disclosed, the publisher.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/anyio/pubsub_options.py
"""

from __future__ import annotations

import os

import anyio

import wamp_anyio
from wamp_core.types import EventDetails, PublishOptions, SubscribeOptions

URL = os.environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
REALM = os.environ.get("WAMP_REALM", "realm1")
BACKEND = os.environ.get("WAMP_BACKEND", "asyncio")
TOPIC = "com.example.options.news"


async def main() -> None:
    async with (
        wamp_anyio.connect(URL, REALM) as publisher,
        wamp_anyio.connect(URL, REALM) as alice,
        wamp_anyio.connect(URL, REALM) as bob,
    ):
        names = {
            publisher.session_id: "publisher",
            alice.session_id: "alice",
            bob.session_id: "bob",
        }
        got: dict[str, list[str]] = {name: [] for name in names.values()}
        done = {name: anyio.Event() for name in names.values()}

        for session in (publisher, alice, bob):
            name = names[session.session_id]

            def on_news(text: str, details: EventDetails, name: str = name) -> None:
                if text == "the end":
                    done[name].set()
                    return
                got[name].append(text)
                sender = names.get(details.publisher, "?")  # Crossbar discloses it here
                print(f"{name:9} got {text!r} (publication {details.publication} by {sender})")

            await session.subscribe(on_news, TOPIC, options=SubscribeOptions(details_arg="details"))

        publication = await publisher.publish(
            TOPIC, "to everybody else", options=PublishOptions(acknowledge=True)
        )
        print(f"publisher: the broker acknowledged publication {publication.id}")
        await publisher.publish(
            TOPIC, "to everybody", options=PublishOptions(acknowledge=True, exclude_me=False)
        )
        await publisher.publish(
            TOPIC,
            "to alice only",
            options=PublishOptions(acknowledge=True, eligible=[alice.session_id]),
        )
        await publisher.publish(
            TOPIC,
            "to all but alice",
            options=PublishOptions(acknowledge=True, exclude=[alice.session_id], exclude_me=False),
        )
        publisher.publish(TOPIC, "the end", options=PublishOptions(exclude_me=False))

        with anyio.fail_after(5):
            for event in done.values():
                await event.wait()
        for name, texts in got.items():
            print(f"{name:9} received {texts}")


if __name__ == "__main__":
    anyio.run(main, backend=BACKEND)
