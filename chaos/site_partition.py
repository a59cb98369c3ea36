"""The site-partition drill (issue #11): the serving site cut off from etcd, alive.

``python -m chaos.site_partition --report-dir DIR [--incidents 1000 --cut-s 8]``

Two sites as in :mod:`chaos.site_drill`, but site ``a`` (every region's primary) reaches
etcd only through a TCP proxy (:mod:`chaos.proxy`). Under raw-gRPC writes through both
sites' gateways, the proxy turns to ``blackhole`` (connections stay open, nothing
passes: a stuck network, no reset) for ``cut_s`` seconds, then passes again.

What must hold:

- every region is served by site ``b`` (its own home centre there) within the lease TTL
  + 0.5 s of the cut: site ``a``'s beat stops reaching etcd, so ``b`` presumes it lost and
  revokes its owners' leases (``actors/supervisor/site_watch.py``); the first write
  acknowledged by the new owner is timed per region;
- the cut-off site's attempted writes are all refused: no write through its gateway is
  acknowledged after the cut while it is cut off (its owners cannot reach etcd, and
  once their leases are gone their writes fail the fencing compare);
- after the cut heals, site ``a``'s instances stand by (nothing flaps back), and from
  etcd: every acknowledged write journaled and stored once (0 lost, 0 duplicated), no
  entry accepted under a superseded token (0 stale).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from chaos.checker import check_fencing, check_records, collect
from chaos.drill_etcd import drill_pki, secure_single
from chaos.proxy import TcpProxy
from chaos.raw_client import RawWriter
from chaos.site_drill import (
    EXIT_OK,
    EXIT_UNHEALTHY,
    EXIT_VIOLATION,
    PREFIX,
    Site,
    _fill,
    _owners,
    drill_tls,
    finish,
    first_acks,
    follow_owners,
    fresh_folder,
    timeline,
)
from clients.console_tokens import ConsoleRoom
from cluster.config import ClusterConfig
from cluster.etcd_server import find_free_port
from cluster.etcd_tls import etcd_client_for
from cluster.keys import Keys


@dataclass(frozen=True)
class PartitionSpec:
    incidents: int = 1000  # live incidents per region before the cut
    writers: int = 4  # per site's gateway
    steady_s: float = 3.0
    cut_s: float = 8.0
    after_s: float = 5.0  # after the heal: nothing may flap back


async def run_partition_drill(spec: PartitionSpec, report_dir: Path) -> dict[str, Any]:
    await asyncio.to_thread(fresh_folder, report_dir)
    etcd = await secure_single(report_dir, PREFIX)
    pki = drill_pki(report_dir)
    proxy = TcpProxy(etcd.endpoint).start()  # passes the TLS bytes through
    config = ClusterConfig.load(key_prefix=PREFIX, sites=["a", "b"], site="a", pki_dir=pki)
    keys = Keys(PREFIX)
    regions = config.region_ids()
    seed = config.seed
    points = {r.id: (seed.centre(r.home).lat, seed.centre(r.home).lon) for r in seed.area_regions()}
    a = Site("a", report_dir / "site-a", f"127.0.0.1:{find_free_port()}", proxy.endpoint, pki=pki)
    b = Site("b", report_dir / "site-b", f"127.0.0.1:{find_free_port()}", etcd.endpoint, pki=pki)
    client = etcd_client_for(config, [etcd.endpoint])
    tls = drill_tls(report_dir)
    room = ConsoleRoom(config)  # every centre's consoles: tokens from the drill's issuer
    result: dict[str, Any] = {"spec": asdict(spec), "exit_code": EXIT_UNHEALTHY}
    changes: list[dict[str, Any]] = []
    follower: asyncio.Task[None] | None = None
    writers: list[RawWriter] = []
    try:
        for site in (a, b):
            site.start()
            await asyncio.to_thread(site.wait_up)
        result["filled"] = await _fill(b.gateway, points, spec.incidents, tls, room)
        before = await _owners(client, keys, regions)
        if any(not o.endswith("@a") for o in before.values()):
            raise RuntimeError(f"site a does not serve every region: {before}")
        follower = asyncio.create_task(follow_owners(client, keys, changes))
        via_b = RawWriter(b.gateway, points, tls=tls, room=room, writers=spec.writers).start()
        # A shorter deadline than the cut: a call held through the cut ends (refused)
        # rather than waiting for the heal.
        via_a = RawWriter(
            a.gateway, points, tls=tls, room=room, writers=spec.writers, deadline_s=3.0
        ).start()
        writers = [via_a, via_b]
        await asyncio.sleep(spec.steady_s)
        t_cut = time.time()
        proxy.set_mode("blackhole")
        await asyncio.sleep(spec.cut_s)
        t_heal = time.time()
        proxy.set_mode("pass")
        await asyncio.sleep(spec.after_s)
        summary_a, summary_b = await via_a.stop(), await via_b.stop()
        writers = []
        t_end = time.time()
        owner_times = timeline(changes, regions, t_cut, t_heal)
        firsts = first_acks(via_b.acked, {r: owner_times[r] for r in points}, t_cut)
        # Sent after the cut and acknowledged before the heal: accepted by the cut-off
        # site while it could not reach etcd (a write committed just before the cut may
        # still be acknowledged just after it: that one was sent before).
        acked_cut_off = [r for r in via_a.acked if r["t"] > t_cut and r["t_done"] <= t_heal]
        acked_after_heal = [r for r in via_a.acked if r["t_done"] > t_heal]
        after = await _owners(client, keys, regions)
        flapped = [c for c in changes if t_heal <= c["t"] <= t_end]
        snap = await collect(client, keys)
        records = check_records(via_a.acked + via_b.acked, snap)
        stale = check_fencing(snap.journal, snap.owners)
        ttl = config.lease_ttl_s
        measured = [v for v in firsts.values() if v is not None]
        result.update(
            {
                "owners_before": before,
                "owners_after": after,
                "owner_key_after_cut_s": owner_times,
                "first_ack_by_new_owner_s": firsts,
                "writer_via_cut_off_site": summary_a,
                "writer_via_other_site": summary_b,
                "acked_via_cut_off_site_while_cut": len(acked_cut_off),
                # After the heal its gateway reaches the new owners in the other site.
                "acked_via_cut_off_site_after_heal": len(acked_after_heal),
                "owner_changes_after_heal": len(flapped),
                "summary": {
                    "acked": len(via_a.acked) + len(via_b.acked),
                    "lost": len(records["lost"]),
                    "duplicated": len(records["duplicated"]),
                    "stale": len(stale),
                    "served_elsewhere_max_s": max(measured, default=None),
                    "target_s": ttl + 0.5,
                    "missing": sum(1 for v in firsts.values() if v is None),
                },
                "violations": {
                    "lost": records["lost"][:20],
                    "duplicated": records["duplicated"][:20],
                    "stale": stale[:20],
                    "acked_while_cut": acked_cut_off[:20],
                },
            }
        )
        s = result["summary"]
        ok = (
            not records["lost"]
            and not records["duplicated"]
            and not stale
            and not acked_cut_off
            and not flapped
            and s["missing"] == 0
            and all(o.endswith("@b") for o in after.values())
            and s["served_elsewhere_max_s"] is not None
            and s["served_elsewhere_max_s"] <= ttl + 0.5
        )
        result["exit_code"] = EXIT_OK if ok else EXIT_VIOLATION
        return result
    finally:
        for w in writers:
            await w.stop()
        if follower is not None:
            follower.cancel()
        for site in (a, b):
            await asyncio.to_thread(site.stop)
        await client.close()
        proxy.stop()
        etcd.stop()
        (report_dir / "report.json").write_text(json.dumps(result, indent=2, default=str))
        (report_dir / "README.md").write_text(report_markdown(result))


def report_markdown(result: dict[str, Any]) -> str:
    s = result.get("summary", {})
    spec = result["spec"]
    lines = [
        "# Site-partition drill",
        "",
        f"Command: `python -m chaos.site_partition --incidents {spec['incidents']} --cut-s "
        f"{spec['cut_s']:g}` (two sites, each `amk up --site` with its own Ray; site a, "
        "every region's primary, reaches etcd through a proxy that blackholes it). "
        "Written by `chaos/site_partition.py`.",
        "",
        f"- Live incidents before the cut: {result.get('filled', '?')}.",
        f"- Every region served by site b: first write acknowledged by its new owner at most "
        f"{s.get('served_elsewhere_max_s')} s after the cut (target: lease TTL + 0.5 = "
        f"{s.get('target_s')} s); {s.get('missing', '?')} regions missing.",
        f"- Writes through the cut-off site's gateway acknowledged while it was cut off: "
        f"{result.get('acked_via_cut_off_site_while_cut', '?')} (its writer: "
        f"{result.get('writer_via_cut_off_site', {}).get('errors_by_code', {})}, deadline "
        "3 s); after the heal its gateway reached the new owners: "
        f"{result.get('acked_via_cut_off_site_after_heal', '?')} acknowledged.",
        f"- Owner changes after the heal (flapping back): "
        f"{result.get('owner_changes_after_heal', '?')}.",
        f"- Acknowledged writes checked: {s.get('acked', '?')}; lost {s.get('lost', '?')}, "
        f"duplicated {s.get('duplicated', '?')}, stale {s.get('stale', '?')}.",
        f"- Exit code {result.get('exit_code')}.",
        "",
        "| region | owner before | owner after | revoked s | claimed s | first ack (new owner) s |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for region, before in result.get("owners_before", {}).items():
        o = result.get("owner_key_after_cut_s", {}).get(region, {})
        t = result.get("first_ack_by_new_owner_s", {}).get(region)
        lines.append(
            f"| {region} | {before} | {result['owners_after'].get(region, '')} | "
            f"{o.get('revoked_s')} | {o.get('claimed_s')} | {t if t is not None else '-'} |"
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m chaos.site_partition", description=__doc__)
    p.add_argument("--out", default=None, help="also write the report's JSON here (run_all)")
    p.add_argument("--report-dir", default=None)
    p.add_argument("--incidents", type=int, default=1000, help="live incidents per region")
    p.add_argument("--cut-s", type=float, default=8.0, help="seconds site a is cut off")
    args = p.parse_args(argv)
    spec = PartitionSpec(incidents=args.incidents, cut_s=args.cut_s)
    report_dir = Path(
        args.report_dir or f"drill-reports/site-partition-{time.strftime('%Y%m%d-%H%M%S')}"
    ).resolve()
    result = asyncio.run(run_partition_drill(spec, report_dir))
    return finish(result, args.out, "chaos.site_partition")


if __name__ == "__main__":
    sys.exit(main())
