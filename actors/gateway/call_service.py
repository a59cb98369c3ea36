"""The 113-call part of ``amk.dispatch.v1.DispatchService``.

A new call is queued in the region whose municipalities hold the caller's position
(handset location; Kartverket's outlines, the nearest at sea), by that region's owner.
Answering runs at the call-taker's own centre, which sees its own regions' queues and
its partners' overflowed (or shared) calls; the answer is written under the call
region's fencing token and the call's revision, so a call is answered exactly once even
when two centres reach for it together.
"""

from __future__ import annotations

import asyncio
import time

import structlog

from actors.domain import caller_history
from actors.domain import calls as call_rules
from actors.domain import validation as v
from actors.domain.caller_history import Contact
from actors.domain.commands import AbandonCall, AnswerNextCall, CloseCall, LinkCall
from actors.domain.errors import InvalidArgumentError, PreconditionError
from actors.domain.kpi import percentile
from actors.domain.model import Call, CallOutcome, CallStatus, Incident, IncidentStatus
from actors.gateway import convert as conv
from actors.gateway.context import GatewayContext
from actors.gateway.identity import (
    current_acts_for_others,
    current_claims,
    current_identity,
    own_person,
)
from actors.gateway.rpc import rpc, stamp
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.config import ClusterConfig
from cluster.errors import AmkError

log = structlog.get_logger("amk.gateway")

SUPERVISOR = "supervisor"  # the role that may end a call another centre answered


def own_calls_centre() -> str:
    """The caller's centre, when only calls it answered (or, the region having moved on,
    its region's now: ``calls.answered_here``) are theirs to make an incident of, link,
    close or look up the caller of (a call-taker elsewhere must not take over a call
    still being talked on); "" for a supervisor, a role of the whole cluster, or with
    auth off."""
    claims = current_claims.get()
    if claims is None or current_acts_for_others.get() or claims.role == SUPERVISOR:
        return ""
    return claims.centre


TARGET_ANSWER_S = 10.0  # akuttmedisinforskriften § 15 b: 90 % within 10 seconds


class CallRpcs:
    """113-call RPCs."""

    def __init__(self, gw: GatewayContext) -> None:
        self.gw = gw
        # Only regions with an area take calls (an AMK-LA region has no boundary).
        areas = gw.config.seed.area_regions()
        self.boundaries = {r.id: list(r.boundary) for r in areas}
        self.by_municipality = gw.lookup.by_municipality

    @rpc
    async def ReceiveCall(self, request, context) -> pb.Call:
        if not request.HasField("position"):
            raise InvalidArgumentError("position", "is required")
        pos = request.position
        v.position(pos.lat, pos.lon, pos.accuracy_m)
        region = call_rules.call_region(pos.lat, pos.lon, self.by_municipality, self.boundaries)
        cmd = conv.receive_call(request, region, time.time(), current_identity.get())
        out = await self.gw.router.route(region, cmd, context)
        return conv.call_pb(out.require_call())

    @rpc
    async def AbandonCall(self, request, context) -> pb.Call:
        cmd = AbandonCall(
            v.request_id(request.request_id),
            v.entity_id(request.call_id, "call_id"),
            current_identity.get(),
        )
        out = await self.gw.router.route(self.gw.lookup.call_region(cmd.call_id), cmd, context)
        return conv.call_pb(out.require_call())

    @rpc
    async def LinkCall(self, request, context) -> pb.Call:
        cmd = LinkCall(
            v.request_id(request.request_id),
            v.entity_id(request.call_id, "call_id"),
            v.entity_id(request.incident_id, "incident_id"),
            current_identity.get(),
            by_centre=own_calls_centre(),
        )
        await self.gw.lookup.incident(cmd.incident_id)  # NOT_FOUND before any write
        out = await self.gw.router.route(self.gw.lookup.call_region(cmd.call_id), cmd, context)
        return conv.call_pb(out.require_call())

    @rpc
    async def CloseCall(self, request, context) -> pb.Call:
        cmd = close_call(request, current_identity.get(), own_calls_centre())
        out = await self.gw.router.route(self.gw.lookup.call_region(cmd.call_id), cmd, context)
        call = out.require_call()
        await self._free(call)
        return conv.call_pb(call)

    async def _free(self, call: Call) -> None:
        """Tell the centre that answered the call that its call-taker is free again (the
        call's region may be another centre's: a partner's overflow, a hand-over). Best
        effort: the close is written; a centre that does not answer frees them at their
        next AnswerNextCall."""
        if not call.answered_by or not call.call_taker:
            return
        try:
            await self.gw.router.centre(call.answered_by).call_ended(call.call_taker, call.id)
        except (AmkError, OSError) as exc:
            log.warning(
                "call_taker_not_freed", call=call.id, centre=call.answered_by, error=repr(exc)
            )

    async def _sign(self, request, signing_in: bool) -> pb.CallTakerStatus:
        centre = self.gw.lookup.centre_id(request.centre)
        taker = conv.call_taker_id(own_person(request.call_taker, "call_taker"))
        handle = self.gw.router.centre(centre)
        counts = await (handle.sign_in(taker) if signing_in else handle.sign_out(taker))
        return pb.CallTakerStatus(
            centre=centre,
            call_taker=taker,
            signed_in=signing_in,
            free_call_takers=counts.free,
            signed_in_call_takers=counts.signed_in,
        )

    @rpc
    async def SignIn(self, request, context) -> pb.CallTakerStatus:
        return await self._sign(request, True)

    @rpc
    async def SignOut(self, request, context) -> pb.CallTakerStatus:
        return await self._sign(request, False)

    @rpc
    async def AnswerNextCall(self, request, context) -> pb.AnswerNextCallResponse:
        cmd = AnswerNextCall(
            v.request_id(request.request_id),
            self.gw.lookup.centre_id(request.centre),
            conv.call_taker_id(own_person(request.call_taker, "call_taker")),
            current_identity.get(),
        )
        deadline = self.gw.router.deadline(context)
        out = await self.gw.router.centre(cmd.centre).execute(
            "", stamp(cmd), timeout_s=max(0.05, deadline - time.monotonic())
        )
        if out.call is None:
            return pb.AnswerNextCallResponse(none_waiting=True)
        return pb.AnswerNextCallResponse(call=conv.call_pb(out.call))

    @rpc
    async def ListCalls(self, request, context) -> pb.ListCallsResponse:
        regions = conv.regions_filter(
            list(request.regions), self.gw.regions, default=self.gw.lookup.area_regions
        )
        status = conv.from_pb_enum(CallStatus, request.status, "status", optional=True)
        open_states = (CallStatus.WAITING, CallStatus.ANSWERED)
        found = [
            c
            for c in await self.gw.lookup.calls(regions)
            if (c.status is status if status else c.status in open_states)
        ]
        found.sort(key=call_rules.queue_order)
        return pb.ListCallsResponse(calls=[conv.call_pb(c) for c in found])

    @rpc
    async def ListCallerHistory(self, request, context) -> pb.CallerHistory:
        call_id = v.entity_id(request.call_id, "call_id")
        hours = caller_history.window_hours(request.hours)
        call = await self.gw.lookup.call(call_id)
        if not call.answered_by:
            raise PreconditionError(call.id, "not answered: its caller is looked up once answered")
        owner = self.gw.lookup.directory.owner(call.region)
        serving = owner.record.centre if owner is not None else ""
        call_rules.answered_here(call, own_calls_centre(), serving, "its caller looked up")
        if not caller_history.number_key(call.caller_number):
            raise PreconditionError(call.id, "the caller's number is hidden: nothing to look up")
        owners = self.gw.lookup.directory.owners
        served = [r for r, o in owners.items() if o.record.centre == call.answered_by]
        regions = list(dict.fromkeys([call.region, *sorted(served)]))
        since = time.time() - hours * 3600.0
        live_incidents, live_calls, archived = await asyncio.gather(
            asyncio.gather(*(self.gw.lookup.incidents(r) for r in regions)),
            self.gw.lookup.calls(regions),
            self._archived(regions, since, call.caller_number),
        )
        incidents = [i for found in live_incidents for i in found]
        old_incidents, old_calls = archived or ([], [])
        live = {i.id for i in incidents} | {c.id for c in live_calls}
        found = caller_history.contacts(
            incidents + old_incidents,
            live_calls + old_calls,
            call.caller_number,
            since,
            current_call=call.id,
            archived={r.id for r in (*old_incidents, *old_calls)} - live,
        )
        return pb.CallerHistory(
            call=conv.call_pb(call),
            contacts=[_contact_pb(c) for c in found[: caller_history.MAX_CONTACTS]],
            total=len(found),
            hours=hours,
            archive_unavailable=archived is None,
        )

    async def _archived(
        self, regions: list[str], since: float, number: str
    ) -> tuple[list[Incident], list[Call]] | None:
        """The archive's records of ``regions`` since from ``number`` (matched where they
        are decoded, off the loop), or None when it does not answer (the live ones are
        still worth showing)."""
        key = caller_history.number_key(number)

        def same(r: Incident | Call) -> bool:
            return caller_history.number_key(r.caller_number) == key

        try:
            return await self.gw.history.archived_records(
                regions, since, keep_incident=same, keep_call=same
            )
        except Exception as exc:  # any archive backend's failure: answer without it
            log.warning("caller_history_archive_unavailable", error=repr(exc))
            return None

    @rpc
    async def GetCallMetrics(self, request, context) -> pb.CallMetrics:
        regions = conv.regions_filter(
            list(request.regions), self.gw.regions, default=self.gw.lookup.area_regions
        )
        out = pb.CallMetrics()
        by_region: dict[str, list[Call]] = {r: [] for r in regions}
        for call in await self.gw.lookup.calls(regions):
            by_region[call.region].append(call)
        for region in regions:
            out.regions.append(call_metrics(region, by_region[region], self.gw.config))
        return out


def call_metrics(region: str, found: list[Call], config: ClusterConfig) -> pb.RegionCallMetrics:
    """Answer-time figures of one region's calls against the 10-second target."""
    home = config.seed.region(region).home
    answered = [c for c in found if c.answered_at]
    waits = sorted(c.answered_at - c.arrived_at for c in answered)
    m = pb.RegionCallMetrics(
        region=region,
        received=len(found),
        answered=len(answered),
        waiting=sum(c.status is CallStatus.WAITING for c in found),
        abandoned=sum(c.status is CallStatus.ABANDONED for c in found),
        overflowed=sum(1 for c in answered if c.answered_by not in (home, c.shared_to)),
        shared=sum(1 for c in found if c.shared_to),
    )
    for outcome in CallOutcome:
        count = sum(c.outcome is outcome for c in found)
        if count:
            m.closed.append(pb.CallOutcomeCount(outcome=conv.to_pb_enum(outcome), count=count))
    if waits:
        m.answered_within_10s = sum(w <= TARGET_ANSWER_S for w in waits) / len(waits)
        m.answer_p50_s = percentile(waits, 50)  # nearest rank, as GetKpis
        m.answer_p90_s = percentile(waits, 90)
    return m


def close_call(req: pb.CloseCallRequest, who: str, by_centre: str = "") -> CloseCall:
    """CloseCall's request as a command: the outcome required, a one-line note (required
    with ``other``)."""
    outcome = conv.from_pb_enum(CallOutcome, req.outcome, "outcome")
    assert outcome is not None
    note = v.text(
        req.note.strip(),
        "note",
        limit=call_rules.MAX_OUTCOME_NOTE,
        required=outcome is CallOutcome.OTHER,
    )
    v.one_line(note, "note")
    return CloseCall(
        v.request_id(req.request_id),
        v.entity_id(req.call_id, "call_id"),
        outcome,
        note,
        by_centre,
        who,
    )


def _contact_pb(c: Contact) -> pb.CallerContact:
    return pb.CallerContact(
        kind=c.kind,
        id=c.id,
        region=c.region,
        at=conv.to_timestamp(c.at),
        urgency=conv.to_pb_enum(c.urgency),
        status=pb.IncidentStatus.Name(conv.to_pb_enum(c.status))
        if isinstance(c.status, IncidentStatus)
        else pb.CallStatus.Name(conv.to_pb_enum(c.status)),
        criteria_code=c.criteria_code,
        outcome=conv.to_pb_enum(c.outcome),
        incident_id=c.incident_id,
        archived=c.archived,
    )
