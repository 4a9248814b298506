"""The soak's parent side, shared by benchmarks/soak.py and tests/integration/test_soak.py.

:func:`run_soak` starts the router (a :class:`SoakRouter`: any of benchmarks/router.py's
router kinds, on fixed ports, killed with SIGKILL and started again on the same
ports), one client process per event loop (benchmarks/_soak_client.py, each with its
share of the roles), and then, until ``duration`` is over or ``restarts`` were made:

1. waits until the router has been up ``interval`` seconds *and* the system is
   whole again: every client has joined again since the last kill (callees have
   registered, subscribers subscribed), every caller and publisher has had ``served``
   requests succeed and every subscriber ``served`` events; a fail-safe
   ``restore_timeout`` bounds the wait (a restart that hits it is recorded as not
   restored);
2. kills the router (SIGKILL to its process group) and starts it again, waiting for
   it to accept connections.

The client processes' "start" measures are taken once the first restart is restored
(warm), the "end" ones after the last. Then callers and publishers stop, every client
reports, and :func:`summarize` turns the reports into one row of numbers and the
targets' verdicts.

Deliveries: an acknowledged publication is *expected* at a subscriber session that
was subscribed before the publication was sent, if it was acknowledged more than
``deliver_margin`` seconds before that session ended and before the router was next
killed (the router writes EVENT and PUBLISHED in one go; one killed between the two
writes may legitimately lose the EVENT); *received* counts those that arrived.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import queue
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# Appended, not prepended: a test process importing this module must not have the
# benchmarks' own module names (core, router, rpc, ...) shadow anything.
for _path in (str(HERE.parent), str(HERE)):  # tests.integration.*, _router_procs
    if _path not in sys.path:
        sys.path.append(_path)

from _router_procs import (
    STOP_TIMEOUT,
    RouterKind,
    RouterProcess,
    ours,
)
from _router_stats import rss_bytes

from tests.integration.crossbar_node import (
    _free_ports,
    _signal_group,
    _wait_group_gone,
)

CLIENT = str(HERE / "_soak_client.py")
REPORT_TIMEOUT = 60.0  # seconds for the clients to stop and report
JOIN_TIMEOUT = 60.0  # seconds for every client to join the first time

# 20 clients over three loops: 6 callers, 5 callees, 3 publishers, 6 subscribers.
FULL_ROLES: dict[str, list[str]] = {
    "asyncio": ["caller", "callee", "subscriber", "caller", "callee", "publisher", "subscriber"],
    "trio": ["callee", "caller", "subscriber", "caller", "callee", "publisher", "subscriber"],
    "twisted": ["caller", "callee", "subscriber", "caller", "publisher", "subscriber"],
}


def our_router(backend: str = "asyncio") -> RouterKind:
    """Our router served by ``backend`` (asyncio or trio), as a RouterKind."""
    return ours(backend)


class SoakRouter(RouterProcess):
    """A router process that can also be killed (SIGKILL, a crash) and started again
    on the same ports."""

    def __init__(self, kind: RouterKind, node_dir: Path) -> None:
        ws, rs = _free_ports(2)
        super().__init__(kind, node_dir, (ws, rs))

    def kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
        _wait_group_gone(proc.pid, STOP_TIMEOUT)

    def tracebacks(self) -> list[str]:
        """The tracebacks the router has logged (every incarnation), each with the
        lines that follow it."""
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return []
        parts = text.split("Traceback (most recent call last):")[1:]
        return ["Traceback" + "\n".join(part.splitlines()[:25]) for part in parts]


@dataclass
class SoakConfig:
    roles: dict[str, list[str]] = field(default_factory=lambda: dict(FULL_ROLES))
    duration: float = 600.0  # seconds of restarts (after the first join)
    restarts: int | None = None  # stop after this many restarts (None: duration only)
    interval: float = 5.0  # seconds the router runs at least between kills
    restore_timeout: float = 30.0  # fail-safe: seconds for the system to be whole again
    call_timeout: float = 3.0
    margin: float = 5.0  # a request is hung after call_timeout + margin
    call_pause: float = 0.02
    publish_pause: float = 0.1
    deliver_margin: float = 0.5
    served: int = 1  # answers/acks/events each client needs per session to be whole
    realm: str = "realm1"
    trace: bool = False  # the clients take tracemalloc snapshots (see _soak_client.py)


class ClientProcess:
    """One _soak_client.py process; its stdout lines go to the shared queue."""

    def __init__(
        self,
        loop: str,
        roles: list[str],
        router: SoakRouter,
        config: SoakConfig,
        events: queue.Queue[tuple[str, dict[str, Any]]],
        log_dir: Path,
    ) -> None:
        self.loop = loop
        self.names = [f"{loop}-{role}-{i}" for i, role in enumerate(roles)]
        self.roles = dict(zip(self.names, roles, strict=True))
        argv = [
            sys.executable, CLIENT, "--loop", loop, "--ws", router.url("ws"),
            "--rs", router.url("rs"), "--realm", config.realm, "--roles", ",".join(roles),
            "--call-timeout", str(config.call_timeout), "--margin", str(config.margin),
            "--call-pause", str(config.call_pause),
            "--publish-pause", str(config.publish_pause), "--served", str(config.served),
            "--deadline", str(config.duration + 10 * config.restore_timeout + 300),
            *(["--trace"] if config.trace else []),
        ]  # fmt: skip
        self.stderr_file = log_dir / f"client-{loop}.log"
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        with open(self.stderr_file, "ab") as stderr:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                env=env, text=True, bufsize=1,
            )  # fmt: skip
        self.report: dict[str, Any] | None = None
        self._reader = threading.Thread(target=self._read, args=(events,), daemon=True)
        self._reader.start()

    def _read(self, events: queue.Queue[tuple[str, dict[str, Any]]]) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if event.get("ev") == "report":
                    self.report = event
                events.put((self.loop, event))
        events.put((self.loop, {"ev": "exit"}))

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(REPORT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(5)

    def stderr_tail(self, lines: int = 20) -> str:
        text = self.stderr_file.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Restart:
    killed: float
    up: float
    ready: dict[str, float] = field(default_factory=dict)  # client -> when it was ready again
    restored: bool = False


@dataclass
class SoakResult:
    router: str
    config: SoakConfig
    restarts: list[Restart]
    reports: dict[str, dict[str, Any] | None]
    exit_codes: dict[str, int | None]
    roles: dict[str, str]  # client -> role
    router_rss: tuple[int, int]
    router_tracebacks: list[str]
    started: float
    stopped: float
    stderr_tails: dict[str, str]


class Monitor:
    """What the clients said so far: when each was last ready and first served."""

    def __init__(self, events: queue.Queue[tuple[str, dict[str, Any]]], roles: dict[str, str]):
        self.events = events
        self.roles = roles
        self.ready: dict[str, list[float]] = {name: [] for name in roles}
        self.served: dict[str, list[float]] = {name: [] for name in roles}
        self.replies: Counter[str] = Counter()  # "quiet", "marked", "exit" per process
        self.exited: set[str] = set()

    def pump(self, timeout: float) -> None:
        """Take what arrived, waiting up to ``timeout`` for the first item."""
        try:
            item = self.events.get(timeout=timeout)
        except queue.Empty:
            return
        while True:
            self._take(*item)
            try:
                item = self.events.get_nowait()
            except queue.Empty:
                return

    def _take(self, loop: str, event: dict[str, Any]) -> None:
        kind = event.get("ev")
        if kind == "ready":
            self.ready[event["client"]].append(event["t"])
        elif kind == "served":
            self.served[event["client"]].append(event["t"])
        elif kind in ("quiet", "marked", "snapped", "report"):
            self.replies[kind] += 1
        elif kind == "exit":
            self.exited.add(loop)

    def whole_since(self, since: float) -> bool:
        """Every client joined again since ``since``, and every caller, publisher and
        subscriber has been served since (an answer, an acknowledgement, an event)."""
        for name, role in self.roles.items():
            if not any(t > since for t in self.ready[name]):
                return False
            if role != "callee" and not any(t > since for t in self.served[name]):
                return False
        return True

    def wait(self, done: Callable[[], bool], timeout: float) -> bool:
        """Take events until ``done()`` or ``timeout`` seconds (a fail-safe)."""
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.pump(min(left, 0.5))
        return True


def run_soak(
    router: SoakRouter, config: SoakConfig, log_dir: Path, say: Callable[[str], None] = print
) -> SoakResult:
    """One soak run against ``router`` (not running yet); stops it at the end."""
    events: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
    restarts: list[Restart] = []
    router.start()
    first_up = time.monotonic()
    procs: list[ClientProcess] = []
    try:
        for loop, roles in config.roles.items():
            procs.append(ClientProcess(loop, roles, router, config, events, log_dir))
        roles = {name: role for p in procs for name, role in p.roles.items()}
        monitor = Monitor(events, roles)
        if not monitor.wait(lambda: monitor.whole_since(first_up), JOIN_TIMEOUT):
            raise RuntimeError(f"the clients did not all join within {JOIN_TIMEOUT:.0f} s: "
                               + "; ".join(p.stderr_tail(5) for p in procs))  # fmt: skip
        router_rss_start = rss_bytes(router.pid)
        started = time.monotonic()
        up = started
        mid_taken = False
        while _more(config, started, restarts):
            monitor.wait(lambda: False, max(0.0, up + config.interval - time.monotonic()))
            killed = time.monotonic()
            router.kill()
            router.start()
            up = time.monotonic()
            restart = Restart(killed, up)
            restart.restored = monitor.wait(
                functools.partial(monitor.whole_since, killed), config.restore_timeout
            )
            restart.ready = {
                name: min((t for t in times if t > killed), default=float("nan"))
                for name, times in monitor.ready.items()
            }
            restarts.append(restart)
            say(f"  restart {len(restarts)}: down {up - killed:.2f} s, "
                f"whole again after {time.monotonic() - up:.2f} s"
                + ("" if restart.restored else " -- NOT RESTORED"))  # fmt: skip
            if len(restarts) == 1:
                _all(procs, "mark")
                monitor.wait(lambda: monitor.replies["marked"] >= len(procs), REPORT_TIMEOUT)
            else:  # the clients' RSS after every restart: warm-up or steady growth?
                half = not mid_taken and _past_half(config, started, restarts)
                mid_taken = mid_taken or half
                wanted = monitor.replies["snapped"] + len(procs)
                _all(procs, "snap mid" if half else "snap")
                monitor.wait(functools.partial(_replied, monitor, wanted), REPORT_TIMEOUT)
        if not restarts:  # no restart asked for: measure now
            _all(procs, "mark")
            monitor.wait(lambda: monitor.replies["marked"] >= len(procs), REPORT_TIMEOUT)
        router_rss_end = rss_bytes(router.pid)
        _all(procs, "quiet")
        monitor.wait(lambda: monitor.replies["quiet"] >= len(procs), REPORT_TIMEOUT)
        stopped = time.monotonic()
        _all(procs, "stop")
        monitor.wait(lambda: len(monitor.exited) >= len(procs), REPORT_TIMEOUT)
    finally:
        for proc in procs:
            proc.close()
        router.stop()
    return SoakResult(
        router=router.name,
        config=config,
        restarts=restarts,
        reports={p.loop: p.report for p in procs},
        exit_codes={p.loop: p.proc.returncode for p in procs},
        roles=roles,
        router_rss=(router_rss_start, router_rss_end),
        router_tracebacks=router.tracebacks(),
        started=started,
        stopped=stopped,
        stderr_tails={p.loop: p.stderr_tail() for p in procs},
    )


def _more(config: SoakConfig, started: float, restarts: list[Restart]) -> bool:
    if config.restarts is not None:
        return len(restarts) < config.restarts
    return time.monotonic() - started < config.duration


def _replied(monitor: Monitor, snapped: int) -> bool:
    return monitor.replies["snapped"] >= snapped


def _past_half(config: SoakConfig, started: float, restarts: list[Restart]) -> bool:
    if config.restarts is not None:
        return 2 * len(restarts) >= config.restarts
    return 2 * (time.monotonic() - started) >= config.duration


def _all(procs: Iterable[ClientProcess], command: str) -> None:
    for proc in procs:
        proc.send(command)


# ---- the numbers


def summarize(result: SoakResult) -> dict[str, Any]:
    """One row: the counts, the measures and the targets' inputs."""
    clients = [c for r in result.reports.values() if r for c in r["clients"]]
    calls: Counter[str] = Counter()
    publishes: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    unclear: list[str] = []
    for client in clients:
        target = calls if client["role"] == "caller" else publishes
        target.update(client["ops"])
        for kind, n in client["failures"].items():
            failures[f"{client['role']}:{kind}"] += n
        unclear += client["unclear"]
    unhandled = sum(r["errors"] for r in result.reports.values() if r)
    unclear_count = sum(n for k, n in failures.items() if ":unclear:" in k)
    broken = [loop for loop, r in result.reports.items() if r is None]
    broken += [loop for loop, code in result.exit_codes.items() if code not in (0, None)]
    kills = [r.killed for r in result.restarts]
    margin = result.config.deliver_margin
    expected, received = _deliveries(clients, kills, result.stopped, margin)
    callees = [name for name, role in result.roles.items() if role == "callee"]
    # r.ready[name] is NaN for a client that did not join again before the fail-safe.
    reregister = [
        r.ready[name] - r.up
        for r in result.restarts
        for name in callees
        if not math.isnan(r.ready[name])
    ]
    restored = sum(
        1 for r in result.restarts if not any(math.isnan(r.ready[name]) for name in callees)
    )
    stats = {loop: (r or {}).get("stats", {}) for loop, r in result.reports.items()}
    rss_start = sum(s.get("mark", {}).get("rss", 0) for s in stats.values())
    rss_end = sum(s.get("end", {}).get("rss", 0) for s in stats.values())
    # The soak's own records (events received, publications) grow by design.
    records = sum(
        s.get("end", {}).get("records", 0) - s.get("mark", {}).get("records", 0)
        for s in stats.values()
    )
    return {
        "router": result.router,
        "clients": len(result.roles),
        "seconds": result.stopped - result.started,
        "restarts": len(result.restarts),
        "restored": sum(r.restored for r in result.restarts),
        "calls": calls["made"],
        "calls_ok": calls["ok"],
        "calls_wrong": calls["wrong"],
        "calls_failed": calls["made"] - calls["ok"] - calls["wrong"] - calls["hung"],
        "calls_hung": calls["hung"],
        "publishes": publishes["made"],
        "acked": publishes["ok"],
        "publishes_hung": publishes["hung"],
        "deliveries_expected": expected,
        "deliveries_received": received,
        "failures": dict(failures),
        "unclear": unclear[:5],
        "unhandled": unhandled + len(broken),
        "unhandled_texts": [t for r in result.reports.values() if r for t in r["error_texts"]][:5],
        "broken_processes": broken,
        "router_tracebacks": len(result.router_tracebacks),
        "router_traceback_texts": result.router_tracebacks[:3],
        "invocations": {c["name"]: c["invocations"] for c in clients if c["role"] == "callee"},
        "reconnects": sum(
            max(0, sum(a["ready"] is not None for a in c["attempts"]) - 1) for c in clients
        ),
        "reregister_median": statistics.median(reregister) if reregister else float("nan"),
        "reregister_max": max(reregister) if reregister else float("nan"),
        "registrations_restored": restored,
        "client_rss": (rss_start, rss_end),
        "client_records_growth": records,
        "client_rss_by_loop": {
            loop: (s.get("mark", {}).get("rss", 0), s.get("end", {}).get("rss", 0))
            for loop, s in stats.items()
        },
        "router_rss": result.router_rss,
        "client_rss_curve": _rss_curve(stats),
        "client_trace": {loop: s.get("trace", {}) for loop, s in stats.items()},
        "end": {loop: {k: s.get(k) for k in ("mark", "end", "after")} for loop, s in stats.items()},
        "stop_timed_out": [loop for loop, s in stats.items() if s.get("stop_timed_out")],
        "unclear_count": unclear_count,
    }


def _rss_curve(stats: dict[str, dict[str, Any]]) -> list[int]:
    """The clients' RSS summed over the processes: at the mark, after each later
    restart, at the end (a process with fewer snapshots stops the curve early)."""
    per_loop = [
        [s["mark"]["rss"], *(snap["rss"] for snap in s.get("snaps", [])), s["end"]["rss"]]
        for s in stats.values()
        if "mark" in s and "end" in s
    ]
    if not per_loop:
        return []
    return [sum(points) for points in zip(*per_loop, strict=False)]


def _deliveries(
    clients: list[dict[str, Any]], kills: list[float], stopped: float, margin: float
) -> tuple[int, int]:
    publishers = [c for c in clients if c["role"] == "publisher"]
    subscribers = [c for c in clients if c["role"] == "subscriber"]
    expected = received = 0
    for sub in subscribers:
        for attempt in sub["attempts"]:
            if attempt["ready"] is None:
                continue
            ended = attempt["ended"] if attempt["ended"] is not None else stopped
            ended = min([ended, *(k for k in kills if k > attempt["ready"])])
            for pub in publishers:
                got = set(attempt["received"].get(pub["name"], ()))
                for seq, sent, acked in pub["publications"]:
                    if attempt["ready"] < sent and acked + margin < ended:
                        expected += 1
                        received += seq in got
    return expected, received


def verdicts(row: dict[str, Any], *, growth_target: float = 0.10) -> dict[str, bool]:
    start, end = row["client_rss"]
    end -= row["client_records_growth"]
    out = {
        "0 hung": row["calls_hung"] == 0 and row["publishes_hung"] == 0,
        "0 unhandled exceptions in the clients": row["unhandled"] == 0
        and row["unclear_count"] == 0,
        "every registration restored": row["registrations_restored"] == row["restarts"],
        "every expected event received": row["deliveries_received"] == row["deliveries_expected"],
        f"client RSS growth < {growth_target:.0%} (less the soak's records)": bool(start)
        and end < start * (1 + growth_target),
    }
    if row["router"].startswith("ours"):  # Crossbar.io's own tracebacks are not ours to fix
        out["0 router tracebacks"] = row["router_tracebacks"] == 0
    return out
