"""The command line of wamp_twisted: ``python -m wamp_twisted serve``, and the twistd
plugin ``twistd -n wamp-sansio`` (``twisted/plugins/wamp_sansio.py``), both with the
flags of ``python -m wamp_anyio serve``::

    python -m wamp_twisted serve                 # realm1, anonymous, every permission:
                                                 #   ws://127.0.0.1:8080/ws, rs://127.0.0.1:8081
    python -m wamp_twisted serve --config .crossbar/config.json
    twistd -n wamp-sansio --realm demo --ws 127.0.0.1:9000/ws --rawsocket none

``serve`` exits 0 after a clean shutdown (Ctrl-C, SIGTERM: GOODBYE to every session
first) and 2 for a usage or configuration error or a port it cannot listen on. Under
twistd, logging is twistd's (``--logfile``, ...); ``--log-level`` sets the least level
of the router's own lines.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from twisted.logger import (
    FilteringLogObserver,
    Logger,
    LogLevelFilterPredicate,
    globalLogBeginner,
    textFileLogObserver,
)
from twisted.python import usage

from wamp_core.router.command import (
    LOG_LEVELS,
    ServeError,
    add_serve_arguments,
    add_serve_command,
    prepare,
    run_serve,
)
from wamp_core.router.config import NodeConfig
from wamp_twisted.serve import Listen, RouterService, log_level, server_tls

__all__ = ["Options", "main", "makeService"]

log = Logger(namespace="wamp_twisted.router")
PROGRAM = "python -m wamp_twisted"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description="WAMP with Twisted.")
    commands = parser.add_subparsers(dest="command", required=True)
    add_serve_command(commands, __doc__)
    return parser


def _start_logging(level: str) -> None:
    """Log to stderr from ``level`` up (stdout carries the "listening on" lines)."""
    least = log_level(level.lower() if level.lower() in LOG_LEVELS else "info")
    predicate: Any = LogLevelFilterPredicate(defaultLogLevel=least)
    text: Any = textFileLogObserver(sys.stderr)
    observer: Any = FilteringLogObserver(text, [predicate])
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)


def _run(node: NodeConfig, listens: list[Listen]) -> None:
    """Serve until the reactor stops (SIGINT, SIGTERM); the service's stopService says
    GOODBYE to every session before the reactor goes."""
    from twisted.internet import reactor as global_reactor  # noqa: PLC0415
    from twisted.internet.error import CannotListenError  # noqa: PLC0415

    reactor: Any = global_reactor

    service = RouterService(listens, node.realms, reactor=reactor)
    try:
        service.startService()
    except CannotListenError as error:  # a port in use, a socket path we may not create
        raise OSError(str(error)) from None
    for url in service.urls:
        print(f"listening on {url}", flush=True)
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    reactor.run()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _start_logging(args.log_level)
    return run_serve(
        args,
        program=f"{PROGRAM} serve",
        tls=server_tls,
        serve=_run,
        warn=lambda text: log.warn("{text}", text=text),
    )


# -- twistd -----------------------------------------------------------------------------


class Options(usage.Options):
    """``twistd wamp-sansio`` takes the flags of ``serve``."""

    def parseOptions(self, options: Sequence[str] | None = None) -> None:
        parser = argparse.ArgumentParser(
            prog="twistd wamp-sansio",
            description=__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add_serve_arguments(parser)
        args = parser.parse_args(sys.argv[1:] if options is None else list(options))
        if args.log_level not in LOG_LEVELS:
            raise usage.UsageError(f"--log-level must be one of {', '.join(LOG_LEVELS)}")
        try:
            self["node"], self["listens"] = prepare(args, server_tls)
        except ServeError as error:
            raise usage.UsageError(str(error)) from None
        self["log_level"] = args.log_level


def makeService(options: Options) -> RouterService:
    """The service twistd runs (IServiceMaker's, through the plugin's ServiceMaker)."""
    node: NodeConfig = options["node"]
    for warning in node.warnings:
        log.warn("configuration: {warning}", warning=warning)
    return RouterService(options["listens"], node.realms, log_level=options["log_level"])
