"""Incidents of ``amk.dispatch.v1.DispatchService``: create, read, list, triage, status
changes, notes and telephone-guided CPR.

Mutations are routed to the owning centre (:class:`~actors.gateway.router.Router`);
reads go straight to etcd (:class:`~actors.gateway.lookup.Lookup`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import grpc

from actors.domain.commands import Command
from actors.domain.errors import NotFoundError, PreconditionError
from actors.domain.model import IncidentStatus
from actors.domain.model import Urgency as UrgencyEnum
from actors.domain.municipality import place_warning
from actors.gateway import convert as conv
from actors.gateway.call_service import own_calls_centre
from actors.gateway.context import GatewayContext
from actors.gateway.identity import current_identity
from actors.gateway.rpc import rpc
from amk.dispatch.v1 import dispatch_pb2 as pb


class IncidentRpcs:
    """Incident RPCs."""

    def __init__(self, gw: GatewayContext) -> None:
        self.gw = gw

    @rpc
    async def CreateIncident(self, request, context) -> pb.Incident:
        gw = self.gw
        cmd = conv.create_incident(request, gw.regions, gw.table, current_identity.get())
        if cmd.call_id:
            cmd = dataclasses.replace(cmd, by_centre=own_calls_centre())
        gw.lookup.area_region(cmd.region)
        out = await gw.router.route(cmd.region, cmd, context)
        answer = conv.incident_pb(out.require_incident())
        if warning := place_warning(
            cmd.position, cmd.region, gw.lookup.by_municipality, gw.lookup.municipal_regions
        ):
            answer.warnings.append(warning)
        return answer

    @rpc
    async def GetIncident(self, request, context) -> pb.Incident:
        conv.v.entity_id(request.incident_id, "incident_id")
        try:
            return conv.incident_pb(await self.gw.lookup.incident(request.incident_id))
        except NotFoundError:
            # Not live: archived (closed, read-only), or unknown.
            inc = await self.gw.history.archived_incident(request.incident_id)
            if inc is None:
                raise
            out = conv.incident_pb(inc)
            out.archived = True
            return out

    @rpc
    async def ListIncidents(self, request, context) -> pb.ListIncidentsResponse:
        regions = conv.regions_filter(list(request.regions), self.gw.regions)
        status = conv.from_pb_enum(IncidentStatus, request.status, "status", optional=True)
        urgency = conv.from_pb_enum(UrgencyEnum, request.urgency, "urgency", optional=True)
        out = []
        for region in regions:
            for inc in await self.gw.lookup.incidents(region):
                if status is not None and inc.status is not status:
                    continue
                if urgency is not None and inc.urgency is not urgency:
                    continue
                closed = inc.status in (IncidentStatus.CLOSED, IncidentStatus.CANCELLED)
                if closed and not request.include_closed and status is None:
                    continue
                out.append(conv.incident_pb(inc))
        return pb.ListIncidentsResponse(incidents=out)

    async def _mutate(
        self, context: grpc.aio.ServicerContext, make: Callable[[], Command]
    ) -> pb.Incident:
        cmd = make()
        incident_id: str = cmd.incident_id  # type: ignore[attr-defined]
        region = self.gw.lookup.incident_region(incident_id)
        try:
            out = await self.gw.router.route(region, cmd, context)
        except NotFoundError:
            if await self.gw.history.archived_incident(incident_id) is not None:
                raise PreconditionError(incident_id, "archived (closed): it is read-only") from None
            raise
        return conv.incident_pb(out.require_incident())

    @rpc
    async def TriageIncident(self, request, context) -> pb.Incident:
        return await self._mutate(
            context, lambda: conv.triage_incident(request, self.gw.table, current_identity.get())
        )

    @rpc
    async def ChangeIncidentStatus(self, request, context) -> pb.Incident:
        return await self._mutate(
            context, lambda: conv.change_incident_status(request, current_identity.get())
        )

    @rpc
    async def RecordCprGuidance(self, request, context) -> pb.Incident:
        return await self._mutate(
            context, lambda: conv.record_cpr_guidance(request, current_identity.get())
        )

    @rpc
    async def ChangeIncidentLocation(self, request, context) -> pb.Incident:
        return await self._mutate(
            context, lambda: conv.change_incident_location(request, current_identity.get())
        )

    @rpc
    async def AddIncidentNote(self, request, context) -> pb.Incident:
        return await self._mutate(
            context, lambda: conv.add_incident_note(request, current_identity.get())
        )
