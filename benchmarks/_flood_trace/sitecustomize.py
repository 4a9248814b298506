"""``flood.py --trace``: timestamps inside our router process, to tell the router's
share of the probe's latency from the clients'. Loaded (as ``sitecustomize``, through
PYTHONPATH) by the router process alone, and only when FLOOD_TRACE names the file to
write; anything else it leaves alone.

It records, with ``time.perf_counter`` (CLOCK_MONOTONIC: the same clock as flood.py's),
every read of under SMALL bytes a served connection gets (the probe's requests: the
flood's reads are bigger) and every send of under SMALL bytes, each with the number of
the event-loop iteration it happened in; written as JSON when the process ends. Served
by Twisted (``python -m wamp_twisted``) or by asyncio (``python -m wamp_anyio serve
--backend asyncio``); trio is not traced.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import time
from typing import Any

SMALL = 1000  # bytes: the probe's messages are far smaller, the flood's reads far bigger


def _trace_twisted(events: list[Any], dump: Any) -> None:
    from twisted.internet import reactor, tcp

    from wamp_twisted import serve

    clock = time.perf_counter
    iteration = [0]
    do_iteration = reactor.doIteration

    def counted(timeout: Any) -> None:
        iteration[0] += 1
        do_iteration(timeout)

    reactor.doIteration = counted
    received = serve._RouterProtocol.dataReceived

    def data_received(self: Any, data: bytes) -> None:
        if len(data) < SMALL:
            events.append(("r", iteration[0], clock()))
        received(self, data)

    serve._RouterProtocol.dataReceived = data_received
    write_some = tcp.Connection.writeSomeData

    def write_some_data(self: Any, data: Any) -> Any:
        sent = write_some(self, data)
        if 0 < len(data) < SMALL:
            events.append(("s", iteration[0], clock()))
        return sent

    tcp.Connection.writeSomeData = write_some_data
    reactor.addSystemEventTrigger("before", "shutdown", dump)


def _trace_asyncio(events: list[Any]) -> None:
    from asyncio import base_events, selector_events

    from wamp_anyio import _asyncio_stream

    clock = time.perf_counter
    iteration = [0]
    run_once = base_events.BaseEventLoop._run_once  # type: ignore[attr-defined]

    def counted(self: Any) -> None:
        iteration[0] += 1
        run_once(self)

    base_events.BaseEventLoop._run_once = counted  # type: ignore[attr-defined]
    updated = _asyncio_stream._ServedProtocol.buffer_updated

    def buffer_updated(self: Any, nbytes: int) -> None:
        if nbytes < SMALL:
            events.append(("r", iteration[0], clock()))
        updated(self, nbytes)

    _asyncio_stream._ServedProtocol.buffer_updated = buffer_updated  # type: ignore[method-assign]
    transport_write = selector_events._SelectorSocketTransport.write  # type: ignore[attr-defined]

    def write(self: Any, data: Any) -> None:
        # asyncio sends at once when nothing is buffered (the probe's case)
        if 0 < len(data) < SMALL:
            events.append(("s", iteration[0], clock()))
        transport_write(self, data)

    selector_events._SelectorSocketTransport.write = write  # type: ignore[attr-defined]


def _install(path: str) -> None:
    argv = getattr(sys, "orig_argv", [])
    events: list[Any] = []

    def dump() -> None:
        if events:
            with open(path, "w") as file:
                json.dump(events, file)
            events.clear()

    if "wamp_twisted" in argv:
        _trace_twisted(events, dump)
    elif "wamp_anyio" in argv and "asyncio" in argv:
        _trace_asyncio(events)
    else:
        return
    atexit.register(dump)


if os.environ.get("FLOOD_TRACE"):
    _install(os.environ["FLOOD_TRACE"])
