"""The naive design as a floor: one Ray actor per incident, against our hosted entities,
in the same run.

- ``naive``: ~20 incidents, each its own Ray actor (``num_cpus=0``, as our actors), all
  created at once; creation time until each answers, and memory per actor process (RSS,
  PSS, USS from /proc, and the drop in the machine's available memory). Nothing is
  written to etcd here, so the floor flatters the naive design.
- ``hosted``: incidents as our centres host them: created through the gateway (durable:
  a guarded etcd transaction each, group-committed) at 8 clients, with the region's
  centre process's RSS before and after; and created in memory alone (decide +
  dict insert, what hosting costs without the write), with tracemalloc bytes each.

    .venv/bin/python bench/naive_bench.py [--quick] [--actors N] [--out FILE]
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import random
import time
import tracemalloc
import uuid
from typing import Any

import benchlib as bl
import ray

from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc


@ray.remote
class NaiveIncident:
    """One incident, one actor, one process."""

    def __init__(self, raw: bytes) -> None:
        from actors.domain.model import Incident

        self.incident = Incident.decode(raw)

    def pid(self) -> int:
        return os.getpid()

    def status(self) -> str:
        return self.incident.status.value


async def part_naive(n: int) -> dict[str, Any]:
    from actors.domain.commands import CreateIncident
    from actors.domain.decide import create_incident
    from actors.domain.model import Position
    from actors.domain.triage import default_table

    table = default_table()
    raws = [
        create_incident(
            CreateIncident(f"r{i}", "oslo", Position(59.91, 10.75, 25)),
            f"OSL-{i:06d}",
            time.time(),
            table,
        ).encode()
        for i in range(n)
    ]
    avail0 = bl.mem_available_mb()
    t0 = time.monotonic()
    actors = [NaiveIncident.options(num_cpus=0).remote(raw) for raw in raws]
    ready: list[float] = []

    async def one(a: Any) -> int:
        pid = await a.pid.remote()
        ready.append(time.monotonic() - t0)
        return pid

    try:
        pids = await asyncio.wait_for(asyncio.gather(*(one(a) for a in actors)), 240)
        total = time.monotonic() - t0
        await asyncio.sleep(1.0)  # let the workers settle before reading memory
        mems = [bl.memory_of(p) for p in pids]
        avail1 = bl.mem_available_mb()
    finally:
        for a in actors:
            with contextlib.suppress(Exception):
                ray.kill(a)
    mean = {k: round(sum(m[k] for m in mems) / len(mems), 1) for k in mems[0]}
    return {
        "actors": n,
        "create_all_s": round(total, 2),
        "create_rate_per_s": round(n / total, 2),
        "ready_after": bl.summary_s(ready),
        "per_actor_mb": mean,
        "mem_available_drop_mb_per_actor": round((avail0 - avail1) / n, 1),
        "memory_for_1000_incidents_gb_uss": round(mean["uss_mb"] * 1000 / 1024, 1),
    }


def hosted_in_memory(n: int) -> dict[str, Any]:
    """What hosting alone costs: decide a new incident and put it in the region's table."""
    from actors.domain.commands import CreateIncident
    from actors.domain.decide import create_incident
    from actors.domain.model import Position
    from actors.domain.triage import default_table

    table = default_table()
    cmds = [CreateIncident(f"r{i}", "oslo", Position(59.91, 10.75, 25)) for i in range(n)]
    hosted: dict[str, Any] = {}
    gc.collect()
    t0 = time.perf_counter()
    for i, cmd in enumerate(cmds):
        inc = create_incident(cmd, f"OSL-{i:06d}", 1_790_000_000.0, table)
        hosted[inc.id] = inc
    rate = n / (time.perf_counter() - t0)
    hosted.clear()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.take_snapshot()
    for i, cmd in enumerate(cmds):
        inc = create_incident(cmd, f"OSL-{i:06d}", 1_790_000_000.0, table)
        hosted[inc.id] = inc
    gc.collect()
    delta = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(base, "filename"))
    tracemalloc.stop()
    return {
        "incidents": n,
        "create_rate_per_s": round(rate),
        "tracemalloc_bytes_per_incident": round(delta / n),
    }


async def part_hosted(endpoint: str, n: int) -> dict[str, Any]:
    async with bl.deployment(endpoint) as cluster:
        pids = await cluster.refresh_pids()
        centre_pid = pids["centre:oslo"]
        ch = bl.channel(cluster.gateway, cluster.tls, cluster.token("oslo", "call-taker"))
        stub = pb_grpc.DispatchServiceStub(ch)
        rng = random.Random(2)
        sem = asyncio.Semaphore(8)

        async def one() -> None:
            async with sem:
                await stub.CreateIncident(
                    pb.CreateIncidentRequest(
                        request_id=uuid.uuid4().hex,
                        region="oslo",
                        position=pb.Position(lat=59.9 + rng.uniform(0, 0.1), lon=10.75),
                    ),
                    timeout=30,
                )

        try:
            await asyncio.gather(*(one() for _ in range(50)))  # warm
            before = bl.memory_of(centre_pid)
            t0 = time.monotonic()
            await asyncio.gather(*(one() for _ in range(n)))
            took = time.monotonic() - t0
            await asyncio.sleep(0.5)
            after = bl.memory_of(centre_pid)
            st = await cluster.deployment.centres["oslo"].status(timeout_s=5)
        finally:
            await ch.close()
    return {
        "incidents": n,
        "api_create_rate_per_s_8_clients": round(n / took, 1),
        "hosted_in_centre": st.counts["oslo"][0],
        "centre_process_mb_before": before,
        "centre_process_mb_after": after,
        "centre_rss_delta_bytes_per_incident": round(
            (after["rss_mb"] - before["rss_mb"]) * 2**20 / n
        ),
        "centre_uss_delta_bytes_per_incident": round(
            (after["uss_mb"] - before["uss_mb"]) * 2**20 / n
        ),
    }


async def run(args: Any, endpoint: str) -> dict[str, Any]:
    n = args.actors or (5 if args.quick else 20)
    bl.note(f"naive: {n} incident actors")
    naive = await part_naive(n)
    bl.note(f"naive: {naive['create_rate_per_s']}/s, USS {naive['per_actor_mb']['uss_mb']} MB each")
    hosted = {"in_memory": hosted_in_memory(10_000)}
    hosted["through_api"] = await part_hosted(endpoint, 500 if args.quick else 2000)
    bl.note(
        f"hosted: {hosted['through_api']['api_create_rate_per_s_8_clients']}/s durable, "
        f"{hosted['in_memory']['tracemalloc_bytes_per_incident']} B each"
    )
    naive_bytes = naive["per_actor_mb"]["uss_mb"] * 2**20
    return {
        "naive": naive,
        "hosted": hosted,
        "ratios": {
            "memory_naive_uss_over_hosted_tracemalloc": round(
                naive_bytes / hosted["in_memory"]["tracemalloc_bytes_per_incident"]
            ),
            "creation_hosted_api_over_naive": round(
                hosted["through_api"]["api_create_rate_per_s_8_clients"]
                / naive["create_rate_per_s"],
                1,
            ),
            "creation_hosted_in_memory_over_naive": round(
                hosted["in_memory"]["create_rate_per_s"] / naive["create_rate_per_s"]
            ),
        },
    }


def main() -> None:
    ap = bl.base_parser(__doc__.splitlines()[0])
    ap.add_argument("--actors", type=int, default=0, help="naive actors (20; quick 5)")
    args = ap.parse_args()
    bl.run_benchmark("naive", "naive_bench.py", args, lambda endpoint: run(args, endpoint))


if __name__ == "__main__":
    main()
