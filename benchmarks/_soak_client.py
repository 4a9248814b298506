"""One soak client process: several reconnecting WAMP clients on one event loop.

``python benchmarks/_soak_client.py --loop asyncio|trio|twisted --ws URL --rs URL
--roles caller,callee,publisher,subscriber,...``

Each role is one Component of its own (wamp_anyio's on asyncio/trio, wamp_twisted's
on Twisted); see _soak_roles.py for what the roles do. Client *i* uses the WebSocket
URL when *i* is even and RawSocket when odd, and json, msgpack and cbor in turn.

The parent (benchmarks/soak.py, tests/integration/test_soak.py) talks to it by lines:

* stdout, one JSON object per line: ``{"ev": "ready"|"gone"|"served", "client",
  "t"}`` as they happen (``served``: the session's ``--served``-th answer, acknowledgement
  or event) (``t``: CLOCK_MONOTONIC, one clock for every process), then
  ``{"ev": "marked", ...}``, ``{"ev": "quiet"}`` and, last, ``{"ev": "report", ...}``;
* stdin: ``mark`` (take the "start" measures: RSS after gc, open fds, tasks), ``snap
  [NAME]`` (the same measures, kept in a list; with ``--trace`` a tracemalloc
  snapshot NAME too, ``mid``), ``quiet``
  (callers and publishers stop; answered once their requests are over), ``stop``
  (take the "end" measures while still joined, leave, measure again, report; end of
  input means the same).

Unhandled exceptions are counted: every log record at ERROR or above (asyncio's
"exception was never retrieved", a Component listener that raised), Twisted's
logged failures, ``sys.excepthook`` and ``threading.excepthook``. The process ends
by itself after ``--deadline`` seconds whatever happens.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import logging
import os
import sys
import threading
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from _soak_roles import (
    INFLIGHT,
    Changed,
    Client,
    Hung,
    Runtime,
    Settings,
    now,
    transports,
    wire,
)

T = TypeVar("T")
SERIALIZERS = ("json", "msgpack", "cbor")
STOP_TIMEOUT = 20.0  # seconds for every component to leave once told to
_out_lock = threading.Lock()


def emit(payload: dict[str, Any]) -> None:
    with _out_lock:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()


# ---- unhandled exceptions


class Errors:
    """Counts what went unhandled, and keeps the first few texts."""

    def __init__(self) -> None:
        self.count = 0
        self.texts: list[str] = []

    def add(self, text: str) -> None:
        self.count += 1
        if len(self.texts) < 10:
            self.texts.append(text[:2000])


class ErrorRecords(logging.Handler):
    def __init__(self, errors: Errors) -> None:
        super().__init__(level=logging.ERROR)
        self.errors = errors

    def emit(self, record: logging.LogRecord) -> None:
        self.errors.add(f"{record.name}: {self.format(record)}")


def watch_errors(errors: Errors) -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger().addHandler(ErrorRecords(errors))
    sys.excepthook = lambda kind, exc, tb: errors.add(f"excepthook: {exc!r}")
    threading.excepthook = lambda args: errors.add(f"thread: {args.exc_value!r}")


# ---- measures


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def measures(tasks: int, clients: list[Client]) -> dict[str, int]:
    gc.collect()
    return {
        "rss": rss_bytes(),
        "records": sum(c.record_bytes() for c in clients),
        "fds": len(os.listdir("/proc/self/fd")),
        "tasks": tasks,
        "traced": tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0,
        "objects": len(gc.get_objects()),
    }


class Tracing:
    """With ``--trace``: tracemalloc snapshots at ``mark``, at ``snap mid`` and at the
    end, and what grew between them (by traceback), for the report. Tracing costs
    memory of its own: a traced run's RSS is not the untraced run's."""

    FRAMES = 10
    TOP = 12

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.snapshots: dict[str, tracemalloc.Snapshot] = {}
        if enabled:
            tracemalloc.start(self.FRAMES)

    def take(self, name: str) -> None:
        if self.enabled:
            gc.collect()
            self.snapshots[name] = _filtered(tracemalloc.take_snapshot())

    def growth(self) -> dict[str, list[str]]:
        """Top growth between consecutive snapshots ("mark..mid", "mid..end")."""
        out: dict[str, list[str]] = {}
        names = [n for n in ("mark", "mid", "end") if n in self.snapshots]
        for before, after in itertools.pairwise(names):
            stats = self.snapshots[after].compare_to(self.snapshots[before], "traceback")
            lines = []
            for stat in stats[: self.TOP]:
                # Oldest frame first in a Traceback: the allocation site is the last.
                where = " <- ".join(
                    f"{Path(f.filename).name}:{f.lineno}" for f in reversed(stat.traceback)
                )
                lines.append(f"{stat.size_diff:+d} B {stat.count_diff:+d} blocks: {where}")
            out[f"{before}..{after}"] = lines
        return out


def _filtered(snapshot: tracemalloc.Snapshot) -> tracemalloc.Snapshot:
    return snapshot.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])


def on_line(
    line: str,
    stats: dict[str, Any],
    tasks: Callable[[], int],
    clients: list[Client],
    trace: Tracing,
) -> None:
    """The parent's ``mark`` and ``snap [NAME]`` lines (``quiet``/``stop`` are the loop's)."""
    word, _, name = line.partition(" ")
    if word == "mark":
        stats["mark"] = measures(tasks(), clients)
        trace.take("mark")
        emit({"ev": "marked", **stats["mark"]})
    elif word == "snap":  # after each restart: the RSS curve over the run
        snap = measures(tasks(), clients)
        stats.setdefault("snaps", []).append({"t": now(), **snap})
        if name:
            trace.take(name)
        emit({"ev": "snapped"})


def anyio_tasks() -> int:
    import sniffio

    if sniffio.current_async_library() == "trio":
        import trio

        def count(task: Any) -> int:
            return 1 + sum(count(t) for n in task.child_nurseries for t in n.child_tasks)

        return count(trio.lowlevel.current_root_task())
    import asyncio

    return len(asyncio.all_tasks())


# ---- the clients


def make_clients(opts: argparse.Namespace, runtime: Runtime) -> list[Client]:
    settings = Settings(
        call_timeout=opts.call_timeout,
        margin=opts.margin,
        call_pause=opts.call_pause,
        publish_pause=opts.publish_pause,
        served=opts.served,
    )
    return [
        Client(f"{opts.loop}-{role}-{i}", role, runtime, settings, emit)
        for i, role in enumerate(opts.roles.split(","))
    ]


def components(opts: argparse.Namespace, clients: list[Client], factory: Any) -> list[Any]:
    made = []
    for i, client in enumerate(clients):
        url = opts.ws if i % 2 == 0 else opts.rs
        serializer = SERIALIZERS[i % len(SERIALIZERS)]
        component = factory(transports=transports(url, serializer, 0.2), realm=opts.realm)
        wire(component, client)
        made.append(component)
    return made


def report(
    opts: argparse.Namespace, clients: list[Client], errors: Errors, stats: dict[str, Any]
) -> None:
    emit(
        {
            "ev": "report",
            "loop": opts.loop,
            "clients": [c.report() for c in clients],
            "errors": errors.count,
            "error_texts": errors.texts,
            "stats": stats,
        }
    )


# ---- asyncio and trio (anyio)


def run_anyio(opts: argparse.Namespace, errors: Errors) -> None:
    import anyio

    from wamp_anyio.component import Component

    class AnyioChanged(Changed):
        def __init__(self) -> None:
            self._event = anyio.Event()

        def notify(self) -> None:
            self._event.set()
            self._event = anyio.Event()

        async def wait(self, seconds: float) -> None:
            with anyio.move_on_after(seconds):
                await self._event.wait()

    class AnyioRuntime(Runtime):
        async def sleep(self, seconds: float) -> None:
            await anyio.sleep(seconds)

        async def within(self, seconds: float, make: Callable[[], Awaitable[T]]) -> T:
            with anyio.move_on_after(seconds):
                return await make()
            raise Hung(f"no answer within {seconds} s")

        def changed(self) -> Changed:
            return AnyioChanged()

    async def main() -> None:
        stats: dict[str, Any] = {}
        trace = Tracing(opts.trace)
        clients = make_clients(opts, AnyioRuntime())
        made = components(opts, clients, Component)

        async def command() -> str:
            line = await anyio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)
            return line.strip() or "stop"

        async def until(wanted: str) -> None:
            while (line := await command()) != wanted and line != "stop":
                on_line(line, stats, anyio_tasks, clients, trace)

        async with anyio.create_task_group() as running:
            for component in made:
                running.start_soon(component.start)
            async with anyio.create_task_group() as active:
                for client in clients:
                    if client.role == "caller":
                        for lane in range(INFLIGHT):
                            active.start_soon(client.run_caller, lane)
                    elif client.role == "publisher":
                        active.start_soon(client.run_publisher)
                await until("quiet")
                for client in clients:
                    client.stop()
            emit({"ev": "quiet"})
            await until("stop")
            stats["end"] = measures(anyio_tasks(), clients)
            trace.take("end")
            stats["trace"] = trace.growth()
            for component in made:
                component.stop()
            running.cancel_scope.deadline = anyio.current_time() + STOP_TIMEOUT
        stats["stop_timed_out"] = running.cancel_scope.cancelled_caught
        stats["after"] = measures(anyio_tasks(), clients)
        report(opts, clients, errors, stats)

    anyio.run(main, backend=opts.loop)


# ---- Twisted


def run_twisted(opts: argparse.Namespace, errors: Errors) -> None:
    from twisted.internet import defer, reactor, threads
    from twisted.logger import (
        FilteringLogObserver,
        LogLevel,
        LogLevelFilterPredicate,
        globalLogBeginner,
        textFileLogObserver,
    )

    from wamp_twisted.component import Component

    def count_failures(event: dict[str, Any]) -> None:
        level = event.get("log_level")
        if "log_failure" in event or level in (LogLevel.error, LogLevel.critical):
            failure = event.get("log_failure")
            text = failure.getTraceback() if failure is not None else str(event.get("log_format"))
            errors.add(f"twisted: {text}")

    to_stderr: Any = FilteringLogObserver(
        textFileLogObserver(sys.stderr), [LogLevelFilterPredicate(LogLevel.warn)]
    )
    globalLogBeginner.beginLoggingTo([count_failures, to_stderr], redirectStandardIO=False)
    clock: Any = reactor

    class TwistedChanged(Changed):
        def __init__(self) -> None:
            self._waiters: list[defer.Deferred[None]] = []

        def notify(self) -> None:
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                if not waiter.called:
                    waiter.callback(None)

        async def wait(self, seconds: float) -> None:
            waiter: defer.Deferred[None] = defer.Deferred()
            self._waiters.append(waiter)
            timer = clock.callLater(seconds, lambda: waiter.called or waiter.callback(None))
            await waiter
            if timer.active():
                timer.cancel()

    class TwistedRuntime(Runtime):
        async def sleep(self, seconds: float) -> None:
            waiter: defer.Deferred[None] = defer.Deferred()
            clock.callLater(seconds, waiter.callback, None)
            await waiter

        async def within(self, seconds: float, make: Callable[[], Awaitable[T]]) -> T:
            async def run() -> T:
                return await make()

            request = defer.ensureDeferred(run())
            expired = []

            def expire() -> None:
                expired.append(True)
                request.cancel()

            timer = clock.callLater(seconds, expire)
            try:
                return await request
            except Exception:
                if expired:
                    raise Hung(f"no answer within {seconds} s") from None
                raise
            finally:
                if timer.active():
                    timer.cancel()

        def changed(self) -> Changed:
            return TwistedChanged()

    def pending() -> int:
        return len(clock.getDelayedCalls())

    async def main() -> None:
        stats: dict[str, Any] = {}
        trace = Tracing(opts.trace)
        clients = make_clients(opts, TwistedRuntime())
        made = components(opts, clients, Component)

        async def until(wanted: str) -> None:
            while True:
                line = (await threads.deferToThread(sys.stdin.readline)).strip() or "stop"
                if line in (wanted, "stop"):
                    return
                on_line(line, stats, pending, clients, trace)

        started = [component.start(clock) for component in made]
        active = []
        for client in clients:
            if client.role == "caller":
                active += [defer.ensureDeferred(client.run_caller(n)) for n in range(INFLIGHT)]
            elif client.role == "publisher":
                active.append(defer.ensureDeferred(client.run_publisher()))
        await until("quiet")
        for client in clients:
            client.stop()
        await defer.gatherResults(active, consumeErrors=True)
        emit({"ev": "quiet"})
        await until("stop")
        stats["end"] = measures(pending(), clients)
        trace.take("end")
        stats["trace"] = trace.growth()
        for component in made:
            component.stop()
        done = defer.DeferredList(started, consumeErrors=True)
        timer = clock.callLater(STOP_TIMEOUT, done.cancel)
        try:
            await done
            stats["stop_timed_out"] = False
        except defer.CancelledError:
            stats["stop_timed_out"] = True
        if timer.active():
            timer.cancel()
        stats["after"] = measures(pending(), clients)
        report(opts, clients, errors, stats)

    def finish(result: Any) -> None:
        if isinstance(result, Exception) or hasattr(result, "getTraceback"):
            errors.add(f"main: {result}")
            report(opts, [], errors, {})
        clock.stop()

    clock.callWhenRunning(lambda: defer.ensureDeferred(main()).addBoth(finish))
    clock.run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loop", choices=["asyncio", "trio", "twisted"], required=True)
    parser.add_argument("--ws", required=True)
    parser.add_argument("--rs", required=True)
    parser.add_argument("--realm", default="realm1")
    parser.add_argument("--roles", required=True)
    parser.add_argument("--call-timeout", type=float, default=3.0)
    parser.add_argument("--margin", type=float, default=5.0)
    parser.add_argument("--call-pause", type=float, default=0.02)
    parser.add_argument("--publish-pause", type=float, default=0.1)
    parser.add_argument("--served", type=int, default=1)
    parser.add_argument("--deadline", type=float, default=1200.0)
    parser.add_argument("--trace", action="store_true", help="tracemalloc snapshots")
    opts = parser.parse_args()

    def expire() -> None:
        sys.stderr.write(f"_soak_client: deadline of {opts.deadline:.0f} s reached\n")
        os._exit(3)

    timer = threading.Timer(opts.deadline, expire)
    timer.daemon = True
    timer.start()
    errors = Errors()
    watch_errors(errors)
    if opts.loop == "twisted":
        run_twisted(opts, errors)
    else:
        run_anyio(opts, errors)


if __name__ == "__main__":
    main()
