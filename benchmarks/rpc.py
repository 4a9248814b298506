"""RPC and PubSub through a real Crossbar.io router: our caller next to Autobahn and the floor.

In one run, on one router (Crossbar.io on loopback, realm1, msgpack everywhere):

* RPC: a callee process registers ``com.bench.echo`` over RawSocket (the bare floor
  by default: the cheapest, so it takes the least of the shared CPUs; ``--callee``
  picks ours or Autobahn; the same callee serves every caller). Each caller variant
  runs in a process of its own, connects, warms up, then makes N sequential calls
  and N calls with 64 in flight (64 tasks calling in a loop), and reports wall time
  and its own CPU time (``time.process_time()``).
* PubSub: each subscriber variant runs in a process of its own; a publisher process
  (the bare RawSocket floor, acknowledging every ``--ack-every``-th PUBLISH with at
  most ``--window`` acknowledgements outstanding, so it never floods the router)
  publishes warm-up + E events; the subscriber times the last E and checks that
  every event came, in order (a lost or reordered event is reported, not hidden).
  Each measured window (RPC phase, events after the warm-up) starts with a
  ``gc.collect()``: otherwise the first full collection of the start-up garbage
  lands in it for some variants and not others, adding up to a third to a figure.
  The events table also gives events per wakeup (voluntary context switches): the
  router's batching, which sets how much of the CPU per event is loop overhead.

Variants: ours (wamp_anyio) under asyncio and under trio, over WebSocket and over
RawSocket; Autobahn|Python on asyncio over both; the floor over both: a bare asyncio
protocol with no validation and no abstraction (wsproto for WebSocket, a
length-prefixed frame loop for RawSocket; benchmarks/_rpc_floor.py), the least a
Python client spends on the same bytes. It writes every message with its own
``transport.write`` (one ``send``), the plain way, which reproduces the issue's
calibration (floor vs Autobahn-asyncio CPU); ``--floor-writes burst`` makes it send
what one loop iteration wrote in one ``send`` while requests are in flight (about
half its CPU per call with 64 in flight: a stricter floor). The router,
the callee and the publisher live in other processes, so the CPU figures are the
measured client's alone. Every variant runs ``--rounds`` times, round-robin; each
figure is the best round.

Twisted rows (benchmarks/_rpc_twisted.py, on the default reactor, epoll on Linux):
ours (wamp_twisted's ApplicationRunner + ApplicationSession, Deferreds), Autobahn's
``autobahn.twisted.wamp`` and a bare Twisted floor (a ``Protocol`` with the same
framing and no validation), over both transports; their ratios are against the
Twisted floor of the transport (Twisted's transports buffer every ``write`` until the
reactor's next poll, so that floor needs no ``--floor-writes``).

Crossbar comes from ``$WAMP_CROSSBAR`` or ``crossbar`` on PATH. To see where a client
spends its CPU, run one by hand against a running router, e.g.
``python benchmarks/_rpc_peers.py caller ours-asyncio rs://127.0.0.1:PORT --skip-seq
--profile out.prof`` (a cProfile of the phase with calls in flight); the Twisted
ones the same way with ``benchmarks/_rpc_twisted.py caller ours-twisted ...``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # for tests.integration.crossbar_node

from _variant import wamp_core_build

from tests.integration.crossbar_node import CrossbarNode, find_crossbar

PEERS = str(HERE / "_rpc_peers.py")
TWISTED_PEERS = str(HERE / "_rpc_twisted.py")  # the impls whose name ends in -twisted

# (row name, _rpc_peers implementation, transport)
VARIANTS = [
    ("floor/asyncio/ws", "floor", "ws"),
    ("floor/asyncio/rs", "floor", "rs"),
    ("ours/asyncio/ws", "ours-asyncio", "ws"),
    ("ours/asyncio/rs", "ours-asyncio", "rs"),
    ("ours/trio/ws", "ours-trio", "ws"),
    ("ours/trio/rs", "ours-trio", "rs"),
    ("autobahn/asyncio/ws", "autobahn", "ws"),
    ("autobahn/asyncio/rs", "autobahn", "rs"),
    ("floor/twisted/ws", "floor-twisted", "ws"),
    ("floor/twisted/rs", "floor-twisted", "rs"),
    ("ours/twisted/ws", "ours-twisted", "ws"),
    ("ours/twisted/rs", "ours-twisted", "rs"),
    ("autobahn/twisted/ws", "autobahn-twisted", "ws"),
    ("autobahn/twisted/rs", "autobahn-twisted", "rs"),
]
# Targets with 64 in flight: CPU per call and per event <= this times the floor
# of the same transport and event loop (Twisted rows against the Twisted floor).
TARGETS = {"ours/asyncio": 1.3, "ours/trio": 1.6, "ours/twisted": 1.3}
# ... and below Autobahn's on the same loop and transport.
BELOW = {"ours/twisted": "autobahn/twisted"}


class PeerFailed(RuntimeError):
    pass


def peer_argv(
    role: str, impl: str, url: str, opts: argparse.Namespace, deadline: float | None = None
) -> list[str]:
    measured = role in ("caller", "subscriber")
    return [
        sys.executable,
        TWISTED_PEERS if impl.endswith("-twisted") else PEERS,
        role,
        impl,
        url,
        f"--calls={opts.calls}",
        f"--inflight={opts.inflight}",
        f"--events={opts.events}",
        f"--warmup={opts.warmup}",
        f"--ack-every={opts.ack_every}",
        f"--window={opts.window}",
        f"--floor-writes={opts.floor_writes if measured else 'burst'}",
        f"--deadline={deadline or opts.timeout}",
    ]


def last_json(stdout: str, stderr: str, what: str) -> Any:
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        raise PeerFailed(f"{what} printed nothing; stderr:\n{stderr[-2000:]}")
    try:
        return json.loads(lines[-1])
    except ValueError:
        raise PeerFailed(f"{what} printed {lines[-1]!r}; stderr:\n{stderr[-2000:]}") from None


def wait_ready(proc: subprocess.Popen[str], what: str, timeout: float) -> None:
    """Read ``proc``'s stdout until it prints ``"ready"`` (bounded by ``timeout``)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        readable, _, _ = select.select([proc.stdout], [], [], max(0.0, left))
        if not readable:
            raise PeerFailed(f"{what} not ready within {timeout:.0f} s")
        line = proc.stdout.readline()
        if not line:
            stderr = proc.stderr.read() if proc.stderr else ""
            raise PeerFailed(f"{what} exited before it was ready; stderr:\n{stderr[-2000:]}")
        if line.strip() == '"ready"':
            return


def stop(proc: subprocess.Popen[str]) -> None:
    """End a helper process: close its stdin (it exits), else kill it."""
    with contextlib.suppress(OSError):
        if proc.stdin is not None:
            proc.stdin.close()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_callee(node: CrossbarNode, opts: argparse.Namespace) -> subprocess.Popen[str]:
    # It lives as long as the whole run: closing its stdin ends it.
    argv = peer_argv("callee", opts.callee, node.rs_url, opts, deadline=3600)
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_ready(proc, f"callee ({opts.callee})", 30)
    except BaseException:
        stop(proc)
        raise
    return proc


def pin_cpus(opts: argparse.Namespace) -> str:
    """With ``--pin`` (the default where the OS allows it and there are two CPUs or
    more): the measured client gets the last CPU to itself; this process and all it
    starts otherwise (router, callee, publisher) share the others. Without it each
    round's figure moved by up to 50% here, as the router's work landed on the
    client's CPU or not."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_setaffinity") else []
    if not opts.pin or len(cpus) < 2:
        opts.client_cpu = None
        return "not pinned"
    opts.client_cpu = cpus[-1]
    os.sched_setaffinity(0, cpus[:-1])
    return f"client pinned to CPU {cpus[-1]}, the rest to {cpus[:-1]}"


def spawn_measured(argv: list[str], opts: argparse.Namespace) -> subprocess.Popen[str]:
    """A measured client's process, moved to its CPU at once (long before it measures)."""
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if opts.client_cpu is not None:
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(proc.pid, {opts.client_cpu})
    return proc


def run_caller(impl: str, url: str, opts: argparse.Namespace) -> dict[str, list[float]]:
    what = f"caller {impl} {url}"
    proc = spawn_measured(peer_argv("caller", impl, url, opts), opts)
    try:
        stdout, stderr = proc.communicate(timeout=opts.timeout + 5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise PeerFailed(f"{what} did not finish within {opts.timeout + 5:.0f} s") from None
    done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    result: dict[str, list[float]] = last_json(done.stdout, done.stderr, what)
    if done.returncode != 0 or "inflight" not in result:
        raise PeerFailed(f"{what} exited with {done.returncode}; stderr:\n{done.stderr[-2000:]}")
    return result


def run_subscriber(
    impl: str, url: str, publish_url: str, opts: argparse.Namespace
) -> dict[str, Any]:
    what = f"subscriber {impl} {url}"
    sub = spawn_measured(peer_argv("subscriber", impl, url, opts), opts)
    try:
        wait_ready(sub, what, 30)
        pub = subprocess.run(
            peer_argv("publisher", "floor", publish_url, opts),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
            text=True,
            timeout=opts.timeout + 5,
        )
        published = last_json(pub.stdout, pub.stderr, "publisher")
        stdout, stderr = sub.communicate(timeout=opts.timeout + 5)
    except subprocess.TimeoutExpired:
        raise PeerFailed(f"{what}: timeout") from None
    finally:
        if sub.poll() is None:
            sub.kill()
            sub.wait()
    result: dict[str, Any] = last_json(stdout, stderr, what)
    result["published"] = published.get("published", 0)
    return result


# ---- figures


def best_rpc(runs: list[dict[str, list[float]]], phase: str) -> tuple[float, float] | None:
    """(calls/s, CPU µs per call): the best of the rounds, each figure on its own."""
    if not runs:
        return None
    rate = max(run[phase][0] / run[phase][1] for run in runs)
    cpu = min(run[phase][2] / run[phase][0] * 1e6 for run in runs)
    return rate, cpu


def best_pubsub(runs: list[dict[str, Any]]) -> tuple[float, float, float] | None:
    """(events/s, CPU µs per event, events per wakeup of the round with that CPU figure)."""
    complete = [run for run in runs if run["wall"] is not None]
    if not complete:
        return None
    rate = max(run["events"] / run["wall"] for run in complete)
    thrifty = min(complete, key=lambda run: run["cpu"] / run["events"])
    wakeups = thrifty.get("wakeups") or 0
    per_wakeup = thrifty["events"] / wakeups if wakeups else 0.0
    return rate, thrifty["cpu"] / thrifty["events"] * 1e6, per_wakeup


def floor_of(name: str) -> str:
    """The floor row of a variant: the Twisted one for Twisted rows, else asyncio's."""
    _, loop, transport = name.split("/")
    return f"floor/{'twisted' if loop == 'twisted' else 'asyncio'}/{transport}"


def ordered(results: dict[str, Any]) -> list[str]:
    """The variants that ran (failed ones too), in table order."""
    return [name for name, _, _ in VARIANTS if name in results]


def ratio(value: float | None, floor: float | None) -> str:
    return "—" if value is None or not floor else f"{value / floor:.2f}x"


def figure(value: float | None, spec: str) -> str:
    return "failed" if value is None else format(value, spec)


def rpc_table(results: dict[str, list[dict[str, list[float]]]], inflight: int) -> list[str]:
    seq = {name: best_rpc(runs, "seq") for name, runs in results.items()}
    par = {name: best_rpc(runs, "inflight") for name, runs in results.items()}
    n = inflight
    lines = [
        f"| variant | calls/s seq | CPU µs/call seq | calls/s {n} in flight | CPU µs/call {n} "
        f"| CPU/floor seq | CPU/floor {n} |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ordered(results):
        s, p = seq.get(name), par.get(name)
        fs, fp = seq.get(floor_of(name)), par.get(floor_of(name))
        lines.append(
            f"| {name} | {figure(s and s[0], ',.0f')} | {figure(s and s[1], '.1f')} "
            f"| {figure(p and p[0], ',.0f')} | {figure(p and p[1], '.1f')} "
            f"| {ratio(s and s[1], fs and fs[1])} | {ratio(p and p[1], fp and fp[1])} |"
        )
    return lines


def pubsub_table(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    best = {name: best_pubsub(runs) for name, runs in results.items()}
    lines = [
        "| variant | events/s | CPU µs/event | CPU/floor | events/wakeup | lost or out of order |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in ordered(results):
        b, f = best.get(name), best.get(floor_of(name))
        runs = results.get(name, [])
        lost = sum(run["expected"] - run["received"] for run in runs)
        gaps = sum(run["gaps"] for run in runs)
        trouble = f"{lost} lost, {gaps} gaps" if lost or gaps else "0"
        if not runs:
            trouble = "failed"
        lines.append(
            f"| {name} | {figure(b and b[0], ',.0f')} | {figure(b and b[1], '.1f')} "
            f"| {ratio(b and b[1], f and f[1])} | {figure(b and b[2], '.1f')} | {trouble} |"
        )
    return lines


def target_lines(
    rpc: dict[str, list[dict[str, list[float]]]],
    pubsub: dict[str, list[dict[str, Any]]],
    inflight: int,
) -> list[str]:
    par = {name: best_rpc(runs, "inflight") for name, runs in rpc.items()}
    ev = {name: best_pubsub(runs) for name, runs in pubsub.items()}
    measures = (
        (f"CPU/call, {inflight} in flight", par, rpc),
        ("CPU/event", ev, pubsub),
    )
    lines = []
    for prefix, limit in TARGETS.items():
        for transport in ("ws", "rs"):
            name = f"{prefix}/{transport}"
            for what, table, ran in measures:
                if name in ran:
                    lines.append(floor_verdict(name, what, table, limit))
                    if prefix in BELOW:
                        lines.append(
                            peer_verdict(name, what, table, f"{BELOW[prefix]}/{transport}")
                        )
    for loop in ("asyncio", "twisted"):
        for transport in ("ws", "rs"):
            floor, ab = (
                par.get(f"floor/{loop}/{transport}"),
                par.get(f"autobahn/{loop}/{transport}"),
            )
            if floor and ab:
                lines.append(
                    f"- context: the {loop} {transport} floor spends {floor[1] / ab[1]:.2f}x "
                    f"Autobahn-{loop}'s CPU/call with {inflight} in flight"
                    + (CALIBRATION[transport] if loop == "asyncio" else "")
                )
    return lines or ["- (no variant of ours ran)"]


CALIBRATION = {"ws": " (the issue measured about 0.55x)", "rs": " (the issue measured about 0.35x)"}


def floor_verdict(name: str, what: str, table: dict[str, Any], limit: float) -> str:
    """``name``'s figure against its floor's, with PASS when within ``limit`` times."""
    floor_name = floor_of(name)
    mine, floor = table.get(name), table.get(floor_name)
    if mine is None or floor is None:
        return f"- {name} {what}: no figure (it or its floor failed or did not run) — MISS"
    value = mine[1] / floor[1]
    verdict = "PASS" if value <= limit else "MISS"
    return f"- {name} {what}: {value:.2f}x {floor_name} (target <= {limit}) — {verdict}"


def peer_verdict(name: str, what: str, table: dict[str, Any], peer: str) -> str:
    """``name``'s figure against a peer's, with PASS when below it."""
    mine, theirs = table.get(name), table.get(peer)
    if mine is None or theirs is None:
        return f"- {name} {what}: no figure for it or {peer} — MISS"
    verdict = "PASS" if mine[1] < theirs[1] else "MISS"
    return f"- {name} {what}: {mine[1] / theirs[1]:.2f}x {peer} (target < 1) — {verdict}"


# ---- the run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=3000, help="calls per phase (N)")
    parser.add_argument("--events", type=int, default=20000, help="measured events (E)")
    parser.add_argument("--inflight", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ack-every", type=int, default=100)
    parser.add_argument("--window", type=int, default=4)
    parser.add_argument("--callee", choices=["floor", "ours-asyncio", "autobahn"], default="floor")
    parser.add_argument(
        "--floor-writes",
        choices=["burst", "each"],
        default="each",
        help="the floor's writes: one send per message (each, the plain way) or, with "
        "requests in flight, one per loop iteration (burst, a stricter floor)",
    )
    parser.add_argument("--only", action="append", help="run only variants containing this")
    parser.add_argument("--no-pubsub", action="store_true")
    parser.add_argument("--no-rpc", action="store_true")
    parser.add_argument("--timeout", type=float, default=90.0, help="per peer process, s")
    parser.add_argument(
        "--pin",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="give the measured client a CPU of its own (Linux, >= 2 CPUs)",
    )
    opts = parser.parse_args()
    pinning = pin_cpus(opts)

    executable = find_crossbar()
    if executable is None:
        sys.exit("rpc benchmark: Crossbar.io not found: set $WAMP_CROSSBAR or put crossbar on PATH")
    variants = [v for v in VARIANTS if not opts.only or any(part in v[0] for part in opts.only)]
    print(
        f"rpc benchmark: Crossbar.io on loopback, msgpack; N = {opts.calls} calls per phase "
        f"({opts.inflight} in flight in the second), E = {opts.events} events, after "
        f"{opts.warmup} warm-up; best of {opts.rounds} rounds; callee: {opts.callee} "
        f"over RawSocket; floor writes: {opts.floor_writes}; {os.cpu_count()} CPUs, {pinning}",
        flush=True,
    )
    print(wamp_core_build(), flush=True)
    started = time.monotonic()
    rpc: dict[str, list[dict[str, list[float]]]] = {}
    pubsub: dict[str, list[dict[str, Any]]] = {}
    node = CrossbarNode(executable)
    try:
        node.start()
        urls = {"ws": node.ws_url, "rs": node.rs_url}
        if not opts.no_rpc:
            callee = start_callee(node, opts)
            try:
                for _ in range(opts.rounds):
                    for name, impl, transport in variants:
                        runs = rpc.setdefault(name, [])
                        try:
                            runs.append(run_caller(impl, urls[transport], opts))
                        except PeerFailed as exc:
                            print(f"{name}: {exc}", file=sys.stderr, flush=True)
            finally:
                stop(callee)
        if not opts.no_pubsub:
            for _ in range(opts.rounds):
                for name, impl, transport in variants:
                    runs = pubsub.setdefault(name, [])
                    try:
                        runs.append(run_subscriber(impl, urls[transport], node.rs_url, opts))
                    except PeerFailed as exc:
                        print(f"{name}: {exc}", file=sys.stderr, flush=True)
    finally:
        node.close()

    reactors = sorted(
        {
            run["reactor"]
            for runs in [*rpc.values(), *pubsub.values()]
            for run in runs
            if "reactor" in run
        }
    )
    if reactors:
        print(f"\nTwisted rows ran on the default reactor: {', '.join(reactors)}")
    if rpc:
        print("\nRPC (`com.bench.echo`, one integer argument)\n")
        print("\n".join(rpc_table(rpc, opts.inflight)))
    if pubsub:
        print("\nPubSub (events `[seq, 21.5]`)\n")
        print("\n".join(pubsub_table(pubsub)))
    print("\nTargets (ours vs the floor of its transport, CPU of the client process):\n")
    print("\n".join(target_lines(rpc, pubsub, opts.inflight)))
    print(f"\n(run took {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
