"""Failover time: kill -9 and SIGSTOP of the centre that owns a region holding 1,000 live
incidents, against takeover by lease expiry alone, in the same run.

Each repetition: a writer (4 clients creating incidents in the region through the
gateway) runs; the owning centre's process gets SIGKILL or SIGSTOP; the figure is the
time from the signal to the first acknowledged create that the *new* owner committed
(its revision is above the new owner's fencing token; an ack of a request the dead
owner had already committed, answered again from its idempotency record, does not
count). Then the region is put back as it was: the killed centre is restarted by the
supervisor (the paused one is resumed with SIGCONT and finds itself deposed), and the
region is handed back to it with ``CoordinationService.HandBackRegion``.

Modes, each ``--reps`` times:

- ``kill``: kill -9 with the supervisor's crash fast path (it revokes the dead centre's
  lease at once), the default configuration;
- ``stop``: SIGSTOP (a hang): the backup can only take over once the lease expires;
- ``kill_lease_only`` (baseline, a second deployment with ``crash_fast_path=False``):
  kill -9 with takeover by lease expiry alone.

Also reported per repetition: when the owner key went (lease revoked or expired) and
when the backup claimed it (from a watch on the owner key), the backup's own takeover
record (from seeing the owner gone to the region loaded), and the hand-back time.

    .venv/bin/python bench/failover_bench.py [--quick] [--reps N] [--modes stop] [--out FILE]

``--no-fault SECONDS`` measures the price of the hang probe instead: the load generator
(``clients/loadgen.py``) at ``--load-factor`` (3) times its default rate and threads for
that long, with no fault injected; every takeover in that time is a false suspicion (the
figure must be 0). Reported: region owner changes, the supervisor's events, the probe's
ping latency, the load generator's answers, load averages sampled every 30 s.

``--modes`` runs only some modes (e.g. ``--modes stop`` for the hang alone); the lease-only
baseline deployment is started only when ``kill_lease_only`` is among them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import random
import signal
import time
import uuid
from typing import Any

import benchlib as bl
import grpc

from actors.centre.records import Takeover
from amk.coordination.v1 import coordination_pb2 as cpb
from amk.coordination.v1 import coordination_pb2_grpc as cpb_grpc
from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from cluster.ownership import OwnerRecord, read_owner

SIGNALS = {"kill": signal.SIGKILL, "stop": signal.SIGSTOP, "kill_lease_only": signal.SIGKILL}


def create_request(region: str, rng: random.Random) -> pb.CreateIncidentRequest:
    return pb.CreateIncidentRequest(
        request_id=uuid.uuid4().hex,
        region=region,
        position=pb.Position(lat=bl.OSLO[0] + rng.uniform(-0.05, 0.05), lon=bl.OSLO[1]),
        address="Storgata 1",
    )


class Writer:
    """Clients creating incidents in one region, recording every ack's time and revision."""

    def __init__(self, stub: pb_grpc.DispatchServiceStub, region: str, room: Any) -> None:
        self.stub = stub
        self.region = region
        self.room = room  # a call-taker of the centre serving the region, refused: the next
        self.acks: list[tuple[float, int, str]] = []  # monotonic time, revision, id
        self.failed: dict[str, int] = {}
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.rng = random.Random(5)

    async def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                req = create_request(self.region, self.rng)
                inc = await self.room.call_async(
                    self.stub,
                    self.region,
                    lambda md, r=req: self.stub.CreateIncident(r, timeout=15, metadata=md),
                    "call-taker",
                )
            except grpc.aio.AioRpcError as err:
                self.failed[err.code().name] = self.failed.get(err.code().name, 0) + 1
                await asyncio.sleep(0.01)
                continue
            self.acks.append((time.monotonic(), inc.revision, inc.id))

    def start(self, n: int = 4) -> None:
        self._stop.clear()
        self.acks, self.failed = [], {}
        self._tasks = [asyncio.create_task(self._loop()) for _ in range(n)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)


class OwnerLog:
    """Times at which a region's owner key was deleted and put, from an etcd watch."""

    def __init__(self, etcd: Any, key: bytes, room: Any = None, region: str = "") -> None:
        self.etcd = etcd
        self.key = key
        self.room, self.region = room, region  # told of every owner change
        self.events: list[tuple[float, bool, str, int]] = []  # t, deleted, centre, token
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        _, rev = await self.etcd.range(self.key)
        self.events = []

        async def follow() -> None:
            async for _rev, evs in self.etcd.watch(self.key, start_revision=rev + 1):
                now = time.monotonic()
                for ev in evs:
                    centre = "" if ev.deleted else OwnerRecord.decode(ev.kv.value).centre
                    self.events.append((now, ev.deleted, centre, ev.kv.mod_revision))
                    if self.room is not None:
                        self.room.set_owner(self.region, centre)

        self._task = asyncio.create_task(follow())
        await asyncio.sleep(0.05)  # let the watch be created before the fault

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


async def owner(etcd: Any, keys: Any, region: str) -> tuple[str, str, int] | None:
    found = await read_owner(etcd, keys, region)
    if found is None:
        return None
    return found.record.centre, found.record.instance, found.token


async def prefill(stub: pb_grpc.DispatchServiceStub, region: str, n: int, md: Any) -> None:
    rng = random.Random(11)
    sem = asyncio.Semaphore(32)

    async def one() -> None:
        async with sem:
            await stub.CreateIncident(create_request(region, rng), timeout=30, metadata=md)

    await asyncio.gather(*(one() for _ in range(n)))


async def repetition(
    cluster: bl.Cluster,
    etcd: Any,
    stub: pb_grpc.DispatchServiceStub,
    coord: cpb_grpc.CoordinationServiceStub,
    region: str,
    mode: str,
    writer: Writer,
) -> dict[str, Any]:
    from cluster.keys import Keys

    keys = Keys(cluster.config.key_prefix)
    home = cluster.config.seed.region(region).home
    handle = cluster.deployment.centres[home]
    handle.forget()
    st = await handle.status(timeout_s=5)
    if region not in st.regions:
        raise RuntimeError(f"{home} does not own {region} at the start of a repetition")
    pid, old_instance = st.pid, st.instance
    rec: dict[str, Any] = {"mode": mode, "incidents_at_fault": st.counts[region][0]}
    log = OwnerLog(etcd, keys.owner(region), cluster.room, region)
    await log.start()
    writer.start(4)
    try:
        await bl.wait_for(lambda: _true(len(writer.acks) >= 20), 30, "writer warm")
    except TimeoutError as exc:
        await writer.stop()
        raise TimeoutError(f"{exc}; writer failures: {writer.failed}") from exc
    new_token = 0
    t_fault = time.monotonic()
    os.kill(pid, SIGNALS[mode])
    try:

        async def new_owner_acked() -> bool:
            nonlocal new_token
            if not new_token:
                now = await owner(etcd, keys, region)
                if now is None or now[1] == old_instance:
                    return False
                new_token = now[2]
            return any(t > t_fault and r > new_token for t, r, _ in writer.acks)

        await bl.wait_for(new_owner_acked, 30, f"{mode}: first ack by the new owner", 0.005)
    finally:
        if mode == "stop":
            os.kill(pid, signal.SIGCONT)
    await asyncio.sleep(0.2)  # a few more acks, to show the writer runs on
    await writer.stop()
    await log.stop()
    first = min(t for t, r, _ in writer.acks if t > t_fault and r > new_token)
    any_after = min((t for t, _, _ in writer.acks if t > t_fault), default=first)
    rec["fault_to_first_new_owner_ack_s"] = round(first - t_fault, 4)
    rec["fault_to_first_ack_any_s"] = round(any_after - t_fault, 4)
    gone = [t for t, deleted, _, _ in log.events if deleted]
    claimed = [(t, c, tok) for t, deleted, c, tok in log.events if not deleted]
    if gone:
        rec["fault_to_owner_key_gone_s"] = round(gone[0] - t_fault, 4)
    if claimed:
        rec["fault_to_new_owner_claim_s"] = round(claimed[0][0] - t_fault, 4)
        rec["new_owner"] = claimed[0][1]
    took = await etcd.get(keys.takeover(region))
    if took is not None:
        t = Takeover.decode(took.value)
        rec["takeover_record"] = {
            k: getattr(t, k) for k in ("centre", "previous", "duration_ms", "incidents", "units")
        }
    rec["writer_failures"] = writer.failed
    rec["acks_during_rep"] = len(writer.acks)

    # Put the region back: the home centre serving again, as at the start.
    async def home_back_as_standby() -> bool:
        handle.forget()
        s = await handle.status(timeout_s=2)
        return s.lease_valid_for_s > 0 and region not in s.regions

    rec["home_back_as_standby_s"] = round(
        await bl.wait_for(home_back_as_standby, 60, "home centre back as a standby", 0.05), 3
    )
    t0 = time.monotonic()
    rec["hand_back_unavailable"] = []
    rid = uuid.uuid4().hex
    for attempt in range(10):
        try:
            await coord.HandBackRegion(
                cpb.HandBackRegionRequest(request_id=rid, region=region),
                timeout=30,
                metadata=cluster.room.centre_metadata(home, "supervisor"),  # home's supervisor
            )
            break
        except grpc.aio.AioRpcError as err:
            # Seen here: the first hand-back after a restart can fail UNAVAILABLE
            # (the gateway's handle still names the dead incarnation); it is retried.
            if err.code() != grpc.StatusCode.UNAVAILABLE or attempt == 9:
                raise
            rec["hand_back_unavailable"].append(err.details())
            await asyncio.sleep(0.2)
    rec["hand_back_s"] = round(time.monotonic() - t0, 3)
    await bl.wait_for(lambda: _owner_is(etcd, keys, region, home), 30, "home owns the region again")
    return rec


def probe_summary(stats: Any) -> dict[str, Any]:
    """The supervisor's liveness pings: how many, the bucket bound (ms) at or under
    which 50 / 99 / 99.9 % and all of them were answered (``inf``: above every bound),
    and the misses counted or ignored."""
    snap = stats.latency
    total = snap.count
    out: dict[str, Any] = {
        "answered": total,
        "mean_ms": round(snap.sum / total * 1000, 2) if total else None,
    }
    for name, q in (("p50", 0.5), ("p99", 0.99), ("p999", 0.999), ("max", 1.0)):
        bound = next((b for b, n in snap.cumulative() if total and n >= q * total), None)
        out[f"{name}_le_ms"] = None if bound is None else round(bound * 1000, 1)
    out["buckets_le_ms"] = {
        str(round(b * 1000, 1)): n
        for b, n in zip((*snap.bounds, float("inf")), snap.counts, strict=True)
    }
    out["misses"] = stats.misses
    out["deadline_now_s"] = stats.deadline_s
    return out


async def _true(value: bool) -> bool:
    return value


async def _owner_is(etcd: Any, keys: Any, region: str, centre: str) -> bool:
    now = await owner(etcd, keys, region)
    return now is not None and now[0] == centre


async def run_deployment(
    endpoint: str, modes: list[str], reps: int, n_incidents: int, region: str, **overrides: Any
) -> dict[str, Any]:

    out: dict[str, Any] = {}
    async with bl.deployment(endpoint, **overrides) as cluster:
        ch = bl.channel(cluster.gateway, cluster.tls)
        stub = pb_grpc.DispatchServiceStub(ch)
        coord = cpb_grpc.CoordinationServiceStub(ch)
        etcd = bl.etcd_client(endpoint)
        try:
            bl.note(f"creating {n_incidents} incidents in {region}")
            await prefill(stub, region, n_incidents, cluster.room.metadata(region, "call-taker"))
            writer = Writer(stub, region, cluster.room)
            for mode in modes:
                rows = []
                for i in range(reps):
                    row = await repetition(cluster, etcd, stub, coord, region, mode, writer)
                    bl.note(
                        f"{mode:16s} rep {i + 1}/{reps}: fault -> first ack by new owner "
                        f"{row['fault_to_first_new_owner_ack_s'] * 1000:8.1f} ms "
                        f"({row['incidents_at_fault']} incidents)"
                    )
                    rows.append(row)
                    await asyncio.sleep(0.5)
                out[mode] = {
                    "fault_to_first_new_owner_ack": bl.summary_s(
                        [r["fault_to_first_new_owner_ack_s"] for r in rows]
                    ),
                    "repetitions": rows,
                }
            out["supervisor_events"] = [
                dataclasses.asdict(e) for e in await cluster.deployment.supervisor.events()
            ]
            out["probe"] = probe_summary(await cluster.deployment.supervisor.probe_stats())
            out["config"] = {
                k: getattr(cluster.config, k)
                for k in (
                    "lease_ttl_s",
                    "lease_margin_s",
                    "claim_stagger_s",
                    "crash_fast_path",
                    "restart_delay_s",
                    "liveness_probe",
                    "probe_interval_s",
                    "probe_deadline_s",
                    "probe_deadline_max_s",
                    "probe_deadline_factor",
                    "probe_misses",
                    "probe_late_s",
                )
            }
        finally:
            await etcd.close()
            await ch.close()
    return out


async def run(args: Any, endpoint: str) -> dict[str, Any]:
    reps = args.reps or (2 if args.quick else 5)
    n = args.incidents or (300 if args.quick else 1000)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(modes) - set(SIGNALS)
    if unknown:
        raise SystemExit(f"unknown mode(s) {sorted(unknown)}; known: {sorted(SIGNALS)}")
    fast = [m for m in ("kill", "stop") if m in modes]
    res = await run_deployment(endpoint, fast, reps, n, args.region) if fast else {}
    base: dict[str, Any] = {}
    if "kill_lease_only" in modes:
        base = await run_deployment(
            endpoint, ["kill_lease_only"], reps, n, args.region, crash_fast_path=False
        )
    ttl = (res or base)["config"]["lease_ttl_s"]
    p99 = {m: res[m]["fault_to_first_new_owner_ack"].get("p99_s") for m in fast}
    if base:
        p99["kill_lease_only"] = base["kill_lease_only"]["fault_to_first_new_owner_ack"].get(
            "p99_s"
        )
    return {
        "reps": reps,
        "incidents_prefilled": n,
        "fast_path": res,
        "lease_only": base,
        "summary": {
            "kill_p99_s": p99.get("kill"),
            "kill_target_s": 0.25,
            "stop_p99_s": p99.get("stop"),
            # A hung owner is found by the supervisor's liveness probe (issue #10).
            "stop_target_s": 1.0,
            "lease_ttl_s": ttl,
            "kill_lease_only_p99_s": p99.get("kill_lease_only"),
            "kill_speedup_over_lease_only": (
                round(p99["kill_lease_only"] / p99["kill"], 1)
                if p99.get("kill") and p99.get("kill_lease_only")
                else None
            ),
        },
    }


async def run_no_fault(args: Any, endpoint: str) -> dict[str, Any]:
    """A load run with no fault: every region must keep its owner (no takeover)."""
    from clients.loadgen import History, LoadGenerator, LoadSpec
    from cluster.keys import Keys

    default = LoadSpec()
    spec = LoadSpec(
        rate=default.rate * args.load_factor,
        concurrency=round(default.concurrency * args.load_factor),
        duration_s=args.no_fault,
    )
    async with bl.deployment(endpoint) as cluster:
        keys = Keys(cluster.config.key_prefix)
        etcd = bl.etcd_client(endpoint)
        try:
            regions = cluster.config.region_ids()
            before = {r: await owner(etcd, keys, r) for r in regions}
            history = History(None)
            gen = LoadGenerator(
                cluster.config.gateways,
                cluster.config.seed,
                spec,
                history,
                tls=cluster.tls,
                room=cluster.room,
            )
            loads: list[list[float]] = []

            async def sample_load() -> None:
                while True:
                    loads.append([round(x, 2) for x in os.getloadavg()])
                    await asyncio.sleep(30)

            sampler = asyncio.create_task(sample_load())
            bl.note(
                f"no-fault load: {spec.rate} ops/s, {spec.concurrency} threads, {spec.duration_s} s"
            )
            try:
                load = await asyncio.to_thread(gen.run)
            finally:
                sampler.cancel()
            loads.append([round(x, 2) for x in os.getloadavg()])
            after = {r: await owner(etcd, keys, r) for r in regions}
            events = await cluster.deployment.supervisor.events()
            changed = {r: [before[r], after[r]] for r in regions if before[r] != after[r]}
            return {
                "load_spec": dataclasses.asdict(spec),
                "load_result": load,
                "load_avg_1_5_15_every_30s": loads,
                "owner_changes": changed,
                "takeovers": len(changed),
                "supervisor_events": [
                    {"kind": type(e).__name__, **dataclasses.asdict(e)} for e in events
                ],
                "probe": probe_summary(await cluster.deployment.supervisor.probe_stats()),
                "config": {
                    k: getattr(cluster.config, k)
                    for k in (
                        "probe_interval_s",
                        "probe_deadline_s",
                        "probe_deadline_max_s",
                        "probe_deadline_factor",
                        "probe_window",
                        "probe_misses",
                        "probe_late_s",
                    )
                },
            }
        finally:
            await etcd.close()


def main() -> None:
    ap = bl.base_parser(__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=0, help="repetitions per mode (5; quick 2)")
    ap.add_argument("--incidents", type=int, default=0, help="live incidents (1000; quick 300)")
    ap.add_argument("--region", default="oslo")
    ap.add_argument(
        "--modes",
        default="kill,stop,kill_lease_only",
        help="comma-separated modes to run (default: all three)",
    )
    ap.add_argument(
        "--no-fault",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="instead: a load run this long with no fault, counting takeovers (must be 0)",
    )
    ap.add_argument(
        "--load-factor", type=float, default=3.0, help="--no-fault: times loadgen's default rate"
    )
    args = ap.parse_args()
    if args.no_fault:
        bl.run_benchmark(
            "failover-no-fault", "failover_bench.py", args, lambda e: run_no_fault(args, e)
        )
        return
    bl.run_benchmark(
        "failover",
        "failover_bench.py",
        args,
        lambda endpoint: run(args, endpoint),
        region=args.region,
    )


if __name__ == "__main__":
    main()
