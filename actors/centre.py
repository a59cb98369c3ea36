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
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import ray
import structlog

from actors.centre_calls import CallDesk
from actors.centre_dispatch import Dispatching
from actors.centre_ownership import RegionOwnership
from actors.domain.commands import (
    Command,
)
from actors.domain.model import (
    Call,
    Incident,
    Outcome,
    Unit,
)
from actors.domain.triage import CriteriaTable, default_table
from actors.region_host import Mailboxes, Record, RegionHost, replace_region_key
from cluster import ownership
from cluster.config import ClusterConfig
from cluster.errors import (
    AmkError,
    NotOwnerError,
    RegionUnavailableError,
    SessionExpiredError,
    StoreUnavailableError,
)
from cluster.etcd import EtcdClient
from cluster.keys import Keys
from cluster.logs import configure as configure_logs
from cluster.session import Session
from cluster.store import DuplicateRequestError, FencedStore, StaleRecordError, Write

RECENT_REQUESTS = 10_000


class Centre(RegionOwnership, Dispatching, CallDesk):
    """One AMK centre instance: a session, the regions it owns, their entities."""

    def __init__(
        self,
        config: ClusterConfig,
        centre_id: str,
        *,
        clock: Callable[[], float] = time.time,
        table: CriteriaTable | None = None,
        instance: str | None = None,
    ) -> None:
        self.config = config
        self.centre_id = centre_id
        self.name = config.seed.centre(centre_id).name
        self.instance = instance or f"{centre_id}-{uuid.uuid4().hex[:12]}"
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

    def __init__(self, config: ClusterConfig, centre_id: str, instance: str) -> None:
        configure_logs(config.log_level)
        self.centre = Centre(config, centre_id, instance=instance)
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

    async def execute_many(self, items: list[tuple[str, Command]]) -> list[tuple[str, Any]]:
        """Several commands in one Ray call (the gateway batches those that arrive
        together); they run concurrently, each with its own answer."""
        return list(await asyncio.gather(*(self.execute(r, c) for r, c in items)))

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
