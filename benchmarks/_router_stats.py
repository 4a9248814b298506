"""What benchmarks/router.py reads of a router process (Linux: /proc).

* :func:`cpu_seconds`: CPU time of every thread of the process (schedstat, else stat);
* :func:`rss_bytes`: its resident set size (VmRSS of /proc/PID/status);
* :func:`children` and :func:`cmdline`: to find Crossbar.io's router worker;
* :class:`Window`: wall, client CPU and router CPU over a client's measured window.

The client processes import it too (each reads the router's CPU time at the edges of
its own measured window), so it imports the standard library only.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` so far, every thread: the scheduler's own count in
    nanoseconds (``/proc/PID/task/*/schedstat``) where the kernel keeps it, else
    utime + stime of /proc/PID/stat, which moves in clock ticks (10 ms at 100 Hz, and
    sampled: a short window would be mostly rounding)."""
    try:
        return sum(_task_runtime(pid, task) for task in os.listdir(f"/proc/{pid}/task")) / 1e9
    except (OSError, ValueError, IndexError):
        return _stat_cpu_seconds(pid)


def _task_runtime(pid: int, task: str) -> int:
    try:
        with open(f"/proc/{pid}/task/{task}/schedstat", "rb") as schedstat:
            return int(schedstat.read().split()[0])
    except FileNotFoundError:  # the thread ended since the listing
        return 0


def _stat_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", "rb") as stat:
        text = stat.read()
    # The command name (field 2) may hold spaces and parentheses: split after its end.
    fields = text[text.rindex(b")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of the whole line
    return (utime + stime) / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """The resident set size of ``pid`` (VmRSS of /proc/PID/status)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError):
            with open(f"/proc/{entry}/stat", "rb") as stat:
                text = stat.read()
            if int(text[text.rindex(b")") + 2 :].split()[1]) == pid:
                found.append(int(entry))
    return found


def cmdline(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as file:
        return file.read().replace(b"\0", b" ").decode(errors="replace")


class Window:
    """Wall, client CPU and router CPU over one measured window."""

    def __init__(self, router_pid: int) -> None:
        self.router_pid = router_pid
        self.start = (0.0, 0.0, 0.0)

    def begin(self) -> None:
        gc.collect()  # the start-up garbage goes now, not inside the window
        self.start = self._now()

    def end(self, ops: int, **extra: Any) -> dict[str, Any]:
        wall, client, router = (b - a for a, b in zip(self.start, self._now(), strict=True))
        return {"ops": ops, "wall": wall, "client_cpu": client, "router_cpu": router, **extra}

    def _now(self) -> tuple[float, float, float]:
        return time.perf_counter(), time.process_time(), cpu_seconds(self.router_pid)
