"""A raw gRPC writer for drills: what a client with no retry logic of its own sees.

The load generator goes through ``AmkClient``, which retries UNAVAILABLE with the same
request id and moves to another gateway, so it hides an error the gateway answered
during a failover. :class:`RawWriter` does not: plain ``grpc.aio`` stubs on one gateway,
each call a fresh request id and a generous deadline, and every non-OK answer counted
by code. The gateway is meant to wait for a region's new owner within the deadline, so
during a centre's kill, pause or hand-over this should count 0 (issue #10).

Each create goes with a call-taker's token of the centre serving the region now
(:class:`clients.console_tokens.ConsoleRoom`; a refusal because the region moved is
retried once, same request id, for the new owner). Its acknowledged creates are checked
like the load's (:func:`chaos.checker.check_records`):
each must exist exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from typing import Any

import grpc

from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from clients.console_tokens import CALL_TAKER, ConsoleRoom
from cluster.tls import TlsFiles, open_channel

DEADLINE_S = 10.0
PAUSE_S = 0.05  # between one writer's calls: light next to the drill's own load
MAX_DETAILS = 5  # distinct error details kept for the report


class RawWriter:
    """``writers`` tasks creating incidents in ``regions`` (in turn) through ``address``."""

    def __init__(
        self,
        address: str,
        points: dict[str, tuple[float, float]],
        *,
        tls: TlsFiles | None,
        room: ConsoleRoom,
        writers: int = 4,
        deadline_s: float = DEADLINE_S,
    ) -> None:
        self.address = address
        self.tls = tls  # the console's identity (None: an insecure cluster)
        self.room = room  # a call-taker's token of the centre serving the region
        self.points = points
        self.writers = writers
        self.deadline_s = deadline_s
        self.acked: list[dict[str, Any]] = []  # history records, as the checker reads them
        self.errors: Counter[str] = Counter()
        self.details: Counter[str] = Counter()
        self._tasks: list[asyncio.Task[None]] = []
        self._channel: grpc.aio.Channel | None = None

    def start(self) -> RawWriter:
        self._channel = open_channel(self.address, self.tls)
        stub = pb_grpc.DispatchServiceStub(self._channel)
        self._tasks = [asyncio.create_task(self._loop(stub, i)) for i in range(self.writers)]
        return self

    async def _loop(self, stub: pb_grpc.DispatchServiceStub, index: int) -> None:
        regions = sorted(self.points)
        n = index
        while True:
            region = regions[n % len(regions)]
            n += 1
            lat, lon = self.points[region]
            rid = uuid.uuid4().hex
            req = pb.CreateIncidentRequest(
                request_id=rid, region=region, position=pb.Position(lat=lat, lon=lon)
            )
            t = time.time()
            try:
                inc = await self.room.call_async(
                    stub,
                    region,
                    lambda md, r=req: stub.CreateIncident(r, timeout=self.deadline_s, metadata=md),
                    CALL_TAKER,
                )
            except grpc.aio.AioRpcError as err:
                self.errors[err.code().name] += 1
                self.details[f"{err.code().name}: {err.details()}"[:200]] += 1
            else:
                self.acked.append(
                    {
                        "ok": True,
                        "op": "create",
                        "via": "raw",
                        "region": region,
                        "request_id": rid,
                        "incident": inc.id,
                        "revision": inc.revision,
                        "t": t,
                        "t_done": time.time(),
                    }
                )
            await asyncio.sleep(PAUSE_S)

    async def stop(self) -> dict[str, Any]:
        """Stop writing (calls in flight are cancelled, not counted); the summary."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._channel is not None:
            await self._channel.close()
            self._channel = None
        return {
            "address": self.address,
            "regions": sorted(self.points),
            "writers": self.writers,
            "deadline_s": self.deadline_s,
            "acked": len(self.acked),
            "errors": sum(self.errors.values()),
            "errors_by_code": dict(self.errors),
            "details": dict(self.details.most_common(MAX_DETAILS)),
        }
