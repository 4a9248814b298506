"""The command line: ``python -m wamp_anyio serve`` (or ``wamp-sansio serve``).

::

    wamp-sansio serve                         # realm1, anonymous, every permission:
                                              #   ws://127.0.0.1:8080/ws, rs://127.0.0.1:8081
    wamp-sansio serve --config .crossbar/config.json   # a Crossbar.io node configuration
    wamp-sansio serve --realm demo --ws 127.0.0.1:9000/ws --rawsocket none --log-level debug

Exit codes: 0 after a clean shutdown (Ctrl-C, SIGTERM), 2 for a usage or
configuration error.
"""

from __future__ import annotations

import argparse
import logging
import signal
import ssl
import sys
from collections.abc import Sequence
from typing import Any

import anyio

from wamp_anyio._cli_client import CLIENT_COMMANDS
from wamp_anyio._cli_client import add_commands as add_client_commands
from wamp_anyio._cli_client import main as client_main
from wamp_anyio.serve import Listen, serve
from wamp_core.router import RealmConfig
from wamp_core.router.config import (
    ConfigError,
    ListenerConfig,
    NodeConfig,
    TcpEndpoint,
    TlsConfig,
    default_config,
    load_config,
)

__all__ = ["listens_from", "main"]

log = logging.getLogger("wamp_anyio.router")
DEFAULT_TIMEOUT = 10.0


def _tls_context(tls: TlsConfig) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls.certificate, tls.key)
    for chain in tls.chain_certificates:
        context.load_verify_locations(chain)
    if tls.ca_certificates is not None:  # clients must show a certificate, as in Crossbar.io
        for ca in tls.ca_certificates:
            context.load_verify_locations(ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def _listen(config: ListenerConfig) -> Listen:
    endpoint = config.endpoint
    options: dict[str, Any] = {
        "kind": config.kind,
        "serializers": config.serializers,
        "ping_interval": config.ping_interval,
        "open_timeout": config.open_timeout if config.open_timeout is not None else DEFAULT_TIMEOUT,
    }
    if config.ping_timeout is not None:
        options["ping_timeout"] = config.ping_timeout
    if config.max_message_size is not None:
        options["max_message_size"] = config.max_message_size
    if config.paths is not None:
        options["paths"] = dict(config.paths)
    else:  # a "websocket" transport: any path, as Crossbar.io serves it
        options["auth"] = config.auth
        options["path"] = None
    if isinstance(endpoint, TcpEndpoint):
        tls = None if endpoint.tls is None else _tls_context(endpoint.tls)
        return Listen(host=endpoint.interface, port=endpoint.port, tls=tls, **options)
    return Listen(unix=endpoint.path, **options)


def listens_from(config: NodeConfig) -> list[Listen]:
    """The listeners of a node configuration, as ``wamp_anyio.serve`` takes them."""
    return [_listen(listener) for listener in config.listeners]


def _address(text: str, *, path: bool) -> tuple[str, int, str] | None:
    if text.lower() == "none":
        return None
    where, slash, resource = text.partition("/")
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(
            f"expected HOST:PORT{'/PATH' if path else ''}, got {text!r}"
        )
    return host.strip("[]"), int(port), "/" + resource if slash else "/ws"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wamp-sansio", description="WAMP from the command line (wamp_anyio)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser(
        "serve",
        help="run the router",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve_cmd.add_argument("--config", help="a Crossbar.io node configuration (.json, .yaml)")
    serve_cmd.add_argument("--realm", default="realm1", help="the realm without --config")
    serve_cmd.add_argument(
        "--ws", default="127.0.0.1:8080/ws", help="WebSocket HOST:PORT/PATH, or none"
    )
    serve_cmd.add_argument(
        "--rawsocket", default="127.0.0.1:8081", help="RawSocket HOST:PORT, or none"
    )
    serve_cmd.add_argument(
        "--serializers", nargs="+", help="the serializers offered (default: json, msgpack, cbor)"
    )
    serve_cmd.add_argument("--log-level", default="info", help="debug, info, warning, error")
    serve_cmd.add_argument("--backend", default="asyncio", choices=["asyncio", "trio"])
    add_client_commands(commands)
    return parser


def _node(args: argparse.Namespace) -> NodeConfig:
    if args.config:
        return load_config(args.config)
    ws = _address(args.ws, path=True)
    rawsocket = _address(args.rawsocket, path=False)
    return default_config(
        realm=args.realm,
        ws=ws,
        rawsocket=None if rawsocket is None else rawsocket[:2],
        serializers=args.serializers,
    )


async def _serve(realms: Sequence[RealmConfig], listens: Sequence[Listen]) -> None:
    async with serve(listens, realms) as server:
        for url in server.urls:
            print(f"listening on {url}", flush=True)
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for received in signals:
                log.info("%s: shutting down", signal.Signals(received).name)
                break


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in CLIENT_COMMANDS:  # call, publish, ...: see _cli_client
        return client_main(argv)
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        node = _node(args)
        listens = listens_from(node)
    except (ConfigError, ImportError, OSError, argparse.ArgumentTypeError) as error:
        print(f"wamp-sansio serve: {error}", file=sys.stderr)
        return 2
    for warning in node.warnings:
        log.warning("configuration: %s", warning)
    try:
        anyio.run(_serve, node.realms, listens, backend=args.backend)
    except OSError as error:  # a port in use, a socket path we may not create
        print(f"wamp-sansio serve: {error}", file=sys.stderr)
        return 2
    return 0
