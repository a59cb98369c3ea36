"""The centre's executor: commits a command's records in one guarded transaction and
makes them the cached state; reloads records that changed behind the centre's back;
finds the entities a command names.

Every write carries the fence of every region it touches (and, for a cross-centre move,
the current owner's token read from etcd), and names the revision of every record it
decided on, so a stale cache can never be written back.
"""

from __future__ import annotations

from typing import Any

from actors.centre.core import CentreCore
from actors.centre.region_host import Record, RegionHost, replace_region_key
from actors.domain.commands import Command
from actors.domain.errors import NotFoundError
from actors.domain.model import AirMission, Call, Incident, Outcome, Unit
from cluster import ownership
from cluster.errors import RegionUnavailableError
from cluster.store import Write

_DECODERS: dict[str, Any] = {
    "incidents": Incident,
    "units": Unit,
    "calls": Call,
    "air_missions": AirMission,
}


class Executor:
    """Commit, reload and look up entities for one centre."""

    def __init__(self, core: CentreCore) -> None:
        self.core = core

    async def fence_of(self, region: str) -> ownership.Fence:
        """This centre's fence for ``region``, or the current owner's token read from etcd
        (a cross-centre move guards the other region's owner too)."""
        host = self.core.hosts.get(region)
        if host is not None:
            return host.fence
        keys = self.core.keys
        kv = await self.core.running.client.get(keys.owner(region))
        if kv is None:
            raise RegionUnavailableError(region, "no centre owns it (failing over)")
        return ownership.Fence(region, keys.owner(region), kv.mod_revision, kv.value)

    async def commit(
        self,
        primary: str,
        cmd: Command,
        records: list[Record],
        outcome: Outcome,
        extra: list[tuple[bytes, bytes]] | None = None,
        *,
        moved_from: dict[str, str] | None = None,
        partner_region: bool = False,
        details: dict[str, Any] | None = None,
        hosted: tuple[str, ...] = (),
    ) -> int:
        """Write ``records`` in one guarded transaction, then make them the cached state.

        ``primary`` is a region this centre serves (else NotOwnerError), unless
        ``partner_region``. Every region a record lives in (or, per ``moved_from``: id
        -> old region, comes from) adds its fence; every record names the revision it
        was decided on, and a moved record must not yet exist at its new key.
        ``details`` go into the journal entry beside the records' ids (what an alert
        command did to which alert, for ``amk incident history``). ``hosted``: regions
        besides ``primary`` that must still be served here (a diversion's), guarded by
        this centre's fence, never by a new owner's read from etcd (NotOwnerError).
        """
        core = self.core
        moved_from = moved_from or {}
        # The command's own region must still be served here: a centre that lost it
        # while the command ran must not borrow the new owner's token (fence_of reads
        # etcd for regions served elsewhere). NotOwnerError: the gateway retries the
        # same request id on the new owner. Only a partner's call, answered here by
        # design (``partner_region``), is written under the partner's current token.
        if partner_region:
            fences = {primary: await self.fence_of(primary)}
        else:
            fences = {primary: core.host(primary).fence}
        for region in hosted:
            fences[region] = core.host(region).fence
        for region in [r.region for r in records] + list(moved_from.values()):
            if region not in fences:
                fences[region] = await self.fence_of(region)
        puts = [(replace_region_key(core.keys, r, r.region), r.encode()) for r in records]
        expected: dict[bytes, int] = {}
        deletes: list[bytes] = []
        for (key, _), rec in zip(puts, records, strict=True):
            old_region = moved_from.get(rec.id)
            if old_region is None or old_region == rec.region:
                expected[key] = rec.revision
                continue
            old = replace_region_key(core.keys, rec, old_region)
            expected[old] = rec.revision
            expected[key] = 0
            deletes.append(old)
        write = Write(
            tuple(fences.values()),
            puts + list(extra or []),
            type(cmd).__name__,
            cmd.who,
            cmd.request_id,
            outcome.encode(
                cmd.fingerprint, [(r, v) for r, (_, v) in zip(records, puts, strict=True)]
            ),
            {"ids": [r.id for r in records], **(details or {})},
            expected=expected,
            deletes=deletes,
        )
        rev = await core.running.store.commit(write)
        for rec in records:
            rec.revision = rev  # the answer names its commit, hosted here or not (a partner's)
            old_region = moved_from.get(rec.id)
            if old_region is not None and old_region in core.hosts:
                core.hosts[old_region].table_of(rec).pop(rec.id, None)
            owner = core.hosts.get(rec.region)
            if owner is not None:
                owner.apply([rec], rev)
        return rev

    async def reload(self, keys: list[bytes]) -> None:
        """Refresh cached records that changed in etcd behind this centre's back."""
        core = self.core
        for key in keys:
            parsed = core.keys.parse(key)
            if parsed is None or parsed[0] not in _DECODERS:
                continue
            kind, region, ident = parsed
            host = core.hosts.get(region)
            if host is None:
                continue
            kv = await core.running.client.get(key)
            table = host.table_by_kind(kind)
            if kv is None:
                table.pop(ident, None)
            else:
                table[ident] = _DECODERS[kind].decode(kv.value, kv.mod_revision)
            core.log.info("record_reloaded", key=key.decode(), present=kv is not None)

    async def catch_up(self, outcome: Outcome) -> None:
        """Read again the records of ``outcome`` (an answer stored by an earlier commit)
        that the cache holds at an older revision, or not at all.

        A commit can be applied by etcd and still be answered "unavailable" (the answer
        was lost): the cache never took its records. The retry of the same request is
        answered from its stored outcome, without a commit to apply, so without this the
        cache would keep the old copies until a later write to them failed as stale, and
        every scan and decision until then would read the past."""
        keys = []
        for rec in outcome.records():
            for region, host in self.core.hosts.items():
                cached = host.table_of(rec).get(rec.id)
                if region != rec.region:
                    # A copy left where the record was before that commit moved it
                    # (a hand-over or a loan between two regions served here).
                    if cached is not None and cached.revision < rec.revision:
                        host.table_of(rec).pop(rec.id, None)
                elif cached is None or cached.revision < rec.revision:
                    keys.append(replace_region_key(self.core.keys, rec, rec.region))
        if keys:
            await self.reload(keys)

    # ------------------------------------------------------------ lookups

    async def _load_moved_in(
        self, kind: str, ident: str, first: str | None = None
    ) -> tuple[RegionHost, Any] | None:
        """An entity another centre moved into one of our regions (hand-over, lending),
        looked for in region ``first`` before the others (one read when it is known)."""
        core = self.core
        hosts = sorted(core.hosts.values(), key=lambda h: h.region != first)
        for host in hosts:
            key = (core.keys.incident if kind == "incidents" else core.keys.unit)(
                host.region, ident
            )
            kv = await core.running.client.get(key)
            if kv is not None:
                table = host.table_by_kind(kind)
                cached = table.get(ident)
                if cached is not None and cached.revision >= kv.mod_revision:
                    return host, cached  # loaded and changed here while this read waited
                rec = _DECODERS[kind].decode(kv.value, kv.mod_revision)
                table[ident] = rec
                return host, rec
        return None

    async def find_incident(
        self, incident_id: str, region: str | None = None
    ) -> tuple[RegionHost, Incident]:
        """The incident and the served region holding it; ``region``: where it is likely
        to have moved in, read first."""
        for host in self.core.hosts.values():
            if incident_id in host.incidents:
                return host, host.incidents[incident_id]
        found = await self._load_moved_in("incidents", incident_id, region)
        if found is None:
            raise NotFoundError("incident", incident_id)
        return found

    async def find_unit(self, unit_id: str) -> tuple[RegionHost, Unit]:
        for host in self.core.hosts.values():
            if unit_id in host.units:
                return host, host.units[unit_id]
        found = await self._load_moved_in("units", unit_id)
        if found is None:
            raise NotFoundError("unit", unit_id)
        return found

    def find_mission(self, mission_id: str) -> tuple[RegionHost, AirMission]:
        """An air mission of a region served here. Missions never move between regions
        (a region hand-over moves the owner, not the keys), so no etcd look is needed."""
        for host in self.core.hosts.values():
            if mission_id in host.missions:
                return host, host.missions[mission_id]
        raise NotFoundError("air mission", mission_id)

    async def foreign_unit(self, unit_id: str, region: str) -> Unit:
        """A unit of a region another centre serves, read with its revision."""
        kv = await self.core.running.client.get(self.core.keys.unit(region, unit_id))
        if kv is None:
            raise NotFoundError("unit", unit_id)
        return Unit.decode(kv.value, kv.mod_revision)
