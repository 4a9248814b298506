# An Autobahn|Python asyncio application, ported by changing the import lines only.
# The original import lines were:
#
#   from autobahn.asyncio.wamp import ApplicationRunner, ApplicationSession
#   from autobahn.wamp.exception import ApplicationError
#   from autobahn.wamp.types import CallOptions, RegisterOptions
"""Progressive results, slow calls and call timeouts in one Autobahn asyncio component.

``longop`` reports progress through ``details.progress``; ``slowsquare`` takes its
time, so concurrent calls finish out of order; a call with a timeout shorter than
the procedure fails with ``wamp.error.timeout``.
"""

import asyncio
import time
from os import environ

from wamp_anyio import ApplicationRunner, ApplicationSession
from wamp_core.exception import ApplicationError
from wamp_core.types import CallOptions, RegisterOptions


class Component(ApplicationSession):
    async def onJoin(self, details):
        async def longop(n, details=None):
            if details.progress:
                for i in range(n):
                    details.progress(i)
                    await asyncio.sleep(0.1)
            else:
                await asyncio.sleep(0.1 * n)
            return n

        async def slowsquare(x, delay=1):
            await asyncio.sleep(delay)
            return x * x

        await self.register(
            longop, "com.myapp.progress.longop", RegisterOptions(details_arg="details")
        )
        await self.register(slowsquare, "com.myapp.progress.slowsquare")

        def on_progress(i):
            print(f"Progress: {i}")

        res = await self.call(
            "com.myapp.progress.longop", 3, options=CallOptions(on_progress=on_progress)
        )
        print(f"Final: {res}")

        started = time.time()
        done = []

        async def square(x, delay):
            res = await self.call("com.myapp.progress.slowsquare", x, delay)
            print(f"slowsquare({x}) = {res} after {time.time() - started:.1f}s")
            done.append(x)

        await asyncio.gather(square(1, 0.9), square(2, 0.3), square(3, 0.6))
        print(f"finished in the order {done}")

        try:
            await self.call("com.myapp.progress.slowsquare", 4, 3, options=CallOptions(timeout=1))
        except ApplicationError as e:
            print(f"slowsquare(4) with timeout 1s failed: {e.error}")

        self.leave()

    def onDisconnect(self):
        asyncio.get_event_loop().stop()


def main():
    url = environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
    realm = environ.get("WAMP_REALM", "realm1")
    runner = ApplicationRunner(url, realm)
    runner.run(Component)


if __name__ == "__main__":
    main()
