"""Units of ``amk.dispatch.v1.DispatchService``: list, read, status and position reports
from crews, recommendations (with the units a diversion could take), and assigning,
releasing or diverting a unit.

Assigning a unit of another centre's region lends it in the same transaction: the
gateway names the unit's region in the command so the owner can guard both tokens.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Iterable

import grpc
import structlog

from actors.domain import diversion
from actors.domain.commands import AssignUnit, Command
from actors.domain.errors import InvalidArgumentError, NotFoundError
from actors.domain.model import Incident, Outcome, Unit, UnitKind, UnitStatus, Urgency
from actors.domain.recommend import Recommendation, recommend
from actors.gateway import convert as conv
from actors.gateway.context import GatewayContext
from actors.gateway.identity import current_claims, current_identity
from actors.gateway.rpc import current_fingerprint, request_fingerprint, rpc
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.errors import AccessDeniedError, AmkError
from cluster.tokens import Claims

#: Who may enter a status after the fact (a crew's radio report): the desk, not the crew.
LATE_ENTRY_ROLES = frozenset({"dispatcher", "supervisor"})


def late_entry_allowed(claims: Claims | None) -> None:
    """A status with ``occurred_at`` is a dispatcher's or supervisor's entry of a crew's
    report: a crew reports as it happens, so the review's times are not the crew's to
    set (AccessDeniedError otherwise). With auth off (no claims) nothing is enforced."""
    if claims is not None and claims.role not in LATE_ENTRY_ROLES:
        raise AccessDeniedError(
            f"occurred_at: a time entered later is a dispatcher's or supervisor's; a"
            f" {claims.role} reports the status as it happens"
        )


log = structlog.get_logger("amk.gateway")

MAX_RECOMMENDATIONS = 50
DEFAULT_RECOMMENDATIONS = 10


class UnitRpcs:
    """Unit, recommendation and assignment RPCs."""

    def __init__(self, gw: GatewayContext) -> None:
        self.gw = gw

    @rpc
    async def ListUnits(self, request, context) -> pb.ListUnitsResponse:
        regions = conv.regions_filter(list(request.regions), self.gw.regions)
        status = conv.from_pb_enum(UnitStatus, request.status, "status", optional=True)
        kind = conv.from_pb_enum(UnitKind, request.kind, "kind", optional=True)
        out = []
        for region in regions:
            for unit in await self.gw.lookup.units(region):
                if (status is None or unit.status is status) and (
                    kind is None or unit.kind is kind
                ):
                    out.append(conv.unit_pb(unit))
        return pb.ListUnitsResponse(units=out)

    @rpc
    async def GetUnit(self, request, context) -> pb.Unit:
        conv.v.entity_id(request.unit_id, "unit_id")
        return conv.unit_pb(await self.gw.lookup.unit(request.unit_id))

    async def _mutate(self, context: grpc.aio.ServicerContext, cmd: Command) -> Outcome:
        region = self.gw.lookup.unit_region(cmd.unit_id)  # type: ignore[attr-defined]
        return await self.gw.router.route(region, cmd, context)

    @rpc
    async def ChangeUnitStatus(self, request, context) -> pb.Unit:
        if request.HasField("occurred_at"):
            late_entry_allowed(current_claims.get())
        cmd = conv.change_unit_status(request, current_identity.get(), time.time())
        return conv.unit_pb((await self._mutate(context, cmd)).require_unit())

    @rpc
    async def ReportUnitPosition(self, request, context) -> pb.Unit:
        cmd = conv.report_unit_position(request, current_identity.get())
        return conv.unit_pb((await self._mutate(context, cmd)).require_unit())

    @rpc
    async def StreamUnitPositions(self, request_iterator, context) -> pb.StreamUnitPositionsSummary:
        accepted = rejected = 0
        async for req in request_iterator:
            current_fingerprint.set(request_fingerprint("ReportUnitPosition", req))
            try:
                cmd = conv.report_unit_position(req, current_identity.get())
                await self._mutate(context, cmd)
                accepted += 1
            except AmkError as err:
                rejected += 1
                log.info("position_rejected", unit=req.unit_id, error=str(err))
        return pb.StreamUnitPositionsSummary(accepted=accepted, rejected=rejected)

    # ------------------------------------------------------------ assignment

    async def _pair(
        self, context: grpc.aio.ServicerContext, make: Callable[[], Command]
    ) -> pb.Assignment:
        cmd = make()
        lookup = self.gw.lookup
        region = lookup.incident_region(cmd.incident_id)  # type: ignore[attr-defined]
        unit_region = lookup.unit_region(cmd.unit_id)  # type: ignore[attr-defined]
        if isinstance(cmd, AssignUnit):
            cmd = dataclasses.replace(cmd, unit_region=unit_region)
        out = await self.gw.router.route(region, cmd, context)
        return pb.Assignment(
            incident=conv.incident_pb(out.require_incident()),
            unit=conv.unit_pb(out.require_unit()),
        )

    @rpc
    async def AssignUnit(self, request, context) -> pb.Assignment:
        return await self._pair(context, lambda: conv.assign_unit(request, current_identity.get()))

    @rpc
    async def ReleaseUnit(self, request, context) -> pb.Assignment:
        return await self._pair(context, lambda: conv.release_unit(request, current_identity.get()))

    @rpc
    async def DivertUnit(self, request, context) -> pb.Assignment:
        cmd = conv.divert_unit(request, current_identity.get())
        lookup = self.gw.lookup
        lookup.unit_region(cmd.unit_id)  # an unknown unit: NOT_FOUND here
        lookup.incident_region(cmd.from_incident_id)
        out = await self.gw.router.route(lookup.incident_region(cmd.incident_id), cmd, context)
        return pb.Assignment(
            incident=conv.incident_pb(out.require_incident()),
            unit=conv.unit_pb(out.require_unit()),
            from_incident=conv.incident_pb(out.require_from_incident()),
        )

    @rpc
    async def RecommendUnits(self, request, context) -> pb.RecommendUnitsResponse:
        conv.v.entity_id(request.incident_id, "incident_id")
        if not 0 <= request.limit <= MAX_RECOMMENDATIONS:
            raise InvalidArgumentError("limit", f"must be 0..{MAX_RECOMMENDATIONS}")
        inc = await self.gw.lookup.incident(request.incident_id)
        seed = self.gw.config.seed
        # The incident's region, its partners, and the aircraft of the AMK-LA serving
        # it: ranked with the rest (a dispatcher must see that the helicopter is the
        # fastest), but requested from the AMK-LA, never assigned (the note says so).
        air_region = seed.air_region_for(inc.region)
        regions = [inc.region, *seed.region(inc.region).partners]
        regions += [air_region] if air_region else []
        units: dict[str, Unit] = {}
        for region in regions:
            for unit in await self.gw.lookup.units(region):
                units[unit.id] = unit
        ranked = recommend(
            units.values(),
            inc.position.lat,
            inc.position.lon,
            inc.urgency,
            limit=request.limit or DEFAULT_RECOMMENDATIONS,
        )
        diversions = await self._diversions(inc, units.values())

        def answer(r: Recommendation) -> pb.Recommendation:
            unit = units[r.unit_id]
            return conv.recommendation_pb(r, unit, _air_note(r, unit.region, air_region))

        return pb.RecommendUnitsResponse(
            recommendations=[answer(r) for r in ranked],
            diversions=[answer(r) for r in diversions],
        )

    async def _diversions(self, inc: Incident, units: Iterable[Unit]) -> list[Recommendation]:
        """Units on their way to a less urgent incident that a DivertUnit to ``inc`` would
        take: the incident they work must be served by the instance that serves
        ``inc``'s region (one transaction). The incidents of the nearest
        ``diversion.MAX_LOOKED`` are read, at once; a read that fails leaves its unit
        out (logged), never the recommendations."""
        owner = self.gw.lookup.directory.owner
        here = owner(inc.region)
        if here is None or inc.urgency is Urgency.VANLIG:
            return []
        on_way = {u.id: u for u in diversion.on_their_way(units, inc)}
        ranking = diversion.ranked(on_way.values(), inc)[: diversion.MAX_LOOKED]
        ids = {on_way[r.unit_id].incident_id for r in ranking}
        read = await asyncio.gather(*(self._working(i) for i in ids))

        def takeable(working: Incident | None) -> bool:
            there = owner(working.region) if working is not None else None
            return there is not None and there.record.instance == here.record.instance

        found = {w.id: w for w in read if w is not None and takeable(w)}
        return diversion.pick(ranking, lambda uid: found.get(on_way[uid].incident_id), inc)

    async def _working(self, incident_id: str) -> Incident | None:
        try:
            return await self.gw.lookup.incident(incident_id)
        except NotFoundError:
            return None  # closed and archived meanwhile: no unit to take from it
        except AmkError as err:
            log.warning("diversion_incident_unread", incident=incident_id, error=str(err))
            return None


def _air_note(r: Recommendation, unit_region: str, air_region: str | None) -> tuple[str, str]:
    """The recommendation's note (English, Norwegian), with how to get an aircraft of
    the AMK-LA."""
    if air_region is None or unit_region != air_region:
        return r.note, r.note_nb
    return (
        f"{r.note}; coordinated by the AMK-LA ({air_region}): request it (amk air request)",
        f"{r.note_nb}; koordineres av AMK-LA ({air_region}): be om den (amk air request)",
    )
