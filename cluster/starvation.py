"""Was a process starved of CPU, or stopped? Linux's scheduler statistics, read from
``/proc`` of the same host.

The supervisor's liveness probe (``actors/supervisor/probe.py``) cannot tell from the
outside a hung centre (SIGSTOP, a process that is not scheduled at all) from one that
wanted a CPU and did not get one (a burst of other work on a 2-core machine: a browser
starting, a dozen processes importing at once). The kernel can: every thread's
``/proc/PID/task/TID/schedstat`` holds the nanoseconds it ran and the nanoseconds it
waited on a run queue, runnable but not running. A stopped thread does neither; a
starved one waits. Compared between two misses of the probe, the waits say which.

Only for a process on this host: the probe knows it is when the centre's answer names
the same boot id as this machine's (``boot_id``), since a pid alone would name an
unrelated process on another host. Everything here is best effort: anything unreadable
is None, and the probe then decides as it did without it.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@functools.cache
def boot_id() -> str:
    """This host's boot id ("" where the kernel does not give one)."""
    try:
        return (PROC / "sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


@dataclass(frozen=True, slots=True)
class Sample:
    """Each thread's run-queue wait (ns) at one moment (monotonic seconds)."""

    at: float
    waits: dict[int, int]


def sample(pid: int) -> Sample | None:
    """The run-queue wait of every thread of ``pid`` now, or None (gone, not ours)."""
    waits: dict[int, int] = {}
    try:
        tasks = os.listdir(PROC / str(pid) / "task")
    except OSError:
        return None
    for tid in tasks:
        try:
            fields = (PROC / str(pid) / "task" / tid / "schedstat").read_text().split()
            waits[int(tid)] = int(fields[1])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended meanwhile
    return Sample(time.monotonic(), waits) if waits else None


def starved(before: Sample | None, after: Sample | None, share: float) -> bool:
    """Whether some thread of the process waited for a CPU for at least ``share`` of
    the time between the two samples: it was runnable and not run, so a missed ping
    says the machine was busy, not that the process hung. Unknown (a sample missing,
    no time between them): False, the miss counts as it always did."""
    if before is None or after is None or after.at <= before.at:
        return False
    window_ns = (after.at - before.at) * 1e9
    waited = max(
        (after.waits[tid] - ns for tid, ns in before.waits.items() if tid in after.waits),
        default=0,
    )
    return waited >= share * window_ns
