"""Consoles of the Watch fan-out benchmark (``scale_bench`` part ``watch``): in the
benchmark's process (:class:`InProcessConsoles`) or in processes of their own
(:class:`ProcessConsoles`, ``--console-procs`` > 1, running this file).

Why: real consoles sit on their own desks, each decoding only its own stream. Five
hundred consoles in the benchmark's one Python process decode 500 copies of every event
one after the other, so the last console's "receipt" waits for the 499 before it in the
client, not in the gateway (~50 µs each here: ~25 ms for the last). Spreading the
consoles over a few processes keeps that client-side queue out of the figure it is not
part of; the gateway's work is the same. The clock is ``time.monotonic`` (the machine's
CLOCK_MONOTONIC, shared by every process), so receipts compare with the parent's sends.

Protocol, a line at a time on stdin/stdout:
- the child prints ``ready`` once every console's stream is open;
- ``have ID CENTRE`` -> ``yes`` when every console here acting for ``CENTRE`` has
  received incident ``ID``, else ``no``;
- ``dump`` -> one JSON line, a list (one per console) of ``{incident_id: monotonic time}``;
  then the child exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc

from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from cluster import heap
from cluster.tls import TlsFiles, client_identity, open_channel
from cluster.tokens import bearer_header

CHANNELS_PER_GATEWAY = 2
SCRIPT = Path(__file__).resolve()


def _channel(target: str, tls: TlsFiles | None) -> grpc.aio.Channel:
    """A channel with a connection of its own (not shared with other channels)."""
    return open_channel(target, tls, [("grpc.use_local_subchannel_pool", 1)])


# Who each console is (identities on): a JSON list of [centre, token]; console i acts for
# entry i % len (a dispatcher watching the regions its centre serves: an empty region list
# is narrowed to those). Unset or empty: one anonymous entry (an insecure cluster, every
# region). From the environment, so console processes inherit it.
CONSOLES_ENV = "AMK_BENCH_CONSOLES"


def identities() -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """Per entry: the centre and the call metadata (its bearer token)."""
    entries = json.loads(os.environ.get(CONSOLES_ENV) or "[]") or [["", ""]]
    return [(c, (bearer_header(t),) if t else ()) for c, t in entries]


def expected(centre_of_console: str, centre: str) -> bool:
    """Whether a console acting for ``centre_of_console`` must see an incident of a
    region ``centre`` serves (an anonymous console sees every region)."""
    return not centre_of_console or centre_of_console == centre


# Which stream the consoles use: "batches" (WatchBatches, what boards use) or "watch"
# (one event per message); from the environment, so console processes inherit it.
STREAM_ENV = "AMK_BENCH_WATCH_STREAM"


async def events(
    stub: Any, from_revision: int, metadata: tuple[tuple[str, str], ...] = ()
) -> AsyncIterator[pb.WatchEvent]:
    """A console's events one at a time, over the stream ``STREAM_ENV`` names."""
    request = pb.WatchRequest(from_revision=from_revision)
    if os.environ.get(STREAM_ENV, "batches") == "watch":
        call = stub.Watch(request, metadata=metadata)
        try:
            async for ev in call:
                yield ev
        finally:
            call.cancel()
        return
    call = stub.WatchBatches(request, metadata=metadata)
    try:
        async for batch in call:
            for ev in batch.events:
                yield ev
    finally:
        call.cancel()


class InProcessConsoles:
    """Consoles as tasks of this process (``--console-procs 1``): every receipt is
    decoded here, one console after the other."""

    def __init__(
        self, gateways: list[str], n: int, from_revision: int, tls: TlsFiles | None
    ) -> None:
        self.channels = [_channel(g, tls) for g in gateways for _ in range(2)]
        self.received: list[dict[str, float]] = [{} for _ in range(n)]
        self.tasks: list[asyncio.Task[None]] = []
        self.n, self.from_revision, self.gateways = n, from_revision, len(gateways)
        self.pids: list[int] = []
        who = identities()
        self.who = [who[i % len(who)] for i in range(n)]

    async def start(self) -> None:
        async def console(i: int) -> None:
            stub = pb_grpc.DispatchServiceStub(self.channels[(i % self.gateways) * 2 + i % 2])
            mine = self.received[i]
            with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
                async for ev in events(stub, self.from_revision, self.who[i][1]):
                    if ev.kind == pb.WatchEvent.KIND_INCIDENT_CHANGED:
                        mine.setdefault(ev.incident.id, time.monotonic())

        self.tasks = [asyncio.create_task(console(i)) for i in range(self.n)]

    async def have(self, ident: str, centre: str) -> bool:
        return all(
            ident in r
            for r, w in zip(self.received, self.who, strict=True)
            if expected(w[0], centre)
        )

    async def have_all(self, ids: dict[str, str]) -> bool:
        return all([await self.have(i, c) for i, c in ids.items()])

    async def dump(self) -> list[dict[str, float]]:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for c in self.channels:
            await c.close()
        return self.received


class ProcessConsoles:
    """Consoles spread over ``procs`` child processes (``bench/watch_consoles.py``)."""

    def __init__(
        self, gateways: list[str], n: int, from_revision: int, procs: int, tls: TlsFiles | None
    ) -> None:
        self.args = (gateways, n, from_revision, procs)
        # The children open their channels with the same console identity.
        self.tls_args = ["--insecure"] if tls is None else ["--pki", str(tls.cert.parent)]
        self.children: list[asyncio.subprocess.Process] = []
        self.pids: list[int] = []

    async def start(self) -> None:
        gateways, n, from_revision, procs = self.args
        script = str(SCRIPT)
        first = 0
        for k in range(procs):
            count = n // procs + (1 if k < n % procs else 0)
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                script,
                "--gateways",
                ",".join(gateways),
                "--first",
                str(first),
                "--count",
                str(count),
                "--from-revision",
                str(from_revision),
                *self.tls_args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=256 * 1024 * 1024,
            )
            first += count
            self.children.append(child)
            self.pids.append(child.pid)
        for child in self.children:
            line = await asyncio.wait_for(child.stdout.readline(), 60)  # type: ignore[union-attr]
            if line.strip() != b"ready":
                raise RuntimeError(f"console process {child.pid} did not start: {line!r}")

    async def _ask(self, line: str) -> list[bytes]:
        for child in self.children:
            child.stdin.write(line.encode() + b"\n")  # type: ignore[union-attr]
            await child.stdin.drain()  # type: ignore[union-attr]
        return [await child.stdout.readline() for child in self.children]  # type: ignore[union-attr]

    async def have(self, ident: str, centre: str) -> bool:
        return all(a.strip() == b"yes" for a in await self._ask(f"have {ident} {centre}"))

    async def have_all(self, ids: dict[str, str]) -> bool:
        for ident, centre in ids.items():
            if not await self.have(ident, centre):
                return False
        return True

    async def dump(self) -> list[dict[str, float]]:
        out: list[dict[str, float]] = []
        for answer in await self._ask("dump"):
            out += json.loads(answer)
        for child in self.children:
            await child.wait()
        return out


async def run(
    gateways: list[str], first: int, count: int, from_revision: int, tls: TlsFiles | None
) -> None:
    channels = [_channel(g, tls) for g in gateways for _ in range(CHANNELS_PER_GATEWAY)]
    received: list[dict[str, float]] = [{} for _ in range(count)]
    who = identities()
    mine_of = [who[(first + i) % len(who)] for i in range(count)]
    opened = 0
    all_open = asyncio.Event()

    async def console(i: int) -> None:
        nonlocal opened
        # Console number first + i uses gateway (first + i) % len(gateways), as the
        # in-process consoles do, so the split over gateways does not depend on -P.
        g = (first + i) % len(gateways)
        stub = pb_grpc.DispatchServiceStub(channels[g * CHANNELS_PER_GATEWAY + i % 2])
        stream = events(stub, from_revision, mine_of[i][1])  # its centre's regions
        opened += 1
        if opened == count:
            all_open.set()
        mine = received[i]
        with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
            async for ev in stream:
                if ev.kind == pb.WatchEvent.KIND_INCIDENT_CHANGED:
                    mine.setdefault(ev.incident.id, time.monotonic())

    tasks = [asyncio.create_task(console(i)) for i in range(count)]
    await all_open.wait()
    heap.settle()  # as in the bench process: no full collection over the streams
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().strip():
        if line.startswith("have "):
            _, ident, centre = [*line.split(" "), ""][:3]
            ok = all(
                ident in r for r, w in zip(received, mine_of, strict=True) if expected(w[0], centre)
            )
            print("yes" if ok else "no", flush=True)
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
    ap.add_argument("--pki", help="folder of the CA and the console certificate")
    ap.add_argument("--insecure", action="store_true", help="plaintext (insecure cluster)")
    args = ap.parse_args()
    tls = client_identity(args.pki, insecure=args.insecure)
    asyncio.run(run(args.gateways.split(","), args.first, args.count, args.from_revision, tls))


if __name__ == "__main__":
    main()
