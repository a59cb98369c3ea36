"""grpc.aio's own cost of a request and its answer, unary against a bidirectional stream,
with none of our code: what moving commands onto a stream could save at best.

A bare grpc.aio server (TLS with client certificates from a throwaway local CA, as the
gateway) in a child process answers each ~300-byte message with the same bytes, either
as a unary call or on a stream held open. C closed-loop callers in this process share
four channels; on the stream kind each channel holds one stream, its answers matched to
callers in order. Rounds alternate the kinds. Reports throughput, p99, and the server's
and the client's CPU per message.

    .venv/bin/python bench/stream_floor.py --concurrency 8,64 --seconds 5 --rounds 2

Why it exists: issue #10 names "streams that batch" among the levers for CreateIncident.
Its target compares a create with a bare *unary* echo; this prices what the transport
alone would give (docs/performance.md, "fifth look").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cluster.pki import local_identities
from cluster.tls import channel_credentials, server_credentials

SERVICE = "floor.Echo"
PAYLOAD = b"x" * 300
CHANNELS = 4
OPTIONS = [("grpc.use_local_subchannel_pool", 1)]


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _pid_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def serve(pki: Path) -> None:
    """The child: both methods on one TLS port, printed on stdout; runs until killed."""

    async def unary(request: bytes, context: Any) -> bytes:
        return request

    async def stream(requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[bytes]:
        async for request in requests:
            yield request

    server = grpc.aio.server()
    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(unary),
        "Stream": grpc.stream_stream_rpc_method_handler(stream),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    port = server.add_secure_port("127.0.0.1:0", server_credentials(local_identities(pki).service))
    await server.start()
    print(port, flush=True)
    await server.wait_for_termination()


class _Stream:
    """One open stream: one writer (grpc allows one write at a time), answers in order."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.call = channel.stream_stream(f"/{SERVICE}/Stream")()
        self.outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.waiting: asyncio.Queue[asyncio.Future[bytes]] = asyncio.Queue()
        self.tasks = [asyncio.create_task(self._write()), asyncio.create_task(self._read())]

    async def ask(self, message: bytes) -> bytes:
        answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.waiting.put_nowait(answer)
        self.outbox.put_nowait(message)
        return await answer

    async def _write(self) -> None:
        while (message := await self.outbox.get()) is not None:
            await self.call.write(message)
        await self.call.done_writing()

    async def _read(self) -> None:
        while (message := await self.call.read()) is not grpc.aio.EOF:
            (await self.waiting.get()).set_result(message)

    async def close(self) -> None:
        self.outbox.put_nowait(None)
        await asyncio.gather(*self.tasks)


async def point(
    port: int, server_pid: int, pki: Path, kind: str, c: int, seconds: float
) -> dict[str, Any]:
    creds = channel_credentials(local_identities(pki).console)
    channels = [
        grpc.aio.secure_channel(f"127.0.0.1:{port}", creds, OPTIONS) for _ in range(CHANNELS)
    ]
    streams = [_Stream(ch) for ch in channels] if kind == "stream" else []
    unaries = [ch.unary_unary(f"/{SERVICE}/Unary") for ch in channels]
    latencies: list[float] = []
    stop = 0.0

    async def caller(i: int) -> None:
        while (t0 := time.perf_counter()) < stop:
            if streams:
                await streams[i % CHANNELS].ask(PAYLOAD)
            else:
                await unaries[i % CHANNELS](PAYLOAD)
            latencies.append(time.perf_counter() - t0)

    stop = time.perf_counter() + 0.5  # warm-up, not counted
    await asyncio.gather(*(caller(i) for i in range(c)))
    latencies.clear()
    cpu0, server0, t0 = _cpu_s(), _pid_cpu_s(server_pid), time.perf_counter()
    stop = t0 + seconds
    await asyncio.gather(*(caller(i) for i in range(c)))
    wall = time.perf_counter() - t0
    n = len(latencies)
    client_cpu, server_cpu = _cpu_s() - cpu0, _pid_cpu_s(server_pid) - server0
    for s in streams:
        await s.close()
    for ch in channels:
        await ch.close()
    latencies.sort()
    return {
        "kind": kind,
        "concurrency": c,
        "throughput_per_s": round(n / wall, 1),
        "p99_ms": round(1000 * latencies[int(0.99 * (n - 1))], 2),
        "server_cpu_ms_per_message": round(1000 * server_cpu / n, 3),
        "client_cpu_ms_per_message": round(1000 * client_cpu / n, 3),
    }


async def run(args: argparse.Namespace, pki: Path) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", str(pki), stdout=asyncio.subprocess.PIPE
    )
    assert child.stdout is not None
    port = int(await child.stdout.readline())
    try:
        for r in range(args.rounds):
            for c in (int(x) for x in args.concurrency.split(",")):
                for kind in ("unary", "stream"):
                    row = await point(port, child.pid, pki, kind, c, args.seconds)
                    print(json.dumps({"round": r + 1, **row}), flush=True)
    finally:
        child.kill()
        await child.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concurrency", default="8,64")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        asyncio.run(serve(Path(args.serve)))
        return
    with tempfile.TemporaryDirectory(prefix="amk-stream-floor-") as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
