"""How a centre holds regions: campaigning in a region's claim line, taking a region
over (load at the revision won, seed the fleet once, record the takeover), dropping it
the moment it is lost, and handing it to another centre on a supervisor's command.

Part of :class:`actors.centre.Centre` (a mixin: it shares the centre's state)."""

from __future__ import annotations

import asyncio
import json
import time

from actors.domain.model import (
    CrewLevel,
    Position,
    Unit,
    UnitKind,
    UnitStatus,
)
from actors.region_host import RegionHost
from cluster import ownership
from cluster.errors import (
    AmkError,
    NotOwnerError,
    SessionExpiredError,
    StoreUnavailableError,
)
from cluster.etcd import op_put
from cluster.store import Write


class RegionOwnership:
    """Claim, follow, take, drop and hand over regions."""

    # ------------------------------------------------------------ ownership

    def _line(self, region: str) -> list[str]:
        """The order in which centres claim a free region: home first, then backups."""
        r = self.config.seed.region(region)
        return [r.home, *r.backups]

    async def _campaign(self, region: str) -> None:
        """Serve ``region`` whenever it is this centre's turn.

        While another centre holds the region, watch its owner key. When the key goes
        (the owner's lease was revoked or ran out), the centres of the region's line,
        less the owner that just left, claim in line order: the first at once, each
        later one after a stagger and only if the region is still free. A centre that
        has never seen the region owned since it started waits a startup grace first,
        so a slow-starting home centre is not robbed at cluster start.
        """
        assert self.client is not None
        key = self.keys.owner(region)
        seen_owned = False
        last_owner = ""
        detected_at = 0.0
        while not self._stopping:
            try:
                host = self.hosts.get(region)
                if host is not None:
                    await self._watch_owner(region, host.fence.token)
                    last_owner, detected_at = self.centre_id, time.monotonic()
                    if self.hosts.get(region) is host:  # kept in test-only unfenced mode
                        await asyncio.sleep(1.0)
                    continue
                kv = await self.client.get(key)
                if kv is not None:
                    rec = ownership.OwnerRecord.decode(kv.value)
                    seen_owned, last_owner = True, rec.centre
                    if rec.instance == self.instance:
                        # Handed to us by a transfer: adopt it at the revision it moved.
                        await self._take(
                            region,
                            ownership.Fence(region, key, kv.mod_revision),
                            previous=rec.centre,
                            detected_at=time.monotonic(),
                        )
                        continue
                    self._held_elsewhere.add(region)
                    await self._follow_holder(region, rec, kv.mod_revision)
                    self._held_elsewhere.discard(region)
                    detected_at = time.monotonic()
                    continue
                line = self._line(region)
                # The owner that just lost the region goes to the back of the line.
                order = [c for c in line if c != last_owner] + [c for c in line if c == last_owner]
                delay = order.index(self.centre_id) * self.config.claim_stagger_s
                if not seen_owned and self.centre_id != line[0]:
                    delay += self.config.standby_grace_s
                if delay and not await self._stays_free(key, delay):
                    continue  # someone claimed it meanwhile: watch them instead
                assert self.session is not None
                self.session.check()
                record = ownership.now_record(self.centre_id, self.instance, self.session.lease_id)
                fence, holder = await ownership.claim(self.client, self.keys, region, record)
                if fence is not None:
                    await self._take(
                        region,
                        fence,
                        previous=last_owner,
                        detected_at=detected_at or time.monotonic(),
                    )
                elif holder is not None:
                    seen_owned, last_owner = True, holder.record.centre
            except asyncio.CancelledError:
                raise
            except SessionExpiredError:
                await asyncio.sleep(0.1)
            except Exception as exc:
                self.log.warning("campaign_error", region=region, error=repr(exc))
                await asyncio.sleep(0.2)

    async def _follow_holder(self, region: str, holder: ownership.OwnerRecord, token: int) -> None:
        """Wait while another centre holds ``region``. A home centre with automatic
        handback configured asks the holder for its region back once it has been
        healthy that long (the holder hands it over in one guarded transaction)."""
        wait = self.config.auto_handback_after_s
        if wait is None or self._line(region)[0] != self.centre_id:
            await self._watch_owner(region, token)
            return
        try:
            await asyncio.wait_for(self._watch_owner(region, token), wait)
            return
        except TimeoutError:
            pass
        assert self.session is not None
        self.session.check()
        from actors.centre_handle import CentreHandle  # the handle module imports this one

        me = ownership.now_record(self.centre_id, self.instance, self.session.lease_id)
        holder_handle = CentreHandle(
            holder.centre, self.config.ray_namespace, instance=holder.instance
        )
        try:
            await holder_handle.hand_over_region(region, me, f"auto-handback:{self.centre_id}")
            self.log.info("auto_handback", region=region, from_centre=holder.centre)
        except AmkError as exc:
            self.log.warning("auto_handback_failed", region=region, error=str(exc))

    async def _stays_free(self, key: bytes, seconds: float) -> bool:
        """Wait ``seconds``; False as soon as someone claims ``key`` meanwhile."""
        assert self.client is not None
        _, rev = await self.client.range(key)

        async def first_put() -> None:
            async for _rev, events in self.client.watch(key, start_revision=rev + 1):  # type: ignore[union-attr]
                if any(not ev.deleted for ev in events):
                    return

        try:
            await asyncio.wait_for(first_put(), seconds)
        except TimeoutError:
            return True
        return False

    async def _watch_owner(self, region: str, token: int) -> None:
        """Return when the owner key of ``region`` no longer carries ``token``.

        If this centre held the region with that token, it drops the region first.
        """
        assert self.client is not None
        key = self.keys.owner(region)
        current = await self.client.get(key)
        if current is not None and current.mod_revision == token:
            async for _rev, events in self.client.watch(key, start_revision=token + 1):
                if any(ev.deleted or ev.kv.mod_revision != token for ev in events):
                    break
        host = self.hosts.get(region)
        if host is not None and host.fence.token == token:
            self._drop(region, "owner key changed")

    async def _take(
        self, region: str, fence: ownership.Fence, *, previous: str = "", detected_at: float = 0.0
    ) -> None:
        """Load the region at the revision won, seed its fleet once, record the takeover."""
        assert self.client is not None and self.store is not None
        code = self.config.seed.region(region).code
        host = await RegionHost.load(self.client, self.keys, region, code, fence)
        self.hosts[region] = host
        if not host.seeded:
            await self._seed_fleet(host)
        loaded = time.monotonic()
        record = {
            "region": region,
            "centre": self.centre_id,
            "instance": self.instance,
            "token": fence.token,
            "previous": previous,
            "at": self.clock(),
            "duration_ms": round((loaded - detected_at) * 1000, 1) if detected_at else 0.0,
            "incidents": len(host.incidents),
            "units": len(host.units),
        }
        await self.store.commit(
            Write(
                (fence,),
                [(self.keys.takeover(region), json.dumps(record).encode())],
                "TakeOver",
                "system",
                details={"previous": previous},
            )
        )
        self.takeovers.append(record)
        self.log.info("region_taken", **record)

    def _drop(self, region: str, reason: str) -> None:
        if not self.config.fencing and not self._stopping:
            # Test-only unfenced mode: the deposed owner keeps acting (split brain), so a
            # drill can prove its checker catches the stale writes.
            self.log.warning("unfenced_mode_keeps_region", region=region, reason=reason)
            return
        host = self.hosts.pop(region, None)
        if host is not None:
            self.log.warning("region_dropped", region=region, token=host.fence.token, reason=reason)

    def _on_fenced(self, region: str, token: int) -> None:
        host = self.hosts.get(region)
        if host is not None and host.fence.token == token:
            self._drop(region, "write fenced: another owner holds the region")

    def _on_session_expired(self, lease_id: int) -> None:
        for region in list(self.hosts):
            self._drop(region, f"lease {lease_id:x} not renewed in time")
        if not self._stopping:
            self._tasks.append(asyncio.get_running_loop().create_task(self._renew_session()))

    async def _renew_session(self) -> None:
        while not self._stopping:
            try:
                await self._open_session()
                return
            except StoreUnavailableError:
                await asyncio.sleep(0.2)

    def _host(self, region: str) -> RegionHost:
        host = self.hosts.get(region)
        if host is None:
            raise NotOwnerError(region, self.centre_id)
        if self.config.fencing and (self.session is None or self.session.valid_for() <= 0.0):
            raise NotOwnerError(region, self.centre_id)
        return host

    async def _seed_fleet(self, host: RegionHost) -> None:
        now = self.clock()
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
                home_region=u.region,
            )
            for u in self.config.seed.units
            if u.region == host.region and u.id not in host.units
        ]
        puts = [(self.keys.unit(host.region, u.id), u.encode()) for u in units]
        puts.append((self.keys.seeded(host.region), b"1"))
        assert self.store is not None
        # A fleet larger than one transaction is seeded in slices; the marker goes last.
        step = 100
        rev = 0
        for i in range(0, len(puts), step):
            rev = await self.store.commit(
                Write((host.fence,), puts[i : i + step], "SeedFleet", "system")
            )
        host.apply(units, rev)
        host.seeded = True

    async def hand_over_region(self, region: str, to: ownership.OwnerRecord, who: str) -> int:
        """Give ``region`` to another centre instance in one guarded transaction.

        Commands still in flight here fail their fence and the gateway retries them on
        the new owner, which loads the region at the transfer's revision.
        """
        host = self._host(region)
        assert self.client is not None and self.store is not None
        entry = self.store.journal_put(
            Write(
                (host.fence,),
                [],
                "HandOverRegion",
                who,
                details={"to_centre": to.centre, "to_instance": to.instance},
            ),
        )
        fence = await ownership.transfer(self.client, host.fence, to, [op_put(*entry)])
        self._drop(region, f"handed over to {to.centre}")
        self.log.info("region_handed_over", region=region, to_centre=to.centre, token=fence.token)
        return fence.token
