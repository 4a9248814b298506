"""``wamp-sansio bench call|publish``: requests kept in flight by ``--parallel`` workers
on one session until ``--count`` are done or ``--duration`` has passed; throughput and
latency percentiles; a progress bar on stderr when it is a terminal."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio

from wamp_anyio._cli_client import (
    PROG,
    Work,
    _payload_arguments,
    connection_parent,
    run_client,
)
from wamp_anyio._cli_common import (
    EXIT_CODES_HELP,
    EXIT_USAGE,
    UsageError,
    bench_report,
    build_options,
    parse_pairs,
    parse_value,
    progress_bar,
)
from wamp_anyio.session import Session
from wamp_core.types import CallOptions, CallResult, PublishOptions

__all__ = ["main"]

REFRESH = 0.1  # seconds between progress bar redraws
MAX_SAMPLES = 10_000_000  # latencies kept (80 MB); a longer run stops there

EPILOG = f"""examples:
  wamp-sansio bench call com.example.echo 1 --count 20000 --parallel 16
  wamp-sansio bench call com.bench.echo --echo --duration 5    # serves the procedure itself
  wamp-sansio bench publish com.bench.topic '{{"x": 1}}' --count 10000 --parallel 8

bench call measures calls; bench publish acknowledged publications (a round trip to
the router each). --count N stops after N (default 10000 without --duration);
--duration S after S seconds; --parallel P keeps P requests in flight.

{EXIT_CODES_HELP}"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} bench",
        description="measure call or publish throughput and latency",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[connection_parent()],
    )
    parser.add_argument("what", choices=["call", "publish"])
    parser.add_argument("uri", help="procedure or topic")
    _payload_arguments(parser, "call or publish option")
    parser.add_argument("--count", type=int, help="requests to make (default 10000)")
    parser.add_argument("--duration", type=float, help="seconds to run")
    parser.add_argument("--parallel", type=int, default=1, help="requests in flight (default 1)")
    parser.add_argument(
        "--echo", action="store_true", help="bench call: register an echo procedure at URI first"
    )
    return parser


def main(argv: Sequence[str]) -> int:
    try:
        args = _parser().parse_intermixed_args(list(argv))
    except SystemExit as done:
        return int(done.code or 0)
    try:
        work = bench_work(args)
        return run_client(args, work)
    except UsageError as error:
        print(f"{PROG} bench: {error}", file=sys.stderr)
        return EXIT_USAGE


class _Run:
    """The shared counters of the workers."""

    def __init__(self, count: int | None, deadline: float, started: float) -> None:
        self.count = count
        self.deadline = deadline
        self.started = started
        self.issued = 0
        self.errors = 0
        self.latencies: list[float] = []
        self.first_error: BaseException | None = None
        self.drawn = 0.0

    def take(self, now: float) -> bool:
        """May a worker start one more request?"""
        if now >= self.deadline or len(self.latencies) + self.errors >= MAX_SAMPLES:
            return False
        if self.count is not None and self.issued >= self.count:
            return False
        self.issued += 1
        return True

    def fraction(self, now: float) -> tuple[int, int]:
        if self.count is not None:
            return self.issued, self.count
        total = self.deadline - self.started
        return int(now - self.started), max(1, int(total))


def _check(args: argparse.Namespace) -> None:
    if args.parallel < 1:
        raise UsageError("--parallel must be at least 1")
    if args.count is not None and args.count < 1:
        raise UsageError("--count must be at least 1")
    if args.duration is not None and args.duration <= 0:
        raise UsageError("--duration must be positive")
    if args.echo and args.what != "call":
        raise UsageError("--echo is for bench call")


def bench_work(args: argparse.Namespace) -> Work:
    _check(args)
    values = [parse_value(text, strings=args.strings) for text in args.args]
    kwargs = parse_pairs(args.kwargs, strings=args.strings)
    pairs = parse_pairs(args.options, flag="-o")
    count = args.count if args.count is not None or args.duration else 10_000
    tty = sys.stderr.isatty()

    async def work(session: Session) -> None:
        request = _requester(session, args, values, kwargs, pairs)
        if args.echo:
            await session.register(_echo, args.uri)
        now = anyio.current_time()
        deadline = now + args.duration if args.duration else float("inf")
        run = _Run(count, deadline, now)
        async with anyio.create_task_group() as tg:
            for _ in range(args.parallel):
                tg.start_soon(_worker, run, request, tty)
        elapsed = anyio.current_time() - run.started
        if tty:
            print(file=sys.stderr)
        print(
            bench_report(
                f"{args.what} {args.uri}",
                len(run.latencies),
                run.errors,
                elapsed,
                run.latencies,
                as_json=args.json,
            ),
            flush=True,
        )
        if run.first_error is not None:
            raise run.first_error

    return work


def _requester(
    session: Session,
    args: argparse.Namespace,
    values: list[Any],
    kwargs: dict[str, Any],
    pairs: dict[str, Any],
) -> Callable[[], Awaitable[Any]]:
    if args.what == "call":
        call_options = build_options(CallOptions, pairs) if pairs else None
        return lambda: session.call(args.uri, *values, options=call_options, **kwargs)
    publish_options = build_options(PublishOptions, {**pairs, "acknowledge": True})

    async def publish() -> Any:
        request = session.publish(args.uri, *values, options=publish_options, **kwargs)
        assert request is not None  # acknowledged
        return await request

    return publish


async def _worker(run: _Run, request: Callable[[], Awaitable[Any]], tty: bool) -> None:
    clock = anyio.current_time
    while run.take(clock()):
        started = clock()
        try:
            await request()
        except Exception as error:  # counted; the first is reported and sets the exit code
            run.errors += 1
            if run.first_error is None:
                run.first_error = error
            continue
        now = clock()
        run.latencies.append(now - started)
        if tty and now - run.drawn >= REFRESH:
            run.drawn = now
            done, total = run.fraction(now)
            print("\r" + progress_bar(done, total), end="", file=sys.stderr, flush=True)


def _echo(*args: Any, **kwargs: Any) -> CallResult:
    return CallResult(*args, **kwargs)
