"""``python -m wamp_twisted serve`` and ``twistd -n wamp-sansio``, run as a user runs
them: defaults and flags, a Crossbar.io configuration file, a refused configuration, a
port in use, and Ctrl-C / SIGTERM with a session connected (it gets GOODBYE)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.conftest import ROOT
from tests.test_cli_serve import bound, count
from tests.test_twisted_serve import _rawsocket_json

TIMEOUT = 30
SERVE = (sys.executable, "-m", "wamp_twisted", "serve")
TWISTD = (sys.executable, "-c", "from twisted.scripts.twistd import run; run()")


def start(
    command: tuple[str, ...], *args: str, cwd: Path = ROOT, listeners: int = 2
) -> tuple[subprocess.Popen[str], list[str]]:
    """Start the router; return it and the URLs it listens on (read from its output:
    ``listening on URL`` lines, printed by ``serve``, logged under twistd)."""
    proc = subprocess.Popen(
        [*command, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),  # twistd finds ROOT/twisted/plugins
        cwd=cwd,
    )
    urls: list[str] = []
    assert proc.stdout is not None
    watchdog = threading.Timer(TIMEOUT, proc.kill)  # a router that never says: no hang
    watchdog.start()
    try:
        for line in proc.stdout:
            if "listening on " in line:
                urls.append(line.split()[-1])
            if len(urls) == listeners or not line:
                break
    finally:
        watchdog.cancel()
    return proc, urls


def finish(proc: subprocess.Popen[str], sig: int = signal.SIGINT) -> tuple[int, str]:
    """Send ``sig``; the exit code and everything the router wrote after its URLs."""
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, out + err


def joined_rawsocket(url: str) -> tuple[socket.socket, Any]:
    """A raw RawSocket JSON session joined to realm1, and its incoming messages."""
    host, port = url.removeprefix("rs://").rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    messages = _rawsocket_json(sock, [1, "realm1", {"roles": {"subscriber": {}}}])
    assert next(messages)[0] == 2  # WELCOME
    return sock, messages


def test_defaults_with_free_ports_and_ctrl_c() -> None:
    proc, urls = start(SERVE, "--ws", "127.0.0.1:0/ws", "--rawsocket", "127.0.0.1:0")
    try:
        assert urls[0].startswith("ws://127.0.0.1:") and urls[0].endswith("/ws")
        assert urls[1].startswith("rs://127.0.0.1:")
        for url in urls:
            assert anyio.run(count, url) == 1
        sock, messages = joined_rawsocket(urls[1])
    except BaseException:
        proc.kill()
        raise
    with sock:
        code, output = finish(proc)
        goodbye = next(messages)
    assert code == 0
    assert goodbye[0] == 6 and goodbye[2] == "wamp.close.system_shutdown"
    assert "joined realm realm1: authid=" in output and "shutting down: 1 connections" in output


def test_realm_serializers_and_log_level() -> None:
    proc, urls = start(
        SERVE,
        *("--realm", "demo", "--ws", "none", "--rawsocket", "127.0.0.1:0"),
        *("--serializers", "cbor", "--log-level", "warning"),
        listeners=1,
    )
    try:
        (url,) = urls or ["missing"]
        assert anyio.run(bound(count, url, "demo", serializers=["cbor"])) == 1
    finally:
        code, output = finish(proc, signal.SIGTERM)
    assert code == 0
    assert "joined" not in output  # an info line, below --log-level warning


SESSION_META_CALLS = {"uri": "wamp.session.", "match": "prefix", "allow": {"call": True}}


def crossbar_config(tmp_path: Path) -> Path:
    config = {
        "version": 2,
        "controller": {"id": "ignored"},
        "workers": [
            {
                "type": "router",
                "realms": [
                    {
                        "name": "app",
                        "roles": [
                            {"name": name, "permissions": [SESSION_META_CALLS]}
                            for name in ("frontend", "anonymous")
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
                        "endpoint": {"type": "unix", "path": "web.sock"},
                        "paths": {"ws": {"type": "websocket"}, "/": {"type": "static"}},
                    },
                ],
            }
        ],
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


def test_a_crossbar_configuration(tmp_path: Path) -> None:
    proc, urls = start(SERVE, "--config", str(crossbar_config(tmp_path)))
    try:
        assert urls[1] == f"ws+unix://{tmp_path / 'web.sock'}:/ws"  # relative to the file
        ticket = {"ticket": {"authid": "joe", "ticket": "s3cr3t"}}
        assert anyio.run(bound(count, urls[0], "app", authentication=ticket)) == 1
        wrong = {"ticket": {"authid": "joe", "ticket": "x"}}
        with pytest.raises(Exception, match="not_authorized"):
            anyio.run(bound(count, urls[0], "app", authentication=wrong))
        assert anyio.run(count, urls[1], "app") == 1  # the web path: anonymous
    finally:
        code, output = finish(proc)
    assert code == 0
    assert "configuration: controller" in output  # warned about, one line each
    assert "authid=joe authrole=frontend authmethod=ticket" in output
    assert "s3cr3t" not in output


def test_a_refused_configuration_and_a_bad_address(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    refused = {
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
    path.write_text(json.dumps(refused))
    for args in (("--config", str(path)), ("--ws", "nowhere")):
        result = subprocess.run(
            [*SERVE, *args],
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            timeout=TIMEOUT,
            check=False,
        )
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("python -m wamp_twisted serve: ")
    assert "cookie" in result.stderr or "nowhere" in result.stderr


def test_a_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*SERVE, "--ws", "127.0.0.1:0/ws", "--rawsocket", f"127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            timeout=TIMEOUT,
            check=False,
        )
    assert result.returncode == 2
    assert "wamp_twisted serve: " in result.stderr and str(port) in result.stderr


def test_twistd_plugin(tmp_path: Path) -> None:
    proc, urls = start(
        TWISTD,
        *("-n", "--pidfile=", "wamp-sansio"),
        *("--ws", "127.0.0.1:0/ws", "--rawsocket", "127.0.0.1:0", "--realm", "realm1"),
        cwd=tmp_path,
    )
    try:
        assert urls[0].startswith("ws://127.0.0.1:") and urls[1].startswith("rs://127.0.0.1:")
        for url in urls:
            assert anyio.run(count, url) == 1
        sock, messages = joined_rawsocket(urls[1])
    except BaseException:
        proc.kill()
        raise
    with sock:
        code, output = finish(proc, signal.SIGTERM)
        goodbye = next(messages)
    assert goodbye[2] == "wamp.close.system_shutdown"
    assert code in (0, -signal.SIGTERM)  # twistd ends by the signal it got, once shut down
    assert "shutting down: 1 connections" in output and "Server Shut Down." in output


def test_twistd_plugin_refuses_a_bad_configuration(tmp_path: Path) -> None:
    result = subprocess.run(
        [*TWISTD, "-n", "--pidfile=", "wamp-sansio", "--config", str(tmp_path / "missing.json")],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        cwd=tmp_path,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode != 0
    assert "missing.json" in result.stdout + result.stderr
