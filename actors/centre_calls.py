"""A centre's call desk: call-takers signed in here, the queues it serves, answering
exactly once across centres, sharing mode.

Part of :class:`actors.centre.Centre` (a mixin: it shares the centre's state)."""

from __future__ import annotations

import asyncio
import uuid

from actors.domain import calls
from actors.domain.commands import (
    AbandonCall,
    AnswerNextCall,
    LinkCall,
    ReceiveCall,
    SetCallSharing,
)
from actors.domain.errors import (
    InvalidArgumentError,
    NotFoundError,
    PreconditionError,
)
from actors.domain.model import (
    Call,
    Outcome,
)
from actors.region_host import RegionHost
from cluster import ownership
from cluster.errors import (
    AmkError,
)
from cluster.store import StaleRecordError, Write


class CallDesk:
    """113 calls at one centre."""

    # ------------------------------------------------------------ calls

    def sign_in(self, call_taker: str) -> dict[str, int]:
        self.call_takers.setdefault(call_taker, "")
        return self.call_taker_counts()

    def sign_out(self, call_taker: str) -> dict[str, int]:
        self.call_takers.pop(call_taker, None)
        return self.call_taker_counts()

    def call_taker_counts(self) -> dict[str, int]:
        free = sum(1 for busy in self.call_takers.values() if not busy)
        return {"signed_in": len(self.call_takers), "free": free}

    async def _partner_free_counts(self, partners: list[str]) -> dict[str, int]:
        from actors.centre_handle import CentreHandle  # the handle module imports this one

        async def free(centre: str) -> int:
            try:
                status = await CentreHandle(centre, self.config.ray_namespace).status(timeout_s=0.5)
            except AmkError:
                return -1  # dead or slow: not offered anything
            return int(status["call_takers"]["free"])

        counts = await asyncio.gather(*(free(p) for p in partners))
        return {p: c for p, c in zip(partners, counts, strict=True) if c >= 0}

    async def _run_call(
        self,
        host: RegionHost,
        cmd: ReceiveCall | AbandonCall | LinkCall | SetCallSharing,
        now: float,
    ) -> Outcome:
        if isinstance(cmd, SetCallSharing):
            assert self.store is not None
            put = [(self.keys.sharing(host.region), b"1")] if cmd.sharing else []
            dele = [] if cmd.sharing else [self.keys.sharing(host.region)]
            await self.store.commit(
                Write(
                    (host.fence,),
                    put,
                    "SetCallSharing",
                    cmd.who,
                    cmd.request_id,
                    b"{}",
                    {"sharing": cmd.sharing},
                    deletes=dele,
                )
            )
            host.sharing = cmd.sharing
            self.log.info("call_sharing", region=host.region, sharing=cmd.sharing)
            return Outcome()
        if isinstance(cmd, ReceiveCall):
            shared_to = ""
            if host.sharing:
                partners = list(self.config.seed.region(host.region).partners)
                counts = await self._partner_free_counts(partners)
                counts[self.centre_id] = self.call_taker_counts()["free"]
                shared_to = calls.pick_shared_centre(counts)
                shared_to = "" if shared_to == self.centre_id else shared_to
            call = Call(
                id=f"{host.code}-C{uuid.uuid4().hex[:10]}",
                region=host.region,
                caller_number=cmd.caller_number,
                position=cmd.position,
                arrived_at=cmd.arrived_at,
                urgency_hint=cmd.urgency_hint,
                shared_to=shared_to,
            )
            out = Outcome(call=call)
            await self._commit(host.region, cmd, [call], out)
            return out
        call = host.calls.get(cmd.call_id)
        if call is None:
            raise NotFoundError("call", cmd.call_id)
        async with self.mailboxes.enter(cmd.call_id):
            call = host.calls[cmd.call_id]
            new = (
                calls.abandon(call)
                if isinstance(cmd, AbandonCall)
                else (calls.complete(call, cmd.incident_id))
            )
            out = Outcome(call=new)
            await self._commit(host.region, cmd, [new], out)
        return out

    def _queue_policy(self, region: str, owner: str, sharing: bool) -> calls.QueuePolicy:
        r = self.config.seed.region(region)
        return calls.QueuePolicy(region, owner, tuple(r.partners), r.overflow_after_s, sharing)

    async def _answer_next_call(self, cmd: AnswerNextCall, now: float) -> Outcome:
        """The most urgent, then oldest, call among every queue this centre serves.

        Its own regions' calls are in memory; partner regions' waiting calls are read
        from etcd. Answering writes the call under the call region's fencing token and
        the call's revision as read, so when two centres answer the same call at the
        same moment exactly one succeeds; the other takes the next call.
        """
        if cmd.centre != self.centre_id:
            raise InvalidArgumentError("centre", f"this is centre {self.centre_id}")
        if cmd.call_taker not in self.call_takers:
            raise PreconditionError(cmd.call_taker, f"not signed in at {self.centre_id}")
        self.call_takers[cmd.call_taker] = ""  # asking for the next call ends the last one
        assert self.client is not None
        for _attempt in range(20):
            candidates: list[Call] = []
            policies: dict[str, calls.QueuePolicy] = {}
            for region, host in self.hosts.items():
                policies[region] = self._queue_policy(region, self.centre_id, host.sharing)
                candidates.extend(host.calls.values())
            for r in self.config.seed.regions:
                if r.id in self.hosts or self.centre_id not in r.partners:
                    continue
                owner = await self.client.get(self.keys.owner(r.id))
                sharing = await self.client.get(self.keys.sharing(r.id))
                holder = ownership.OwnerRecord.decode(owner.value).centre if owner else ""
                policies[r.id] = self._queue_policy(r.id, holder, sharing is not None)
                kvs, _ = await self.client.get_prefix(self.keys.calls_prefix(r.id))
                candidates.extend(Call.decode(kv.value, kv.mod_revision) for kv in kvs)
            call = calls.next_call(candidates, self.centre_id, policies, now)
            if call is None:
                return Outcome()
            new = calls.answer(call, self.centre_id, cmd.call_taker, now)
            out = Outcome(call=new)
            try:
                async with self.mailboxes.enter(call.id):
                    await self._commit(call.region, cmd, [new], out)
            except StaleRecordError as stale:
                # Another centre answered it first (or it moved on): refresh our copy
                # and take the next one.
                await self._reload(stale.keys)
                continue
            self.call_takers[cmd.call_taker] = call.id
            self.log.debug(
                "call_answered",
                region=call.region,
                call=call.id,
                waited_s=round(now - call.arrived_at, 1),
                call_taker=cmd.call_taker,
            )
            return out
        return Outcome()
