"""The 113-call part of ``amk.dispatch.v1.DispatchService``.

A new call is queued in the region whose boundary holds the caller's position (handset
location), by that region's owner. Answering runs at the call-taker's own centre, which
sees its own regions' queues and its partners' overflowed (or shared) calls; the answer
is written under the call region's fencing token and the call's revision, so a call is
answered exactly once even when two centres reach for it together.
"""

from __future__ import annotations

import time

from actors import api_convert as conv
from actors.domain import calls as call_rules
from actors.domain import validation as v
from actors.domain.commands import AbandonCall, AnswerNextCall, LinkCall
from actors.domain.errors import InvalidArgumentError, NotFoundError
from actors.domain.kpi import percentile
from actors.domain.model import Call, CallStatus
from actors.identity import current_identity
from actors.router import Router
from amk.dispatch.v1 import dispatch_pb2 as pb

TARGET_ANSWER_S = 10.0  # akuttmedisinforskriften § 15 b: 90 % within 10 seconds


class CallRpcs(Router):
    """Call RPCs, mixed into the dispatch servicer."""

    def _boundaries(self) -> dict[str, list[tuple[float, float]]]:
        return {r.id: list(r.boundary) for r in self.config.seed.regions}

    def _call_region(self, call_id: str) -> str:
        region = self.region_by_code.get(call_id.split("-", 1)[0])
        if region is None:
            raise NotFoundError("call", call_id)
        return region

    def _centre_id(self, centre: str) -> str:
        if centre not in {c.id for c in self.config.seed.centres}:
            raise InvalidArgumentError("centre", f"unknown centre {centre!r}")
        return centre

    async def ReceiveCall(self, request, context):
        async def run() -> pb.Call:
            if not request.HasField("position"):
                raise InvalidArgumentError("position", "is required")
            pos = request.position
            v.position(pos.lat, pos.lon, pos.accuracy_m)
            region = call_rules.region_of(pos.lat, pos.lon, self._boundaries())
            cmd = conv.receive_call(request, region, time.time(), current_identity.get())
            out = await self._route(region, cmd, context)
            assert out.call is not None
            return conv.call_pb(out.call)

        return await self._guard(context, run)

    async def AbandonCall(self, request, context):
        async def run() -> pb.Call:
            cmd = AbandonCall(
                v.request_id(request.request_id),
                v.entity_id(request.call_id, "call_id"),
                current_identity.get(),
            )
            out = await self._route(self._call_region(cmd.call_id), cmd, context)
            assert out.call is not None
            return conv.call_pb(out.call)

        return await self._guard(context, run)

    async def LinkCall(self, request, context):
        async def run() -> pb.Call:
            cmd = LinkCall(
                v.request_id(request.request_id),
                v.entity_id(request.call_id, "call_id"),
                v.entity_id(request.incident_id, "incident_id"),
                current_identity.get(),
            )
            await self._read_incident(cmd.incident_id)  # NOT_FOUND before any write
            out = await self._route(self._call_region(cmd.call_id), cmd, context)
            assert out.call is not None
            return conv.call_pb(out.call)

        return await self._guard(context, run)

    async def _sign(self, request, context, signing_in: bool) -> pb.CallTakerStatus:
        async def run() -> pb.CallTakerStatus:
            centre = self._centre_id(request.centre)
            taker = conv.call_taker_id(request.call_taker)
            handle = self.centre(centre)
            counts = await (handle.sign_in(taker) if signing_in else handle.sign_out(taker))
            return pb.CallTakerStatus(
                centre=centre,
                call_taker=taker,
                signed_in=signing_in,
                free_call_takers=counts["free"],
                signed_in_call_takers=counts["signed_in"],
            )

        return await self._guard(context, run)

    async def SignIn(self, request, context):
        return await self._sign(request, context, True)

    async def SignOut(self, request, context):
        return await self._sign(request, context, False)

    async def AnswerNextCall(self, request, context):
        async def run() -> pb.AnswerNextCallResponse:
            cmd = AnswerNextCall(
                v.request_id(request.request_id),
                self._centre_id(request.centre),
                conv.call_taker_id(request.call_taker),
                current_identity.get(),
            )
            deadline = self._deadline(context)
            out = await self.centre(cmd.centre).execute(
                "", cmd, timeout_s=max(0.05, deadline - time.monotonic())
            )
            if out.call is None:
                return pb.AnswerNextCallResponse(none_waiting=True)
            return pb.AnswerNextCallResponse(call=conv.call_pb(out.call))

        return await self._guard(context, run)

    async def _read_calls(self, regions: list[str]) -> list[Call]:
        found: list[Call] = []
        for region in regions:
            kvs, _ = await self.client.get_prefix(self.keys.calls_prefix(region))
            found.extend(Call.decode(kv.value, kv.mod_revision) for kv in kvs)
        return found

    async def ListCalls(self, request, context):
        async def run() -> pb.ListCallsResponse:
            regions = conv.regions_filter(list(request.regions), self.regions)
            status = conv.from_pb_enum(CallStatus, request.status, "status", optional=True)
            open_states = (CallStatus.WAITING, CallStatus.ANSWERED)
            found = [
                c
                for c in await self._read_calls(regions)
                if (c.status is status if status else c.status in open_states)
            ]
            found.sort(key=call_rules.queue_order)
            return pb.ListCallsResponse(calls=[conv.call_pb(c) for c in found])

        return await self._guard(context, run)

    async def GetCallMetrics(self, request, context):
        async def run() -> pb.CallMetrics:
            regions = conv.regions_filter(list(request.regions), self.regions)
            out = pb.CallMetrics()
            by_region: dict[str, list[Call]] = {r: [] for r in regions}
            for call in await self._read_calls(regions):
                by_region[call.region].append(call)
            for region in regions:
                out.regions.append(call_metrics(region, by_region[region], self.config))
            return out

        return await self._guard(context, run)


def call_metrics(region: str, found: list[Call], config) -> pb.RegionCallMetrics:
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
    if waits:
        m.answered_within_10s = sum(w <= TARGET_ANSWER_S for w in waits) / len(waits)
        m.answer_p50_s = percentile(waits, 50)  # nearest rank, as GetKpis
        m.answer_p90_s = percentile(waits, 90)
    return m
