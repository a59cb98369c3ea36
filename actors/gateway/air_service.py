"""Air ambulance RPCs of ``amk.dispatch.v1.DispatchService`` (issue #19):
``RequestAirAmbulance`` (the requesting AMK), ``AnswerAirRequest`` and
``AirAbortMission`` (the AMK-LA), ``AirGetMission`` and ``AirListMissions`` (reads).

Every field is checked here before anything is routed, and every id is looked up in
etcd first, so bad input names its field and an unknown incident or mission is
NOT_FOUND, all with nothing written. A request is routed to the owner of the
incident's region (the request is the incident's write); an answer or abort to the
owner of the mission's AMK-LA region (from the mission id's code, ``LAH-...``). What
crosses between the two is the centres' business (``actors/centre/air_desk.py``).
Reads go straight to etcd, then the archive (an ended mission moves there with the
incident's other closed work).
"""

from __future__ import annotations

import asyncio

import grpc

from actors.domain import air_mission_lifecycle
from actors.domain import validation as v
from actors.domain.commands import AbortAirMission, AnswerAirRequest, RequestAirAmbulance
from actors.domain.errors import InvalidArgumentError, NotFoundError, PreconditionError
from actors.domain.model import AirMission, AlertService, UnitKind
from actors.gateway import convert as conv
from actors.gateway.context import GatewayContext
from actors.gateway.identity import current_identity
from actors.gateway.rpc import rpc
from amk.dispatch.v1 import dispatch_pb2 as pb

AIRCRAFT = (UnitKind.HELICOPTER, UnitKind.FIXED_WING)


def mission_pb(m: AirMission, archived: bool = False) -> pb.AirMission:
    return pb.AirMission(
        id=m.id,
        region=m.region,
        incident_id=m.incident_id,
        incident_region=m.incident_region,
        alert_id=m.alert_id,
        kind=conv.to_pb_enum(m.kind),
        state=conv.to_pb_enum(m.state),
        position=pb.Position(
            lat=m.position.lat, lon=m.position.lon, accuracy_m=m.position.accuracy_m
        ),
        urgency=conv.to_pb_enum(m.urgency),
        criteria_code=m.criteria_code,
        address=m.address,
        reason=m.reason,
        requested_by=m.requested_by,
        requested_at=conv.when(m.requested_at),
        received_at=conv.when(m.received_at),
        unit_id=m.unit_id,
        base_doctor=m.base_doctor,
        answered_by=m.answered_by,
        answered_at=conv.when(m.answered_at),
        decline_reason=m.decline_reason,
        updated_at=conv.when(m.updated_at),
        closed_at=conv.when(m.closed_at),
        withdrawn_at=conv.when(m.withdrawn_at),
        withdrawn_by=m.withdrawn_by,
        withdrawal_reason=m.withdrawal_reason,
        withdrawal_answer=conv.to_pb_enum(m.withdrawal_answer),
        events=[
            pb.AirMissionEvent(
                state=conv.to_pb_enum(e.state), at=conv.to_timestamp(e.at), by=e.by, note=e.note
            )
            for e in m.events
        ],
        reported=m.reported_seq >= m.seq,
        revision=m.revision,
        archived=archived,
    )


class AirRpcs:
    """Air ambulance RPCs."""

    def __init__(self, gw: GatewayContext) -> None:
        self.gw = gw

    # ------------------------------------------------------------ checks and reads

    def _mission_region(self, mission_id: str) -> str:
        """The AMK-LA region a mission id names (its code), or NOT_FOUND."""
        region = self.gw.lookup.region_of_code(mission_id)
        if region is None or not self.gw.config.seed.is_air_region(region):
            raise NotFoundError("air mission", mission_id)
        return region

    async def _live_mission(self, mission_id: str) -> AirMission | None:
        kv = await self.gw.client.get(
            self.gw.keys.mission(self._mission_region(mission_id), mission_id)
        )
        return AirMission.decode(kv.value, kv.mod_revision) if kv is not None else None

    async def _archived_mission(self, mission_id: str) -> AirMission | None:
        archive = await self.gw.history.archive()
        rec = await asyncio.to_thread(archive.get_record, "air_missions", mission_id)
        return AirMission.decode(rec.value, rec.revision) if rec is not None else None

    async def _open_mission(self, mission_id: str) -> AirMission:
        """A live mission, checked before a write: NOT_FOUND, or read-only if archived."""
        mission = await self._live_mission(mission_id)
        if mission is None:
            if await self._archived_mission(mission_id) is not None:
                raise PreconditionError(mission_id, "archived (ended): it is read-only")
            raise NotFoundError("air mission", mission_id)
        return mission

    # ------------------------------------------------------------ the requesting AMK

    @rpc
    async def RequestAirAmbulance(self, request, context) -> pb.Alert:
        gw = self.gw
        rid = v.request_id(request.request_id)
        incident_id = v.entity_id(request.incident_id, "incident_id")
        kind = conv.from_pb_enum(UnitKind, request.kind, "kind")
        if kind not in AIRCRAFT:
            raise InvalidArgumentError(
                "kind", "must be UNIT_KIND_HELICOPTER or UNIT_KIND_FIXED_WING"
            )
        reason = v.text(request.reason, "reason", limit=v.MAX_NOTE, required=True)
        try:
            inc = await gw.lookup.incident(incident_id)
        except NotFoundError:
            if await gw.history.archived_incident(incident_id) is not None:
                raise PreconditionError(incident_id, "archived (closed): read-only") from None
            raise
        if gw.config.seed.air_region_for(inc.region) is None:
            raise PreconditionError(inc.id, f"no AMK-LA serves region {inc.region}")
        cmd = RequestAirAmbulance(rid, incident_id, kind, reason, current_identity.get())  # type: ignore[arg-type]
        out = await gw.router.route(gw.lookup.incident_region(incident_id), cmd, context)
        done = out.require_incident()
        # The request this command made: the latest air alert in its answer (a retry
        # gets the first answer, so this holds for retries too).
        sent = [a for a in done.alerts if a.service is AlertService.AIR_AMBULANCE]
        return conv.alert_pb(done.id, max(sent, key=lambda a: a.sent_at))

    # ------------------------------------------------------------ the AMK-LA

    @rpc
    async def AnswerAirRequest(self, request, context) -> pb.AirMission:
        rid = v.request_id(request.request_id)
        mission_id = v.entity_id(request.mission_id, "mission_id")
        if request.decision == pb.AIR_DECISION_UNSPECIFIED:
            raise InvalidArgumentError("decision", "is required (accept or decline)")
        if request.decision not in (pb.AIR_DECISION_ACCEPT, pb.AIR_DECISION_DECLINE):
            raise InvalidArgumentError("decision", f"unknown value {request.decision}")
        accept = request.decision == pb.AIR_DECISION_ACCEPT
        doctor = v.text(request.base_doctor, "base_doctor", limit=v.MAX_ID * 4, required=accept)
        reason = v.text(request.reason, "reason", limit=v.MAX_NOTE, required=not accept)
        unit_id = v.entity_id(request.unit_id, "unit_id") if accept else ""
        if not accept and request.unit_id:
            raise InvalidArgumentError("unit_id", "only an acceptance names an aircraft")
        await self._open_mission(mission_id)
        if accept:
            # An unknown unit is NOT_FOUND before anything is written; one that is no
            # free aircraft of the mission's region is refused by the centre.
            await self.gw.lookup.unit(unit_id)
        cmd = AnswerAirRequest(
            rid, mission_id, accept, unit_id, doctor.strip(), reason, current_identity.get()
        )
        return await self._route_mission(cmd, context)

    @rpc
    async def AirAbortMission(self, request, context) -> pb.AirMission:
        rid = v.request_id(request.request_id)
        mission_id = v.entity_id(request.mission_id, "mission_id")
        reason = v.text(request.reason, "reason", limit=v.MAX_NOTE, required=True)
        await self._open_mission(mission_id)
        cmd = AbortAirMission(rid, mission_id, reason, current_identity.get())
        return await self._route_mission(cmd, context)

    async def _route_mission(
        self, cmd: AnswerAirRequest | AbortAirMission, context: grpc.aio.ServicerContext
    ) -> pb.AirMission:
        out = await self.gw.router.route(self._mission_region(cmd.mission_id), cmd, context)
        return mission_pb(out.require_mission())

    # ------------------------------------------------------------ reads

    @rpc
    async def AirGetMission(self, request, context) -> pb.AirMission:
        mission_id = v.entity_id(request.mission_id, "mission_id")
        mission = await self._live_mission(mission_id)
        if mission is not None:
            return mission_pb(mission)
        archived = await self._archived_mission(mission_id)
        if archived is None:
            raise NotFoundError("air mission", mission_id)
        return mission_pb(archived, archived=True)

    @rpc
    async def AirListMissions(self, request, context) -> pb.AirListMissionsResponse:
        gw = self.gw
        air_regions = {r.id for r in gw.config.seed.regions if not r.is_area}
        regions = conv.regions_filter(list(request.regions), gw.regions, default=air_regions)
        incident_id = v.entity_id(request.incident_id, "incident_id") if request.incident_id else ""
        found: list[AirMission] = []
        for region in regions:
            kvs, _ = await gw.client.get_prefix(gw.keys.missions_prefix(region))
            found += [AirMission.decode(kv.value, kv.mod_revision) for kv in kvs]
        found = [
            m
            for m in found
            if (request.include_closed or air_mission_lifecycle.is_open(m.state))
            and (not incident_id or m.incident_id == incident_id)
        ]
        found.sort(key=lambda m: (m.received_at, m.id))
        return pb.AirListMissionsResponse(missions=[mission_pb(m) for m in found])
