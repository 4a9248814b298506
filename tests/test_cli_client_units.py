"""The command line's pure parts (wamp_anyio._cli_common), without a router."""

from __future__ import annotations

import ssl

import pytest

from wamp_anyio._cli_common import (
    EXIT_CONNECT,
    EXIT_FAILED,
    EXIT_USAGE,
    UsageError,
    authentication_from,
    bench_report,
    build_options,
    error_text,
    event_text,
    exit_code,
    invocation_text,
    parse_pairs,
    parse_proxy,
    parse_value,
    percentiles,
    progress_bar,
    result_text,
    to_json,
)
from wamp_core.exception import ApplicationError, InvalidUriError, TransportLost
from wamp_core.types import CallOptions, CallResult, PublishOptions


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1),
        ("1.5", 1.5),
        ("true", True),
        ("null", None),
        ('"1"', "1"),
        ("[1]", [1]),
        ('{"a":1}', {"a": 1}),
        ("hello", "hello"),
        ("NaN", "NaN"),
        ("", ""),
    ],
)
def test_arguments_are_json_where_they_parse(text: str, value: object) -> None:
    assert parse_value(text) == value
    assert parse_value(text, strings=True) == text


def test_pairs() -> None:
    assert parse_pairs(["a=1", "b=x=y", "c="]) == {"a": 1, "b": "x=y", "c": ""}
    assert parse_pairs(["a=1"], strings=True) == {"a": "1"}
    for bad in ("a", "=1"):
        with pytest.raises(UsageError, match="-o expects"):
            parse_pairs([bad], flag="-o")


def test_options() -> None:
    assert build_options(CallOptions, {"timeout": 5}).timeout == 5
    assert build_options(PublishOptions, {"exclude_me": False}).exclude_me is False
    with pytest.raises(UsageError, match="unknown option 'on_progress'"):
        build_options(CallOptions, {"on_progress": 1})
    with pytest.raises(UsageError, match="-o: "):
        build_options(CallOptions, {"timeout": "soon"})


def test_authentication() -> None:
    assert authentication_from() is None
    assert authentication_from(authid="a") == {"anonymous": {"authid": "a"}}
    methods = authentication_from(
        authid="a", authrole="r", ticket="t", secret="s", password="p", private_key="11" * 32
    )
    assert methods is not None
    assert list(methods) == ["cryptosign", "scram", "wampcra", "ticket"]
    assert methods["ticket"] == {"authid": "a", "authrole": "r", "ticket": "t"}
    with pytest.raises(UsageError, match="needs --authid"):
        authentication_from(ticket="t")
    with pytest.raises(UsageError, match="--private-key"):
        authentication_from(private_key="not hex")


def test_proxy() -> None:
    assert parse_proxy(None) is None
    assert parse_proxy("http://proxy:3128/") == {"host": "proxy", "port": 3128}
    assert parse_proxy("[::1]:8") == {"host": "::1", "port": 8}
    for bad in ("proxy", "proxy:x", "proxy:0", ":80"):
        with pytest.raises(UsageError):
            parse_proxy(bad)


def test_exit_codes() -> None:
    error = ApplicationError("wamp.error.not_authorized")
    assert exit_code(error, joined=False) == EXIT_CONNECT
    assert exit_code(error, joined=True) == EXIT_FAILED
    assert exit_code(TransportLost(), joined=True) == EXIT_CONNECT
    assert exit_code(ssl.SSLError(), joined=True) == EXIT_CONNECT
    assert exit_code(InvalidUriError("x"), joined=True) == EXIT_USAGE
    assert exit_code(UsageError("x"), joined=False) == EXIT_USAGE
    assert exit_code(RuntimeError("x"), joined=True) == EXIT_FAILED


def test_output() -> None:
    assert to_json({"b": b"\x00\x01", "r": CallResult(1, k=2), "o": object})[:30] == (
        '{"b":"AAE=","r":{"args":[1],"k'
    )
    assert result_text(None, as_json=False) == ""
    assert result_text("hi", as_json=False) == "hi"
    assert result_text(CallResult(1, "a", k=[2]), as_json=False) == '1 "a" k=[2]'
    assert result_text(3, as_json=True, progress=True) == '{"args":[3],"kwargs":{},"progress":true}'
    assert result_text(3, as_json=False, progress=True) == "(progress) 3"
    assert event_text("t", [1], {}, publisher=7, publisher_authid="joe", as_json=False) == (
        "t: 1  (from session 7, joe)"
    )
    assert event_text("t", [], {}, publisher=7, as_json=False) == "t:  (from session 7)"
    assert event_text("t", [1], {"a": 2}, publication=5, publisher=7, as_json=True) == (
        '{"topic":"t","args":[1],"kwargs":{"a":2},"publication":5,'
        '"publisher":7,"publisher_authid":null}'
    )
    assert invocation_text("p", [1], {}, caller=3, as_json=False) == "p(1)  (from session 3)"
    assert invocation_text("p", [], {}, caller=3, as_json=True) == (
        '{"procedure":"p","args":[],"kwargs":{},"caller":3}'
    )
    failure = ApplicationError("com.err", "why", n=1)
    assert error_text(failure, as_json=False) == 'error: com.err: "why" n=1'
    assert error_text(ApplicationError("com.err"), as_json=False) == "error: com.err"
    assert (
        error_text(failure, as_json=True) == '{"error":"com.err","args":["why"],"kwargs":{"n":1}}'
    )
    assert error_text(TimeoutError(), as_json=False) == "error: TimeoutError"
    assert error_text(OSError("gone"), as_json=True) == '{"error":"OSError","message":"gone"}'


def test_statistics() -> None:
    assert percentiles([]) == {"p50": 0.0, "p90": 0.0, "p99": 0.0, "max": 0.0}
    samples = [float(n) for n in range(100, 0, -1)]
    assert percentiles(samples) == {"p50": 50.0, "p90": 90.0, "p99": 99.0, "max": 100.0}
    assert percentiles([2.0]) == {"p50": 2.0, "p90": 2.0, "p99": 2.0, "max": 2.0}
    report = bench_report("call x", 100, 1, 0.5, [0.001] * 100, as_json=False)
    assert report == (
        "call x: 100 in 0.500 s = 200/s, 1 errors\n"
        "latency ms: p50 1.000  p90 1.000  p99 1.000  max 1.000"
    )
    assert '"per_second":0.0' in bench_report("x", 0, 0, 0.0, [], as_json=True)
    assert progress_bar(1, 4, width=4) == "[#...]  25%"
    assert progress_bar(9, 4, width=2) == "[##] 100%"
    assert progress_bar(0, 0, width=2) == "[..]   0%"


@pytest.mark.parametrize("command", ["call", "publish"])
def test_a_missing_uri_is_the_only_missing_argument(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # ARG is optional: argparse lists a '*' positional without a default as required
    from wamp_anyio.cli import main

    assert main([command]) == EXIT_USAGE
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.endswith("the following arguments are required: uri"), error
