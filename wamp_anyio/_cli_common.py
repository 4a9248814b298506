"""What the client commands decide without an event loop: typing of arguments, options
from ``-o NAME=VALUE``, credentials from flags and the environment, exit codes, output
lines, and benchmark statistics. Pure functions, unit-tested on their own."""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import os
import ssl
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from wamp_core.exception import ApplicationError, Error, InvalidUriError
from wamp_core.types import CallResult

__all__ = [
    "EXIT_CODES_HELP",
    "EXIT_CONNECT",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "UsageError",
    "authentication_from",
    "bench_report",
    "build_options",
    "error_text",
    "event_text",
    "exit_code",
    "invocation_text",
    "parse_pairs",
    "parse_proxy",
    "parse_value",
    "percentiles",
    "progress_bar",
    "result_text",
    "to_json",
]

EXIT_OK = 0
EXIT_FAILED = 1  # the router or the callee answered with an error
EXIT_USAGE = 2
EXIT_CONNECT = 3  # could not connect, or the router refused the join
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it

EXIT_CODES_HELP = """exit codes:
  0    success
  1    the router or the callee answered with an error (URI and arguments on stderr)
  2    usage error
  3    could not connect, or authentication failed
  130  interrupted (Ctrl-C)"""

# Options the command line cannot express (callables) or that the command sets itself.
_NOT_FROM_COMMAND_LINE = frozenset({"on_progress", "details_arg"})

T = TypeVar("T")


class UsageError(Exception):
    """The command line asked for something that cannot be done (exit code 2)."""


def parse_value(text: str, *, strings: bool = False) -> Any:
    """``text`` as JSON where it parses as JSON, else the string itself (always the
    string with ``strings``). ``NaN`` and ``Infinity`` stay strings: no serializer
    carries them portably."""
    if strings:
        return text
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except ValueError:
        return text


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def parse_pairs(items: Iterable[str], *, strings: bool = False, flag: str = "-k") -> dict[str, Any]:
    """``NAME=VALUE`` items to a dict, each value typed as :func:`parse_value` does."""
    out: dict[str, Any] = {}
    for item in items:
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise UsageError(f"{flag} expects NAME=VALUE, got {item!r}")
        out[name] = parse_value(value, strings=strings)
    return out


def build_options(cls: type[T], pairs: Mapping[str, Any]) -> T:
    """An options dataclass (CallOptions, PublishOptions, ...) from ``-o`` pairs; an
    unknown name or a value the class refuses is a usage error."""
    allowed = sorted(
        field.name
        for field in dataclasses.fields(cls)  # type: ignore[arg-type]
        if field.init and field.name not in _NOT_FROM_COMMAND_LINE and field.name != "_"
    )
    unknown = [name for name in pairs if name not in allowed]
    if unknown:
        raise UsageError(
            f"unknown option {unknown[0]!r} for {cls.__name__}; known: {', '.join(allowed)}"
        )
    try:
        return cls(**pairs)
    except (TypeError, ValueError) as error:
        raise UsageError(f"-o: {error}") from None


def authentication_from(
    *,
    authid: str | None = None,
    authrole: str | None = None,
    ticket: str | None = None,
    secret: str | None = None,
    private_key: str | None = None,
    password: str | None = None,
) -> dict[str, dict[str, Any]] | None:
    """The ``authentication`` mapping ``connect()`` takes, one method per credential
    given (cryptosign, scram, wampcra, ticket: the router picks among them); None
    (anonymous) without credentials. ``private_key`` is 64 hex characters or a file
    (hex seed, raw seed or OpenSSH key)."""
    common: dict[str, Any] = {"authid": authid}
    if authrole:
        common["authrole"] = authrole
    methods: dict[str, dict[str, Any]] = {}
    if private_key:
        methods["cryptosign"] = {**common, "key": _cryptosign_key(private_key)}
    for method, name, value in (
        ("scram", "password", password),
        ("wampcra", "secret", secret),
        ("ticket", "ticket", ticket),
    ):
        if value:
            if not authid:
                raise UsageError(f"--{name} needs --authid (or WAMP_AUTHID)")
            methods[method] = {**common, name: value}
    if not methods:
        if authid or authrole:
            return {"anonymous": common}
        return None
    return methods


def _cryptosign_key(text: str) -> Any:
    from wamp_core.auth import CryptosignKey  # noqa: PLC0415  (cryptography is optional)

    try:
        if os.path.exists(text):
            return CryptosignKey.from_file(text)
        return CryptosignKey.from_hex(text)
    except (ValueError, TypeError) as error:
        raise UsageError(f"--private-key: {error}") from None


def parse_proxy(text: str | None) -> dict[str, Any] | None:
    """``HOST:PORT`` or ``http://HOST:PORT`` to the ``proxy`` mapping ``connect()`` takes."""
    if not text:
        return None
    where = text.removeprefix("http://").rstrip("/")
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--proxy expects HOST:PORT, got {text!r}")
    return {"host": host.strip("[]"), "port": int(port)}


def exit_code(error: BaseException, *, joined: bool) -> int:
    """The exit code for what ended a command: before the join everything is a failure
    to connect or authenticate; after it, an ERROR answer is 1."""
    if isinstance(error, (UsageError, InvalidUriError)):
        return EXIT_USAGE
    if not joined:
        return EXIT_CONNECT
    if isinstance(error, ApplicationError):
        return EXIT_FAILED
    if isinstance(error, (OSError, Error, ssl.SSLError)):
        return EXIT_CONNECT  # the transport went away, or the router broke the protocol
    return EXIT_FAILED


def _encode_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, CallResult):
        return {"args": list(value.results), "kwargs": dict(value.kwresults)}
    return repr(value)


def to_json(value: Any) -> str:
    """One line of JSON; binary values as base64 text, anything else unknown by repr."""
    return json.dumps(value, default=_encode_default, ensure_ascii=False, separators=(",", ":"))


def _split(result: Any) -> tuple[list[Any], dict[str, Any]]:
    if isinstance(result, CallResult):
        return list(result.results), dict(result.kwresults)
    if result is None:
        return [], {}
    return [result], {}


def _readable(args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
    if len(args) == 1 and not kwargs and isinstance(args[0], str):
        return args[0]  # a lone string reads best as itself
    parts = [to_json(arg) for arg in args]
    parts += [f"{name}={to_json(value)}" for name, value in kwargs.items()]
    return " ".join(parts)


def result_text(result: Any, *, as_json: bool, progress: bool = False) -> str:
    """A call's result (or one progressive result) as one output line."""
    args, kwargs = _split(result)
    if as_json:
        document: dict[str, Any] = {"args": args, "kwargs": kwargs}
        if progress:
            document["progress"] = True
        return to_json(document)
    text = _readable(args, kwargs)
    return f"(progress) {text}" if progress else text


def event_text(
    topic: str | None,
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    *,
    publication: int | None = None,
    publisher: int | None = None,
    publisher_authid: str | None = None,
    as_json: bool,
) -> str:
    """One event as one output line: the topic, the payload, and the publisher when disclosed."""
    if as_json:
        document: dict[str, Any] = {
            "topic": topic,
            "args": list(args),
            "kwargs": dict(kwargs),
            "publication": publication,
        }
        if publisher is not None:
            document["publisher"] = publisher
            document["publisher_authid"] = publisher_authid
        return to_json(document)
    line = f"{topic}: {_readable(args, kwargs)}".rstrip()
    if publisher is not None:
        line += f"  (from session {publisher}" + (
            f", {publisher_authid})" if publisher_authid else ")"
        )
    return line


def invocation_text(
    procedure: str | None,
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    *,
    caller: int | None = None,
    as_json: bool,
) -> str:
    """One invocation that ``register`` answered, as one output line."""
    if as_json:
        document: dict[str, Any] = {"procedure": procedure, "args": list(args)}
        document["kwargs"] = dict(kwargs)
        if caller is not None:
            document["caller"] = caller
        return to_json(document)
    line = f"{procedure}({_readable(args, kwargs)})"
    return line + (f"  (from session {caller})" if caller is not None else "")


def error_text(error: BaseException, *, as_json: bool) -> str:
    """What went wrong, for stderr: an ERROR's URI and arguments, else the exception."""
    if isinstance(error, ApplicationError):
        args, kwargs = list(error.args), dict(error.kwargs or {})
        if as_json:
            return to_json({"error": error.error, "args": args, "kwargs": kwargs})
        detail = _readable(args, kwargs)
        return f"error: {error.error}" + (f": {detail}" if detail else "")
    text = str(error) or type(error).__name__
    if as_json:
        return to_json({"error": type(error).__name__, "message": text})
    return f"error: {text}"


def percentiles(samples: Sequence[float], points: Sequence[int] = (50, 90, 99)) -> dict[str, float]:
    """Nearest-rank percentiles of ``samples`` (``p50``, ...) and their ``max``; zeros
    when there are none."""
    if not samples:
        return {**{f"p{point}": 0.0 for point in points}, "max": 0.0}
    ordered = sorted(samples)
    out = {
        f"p{point}": ordered[max(0, math.ceil(point / 100 * len(ordered)) - 1)] for point in points
    }
    out["max"] = ordered[-1]
    return out


def bench_report(
    what: str, done: int, errors: int, elapsed: float, latencies: Sequence[float], *, as_json: bool
) -> str:
    """The benchmark's result: throughput, and latency percentiles in milliseconds."""
    rate = done / elapsed if elapsed > 0 else 0.0
    millis = {name: value * 1000 for name, value in percentiles(latencies).items()}
    if as_json:
        return to_json(
            {
                "what": what,
                "count": done,
                "errors": errors,
                "seconds": round(elapsed, 6),
                "per_second": round(rate, 1),
                "latency_ms": {name: round(value, 3) for name, value in millis.items()},
            }
        )
    spread = "  ".join(f"{name} {value:.3f}" for name, value in millis.items())
    return (
        f"{what}: {done} in {elapsed:.3f} s = {rate:,.0f}/s, {errors} errors\nlatency ms: {spread}"
    )


def progress_bar(done: int, total: int, width: int = 40) -> str:
    """``[#####.....]  50%`` (for a terminal; the caller returns the carriage itself)."""
    fraction = 0.0 if total <= 0 else min(1.0, done / total)
    filled = int(fraction * width)
    return f"[{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%}"
