"""Scale: memory per hosted entity, takeover time against region size, recommendation
time against fleet size, and Watch fan-out to many consoles.

1. ``memory``: bytes per hosted incident and unit, built the way ``RegionHost.load``
   builds them (decoded from their stored JSON), measured with tracemalloc in this
   process and as an RSS delta in a fresh child process; a bare incident (as a plain
   CreateIncident makes it) and a typical one (triaged, address, caller, a note, an
   assigned unit).
2. ``load``: 100 / 1,000 / 10,000 / 100,000 incidents written straight to etcd under a
   test prefix with a ``FencedStore``; then ``RegionHost.load`` timed at that size (what
   a takeover reads and decodes). Where it fails, the error is the figure; a paged read
   (1,000 keys a page, bench code only, not what the centre does) shows what a fix costs.
3. ``takeover``: a full centre takeover at 100 / 1,000 / 10,000 incidents: the region's
   incidents are topped up in etcd, its owner is killed (kill -9), and the backup's
   takeover (owner gone -> region loaded) and the first acknowledged write by the new
   owner are timed; the hand-back (the home centre loads the region again) too. Sizes
   that ``RegionHost.load`` could not read in step 2 are skipped (the region would be
   left without a serving owner).
4. ``recommend``: ``bench/recommend_bench.py`` over 100 ... 100,000 units.
5. ``watch``: 1, 10 and 100 consoles (``--consoles``) with a ``Watch`` stream each, a
   dispatcher of centre i % 5 watching the regions it serves (identities on: since
   issue #13 an event reaches the consoles of its region's centre, not every console),
   while a writer creates incidents at 20/s, round robin over the regions:
   delivery latency from the create's send (and from its ack) to each console's receipt,
   p50/p99 per console, and the CPU of the gateways and the clients. The consoles spread
   over ``--watch-gateways`` gateways and ``--console-procs`` client processes
   (``bench/watch_consoles.py``: real consoles each decode only their own stream).

    .venv/bin/python bench/scale_bench.py [--quick] [--out FILE] [--parts memory,load,...]
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import subprocess
import sys
import time
import tracemalloc
import uuid
from typing import Any

import benchlib as bl
import watch_consoles as wc
import watch_point as wp

from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc

PARTS = ("memory", "load", "takeover", "recommend", "watch")
# (incidents, typical?): bare records as a plain create makes them (~300 bytes stored),
# typical ones as a worked incident looks (~520 bytes: triaged, address, a note, a unit).
LOAD_SIZES = ((100, False), (1_000, False), (10_000, False), (10_000, True), (100_000, False))
TAKEOVER_SIZES = ((100, False), (1_000, False), (10_000, False), (10_000, True))
CONSOLES = (1, 10, 100)
GRPC_DEFAULT_MAX_RECEIVE = 4 * 1024 * 1024


# ---------------------------------------------------------------- records


def make_incident(i: int, typical: bool, region: str = "oslo", code: str = "OSL-") -> Any:
    """An incident as the centre makes it: bare (a plain create) or typical (triaged,
    with address, caller, a note and an assigned unit)."""
    from actors.domain import decide
    from actors.domain.commands import CreateIncident
    from actors.domain.model import Position
    from actors.domain.triage import default_table

    table = _TABLE.get("t") or _TABLE.setdefault("t", default_table())
    now = 1_790_000_000.0 + i
    if not typical:
        cmd = CreateIncident(f"r{i}", region, Position(59.91 + i * 1e-6, 10.75, 25))
        return decide.create_incident(cmd, f"{code}{i:06d}", now, table)
    cmd = CreateIncident(
        f"r{i}",
        region,
        Position(59.91 + i * 1e-6, 10.75, 25),
        address=f"Karl Johans gate {i % 200}",
        caller_number="+47 912 34 567",
        criteria_code="A.10.01",
        notes="Mann, 60 år, brystsmerter, bevisst, puster normalt.",
    )
    inc = decide.create_incident(cmd, f"{code}{i:06d}", now, table)
    inc.assigned_unit_ids.append(f"osl-a{i % 90:02d}")
    return inc


_TABLE: dict[str, Any] = {}


def make_unit(i: int) -> Any:
    from actors.domain.model import CrewLevel, Position, Unit, UnitKind, UnitStatus

    return Unit(
        id=f"osl-b{i:05d}",
        call_sign=f"Oslo {i}",
        region="oslo",
        kind=UnitKind.ROAD_AMBULANCE,
        crew=CrewLevel.PARAMEDIC,
        status=UnitStatus.AVAILABLE_AT_STATION,
        position=Position(59.93 + i * 1e-6, 10.73, 0.0),
        station="Ullevål ambulansestasjon",
        updated_at=1_790_000_000.0,
        home_region="oslo",
    )


def build_hosted(kind: str, n: int) -> dict[str, Any]:
    """``n`` records decoded from their stored JSON, in a dict by id (as a RegionHost)."""
    from actors.domain.model import Incident, Unit

    if kind == "unit":
        raws = [make_unit(i).encode() for i in range(n)]
        decode = Unit.decode
    else:
        raws = [make_incident(i, kind == "typical_incident").encode() for i in range(n)]
        decode = Incident.decode
    hosted: dict[str, Any] = {}
    for rev, raw in enumerate(raws, start=1000):
        rec = decode(raw, rev)
        hosted[rec.id] = rec
    return hosted


def memory_child(kind: str, n: int) -> dict[str, Any]:
    """In a fresh process: RSS before and after hosting ``n`` records."""
    import actors.domain.model
    import actors.domain.triage

    actors.domain.triage.default_table()
    make_incident(0, True)
    make_unit(0)
    gc.collect()
    before = bl.memory_of(os.getpid())["rss_mb"]
    hosted = build_hosted(kind, n)
    gc.collect()
    after = bl.memory_of(os.getpid())["rss_mb"]
    return {"n": len(hosted), "rss_delta_bytes_per_record": round((after - before) * 2**20 / n)}


def part_memory(quick: bool) -> dict[str, Any]:
    n = 2_000 if quick else 10_000
    out: dict[str, Any] = {"n": n}
    for kind in ("bare_incident", "typical_incident", "unit"):
        build_hosted(kind, 10)  # warm imports and caches
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.take_snapshot()
        hosted = build_hosted(kind, n)
        gc.collect()
        snap = tracemalloc.take_snapshot()
        tracemalloc.stop()
        delta = sum(s.size_diff for s in snap.compare_to(base, "filename"))
        sample = next(iter(hosted.values()))
        child = subprocess.run(
            [sys.executable, __file__, "--memory-child", kind, str(n)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        try:
            rss = json.loads(child.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            rss = {"error": child.stderr[-300:]}
        out[kind] = {
            "tracemalloc_bytes_per_record": round(delta / n),
            "rss_child": rss,
            "stored_json_bytes": len(sample.encode()),
        }
        del hosted
    return out


# ---------------------------------------------------------------- load


async def fill(
    client: Any, keys: Any, fence: Any, start: int, n: int, typical: bool, *, top_up: bool = False
) -> tuple[float, int]:
    """Write incidents ``start .. start+n-1`` of region oslo in guarded batches of 100;
    returns the seconds it took and the bytes of the keys and values written.

    ``top_up``: into a region a centre serves. The ids (``OSL-T0000123``) then have no
    number a centre would parse, and the region's counter is left alone, so the centre's
    own numbering can never run into them."""
    from cluster.store import FencedStore, Write

    store = FencedStore(client, keys, writer="bench-scale-fill")
    t0 = time.monotonic()
    sem = asyncio.Semaphore(8)
    hi = start + n - 1
    written = [0]

    async def batch(lo: int) -> None:
        async with sem:
            code = "OSL-T0" if top_up else "OSL-"
            ids = range(lo, min(lo + 100, start + n))
            incs = [make_incident(i, typical, code=code) for i in ids]
            puts = [(keys.incident("oslo", x.id), x.encode()) for x in incs]
            written[0] += sum(len(k) + len(v) for k, v in puts)
            if not top_up:
                puts.append((keys.counter("oslo"), str(hi).encode()))
            await store.commit(Write((fence,), puts, "BenchFill", "bench", details={}))

    await asyncio.gather(*(batch(lo) for lo in range(start, start + n, 100)))
    return time.monotonic() - t0, written[0]


async def paged_load(client: Any, keys: Any, revision: int, page: int = 1000) -> int:
    """What a paged read of the region's incidents costs (bench code, not the centre's)."""
    from actors.domain.model import Incident

    kvs, _ = await client.get_prefix(keys.incidents_prefix("oslo"), revision=revision, page=page)
    for kv in kvs:
        Incident.decode(kv.value, kv.mod_revision)
    return len(kvs)


async def part_load(endpoint: str, quick: bool) -> dict[str, Any]:
    from actors.centre.region_host import RegionHost
    from cluster import ownership
    from cluster.keys import Keys

    sizes = ((100, False), (1_000, False), (10_000, True)) if quick else LOAD_SIZES
    client = bl.etcd_client(endpoint, request_timeout_s=60)
    out: dict[str, Any] = {"sizes": []}
    try:
        for n, typical in sizes:
            keys = Keys(f"{bl.BENCH_KEY_ROOT}scale/{uuid.uuid4().hex[:6]}/")
            lease, _ = await client.lease_grant(120)
            rec = ownership.now_record("bench", "bench-fill", lease)
            fence, _ = await ownership.claim(client, keys, "oslo", rec)
            assert fence is not None
            fill_s, size_bytes = await fill(client, keys, fence, 1, n, typical)
            # Claim again after the fill: a load reads at the claim's revision.
            await ownership.step_down(client, fence)
            fence, _ = await ownership.claim(client, keys, "oslo", rec)
            assert fence is not None
            row: dict[str, Any] = {
                "incidents": n,
                "records": "typical" if typical else "bare",
                "fill_s": round(fill_s, 2),
                "fill_rate_per_s": round(n / fill_s),
                "stored_bytes": size_bytes,
                "over_grpc_default_4mib_limit": size_bytes > GRPC_DEFAULT_MAX_RECEIVE,
            }
            times = []
            for _ in range(1 if n >= 100_000 else 3):
                gc.collect()
                t0 = time.monotonic()
                try:
                    host = await RegionHost.load(client, keys, "oslo", "OSL", fence)
                except Exception as exc:
                    row["load_error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
                    break
                times.append(time.monotonic() - t0)
                row["loaded_incidents"] = len(host.incidents)
                del host
            if times:
                row["region_host_load_s"] = bl.summary_s(times)
            t0 = time.monotonic()
            row["paged_load_incidents"] = await paged_load(client, keys, fence.token)
            row["paged_load_s"] = round(time.monotonic() - t0, 3)
            bl.note(
                f"load n={n} {row['records']}: RegionHost.load "
                f"{row.get('region_host_load_s', {}).get('median_s', row.get('load_error'))}"
                f" s; paged {row['paged_load_s']} s; ~{size_bytes / 2**20:.1f} MiB"
            )
            out["sizes"].append(row)
            await client.lease_revoke(lease)
            await client.txn(
                [], [_op_delete_prefix(keys.all())]
            )  # free the space for the next size
    finally:
        await client.close()
    return out


def _op_delete_prefix(prefix: bytes) -> Any:
    from aetcd import rpc

    from cluster.keys import prefix_range_end

    return rpc.RequestOp(
        request_delete_range=rpc.DeleteRangeRequest(key=prefix, range_end=prefix_range_end(prefix))
    )


# ---------------------------------------------------------------- takeover


async def top_up(
    cluster: bl.Cluster, etcd: Any, region: str, target: int, start: int, typical: bool
) -> int:
    """Write incidents into ``region`` under its owner's current fence until it holds
    ``target`` in etcd; returns the next free number."""
    from cluster.keys import Keys
    from cluster.ownership import Fence

    keys = Keys(cluster.config.key_prefix)
    kvs, _ = await etcd.get_prefix(keys.incidents_prefix(region), keys_only=True)
    missing = target - len(kvs)
    if missing <= 0:
        return start
    kv = await etcd.get(keys.owner(region))
    fence = Fence(region, keys.owner(region), kv.mod_revision, kv.value)
    await fill(etcd, keys, fence, start, missing, typical, top_up=True)
    return start + missing


async def part_takeover(
    endpoint: str, quick: bool, feasible: set[tuple[int, bool]] | None
) -> dict[str, Any]:
    import failover_bench as fb

    region = "oslo"
    sizes = ((100, False), (1_000, False)) if quick else TAKEOVER_SIZES
    out: dict[str, Any] = {"sizes": [], "skipped": {}}
    async with bl.deployment(endpoint) as cluster:
        ch = bl.channel(cluster.gateway, cluster.tls)
        stub = pb_grpc.DispatchServiceStub(ch)
        from amk.coordination.v1 import coordination_pb2_grpc as cpb_grpc

        coord = cpb_grpc.CoordinationServiceStub(ch)
        etcd = bl.etcd_client(endpoint, request_timeout_s=30)
        writer = fb.Writer(stub, region, cluster.room)
        number = 1
        try:
            for n, typical in sizes:
                label = f"{n} {'typical' if typical else 'bare'}"
                if feasible is not None and (n, typical) not in feasible:
                    out["skipped"][label] = "RegionHost.load failed at this size (see load)"
                    continue
                if typical:  # replace the bare top-ups by typical records
                    await _delete_region_incidents(cluster, etcd, region)
                number = await top_up(cluster, etcd, region, n, number, typical)
                pids = await cluster.refresh_pids()
                backup = cluster.config.seed.region(region).backups[0]
                rss_before = bl.memory_of(pids[f"centre:{backup}"])
                row = await fb.repetition(cluster, etcd, stub, coord, region, "kill", writer)
                row["backup_rss_before_mb"] = rss_before["rss_mb"]
                row["incidents"] = n
                row["records"] = "typical" if typical else "bare"
                out["sizes"].append(row)
                bl.note(
                    f"takeover n={label}: backup loaded in "
                    f"{row.get('takeover_record', {}).get('duration_ms')} ms; first ack by new "
                    f"owner {row['fault_to_first_new_owner_ack_s'] * 1000:.0f} ms; "
                    f"hand-back {row['hand_back_s'] * 1000:.0f} ms"
                )
        finally:
            await etcd.close()
            await ch.close()
    return out


async def _delete_region_incidents(cluster: bl.Cluster, etcd: Any, region: str) -> None:
    """Bench-only reset between sizes (outside any centre's fence; nobody writes the
    region's old incidents meanwhile, the writer only creates new ones)."""
    from cluster.keys import Keys

    await etcd.txn(
        [], [_op_delete_prefix(Keys(cluster.config.key_prefix).incidents_prefix(region))]
    )


# ---------------------------------------------------------------- recommend


def part_recommend(quick: bool) -> dict[str, Any]:
    import recommend_bench as rb

    rng = random.Random(1)
    rows = []
    for n in rb.SIZES:
        calls = (20 if n <= 10_000 else 5) if quick else (200 if n <= 10_000 else 40)
        rows.append(rb.bench(n, calls, rng))
        bl.note(f"recommend {n} units: median {rows[-1]['median_ms']} ms")
    return {"results": rows}


# ---------------------------------------------------------------- watch


async def part_watch(
    endpoint: str,
    quick: bool,
    consoles_asked: tuple[int, ...] = CONSOLES,
    gateways: int = 1,
    procs: int = 1,
) -> dict[str, Any]:
    """Consoles watching their centre's regions while a writer creates incidents at a
    fixed rate, round robin over the regions."""

    rate = 20.0
    seconds = 2.0 if quick else 8.0
    consoles = (1, 10) if quick else consoles_asked
    out: dict[str, Any] = {
        "rate_per_s": rate,
        "seconds": seconds,
        "gateways": gateways,
        "console_procs": procs,
        "stream": os.environ.get(wc.STREAM_ENV, "batches"),
        "regions_watched": "each console its centre's (identities on)",
        "points": [],
    }
    async with bl.deployment(endpoint, gateways=gateways) as cluster:
        pids = await cluster.refresh_pids()
        states = await cluster.deployment.gateway_states()
        pids["gateway"] = [g.pid for g in states]
        addresses = [g.address for g in states]
        etcd = bl.etcd_client(endpoint)
        writer = bl.channel(cluster.gateway, cluster.tls)
        # Console i: a dispatcher of centre i % 5, watching the regions it serves (the
        # console processes inherit the list); the writer a call-taker of each region's.
        centres = cluster.config.centre_ids()
        os.environ[wc.CONSOLES_ENV] = json.dumps(
            [[c, cluster.room.token(c)] for c in centres] if cluster.room.enabled else []
        )
        try:
            for n in consoles:
                point = await wp.watch_point(
                    pb_grpc.DispatchServiceStub(writer),
                    etcd,
                    pids,
                    cluster.config,
                    (addresses, n, procs),
                    rate,
                    seconds,
                    cluster.room,
                )
                out["points"].append(point)
        finally:
            os.environ.pop(wc.CONSOLES_ENV, None)
            await etcd.close()
            await writer.close()
    return out


async def run(args: Any, endpoint: str) -> dict[str, Any]:
    parts = args.parts.split(",")
    out: dict[str, Any] = {}
    if "memory" in parts:
        bl.note("memory per hosted entity")
        out["memory"] = part_memory(args.quick)
    feasible: set[tuple[int, bool]] | None = None  # None: not measured, try every size
    if "load" in parts:
        out["load"] = await part_load(endpoint, args.quick)
        feasible = {
            (r["incidents"], r["records"] == "typical")
            for r in out["load"]["sizes"]
            if "region_host_load_s" in r
        }
    if "takeover" in parts:
        out["takeover"] = await part_takeover(endpoint, args.quick, feasible)
    if "recommend" in parts:
        out["recommend"] = part_recommend(args.quick)
    if "watch" in parts:
        consoles = tuple(int(n) for n in args.consoles.split(","))
        out["watch"] = await part_watch(
            endpoint, args.quick, consoles, args.watch_gateways, args.console_procs
        )
    return out


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--memory-child":
        print(json.dumps(memory_child(sys.argv[2], int(sys.argv[3]))))
        return
    ap = bl.base_parser(__doc__.splitlines()[0])
    ap.add_argument("--parts", default=",".join(PARTS), help=f"subset of {','.join(PARTS)}")
    ap.add_argument("--consoles", default=",".join(map(str, CONSOLES)), help="watch: consoles")
    ap.add_argument(
        "--watch-gateways", type=int, default=1, help="watch: gateways the consoles spread over"
    )
    ap.add_argument(
        "--console-procs",
        type=int,
        default=1,
        help="watch: client processes the consoles spread over (1: all in this one)",
    )
    ap.add_argument(
        "--watch-stream",
        choices=["batches", "watch"],
        default="batches",
        help="watch: WatchBatches (several events a message when behind; what boards use) "
        "or Watch (one event a message)",
    )
    args = ap.parse_args()
    os.environ[wc.STREAM_ENV] = args.watch_stream  # console processes inherit it
    bl.run_benchmark("scale", "scale_bench.py", args, lambda endpoint: run(args, endpoint))


if __name__ == "__main__":
    main()
