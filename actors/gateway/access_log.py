"""The gateway's access-log writer (Normen): rows of patient-data reads, batched into the
archive database off the RPC path.

An RPC appends rows to a buffer and returns; one task per gateway writes the buffer in
batches (every ``FLUSH_S``, or sooner when ``BATCH`` rows wait) and prunes rows past
the retention once an hour. A failed write keeps the rows and tries again; past
``MAX_PENDING`` rows (the archive down for long) the oldest are dropped and each drop
is logged as an error, so a broken archive cannot take the gateway's memory with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Iterable
from typing import Any

import structlog
from google.protobuf.message import Message

from actors.domain.access import Decision, Served, ground_of
from cluster.archive import ArchiveStore
from cluster.archive.access_log import AccessRow, caller_hash
from cluster.errors import AmkError
from cluster.tokens import Claims

log = structlog.get_logger("amk.access")

FLUSH_S = 0.5
BATCH = 500
MAX_PENDING = 100_000
PRUNE_EVERY_S = 3600.0
INCIDENT = "amk.dispatch.v1.Incident"
CALL = "amk.dispatch.v1.Call"
AIR_MISSION = "amk.dispatch.v1.AirMission"
CONTACT = "amk.dispatch.v1.CallerContact"  # a summary of an incident or call: a read


def records_of(message: Message, out: list[tuple[str, str, str, str]] | None = None):
    """(kind, id, region, caller number) of every incident and call in ``message`` (or
    its summary, a caller's earlier contact). An
    air mission carries its incident's address, position, urgency and the clinical
    reason for the aircraft: its read is logged as a read of that incident (kind
    ``incident``, the incident's id and region), so "who read incident X" finds the
    AMK-LA's reads too; the method names the mission call."""
    found = [] if out is None else out
    name = message.DESCRIPTOR.full_name
    if name == INCIDENT:
        msg: Any = message
        found.append(("incident", msg.id, msg.region, msg.caller_number))
        return found
    if name == CALL:
        msg = message
        found.append(("call", msg.id, msg.region, msg.caller_number))
        return found
    if name == CONTACT:  # its number is the call's, logged with the call beside it
        msg = message
        found.append((msg.kind, msg.id, msg.region, ""))
        return found
    if name == AIR_MISSION:
        msg = message
        found.append(("incident", msg.incident_id, msg.incident_region, ""))
        return found
    for fd, value in message.ListFields():
        if fd.message_type is None:
            continue
        if fd.is_repeated:
            if fd.message_type.GetOptions().map_entry:
                continue
            for item in value:
                records_of(item, found)
        else:
            records_of(value, found)
    return found


class RecentReads:
    """What one stream has logged within ``relog_s``: a record it delivers again within
    that time is not logged again (a live board would otherwise log each incident at
    every change). Entries older than ``relog_s`` are forgotten as new ones come, oldest
    first, so a console that stays connected for days keeps only the last ``relog_s``
    of records, not every incident it ever showed."""

    __slots__ = ("_at", "relog_s")

    def __init__(self, relog_s: float) -> None:
        self.relog_s = relog_s
        self._at: OrderedDict[str, float] = OrderedDict()  # record id -> logged, oldest first

    def __len__(self) -> int:
        return len(self._at)

    def fresh(
        self, records: Iterable[tuple[str, str, str, str]], now: float
    ) -> list[tuple[str, str, str, str]]:
        """The records of ``records`` to log now (and remember)."""
        at = self._at
        out = []
        for rec in records:
            logged = at.get(rec[1])
            if logged is None or now - logged >= self.relog_s:
                at[rec[1]] = now
                at.move_to_end(rec[1])
                out.append(rec)
        while at:
            oldest = next(iter(at.values()))
            if now - oldest < self.relog_s:
                break
            at.popitem(last=False)
        return out


class AccessLog:
    """Buffered writer of one gateway's access-log rows."""

    def __init__(self, archive: Any, gateway: str, retention_s: float) -> None:
        # ``archive``: an async callable giving the gateway's archive store (opened and
        # migrated on first use, shared with its history reads).
        self._archive = archive
        self.gateway = gateway
        self.retention_s = retention_s
        self._pending: deque[AccessRow] = deque()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._last_prune = 0.0
        self.dropped = 0
        self.written = 0
        # Row ids: this writer's random prefix and a counter (unique across gateways and
        # restarts; an id only makes a retried batch insert once), not a uuid4 per row.
        self._id_prefix = uuid.uuid4().hex[:16]
        self._ids = itertools.count()

    def record(
        self,
        claims: Claims,
        method: str,
        decision: Decision,
        peer: str,
        records: Iterable[tuple[str, str, str, str]],
        served: Served | None = None,
    ) -> None:
        """Queue one row per record read; never blocks, never raises into the RPC. With
        ``served`` (the regions the reader's centre serves), each row says the ground
        its own record was read on (``access.ground_of``), not the request's weakest."""
        now = time.time()
        for kind, record_id, region, caller in records:
            if not record_id:
                continue
            self._pending.append(
                AccessRow(
                    f"{self._id_prefix}{next(self._ids):x}",
                    now,
                    claims.sub,
                    claims.name,
                    claims.role,
                    claims.centre,
                    method,
                    kind,
                    record_id,
                    region,
                    caller_hash(caller),
                    ground_of(decision.why, region, served),
                    decision.reason,
                    peer,
                    self.gateway,
                )
            )
        over = len(self._pending) - MAX_PENDING
        if over > 0:  # one line per call, however many rows it drops
            for _ in range(over):
                self._pending.popleft()
            self.dropped += over
            log.error("access_log_row_dropped", dropped=self.dropped, pending=MAX_PENDING)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        if len(self._pending) >= BATCH:
            self._wake.set()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), FLUSH_S)
            self._wake.clear()
            try:
                await self.flush()
                await self._prune()
            except AmkError as exc:  # the archive down: keep the rows, try again
                log.warning("access_log_write_failed", error=str(exc), pending=len(self._pending))

    async def flush(self) -> None:
        """Write every row queued so far (batches of ``BATCH``); raises ArchiveError."""
        async with self._write_lock:
            while self._pending:
                batch = [self._pending[i] for i in range(min(BATCH, len(self._pending)))]
                store: ArchiveStore = await self._archive()
                await asyncio.to_thread(store.put_access, batch)
                for _ in batch:
                    self._pending.popleft()
                self.written += len(batch)

    async def _prune(self) -> None:
        if time.monotonic() - self._last_prune < PRUNE_EVERY_S:
            return
        store: ArchiveStore = await self._archive()
        gone = await asyncio.to_thread(store.prune_access, time.time() - self.retention_s)
        self._last_prune = time.monotonic()
        if gone:
            log.info("access_log_pruned", rows=gone, retention_s=self.retention_s)

    async def close(self) -> None:
        """Stop the writer after one last flush (what cannot be written is logged)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._pending:
            try:
                await self.flush()
            except AmkError as exc:
                log.error("access_log_lost_at_stop", rows=len(self._pending), error=str(exc))
