"""The archiver: closed work leaves etcd for the archive database, nothing lost.

Each centre archives the regions it serves, as the fenced owner of each: no other
process writes a region, so the archiver needs no owner key of its own, and a deposed
centre's archiver is refused by the same fence as its commands.

One batch, in this order (the order is what makes a crash at any point harmless):

1. pick what is due from the region's host (closed and cancelled incidents with no air
   ambulance request still expecting word, finished calls, and ended air missions whose
   last change the incident's owner has recorded, held longer than ``archive_hold_s``)
   or from etcd (journal entries older than ``journal_hold_s``, with a copy of the
   idempotency record each names);
2. write it to the archive database, keyed by etcd key and mod revision, and wait until
   the database confirms (idempotent: a batch written twice is stored once);
3. delete it from etcd in one transaction that compares the region's fence and every
   record's mod revision: a record changed since step 1 makes the transaction fail, and
   the batch is tried once more without it (it stays live and is archived later, at its
   new revision).

An idempotency record keeps its etcd copy until ``request_retention_s``: the archive
holds its key (``held_live``) until a later pass deletes it from etcd, guarded the same
way, and releases it.

A crash between 2 and 3 leaves records in both places; the next pass writes them to the
archive again (no change) and deletes them. Nothing is deleted that the archive has not
confirmed, so nothing is lost; nothing is archived twice under one revision, so nothing
is doubled (``chaos/archive_drill.py`` kills a centre exactly there).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field

from actors.centre.core import CentreCore
from actors.centre.records import ArchivePass
from actors.centre.region_host import RegionHost
from actors.centre.region_state import RegionState
from actors.domain import air, air_mission_lifecycle, prenotify
from actors.domain.commands import ReportUnitPosition
from actors.domain.model import AirMission, Call, CallStatus, Incident, IncidentStatus
from cluster.archive import ArchivedRecord, ArchiveStore, JournalRow, open_migrated
from cluster.archive.journal import journal_row
from cluster.errors import AmkError, FencedError
from cluster.etcd import KV, cmp_mod_revision, op_delete, op_get

CLOSED = (IncidentStatus.CLOSED, IncidentStatus.CANCELLED)
ENTITY_KINDS = ("incidents", "calls", "air_missions")
FINISHED = (CallStatus.COMPLETED, CallStatus.ABANDONED)
# Position reports past ``archive_position_retention_days``: rows deleted from the
# archive per pass of a region (database only, no etcd transaction to bound them).
POSITION_COMMAND = ReportUnitPosition.__name__
PRUNE_BATCH = 1000


def call_finished_at(call: Call) -> float:
    """When a finished call last changed (closed without an incident: when closed)."""
    return max(call.arrived_at, call.answered_at, call.closed_at)


def journal_stamp(at: float) -> str:
    """The journal key stamp of the moment ``at``: entries before it sort below it."""
    return f"{int(at * 1e9):020d}"


@dataclass
class Batch:
    """What one step moves: archive rows and the etcd keys (with revisions) they free."""

    records: list[ArchivedRecord] = field(default_factory=list)
    journal: list[JournalRow] = field(default_factory=list)
    expected: dict[bytes, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    still_live: list[str] = field(default_factory=list)  # archived, kept in etcd for now

    def add(self, key: bytes, revision: int, kind: str) -> None:
        self.expected[key] = revision
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def without(self, moved: set[bytes]) -> Batch:
        """The batch less the keys that changed in etcd since they were picked."""
        kept = Batch(
            [r for r in self.records if r.key.encode() not in moved],
            [j for j in self.journal if j.key.encode() not in moved],
            {k: v for k, v in self.expected.items() if k not in moved},
        )
        kept.still_live = [k for k in self.still_live if k.encode() not in moved]
        for r in kept.records:
            if r.key not in kept.still_live:
                kept.counts[r.kind] = kept.counts.get(r.kind, 0) + 1
        if kept.journal:
            kept.counts["journal"] = len(kept.journal)
        return kept


class Archiver:
    """Moves one centre's served regions' closed work out of etcd, batch by batch."""

    def __init__(self, core: CentreCore, on_fenced: Callable[[str, int], None]) -> None:
        self.core = core
        self._on_fenced = on_fenced
        self._archive: ArchiveStore | None = None
        self.moved: dict[str, int] = {}
        self.progress: dict[str, ArchivePass] = {}

    async def archive(self) -> ArchiveStore:
        """The archive database, opened and migrated on first use."""
        if self._archive is None:
            self._archive = await open_migrated(self.core.config.archive_location())
        return self._archive

    async def run(self) -> None:
        """Archive every served region, then wait, until the centre stops."""
        core = self.core
        while not core.stopping:
            backlog = False
            for region in list(core.hosts):
                if core.states.get(region) is not RegionState.SERVING:
                    continue
                try:
                    moved = await self.pass_region(region)
                    backlog |= self.full(moved)
                except AmkError as exc:
                    core.log.warning("archive_pass_failed", region=region, error=str(exc))
                except Exception:  # a bug must not stop archiving for good: log, go on
                    core.log.exception("archive_pass_error", region=region)
            await self.note_revision()
            # A backlog (a full batch moved) goes on at once; caught up, it waits.
            await asyncio.sleep(0 if backlog else core.config.archive_interval_s)

    async def note_revision(self) -> None:
        """Tell the archive how far etcd's revision has come: a restore of etcd from a
        backup moves past the highest it was told (``cluster.restore``). A centre that
        serves no region tells nothing (it reads nothing either)."""
        core = self.core
        if not core.hosts:
            return
        try:
            revision = await core.running.client.revision()
            archive = await self.archive()
            await asyncio.to_thread(archive.note_revision, core.centre_id, revision, core.clock())
        except AmkError as exc:
            core.log.warning("archive_revision_not_noted", error=str(exc))
        except Exception:  # a bug must not stop archiving for good: log, go on
            core.log.exception("archive_revision_error")

    def full(self, moved: dict[str, int]) -> bool:
        """Whether a pass moved a full batch (more may be due right now)."""
        limit = self.core.config.archive_batch
        entities = sum(moved.get(k, 0) for k in ENTITY_KINDS)
        busy = max(moved.get(k, 0) for k in ("journal", "requests")) >= limit
        return entities >= limit or busy or moved.get("pruned", 0) >= PRUNE_BATCH

    async def pass_region(self, region: str) -> dict[str, int]:
        """One pass over ``region``: entities due, then journal entries due."""
        host = self.core.host(region)
        moved: dict[str, int] = {}
        for batch in (self._entities_due(host), await self._journal_due(host)):
            if batch.expected:
                for kind, n in (await self._move(host, batch)).items():
                    moved[kind] = moved.get(kind, 0) + n
        released = await self._release_requests(host)
        if released:
            moved["requests"] = released
        pruned = await self._prune_positions(host)
        if pruned:
            moved["pruned"] = pruned
        self._record_progress(host, moved)
        for kind, n in moved.items():
            self.moved[kind] = self.moved.get(kind, 0) + n
        return moved

    # ------------------------------------------------------------ picking

    def _entities_due(self, host: RegionHost) -> Batch:
        core = self.core
        cutoff = core.clock() - core.config.archive_hold_s
        limit = core.config.archive_batch
        batch = Batch()
        incidents = sorted(
            (
                i
                for i in host.incidents.values()
                if i.status in CLOSED
                and i.updated_at <= cutoff
                and not air.exchange_open(i)
                and not prenotify.undelivered(i)  # its outbox is the record: kept until sent
            ),
            key=lambda i: i.updated_at,
        )[:limit]
        for inc in incidents:
            key = core.keys.incident(host.region, inc.id)
            batch.records.append(self._record(key, "incidents", inc.id, inc, inc.created_at, host))
            batch.add(key, inc.revision, "incidents")
        calls = sorted(
            (
                c
                for c in host.calls.values()
                if c.status in FINISHED and call_finished_at(c) <= cutoff
            ),
            key=call_finished_at,
        )[: max(0, limit - len(incidents))]
        for call in calls:
            key = core.keys.call(host.region, call.id)
            batch.records.append(self._record(key, "calls", call.id, call, call.arrived_at, host))
            batch.add(key, call.revision, "calls")
        # An ended mission leaves only once its end is recorded on the incident's alert:
        # its outbox must be empty (the archiver never deletes a pending delivery).
        missions = sorted(
            (
                m
                for m in host.missions.values()
                if not air_mission_lifecycle.is_open(m.state)
                and not air.unreported(m)
                and m.updated_at <= cutoff
            ),
            key=lambda m: m.updated_at,
        )[: max(0, limit - len(incidents) - len(calls))]
        for m in missions:
            key = core.keys.mission(host.region, m.id)
            batch.records.append(self._record(key, "air_missions", m.id, m, m.received_at, host))
            batch.add(key, m.revision, "air_missions")
        return batch

    @staticmethod
    def _record(
        key: bytes,
        kind: str,
        id_: str,
        rec: Incident | Call | AirMission,
        at: float,
        host: RegionHost,
    ) -> ArchivedRecord:
        return ArchivedRecord(key.decode(), kind, host.region, id_, rec.revision, at, rec.encode())

    async def _journal_due(self, host: RegionHost) -> Batch:
        """Journal entries older than ``journal_hold_s``, and a copy of the idempotency
        record each names (written in the entry's own transaction, so its mod revision
        is the entry's): archived now, kept in etcd until its retention."""
        core = self.core
        cfg = core.config
        cutoff = core.clock() - cfg.journal_hold_s
        start = core.keys.journal_prefix(host.region)
        end = core.keys.journal(host.region, journal_stamp(cutoff))
        client = core.running.client
        kvs, _ = await client.range(start, end, limit=cfg.archive_batch)
        batch = Batch()
        request_ids: dict[bytes, int] = {}
        for kv in kvs:
            row = journal_row(core.keys, kv.key, kv.value, kv.mod_revision)
            batch.journal.append(row)
            batch.add(kv.key, kv.mod_revision, "journal")
            request_id = json.loads(kv.value).get("request_id")
            if request_id:
                request_ids[core.keys.request(request_id)] = kv.mod_revision
        if request_ids:
            found = await client.txn([], [op_get(k) for k in request_ids])
            for resp in found.responses:
                for raw in resp.response_range.kvs:
                    kv = KV.of(raw)
                    if kv.mod_revision != request_ids.get(kv.key):
                        continue  # written by another transaction: not this entry's
                    rid = kv.key.decode().rsplit("/", 1)[-1]
                    at = next(j.at for j in batch.journal if j.revision == kv.mod_revision)
                    batch.records.append(
                        ArchivedRecord(
                            kv.key.decode(),
                            "requests",
                            host.region,
                            rid,
                            kv.mod_revision,
                            at,
                            kv.value,
                        )
                    )
                    batch.still_live.append(kv.key.decode())
        return batch

    async def _release_requests(self, host: RegionHost) -> int:
        """Delete from etcd the idempotency records past their retention (archived with
        their journal entries before), under the fence, and release them."""
        core = self.core
        archive = await self.archive()
        until = core.clock() - core.config.request_retention_s
        held = await asyncio.to_thread(
            archive.held_live, host.region, until, core.config.archive_batch
        )
        if not held:
            return 0
        batch = Batch()
        for key, revision in held:
            batch.add(key.encode(), revision, "requests")
        changed = await self._delete(host, batch)
        if changed:
            # Already gone (a crash after the delete, before the release), or a new
            # record under a reused id: ours is not in etcd either way.
            await self._delete(host, batch.without(changed))
        await asyncio.to_thread(archive.release, [k for k, _ in held])
        return len(held) - len(changed)

    async def _prune_positions(self, host: RegionHost) -> int:
        """Delete from the archive the region's position reports past their retention
        (``archive_position_retention_days``; 0 keeps them), oldest first. Archived rows
        never change, so a deposed owner pruning too deletes the same rows, no others."""
        days = self.core.config.archive_position_retention_days
        if not days:
            return 0
        try:
            archive = await self.archive()
            return await asyncio.to_thread(
                archive.prune_journal,
                POSITION_COMMAND,
                region=host.region,
                before=self.core.clock() - days * 86400.0,
                limit=PRUNE_BATCH,
            )
        except AmkError as exc:
            # The pass moved its work already: a failed prune must not hide that (its
            # progress is what the archive-lag figures read). The next pass tries again.
            self.core.log.warning("archive_prune_failed", region=host.region, error=str(exc))
            return 0

    # ------------------------------------------------------------ moving

    async def _move(self, host: RegionHost, batch: Batch) -> dict[str, int]:
        archive = await self.archive()
        await asyncio.to_thread(
            archive.put_batch, batch.records, batch.journal, still_live=batch.still_live
        )
        self._crash_point()
        for _ in range(2):
            moved = await self._delete(host, batch)
            if not moved:
                self._forget(host, batch)
                return batch.counts
            # Changed since picked: they stay live; the rest goes without them.
            batch = batch.without(moved)
            if not batch.expected:
                return {}
        return {}

    async def _delete(self, host: RegionHost, batch: Batch) -> set[bytes]:
        """Delete the batch's keys under the fence; the keys that changed, if any."""
        fence = host.fence
        keys = list(batch.expected)
        compares = [*fence.compares(), *(cmp_mod_revision(k, r) for k, r in batch.expected.items())]
        failure = [op_get(fence.key)] + [op_get(k) for k in keys]
        resp = await self.core.running.client.txn(compares, [op_delete(k) for k in keys], failure)
        if resp.succeeded:
            return set()
        ranges = [r.response_range.kvs for r in resp.responses]
        owner = KV.of(ranges[0][0]) if ranges[0] else None
        if not fence.held_in(owner):
            self._on_fenced(host.region, fence.token)
            raise FencedError(host.region, fence.token, owner.mod_revision if owner else None)
        return {
            k
            for k, kvs in zip(keys, ranges[1:], strict=True)
            if (kvs[0].mod_revision if kvs else 0) != batch.expected[k]
        }

    def _forget(self, host: RegionHost, batch: Batch) -> None:
        """Drop archived records from the host (those it still holds at that revision)."""
        for rec in batch.records:
            if rec.kind in ENTITY_KINDS:
                table = host.table_by_kind(rec.kind)
                held = table.get(rec.id)
                if held is not None and held.revision == rec.revision:
                    del table[rec.id]

    def _record_progress(self, host: RegionHost, moved: dict[str, int]) -> None:
        """The pass, for the on-call engineer's archive-lag figures (the centre's
        status; not etcd, where a write every pass would be bookkeeping only)."""
        closed = [i.updated_at for i in host.incidents.values() if i.status in CLOSED]
        self.progress[host.region] = ArchivePass(
            region=host.region,
            at=self.core.clock(),
            oldest_live_closed_at=min(closed) if closed else None,
            hold_s=self.core.config.archive_hold_s,
            moved=moved,
        )

    def _crash_point(self) -> None:
        """Drill only: die between the archive write and the etcd delete, once."""
        path = self.core.config.archive_crash_file
        if path is not None and path.exists():
            path.unlink(missing_ok=True)
            self.core.log.warning("archive_crash_point", file=str(path))
            os.kill(os.getpid(), signal.SIGKILL)
