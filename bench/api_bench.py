"""API latency and throughput through the gateway, against two baselines in the same run.

For each concurrency (1, 8, 64, 256 clients: asyncio tasks on grpc.aio channels in this
process), back to back for a fixed time, in this order so that the figures compared
share the machine's conditions:

- ``echo``: a bare grpc.aio unary echo (bytes in, same bytes out) served by a Ray actor,
  as our gateway is: the transport's limit with the same process layout;
- ``ray_call``: a bare async Ray actor call to that same actor, carrying a
  CreateIncident command and getting it back: the cost of the gateway -> centre hop;
- ``raw_etcd``: one guarded etcd transaction per command (compare the owner key's mod
  revision, put an incident record, put a journal entry) with our ``EtcdClient``: what
  one transaction per command would give, without group commit, gateway or centre;
- ``create``: CreateIncident through the gateway;
- ``unit_status``: ChangeUnitStatus, each client toggling its own unit between
  available at station and available mobile;
- ``assign``: AssignUnit and ReleaseUnit in turn, each client with its own incident and
  unit (latency per command under ``by_command``; throughput counts both).

All writes go to one region (``--region``, default oslo), i.e. one centre process, where
group commit can batch them.

``--tls on,off`` runs every point twice in one run, first on a deployment with mutual
TLS (the default, ``tls`` in the output), then on an insecure one (the echo baseline
too); ``tls_cost`` gives, per kind and concurrency, the throughput with TLS over the
throughput without and the p50/p99 difference: the price of TLS on every port. Every
point reports the CPU seconds each process used (gateway, the region's centre, etcd,
this client, the echo server, the whole machine).

    .venv/bin/python bench/api_bench.py [--quick] [--out FILE] [--profile] [--tls on,off]
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import benchlib as bl
import grpc
import pyspy_profile
import ray

from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from cluster.tls import service_identity
from cluster.tokens import bearer_header

CONCURRENCY = (1, 8, 64, 256)
KINDS = ("echo", "ray_call", "raw_etcd", "create", "unit_status", "assign")
ECHO_METHOD = "/bench.Echo/Unary"
AVAILABLE = (pb.UNIT_STATUS_AVAILABLE_AT_STATION, pb.UNIT_STATUS_AVAILABLE_MOBILE)


@ray.remote
class EchoServer:
    """A bare grpc.aio server in a Ray actor: one unary method that echoes its bytes."""

    def __init__(self) -> None:
        self.server: grpc.aio.Server | None = None

    async def start(self, tls: Any = None) -> int:
        """Serve on a free loopback port, with mutual TLS when ``tls`` (TlsFiles) is given,
        as the gateway does."""
        from cluster.tls import bind

        async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            return request

        self.server = grpc.aio.server()
        handler = grpc.method_handlers_generic_handler(
            "bench.Echo", {"Unary": grpc.unary_unary_rpc_method_handler(echo)}
        )
        self.server.add_generic_rpc_handlers((handler,))
        port = bind(self.server, "127.0.0.1:0", tls)
        await self.server.start()
        return port

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(0.2)

    async def echo(self, value: Any) -> Any:
        """A Ray actor call and nothing else: the gateway -> centre hop's own cost."""
        return value

    def pid(self) -> int:
        return os.getpid()


def create_request(region: str, rng: random.Random) -> pb.CreateIncidentRequest:
    return pb.CreateIncidentRequest(
        request_id=uuid.uuid4().hex,
        region=region,
        position=pb.Position(
            lat=bl.OSLO[0] + rng.uniform(-0.05, 0.05),
            lon=bl.OSLO[1] + rng.uniform(-0.05, 0.05),
            accuracy_m=25,
        ),
        address="Karl Johans gate 22",
        caller_number="+47 912 34 567",
    )


class Clients:
    """A few channels (each its own connection) shared round-robin by the client tasks."""

    def __init__(self, target: str, n: int, tls: Any, token: str | None = None) -> None:
        self.channels = [bl.channel(target, tls) for _ in range(n)]
        # The token goes with each call, as the client library sends it (a channel's
        # call credentials would run grpc's metadata plugin on a new thread per call).
        self.metadata = (bearer_header(token),) if token and tls is not None else ()
        self.stubs = [pb_grpc.DispatchServiceStub(c) for c in self.channels]
        self.echo = [
            c.unary_unary(ECHO_METHOD, request_serializer=None, response_deserializer=None)
            for c in self.channels
        ]

    def stub(self, i: int) -> pb_grpc.DispatchServiceStub:
        return self.stubs[i % len(self.stubs)]

    async def close(self) -> None:
        for c in self.channels:
            await c.close()


class Workloads:
    """The operations one client task performs, with the little state each one needs."""

    def __init__(
        self,
        clients: Clients,
        region: str,
        units: list[str],
        incidents: list[str],
        pair_units: list[str],
    ) -> None:
        self.c = clients
        self.region = region
        self.units = units  # toggled by unit_status
        self.pair_units = pair_units  # assigned and released by assign (another set)
        self.incidents = incidents
        self.unit_status: dict[str, int] = {}
        self.assigned: dict[str, bool] = {}
        self.rng = random.Random(7)
        self.timeout = 10.0

    async def create(self, i: int) -> None:
        await self.c.stub(i).CreateIncident(
            create_request(self.region, self.rng), timeout=self.timeout, metadata=self.c.metadata
        )

    async def _unit(self, i: int, unit_id: str) -> pb.Unit:
        return await self.c.stub(i).GetUnit(
            pb.GetUnitRequest(unit_id=unit_id), timeout=5, metadata=self.c.metadata
        )

    async def toggle_unit(self, i: int) -> None:
        unit_id = self.units[i]
        if unit_id not in self.unit_status:
            self.unit_status[unit_id] = (await self._unit(i, unit_id)).status
        now = self.unit_status[unit_id]
        to = AVAILABLE[1] if now == AVAILABLE[0] else AVAILABLE[0]
        req = pb.ChangeUnitStatusRequest(request_id=uuid.uuid4().hex, unit_id=unit_id, status=to)
        try:
            out = await self.c.stub(i).ChangeUnitStatus(
                req, timeout=self.timeout, metadata=self.c.metadata
            )
        except grpc.aio.AioRpcError:
            self.unit_status.pop(unit_id, None)  # unknown outcome: look again next time
            raise
        self.unit_status[unit_id] = out.status

    async def assign_or_release(self, i: int) -> str:
        unit_id, incident_id = self.pair_units[i], self.incidents[i]
        if unit_id not in self.assigned:
            self.assigned[unit_id] = bool((await self._unit(i, unit_id)).incident_id)
        stub = self.c.stub(i)
        rid = uuid.uuid4().hex
        try:
            if self.assigned[unit_id]:
                await stub.ReleaseUnit(
                    pb.ReleaseUnitRequest(request_id=rid, incident_id=incident_id, unit_id=unit_id),
                    timeout=self.timeout,
                    metadata=self.c.metadata,
                )
                self.assigned[unit_id] = False
                return "ReleaseUnit"
            await stub.AssignUnit(
                pb.AssignUnitRequest(request_id=rid, incident_id=incident_id, unit_id=unit_id),
                timeout=self.timeout,
                metadata=self.c.metadata,
            )
            self.assigned[unit_id] = True
            return "AssignUnit"
        except grpc.aio.AioRpcError:
            self.assigned.pop(unit_id, None)
            raise

    async def echo(self, i: int) -> None:
        await self.c.echo[i % len(self.c.echo)](
            ECHO_PAYLOAD, timeout=self.timeout, metadata=self.c.metadata
        )


ECHO_PAYLOAD = create_request("oslo", random.Random(1)).SerializeToString()


class RawEtcd:
    """One guarded transaction per command, as the design's baseline: compare the owner
    key's mod revision, put the record, put a journal entry."""

    def __init__(self, client: Any, tag: str) -> None:
        self.client = client
        self.prefix = f"{bl.BENCH_KEY_ROOT}raw/{tag}/"
        self.owner = f"{self.prefix}regions/oslo/owner".encode()
        self.token = 0
        self.seq = itertools.count()
        from actors.domain.commands import CreateIncident
        from actors.domain.decide import create_incident
        from actors.domain.model import Position
        from actors.domain.triage import default_table

        cmd = CreateIncident(
            "r", "oslo", Position(59.91, 10.75, 25), "Karl Johans gate 22", "+47 912 34 567"
        )
        self.record = create_incident(cmd, "OSL-000001", time.time(), default_table()).encode()
        self.journal = json.dumps(
            {
                "at": time.time(),
                "writer": "bench-raw",
                "who": "console",
                "command": "CreateIncident",
                "request_id": uuid.uuid4().hex,
                "region": "oslo",
                "tokens": {"oslo": 1},
                "keys": [f"{self.prefix}incidents/oslo/OSL-000001"],
            }
        ).encode()

    async def setup(self) -> None:
        from cluster.etcd import op_put

        resp = await self.client.txn([], [op_put(self.owner, b'{"centre":"bench"}')])
        self.token = resp.header.revision

    async def write(self, i: int) -> None:
        from cluster.etcd import cmp_mod_revision, op_put

        n = next(self.seq)
        resp = await self.client.txn(
            [cmp_mod_revision(self.owner, self.token)],
            [
                op_put(f"{self.prefix}incidents/oslo/RAW-{n:09d}".encode(), self.record),
                op_put(
                    f"{self.prefix}journal/oslo/{time.time_ns():020d}-{n:09d}".encode(),
                    self.journal,
                ),
            ],
        )
        if not resp.succeeded:
            raise RuntimeError("raw txn failed its compare")


# ---------------------------------------------------------------- the run


async def prepare(c: Clients, region: str, n: int) -> list[str]:
    """``n`` incidents for the assign workload (one per client)."""
    rng = random.Random(3)
    sem = asyncio.Semaphore(32)

    async def one() -> str:
        async with sem:
            req = create_request(region, rng)
            return (await c.stub(0).CreateIncident(req, timeout=20, metadata=c.metadata)).id

    return list(await asyncio.gather(*(one() for _ in range(n))))


TLS_MODES = ("on", "off")


def tls_modes(args: Any) -> list[str]:
    modes = [m for m in args.tls.split(",") if m]
    bad = [m for m in modes if m not in TLS_MODES]
    if bad or not modes:
        raise SystemExit(f"--tls: one or both of on,off (got {args.tls!r})")
    return modes


async def run(args: Any, etcds: dict[str, tuple[str, int]], seed: Path) -> dict[str, Any]:
    """Every point once per security mode asked for (``--tls``): "on" is the default
    deployment (TLS on every port, etcd's too, verified tokens), "off" an ``--insecure``
    one on a plaintext etcd. The first mode's figures are the result's ``points`` (what
    the targets read), each mode's under ``by_tls``. ``etcds``: mode -> (endpoint, pid)."""
    modes = tls_modes(args)
    by: dict[str, dict[str, Any]] = {}
    for mode in modes:
        bl.note(f"TLS {mode}")
        endpoint, etcd_pid = etcds[mode]
        by[mode] = await run_mode(args, endpoint, etcd_pid, seed, insecure=mode == "off")
    result = {**by[modes[0]], "tls": modes[0]}
    if len(by) > 1:
        result["by_tls"] = {m: r["points"] for m, r in by.items()}
        result["tls_cost"] = bl.tls_cost(by["on"]["points"], by["off"]["points"])
    return result


async def run_mode(
    args: Any, endpoint: str, etcd_pid: int, seed: Path, *, insecure: bool
) -> dict[str, Any]:

    levels = [int(c) for c in args.concurrency.split(",")]
    kinds = [k for k in args.kinds.split(",") if k]
    seconds = 1.0 if args.quick else args.seconds
    warmup = 0.3 if args.quick else 1.0
    result: dict[str, Any] = {"points": {k: [] for k in kinds}}
    async with bl.deployment(endpoint, seed_file=seed, insecure=insecure) as cluster:
        pids = await cluster.refresh_pids(etcd_pid)
        tls = cluster.tls  # the console's identity; None on the insecure deployment
        service = None if insecure else service_identity(cluster.config)
        echo = EchoServer.options(num_cpus=0, max_concurrency=1000).remote()
        echo_port = await echo.start.remote(service)
        pids["echo_server"] = await echo.pid.remote()
        meter_pids = {
            k: v
            for k, v in pids.items()
            if k
            in (
                "bench_client",
                "gateway",
                "etcd",
                "echo_server",
                "ray_daemons",
                f"centre:{args.region}",
            )
        }
        # A dispatcher of the centre serving the region (the echo server gets the same
        # header, so the baseline carries the same bytes).
        token = cluster.token(args.region)
        gw = Clients(cluster.gateway, args.channels, tls, token)
        echo_clients = Clients(f"127.0.0.1:{echo_port}", args.channels, tls, token)
        etcd = bl.etcd_client(endpoint, secure=not insecure)
        raw = RawEtcd(etcd, cluster.tag)
        await raw.setup()
        code = cluster.config.seed.region(args.region).code.lower()
        top = max(levels)
        units = [f"bench-{code}-{i:04d}" for i in range(top)]
        pair_units = [f"bench-{code}-{i:04d}" for i in range(top, 2 * top)]
        bl.note(f"creating {top} incidents for the assign workload")
        incidents = await prepare(gw, args.region, top)
        work = Workloads(gw, args.region, units, incidents, pair_units)
        work_echo = Workloads(echo_clients, args.region, units, incidents, pair_units)
        from actors.domain.commands import CreateIncident
        from actors.domain.model import Position

        command = CreateIncident(uuid.uuid4().hex, "oslo", Position(59.91, 10.75, 25))

        async def ray_call(i: int) -> None:
            await echo.echo.remote(command)

        ops = {
            "echo": work_echo.echo,
            "ray_call": ray_call,
            "raw_etcd": raw.write,
            "create": work.create,
            "unit_status": work.toggle_unit,
            "assign": work.assign_or_release,
        }
        # Rounds: every point again, in the same order, so that a ratio is taken within
        # a round (the machine's conditions shared) and the median of rounds reported.
        for rnd, c, kind in itertools.product(range(args.rounds), levels, kinds):
            meter = bl.CpuMeter(meter_pids)
            res = await bl.closed_loop(ops[kind], c, seconds, warmup_s=warmup, meter=meter)
            result["points"][kind].append({**res.as_dict(), "round": rnd})
            bl.note(
                f"{kind:12s} c={c:<4d} {res.throughput:8.0f}/s  "
                f"p50 {res.latency.get('p50_ms', float('nan')):7.2f} ms  "
                f"p99 {res.latency.get('p99_ms', float('nan')):7.2f} ms  "
                f"errors {res.errors or 0}"
            )
        result["store_stats"] = {}
        with contextlib.suppress(Exception):
            st = await cluster.deployment.centres[args.region].status(timeout_s=5)
            result["store_stats"] = {
                "centre": args.region,
                **st.store,
                "writes_per_txn": round(st.store["writes"] / max(1, st.store["txns"]), 2),
                "hosted_incidents": st.counts.get(args.region, (0, 0))[0],
            }
        if args.profile:
            # Raw samples go next to the JSON (bench/results/ by default).
            out_dir = args.out.resolve().parent if args.out else bl.RESULTS
            out_dir.mkdir(parents=True, exist_ok=True)
            result["profile"] = {}
            # c=8: the latency target's point (p99 <= 10 ms), where batching helps least.
            for kind, c in (("create", 8), ("create", 64), ("create", 256), ("echo", 64)):
                # The processes that do the work: gateway and centre, or the echo server.
                names = ("echo_server",) if kind == "echo" else ("gateway", f"centre:{args.region}")
                prof_pids = {k: v for k, v in pids.items() if k in (*names, "bench_client")}
                if kind in kinds and c in levels:
                    bl.note(f"profiling {kind} c={c} with py-spy")
                    result["profile"][f"{kind}_c{c}"] = await pyspy_profile.profile_point(
                        kind, ops[kind], c, prof_pids, 3.0 if args.quick else 5.0, out_dir
                    )
        await gw.close()
        await echo_clients.close()
        await etcd.close()
        with contextlib.suppress(Exception):
            await echo.stop.remote()
        ray.kill(echo)
    result |= ratios(result["points"])
    return result


def ratios(points: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Throughput of each gateway workload over the echo and raw-etcd baselines: per
    round (``ratio_rounds``, the two points of one round), and their median (``ratios``;
    the lower middle one for an even count, so that it is always one round's)."""
    by = {(k, p["concurrency"], p.get("round", 0)): p for k, v in points.items() for p in v}
    rounds: dict[str, dict[str, list[float]]] = {}
    for (kind, c, rnd), p in sorted(by.items(), key=lambda kv: kv[0][2]):
        if kind not in ("create", "unit_status", "assign"):
            continue
        for base in ("echo", "raw_etcd"):
            b = by.get((base, c, rnd))
            if b and b["throughput_per_s"]:
                row = rounds.setdefault(f"{kind}_over_{base}", {})
                row.setdefault(str(c), []).append(
                    round(p["throughput_per_s"] / b["throughput_per_s"], 3)
                )
    return {
        "ratios": {
            k: {c: statistics.median_low(v) for c, v in row.items()} for k, row in rounds.items()
        },
        "ratio_rounds": rounds,
    }


def main() -> None:
    ap = bl.base_parser(__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="measured seconds per point")
    ap.add_argument("--concurrency", default=",".join(map(str, CONCURRENCY)))
    ap.add_argument("--kinds", default=",".join(KINDS), help=f"subset of {','.join(KINDS)}")
    ap.add_argument("--region", default="oslo")
    ap.add_argument("--channels", type=int, default=4, help="client connections per target")
    ap.add_argument("--profile", action="store_true", help="also sample hot spots with py-spy")
    ap.add_argument(
        "--rounds", type=int, default=1, help="every point this many times, interleaved"
    )
    ap.add_argument(
        "--tls",
        default="on",
        help="on, off, or on,off: the same points with mutual TLS and without, one run",
    )
    args = ap.parse_args()
    bl.quiet_logs()
    t0 = time.monotonic()
    started = bl.machine()
    folder = Path(tempfile.mkdtemp(prefix="amk-bench-seed-"))
    levels = [int(c) for c in args.concurrency.split(",")]
    try:
        seed = bl.bench_seed(folder, {args.region: 2 * max(levels)})
        with contextlib.ExitStack() as stack:
            etcds = {}
            for mode in tls_modes(args):
                etcd = stack.enter_context(bl.private_etcd(secure=mode == "on"))
                assert etcd.process is not None
                etcds[mode] = (etcd.endpoint, etcd.process.pid)
            stack.enter_context(bl.private_ray(f"amk-bench-api-{uuid.uuid4().hex[:6]}"))
            body = asyncio.run(run(args, etcds, seed))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    bl.finish(
        "api",
        "api_bench.py",
        args,
        started,
        t0,
        body,
        region=args.region,
        seconds_per_point=1.0 if args.quick else args.seconds,
    )


if __name__ == "__main__":
    main()
