"""The AMK centre: owns regions, hosts their entities, executes commands.

:class:`Centre` is plain asyncio code (testable against a real etcd without Ray);
:class:`CentreActor` is the Ray actor around it, one per AMK centre. Callers reach the
actor only through ``actors.centre_handle.CentreHandle``.

Ownership is never a boolean: the centre holds, per region, a :class:`RegionHost` with
the region's fence; every write carries the fence and etcd checks it. A region is
dropped the moment a write is fenced, the session cannot be renewed in time, or the
owner key's watch shows another owner.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import ray
import structlog

from actors.domain import calls, decide
from actors.domain.commands import (
    AbandonCall,
    AddIncidentNote,
    AnswerNextCall,
    AssignUnit,
    ChangeIncidentStatus,
    ChangeUnitStatus,
    Command,
    CreateIncident,
    HandOverIncident,
    LendUnit,
    LinkCall,
    ReceiveCall,
    ReleaseUnit,
    ReportUnitPosition,
    SetCallSharing,
    TriageIncident,
)
from actors.domain.errors import (
    InvalidArgumentError,
    NotBuiltError,
    NotFoundError,
    PreconditionError,
)
from actors.domain.model import (
    Call,
    CrewLevel,
    Incident,
    Outcome,
    Position,
    Unit,
    UnitKind,
    UnitStatus,
)
from actors.domain.triage import CriteriaTable, default_table
from actors.region_host import Mailboxes, RegionHost
from cluster import ownership
from cluster.config import ClusterConfig
from cluster.errors import (
    AmkError,
    NotOwnerError,
    RegionUnavailableError,
    SessionExpiredError,
    StoreUnavailableError,
)
from cluster.etcd import EtcdClient, op_put
from cluster.keys import Keys
from cluster.logs import configure as configure_logs
from cluster.session import Session
from cluster.store import DuplicateRequestError, FencedStore, StaleRecordError, Write

RECENT_REQUESTS = 10_000


Record = Incident | Unit | Call


def replace_region_key(keys: Keys, rec: Record, region: str) -> bytes:
    """The key ``rec`` has (or had, before a move) in ``region``."""
    if isinstance(rec, Incident):
        return keys.incident(region, rec.id)
    if isinstance(rec, Call):
        return keys.call(region, rec.id)
    return keys.unit(region, rec.id)


class Centre:
    """One AMK centre instance: a session, the regions it owns, their entities."""

    def __init__(
        self,
        config: ClusterConfig,
        centre_id: str,
        *,
        clock: Callable[[], float] = time.time,
        table: CriteriaTable | None = None,
    ) -> None:
        self.config = config
        self.centre_id = centre_id
        self.name = config.seed.centre(centre_id).name
        self.instance = f"{centre_id}-{uuid.uuid4().hex[:12]}"
        self.keys = Keys(config.key_prefix)
        self.clock = clock
        self.table = table or default_table()
        self.hosts: dict[str, RegionHost] = {}
        self.recent: OrderedDict[str, Outcome] = OrderedDict()
        self.mailboxes = Mailboxes()
        self.call_takers: dict[str, str] = {}  # signed in here -> the call being handled
        self.client: EtcdClient | None = None
        self.session: Session | None = None
        self.store: FencedStore | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._stopping = False
        self._held_elsewhere: set[str] = set()
        self._stopped = asyncio.Event()
        self.takeovers: list[dict[str, Any]] = []
        self.log = structlog.get_logger("amk.centre").bind(centre=centre_id, instance=self.instance)

    # ------------------------------------------------------------ lifecycle

    async def start(self, endpoints: list[str], *, claim_timeout_s: float = 30.0) -> dict:
        """Open the session and campaign for every region this centre may serve.

        Returns once the home regions are held, or once they are known to be held by
        another centre (after a restart the backup keeps them until a handback).
        """
        self.client = EtcdClient(endpoints)
        await self._open_session()
        for region in self.config.region_ids():
            if self.centre_id in self._line(region):
                self._tasks.append(asyncio.create_task(self._campaign(region)))
        deadline = time.monotonic() + claim_timeout_s
        homes = set(self.config.home_regions(self.centre_id))
        while time.monotonic() < deadline:
            if homes <= set(self.hosts) | self._held_elsewhere:
                break
            await asyncio.sleep(0.02)
        return self.status()

    async def _open_session(self) -> None:
        assert self.client is not None
        self.session = await Session(
            self.client,
            self.config.lease_ttl_s,
            margin_s=self.config.lease_margin_s,
            on_expired=self._on_session_expired,
        ).open()
        self.store = FencedStore(
            self.client,
            self.keys,
            writer=self.instance,
            on_fenced=self._on_fenced,
            fencing=self.config.fencing,
        )

    async def stop(self) -> None:
        """Step down from every region and revoke the lease: backups may claim at once."""
        self._stopping = True
        for t in self._tasks:
            t.cancel()
        for host in list(self.hosts.values()):
            with contextlib.suppress(AmkError):
                assert self.client is not None
                await ownership.step_down(self.client, host.fence)
        self.hosts.clear()
        if self.session is not None:
            await self.session.close(revoke=True)
        if self.client is not None:
            await self.client.close()
        self._stopped.set()

    async def wait_stopped(self) -> None:
        """Pending until the centre stops: a supervisor's pending call on this learns of
        the actor's death within milliseconds (Ray fails it when the process dies)."""
        await self._stopped.wait()

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
        holder_handle = CentreHandle(holder.centre, self.config.ray_namespace)
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

    # ------------------------------------------------------------ commands

    async def execute(self, region: str, cmd: Command) -> Outcome:
        """Run one command in ``region`` exactly once per request id."""
        cached = self.recent.get(cmd.request_id)
        if cached is not None:
            return cached
        try:
            outcome = await self._run(region, cmd)
        except DuplicateRequestError as dup:
            outcome = Outcome.decode(dup.stored, dup.revision)
        except StaleRecordError as stale:
            await self._reload(stale.keys)
            raise
        except (NotOwnerError, SessionExpiredError, StoreUnavailableError):
            raise
        except AmkError:
            # A retry of a command that was applied before may now be illegal
            # (e.g. a status change already made): answer with the first result.
            assert self.store is not None
            stored = await self.store.read_request(cmd.request_id)
            if stored is None:
                raise
            outcome = Outcome.decode(*stored)
        self.recent[cmd.request_id] = outcome
        if len(self.recent) > RECENT_REQUESTS:
            self.recent.popitem(last=False)
        return outcome

    def _key(self, rec: Record) -> bytes:
        return replace_region_key(self.keys, rec, rec.region)

    async def _fence_of(self, region: str) -> ownership.Fence:
        """This centre's fence for ``region``, or the current owner's token read from etcd
        (a cross-centre move guards the other region's owner too)."""
        host = self.hosts.get(region)
        if host is not None:
            return host.fence
        assert self.client is not None
        kv = await self.client.get(self.keys.owner(region))
        if kv is None:
            raise RegionUnavailableError(region, "no centre owns it (failing over)")
        return ownership.Fence(region, self.keys.owner(region), kv.mod_revision)

    async def _commit(
        self,
        primary: str,
        cmd: Command,
        records: list[Record],
        outcome: Outcome,
        extra: list[tuple[bytes, bytes]] | None = None,
        *,
        moved_from: dict[str, str] | None = None,
    ) -> int:
        """Write ``records`` in one guarded transaction, then make them the cached state.

        Every region a record lives in (or, per ``moved_from``: id -> old region, comes
        from) adds its fence; every record names the revision it was decided on, and a
        moved record must not yet exist at its new key.
        """
        assert self.store is not None
        moved_from = moved_from or {}
        fences = {primary: await self._fence_of(primary)}
        for region in [r.region for r in records] + list(moved_from.values()):
            if region not in fences:
                fences[region] = await self._fence_of(region)
        puts = [(self._key(r), r.encode()) for r in records]
        expected: dict[bytes, int] = {}
        deletes: list[bytes] = []
        for (key, _), rec in zip(puts, records, strict=True):
            old_region = moved_from.get(rec.id)
            if old_region is None or old_region == rec.region:
                expected[key] = rec.revision
                continue
            old = replace_region_key(self.keys, rec, old_region)
            expected[old] = rec.revision
            expected[key] = 0
            deletes.append(old)
        write = Write(
            tuple(fences.values()),
            puts + list(extra or []),
            type(cmd).__name__,
            cmd.who,
            cmd.request_id,
            outcome.encode(),
            {"ids": [r.id for r in records]},
            expected=expected,
            deletes=deletes,
        )
        rev = await self.store.commit(write)
        for rec in records:
            old_region = moved_from.get(rec.id)
            if old_region is not None and old_region in self.hosts:
                table = (
                    self.hosts[old_region].incidents
                    if isinstance(rec, Incident)
                    else (self.hosts[old_region].units)
                )
                table.pop(rec.id, None)
            owner = self.hosts.get(rec.region)
            if owner is not None:
                owner.apply([rec], rev)
        return rev

    async def _reload(self, keys: list[bytes]) -> None:
        """Refresh cached records that changed in etcd behind this centre's back."""
        assert self.client is not None
        for key in keys:
            parsed = self.keys.parse(key)
            if parsed is None:
                continue
            kind, region, ident = parsed
            host = self.hosts.get(region)
            if host is None:
                continue
            kv = await self.client.get(key)
            decode = {"incidents": Incident, "units": Unit, "calls": Call}[kind].decode
            table: dict[str, Any] = {
                "incidents": host.incidents,
                "units": host.units,
                "calls": host.calls,
            }[kind]
            if kv is None:
                table.pop(ident, None)
            else:
                table[ident] = decode(kv.value, kv.mod_revision)
            self.log.info("record_reloaded", key=key.decode(), present=kv is not None)

    async def _load_moved_in(self, kind: str, ident: str) -> tuple[RegionHost, Any] | None:
        """An entity another centre moved into one of our regions (hand-over, lending)."""
        assert self.client is not None
        for host in list(self.hosts.values()):
            if kind == "incident":
                kv = await self.client.get(self.keys.incident(host.region, ident))
                if kv is not None:
                    rec: Any = Incident.decode(kv.value, kv.mod_revision)
                    host.incidents[ident] = rec
                    return host, rec
            else:
                kv = await self.client.get(self.keys.unit(host.region, ident))
                if kv is not None:
                    rec = Unit.decode(kv.value, kv.mod_revision)
                    host.units[ident] = rec
                    return host, rec
        return None

    async def _find_incident(self, incident_id: str) -> tuple[RegionHost, Incident]:
        for host in self.hosts.values():
            if incident_id in host.incidents:
                return host, host.incidents[incident_id]
        found = await self._load_moved_in("incident", incident_id)
        if found is None:
            raise NotFoundError("incident", incident_id)
        return found

    async def _find_unit(self, unit_id: str) -> tuple[RegionHost, Unit]:
        for host in self.hosts.values():
            if unit_id in host.units:
                return host, host.units[unit_id]
        found = await self._load_moved_in("unit", unit_id)
        if found is None:
            raise NotFoundError("unit", unit_id)
        return found

    async def _foreign_unit(self, unit_id: str, region: str) -> Unit:
        """A unit of a region another centre serves, read with its revision."""
        assert self.client is not None
        kv = await self.client.get(self.keys.unit(region, unit_id))
        if kv is None:
            raise NotFoundError("unit", unit_id)
        return Unit.decode(kv.value, kv.mod_revision)

    async def _run(self, region: str, cmd: Command) -> Outcome:
        now = self.clock()
        if isinstance(cmd, AnswerNextCall):
            return await self._answer_next_call(cmd, now)
        host = self._host(region)
        if isinstance(cmd, ReceiveCall | AbandonCall | LinkCall | SetCallSharing):
            return await self._run_call(host, cmd, now)
        log = self.log.bind(region=region, token=host.fence.token, request_id=cmd.request_id)
        if isinstance(cmd, CreateIncident):
            records: list[Record] = []
            if cmd.call_id:
                call = host.calls.get(cmd.call_id)
                if call is None:
                    raise NotFoundError("call", cmd.call_id)
            inc = decide.create_incident(cmd, host.next_incident_id(), now, self.table)
            records.append(inc)
            if cmd.call_id:
                records.append(calls.complete(call, inc.id))
            out = Outcome(incident=inc)
            # The region's counter travels with every create (the store keeps the last
            # value per key in a batch, which is the highest number reserved).
            counter = (self.keys.counter(region), str(host.last_number).encode())
            await self._commit(host.region, cmd, records, out, [counter])
            log.info("incident_created", incident=inc.id, call=cmd.call_id)
            return out
        if isinstance(cmd, TriageIncident | ChangeIncidentStatus | AddIncidentNote):
            h, _ = await self._find_incident(cmd.incident_id)
            async with self.mailboxes.enter(cmd.incident_id):
                inc = h.incidents[cmd.incident_id]
                if isinstance(cmd, TriageIncident):
                    new = decide.triage(inc, cmd.criteria_code, now, self.table)
                elif isinstance(cmd, ChangeIncidentStatus):
                    new = decide.change_incident_status(inc, cmd.status, now)
                else:
                    new = decide.add_note(inc, cmd.text, cmd.who, now)
                out = Outcome(incident=new)
                await self._commit(h.region, cmd, [new], out)
            log.info("incident_changed", incident=new.id, command=type(cmd).__name__)
            return out
        if isinstance(cmd, AssignUnit | ReleaseUnit):
            return await self._run_pair(cmd, now)
        if isinstance(cmd, HandOverIncident):
            return await self._hand_over_incident(cmd, now)
        if isinstance(cmd, LendUnit):
            hu, _ = await self._find_unit(cmd.unit_id)
            async with self.mailboxes.enter(cmd.unit_id):
                unit = hu.units[cmd.unit_id]
                self._known_region(cmd.to_region)
                new = decide.lend_unit(unit, cmd.to_region, now)
                out = Outcome(unit=new)
                await self._commit(hu.region, cmd, [new], out, moved_from={unit.id: unit.region})
            log.info("unit_lent", unit=unit.id, to_region=cmd.to_region)
            return out
        if isinstance(cmd, ChangeUnitStatus | ReportUnitPosition):
            return await self._run_unit(host, cmd, now)
        raise NotBuiltError(f"command {type(cmd).__name__}")

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
            self.log.info(
                "call_answered",
                region=call.region,
                call=call.id,
                waited_s=round(now - call.arrived_at, 1),
                call_taker=cmd.call_taker,
            )
            return out
        return Outcome()

    def _known_region(self, region: str) -> None:
        if region not in self.config.region_ids():
            raise InvalidArgumentError("to_region", f"unknown region {region!r}")

    async def _run_pair(self, cmd: AssignUnit | ReleaseUnit, now: float) -> Outcome:
        """Assign or release. A unit of a region served by another centre is lent to the
        incident's region and assigned in one transaction guarded by both regions'
        tokens and by the unit's revision as read."""
        hi, _ = await self._find_incident(cmd.incident_id)
        foreign: Unit | None = None
        try:
            hu, _ = await self._find_unit(cmd.unit_id)
        except NotFoundError:
            if not (isinstance(cmd, AssignUnit) and cmd.unit_region):
                raise
            hu, foreign = hi, await self._foreign_unit(cmd.unit_id, cmd.unit_region)
        async with self.mailboxes.enter(cmd.incident_id, cmd.unit_id):
            inc = hi.incidents[cmd.incident_id]
            unit = foreign if foreign is not None else hu.units[cmd.unit_id]
            step = decide.assign if isinstance(cmd, AssignUnit) else decide.release
            new_inc, new_unit = step(inc, unit, now)
            moved: dict[str, str] = {}
            if isinstance(cmd, AssignUnit) and unit.region != inc.region:
                new_unit.region = inc.region  # lent to the incident's region
                moved[unit.id] = unit.region
            out = Outcome(incident=new_inc, unit=new_unit)
            await self._commit(hi.region, cmd, [new_inc, new_unit], out, moved_from=moved)
        self.log.info(
            "unit_" + ("assigned" if isinstance(cmd, AssignUnit) else "released"),
            region=inc.region,
            incident=inc.id,
            unit=unit.id,
            lent_from=moved.get(unit.id, ""),
        )
        return out

    async def _hand_over_incident(self, cmd: HandOverIncident, now: float) -> Outcome:
        self._known_region(cmd.to_region)
        hi, inc = await self._find_incident(cmd.incident_id)
        units = [(await self._find_unit(u))[1] for u in inc.assigned_unit_ids]
        async with self.mailboxes.enter(cmd.incident_id, *inc.assigned_unit_ids):
            inc = hi.incidents[cmd.incident_id]
            new_inc, new_units = decide.move_incident(inc, units, cmd.to_region, now)
            moved = {inc.id: inc.region, **{u.id: u.region for u in units}}
            out = Outcome(incident=new_inc)
            await self._commit(hi.region, cmd, [new_inc, *new_units], out, moved_from=moved)
        self.log.info(
            "incident_handed_over",
            incident=inc.id,
            from_region=inc.region,
            to_region=cmd.to_region,
            units=[u.id for u in units],
        )
        return out

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

    async def _run_unit(
        self, host: RegionHost, cmd: ChangeUnitStatus | ReportUnitPosition, now: float
    ) -> Outcome:
        hu, unit = await self._find_unit(cmd.unit_id)
        if isinstance(cmd, ReportUnitPosition):
            async with self.mailboxes.enter(cmd.unit_id):
                new = decide.report_position(hu.units[cmd.unit_id], cmd.position, now)
                out = Outcome(unit=new)
                await self._commit(hu.region, cmd, [new], out)
            return out
        while True:
            incident_id = unit.incident_id
            hi = (await self._find_incident(incident_id))[0] if incident_id else hu
            async with self.mailboxes.enter(cmd.unit_id, *([incident_id] if incident_id else [])):
                unit = hu.units[cmd.unit_id]
                if unit.incident_id != incident_id:
                    continue  # reassigned while we waited: lock the right incident
                inc = hi.incidents.get(incident_id) if incident_id else None
                new_unit, new_inc = decide.change_unit_status(unit, cmd.status, inc, now)
                records: list[Incident | Unit] = [new_unit] + ([new_inc] if new_inc else [])
                out = Outcome(incident=new_inc, unit=new_unit)
                await self._commit(hu.region, cmd, records, out)
                return out

    # ------------------------------------------------------------ status

    def status(self) -> dict[str, Any]:
        ctx = ray.get_runtime_context() if ray.is_initialized() else None
        return {
            "id": self.centre_id,
            "name": self.name,
            "instance": self.instance,
            "node_id": ctx.get_node_id() if ctx else "",
            "pid": os.getpid(),
            "lease_id": self.session.lease_id if self.session else 0,
            "lease_ttl_s": self.session.ttl_s if self.session else 0,
            "lease_valid_for_s": self.session.valid_for() if self.session else 0.0,
            "regions": {r: h.fence.token for r, h in self.hosts.items()},
            "counts": {r: [len(h.incidents), len(h.units)] for r, h in self.hosts.items()},
            "store": dict(self.store.stats) if self.store else {},
            "takeovers": self.takeovers[-10:],
            "call_takers": self.call_taker_counts(),
        }


@ray.remote
class CentreActor:
    """The Ray actor for one AMK centre. Reach it through ``CentreHandle`` only.

    Errors come back as values (``("err", error)``) rather than raised, so callers get
    our typed errors without Ray's task-error wrapping.
    """

    def __init__(self, config: ClusterConfig, centre_id: str) -> None:
        configure_logs(config.log_level)
        self.centre = Centre(config, centre_id)
        structlog.contextvars.bind_contextvars(centre=centre_id)

    async def start(self, endpoints: list[str]) -> tuple[str, Any]:
        try:
            return "ok", await self.centre.start(endpoints)
        except AmkError as exc:
            return "err", exc

    async def execute(self, region: str, cmd: Command) -> tuple[str, Any]:
        try:
            return "ok", await self.centre.execute(region, cmd)
        except AmkError as exc:
            return "err", exc

    async def hand_over_region(
        self, region: str, to: ownership.OwnerRecord, who: str
    ) -> tuple[str, Any]:
        try:
            return "ok", await self.centre.hand_over_region(region, to, who)
        except AmkError as exc:
            return "err", exc

    async def status(self) -> dict[str, Any]:
        return self.centre.status()

    async def stop(self) -> None:
        await self.centre.stop()

    async def wait_stopped(self) -> None:
        await self.centre.wait_stopped()

    async def sign_in(self, call_taker: str) -> dict[str, int]:
        return self.centre.sign_in(call_taker)

    async def sign_out(self, call_taker: str) -> dict[str, int]:
        return self.centre.sign_out(call_taker)

    def pid(self) -> int:
        return os.getpid()
