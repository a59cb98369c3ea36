"""``amk.dispatch.v1.DispatchService``: incidents, units, assignment, the live board and
cluster status, as served by a gateway.

Mutations are routed to the owning centre (``router.Router``); reads go straight to
etcd (linearizable), so boards and lookups keep working while a region fails over.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

from actors import api_convert as conv
from actors.call_service import CallRpcs
from actors.domain.commands import AssignUnit, Command
from actors.domain.errors import InvalidArgumentError
from actors.domain.model import Incident, IncidentStatus, Outcome, Unit, UnitKind, UnitStatus
from actors.domain.model import Urgency as UrgencyEnum
from actors.domain.recommend import recommend
from actors.identity import current_identity
from actors.kpi_service import KpiRpcs
from actors.router import log
from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from cluster.errors import AmkError, StoreUnavailableError
from cluster.ownership import OwnerRecord

# Watch events of stored records: key kind -> (record type, changed kind, removed kind,
# event field, converter).
_WATCH_SHAPES: dict[str, tuple[Any, int, int, str, Callable[[Any], Any]]] = {
    "incidents": (
        Incident,
        pb.WatchEvent.KIND_INCIDENT_CHANGED,
        pb.WatchEvent.KIND_INCIDENT_REMOVED,
        "incident",
        conv.incident_pb,
    ),
    "units": (
        Unit,
        pb.WatchEvent.KIND_UNIT_CHANGED,
        pb.WatchEvent.KIND_UNIT_REMOVED,
        "unit",
        conv.unit_pb,
    ),
}


class DispatchServicer(KpiRpcs, CallRpcs, pb_grpc.DispatchServiceServicer):
    """Implements ``amk.dispatch.v1.DispatchService``."""

    async def CreateIncident(self, request, context):
        async def run() -> pb.Incident:
            cmd = conv.create_incident(request, self.regions, self.table, current_identity.get())
            out = await self._route(cmd.region, cmd, context)
            assert out.incident is not None
            return conv.incident_pb(out.incident)

        return await self._guard(context, run)

    async def GetIncident(self, request, context):
        async def run() -> pb.Incident:
            conv.v.entity_id(request.incident_id, "incident_id")
            return conv.incident_pb(await self._read_incident(request.incident_id))

        return await self._guard(context, run)

    async def ListIncidents(self, request, context):
        async def run() -> pb.ListIncidentsResponse:
            regions = conv.regions_filter(list(request.regions), self.regions)
            status = conv.from_pb_enum(IncidentStatus, request.status, "status", optional=True)
            urgency = conv.from_pb_enum(UrgencyEnum, request.urgency, "urgency", optional=True)
            out = []
            for region in regions:
                kvs, _ = await self.client.get_prefix(self.keys.incidents_prefix(region))
                for kv in kvs:
                    inc = Incident.decode(kv.value, kv.mod_revision)
                    if status is not None and inc.status is not status:
                        continue
                    if urgency is not None and inc.urgency is not urgency:
                        continue
                    closed = inc.status in (IncidentStatus.CLOSED, IncidentStatus.CANCELLED)
                    if closed and not request.include_closed and status is None:
                        continue
                    out.append(conv.incident_pb(inc))
            return pb.ListIncidentsResponse(incidents=out)

        return await self._guard(context, run)

    async def _mutate_incident(self, context, make: Callable[[], Command]) -> pb.Incident:
        async def run() -> pb.Incident:
            cmd = make()
            region = self._incident_region(cmd.incident_id)  # type: ignore[union-attr]
            out = await self._route(region, cmd, context)
            assert out.incident is not None
            return conv.incident_pb(out.incident)

        return await self._guard(context, run)

    async def TriageIncident(self, request, context):
        return await self._mutate_incident(
            context, lambda: conv.triage_incident(request, self.table, current_identity.get())
        )

    async def ChangeIncidentStatus(self, request, context):
        return await self._mutate_incident(
            context, lambda: conv.change_incident_status(request, current_identity.get())
        )

    async def AddIncidentNote(self, request, context):
        return await self._mutate_incident(
            context, lambda: conv.add_incident_note(request, current_identity.get())
        )

    # ------------------------------------------------------------ units

    async def ListUnits(self, request, context):
        async def run() -> pb.ListUnitsResponse:
            regions = conv.regions_filter(list(request.regions), self.regions)
            status = conv.from_pb_enum(UnitStatus, request.status, "status", optional=True)
            kind = conv.from_pb_enum(UnitKind, request.kind, "kind", optional=True)
            out = []
            for region in regions:
                kvs, _ = await self.client.get_prefix(self.keys.units_prefix(region))
                for kv in kvs:
                    unit = Unit.decode(kv.value, kv.mod_revision)
                    if (status is None or unit.status is status) and (
                        kind is None or unit.kind is kind
                    ):
                        out.append(conv.unit_pb(unit))
            return pb.ListUnitsResponse(units=out)

        return await self._guard(context, run)

    async def GetUnit(self, request, context):
        async def run() -> pb.Unit:
            conv.v.entity_id(request.unit_id, "unit_id")
            return conv.unit_pb(await self._read_unit(request.unit_id))

        return await self._guard(context, run)

    async def _mutate_unit(self, context, cmd: Command) -> Outcome:
        region = self._unit_region(cmd.unit_id)  # type: ignore[union-attr]
        return await self._route(region, cmd, context)

    async def ChangeUnitStatus(self, request, context):
        async def run() -> pb.Unit:
            cmd = conv.change_unit_status(request, current_identity.get())
            out = await self._mutate_unit(context, cmd)
            assert out.unit is not None
            return conv.unit_pb(out.unit)

        return await self._guard(context, run)

    async def ReportUnitPosition(self, request, context):
        async def run() -> pb.Unit:
            cmd = conv.report_unit_position(request, current_identity.get())
            out = await self._mutate_unit(context, cmd)
            assert out.unit is not None
            return conv.unit_pb(out.unit)

        return await self._guard(context, run)

    async def StreamUnitPositions(self, request_iterator, context):
        accepted = rejected = 0
        async for req in request_iterator:
            try:
                cmd = conv.report_unit_position(req, current_identity.get())
                await self._mutate_unit(context, cmd)
                accepted += 1
            except AmkError as err:
                rejected += 1
                log.info("position_rejected", unit=req.unit_id, error=str(err))
        return pb.StreamUnitPositionsSummary(accepted=accepted, rejected=rejected)

    # ------------------------------------------------------------ assignment

    async def _pair(self, context, make: Callable[[], Command]) -> pb.Assignment:
        async def run() -> pb.Assignment:
            cmd = make()
            region = self._incident_region(cmd.incident_id)  # type: ignore[union-attr]
            unit_region = self._unit_region(cmd.unit_id)  # type: ignore[union-attr]
            if isinstance(cmd, AssignUnit):
                cmd = dataclasses.replace(cmd, unit_region=unit_region)
            out = await self._route(region, cmd, context)
            assert out.incident is not None and out.unit is not None
            return pb.Assignment(
                incident=conv.incident_pb(out.incident), unit=conv.unit_pb(out.unit)
            )

        return await self._guard(context, run)

    async def RecommendUnits(self, request, context):
        async def run() -> pb.RecommendUnitsResponse:
            conv.v.entity_id(request.incident_id, "incident_id")
            if not 0 <= request.limit <= 50:
                raise InvalidArgumentError("limit", "must be 0..50")
            inc = await self._read_incident(request.incident_id)
            regions = [inc.region, *self.config.seed.region(inc.region).partners]
            units: dict[str, Unit] = {}
            for region in regions:
                kvs, _ = await self.client.get_prefix(self.keys.units_prefix(region))
                for kv in kvs:
                    unit = Unit.decode(kv.value, kv.mod_revision)
                    units[unit.id] = unit
            ranked = recommend(
                units.values(),
                inc.position.lat,
                inc.position.lon,
                inc.urgency,
                limit=request.limit or 10,
            )
            return pb.RecommendUnitsResponse(
                recommendations=[
                    pb.Recommendation(
                        rank=r.rank,
                        unit=conv.unit_pb(units[r.unit_id]),
                        eta_s=r.eta_s,
                        distance_km=r.distance_km,
                        mode=r.mode,
                        reason=r.reason,
                        note=r.note,
                    )
                    for r in ranked
                ]
            )

        return await self._guard(context, run)

    async def AssignUnit(self, request, context):
        return await self._pair(context, lambda: conv.assign_unit(request, current_identity.get()))

    async def ReleaseUnit(self, request, context):
        return await self._pair(context, lambda: conv.release_unit(request, current_identity.get()))

    # ------------------------------------------------------------ watch

    async def Watch(self, request, context) -> AsyncIterator[pb.WatchEvent]:
        try:
            regions = set(conv.regions_filter(list(request.regions), self.regions))
            if request.from_revision < 0:
                raise InvalidArgumentError("from_revision", "must be >= 0")
        except AmkError as err:
            await self._abort(context, err)
            return
        start = request.from_revision
        if start == 0:
            rev = await self.client.revision()
            for region in sorted(regions):
                kvs, _ = await self.client.get_prefix(
                    self.keys.incidents_prefix(region), revision=rev
                )
                for kv in kvs:
                    inc = Incident.decode(kv.value, kv.mod_revision)
                    yield pb.WatchEvent(
                        kind=pb.WatchEvent.KIND_SNAPSHOT_INCIDENT,
                        revision=rev,
                        region=region,
                        incident=conv.incident_pb(inc),
                    )
                kvs, _ = await self.client.get_prefix(self.keys.units_prefix(region), revision=rev)
                for kv in kvs:
                    unit = Unit.decode(kv.value, kv.mod_revision)
                    yield pb.WatchEvent(
                        kind=pb.WatchEvent.KIND_SNAPSHOT_UNIT,
                        revision=rev,
                        region=region,
                        unit=conv.unit_pb(unit),
                    )
            yield pb.WatchEvent(kind=pb.WatchEvent.KIND_SNAPSHOT_DONE, revision=rev)
            start = rev + 1
        try:
            async for rev, events in self.client.watch_prefix(
                self.keys.all(), start_revision=start
            ):
                for ev in events:
                    out = self._watch_event(rev, ev, regions)
                    if out is not None:
                        yield out
        except StoreUnavailableError as err:
            await self._abort(context, err)

    def _watch_event(self, rev: int, ev: Any, regions: set[str]) -> pb.WatchEvent | None:
        parsed = self.keys.parse(ev.kv.key)
        if parsed is None or parsed[1] not in regions:
            return None
        kind, region, ident = parsed
        shape = _WATCH_SHAPES.get(kind)
        if shape is not None:
            record_type, changed, removed, field, to_pb = shape
            if ev.deleted:
                return pb.WatchEvent(kind=removed, revision=rev, region=region, removed_id=ident)
            record = record_type.decode(ev.kv.value, ev.kv.mod_revision)
            return pb.WatchEvent(
                kind=changed, revision=rev, region=region, **{field: to_pb(record)}
            )
        if kind == "regions" and ident == "owner":
            return self._owner_event(rev, region, ev)
        return None

    def _owner_event(self, rev: int, region: str, ev: Any) -> pb.WatchEvent:
        cfg = self.config.seed.region(region)
        if ev.deleted:
            msg = f"Region {cfg.name} has no owner: failing over"
            status = pb.RegionStatus(id=region, name=cfg.name, home_centre=cfg.home)
        else:
            rec = OwnerRecord.decode(ev.kv.value)
            centre = self.config.seed.centre(rec.centre).name
            msg = f"Region {cfg.name} now served by {centre}"
            status = pb.RegionStatus(
                id=region,
                name=cfg.name,
                home_centre=cfg.home,
                owner_centre=rec.centre,
                owner_instance=rec.instance,
                fencing_token=ev.kv.mod_revision,
                lease_id=rec.lease,
            )
        return pb.WatchEvent(
            kind=pb.WatchEvent.KIND_REGION_OWNER_CHANGED,
            revision=rev,
            region=region,
            region_status=status,
            message=msg,
        )

    # ------------------------------------------------------------ status

    async def GetClusterStatus(self, request, context):
        async def run() -> pb.ClusterStatus:
            return await self.cluster_status()

        return await self._guard(context, run)

    async def cluster_status(self) -> pb.ClusterStatus:
        seed = self.config.seed
        handles = [self.centre(c.id) for c in seed.centres]
        results = await asyncio.gather(
            *(h.status(timeout_s=1.0) for h in handles), return_exceptions=True
        )
        centres, counts = [], {}
        alive = set()
        for c, res in zip(seed.centres, results, strict=True):
            if isinstance(res, BaseException):
                centres.append(pb.CentreStatus(id=c.id, name=c.name, alive=False))
                continue
            alive.add(c.id)
            counts.update(res["counts"])
            centres.append(
                pb.CentreStatus(
                    id=c.id,
                    name=c.name,
                    alive=True,
                    node_id=res["node_id"],
                    pid=res["pid"],
                    lease_id=res["lease_id"],
                    lease_ttl_s=res["lease_ttl_s"],
                    lease_valid_for_s=res["lease_valid_for_s"],
                    regions_owned=sorted(res["regions"]),
                    instance=res["instance"],
                )
            )
        regions = []
        for r in seed.regions:
            status = await self.region_status(r.id, alive)
            status.incidents, status.units = counts.get(r.id, (0, 0))
            regions.append(status)
        return pb.ClusterStatus(
            centres=centres,
            regions=regions,
            etcd_revision=await self.client.revision(),
            etcd_endpoints=self.client.endpoints,
            gateway=self.address,
        )
