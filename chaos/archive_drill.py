"""The archiver drill: centres killed mid-batch, and nothing lost or doubled.

``python -m chaos.archive_drill --report-dir DIR [--seconds 60 --crashes 5]``

A deployment (supervisor, five centres, two gateways) archives closed work after a
short hold (``archive_hold_s`` and ``journal_hold_s`` 1 s, request records after 5 s,
a pass every 0.2 s) under a load of short incident lives (:mod:`chaos.archive_load`).
``crashes`` times, spread over the run, the drill arms the archiver's crash point
(``ClusterConfig.archive_crash_file``): the first archiver to move a batch removes the
file and SIGKILLs its own centre between the archive write and the etcd delete, leaving
that batch in both places. The drill then waits until the dead centre's regions have a
new owner and the cluster is healthy again, and notes what it saw in both places just
after the kill (the cut-off batch) and that archiving went on afterwards.

After the load it waits (bounded) until the archivers have moved everything: no closed
incident and no journal entry left in etcd. Then :mod:`chaos.archive_check` reads
etcd and the archive and checks, across both, that nothing acknowledged was lost, that
nothing is in both places or twice in the archive, and that each incident's history
(archived plus live journal) holds every acknowledged command on it. The drill also
fails if a crash was not taken, the owner of the crashed region did not change, or a
region was not served again.

This is a drill kind of its own rather than a scenario file: its fault is a file the
archiver looks for, armed only when the previous crash has healed, and its check needs
the archive; the scenario runner's failpoints act on a centre chosen in advance.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import structlog

from actors.domain.access import DEFAULT_TABLE
from chaos import archive_check, archive_report
from chaos.archive_load import ClosingLoad, ClosingLoadSpec
from chaos.drill import (
    EXIT_OK,
    EXIT_UNHEALTHY,
    EXIT_VIOLATION,
    health,
    wait_healthy,
    watch_owners,
    with_own_services,
)
from chaos.drill_etcd import DRILL_KEY_ROOT, drill_pki
from chaos.failpoints import DrillContext
from clients.console_tokens import ConsoleRoom
from clients.launcher import Deployment
from clients.loadgen import History
from cluster.archive import ArchiveStore, open_migrated
from cluster.config import ClusterConfig
from cluster.etcd import EtcdClient
from cluster.etcd_server import find_free_port
from cluster.etcd_tls import etcd_client_for
from cluster.keys import Keys
from cluster.logs import configure as configure_logs
from cluster.ownership import read_owner
from cluster.tls import console_identity

log = structlog.get_logger("amk.chaos.archive_drill")

POLL_S = 0.02


@dataclass(frozen=True)
class ArchiveDrillSpec:
    """One archive drill: how long, how many crashes, the archiver's short settings."""

    seconds: float = 60.0
    crashes: int = 5
    rate: float = 20.0  # operations per second, overall
    concurrency: int = 5
    regions: tuple[str, ...] = ()  # where the load goes (default: every region)
    archive_hold_s: float = 1.0
    request_retention_s: float = 5.0  # longer than the load's call budget (see below)
    archive_interval_s: float = 0.2
    budget_s: float = 4.0  # one call's budget, all attempts: < request_retention_s
    gateways: int = 2
    lease_ttl_s: int = 2
    seed: int | None = 7
    crash_timeout_s: float = 20.0  # armed -> taken
    recover_timeout_s: float = 30.0  # taken -> every region served by a live centre
    settle_timeout_s: float = 60.0  # load stopped -> everything archived

    def __post_init__(self) -> None:
        if self.budget_s >= self.request_retention_s:
            raise ValueError(
                "budget_s must be shorter than request_retention_s: a retry after the "
                "idempotency record left etcd would run as a new command"
            )


def _config(
    spec: ArchiveDrillSpec, home: Path, pki_dir: Path | None, key_root: str
) -> ClusterConfig:
    tag = uuid.uuid4().hex[:8]
    home.mkdir(parents=True, exist_ok=True)
    return ClusterConfig.load(
        home=home,
        key_prefix=f"{key_root}archive-crash/{tag}/",
        pki_dir=pki_dir,
        insecure=pki_dir is None,
        ray_namespace=f"drill-{tag}",
        gateways=[f"127.0.0.1:{find_free_port()}" for _ in range(spec.gateways)],
        lease_ttl_s=spec.lease_ttl_s,
        archive_hold_s=spec.archive_hold_s,
        journal_hold_s=spec.archive_hold_s,
        request_retention_s=spec.request_retention_s,
        archive_interval_s=spec.archive_interval_s,
        archive_crash_file=home / "archive-crash-once",
        access_table=DEFAULT_TABLE,  # the real policy, whatever the environment says
    )


def _rows(counts: dict[str, int]) -> int:
    return counts.get("records", 0) + counts.get("journal", 0)


async def _in_both_places(client: EtcdClient, keys: Keys, archive: ArchiveStore) -> list[str]:
    """Keys live in etcd and already in the archive: the batch a crash cut off (etcd
    first: what the archive holds later cannot make a key look deleted)."""
    incidents, _ = await client.get_prefix(keys.incidents_prefix(), keys_only=True)
    journal, _ = await client.get_prefix(keys.journal_prefix(), keys_only=True)
    live = {kv.key.decode() for kv in [*incidents, *journal]}
    archived = {r.key for r in await asyncio.to_thread(archive.stored, "incidents")}
    archived |= {r.key for r in await asyncio.to_thread(archive.journal)}
    return sorted(live & archived)


async def crash_once(
    ctx: DrillContext, client: EtcdClient, archive: ArchiveStore, spec: ArchiveDrillSpec
) -> dict[str, Any]:
    """Arm the crash point, see it taken, find the centre that died, and wait until each
    region it served has a new owner and the cluster is healthy again."""
    keys = Keys(ctx.config.key_prefix)
    crash_file = ctx.config.archive_crash_file
    assert crash_file is not None
    before = await health(ctx, client)
    out: dict[str, Any] = {"armed": time.time(), "taken": None, "centre": None}
    crash_file.write_text("one crash, drill only")
    while crash_file.exists():
        if time.time() - out["armed"] > spec.crash_timeout_s:
            crash_file.unlink(missing_ok=True)
            out["problem"] = f"crash point not taken within {spec.crash_timeout_s} s"
            return out
        await asyncio.sleep(POLL_S)
    out["taken"] = time.time()
    both = await _in_both_places(client, keys, archive)
    out["in_both_places_after_kill"] = len(both)
    out["cut_off_regions"] = sorted({k.split("/")[-2] for k in both})
    out["cut_off_kinds"] = sorted({k.split("/")[-3] for k in both})
    tokens = {r: o["token"] for r, o in before["owners"].items()}
    served_again: dict[str, dict[str, Any]] = {}
    dead: str | None = None
    while dead is None or set(before["centres"][dead]["regions"]) - set(served_again):
        if time.time() - out["taken"] > spec.recover_timeout_s:
            out["problem"] = "crashed centre's regions not served again in time"
            break
        for region, token in tokens.items():
            owner = await read_owner(client, keys, region, timeout_s=1)
            if owner is None or owner.token == token or region in served_again:
                continue
            dead = dead or before["owners"][region]["centre"]
            served_again[region] = {
                "at": time.time(),
                "centre": owner.record.centre,
                "token": owner.token,
                "token_before": token,
            }
        await asyncio.sleep(POLL_S)
    out["centre"] = dead
    if dead is not None:
        out["instance_before"] = before["centres"][dead]["instance"]
        out["regions"] = sorted(before["centres"][dead]["regions"])
    out["served_again"] = served_again
    healthy = await wait_healthy(ctx, client, spec.recover_timeout_s)
    out["healthy_at"] = time.time()
    if dead is not None and dead in healthy["centres"]:
        out["instance_after"] = healthy["centres"][dead]["instance"]
    if not healthy["ok"]:
        out["problem"] = f"not healthy after the crash: {healthy['problems']}"
    out["archive_rows_when_healthy"] = _rows(await asyncio.to_thread(archive.counts))
    log.info("archive_crash", **{k: str(v) for k, v in out.items()})
    return out


async def _progress(
    client: EtcdClient,
    keys: Keys,
    deployment: Deployment,
    crash: dict[str, Any],
    archive: ArchiveStore,
    timeout_s: float,
) -> None:
    """After a crash: did the archive grow, and did each crashed region's new owner
    make archive passes (its last pass, in its status, since the crash)? Waited for
    (bounded) when the next crash comes before either shows."""
    deadline = time.time() + timeout_s
    while True:
        rows = _rows(await asyncio.to_thread(archive.counts))
        passes: dict[str, bool] = {}
        for region in crash.get("regions", []):
            owner = await read_owner(client, keys, region)
            passes[region] = False
            if owner is None or owner.record.instance == crash.get("instance_before"):
                continue
            try:
                status = await deployment.centres[owner.record.centre].status()
            except Exception:  # a centre starting or dying: not yet
                continue
            last = status.archive.get(region)
            passes[region] = (
                status.instance == owner.record.instance
                and last is not None
                and last.at > crash["taken"]
            )
        moved = rows - crash.get("archive_rows_when_healthy", rows)
        if (moved > 0 and all(passes.values())) or time.time() > deadline:
            break
        await asyncio.sleep(0.1)
    crash.update(archive_rows_later=rows, archive_rows_moved_since=moved)
    crash["new_owner_archiving"] = passes
    if moved <= 0 or not all(passes.values()):
        crash.setdefault("problem", "no archive progress after the crash")


async def settle(client: EtcdClient, keys: Keys, spec: ArchiveDrillSpec) -> dict[str, Any]:
    """Wait (bounded) until the archivers have moved everything: no closed incident and
    no journal entry left in etcd (nothing journals once the load stops, and every entry
    is due ``request_retention_s`` after it was written). Only then is the picture
    still: an entry merely *due* may be mid-move (archived, not yet deleted), which the
    check would rightly count as in both places."""
    started = time.time()
    while True:
        kvs, _ = await client.get_prefix(keys.incidents_prefix(), timeout_s=10)
        closed = [kv for kv in kvs if json.loads(kv.value).get("status") in archive_check.CLOSED]
        journal, _ = await client.get_prefix(keys.journal_prefix(), keys_only=True, timeout_s=10)
        done = not closed and not journal
        if done or time.time() - started > spec.settle_timeout_s:
            return {
                "settled": done,
                "waited_s": round(time.time() - started, 2),
                "closed_live": len(closed),
                "journal_live": len(journal),
            }
        await asyncio.sleep(0.2)


async def run_archive_drill(
    spec: ArchiveDrillSpec,
    report_dir: Path,
    endpoints: list[str],
    *,
    pki_dir: Path | None,
    key_root: str = DRILL_KEY_ROOT,
) -> dict[str, Any]:
    """Run the drill inside an initialised Ray against ``endpoints``; the result (also
    written to ``report_dir``) has ``exit_code`` as the verdict. ``pki_dir``: the etcd
    certificates (None: an insecure etcd); the key prefix is under ``key_root``."""
    os.makedirs(report_dir, exist_ok=True)
    config = _config(spec, report_dir / "home", pki_dir, key_root)
    keys = Keys(config.key_prefix)
    regions = list(spec.regions) or config.area_region_ids()  # incidents: area regions
    client = etcd_client_for(config, endpoints, request_timeout_s=3.0)
    deployment = Deployment(config, endpoints)
    ctx = DrillContext(config, endpoints, deployment)
    history = History(report_dir / "history.jsonl")
    archive: ArchiveStore | None = None
    load: ClosingLoad | None = None
    owner_events: list[dict[str, Any]] = []
    watcher: asyncio.Task[None] | None = None
    result: dict[str, Any] = {
        "scenario": "archive-crash",
        "description": archive_report.DESCRIPTION.format(crashes=spec.crashes),
        "spec": asdict(spec),
        "key_prefix": config.key_prefix,
        "archive": config.archive_location(),
        "regions": regions,
        "expect": "pass",
    }
    try:
        started = time.monotonic()
        await deployment.start()
        result["startup_s"] = round(time.monotonic() - started, 2)
        result["health_before"] = await wait_healthy(ctx, client, spec.recover_timeout_s)
        if not result["health_before"]["ok"]:
            result["exit_code"] = EXIT_UNHEALTHY
            return result
        archive = await open_migrated(config.archive_location())
        watcher = asyncio.create_task(watch_owners(client, keys, config.region_ids(), owner_events))
        load_spec = ClosingLoadSpec(
            spec.rate, spec.concurrency, spec.budget_s, min(2.0, spec.budget_s), spec.seed
        )
        load = ClosingLoad(
            config.gateways,
            config.seed,
            regions,
            load_spec,
            history,
            tls=console_identity(config),
            room=ConsoleRoom(config),  # every centre's consoles, tokens from its issuer
        ).start()
        t0 = load.started_at
        crashes: list[dict[str, Any]] = []
        for i in range(spec.crashes):
            await asyncio.sleep(
                max(0.0, t0 + spec.seconds * (i + 1) / (spec.crashes + 1) - time.time())
            )
            if crashes:
                await _progress(
                    client, keys, deployment, crashes[-1], archive, spec.recover_timeout_s
                )
            crashes.append(await crash_once(ctx, client, archive, spec))
        await asyncio.sleep(max(0.0, t0 + spec.seconds - time.time()))
        await load.stop()
        t_end = time.time()
        result["settle"] = await settle(client, keys, spec)
        if crashes:
            await _progress(client, keys, deployment, crashes[-1], archive, spec.recover_timeout_s)
        result["health_after"] = await wait_healthy(ctx, client, spec.recover_timeout_s)
        watcher.cancel()
        acked = {r["incident"] for r in history.records if r.get("ok") and r.get("incident")}
        view = await archive_check.collect(client, keys, archive, acked)
        faults = archive_report.crash_windows(crashes)
        verdict = archive_check.check(
            history.records, view, faults=faults, regions=regions, window=(t0, t_end)
        )
        crash_problems = archive_report.crash_problems(crashes, spec.crashes)
        if crash_problems:
            verdict["violations"].append("crashes: " + "; ".join(crash_problems))
        if not result["settle"]["settled"]:
            verdict["violations"].append(
                f"archivers not done {spec.settle_timeout_s} s after the load"
            )
        verdict["ok"] = not verdict["violations"]
        result.update(
            t0=t0,
            t_end=t_end,
            crashes=crashes,
            faults=faults,
            owner_events=owner_events,
            check=verdict,
            moved=archive_report.moved(view),
        )
        if not verdict["ok"]:
            result["exit_code"] = EXIT_VIOLATION
        elif not result["health_after"]["ok"]:
            result["exit_code"] = EXIT_UNHEALTHY
        else:
            result["exit_code"] = EXIT_OK
        result["report"] = archive_report.write(result, history.records, report_dir)
        return result
    finally:
        if watcher is not None:
            watcher.cancel()
        if load is not None:
            await load.stop()
        history.close()
        await deployment.stop()
        await client.close()
        if archive is not None:
            archive.close()
        (report_dir / "report.json").write_text(json.dumps(result, indent=2, default=str))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m chaos.archive_drill", description=__doc__)
    p.add_argument("--report-dir", default=None, help="default: ./drill-reports/archive-TIME")
    p.add_argument("--seconds", type=float, default=60.0, help="seconds of load")
    p.add_argument("--crashes", type=int, default=5, help="archivers killed mid-batch")
    p.add_argument("--rate", type=float, default=20.0, help="operations per second")
    p.add_argument("--log-level", default="warning")
    args = p.parse_args(argv)
    configure_logs(args.log_level)
    spec = ArchiveDrillSpec(seconds=args.seconds, crashes=args.crashes, rate=args.rate)
    report_dir = Path(
        args.report_dir or f"drill-reports/archive-crash-{time.strftime('%Y%m%d-%H%M%S')}"
    ).resolve()

    def drill(endpoints: list[str], *_: Any) -> Any:
        return run_archive_drill(spec, report_dir, endpoints, pki_dir=drill_pki(report_dir))

    result = with_own_services(report_dir, drill)
    print(json.dumps(archive_report.summary(result), indent=2))
    return int(result.get("exit_code", EXIT_VIOLATION))


if __name__ == "__main__":
    sys.exit(main())
