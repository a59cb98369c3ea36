"""The archive drill's load: short incident lives that end closed or cancelled.

The general load generator (``clients/loadgen.py``) runs whole ambulance missions, where
most writes are to units (which are never archived) and an incident closes after a dozen
steps. The archive drill needs the opposite: many incidents that close soon, so the
archivers always have a batch to move when the crash file is armed. Each life here is
create, maybe triage, maybe a note, then close (70 %), cancel (15 %) or leave open (15 %,
so live and archived incidents sit side by side at the check).

Calls go straight to the gateways' gRPC API (``grpc.aio``), each with one request id for
all its attempts: a call cut off by a centre's death is retried under the same id until
it is answered or its budget (``budget_s``) runs out. The budget must be shorter than the
deployment's ``request_retention_s``: a retry after the idempotency record has left etcd
would run as a new command, which is exactly what that retention exists to prevent.

Every answer goes to a :class:`clients.loadgen.History` in the format the checker reads
(request id, op, region, incident, committed revision or status code, client times).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import structlog

from actors.domain.triage import default_table
from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from clients.console_tokens import DISPATCHER, ConsoleRoom, Metadata
from clients.loadgen import History
from cluster.config import Seed
from cluster.tls import TlsFiles, open_channel

log = structlog.get_logger("amk.chaos.archive_load")

# Answers that mean "not done here, or not known to be done": the same request id again.
RETRY_CODES = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED}
)
ENDINGS = (("close", 0.70), ("cancel", 0.15), ("open", 0.15))
JITTER_DEG = 0.03  # ~3 km around a station: inside the region


@dataclass(frozen=True)
class ClosingLoadSpec:
    """How much: operations per second overall, concurrent lives, per-call budgets."""

    rate: float = 20.0
    concurrency: int = 5
    budget_s: float = 4.0  # one call, all attempts (must be < request_retention_s)
    attempt_s: float = 2.0  # one attempt
    seed: int | None = None


class _Pacer:
    """One operation every ``1/rate`` seconds across all workers, no catch-up burst."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = time.monotonic()

    async def wait(self) -> None:
        now = time.monotonic()
        self._next = max(self._next + self.interval, now - 1.0)
        if self._next > now:
            await asyncio.sleep(self._next - now)


class _Failed(Exception):
    """A call was not acknowledged within its budget: this life ends here."""


class ClosingLoad:
    """Workers running incident lives against the gateways until told to stop."""

    def __init__(
        self,
        gateways: list[str],
        seed: Seed,
        regions: list[str],
        spec: ClosingLoadSpec,
        history: History,
        *,
        tls: TlsFiles | None,
        room: ConsoleRoom,
    ) -> None:
        self.spec = spec
        self.room = room  # each call as a dispatcher of the centre serving its region
        self.history = history
        self.regions = regions
        self.codes = sorted(default_table().criteria)
        self.stations = {r: [(u.lat, u.lon) for u in seed.units if u.region == r] for r in regions}
        self._channels = [open_channel(a, tls) for a in gateways]
        self._stubs = [pb_grpc.DispatchServiceStub(c) for c in self._channels]
        self._pacer = _Pacer(spec.rate)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.started_at = 0.0

    def start(self) -> ClosingLoad:
        self.started_at = time.time()
        self._tasks = [
            asyncio.create_task(self._worker(i), name=f"archive-load-{i}")
            for i in range(self.spec.concurrency)
        ]
        return self

    async def stop(self) -> None:
        """Let every life in progress end at its next call, then close the channels
        (once: a second call returns at once)."""
        if self._stop.is_set():
            return
        self._stop.set()
        await asyncio.gather(*self._tasks)
        for channel in self._channels:
            await channel.close()

    async def _worker(self, index: int) -> None:
        rng = random.Random(None if self.spec.seed is None else self.spec.seed * 1000 + index)
        gateways = itertools.cycle(range(index, index + len(self._stubs)))
        for n in itertools.count(index, self.spec.concurrency):
            if self._stop.is_set():
                return
            region = self.regions[n % len(self.regions)]
            try:
                await self._life(region, rng, gateways)
            except _Failed:
                continue
            except Exception:  # a bug in the drill must show, not end a worker quietly
                log.exception("archive_load_error", region=region)

    async def _life(self, region: str, rng: random.Random, gw: itertools.cycle[int]) -> None:
        lat, lon = rng.choice(self.stations[region])
        position = pb.Position(
            lat=lat + rng.uniform(-JITTER_DEG, JITTER_DEG),
            lon=lon + rng.uniform(-JITTER_DEG, JITTER_DEG),
        )
        triage_at_create = rng.random() < 0.4
        code = rng.choice(self.codes)

        def create(stub: Any, rid: str, md: Metadata) -> Awaitable[Any]:
            return stub.CreateIncident(
                pb.CreateIncidentRequest(
                    request_id=rid,
                    region=region,
                    position=position,
                    address="archive drill",
                    criteria_code=code if triage_at_create else "",
                ),
                timeout=self.spec.attempt_s,
                metadata=md,
            )

        inc = await self._call("create", region, "", create, gw)
        iid = inc.id
        if not triage_at_create:
            await self._call(
                "triage",
                region,
                iid,
                lambda stub, rid, md: stub.TriageIncident(
                    pb.TriageIncidentRequest(request_id=rid, incident_id=iid, criteria_code=code),
                    timeout=self.spec.attempt_s,
                    metadata=md,
                ),
                gw,
            )
        if rng.random() < 0.5:
            await self._call(
                "note",
                region,
                iid,
                lambda stub, rid, md: stub.AddIncidentNote(
                    pb.AddIncidentNoteRequest(request_id=rid, incident_id=iid, text="on the way"),
                    timeout=self.spec.attempt_s,
                    metadata=md,
                ),
                gw,
            )
        ending = rng.choices([e for e, _ in ENDINGS], [w for _, w in ENDINGS])[0]
        if ending == "open":
            return
        status = pb.INCIDENT_STATUS_CLOSED if ending == "close" else pb.INCIDENT_STATUS_CANCELLED
        await self._call(
            ending,
            region,
            iid,
            lambda stub, rid, md: stub.ChangeIncidentStatus(
                pb.ChangeIncidentStatusRequest(request_id=rid, incident_id=iid, status=status),
                timeout=self.spec.attempt_s,
                metadata=md,
            ),
            gw,
        )

    async def _call(
        self,
        op: str,
        region: str,
        incident: str,
        send: Callable[[Any, str, Metadata], Awaitable[Any]],
        gw: itertools.cycle[int],
    ) -> Any:
        """One paced call under one request id, retried within its budget; recorded."""
        if self._stop.is_set():
            raise _Failed
        await self._pacer.wait()
        rid = uuid.uuid4().hex
        rec: dict[str, Any] = {"t": time.time(), "op": op, "region": region, "request_id": rid}
        if incident:
            rec["incident"] = incident
        started = time.monotonic()
        deadline = started + self.spec.budget_s
        attempts = 0
        while True:
            attempts += 1
            try:
                stub = self._stubs[next(gw) % len(self._stubs)]
                answer = await self.room.call_async(
                    stub, region, lambda md, s=stub: send(s, rid, md), DISPATCHER
                )
            except grpc.aio.AioRpcError as err:
                pause = min(0.5, 0.05 * 2**attempts)
                if err.code() in RETRY_CODES and time.monotonic() + pause < deadline:
                    await asyncio.sleep(pause)
                    continue
                rec.update(ok=False, code=err.code().name, error=(err.details() or "")[:200])
                break
            rec.update(ok=True, revision=int(answer.revision), incident=answer.id)
            break
        rec.update(
            t_done=time.time(),
            latency_ms=round((time.monotonic() - started) * 1000, 1),
            attempts=attempts,
        )
        self.history.add(rec)
        if not rec["ok"]:
            raise _Failed
        return answer
