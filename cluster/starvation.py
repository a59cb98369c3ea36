"""Was a process starved of CPU, or hung? Linux's scheduler statistics, read from
``/proc`` of the same host and pid namespace.

The supervisor's liveness probe (``actors/supervisor/probe.py``) cannot tell from the
outside a hung centre (SIGSTOP, a deadlock, a loop that never yields) from one that
wanted a CPU and did not get one (a burst of other work on a 2-core machine: a browser
starting, a dozen processes importing at once). The kernel can. Per thread,
``/proc/PID/task/TID/schedstat`` holds the nanoseconds it ran and the nanoseconds it
waited on a run queue (counted when the wait ends: a wait still going on shows in the
thread's state, ``R`` in ``stat``, with no run time since the last sample).

Starved, between two samples: some thread of the process waited for a CPU (for at
least ``share`` of the time, or is waiting now without having run), **and** its threads
together ran less than the rest of the time. A stopped process neither waits nor runs;
a deadlocked one sleeps; a thread spinning in a hang runs, so on a busy machine its
process is still taken for hung as long as it gets its share of a CPU. Only on a
machine so loaded that a spinning hang gets less than that share does the hang wait
for the lease instead (about 2.5 s).

Only for a process this host's ``/proc`` shows as it is: the probe compares the
centre's ``host_id`` (boot id and pid namespace) with its own, since a pid alone would
name an unrelated process elsewhere. Everything here is best effort: anything
unreadable is None, and the probe then decides as it did without it.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
WAITING_RAN_NS = 1_000_000  # a runnable thread that ran less than this: still waiting


@functools.cache
def host_id() -> str:
    """This host's boot id and this process's pid namespace ("" where unknown): two
    processes whose ids match read each other's ``/proc`` entries by pid."""
    try:
        boot = (PROC / "sys/kernel/random/boot_id").read_text().strip()
        return f"{boot}:{os.stat(PROC / 'self/ns/pid').st_ino}"
    except OSError:
        return ""


@dataclass(frozen=True, slots=True)
class Thread:
    ran_ns: int
    waited_ns: int
    runnable: bool  # state R at the sample


@dataclass(frozen=True, slots=True)
class Sample:
    """Every thread of one process at one moment (monotonic seconds)."""

    at: float
    threads: dict[int, Thread]


def sample(pid: int) -> Sample | None:
    """The scheduler's counts of every thread of ``pid`` now, or None (gone, unreadable)."""
    threads: dict[int, Thread] = {}
    base = PROC / str(pid) / "task"
    try:
        tids = os.listdir(base)
    except OSError:
        return None
    for tid in tids:
        try:
            ran, waited = (base / tid / "schedstat").read_text().split()[:2]
            state = (base / tid / "stat").read_text().rsplit(")", 1)[1].split()[0]
            threads[int(tid)] = Thread(int(ran), int(waited), state == "R")
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended meanwhile
    return Sample(time.monotonic(), threads) if threads else None


def starved(before: Sample | None, after: Sample | None, share: float) -> bool:
    """Whether the process wanted a CPU and did not get one between the two samples
    (the module's rule). Unknown (a sample missing, no time between them): False, and
    the probe's miss counts as it always did."""
    if before is None or after is None or after.at <= before.at:
        return False
    window_ns = (after.at - before.at) * 1e9
    ran = 0
    wanted = False
    for tid, now in after.threads.items():
        then = before.threads.get(tid)
        if then is None:
            continue
        ran_ns = now.ran_ns - then.ran_ns
        ran += ran_ns
        waited = now.waited_ns - then.waited_ns >= share * window_ns
        waiting = now.runnable and ran_ns < WAITING_RAN_NS
        wanted = wanted or waited or waiting
    return wanted and ran < (1.0 - share) * window_ns


def evidence(before: Sample | None, after: Sample | None) -> dict[str, object]:
    """What the kernel showed between two samples, for the log of a suspicion: so an
    on-call engineer can tell afterwards a hang from a starvation the rule did not
    catch. Empty when a sample is missing."""
    if before is None or after is None:
        return {"sampled": False}
    ran = waited = runnable = 0
    for tid, now in after.threads.items():
        then = before.threads.get(tid)
        if then is None:
            continue
        ran += now.ran_ns - then.ran_ns
        waited = max(waited, now.waited_ns - then.waited_ns)
        runnable += now.runnable
    return {
        "sampled": True,
        "window_ms": round((after.at - before.at) * 1000, 1),
        "ran_ms": round(ran / 1e6, 1),
        "max_waited_ms": round(waited / 1e6, 1),
        "runnable_threads": runnable,
        "threads": len(after.threads),
    }
