"""``python -m wamp_anyio serve``, run as a user runs it: defaults, flags, a Crossbar.io
configuration file, a refused configuration, and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

import wamp_anyio
from tests.conftest import ROOT

TIMEOUT = 30


def start(*args: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Start the router; return it and the URLs it listens on (read from its output)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "wamp_anyio", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    urls: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("listening on "):
            urls.append(line.split()[-1])
        if len(urls) == 2 or not line:
            break
    return proc, urls


def stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGINT)
    return proc.wait(timeout=TIMEOUT)


async def count(url: str, realm: str = "realm1", **options: Any) -> Any:
    with anyio.fail_after(TIMEOUT):
        async with wamp_anyio.connect(url, realm, **options) as session:
            return await session.call("wamp.session.count")


def test_defaults_with_free_ports_and_ctrl_c() -> None:
    proc, urls = start("--ws", "127.0.0.1:0/ws", "--rawsocket", "127.0.0.1:0", "--realm", "demo")
    try:
        assert urls[0].startswith("ws://127.0.0.1:") and urls[0].endswith("/ws")
        assert urls[1].startswith("rs://127.0.0.1:")
        for url in urls:
            assert anyio.run(count, url, "demo") == 1
    finally:
        assert stop(proc) == 0
    assert proc.stderr is not None and "session" in proc.stderr.read()


def test_a_crossbar_configuration(tmp_path: Path) -> None:
    config = {
        "version": 2,
        "workers": [
            {
                "type": "router",
                "realms": [
                    {
                        "name": "app",
                        "roles": [
                            {
                                "name": "frontend",
                                "permissions": [
                                    {"uri": "", "match": "prefix", "allow": {"call": True}}
                                ],
                            }
                        ],
                    }
                ],
                "transports": [
                    {
                        "type": "rawsocket",
                        "endpoint": {"type": "tcp", "interface": "127.0.0.1", "port": 0},
                        "auth": {
                            "ticket": {
                                "type": "static",
                                "principals": {"joe": {"ticket": "s3cr3t", "role": "frontend"}},
                            }
                        },
                    },
                    {
                        "type": "web",
                        "endpoint": {"type": "tcp", "interface": "127.0.0.1", "port": 0},
                        "paths": {"ws": {"type": "websocket"}, "/": {"type": "static"}},
                    },
                ],
            }
        ],
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    proc, urls = start("--config", str(path))
    try:
        ticket = {"ticket": {"authid": "joe", "ticket": "s3cr3t"}}
        assert anyio.run(bound(count, urls[0], "app", authentication=ticket)) == 1
        with pytest.raises(Exception, match="not_authorized"):
            anyio.run(
                bound(
                    count,
                    urls[0],
                    "app",
                    authentication={"ticket": {"authid": "joe", "ticket": "x"}},
                )
            )
    finally:
        assert stop(proc) == 0
    assert proc.stderr is not None
    assert "configuration:" in proc.stderr.read()  # the static web path was warned about


def test_a_refused_configuration(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    config = {
        "version": 2,
        "workers": [
            {
                "type": "router",
                "realms": [{"name": "r", "roles": []}],
                "transports": [
                    {
                        "type": "websocket",
                        "endpoint": {"type": "tcp", "port": 0},
                        "auth": {"cookie": {}},
                    }
                ],
            }
        ],
    }
    path.write_text(json.dumps(config))
    result = subprocess.run(
        [sys.executable, "-m", "wamp_anyio", "serve", "--config", str(path)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 2
    assert "cookie" in result.stderr


def bound(fn: Any, *args: Any, **kwargs: Any) -> Any:
    async def call() -> Any:
        return await fn(*args, **kwargs)

    return call
