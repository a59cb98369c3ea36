"""Reads a gateway answers straight from etcd (linearizable), and the checks of ids
that name regions, centres and entities.

Reads do not go through a centre, so boards and lookups keep working while a region
fails over; the directory says which region holds an entity without a round trip.
"""

from __future__ import annotations

from actors.centre.records import Takeover
from actors.domain import calls as call_rules
from actors.domain.errors import InvalidArgumentError, NotFoundError
from actors.domain.model import Call, Incident, Unit
from actors.gateway.directory import Directory
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.config import ClusterConfig
from cluster.etcd import EtcdClient
from cluster.keys import Keys
from cluster.ownership import read_owner


class Lookup:
    """Entity and region reads, and id checks."""

    def __init__(self, config: ClusterConfig, client: EtcdClient, directory: Directory) -> None:
        self.config = config
        self.client = client
        self.directory = directory
        self.keys = Keys(config.key_prefix)
        self.regions = set(config.region_ids())
        self.area_regions = set(config.area_region_ids())
        self.region_by_code = {r.code: r.id for r in config.seed.regions}
        # kommunenummer -> the region whose area holds it (regions with an area only),
        # and the regions drawn so (place_warning's check, on every create).
        self.by_municipality = call_rules.municipality_regions(
            (r.id, r.municipalities) for r in config.seed.area_regions()
        )
        self.municipal_regions = frozenset(self.by_municipality.values())

    # ------------------------------------------------------------ checks

    def region(self, region: str, field: str = "region") -> str:
        if not region:
            raise InvalidArgumentError(field, "is required")
        if region not in self.regions:
            raise InvalidArgumentError(field, f"unknown region {region!r}")
        return region

    def area_region(self, region: str, field: str = "region") -> str:
        """A known region with an area (where incidents, calls and sharing live): an
        air ambulance coordination region (AMK-LA) has none, and is refused by name."""
        self.region(region, field)
        if self.config.seed.is_air_region(region):
            raise InvalidArgumentError(
                field,
                f"{region} coordinates aircraft (AMK-LA) and has no area: name the area "
                "region (air ambulance: RequestAirAmbulance)",
            )
        return region

    def centre_id(self, centre: str, field: str = "centre") -> str:
        if centre not in {c.id for c in self.config.seed.centres}:
            raise InvalidArgumentError(field, f"unknown centre {centre!r}")
        return centre

    def region_of_code(self, entity_id: str) -> str | None:
        """The region an id was issued in, from its code prefix (``OSL-000001``)."""
        return self.region_by_code.get(entity_id.split("-", 1)[0])

    # ------------------------------------------------------------ where things are

    def incident_region(self, incident_id: str) -> str:
        region = self.directory.region_of.get(incident_id) or self.region_of_code(incident_id)
        if region is None:
            raise NotFoundError("incident", incident_id)
        return region

    def unit_region(self, unit_id: str) -> str:
        region = self.directory.region_of.get(unit_id)
        if region is None:
            raise NotFoundError("unit", unit_id)
        return region

    def call_region(self, call_id: str) -> str:
        region = self.region_of_code(call_id)
        if region is None:
            raise NotFoundError("call", call_id)
        return region

    # ------------------------------------------------------------ reads

    async def incident(self, incident_id: str) -> Incident:
        region = self.incident_region(incident_id)
        kv = await self.client.get(self.keys.incident(region, incident_id))
        if kv is None:
            # Moved between regions since the directory looked: one fresh look.
            region = self.directory.region_of.get(incident_id, region)
            kv = await self.client.get(self.keys.incident(region, incident_id))
        if kv is None:
            raise NotFoundError("incident", incident_id)
        return Incident.decode(kv.value, kv.mod_revision)

    async def unit(self, unit_id: str) -> Unit:
        kv = await self.client.get(self.keys.unit(self.unit_region(unit_id), unit_id))
        if kv is None:
            raise NotFoundError("unit", unit_id)
        return Unit.decode(kv.value, kv.mod_revision)

    async def call(self, call_id: str) -> Call:
        """A live call (a finished one is archived after ``archive_hold_s``)."""
        kv = await self.client.get(self.keys.call(self.call_region(call_id), call_id))
        if kv is None:
            raise NotFoundError("call", call_id)
        return Call.decode(kv.value, kv.mod_revision)

    async def incidents(self, region: str, *, revision: int = 0) -> list[Incident]:
        kvs, _ = await self.client.get_prefix(self.keys.incidents_prefix(region), revision=revision)
        return [Incident.decode(kv.value, kv.mod_revision) for kv in kvs]

    async def units(self, region: str, *, revision: int = 0) -> list[Unit]:
        kvs, _ = await self.client.get_prefix(self.keys.units_prefix(region), revision=revision)
        return [Unit.decode(kv.value, kv.mod_revision) for kv in kvs]

    async def calls(self, regions: list[str]) -> list[Call]:
        found: list[Call] = []
        for region in regions:
            kvs, _ = await self.client.get_prefix(self.keys.calls_prefix(region))
            found.extend(Call.decode(kv.value, kv.mod_revision) for kv in kvs)
        return found

    async def region_status(self, region: str, alive: set[str] | None = None) -> pb.RegionStatus:
        """Owner, fencing token, lease and last takeover of one region, from etcd."""
        r = self.config.seed.region(region)
        status = pb.RegionStatus(
            id=r.id,
            name=r.name,
            home_centre=r.home,
            health_region=self.config.seed.health_region_of(r.id),
        )
        owner = await read_owner(self.client, self.keys, region)
        holder = owner.record.centre if owner is not None else ""
        # Standbys: the centres of the region's line, in order, alive, not serving it now.
        line = [r.home, *r.backups]
        status.standbys.extend(c for c in line if c != holder and (alive is None or c in alive))
        if owner is not None:
            status.owner_centre = owner.record.centre
            status.owner_instance = owner.record.instance
            status.owner_site = owner.record.site or self.config.site
            status.fencing_token = owner.token
            status.lease_id = owner.record.lease
            status.lease_ttl_left_s = await self.client.lease_ttl(owner.record.lease)
        took = await self.client.get(self.keys.takeover(region))
        if took is not None:
            t = Takeover.decode(took.value)
            status.last_takeover = t.describe()
            status.last_takeover_ms = t.duration_ms
            status.last_takeover_by = t.centre
            status.last_takeover_from = t.previous
            status.last_takeover_token = t.token
            status.last_takeover_at.FromNanoseconds(int(t.at * 1e9))
            status.last_takeover_handed = t.handed
        return status
