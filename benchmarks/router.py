"""Our router next to Crossbar.io (and xconn's), with the same clients: ours, compiled.

Routers (each in a process of its own, on loopback, all running the same Crossbar.io
node configuration, written into a temporary directory: realm1, anonymous with every
permission, WebSocket at ``/ws`` and RawSocket, json/msgpack/cbor; each on ports of
its own):

* ours served by asyncio and by trio (``python -m wamp_anyio serve --backend B
  --config F``) and by Twisted (``python -m wamp_twisted serve --config F``, when
  wamp_twisted has a ``__main__``; else the row says n/a), started outside the
  checkout so that they run the installed (compiled) wheel;
* Crossbar.io (``$WAMP_CROSSBAR`` or .nox/crossbar): its router worker is measured,
  not the node controller;
* wampproto/xconn's router (``xconn.Router`` behind ``xconn.Server``,
  benchmarks/_router_xconn.py) if the ``xconn`` package is installed: it has no
  configuration file and serves WebSocket only, so it has no row with
  ``--transport rs``.

Clients: ours, the same against every router, msgpack, over ``--transport``
(WebSocket by default, the one transport every router serves), all sessions of one
measure in one process:

* the RPC measures on wamp_twisted (``--rpc-client twisted``, the default;
  benchmarks/_router_twisted_peers.py): the callee is a plain function, which
  wamp_twisted runs in place, and the calls in flight are chains of Deferred
  callbacks, each answer issuing the next call. With one task per call in flight and
  one per invocation (wamp_anyio on asyncio, ``--rpc-client anyio``) the client
  process spent twice our router's CPU per call, so it, not the router, set the pace;
* the event and idle-session measures on wamp_anyio (asyncio;
  benchmarks/_router_peers.py).

Measures, in one run:

* RPC calls/s with ``--inflight`` (64) calls in flight in all: 1 caller + 1 callee,
  and 4 callers + 2 callees sharing a roundrobin registration;
* events delivered/s (every subscriber's events counted) from 1 publisher to 1, 10
  and 100 subscribers; the publisher keeps at most ``--window`` events out that have
  not reached every subscriber, so no queue grows and no subscriber is cut off;
* the router process's CPU time per routed call and per delivered event: the
  scheduler's count for all its threads (``/proc/PID/task/*/schedstat``, in ns; else
  utime + stime of ``/proc/PID/stat``, in clock ticks), read by the client process
  at the edges of its measured window;
* router memory per idle session: VmRSS of the router after ``--sessions`` (1,000)
  sessions joined and stay idle, minus VmRSS before them (after 20 sessions joined
  and left, so the first connection's one-off costs are not counted), divided by the
  number of sessions. The router's garbage collector cannot be run from outside:
  the figure is what the process holds once every WELCOME has arrived.

Pinning (``--pin``, the default on Linux with two CPUs or more): the clients get the
last CPU, the routers (and this process) the others, so a router's CPU time is its
own and the clients never take its CPU. Each measure runs ``--rounds`` times, the
routers in turn within a round; throughput is the best round's, CPU per operation the
lowest round's. The client CPU column says how busy the client process was: near
100% the clients, not the router, set the throughput (the router's CPU per operation
is then the figure to compare).

Targets (issue 13): calls/s and events/s >= 3x Crossbar.io's, router CPU per routed
call <= 1/3 of Crossbar.io's, memory per idle session below Crossbar.io's; each row
of ours says PASS or MISS. ``--quick`` is a short smoke run (1 round, few calls and
events, 100 idle sessions): its figures are not for comparing.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # for tests.integration.crossbar_node

from _router_procs import RouterKind, RouterProcess, crossbar, ours, ours_twisted, xconn
from _router_stats import rss_bytes
from _variant import wamp_core_build
from rpc import PeerFailed, last_json, pin_cpus, spawn_measured, stop, wait_ready

from tests.integration.crossbar_node import _free_ports, find_crossbar

PEERS = str(HERE / "_router_peers.py")
RPC_CLIENTS = {
    "twisted": "wamp_twisted, Deferred callbacks",
    "anyio": "wamp_anyio on asyncio, a task per call",
}
RPC_PEERS = {"twisted": str(HERE / "_router_twisted_peers.py"), "anyio": PEERS}
REFERENCE = "crossbar"
THROUGHPUT_TARGET = 3.0  # ours >= 3x Crossbar.io's calls/s and events/s
CPU_TARGET = 1 / 3  # ours <= 1/3 of Crossbar.io's router CPU per routed call


@dataclass(frozen=True)
class Measure:
    """One column: a client process's script, role and arguments."""

    key: str
    script: str
    role: str
    args: tuple[str, ...]


def measures(opts: argparse.Namespace) -> tuple[list[Measure], list[Measure]]:
    rpc = [
        Measure(
            f"{callers}+{callees}",
            RPC_PEERS[opts.rpc_client],
            "rpc",
            (
                f"--callers={callers}",
                f"--callees={callees}",
                f"--inflight={opts.inflight}",
                f"--calls={opts.calls}",
                f"--warmup={max(opts.calls // 10, opts.inflight)}",
            ),
        )
        for callers, callees in ((1, 1), (4, 2))
    ]
    events = []
    for fanout in (1, 10, 100):
        count = max(opts.deliveries // fanout, 2 * opts.window)
        events.append(
            Measure(
                f"1->{fanout}",
                PEERS,
                "events",
                (
                    f"--subscribers={fanout}",
                    f"--events={count}",
                    f"--warmup={max(count // 10, opts.window)}",
                    f"--window={opts.window}",
                ),
            )
        )
    return rpc, events


# ---- routers


def router_kinds(opts: argparse.Namespace) -> tuple[list[RouterKind], dict[str, str]]:
    """The routers to start, and why the others are not measured (row name -> reason)."""
    kinds = [ours("asyncio"), ours("trio")]
    absent: dict[str, str] = {}
    if twisted_serves():
        kinds.append(ours_twisted())
    else:
        absent["ours/twisted"] = "n/a: no wamp_twisted.__main__ yet (python -m wamp_twisted serve)"
    executable = find_crossbar()
    if executable is None:
        absent[REFERENCE] = "n/a: Crossbar.io not found ($WAMP_CROSSBAR, .nox/crossbar, PATH)"
    else:
        kinds.append(crossbar(executable))
    if importlib.util.find_spec("xconn") is None:
        absent["xconn"] = "n/a: the xconn package is not installed (pip install xconn)"
    elif opts.transport not in xconn().transports:
        absent["xconn"] = "n/a: xconn.Server serves WebSocket only (aiohttp, /ws): no RawSocket"
    else:
        kinds.append(xconn())
    return kinds, absent


def twisted_serves() -> bool:
    """Whether the installed wamp_twisted has a ``__main__`` (asked outside the checkout)."""
    probe = "import importlib.util as u, sys; sys.exit(not u.find_spec('wamp_twisted.__main__'))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=tempfile.gettempdir(), check=False)
    return done.returncode == 0


def start_routers(
    kinds: list[RouterKind], base: Path, absent: dict[str, str]
) -> list[RouterProcess]:
    running = []
    for kind in kinds:
        ports = _free_ports(2)
        router = RouterProcess(kind, base / kind.name.replace("/", "-"), (ports[0], ports[1]))
        try:
            router.start()
        except RuntimeError as error:
            absent[kind.name] = f"did not start: {error}"
            continue
        running.append(router)
    return running


# ---- client processes


def run_peer(router: RouterProcess, measure: Measure, opts: argparse.Namespace) -> dict[str, Any]:
    argv = [
        sys.executable,
        measure.script,
        measure.role,
        router.url(opts.transport),
        f"--router-pid={router.pid}",
        *measure.args,
        f"--deadline={opts.timeout}",
    ]
    what = f"{measure.role} {measure.key} against {router.name}"
    proc = spawn_measured(argv, opts)
    try:
        stdout, stderr = proc.communicate(timeout=opts.timeout + 5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise PeerFailed(f"{what}: no answer within {opts.timeout + 5:.0f} s") from None
    result: dict[str, Any] = last_json(stdout, stderr, what)
    if "error" in result:
        raise PeerFailed(result["error"])
    if proc.returncode != 0:
        raise PeerFailed(f"{what} exited with {proc.returncode}: {stderr[-1000:]}")
    return result


def idle_memory(router: RouterProcess, opts: argparse.Namespace) -> float:
    """Bytes of router RSS per idle joined session."""
    argv = [
        sys.executable,
        PEERS,
        "idle",
        router.url(opts.transport),
        f"--sessions={opts.sessions}",
        f"--deadline={opts.timeout}",
    ]
    what = f"{opts.sessions} idle sessions on {router.name}"
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    if opts.client_cpu is not None:
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(proc.pid, {opts.client_cpu})
    try:
        wait_ready(proc, f"{what} (warm-up)", opts.timeout)
        before = rss_bytes(router.pid)
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        wait_ready(proc, what, opts.timeout)
        after = rss_bytes(router.pid)
    finally:
        stop(proc)
    sessions: int = opts.sessions
    return (after - before) / sessions


# ---- figures

Runs = dict[str, dict[str, list[dict[str, Any]]]]  # measure key -> router -> runs


def best(runs: list[dict[str, Any]]) -> dict[str, float] | None:
    """Rate: the best round's; CPU per operation: the lowest round's; the busy shares
    of the round with the best rate."""
    if not runs:
        return None
    top = max(runs, key=lambda run: run["ops"] / run["wall"])
    return {
        "rate": top["ops"] / top["wall"],
        "cpu_us": min(run["router_cpu"] / run["ops"] for run in runs) * 1e6,
        "client_busy": top["client_cpu"] / top["wall"],
        "router_busy": top["router_cpu"] / top["wall"],
    }


def ratio(value: float | None, reference: float | None) -> float | None:
    return None if value is None or not reference else value / reference


def cell(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def verdict(name: str, ratios: list[float | None], passes: Callable[[float], bool]) -> str:
    if not name.startswith("ours/"):
        return "(reference)" if name == REFERENCE else "—"
    if any(r is None for r in ratios):
        return "MISS (no figure)"
    return "PASS" if all(passes(r) for r in ratios if r is not None) else "MISS"


def table(
    title: str,
    names: list[str],
    figures: dict[str, dict[str, float | None]],
    spec: str,
    target: str,
    passes: Callable[[float], bool] | None,
) -> list[str]:
    """Rows: routers; per column the figure and its ratio to Crossbar.io's."""
    columns = list(next(iter(figures.values())))
    head = " | ".join(f"{c} | /{REFERENCE}" for c in columns)
    lines = [f"\n{title}\n", f"| router | {head} | {target} |"]
    lines.append("|---|" + "---:|" * (2 * len(columns) + 1))
    reference = figures.get(REFERENCE, {})
    for name in names:
        row = figures[name]
        ratios = [ratio(row[c], reference.get(c)) for c in columns]
        pairs = zip(columns, ratios, strict=True)
        cells = [f"{cell(row[c], spec)} | {cell(r, '.2f')}" for c, r in pairs]
        mark = verdict(name, ratios, passes) if passes else "—"
        lines.append(f"| {name} | {' | '.join(cells)} | {mark} |")
    return lines


def plain_table(
    title: str, names: list[str], figures: dict[str, dict[str, float | None]], spec: str
) -> list[str]:
    columns = list(next(iter(figures.values())))
    lines = [f"\n{title}\n", f"| router | {' | '.join(columns)} |"]
    lines.append("|---|" + "---:|" * len(columns))
    for name in names:
        lines.append(f"| {name} | {' | '.join(cell(figures[name][c], spec) for c in columns)} |")
    return lines


def report(
    names: list[str],
    absent: dict[str, str],
    measured: tuple[list[Measure], list[Measure]],
    runs: Runs,
    memory: dict[str, float],
    opts: argparse.Namespace,
) -> list[str]:
    """The tables: one per measure, then how busy clients and routers were."""
    rpc, events = measured
    bests = {(m.key, n): best(runs.get(m.key, {}).get(n, [])) for m in rpc + events for n in names}

    def pick(ms: list[Measure], field: str, scale: float = 1.0) -> dict[str, dict[str, Any]]:
        return {
            n: {m.key: (b[field] * scale if (b := bests[m.key, n]) else None) for m in ms}
            for n in names
        }

    at_least, at_most = f"target >= {THROUGHPUT_TARGET:g}x", "target <= 1/3x"
    out = table(
        f"RPC calls/s, {opts.inflight} in flight (callers+callees)",
        names, pick(rpc, "rate"), ",.0f", at_least, lambda r: r >= THROUGHPUT_TARGET,
    )  # fmt: skip
    out += table(
        "Events delivered/s (publisher->subscribers)",
        names, pick(events, "rate"), ",.0f", at_least, lambda r: r >= THROUGHPUT_TARGET,
    )  # fmt: skip
    out += table(
        "Router CPU µs per routed call",
        names, pick(rpc, "cpu_us"), ".1f", at_most, lambda r: r <= CPU_TARGET,
    )  # fmt: skip
    out += table(
        "Router CPU µs per delivered event",
        names, pick(events, "cpu_us"), ".2f", "(no target)", None,
    )  # fmt: skip
    kib = {n: {"KiB/session": memory[n] / 1024 if n in memory else None} for n in names}
    out += table(
        f"Router memory per idle session ({opts.sessions} joined, RSS delta)",
        names, kib, ".1f", "target < 1x", lambda r: r < 1.0,
    )  # fmt: skip
    out += plain_table(
        "CPU busy % of the client process, best round (near 100: the clients set the pace)",
        names, pick(rpc + events, "client_busy", 100), ".0f",
    )  # fmt: skip
    out += plain_table(
        "CPU busy % of the router process, same rounds",
        names, pick(rpc + events, "router_busy", 100), ".0f",
    )  # fmt: skip
    failures = [(key, n, error) for (key, n), error in opts.failures.items() if n in names]
    if absent or failures:
        out.append("\nNot measured:\n")
        out += [f"- {name}: {reason}" for name, reason in absent.items()]
        out += [f"- {name}, {key}: {error}" for key, name, error in failures]
    return out


# ---- the run


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--transport", choices=["ws", "rs"], default="ws")
    parser.add_argument("--inflight", type=int, default=64)
    parser.add_argument(
        "--rpc-client",
        choices=sorted(RPC_PEERS),
        default="twisted",
        help="our client the RPC measures run on (events and idle sessions: wamp_anyio)",
    )
    parser.add_argument("--calls", type=int, default=20000, help="measured calls per round")
    parser.add_argument(
        "--deliveries", type=int, default=40000, help="measured event deliveries per round"
    )
    parser.add_argument("--window", type=int, default=256, help="events not yet everywhere")
    parser.add_argument("--sessions", type=int, default=1000, help="idle sessions")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", action="append", help="run only routers containing this")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--timeout", type=float, default=120.0, help="per client process, s")
    parser.add_argument(
        "--pin",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="routers on one CPU, clients on another (Linux, >= 2 CPUs)",
    )
    opts = parser.parse_args()
    if opts.quick:
        opts.calls, opts.deliveries, opts.sessions, opts.rounds = 2000, 4000, 100, 1
    opts.failures = {}
    return opts


def main() -> None:
    opts = parse_args()
    pinning = pin_cpus(opts)
    rpc, events = measures(opts)
    kinds, absent = router_kinds(opts)
    if opts.only:
        kinds = [k for k in kinds if any(part in k.name for part in opts.only)]
    print(
        f"router benchmark: clients ours, msgpack, over {opts.transport} (RPC: "
        f"{RPC_CLIENTS[opts.rpc_client]}; events, idle sessions: wamp_anyio on asyncio); "
        f"{opts.calls} calls and {opts.deliveries} event deliveries per round, best of "
        f"{opts.rounds}; {opts.sessions} idle sessions; {os.cpu_count()} CPUs, "
        f"{pinning.replace('client', 'clients')} (routers there)",
        flush=True,
    )
    print(wamp_core_build(), flush=True)
    started = time.monotonic()
    runs: Runs = {}
    memory: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="wamp-router-bench-") as tmp:
        routers = start_routers(kinds, Path(tmp), absent)
        try:
            for router in routers:
                try:
                    memory[router.name] = idle_memory(router, opts)
                except PeerFailed as error:
                    opts.failures[("memory", router.name)] = str(error)
            for _ in range(opts.rounds):
                for measure in rpc + events:
                    for router in routers:
                        if (measure.key, router.name) in opts.failures:
                            continue  # it failed once: it will again
                        try:
                            result = run_peer(router, measure, opts)
                        except PeerFailed as error:
                            opts.failures[(measure.key, router.name)] = str(error)
                            continue
                        runs.setdefault(measure.key, {}).setdefault(router.name, []).append(result)
        finally:
            for router in routers:
                router.stop()
    names = [k.name for k in kinds] + [n for n in absent if n not in {k.name for k in kinds}]
    order = ["ours/asyncio", "ours/trio", "ours/twisted", REFERENCE, "xconn"]
    names.sort(key=lambda n: order.index(n) if n in order else len(order))
    print("\n".join(report(names, absent, (rpc, events), runs, memory, opts)))
    print(f"\n(run took {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
