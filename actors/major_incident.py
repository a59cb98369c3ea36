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
import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import ray
import structlog

from actors.domain.commands import SetCallSharing
from actors.domain.errors import NotFoundError, PreconditionError
from cluster import ownership
from cluster.config import ClusterConfig
from cluster.errors import AmkError, StoreUnavailableError
from cluster.etcd import EtcdClient
from cluster.keys import Keys
from cluster.logs import configure as configure_logs
from cluster.session import Session
from cluster.store import DuplicateRequestError, FencedStore, Write

log = structlog.get_logger("amk.major")


@dataclass(slots=True)
class MajorRecord:
    id: str
    region: str
    lat: float
    lon: float
    accuracy_m: float
    kind: str
    expected_patients: int
    declared_by: str
    declared_at: float
    status: str = "declared"
    incident_ids: list[str] = field(default_factory=list)
    reserved_unit_ids: list[str] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)

    def encode(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes) -> MajorRecord:
        return cls(**json.loads(raw))

    def note(self, who: str, text: str, at: float) -> None:
        self.timeline.append({"at": at, "who": who, "text": text})


def major_id_for(request_id: str) -> str:
    """Deterministic from the declaring request: a retried declare finds the same one."""
    return "MI-" + uuid.uuid5(uuid.NAMESPACE_URL, request_id).hex[:10].upper()


class MajorIncident:
    """The logic of one major incident, behind its Ray actor."""

    def __init__(self, config: ClusterConfig, major_id: str) -> None:
        self.config = config
        self.major_id = major_id
        self.keys = Keys(config.key_prefix)
        self.instance = f"{major_id}-{uuid.uuid4().hex[:8]}"
        self.client: EtcdClient | None = None
        self.session: Session | None = None
        self.store: FencedStore | None = None
        self.fence: ownership.Fence | None = None
        self.record: MajorRecord | None = None
        self.revision = 0
        self._stopped = asyncio.Event()

    async def start(self, endpoints: list[str], declare: dict[str, Any] | None) -> dict[str, Any]:
        if self.record is not None:
            return self.view()  # a retried declare reaches the running actor
        self.client = EtcdClient(endpoints)
        self.session = await Session(
            self.client, self.config.lease_ttl_s, margin_s=self.config.lease_margin_s
        ).open()
        self.store = FencedStore(self.client, self.keys, writer=self.instance)
        record = ownership.OwnerRecord(
            self.major_id, self.instance, self.session.lease_id, time.time()
        )
        deadline = time.monotonic() + 3 * self.config.lease_ttl_s + 5
        while self.fence is None:
            # A previous incarnation's key goes when its lease is revoked or runs out.
            fence, _ = await ownership.claim_key(
                self.client, self.keys.major_owner(self.major_id), f"major:{self.major_id}", record
            )
            self.fence = fence
            if fence is None:
                if time.monotonic() > deadline:
                    raise StoreUnavailableError(f"{self.major_id}: owner key still held")
                await asyncio.sleep(0.1)
        kv = await self.client.get(self.keys.major(self.major_id))
        if kv is not None:
            self.record, self.revision = MajorRecord.decode(kv.value), kv.mod_revision
        elif declare is not None:
            now = time.time()
            self.record = MajorRecord(id=self.major_id, declared_at=now, **declare)
            self.record.note(
                declare["declared_by"],
                f"declared: {declare['kind']}, {declare['expected_patients']} patients expected",
                now,
            )
            await self._save("DeclareMajorIncident", declare["declared_by"], None)
            await self._set_sharing(True, declare["declared_by"])
        else:
            raise NotFoundError("major incident", self.major_id)
        log.info(
            "major_incident_up",
            major=self.major_id,
            region=self.record.region,
            token=self.fence.token,
        )
        return self.view()

    async def _save(self, command: str, who: str, request_id: str | None) -> None:
        assert self.store is not None and self.fence is not None and self.record is not None
        key = self.keys.major(self.major_id)
        try:
            self.revision = await self.store.commit(
                Write(
                    (self.fence,),
                    [(key, self.record.encode())],
                    command,
                    who,
                    request_id,
                    b"{}",
                    {"major": self.major_id},
                    expected={key: self.revision},
                )
            )
        except DuplicateRequestError:
            kv = await self.client.get(key)  # type: ignore[union-attr]
            if kv is not None:
                self.record, self.revision = MajorRecord.decode(kv.value), kv.mod_revision

    async def _set_sharing(self, sharing: bool, who: str) -> None:
        """Ask the region's owner to share (or stop sharing) new calls with partners."""
        from actors.centre_handle import CentreHandle  # the handle imports the centre

        assert self.client is not None and self.record is not None
        region = self.record.region
        for _ in range(20):
            kv = await self.client.get(self.keys.owner(region))
            if kv is not None:
                owner = ownership.OwnerRecord.decode(kv.value)
                handle = CentreHandle(
                    owner.centre, self.config.ray_namespace, instance=owner.instance
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
            await asyncio.sleep(0.2)
        self.record.note(who, f"could not switch call sharing for {region}", time.time())

    def _open(self) -> MajorRecord:
        assert self.record is not None
        if self.record.status != "declared":
            raise PreconditionError(self.major_id, f"major incident is {self.record.status}")
        return self.record

    async def link(self, incident_ids: list[str], who: str, request_id: str) -> dict[str, Any]:
        rec = self._open()
        new = [i for i in incident_ids if i not in rec.incident_ids]
        rec.incident_ids.extend(new)
        if new:
            rec.note(who, "linked " + ", ".join(new), time.time())
        await self._save("LinkToMajorIncident", who, request_id)
        return self.view()

    async def reserve(self, unit_ids: list[str], who: str, request_id: str) -> dict[str, Any]:
        rec = self._open()
        new = [u for u in unit_ids if u not in rec.reserved_unit_ids]
        rec.reserved_unit_ids.extend(new)
        if new:
            rec.note(who, "reserved " + ", ".join(new), time.time())
        await self._save("ReserveUnitsForMajorIncident", who, request_id)
        return self.view()

    async def stand_down(self, who: str, request_id: str) -> dict[str, Any]:
        rec = self._open()
        await self._set_sharing(False, who)
        rec.status = "stood_down"
        rec.note(who, "stood down", time.time())
        await self._save("StandDownMajorIncident", who, request_id)
        return self.view()

    def view(self) -> dict[str, Any]:
        assert self.record is not None
        return {**asdict(self.record), "actor_pid": os.getpid(), "revision": self.revision}

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close(revoke=True)
        if self.client is not None:
            await self.client.close()
        self._stopped.set()


@ray.remote
class MajorIncidentActor:
    """The Ray actor of one major incident; errors come back as values."""

    def __init__(self, config: ClusterConfig, major_id: str) -> None:
        configure_logs(config.log_level)
        self.major = MajorIncident(config, major_id)

    async def _run(self, coro: Any) -> tuple[str, Any]:
        try:
            return "ok", await coro
        except AmkError as exc:
            return "err", exc

    async def start(self, endpoints: list[str], declare: dict[str, Any] | None):
        return await self._run(self.major.start(endpoints, declare))

    async def link(self, incident_ids: list[str], who: str, request_id: str):
        return await self._run(self.major.link(incident_ids, who, request_id))

    async def reserve(self, unit_ids: list[str], who: str, request_id: str):
        return await self._run(self.major.reserve(unit_ids, who, request_id))

    async def stand_down(self, who: str, request_id: str):
        return await self._run(self.major.stand_down(who, request_id))

    async def view(self):
        return "ok", self.major.view()

    async def wait_stopped(self) -> None:
        await self.major._stopped.wait()

    async def stop(self) -> None:
        await self.major.stop()
