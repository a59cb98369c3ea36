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

from actors.domain import eido
from actors.domain import validation as v
from actors.domain.commands import CreateIncident, HandOverIncident, LendUnit, SetCallSharing
from actors.domain.errors import InvalidArgumentError, PreconditionError
from actors.domain.municipality import place_warning
from actors.gateway import convert as conv
from actors.gateway.context import GatewayContext
from actors.gateway.identity import current_identity
from actors.gateway.router import log
from actors.gateway.rpc import rpc
from amk.coordination.v1 import coordination_pb2 as cpb
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.errors import AmkError, RegionUnavailableError
from cluster.ownership import OwnerRecord

MAX_EIDO_BYTES = 1_000_000
TARGET_STATUS_TIMEOUT_S = 2.0  # asking the receiving centre whether it is ready


class HandoverRpcs:
    """Hand-overs of regions, incidents and units; EIDO export and import; sharing."""

    def __init__(self, gw: GatewayContext) -> None:
        self.gw = gw

    async def _hand_over_region(self, region: str, to_centre: str, context) -> pb.RegionStatus:
        """Move ``region`` to ``to_centre`` and answer once it serves it.

        A fault of the moment (no owner while the region fails over, an owner still
        loading it, a centre handle naming a dead incarnation, a slow status) is tried
        again until the caller's deadline, not answered at once: each pass starts from
        the directory's owner, so a move already made is not made twice.
        """
        gw = self.gw
        gw.lookup.centre_id(to_centre, "to_centre")
        deadline = gw.router.deadline(context)
        wait = gw.config.handover_poll.initial_s
        while True:
            try:
                if await self._hand_over_once(region, to_centre, deadline):
                    return await gw.lookup.region_status(region)
                err: AmkError = RegionUnavailableError(region, f"{to_centre} has not loaded it yet")
            except AmkError as exc:
                if not exc.retryable:
                    raise
                err = exc
            if time.monotonic() + wait >= deadline:
                raise err
            await asyncio.sleep(wait)
            wait = gw.config.handover_poll.next(wait)

    async def _hand_over_once(self, region: str, to_centre: str, deadline: float) -> bool:
        """One pass: hand the region over if another centre holds it; True once
        ``to_centre`` serves it (it has loaded it)."""
        gw = self.gw
        owner = gw.directory.owner(region)
        if owner is None:
            raise RegionUnavailableError(region, "no centre owns it (failing over)")
        target = gw.router.centre(to_centre)
        timeout_s = max(0.05, min(TARGET_STATUS_TIMEOUT_S, deadline - time.monotonic()))
        status = await target.status(timeout_s=timeout_s)
        if owner.record.instance == status.instance:  # this site's instance has it
            return region in status.regions
        if status.lease_valid_for_s <= 0:
            raise PreconditionError(to_centre, "centre has no live session to take over with")
        record = OwnerRecord(  # the target instance is in this gateway's site
            to_centre,
            status.instance,
            status.lease_id,
            time.time(),
            status.address,
            gw.config.site,
        )
        current = gw.router.incarnation(
            owner.record.centre, owner.record.instance, owner.record.address
        )
        await current.hand_over_region(
            region, record, current_identity.get(), timeout_s=max(0.05, deadline - time.monotonic())
        )
        log.info(
            "region_handed_over",
            region=region,
            from_centre=owner.record.centre,
            to_centre=to_centre,
            who=current_identity.get(),
        )
        return False

    @rpc
    async def HandOverRegion(self, request, context) -> pb.RegionStatus:
        v.request_id(request.request_id)
        region = self.gw.lookup.region(request.region)
        if not request.to_centre:
            raise InvalidArgumentError("to_centre", "is required")
        return await self._hand_over_region(region, request.to_centre, context)

    @rpc
    async def HandBackRegion(self, request, context) -> pb.RegionStatus:
        v.request_id(request.request_id)
        region = self.gw.lookup.region(request.region)
        home = self.gw.config.seed.region(region).home
        return await self._hand_over_region(region, home, context)

    @rpc
    async def HandOverIncident(self, request, context) -> pb.Incident:
        lookup = self.gw.lookup
        cmd = HandOverIncident(
            v.request_id(request.request_id),
            v.entity_id(request.incident_id, "incident_id"),
            lookup.area_region(request.to_region, "to_region"),
            current_identity.get(),
        )
        out = await self.gw.router.route(lookup.incident_region(cmd.incident_id), cmd, context)
        return conv.incident_pb(out.require_incident())

    @rpc
    async def LendUnit(self, request, context) -> pb.Unit:
        lookup = self.gw.lookup
        cmd = LendUnit(
            v.request_id(request.request_id),
            v.entity_id(request.unit_id, "unit_id"),
            lookup.region(request.to_region, "to_region"),
            current_identity.get(),
        )
        out = await self.gw.router.route(lookup.unit_region(cmd.unit_id), cmd, context)
        return conv.unit_pb(out.require_unit())

    @rpc
    async def ExportIncident(self, request, context) -> cpb.EidoDocument:
        gw = self.gw
        v.entity_id(request.incident_id, "incident_id")
        inc = await gw.lookup.incident(request.incident_id)
        units = [await gw.lookup.unit(u) for u in inc.assigned_unit_ids]
        owner = gw.directory.owner(inc.region)
        centre = gw.config.seed.centre(
            owner.record.centre if owner else gw.config.seed.region(inc.region).home
        )
        doc = eido.export_incident(
            inc, units, agency_id=f"amk.{centre.id}", agency_name=centre.name, now=time.time()
        )
        return cpb.EidoDocument(json=json.dumps(doc, ensure_ascii=False))

    @rpc
    async def ImportIncident(self, request, context) -> cpb.ImportIncidentResponse:
        table = self.gw.table
        rid = v.request_id(request.request_id)
        region = self.gw.lookup.area_region(request.region)
        if len(request.json.encode()) > MAX_EIDO_BYTES:
            raise InvalidArgumentError("json", f"larger than {MAX_EIDO_BYTES} bytes")
        try:
            doc = json.loads(request.json)
        except ValueError as exc:
            raise InvalidArgumentError("json", f"not JSON: {exc}") from None
        imported, warnings = eido.import_incident(doc, region=region)
        notes = "\n".join(f"[{a or 'unknown'}] {t}" for t, a, _ in imported.notes)
        if imported.source_id:
            notes = f"{eido.import_note(imported.source_id)}\n{notes}".strip()
        if imported.criteria_code:
            table.lookup(imported.criteria_code)
        cmd = CreateIncident(
            request_id=rid,
            region=region,
            position=v.position(
                imported.position.lat, imported.position.lon, imported.position.accuracy_m
            ),
            address=v.text(imported.address, "address", limit=v.MAX_ADDRESS),
            caller_number=v.caller_number(imported.caller_number),
            complaint_chapter=v.chapter(imported.complaint_chapter, table.chapters),
            criteria_code=imported.criteria_code,
            notes=notes[: v.MAX_NOTE],
            who=current_identity.get(),
            source_id=imported.source_id,
        )
        out = await self.gw.router.route(region, cmd, context)
        # The document's place checked against the region it is imported into, as a
        # CreateIncident's is: a sender's coordinate for another area is said, not refused.
        if warning := place_warning(
            cmd.position, region, self.gw.lookup.by_municipality, self.gw.lookup.municipal_regions
        ):
            warnings = [*warnings, warning]
        return cpb.ImportIncidentResponse(
            incident=conv.incident_pb(out.require_incident()), warnings=warnings
        )

    @rpc
    async def SetCallSharing(self, request, context) -> cpb.SetCallSharingResponse:
        cmd = SetCallSharing(
            v.request_id(request.request_id),
            self.gw.lookup.area_region(request.region),
            request.sharing,
            current_identity.get(),
        )
        await self.gw.router.route(cmd.region, cmd, context)
        return cpb.SetCallSharingResponse(region=cmd.region, sharing=cmd.sharing)
