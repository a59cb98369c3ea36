"""The gateway: the gRPC server that consoles, crews and supervisors reach.

One per node, as a Ray actor hosting a ``grpc.aio`` server with the dispatch and
coordination services, the standard health service and reflection. Stateless apart from
its watch-fed :class:`Directory` of region owners and entity locations.
"""

from __future__ import annotations

import os

import grpc
import ray
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from actors.centre_handle import CentreHandle
from actors.coordination_service import CoordinationServicer
from actors.directory import Directory
from actors.dispatch_service import DispatchServicer
from actors.domain.triage import default_table
from actors.identity import IdentityInterceptor
from amk.coordination.v1 import coordination_pb2 as cpb
from amk.coordination.v1 import coordination_pb2_grpc as cpb_grpc
from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from cluster.config import ClusterConfig
from cluster.errors import ConfigError
from cluster.etcd import EtcdClient
from cluster.keys import Keys
from cluster.logs import configure as configure_logs

log = structlog.get_logger("amk.gateway")


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
        args = (self.config, self.client, self.directory, centres, default_table(), self.address)
        self.server = grpc.aio.server(interceptors=[IdentityInterceptor()])
        pb_grpc.add_DispatchServiceServicer_to_server(DispatchServicer(*args), self.server)
        cpb_grpc.add_CoordinationServiceServicer_to_server(CoordinationServicer(*args), self.server)
        health_servicer = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, self.server)
        names = (
            pb.DESCRIPTOR.services_by_name["DispatchService"].full_name,
            cpb.DESCRIPTOR.services_by_name["CoordinationService"].full_name,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        )
        reflection.enable_server_reflection(names, self.server)
        port = self.server.add_insecure_port(self.address)
        if port == 0:
            raise ConfigError(f"gateway cannot bind {self.address}")
        await self.server.start()
        for name in (*names[:2], ""):
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
