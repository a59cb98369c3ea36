"""A centre's call desk: call-takers signed in here, the queues it serves, answering
exactly once across centres, sharing mode.

Given the centre's core, its executor and the :class:`Peers` protocol (free call-takers
of partner centres in sharing mode); it imports no handle of its own actor.
"""

from __future__ import annotations

import asyncio
import uuid

from actors.centre.core import CentreCore, Peers
from actors.centre.executor import Executor
from actors.centre.records import CallTakerCounts
from actors.centre.region_host import RegionHost
from actors.domain import calls
from actors.domain.commands import (
    AbandonCall,
    AnswerNextCall,
    CloseCall,
    LinkCall,
    ReceiveCall,
    SetCallSharing,
)
from actors.domain.errors import InvalidArgumentError, NotFoundError, PreconditionError
from actors.domain.idempotency import with_fingerprint
from actors.domain.model import Call, CallStatus, Outcome
from cluster import ownership
from cluster.store import StaleRecordError, Write

ANSWER_ATTEMPTS = 20  # calls taken by other centres before this answer gives up


class CallDesk:
    """113 calls at one centre."""

    def __init__(self, core: CentreCore, executor: Executor, peers: Peers) -> None:
        self.core = core
        self.executor = executor
        self.peers = peers
        self.call_takers: dict[str, str] = {}  # signed in here -> the call being handled
        # The regions whose overflow this centre answers (either step): from the seed, once.
        self.partner_regions = core.config.seed.partner_regions(core.centre_id)

    def sign_in(self, call_taker: str) -> CallTakerCounts:
        self.call_takers.setdefault(call_taker, "")
        return self.call_taker_counts()

    def sign_out(self, call_taker: str) -> CallTakerCounts:
        self.call_takers.pop(call_taker, None)
        return self.call_taker_counts()

    def call_taker_counts(self) -> CallTakerCounts:
        free = sum(1 for busy in self.call_takers.values() if not busy)
        return CallTakerCounts(signed_in=len(self.call_takers), free=free)

    async def _partner_free_counts(self, partners: list[str]) -> dict[str, int]:
        counts = await asyncio.gather(*(self.peers.free_call_takers(p) for p in partners))
        return {p: c for p, c in zip(partners, counts, strict=True) if c is not None}

    async def run_call(
        self,
        host: RegionHost,
        cmd: ReceiveCall | AbandonCall | LinkCall | CloseCall | SetCallSharing,
        now: float,
    ) -> Outcome:
        if isinstance(cmd, SetCallSharing):
            put = [(self.core.keys.sharing(host.region), b"1")] if cmd.sharing else []
            dele = [] if cmd.sharing else [self.core.keys.sharing(host.region)]
            await self.core.running.store.commit(
                Write(
                    (host.fence,),
                    put,
                    "SetCallSharing",
                    cmd.who,
                    cmd.request_id,
                    with_fingerprint(b"{}", cmd.fingerprint),
                    {"sharing": cmd.sharing},
                    deletes=dele,
                )
            )
            host.sharing = cmd.sharing
            self.core.log.info("call_sharing", region=host.region, sharing=cmd.sharing)
            return Outcome()
        if isinstance(cmd, ReceiveCall):
            shared_to = ""
            if host.sharing:
                r = self.core.config.seed.region(host.region)
                counts = await self._partner_free_counts(list(r.partners))
                counts[self.core.centre_id] = self.call_taker_counts().free
                if not any(counts.values()) and r.partners_across:
                    across = await self._partner_free_counts(list(r.partners_across))
                    counts = calls.sharing_pool(counts, across)
                shared_to = calls.pick_shared_centre(counts)
                shared_to = "" if shared_to == self.core.centre_id else shared_to
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
            await self.executor.commit(host.region, cmd, [call], out)
            return out
        await self.current_call(host, cmd.call_id)
        async with self.core.mailboxes.enter(cmd.call_id):
            call = host.calls[cmd.call_id]
            details: dict[str, str] = {}
            serving = self.core.centre_id  # the call's region is served here
            if isinstance(cmd, AbandonCall):
                new = calls.abandon(call)
            elif isinstance(cmd, CloseCall):
                new = calls.close(call, cmd.outcome, cmd.note, cmd.who, now, cmd.by_centre, serving)
                details = {"outcome": cmd.outcome.value}
            else:
                new = calls.complete(call, cmd.incident_id, cmd.by_centre, serving)
            out = Outcome(call=new)
            await self.executor.commit(host.region, cmd, [new], out, details=details)
        return out

    def call_ended(self, call_taker: str, call_id: str) -> CallTakerCounts:
        """``call_taker`` of this centre is free again if they still hold ``call_id``
        (closed without an incident; asked by the gateway, whichever centre owns the
        call's region)."""
        if self.call_takers.get(call_taker) == call_id:
            self.call_takers[call_taker] = ""
        return self.call_taker_counts()

    async def current_call(self, host: RegionHost, call_id: str) -> Call:
        """The call as etcd has it when the cached copy still says waiting: a partner
        centre may have answered it, writing behind this centre's back by design, and
        the cache learns that here (or when its own answer of it is refused as stale).
        A call answered here is current already: no read on the common path."""
        call = host.calls.get(call_id)
        if call is not None and call.status is CallStatus.WAITING:
            await self.executor.reload([self.core.keys.call(host.region, call_id)])
            call = host.calls.get(call_id)
        if call is None:
            raise NotFoundError("call", call_id)
        return call

    async def _partner_queue(self, region: str) -> tuple[str, calls.QueuePolicy, list[Call]]:
        """A partner region's queue as etcd has it: its owner, sharing mode and calls
        (the three reads at once; every partner region at once, by the caller)."""
        client, keys = self.core.running.client, self.core.keys
        owner, sharing, (kvs, _) = await asyncio.gather(
            client.get(keys.owner(region)),
            client.get(keys.sharing(region)),
            client.get_prefix(keys.calls_prefix(region)),
        )
        holder = ownership.OwnerRecord.decode(owner.value).centre if owner else ""
        policy = self._queue_policy(region, holder, sharing is not None)
        return region, policy, [Call.decode(kv.value, kv.mod_revision) for kv in kvs]

    def _queue_policy(self, region: str, owner: str, sharing: bool) -> calls.QueuePolicy:
        r = self.core.config.seed.region(region)
        return calls.QueuePolicy(
            region,
            owner,
            tuple(r.partners),
            r.overflow_after_s,
            sharing,
            tuple(r.partners_across),
            r.overflow_across_after_s,
        )

    async def answer_next_call(self, cmd: AnswerNextCall, now: float) -> Outcome:
        """The most urgent, then oldest, call among every queue this centre serves.

        Its own regions' calls are in memory; partner regions' waiting calls are read
        from etcd. Answering writes the call under the call region's fencing token and
        the call's revision as read, so when two centres answer the same call at the
        same moment exactly one succeeds; the other takes the next call.
        """
        if cmd.centre != self.core.centre_id:
            raise InvalidArgumentError("centre", f"this is centre {self.core.centre_id}")
        if cmd.call_taker not in self.call_takers:
            raise PreconditionError(cmd.call_taker, f"not signed in at {self.core.centre_id}")
        self.call_takers[cmd.call_taker] = ""  # asking for the next call ends the last one
        for _attempt in range(ANSWER_ATTEMPTS):
            candidates: list[Call] = []
            policies: dict[str, calls.QueuePolicy] = {}
            served = set(self.core.hosts)  # as the candidates are read
            for region, host in self.core.hosts.items():
                policies[region] = self._queue_policy(region, self.core.centre_id, host.sharing)
                candidates.extend(host.calls.values())
            elsewhere = [r for r in self.partner_regions if r not in self.core.hosts]
            for region, policy, waiting in await asyncio.gather(
                *(self._partner_queue(r) for r in elsewhere)
            ):
                policies[region] = policy
                candidates.extend(waiting)
            call = calls.next_call(candidates, self.core.centre_id, policies, now)
            if call is None:
                return Outcome()
            partner = call.region not in served  # a partner's queue, by design
            new = calls.answer(call, self.core.centre_id, cmd.call_taker, now, partner)
            out = Outcome(call=new)
            try:
                async with self.core.mailboxes.enter(call.id):
                    await self.executor.commit(call.region, cmd, [new], out, partner_region=partner)
            except StaleRecordError as stale:
                # Another centre answered it first (or it moved on): refresh our copy
                # and take the next one.
                await self.executor.reload(stale.keys)
                continue
            self.call_takers[cmd.call_taker] = call.id
            self.core.log.debug(
                "call_answered",
                region=call.region,
                call=call.id,
                waited_s=round(now - call.arrived_at, 1),
                call_taker=cmd.call_taker,
            )
            return out
        return Outcome()
