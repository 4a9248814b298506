"""The client commands run as a user runs them (``python -m wamp_anyio ...`` in a
subprocess) against the embedded router in a thread: every command in both output
forms, typed arguments, progressive results, register with a command and with echo,
configuration from the environment, every authentication method and a wrong
credential, every exit code, Ctrl-C on subscribe (a clean leave), keygen and bench."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.threaded_router import SEED, RunningRouter, threaded_router
from wamp_anyio import blocking
from wamp_core.auth import CryptosignKey
from wamp_core.types import CallDetails, CallResult, PublishOptions

TIMEOUT = 30


@pytest.fixture(scope="module")
def router() -> Iterator[RunningRouter]:
    with threaded_router() as running:

        async def procedures(session: Any) -> None:
            await session.register(echo, "com.echo")

            async def countdown(n: int, details: CallDetails) -> str:
                for i in range(n, 0, -1):
                    assert details.progress is not None
                    details.progress(i)
                return "liftoff"

            from wamp_core.types import RegisterOptions

            await session.register(
                countdown, "com.countdown", RegisterOptions(details_arg="details")
            )

        with running.callee(procedures):
            yield running


def echo(*args: Any, **kwargs: Any) -> CallResult:
    return CallResult(*args, **kwargs)


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAMP_")}
    return dict(env, PYTHONPATH=str(ROOT), **extra)


def wamp(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wamp_anyio", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=ROOT,
        env=env or environment(),
        check=False,
    )


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "wamp_anyio", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env or environment(),
    )


def first_line(proc: subprocess.Popen[str], stream: str = "stdout") -> str:
    pipe = proc.stdout if stream == "stdout" else proc.stderr
    assert pipe is not None
    return pipe.readline()


def test_call_typed_arguments_in_both_output_forms(router: RunningRouter) -> None:
    args = ["com.echo", "1", '"1"', "x", "[1,2]", "-k", "a=true", "-k", 'b={"c":null}']
    done = wamp("call", "--url", router.ws, "--json", *args)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "args": [1, "1", "x", [1, 2]],
        "kwargs": {"a": True, "b": {"c": None}},
    }
    done = wamp("call", *args, "--url", router.rs, "--strings")  # options after the arguments
    assert (done.returncode, done.stdout) == (
        0,
        '"1" "\\"1\\"" "x" "[1,2]" a="true" b="{\\"c\\":null}"\n',
    )
    done = wamp("call", "--url", router.ws, "com.echo", "hello world")
    assert done.stdout == "hello world\n"


def test_progressive_results(router: RunningRouter) -> None:
    option = ["-o", "receive_progress=true"]
    done = wamp("call", "--url", router.ws, "com.countdown", "3", *option)
    assert done.stdout.splitlines() == ["(progress) 3", "(progress) 2", "(progress) 1", "liftoff"]
    done = wamp("call", "--url", router.ws, "--json", "com.countdown", "2", *option)
    assert [json.loads(line) for line in done.stdout.splitlines()] == [
        {"args": [2], "kwargs": {}, "progress": True},
        {"args": [1], "kwargs": {}, "progress": True},
        {"args": ["liftoff"], "kwargs": {}},
    ]


def test_exit_codes(router: RunningRouter) -> None:
    failed = wamp("call", "--url", router.ws, "com.nobody", "1")
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: wamp.error.no_such_procedure: ")
    failed = wamp("call", "--url", router.ws, "--json", "com.nobody")
    assert json.loads(failed.stderr)["error"] == "wamp.error.no_such_procedure"
    canceled = wamp("call", "--url", router.ws, "com.countdown", "1", "-o", "timeout=x")
    assert canceled.returncode == 2 and "timeout" in canceled.stderr
    assert wamp("call", "--url", router.ws, "com.echo", "-o", "bogus=1").returncode == 2
    assert wamp("call", "--url", router.ws).returncode == 2  # no URI
    unreachable = wamp("call", "--url", "rs://127.0.0.1:1", "com.echo")
    assert unreachable.returncode == 3 and unreachable.stderr.startswith("error: ")
    assert wamp("call", "--url", router.ws, "--realm", "nowhere", "com.echo").returncode == 3


def test_publish_and_subscribe_in_both_output_forms(router: RunningRouter) -> None:
    readable = start("subscribe", "--url", router.ws, "com.news", "--count", "2")
    as_json = start(
        "subscribe",
        "com.news.",
        "--json",
        "-o",
        "match=prefix",
        "--count",
        "1",
        env=environment(WAMP_URL=router.rs),
    )
    assert first_line(readable, "stderr") == "subscribed to com.news\n"
    assert json.loads(first_line(as_json)) == {"subscribed": "com.news."}
    published = wamp(
        "publish", "--url", router.ws, "com.news", "1", "-k", "x=y", "-o", "disclose_me=true"
    )
    assert published.returncode == 0 and published.stdout.startswith("published ")
    published = wamp("publish", "--url", router.ws, "--json", "com.news.sport", '"goal"')
    assert "publication" in json.loads(published.stdout)
    with blocking.connect(router.ws, "realm1") as session:
        session.publish("com.news", "hi there", options=PublishOptions(acknowledge=True))
    out, _ = readable.communicate(timeout=TIMEOUT)
    lines = out.splitlines()
    assert lines[0].startswith('com.news: 1 x="y"  (from session ')
    assert lines[1] == "com.news: hi there"
    assert readable.returncode == 0
    out, _ = as_json.communicate(timeout=TIMEOUT)
    event = json.loads(out.splitlines()[0])
    assert (event["topic"], event["args"], event["kwargs"]) == ("com.news.sport", ["goal"], {})
    assert as_json.returncode == 0
    invalid = wamp("publish", "--url", router.ws, "com..empty")
    assert invalid.returncode == 2 and "invalid topic" in invalid.stderr


def test_register_echo_and_command(router: RunningRouter) -> None:
    echo = start("register", "--url", router.ws, "com.cli.echo", "--count", "1")
    assert first_line(echo, "stderr") == "registered com.cli.echo\n"
    called = wamp("call", "--url", router.ws, "com.cli.echo", "1", "-k", "a=[2]", "--json")
    assert json.loads(called.stdout) == {"args": [1], "kwargs": {"a": [2]}}
    out, _ = echo.communicate(timeout=TIMEOUT)
    assert out.startswith("com.cli.echo(1 a=[2])") and echo.returncode == 0

    script = (
        "import json, os, sys; call = json.load(sys.stdin)\n"
        "if call['args'] == ['fail']: sys.exit(4)\n"
        "print(json.dumps({'upper': call['args'][0].upper(), 'kw': call['kwargs'],"
        " 'env': [os.environ['WAMP_PROCEDURE'], os.environ['WAMP_ARGS']],"
        " 'secret': os.environ.get('WAMP_TICKET')}))"
    )
    # In realm secure with a ticket from the environment, which the command must not see.
    secure = environment(
        WAMP_URL=router.secure, WAMP_REALM="secure", WAMP_AUTHID="joe", WAMP_TICKET="t1ck3t"
    )
    command = start(
        "register",
        "com.cli.upper",
        "--json",
        "--count",
        "2",
        "--",
        sys.executable,
        "-c",
        script,
        env=secure,
    )
    assert json.loads(first_line(command)) == {"registered": "com.cli.upper"}
    called = wamp("call", "--json", "com.cli.upper", "abc", "-k", "n=1", env=secure)
    assert json.loads(called.stdout)["args"] == [
        {"upper": "ABC", "kw": {"n": 1}, "env": ["com.cli.upper", '["abc"]'], "secret": None}
    ]
    failed = wamp("call", "com.cli.upper", "fail", env=secure)
    assert failed.returncode == 1 and "wamp.error.runtime_error" in failed.stderr
    assert "exited with status 4" in failed.stderr
    out, _ = command.communicate(timeout=TIMEOUT)
    assert [json.loads(line)["args"] for line in out.splitlines()] == [["abc"], ["fail"]]


def test_ctrl_c_on_subscribe_leaves_cleanly(router: RunningRouter) -> None:
    proc = start("subscribe", "--url", router.ws, "com.forever")
    assert first_line(proc, "stderr") == "subscribed to com.forever\n"
    count = len(router.leaves)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=TIMEOUT) == 130
    assert router.wait_for_leave("wamp.close.normal", after=count)
    assert [reason for _, reason in router.leaves[count:]] == ["wamp.close.normal"]


CREDENTIALS = {
    "ticket": (["--authid", "joe", "--ticket", "t1ck3t"], ["--ticket", "nope"]),
    "wampcra": (["--authid", "ann", "--secret", "s3cret"], ["--secret", "nope"]),
    "cryptosign": (["--authid", "cy", "--private-key", SEED.hex()], ["--private-key", "00" * 32]),
    "scram": (["--authid", "sam", "--password", "pa55"], ["--password", "nope"]),
}


@pytest.mark.parametrize("method", sorted(CREDENTIALS))
def test_every_authentication_method_and_a_wrong_credential(
    router: RunningRouter, method: str
) -> None:
    right, wrong = CREDENTIALS[method]
    base = ["call", "--url", router.secure, "--realm", "secure", "wamp.session.count"]
    done = wamp(*base, *right)
    assert (done.returncode, done.stdout) == (0, "1\n"), done.stderr
    refused = wamp(*base, *right[:2], *wrong)
    assert refused.returncode == 3 and "wamp.error.not_authorized" in refused.stderr


def test_configuration_from_the_environment(router: RunningRouter, tmp_path: Path) -> None:
    key_file = tmp_path / "client.key"
    key_file.write_text(SEED.hex() + "\n")
    env = environment(
        WAMP_URL=router.secure,
        WAMP_REALM="secure",
        WAMP_AUTHID="cy",
        WAMP_PRIVATE_KEY=str(key_file),
        WAMP_SERIALIZER="cbor",
    )
    done = wamp("call", "wamp.session.count", env=env)
    assert (done.returncode, done.stdout) == (0, "1\n"), done.stderr


def test_keygen_in_both_output_forms(tmp_path: Path) -> None:
    done = wamp("keygen", "--json")
    keys = json.loads(done.stdout)
    assert CryptosignKey.from_hex(keys["private_key"]).public_key_hex() == keys["public_key"]
    out = tmp_path / "me.key"
    done = wamp("keygen", "--out", str(out))
    public = (tmp_path / "me.key.pub").read_text().strip()
    assert CryptosignKey.from_file(out).public_key_hex() == public
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert public in done.stdout
    assert wamp("keygen", "--out", str(out)).returncode == 2  # never overwrites a key


def test_bench_call_and_publish(router: RunningRouter) -> None:
    done = wamp(
        "bench",
        "call",
        "--url",
        router.rs,
        "com.bench",
        "--echo",
        "1",
        "--count",
        "400",
        "--parallel",
        "4",
        "--json",
    )
    report = json.loads(done.stdout)
    assert (report["count"], report["errors"]) == (400, 0), done.stderr
    latency = report["latency_ms"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
    assert report["per_second"] > 0
    done = wamp("bench", "publish", "--url", router.ws, "com.bench.t", "--duration", "0.3")
    assert done.returncode == 0 and done.stdout.startswith("publish com.bench.t: ")
    assert "p99" in done.stdout and "\r[" not in done.stderr  # no progress bar into a pipe
    assert wamp("bench", "call", "x", "--parallel", "0").returncode == 2


@pytest.mark.parametrize("command", ["call", "publish", "subscribe", "register", "keygen", "bench"])
def test_help_has_an_example_and_the_exit_codes(command: str) -> None:
    done = wamp(command, "--help")
    assert done.returncode == 0
    assert "example" in done.stdout and f"wamp-sansio {command}" in done.stdout
    assert "130  interrupted" in done.stdout
