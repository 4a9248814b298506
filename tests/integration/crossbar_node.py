"""A real Crossbar.io node on loopback, started and stopped by the tests.

The node runs from its own node directory (a fresh temporary directory with the
``config.json`` of :mod:`tests.crossbar.config`, the TLS files and the Unix
sockets) in its own process group, which :meth:`CrossbarNode.stop` kills as a
whole; an ``atexit`` hook stops every node still running, and on Linux the node's
controller also dies with the test process (``PR_SET_PDEATHSIG``), so no router
outlives the tests.

Crossbar itself comes from ``$WAMP_CROSSBAR`` (the nox ``tests`` session sets it to
the ``crossbar`` executable of its own virtualenv, ``.nox/crossbar``) or from
``PATH``; :func:`find_crossbar` returns None when there is neither.

URL forms (the adapters may parse them; the parts are attributes too):

* ``ws://127.0.0.1:PORT/ws``, ``wss://127.0.0.1:PORT/ws`` (TLS 1.3 only, as
  Crossbar 26 does it; the certificate names 127.0.0.1 and ``localhost`` and is
  issued by the CA in ``ca_file``; ``ssl_context()`` trusts it)
* ``rs://127.0.0.1:PORT``, ``rss://127.0.0.1:PORT``
* ``ws+unix:///abs/path/ws.sock:/ws`` (socket path, ``:``, HTTP resource: the
  form of the Node.js ``ws`` library), ``rs+unix:///abs/path/rs.sock``
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.crossbar.config import REALM, Endpoints, TlsFiles, prepare_node_dir, principals

__all__ = ["CrossbarNode", "NodeStartError", "find_crossbar", "make_authenticator"]

ENV_VAR = "WAMP_CROSSBAR"
START_TIMEOUT = 60.0  # seconds for the node to listen on every endpoint
STOP_TIMEOUT = 15.0  # seconds for a graceful stop before SIGKILL
WS_PATH = "/ws"
NOX_CROSSBAR = Path(__file__).resolve().parents[2] / ".nox" / "crossbar"

_live_nodes: weakref.WeakSet[CrossbarNode] = weakref.WeakSet()


class NodeStartError(RuntimeError):
    """The node did not come up (its log tail is in the message)."""


def find_crossbar() -> str | None:
    """The crossbar executable: ``$WAMP_CROSSBAR``, else the one ``nox -s crossbar``
    installed (``.nox/crossbar``), else ``crossbar`` on PATH, else None.

    A ``$WAMP_CROSSBAR`` that is set but not an executable file is an error (the
    nox session sets it; a wrong value must not silently skip the tests).
    """
    configured = os.environ.get(ENV_VAR)
    if configured:
        path = Path(configured)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise RuntimeError(f"${ENV_VAR}={configured!r} is not an executable file")
        return str(path)
    installed = NOX_CROSSBAR / ("Scripts/crossbar.exe" if os.name == "nt" else "bin/crossbar")
    if installed.is_file():
        return str(installed)
    return shutil.which("crossbar")


def _free_ports(count: int) -> list[int]:
    """Distinct loopback ports that are free now (all held open until all are chosen)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def _die_with_parent_command(argv: list[str]) -> list[str]:
    """On Linux, run ``argv`` through a tiny exec wrapper that asks the kernel to
    SIGKILL it when the test process dies (the setting survives ``exec``)."""
    if not sys.platform.startswith("linux"):
        return argv
    wrapper = (
        "import ctypes, os, signal, sys\n"
        "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)\n"  # PR_SET_PDEATHSIG
        f"if os.getppid() != {os.getpid()}: sys.exit(1)\n"  # parent already gone
        "os.execv(sys.argv[1], sys.argv[1:])\n"
    )
    return [sys.executable, "-c", wrapper, *argv]


class CrossbarNode:
    """One Crossbar.io node: its directory, endpoints, credentials and process.

    Created stopped; :meth:`start` runs it and returns once every endpoint accepts
    connections; :meth:`stop` ends the whole process group; :meth:`restart` does
    both on the same ports and paths; :meth:`close` stops and removes the directory.
    """

    realm = REALM
    ws_path = WS_PATH

    def __init__(self, executable: str, *, base_dir: Path | None = None):
        self.executable = executable
        # Short paths: a Unix socket path must stay under ~104 bytes.
        self.node_dir = Path(tempfile.mkdtemp(prefix="wamp-cb-", dir=base_dir))
        self.ws_socket = self.node_dir / "ws.sock"
        self.rs_socket = self.node_dir / "rs.sock"
        if len(str(self.ws_socket)) > 100:
            raise RuntimeError(f"Unix socket path too long: {self.ws_socket}")
        ws_port, rs_port, wss_port, rss_port = _free_ports(4)
        self.endpoints = Endpoints(
            ws_port=ws_port,
            rs_port=rs_port,
            wss_port=wss_port,
            rss_port=rss_port,
            ws_socket=self.ws_socket,
            rs_socket=self.rs_socket,
        )
        self.tls: TlsFiles = prepare_node_dir(self.node_dir, self.endpoints)
        self.log_file = self.node_dir / "node.log"
        self.host = "127.0.0.1"  # the server certificate names it and "localhost"
        e = self.endpoints
        self.ws_url = f"ws://{self.host}:{e.ws_port}{WS_PATH}"
        self.rs_url = f"rs://{self.host}:{e.rs_port}"
        self.wss_url = f"wss://{self.host}:{e.wss_port}{WS_PATH}"
        self.rss_url = f"rss://{self.host}:{e.rss_port}"
        self.ws_unix_url = f"ws+unix://{self.ws_socket}:{WS_PATH}"
        self.rs_unix_url = f"rs+unix://{self.rs_socket}"
        self.ca_file = self.tls.ca_file
        self.principals: Mapping[str, dict[str, Any]] = principals()
        self.wrong_principals: Mapping[str, dict[str, Any]] = principals(wrong=True)
        self._proc: subprocess.Popen[bytes] | None = None
        self._closed = False
        _live_nodes.add(self)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<CrossbarNode {state} {self.ws_url} {self.rs_url} dir={self.node_dir}>"

    # ---- what clients need

    @property
    def urls(self) -> dict[str, str]:
        """Every URL by name: ws, rs, wss, rss, ws_unix, rs_unix."""
        return {
            "ws": self.ws_url,
            "rs": self.rs_url,
            "wss": self.wss_url,
            "rss": self.rss_url,
            "ws_unix": self.ws_unix_url,
            "rs_unix": self.rs_unix_url,
        }

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts (only) this node's CA."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    # ---- process control

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the node (a no-op if it runs) and wait until every endpoint accepts."""
        if self._closed:
            raise RuntimeError("this node was closed")
        if self.running:
            return
        (self.node_dir / "node.pid").unlink(missing_ok=True)
        argv = [
            self.executable,
            "start",
            "--cbdir",
            str(self.node_dir),
            "--color",
            "false",
            "--loglevel",
            "info",
        ]
        with open(self.log_file, "ab") as log:
            log.write(f"\n==== starting at {time.strftime('%H:%M:%S')}\n".encode())
            log.flush()
            # Let Crossbar cache its bytecode (in its own venv): with
            # PYTHONDONTWRITEBYTECODE, as CI often sets it, every start takes twice as long.
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            self._proc = subprocess.Popen(
                _die_with_parent_command(argv),
                cwd=self.node_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as one
            )
        try:
            self._wait_listening(timeout)
        except BaseException:
            self.stop(kill=True)
            raise

    def stop(self, *, kill: bool = False, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the node and all its workers: SIGTERM (graceful), SIGKILL after
        ``timeout``; with ``kill``, SIGKILL at once (a crashed router)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        pgid = proc.pid  # the group leader (start_new_session)
        if proc.poll() is None and not kill:
            # To the controller only: it stops its workers in order (SIGTERM to the
            # whole group would drop every worker at once).
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout)
        _signal_group(pgid, signal.SIGKILL)
        proc.wait()
        _wait_group_gone(pgid, timeout)

    def restart(self, timeout: float = START_TIMEOUT) -> None:
        """Stop and start again on the same ports and socket paths."""
        self.stop()
        self.start(timeout)

    def close(self) -> None:
        """Stop and delete the node directory."""
        self.stop()
        self._closed = True
        _live_nodes.discard(self)
        shutil.rmtree(self.node_dir, ignore_errors=True)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # ---- inside

    def _probes(self) -> list[tuple[socket.AddressFamily, Any]]:
        e = self.endpoints
        ports = (e.ws_port, e.rs_port, e.wss_port, e.rss_port)
        probes: list[tuple[socket.AddressFamily, Any]] = [
            (socket.AF_INET, (self.host, port)) for port in ports
        ]
        probes += [(socket.AF_UNIX, str(path)) for path in (e.ws_socket, e.rs_socket)]
        return probes

    def _wait_listening(self, timeout: float) -> None:
        """Poll every endpoint until it accepts a connection (bounded by ``timeout``)."""
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        waiting = self._probes()
        while waiting:
            waiting = [probe for probe in waiting if not _accepts(*probe)]
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise NodeStartError(
                    f"Crossbar did not listen on {[addr for _, addr in waiting]} within "
                    f"{timeout:.0f} s; log tail ({self.log_file}):\n{self.log_tail()}"
                )
            try:  # the poll interval, and an early exit if the node dies
                code = self._proc.wait(0.05)
            except subprocess.TimeoutExpired:
                continue
            raise NodeStartError(
                f"Crossbar exited with code {code} while starting; log tail "
                f"({self.log_file}):\n{self.log_tail()}"
            )


def _accepts(family: socket.AddressFamily, address: Any) -> bool:
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(address)
        except OSError:
            return False
        return True


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _wait_group_gone(pgid: int, timeout: float) -> None:
    """Wait until no process of the group is left (workers are not our children)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return
        _signal_group(pgid, signal.SIGKILL)
        time.sleep(0.02)  # poll interval only (bounded by the deadline)
    raise RuntimeError(f"Crossbar process group {pgid} still alive after SIGKILL")


@atexit.register
def _stop_all() -> None:
    for node in list(_live_nodes):
        with contextlib.suppress(Exception):
            node.close()


def make_authenticator(principal: Mapping[str, Any]) -> Any:
    """Our client authenticator (``wamp_core.auth``) for one entry of ``node.principals``."""
    from wamp_core.auth import (
        AuthAnonymous,
        AuthCryptosign,
        AuthScram,
        AuthTicket,
        AuthWampCra,
        CryptosignKey,
    )

    method, authid = principal["authmethod"], principal["authid"]
    if method == "anonymous":
        return AuthAnonymous()
    if method == "ticket":
        return AuthTicket(authid, principal["ticket"])
    if method == "wampcra":
        return AuthWampCra(authid, principal["secret"])
    if method == "cryptosign":
        return AuthCryptosign(authid, key=CryptosignKey.from_hex(principal["private_seed_hex"]))
    if method == "scram":
        return AuthScram(authid, principal["password"])
    raise ValueError(f"unknown authmethod {method!r}")
