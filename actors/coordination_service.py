"""``amk.coordination.v1.CoordinationService``: supervisors hand incidents, units and whole
regions between centres, and pass incidents to and from other systems as NENA EIDO.

Each hand-over is one etcd transaction guarded by the fencing token of every region it
touches. Commands that reach the old owner meanwhile fail their fence and the router
retries them on the new owner: callers see a short delay, never a failure.
"""

from __future__ import annotations

import asyncio
import json
import time

from actors import api_convert as conv
from actors.domain import validation as v
from actors.domain.commands import CreateIncident, HandOverIncident, LendUnit, SetCallSharing
from actors.domain.errors import InvalidArgumentError, NotFoundError, PreconditionError
from actors.identity import current_identity
from actors.major_handle import MajorHandle
from actors.major_incident import major_id_for
from actors.router import Router, log
from actors.supervisor_handle import SupervisorHandle
from amk.coordination.v1 import coordination_pb2 as cpb
from amk.coordination.v1 import coordination_pb2_grpc as cpb_grpc
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.errors import AmkError, RegionUnavailableError
from cluster.ownership import OwnerRecord

MAX_EIDO_BYTES = 1_000_000


class CoordinationServicer(Router, cpb_grpc.CoordinationServiceServicer):
    """Implements ``amk.coordination.v1.CoordinationService``."""

    def _region(self, region: str, field: str = "region") -> str:
        if not region:
            raise InvalidArgumentError(field, "is required")
        if region not in self.regions:
            raise InvalidArgumentError(field, f"unknown region {region!r}")
        return region

    async def _hand_over_region(self, region: str, to_centre: str, context) -> pb.RegionStatus:
        if to_centre not in {c.id for c in self.config.seed.centres}:
            raise InvalidArgumentError("to_centre", f"unknown centre {to_centre!r}")
        deadline = self._deadline(context)
        owner = self.directory.owner(region)
        if owner is None:
            raise RegionUnavailableError(region, "no centre owns it (failing over)")
        if owner.record.centre != to_centre:
            target = await self.centre(to_centre).status(timeout_s=2.0)
            if target["lease_valid_for_s"] <= 0:
                raise PreconditionError(to_centre, "centre has no live session to take over with")
            record = OwnerRecord(to_centre, target["instance"], target["lease_id"], time.time())
            await self.incarnation(owner.record.centre, owner.record.instance).hand_over_region(
                region, record, current_identity.get()
            )
            log.info(
                "region_handed_over",
                region=region,
                from_centre=owner.record.centre,
                to_centre=to_centre,
                who=current_identity.get(),
            )
        # Answer once the new owner serves the region (it has loaded it).
        while time.monotonic() < deadline:
            status = await self.centre(to_centre).status(timeout_s=2.0)
            if region in status["regions"]:
                return await self.region_status(region)
            await asyncio.sleep(0.01)
        raise RegionUnavailableError(region, f"{to_centre} has not loaded it yet")

    async def HandOverRegion(self, request, context):
        async def run() -> pb.RegionStatus:
            v.request_id(request.request_id)
            region = self._region(request.region)
            if not request.to_centre:
                raise InvalidArgumentError("to_centre", "is required")
            return await self._hand_over_region(region, request.to_centre, context)

        return await self._guard(context, run)

    async def HandBackRegion(self, request, context):
        async def run() -> pb.RegionStatus:
            v.request_id(request.request_id)
            region = self._region(request.region)
            home = self.config.seed.region(region).home
            return await self._hand_over_region(region, home, context)

        return await self._guard(context, run)

    async def HandOverIncident(self, request, context):
        async def run() -> pb.Incident:
            cmd = HandOverIncident(
                v.request_id(request.request_id),
                v.entity_id(request.incident_id, "incident_id"),
                self._region(request.to_region, "to_region"),
                current_identity.get(),
            )
            out = await self._route(self._incident_region(cmd.incident_id), cmd, context)
            assert out.incident is not None
            return conv.incident_pb(out.incident)

        return await self._guard(context, run)

    async def LendUnit(self, request, context):
        async def run() -> pb.Unit:
            cmd = LendUnit(
                v.request_id(request.request_id),
                v.entity_id(request.unit_id, "unit_id"),
                self._region(request.to_region, "to_region"),
                current_identity.get(),
            )
            out = await self._route(self._unit_region(cmd.unit_id), cmd, context)
            assert out.unit is not None
            return conv.unit_pb(out.unit)

        return await self._guard(context, run)

    async def ExportIncident(self, request, context):
        async def run() -> cpb.EidoDocument:
            from actors.domain import eido

            v.entity_id(request.incident_id, "incident_id")
            inc = await self._read_incident(request.incident_id)
            units = [await self._read_unit(u) for u in inc.assigned_unit_ids]
            owner = self.directory.owner(inc.region)
            centre = self.config.seed.centre(
                owner.record.centre if owner else self.config.seed.region(inc.region).home
            )
            doc = eido.export_incident(
                inc, units, agency_id=f"amk.{centre.id}", agency_name=centre.name, now=time.time()
            )
            return cpb.EidoDocument(json=json.dumps(doc, ensure_ascii=False))

        return await self._guard(context, run)

    async def ImportIncident(self, request, context):
        async def run() -> cpb.ImportIncidentResponse:
            from actors.domain import eido

            rid = v.request_id(request.request_id)
            region = self._region(request.region)
            if len(request.json.encode()) > MAX_EIDO_BYTES:
                raise InvalidArgumentError("json", f"larger than {MAX_EIDO_BYTES} bytes")
            try:
                doc = json.loads(request.json)
            except ValueError as exc:
                raise InvalidArgumentError("json", f"not JSON: {exc}") from None
            imported, warnings = eido.import_incident(doc, region=region)
            notes = "\n".join(f"[{a or 'unknown'}] {t}" for t, a, _ in imported.notes)
            if imported.source_id:
                notes = f"Imported from EIDO incident {imported.source_id}\n{notes}".strip()
            if imported.criteria_code:
                self.table.lookup(imported.criteria_code)
            cmd = CreateIncident(
                request_id=rid,
                region=region,
                position=v.position(
                    imported.position.lat, imported.position.lon, imported.position.accuracy_m
                ),
                address=v.text(imported.address, "address", limit=v.MAX_ADDRESS),
                caller_number=v.caller_number(imported.caller_number),
                complaint_chapter=v.chapter(imported.complaint_chapter, self.table.chapters),
                criteria_code=imported.criteria_code,
                notes=notes[: v.MAX_NOTE],
                who=current_identity.get(),
            )
            out = await self._route(region, cmd, context)
            assert out.incident is not None
            return cpb.ImportIncidentResponse(
                incident=conv.incident_pb(out.incident), warnings=warnings
            )

        return await self._guard(context, run)

    async def SetCallSharing(self, request, context):
        async def run() -> cpb.SetCallSharingResponse:
            cmd = SetCallSharing(
                v.request_id(request.request_id),
                self._region(request.region),
                request.sharing,
                current_identity.get(),
            )
            await self._route(cmd.region, cmd, context)
            return cpb.SetCallSharingResponse(region=cmd.region, sharing=cmd.sharing)

        return await self._guard(context, run)

    # ------------------------------------------------------------ major incidents

    @staticmethod
    def _major_pb(view: dict) -> cpb.MajorIncident:
        return cpb.MajorIncident(
            id=view["id"],
            region=view["region"],
            position=pb.Position(lat=view["lat"], lon=view["lon"], accuracy_m=view["accuracy_m"]),
            kind=view["kind"],
            expected_patients=view["expected_patients"],
            status=view["status"],
            declared_by=view["declared_by"],
            declared_at=view["declared_at"],
            incident_ids=view["incident_ids"],
            reserved_unit_ids=view["reserved_unit_ids"],
            timeline=[cpb.TimelineEntry(**t) for t in view["timeline"]],
            actor_pid=view.get("actor_pid", 0),
            revision=view.get("revision", 0),
        )

    def _major_id(self, value: str) -> str:
        return v.entity_id(value, "major_incident_id")

    async def DeclareMajorIncident(self, request, context):
        async def run() -> cpb.MajorIncident:
            rid = v.request_id(request.request_id)
            region = self._region(request.region)
            if not request.HasField("position"):
                raise InvalidArgumentError("position", "is required")
            p = request.position
            v.position(p.lat, p.lon, p.accuracy_m)
            kind = v.text(request.kind, "kind", limit=200, required=True)
            if not 0 <= request.expected_patients <= 100_000:
                raise InvalidArgumentError("expected_patients", "must be 0..100000")
            declare = {
                "region": region,
                "lat": p.lat,
                "lon": p.lon,
                "accuracy_m": p.accuracy_m,
                "kind": kind,
                "expected_patients": request.expected_patients,
                "declared_by": current_identity.get(),
            }
            supervisor = SupervisorHandle.find(self.config.ray_namespace)
            view = await supervisor.declare_major(major_id_for(rid), declare)
            return self._major_pb(view)

        return await self._guard(context, run)

    async def _read_major(self, major_id: str) -> dict:
        kv = await self.client.get(self.keys.major(major_id))
        if kv is None:
            raise NotFoundError("major incident", major_id)
        return {**json.loads(kv.value), "revision": kv.mod_revision}

    async def GetMajorIncident(self, request, context):
        async def run() -> cpb.MajorIncident:
            major_id = self._major_id(request.major_incident_id)
            view = await self._read_major(major_id)  # from etcd: answers with no actor up
            try:
                live = await MajorHandle(major_id, self.config.ray_namespace).view()
                view["actor_pid"] = live["actor_pid"]
            except AmkError:
                view["actor_pid"] = 0
            return self._major_pb(view)

        return await self._guard(context, run)

    async def ListMajorIncidents(self, request, context):
        async def run() -> cpb.ListMajorIncidentsResponse:
            kvs, _ = await self.client.get_prefix(self.keys.majors_prefix())
            views = [
                {**json.loads(kv.value), "revision": kv.mod_revision}
                for kv in kvs
                if kv.key.endswith(b"/record")
            ]
            return cpb.ListMajorIncidentsResponse(
                major_incidents=[self._major_pb(m) for m in views]
            )

        return await self._guard(context, run)

    async def LinkToMajorIncident(self, request, context):
        async def run() -> cpb.MajorIncident:
            rid = v.request_id(request.request_id)
            major_id = self._major_id(request.major_incident_id)
            await self._read_major(major_id)
            ids = [v.entity_id(i, f"incident_ids[{n}]") for n, i in enumerate(request.incident_ids)]
            for i in ids:
                await self._read_incident(i)  # NOT_FOUND before anything is written
            handle = MajorHandle(major_id, self.config.ray_namespace)
            return self._major_pb(await handle.link(ids, current_identity.get(), rid))

        return await self._guard(context, run)

    async def ReserveUnitsForMajorIncident(self, request, context):
        async def run() -> cpb.MajorIncident:
            rid = v.request_id(request.request_id)
            major_id = self._major_id(request.major_incident_id)
            await self._read_major(major_id)
            ids = [v.entity_id(u, f"unit_ids[{n}]") for n, u in enumerate(request.unit_ids)]
            for u in ids:
                await self._read_unit(u)
            handle = MajorHandle(major_id, self.config.ray_namespace)
            return self._major_pb(await handle.reserve(ids, current_identity.get(), rid))

        return await self._guard(context, run)

    async def StandDownMajorIncident(self, request, context):
        async def run() -> cpb.MajorIncident:
            rid = v.request_id(request.request_id)
            major_id = self._major_id(request.major_incident_id)
            await self._read_major(major_id)
            handle = MajorHandle(major_id, self.config.ray_namespace)
            return self._major_pb(await handle.stand_down(current_identity.get(), rid))

        return await self._guard(context, run)
