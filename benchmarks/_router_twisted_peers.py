"""The RPC clients of benchmarks/router.py on wamp_twisted (our Twisted client), all
sessions in one process, against any router.

``python benchmarks/_router_twisted_peers.py rpc URL [options]``: the ``rpc`` role of
_router_peers.py (the same options and the same JSON line), made cheap for the client
process so that the router, not the client, is what a run measures:

* ``--callees`` sessions register ``com.bench.echo`` (shared, roundrobin, when there
  are several) as a plain function: wamp_twisted calls it in place when the
  INVOCATION arrives and queues the YIELD, with no task or coroutine per call;
* ``--callers`` sessions keep ``--inflight`` calls in flight in all as that many chains
  of Deferred callbacks: the callback of each answer checks it and issues the next
  call (dealt to the callers in turn), with no coroutine or task per call.

Every call goes through wamp_twisted's public API (``ApplicationRunner``, whose TCP
connections have TCP_NODELAY as Autobahn's do, ``ApplicationSession.call`` and
``register``) on the reactor a Twisted program gets by default (epoll on Linux);
msgpack. The router's CPU time is read at both edges of the
measured window (``--router-pid``). A failure prints ``{"error": "..."}`` and exits 1;
the process ends by itself (``--deadline``).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from typing import Any

from _router_stats import Window
from _rpc_peers import PROCEDURE, REALM, emit, watchdog
from twisted.internet import defer
from twisted.python.failure import Failure

from wamp_core.types import RegisterOptions
from wamp_twisted import ApplicationRunner, ApplicationSession

JOIN_TIMEOUT = 10.0
LEAVE_TIMEOUT = 2.0


async def joined_session(url: str, reactor: Any, runners: list[ApplicationRunner]) -> Any:
    """A session joined to realm1 on ``url`` (its runner goes to ``runners``)."""
    joined: defer.Deferred[Any] = defer.Deferred()

    class BenchSession(ApplicationSession):
        def onJoin(self, details: Any) -> None:
            if not joined.called:
                joined.callback(self)

        def onDisconnect(self) -> None:
            if not joined.called:
                joined.errback(ConnectionError("closed before joining"))

    runner = ApplicationRunner(url, REALM, serializers=["msgpack"])
    runners.append(runner)
    await runner.run(BenchSession, start_reactor=False, reactor=reactor, log_level=None)
    return await joined.addTimeout(JOIN_TIMEOUT, reactor)


def counting_echo(served: list[int], index: int) -> Callable[[Any], Any]:
    def echo(value: Any) -> Any:
        served[index] += 1
        return value

    return echo


def call_chains(
    calls: list[Callable[..., defer.Deferred[Any]]], first: int, count: int, inflight: int
) -> defer.Deferred[None]:
    """Calls ``first`` .. ``first + count - 1`` with ``inflight`` in flight: each answer's
    callback issues the next call; fires once every answer came back right."""
    done: defer.Deferred[None] = defer.Deferred()
    end = first + count
    callers = len(calls)
    state = [first, count]  # the next number to call, the answers still to come

    def issue() -> None:
        number = state[0]
        state[0] = number + 1
        calls[number % callers](PROCEDURE, number).addCallbacks(
            answered, failed, callbackArgs=(number,)
        )

    def answered(value: Any, number: int) -> None:
        if value != number:
            failed(Failure(AssertionError(f"echo of {number} came back as {value!r}")))
            return
        state[1] -= 1
        if state[0] < end:
            issue()
        elif state[1] == 0 and not done.called:
            done.callback(None)

    def failed(failure: Failure) -> None:
        if not done.called:
            done.errback(failure)

    for _ in range(min(inflight, count)):
        issue()
    return done


async def rpc(opts: argparse.Namespace, reactor: Any) -> dict[str, Any]:
    runners: list[ApplicationRunner] = []
    sessions: list[Any] = []
    try:
        served = [0] * opts.callees
        options = RegisterOptions(invoke="roundrobin") if opts.callees > 1 else None
        for index in range(opts.callees):
            callee = await joined_session(opts.url, reactor, runners)
            sessions.append(callee)
            try:
                await callee.register(counting_echo(served, index), PROCEDURE, options=options)
            except Exception as error:
                policy = options.invoke if options else "single"
                raise RuntimeError(
                    f"callee {index + 1} of {opts.callees} could not register {PROCEDURE} "
                    f"(invoke={policy}): {type(error).__name__}: {error}"
                ) from error
        callers = [await joined_session(opts.url, reactor, runners) for _ in range(opts.callers)]
        sessions += callers
        calls = [caller.call for caller in callers]
        await call_chains(calls, 0, opts.warmup, opts.inflight)
        window = Window(opts.router_pid)
        window.begin()
        await call_chains(calls, opts.warmup, opts.calls, opts.inflight)
        result = window.end(opts.calls, served=served)
    finally:
        await leave_all(sessions, runners, reactor)
    if min(served) == 0:
        raise RuntimeError(f"the registration was not shared: calls per callee {served}")
    return result


async def leave_all(sessions: list[Any], runners: list[ApplicationRunner], reactor: Any) -> None:
    for session in sessions:
        if session.is_attached():
            with contextlib.suppress(Exception):
                await session.leave().addTimeout(LEAVE_TIMEOUT, reactor)
    for runner in runners:
        runner.stop()


def run(opts: argparse.Namespace) -> dict[str, Any]:
    """Run the role on the default reactor until it is done; its result (or raise)."""
    from twisted.internet import reactor

    outcome: list[Any] = []

    def start() -> None:
        running = defer.ensureDeferred(rpc(opts, reactor))
        running.addBoth(outcome.append)
        running.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(start)
    reactor.run()
    if not outcome:
        raise RuntimeError("the reactor stopped before the calls were done")
    if isinstance(outcome[0], Failure):
        outcome[0].raiseException()
    result: dict[str, Any] = outcome[0]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("role", choices=["rpc"])
    parser.add_argument("url")
    parser.add_argument("--router-pid", type=int, default=0)
    parser.add_argument("--callers", type=int, default=1)
    parser.add_argument("--callees", type=int, default=1)
    parser.add_argument("--inflight", type=int, default=64)
    parser.add_argument("--calls", type=int, default=10000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--deadline", type=float, default=120.0)
    opts = parser.parse_args()
    watchdog(opts.deadline, watch_stdin=False)
    try:
        result = run(opts)
    except Exception as error:  # reported to the benchmark, which names the router
        emit({"error": f"{type(error).__name__}: {error}"})
        sys.exit(1)
    emit(result)


if __name__ == "__main__":
    main()
