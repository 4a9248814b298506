"""wampproto/xconn's router as benchmarks/router.py runs it: ``xconn.Router`` with one
realm behind ``xconn.Server`` (aiohttp, WebSocket at ``/ws``; json, msgpack, cbor;
anonymous), on the loopback port given. xconn has no configuration file and no
RawSocket server, so this is the closest it comes to the node configuration the
other routers run. Ends on SIGTERM or SIGINT.

``python benchmarks/_router_xconn.py --port PORT [--realm realm1]``
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from xconn.router import Router
from xconn.server import Server


async def serve(port: int, realm: str) -> None:
    router = Router()
    router.add_realm(realm)
    await Server(router).start("127.0.0.1", port)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    await stopped.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--realm", default="realm1")
    opts = parser.parse_args()
    asyncio.run(serve(opts.port, opts.realm))


if __name__ == "__main__":
    main()
