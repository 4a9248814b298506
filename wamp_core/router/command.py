"""The ``serve`` command of every adapter's command line (``python -m wamp_anyio serve``,
``python -m wamp_twisted serve``, ``twistd wamp-sansio``): its flags, the node
configuration they make, and the run itself apart from the event loop (errors that
exit 2, configuration warnings, exit 0 after a clean shutdown).

::

    serve                                     # realm1, anonymous, every permission:
                                              #   ws://127.0.0.1:8080/ws, rs://127.0.0.1:8081
    serve --config .crossbar/config.json      # a Crossbar.io node configuration
    serve --realm demo --ws 127.0.0.1:9000/ws --rawsocket none --log-level debug
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, Final, TextIO

from wamp_core.router.config import ConfigError, NodeConfig, TlsConfig, default_config, load_config
from wamp_core.router.serving import Listen, listens_from

__all__ = [
    "EXIT_OK",
    "EXIT_USAGE",
    "LOG_LEVELS",
    "ServeError",
    "add_serve_arguments",
    "add_serve_command",
    "node_from_arguments",
    "parse_address",
    "prepare",
    "run_serve",
]

EXIT_OK: Final = 0
EXIT_USAGE: Final = 2  # a usage or configuration error, a port in use
LOG_LEVELS: Final = ("debug", "info", "warning", "error")


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``serve`` flags every adapter takes (an adapter may add its own)."""
    parser.add_argument("--config", help="a Crossbar.io node configuration (.json, .yaml)")
    parser.add_argument("--realm", default="realm1", help="the realm without --config")
    parser.add_argument(
        "--ws", default="127.0.0.1:8080/ws", help="WebSocket HOST:PORT/PATH, or none"
    )
    parser.add_argument(
        "--rawsocket", default="127.0.0.1:8081", help="RawSocket HOST:PORT, or none"
    )
    parser.add_argument(
        "--serializers", nargs="+", help="the serializers offered (default: json, msgpack, cbor)"
    )
    parser.add_argument("--log-level", default="info", help=", ".join(LOG_LEVELS))


def add_serve_command(commands: Any, description: str | None) -> argparse.ArgumentParser:
    """The ``serve`` sub-command (with its flags) of a command line's ``commands`` (what
    ``add_subparsers()`` returned); ``description`` is its ``--help`` text."""
    serve = commands.add_parser(
        "serve",
        help="run the router",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_serve_arguments(serve)
    return serve  # type: ignore[no-any-return]


def parse_address(text: str, *, path: bool) -> tuple[str, int, str] | None:
    """``HOST:PORT[/PATH]`` (``[::1]:PORT`` for IPv6) as (host, port, path), the path
    ``/ws`` when none is given; None for ``none``."""
    if text.lower() == "none":
        return None
    where, slash, resource = text.partition("/")
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(
            f"expected HOST:PORT{'/PATH' if path else ''}, got {text!r}"
        )
    return host.strip("[]"), int(port), "/" + resource if slash else "/ws"


def node_from_arguments(args: argparse.Namespace) -> NodeConfig:
    """The node configuration the flags name: ``--config``'s file, or the defaults
    changed by ``--realm``, ``--ws``, ``--rawsocket`` and ``--serializers``."""
    if args.config:
        return load_config(args.config)
    ws = parse_address(args.ws, path=True)
    rawsocket = parse_address(args.rawsocket, path=False)
    return default_config(
        realm=args.realm,
        ws=ws,
        rawsocket=None if rawsocket is None else rawsocket[:2],
        serializers=args.serializers,
    )


class ServeError(Exception):
    """The flags name a configuration that cannot be served or a file that cannot be
    read; the message says which (a key path, a file name)."""


def prepare(
    args: argparse.Namespace, tls: Callable[[TlsConfig], Any]
) -> tuple[NodeConfig, list[Listen]]:
    """The node configuration the flags name and its listeners (``tls`` makes the
    adapter's server TLS context from a listener's files)."""
    try:
        node = node_from_arguments(args)
        return node, listens_from(node, tls)
    except (ConfigError, ImportError, OSError, argparse.ArgumentTypeError) as error:
        raise ServeError(str(error)) from error


def run_serve(
    args: argparse.Namespace,
    *,
    program: str,
    tls: Callable[[TlsConfig], Any],
    serve: Callable[[NodeConfig, list[Listen]], None],
    warn: Callable[[str], None],
    stderr: TextIO | None = None,
) -> int:
    """Run ``serve(node, listeners)`` (the adapter's loop, until it has shut down) for
    the node the flags name; ``warn`` logs each configuration warning. The exit code:
    0, or 2 after a line on ``stderr`` for a configuration it cannot serve, a file it
    cannot read, or a port it cannot listen on (``serve`` raises OSError)."""
    err = sys.stderr if stderr is None else stderr
    try:
        node, listens = prepare(args, tls)
    except ServeError as error:
        print(f"{program}: {error}", file=err)
        return EXIT_USAGE
    for warning in node.warnings:
        warn(f"configuration: {warning}")
    try:
        serve(node, listens)
    except OSError as error:  # a port in use, a socket path we may not create
        print(f"{program}: {error}", file=err)
        return EXIT_USAGE
    return EXIT_OK
