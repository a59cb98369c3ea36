"""The gateway: the gRPC server that consoles, crews and supervisors reach.

One per node, as a Ray actor hosting a ``grpc.aio`` server with the dispatch and
coordination services, the standard health service and reflection. Stateless apart from
its watch-fed :class:`Directory` of region owners and entity locations. Beside the gRPC
port it serves Prometheus metrics over HTTPS (``ClusterConfig.metrics_address``).

Both ports speak TLS and require a client certificate from our CA (``cluster.tls``);
handlers read the caller's certificate name with ``cluster.tls.peer_common_name``.
``insecure = true`` (development only) makes both plaintext and logs a warning here, at
every start.
"""

from __future__ import annotations

import asyncio
import os

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from actors.domain.triage import default_table
from actors.gateway.access_log import AccessLog
from actors.gateway.air_service import AirRpcs
from actors.gateway.alert_service import AlertRpcs
from actors.gateway.audit_service import AuditRpcs
from actors.gateway.call_service import CallRpcs
from actors.gateway.context import GatewayContext
from actors.gateway.coordination_service import HandoverRpcs
from actors.gateway.coverage_service import CoverageRpcs
from actors.gateway.credential_service import CredentialRpcs
from actors.gateway.directory import Directory
from actors.gateway.guard import Guard
from actors.gateway.history_service import HistoryRpcs
from actors.gateway.hospital_service import HospitalRpcs
from actors.gateway.incident_service import IncidentRpcs
from actors.gateway.kpi_service import KpiRpcs
from actors.gateway.major_service import MajorRpcs
from actors.gateway.metrics_exporter import SnapshotCollector
from actors.gateway.metrics_server import MetricsServer
from actors.gateway.metrics_snapshot import SnapshotReader
from actors.gateway.revocations import Revocations
from actors.gateway.rpc import add_service
from actors.gateway.status_service import StatusRpcs
from actors.gateway.unit_service import UnitRpcs
from actors.gateway.watch_hub import WatchHub
from actors.gateway.watch_service import WatchRpcs
from amk.audit.v1 import audit_pb2 as apb
from amk.audit.v1 import credentials_pb2 as crpb
from amk.coordination.v1 import coordination_pb2 as cpb
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.config import ClusterConfig
from cluster.errors import ConfigError
from cluster.etcd import EtcdClient
from cluster.etcd_tls import etcd_client_for, etcd_tls
from cluster.keys import Keys
from cluster.pki import expiries
from cluster.tls import INSECURE_WARNING, bind, service_identity

log = structlog.get_logger("amk.gateway")

DISPATCH = pb.DESCRIPTOR.services_by_name["DispatchService"]
COORDINATION = cpb.DESCRIPTOR.services_by_name["CoordinationService"]
AUDIT = apb.DESCRIPTOR.services_by_name["AuditService"]
CREDENTIALS = crpb.DESCRIPTOR.services_by_name["CredentialService"]
#: The parts that serve each service, method by method (see ``actors.gateway.rpc``).
DISPATCH_PARTS = (
    IncidentRpcs,
    HistoryRpcs,
    UnitRpcs,
    WatchRpcs,
    StatusRpcs,
    CallRpcs,
    KpiRpcs,
    CoverageRpcs,
    AlertRpcs,
    HospitalRpcs,
    AirRpcs,
)
COORDINATION_PARTS = (HandoverRpcs, MajorRpcs)
STOP_GRACE_S = 0.5
REVOCATIONS_FIRST_READ_S = 5.0


class Gateway:
    """A grpc.aio server with the dispatch and coordination services, health and
    reflection."""

    def __init__(self, config: ClusterConfig, address: str) -> None:
        self.config = config
        self.address = address
        self.server: grpc.aio.Server | None = None
        self.client: EtcdClient | None = None
        self.directory: Directory | None = None
        self.hub: WatchHub | None = None
        self.metrics: MetricsServer | None = None
        self.access_log: AccessLog | None = None
        self.revocations: Revocations | None = None
        self._stopped = asyncio.Event()
        self.serving = False  # set once the server listens: a keeper adopts only then

    async def start(self, endpoints: list[str]) -> str:
        self.client = etcd_client_for(self.config, endpoints)
        self.directory = Directory(self.client, Keys(self.config.key_prefix))
        await self.directory.start()
        keys = Keys(self.config.key_prefix)
        self.hub = WatchHub(self.client, keys)
        await self.hub.start()
        gw = GatewayContext(
            self.config, self.client, self.directory, default_table(), self.hub, self.address
        )
        self._start_metrics(gw)
        # No SO_REUSEPORT (gRPC's default): a second gateway must fail to bind an address
        # one still serves, not split its connections with it.
        self.server = grpc.aio.server(interceptors=[Guard(gw)], options=[("grpc.so_reuseport", 0)])
        add_service(self.server, DISPATCH, [part(gw) for part in DISPATCH_PARTS])
        add_service(self.server, COORDINATION, [part(gw) for part in COORDINATION_PARTS])
        add_service(self.server, AUDIT, [AuditRpcs(gw)])
        add_service(self.server, CREDENTIALS, [CredentialRpcs(gw)])
        self.access_log = gw.access_log
        self.revocations = gw.revocations
        # Before serving: a restarted gateway must not take a revoked certificate while
        # its first read is under way (bounded: it comes up with the archive away too).
        await gw.revocations.start(REVOCATIONS_FIRST_READ_S)
        if self.metrics is not None:  # bound above; the same wait before it answers
            self.metrics.serve()
        health_servicer = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, self.server)
        names = (
            DISPATCH.full_name,
            COORDINATION.full_name,
            AUDIT.full_name,
            CREDENTIALS.full_name,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        )
        reflection.enable_server_reflection(names, self.server)
        tls = service_identity(self.config)
        if tls is None:
            log.warning("gateway_insecure", address=self.address, warning=INSECURE_WARNING)
        try:
            port = bind(self.server, self.address, tls)
        except RuntimeError as exc:  # grpcio raises where older versions returned 0
            raise ConfigError(f"gateway cannot bind {self.address}: {exc}") from exc
        if port == 0:
            raise ConfigError(f"gateway cannot bind {self.address}")
        await self.server.start()
        for name in (*names[:4], ""):
            health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
        self.serving = True
        log.info("gateway_started", address=self.address, pid=os.getpid(), tls=tls is not None)
        return self.address

    def _start_metrics(self, gw: GatewayContext) -> None:
        """Bind the metrics endpoint, if one is configured; an address taken is a
        ConfigError before the gRPC port opens (the keeper then ends this incarnation).
        It answers once the revoked certificates have been read, as the gRPC port."""
        address = self.config.metrics_address(self.address)
        if address is None:
            return
        gw.certificates = expiries(
            {"service": service_identity(self.config), "etcd-client": etcd_tls(self.config)}
        )
        collector = SnapshotCollector(
            SnapshotReader(gw).read,
            asyncio.get_running_loop(),
            timeout_s=self.config.metrics_scrape_timeout_s,
            window_s=self.config.metrics_answer_window_s,
        )
        self.metrics = MetricsServer(
            address,
            collector,
            tls=service_identity(self.config),
            refuse=gw.revocations.refused_certificate,
        )
        self.metrics.bind()

    async def stop(self) -> None:
        if self.metrics is not None:
            await self.metrics.stop()
        if self.server is not None:
            await self.server.stop(grace=STOP_GRACE_S)
        if self.access_log is not None:
            await self.access_log.close()
        if self.revocations is not None:
            await self.revocations.stop()
        if self.hub is not None:
            await self.hub.stop()
        if self.directory is not None:
            await self.directory.stop()
        if self.client is not None:
            await self.client.close()
        self._stopped.set()

    async def wait_stopped(self) -> None:
        """Pending until the gateway stops: the supervisor's pending call on this learns
        of the actor's death within milliseconds."""
        await self._stopped.wait()
