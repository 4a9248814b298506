"""The client commands against Crossbar.io: a call over wss:// with --ca-file to a
procedure that ``register`` (echo) serves, and ``bench call`` with sane numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from tests.conftest import ROOT
from tests.crossbar.config import REALM
from tests.integration.crossbar_node import CrossbarNode

pytestmark = pytest.mark.integration

TIMEOUT = 60


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "wamp_anyio", *args]


def environment(crossbar: CrossbarNode) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAMP_")}
    return dict(env, PYTHONPATH=str(ROOT), WAMP_REALM=REALM, WAMP_CA_FILE=str(crossbar.ca_file))


def test_register_call_and_bench_against_crossbar(crossbar: CrossbarNode) -> None:
    env = environment(crossbar)
    uri = f"com.cli.{uuid.uuid4().hex}"
    callee = subprocess.Popen(
        command("register", "--url", crossbar.wss_url, uri, "--count", "1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert callee.stderr is not None
    assert callee.stderr.readline() == f"registered {uri}\n"
    called = subprocess.run(
        command("call", "--url", crossbar.wss_url, "--json", uri, "1", "x", "-k", "a=[2]"),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=TIMEOUT,
        check=False,
    )
    assert json.loads(called.stdout) == {"args": [1, "x"], "kwargs": {"a": [2]}}, called.stderr
    assert callee.wait(timeout=TIMEOUT) == 0

    bench = subprocess.run(
        command(
            "bench",
            "call",
            "--url",
            crossbar.rs_url,
            f"{uri}.bench",
            "--echo",
            "--count",
            "500",
            "--parallel",
            "8",
            "--json",
        ),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=TIMEOUT,
        check=False,
    )
    assert bench.returncode == 0, bench.stderr
    report = json.loads(bench.stdout)
    assert (report["count"], report["errors"]) == (500, 0), bench.stderr
    latency = report["latency_ms"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
