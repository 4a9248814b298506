"""The client commands of ``wamp-sansio`` (``python -m wamp_anyio``): call, publish,
subscribe, register, keygen; ``bench`` is in _cli_bench. Every option may follow the
command name, and each connection or credential option may come from the environment
instead (``WAMP_URL``, ``WAMP_REALM``, ``WAMP_TICKET``, ...), so secrets need not be on
the command line."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import secrets
import signal
import ssl
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio

from wamp_anyio._cli_common import (
    EXIT_CODES_HELP,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    authentication_from,
    build_options,
    error_text,
    event_text,
    exit_code,
    invocation_text,
    parse_pairs,
    parse_proxy,
    parse_value,
    result_text,
    to_json,
)
from wamp_anyio._run import connect
from wamp_anyio.session import Session
from wamp_core.exception import ApplicationError
from wamp_core.types import (
    CallDetails,
    CallOptions,
    CallResult,
    EventDetails,
    PublishOptions,
    RegisterOptions,
    SubscribeOptions,
)

__all__ = ["CLIENT_COMMANDS", "add_commands", "connection_parent", "main", "run_client"]

PROG = "wamp-sansio"
DEFAULT_URL = "ws://127.0.0.1:8080/ws"
MAX_COMMAND_OUTPUT = 16 * 1024 * 1024  # what a registered command may answer (a message's limit)
# Credentials reach the command line client through these; a registered command does not get them.
SECRET_VARIABLES = ("WAMP_TICKET", "WAMP_SECRET", "WAMP_PRIVATE_KEY", "WAMP_PASSWORD")

SUMMARIES = {
    "call": "call a procedure and print its result",
    "publish": "publish an event",
    "subscribe": "print the events of a topic until Ctrl-C or --count",
    "register": "answer calls with a command's output, or echo them",
    "keygen": "make a cryptosign (Ed25519) key pair",
    "bench": "measure call or publish throughput and latency",
}
CLIENT_COMMANDS = tuple(SUMMARIES)

EXAMPLES = {
    "call": """example:
  wamp-sansio call --url ws://127.0.0.1:8080/ws --realm realm1 com.example.add 2 3 -k x=4
  wamp-sansio call --json com.example.slow 10 -o receive_progress=true -o timeout=5

Arguments are JSON where they parse as JSON and strings otherwise (--strings: all
strings); -k NAME=VALUE gives keyword arguments, -o NAME=VALUE call options
(timeout, receive_progress, disclose_me, ...).""",
    "publish": """example:
  wamp-sansio publish com.example.news "hello world" -k priority=1 -o exclude_me=false

The publication is acknowledged (so a refusal is exit code 1) unless -o acknowledge=false.""",
    "subscribe": """example:
  wamp-sansio subscribe com.example.news --count 10
  wamp-sansio subscribe --json com.example. -o match=prefix

One line per event; the publisher is shown when the publisher disclosed itself.""",
    "register": """example:
  wamp-sansio register com.example.echo                      # echo the arguments
  wamp-sansio register com.example.upper -- jq '.args[0] | ascii_upcase'

With a command, each call runs it: {"args": [...], "kwargs": {...}} on its standard
input, WAMP_PROCEDURE, WAMP_ARGS, WAMP_KWARGS (and WAMP_CALLER when disclosed) in its
environment; its standard output, JSON where it parses, is the result; a non-zero exit
status is the error wamp.error.runtime_error with its status.""",
    "keygen": """example:
  wamp-sansio keygen                       # print a new key pair
  wamp-sansio keygen --out client.key      # private seed to client.key, public to client.key.pub

The private key (64 hex characters, the Ed25519 seed) is what --private-key and
WAMP_PRIVATE_KEY take; the public key (64 hex characters) goes into a principal's
"authorized_keys" in our router's and Crossbar.io's cryptosign configuration.""",
}


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name) or default


def connection_parent() -> argparse.ArgumentParser:
    """The connection, credential and output options every client command takes."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("connection (each also from the WAMP_* variable named)")
    group.add_argument(
        "--url",
        default=_env("WAMP_URL", DEFAULT_URL),
        help="ws://, wss://, rs://, rss://, ws+unix://PATH[:/RESOURCE], rs+unix://PATH "
        f"(WAMP_URL; default {DEFAULT_URL})",
    )
    group.add_argument("--realm", default=_env("WAMP_REALM", "realm1"), help="(WAMP_REALM)")
    group.add_argument(
        "--serializer",
        default=_env("WAMP_SERIALIZER"),
        help="json, msgpack, cbor (+ .batched) (WAMP_SERIALIZER; default: the transport's)",
    )
    group.add_argument(
        "--ca-file", default=_env("WAMP_CA_FILE"), help="CA certificates to trust (WAMP_CA_FILE)"
    )
    group.add_argument(
        "--cert-file", default=_env("WAMP_CERT_FILE"), help="client certificate (WAMP_CERT_FILE)"
    )
    group.add_argument(
        "--key-file", default=_env("WAMP_KEY_FILE"), help="its private key (WAMP_KEY_FILE)"
    )
    group.add_argument("--proxy", default=_env("WAMP_PROXY"), help="HTTP proxy HOST:PORT")
    group.add_argument(
        "--connect-timeout",
        type=float,
        default=float(_env("WAMP_CONNECT_TIMEOUT", "10") or 10),
        help="seconds to connect and join (WAMP_CONNECT_TIMEOUT; default 10)",
    )
    auth = parent.add_argument_group("authentication (each also from the WAMP_* variable named)")
    auth.add_argument("--authid", default=_env("WAMP_AUTHID"), help="(WAMP_AUTHID)")
    auth.add_argument("--authrole", default=_env("WAMP_AUTHROLE"), help="(WAMP_AUTHROLE)")
    auth.add_argument("--ticket", default=_env("WAMP_TICKET"), help="ticket (WAMP_TICKET)")
    auth.add_argument("--secret", default=_env("WAMP_SECRET"), help="wampcra (WAMP_SECRET)")
    auth.add_argument(
        "--private-key",
        default=_env("WAMP_PRIVATE_KEY"),
        help="cryptosign: hex seed or key file (WAMP_PRIVATE_KEY)",
    )
    auth.add_argument("--password", default=_env("WAMP_PASSWORD"), help="scram (WAMP_PASSWORD)")
    parent.add_argument("--json", action="store_true", help="one JSON document per line")
    return parent


def _payload_arguments(parser: argparse.ArgumentParser, options: str) -> None:
    parser.add_argument("args", nargs="*", default=[], metavar="ARG", help="positional arguments")
    parser.add_argument(
        "-k", dest="kwargs", action="append", default=[], metavar="NAME=VALUE", help="keyword"
    )
    parser.add_argument(
        "-o", dest="options", action="append", default=[], metavar="NAME=VALUE", help=options
    )
    parser.add_argument("--strings", action="store_true", help="arguments are strings, never JSON")


def _command_parser(name: str) -> argparse.ArgumentParser:
    parents = [] if name == "keygen" else [connection_parent()]
    parser = argparse.ArgumentParser(
        prog=f"{PROG} {name}",
        description=SUMMARIES[name],
        epilog=f"{EXAMPLES[name]}\n\n{EXIT_CODES_HELP}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=parents,
    )
    if name == "keygen":
        parser.add_argument(
            "--out", help="write the private seed to OUT and the public key to OUT.pub"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON document")
        return parser
    parser.add_argument("uri", help="procedure or topic")
    if name in ("call", "publish"):
        _payload_arguments(parser, f"{name} option")
        return parser
    parser.add_argument(
        "-o", dest="options", action="append", default=[], metavar="NAME=VALUE", help="option"
    )
    parser.add_argument("--count", type=int, help="stop after N events (calls)")
    if name == "register":
        parser.add_argument(
            "command", nargs="*", metavar="-- COMMAND", help="the command that answers"
        )
    return parser


def add_commands(commands: Any) -> None:
    """List the client commands in the top-level ``--help`` (their parsing is ours)."""
    for name, summary in SUMMARIES.items():
        commands.add_parser(name, help=summary, add_help=False)


def main(argv: Sequence[str]) -> int:
    """Run client command ``argv[0]`` with the arguments after it; the exit code."""
    name, rest = argv[0], list(argv[1:])
    if name == "bench":
        from wamp_anyio._cli_bench import main as bench_main  # noqa: PLC0415

        return bench_main(rest)
    parser = _command_parser(name)
    try:
        args = parser.parse_intermixed_args(rest)
    except SystemExit as done:  # --help (0) or a usage error (2, already printed)
        return int(done.code or 0)
    args.command_name = name
    try:
        if name == "keygen":
            return keygen(args)
        work = _WORK[name](args)
        return run_client(args, work)
    except UsageError as error:
        print(f"{PROG} {name}: {error}", file=sys.stderr)
        return EXIT_USAGE


def _ssl_context(args: argparse.Namespace) -> ssl.SSLContext | None:
    # TLS files matter to wss:// and rss:// only (a context would start TLS on any URL);
    # without them those verify against the system's CAs.
    if not (args.ca_file or args.cert_file) or not args.url.startswith(("wss:", "rss:")):
        return None
    try:
        context = ssl.create_default_context(cafile=args.ca_file)
        if args.cert_file:
            context.load_cert_chain(args.cert_file, args.key_file)
    except (OSError, ssl.SSLError) as error:
        raise UsageError(f"TLS files: {error}") from None
    return context


def connect_options(args: argparse.Namespace) -> dict[str, Any]:
    """``connect()``'s keyword arguments from the connection and credential options."""
    return {
        "serializers": [args.serializer] if args.serializer else None,
        "authentication": authentication_from(
            authid=args.authid,
            authrole=args.authrole,
            ticket=args.ticket,
            secret=args.secret,
            private_key=args.private_key,
            password=args.password,
        ),
        "ssl": _ssl_context(args),
        "proxy": parse_proxy(args.proxy),
    }


Work = Callable[[Session], Awaitable[None]]


def run_client(args: argparse.Namespace, work: Work) -> int:
    """Connect, join, run ``work(session)``, leave; Ctrl-C (SIGINT) or SIGTERM leave
    cleanly (GOODBYE) and give exit code 130."""
    options = connect_options(args)
    return anyio.run(_run_client, args, options, work)


class _State:
    """How far a client command got, and what Ctrl-C cancels at this point."""

    def __init__(self, scope: anyio.CancelScope) -> None:
        self.joined = False
        self.interrupted = False
        self.scope = scope


async def _run_client(args: argparse.Namespace, options: dict[str, Any], work: Work) -> int:
    failure: BaseException | None = None
    async with anyio.create_task_group() as tg:
        state = _State(tg.cancel_scope)  # before the join, Ctrl-C abandons connecting
        tg.start_soon(_watch_signals, state)
        try:
            await _connect_and_work(args, options, work, state)
        except Exception as error:  # reported below, as an exit code
            failure = error
        finally:
            tg.cancel_scope.cancel()
    if state.interrupted:
        return EXIT_INTERRUPTED
    if failure is None:
        return EXIT_OK
    print(error_text(failure, as_json=args.json), file=sys.stderr, flush=True)
    return exit_code(failure, joined=state.joined)


async def _connect_and_work(
    args: argparse.Namespace, options: dict[str, Any], work: Work, state: _State
) -> None:
    # One scope, so that connect()'s own task group nests inside it; its deadline
    # bounds the connect and join only.
    with anyio.CancelScope(deadline=anyio.current_time() + args.connect_timeout) as scope:
        async with connect(args.url, args.realm, **options) as session:
            scope.deadline = math.inf
            state.joined = True
            with anyio.CancelScope() as working:
                # Once joined, Ctrl-C stops the work only, and connect() leaves (GOODBYE).
                state.scope = working
                await work(session)
    if scope.cancelled_caught and not state.joined and not state.interrupted:
        raise TimeoutError(f"no session within {args.connect_timeout:g} s")


async def _watch_signals(state: _State) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            state.interrupted = True
            state.scope.cancel()
            return


def _emit(line: str) -> None:
    print(line, flush=True)


# ---- the commands


def _payload(args: argparse.Namespace) -> tuple[list[Any], dict[str, Any]]:
    values = [parse_value(text, strings=args.strings) for text in args.args]
    return values, parse_pairs(args.kwargs, strings=args.strings)


def call_work(args: argparse.Namespace) -> Work:
    values, kwargs = _payload(args)
    pairs = parse_pairs(args.options, flag="-o")
    receive_progress = bool(pairs.pop("receive_progress", False))
    options = build_options(CallOptions, pairs)
    if receive_progress:
        options = dataclasses.replace(
            options,
            on_progress=lambda *a, **kw: _emit(
                result_text(CallResult(*a, **kw), as_json=args.json, progress=True)
            ),
        )

    async def work(session: Session) -> None:
        result = await session.call(args.uri, *values, options=options, **kwargs)
        _emit(result_text(result, as_json=args.json))

    return work


def publish_work(args: argparse.Namespace) -> Work:
    values, kwargs = _payload(args)
    pairs = parse_pairs(args.options, flag="-o")
    pairs.setdefault("acknowledge", True)
    options = build_options(PublishOptions, pairs)

    async def work(session: Session) -> None:
        request = session.publish(args.uri, *values, options=options, **kwargs)
        if request is None:
            return
        publication = await request
        if args.json:
            _emit(to_json({"publication": publication.id}))
        else:
            _emit(f"published {publication.id}")

    return work


def subscribe_work(args: argparse.Namespace) -> Work:
    options = build_options(SubscribeOptions, parse_pairs(args.options, flag="-o"))
    _check_count(args.count)

    async def work(session: Session) -> None:
        seen = 0
        async with session.events(args.uri, options=options) as events:
            if args.json:
                _emit(to_json({"subscribed": args.uri}))
            else:
                print(f"subscribed to {args.uri}", file=sys.stderr, flush=True)
            async for event in events:
                _emit(_event_line(args, event.args, event.kwargs, event.details))
                seen += 1
                if args.count is not None and seen >= args.count:
                    return

    return work


def _event_line(args: argparse.Namespace, values: Any, kwargs: Any, details: EventDetails) -> str:
    return event_text(
        details.topic or args.uri,
        values,
        kwargs,
        publication=details.publication,
        publisher=details.publisher,
        publisher_authid=details.publisher_authid,
        as_json=args.json,
    )


def _check_count(count: int | None) -> None:
    if count is not None and count < 1:
        raise UsageError("--count must be at least 1")


def register_work(args: argparse.Namespace) -> Work:
    pairs = parse_pairs(args.options, flag="-o")
    options = dataclasses.replace(build_options(RegisterOptions, pairs), details_arg="details")
    _check_count(args.count)
    command = list(args.command)

    async def work(session: Session) -> None:
        served = 0
        enough = anyio.Event()

        async def endpoint(*values: Any, details: CallDetails, **kwargs: Any) -> Any:
            nonlocal served
            _emit(
                invocation_text(
                    details.procedure or args.uri,
                    values,
                    kwargs,
                    caller=details.caller,
                    as_json=args.json,
                )
            )
            try:
                if command:
                    return await run_command(command, values, kwargs, details, args.uri)
                return CallResult(*values, **kwargs)
            finally:
                served += 1
                if args.count is not None and served >= args.count:
                    enough.set()  # the answer is queued before this task yields again

        await session.register(endpoint, args.uri, options)
        if args.json:
            _emit(to_json({"registered": args.uri}))
        else:
            print(f"registered {args.uri}", file=sys.stderr, flush=True)
        await enough.wait()

    return work


def command_environment(
    values: Sequence[Any], kwargs: dict[str, Any], details: CallDetails, uri: str
) -> dict[str, str]:
    """The environment a registered command runs in: ours without the credentials,
    and the call."""
    env = {name: value for name, value in os.environ.items() if name not in SECRET_VARIABLES}
    env["WAMP_PROCEDURE"] = details.procedure or uri
    env["WAMP_ARGS"] = to_json(list(values))
    env["WAMP_KWARGS"] = to_json(kwargs)
    if details.caller is not None:
        env["WAMP_CALLER"] = str(details.caller)
    if details.caller_authid is not None:
        env["WAMP_CALLER_AUTHID"] = details.caller_authid
    return env


async def run_command(
    command: list[str],
    values: Sequence[Any],
    kwargs: dict[str, Any],
    details: CallDetails,
    uri: str,
) -> Any:
    """Run ``command`` for one call; its standard output is the result."""
    stdin = to_json({"args": list(values), "kwargs": kwargs}).encode() + b"\n"
    env = command_environment(values, kwargs, details, uri)
    try:
        process = await anyio.open_process(command, env=env, stderr=None)
    except OSError as error:
        raise ApplicationError(
            "wamp.error.runtime_error", f"cannot run {command[0]}: {error}"
        ) from None
    try:
        assert process.stdin is not None and process.stdout is not None
        async with process.stdin:
            await process.stdin.send(stdin)
        output = bytearray()
        async for chunk in process.stdout:
            output += chunk
            if len(output) > MAX_COMMAND_OUTPUT:
                raise ApplicationError(
                    "wamp.error.runtime_error",
                    f"{command[0]} wrote more than {MAX_COMMAND_OUTPUT} bytes",
                )
        status = await process.wait()
    finally:
        if process.returncode is None:  # canceled (INTERRUPT, Ctrl-C), or too much output
            process.kill()
            with anyio.CancelScope(shield=True):
                await process.wait()
        await process.aclose()
    if status != 0:
        raise ApplicationError(
            "wamp.error.runtime_error", f"{command[0]} exited with status {status}"
        )
    text = output.decode("utf-8", errors="replace").strip()
    return parse_value(text) if text else None


_WORK: dict[str, Callable[[argparse.Namespace], Work]] = {
    "call": call_work,
    "publish": publish_work,
    "subscribe": subscribe_work,
    "register": register_work,
}


def keygen(args: argparse.Namespace) -> int:
    """A new cryptosign key pair: the private Ed25519 seed and the public key, both hex."""
    from wamp_core.auth import CryptosignKey  # noqa: PLC0415  (cryptography is optional)

    seed = secrets.token_bytes(32)
    public = CryptosignKey.from_seed(seed).public_key_hex()
    document: dict[str, str] = {"public_key": public}
    if args.out:
        try:
            _write_new(args.out, seed.hex() + "\n", 0o600)
            _write_new(args.out + ".pub", public + "\n", 0o644)
        except OSError as error:
            print(f"{PROG} keygen: {error}", file=sys.stderr)
            return EXIT_USAGE
        document["private_key_file"] = args.out
    else:
        document["private_key"] = seed.hex()
    if args.json:
        _emit(json.dumps(document))
    elif args.out:
        _emit(f"private key written to {args.out} (use --private-key {args.out})")
        _emit(f"public key (authorized_keys): {public}")
    else:
        _emit(f"private key (--private-key, WAMP_PRIVATE_KEY; keep it secret): {seed.hex()}")
        _emit(f"public key (authorized_keys): {public}")
    return EXIT_OK


def _write_new(path: str, text: str, mode: int) -> None:
    """Create ``path`` (never overwrite a key) readable as ``mode`` says."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
