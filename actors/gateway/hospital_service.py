"""Hospital pre-notification RPCs of ``amk.dispatch.v1.DispatchService`` (issue #19):
``RecommendDestination``, ``SendPreNotification`` and ``ConfirmPreNotificationByPhone``.

``RecommendDestination`` is a read: the incident (and the unit, when named) straight
from etcd, the hospitals from the seed, the ranking from the pure
:mod:`actors.domain.destination`. ``SendPreNotification`` is an incident command routed
to the incident's owner, which computes the ETA from its cached records, commits and
delivers (``actors/centre/prenotifying.py``).
"""

from __future__ import annotations

import time
from typing import Any

from actors.domain import alerts, destination
from actors.domain.commands import ConfirmPreNotificationByPhone, SendPreNotification
from actors.domain.destination import Hospital
from actors.domain.errors import InvalidArgumentError, NotFoundError, PreconditionError
from actors.domain.model import AlertService, Incident, PatientCondition, UnitKind, UnitStatus
from actors.gateway import convert as conv
from actors.gateway import convert_alerts as alert_conv
from actors.gateway.context import GatewayContext
from actors.gateway.identity import current_identity
from actors.gateway.rpc import rpc
from amk.dispatch.v1 import dispatch_pb2 as pb

DEFAULT_DESTINATIONS = 5
MAX_DESTINATIONS = 20


def destination_pb(d: destination.Destination) -> pb.Destination:
    h = d.hospital
    return pb.Destination(
        rank=d.rank,
        hospital_id=h.id,
        hospital_name=h.name,
        region=h.region,
        eta_s=d.eta_s,
        distance_km=d.distance_km,
        mode=d.mode,
        reason=d.reason,
        note=d.note,
        reason_nb=d.reason_nb,
        note_nb=d.note_nb,
        capable=d.capable,
        uncertain=list(d.uncertain),
        expected_arrival=conv.to_timestamp(d.expected_arrival) if d.expected_arrival else None,
        trauma_level=h.trauma_level.value,
        stroke_thrombolysis=h.stroke_thrombolysis,
        stroke_thrombectomy=h.stroke_thrombectomy,
        pci=h.pci,
    )


class HospitalRpcs:
    """Destination and pre-notification RPCs."""

    def __init__(self, gw: GatewayContext) -> None:
        self.gw = gw
        self.hospitals = [Hospital.from_mapping(h.model_dump()) for h in gw.config.seed.hospitals]
        self.hospital_ids = {h.id for h in self.hospitals}

    @rpc
    async def RecommendDestination(self, request, context) -> pb.RecommendDestinationResponse:
        conv.v.entity_id(request.incident_id, "incident_id")
        if not 0 <= request.limit <= MAX_DESTINATIONS:
            raise InvalidArgumentError("limit", f"must be 0..{MAX_DESTINATIONS}")
        condition = conv.from_pb_enum(
            PatientCondition, request.condition, "condition", optional=True
        )
        unit_id = conv.v.entity_id(request.unit_id, "unit_id") if request.unit_id else ""
        inc = await self.gw.lookup.incident(request.incident_id)
        if condition is None:
            condition, why = destination.condition_of(
                inc.criteria_code, inc.complaint_chapter, inc.urgency
            )
            why = f"suggested: {why}"
        else:
            why = "given by the console"
        lat, lon, kind = inc.position.lat, inc.position.lon, UnitKind.ROAD_AMBULANCE
        origin = "the incident's position, by road ambulance"
        if unit_id:
            try:
                unit = await self.gw.lookup.unit(unit_id)
            except NotFoundError:
                raise InvalidArgumentError("unit_id", f"unknown unit {unit_id!r}") from None
            if unit.incident_id != inc.id:
                raise PreconditionError(unit.id, f"unit is not assigned to incident {inc.id}")
            kind = unit.kind
            if unit.status is UnitStatus.TRANSPORTING:
                lat, lon = unit.position.lat, unit.position.lon
                origin = f"unit {unit.id} ({unit.call_sign}), transporting, from its position"
            else:
                origin = f"the incident's position, by unit {unit.id} ({unit.kind.value})"
        ranked = destination.recommend(
            self.hospitals,
            condition,
            lat,
            lon,
            kind=kind,
            limit=request.limit or DEFAULT_DESTINATIONS,
            departure=time.time(),
        )
        return pb.RecommendDestinationResponse(
            condition=conv.to_pb_enum(condition),
            condition_reason=why,
            origin=origin,
            destinations=[destination_pb(d) for d in ranked],
        )

    @rpc
    async def SendPreNotification(self, request, context) -> pb.Alert:
        cmd = alert_conv.send_prenotification(
            request, self.hospital_ids, time.time(), current_identity.get()
        )
        inc = await self._route(cmd, context)
        # This command's alert: the last pre-notification to the hospital in its answer
        # (a retry gets the first answer, so this holds for retries too).
        mine = [
            a
            for a in inc.alerts
            if a.service is AlertService.HOSPITAL and a.recipient == cmd.hospital_id
        ]
        return conv.alert_pb(inc.id, mine[-1])

    @rpc
    async def ConfirmPreNotificationByPhone(self, request, context) -> pb.Alert:
        cmd = alert_conv.confirm_by_phone(request, current_identity.get())
        inc = await self._route(cmd, context)
        return conv.alert_pb(inc.id, alerts.find(inc, cmd.alert_id))

    async def _route(
        self, cmd: SendPreNotification | ConfirmPreNotificationByPhone, context: Any
    ) -> Incident:
        """Run ``cmd`` at the incident's owner; its incident as committed."""
        region = self.gw.lookup.incident_region(cmd.incident_id)
        try:
            out = await self.gw.router.route(region, cmd, context)
        except NotFoundError as exc:
            archived = await self.gw.history.archived_incident(cmd.incident_id)
            if archived is not None and "incident" in str(exc):
                raise PreconditionError(cmd.incident_id, "archived (closed): read-only") from None
            raise
        return out.require_incident()
