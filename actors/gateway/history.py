"""Reads that span etcd and the archive database: archived incidents, an incident's
whole journal, the board at a past moment, and the KPI inputs of a long window.

What the archiver moved is in the archive; what it has not moved yet is in etcd; after
a crash between the archive write and the etcd delete a record can briefly be in both,
so every merge here is by key (journal entries) or id (records), the live copy first.
The archive is opened on first use, so a gateway without one still serves live reads.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from actors.domain.model import Call, Incident, IncidentStatus, Unit
from cluster.archive import ArchiveStore, RecordVersion, open_migrated
from cluster.archive.journal import OWNERS, touches, versions_of
from cluster.config import ClusterConfig
from cluster.etcd import EtcdClient
from cluster.keys import Keys, prefix_range_end

CLOSED = (IncidentStatus.CLOSED, IncidentStatus.CANCELLED)
R = TypeVar("R", Incident, Call)


@dataclass(frozen=True, slots=True)
class Entry:
    """A journal entry with where it was read from."""

    key: str
    revision: int
    body: dict[str, Any]
    archived: bool


@dataclass
class Board:
    """Incidents open, units and region owners as they stood at ``at``."""

    at: float
    incidents: list[Incident]
    units: list[Unit]
    owners: dict[str, dict[str, Any]]
    versions: int  # record versions the picture was rebuilt from


class History:
    """Live-and-archived reads for one gateway."""

    def __init__(self, config: ClusterConfig, client: EtcdClient) -> None:
        self.config = config
        self.client = client
        self.keys = Keys(config.key_prefix)
        self.regions = config.region_ids()
        self._archive: ArchiveStore | None = None
        self._lock = asyncio.Lock()

    async def archive(self) -> ArchiveStore:
        async with self._lock:
            if self._archive is None:
                self._archive = await open_migrated(self.config.archive_location())
        return self._archive

    # ------------------------------------------------------------ records

    async def archived_incident(self, incident_id: str) -> Incident | None:
        archive = await self.archive()
        rec = await asyncio.to_thread(archive.get_record, "incidents", incident_id)
        return Incident.decode(rec.value, rec.revision) if rec is not None else None

    async def archived_region(self, kind: str, id_: str) -> str | None:
        """The region a record was archived under (None: not archived)."""
        archive = await self.archive()
        rec = await asyncio.to_thread(archive.get_record, kind, id_)
        return rec.region if rec is not None else None

    async def archived_request(self, request_id: str) -> bytes | None:
        archive = await self.archive()
        rec = await asyncio.to_thread(archive.get_record, "requests", request_id)
        return rec.value if rec is not None else None

    async def archived_records(
        self,
        regions: list[str],
        since: float | None,
        *,
        keep_incident: Callable[[Incident], bool] | None = None,
        keep_call: Callable[[Call], bool] | None = None,
    ) -> tuple[list[Incident], list[Call]]:
        """Archived incidents (created since) and calls (arrived since) of ``regions``,
        those the ``keep_*`` predicates keep (all without one): read, decoded and matched
        in a thread, off the gateway's event loop (a long window is thousands of rows)."""
        archive = await self.archive()

        def read() -> tuple[list[Incident], list[Call]]:
            incidents = _decoded(
                archive, "incidents", Incident.decode, regions, since, None, keep_incident
            )
            return incidents, _decoded(
                archive, "calls", Call.decode, regions, since, None, keep_call
            )

        return await asyncio.to_thread(read)

    async def archived_incidents(
        self, regions: list[str], since: float, until: float, keep: Callable[[Incident], bool]
    ) -> list[Incident]:
        """Archived incidents of ``regions`` created in ``[since, until]`` that ``keep``
        keeps: read, decoded and matched in a thread, off the gateway's event loop (a
        region's window may be thousands of records)."""
        archive = await self.archive()
        return await asyncio.to_thread(
            _decoded, archive, "incidents", Incident.decode, regions, since, until, keep
        )

    async def archived_journal(
        self, regions: list[str], since: float | None, commands: Collection[str]
    ) -> list[Entry]:
        """The archived journal entries of ``regions`` (``since`` inclusive) of the given
        commands, read by the archive's command index (nearly every entry is a position
        report, never read here) and parsed in a thread, off the gateway's event loop."""
        archive = await self.archive()
        wanted = sorted(commands)

        def read() -> list[Entry]:
            out: list[Entry] = []
            for region in regions:
                for r in archive.journal_of_commands(wanted, region=region, since=since):
                    out.append(Entry(r.key, r.revision, json.loads(r.entry), True))
            return out

        return await asyncio.to_thread(read)

    # ------------------------------------------------------------ journal

    async def _live_journal(
        self, region: str, until: float | None = None, naming: str = ""
    ) -> list[Entry]:
        """The region's journal still in etcd (up to ``until``); with ``naming``, only the
        entries whose bytes hold it, the rest (position reports, mostly) never parsed."""
        prefix = self.keys.journal_prefix(region)
        end = prefix_range_end(prefix)
        if until is not None:
            # Stamps start with the commit time in ns: every entry at or before ``until``.
            end = self.keys.journal(region, f"{int(until * 1e9) + 1:020d}")
        kvs, _ = await self.client.range_all(prefix, end)
        needle = naming.encode()
        return [
            Entry(kv.key.decode(), kv.mod_revision, json.loads(kv.value), False)
            for kv in kvs
            if needle in kv.value
        ]

    async def incident_history(self, incident_id: str) -> list[Entry]:
        """Every journal entry that wrote or deleted the incident, in time order."""
        archive = await self.archive()
        rows = await asyncio.to_thread(archive.history, "incidents", incident_id)
        found = {r.key: Entry(r.key, r.revision, json.loads(r.entry), True) for r in rows}
        for region in self.regions:
            for e in await self._live_journal(region, naming=incident_id):
                if touches(e.body, "incidents", incident_id):
                    found[e.key] = e  # the live copy wins (both exist only mid-batch)
        return sorted(found.values(), key=lambda e: (e.body.get("at", 0.0), e.revision))

    # ------------------------------------------------------------ the board then

    async def board_at(self, at: float, regions: list[str]) -> Board:
        """The board at ``at``: the newest version of every record at or before it."""
        archive = await self.archive()
        kinds = ["incidents", "units", OWNERS]
        archived = await asyncio.to_thread(archive.versions_at, at, kinds)
        newest: dict[str, RecordVersion] = {v.key: v for v in archived}
        considered = len(archived)
        for region in self.regions:
            for e in await self._live_journal(region, until=at):
                for v in versions_of(self.keys, e.body, e.revision):
                    considered += 1
                    held = newest.get(v.key)
                    if held is None or (v.at, v.revision) >= (held.at, held.revision):
                        newest[v.key] = v
        # Every incident ever archived has a newest version: decoded off the event loop.
        return await asyncio.to_thread(_board, at, list(newest.values()), set(regions), considered)


def _board(at: float, newest: Iterable[RecordVersion], wanted: set[str], considered: int) -> Board:
    """The board from each key's newest version: open incidents, units and owners of
    the ``wanted`` regions."""
    incidents: list[Incident] = []
    units: list[Unit] = []
    owners: dict[str, dict[str, Any]] = {}
    for v in newest:
        if v.value is None or v.region not in wanted:
            continue
        if v.kind == "incidents":
            inc = Incident.decode(v.value, v.revision)
            if inc.status not in CLOSED:
                incidents.append(inc)
        elif v.kind == "units":
            units.append(Unit.decode(v.value, v.revision))
        elif v.kind == OWNERS:
            owners[v.region] = json.loads(v.value)
    incidents.sort(key=lambda i: i.id)
    units.sort(key=lambda u: u.id)
    return Board(at, incidents, units, owners, considered)


def _decoded(
    archive: ArchiveStore,
    kind: str,
    decode: Callable[[bytes, int], R],
    regions: list[str],
    since: float | None,
    until: float | None,
    keep: Callable[[R], bool] | None,
) -> list[R]:
    """The archived records of ``kind`` of ``regions`` in the window, decoded, those
    ``keep`` keeps (all without it): run in a thread, never on the event loop."""
    out: list[R] = []
    for region in regions:
        for rec in archive.records(kind, region=region, since=since, until=until):
            item = decode(rec.value, rec.revision)
            if keep is None or keep(item):
                out.append(item)
    return out
