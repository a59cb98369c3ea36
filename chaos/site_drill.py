"""The site-loss drill (issue #11): two sites under load, one lost whole, five times.

``python -m chaos.site_drill --report-dir DIR [--reps 5 --incidents 1000]``

Two sites, each an ``amk up --site NAME`` with a Ray cluster of its own (its local Ray:
GCS, raylet, workers, two gateways... all children of that ``amk up``), share one etcd
the drill starts. ``sites = ["a", "b"]``: every region's claim line is its home centre
in a, in b, then the backups likewise. The drill fills every region with ``incidents``
live incidents, then, ``reps`` times:

1. writers (:class:`chaos.raw_client.RawWriter`: plain gRPC stubs, no retries, deadline
   10 s) create incidents in every region through the gateway of the site that is
   *not* serving, so every write crosses to the serving site's owners;
2. every process of the serving site is SIGKILLed at one instant (its ``amk up`` and
   all its descendants: Ray head, GCS, raylet, workers, gateways): a data centre lost;
3. per region, the first write acknowledged by the new owner (its revision past the new
   owner's claim) is timed from the kill, with the owner key's revoke and claim (the
   other site's home-centre instance takes the region when the lost site's beat stops:
   ``actors/supervisor/site_watch.py``);
4. the lost site is started again: it comes back as a standby (site return), and is the
   survivor's partner for the next repetition, in which the other site is lost; with
   ``--handback`` every region is then handed back to it by command at its own gateway
   (``HandBackRegion``: the owner in the other site is reached over its gRPC link), so
   the primary site serves again and is the one lost next.

At the end it checks, from etcd, every acknowledged write: journaled once, stored once
(0 lost, 0 duplicated), and that no entry was accepted under a superseded fencing token
(0 stale). Exit 0 when all holds and every region was served again in every repetition.

Not here yet: the partition drill (a site cut off from etcd through the proxy).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from chaos.checker import check_fencing, check_records, collect
from chaos.drill_etcd import drill_pki, secure_single
from chaos.fault_figures import percentile
from chaos.processes import descendants, kill_left, memory_of, start_time
from chaos.raw_client import RawWriter
from clients.console_tokens import CALL_TAKER, SUPERVISOR, ConsoleRoom
from cluster.config import ClusterConfig
from cluster.etcd import EtcdClient
from cluster.etcd_server import find_free_port
from cluster.etcd_tls import etcd_client_for
from cluster.keys import Keys
from cluster.ownership import OwnerRecord, read_owner
from cluster.pki import TlsFiles, local_identities
from cluster.tls import env_insecure, open_channel

EXIT_OK, EXIT_VIOLATION, EXIT_UNHEALTHY = 0, 1, 3
REPO = Path(__file__).resolve().parents[1]
PREFIX = "/site-drill/"
UP_WITHIN_S = 240.0  # a site's amk up, a safety net
SERVED_WITHIN_S = 30.0  # every region served again after a loss, a safety net
FILL_CONCURRENCY = 32


@dataclass(frozen=True)
class SiteDrillSpec:
    reps: int = 5
    incidents: int = 1000  # live incidents per region before the first loss
    writers: int = 6
    no_fault_s: float = 0.0  # writing with both sites up first: no owner may change
    # After each return, hand every region back to the returned site by command (at its
    # gateway): the primary site serves again, and is the one lost next time.
    handback: bool = False
    steady_s: float = 3.0  # writing before the kill
    after_s: float = 6.0  # writing after the kill
    seed: str = ""  # a seed file for both sites ("": Helse Sør-Øst's)


@dataclass
class Site:
    """One ``amk up --site NAME`` with its own local Ray."""

    name: str
    home: Path
    gateway: str
    etcd: str
    # The drill's PKI folder (chaos.drill_etcd): the site's etcd certificates.
    pki: Path = field(kw_only=True)
    seed: str = field(default="", kw_only=True)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    log: Path = field(default_factory=Path)

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "amk.toml").write_text(
            f'key_prefix = "{PREFIX}"\nsites = ["a", "b"]\n'
            f'ray_namespace = "amk-site-drill-{self.name}"\nmetrics_port_offset = 0\n'
            f'pki_dir = "{self.pki}"\n'
            'web_address = "off"\n'  # two sites on one machine; the drill needs none
            + (f'seed_file = "{REPO / self.seed}"\n' if self.seed else "")
        )
        env = {
            **os.environ,
            "AMK_HOME": str(self.home),
            "AMK_GATEWAY": self.gateway,
            "AMK_ETCD": self.etcd,
            "AMK_PKI": str(self.pki),  # one CA for both sites: their links trust each other
            "PYTHONPATH": str(REPO),
        }
        env.pop("RAY_ADDRESS", None)
        for name in ("AMK_ACCESS_TABLE", "AMK_AUTH", "AMK_TOKEN"):  # the shipped policy, on
            env.pop(name, None)
        self.starts += 1
        self.log = self.home / f"up-{self.starts}.out"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "clients.cli", "up", "--site", self.name],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_up(self) -> float:
        """Seconds until it said "up" (raises if it exited or took too long)."""
        assert self.proc is not None
        t0 = time.monotonic()
        while "AMK cluster up" not in self.log.read_text():
            if self.proc.poll() is not None or time.monotonic() - t0 > UP_WITHIN_S:
                raise RuntimeError(f"site {self.name} not up: {self.log.read_text()[-2000:]}")
            time.sleep(0.2)
        return time.monotonic() - t0

    def processes(self) -> dict[int, str | None]:
        assert self.proc is not None
        return {p: start_time(p) for p in {self.proc.pid, *descendants(self.proc.pid)}}

    def kill(self) -> int:
        """SIGKILL every process of the site at once; how many there were."""
        found = self.processes()
        kill_left(found)
        assert self.proc is not None
        self.proc.wait(timeout=30)
        return len(found)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        found = self.processes()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=120)
        finally:
            kill_left(found)


def fresh_folder(report_dir: Path) -> None:
    """The drill's folder without an earlier run's etcd data and site folders: the
    etcd here is the drill's own, and a second run on the first one's data would start
    with twice the incidents (every run in a folder slower than the one before)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    for name in ("etcd", "site-a", "site-b"):
        shutil.rmtree(report_dir / name, ignore_errors=True)
    (report_dir / "etcd.log").unlink(missing_ok=True)


async def _owners(client: EtcdClient, keys: Keys, regions: list[str]) -> dict[str, str]:
    out = {}
    for region in regions:
        owner = await read_owner(client, keys, region)
        out[region] = f"{owner.record.centre}@{owner.record.site}" if owner else ""
    return out


def drill_tls(report_dir: Path) -> TlsFiles | None:
    """The console identity of the drill's shared CA (made here, before either site
    starts); None when the drill runs insecure (``AMK_INSECURE=1``, inherited by both
    sites)."""
    if env_insecure():
        return None
    return local_identities(report_dir / "pki").console


async def _fill(
    gateway: str,
    points: dict[str, tuple[float, float]],
    per_region: int,
    tls: TlsFiles | None,
    room: ConsoleRoom,
) -> int:
    """``per_region`` incidents in every region (through ``gateway``, each by a
    call-taker of the centre serving the region); how many."""
    queue = [r for r in sorted(points) for _ in range(per_region)]
    done = 0
    async with open_channel(gateway, tls) as channel:
        stub = pb_grpc.DispatchServiceStub(channel)

        async def worker() -> None:
            nonlocal done
            while queue:
                region = queue.pop()
                lat, lon = points[region]
                req = pb.CreateIncidentRequest(
                    request_id=uuid.uuid4().hex,
                    region=region,
                    position=pb.Position(lat=lat, lon=lon),
                )
                await room.call_async(
                    stub,
                    region,
                    lambda md, r=req: stub.CreateIncident(r, timeout=30, metadata=md),
                    CALL_TAKER,
                )
                done += 1

        await asyncio.gather(*(worker() for _ in range(FILL_CONCURRENCY)))
    return done


async def hand_back(
    gateway: str, regions: list[str], tls: TlsFiles | None, room: ConsoleRoom
) -> float:
    """Hand every region back to its home centre in ``gateway``'s site (its home
    centre's supervisor asks); seconds taken."""
    from amk.coordination.v1 import coordination_pb2 as cpb
    from amk.coordination.v1 import coordination_pb2_grpc as cpb_grpc

    t0 = time.monotonic()
    async with open_channel(gateway, tls) as channel:
        stub = cpb_grpc.CoordinationServiceStub(channel)
        for region in regions:
            req = cpb.HandBackRegionRequest(request_id=uuid.uuid4().hex, region=region)
            md = room.centre_metadata(room.home[region], SUPERVISOR)
            await stub.HandBackRegion(req, timeout=60, metadata=md)
    return time.monotonic() - t0


async def follow_owners(client: EtcdClient, keys: Keys, out: list[dict[str, Any]]) -> None:
    """Every owner key change (revoked: deleted; claimed: put), with the time seen."""
    prefix = keys.regions_prefix()
    start = await client.revision() + 1
    async for _, events in client.watch_prefix(prefix, start_revision=start):
        now = time.time()
        for ev in events:
            parsed = keys.parse(ev.kv.key)
            if parsed and parsed[2] == "owner":
                site = "" if ev.deleted else OwnerRecord.decode(ev.kv.value).site
                out.append(
                    {
                        "t": now,
                        "region": parsed[1],
                        "put": not ev.deleted,
                        "site": site,
                        "token": ev.kv.mod_revision,
                    }
                )


def timeline(
    changes: list[dict[str, Any]], regions: list[str], t_kill: float, t_end: float
) -> dict[str, dict[str, Any]]:
    """Per region, seconds from the kill to its owner key's revoke and to the claim,
    and the new owner's fencing token (the claim's revision)."""
    out: dict[str, dict[str, Any]] = {}
    for region in regions:
        mine = [c for c in changes if c["region"] == region and t_kill <= c["t"] <= t_end]
        gone = [c["t"] for c in mine if not c["put"]]
        claims = [c for c in mine if c["put"]]
        out[region] = {
            "revoked_s": round(min(gone) - t_kill, 3) if gone else None,
            "claimed_s": round(claims[0]["t"] - t_kill, 3) if claims else None,
            "token": claims[0]["token"] if claims else None,
        }
    return out


def first_acks(
    acked: list[dict[str, Any]], owners: dict[str, dict[str, Any]], t_kill: float
) -> dict[str, Any]:
    """Per area region, seconds from the kill to the first write acknowledged by the new
    owner: its revision is past the new owner's claim (its fencing token). A write in
    flight at the kill counts: the gateway held it until the new owner took it, which
    is what a dispatcher waits for (None: no such write in the window)."""
    out: dict[str, float | None] = {}
    for region, seen in owners.items():
        token = seen.get("token")
        done = [
            r["t_done"]
            for r in acked
            if r["region"] == region and token and r["revision"] > token and r["t_done"] > t_kill
        ]
        out[region] = round(min(done) - t_kill, 3) if done else None
    return out


async def run_site_drill(spec: SiteDrillSpec, report_dir: Path) -> dict[str, Any]:
    await asyncio.to_thread(fresh_folder, report_dir)
    etcd = await secure_single(report_dir, PREFIX)
    pki = drill_pki(report_dir)
    seeded = {"seed_file": REPO / spec.seed} if spec.seed else {}
    config = ClusterConfig.load(
        key_prefix=PREFIX, sites=["a", "b"], site="a", pki_dir=pki, **seeded
    )
    keys = Keys(PREFIX)
    regions = config.region_ids()
    seed = config.seed
    # Writes go to the area regions (an AMK-LA region takes no incidents); every region,
    # the AMK-LA's too, is checked for its owner.
    points = {r.id: (seed.centre(r.home).lat, seed.centre(r.home).lon) for r in seed.area_regions()}
    sites = {
        n: Site(
            n,
            report_dir / f"site-{n}",
            f"127.0.0.1:{find_free_port()}",
            etcd.endpoint,
            pki=pki,
            seed=spec.seed,
        )
        for n in ("a", "b")
    }
    client = etcd_client_for(config, [etcd.endpoint])
    tls = drill_tls(report_dir)
    room = ConsoleRoom(config)  # every centre's consoles: tokens from the drill's issuer
    result: dict[str, Any] = {"spec": asdict(spec), "reps": [], "exit_code": EXIT_UNHEALTHY}
    acked: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    follower: asyncio.Task[None] | None = None
    try:
        for name in ("a", "b"):  # a first: it is every region's primary site
            sites[name].start()
            result[f"site_{name}_up_s"] = round(await asyncio.to_thread(sites[name].wait_up), 1)
        for name, site in sites.items():  # both up: what each site's processes hold
            pids = list(site.processes())
            pss = sum(memory_of(p)["pss_mb"] for p in pids)
            result[f"site_{name}_memory"] = {"processes": len(pids), "pss_mb": round(pss)}
        t0 = time.monotonic()
        result["filled"] = await _fill(sites["b"].gateway, points, spec.incidents, tls, room)
        result["fill_s"] = round(time.monotonic() - t0, 1)
        follower = asyncio.create_task(follow_owners(client, keys, changes))
        if spec.no_fault_s > 0:
            # The price of a false alarm is a whole site's takeover: both sites up and
            # under load, no owner key may change.
            writer = RawWriter(
                sites["b"].gateway, points, tls=tls, room=room, writers=spec.writers
            ).start()
            t_start = time.time()
            await asyncio.sleep(spec.no_fault_s)
            summary = await writer.stop()
            acked += writer.acked
            result["no_fault"] = {
                "seconds": spec.no_fault_s,
                "owner_changes": len([c for c in changes if c["t"] >= t_start]),
                "writer": summary,
            }
            print(
                f"no-fault {spec.no_fault_s:g} s: {result['no_fault']['owner_changes']} "
                f"owner changes, writer errors {summary['errors']}",
                flush=True,
            )
        for rep in range(1, spec.reps + 1):
            owners = await _owners(client, keys, regions)
            serving = {o.rpartition("@")[2] for o in owners.values()}
            if len(serving) != 1 or "" in serving:
                raise RuntimeError(f"rep {rep}: regions not all served by one site: {owners}")
            victim = sites[serving.pop()]
            survivor = sites["b" if victim.name == "a" else "a"]
            writer = RawWriter(
                survivor.gateway, points, tls=tls, room=room, writers=spec.writers
            ).start()
            await asyncio.sleep(spec.steady_s)
            t_kill = time.time()
            killed = await asyncio.to_thread(victim.kill)
            await asyncio.sleep(spec.after_s)
            summary = await writer.stop()
            acked += writer.acked
            after = await _owners(client, keys, regions)
            owner_times = timeline(changes, regions, t_kill, time.time())
            firsts = first_acks(writer.acked, {r: owner_times[r] for r in points}, t_kill)
            rep_result = {
                "rep": rep,
                "lost_site": victim.name,
                "processes_killed": killed,
                "owners_before": owners,
                "owners_after": after,
                "first_ack_after_kill_s": firsts,
                "owner_key_after_kill_s": owner_times,
                "writer": summary,
            }
            victim.start()
            rep_result["return_up_s"] = round(await asyncio.to_thread(victim.wait_up), 1)
            if spec.handback:
                rep_result["handback_s"] = round(
                    await hand_back(victim.gateway, regions, tls, room), 2
                )
                back = await _owners(client, keys, regions)
                rep_result["owners_after_handback"] = back
                if any(not o.endswith(f"@{victim.name}") for o in back.values()):
                    raise RuntimeError(f"rep {rep}: hand-back left {back}")
            result["reps"].append(rep_result)
            print(
                f"rep {rep}: lost site {victim.name} ({killed} processes); first ack after "
                f"the kill: max {max((v for v in firsts.values() if v is not None), default=None)}"
                f" s; writer errors {summary['errors']}",
                flush=True,
            )
        snap = await collect(client, keys)
        records = check_records(acked, snap)
        stale = check_fencing(snap.journal, snap.owners)
        samples = [v for r in result["reps"] for v in r["first_ack_after_kill_s"].values()]
        missing = sum(1 for v in samples if v is None)
        measured = [v for v in samples if v is not None]
        result["summary"] = {
            "acked": len(acked),
            "lost": len(records["lost"]),
            "duplicated": len(records["duplicated"]),
            "stale": len(stale),
            "writer_errors": sum(r["writer"]["errors"] for r in result["reps"]),
            "samples": len(samples),
            "missing": missing,
            "first_ack_p50_s": percentile(measured, 50) if measured else None,
            "first_ack_p99_s": percentile(measured, 99) if measured else None,
            "first_ack_max_s": max(measured, default=None),
        }
        result["violations"] = {
            "lost": records["lost"][:20],
            "duplicated": records["duplicated"][:20],
            "stale": stale[:20],
        }
        result["summary"].update({k: v for k, v in result.items() if k.startswith("site_")})
        false_alarms = result.get("no_fault", {}).get("owner_changes", 0)
        result["summary"]["no_fault_owner_changes"] = false_alarms
        ok = (
            not records["lost"]
            and not records["duplicated"]
            and not stale
            and not missing
            and not false_alarms
        )
        result["exit_code"] = EXIT_OK if ok else EXIT_VIOLATION
        return result
    finally:
        if follower is not None:
            follower.cancel()
        for site in sites.values():
            await asyncio.to_thread(site.stop)
        await client.close()
        etcd.stop()
        (report_dir / "report.json").write_text(json.dumps(result, indent=2, default=str))
        (report_dir / "README.md").write_text(report_markdown(result))


def report_markdown(result: dict[str, Any]) -> str:
    """The drill's report for people: per repetition, per region, kill -> first ack."""
    s = result.get("summary", {})
    lines = [
        "# Site-loss drill",
        "",
        f"Command: `python -m chaos.site_drill --reps {result['spec']['reps']} --incidents "
        f"{result['spec']['incidents']} --no-fault {result['spec']['no_fault_s']:g}"
        f"{' --handback' if result['spec'].get('handback') else ''}` "
        "(two sites, each `amk up --site` with its own Ray; one etcd). Written by "
        "`chaos/site_drill.py`.",
        "",
        f"- Live incidents filled before the first loss: {result.get('filled', '?')} "
        f"({result['spec']['incidents']} per region).",
        f"- Acknowledged writes checked: {s.get('acked', '?')}; lost {s.get('lost', '?')}, "
        f"duplicated {s.get('duplicated', '?')}, stale (superseded token) {s.get('stale', '?')}; "
        f"raw-writer errors {s.get('writer_errors', '?')}.",
        f"- Kill -> first write acknowledged by the new owner, every region x repetition "
        f"({s.get('samples', '?')} samples, {s.get('missing', '?')} missing): p50 "
        f"{s.get('first_ack_p50_s')} s, p99 {s.get('first_ack_p99_s')} s, max "
        f"{s.get('first_ack_max_s')} s.",
        f"- No-fault phase (both sites up, writing): "
        f"{result.get('no_fault', {}).get('seconds', 'not run')} s, owner changes "
        f"{result.get('no_fault', {}).get('owner_changes', '-')} (a false alarm would "
        "take over a whole site).",
        "- Hand-back after each return: "
        + (
            ", ".join(f"rep {r['rep']} {r['handback_s']} s" for r in result.get("reps", []))
            if result["spec"].get("handback")
            else "not asked (--handback)"
        )
        + ".",
        f"- Exit code {result.get('exit_code')}.",
        "",
        "Per region: the owner key revoked (the other site's supervisor presumed the site "
        "lost: its beat stopped), claimed by the next seat, and the first write "
        "acknowledged by the new owner, each in seconds from the kill.",
        "",
        "| rep | lost site | processes killed | region | owner before | owner after | "
        "revoked s | claimed s | first ack s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in result.get("reps", []):
        for region in r["owners_before"]:
            t = r["first_ack_after_kill_s"].get(region)
            o = r.get("owner_key_after_kill_s", {}).get(region, {})
            lines.append(
                f"| {r['rep']} | {r['lost_site']} | {r['processes_killed']} | {region} | "
                f"{r['owners_before'].get(region, '')} | {r['owners_after'].get(region, '')} | "
                f"{o.get('revoked_s')} | {o.get('claimed_s')} | "
                f"{t if t is not None else '-'} |"
            )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m chaos.site_drill", description=__doc__)
    p.add_argument("--out", default=None, help="also write the report's JSON here (run_all)")
    p.add_argument("--report-dir", default=None, help="default: ./drill-reports/site-loss-TIME")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--incidents", type=int, default=1000, help="live incidents per region")
    p.add_argument("--writers", type=int, default=6)
    p.add_argument("--no-fault", type=float, default=0.0, help="seconds with both sites up first")
    p.add_argument(
        "--handback",
        action="store_true",
        help="after each return, hand every region back to the returned site by command",
    )
    p.add_argument("--seed", default="", help="a seed file for both sites (default: HSØ's)")
    args = p.parse_args(argv)
    spec = SiteDrillSpec(
        reps=args.reps,
        incidents=args.incidents,
        writers=args.writers,
        no_fault_s=args.no_fault,
        handback=args.handback,
        seed=args.seed,
    )
    report_dir = Path(
        args.report_dir or f"drill-reports/site-loss-{time.strftime('%Y%m%d-%H%M%S')}"
    ).resolve()
    return finish(asyncio.run(run_site_drill(spec, report_dir)), args.out, "chaos.site_drill")


def finish(result: dict[str, Any], out: str | None, module: str) -> int:
    """A site drill's end on the command line: its command in the result, the JSON to
    ``out`` (``run_all``), the summary printed, the exit code."""
    result["command"] = " ".join([".venv/bin/python", "-m", module, *sys.argv[1:]])
    if out:
        Path(out).write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result.get("summary", {}), indent=2))
    return int(result.get("exit_code", EXIT_VIOLATION))


if __name__ == "__main__":
    sys.exit(main())
