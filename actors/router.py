"""Routing a command from a gateway to the centre that owns its region.

An attempt that reaches a dead or deposed owner (Ray actor error, fenced write, lost
lease) is retried on the region's next owner within the caller's deadline, with the
same request id, so it is applied once. An attempt is abandoned as soon as the owner
changes: a hung owner never answers, and once its lease is gone it cannot write.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import structlog

from actors.centre_handle import CentreHandle
from actors.directory import Directory
from actors.domain.commands import Command
from actors.domain.errors import InvalidArgumentError, NotFoundError
from actors.domain.model import Incident, Outcome, Unit
from actors.domain.triage import CriteriaTable
from actors.status_codes import status_of
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.config import ClusterConfig
from cluster.errors import AmkError, RegionUnavailableError
from cluster.etcd import EtcdClient
from cluster.keys import Keys
from cluster.ownership import Owner, OwnerRecord

log = structlog.get_logger("amk.gateway")

DEFAULT_DEADLINE_S = 10.0


class Router:
    """What every service on a gateway shares: checking input, finding the region of an
    entity, routing a command to the owning centre and retrying it there, mapping errors."""

    def __init__(
        self,
        config: ClusterConfig,
        client: EtcdClient,
        directory: Directory,
        centres: dict[str, CentreHandle],
        table: CriteriaTable,
        address: str = "",
    ) -> None:
        self.config = config
        self.client = client
        self.keys = Keys(config.key_prefix)
        self.directory = directory
        self.centres = centres
        self.instances: dict[str, CentreHandle] = {}
        self.table = table
        self.address = address
        self.regions = set(config.region_ids())
        self.region_by_code = {r.code: r.id for r in config.seed.regions}

    # ------------------------------------------------------------ plumbing

    @staticmethod
    async def _abort(context: grpc.aio.ServicerContext, err: AmkError) -> None:
        if isinstance(err, InvalidArgumentError):
            context.set_trailing_metadata((("amk-field", err.field),))
        await context.abort(status_of(err), str(err))

    async def _guard(
        self, context: grpc.aio.ServicerContext, fn: Callable[[], Awaitable[Any]]
    ) -> Any:
        try:
            return await fn()
        except AmkError as err:
            await self._abort(context, err)

    def _deadline(self, context: grpc.aio.ServicerContext) -> float:
        left = context.time_remaining()
        return time.monotonic() + (DEFAULT_DEADLINE_S if left is None else max(0.0, left))

    def centre(self, centre_id: str) -> CentreHandle:
        """A handle that follows the centre's current incarnation."""
        handle = self.centres.get(centre_id)
        if handle is None:
            handle = self.centres.setdefault(
                centre_id, CentreHandle(centre_id, self.config.ray_namespace)
            )
        return handle

    def incarnation(self, centre_id: str, instance: str) -> CentreHandle:
        """A handle pinned to one incarnation: the one a region's owner record names."""
        handle = self.instances.get(instance)
        if handle is None:
            if len(self.instances) > 100:
                self.instances.clear()  # old incarnations; handles are cheap to make again
            handle = self.instances.setdefault(
                instance, CentreHandle(centre_id, self.config.ray_namespace, instance=instance)
            )
        return handle

    async def _route(self, region: str, cmd: Command, context: grpc.aio.ServicerContext) -> Outcome:
        """Send ``cmd`` to the owner of ``region``; retry retryable failures until the
        deadline on whoever owns the region then.

        An attempt is abandoned as soon as the region's owner changes (a hung owner
        never answers; its lease runs out and a backup takes over): the same request id
        goes to the new owner, and the old one can no longer write it (fenced).
        """
        deadline = self._deadline(context) - 0.01
        backoff = 0.01
        while True:
            owner = self.directory.owner(region)
            if owner is None:
                err: AmkError = RegionUnavailableError(region, "no centre owns it (failing over)")
            else:
                try:
                    return await self._attempt(owner, region, cmd, deadline)
                except AmkError as exc:
                    if not exc.retryable:
                        raise
                    err = exc
            left = deadline - time.monotonic()
            if left <= 0:
                raise err
            log.info("route_retry", region=region, request_id=cmd.request_id, error=str(err))
            if self.directory.owner(region) == owner:
                await self.directory.wait_change(min(backoff, left))
                backoff = min(backoff * 2, 0.2)

    async def _attempt(self, owner: Owner, region: str, cmd: Command, deadline: float) -> Outcome:
        handle = self.incarnation(owner.record.centre, owner.record.instance)
        call = asyncio.ensure_future(
            handle.execute(region, cmd, timeout_s=max(0.05, deadline - time.monotonic()))
        )
        while not call.done():
            changed = self.directory.change_future()
            await asyncio.wait(
                {call, changed},
                timeout=max(0.0, deadline - time.monotonic()),
                return_when=asyncio.FIRST_COMPLETED,
            )
            if call.done():
                break
            if self.directory.owner(region) != owner or time.monotonic() >= deadline:
                call.cancel()
                raise RegionUnavailableError(region, f"owner changed from {owner.record.centre}")
        return call.result()

    def _incident_region(self, incident_id: str) -> str:
        region = self.directory.region_of.get(incident_id)
        if region is None:
            region = self.region_by_code.get(incident_id.split("-", 1)[0])
        if region is None:
            raise NotFoundError("incident", incident_id)
        return region

    def _unit_region(self, unit_id: str) -> str:
        region = self.directory.region_of.get(unit_id)
        if region is None:
            raise NotFoundError("unit", unit_id)
        return region

    async def _read_incident(self, incident_id: str) -> Incident:
        region = self._incident_region(incident_id)
        kv = await self.client.get(self.keys.incident(region, incident_id))
        if kv is None:
            # Moved between regions since the directory looked: one fresh look.
            region = self.directory.region_of.get(incident_id, region)
            kv = await self.client.get(self.keys.incident(region, incident_id))
        if kv is None:
            raise NotFoundError("incident", incident_id)
        return Incident.decode(kv.value, kv.mod_revision)

    async def _read_unit(self, unit_id: str) -> Unit:
        kv = await self.client.get(self.keys.unit(self._unit_region(unit_id), unit_id))
        if kv is None:
            raise NotFoundError("unit", unit_id)
        return Unit.decode(kv.value, kv.mod_revision)

    # ------------------------------------------------------------ incidents

    async def region_status(self, region: str, alive: set[str] | None = None) -> pb.RegionStatus:
        """Owner, fencing token, lease and last takeover of one region, from etcd."""
        r = self.config.seed.region(region)
        status = pb.RegionStatus(id=r.id, name=r.name, home_centre=r.home)
        kv = await self.client.get(self.keys.owner(region))
        owner = OwnerRecord.decode(kv.value).centre if kv is not None else ""
        # Standbys: the centres of the region's line, in order, alive, not serving it now.
        line = [r.home, *r.backups]
        status.standbys.extend(c for c in line if c != owner and (alive is None or c in alive))
        if kv is not None:
            rec = OwnerRecord.decode(kv.value)
            status.owner_centre = rec.centre
            status.owner_instance = rec.instance
            status.fencing_token = kv.mod_revision
            status.lease_id = rec.lease
            status.lease_ttl_left_s = await self.client.lease_ttl(rec.lease)
        took = await self.client.get(self.keys.takeover(region))
        if took is not None:
            t = json.loads(took.value)
            status.last_takeover = (
                f"{t['centre']} took over from {t['previous'] or '(none)'} at "
                f"token {t['token']} in {t['duration_ms']} ms"
            )
            status.last_takeover_ms = t["duration_ms"]
        return status
