"""A declared major incident: a Ray actor of its own, so it outlives any one centre.

A major incident (many patients, several centres: the Kongsberg attack of 2021, when
AMK Oslo coordinated for AMK Vestre Viken) links the incidents that belong to it,
reserves units from several regions, keeps a timeline, turns on call sharing for its
region while it lasts, and is stood down by a supervisor.

Its record lives in etcd (``majors/{id}/record``). The actor holds a session and claims
``majors/{id}/owner`` exactly as a centre claims a region, and every write compares that
key's revision: if the supervisor has to start the actor again, the new incarnation
loads the record and an old one can no longer write. The record is readable straight
from etcd while no actor runs.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import structlog

from actors.centre.handle import CentreHandle
from actors.domain.commands import SetCallSharing
from actors.domain.errors import NotFoundError
from actors.domain.idempotency import check_same_request, stored_fingerprint, with_fingerprint
from actors.major.record import MajorRecord, MajorStatus, MajorView, move
from cluster import ownership
from cluster.config import ClusterConfig
from cluster.election import Election, campaign_until
from cluster.errors import ActorUnavailableError, AmkError
from cluster.etcd import EtcdClient
from cluster.etcd_tls import etcd_client_for
from cluster.keys import Keys
from cluster.session import Session
from cluster.store import DuplicateRequestError, FencedStore, Write

log = structlog.get_logger("amk.major")


@dataclass(frozen=True, slots=True)
class _Running:
    """What :meth:`MajorIncident.start` opens and wins."""

    client: EtcdClient
    session: Session
    store: FencedStore
    fence: ownership.Fence


class MajorIncident:
    """The logic of one major incident, behind its Ray actor."""

    def __init__(self, config: ClusterConfig, major_id: str) -> None:
        self.config = config
        self.major_id = major_id
        self.keys = Keys(config.key_prefix)
        self.instance = f"{major_id}-{uuid.uuid4().hex[:8]}"
        self._running: _Running | None = None
        self._record: MajorRecord | None = None
        self.revision = 0
        self._stopped = asyncio.Event()
        self._starting = asyncio.Lock()

    @property
    def running(self) -> _Running:
        if self._running is None:
            raise ActorUnavailableError(f"major {self.major_id}", "not started")
        return self._running

    @property
    def record(self) -> MajorRecord:
        if self._record is None:
            raise ActorUnavailableError(f"major {self.major_id}", "not started")
        return self._record

    async def start(self, endpoints: list[str], declare: dict[str, Any] | None) -> MajorView:
        """Win the major incident's owner key, then load its record or declare it."""
        if self._record is not None:
            self._check_declare(declare)
            return self.view()  # a retried declare reaches the running actor
        async with self._starting:  # a retried declare must not campaign against itself
            if self._running is None:
                self._running = await self._win(endpoints)
        client = self._running.client
        kv = await client.get(self.keys.major(self.major_id))
        if kv is not None:
            self._record, self.revision = MajorRecord.decode(kv.value), kv.mod_revision
            self._check_declare(declare)
        elif declare is not None:
            now = time.time()
            self._record = MajorRecord(id=self.major_id, declared_at=now, **declare)
            self._record.note(
                declare["declared_by"],
                f"declared: {declare['kind']}, {declare['expected_patients']} patients expected",
                now,
            )
            await self._save("DeclareMajorIncident", declare["declared_by"], None, "")
            await self._set_sharing(True, declare["declared_by"])
        else:
            raise NotFoundError("major incident", self.major_id)
        log.info(
            "major_incident_up",
            major=self.major_id,
            region=self.record.region,
            token=self._running.fence.token,
        )
        return self.view()

    def _check_declare(self, declare: dict[str, Any] | None) -> None:
        """A declare that reaches a major incident already declared must be the same
        request (its id derives from the request id; see ``major_id_for``)."""
        if declare is not None:
            check_same_request(
                self.major_id, self.record.fingerprint, declare.get("fingerprint", "")
            )

    async def _win(self, endpoints: list[str]) -> _Running:
        """Open a session and win the major incident's owner key. Kept once won, so a
        retried start (a declare sent again) does not campaign against itself."""
        client = etcd_client_for(self.config, endpoints)
        session = await Session(
            client, self.config.lease_ttl_s, margin_s=self.config.lease_margin_s
        ).open()
        me = ownership.OwnerRecord(self.major_id, self.instance, session.lease_id, time.time())
        try:
            # A previous incarnation's key goes when its lease is revoked or runs out.
            fence = await campaign_until(
                Election.for_major(client, self.keys, self.major_id),
                me,
                timeout_s=3 * self.config.lease_ttl_s + 5,
            )
        except BaseException:
            await session.close(revoke=True)
            await client.close()
            raise
        store = FencedStore(client, self.keys, writer=self.instance)
        return _Running(client, session, store, fence)

    async def _save(self, command: str, who: str, request_id: str | None, fingerprint: str) -> None:
        running = self.running
        key = self.keys.major(self.major_id)
        try:
            self.revision = await running.store.commit(
                Write(
                    (running.fence,),
                    [(key, self.record.encode())],
                    command,
                    who,
                    request_id,
                    with_fingerprint(b"{}", fingerprint),
                    {"major": self.major_id},
                    expected={key: self.revision},
                )
            )
        except DuplicateRequestError as dup:
            # Applied before (a retry), or the id was used for another request: either
            # way the stored record is the truth, not the change made in memory.
            kv = await running.client.get(key)
            if kv is not None:
                self._record, self.revision = MajorRecord.decode(kv.value), kv.mod_revision
            check_same_request(request_id or "", stored_fingerprint(dup.stored), fingerprint)

    async def _set_sharing(self, sharing: bool, who: str) -> None:
        """Ask the region's owner to share (or stop sharing) new calls with partners."""
        region = self.record.region
        for wait in self.config.sharing_retry.delays():
            owner = await ownership.read_owner(self.running.client, self.keys, region)
            if owner is not None:
                handle = CentreHandle(
                    owner.record.centre, self.config.ray_namespace, instance=owner.record.instance
                )
                cmd = SetCallSharing(
                    f"{self.major_id}-sharing-{sharing}-{uuid.uuid4().hex[:6]}",
                    region,
                    sharing,
                    who,
                )
                try:
                    await handle.execute(region, cmd, timeout_s=5.0)
                    self.record.note(
                        who, f"call sharing {'on' if sharing else 'off'} for {region}", time.time()
                    )
                    return
                except AmkError as exc:
                    log.warning("major_sharing_retry", major=self.major_id, error=str(exc))
            await asyncio.sleep(wait)
        self.record.note(who, f"could not switch call sharing for {region}", time.time())

    async def _replayed(self, request_id: str, fingerprint: str) -> bool:
        """True if ``request_id`` was applied before (a retry: answer with the record as
        it is now); refused if it was used for a different request. Checked before any
        side effect, so a refused request changes nothing."""
        stored = await self.running.store.read_request(request_id)
        if stored is None:
            return False
        check_same_request(request_id, stored_fingerprint(stored[0]), fingerprint)
        kv = await self.running.client.get(self.keys.major(self.major_id))
        if kv is not None:
            self._record, self.revision = MajorRecord.decode(kv.value), kv.mod_revision
        return True

    async def link(
        self, incident_ids: list[str], who: str, request_id: str, fingerprint: str = ""
    ) -> MajorView:
        if await self._replayed(request_id, fingerprint):
            return self.view()
        rec = self.record
        rec.require_open()
        new = [i for i in incident_ids if i not in rec.incident_ids]
        rec.incident_ids.extend(new)
        if new:
            rec.note(who, "linked " + ", ".join(new), time.time())
        await self._save("LinkToMajorIncident", who, request_id, fingerprint)
        return self.view()

    async def reserve(
        self, unit_ids: list[str], who: str, request_id: str, fingerprint: str = ""
    ) -> MajorView:
        if await self._replayed(request_id, fingerprint):
            return self.view()
        rec = self.record
        rec.require_open()
        new = [u for u in unit_ids if u not in rec.reserved_unit_ids]
        rec.reserved_unit_ids.extend(new)
        if new:
            rec.note(who, "reserved " + ", ".join(new), time.time())
        await self._save("ReserveUnitsForMajorIncident", who, request_id, fingerprint)
        return self.view()

    async def stand_down(self, who: str, request_id: str, fingerprint: str = "") -> MajorView:
        if await self._replayed(request_id, fingerprint):
            return self.view()
        rec = self.record
        rec.require_open()
        await self._set_sharing(False, who)
        rec.status = move(self.major_id, rec.status, MajorStatus.STOOD_DOWN)
        rec.note(who, "stood down", time.time())
        await self._save("StandDownMajorIncident", who, request_id, fingerprint)
        return self.view()

    def view(self) -> MajorView:
        return MajorView(MajorRecord.decode(self.record.encode()), self.revision, os.getpid())

    async def stop(self) -> None:
        if self._running is not None:
            await self._running.session.close(revoke=True)
            await self._running.client.close()
        self._stopped.set()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()
