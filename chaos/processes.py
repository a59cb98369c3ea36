"""Processes by pid, safely: what belongs to a process tree or a Ray head's folder, and a
SIGKILL that never hits a process that only reuses a pid of theirs (a pid and its start
time name one process). Used by the site drill and the tests that stop ``amk up`` runs
and Ray heads of their own."""

from __future__ import annotations

import os
import signal
from pathlib import Path


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (which may hold spaces
    and parentheses): the state first. None once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def start_time(pid: int) -> str | None:
    """A process's start time (ticks since boot): with its pid, who it is, so a pid
    that was reused is never signalled."""
    fields = _stat(pid)
    return fields[19] if fields is not None and len(fields) > 19 else None


def state(pid: int) -> str | None:
    """A process's state letter (R, S, D, T, Z, ...); None once it is gone."""
    fields = _stat(pid)
    return fields[0] if fields else None


def with_argument(text: str) -> dict[int, str | None]:
    """Processes whose command line contains ``text`` (a Ray head's own temp folder:
    its GCS, raylet and workers leave the head's process group), with start times."""
    found: dict[int, str | None] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline:
                found[int(entry.name)] = start_time(int(entry.name))
    return found


def kill_left(started: dict[int, str | None]) -> None:
    """SIGKILL those of ``started`` still alive as the same process."""
    for pid, t in started.items():
        if t is not None and start_time(pid) == t:
            os.kill(pid, signal.SIGKILL)


def memory_of(pid: int) -> dict[str, float]:
    """RSS, PSS and USS (private pages) of a process, in MB, from smaps_rollup."""
    out = {"rss_mb": 0.0, "pss_mb": 0.0, "uss_mb": 0.0}
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return out
    kb: dict[str, int] = {}
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            kb[parts[0].rstrip(":")] = int(parts[1])
    out["rss_mb"] = round(kb.get("Rss", 0) / 1024, 2)
    out["pss_mb"] = round(kb.get("Pss", 0) / 1024, 2)
    out["uss_mb"] = round((kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)) / 1024, 2)
    return out
