"""Consoles of the Watch fan-out benchmark in a process of their own (``scale_bench``
part ``watch`` with ``--console-procs`` > 1).

Why: real consoles sit on their own desks, each decoding only its own stream. Five
hundred consoles in the benchmark's one Python process decode 500 copies of every event
one after the other, so the last console's "receipt" waits for the 499 before it in the
client, not in the gateway (~50 µs each here: ~25 ms for the last). Spreading the
consoles over a few processes keeps that client-side queue out of the figure it is not
part of; the gateway's work is the same. The clock is ``time.monotonic`` (the machine's
CLOCK_MONOTONIC, shared by every process), so receipts compare with the parent's sends.

Protocol, a line at a time on stdin/stdout:
- the child prints ``ready`` once every console's stream is open;
- ``have ID`` -> ``yes`` when every console here has received incident ``ID``, else ``no``;
- ``dump`` -> one JSON line, a list (one per console) of ``{incident_id: monotonic time}``;
  then the child exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time

import grpc

from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc

CHANNELS_PER_GATEWAY = 2


async def run(gateways: list[str], first: int, count: int, from_revision: int) -> None:
    channels = [
        grpc.aio.insecure_channel(g, options=[("grpc.use_local_subchannel_pool", 1)])
        for g in gateways
        for _ in range(CHANNELS_PER_GATEWAY)
    ]
    received: list[dict[str, float]] = [{} for _ in range(count)]
    opened = 0
    all_open = asyncio.Event()

    async def console(i: int) -> None:
        nonlocal opened
        # Console number first + i uses gateway (first + i) % len(gateways), as the
        # in-process consoles do, so the split over gateways does not depend on -P.
        g = (first + i) % len(gateways)
        stub = pb_grpc.DispatchServiceStub(channels[g * CHANNELS_PER_GATEWAY + i % 2])
        call = stub.Watch(pb.WatchRequest(from_revision=from_revision))  # every region
        opened += 1
        if opened == count:
            all_open.set()
        mine = received[i]
        with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
            async for ev in call:
                if ev.kind == pb.WatchEvent.KIND_INCIDENT_CHANGED:
                    mine.setdefault(ev.incident.id, time.monotonic())
        call.cancel()

    tasks = [asyncio.create_task(console(i)) for i in range(count)]
    await all_open.wait()
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().strip():
        if line.startswith("have "):
            ident = line.split(" ", 1)[1]
            print("yes" if all(ident in r for r in received) else "no", flush=True)
        elif line == "dump":
            print(json.dumps(received), flush=True)
            break
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for c in channels:
        await c.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gateways", required=True, help="comma-separated host:port")
    ap.add_argument("--first", type=int, required=True, help="number of the first console")
    ap.add_argument("--count", type=int, required=True, help="consoles in this process")
    ap.add_argument("--from-revision", type=int, required=True)
    args = ap.parse_args()
    asyncio.run(run(args.gateways.split(","), args.first, args.count, args.from_revision))


if __name__ == "__main__":
    main()
