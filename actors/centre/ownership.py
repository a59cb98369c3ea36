"""How a centre holds regions: campaigning in a region's claim line, taking a region
over (load at the revision won, seed the fleet once, record the takeover), dropping it
the moment it is lost, and handing it to another centre on a supervisor's command.

The etcd side of an election (claim, watch, resign, hand over) is
:mod:`cluster.election`; *when* to claim is the pure :func:`cluster.claim_line.claim_delay`.
What is left here is the loop that ties them to this centre's hosted regions, moving
each region through :mod:`actors.centre.region_state`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import asdict

from actors.centre.core import CentreCore, Peers
from actors.centre.records import Takeover
from actors.centre.region_host import RegionHost
from actors.centre.region_state import IllegalRegionMove, RegionState
from actors.domain.model import CrewLevel, Position, Unit, UnitKind, UnitStatus
from cluster import ownership
from cluster.claim_line import claim_delay
from cluster.election import Election
from cluster.errors import AmkError, RegionUnavailableError, SessionExpiredError
from cluster.etcd import op_put
from cluster.store import Write

SEED_SLICE = 100  # units per transaction when a fleet is seeded (etcd's op limit)

S = RegionState


class RegionOwnership:
    """Claim, follow, take, drop and hand over regions."""

    def __init__(self, core: CentreCore, peers: Peers) -> None:
        self.core = core
        self.peers = peers
        self.held_elsewhere: set[str] = set()
        self.takeovers: list[Takeover] = []
        # Called with the region once a takeover serves it (the air desk's outbox scan).
        self.on_taken: list[Callable[[str], None]] = []

    def election(self, region: str) -> Election:
        return Election.for_region(self.core.running.client, self.core.keys, region)

    async def campaign(self, region: str) -> None:
        """Serve ``region`` whenever it is this centre's turn.

        While another centre holds the region, watch its owner key. When the key goes
        (the owner's lease was revoked or ran out), the centres of the region's line
        claim in the order :func:`claim_delay` gives. A failed step starts over from
        what etcd says now.
        """
        core = self.core
        site = core.config.site
        seen_owned = False
        last_owner = ""  # its seat (centre@site): the claim line is made of seats
        detected_at = 0.0
        # This centre's own claim won the owner key: a retry of its load after a failure
        # finds the key naming it, and is no transfer.
        claimed = False
        retry = core.config.campaign_retry
        while not core.stopping:
            try:
                election = self.election(region)
                host = core.hosts.get(region)
                if host is not None:
                    await self._serve_until_lost(region, host, election)
                    seen_owned, last_owner, claimed = True, core.seat, False
                    detected_at = time.monotonic()
                    continue
                holder = await election.owner()
                if holder is not None:
                    seen_owned = True
                    if holder.record.instance == core.instance:
                        # Handed to us by a transfer (or our own claim, its load failed
                        # once): adopt it at the revision it moved. The previous owner is
                        # the one we were following (not the record, which names us now).
                        core.set_state(region, S.LOADING)
                        fence = holder.fence(election.key)
                        await self._take(
                            region, fence, _centre(last_owner), time.monotonic(), handed=not claimed
                        )
                        last_owner = holder.record.seat(site)  # taken: the key names us
                        continue
                    last_owner, claimed = holder.record.seat(site), False
                    core.set_state(region, S.FOLLOWING)
                    self.held_elsewhere.add(region)
                    await self._follow_holder(region, holder, election)
                    self.held_elsewhere.discard(region)
                    detected_at = time.monotonic()
                    continue
                core.set_state(region, S.WAITING)
                delay = claim_delay(
                    core.line(region),
                    core.seat,
                    last_owner=last_owner,
                    seen_owned=seen_owned,
                    stagger_s=core.config.claim_stagger_s,
                    grace_s=core.config.standby_grace_s,
                )
                if delay is None:
                    return  # not in this region's line (the seed changed under us)
                if delay and not await election.stays_free(delay):
                    continue  # someone claimed it meanwhile: watch them instead
                session = core.running.session
                session.check()
                core.set_state(region, S.CLAIMING)
                record = ownership.now_record(
                    core.centre_id, core.instance, session.lease_id, core.address, site
                )
                won = await election.campaign(record)
                if isinstance(won, ownership.Fence):
                    claimed = True
                    core.set_state(region, S.LOADING)
                    await self._take(
                        region, won, _centre(last_owner), detected_at or time.monotonic()
                    )
                elif won is not None:
                    seen_owned, last_owner = True, won.record.seat(site)
            except asyncio.CancelledError:
                raise
            except SessionExpiredError:
                await asyncio.sleep(retry.initial_s)
            except IllegalRegionMove as exc:
                # A bug, not a fault: say so loudly, then start over from what etcd says
                # rather than loop on a state the table does not know how to leave.
                core.log.error("campaign_illegal_move", region=region, error=str(exc))
                core.reset_state(region)
                await asyncio.sleep(retry.max_s)
            except Exception as exc:
                core.log.warning("campaign_error", region=region, error=repr(exc))
                await asyncio.sleep(retry.max_s)

    async def _serve_until_lost(self, region: str, host: RegionHost, election: Election) -> None:
        """Serve until the owner key no longer carries this host's token, then drop it."""
        await election.wait_change(host.fence)
        if self.core.hosts.get(region) is host:
            self.drop(region, "owner key changed")
        if self.core.hosts.get(region) is host:  # kept in test-only unfenced mode
            await asyncio.sleep(1.0)

    async def _follow_holder(
        self, region: str, holder: ownership.Owner, election: Election
    ) -> None:
        """Wait while another centre holds ``region``. A home centre with automatic
        handback configured asks the holder for its region back once it has been
        healthy that long (the holder hands it over in one guarded transaction)."""
        core = self.core
        wait = core.config.auto_handback_after_s
        if wait is None or core.line(region)[0] != core.seat:
            await election.wait_change(holder.fence(election.key))
            return
        try:
            await asyncio.wait_for(election.wait_change(holder.fence(election.key)), wait)
            return
        except TimeoutError:
            pass
        session = core.running.session
        session.check()
        me = ownership.now_record(
            core.centre_id, core.instance, session.lease_id, core.address, core.config.site
        )
        try:
            await self.peers.hand_over_region(
                holder.record, region, me, f"auto-handback:{core.centre_id}"
            )
            core.log.info("auto_handback", region=region, from_centre=holder.record.centre)
        except AmkError as exc:
            core.log.warning("auto_handback_failed", region=region, error=str(exc))

    async def _take(
        self,
        region: str,
        fence: ownership.Fence,
        previous: str,
        detected_at: float,
        *,
        handed: bool = False,
    ) -> None:
        """Load the region at the revision won (or handed to us: ``handed``), seed its
        fleet once, record the takeover."""
        core = self.core
        running = core.running
        code = core.config.seed.region(region).code
        host = await RegionHost.load(running.client, core.keys, region, code, fence)
        core.hosts[region] = host
        if not host.seeded:
            await self._seed_fleet(host)
        took = Takeover(
            region=region,
            centre=core.centre_id,
            instance=core.instance,
            token=fence.token,
            previous=previous,
            at=core.clock(),
            duration_ms=round((time.monotonic() - detected_at) * 1000, 1),
            incidents=len(host.incidents),
            units=len(host.units),
            handed=handed,
        )
        await running.store.commit(
            Write(
                (fence,),
                [(core.keys.takeover(region), took.encode())],
                "TakeOver",
                "system",
                details={"previous": previous, "handed": handed},
            )
        )
        if core.hosts.get(region) is not host:
            return  # dropped while loading (fenced, lease lost): not serving it
        core.set_state(region, S.SERVING)
        self.takeovers.append(took)
        core.log.info("region_taken", **asdict(took))
        for hook in self.on_taken:
            try:
                hook(region)
            except Exception:  # a hook's bug must not undo a takeover: log it
                core.log.exception("region_taken_hook_error", region=region)

    def drop(self, region: str, reason: str) -> None:
        """Stop serving ``region`` at once (fenced, lease lost, owner changed, handed over)."""
        core = self.core
        if not core.config.fencing and not core.stopping:
            # Test-only unfenced mode: the deposed owner keeps acting (split brain), so a
            # drill can prove its checker catches the stale writes.
            core.log.warning("unfenced_mode_keeps_region", region=region, reason=reason)
            return
        host = core.hosts.pop(region, None)
        if host is not None:
            core.set_state(region, S.FOLLOWING)
            core.log.warning("region_dropped", region=region, token=host.fence.token, reason=reason)

    def on_fenced(self, region: str, token: int) -> None:
        """The store saw a write fail its fence: another owner holds the region."""
        host = self.core.hosts.get(region)
        if host is not None and host.fence.token == token:
            self.drop(region, "write fenced: another owner holds the region")

    def drop_all(self, reason: str) -> None:
        for region in list(self.core.hosts):
            self.drop(region, reason)

    async def _seed_fleet(self, host: RegionHost) -> None:
        core = self.core
        now = core.clock()
        units = [
            Unit(
                id=u.id,
                call_sign=u.call_sign,
                region=u.region,
                kind=UnitKind(u.kind),
                crew=CrewLevel(u.crew),
                status=UnitStatus.AVAILABLE_AT_STATION,
                position=Position(u.lat, u.lon, 0.0),
                station=u.station,
                updated_at=now,
                status_at=now,
                home_region=u.region,
            )
            for u in core.config.seed.units
            if u.region == host.region and u.id not in host.units
        ]
        puts = [(core.keys.unit(host.region, u.id), u.encode()) for u in units]
        puts.append((core.keys.seeded(host.region), b"1"))
        # A fleet larger than one transaction is seeded in slices; the marker goes last.
        for i in range(0, len(puts), SEED_SLICE):
            rev = await core.running.store.commit(
                Write((host.fence,), puts[i : i + SEED_SLICE], "SeedFleet", "system")
            )
            # Each slice's units at their own commit: a later slice's revision would
            # have the cache ahead of etcd, and the first write to them fail as stale.
            host.apply(units[i : i + SEED_SLICE], rev)
        host.seeded = True

    async def hand_over_region(self, region: str, to: ownership.OwnerRecord, who: str) -> int:
        """Give ``region`` to another centre instance in one guarded transaction.

        Commands still in flight here fail their fence and the gateway retries them on
        the new owner, which loads the region at the transfer's revision.
        """
        core = self.core
        host = core.host(region)
        state = core.states.get(region, S.UNKNOWN)
        if state is not S.SERVING:
            # Still loading it, or another hand-over is in flight: a retry may succeed.
            raise RegionUnavailableError(region, f"not ready to hand over ({state})")
        store = core.running.store
        entry = store.journal_put(
            Write(
                (host.fence,),
                [],
                "HandOverRegion",
                who,
                details={"to_centre": to.centre, "to_instance": to.instance},
            ),
        )
        core.set_state(region, S.HANDING_OVER)
        try:
            fence = await self.election(region).hand_over(host.fence, to, [op_put(*entry)])
        except BaseException:
            if core.hosts.get(region) is host:
                core.set_state(region, S.SERVING)
            raise
        self.drop(region, f"handed over to {to.centre}")
        core.log.info("region_handed_over", region=region, to_centre=to.centre, token=fence.token)
        return fence.token


def _centre(seat: str) -> str:
    """The centre of a seat (``centre@site``); '' stays ''."""
    return seat.partition("@")[0]
