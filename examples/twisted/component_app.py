# An Autobahn|Python Twisted Component application, ported by changing the import lines only.
# The original import lines were:
#
#   from autobahn.twisted.component import Component, run
#   from autobahn.wamp.types import PublishOptions
"""A Component with decorated procedures and handlers, an on_ready that does the work
and leaves, and a transports list
whose first entry has nobody listening (the component goes on to the second: RawSocket
with MessagePack)."""

from os import environ

from wamp_core.types import PublishOptions
from wamp_twisted.component import Component, run

url = environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
rs_url = environ.get("WAMP_RS_URL", "rs://127.0.0.1:8081")
realm = environ.get("WAMP_REALM", "realm1")
heard = []


component = Component(
    transports=[
        {"type": "websocket", "url": "ws://127.0.0.1:9/ws", "max_retries": 0},
        {"type": "rawsocket", "url": rs_url, "serializer": "msgpack"},
    ],
    realm=realm,
)


@component.register("com.example.component.twisted.add2")
def add2(a, b):
    return a + b


@component.subscribe("com.example.component.twisted.hello")
def hello(message):
    heard.append(message)


@component.on_connectfailure
def cannot_connect(comp, error):
    print("could not connect:", type(error).__name__)


@component.on_join
def joined(session, details):
    print("session joined: realm", details.realm)


@component.on_ready
async def ready(session):
    """Runs once joined and set up (the decorated procedure and handler are in place)."""
    print("add2(2, 3) =", await session.call("com.example.component.twisted.add2", 2, 3))
    options = PublishOptions(acknowledge=True, exclude_me=False)
    await session.publish("com.example.component.twisted.hello", "hi", options=options)
    await session.call("com.example.component.twisted.add2", 0, 0)  # the event is in by now
    print("heard:", heard)
    session.leave()  # a clean leave: the component is done


@component.on_leave
def left(session, details):
    print("session left:", details.reason)


@component.on_disconnect
def disconnected(session, was_clean):
    print("transport disconnected, clean:", was_clean)


if __name__ == "__main__":
    run([component])
