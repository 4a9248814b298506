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

import anyio

from wamp_anyio._cli_client import CLIENT_COMMANDS
from wamp_anyio._cli_client import add_commands as add_client_commands
from wamp_anyio._cli_client import main as client_main
from wamp_anyio.serve import Listen, serve
from wamp_core.router import RealmConfig, serving
from wamp_core.router.command import add_serve_command, run_serve
from wamp_core.router.config import NodeConfig, TlsConfig

__all__ = ["listens_from", "main"]

log = logging.getLogger("wamp_anyio.router")


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


def listens_from(config: NodeConfig) -> list[Listen]:
    """The listeners of a node configuration, as ``wamp_anyio.serve`` takes them."""
    return serving.listens_from(config, _tls_context)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wamp-sansio", description="WAMP from the command line (wamp_anyio)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = add_serve_command(commands, __doc__)
    serve_cmd.add_argument("--backend", default="asyncio", choices=["asyncio", "trio"])
    add_client_commands(commands)
    return parser


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

    def run(node: NodeConfig, listens: list[Listen]) -> None:
        anyio.run(_serve, node.realms, listens, backend=args.backend)

    return run_serve(
        args, program="wamp-sansio serve", tls=_tls_context, serve=run, warn=log.warning
    )
