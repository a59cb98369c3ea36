"""The entities of one region, hosted inside the centre actor that owns it.

Each incident and unit is a single-writer entity with its own mailbox
(:class:`Mailboxes`): an ``asyncio.Lock`` whose FIFO waiters are the queued commands,
so one entity runs one command at a time while different entities run concurrently
(their writes meet in the store's group commit). They are not one Ray actor each, by
measurement (DESIGN.md: ~115 MB and ~0.3 s per Ray actor); hosting them here costs
kilobytes and microseconds, as Orleans grains live in silos and Akka sharded entities
in shard regions.

A host is built from etcd at the revision its owner won (``load``), so it starts from
exactly the state the previous owner left; it holds the region's :class:`Fence`, which
every write carries. When the fence is lost the centre drops the whole host.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from actors.domain.model import AirMission, Call, Incident, Unit
from cluster.etcd import EtcdClient
from cluster.keys import Keys
from cluster.ownership import Fence


class IncidentTable(dict[str, Incident]):
    """A region's incidents by id, which also knows which of them have sent an alert.

    The air desk, the pre-notifier and the alert check look at incidents with sent
    alerts every second; a region holds thousands, so a scan of every incident was
    measurable (4 % of a loaded centre's CPU) and grew with the region. An alert only
    proposed needs no watching (nothing sent, nothing owed), and every red response
    proposes one to the legevakt, so the index holds only incidents with an alert that
    was sent. Every way a record enters the table goes through ``__setitem__``, so the
    set cannot miss one; a sent alert never becomes unsent, and an id whose incident
    left the table is dropped from the set on the next look (``with_sent_alerts``).
    """

    __slots__ = ("_alerting",)

    def __init__(self) -> None:
        super().__init__()
        self._alerting: set[str] = set()

    def __setitem__(self, key: str, inc: Incident) -> None:
        super().__setitem__(key, inc)
        if inc.alerts and _sent_any(inc):  # most incidents have none: no generator
            self._alerting.add(key)

    def with_sent_alerts(self) -> list[Incident]:
        """The incidents holding at least one alert that was sent, now."""
        found: list[Incident] = []
        for ident in list(self._alerting):
            inc = self.get(ident)
            if inc is None or not _sent_any(inc):
                self._alerting.discard(ident)
            else:
                found.append(inc)
        return found


def _sent_any(inc: Incident) -> bool:
    return any(a.sent_at for a in inc.alerts)


@dataclass
class RegionHost:
    """In-memory state of one owned region: a cache of etcd, written through."""

    region: str
    code: str
    fence: Fence
    incidents: IncidentTable = field(default_factory=IncidentTable)
    units: dict[str, Unit] = field(default_factory=dict)
    calls: dict[str, Call] = field(default_factory=dict)
    # Air missions: only an AMK-LA (air coordination) region has any.
    missions: dict[str, AirMission] = field(default_factory=dict)
    sharing: bool = False
    last_number: int = 0
    seeded: bool = False
    loaded_at_revision: int = 0

    @classmethod
    async def load(
        cls, client: EtcdClient, keys: Keys, region: str, code: str, fence: Fence
    ) -> RegionHost:
        """Read the region's incidents, units and counter at the claim revision."""
        rev = fence.token
        # All seven reads at once: one round trip's wait instead of seven, which counts
        # when a whole site's regions are taken together and etcd is busy (issue #11).
        (
            (incs, _),
            (units, _),
            (counter, _),
            (seeded, _),
            (calls, _),
            (sharing, _),
            (missions, _),
        ) = await asyncio.gather(
            client.get_prefix(keys.incidents_prefix(region), revision=rev),
            client.get_prefix(keys.units_prefix(region), revision=rev),
            client.range(keys.counter(region), revision=rev),
            client.range(keys.seeded(region), revision=rev),
            client.get_prefix(keys.calls_prefix(region), revision=rev),
            client.range(keys.sharing(region), revision=rev),
            client.get_prefix(keys.missions_prefix(region), revision=rev),
        )
        host = cls(region, code, fence, loaded_at_revision=rev)
        for kv in incs:
            inc = Incident.decode(kv.value, kv.mod_revision)
            host.incidents[inc.id] = inc
        for kv in units:
            unit = Unit.decode(kv.value, kv.mod_revision)
            host.units[unit.id] = unit
        # The counter is written with every create; the highest number loaded is a second
        # guard, so a number is never issued twice even if the counter lagged.
        numbers = [
            int(i.split("-", 1)[1])
            for i in host.incidents
            if i.startswith(code + "-") and i.split("-", 1)[1].isdigit()
        ]
        for kv in calls:
            call = Call.decode(kv.value, kv.mod_revision)
            host.calls[call.id] = call  # waiting calls keep their arrival times
        for kv in missions:
            mission = AirMission.decode(kv.value, kv.mod_revision)
            host.missions[mission.id] = mission  # with their outboxes (reported_seq)
        host.sharing = bool(sharing)
        host.last_number = max([int(counter[0].value) if counter else 0, *numbers])
        host.seeded = bool(seeded)
        return host

    def next_incident_id(self) -> str:
        """Reserve the next incident number; a refused write leaves a gap, never a reuse."""
        self.last_number += 1
        return f"{self.code}-{self.last_number:06d}"

    def table_of(self, rec: Record) -> dict[str, Any]:
        if isinstance(rec, Incident):
            return self.incidents
        if isinstance(rec, Call):
            return self.calls
        if isinstance(rec, AirMission):
            return self.missions
        return self.units

    def table_by_kind(self, kind: str) -> dict[str, Any]:
        """The table of a key kind (``incidents``, ``units``, ``calls``, ``air_missions``)."""
        return {
            "incidents": self.incidents,
            "units": self.units,
            "calls": self.calls,
            "air_missions": self.missions,
        }[kind]

    def apply(self, records: Iterable[Record], revision: int) -> None:
        """Make committed records the in-memory state (only after etcd accepted them)."""
        for rec in records:
            rec.revision = revision
            self.table_of(rec)[rec.id] = rec


class Mailboxes:
    """One mailbox per entity id, made on first use and dropped when idle.

    A command that touches several entities (assigning a unit to an incident) enters
    their mailboxes in sorted order, so two such commands can never deadlock.
    """

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def enter(self, *entity_ids: str) -> AsyncIterator[None]:
        ids = sorted(set(entity_ids))
        locks = [self._locks.setdefault(e, asyncio.Lock()) for e in ids]
        try:
            async with contextlib.AsyncExitStack() as stack:
                for lock in locks:
                    await stack.enter_async_context(lock)
                yield
        finally:
            for e, lock in zip(ids, locks, strict=True):
                if not lock.locked() and not getattr(lock, "_waiters", None):
                    self._locks.pop(e, None)

    def __len__(self) -> int:
        return len(self._locks)


Record = Incident | Unit | Call | AirMission


def replace_region_key(keys: Keys, rec: Record, region: str) -> bytes:
    """The key ``rec`` has (or had, before a move) in ``region``."""
    if isinstance(rec, Incident):
        return keys.incident(region, rec.id)
    if isinstance(rec, Call):
        return keys.call(region, rec.id)
    if isinstance(rec, AirMission):
        return keys.mission(region, rec.id)
    return keys.unit(region, rec.id)
