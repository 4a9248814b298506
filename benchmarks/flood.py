"""Floods (issue 15): a publisher as fast as it can and a subscriber that stopped reading,
with every party in a process of its own; the others' latency, the router's memory.

Routers (``--routers``, each in turn, in a process of its own, with
benchmarks/_router_procs.py's node configuration, over RawSocket/json on loopback):
ours served by asyncio, trio and Twisted (``ours``, ``ours-trio``, ``ours-twisted``;
started with ``--log-level info`` so that the cut-off is in their log) and Crossbar.io
(``crossbar``: ``$WAMP_CROSSBAR`` or .nox/crossbar), as the peer column.

Processes (benchmarks/_flood_peers.py): the *probe* (our client, wamp_anyio on
asyncio: a caller and a callee that also subscribes), a *reader* subscribed to the
flooded topic that reads everything, a *stalled* subscriber (4 KiB receive buffer)
that stops reading once subscribed, and the *publisher*: raw RawSocket frames of
``--payload`` bytes, sent as fast as the router reads them (TCP is its only brake; no
acknowledgements), so the router's CPU is saturated for the whole flood.

Pinning (Linux, two CPUs or more): the router (Crossbar.io's node and its workers
too) gets CPU 0 to itself; this process and the clients share the others. The
latency is then the router's doing, not the flood's client processes taking the
probe's CPU.

``--nice N`` runs the publisher, the reader and the stalled subscriber at niceness N
(the probe at 0): they share the clients' CPU with the probe, and a flood at full speed
keeps that CPU busy, so with N = 0 part of the probe's latency is the wait for its CPU.

Per router: the probe makes ``--calls`` sequential round trips of each kind (a call
through the router to the callee, an acknowledged publication to a topic its callee
subscribes) unloaded, then again while the flood runs; p50 and p99 of both and their
ratio (target: within 2x). The router's RSS is sampled every ``--sample`` seconds from
just before the flood to its end (bounded?), the events the reader received, and
what the stalled subscriber finds when it reads again: whether the router closed its
connection and the last message it sent (our routers: a GOODBYE with
``wamp.close.slow_consumer``), and the cut-off line of the router's log.

``--rounds N`` runs each router N times (a fresh router each time): for each phase the
probe's figures come from the run where its call p50 was lowest, as every other
benchmark here takes the best of several rounds on this noisy machine; the memory
figures come from the run whose router grew most.

``--trace`` (ours on asyncio and Twisted) also times, inside the router, each of the
probe's requests from its read to the router's first send after it
(benchmarks/_flood_trace): the router's own share of a hop, unloaded and under the
flood, and how many of those sends waited for a later event-loop iteration.

    python benchmarks/flood.py [--routers ours,ours-trio,ours-twisted,crossbar]
                               [--calls 2000] [--payload 2000] [--trace]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # for tests.integration.crossbar_node

from _router_procs import RouterKind, RouterProcess, crossbar, ours, ours_twisted
from _router_stats import children, rss_bytes

from tests.integration.crossbar_node import _free_ports, find_crossbar

PEERS = str(HERE / "_flood_peers.py")
TRACER = HERE / "_flood_trace"  # its sitecustomize.py, for the router process alone
MB = 1024 * 1024
REPLY_TIMEOUT = 300.0  # seconds for a client process to answer a line (Crossbar.io under a
# flood answers a call in ~50-80 ms: 2,000 calls and publishes take minutes)
CUT_OFF_WORDS = ("slow_consumer", "stopped reading")


def router_kind(name: str) -> RouterKind | None:
    if name in ("ours", "ours-asyncio"):
        return _info_log(ours("asyncio"))
    if name == "ours-trio":
        return _info_log(ours("trio"))
    if name == "ours-twisted":
        return _info_log(ours_twisted())
    if name == "crossbar":
        executable = find_crossbar()
        return crossbar(executable) if executable else None
    raise SystemExit(f"unknown router {name!r}")


def _info_log(kind: RouterKind) -> RouterKind:
    """``kind`` logging at INFO: our routers log a cut-off (and joins, leaves) there."""

    def argv(node_dir: Path, config: Path, ws: int, rs: int) -> list[str]:
        out = kind.argv(node_dir, config, ws, rs)
        at = out.index("--log-level")
        return [*out[: at + 1], "info", *out[at + 2 :]]

    return RouterKind(kind.name, argv, kind.transports, kind.worker)


# ---- pinning


@dataclass
class Pinning:
    router: set[int] = field(default_factory=set)
    clients: set[int] = field(default_factory=set)

    def describe(self) -> str:
        if not self.router:
            return "not pinned"
        return f"router on CPU {sorted(self.router)}, clients on CPU {sorted(self.clients)}"


def plan_pinning(enabled: bool) -> Pinning:
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_setaffinity") else []
    if not enabled or len(cpus) < 2:
        return Pinning()
    return Pinning({cpus[0]}, set(cpus[1:]))


def pin_tree(pid: int, cpus: set[int]) -> None:
    """``pid`` and its descendants on ``cpus`` (Crossbar.io's workers are children)."""
    for each in [pid, *children(pid)]:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(each, cpus)
        if each != pid:
            pin_tree(each, cpus)


def start_router(router: RouterProcess, pinning: Pinning, trace: Path | None = None) -> None:
    """Start it pinned from the first instruction: this process moves to the router's
    CPU while it starts it (children inherit the affinity), then back. With ``trace``,
    the router (alone: the environment is restored) writes its timestamps there."""
    if trace is not None:
        saved = {name: os.environ.get(name) for name in ("FLOOD_TRACE", "PYTHONPATH")}
        os.environ["FLOOD_TRACE"] = str(trace)
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TRACER), saved["PYTHONPATH"]]))
        try:
            start_router(router, pinning)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        return
    if not pinning.router:
        router.start()
        return
    os.sched_setaffinity(0, pinning.router)
    try:
        router.start()
    finally:
        os.sched_setaffinity(0, pinning.clients)
    assert router.proc is not None
    pin_tree(router.proc.pid, pinning.router)  # anything started meanwhile


# ---- the client processes


class Peer:
    """One _flood_peers.py process, talked to by lines."""

    def __init__(self, role: str, router: RouterProcess, opts: argparse.Namespace) -> None:
        self.role = role
        argv = [
            sys.executable, PEERS, role, "127.0.0.1", str(router.rs_port),
            f"--payload={opts.payload}", f"--deadline={opts.deadline}",
        ]  # fmt: skip
        # The load (all but the probe) at --nice: whether the probe waits for the router
        # or for its CPU, which it shares with the publisher and the reader.
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, bufsize=1,
        )  # fmt: skip
        if role != "probe" and opts.nice:  # before it joins: it starts with imports
            os.setpriority(os.PRIO_PROCESS, self.proc.pid, opts.nice)

    def answer(self) -> dict[str, Any]:
        """The next JSON line it prints (its stderr in the error if it ends first)."""
        assert self.proc.stdout is not None
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()))  # type: ignore[union-attr]
        reader.start()
        reader.join(REPLY_TIMEOUT)
        line = result[0] if result else ""
        if not line:
            self.stop()
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"{self.role}: no answer\n{err[-2000:]}")
        return dict(json.loads(line))

    def say(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class RssSampler:
    """The router's RSS every ``interval`` seconds, in a thread, until stopped."""

    def __init__(self, pid: int, interval: float) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._start = time.monotonic()

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with contextlib.suppress(OSError, RuntimeError):
                self.samples.append((time.monotonic() - self._start, rss_bytes(self.pid)))
            if self._stop.wait(self.interval):
                return


# ---- one router


def run_one(kind: RouterKind, opts: argparse.Namespace, pinning: Pinning) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wamp-flood-") as tmp:
        router = RouterProcess(kind, Path(tmp), tuple(_free_ports(2)))  # type: ignore[arg-type]
        trace = Path(tmp) / "trace.json" if opts.trace else None
        start_router(router, pinning, trace)
        peers: list[Peer] = []
        try:
            probe, reader, stalled = (Peer(r, router, opts) for r in ("probe", "read", "stall"))
            peers += [probe, reader, stalled]
            for peer in peers:
                peer.answer()  # ready
            probe.say(f"measure {opts.warmup}")
            probe.answer()
            windows = {"unloaded": time.perf_counter()}
            probe.say(f"measure {opts.calls}")
            unloaded = probe.answer()
            windows["unloaded_end"] = time.perf_counter()
            rss_before = rss_bytes(router.pid)
            publisher = Peer("publish", router, opts)
            peers.append(publisher)
            publisher.answer()  # ready: joined, about to flood
            with RssSampler(router.pid, opts.sample) as sampler:
                time.sleep(opts.settle)  # the flood under way (and the stalled cut off)
                windows["loaded"] = time.perf_counter()
                probe.say(f"measure {opts.calls}")
                loaded = probe.answer()
                windows["loaded_end"] = time.perf_counter()
                publisher.say("stop")
                published = publisher.answer()["published"]
            reader.say("stop")
            read = reader.answer()
            stalled.say("drain")
            drained = stalled.answer()
            rss_after = rss_bytes(router.pid)
        finally:
            for peer in peers:
                peer.stop()
            log = router.log_tail(400)
            router.stop()
        hops = router_hops(trace, windows) if trace is not None and trace.exists() else None
    cut_lines = [line for line in log.splitlines() if any(w in line for w in CUT_OFF_WORDS)]
    return {
        "router": kind.name,
        "unloaded": unloaded,
        "loaded": loaded,
        "rss_before": rss_before,
        "rss_samples": sampler.samples,
        "rss_after": rss_after,
        "published": published,
        "read": read,
        "stalled": drained,
        "cut_off_log": cut_lines[:2],
        "hops": hops,
    }


def best_of(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One row from ``--rounds`` runs of a router: each phase's probe samples from the run
    where that phase's p50 was lowest (the machine's noise only ever adds latency), the
    rest from the run with the most router memory in its flood (the worst case)."""
    row = dict(max(rounds, key=lambda r: max((rss for _, rss in r["rss_samples"]), default=0)))
    for phase in ("unloaded", "loaded"):
        best = min(rounds, key=lambda r: percentiles(r[phase]["call"])[0])
        row[phase] = best[phase]
    row["rounds"] = len(rounds)
    return row


def router_hops(trace: Path, windows: dict[str, float]) -> dict[str, list[list[float]]]:
    """From the router's trace: for each of the probe's requests read in the unloaded
    and the loaded window, the seconds to the router's next send and the event-loop
    iterations between (0: sent in the iteration that read it)."""
    events = json.loads(trace.read_text())
    out: dict[str, list[list[float]]] = {"unloaded": [], "loaded": []}
    read: list[Any] | None = None
    for kind, iteration, at in events:
        if kind == "r":
            read = [iteration, at]
        elif read is not None:
            for name, hops in out.items():
                if windows[name] <= read[1] <= windows[f"{name}_end"]:
                    hops.append([at - read[1], iteration - read[0]])
            read = None
    return out


# ---- the report


def percentiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100)
    return cuts[49] * 1e6, cuts[98] * 1e6


def rows(row: dict[str, Any], payload: int) -> list[tuple[str, str]]:
    out = []
    for kind in ("call", "publish"):
        u50, u99 = percentiles(row["unloaded"][kind])
        l50, l99 = percentiles(row["loaded"][kind])
        out += [
            (f"{kind} p50 unloaded -> flood (us)", f"{u50:.0f} -> {l50:.0f} ({l50 / u50:.2f}x)"),
            (f"{kind} p99 unloaded -> flood (us)", f"{u99:.0f} -> {l99:.0f} ({l99 / u99:.2f}x)"),
        ]
    samples = [rss for _, rss in row["rss_samples"]]
    seconds = row["rss_samples"][-1][0] if row["rss_samples"] else 0.0
    out += [
        ("flood (s) / published", f"{seconds:.1f} / {row['published']}"),
        ("  published MB / s", f"{row['published'] * payload / MB / max(seconds, 1e-9):.1f}"),
        ("  events to the reader", f"{row['read']['events']}"),
        ("router RSS before flood", f"{row['rss_before'] / MB:.1f} MiB"),
        ("router RSS flood max", f"{max(samples, default=0) / MB:.1f} MiB"),
        ("router RSS flood end / after", _end_after(samples, row["rss_after"])),
        ("router RSS over time (MiB)", _over_time(row["rss_samples"])),
        ("stalled: closed by router", "yes" if row["stalled"]["eof"] else "no"),
        ("stalled: last message", row["stalled"]["last"][:70] or "(none)"),
        ("cut-off in the router log", _short(row["cut_off_log"])),
    ]
    if row.get("hops") is not None:
        out += _hop_rows(row["hops"])
    return out


def _hop_rows(hops: dict[str, list[list[float]]]) -> list[tuple[str, str]]:
    if not all(len(hops[name]) > 1 for name in hops):
        return [("router per hop (trace)", "too few hops traced")]
    (u50, u99), (l50, l99) = (percentiles([t for t, _ in hops[n]]) for n in hops)
    later = [sum(1 for _, i in hops[n] if i) / len(hops[n]) for n in hops]
    return [
        ("router per hop p50 (us, trace)", f"{u50:.0f} -> {l50:.0f}"),
        ("router per hop p99 (us, trace)", f"{u99:.0f} -> {l99:.0f}"),
        ("  sent an iteration later", f"{later[0]:.0%} -> {later[1]:.0%}"),
    ]


def _end_after(samples: list[int], after: int) -> str:
    end = samples[-1] if samples else 0
    return f"{end / MB:.1f} / {after / MB:.1f} MiB"


def _over_time(samples: list[tuple[float, int]], points: int = 6) -> str:
    if not samples:
        return "n/a"
    step = max(1, len(samples) // points)
    picked = samples[::step]
    if picked[-1] is not samples[-1]:
        picked.append(samples[-1])
    return " ".join(f"{t:.0f}s:{rss / MB:.0f}" for t, rss in picked)


def _short(lines: list[str]) -> str:
    if not lines:
        return "(none)"
    line = lines[0]
    at = min((line.find(w) for w in ("session", "connection") if w in line), default=0)
    return line[at : at + 110]


def print_table(results: list[dict[str, Any]], payload: int) -> None:
    table = [dict(rows(r, payload)) for r in results]
    labels = list(dict.fromkeys(label for t in table for label in t))  # traced rows last
    width = max(len(label) for label in labels)
    cols = [
        max(len(r["router"]), *(len(v) for v in t.values()))
        for r, t in zip(results, table, strict=True)
    ]
    header = " | ".join(r["router"].ljust(c) for r, c in zip(results, cols, strict=True))
    print(f"{'':{width}} | {header}")
    print("-" * (width + 3 + len(header)))
    for label in labels:
        values = " | ".join(t.get(label, "n/a").ljust(c) for t, c in zip(table, cols, strict=True))
        print(f"{label:{width}} | {values}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--routers", default="ours,ours-trio,ours-twisted,crossbar")
    parser.add_argument("--calls", type=int, default=2000, help="round trips of each kind")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--payload", type=int, default=2000, help="bytes per flooded event")
    parser.add_argument("--settle", type=float, default=1.0, help="s of flood before measuring")
    parser.add_argument("--sample", type=float, default=0.25, help="s between RSS samples")
    parser.add_argument("--deadline", type=float, default=600.0)
    parser.add_argument("--no-pin", dest="pin", action="store_false")
    parser.add_argument(
        "--nice", type=int, default=0, help="niceness of the publisher, reader and stalled one"
    )
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument(
        "--rounds", type=int, default=1, help="runs per router; the best of each phase shown"
    )
    parser.add_argument(
        "--trace", action="store_true", help="time the probe's hops inside our router"
    )
    opts = parser.parse_args()
    pinning = plan_pinning(opts.pin)
    if pinning.clients:
        os.sched_setaffinity(0, pinning.clients)
    print(f"flood: {opts.payload} B events, {opts.calls} round trips of each kind per phase; "
          f"{pinning.describe()}; load at nice {opts.nice}; "
          f"best of {opts.rounds} round(s)")  # fmt: skip
    results = []
    failed: list[str] = []
    for name in opts.routers.split(","):
        kind = router_kind(name)
        if kind is None:
            print(f"{name}: not available, skipped")
            continue
        print(f"{kind.name} ...", flush=True)
        try:
            results.append(best_of([run_one(kind, opts, pinning) for _ in range(opts.rounds)]))
        except RuntimeError as exc:  # one router's failure must not lose the others' figures
            failed.append(f"{kind.name}: not measured: {exc}")
            print(failed[-1], flush=True)
    if results:
        print()
        print_table(results, opts.payload)
    for line in failed:
        print(line.splitlines()[0])
    if opts.json:
        Path(opts.json).write_text(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
