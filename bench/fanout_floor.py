"""grpc.aio's own cost of a streamed fan-out, with none of our code: the floor under the
gateway's Watch.

A bare grpc.aio server (TLS with client certificates from a throwaway local CA, as the
gateway) holds N server streams; R times a second one ~600-byte message is sent to
every stream. The streams are read by a child process over two connections, as the
watch benchmark's consoles are. Reports the server's CPU per message sent and, per
message, the time from its send to the first and the last stream's receipt.

    .venv/bin/python bench/fanout_floor.py --streams 100,500 --rate 20 --seconds 8

``--layers 4`` puts the message through four nested async generators and a queue per
stream (the shape of the gateway's Watch path) to price that shape alone; ``--ray``
serves from an async Ray actor, as the gateway runs, to price Ray's worker around it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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

METHOD = "/floor.Floor/Stream"
PAYLOAD = b"x" * 600
OPTIONS = [("grpc.use_local_subchannel_pool", 1)]


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def _layer(items: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    async for item in items:
        yield item


async def _queue(q: asyncio.Queue[bytes]) -> AsyncIterator[bytes]:
    while True:
        yield await q.get()


async def serve(n: int, rate: float, seconds: float, layers: int, pki: Path) -> dict[str, Any]:
    """One point: the server here, the readers in a child process."""
    ids = local_identities(pki)
    sent: list[bytes] = []
    queues: list[asyncio.Queue[bytes]] = []
    loop = asyncio.get_running_loop()
    new = loop.create_future()
    opened = [0]
    all_open = asyncio.Event()

    def one_open() -> None:
        opened[0] += 1
        if opened[0] >= n:
            all_open.set()

    async def plain(request: bytes, context: Any) -> AsyncIterator[bytes]:
        one_open()
        seq = 0
        while True:
            while seq >= len(sent):
                await asyncio.shield(new)
            seq += 1
            yield sent[seq - 1]

    async def layered(request: bytes, context: Any) -> AsyncIterator[bytes]:
        q: asyncio.Queue[bytes] = asyncio.Queue()
        queues.append(q)
        one_open()
        items: AsyncIterator[bytes] = _queue(q)
        for _ in range(layers - 1):
            items = _layer(items)
        async for item in items:
            yield item

    handler = grpc.unary_stream_rpc_method_handler(layered if layers else plain)
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("floor.Floor", {"Stream": handler}),)
    )
    port = server.add_secure_port("127.0.0.1:0", server_credentials(ids.service))
    await server.start()
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--read",
        f"{port},{n},{pki}",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=2**27,
    )
    assert child.stdin is not None and child.stdout is not None
    assert (await child.stdout.readline()).strip() == b"ready"
    await asyncio.wait_for(all_open.wait(), 60)  # every stream open before the first message
    await asyncio.sleep(0.5)
    cpu0, t0 = _cpu_s(), time.monotonic()
    at: list[float] = []
    for k in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, t0 + k / rate - time.monotonic()))
        at.append(time.time())
        sent.append(k.to_bytes(4, "big") + PAYLOAD)
        for q in queues:
            q.put_nowait(sent[-1])
        done, new = new, loop.create_future()
        done.set_result(None)
    await asyncio.sleep(1.0)
    cpu1, t1 = _cpu_s(), time.monotonic()
    child.stdin.write(b"dump\n")
    await child.stdin.drain()
    got: list[list[float | None]] = json.loads(await child.stdout.readline())
    await child.wait()
    await server.stop(None)
    first, spread, every = [], [], []
    for k, t in enumerate(at):
        times = [r[k] for r in got if k < len(r) and r[k] is not None]
        if times:
            first.append(min(times) - t)
            spread.append(max(times) - min(times))
            every += [x - t for x in times]
    received = sum(1 for r in got for x in r if x is not None)
    return {
        "streams": n,
        "layers": layers,
        "messages_sent": n * len(at),
        "messages_received": received,
        "server_cpu_ms_per_message": round(1000 * (cpu1 - cpu0) / (n * len(at)), 4),
        # over the sending and one second after it (messages still going out)
        "server_cores": round((cpu1 - cpu0) / (t1 - t0), 2),
        "send_to_receipt_ms": _ms(every),
        "send_to_first_ms": _ms(first),
        "first_to_last_ms": _ms(spread),
    }


def _ms(xs: list[float]) -> dict[str, float]:
    xs = sorted(xs)
    if not xs:
        return {}
    return {f"p{q}": round(1000 * xs[round(q / 100 * (len(xs) - 1))], 2) for q in (50, 99)}


async def read(port: int, n: int, pki: Path) -> None:
    """The child: ``n`` streams over two connections, a receipt time per message."""
    creds = channel_credentials(local_identities(pki).console)
    channels = [grpc.aio.secure_channel(f"127.0.0.1:{port}", creds, OPTIONS) for _ in range(2)]
    got: list[list[float | None]] = [[] for _ in range(n)]

    async def one(i: int) -> None:
        mine = got[i]
        async for message in channels[i % 2].unary_stream(METHOD)(b""):
            k = int.from_bytes(message[:4], "big")
            mine.extend([None] * (k + 1 - len(mine)))
            mine[k] = time.time()

    tasks = [asyncio.create_task(one(i)) for i in range(n)]
    await asyncio.sleep(2.0)
    print("ready", flush=True)
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    await reader.readline()
    print(json.dumps(got), flush=True)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", default="100,500")
    ap.add_argument("--rate", type=float, default=20.0, help="messages per second to each")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--layers", type=int, default=0, help="0: the bare generator")
    ap.add_argument(
        "--ray", action="store_true", help="serve from a Ray async actor, as the gateway runs"
    )
    ap.add_argument("--read", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.read:
        port, n, pki = args.read.split(",", 2)
        asyncio.run(read(int(port), int(n), Path(pki)))
        return
    with tempfile.TemporaryDirectory(prefix="amk-floor-") as tmp:
        for n in (int(x) for x in args.streams.split(",")):
            point = (n, args.rate, args.seconds, args.layers, tmp)
            row = _in_ray(*point) if args.ray else asyncio.run(serve(*point[:4], Path(tmp)))
            print(json.dumps({**row, "in_ray_actor": args.ray}), flush=True)


def _in_ray(n: int, rate: float, seconds: float, layers: int, pki: str) -> dict[str, Any]:
    """One point served by an async Ray actor on a local Ray started here (the actor's
    CPU is its whole process, Ray's own threads included)."""
    import ray

    from cluster.ray_local import loopback_only, services_first

    loopback_only()
    services_first()  # as the cluster's own Ray runs its workers
    root = str(Path(__file__).resolve().parents[1])
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        runtime_env={"env_vars": {"PYTHONPATH": f"{root}:{root}/bench"}},
    )
    try:

        @ray.remote(num_cpus=0, max_concurrency=1000)
        class FloorServer:
            async def run(self) -> dict[str, Any]:
                import fanout_floor  # the worker's own copy of this module

                return await fanout_floor.serve(n, rate, seconds, layers, Path(pki))

        return ray.get(FloorServer.remote().run.remote())  # type: ignore[attr-defined]
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
