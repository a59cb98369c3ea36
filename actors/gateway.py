"""The gateway: the gRPC server consoles reach, routing each call to the owning centre.

Stateless apart from its watch-fed :class:`Directory`. A mutating call is checked
field by field (``api_convert``), routed to the centre actor that owns the region, and
retried on the region's next owner when the call reaches a dead or deposed one, within
the caller's deadline; the request id travels with every try, so a retry never applies
twice. Reads go straight to etcd (linearizable), so boards and lookups keep working
while a region fails over. Errors leave through one table (``status_codes``).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import ray
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from actors import api_convert as conv
from actors.centre_handle import CentreHandle
from actors.directory import Directory
from actors.domain.commands import Command
from actors.domain.errors import InvalidArgumentError, NotFoundError
from actors.domain.model import Incident, IncidentStatus, Outcome, Unit, UnitKind, UnitStatus
from actors.domain.model import Urgency as UrgencyEnum
from actors.domain.triage import CriteriaTable, default_table
from actors.status_codes import status_of
from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from cluster.config import ClusterConfig
from cluster.errors import AmkError, RegionUnavailableError, StoreUnavailableError
from cluster.etcd import EtcdClient
from cluster.keys import Keys
from cluster.logs import configure as configure_logs
from cluster.ownership import Owner, OwnerRecord

log = structlog.get_logger("amk.gateway")

IDENTITY_HEADER = "x-amk-identity"
DEFAULT_DEADLINE_S = 10.0
current_identity: contextvars.ContextVar[str] = contextvars.ContextVar("identity", default="anon")


class IdentityInterceptor(grpc.aio.ServerInterceptor):
    """The seam where authentication will go: today it takes the caller's stated identity
    (for the journal); with TLS and roles it will take a verified one."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        ident = dict(details.invocation_metadata or ()).get(IDENTITY_HEADER, "anon")
        current_identity.set(str(ident)[:64])
        return await continuation(details)


class DispatchServicer(pb_grpc.DispatchServiceServicer):
    """Implements ``amk.dispatch.v1.DispatchService``."""

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
        handle = self.centres.get(owner.record.centre)
        if handle is None:
            handle = self.centres.setdefault(
                owner.record.centre, CentreHandle(owner.record.centre, self.config.ray_namespace)
            )
        call = asyncio.ensure_future(
            handle.execute(region, cmd, timeout_s=max(0.05, deadline - time.monotonic()))
        )
        while not call.done():
            changed = asyncio.ensure_future(self.directory.wait_change(deadline - time.monotonic()))
            await asyncio.wait({call, changed}, return_when=asyncio.FIRST_COMPLETED)
            changed.cancel()
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

    async def CreateIncident(self, request, context):
        async def run() -> pb.Incident:
            cmd = conv.create_incident(request, self.regions, self.table, current_identity.get())
            out = await self._route(cmd.region, cmd, context)
            assert out.incident is not None
            return conv.incident_pb(out.incident)

        return await self._guard(context, run)

    async def GetIncident(self, request, context):
        async def run() -> pb.Incident:
            conv.v.entity_id(request.incident_id, "incident_id")
            return conv.incident_pb(await self._read_incident(request.incident_id))

        return await self._guard(context, run)

    async def ListIncidents(self, request, context):
        async def run() -> pb.ListIncidentsResponse:
            regions = conv.regions_filter(list(request.regions), self.regions)
            status = conv.from_pb_enum(IncidentStatus, request.status, "status", optional=True)
            urgency = conv.from_pb_enum(UrgencyEnum, request.urgency, "urgency", optional=True)
            out = []
            for region in regions:
                kvs, _ = await self.client.get_prefix(self.keys.incidents_prefix(region))
                for kv in kvs:
                    inc = Incident.decode(kv.value, kv.mod_revision)
                    if status is not None and inc.status is not status:
                        continue
                    if urgency is not None and inc.urgency is not urgency:
                        continue
                    closed = inc.status in (IncidentStatus.CLOSED, IncidentStatus.CANCELLED)
                    if closed and not request.include_closed and status is None:
                        continue
                    out.append(conv.incident_pb(inc))
            return pb.ListIncidentsResponse(incidents=out)

        return await self._guard(context, run)

    async def _mutate_incident(self, context, make: Callable[[], Command]) -> pb.Incident:
        async def run() -> pb.Incident:
            cmd = make()
            region = self._incident_region(cmd.incident_id)  # type: ignore[union-attr]
            out = await self._route(region, cmd, context)
            assert out.incident is not None
            return conv.incident_pb(out.incident)

        return await self._guard(context, run)

    async def TriageIncident(self, request, context):
        return await self._mutate_incident(
            context, lambda: conv.triage_incident(request, self.table, current_identity.get())
        )

    async def ChangeIncidentStatus(self, request, context):
        return await self._mutate_incident(
            context, lambda: conv.change_incident_status(request, current_identity.get())
        )

    async def AddIncidentNote(self, request, context):
        return await self._mutate_incident(
            context, lambda: conv.add_incident_note(request, current_identity.get())
        )

    # ------------------------------------------------------------ units

    async def ListUnits(self, request, context):
        async def run() -> pb.ListUnitsResponse:
            regions = conv.regions_filter(list(request.regions), self.regions)
            status = conv.from_pb_enum(UnitStatus, request.status, "status", optional=True)
            kind = conv.from_pb_enum(UnitKind, request.kind, "kind", optional=True)
            out = []
            for region in regions:
                kvs, _ = await self.client.get_prefix(self.keys.units_prefix(region))
                for kv in kvs:
                    unit = Unit.decode(kv.value, kv.mod_revision)
                    if (status is None or unit.status is status) and (
                        kind is None or unit.kind is kind
                    ):
                        out.append(conv.unit_pb(unit))
            return pb.ListUnitsResponse(units=out)

        return await self._guard(context, run)

    async def GetUnit(self, request, context):
        async def run() -> pb.Unit:
            conv.v.entity_id(request.unit_id, "unit_id")
            return conv.unit_pb(await self._read_unit(request.unit_id))

        return await self._guard(context, run)

    async def _mutate_unit(self, context, cmd: Command) -> Outcome:
        region = self._unit_region(cmd.unit_id)  # type: ignore[union-attr]
        return await self._route(region, cmd, context)

    async def ChangeUnitStatus(self, request, context):
        async def run() -> pb.Unit:
            cmd = conv.change_unit_status(request, current_identity.get())
            out = await self._mutate_unit(context, cmd)
            assert out.unit is not None
            return conv.unit_pb(out.unit)

        return await self._guard(context, run)

    async def ReportUnitPosition(self, request, context):
        async def run() -> pb.Unit:
            cmd = conv.report_unit_position(request, current_identity.get())
            out = await self._mutate_unit(context, cmd)
            assert out.unit is not None
            return conv.unit_pb(out.unit)

        return await self._guard(context, run)

    async def StreamUnitPositions(self, request_iterator, context):
        accepted = rejected = 0
        async for req in request_iterator:
            try:
                cmd = conv.report_unit_position(req, current_identity.get())
                await self._mutate_unit(context, cmd)
                accepted += 1
            except AmkError as err:
                rejected += 1
                log.info("position_rejected", unit=req.unit_id, error=str(err))
        return pb.StreamUnitPositionsSummary(accepted=accepted, rejected=rejected)

    # ------------------------------------------------------------ assignment

    async def _pair(self, context, make: Callable[[], Command]) -> pb.Assignment:
        async def run() -> pb.Assignment:
            cmd = make()
            region = self._incident_region(cmd.incident_id)  # type: ignore[union-attr]
            self._unit_region(cmd.unit_id)  # type: ignore[union-attr]
            out = await self._route(region, cmd, context)
            assert out.incident is not None and out.unit is not None
            return pb.Assignment(
                incident=conv.incident_pb(out.incident), unit=conv.unit_pb(out.unit)
            )

        return await self._guard(context, run)

    async def AssignUnit(self, request, context):
        return await self._pair(context, lambda: conv.assign_unit(request, current_identity.get()))

    async def ReleaseUnit(self, request, context):
        return await self._pair(context, lambda: conv.release_unit(request, current_identity.get()))

    # ------------------------------------------------------------ watch

    async def Watch(self, request, context) -> AsyncIterator[pb.WatchEvent]:
        try:
            regions = set(conv.regions_filter(list(request.regions), self.regions))
            if request.from_revision < 0:
                raise InvalidArgumentError("from_revision", "must be >= 0")
        except AmkError as err:
            await self._abort(context, err)
            return
        start = request.from_revision
        if start == 0:
            rev = await self.client.revision()
            for region in sorted(regions):
                kvs, _ = await self.client.get_prefix(
                    self.keys.incidents_prefix(region), revision=rev
                )
                for kv in kvs:
                    inc = Incident.decode(kv.value, kv.mod_revision)
                    yield pb.WatchEvent(
                        kind=pb.WatchEvent.KIND_SNAPSHOT_INCIDENT,
                        revision=rev,
                        region=region,
                        incident=conv.incident_pb(inc),
                    )
                kvs, _ = await self.client.get_prefix(self.keys.units_prefix(region), revision=rev)
                for kv in kvs:
                    unit = Unit.decode(kv.value, kv.mod_revision)
                    yield pb.WatchEvent(
                        kind=pb.WatchEvent.KIND_SNAPSHOT_UNIT,
                        revision=rev,
                        region=region,
                        unit=conv.unit_pb(unit),
                    )
            yield pb.WatchEvent(kind=pb.WatchEvent.KIND_SNAPSHOT_DONE, revision=rev)
            start = rev + 1
        try:
            async for rev, events in self.client.watch_prefix(
                self.keys.all(), start_revision=start
            ):
                for ev in events:
                    out = self._watch_event(rev, ev, regions)
                    if out is not None:
                        yield out
        except StoreUnavailableError as err:
            await self._abort(context, err)

    def _watch_event(self, rev: int, ev: Any, regions: set[str]) -> pb.WatchEvent | None:
        parsed = self.keys.parse(ev.kv.key)
        if parsed is None or parsed[1] not in regions:
            return None
        kind, region, ident = parsed
        if kind == "incidents":
            if ev.deleted:
                return pb.WatchEvent(
                    kind=pb.WatchEvent.KIND_INCIDENT_REMOVED,
                    revision=rev,
                    region=region,
                    removed_id=ident,
                )
            inc = Incident.decode(ev.kv.value, ev.kv.mod_revision)
            return pb.WatchEvent(
                kind=pb.WatchEvent.KIND_INCIDENT_CHANGED,
                revision=rev,
                region=region,
                incident=conv.incident_pb(inc),
            )
        if kind == "units":
            if ev.deleted:
                return pb.WatchEvent(
                    kind=pb.WatchEvent.KIND_UNIT_REMOVED,
                    revision=rev,
                    region=region,
                    removed_id=ident,
                )
            unit = Unit.decode(ev.kv.value, ev.kv.mod_revision)
            return pb.WatchEvent(
                kind=pb.WatchEvent.KIND_UNIT_CHANGED,
                revision=rev,
                region=region,
                unit=conv.unit_pb(unit),
            )
        if kind == "regions" and ident == "owner":
            return self._owner_event(rev, region, ev)
        return None

    def _owner_event(self, rev: int, region: str, ev: Any) -> pb.WatchEvent:
        cfg = self.config.seed.region(region)
        if ev.deleted:
            msg = f"Region {cfg.name} has no owner: failing over"
            status = pb.RegionStatus(id=region, name=cfg.name, home_centre=cfg.home)
        else:
            rec = OwnerRecord.decode(ev.kv.value)
            centre = self.config.seed.centre(rec.centre).name
            msg = f"Region {cfg.name} now served by {centre}"
            status = pb.RegionStatus(
                id=region,
                name=cfg.name,
                home_centre=cfg.home,
                owner_centre=rec.centre,
                owner_instance=rec.instance,
                fencing_token=ev.kv.mod_revision,
                lease_id=rec.lease,
            )
        return pb.WatchEvent(
            kind=pb.WatchEvent.KIND_REGION_OWNER_CHANGED,
            revision=rev,
            region=region,
            region_status=status,
            message=msg,
        )

    # ------------------------------------------------------------ status

    async def GetClusterStatus(self, request, context):
        async def run() -> pb.ClusterStatus:
            return await self.cluster_status()

        return await self._guard(context, run)

    async def cluster_status(self) -> pb.ClusterStatus:
        seed = self.config.seed
        handles = [
            self.centres.setdefault(c.id, CentreHandle(c.id, self.config.ray_namespace))
            for c in seed.centres
        ]
        results = await asyncio.gather(
            *(h.status(timeout_s=1.0) for h in handles), return_exceptions=True
        )
        centres, counts = [], {}
        alive = set()
        for c, res in zip(seed.centres, results, strict=True):
            if isinstance(res, BaseException):
                centres.append(pb.CentreStatus(id=c.id, name=c.name, alive=False))
                continue
            alive.add(c.id)
            counts.update(res["counts"])
            centres.append(
                pb.CentreStatus(
                    id=c.id,
                    name=c.name,
                    alive=True,
                    node_id=res["node_id"],
                    pid=res["pid"],
                    lease_id=res["lease_id"],
                    lease_ttl_s=res["lease_ttl_s"],
                    lease_valid_for_s=res["lease_valid_for_s"],
                    regions_owned=sorted(res["regions"]),
                    instance=res["instance"],
                )
            )
        regions = []
        for r in seed.regions:
            kv = await self.client.get(self.keys.owner(r.id))
            status = pb.RegionStatus(
                id=r.id,
                name=r.name,
                home_centre=r.home,
                standbys=[b for b in r.backups if b in alive],
            )
            if kv is not None:
                rec = OwnerRecord.decode(kv.value)
                status.owner_centre = rec.centre
                status.owner_instance = rec.instance
                status.fencing_token = kv.mod_revision
                status.lease_id = rec.lease
                status.lease_ttl_left_s = await self.client.lease_ttl(rec.lease)
            took = await self.client.get(self.keys.takeover(r.id))
            if took is not None:
                t = json.loads(took.value)
                status.last_takeover = (
                    f"{t['centre']} took over from {t['previous'] or '(none)'} at "
                    f"token {t['token']} in {t['duration_ms']} ms"
                )
                status.last_takeover_ms = t["duration_ms"]
            inc, units = counts.get(r.id, (0, 0))
            status.incidents, status.units = inc, units
            regions.append(status)
        return pb.ClusterStatus(
            centres=centres,
            regions=regions,
            etcd_revision=await self.client.revision(),
            etcd_endpoints=self.client.endpoints,
            gateway=self.address,
        )


class Gateway:
    """A grpc.aio server with the dispatch service, health and reflection."""

    def __init__(self, config: ClusterConfig, address: str) -> None:
        self.config = config
        self.address = address
        self.server: grpc.aio.Server | None = None
        self.client: EtcdClient | None = None
        self.directory: Directory | None = None

    async def start(self, endpoints: list[str]) -> str:
        self.client = EtcdClient(endpoints)
        self.directory = Directory(self.client, Keys(self.config.key_prefix))
        await self.directory.start()
        centres = {
            c.id: CentreHandle(c.id, self.config.ray_namespace) for c in self.config.seed.centres
        }
        servicer = DispatchServicer(
            self.config, self.client, self.directory, centres, default_table(), self.address
        )
        self.server = grpc.aio.server(interceptors=[IdentityInterceptor()])
        pb_grpc.add_DispatchServiceServicer_to_server(servicer, self.server)
        health_servicer = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, self.server)
        names = (
            pb.DESCRIPTOR.services_by_name["DispatchService"].full_name,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        )
        reflection.enable_server_reflection(names, self.server)
        port = self.server.add_insecure_port(self.address)
        if port == 0:
            raise RegionUnavailableError("-", f"gateway cannot bind {self.address}")
        await self.server.start()
        for name in (*names[:1], ""):
            health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("gateway_started", address=self.address, pid=os.getpid())
        return self.address

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(grace=0.5)
        if self.directory is not None:
            await self.directory.stop()
        if self.client is not None:
            await self.client.close()


@ray.remote
class GatewayActor:
    """One gateway per node, as a Ray actor hosting a grpc.aio server."""

    def __init__(self, config: ClusterConfig, address: str) -> None:
        configure_logs(config.log_level)
        self.gateway = Gateway(config, address)

    async def start(self, endpoints: list[str]) -> str:
        return await self.gateway.start(endpoints)

    async def stop(self) -> None:
        await self.gateway.stop()

    def pid(self) -> int:
        return os.getpid()
