"""The gateway's Ray actor (one per node), and :func:`spawn`, which creates one."""

from __future__ import annotations

import os
import uuid

import ray

from actors.gateway.handle import GatewayHandle, actor_name
from actors.gateway.server import Gateway
from actors.remote import envelope
from cluster import heap
from cluster.config import ClusterConfig
from cluster.logs import configure as configure_logs
from cluster.logs import process_log


@ray.remote
class GatewayActor:
    """One gateway per node, as a Ray actor hosting a grpc.aio server."""

    def __init__(self, config: ClusterConfig, address: str) -> None:
        port = address.rpartition(":")[2]
        configure_logs(
            config.log_level, json_file=process_log(config.home, "gateway", port, config.site)
        )
        self.gateway = Gateway(config, address)

    @envelope
    async def start(self, endpoints: list[str]) -> str:
        heap.settle()  # before serving: the pause falls on no request
        return await self.gateway.start(endpoints)

    @envelope
    async def stop(self) -> None:
        await self.gateway.stop()

    @envelope
    async def wait_stopped(self) -> None:
        await self.gateway.wait_stopped()

    @envelope
    async def serving(self) -> bool:
        """True once the gRPC server listens (a supervisor adopts only such a gateway)."""
        return self.gateway.serving

    @envelope
    async def pid(self) -> int:
        return os.getpid()


def spawn(config: ClusterConfig, address: str, *, first: bool = True) -> GatewayHandle:
    """Create one incarnation of the gateway that listens on ``address``.

    Each incarnation has its own actor name, so a restart never waits for Ray to
    release a dead one's name. Detached: it outlives the supervisor that made it (a new
    supervisor adopts it). Pinned to its node only the first time: after a death that
    node may be the one that is gone.
    """
    node = config.gateway_nodes.get(address) if first else None
    incarnation = uuid.uuid4().hex[:8]
    actor = GatewayActor.options(  # type: ignore[attr-defined]
        name=actor_name(address, incarnation),
        namespace=config.ray_namespace,
        lifetime="detached",
        max_restarts=0,
        max_concurrency=1000,
        num_cpus=0,
        resources={node: 0.001} if node else None,
    ).remote(config, address)
    return GatewayHandle(address, config.ray_namespace, actor, incarnation=incarnation)
