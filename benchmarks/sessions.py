"""Many sessions (issue 15): 1,000 client sessions in one process, ours on asyncio, trio
and Twisted beside Autobahn|Python's on asyncio and Twisted, joined to our router and
to Crossbar.io.

For every router (``--routers``: ``ours`` = ``python -m wamp_anyio serve`` on asyncio,
and ``crossbar``; each started afresh for every client, on loopback, with
benchmarks/_router_procs.py's node configuration) and every client
(benchmarks/_sessions_peer.py, one process each, WebSocket + msgpack):

* memory per idle session: the client process's RSS after ``--count`` sessions joined,
  minus its RSS before them (after ``--warm`` sessions joined and left), both after
  ``gc.collect()``, divided by the count; the router's RSS grows too (read by this
  process before and after): its figure per session is beside it;
* the time to connect and join them all (``--connecting`` joins in progress at a time);
* one event fanned out to all of them: the time from publishing to its delivery at the
  last subscriber (``--events`` events, one after the other; the median is shown).

File descriptors: each session is a socket on each side, so this process raises its
RLIMIT_NOFILE soft limit to the hard limit; the routers and clients it starts inherit
it (the client raises its own again). A hard limit under count + 100 is an error.

Each client row holds its sessions through one API (the "API" column; see
benchmarks/_sessions_peer.py): ``connect()`` (``async with wamp_anyio.connect()``, a task
per session waiting in the block), ``runner`` (``ApplicationRunner(...).run(S,
start_loop=False)``: the same program with wamp_anyio's or autobahn.asyncio.wamp's
imports; the session lives in the loop's callbacks), ``factory`` (a WAMP client factory
connected by hand, sessions in the reactor's callbacks).

Target (issue 15), PASS or MISS: ours <= 0.5x Autobahn's memory per idle session, for
the like-for-like pairs: ours-asyncio-runner against autobahn-asyncio-runner (one
program), ours-trio-runner against autobahn-asyncio-runner too (the same program on
trio; there is no Autobahn on trio), ours-twisted against autobahn-twisted (both
``factory``). ours-asyncio and ours-trio (``connect()``: Autobahn has no such API) are
shown against autobahn-asyncio (``factory``) for information, without a verdict: their
sessions hold a task each, the program's.
The machine's other load makes every figure noisy: rerun on a quiet one to compare.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _router_procs import RouterKind, RouterProcess, crossbar, ours
from _router_stats import rss_bytes
from _variant import wamp_core_build

from tests.integration.crossbar_node import _free_ports, find_crossbar

PEER = str(HERE / "_sessions_peer.py")
IMPLS = [
    "ours-asyncio",
    "ours-trio",
    "ours-asyncio-runner",
    "ours-trio-runner",
    "ours-twisted",
    "autobahn-asyncio",
    "autobahn-asyncio-runner",
    "autobahn-twisted",
]
API = {
    "ours-asyncio": "connect()",
    "ours-trio": "connect()",
    "ours-asyncio-runner": "runner",
    "ours-trio-runner": "runner",
    "ours-twisted": "factory",
    "autobahn-asyncio": "factory",
    "autobahn-asyncio-runner": "runner",
    "autobahn-twisted": "factory",
}
REFERENCE = {  # ours -> the Autobahn row it is compared with
    "ours-asyncio": "autobahn-asyncio",
    "ours-trio": "autobahn-asyncio",
    "ours-asyncio-runner": "autobahn-asyncio-runner",
    "ours-trio-runner": "autobahn-asyncio-runner",  # no Autobahn on trio: its program on asyncio
    "ours-twisted": "autobahn-twisted",
}
LIKE_FOR_LIKE = {
    "ours-asyncio-runner",
    "ours-trio-runner",
    "ours-twisted",
}  # the target's pairs: same API
TARGET = 0.5
PEER_TIMEOUT = 300.0
KB = 1024


def raise_fd_limit() -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard or hard == resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def run_peer(impl: str, router: RouterProcess, opts: argparse.Namespace) -> dict[str, Any]:
    """One client process against a running router; its report plus the router's RSS.
    Its stderr goes to a file (a pipe nobody reads would block it once full)."""
    argv = [
        sys.executable, PEER, impl, router.url("ws"), f"--count={opts.count}",
        f"--connecting={opts.connecting}", f"--warm={opts.warm}", f"--events={opts.events}",
    ]  # fmt: skip
    router_before = rss_bytes(router.pid)
    stderr_file = router.node_dir / f"{impl}.stderr"
    with (
        open(stderr_file, "w") as stderr,
        subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True
        ) as proc,
    ):
        assert proc.stdin is not None and proc.stdout is not None
        report: dict[str, Any] = {"error": "no report"}
        router_after = router_before
        try:
            for line in proc.stdout:
                with contextlib.suppress(ValueError):
                    event = json.loads(line)
                    if event.get("ev") == "joined":
                        router_after = rss_bytes(router.pid)
                        proc.stdin.write("go\n")
                        proc.stdin.flush()
                    elif event.get("ev") == "report":
                        report = event
                        break
        finally:
            proc.stdin.close()
            try:
                proc.wait(PEER_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
    text = stderr_file.read_text(errors="replace")
    if "error" in report:
        report["stderr"] = text[-2000:]
    report["stderr_lines"] = len(text.splitlines())
    report["router_per_session"] = (router_after - router_before) / opts.count
    return report


def measure(kind: RouterKind, opts: argparse.Namespace) -> dict[str, dict[str, Any]]:
    results = {}
    with tempfile.TemporaryDirectory(prefix="wamp-sessions-") as tmp:
        ports = tuple(_free_ports(2))
        for impl in opts.impls.split(","):
            router = RouterProcess(kind, Path(tmp) / impl, (ports[0], ports[1]))
            router.start()
            try:
                results[impl] = run_peer(impl, router, opts)
            finally:
                router.stop()
            print(f"  {kind.name} <- {impl}: {summary(results[impl])}", flush=True)
    return results


def summary(report: dict[str, Any]) -> str:
    if "error" in report:
        return f"FAILED: {report['error']} {report.get('stderr', '')[-600:]}"
    return (
        f"{report['per_session'] / KB:.1f} KiB/session, connect {report['connect_s']:.2f} s, "
        f"fan-out {statistics.median(report['fanout_s']) * 1000:.1f} ms, "
        f"router {report['router_per_session'] / KB:.1f} KiB/session"
    )


def print_table(results: dict[str, dict[str, dict[str, Any]]], count: int) -> bool | None:
    """Print the table; whether every comparison met the target (None: none was made)."""
    routers = list(results)
    cells = [
        "client KiB/session",
        "vs Autobahn",
        "connect all (s)",
        "fan-out (ms)",
        "router KiB/s.",
    ]
    print(f"{count} sessions per client process; one column group per router")
    head = f"{'client':24} {'API':9}" + "".join(f" | {r:^64}" for r in routers)
    print(head)
    print(f"{'':34}" + " | ".join([""] + [" ".join(f"{c:>12.12}" for c in cells)] * len(routers)))
    print("-" * len(head))
    ok: bool | None = None
    impls = [i for i in IMPLS if any(i in results[r] for r in routers)]
    for impl in impls:
        line = f"{impl:24} {API[impl]:9}"
        for router in routers:
            report = results[router].get(impl, {"error": "not run"})
            if "error" in report:
                line += f" | {'failed: ' + str(report['error']):64.64}"
                continue
            reference = results[router].get(REFERENCE.get(impl, ""), {})
            ratio = ""
            if "per_session" in reference and reference["per_session"] > 0:
                value = report["per_session"] / reference["per_session"]
                if impl in LIKE_FOR_LIKE:
                    verdict = "PASS" if value <= TARGET else "MISS"
                    ok = (ok is not False) and value <= TARGET
                else:
                    verdict = "info"
                ratio = f"{value:.2f}x {verdict}"
            fanout = statistics.median(report["fanout_s"]) * 1000
            values = [
                f"{report['per_session'] / KB:.1f}",
                ratio,
                f"{report['connect_s']:.2f}",
                f"{fanout:.1f}",
                f"{report['router_per_session'] / KB:.1f}",
            ]
            line += " | " + " ".join(f"{v:>12}" for v in values)
        print(line)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--connecting", type=int, default=50)
    parser.add_argument("--warm", type=int, default=20)
    parser.add_argument("--events", type=int, default=3)
    parser.add_argument("--routers", default="ours,crossbar")
    parser.add_argument("--impls", default=",".join(IMPLS))
    parser.add_argument("--quick", action="store_true", help="200 sessions")
    parser.add_argument("--json", help="also write the figures to this file")
    opts = parser.parse_args()
    if opts.quick:
        opts.count = 200
    soft, hard = raise_fd_limit()
    print(wamp_core_build())
    print(f"RLIMIT_NOFILE raised to {soft} (hard {hard}) for this process, the routers and "
          "the clients")  # fmt: skip
    if soft < opts.count + 100:
        raise SystemExit(f"RLIMIT_NOFILE hard limit {hard} is too low for {opts.count} sessions")
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for name in opts.routers.split(","):
        if name == "ours":
            kind: RouterKind = ours("asyncio")
        elif name == "crossbar":
            executable = find_crossbar()
            if executable is None:
                print("crossbar: not found, skipped")
                continue
            kind = crossbar(executable)
        else:
            raise SystemExit(f"unknown router {name!r}")
        print(f"{kind.name}:", flush=True)
        results[kind.name] = measure(kind, opts)
    print()
    ok = print_table(results, opts.count)
    verdict = "no comparison made" if ok is None else "PASS" if ok else "MISS"
    print(f"target: ours <= {TARGET}x Autobahn's memory per idle session: {verdict}")
    if opts.json:
        Path(opts.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
