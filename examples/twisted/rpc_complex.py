# An Autobahn|Python Twisted application, ported by changing the import lines only.
# The original import lines were:
#
#   from autobahn.twisted.wamp import ApplicationRunner, ApplicationSession
#   from autobahn.wamp.types import CallResult
"""RPC with complex results: several results and keyword results (async def onJoin).

A procedure returns ``CallResult(*results, **kwresults)`` to send more than one
value; the caller then gets a CallResult back (``.results``/``.kwresults``). A
single plain value comes back as that value. ``onJoin`` is a coroutine here: on
Twisted it may await Deferreds.

    WAMP_URL=ws://127.0.0.1:8080/ws python examples/twisted/rpc_complex.py
"""

from os import environ

from twisted.internet import reactor

from wamp_core.types import CallResult
from wamp_twisted import ApplicationRunner, ApplicationSession

PREFIX = "com.example.twisted.complex."


def add_complex(a, ai, b, bi):
    """(a + ai*i) + (b + bi*i): two keyword results."""
    return CallResult(c=a + b, ci=ai + bi)


def split_name(fullname):
    """Two positional results."""
    forename, surname = fullname.split()
    return CallResult(forename, surname)


def stats(*values):
    """Positional and keyword results together."""
    return CallResult(min(values), max(values), mean=sum(values) / len(values))


class Component(ApplicationSession):
    async def onJoin(self, details):
        print(f"joined realm {details.realm} as session {details.session}")
        try:
            for fn in (add_complex, split_name, stats):
                await self.register(fn, PREFIX + fn.__name__)

            res = await self.call(PREFIX + "add_complex", 2, 3, 4, 5)
            print(f"add_complex: {res.kwresults['c']} + {res.kwresults['ci']}i")

            res = await self.call(PREFIX + "split_name", "Homer Simpson")
            print(f"split_name: forename {res.results[0]}, surname {res.results[1]}")

            res = await self.call(PREFIX + "stats", 3, 1, 4, 1, 5)
            print(f"stats: results={list(res.results)} kwresults={res.kwresults}")
        finally:
            self.leave()

    def onDisconnect(self):
        print("disconnected")
        reactor.stop()


def main():
    url = environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
    realm = environ.get("WAMP_REALM", "realm1")
    runner = ApplicationRunner(url, realm)
    runner.run(Component)


if __name__ == "__main__":
    main()
