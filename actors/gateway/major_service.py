"""Major incidents of ``amk.coordination.v1.CoordinationService``: declare, read, link
incidents, reserve units, stand down.

Declaring goes through the supervisor, which creates (or finds) the major incident's own
actor; the other commands go to that actor. Reads come from etcd, so a major incident
can be read while its actor is being restarted.
"""

from __future__ import annotations

from actors.domain import validation as v
from actors.domain.errors import InvalidArgumentError, NotFoundError
from actors.gateway.context import GatewayContext
from actors.gateway.identity import current_identity
from actors.gateway.rpc import current_fingerprint, rpc
from actors.major.handle import MajorHandle
from actors.major.record import MajorRecord, MajorView, major_id_for
from actors.supervisor.handle import SupervisorHandle
from amk.coordination.v1 import coordination_pb2 as cpb
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.errors import AmkError

MAX_EXPECTED_PATIENTS = 100_000
MAX_KIND = 200


def major_pb(view: MajorView) -> cpb.MajorIncident:
    r = view.record
    return cpb.MajorIncident(
        id=r.id,
        region=r.region,
        position=pb.Position(lat=r.lat, lon=r.lon, accuracy_m=r.accuracy_m),
        kind=r.kind,
        expected_patients=r.expected_patients,
        status=str(r.status),
        declared_by=r.declared_by,
        declared_at=r.declared_at,
        incident_ids=r.incident_ids,
        reserved_unit_ids=r.reserved_unit_ids,
        timeline=[cpb.TimelineEntry(at=t.at, who=t.who, text=t.text) for t in r.timeline],
        actor_pid=view.actor_pid,
        revision=view.revision,
    )


class MajorRpcs:
    """Major-incident RPCs."""

    def __init__(self, gw: GatewayContext) -> None:
        self.gw = gw

    def _handle(self, major_id: str) -> MajorHandle:
        return MajorHandle(major_id, self.gw.config.ray_namespace)

    async def _read(self, major_id: str) -> MajorView:
        kv = await self.gw.client.get(self.gw.keys.major(major_id))
        if kv is None:
            raise NotFoundError("major incident", major_id)
        return MajorView(MajorRecord.decode(kv.value), kv.mod_revision)

    @rpc
    async def DeclareMajorIncident(self, request, context) -> cpb.MajorIncident:
        rid = v.request_id(request.request_id)
        region = self.gw.lookup.area_region(request.region)
        if not request.HasField("position"):
            raise InvalidArgumentError("position", "is required")
        p = request.position
        v.position(p.lat, p.lon, p.accuracy_m)
        kind = v.text(request.kind, "kind", limit=MAX_KIND, required=True)
        if not 0 <= request.expected_patients <= MAX_EXPECTED_PATIENTS:
            raise InvalidArgumentError("expected_patients", f"must be 0..{MAX_EXPECTED_PATIENTS}")
        declare = {
            "region": region,
            "lat": p.lat,
            "lon": p.lon,
            "accuracy_m": p.accuracy_m,
            "kind": kind,
            "expected_patients": request.expected_patients,
            "declared_by": current_identity.get(),
            "fingerprint": current_fingerprint.get(),
        }
        supervisor = SupervisorHandle.find(self.gw.config.ray_namespace)
        return major_pb(await supervisor.declare_major(major_id_for(rid), declare))

    @rpc
    async def GetMajorIncident(self, request, context) -> cpb.MajorIncident:
        major_id = v.entity_id(request.major_incident_id, "major_incident_id")
        view = await self._read(major_id)  # from etcd: answers with no actor up
        try:
            pid = (await self._handle(major_id).view()).actor_pid
        except AmkError:
            pid = 0
        return major_pb(MajorView(view.record, view.revision, pid))

    @rpc
    async def ListMajorIncidents(self, request, context) -> cpb.ListMajorIncidentsResponse:
        kvs, _ = await self.gw.client.get_prefix(self.gw.keys.majors_prefix())
        views = [
            MajorView(MajorRecord.decode(kv.value), kv.mod_revision)
            for kv in kvs
            if kv.key.endswith(b"/record")
        ]
        return cpb.ListMajorIncidentsResponse(major_incidents=[major_pb(m) for m in views])

    @rpc
    async def LinkToMajorIncident(self, request, context) -> cpb.MajorIncident:
        rid = v.request_id(request.request_id)
        major_id = v.entity_id(request.major_incident_id, "major_incident_id")
        await self._read(major_id)
        ids = [v.entity_id(i, f"incident_ids[{n}]") for n, i in enumerate(request.incident_ids)]
        for i in ids:
            await self.gw.lookup.incident(i)  # NOT_FOUND before anything is written
        return major_pb(
            await self._handle(major_id).link(
                ids, current_identity.get(), rid, current_fingerprint.get()
            )
        )

    @rpc
    async def ReserveUnitsForMajorIncident(self, request, context) -> cpb.MajorIncident:
        rid = v.request_id(request.request_id)
        major_id = v.entity_id(request.major_incident_id, "major_incident_id")
        await self._read(major_id)
        ids = [v.entity_id(u, f"unit_ids[{n}]") for n, u in enumerate(request.unit_ids)]
        for u in ids:
            await self.gw.lookup.unit(u)
        return major_pb(
            await self._handle(major_id).reserve(
                ids, current_identity.get(), rid, current_fingerprint.get()
            )
        )

    @rpc
    async def StandDownMajorIncident(self, request, context) -> cpb.MajorIncident:
        rid = v.request_id(request.request_id)
        major_id = v.entity_id(request.major_incident_id, "major_incident_id")
        await self._read(major_id)
        return major_pb(
            await self._handle(major_id).stand_down(
                current_identity.get(), rid, current_fingerprint.get()
            )
        )
