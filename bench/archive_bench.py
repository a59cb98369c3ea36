"""Months of service (issue #12): does etcd level off once closed work moves out?

In-process, no Ray: five :class:`~actors.centre.centre.Centre` objects (one per centre
id, each serving its home region) against a real embedded etcd the bench starts, with
the SQLite archive in a temporary folder. Three phases, each on a fresh etcd so the
database-size curves do not mix:

1. ``with``: ``--lifecycles`` incident lifecycles at ``--rate`` per second (open loop,
   at most ``--cap`` in flight), archiver on (short hold). Every ``--sample-s``: etcd's
   key count under the deployment prefix, etcd's DB size (total and in use, from
   ``/metrics``), archive row counts, lifecycles done. Takeover load time (see below)
   at 0, ``--checkpoint`` and all archived incidents.
2. ``without``: the same load with the archiver held off (hold and retention far longer
   than the run), ``--without-lifecycles`` of them; the slope is what the archiver saves.
3. ``backlog``: ``--backlog`` lifecycles closed with the archiver held off, then the
   hold is dropped to 0 and the drain is timed: incidents/s and journal entries/s moved,
   against the load's rates (target: >= 10x).

A lifecycle is CreateIncident, TriageIncident, AddIncidentNote (every other one), then
CANCELLED or CLOSED (triaged -> closed is the "advice on the phone" path of
``actors/domain/incident_lifecycle.py``): 3.5 commands, 3.5 journal entries and 3.5
idempotency records on average, and one incident key.

Takeover time is measured as ``RegionHost.load`` of region oslo at the current revision
(what a takeover reads and decodes once it has won the claim), 5 repetitions, with the
load paused and in-flight lifecycles finished, so the figure is the region's live data
and not the noise of the load. A real takeover adds the claim and the fleet check, which
do not depend on history.

    PYTHONPATH=$PWD .venv/bin/python -m bench.archive_bench [--quick]

Results: ``bench/results/archive.json``, ``bench/results/archive.md`` and
``docs/archive-levels.svg`` (``bench/archive_report.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actors.centre.archiving import CLOSED
from actors.centre.centre import Centre
from actors.centre.core import NoPeers
from actors.centre.region_host import RegionHost
from actors.domain.commands import (
    AddIncidentNote,
    ChangeIncidentStatus,
    CreateIncident,
    TriageIncident,
)
from actors.domain.model import IncidentStatus, Position
from bench import archive_report
from bench import benchlib as bl
from bench.archive_probe import METRICS, Probe, bench_etcd
from cluster.archive import open_archive
from cluster.config import ClusterConfig
from cluster.etcd import EtcdClient
from cluster.keys import Keys
from cluster.ownership import Fence

TAKEOVER_REGION = "oslo"
TAKEOVER_REPS = 5
CRITERIA_CODE = "A.10.01"  # a valid code of the default table (bench/scale_bench.py uses it)
OFF_S = 1e9  # a hold no run reaches: the archiver passes but finds nothing due
NOTES = [
    "Compaction: the embedded etcd runs `--auto-compaction-mode periodic "
    "--auto-compaction-retention 5m` (cluster/etcd_server.py): it compacts every 5 "
    "minutes, keeping 5 minutes of history; until a compaction, every overwritten or "
    "deleted key's old revisions stay in the bbolt file, so 'in use' counts history as "
    "well as live keys. 'total' never shrinks without a defragmentation (freed pages "
    "are reused, not returned). 'after_compaction' is a bench-only compaction of all "
    "history at the end of a run: what the live data alone occupies.",
    "Takeover time is RegionHost.load of region oslo at the current revision (the read "
    "and decode a takeover does after winning the claim), 5 repetitions, load paused.",
]


# ---------------------------------------------------------------- deployment


@dataclass
class Deployment:
    """Five centres, their etcd, their archive, and the bench's probes."""

    config: ClusterConfig
    centres: dict[str, Centre]
    probe: Probe
    client: EtcdClient
    keys: Keys
    home: Path

    def centre_of(self, region: str) -> Centre:
        return self.centres[self.config.seed.region(region).home]

    def moved(self) -> dict[str, int]:
        """What the archivers moved so far (their own in-memory counters)."""
        out: dict[str, int] = {}
        for c in self.centres.values():
            for kind, n in c.archiver.moved.items():
                out[kind] = out.get(kind, 0) + n
        return out

    def live_closed(self) -> int:
        """Closed and cancelled incidents still hosted (waiting out the hold)."""
        return sum(
            1
            for c in self.centres.values()
            for h in c.core.hosts.values()
            for i in h.incidents.values()
            if i.status in CLOSED
        )

    def archive_counts(self) -> dict[str, int]:
        path = self.home / "archive.db"
        if not path.exists():
            return {}
        store = open_archive(self.config.archive_location())
        try:
            return store.counts()
        finally:
            store.close()


@asynccontextmanager
async def deployment(
    label: str, hold_s: float, retention_s: float, interval_s: float, compaction: str = ""
) -> AsyncIterator[Deployment]:
    """A fresh etcd, a fresh archive folder, five centres each holding its home region."""
    with (
        bench_etcd(compaction) as etcd,
        tempfile.TemporaryDirectory(prefix="amk-archive-") as tmp,
    ):
        home = Path(tmp)
        config = ClusterConfig.load(
            home=home,
            key_prefix=f"{bl.BENCH_KEY_ROOT}archive/{label}-{uuid.uuid4().hex[:6]}/",
            pki_dir=bl.bench_pki(),
            archive_hold_s=hold_s,
            journal_hold_s=hold_s,
            request_retention_s=retention_s,
            archive_interval_s=interval_s,
        )
        centres = {cid: Centre(config, cid, NoPeers()) for cid in config.centre_ids()}
        keys = Keys(config.key_prefix)
        # All at once: each home centre claims its region at once, backups wait their stagger.
        await asyncio.gather(*(c.start([etcd.endpoint]) for c in centres.values()))
        dep = Deployment(
            config,
            centres,
            Probe(etcd.endpoint, keys),
            bl.etcd_client(etcd.endpoint, request_timeout_s=30),
            keys,
            home,
        )
        held = {r for c in centres.values() for r in c.core.hosts}
        if held != set(config.region_ids()):
            bl.note(f"{label}: regions held after start: {sorted(held)}")
        try:
            yield dep
        finally:
            for c in centres.values():
                await c.stop()
            await dep.probe.close()
            await dep.client.close()


# ---------------------------------------------------------------- load


@dataclass
class Load:
    """Open-loop lifecycles at ``rate``/s (closed loop when ``rate`` is None), at most
    ``cap`` in flight; a pause lets in-flight lifecycles finish and shifts the schedule."""

    dep: Deployment
    n: int
    rate: float | None
    cap: int
    done: int = 0
    behind: int = 0  # lifecycles started later than scheduled (cap reached)
    errors: dict[str, int] = field(default_factory=dict)
    in_flight: int = 0
    paused_s: float = 0.0
    started_at: float = 0.0
    finished_at: float = 0.0
    _go: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._go.set()
        regions = self.dep.config.area_region_ids()  # incidents live in area regions
        self._regions = regions
        self._where = {
            r: Position(
                self.dep.config.seed.centre(self.dep.config.seed.region(r).home).lat,
                self.dep.config.seed.centre(self.dep.config.seed.region(r).home).lon,
            )
            for r in regions
        }

    async def one(self, i: int) -> None:
        region = self._regions[i % len(self._regions)]
        centre = self.dep.centre_of(region)
        rid = uuid.uuid4().hex
        try:
            out = await centre.execute(
                region, CreateIncident(rid + "c", region, self._where[region])
            )
            inc = out.require_incident().id
            await centre.execute(region, TriageIncident(rid + "t", inc, CRITERIA_CODE))
            if i % 2 == 0:
                await centre.execute(region, AddIncidentNote(rid + "n", inc, "Bench: note."))
            end = IncidentStatus.CLOSED if (i // 2) % 2 == 0 else IncidentStatus.CANCELLED
            await centre.execute(region, ChangeIncidentStatus(rid + "s", inc, end))
            self.done += 1
        except Exception as exc:  # counted and shown: a failed lifecycle is a finding
            name = type(exc).__name__
            self.errors[name] = self.errors.get(name, 0) + 1

    async def run(self) -> None:
        sem = asyncio.Semaphore(self.cap)
        tasks: set[asyncio.Task[None]] = set()
        self.started_at = time.monotonic()
        for i in range(self.n):
            await self._go.wait()
            if self.rate:
                due = self.started_at + self.paused_s + i / self.rate
                if (wait := due - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
            if sem.locked():
                self.behind += 1
            await sem.acquire()
            self.in_flight += 1
            task = asyncio.create_task(self.one(i))
            tasks.add(task)
            task.add_done_callback(lambda t: (tasks.discard(t), sem.release(), self._left()))
        while tasks:
            await asyncio.gather(*list(tasks))
        self.finished_at = time.monotonic()

    def _left(self) -> None:
        self.in_flight -= 1

    async def pause(self) -> float:
        """Stop starting lifecycles and wait for those in flight; returns when paused."""
        self._go.clear()
        while self.in_flight:  # noqa: ASYNC110 (a bench poll; an Event per task is noise)
            await asyncio.sleep(0.02)
        return time.monotonic()

    def resume(self, paused_at: float) -> None:
        self.paused_s += time.monotonic() - paused_at
        self._go.set()

    def summary(self) -> dict[str, Any]:
        busy = (self.finished_at or time.monotonic()) - self.started_at - self.paused_s
        return {
            "lifecycles_offered": self.n,
            "lifecycles_done": self.done,
            "errors": self.errors,
            "started_behind_schedule": self.behind,
            "run_s_excluding_pauses": round(busy, 1),
            "paused_s": round(self.paused_s, 1),
            "achieved_rate_per_s": round(self.done / busy, 2) if busy > 0 else None,
        }


# ---------------------------------------------------------------- measurements


async def sample(dep: Deployment, t0: float, load: Load | None) -> dict[str, Any]:
    """One point of the level curves."""
    metrics = await dep.probe.metrics()
    return {
        "t_s": round(time.monotonic() - t0, 2),
        "lifecycles_done": load.done if load else 0,
        "etcd": await dep.probe.counts(),
        "db_total_bytes": int(metrics.get(METRICS[0], -1)),
        "db_in_use_bytes": int(metrics.get(METRICS[1], -1)),
        "revision": int(metrics.get(METRICS[2], -1)),
        "compact_revision": int(metrics.get(METRICS[3], -1)),
        "archive": await asyncio.to_thread(dep.archive_counts),
        "archiver_moved": dep.moved(),
        "live_closed_incidents": dep.live_closed(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


async def sampler(dep: Deployment, t0: float, load: Load, every_s: float, out: list[Any]) -> None:
    while True:
        try:
            out.append(await sample(dep, t0, load))
        except Exception as exc:  # a missed point is shown, not fatal
            out.append({"t_s": round(time.monotonic() - t0, 2), "error": repr(exc)[:200]})
        await asyncio.sleep(every_s)


async def takeover_load(dep: Deployment, label: str) -> dict[str, Any]:
    """``RegionHost.load`` of the takeover region at the current revision, repeated."""
    region = TAKEOVER_REGION
    code = dep.config.seed.region(region).code
    times: list[float] = []
    host = None
    for _ in range(TAKEOVER_REPS):
        # A fence to load with (it reads only: no record needed).
        fence = Fence(region, dep.keys.owner(region), await dep.client.revision(), b"")
        gc.collect()
        t = time.perf_counter()
        host = await RegionHost.load(dep.client, dep.keys, region, code, fence)
        times.append(time.perf_counter() - t)
    assert host is not None
    archived = dep.moved().get("incidents", 0)
    row = {
        "at": label,
        "archived_incidents": archived,
        "region_live_incidents": len(host.incidents),
        "region_units": len(host.units),
        "etcd_incident_keys": await dep.probe.count(dep.keys.incidents_prefix()),
        "load_ms": bl.summary_ms(times),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    bl.note(
        f"takeover load at {label}: archived={archived} live={len(host.incidents)} "
        f"p50={row['load_ms']['p50_ms']} ms max={row['load_ms']['max_ms']} ms"
    )
    return row


async def wait_archived(dep: Deployment, target: int, timeout_s: float) -> bool:
    """Until the archivers moved ``target`` incidents and hold no closed one."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if dep.moved().get("incidents", 0) >= target and dep.live_closed() == 0:
            return True
        await asyncio.sleep(0.2)
    return False


async def phase_levels(
    args: argparse.Namespace, archiver: bool, compaction: str = ""
) -> dict[str, Any]:
    """The load with or without the archiver, sampled; takeover load at checkpoints.
    ``compaction``: etcd's auto-compaction if not the deployment's (a variant run)."""
    n = args.lifecycles if archiver else args.without_lifecycles
    if compaction:
        n = args.compacted_lifecycles
    hold = args.hold_s if archiver else OFF_S
    retention = args.retention_s if archiver else OFF_S
    label = ("with" if archiver else "without") + ("-" + compaction if compaction else "")
    async with deployment(label, hold, retention, args.interval_s, compaction) as dep:
        load = Load(dep, n, args.rate, args.cap)
        takeovers = [await takeover_load(dep, "0 archived")]
        series: list[dict[str, Any]] = []
        t0 = time.monotonic()
        sampling = asyncio.create_task(sampler(dep, t0, load, args.sample_s, series))
        running = asyncio.create_task(load.run())
        pending = sorted(c for c in args.checkpoint if archiver and c < n)
        bl.note(f"{label}: {n} lifecycles at {args.rate}/s, hold {hold} s")
        last_note = 0.0
        while not running.done():
            await asyncio.sleep(0.2)
            if pending and dep.moved().get("incidents", 0) >= pending[0]:
                paused_at = await load.pause()
                takeovers.append(await takeover_load(dep, f"{pending.pop(0)} archived"))
                load.resume(paused_at)
            if time.monotonic() - last_note > 30:
                last_note = time.monotonic()
                bl.note(f"{label}: done {load.done}/{n}, moved {dep.moved()}, series {len(series)}")
        await running
        load_end = time.monotonic() - t0
        drained = None
        if archiver:
            # Let the last lifecycles wait out the hold and be moved (the curve's tail).
            drained = await wait_archived(dep, load.done, hold + 10 * args.interval_s + 60)
            takeovers.append(await takeover_load(dep, "all archived"))
        else:
            takeovers.append(await takeover_load(dep, "end (nothing archived)"))
        await asyncio.sleep(args.sample_s)
        sampling.cancel()
        series.append(await sample(dep, t0, load))
        compacted = await dep.probe.compact_now()
        # The same load once compaction has dropped the deleted keys from etcd's index:
        # separates what history costs a range read from what the machine's load costs.
        after = await takeover_load(dep, "after compacting all history (bench only)")
        takeovers.append({**after, "after_bench_compaction": True})
        return {
            "archiver": archiver,
            "etcd_compaction": compaction or "deployment's: periodic, retention 5m",
            "settings": {
                "lifecycles": n,
                "rate_per_s": args.rate,
                "cap": args.cap,
                "archive_hold_s": hold,
                "request_retention_s": retention,
                "archive_interval_s": args.interval_s,
                "archive_batch": dep.config.archive_batch,
            },
            "load": load.summary(),
            "drained_after_load": drained,
            "takeover": takeovers,
            "series": series,
            "load_end_t_s": round(load_end, 2),
            "slopes": slopes([p for p in series if p["t_s"] <= load_end + args.sample_s]),
            "max_live_closed_during_load": max(
                (p.get("live_closed_incidents", 0) for p in series if p["t_s"] <= load_end),
                default=0,
            ),
            "after_compaction": compacted,
        }


def slopes(series: list[dict[str, Any]]) -> dict[str, Any]:
    """Growth per 1,000 lifecycles over the first and the second half of the run: a
    level curve has a second-half slope near zero."""
    pts = [p for p in series if "etcd" in p]
    if len(pts) < 4:
        return {}
    mid = len(pts) // 2
    out: dict[str, Any] = {}
    for half, (a, b) in {
        "first_half": (pts[0], pts[mid]),
        "second_half": (pts[mid], pts[-1]),
    }.items():
        done = b["lifecycles_done"] - a["lifecycles_done"]
        if done <= 0:
            continue
        out[half] = {
            "lifecycles": done,
            "keys_per_1000": round((b["etcd"]["keys"] - a["etcd"]["keys"]) * 1000 / done, 1),
            "db_in_use_kib_per_1000": round(
                (b["db_in_use_bytes"] - a["db_in_use_bytes"]) / 1024 * 1000 / done, 1
            ),
            "db_total_kib_per_1000": round(
                (b["db_total_bytes"] - a["db_total_bytes"]) / 1024 * 1000 / done, 1
            ),
        }
    return out


async def phase_backlog(args: argparse.Namespace) -> dict[str, Any]:
    """A backlog closed with the archiver held off, then drained at full speed."""
    async with deployment("backlog", OFF_S, OFF_S, args.interval_s) as dep:
        load = Load(dep, args.backlog, None, args.cap)
        bl.note(f"backlog: closing {args.backlog} lifecycles (closed loop, cap {args.cap})")
        await load.run()
        before = await dep.probe.counts()
        moved0 = dep.moved()
        bl.note(f"backlog: built {load.summary()}; etcd {before}; draining")
        # The archivers read the hold and retention from the shared config at each pass.
        t0 = time.monotonic()
        dep.config.archive_hold_s = 0.0
        dep.config.journal_hold_s = 0.0
        dep.config.request_retention_s = 0.0
        trace: list[dict[str, Any]] = []
        t_inc = t_journal = t_first = None
        timeout = time.monotonic() + args.drain_timeout_s
        while time.monotonic() < timeout:
            await asyncio.sleep(0.25)
            now = time.monotonic() - t0
            moved = {k: v - moved0.get(k, 0) for k, v in dep.moved().items()}
            trace.append({"t_s": round(now, 2), "moved": moved, "loadavg_1m": os.getloadavg()[0]})
            if t_inc is None and moved.get("incidents", 0) >= load.done:
                t_inc = now
            if t_first is None and moved.get("incidents", 0):
                t_first = now
            if t_inc is not None:
                left = await dep.probe.count(dep.keys.journal_prefix())
                if left == 0:
                    t_journal = now
                    break
        after = await dep.probe.counts()
        moved = trace[-1]["moved"] if trace else {}
        bl.note(f"backlog drained: incidents in {t_inc} s, journal in {t_journal} s; {moved}")
        return {
            "settings": {
                "lifecycles": args.backlog,
                "cap": args.cap,
                "archive_interval_s": args.interval_s,
                "archive_batch": dep.config.archive_batch,
            },
            "build": load.summary(),
            "etcd_before": before,
            "etcd_after": after,
            "moved": moved,
            "note": "times from the moment the hold was dropped (the archivers' next pass "
            "comes within one interval); sampled every 0.25 s",
            "first_move_s": t_first,
            "incidents_drained_s": round(t_inc, 2) if t_inc is not None else None,
            "journal_drained_s": round(t_journal, 2) if t_journal is not None else None,
            "incidents_per_s": round(moved.get("incidents", 0) / t_inc, 1) if t_inc else None,
            "journal_per_s": round(moved.get("journal", 0) / t_journal, 1) if t_journal else None,
            "requests_per_s": round(moved.get("requests", 0) / t_journal, 1) if t_journal else None,
            "lifecycles_per_s": round(load.done / max(t_inc or 0, t_journal or 0), 1)
            if t_inc and t_journal
            else None,
            "trace": trace[:: max(1, len(trace) // 200)],
        }


# ---------------------------------------------------------------- main


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes for a trial run")
    ap.add_argument("--lifecycles", type=int, default=20_000)
    ap.add_argument("--without-lifecycles", type=int, default=5_000)
    ap.add_argument("--backlog", type=int, default=5_000)
    ap.add_argument("--rate", type=float, default=40.0, help="lifecycles per second offered")
    ap.add_argument("--cap", type=int, default=64, help="lifecycles in flight at most")
    ap.add_argument("--hold-s", type=float, default=5.0)
    ap.add_argument("--retention-s", type=float, default=5.0)
    ap.add_argument("--interval-s", type=float, default=1.0)
    ap.add_argument("--sample-s", type=float, default=2.0)
    ap.add_argument("--checkpoint", type=int, action="append", default=None)
    ap.add_argument("--drain-timeout-s", type=float, default=600.0)
    ap.add_argument("--phases", default="without,with,backlog")
    ap.add_argument(
        "--compaction",
        default="periodic:1m",
        help="the 'compacted' variant's etcd auto-compaction (mode:retention)",
    )
    ap.add_argument("--compacted-lifecycles", type=int, default=20_000)
    ap.add_argument("--out", type=Path, default=bl.RESULTS / "archive.json")
    ap.add_argument("--svg", type=Path, default=bl.REPO / "docs" / "archive-levels.svg")
    ap.add_argument("--md", type=Path, default=bl.RESULTS / "archive.md")
    return ap


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {
        "command": "PYTHONPATH=$PWD " + " ".join(sys.orig_argv),
        "machine_at_start": bl.machine(),
        "note": "2 shared cores; other engineers' tests ran meanwhile: figures are noisy, "
        "loadavg_1m is recorded with every sample",
    }
    phases = args.phases.split(",")
    if "without" in phases:
        result["without"] = await phase_levels(args, archiver=False)
    if "with" in phases:
        result["with"] = await phase_levels(args, archiver=True)
    if "backlog" in phases:
        result["backlog"] = await phase_backlog(args)
    if "compacted" in phases:
        result["compacted"] = await phase_levels(args, archiver=True, compaction=args.compaction)
    result["notes"] = NOTES
    result["machine_at_end"] = {"load_avg_1_5_15": [round(x, 2) for x in os.getloadavg()]}
    return result


def main() -> None:
    args = parser().parse_args()
    if args.quick:
        args.lifecycles, args.without_lifecycles, args.backlog = 600, 300, 300
        args.compacted_lifecycles = 600
        args.checkpoint = args.checkpoint or [300]
    args.checkpoint = args.checkpoint or [10_000]
    bl.quiet_logs()
    result = asyncio.run(main_async(args))
    result["targets"] = archive_report.targets(result)
    bl.emit(result, args.out)
    archive_report.write_svg(result, args.svg)
    archive_report.write_markdown(result, args.md, args.out, args.svg)
    bl.note(f"wrote {args.out}, {args.svg}, {args.md}")


if __name__ == "__main__":
    main()
