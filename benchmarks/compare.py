"""The client benchmarks of two revisions in one run: ``python benchmarks/compare.py BASE_REV``.

Each revision (BASE_REV, and HEAD or ``--rev``) is checked out into a git worktree
under ``.nox/compare/``, built into a mypyc-compiled wheel (as ``nox -s bench`` does)
and installed into a virtualenv of its own, with the benchmarks' peers. Then
``benchmarks/core.py`` and ``benchmarks/rpc.py`` (ours and the floors; Crossbar.io
from ``$WAMP_CROSSBAR``) run under each, alternately, ``--repeat`` times, the order
flipped every time so that neither build always runs first; this checkout's benchmark
scripts measure both builds. core.py runs pinned to the last CPU, rpc.py pins its
measured client there itself. Every figure is the best over all runs (the highest
rate, the lowest CPU per item): on a shared machine noise only ever makes a figure
worse. The table gives base, now, and now/base (a rate above 1 or a CPU figure below 1
is better).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = REPO / ".nox" / "compare"
EXTRAS = "[crypto,twisted,trio,testing,yaml]"
PEERS = ["autobahn[twisted]>=24.4", "wampproto>=0.4"]  # pyproject's bench group

RPC_COLUMNS = ("calls/s seq", "CPU µs/call seq", "calls/s in flight", "CPU µs/call in flight")
# figure -> (value, True if higher is better)
Figures = dict[str, tuple[float, bool]]


def run(argv: list[str], cwd: Path = REPO, preexec_fn: Callable[[], None] | None = None) -> str:
    done = subprocess.run(
        argv, cwd=cwd, preexec_fn=preexec_fn, check=True, capture_output=True, text=True
    )
    return done.stdout


def uv() -> str:
    found = shutil.which("uv") or str(REPO / ".nox" / "_tools" / "bin" / "uv")
    if not Path(found).exists():
        sys.exit("compare: uv not found (./dev installs it into .nox/_tools)")
    return found


def prepare(label: str, rev: str) -> Path:
    """A worktree of ``rev``, its compiled wheel, and a venv with it; the venv's python."""
    commit = run(["git", "rev-parse", "--verify", f"{rev}^{{commit}}"]).strip()
    src, dist, venv = WORK / f"src-{label}", WORK / f"dist-{label}", WORK / f"venv-{label}"
    stamp = WORK / f"{label}.commit"
    python = venv / "bin" / "python"
    if stamp.exists() and stamp.read_text() == commit and python.exists():
        print(f"{label}: {rev} = {commit[:10]} (built already)", flush=True)
        return python
    print(f"{label}: {rev} = {commit[:10]}: building the compiled wheel", flush=True)
    if src.exists():
        run(["git", "worktree", "remove", "--force", str(src)])
    run(["git", "worktree", "add", "--detach", str(src), commit])
    shutil.rmtree(dist, ignore_errors=True)
    run([uv(), "build", "--quiet", "--out-dir", str(dist), str(src)])
    (wheel,) = dist.glob("*.whl")
    shutil.rmtree(venv, ignore_errors=True)
    run([uv(), "venv", "--quiet", "--python", sys.executable, str(venv)])
    run([uv(), "pip", "install", "--quiet", "--python", str(python), f"{wheel}{EXTRAS}", *PEERS])
    stamp.write_text(commit)
    return python


def pin_last_cpu() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})


def number(text: str) -> float | None:
    text = text.strip().split()[0] if text.strip() else ""
    try:
        return float(text.replace(",", "").rstrip("x"))
    except ValueError:
        return None


def table_rows(output: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in output.splitlines()
        if line.startswith("| ") and not line.startswith("| variant") and "---" not in line
    ]


def core_figures(output: str) -> Figures:
    figures: Figures = {}
    for row in table_rows(output):
        if row[0] == "path":
            continue
        value = number(row[1])
        if value is not None:
            figures[f"core: {row[0]} (/s)"] = (value, True)
    return figures


def rpc_figures(output: str) -> Figures:
    """The RPC rows (calls/s and CPU µs/call, both phases) and the PubSub rows."""
    figures: Figures = {}
    section = ""
    for line in output.splitlines():
        if line.startswith("RPC ("):
            section = "rpc"
        elif line.startswith("PubSub ("):
            section = "pubsub"
        elif line.startswith("| ") and not line.startswith("| variant") and "---" not in line:
            row = [cell.strip() for cell in line.strip().strip("|").split("|")]
            name = row[0]
            if section == "rpc":
                for label, cell in zip(RPC_COLUMNS, row[1:5], strict=True):
                    _add(figures, f"rpc {name}: {label}", number(cell), label.startswith("calls"))
            elif section == "pubsub":
                _add(figures, f"pubsub {name}: events/s", number(row[1]), True)
                _add(figures, f"pubsub {name}: CPU µs/event", number(row[2]), False)
    return figures


def _add(figures: Figures, key: str, value: float | None, higher: bool) -> None:
    if value is not None:
        figures[key] = (value, higher)


def merge(best: Figures, new: Figures) -> None:
    for key, (value, higher) in new.items():
        old = best.get(key)
        if old is None or (value > old[0] if higher else value < old[0]):
            best[key] = (value, higher)


def measure(
    python: Path, opts: argparse.Namespace, log: Callable[[str], None]
) -> tuple[Figures, str]:
    figures: Figures = {}
    if not opts.no_core:
        out = run(
            [str(python), "benchmarks/core.py", "--repeats", str(opts.core_repeats)],
            preexec_fn=pin_last_cpu,
        )
        log(out)
        merge(figures, core_figures(out))
    out = ""
    if not opts.no_rpc:
        only = [arg for part in opts.only for arg in ("--only", part)]
        argv = [str(python), "benchmarks/rpc.py", "--rounds", str(opts.rounds), *only]
        if opts.no_pubsub:
            argv.append("--no-pubsub")
        out = run(argv)
        log(out)
        merge(figures, rpc_figures(out))
    return figures, out


def side_by_side(base: Figures, now: Figures) -> list[str]:
    lines = ["| figure | base | now | now/base | better |", "|---|---:|---:|---:|---|"]
    for key, (new, higher) in now.items():
        if key not in base:
            continue
        old = base[key][0]
        ratio = new / old if old else float("nan")
        better = "same" if ratio == 1 else "now" if (ratio > 1) == higher else "base"
        lines.append(f"| {key} | {old:,.2f} | {new:,.2f} | {ratio:.3f} | {better} |")
    return lines


def relative_to_floor(figures: Figures) -> Figures:
    """Each of our rows' CPU figures divided by the same figure of its floor (Twisted
    rows: the Twisted floor; the others: asyncio's), as rpc.py's targets compare."""
    relative: Figures = {}
    for key, (value, _) in figures.items():
        match = re.fullmatch(r"(rpc|pubsub) ours/(\w+)/(\w+): (CPU .*)", key)
        if match is None:
            continue
        kind, loop, transport, what = match.groups()
        floor_loop = "twisted" if loop == "twisted" else "asyncio"
        floor = figures.get(f"{kind} floor/{floor_loop}/{transport}: {what}")
        if floor is not None and floor[0]:
            relative[f"{key} / floor"] = (value / floor[0], False)
    return relative


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("base", help="the revision to compare against (e.g. 5e3ea76)")
    parser.add_argument("--rev", default="HEAD", help="the revision measured as 'now'")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each build, alternating")
    parser.add_argument("--rounds", type=int, default=3, help="rpc.py --rounds per run")
    parser.add_argument("--core-repeats", type=int, default=5, help="core.py --repeats per run")
    parser.add_argument(
        "--only",
        action="append",
        default=None,
        help="rpc.py variants (default: ours, the floors, autobahn/twisted: the targets' rows)",
    )
    parser.add_argument("--no-core", action="store_true")
    parser.add_argument("--no-rpc", action="store_true")
    parser.add_argument("--no-pubsub", action="store_true", help="rpc.py: calls only")
    parser.add_argument("--log", type=Path, help="also write every benchmark's output here")
    opts = parser.parse_args()
    opts.only = opts.only or ["ours", "floor", "autobahn/twisted"]
    if not opts.no_rpc and not os.environ.get("WAMP_CROSSBAR") and not shutil.which("crossbar"):
        sys.exit("compare: rpc.py needs Crossbar.io: set $WAMP_CROSSBAR")
    WORK.mkdir(parents=True, exist_ok=True)
    pythons = {"base": prepare("base", opts.base), "now": prepare("now", opts.rev)}
    log_file = opts.log.open("w") if opts.log else None

    def log(text: str) -> None:
        if log_file is not None:
            log_file.write(text + "\n")
            log_file.flush()

    best: dict[str, Figures] = {"base": {}, "now": {}}
    last_now = ""
    for repeat in range(opts.repeat):
        order = ["base", "now"] if repeat % 2 == 0 else ["now", "base"]
        for label in order:
            print(f"run {repeat + 1}/{opts.repeat}: {label}", flush=True)
            log(f"===== run {repeat + 1}: {label}")
            figures, out = measure(pythons[label], opts, log)
            merge(best[label], figures)
            if label == "now":
                last_now = out
    print(f"\n{opts.base} (base) vs {opts.rev} (now), best of {opts.repeat} runs each\n")
    print("\n".join(side_by_side(best["base"], best["now"])))
    relative = {label: relative_to_floor(figures) for label, figures in best.items()}
    if relative["now"]:
        print(
            "\nClient CPU relative to the floor of its transport, from the best figures (the "
            "floors' code is the same in both builds: this cancels part of the machine's load)\n"
        )
        print("\n".join(side_by_side(relative["base"], relative["now"])))
    targets = last_now.split("Targets", 1)[-1] if "Targets" in last_now else ""
    if targets:
        print(f"\nTargets of rpc.py, the last 'now' run{targets}")
    if log_file is not None:
        log_file.close()


if __name__ == "__main__":
    main()
