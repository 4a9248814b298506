"""The routers benchmarks/router.py measures, as processes.

* :func:`node_config`: the one Crossbar.io node configuration every router runs
  (realm1, anonymous with every permission, WebSocket at ``/ws`` and RawSocket on
  loopback ports of its own, json/msgpack/cbor);
* :class:`RouterProcess`: one router started in a fresh directory, in a process group
  of its own that dies with the benchmark (Linux: ``PR_SET_PDEATHSIG``), ready once
  its ports accept connections; ``pid`` is the process that routes (for Crossbar.io,
  its router worker, not the node controller).

The process handling is tests/integration/crossbar_node.py's (imported, not copied).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _router_stats import children, cmdline

from tests.integration.crossbar_node import (
    _accepts,
    _die_with_parent_command,
    _signal_group,
    _wait_group_gone,
)

REALM = "realm1"
START_TIMEOUT = 60.0  # seconds for a router to listen (Crossbar.io takes the longest)
STOP_TIMEOUT = 10.0
XCONN_LAUNCHER = Path(__file__).resolve().parent / "_router_xconn.py"


# ---- the configuration


def node_config(ws_port: int, rs_port: int) -> dict[str, Any]:
    """One router worker: realm1, anonymous may do everything; WebSocket and RawSocket."""
    auth = {"anonymous": {"type": "static", "role": "anonymous"}}
    serializers = ["json", "msgpack", "cbor"]
    endpoint: Callable[[int], dict[str, Any]] = lambda port: {  # noqa: E731
        "type": "tcp",
        "interface": "127.0.0.1",
        "port": port,
    }
    realm = {
        "name": REALM,
        "roles": [
            {
                "name": "anonymous",
                "permissions": [
                    {
                        "uri": "",
                        "match": "prefix",
                        "allow": {
                            "call": True,
                            "register": True,
                            "publish": True,
                            "subscribe": True,
                        },
                        "disclose": {"caller": False, "publisher": False},
                        "cache": True,
                    }
                ],
            }
        ],
    }
    return {
        "version": 2,
        "controller": {},
        "workers": [
            {
                "type": "router",
                "realms": [realm],
                "transports": [
                    {
                        "type": "web",
                        "endpoint": endpoint(ws_port),
                        "paths": {
                            "ws": {"type": "websocket", "serializers": serializers, "auth": auth}
                        },
                    },
                    {
                        "type": "rawsocket",
                        "endpoint": endpoint(rs_port),
                        "serializers": serializers,
                        "auth": auth,
                    },
                ],
            }
        ],
    }


# ---- the routers


@dataclass(frozen=True)
class RouterKind:
    """A router to measure: its row name and how it is started (``argv`` of the node
    directory, the config file and the ports); ``worker`` finds the routing process
    among the started one's children (Crossbar.io), else None: the started one."""

    name: str
    argv: Callable[[Path, Path, int, int], list[str]]
    transports: tuple[str, ...] = ("ws", "rs")
    worker: Callable[[int], int | None] | None = None


def ours(backend: str) -> RouterKind:
    def argv(node_dir: Path, config: Path, ws: int, rs: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "wamp_anyio",
            "serve",
            "--backend",
            backend,
            "--config",
            str(config),
            "--log-level",
            "warning",
        ]

    return RouterKind(f"ours/{backend}", argv)


def ours_twisted() -> RouterKind:
    def argv(node_dir: Path, config: Path, ws: int, rs: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "wamp_twisted",
            "serve",
            "--config",
            str(config),
            "--log-level",  # every adapter's serve takes it (wamp_core.router.command)
            "warning",
        ]

    return RouterKind("ours/twisted", argv)


def crossbar(executable: str) -> RouterKind:
    def argv(node_dir: Path, config: Path, ws: int, rs: int) -> list[str]:
        return [
            executable,
            "start",
            "--cbdir",
            str(node_dir),
            "--color",
            "false",
            "--loglevel",
            "warn",
        ]

    return RouterKind("crossbar", argv, worker=crossbar_worker)


def crossbar_worker(controller: int) -> int | None:
    """The node's router worker: the controller's child whose command line says so."""
    for pid in children(controller):
        with contextlib.suppress(OSError):
            if "router" in cmdline(pid).lower():
                return pid
    return None


def xconn() -> RouterKind:
    """xconn's Router behind its aiohttp Server: WebSocket only (see _router_xconn.py)."""

    def argv(node_dir: Path, config: Path, ws: int, rs: int) -> list[str]:
        return [sys.executable, str(XCONN_LAUNCHER), "--port", str(ws), "--realm", REALM]

    return RouterKind("xconn", argv, transports=("ws",))


class RouterProcess:
    """One router, started in ``node_dir`` (which holds its config.json)."""

    def __init__(self, kind: RouterKind, node_dir: Path, ports: tuple[int, int]) -> None:
        self.kind = kind
        self.node_dir = node_dir
        self.ws_port, self.rs_port = ports
        self.config = node_dir / "config.json"
        self.log_file = node_dir / "router.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.pid = 0
        node_dir.mkdir(parents=True, exist_ok=True)
        self.config.write_text(json.dumps(node_config(self.ws_port, self.rs_port), indent=2))

    @property
    def name(self) -> str:
        return self.kind.name

    def url(self, transport: str) -> str:
        if transport == "ws":
            return f"ws://127.0.0.1:{self.ws_port}/ws"
        return f"rs://127.0.0.1:{self.rs_port}"

    def start(self) -> None:
        """Start it and wait until every port it serves accepts a connection. The
        working directory is the node directory, so ``-m`` imports what is installed
        (the compiled wheel), not the checkout."""
        argv = self.kind.argv(self.node_dir, self.config, self.ws_port, self.rs_port)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        with open(self.log_file, "ab") as log:
            self.proc = subprocess.Popen(
                _die_with_parent_command(argv),
                cwd=self.node_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        ports = [self.ws_port, self.rs_port] if "rs" in self.kind.transports else [self.ws_port]
        try:
            self._wait_listening(ports)
            self.pid = self._routing_pid()
        except BaseException:
            self.stop()
            raise

    def _wait_listening(self, ports: list[int]) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        waiting = list(ports)
        while waiting:
            waiting = [
                port for port in waiting if not _accepts(socket.AF_INET, ("127.0.0.1", port))
            ]
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.name} did not listen within {START_TIMEOUT:.0f} s:\n{self.log_tail()}"
                )
            try:  # the poll interval, and an early exit if the router dies
                code = self.proc.wait(0.05)
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError(
                f"{self.name} exited with code {code} while starting:\n{self.log_tail()}"
            )

    def _routing_pid(self) -> int:
        assert self.proc is not None
        if self.kind.worker is None:
            return self.proc.pid
        pid = self.kind.worker(self.proc.pid)
        if pid is None:
            raise RuntimeError(
                f"{self.name}: no router worker among the children of {self.proc.pid}"
            )
        return pid

    def stop(self) -> None:
        """SIGTERM to the started process (Crossbar.io's controller stops its workers),
        SIGKILL to the whole group after STOP_TIMEOUT."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(STOP_TIMEOUT)
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
        _wait_group_gone(proc.pid, STOP_TIMEOUT)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])
