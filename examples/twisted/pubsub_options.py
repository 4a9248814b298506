# An Autobahn|Python Twisted application, ported by changing the import lines only.
# The original import lines were:
#
#   from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
#   from autobahn.wamp.types import PublishOptions, SubscribeOptions
"""Publish options: acknowledge, exclude_me, eligible, exclude.

Three components: a publisher and two listeners, alice and bob (the publisher
listens too). Each publication below reaches a different set of them.

* ``PublishOptions(acknowledge=True)``: ``publish()`` gives a Deferred of the
  broker's Publication (with its id), or of the error if the broker refused it.
* ``exclude_me=False``: the publisher receives its own event (it does not by default).
* ``eligible=[id, ...]`` / ``exclude=[id, ...]``: only / all but these sessions.
* ``SubscribeOptions(details_arg="details")``: the handler learns the publication id
  and, when the router discloses it, the publisher.

Each component has a runner of its own (alice's and bob's with
``start_reactor=False``); they meet through Deferreds in ``extra``.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/twisted/pubsub_options.py
"""

from os import environ

from twisted.internet import reactor
from twisted.internet.defer import Deferred, gatherResults, inlineCallbacks

from wamp_core.types import PublishOptions, SubscribeOptions
from wamp_twisted import ApplicationRunner, ApplicationSession

TOPIC = "com.example.twisted.options.news"


class Listener(ApplicationSession):
    """Prints what reaches it; leaves at "the end"."""

    @inlineCallbacks
    def onJoin(self, details):
        self.name = self.config.extra["name"]
        self.names = self.config.extra["names"]  # session id -> name, shared by all three
        self.names[details.session] = self.name
        self.got = []
        yield self.subscribe(self.on_news, TOPIC, options=SubscribeOptions(details_arg="details"))
        self.config.extra["ready"].callback(details.session)

    def on_news(self, text, details=None):
        if text == "the end":
            print(f"{self.name:9} received {self.got}")
            self.finished()
            return
        self.got.append(text)
        sender = self.names.get(details.publisher, "?")  # Crossbar discloses it here
        print(f"{self.name:9} got {text!r} (publication {details.publication} by {sender})")

    def finished(self):
        self.leave()

    def onDisconnect(self):
        self.config.extra["gone"].callback(None)


class Publisher(Listener):
    @inlineCallbacks
    def onJoin(self, details):
        self.heard_the_end = Deferred()
        yield super().onJoin(details)
        listeners = self.config.extra["listeners"]
        alice, _bob = yield gatherResults([listener["ready"] for listener in listeners])

        publication = yield self.publish(
            TOPIC, "to everybody else", options=PublishOptions(acknowledge=True)
        )
        print(f"publisher: the broker acknowledged publication {publication.id}")
        yield self.publish(
            TOPIC, "to everybody", options=PublishOptions(acknowledge=True, exclude_me=False)
        )
        yield self.publish(
            TOPIC, "to alice only", options=PublishOptions(acknowledge=True, eligible=[alice])
        )
        yield self.publish(
            TOPIC,
            "to all but alice",
            options=PublishOptions(acknowledge=True, exclude=[alice], exclude_me=False),
        )
        self.publish(TOPIC, "the end", options=PublishOptions(exclude_me=False))

        yield self.heard_the_end
        yield gatherResults([listener["gone"] for listener in listeners])
        self.leave()

    def finished(self):
        self.heard_the_end.callback(None)

    def onDisconnect(self):
        reactor.stop()


def main():
    url = environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
    realm = environ.get("WAMP_REALM", "realm1")
    names = {}
    listeners = []
    for name in ("alice", "bob"):
        extra = {"name": name, "names": names, "ready": Deferred(), "gone": Deferred()}
        listeners.append(extra)
        ApplicationRunner(url, realm, extra=extra).run(Listener, start_reactor=False)
    extra = {"name": "publisher", "names": names, "ready": Deferred(), "listeners": listeners}
    ApplicationRunner(url, realm, extra=extra).run(Publisher)


if __name__ == "__main__":
    main()
