"""The archive bench's view of etcd from outside the centres: key counts by prefix
(count-only ranges, which ``cluster.etcd.EtcdClient`` does not offer and the centres do
not need), the DB size figures of etcd's ``/metrics``, and a bench-only compaction.

Read on the bench's own gRPC channel so a probe never queues behind the centres' writes.
Also the etcd a run uses: the deployment's own (``benchlib.private_etcd``), or one that
differs only in its auto-compaction, to show what levels etcd's DB size off.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
from aetcd import rpc

from bench import benchlib as bl
from cluster.etcd_server import EmbeddedEtcd, find_free_port
from cluster.keys import Keys, prefix_range_end
from cluster.pki import local_identities

METRICS = (
    "etcd_mvcc_db_total_size_in_bytes",
    "etcd_mvcc_db_total_size_in_use_in_bytes",
    "etcd_debugging_mvcc_current_revision",
    "etcd_debugging_mvcc_compact_revision",
)


class Probe:
    """Key counts (count_only ranges, not offered by EtcdClient) and /metrics, read on
    the bench's own channel so they never queue behind the centres' writes."""

    def __init__(self, endpoint: str, keys: Keys) -> None:
        self.endpoint = endpoint
        self.keys = keys
        ca, cert, key = bl.etcd_tls().read()
        creds = grpc.ssl_channel_credentials(ca, key, cert)
        self._channel = grpc.aio.secure_channel(endpoint, creds)
        self._kv = rpc.KVStub(self._channel)

    async def count(self, prefix: bytes) -> int:
        req = rpc.RangeRequest(key=prefix, range_end=prefix_range_end(prefix), count_only=True)
        resp = await self._kv.Range(req, timeout=10)
        return int(resp.count)

    async def counts(self) -> dict[str, int]:
        k = self.keys
        return {
            "keys": await self.count(k.all()),
            "incidents": await self.count(k.incidents_prefix()),
            "journal": await self.count(k.journal_prefix()),
            "requests": await self.count(k.request("")),
        }

    def _metrics(self) -> dict[str, float]:
        tls = bl.etcd_tls()
        context = ssl.create_default_context(cafile=str(tls.ca))
        context.load_cert_chain(str(tls.cert), str(tls.key))
        url = f"https://{self.endpoint}/metrics"
        with urllib.request.urlopen(url, timeout=5, context=context) as resp:
            text = resp.read().decode()
        out: dict[str, float] = {}
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name in METRICS:
                out[name] = float(value)
        return out

    async def metrics(self) -> dict[str, float]:
        return await asyncio.to_thread(self._metrics)

    async def compact_now(self) -> dict[str, int]:
        """Compact all history (bench only, after the run): what "in use" is when only
        the live keys remain, against what the deployment's revision retention keeps."""
        _, rev = await self._revision()
        await self._kv.Compact(rpc.CompactionRequest(revision=rev, physical=True), timeout=60)
        await asyncio.sleep(1.0)  # the freed pages are counted after the compaction commits
        m = await self.metrics()
        return {
            "compacted_to": rev,
            "db_total_bytes": int(m.get(METRICS[0], -1)),
            "db_in_use_bytes": int(m.get(METRICS[1], -1)),
        }

    async def _revision(self) -> tuple[None, int]:
        resp = await self._kv.Range(rpc.RangeRequest(key=b"\0probe"), timeout=10)
        return None, int(resp.header.revision)

    async def close(self) -> None:
        await self._channel.close()


@contextlib.contextmanager
def bench_etcd(compaction: str = "") -> Iterator[Any]:
    """The deployment's etcd (``compaction`` empty), or the same with another
    auto-compaction, given as ``mode:retention`` (``periodic:1m``, ``revision:20000``)."""
    if not compaction:
        with bl.private_etcd() as server:
            yield server
        return
    mode, retention = compaction.split(":", 1)

    class VariantEtcd(EmbeddedEtcd):
        def _args(self, binary: Path) -> list[str]:
            args = super()._args(binary)
            args[args.index("--auto-compaction-mode") + 1] = mode
            args[args.index("--auto-compaction-retention") + 1] = retention
            return args

    d = Path(tempfile.mkdtemp(prefix="amk-bench-etcd-"))
    tls = local_identities(bl.bench_pki()).etcd_server
    server = VariantEtcd(d / "data", tls=tls, client_port=find_free_port(), log_file=d / "etcd.log")
    try:
        bl.secure_etcd(server)
        yield server
    finally:
        server.stop()
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(bl.bench_pki(), ignore_errors=True)
