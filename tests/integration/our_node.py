"""Our router, run from the same node directory as a Crossbar.io node, by the tests.

:class:`OurRouterNode` is a :class:`~tests.integration.crossbar_node.CrossbarNode`
in everything a test sees (URLs, TLS files, realm, principals, start/stop/restart,
log_tail, close): the node directory is made by the same ``prepare_node_dir`` (the
same ``config.json`` with two realms and every authentication method, the same TLS
files), and only the process differs:

* ``asyncio`` and ``trio``: ``python -m wamp_anyio serve --config DIR/config.json
  --backend asyncio|trio``
* ``twisted``: ``python -m wamp_twisted serve --config DIR/config.json``

:meth:`start` returns once the router has printed one ``listening on`` line per
listener of the file (it prints them once every listener is bound). The process
has its own process group and, on Linux, dies with the test process; ``stop()``
sends SIGTERM (the router says GOODBYE ``wamp.close.system_shutdown`` to every
session and exits), ``stop(kill=True)`` SIGKILL (a crash).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import wamp_anyio
from tests.integration.crossbar_node import (
    START_TIMEOUT,
    STOP_TIMEOUT,
    CrossbarNode,
    NodeStartError,
    _die_with_parent_command,
    _signal_group,
)

__all__ = ["BACKENDS", "OurRouterNode", "backend_available", "router_name"]

BACKENDS = ("asyncio", "trio", "twisted")
LISTENING = "listening on "
# The folder our packages are imported from in this test process (the checkout, or a
# virtualenv's site-packages with the compiled wheel): the router runs the same code.
CODE_ROOT = Path(wamp_anyio.__file__).resolve().parents[1]


def backend_available(backend: str) -> bool:
    """Whether this checkout can serve the router on ``backend`` from the command line."""
    if backend == "twisted":
        return importlib.util.find_spec("wamp_twisted.__main__") is not None
    return backend == "asyncio" or importlib.util.find_spec("trio") is not None


class OurRouterNode(CrossbarNode):
    """Our router on the node directory a Crossbar.io node would use."""

    def __init__(self, backend: str, *, base_dir: Path | None = None):
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}")
        super().__init__(sys.executable, base_dir=base_dir)
        self.backend = backend
        config = json.loads((self.node_dir / "config.json").read_text())
        self._listeners = sum(len(w["transports"]) for w in config["workers"])
        self._log_offset = 0

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<OurRouterNode {self.backend} {state} {self.ws_url} dir={self.node_dir}>"

    def argv(self) -> list[str]:
        config = str(self.node_dir / "config.json")
        if self.backend == "twisted":
            return [self.executable, "-m", "wamp_twisted", "serve", "--config", config]
        module = ["-m", "wamp_anyio", "serve", "--config", config]
        return [self.executable, *module, "--backend", self.backend]

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the router (a no-op if it runs) and wait for its ``listening on`` lines."""
        if self._closed:
            raise RuntimeError("this node was closed")
        if self.running:
            return
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CODE_ROOT), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        with open(self.log_file, "ab") as log:
            log.write(f"\n==== starting at {time.strftime('%H:%M:%S')}\n".encode())
            log.flush()
            self._log_offset = log.tell()
            self._proc = subprocess.Popen(
                _die_with_parent_command(self.argv()),
                cwd=self.node_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_listening(timeout)
        except BaseException:
            self.stop(kill=True)
            raise

    def stop(self, *, kill: bool = False, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM (a graceful shutdown) and wait, SIGKILL after ``timeout``; with
        ``kill``, SIGKILL at once (a crashed router)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout)
        _signal_group(proc.pid, signal.SIGKILL)  # the group: nothing may stay behind
        proc.wait()

    def _listening_lines(self) -> list[str]:
        with open(self.log_file, "rb") as log:
            log.seek(self._log_offset)
            text = log.read().decode(errors="replace")
        return [line for line in text.splitlines() if line.startswith(LISTENING)]

    def _wait_listening(self, timeout: float) -> None:
        """Read the router's output until every listener has said where it listens."""
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while len(self._listening_lines()) < self._listeners:
            if time.monotonic() > deadline:
                raise NodeStartError(
                    f"our router ({self.backend}) did not listen within {timeout:.0f} s; log "
                    f"tail ({self.log_file}):\n{self.log_tail()}"
                )
            try:  # the poll interval, and an early exit if the router dies
                code = self._proc.wait(0.02)
            except subprocess.TimeoutExpired:
                continue
            raise NodeStartError(
                f"our router ({self.backend}) exited with code {code} while starting; log "
                f"tail ({self.log_file}):\n{self.log_tail()}"
            )


def router_name(node: CrossbarNode) -> str:
    """``crossbar`` or ``ours-<backend>``: which router a ``router`` fixture gave."""
    return f"ours-{node.backend}" if isinstance(node, OurRouterNode) else "crossbar"
