"""One point of ``scale_bench``'s ``watch`` part: ``n`` consoles watching while a
writer creates incidents at a fixed rate, round robin over the area regions; the time
from each create's send (and ack) to its receipt at every console that must see it.

Identities on: console i acts for a centre (``watch_consoles.CONSOLES_ENV``) and sees
the regions that centre serves; an incident counts as missing only at the consoles of
the centre serving its region. Kept apart from scale_bench.py for size.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
import uuid
from typing import Any

import benchlib as bl
import grpc
import watch_consoles as wc

from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster import heap
from cluster.tls import console_identity


async def watch_point(
    stub: Any,
    etcd: Any,
    pids: dict[str, Any],
    config: Any,
    shape: tuple[list[str], int, int],
    rate: float,
    seconds: float,
    room: Any,
) -> dict[str, Any]:
    gateways, n, procs = shape
    rng = random.Random(n)
    start_rev = await etcd.revision() + 1
    if procs > 1 and n >= procs:
        consoles: Any = wc.ProcessConsoles(gateways, n, start_rev, procs, console_identity(config))
    else:
        consoles = wc.InProcessConsoles(gateways, n, start_rev, console_identity(config))
    await consoles.start()
    seed = config.seed
    # Creates go to the area regions (an AMK-LA region takes no incidents).
    places = [(r.id, seed.centre(r.home)) for r in seed.area_regions()]

    def create(k: int) -> pb.CreateIncidentRequest:
        region, centre = places[k % len(places)]
        return pb.CreateIncidentRequest(
            request_id=uuid.uuid4().hex,
            region=region,
            position=pb.Position(lat=centre.lat + rng.uniform(-0.05, 0.05), lon=centre.lon),
        )

    def send(k: int) -> Any:
        req = create(k)
        md = room.metadata(req.region, "call-taker")
        return stub.CreateIncident(req, timeout=10, metadata=md), room.centre_of(req.region)

    # Every console must be watching before the measured creates start: a probe in
    # every region (each console sees its centre's).
    probes = {}
    for k in range(len(places)):
        call, centre = send(k)
        probes[(await call).id] = centre
    await bl.wait_for(lambda: consoles.have_all(probes), 30, f"{n} consoles see the probes", 0.05)
    # The consoles' streams live in this process: freeze them and every object before
    # them, or a full collection of this process (50-90 ms, measured) is a receipt delay
    # that 500 separate browsers would not share.
    heap.settle()
    sent: dict[str, tuple[float, float]] = {}  # id -> (sent, acked)
    centre_of: dict[str, str] = {}  # id -> the centre whose consoles must see it
    errors: dict[str, int] = {}

    async def one(k: int) -> None:
        t0 = time.monotonic()
        try:
            call, centre = send(k)
            inc = await call
        except grpc.aio.AioRpcError as err:
            errors[err.code().name] = errors.get(err.code().name, 0) + 1
            return
        sent[inc.id] = (t0, time.monotonic())
        centre_of[inc.id] = centre

    meter_pids = {k: v for k, v in pids.items() if k in ("gateway", "etcd")}
    meter_pids["bench_client"] = [os.getpid(), *consoles.pids]
    meter = bl.CpuMeter(meter_pids)
    meter.start()
    wall = [time.time()]  # the measured window in wall time (bench/gc_report.py --from/--to)
    writes = []
    t_start = time.monotonic()
    for k in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, t_start + k / rate - time.monotonic()))
        writes.append(asyncio.create_task(one(k)))
    await asyncio.gather(*writes)
    ids = set(sent)
    with contextlib.suppress(TimeoutError):
        await bl.wait_for(
            lambda: consoles.have_all({i: centre_of[i] for i in ids}), 10, "all delivered", 0.1
        )
    cpu = meter.stop()
    wall.append(time.time())
    received = await consoles.dump()
    per_console = []
    all_ack: list[float] = []
    all_send: list[float] = []
    missing = 0
    who = [w[0] for w in wc.identities()]
    for k, r in enumerate(received):
        own = {i for i in ids if wc.expected(who[k % len(who)], centre_of[i])}
        from_ack = [r[i] - sent[i][1] for i in own if i in r]
        from_send = [r[i] - sent[i][0] for i in own if i in r]
        missing += len(own) - len(from_ack)
        all_ack += from_ack
        all_send += from_send
        s = bl.summary_ms(from_ack)
        per_console.append({"p50_ms": s.get("p50_ms"), "p99_ms": s.get("p99_ms")})
    p99s = [c["p99_ms"] for c in per_console if c["p99_ms"] is not None]
    # Per create: the first console's receipt (the write and one delivery) and the
    # spread to its last console (the fan-out), to tell the two apart.
    first: list[float] = []
    spread: list[float] = []
    for i in ids:
        times = [r[i] for r in received if i in r]
        if times:
            first.append(min(times) - sent[i][0])
            spread.append(max(times) - min(times))
    row = {
        "consoles": n,
        "gateways": len(gateways),
        "console_procs": procs if isinstance(consoles, wc.ProcessConsoles) else 1,
        "creates": len(ids),
        "create_errors": errors,
        "events_missing": missing,
        "ack_to_receipt": bl.summary_ms(all_ack),
        "send_to_receipt": bl.summary_ms(all_send),
        "send_to_first_receipt": bl.summary_ms(first),
        "first_to_last_receipt": bl.summary_ms(spread),
        "per_console_p99_ms": {
            "best": min(p99s, default=None),
            "median": bl.percentile(p99s, 50) if p99s else None,
            "worst": max(p99s, default=None),
        },
        "cpu": cpu,
        "window_wall_s": [round(t, 3) for t in wall],
    }
    bl.note(
        f"watch {n:3d} consoles: send->receipt p50 {row['send_to_receipt'].get('p50_ms')} ms "
        f"p99 {row['send_to_receipt'].get('p99_ms')} ms; missing {missing}; first receipt "
        f"p99 {row['send_to_first_receipt'].get('p99_ms')} ms, first to last p50 "
        f"{row['first_to_last_receipt'].get('p50_ms')} p99 "
        f"{row['first_to_last_receipt'].get('p99_ms')} ms"
    )
    return row


# ---------------------------------------------------------------- main
