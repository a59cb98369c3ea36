"""Shared by the integration tests: a writer that records every acknowledged create,
and the checks that nothing acknowledged was lost or doubled."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import grpc
import pytest

from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.etcd import EtcdClient
from cluster.keys import Keys
from cluster.ownership import OwnerRecord

POSITIONS = {
    "oslo": pb.Position(lat=59.91, lon=10.75),
    "sorlandet": pb.Position(lat=58.146, lon=7.995),
    "innlandet": pb.Position(lat=60.795, lon=11.07),
}


@pytest.fixture(scope="module")
def two_gateways() -> int:
    """Two gateways for the module's ``cluster``, for a module that tests what the
    second is for (it serves the same data, a client moves to it when its own dies, a
    revocation reaches every gateway): imported there as ``cluster_gateways``."""
    return 2


class Writer:
    """Creates incidents in one region through the gateway, recording every ack.

    Given a raw stub (``grpc.aio``, no retries), every non-OK answer is one the gateway
    gave: ``failed`` keeps the codes, ``errors`` the codes with their details and when.
    """

    def __init__(self, stub, region: str, *, timeout_s: float = 15.0) -> None:
        self.stub = stub
        self.region = region
        self.timeout_s = timeout_s
        self.acked: list[tuple[str, str, float]] = []  # request id, incident id, time
        self.failed: list[grpc.StatusCode] = []
        self.errors: list[tuple[str, str, float]] = []  # code name, details, time
        self._stop = asyncio.Event()

    async def _loop(self) -> None:
        while not self._stop.is_set():
            rid = uuid.uuid4().hex
            req = pb.CreateIncidentRequest(
                request_id=rid, region=self.region, position=POSITIONS[self.region]
            )
            try:
                inc = await self.stub.CreateIncident(req, timeout=self.timeout_s)
            except grpc.aio.AioRpcError as err:
                self.failed.append(err.code())
                self.errors.append((err.code().name, err.details() or "", time.monotonic()))
                continue
            self.acked.append((rid, inc.id, time.monotonic()))

    def start(self, n: int = 4) -> list[asyncio.Task[None]]:
        self.tasks = [asyncio.create_task(self._loop()) for _ in range(n)]
        return self.tasks

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self.tasks)

    def error_summary(self) -> dict[str, int]:
        """Non-OK answers counted by code and details (for a failing assert's message)."""
        out: dict[str, int] = {}
        for code, details, _ in self.errors:
            key = f"{code}: {details}"
            out[key] = out.get(key, 0) + 1
        return out


async def owner_of(etcd: EtcdClient, keys: Keys, region: str) -> tuple[str, str, int]:
    kv = await etcd.get(keys.owner(region))
    assert kv is not None, f"{region} has no owner"
    rec = OwnerRecord.decode(kv.value)
    return rec.centre, rec.instance, kv.mod_revision


async def check_nothing_lost(etcd: EtcdClient, keys: Keys, writer: Writer) -> None:
    """Every acknowledged create exists exactly once, and was journaled once."""
    kvs, _ = await etcd.get_prefix(keys.incidents_prefix(writer.region))
    ids = [json.loads(kv.value)["id"] for kv in kvs]
    assert len(ids) == len(set(ids))
    acked_ids = [i for _, i, _ in writer.acked]
    assert len(acked_ids) == len(set(acked_ids)), "two acks named one incident"
    missing = set(acked_ids) - set(ids)
    assert not missing, f"acknowledged but lost: {sorted(missing)[:5]}"
    journal, _ = await etcd.get_prefix(keys.journal_prefix(writer.region))
    per_request: dict[str, int] = {}
    for j in journal:
        rid = json.loads(j.value)["request_id"]
        if rid:
            per_request[rid] = per_request.get(rid, 0) + 1
    assert all(per_request.get(rid) == 1 for rid, _, _ in writer.acked)
